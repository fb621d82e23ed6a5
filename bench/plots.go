package bench

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Plot file names.
const (
	PlotLatency    = "latency_vs_threads.png"
	PlotThroughput = "throughput_vs_batch.png"
	PlotEnergy     = "energy_per_cell.png"
	PlotAccuracy   = "accuracy_vs_energy.png"
)

const plotW, plotH = 10 * vg.Inch, 6 * vg.Inch

// modelColor gives each model the same colour in every plot.
func modelColor(i int) color.Color { return plotutil.Color(i) }

// WritePlots draws the four plots from the summaries into dir and returns the files
// written. A plot whose runs were not made (no single-stream run, say) is skipped.
func WritePlots(dir string, rows []Summary) ([]string, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	t := newTable(rows)
	energy := energyLabel(rows)
	var out []string
	for _, p := range []struct {
		name string
		draw func(*table, string) (*plot.Plot, error)
	}{
		{PlotLatency, latencyPlot},
		{PlotThroughput, throughputPlot},
		{PlotEnergy, energyPlot},
		{PlotAccuracy, accuracyPlot},
	} {
		pl, err := p.draw(t, energy)
		if err != nil {
			return out, fmt.Errorf("plot %s: %w", p.name, err)
		}
		if pl == nil {
			continue
		}
		file := filepath.Join(dir, p.name)
		if err := pl.Save(plotW, plotH, file); err != nil {
			return out, fmt.Errorf("save plot %s: %w", file, err)
		}
		out = append(out, file)
	}
	return out, nil
}

// energyLabel is the unit suffix of every energy axis: it says "estimate" when it is one.
func energyLabel(rows []Summary) string {
	if rows[0].Estimated() {
		return "ESTIMATE from " + strings.TrimPrefix(rows[0].EnergySource, "estimate: ") + ", not a reading"
	}
	return "measured by " + rows[0].EnergySource
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(15)
	p.X.Label.Text, p.Y.Label.Text = x, y
	p.X.Label.TextStyle.Font.Size, p.Y.Label.TextStyle.Font.Size = vg.Points(13), vg.Points(13)
	p.X.Tick.Label.Font.Size, p.Y.Tick.Label.Font.Size = vg.Points(11), vg.Points(11)
	p.Legend.TextStyle.Font.Size = vg.Points(11)
	p.Legend.Top = true
	p.Y.Tick.Marker = niceTicks{}
	p.Add(plotter.NewGrid())
	return p
}

// niceTicks labels about six round values (1, 2 or 5 times a power of ten) on an axis,
// where gonum's default labels as few as two.
type niceTicks struct{}

func (niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	raw := (hi - lo) / 6
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag * 10
	for _, m := range []float64{1, 2, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	prec := max(0, -int(math.Floor(math.Log10(step))))
	var ticks []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', prec, 64)})
		if minor := v + step/2; minor < hi {
			ticks = append(ticks, plot.Tick{Value: minor})
		}
	}
	return ticks
}

func intTicks(v []int) plot.ConstantTicks {
	ticks := make(plot.ConstantTicks, len(v))
	for i, x := range v {
		ticks[i] = plot.Tick{Value: float64(x), Label: fmt.Sprint(x)}
	}
	return ticks
}

// addLine adds a line with point markers and a legend entry, counting entries in n.
func addLine(p *plot.Plot, n *int, name string, pts plotter.XYs, c color.Color, dashes []vg.Length, shape draw.GlyphDrawer) error {
	if len(pts) == 0 {
		return nil
	}
	*n++
	l, s, err := plotter.NewLinePoints(pts)
	if err != nil {
		return err
	}
	l.Color, l.Width, l.Dashes = c, vg.Points(2), dashes
	s.Color, s.Shape, s.Radius = c, shape, vg.Points(4)
	p.Add(l, s)
	p.Legend.Add(name, l, s)
	return nil
}

var (
	solid  []vg.Length
	dashed = []vg.Length{vg.Points(7), vg.Points(4)}
	dotted = []vg.Length{vg.Points(2), vg.Points(3)}
)

func latencyPlot(t *table, _ string) (*plot.Plot, error) {
	calm, busy := t.calm(), t.busiest()
	p := newPlot("Single-stream latency per crop against threads (batch 1; p50 and p90)",
		"ONNX Runtime intra-op threads", "latency per crop (ms)")
	drawn, entries := false, 0
	for mi, m := range t.models {
		var p50, p90, p90s plotter.XYs
		for _, th := range t.threads {
			if r := t.get(m, Single, th, 1, calm); r != nil {
				p50 = append(p50, plotter.XY{X: float64(th), Y: r.P50})
				p90 = append(p90, plotter.XY{X: float64(th), Y: r.P90})
			}
			if r := t.get(m, Single, th, 1, busy); r != nil && busy != calm {
				p90s = append(p90s, plotter.XY{X: float64(th), Y: r.P90})
			}
		}
		drawn = drawn || len(p50) > 0
		c := modelColor(mi)
		if err := addLine(p, &entries, fmt.Sprintf("%s p50, stress %d%%", m, calm), p50, c, solid, draw.CircleGlyph{}); err != nil {
			return nil, err
		}
		if err := addLine(p, &entries, fmt.Sprintf("%s p90, stress %d%%", m, calm), p90, c, dashed, draw.TriangleGlyph{}); err != nil {
			return nil, err
		}
		if err := addLine(p, &entries, fmt.Sprintf("%s p90, stress %d%%", m, busy), p90s, c, dotted, draw.CrossGlyph{}); err != nil {
			return nil, err
		}
	}
	if !drawn {
		return nil, nil
	}
	p.X.Tick.Marker = intTicks(t.threads)
	p.X.Min, p.X.Max = float64(t.threads[0])-0.3, float64(t.maxThreads())+0.3
	p.Y.Min = 0
	legendBelow(p, entries)
	return p, nil
}

func throughputPlot(t *table, _ string) (*plot.Plot, error) {
	if len(t.batches) == 0 {
		return nil, nil
	}
	calm := t.calm()
	p := newPlot(fmt.Sprintf("Offline throughput against batch size (stress %d%%)", calm), "batch size (crops per ONNX Runtime run, log scale)", "throughput (cells/s)")
	shapes := []draw.GlyphDrawer{draw.CircleGlyph{}, draw.BoxGlyph{}, draw.PyramidGlyph{}, draw.RingGlyph{}, draw.CrossGlyph{}}
	entries := 0
	for mi, m := range t.models {
		c := modelColor(mi)
		for ti, th := range t.threads {
			var pts, bare plotter.XYs
			for _, b := range t.batches {
				if r := t.get(m, Offline, th, b, calm); r != nil {
					pts = append(pts, plotter.XY{X: float64(b), Y: r.CellsPerSec})
				}
				if r := t.get(m, Bare, th, b, calm); r != nil && th == t.maxThreads() {
					bare = append(bare, plotter.XY{X: float64(b), Y: r.CellsPerSec})
				}
			}
			shape := shapes[ti%len(shapes)]
			if err := addLine(p, &entries, fmt.Sprintf("%s, %d thread%s", m, th, plural(th)), pts, c, solid, shape); err != nil {
				return nil, err
			}
			if err := addLine(p, &entries, fmt.Sprintf("%s, %d thread%s, bare ONNX Runtime", m, th, plural(th)), bare, c, dashed, shape); err != nil {
				return nil, err
			}
		}
	}
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = intTicks(t.batches)
	p.X.Min, p.X.Max = float64(t.batches[0])/1.3, float64(t.batches[len(t.batches)-1])*1.3
	p.Y.Min = 0
	legendBelow(p, entries)
	return p, nil
}

// legendBelow puts the legend in the lower right corner and lowers the axis floor so it
// sits under the lines: latency and throughput lines never come near zero.
func legendBelow(p *plot.Plot, entries int) {
	p.Legend.Top, p.Legend.Left = false, false
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(8), vg.Points(8)
	n := float64(entries)
	// Each legend line takes about 1/28 of the plot's height.
	p.Y.Min = -p.Y.Max * n / (28 - n)
	p.Y.Tick.Marker = positiveTicks{}
}

// positiveTicks labels only the non-negative part of an axis whose floor was lowered to
// make room for the legend.
type positiveTicks struct{}

func (positiveTicks) Ticks(lo, hi float64) []plot.Tick {
	var out []plot.Tick
	for _, t := range (niceTicks{}).Ticks(0, hi) {
		if t.Value >= 0 {
			out = append(out, t)
		}
	}
	return out
}

// energyGroups are the settings the energy plots compare: single-stream at the most
// threads, and each model's best offline setting, at the calmest and the busiest stress.
type energyGroup struct {
	name string
	pick func(t *table, model string) *Summary
}

func energyGroups(t *table) []energyGroup {
	var g []energyGroup
	stresses := []int{t.calm()}
	if t.busiest() != t.calm() {
		stresses = append(stresses, t.busiest())
	}
	tm := t.maxThreads()
	for _, s := range stresses {
		g = append(g, energyGroup{fmt.Sprintf("single-stream, %d thr., stress %d%%", tm, s),
			func(t *table, m string) *Summary { return t.get(m, Single, tm, 1, s) }})
	}
	for _, s := range stresses {
		g = append(g, energyGroup{fmt.Sprintf("offline best, stress %d%%", s),
			func(t *table, m string) *Summary { return t.bestOffline(m, s) }})
	}
	return g
}

func energyPlot(t *table, energy string) (*plot.Plot, error) {
	groups := energyGroups(t)
	var names []string
	var kept []energyGroup
	for _, g := range groups {
		for _, m := range t.models {
			if g.pick(t, m) != nil {
				names = append(names, g.name)
				kept = append(kept, g)
				break
			}
		}
	}
	if len(kept) == 0 {
		return nil, nil
	}
	p := newPlot("Energy per classified cell, total and marginal (above the idle baseline)", "", "energy per cell (J)")
	p.Title.Text += "\n" + energy
	nBars := 2 * len(t.models)
	w := vg.Points(math.Min(22, 300/float64(len(kept)*nBars)))
	i := 0
	for mi, m := range t.models {
		for k, kind := range []string{"total", "marginal"} {
			vals := make(plotter.Values, len(kept))
			for gi, g := range kept {
				vals[gi] = math.NaN()
				if r := g.pick(t, m); r != nil {
					vals[gi] = r.JPerCell
					if k == 1 {
						vals[gi] = r.MarginalJPerCell
					}
				}
				if math.IsNaN(vals[gi]) {
					vals[gi] = 0
				}
			}
			bars, err := plotter.NewBarChart(vals, w)
			if err != nil {
				return nil, err
			}
			c := modelColor(mi)
			if k == 1 {
				c = lighten(c)
			}
			bars.Color, bars.LineStyle.Width = c, vg.Points(0.5)
			bars.Offset = w * vg.Length(float64(i)-float64(nBars-1)/2)
			p.Add(bars)
			p.Legend.Add(fmt.Sprintf("%s, %s", m, kind), bars)
			i++
		}
	}
	p.NominalX(names...)
	p.Y.Min = math.Min(0, p.Y.Min)
	p.Y.Max *= 1.3 // room for the legend above the bars
	return p, nil
}

// lighten mixes a colour halfway to white, for the marginal bars.
func lighten(c color.Color) color.Color {
	r, g, b, _ := c.RGBA()
	mix := func(v uint32) uint8 { return uint8((v>>8 + 255) / 2) }
	return color.RGBA{mix(r), mix(g), mix(b), 255}
}

func accuracyPlot(t *table, energy string) (*plot.Plot, error) {
	p := newPlot("Accuracy against energy per cell: the performance-per-watt trade-off (up and left is better)",
		"energy per classified cell (J), "+energy, "top-1 accuracy (%)")
	shapes := []draw.GlyphDrawer{draw.CircleGlyph{}, draw.PyramidGlyph{}, draw.BoxGlyph{}, draw.CrossGlyph{}}
	minY, maxY, maxX := math.Inf(1), math.Inf(-1), 0.0
	src := ""
	groups := energyGroups(t)
	for gi, g := range groups {
		var pair plotter.XYs // the same setting across models, joined by a thin line
		for mi, m := range t.models {
			r := g.pick(t, m)
			if r == nil || math.IsNaN(r.Top1) || math.IsNaN(r.JPerCell) {
				continue
			}
			xy := plotter.XY{X: r.JPerCell, Y: 100 * r.Top1}
			pair = append(pair, xy)
			s, err := plotter.NewScatter(plotter.XYs{xy})
			if err != nil {
				return nil, err
			}
			s.Color, s.Shape, s.Radius = modelColor(mi), shapes[gi%len(shapes)], vg.Points(6)
			p.Add(s)
			p.Legend.Add(m+": "+g.name, s)
			minY, maxY, maxX = math.Min(minY, xy.Y), math.Max(maxY, xy.Y), math.Max(maxX, xy.X)
			src = r.AccuracySource
		}
		if len(pair) > 1 {
			l, err := plotter.NewLine(pair)
			if err != nil {
				return nil, err
			}
			l.Color, l.Dashes, l.Width = color.Gray{Y: 150}, dotted, vg.Points(1)
			p.Add(l)
		}
	}
	if maxX == 0 {
		return nil, nil
	}
	p.Y.Label.Text = "top-1 accuracy (%), " + src
	// The legend takes the top half; the points sit in the lower half.
	span := math.Max(maxY-minY, 1)
	p.Y.Min, p.Y.Max = minY-0.5*span, maxY+1.6*span
	p.X.Min, p.X.Max = 0, maxX*1.1
	p.Y.Tick.Marker = niceTicks{}
	return p, nil
}
