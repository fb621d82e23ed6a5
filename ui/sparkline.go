package ui

import (
	"image"
	"image/color"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/widget"
	"golang.org/x/image/vector"
)

// series is a bounded history of one figure, oldest first: the last N samples. It is
// filled off the UI goroutine and copied into a sparkline on it.
type series struct {
	vals []float64
	max  int
}

// newSeries keeps the last n values.
func newSeries(n int) *series { return &series{max: n, vals: make([]float64, 0, n)} }

// Add appends v, dropping the oldest value when full. NaN marks a gap.
func (s *series) Add(v float64) {
	if len(s.vals) == s.max {
		copy(s.vals, s.vals[1:])
		s.vals = s.vals[:len(s.vals)-1]
	}
	s.vals = append(s.vals, v)
}

// Values returns a copy of the values.
func (s *series) Values() []float64 { return append([]float64(nil), s.vals...) }

// Last returns the latest value (NaN when empty).
func (s *series) Last() float64 {
	if len(s.vals) == 0 {
		return math.NaN()
	}
	return s.vals[len(s.vals)-1]
}

// sparkline draws a small anti-aliased line of recent values with a light fill under
// it, scaled to its own range (from zero when all values are positive, so a flat line
// at a high value does not look like noise).
type sparkline struct {
	widget.BaseWidget
	vals   []float64
	color  color.NRGBA
	raster *canvas.Raster
	minH   float32
	minW   float32
	buf    *image.RGBA
}

// newSparkline returns an empty sparkline in colour c.
func newSparkline(c color.NRGBA) *sparkline {
	s := &sparkline{color: c, minH: 22, minW: 60}
	s.raster = canvas.NewRaster(s.draw)
	s.ExtendBaseWidget(s)
	return s
}

// SetValues replaces the values (copied) and redraws. UI goroutine only.
func (s *sparkline) SetValues(v []float64) {
	s.vals = append(s.vals[:0], v...)
	s.raster.Refresh()
}

// SetColor changes the line's colour.
func (s *sparkline) SetColor(c color.NRGBA) {
	if s.color != c {
		s.color = c
		s.raster.Refresh()
	}
}

// CreateRenderer implements fyne.Widget.
func (s *sparkline) CreateRenderer() fyne.WidgetRenderer {
	return &sparkRenderer{s: s}
}

type sparkRenderer struct{ s *sparkline }

func (r *sparkRenderer) Layout(size fyne.Size)        { r.s.raster.Resize(size) }
func (r *sparkRenderer) MinSize() fyne.Size           { return fyne.NewSize(r.s.minW, r.s.minH) }
func (r *sparkRenderer) Refresh()                     { r.s.raster.Refresh() }
func (r *sparkRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.s.raster} }
func (r *sparkRenderer) Destroy()                     {}

// draw renders the line at w x h device pixels.
func (s *sparkline) draw(w, h int) image.Image {
	if w <= 0 || h <= 0 {
		return image.NewRGBA(image.Rect(0, 0, 1, 1))
	}
	if s.buf == nil || s.buf.Rect.Dx() != w || s.buf.Rect.Dy() != h {
		s.buf = image.NewRGBA(image.Rect(0, 0, w, h))
	} else {
		clear(s.buf.Pix)
	}
	drawSpark(s.buf, s.vals, s.color)
	return s.buf
}

// drawSpark draws values as a polyline with a translucent fill beneath into dst.
func drawSpark(dst *image.RGBA, vals []float64, c color.NRGBA) {
	w, h := dst.Rect.Dx(), dst.Rect.Dy()
	lo, hi := math.Inf(1), math.Inf(-1)
	n := 0
	for _, v := range vals {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		lo, hi = math.Min(lo, v), math.Max(hi, v)
		n++
	}
	if n == 0 {
		return
	}
	if lo > 0 {
		lo = 0
	}
	if hi-lo < 1e-12 {
		hi = lo + 1
	}
	pad := math.Max(1.5, float64(h)*0.08)
	xOf := func(i int) float32 {
		if len(vals) == 1 {
			return float32(w) - 1
		}
		return float32(float64(i) / float64(len(vals)-1) * float64(w-1))
	}
	yOf := func(v float64) float32 {
		return float32(pad + (1-(v-lo)/(hi-lo))*(float64(h)-2*pad))
	}
	// Fill under the line, segment by valid run.
	fill := vector.NewRasterizer(w, h)
	line := vector.NewRasterizer(w, h)
	const lw = 1.6
	run := 0
	var px, py float32
	start := 0
	flush := func() {
		if run >= 1 {
			fill.LineTo(px, float32(h))
			fill.LineTo(xOf(start), float32(h))
			fill.ClosePath()
		}
	}
	for i, v := range vals {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			flush()
			run = 0
			continue
		}
		x, y := xOf(i), yOf(v)
		if run == 0 {
			start = i
			fill.MoveTo(x, float32(h))
			fill.LineTo(x, y)
		} else {
			fill.LineTo(x, y)
			segment(line, px, py, x, y, lw)
		}
		if len(vals) == 1 || run == 0 {
			segment(line, x-1, y, x+1, y, lw) // a lone point still shows
		}
		px, py = x, y
		run++
	}
	flush()
	fill.Draw(dst, dst.Bounds(), image.NewUniform(withAlpha(c, 0x38)), image.Point{})
	line.Draw(dst, dst.Bounds(), image.NewUniform(c), image.Point{})
	// The latest value as a dot.
	if v := vals[len(vals)-1]; !math.IsNaN(v) && !math.IsInf(v, 0) {
		dot := vector.NewRasterizer(w, h)
		circle(dot, xOf(len(vals)-1)-1.5, yOf(v), 2.2)
		dot.Draw(dst, dst.Bounds(), image.NewUniform(c), image.Point{})
	}
}

// segment adds a thick line from (x0,y0) to (x1,y1) as a quadrilateral.
func segment(r *vector.Rasterizer, x0, y0, x1, y1, width float32) {
	dx, dy := x1-x0, y1-y0
	l := float32(math.Hypot(float64(dx), float64(dy)))
	if l == 0 {
		return
	}
	nx, ny := -dy/l*width/2, dx/l*width/2
	r.MoveTo(x0+nx, y0+ny)
	r.LineTo(x1+nx, y1+ny)
	r.LineTo(x1-nx, y1-ny)
	r.LineTo(x0-nx, y0-ny)
	r.ClosePath()
}

// circle adds a filled circle.
func circle(r *vector.Rasterizer, cx, cy, rad float32) {
	const n = 16
	for i := 0; i <= n; i++ {
		a := 2 * math.Pi * float64(i) / n
		x, y := cx+rad*float32(math.Cos(a)), cy+rad*float32(math.Sin(a))
		if i == 0 {
			r.MoveTo(x, y)
		} else {
			r.LineTo(x, y)
		}
	}
	r.ClosePath()
}
