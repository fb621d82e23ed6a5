package ui

import (
	"fmt"
	"image/color"
	"math"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/phytoscreen/phytoscreen/power"
)

// gauge is one figure of the performance panel: a caption, the value in large type, a
// line saying where it comes from, and a sparkline of the last minutes.
type gauge struct {
	widget.BaseWidget
	title         *canvas.Text
	value, detail *fitText // shortened, never widening the window, as a run's figures grow
	spark         *sparkline
	box           *fyne.Container
}

// newGauge returns a gauge titled title, drawn in colour c.
func newGauge(title string, c color.NRGBA) *gauge {
	g := &gauge{}
	g.title = canvas.NewText(title, theme.Color(theme.ColorNamePlaceHolder))
	g.title.TextSize = 11.5
	g.value = newFitText(19, true, fyne.TextAlignLeading)
	g.value.SetColor(theme.Color(theme.ColorNameForeground))
	g.value.SetText("–")
	g.detail = newFitText(10.5, false, fyne.TextAlignLeading)
	g.detail.SetColor(theme.Color(theme.ColorNamePlaceHolder))
	g.spark = newSparkline(c)
	g.spark.minH = 20
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
	bg.CornerRadius = 6
	g.box = container.NewStack(bg, container.NewPadded(container.NewVBox(g.title, g.value, g.detail, g.spark)))
	g.ExtendBaseWidget(g)
	return g
}

// CreateRenderer implements fyne.Widget.
func (g *gauge) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(g.box) }

// Set shows value and detail and the history. UI goroutine only.
func (g *gauge) Set(value, detail string, hist []float64) {
	g.value.SetText(value)
	g.detail.SetText(detail)
	g.spark.SetValues(hist)
}

// Value returns the value shown.
func (g *gauge) Value() string { return g.value.Text() }

// Detail returns the gauge's second line.
func (g *gauge) Detail() string { return g.detail.Text() }

// perfHistory keeps the sparklines' data: one point a second for the last minutes. It is
// filled by the bridge goroutine and copied into the panel.
type perfHistory struct {
	watts, jPerCell, cellsPerSec, p50, cpu, rss *series
	last                                        time.Time
}

// historyPoints is how many seconds of history the sparklines show (five minutes).
const historyPoints = 300

func newPerfHistory() *perfHistory {
	return &perfHistory{watts: newSeries(historyPoints), jPerCell: newSeries(historyPoints), cellsPerSec: newSeries(historyPoints),
		p50: newSeries(historyPoints), cpu: newSeries(historyPoints), rss: newSeries(historyPoints)}
}

// add records a snapshot when a second has passed since the last point.
func (h *perfHistory) add(s power.Snapshot, now time.Time) {
	if now.Sub(h.last) < time.Second {
		return
	}
	h.last = now
	h.watts.Add(wattsOf(s))
	h.jPerCell.Add(jPerCellOf(s))
	h.cellsPerSec.Add(cellsPerSecOf(s))
	h.p50.Add(float64(s.Latency.P50) / float64(time.Millisecond))
	h.cpu.Add(s.CPUPercentNow)
	h.rss.Add(float64(s.RSS) / (1 << 20))
}

// perfFigures is what the panel shows, computed off the UI goroutine.
type perfFigures struct {
	snap                                        power.Snapshot
	watts, jPerCell, cellsPerSec, p50, cpu, rss []float64
}

func (h *perfHistory) figures(s power.Snapshot) perfFigures {
	return perfFigures{snap: s, watts: h.watts.Values(), jPerCell: h.jPerCell.Values(), cellsPerSec: h.cellsPerSec.Values(),
		p50: h.p50.Values(), cpu: h.cpu.Values(), rss: h.rss.Values()}
}

// wattsOf is the power to show: over the last seconds while a run is measured, else the
// latest sampling interval.
func wattsOf(s power.Snapshot) float64 {
	if s.Running && !math.IsNaN(s.Energy.WindowWatts) {
		return s.Energy.WindowWatts
	}
	return s.Energy.WattsNow
}

// jPerCellOf is the energy per cell to show: over the last seconds while a run is
// measured, else over the whole last run.
func jPerCellOf(s power.Snapshot) float64 {
	if s.Running && !math.IsNaN(s.Energy.WindowJoulesPerCell) && !math.IsInf(s.Energy.WindowJoulesPerCell, 0) {
		return s.Energy.WindowJoulesPerCell
	}
	return s.Energy.JoulesPerCell
}

// cellsPerSecOf is the throughput to show: over the last seconds while a run is
// measured, else the last run's average (0 before any run).
func cellsPerSecOf(s power.Snapshot) float64 {
	switch {
	case s.Running && !math.IsNaN(s.WindowCellsPerSec):
		return s.WindowCellsPerSec
	case s.Cells > 0 && !math.IsNaN(s.CellsPerSec):
		return s.CellsPerSec
	}
	return 0
}

// perfPanel shows what the model costs as it runs: power (with its source or
// "estimate"), joules per cell, cells per second, latency p50 and p90, CPU and memory.
type perfPanel struct {
	widget.BaseWidget
	Watts, JPerCell, Throughput, Latency, CPU, Memory *gauge
	source                                            *widget.Label
	box                                               *fyne.Container
	// modelAlone is what the model in use took per cell measured alone, on crops in
	// memory (Settings), said beside a run's energy, which is the whole app's; "" when
	// it was not measured (SetModelAlone).
	modelAlone string
	lastModel  string // SetLastRunModel
}

// SetModelAlone takes the model in use's energy per cell as Settings measured it alone
// ("the optimised model alone: 157 mJ, measured in Settings"), or "". A run's energy
// per cell is the whole app's: decoding and segmenting run while the model does, so no
// share of it can be told to be the model's (helper-84 read "model alone 96.6 mJ" where
// the model alone took 32.7). Shown from the next Set. UI goroutine only.
func (p *perfPanel) SetModelAlone(text string) { p.modelAlone = text }

// SetLastRunModel names the model the last run classified with, said beside its figures
// once it has ended: after a switch to the other model the panel kept the run's figures
// under no model's name (helper-84). UI goroutine only.
func (p *perfPanel) SetLastRunModel(model string) { p.lastModel = model }

// newPerfPanel returns an empty panel.
func newPerfPanel() *perfPanel {
	p := &perfPanel{
		Watts:      newGauge("POWER", color.NRGBA{0xe6, 0x51, 0x00, 0xff}),
		JPerCell:   newGauge("ENERGY PER CELL · WHOLE APP", color.NRGBA{0xbf, 0x36, 0x0c, 0xff}),
		Throughput: newGauge("THROUGHPUT", color.NRGBA{0x2e, 0x7d, 0x32, 0xff}),
		Latency:    newGauge("LATENCY PER RUN · p50 / p90", color.NRGBA{0x15, 0x65, 0xc0, 0xff}),
		CPU:        newGauge("CPU", color.NRGBA{0x6a, 0x1b, 0x9a, 0xff}),
		Memory:     newGauge("MEMORY", color.NRGBA{0x45, 0x5a, 0x64, 0xff}),
	}
	p.source = widget.NewLabel("Energy source: detecting…")
	p.source.Wrapping = fyne.TextWrapWord
	p.source.SizeName = theme.SizeNameCaptionText
	grid := container.NewGridWithColumns(3, p.Watts, p.JPerCell, p.Throughput, p.Latency, p.CPU, p.Memory)
	p.box = container.NewBorder(nil, p.source, nil, nil, grid)
	p.ExtendBaseWidget(p)
	return p
}

// CreateRenderer implements fyne.Widget.
func (p *perfPanel) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(p.box) }

// Source returns the energy source line.
func (p *perfPanel) Source() string { return p.source.Text }

// Set shows the figures. UI goroutine only.
func (p *perfPanel) Set(f perfFigures) {
	s := f.snap
	e := s.Energy
	est := ""
	if e.Estimated {
		est = " (estimate)"
	}
	wattDetail := "measured: " + e.Label
	if e.Estimated {
		wattDetail = "estimate, no power sensor"
	}
	if !s.Running {
		wattDetail = "now, between runs"
		if s.Cells > 0 && !math.IsNaN(e.MeanWatts) {
			wattDetail = fmt.Sprintf("now; the last run averaged %s W", fmtSig(e.MeanWatts))
		}
	}
	p.Watts.Set(fmtSig(wattsOf(s))+" W"+est, wattDetail, f.watts)
	jc := jPerCellOf(s)
	jDetail := "whole run: " + fmtJoulesAs(e.JoulesPerCell, jc)
	if !math.IsNaN(e.MarginalJoulesPerCell) {
		jDetail = "above idle: " + fmtJoulesAs(e.MarginalJoulesPerCell, jc)
	}
	if p.modelAlone != "" {
		jDetail += " · " + p.modelAlone
	}
	if !s.Running && s.Cells == 0 {
		jc, jDetail = math.NaN(), "no cells classified yet"
	}
	p.JPerCell.Set(fmtJoules(jc)+est, jDetail, f.jPerCell)
	tpDetail := fmt.Sprintf("%s cells, %s frames/s", fmtCount(int(s.Cells)), fmtSig(s.WindowFramesPerSec))
	if s.Paused { // the meter leaves the pause out: the figures wait where they were
		wattDetail = "now; the run is paused and its figures wait"
		jDetail += " · paused"
		p.JPerCell.Set(fmtJoules(jc)+est, jDetail, f.jPerCell)
		tpDetail = fmt.Sprintf("paused after %s cells", fmtCount(int(s.Cells)))
		p.Watts.Set(fmtSig(e.WattsNow)+" W"+est, wattDetail, f.watts)
	}
	if !s.Running {
		tpDetail = "no run yet"
		if s.Cells > 0 {
			run := "last run"
			if p.lastModel != "" {
				run += ", " + p.lastModel + " model"
			}
			tpDetail = fmt.Sprintf("%s: %s cells in %s", run, fmtCount(int(s.Cells)), fmtDuration(s.Elapsed))
		}
	}
	p.Throughput.Set(fmtSig(cellsPerSecOf(s))+" cells/s", tpDetail, f.cellsPerSec)
	lat := "–"
	if s.Latency.N > 0 {
		lat = fmtMs(s.Latency.P50) + " / " + fmtMs(s.Latency.P90)
	}
	latDetail := "per inference run"
	if s.Latency.N > 0 {
		latDetail = fmt.Sprintf("p99 %s · %d runs, %s cells each on average", fmtMs(s.Latency.P99), s.Latency.N, fmtSig(float64(s.Cells)/float64(max(s.Batches, 1))))
	}
	p.Latency.Set(lat, latDetail, f.p50)
	p.CPU.Set(fmtFloat(s.CPUPercentNow, 0)+" %", fmt.Sprintf("of one core; %d cores", s.Cores), f.cpu)
	p.Memory.Set(fmtBytes(s.RSS), "peak "+fmtBytes(s.PeakRSS)+" · Go heap "+fmtBytes(s.GoHeap), f.rss)
	src := "Energy source: " + e.Label
	if e.Estimated {
		src = "Energy source: estimate (" + e.Label + "). No power sensor was found on this machine: watts and joules are estimated from CPU time, not measured."
	}
	if !math.IsNaN(e.BaselineWatts) {
		src += fmt.Sprintf(" Idle baseline %s W.", fmtSig(e.BaselineWatts))
	}
	if p.source.Text != src {
		p.source.SetText(src)
	}
}

// fmtJoules formats an energy per cell in J, mJ or µJ.
func fmtJoules(j float64) string { return fmtJoulesAs(j, j) }

// fmtJoulesAs formats energy j in the unit fmtJoules gives ref: a tile's figures in
// the unit of its headline ("473 mJ" stood beside "above idle: 0.471 J": helper-56).
func fmtJoulesAs(j, ref float64) string {
	switch {
	case math.IsNaN(j) || math.IsInf(j, 0):
		return "–"
	case math.IsNaN(ref) || math.IsInf(ref, 0):
		ref = j
	}
	switch {
	case ref < 1e-3:
		return fmtSig(j*1e6) + " µJ"
	case ref < 1:
		return fmtSig(j*1e3) + " mJ"
	}
	return fmtSig(j) + " J"
}
