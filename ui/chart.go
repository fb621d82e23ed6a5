package ui

import (
	"image"
	"image/color"
	stddraw "image/draw"
	"math"
	"slices"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/widget"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// chartPoint is one sample's concentration of the charted taxon.
type chartPoint struct {
	Sample    string
	Time      time.Time
	PerL      float64
	Low, High float64 // 95% interval, cells/L
	Current   bool    // the sample selected in history
	// LowerBound marks a value that is at least PerL: colonies of unknown cells counted
	// one cell each. It is drawn apart (an open triangle, lowerBoundLegend), not joined to
	// the line: joined, a lower bound read as a collapse (helper-88).
	LowerBound bool
	// Series names the line the point belongs to (a bench, in the programme view); ""
	// for the one line of a single bench's chart.
	Series string
}

// seriesColors colour the lines of a chart of several series (benches), in the order of
// their names; red is left out, the alert threshold's colour.
var seriesColors = []color.NRGBA{
	{0x1f, 0x77, 0xb4, 0xff}, {0xff, 0x7f, 0x0e, 0xff}, {0x2c, 0xa0, 0x2c, 0xff}, {0x94, 0x67, 0xbd, 0xff},
	{0x8c, 0x56, 0x4b, 0xff}, {0xe3, 0x77, 0xc2, 0xff}, {0x17, 0xbe, 0xcf, 0xff}, {0xbc, 0xbd, 0x22, 0xff},
}

// chartSeries lists the series of pts by name; none when every point is of the one
// unnamed series.
func chartSeries(pts []chartPoint) []string {
	var names []string
	for _, p := range pts {
		if p.Series != "" && !slices.Contains(names, p.Series) {
			names = append(names, p.Series)
		}
	}
	slices.Sort(names)
	return names
}

// seriesColor is the colour of series i of a chart of several.
func seriesColor(i int) color.NRGBA { return seriesColors[i%len(seriesColors)] }

// pointsXY adapts chartPoints to gonum/plot: X in Unix seconds, Y in cells/L, Y errors
// the interval's distances below and above.
type pointsXY []chartPoint

func (p pointsXY) Len() int                { return len(p) }
func (p pointsXY) XY(i int) (x, y float64) { return float64(p[i].Time.Unix()), p[i].PerL }
func (p pointsXY) YError(i int) (float64, float64) {
	return math.Max(0, p[i].PerL-p[i].Low), math.Max(0, p[i].High-p[i].PerL)
}

// chartLevels are the trigger levels drawn across a chart, cells/L (0: none);
// WatchAbove and AlertAbove say a level is reached only above its line ("> 1,000").
type chartLevels struct {
	Watch, Alert           float64
	WatchAbove, AlertAbove bool
}

// renderChart draws the concentration of one taxon at one site over time, with the 95%
// intervals as error bars and the watch and alert levels, if any, as dashed amber and
// red lines (a sample at the watch level must not sit under the only line drawn). Points
// of named series (benches) are drawn one line and colour per series, with a legend;
// unnamed ones in c.
func renderChart(pts []chartPoint, title string, levels chartLevels, c color.NRGBA, w, h int, scale float32) image.Image {
	if w < 50 || h < 50 {
		return image.NewRGBA(image.Rect(0, 0, max(w, 1), max(h, 1)))
	}
	if len(pts) == 0 {
		// Nothing to chart (no sample shown): a blank, not axes around 1970 (helper-44).
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		stddraw.Draw(img, img.Bounds(), image.NewUniform(color.White), image.Point{}, stddraw.Src)
		return img
	}
	p := chartPlot(pts, title, levels, c)
	dpi := int(96 * scale)
	cv := vgimg.NewWith(vgimg.UseWH(vg.Length(w)/vg.Length(dpi)*vg.Inch, vg.Length(h)/vg.Length(dpi)*vg.Inch), vgimg.UseDPI(dpi),
		vgimg.UseBackgroundColor(color.White))
	p.Draw(draw.New(cv))
	return cv.Image()
}

// chartPlot is renderChart's plot, before it is drawn.
func chartPlot(pts []chartPoint, title string, levels chartLevels, c color.NRGBA) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(12)
	p.X.Label.Text = "Sample taken"
	p.Y.Label.Text = "cells per litre"
	p.X.Tick.Marker = plot.TimeTicks{Format: "2006-01-02\n15:04", Time: func(t float64) time.Time { return time.Unix(int64(t), 0).Local() }}
	p.Y.Min = 0
	p.Y.Tick.Marker = perLTicks{}
	p.Add(plotter.NewGrid())
	pts = slices.Clone(pts)
	slices.SortFunc(pts, func(a, b chartPoint) int { return a.Time.Compare(b.Time) })
	legendRows := 0
	if len(pts) > 0 {
		if names := chartSeries(pts); len(names) > 0 {
			legendRows += len(names)
			for i, name := range names {
				var sp []chartPoint
				for _, pt := range pts {
					if pt.Series == name {
						sp = append(sp, pt)
					}
				}
				if th := addSeries(p, sp, seriesColor(i)); th != nil {
					p.Legend.Add(name, th...)
				}
			}
			p.Legend.Top = true
		} else {
			addSeries(p, pts, c)
		}
		if i := slices.IndexFunc(pts, func(pt chartPoint) bool { return pt.LowerBound }); i >= 0 {
			col := c
			if names := chartSeries(pts); len(names) > 0 {
				col = color.NRGBA{0x55, 0x55, 0x55, 0xff}
			}
			p.Legend.Add(lowerBoundLegend, glyphThumb{lowerBoundGlyph(col)})
			p.Legend.Top = true
			legendRows++
		}
		for _, pt := range pts {
			if pt.Current {
				cur, err := plotter.NewScatter(pointsXY{pt})
				if err == nil {
					cur.GlyphStyle.Color = color.Black
					cur.GlyphStyle.Radius = vg.Points(5.5)
					cur.GlyphStyle.Shape = draw.RingGlyph{}
					p.Add(cur)
				}
			}
		}
		hi := 0.0
		for _, pt := range pts {
			hi = math.Max(hi, pt.High)
		}
		// A tenth over the highest point or level, and room for the legend's rows at the
		// top: the legend ("≥ lower bound") was drawn over the alert level's name
		// (helper-93).
		p.Y.Max = math.Max(hi, math.Max(levels.Watch, levels.Alert)) * (1.1 + legendHeadroom*float64(legendRows))
		if p.Y.Max == 0 {
			p.Y.Max = 1
		}
		if first, last := pts[0].Time, pts[len(pts)-1].Time; last.Sub(first) < 24*time.Hour {
			// Within a day: the hours the samples span, so that samples minutes apart
			// stand apart (a whole day's axis stacked them on one vertical line).
			lo, hi, step := clockWindow(first, last)
			p.X.Min, p.X.Max = float64(lo.Unix()), float64(hi.Unix())
			// The clock on the ticks and the date once, under the axis: the date on every
			// tick ran the labels into each other ("2026-12-032026-12-03": helper-41).
			p.X.Tick.Marker = plot.TimeTicks{Format: "15:04", Ticker: clockTicks{step}, Time: func(t float64) time.Time { return time.Unix(int64(t), 0).Local() }}
			p.X.Label.Text = "Sample taken, " + dayRange(lo, hi)
		} else {
			// Days apart: a twentieth of the span either side, or the first and last
			// points and their intervals' caps sat half outside the axes (helper-54).
			pad := last.Sub(first) / 20
			p.X.Min, p.X.Max = float64(first.Add(-pad).Unix()), float64(last.Add(pad).Unix())
			// Ticks on days, not at gonum's even seconds ("2026-11-06 21:20": helper-62).
			days := dayStep(first.Add(-pad), last.Add(pad))
			format := "Jan 2"
			if last.Sub(first) > 300*24*time.Hour {
				format = "Jan 2\n2006"
			}
			p.X.Tick.Marker = plot.TimeTicks{Format: format, Ticker: dayTicks{days}, Time: func(t float64) time.Time { return time.Unix(int64(t), 0).Local() }}
		}
	}
	if len(pts) > 0 {
		for _, l := range levelLines(levels, p.X.Min, p.X.Max) {
			p.Add(l)
		}
	}
	return p
}

// legendHeadroom is the share of the highest value added above it per row of the
// legend, which is drawn inside the plot at its top.
const legendHeadroom = 0.12

// levelLines are the watch and alert levels as dashed lines from xmin to xmax, each
// named on its line with its value, the watch level at the left and the alert level at
// the right: in the legend, at the top, the two names sat over the alert line and the
// watch line read as unnamed (helper-67).
func levelLines(levels chartLevels, xmin, xmax float64) []plot.Plotter {
	var out []plot.Plotter
	for _, l := range []struct {
		at    float64
		name  string
		color color.NRGBA
		right bool
		above bool
	}{{levels.Watch, "watch level", colorWatch, false, levels.WatchAbove}, {levels.Alert, "alert level", colorAlert, true, levels.AlertAbove}} {
		if l.at <= 0 {
			continue
		}
		th, err := plotter.NewLine(plotter.XYs{{X: xmin, Y: l.at}, {X: xmax, Y: l.at}})
		if err != nil {
			continue
		}
		th.Color = l.color
		th.Width = vg.Points(1.5) // as the series: a hairline fell between pixel rows, blended away
		th.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		x, align, dx := xmin, draw.XLeft, vg.Points(4)
		if l.right {
			x, align, dx = xmax, draw.XRight, -vg.Points(4)
		}
		label := l.name + " " + fmtPerL(l.at)
		if l.above { // a point on the line has not reached it
			label = l.name + " > " + fmtPerL(l.at)
		}
		name, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: x, Y: l.at}}, Labels: []string{label}})
		if err != nil {
			continue
		}
		for i := range name.TextStyle {
			name.TextStyle[i].Color = darker(l.color)
			name.TextStyle[i].XAlign = align
			name.TextStyle[i].YAlign = draw.YBottom
			name.TextStyle[i].Font.Size = vg.Points(9)
		}
		name.Offset = vg.Point{X: dx, Y: vg.Points(2)}
		out = append(out, th, name)
	}
	return out
}

// darker is c at two thirds of its brightness: a level's name in its line's colour,
// readable on white (the amber of the watch line is not).
func darker(c color.NRGBA) color.NRGBA {
	return color.NRGBA{R: c.R * 2 / 3, G: c.G * 2 / 3, B: c.B * 2 / 3, A: 0xff}
}

// lowerBoundLegend names the lower-bound points in a chart's legend.
const lowerBoundLegend = "≥ lower bound: cells unknown"

// addSeries adds one series' line, error bars and points (sorted by time) in colour c,
// and returns the line and points for a legend entry (nil when none could be made). Its
// lower bounds are open triangles off the line, without error bars.
func addSeries(p *plot.Plot, pts []chartPoint, c color.NRGBA) []plot.Thumbnailer {
	var th []plot.Thumbnailer
	exact, lower := splitLowerBounds(pts)
	if len(lower) > 0 {
		if sc, err := plotter.NewScatter(pointsXY(lower)); err == nil {
			sc.GlyphStyle = lowerBoundGlyph(c)
			p.Add(sc)
		}
	}
	if len(exact) == 0 {
		return nil
	}
	xy := pointsXY(exact)
	if line, err := plotter.NewLine(xy); err == nil {
		line.Color = c
		line.Width = vg.Points(1.5)
		p.Add(line)
		th = append(th, line)
	}
	if bars, err := plotter.NewYErrorBars(xy); err == nil {
		bars.Color = withAlpha(c, 0xa0)
		bars.CapWidth = vg.Points(6)
		p.Add(bars)
	}
	if sc, err := plotter.NewScatter(xy); err == nil {
		sc.GlyphStyle.Color = c
		sc.GlyphStyle.Radius = vg.Points(3)
		sc.GlyphStyle.Shape = draw.CircleGlyph{}
		p.Add(sc)
		th = append(th, sc)
	}
	return th
}

// splitLowerBounds parts points into those of known value, joined by the line, and
// the lower bounds, drawn apart.
func splitLowerBounds(pts []chartPoint) (exact, lower []chartPoint) {
	for _, pt := range pts {
		if pt.LowerBound {
			lower = append(lower, pt)
		} else {
			exact = append(exact, pt)
		}
	}
	return exact, lower
}

// lowerBoundGlyph draws a lower-bound point in colour c: an open triangle, pointing up.
func lowerBoundGlyph(c color.NRGBA) draw.GlyphStyle {
	return draw.GlyphStyle{Color: c, Radius: vg.Points(4.5), Shape: draw.TriangleGlyph{}}
}

// perLTicks are gonum's default ticks labelled as the counts table writes
// concentrations (12,000 rather than 12000.00).
type perLTicks struct{}

func (perLTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = fmtPerL(ts[i].Value)
		}
	}
	return ts
}

// clockWindow is the time axis for samples taken from first to last, less than a day
// apart: their span with a margin either side (at least 10 minutes), and a tick step of
// the clock (5 minutes to 6 hours) giving at most 8 ticks.
func clockWindow(first, last time.Time) (lo, hi time.Time, step time.Duration) {
	pad := max(last.Sub(first)/10, 10*time.Minute)
	lo, hi = first.Add(-pad), last.Add(pad)
	for _, step = range []time.Duration{5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
		time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour} {
		if hi.Sub(lo)/step <= 8 {
			break
		}
	}
	return lo, hi, step
}

// dayRange names the local day or days from lo to hi: "2026-12-03", or
// "2026-12-02 to 2026-12-03" across midnight.
func dayRange(lo, hi time.Time) string {
	a, b := lo.Local().Format("2006-01-02"), hi.Local().Format("2006-01-02")
	if a == b {
		return a
	}
	return a + " to " + b
}

// dayStep is the days between ticks of an axis from lo to hi, a day or more: the
// shortest of 1, 2, 3, 7, 14, 28 days (then multiples of 28) giving at most 8 ticks.
func dayStep(lo, hi time.Time) int {
	span := hi.Sub(lo).Hours() / 24
	for _, d := range []int{1, 2, 3, 7, 14, 28} {
		if span/float64(d) <= 8 {
			return d
		}
	}
	return 28 * int(math.Ceil(span/28/8))
}

// dayTicks marks local midnights every days days from the first after lo.
type dayTicks struct{ days int }

func (d dayTicks) Ticks(lo, hi float64) []plot.Tick {
	var out []plot.Tick
	start := time.Unix(int64(lo), 0).Local()
	t := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, time.Local)
	if t.Before(start) {
		t = t.AddDate(0, 0, 1)
	}
	for ; float64(t.Unix()) <= hi; t = t.AddDate(0, 0, max(d.days, 1)) {
		out = append(out, plot.Tick{Value: float64(t.Unix()), Label: "x"})
	}
	return out
}

// clockTicks marks the local clock's multiples of step (10:00, 10:15, ...).
type clockTicks struct{ step time.Duration }

func (c clockTicks) Ticks(lo, hi float64) []plot.Tick {
	var out []plot.Tick
	step := c.step.Seconds()
	_, off := time.Unix(int64(lo), 0).Local().Zone()
	for v := math.Ceil((lo+float64(off))/step)*step - float64(off); v <= hi; v += step {
		out = append(out, plot.Tick{Value: v, Label: "x"})
	}
	return out
}

// trendChart shows a concentration chart that redraws at its own size.
type trendChart struct {
	widget.BaseWidget
	raster *canvas.Raster
	pts    []chartPoint
	title  string
	levels chartLevels
	color  color.NRGBA
}

// newTrendChart returns an empty chart.
func newTrendChart() *trendChart {
	c := &trendChart{color: colorBrand}
	c.raster = canvas.NewRaster(func(w, h int) image.Image {
		scale := float32(1)
		if cv := fyne.CurrentApp().Driver().CanvasForObject(c); cv != nil {
			scale = cv.Scale()
		}
		return renderChart(c.pts, c.title, c.levels, c.color, w, h, scale)
	})
	c.ExtendBaseWidget(c)
	return c
}

// Set replaces the data. UI goroutine only.
func (c *trendChart) Set(pts []chartPoint, title string, levels chartLevels, col color.NRGBA) {
	c.pts, c.title, c.levels, c.color = pts, title, levels, col
	c.raster.Refresh()
}

// Points returns the charted points (for tests).
func (c *trendChart) Points() []chartPoint { return c.pts }

// Series returns the names of the charted series, as the legend lists them; none for a
// chart of one unnamed series.
func (c *trendChart) Series() []string { return chartSeries(c.pts) }

// CreateRenderer implements fyne.Widget.
func (c *trendChart) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(c.raster) }

// MinSize implements fyne.CanvasObject.
func (c *trendChart) MinSize() fyne.Size { return fyne.NewSize(320, 220) }

// glyphThumb draws a glyph as a legend's thumbnail.
type glyphThumb struct{ style draw.GlyphStyle }

func (g glyphThumb) Thumbnail(c *draw.Canvas) {
	c.DrawGlyph(g.style, c.Center())
}
