package ui

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// TestSafeSelectOpensWithoutItsCanvas: when Fyne cannot name the canvas a select is on
// (its cache missed, fyne-io/fyne#5965), a tap opens the list on the window's canvas and
// a choice lands, where Fyne 2.7.1's own select panicked in NewPopUpMenu.
func TestSafeSelectOpensWithoutItsCanvas(t *testing.T) {
	test.NewTempApp(t)
	win := test.NewWindow(nil)
	defer win.Close()
	var chosen string
	s := newSafeSelect(win, []string{"still", "flow"}, func(v string) { chosen = v })
	win.SetContent(s)
	win.Resize(fyne.NewSize(300, 200))
	lost := false
	s.canvasFor = func(o fyne.CanvasObject) fyne.Canvas {
		if lost {
			return nil
		}
		return fyne.CurrentApp().Driver().CanvasForObject(o)
	}

	// Found: Fyne's own list.
	test.Tap(s)
	if win.Canvas().Overlays().Top() == nil {
		t.Fatal("a tap on the select opened no list")
	}
	win.Canvas().Overlays().Remove(win.Canvas().Overlays().Top())

	// Lost: the window's canvas, and the choice still lands.
	lost = true
	s.Tapped(&fyne.PointEvent{AbsolutePosition: fyne.NewPos(10, 10)})
	top := win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("with its canvas unknown, a tap on the select opened no list")
	}
	menu := s.fallback
	if menu == nil || !menu.Visible() {
		t.Fatal("the list on the window's canvas is not shown")
	}
	if n := len(menu.Items); n != 2 {
		t.Fatalf("the list has %d items, want the select's 2", n)
	}
	test.Tap(menu.Items[1].(fyne.Tappable))
	if chosen != "flow" || s.Selected != "flow" {
		t.Fatalf("after choosing flow: OnChanged got %q, Selected is %q", chosen, s.Selected)
	}
	// The keyboard has no position: it leaves the list shut rather than panic.
	win.Canvas().Overlays().Remove(top)
	s.TypedKey(&fyne.KeyEvent{Name: fyne.KeySpace})
	if win.Canvas().Overlays().Top() != nil {
		t.Fatal("space opened a list with the canvas unknown")
	}
	s.TypedKey(&fyne.KeyEvent{Name: fyne.KeyLeft})
	if s.Selected != "still" {
		t.Fatalf("left arrow: Selected is %q, want still", s.Selected)
	}
}
