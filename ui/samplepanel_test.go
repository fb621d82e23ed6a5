package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/screening"
)

// The sample panel keeps its height when a run starts (the summary replaces the taller
// form): Stop stays where the technician saw it, and the click meant for it lands on it.
func TestStopDoesNotMoveWhenARunStarts(t *testing.T) {
	h := newHarness(t, nil)
	h.a.win.Resize(fyne.NewSize(1400, 900))
	pos := func() fyne.Position {
		return fyne.CurrentApp().Driver().AbsolutePositionForObject(h.a.sample.Stop)
	}
	before := pos()
	h.a.sample.SetRunning(true, false)
	h.a.win.Content().Refresh()
	if after := pos(); after != before {
		t.Errorf("Stop moved from %v to %v as the run started", before, after)
	}
	h.a.sample.SetRunning(false, false)
}

// While a folder is read, the status line says early (its end is cut off in a narrow
// window) that the counts are per litre of the volume read so far.
func TestLiveStatusSaysVolumeSoFar(t *testing.T) {
	sess := &session{spec: capture.Spec{Kind: capture.KindFolder, Path: "/data/pond"}}
	s := screening.Snapshot{Sample: screening.Sample{VolumeML: 0.0125}, Examined: screening.Examined{DeclaredML: 0.05}, SoFar: true}
	s.Frames.Segmented, s.LastFrame.Index = 24, 23
	got := liveStatus(sess, s, 0)
	parts := strings.Split(got, " · ")
	if len(parts) < 3 || parts[2] != "counts per litre of the 0.0125 of 0.05 mL read so far" {
		t.Errorf("status %q: want the volume read so far third, after the frame", got)
	}
	s.SoFar = false
	if got := liveStatus(sess, s, 0); strings.Contains(got, "so far") {
		t.Errorf("ended: %q", got)
	}
	// Colonies counted: objects, not cells (helper-67: "40 cells counted" of 40 colonies).
	s.Cells.Found = 40
	s.Taxa = []screening.TaxonCount{{Taxon: screening.Taxon{Label: "Microcystis", Unit: "colony"}, Concentration: screening.Concentration{Count: 40}}}
	if got := liveStatus(sess, s, 0); !strings.Contains(got, " · 40 objects (cells, colonies, filaments) counted") {
		t.Errorf("40 colonies counted: %q", got)
	}
	// Blank frames (the lamp off) are said apart from the unreadable ones.
	s.Frames.Failed, s.Frames.Blank = 3, 2
	if got := liveStatus(sess, s, 0); !strings.Contains(got, " · 1 unreadable · 2 blank (lamp off or saturated: not examined)") {
		t.Errorf("3 frames failed, 2 of them blank: %q", got)
	}
	// Crowded frames too, with the fix (helper-72: they were counted as examined).
	s.Frames.Failed, s.Frames.Crowded = 6, 3
	if got := liveStatus(sess, s, 0); !strings.Contains(got, " · 1 unreadable · 2 blank (lamp off or saturated: not examined) · 3 too crowded (not examined: dilute the sample)") {
		t.Errorf("6 frames failed, 2 of them blank, 3 crowded: %q", got)
	}
}

// Neither a long alert headline (a regulatory rule names many taxa), the run state's
// words nor the cost gauges' figures widen the window: helper-36 saw it grow 1341 -> 1378 px as WATCH appeared and
// "Stopping…" replaced "Running", moving Stop under the pointer.
func TestBannerAndRunStateDoNotWidenTheWindow(t *testing.T) {
	h := newHarness(t, nil)
	before := h.a.win.Content().MinSize().Width
	long := alerts.State{Rule: "cyano", Taxon: strings.Repeat("Cyanobacteria + Microcystis spp. + Oscillatoria spp. + ", 4), Level: alerts.Watch,
		Value: alerts.Measure{Count: 195, PerL: 3.21e7}, Threshold: &alerts.Threshold{Value: 20000, Unit: alerts.PerML}, Source: "WHO 2003"}
	h.a.banner.Set([]alerts.State{long}, "", "Watching 1 rule", "sample S-20261203-123654 (run ended) · also: Noctiluca (watch)", nil)
	h.a.runState.SetText("Stopping…")
	// The cost gauges' figures grow once a run starts (helper-37: 1341 -> 1359 px).
	h.a.perf.Latency.Set("224 ms / 227 ms", strings.Repeat("p99 227 ms · 3 runs, 11.0 cells each on average · ", 3), nil)
	h.a.perf.JPerCell.Set("2.20 J (estimate) · 2.20 J (estimate)", "above idle: 1.92 J · model alone ≈ 0.169 J · above idle: 1.92 J", nil)
	if after := h.a.win.Content().MinSize().Width; after > before {
		t.Errorf("the window's least width grew from %v to %v", before, after)
	}
	if h.a.banner.Headline() == "" || !strings.HasPrefix(h.a.banner.Headline(), "Cyanobacteria") {
		t.Errorf("headline %q", h.a.banner.Headline())
	}
}

// A folder of mixed orientations changes frame size at nearly every frame: the status
// bar says the first two, then keeps the other notes readable.
func TestSizeChangesDoNotFloodTheStatusBar(t *testing.T) {
	h := newHarness(t, nil)
	sess := &session{}
	for i := range 4 {
		h.a.sourceStatus(sess, capture.Status{Source: "pond", Kind: capture.StatusSizeChanged, Frame: i + 1, Path: fmt.Sprintf("f%d.jpg", i+1)})
		h.waitIdle()
		if i == 1 && !strings.Contains(h.a.status.Text, "size changed f2.jpg") {
			t.Errorf("second size change: status %q", h.a.status.Text)
		}
	}
	if st := h.a.status.Text; !strings.Contains(st, "f2.jpg") || !strings.Contains(st, "further size changes are not shown") {
		t.Errorf("after four size changes the status bar says %q, want the second's, with the word that the rest are not shown", st)
	}
}

// Opening the gallery on a sample does not grow the window: its summary line widened it
// and its crop column heightened it (helper-38: 1320x731 to 1403x821, the Settings
// button off the edge).
func TestGalleryDoesNotGrowTheWindow(t *testing.T) {
	h := newHarness(t, nil)
	noct := labelIndex(t, h.a.svc.Pack, "protist_noctiluca")
	cop := labelIndex(t, h.a.svc.Pack, "copepod_calanoid")
	src := newGatedSource(3, func(int) []fakeCell { return []fakeCell{{noct, 0.9}, {cop, 0.3}, {cop, 0.8}} })
	h.startRun(src, "S-20261203-151854-A-LONG-SAMPLE-ID", 1)
	src.release(3)
	h.waitIdle()
	before := h.a.win.Content().MinSize()
	h.a.tabs.SelectIndex(1)
	g := h.a.gallery
	h.pump("the gallery's crops", 10*time.Second, func() bool { return len(g.Items()) > 0 })
	if after := h.a.win.Content().MinSize(); after.Width > before.Width || after.Height > before.Height {
		t.Errorf("the window's least size grew from %v to %v when the gallery opened", before, after)
	}
}

// The model's cost on this machine reads whole in a 1440 px window: beside the model
// buttons it was cut to "22.5 ms/c…" (helper-56), and it does not widen the window.
func TestModelCostReadsWholeAt1440(t *testing.T) {
	h := newHarness(t, nil)
	before := h.a.win.Content().MinSize().Width
	if h.a.modelNote.Visible() { // an empty line under the heading lifted it off the buttons' line
		t.Errorf("with no cost measured the note %q is shown", h.a.modelNote.Text())
	}
	v := h.a.svc.Model.Variant()
	app.SaveCost(h.fy.Preferences(), app.PackCostID(h.a.svc.Pack), app.ModelCost{Variant: v, P50Ms: 22.5, JPerCell: 0.7312, Estimated: true})
	h.a.applyModelUI()
	h.a.win.Resize(fyne.NewSize(1440, 900))
	h.a.win.Content().Refresh()
	note := h.a.modelNote
	if !strings.Contains(note.Text(), "22.5 ms") || !strings.Contains(note.Text(), "731 mJ") {
		t.Fatalf("cost note %q: want the measured figures", note.Text())
	}
	if w := note.Size().Width; w < note.natural() {
		t.Errorf("cost note %q given %.0f px of the %.0f it needs", note.Text(), w, note.natural())
	}
	if after := h.a.win.Content().MinSize().Width; after > before {
		t.Errorf("the window's least width grew from %v to %v with the cost note", before, after)
	}
}

// The time taken is checked as it is typed, as Start checks it (helper-67: a time in
// the future was said only at Start).
func TestTakenCheckedAsTyped(t *testing.T) {
	p := newSamplePanel(nil, nil, nil)
	for text, ok := range map[string]bool{"": true, "2025-06-03 09:30": true, "2999-01-01 10:00": false, "1900-01-01": false, "yesterday": false} {
		p.Taken.SetText(text)
		if err := p.Taken.Validate(); (err == nil) != ok {
			t.Errorf("Taken %q: %v, want ok %v", text, err, ok)
		}
	}
}
