//go:build ignore

// gen draws phytoscreen's application icon (phytoscreen.png, 512x512) from code, so
// the icon has no outside source and can be redrawn at any size:
//
//	go run assets/icons/gen.go -out assets/icons/phytoscreen.png
//
// The design: a deep-teal rounded square (the app's colour), a bright circular field of
// view as seen down a microscope, a pennate diatom with its striae and a round
// dinoflagellate-like cell in greens, and an amber alert dot: screening for harmful algae.
package main

import (
	"flag"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"log"
	"math"
	"os"

	"golang.org/x/image/vector"
)

func main() {
	out := flag.String("out", "assets/icons/phytoscreen.png", "output PNG")
	size := flag.Int("size", 512, "icon size in pixels")
	flag.Parse()
	img := drawIcon(*size)
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}

// shape accumulates paths in unit coordinates (0..1) and fills them in one colour.
type shape struct {
	r *vector.Rasterizer
	s float32
}

func newShape(size int) *shape {
	return &shape{r: vector.NewRasterizer(size, size), s: float32(size)}
}

func (p *shape) moveTo(x, y float64) { p.r.MoveTo(float32(x)*p.s, float32(y)*p.s) }
func (p *shape) lineTo(x, y float64) { p.r.LineTo(float32(x)*p.s, float32(y)*p.s) }

// ellipse adds an ellipse centred at (cx, cy) with radii rx, ry turned by angle rad.
// reverse draws it the other way round, which cuts a hole with the non-zero rule.
func (p *shape) ellipse(cx, cy, rx, ry, angle float64, reverse bool) {
	const n = 96
	sa, ca := math.Sincos(angle)
	for i := 0; i <= n; i++ {
		t := 2 * math.Pi * float64(i) / n
		if reverse {
			t = -t
		}
		x, y := rx*math.Cos(t), ry*math.Sin(t)
		px, py := cx+x*ca-y*sa, cy+x*sa+y*ca
		if i == 0 {
			p.moveTo(px, py)
		} else {
			p.lineTo(px, py)
		}
	}
	p.r.ClosePath()
}

// roundRect adds a rounded rectangle.
func (p *shape) roundRect(x0, y0, x1, y1, rad float64) {
	const n = 16
	corner := func(cx, cy, a0 float64, first bool) {
		for i := 0; i <= n; i++ {
			a := a0 + math.Pi/2*float64(i)/n
			x, y := cx+rad*math.Cos(a), cy+rad*math.Sin(a)
			if first && i == 0 {
				p.moveTo(x, y)
			} else {
				p.lineTo(x, y)
			}
		}
	}
	corner(x1-rad, y0+rad, -math.Pi/2, true)
	corner(x1-rad, y1-rad, 0, false)
	corner(x0+rad, y1-rad, math.Pi/2, false)
	corner(x0+rad, y0+rad, math.Pi, false)
	p.r.ClosePath()
}

// line adds a thick segment as a quadrilateral.
func (p *shape) line(x0, y0, x1, y1, w float64) {
	dx, dy := x1-x0, y1-y0
	l := math.Hypot(dx, dy)
	nx, ny := -dy/l*w/2, dx/l*w/2
	p.moveTo(x0+nx, y0+ny)
	p.lineTo(x1+nx, y1+ny)
	p.lineTo(x1-nx, y1-ny)
	p.lineTo(x0-nx, y0-ny)
	p.r.ClosePath()
}

func (p *shape) fill(dst *image.RGBA, c color.Color) {
	p.r.Draw(dst, dst.Bounds(), image.NewUniform(c), image.Point{})
}

func drawIcon(size int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	draw.Draw(img, img.Bounds(), image.Transparent, image.Point{}, draw.Src)

	// Background: deep teal rounded square with a slightly lighter inner square for depth.
	bg := newShape(size)
	bg.roundRect(0.04, 0.04, 0.96, 0.96, 0.2)
	bg.fill(img, color.RGBA{0x0b, 0x4f, 0x5c, 0xff})

	// Field of view: a pale ring (the eyepiece) around a bright disc.
	ring := newShape(size)
	ring.ellipse(0.5, 0.5, 0.38, 0.38, 0, false)
	ring.fill(img, color.RGBA{0xd8, 0xf1, 0xee, 0xff})
	field := newShape(size)
	field.ellipse(0.5, 0.5, 0.345, 0.345, 0, false)
	field.fill(img, color.RGBA{0xf7, 0xfb, 0xf4, 0xff})

	// A pennate diatom: a long green ellipse with a darker outline and striae.
	const angle = -0.62
	outline := newShape(size)
	outline.ellipse(0.43, 0.56, 0.235, 0.075, angle, false)
	outline.ellipse(0.43, 0.56, 0.215, 0.056, angle, true)
	outline.fill(img, color.RGBA{0x2e, 0x7d, 0x32, 0xff})
	body := newShape(size)
	body.ellipse(0.43, 0.56, 0.215, 0.056, angle, false)
	body.fill(img, color.RGBA{0x8b, 0xc3, 0x4a, 0xff})
	striae := newShape(size)
	sa, ca := math.Sincos(angle)
	for i := -6; i <= 6; i++ {
		t := float64(i) * 0.028
		w := 0.05 * math.Sqrt(math.Max(0, 1-(t/0.2)*(t/0.2)))
		cx, cy := 0.43+t*ca, 0.56+t*sa
		striae.line(cx-w*(-sa), cy-w*ca, cx+w*(-sa), cy+w*ca, 0.009)
	}
	striae.fill(img, color.RGBA{0x33, 0x69, 0x1e, 0xc0})
	raphe := newShape(size)
	raphe.line(0.43-0.19*ca, 0.56-0.19*sa, 0.43+0.19*ca, 0.56+0.19*sa, 0.008)
	raphe.fill(img, color.RGBA{0x1b, 0x5e, 0x20, 0xff})

	// The detection box the live view draws around a cell, behind the round cell.
	frame := newShape(size)
	frame.roundRect(0.51, 0.23, 0.73, 0.45, 0.025)
	frame.fill(img, color.RGBA{0xff, 0xa0, 0x00, 0xff})
	hole := newShape(size)
	hole.roundRect(0.527, 0.247, 0.713, 0.433, 0.012)
	hole.fill(img, color.RGBA{0xf7, 0xfb, 0xf4, 0xff})

	// A round cell (a dinoflagellate) with its nucleus.
	cell := newShape(size)
	cell.ellipse(0.62, 0.34, 0.085, 0.08, 0, false)
	cell.fill(img, color.RGBA{0x00, 0x89, 0x7b, 0xff})
	cellIn := newShape(size)
	cellIn.ellipse(0.62, 0.34, 0.066, 0.061, 0, false)
	cellIn.fill(img, color.RGBA{0x4d, 0xb6, 0xac, 0xff})
	nucleus := newShape(size)
	nucleus.ellipse(0.635, 0.325, 0.026, 0.024, 0, false)
	nucleus.fill(img, color.RGBA{0x00, 0x69, 0x5c, 0xff})

	// The alert dot, top right, on the tile.
	dot := newShape(size)
	dot.ellipse(0.83, 0.17, 0.085, 0.085, 0, false)
	dot.fill(img, color.RGBA{0xff, 0xff, 0xff, 0xff})
	dotIn := newShape(size)
	dotIn.ellipse(0.83, 0.17, 0.065, 0.065, 0, false)
	dotIn.fill(img, color.RGBA{0xe5, 0x39, 0x35, 0xff})
	return img
}
