package ui

import (
	"testing"

	"fyne.io/fyne/v2"
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
