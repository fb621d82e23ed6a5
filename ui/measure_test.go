package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/app"
)

// A run started while the speed test measures stops the measurement and says why; the
// figures it would have kept (slowed by the run beside them) are not saved.
func TestRunStopsTheSpeedTest(t *testing.T) {
	started := make(chan struct{})
	h := newHarness(t, nil, func(d *app.Services) {
		d.Measure = func(ctx context.Context, s app.Settings, progress func(done, total int)) ([]app.ModelCost, error) {
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
	src := newGatedSource(1, func(int) []fakeCell { return nil })
	h.startRun(src, "S-MEASURE", 1)
	h.pump("the measurement stopped", 5*time.Second, func() bool { return v.measuring == nil })
	if want := "Measurement stopped: a run started"; !strings.HasPrefix(v.measureL.Text, want) {
		t.Errorf("the speed test says %q, want %q…", v.measureL.Text, want)
	}
	if _, ok := app.LoadCost(h.fy.Preferences(), app.PackCostID(h.a.svc.Pack), inference.Base); ok {
		t.Error("the figures measured beside a run were saved")
	}
	src.release(1)
	h.waitIdle()
}
