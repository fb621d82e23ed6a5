package synth

import (
	"image"
	"math"
)

// Procedural objects: each builder returns the shapes of one object around the origin
// (or, for filaments, in field pixels), drawn from the generator's random stream. The
// looks choose the materials. Sizes are in pixels of a frame whose cells are about as
// large as those of a 2584x1936 phase-contrast frame of a net sample at 200-400x: round
// cells 10-26 px across, colony cells 4-8 px, needles 4-6 px wide.

func (g *Generator) uni(a, b float64) float64 { return a + (b-a)*g.rng.Float64() }

// poisson draws a count with mean lambda (the integer part, plus one with the chance of
// the fraction: enough spread for a test field, and cheap).
func (g *Generator) poisson(lambda float64) int {
	n := int(lambda)
	if g.rng.Float64() < lambda-float64(n) {
		n++
	}
	return n
}

// needle is a pennate diatom (Pseudo-nitzschia look): a long thin spindle, straight or
// slightly bent, its ends tapering to points.
type needle struct {
	cx, cy, ux, uy, L, hw, sag float64
}

// newNeedle draws a needle's geometry around the origin: 60-150 px long, 4-6 px wide,
// often diagonal, half of them slightly bent.
func (g *Generator) newNeedle() needle {
	var ang float64
	if g.rng.Float64() < 0.6 {
		ang = math.Pi/4 + float64(g.rng.IntN(2))*math.Pi/2 + g.uni(-0.35, 0.35)
	} else {
		ang = g.uni(0, math.Pi)
	}
	n := needle{ux: math.Cos(ang), uy: math.Sin(ang), L: g.uni(60, 150), hw: g.uni(2, 3)}
	if g.rng.IntN(2) == 0 {
		n.sag = g.uni(-0.06, 0.06) * n.L
	}
	return n
}

// at returns the point at t (0..1 from end to end) and the unit normal there.
func (n needle) at(t float64) (x, y, nx, ny float64) {
	s := (t - 0.5) * n.L
	off := n.sag * 4 * t * (1 - t)
	nx, ny = -n.uy, n.ux
	return n.cx + s*n.ux + off*nx, n.cy + s*n.uy + off*ny, nx, ny
}

func (n needle) shapes() []shape {
	const segs = 14
	taper := func(t float64) float64 { return n.hw * math.Pow(min(1, min(t, 1-t)/0.18), 0.7) }
	out := make([]shape, 0, segs)
	px, py, _, _ := n.at(0)
	for i := 1; i <= segs; i++ {
		t0, t1 := float64(i-1)/segs, float64(i)/segs
		x, y, _, _ := n.at(t1)
		out = append(out, shape{kind: shapeSegment, ax: px, ay: py, bx: x, by: y, r0: taper(t0), r1: taper(t1), p0: t0 * n.L, p1: t1 * n.L})
		px, py = x, y
	}
	return out
}

// filament is a cyanobacterial trichome (Oscillatoria/Planktothrix look): uniform width,
// gently curved, long enough to run off the frame. Its points are in field pixels.
type filament struct {
	pts     [][2]float64 // the skeleton, every step px
	hw      float64
	cellLen float64
}

// newFilament walks a filament from a random start (anywhere, or just outside an edge,
// heading in) with a slowly wandering curvature: 4-7 px wide, 250-2000 px long.
func (g *Generator) newFilament(W, H int) filament {
	f := filament{hw: g.uni(2, 3.5)}
	f.cellLen = 2 * f.hw * g.uni(0.55, 0.9) // Oscillatoria cells are shorter than wide
	L := g.uni(250, min(2000, 0.8*float64(W+H)))
	var x, y, head float64
	if g.rng.IntN(2) == 0 { // enter from an edge
		switch g.rng.IntN(4) {
		case 0:
			x, y, head = -10, g.uni(0, float64(H)), g.uni(-1, 1)
		case 1:
			x, y, head = float64(W)+10, g.uni(0, float64(H)), math.Pi+g.uni(-1, 1)
		case 2:
			x, y, head = g.uni(0, float64(W)), -10, math.Pi/2+g.uni(-1, 1)
		default:
			x, y, head = g.uni(0, float64(W)), float64(H)+10, -math.Pi/2+g.uni(-1, 1)
		}
	} else {
		x, y, head = g.uni(0.1, 0.9)*float64(W), g.uni(0.1, 0.9)*float64(H), g.uni(0, 2*math.Pi)
	}
	const step = 6.0
	curv := g.uni(-0.004, 0.004)
	f.pts = append(f.pts, [2]float64{x, y})
	for s := 0.0; s < L; s += step {
		curv = 0.92*curv + g.rng.NormFloat64()*0.0012
		curv = max(-0.008, min(0.008, curv))
		head += curv * step
		x, y = x+step*math.Cos(head), y+step*math.Sin(head)
		f.pts = append(f.pts, [2]float64{x, y})
	}
	return f
}

func (f filament) shapes() []shape {
	out := make([]shape, 0, len(f.pts))
	p := 0.0
	for i := 1; i < len(f.pts); i++ {
		a, b := f.pts[i-1], f.pts[i]
		l := math.Hypot(b[0]-a[0], b[1]-a[1])
		out = append(out, shape{kind: shapeSegment, ax: a[0], ay: a[1], bx: b[0], by: b[1], r0: f.hw, r1: f.hw, p0: p, p1: p + l})
		p += l
	}
	return out
}

// cellsIn counts the filament's cells whose centre lies in r.
func (f filament) cellsIn(r image.Rectangle) int {
	n := 0
	next := f.cellLen / 2
	p := 0.0
	for i := 1; i < len(f.pts); i++ {
		a, b := f.pts[i-1], f.pts[i]
		l := math.Hypot(b[0]-a[0], b[1]-a[1])
		for next <= p+l {
			t := (next - p) / l
			x, y := a[0]+t*(b[0]-a[0]), a[1]+t*(b[1]-a[1])
			if x >= float64(r.Min.X) && x < float64(r.Max.X) && y >= float64(r.Min.Y) && y < float64(r.Max.Y) {
				n++
			}
			next += f.cellLen
		}
		p += l
	}
	return n
}

// newChain draws a diatom chain around the origin: n cells (3-10), each an ellipse
// 11-22 px along the chain and 8-15 px across, joined by a narrow neck (the constriction
// between frustules), along a gently curving line.
func (g *Generator) newChain(scale float64) ([]shape, int) {
	n := 3 + g.rng.IntN(8)
	L, Wc := g.uni(11, 22)*scale, g.uni(8, 15)*scale
	gap := g.uni(0.8, 2.5) * scale
	head := g.uni(0, 2*math.Pi)
	turn := g.uni(-0.08, 0.08)
	var centres [][2]float64
	x, y := 0.0, 0.0
	for i := range n {
		if i > 0 {
			head += turn + g.rng.NormFloat64()*0.03
			x, y = x+(L+gap)*math.Cos(head), y+(L+gap)*math.Sin(head)
		}
		centres = append(centres, [2]float64{x, y})
	}
	// centre the chain on the origin
	var mx, my float64
	for _, c := range centres {
		mx, my = mx+c[0]/float64(n), my+c[1]/float64(n)
	}
	var out []shape
	for i, c := range centres {
		a := head
		if i+1 < n {
			a = math.Atan2(centres[i+1][1]-c[1], centres[i+1][0]-c[0])
		} else if i > 0 {
			a = math.Atan2(c[1]-centres[i-1][1], c[0]-centres[i-1][0])
		}
		out = append(out, shape{kind: shapeEllipse, ax: c[0] - mx, ay: c[1] - my, r0: L / 2, r1: Wc / 2, ang: a, p0: float64(i) * (L + gap)})
		if i > 0 {
			p := centres[i-1]
			out = append(out, shape{kind: shapeSegment, ax: p[0] - mx, ay: p[1] - my, bx: c[0] - mx, by: c[1] - my, r0: 0.2 * Wc, r1: 0.2 * Wc})
		}
	}
	return out, n
}

// newColony draws a Microcystis-like colony around the origin: small round cells (radius
// 2-4 px) packed irregularly with gaps inside a lobed outline of radius rMin..rMax px,
// with up to three holes; it returns the cells, their number (tens to hundreds for a
// radius of 18-70 px) and the outline.
func (g *Generator) newColony(rMin, rMax float64) ([]shape, int, shape) {
	outline := g.newBlob(g.uni(rMin, rMax), 0.4)
	outline.ax, outline.ay = 0, 0
	outline.prepare()
	R := outline.r0
	type hole struct{ x, y, r float64 }
	var holes []hole
	for range g.rng.IntN(4) {
		a, d := g.uni(0, 2*math.Pi), g.uni(0, 0.6)*R
		holes = append(holes, hole{d * math.Cos(a), d * math.Sin(a), g.uni(0.12, 0.28) * R})
	}
	gap := g.uni(0, 0.6)
	fill := g.uni(0.6, 1.2) // how hard to pack: attempts per unit of area
	var cells []shape
	attempts := int(fill * 10 * R * R)
	ext := outline.extent()
	// a coarse grid of cell indexes for the neighbour test
	const cs = 8.0
	grid := map[[2]int][]int{}
	key := func(x, y float64) [2]int { return [2]int{int(math.Floor(x / cs)), int(math.Floor(y / cs))} }
next:
	for range attempts {
		x, y := g.uni(-ext, ext), g.uni(-ext, ext)
		r := g.uni(2, 4)
		if d, _ := outline.sdf(x, y); d > -r*0.3 {
			continue
		}
		for _, h := range holes {
			if math.Hypot(x-h.x, y-h.y) < h.r {
				continue next
			}
		}
		k := key(x, y)
		for dy := -1; dy <= 1; dy++ {
			for dx := -1; dx <= 1; dx++ {
				for _, j := range grid[[2]int{k[0] + dx, k[1] + dy}] {
					c := cells[j]
					if math.Hypot(x-c.ax, y-c.ay) < r+c.r0+gap+c.p1 {
						continue next
					}
				}
			}
		}
		grid[k] = append(grid[k], len(cells))
		// p1 holds the cell's own spacing: some touch their neighbours, some keep a gap
		cells = append(cells, shape{kind: shapeDisc, ax: x, ay: y, r0: r, p0: float64(len(cells)), p1: g.uni(-0.6, 0.9)})
	}
	return cells, len(cells), outline
}

// newBlob draws an irregular star-shaped particle of radius R (its outline wanders by up
// to about rough times R) at the origin.
func (g *Generator) newBlob(R, rough float64) shape {
	s := shape{kind: shapeBlob, r0: R}
	for k := range s.harm {
		s.harm[k] = g.uni(0, rough) / float64(k+1)
		s.phs[k] = g.uni(0, 2*math.Pi)
	}
	return s
}

// newFibre draws a short bent fibre of debris around the origin: 14-40 px long, 2-3 px
// wide.
func (g *Generator) newFibre() []shape {
	L, hw := g.uni(14, 40), g.uni(1, 1.5)
	a := g.uni(0, 2*math.Pi)
	bend := g.uni(-0.6, 0.6)
	x, y := -L/2*math.Cos(a), -L/2*math.Sin(a)
	var out []shape
	for i := range 3 {
		h := a + bend*(float64(i)-1)/2
		nx, ny := x+L/3*math.Cos(h), y+L/3*math.Sin(h)
		out = append(out, shape{kind: shapeSegment, ax: x, ay: y, bx: nx, by: ny, r0: hw, r1: hw})
		x, y = nx, ny
	}
	return out
}

// shapesBounds is the box of the shapes' outlines (moved by dx, dy).
func shapesBounds(shapes []shape, dx, dy float64) image.Rectangle {
	var r image.Rectangle
	for i := range shapes {
		b := shapes[i].bounds(dx, dy, 0)
		if i == 0 {
			r = b
		} else {
			r = r.Union(b)
		}
	}
	return r
}

// placeShapes tries random offsets for shapes built around the origin until the object
// lies inside area (its whole outline) and at least gap px from every object already
// committed; it leaves the object evaluated on the canvas (commit or discard it) and
// returns the offset.
func (g *Generator) placeShapes(c *canvas, shapes []shape, area image.Rectangle, gap float64, tries int) (float64, float64, bool) {
	b := shapesBounds(shapes, 0, 0)
	if b.Dx() > area.Dx() || b.Dy() > area.Dy() {
		return 0, 0, false
	}
	for range tries {
		dx := float64(area.Min.X-b.Min.X) + g.rng.Float64()*float64(area.Dx()-b.Dx())
		dy := float64(area.Min.Y-b.Min.Y) + g.rng.Float64()*float64(area.Dy()-b.Dy())
		c.eval(shapes, dx, dy, gap)
		if c.collides(gap) {
			c.discard()
			continue
		}
		return dx, dy, true
	}
	return 0, 0, false
}
