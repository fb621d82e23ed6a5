package ui

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/quantise"
)

// Settings › Make an optimised twin: the request carries the dialog's choices, the
// stages show as they come, Cancel stops the work and says no pack was written, and a
// finished twin is summarised and can be chosen as the pack for the next launch.
func TestOptimiseDialog(t *testing.T) {
	var mu sync.Mutex
	var got []app.OptimiseRequest
	requests := func() []app.OptimiseRequest {
		mu.Lock()
		defer mu.Unlock()
		return append([]app.OptimiseRequest(nil), got...)
	}
	release := make(chan struct{})
	h := newHarness(t, nil, func(s *app.Services) {
		s.Optimise = func(ctx context.Context, p *inference.Pack, r app.OptimiseRequest, progress func(string, int, int)) (*quantise.Report, error) {
			mu.Lock()
			got = append(got, r)
			mu.Unlock()
			progress(quantise.StageImages, 1, 4)
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-release:
			}
			return &quantise.Report{Out: r.Out, Calibration: "the bundled sample", CalibrationImages: 387, Method: r.Method.String(),
				KeptFP32:    []string{"/conv1/Conv"},
				Unquantised: []quantise.Unquantised{{Name: "/Softmax", Op: "Softmax", Reason: "not in the set"}, {Name: "head/log", Op: "Log", Reason: "not in the set"}}, Final: quantise.Score{Agreement: 0.961, Top1: -1},
				Measured: &quantise.Measurement{SpeedNote: "one thread", Speed: []quantise.SpeedResult{{Model: "twin", Scenario: "single-stream", Batch: 1, CellsPerSec: 290, P50Ms: 3.4, JPerCell: 0.02}}}}, nil
		}
	})
	h.a.ShowSettings()
	v := h.a.settingsWin
	if v.optimiseB.Disabled() {
		t.Fatal("the optimise button is off although the service is there")
	}
	v.ShowOptimise()
	d := v.optimise
	if d == nil {
		t.Fatal("no optimise dialog")
	}
	if !strings.Contains(d.Out.Text, "ndsb-plankton-121-int8-percentile-") {
		t.Fatalf("default output folder %q does not name the pack and method", d.Out.Text)
	}
	d.Method.SetSelectedIndex(1)
	if !strings.Contains(d.Out.Text, "-int8-entropy-") {
		t.Fatalf("output folder %q did not follow the method", d.Out.Text)
	}
	out := t.TempDir() + "/twin"
	d.Out.SetText(out)

	// A first run, cancelled.
	test.Tap(d.Start)
	h.pump("the calibration stage shown", 5*time.Second, func() bool { return strings.Contains(d.stage.Text, quantise.StageImages) })
	test.Tap(d.Cancel)
	h.pump("the cancel reported", 5*time.Second, func() bool { return strings.Contains(d.stage.Text, "Cancelled") })
	if d.Use.Visible() || d.Start.Disabled() {
		t.Fatal("after a cancel the dialog offers the pack or cannot start again")
	}

	// A second run, finished.
	test.Tap(d.Start)
	h.pump("the second run started", 5*time.Second, func() bool { return len(requests()) == 2 && !d.Cancel.Disabled() })
	close(release)
	h.pump("the twin made", 5*time.Second, func() bool { return d.Use.Visible() })
	if r := requests()[1]; r.Out != out || r.Method.Name != "entropy" || r.Calibration != "" {
		t.Fatalf("request %+v, want out %s, entropy, the bundled sample", r, out)
	}
	for _, want := range []string{"96.1%", "/conv1/Conv", "Stay fp32: /Softmax (Softmax), head/log (Log): not in the set.", "290 cells/s", "0.0200 J/cell"} {
		if !strings.Contains(d.Result.Text, want) {
			t.Fatalf("summary lacks %q:\n%s", want, d.Result.Text)
		}
	}
	test.Tap(d.Use)
	if v.PackDir.Text != out {
		t.Fatalf("Model pack is %q after Use, want %s", v.PackDir.Text, out)
	}
}

// Without the runtime the button is off and says nothing is made.
func TestOptimiseOffWithoutRuntime(t *testing.T) {
	h := newHarness(t, nil)
	h.a.ShowSettings()
	if !h.a.settingsWin.optimiseB.Disabled() {
		t.Fatal("the optimise button is on without the service")
	}
}

// A pack with no recorded validation figures (a taught pack) says so instead of 0%.
func TestSettingsPackWithoutValFigures(t *testing.T) {
	h := newHarness(t, nil, func(s *app.Services) {
		for v, m := range s.Pack.Models {
			m.ValTop1, m.ValTop5 = 0, 0
			s.Pack.Models[v] = m
		}
	})
	h.a.ShowSettings()
	v := h.a.settingsWin
	for _, c := range v.cards {
		if strings.Contains(c.accuracy.Text, "0.0%") || !strings.Contains(c.accuracy.Text, "No validation accuracy recorded") {
			t.Fatalf("card reads %q", c.accuracy.Text)
		}
	}
	if strings.Contains(v.compare.Text, "0.0 points") || !strings.Contains(v.compare.Text, "does not record") {
		t.Fatalf("trade-off reads %q", v.compare.Text)
	}
}
