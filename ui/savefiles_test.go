package ui

import (
	"os"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// Fyne's save dialog opened (and emptied) the chosen file before phytoscreen saw its
// name: a frame typed by mistake and confirmed at "Overwrite?" was lost, and so was last
// week's report when the new one then failed. Driven through the real dialog, the file
// keeps its bytes until something is written, and a writer that writes replaces them.
func TestSaveDialogEmptiesNothing(t *testing.T) {
	h := newHarness(t, nil)
	dir := t.TempDir()
	frame := filepath.Join(dir, "frame.png")
	if err := os.WriteFile(frame, []byte("pixels"), 0o644); err != nil {
		t.Fatal(err)
	}
	choose := func(name string) fyne.URIWriteCloser {
		t.Helper()
		var got fyne.URIWriteCloser
		d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
			if err != nil {
				t.Errorf("dialog: %v", err)
			}
			got = w
		}, h.a.win)
		l, err := storage.ListerForURI(storage.NewFileURI(dir))
		if err != nil {
			t.Fatal(err)
		}
		d.SetLocation(l)
		d.SetFileName(name)
		d.Show()
		tapButton(t, h.a.win, "Save")
		if name == "frame.png" { // it exists: Fyne asks first
			tapButton(t, h.a.win, "Yes")
		}
		h.waitIdle()
		if got == nil {
			t.Fatalf("the dialog gave no writer for %s", name)
		}
		return got
	}
	w := choose("frame.png")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(frame); string(data) != "pixels" {
		t.Errorf("after the dialog chose it, frame.png holds %q, want its pixels", data)
	}
	if err := refuseFrameName(w.URI().Path()); err == nil {
		t.Error("frame.png not refused as an export")
	}
	// A new name is not made until written; written, it holds what was written.
	w = choose("new.csv")
	if _, err := os.Stat(filepath.Join(dir, "new.csv")); !os.IsNotExist(err) {
		t.Errorf("new.csv made before any write (%v)", err)
	}
	if _, err := w.Write([]byte("a,b\n")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "new.csv")); string(data) != "a,b\n" {
		t.Errorf("new.csv holds %q", data)
	}
}

// walkObjects visits o and what it holds, a container's objects and a widget's
// rendered ones, depth first, while visit returns true.
func walkObjects(o fyne.CanvasObject, visit func(fyne.CanvasObject) bool) bool {
	if o == nil {
		return true
	}
	if !visit(o) {
		return false
	}
	var kids []fyne.CanvasObject
	switch v := o.(type) {
	case *fyne.Container:
		kids = v.Objects
	case fyne.Widget:
		kids = test.WidgetRenderer(v).Objects()
	}
	for _, c := range kids {
		if !walkObjects(c, visit) {
			return false
		}
	}
	return true
}

// tapButton taps the button labelled text in win's top overlay (a dialog), failing the
// test when there is none.
func tapButton(t *testing.T, win fyne.Window, text string) {
	t.Helper()
	top := win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatalf("no dialog open to tap %q in", text)
	}
	var found *widget.Button
	walkObjects(top, func(o fyne.CanvasObject) bool {
		if b, ok := o.(*widget.Button); ok && b.Text == text && found == nil {
			found = b
		}
		return found == nil
	})
	if found == nil {
		t.Fatalf("no %q button in the dialog", text)
	}
	test.Tap(found)
}
