package ui

import (
	"slices"
	"testing"
	"time"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg/draw"
)

// Each trigger level is named on its own line with its value, the watch level at the
// left and the alert level at the right, so that the two names never sit on each other
// (helper-67: in the legend at the top they sat over the alert line); a level the rules
// lack draws nothing.
func TestLevelLinesNamed(t *testing.T) {
	ps := levelLines(chartLevels{Watch: 20e6, Alert: 100e6}, 0, 10)
	var names []*plotter.Labels
	for _, p := range ps {
		if l, ok := p.(*plotter.Labels); ok {
			names = append(names, l)
		}
	}
	if len(ps) != 4 || len(names) != 2 {
		t.Fatalf("%d plotters, %d of them names; want two lines and two names", len(ps), len(names))
	}
	for i, want := range []struct {
		text  string
		x     float64
		align draw.XAlignment
	}{{"watch level " + fmtPerL(20e6), 0, draw.XLeft}, {"alert level " + fmtPerL(100e6), 10, draw.XRight}} {
		n := names[i]
		if n.Labels[0] != want.text || n.XYs[0].X != want.x || n.TextStyle[0].XAlign != want.align {
			t.Errorf("name %d: %q at x %v aligned %v; want %q at %v aligned %v", i, n.Labels[0], n.XYs[0].X, n.TextStyle[0].XAlign, want.text, want.x, want.align)
		}
	}
	if ps := levelLines(chartLevels{Alert: 1e4}, 0, 10); len(ps) != 2 {
		t.Errorf("an alert level alone: %d plotters, want its line and its name", len(ps))
	}
	// A level reached only above its line says so: a point on it has not reached it
	// (helper-79).
	ps = levelLines(chartLevels{Watch: 1000, Alert: 5000, WatchAbove: true}, 0, 10)
	var labels []string
	for _, p := range ps {
		if l, ok := p.(*plotter.Labels); ok {
			labels = append(labels, l.Labels[0])
		}
	}
	if len(labels) != 2 || labels[0] != "watch level > "+fmtPerL(1000) || labels[1] != "alert level "+fmtPerL(5000) {
		t.Errorf("levels of Florida's preset named %q", labels)
	}
}

// A chart with a legend leaves room for it above the highest level's name: the legend
// ("≥ lower bound: cells unknown", at the plot's top) was drawn over "alert level
// 100.0 M" (helper-93). Without a legend the plot keeps its tenth over the level.
func TestChartLegendClearsTheAlertLevel(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 15, 0, 0, time.UTC)
	levels := chartLevels{Watch: 20e6, Alert: 100e6}
	exact := []chartPoint{{Sample: "RI-1", Time: t0, PerL: 18.6e6, Low: 12e6, High: 28e6}, {Sample: "RI-3", Time: t0.Add(71 * time.Hour), PerL: 2e6, Low: 1e6, High: 3e6}}
	bound := slices.Clone(exact)
	bound[1].LowerBound = true
	if top := chartPlot(exact, "t", levels, colorBrand).Y.Max; top > 1.11*levels.Alert {
		t.Errorf("no legend: the axis runs to %.3g, want a tenth over the alert level", top)
	}
	if top := chartPlot(bound, "t", levels, colorBrand).Y.Max; top < 1.2*levels.Alert {
		t.Errorf("with the lower bound's legend the axis runs to %.3g: under 1.2 times the alert level, the legend row sits on its name", top)
	}
}
