package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/store"
)

// TestBannerNotCheckedInCells: below every level on colonies counted one cell each (their
// cells unknown) is not an all-clear: the banner says NOT CHECKED and why; a level that
// the lower bound reaches still shows.
func TestBannerNotCheckedInCells(t *testing.T) {
	test.NewTempApp(t)
	b := newAlertBanner()
	st := alerts.State{Rule: "cyanobacteria", Taxon: "Cyanobacteria", Value: alerts.Measure{Count: 39, PerL: 390000, CellsUnknown: 39}}
	b.Set([]alerts.State{st}, "Watching: cyanobacteria", "sample TILES-1", nil)
	if b.chip.Text != "NOT CHECKED" || !strings.HasPrefix(b.Headline(), "Not checked in cells: 39 colonies") || !strings.Contains(b.Detail(), "lower bound") {
		t.Errorf("unknown cells below the levels: chip %q, %q / %q", b.chip.Text, b.Headline(), b.Detail())
	}
	st.Level = alerts.Watch
	st.Value.PerL = 92.5e6
	st.Threshold = &alerts.Threshold{Value: 20000, Unit: alerts.PerML}
	b.Set([]alerts.State{st}, "Watching: cyanobacteria", "sample TILES-1", nil)
	if b.Level() != alerts.Watch {
		t.Errorf("a level reached on the lower bound: banner at %v, want WATCH", b.Level())
	}
	// The level in the headline's unit beside the rule's own.
	if !strings.Contains(b.Detail(), "watch level ≥ 20,000 cells/mL = 20.0 M cells/L") || !strings.Contains(b.Headline(), "92.5 M cells/L") {
		t.Errorf("raised: %q / %q", b.Headline(), b.Detail())
	}
	st.Level, st.Value.CellsUnknown = alerts.None, 0
	b.Set([]alerts.State{st}, "Watching: cyanobacteria", "sample TILES-1", nil)
	if b.chip.Text != "NO ALERT" {
		t.Errorf("cells known, below the levels: chip %q, want NO ALERT", b.chip.Text)
	}
}

// TestEnergyLineNamesTheRunByItsStart: History's energy lines name a run by when it ran,
// not by the store-wide run number ("run 4" of a sample of one run: helper-47).
func TestEnergyLineNamesTheRunByItsStart(t *testing.T) {
	at := time.Date(2026, 6, 4, 9, 30, 0, 0, time.Local)
	r := recorded{energy: []store.RunEnergy{{Run: 4, Model: "optimised", Cells: 10, Measured: time.Second, Joules: 2, Source: "estimate:cpu-time", Estimated: true}},
		started: map[int64]time.Time{4: at}}
	lines := strings.Join(r.lines(), "\n")
	if !strings.Contains(lines, "Energy, run of 2026-06-04 09:30, optimised model: 0.200 J per cell (estimate)") || strings.Contains(lines, "run 4") {
		t.Errorf("energy line: %q", lines)
	}
}
