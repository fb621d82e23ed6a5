package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/power"
)

// A run started while the speed test measures stops the measurement and says why; the
// figures it would have kept (slowed by the run beside them) are not saved.
func TestRunStopsTheSpeedTest(t *testing.T) {
	started := make(chan struct{})
	h := newHarness(t, nil, func(d *app.Services) {
		d.Measure = func(ctx context.Context, p *inference.Pack, s app.Settings, progress func(done, total int)) ([]app.ModelCost, error) {
			close(started)
			<-ctx.Done()
			return []app.ModelCost{{Variant: inference.Base, P50Ms: 78.7}}, nil // as if it finished just then
		}
	})
	h.a.ShowSettings()
	v := h.a.settingsWin
	<-started
	if v.measuring == nil {
		t.Fatal("the settings did not start measuring")
	}
	// The cards say they are being measured, not "press Measure" (helper-52).
	h.pump("the cards to say so", 5*time.Second, func() bool {
		return strings.HasPrefix(v.cards[inference.Base].cost.Text, "Being measured on this machine now")
	})
	src := newGatedSource(1, func(int) []fakeCell { return nil })
	h.startRun(src, "S-MEASURE", 1)
	h.pump("the measurement stopped", 5*time.Second, func() bool { return v.measuring == nil })
	if c := v.cards[inference.Base].cost.Text; !strings.HasPrefix(c, "Not measured yet") {
		t.Errorf("stopped, the base model's card says %q; want it not measured", c)
	}
	if want := "Measurement stopped: a run started"; !strings.HasPrefix(v.measureL.Text, want) {
		t.Errorf("the speed test says %q, want %q…", v.measureL.Text, want)
	}
	if _, ok := app.LoadCost(h.fy.Preferences(), app.PackCostID(h.a.svc.Pack), inference.Base); ok {
		t.Error("the figures measured beside a run were saved")
	}
	src.release(1)
	h.waitIdle()
}

// Saving another pack whose taxa no rule of the preset in use names says which preset
// can fire with it: the rules do not follow the pack, and with the cyanobacteria pack
// the default preset left every sample "not checked" (helper-38).
func TestSavingAPackNamesThePresetForIt(t *testing.T) {
	h := newHarness(t, nil)
	h.a.ShowSettings()
	v := h.a.settingsWin
	v.Preset.SetSelected("default")
	v.PackDir.SetText("cyano-tcb-10")
	test.Tap(v.Save)
	if want := "No rule of preset default can fire with pack cyano-tcb-10; preset who-cyanobacteria can: choose it in the Alerts tab."; !strings.Contains(v.message.Text, want) {
		t.Errorf("the save message %q lacks %q", v.message.Text, want)
	}
	// With rules that fire, nothing more is said.
	v.Preset.SetSelected("who-cyanobacteria")
	test.Tap(v.Save)
	if strings.Contains(v.message.Text, "No rule of preset") {
		t.Errorf("the save message %q names a preset though the rules fire", v.message.Text)
	}
}

// The energy-per-cell tile says its figures in one unit, the headline's: "473 mJ"
// stood beside "above idle: 0.471 J" (helper-56).
func TestEnergyTileOneUnit(t *testing.T) {
	test.NewTempApp(t)
	p := newPerfPanel()
	var s power.Snapshot
	s.Cells = 142
	s.Energy.JoulesPerCell, s.Energy.MarginalJoulesPerCell = 0.473, 0.471
	p.Set(perfFigures{snap: s})
	if v, d := p.JPerCell.Value(), p.JPerCell.Detail(); !strings.HasSuffix(v, " mJ") || strings.Contains(d, " J") || strings.Count(d, " mJ") != 1 {
		t.Errorf("tile %q, detail %q: want every figure in mJ", v, d)
	}
	s.Energy.JoulesPerCell = 1.13 // the headline in J, its parts under a joule
	p.Set(perfFigures{snap: s})
	if v, d := p.JPerCell.Value(), p.JPerCell.Detail(); !strings.HasSuffix(v, " J") || strings.Contains(d, "mJ") {
		t.Errorf("tile %q, detail %q: want every figure in J", v, d)
	}
}

// The run's energy per cell is the whole app's; the model alone is what Settings
// measured of the model in use, named as such. A share of the run's energy taken as the
// model's read 96.6 mJ where the model measured alone took 32.7 mJ (helper-84): decoding
// and segmenting run while the model does.
func TestEnergyTileModelAloneIsMeasured(t *testing.T) {
	h := newHarness(t, nil)
	var s power.Snapshot
	s.Cells = 62
	s.Energy.JoulesPerCell, s.Energy.MarginalJoulesPerCell = 0.102, 0.0966
	h.a.perf.Set(perfFigures{snap: s})
	if d := h.a.perf.JPerCell.Detail(); strings.Contains(d, "alone") {
		t.Errorf("with no model measured the tile says %q", d)
	}
	v := h.a.svc.Model.Variant()
	app.SaveCost(h.fy.Preferences(), app.PackCostID(h.a.svc.Pack), app.ModelCost{Variant: v, P50Ms: 6.8, JPerCell: 0.0327, Estimated: true})
	h.a.applyModelUI()
	h.a.perf.Set(perfFigures{snap: s})
	want := "above idle: 96.6 mJ · the " + string(v) + " model alone: 32.7 mJ, measured in Settings"
	if d := h.a.perf.JPerCell.Detail(); d != want {
		t.Errorf("tile detail %q, want %q", d, want)
	}
}

// An ended run's figures name the model that made them: after a switch to the other
// model the panel kept them under no model's name (helper-84).
func TestPerfPanelNamesTheLastRunsModel(t *testing.T) {
	h := newHarness(t, nil)
	h.a.sample.Fill(h.a.newSample(), 0)
	h.runToEnd(2)
	v := h.a.lastSnap.Variant
	if v == "" {
		t.Fatal("the run's snapshot names no model")
	}
	var s power.Snapshot
	s.Cells, s.Elapsed = 2, 3*time.Second
	h.a.perf.Set(perfFigures{snap: s})
	if want := "last run, " + string(v) + " model: 2 cells in 00:03"; h.a.perf.Throughput.Detail() != want {
		t.Errorf("throughput detail %q, want %q", h.a.perf.Throughput.Detail(), want)
	}
}
