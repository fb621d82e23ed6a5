package ui

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/app"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// History sets two samples of the same frames side by side: each object found at the
// same place in both, and how the two counted it.
func TestHistoryComparesTwoSamples(t *testing.T) {
	h := newHarness(t, nil)
	h.a.sample.Fill(h.a.newSample(), 0)
	a := h.runToEnd(2) // a Noctiluca a frame
	h.a.sample.Fill(h.a.newSample(), 0)
	cop := labelIndex(t, h.a.svc.Pack, "copepod_calanoid")
	b := h.runToEndOf(newGatedSource(2, func(int) []fakeCell { return []fakeCell{{cop, 0.9}} }), 2)
	hv := h.a.history
	hv.Reload()
	h.pump("two samples listed", 10*time.Second, func() bool { return len(hv.all) == 2 })
	hv.Select(a)
	h.pump("sample a shown", 10*time.Second, func() bool { return hv.selected == a && !hv.compare.Disabled() })
	if got := hv.compareCandidates(a, nil); !slices.Equal(got, []string{b}) {
		t.Errorf("candidates %v, want %v", got, []string{b})
	}
	hv.CompareWith(a, b)
	h.pump("the comparison", 10*time.Second, func() bool { return hv.lastComparison != "" || h.a.lastError != nil })
	for _, want := range []string{"A: sample " + a, "B: sample " + b, "Same frames: 2 objects found at the same place in both, 0 (0.0%) counted alike; 0 in A alone, 0 in B alone.", "2 counted as Noctiluca"} {
		if !strings.Contains(hv.lastComparison, want) {
			t.Errorf("the comparison lacks %q:\n%s", want, hv.lastComparison)
		}
	}
	if !strings.HasPrefix(h.a.status.Text, "Same frames: 2 objects") {
		t.Errorf("status %q: want the comparison's summary", h.a.status.Text)
	}
	// The comparison is filed as text through the save dialog (helper-84: it could only
	// be closed), offered under both IDs in the last export's folder.
	dir := t.TempDir()
	h.a.set.ExportFolder = dir
	tapButton(t, h.a.win, "Save as text…")
	tapButton(t, h.a.win, "Save")
	h.waitIdle()
	path := filepath.Join(dir, a+"_vs_"+b+"_comparison.txt")
	if data, err := os.ReadFile(path); err != nil || string(data) != hv.lastComparison {
		t.Errorf("the comparison saved to %s: %v; holds %q, want the comparison shown", path, err, data)
	}
	if want := "Saved the comparison to " + path + "."; h.a.status.Text != want {
		t.Errorf("status %q, want %q", h.a.status.Text, want)
	}
}

// The samples offered to compare with start with the shown one's companions (the same
// frames under other settings: S-1, S-1~base), then the others in History's order.
func TestCompareCandidatesCompanionsFirst(t *testing.T) {
	hv := &historyView{all: []sampleEntry{{ID: "S-3"}, {ID: "S-1~t0.7"}, {ID: "S-2"}, {ID: "S-1~base"}, {ID: "S-1"}, {ID: "S-10"}}}
	if got, want := hv.compareCandidates("S-1", nil), []string{"S-1~t0.7", "S-1~base", "S-3", "S-2", "S-10"}; !slices.Equal(got, want) {
		t.Errorf("candidates of S-1: %v, want %v", got, want)
	}
	if got, want := hv.compareCandidates("S-1~base", nil), []string{"S-1~t0.7", "S-1", "S-3", "S-2", "S-10"}; !slices.Equal(got, want) {
		t.Errorf("candidates of S-1~base: %v, want %v", got, want)
	}
	// A sample of the same frames under an ID of its own comes before any other.
	if got, want := hv.compareCandidates("S-10", []string{"S-2"}), []string{"S-2", "S-3", "S-1~t0.7", "S-1~base", "S-1"}; !slices.Equal(got, want) {
		t.Errorf("candidates of S-10, S-2 of the same frames: %v, want %v", got, want)
	}
	// The demo's samples come last, however new (helper-67: the demo was offered first),
	// and each reads with its site and date.
	taken := time.Date(2026, 6, 5, 11, 0, 0, 0, time.Local)
	hv.all = append([]sampleEntry{{ID: demoIDPrefix + "20261207-1", Site: demoSite, Taken: taken}}, hv.all...)
	hv.all[1].Site, hv.all[1].Taken = "Étang de Thau", taken
	if got, want := hv.compareCandidates("S-10", nil), []string{"S-3", "S-1~t0.7", "S-2", "S-1~base", "S-1", demoIDPrefix + "20261207-1"}; !slices.Equal(got, want) {
		t.Errorf("candidates of S-10 with a demo sample newest: %v, want %v", got, want)
	}
	if got := hv.compareChoice("S-3"); got != "S-3 · Étang de Thau · 2026-06-05 11:00" {
		t.Errorf("S-3 reads %q in the list", got)
	}
}

// The same frames typed into a sample that holds them, with the other model: "New
// sample" proposes the companion's ID (POND3-AM~base), and Compare on it offers the
// sample of the same frames first, naming no companion that does not exist. It gave an
// automatic ID, offered a sample of other water first, and spoke of "S-…~base", which
// nothing held (helper-56).
func TestSameFramesOtherModelCompanionComparedFirst(t *testing.T) {
	var asked []string
	h := newHarness(t, nil)
	h.a.confirm = func(title, msg, yes, no string, answer func(bool)) {
		asked = append(asked, yes)
		answer(true)
	}
	h.a.sample.Fill(h.a.newSample(), 0)
	h.a.chooseSource(capture.Spec{Kind: capture.KindVideo, Path: "pond3.avi"})
	h.a.sample.ID.SetText("POND3-AM")
	first := h.runToEnd(2)
	h.a.sample.Fill(h.a.newSample(), 0)
	h.a.chooseSource(capture.Spec{Kind: capture.KindVideo, Path: "pond3-pm.avi"}) // other water
	h.a.sample.ID.SetText("POND3-PM")
	h.runToEnd(2)
	_, other := h.switchToOtherModel()
	h.a.chooseSource(capture.Spec{Kind: capture.KindVideo, Path: "pond3.avi"})
	h.a.sample.ID.SetText(first)
	twin := h.runToEnd(2)
	if want := first + "~" + string(other); twin != want || !slices.Contains(asked, "Screen as "+want) {
		t.Fatalf("the same frames under the %s model went into %q (asked %q); want the companion %s", other, twin, asked, want)
	}
	hv := h.a.history
	hv.Reload()
	h.pump("three samples listed", 10*time.Second, func() bool { return len(hv.all) == 3 })
	same, err := app.SamplesSharingFrames(context.Background(), h.st, twin)
	if err != nil {
		t.Fatal(err)
	}
	if got := hv.compareCandidates(twin, same); len(got) != 2 || got[0] != first {
		t.Errorf("candidates of %s: %v (same frames %v); want %s first", twin, got, same, first)
	}
	hv.Select(twin)
	h.pump("the companion shown", 10*time.Second, func() bool { return hv.selected == twin && !hv.compare.Disabled() })
	hv.Compare()
	h.pump("the compare dialog", 10*time.Second, func() bool { return hv.compareNote != "" })
	if n := hv.compareNote; !strings.HasPrefix(n, first+": the same frames") || strings.Contains(n, twin+"~") {
		t.Errorf("compare note %q: want %s named as the same frames, and no companion that does not exist", n, first)
	}
}

// compareNote names only the samples that hold the same frames; with none it names none.
func TestCompareNoteNamesNoMissingCompanion(t *testing.T) {
	if n := compareNote([]string{"POND3-PM", "S-2"}, nil); strings.Contains(n, "~") || strings.Contains(n, "POND3-PM") {
		t.Errorf("no sample of the same frames: %q", n)
	}
}

// The same frames screened again under the other model with the ID the app proposed:
// the companion of the sample that holds them is proposed (S-1~base: kept out of the
// site's trend, compared first), not a new sample the technician is then told to move
// to the trash (helper-84). An ID typed by the technician is a new sample, asked as
// before.
func TestOtherModelOnScreenedFramesProposesTheCompanion(t *testing.T) {
	var asked []string
	h := newHarness(t, nil)
	h.a.confirm = func(title, msg, yes, no string, answer func(bool)) {
		asked = append(asked, title+" ["+yes+"]")
		answer(true)
	}
	h.a.confirmAgain = h.a.confirm
	spec := capture.Spec{Kind: capture.KindVideo, Path: "pond3.avi"}
	h.a.sample.Fill(h.a.newSample(), 0)
	h.a.chooseSource(spec)
	first := h.runToEnd(2)
	was, other := h.switchToOtherModel()
	if h.a.sample.ID.Text != h.a.autoID {
		t.Fatalf("after the run the panel shows %q, the app proposed %q", h.a.sample.ID.Text, h.a.autoID)
	}
	h.a.chooseSource(spec)
	twin := h.runToEnd(2)
	want := first + "~" + string(other)
	if twin != want || len(asked) != 1 || asked[0] != "Sample "+first+" holds these frames [Screen as "+want+"]" {
		t.Fatalf("the same frames under the %s model went into %q, asked %q; want the companion %s", other, twin, asked, want)
	}
	// Typed by the technician: a sample of its own, asked as screened before.
	asked = nil
	h.a.SwitchModel(was)
	h.pump("the model switch", 5*time.Second, func() bool { return !h.a.switching })
	h.a.chooseSource(spec)
	h.a.sample.ID.SetText("POND3-AGAIN")
	if got := h.runToEnd(2); got != "POND3-AGAIN" || len(asked) != 1 || !strings.HasPrefix(asked[0], "Screened before as") {
		t.Errorf("an ID typed: went into %q, asked %q; want POND3-AGAIN after the screened-before question", got, asked)
	}
}

// switchToOtherModel switches to the model not in use and waits for it: was is the one
// in use before, other the one now.
func (h *harness) switchToOtherModel() (was, other inference.Variant) {
	h.t.Helper()
	was, other = h.a.svc.Model.Variant(), inference.Base
	if was == inference.Base {
		other = inference.Optimised
	}
	h.a.SwitchModel(other)
	h.pump("the model switch", 5*time.Second, func() bool { return !h.a.switching })
	return was, other
}

// Export… with History in front writes the sample chosen there, not the Live tab's last
// run, and says which (helper-95 exported the run's sample while looking at another).
func TestExportFollowsHistory(t *testing.T) {
	h := newHarness(t, nil)
	h.a.sample.Fill(h.a.newSample(), 0)
	a := h.runToEnd(2)
	h.a.sample.Fill(h.a.newSample(), 0)
	b := h.runToEnd(2)
	if got := h.a.exportSample(); got != b {
		t.Fatalf("on the Live tab export would write %q, want the run's %q", got, b)
	}
	hv := h.a.history
	h.a.tabs.SelectIndex(2)
	h.pump("two samples listed", 10*time.Second, func() bool { return len(hv.all) == 2 })
	hv.Select(a)
	h.pump("sample a shown", 10*time.Second, func() bool { return hv.selected == a })
	if got := h.a.exportSample(); got != a {
		t.Errorf("on the History tab export would write %q, want the one chosen there, %q", got, a)
	}
	h.a.ExportDialog()
	want, said := "Export sample "+a+", chosen in History ("+b+" is on the Live tab), as:", false
	if top := h.a.win.Canvas().Overlays().Top(); top != nil {
		walkObjects(top, func(o fyne.CanvasObject) bool {
			if l, ok := o.(*widget.Label); ok && l.Text == want {
				said = true
			}
			return !said
		})
	}
	if !said {
		t.Errorf("the export dialog does not say %q", want)
	}
	h.a.tabs.SelectIndex(0)
	if got := h.a.exportSample(); got != b {
		t.Errorf("back on the Live tab export would write %q, want %q", got, b)
	}
}
