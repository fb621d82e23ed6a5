package synth

import (
	"image"
	"math"
)

// The procedural objects of the phase and colour looks are unions of simple shapes
// (capsules along a skeleton, discs, ellipses, irregular star-shaped blobs), each a
// signed distance in pixels (negative inside). A canvas evaluates an object's union into
// scratch buffers (the least signed distance per pixel and the skeleton position there),
// checks it against what is already on the field, and commits it: each pixel gets the
// coverage 0.5 - distance (clamped to 0..1, an antialiased edge) times the object's
// material, added to the field's maps of phase (optical path) and absorbance. The truth
// box of a procedural object is the box of its pixels of coverage at least one half:
// its outline, not its halo.

const inf32 = float32(math.MaxFloat32)

type shapeKind uint8

const (
	shapeSegment shapeKind = iota // capsule from a to b, half width r0 at a and r1 at b
	shapeDisc                     // disc at a, radius r0
	shapeEllipse                  // ellipse at a, semi-axes r0 (along ang) and r1
	shapeBlob                     // star-shaped blob at a, radius r0 times 1 + sum harm
)

// shape is one piece of an object, in field pixels (an object is placed by an offset).
type shape struct {
	kind           shapeKind
	ax, ay, bx, by float64
	r0, r1         float64
	p0, p1         float64    // skeleton parameter (arc length, px) at a and b
	ang            float64    // ellipse: direction of the r0 axis
	harm           [4]float64 // blob: amplitude of harmonics 2..5 of the radius
	phs            [4]float64 // blob: their phases

	// set by prepare: cos and sin of ang, and of the blob's phases
	ca, sa   float64
	pc, ps   [4]float64
	prepared bool
}

// prepare computes the shape's trigonometry once, before its pixels are evaluated.
func (s *shape) prepare() {
	s.ca, s.sa = math.Cos(s.ang), math.Sin(s.ang)
	for k, p := range s.phs {
		s.pc[k], s.ps[k] = math.Cos(p), math.Sin(p)
	}
	s.prepared = true
}

// extent is how far the shape reaches from a, b in any direction.
func (s *shape) extent() float64 {
	switch s.kind {
	case shapeSegment:
		return max(s.r0, s.r1)
	case shapeEllipse:
		return max(s.r0, s.r1)
	case shapeBlob:
		a := 1.0
		for _, h := range s.harm {
			a += math.Abs(h)
		}
		return s.r0 * a
	}
	return s.r0
}

// bounds returns the pixels within pad of the shape, moved by (dx, dy).
func (s *shape) bounds(dx, dy, pad float64) image.Rectangle {
	e := s.extent() + pad + 1
	x0, x1 := min(s.ax, s.bx), max(s.ax, s.bx)
	y0, y1 := min(s.ay, s.by), max(s.ay, s.by)
	if s.kind != shapeSegment {
		x0, x1, y0, y1 = s.ax, s.ax, s.ay, s.ay
	}
	return image.Rect(int(math.Floor(x0+dx-e)), int(math.Floor(y0+dy-e)), int(math.Ceil(x1+dx+e))+1, int(math.Ceil(y1+dy+e))+1)
}

// sdf returns the signed distance of the point (x, y) (shape coordinates) and the
// skeleton parameter at the nearest point.
func (s *shape) sdf(x, y float64) (float64, float64) {
	switch s.kind {
	case shapeSegment:
		vx, vy := s.bx-s.ax, s.by-s.ay
		wx, wy := x-s.ax, y-s.ay
		l2 := vx*vx + vy*vy
		t := 0.0
		if l2 > 0 {
			t = min(1, max(0, (wx*vx+wy*vy)/l2))
		}
		dx, dy := wx-t*vx, wy-t*vy
		return math.Sqrt(dx*dx+dy*dy) - (s.r0 + t*(s.r1-s.r0)), s.p0 + t*(s.p1-s.p0)
	case shapeDisc:
		dx, dy := x-s.ax, y-s.ay
		return math.Sqrt(dx*dx+dy*dy) - s.r0, s.p0
	case shapeEllipse:
		dx, dy := x-s.ax, y-s.ay
		c, sn := s.ca, s.sa
		u, v := dx*c+dy*sn, -dx*sn+dy*c
		a, b := s.r0, s.r1
		q := math.Sqrt(u*u/(a*a) + v*v/(b*b))
		if q < 1e-9 {
			return -min(a, b), s.p0
		}
		g := math.Sqrt(u*u/(a*a*a*a)+v*v/(b*b*b*b)) / q // |grad q|
		return (q - 1) / g, s.p0 + u
	case shapeBlob:
		dx, dy := x-s.ax, y-s.ay
		d := math.Sqrt(dx*dx + dy*dy)
		if d == 0 {
			return -s.r0, s.p0
		}
		// cos(k th + phs) for k = 2..5 from powers of e^(i th)
		c1, s1 := dx/d, dy/d
		ck, sk := c1*c1-s1*s1, 2*c1*s1
		r := 1.0
		for k, h := range s.harm {
			if k > 0 {
				ck, sk = ck*c1-sk*s1, sk*c1+ck*s1
			}
			if h != 0 {
				r += h * (ck*s.pc[k] - sk*s.ps[k])
			}
		}
		return d - s.r0*r, s.p0
	}
	return math.Inf(1), 0
}

// material is what an object is made of: how much phase (optical path, as a fraction of
// the background it darkens in the phase look) and absorbance per colour channel it has
// at full coverage, and how that varies inside it.
type material struct {
	phase  float32
	od     [3]float32 // R, G, B (grey looks use od[0])
	rim    float32    // extra density at the outline: cell walls
	rimW   float32    // the rim's width, px
	tex    float32    // granular texture, fraction
	period float32    // cross walls every period px along the skeleton (filaments); 0 none
	wall   float32    // the cross walls' extra density, fraction
	seed   uint32     // texture seed
}

// canvas holds a field's maps while its objects are drawn.
type canvas struct {
	w, h    int
	colour  bool
	phase   []float32    // optical path (phase look)
	od      [3][]float32 // absorbance of R, G, B; od[1], od[2] nil unless colour
	occ     []uint8      // 1 where an object's core is
	sd      []float32    // scratch: the object's signed distance (inf32 untouched)
	par     []float32    // scratch: skeleton parameter there
	touched []int32      // scratch: pixels with sd set
	tmp     []float32    // blur scratch
}

func newCanvas(w, h int, colour bool) *canvas {
	n := w * h
	c := &canvas{w: w, h: h, colour: colour, phase: make([]float32, n), occ: make([]uint8, n),
		sd: make([]float32, n), par: make([]float32, n)}
	c.od[0] = make([]float32, n)
	if colour {
		c.od[1], c.od[2] = make([]float32, n), make([]float32, n)
	}
	for i := range c.sd {
		c.sd[i] = inf32
	}
	return c
}

// clear empties the maps for the next field.
func (c *canvas) clear() {
	clear(c.phase)
	clear(c.occ)
	for _, m := range c.od {
		clear(m)
	}
}

// eval puts the union of shapes, moved by (dx, dy), into the scratch buffers, out to pad
// px outside the outline.
func (c *canvas) eval(shapes []shape, dx, dy, pad float64) {
	frame := image.Rect(0, 0, c.w, c.h)
	for si := range shapes {
		s := &shapes[si]
		if !s.prepared {
			s.prepare()
		}
		r := s.bounds(dx, dy, pad).Intersect(frame)
		for y := r.Min.Y; y < r.Max.Y; y++ {
			fy := float64(y) + 0.5 - dy
			row := y * c.w
			for x := r.Min.X; x < r.Max.X; x++ {
				d, p := s.sdf(float64(x)+0.5-dx, fy)
				if d > pad {
					continue
				}
				i := row + x
				old := c.sd[i]
				if old == inf32 {
					c.touched = append(c.touched, int32(i))
				}
				if float32(d) < old {
					c.sd[i], c.par[i] = float32(d), float32(p)
				}
			}
		}
	}
}

// collides reports whether the evaluated object comes within gap px of an object already
// committed (with occupancy).
func (c *canvas) collides(gap float64) bool {
	g := float32(gap)
	for _, i := range c.touched {
		if c.sd[i] < g && c.occ[i] != 0 {
			return true
		}
	}
	return false
}

// covers reports whether the evaluated object's core lies within r.
func (c *canvas) covers(r image.Rectangle) bool {
	for _, i := range c.touched {
		if c.sd[i] < 0.5 {
			x, y := int(i)%c.w, int(i)/c.w
			if !(image.Point{x, y}).In(r) {
				return false
			}
		}
	}
	return true
}

// reserve marks the evaluated shapes' inside as occupied without drawing anything (a
// colony's outline, a debris cloud's patch: no other object goes there) and forgets
// them.
func (c *canvas) reserve() {
	for _, i := range c.touched {
		if c.sd[i] < 0.5 {
			c.occ[i] = 1
		}
		c.sd[i] = inf32
	}
	c.touched = c.touched[:0]
}

// discard forgets the evaluated object.
func (c *canvas) discard() {
	for _, i := range c.touched {
		c.sd[i] = inf32
	}
	c.touched = c.touched[:0]
}

// commit draws the evaluated object with material m, marks its core as occupied and
// returns its truth box (pixels of coverage at least 1/2) and how many pixels it covers.
func (c *canvas) commit(m *material) (image.Rectangle, int) {
	var box image.Rectangle
	n := 0
	for _, i := range c.touched {
		d := c.sd[i]
		c.sd[i] = inf32
		cov := min(1, 0.5-d)
		if cov <= 0 {
			continue
		}
		a := cov
		if m.rim != 0 {
			a *= 1 + m.rim*float32(math.Exp(float64(min(0, d)/m.rimW)))
		}
		if m.tex != 0 {
			a *= 1 + m.tex*hashNoise(uint32(i), m.seed)
		}
		if m.period > 0 {
			p := c.par[i] / m.period
			f := p - float32(math.Floor(float64(p))) // 0..1 within a cell, walls at 0 and 1
			w := min(f, 1-f) * m.period              // px from the nearest wall
			a *= 1 + m.wall*float32(math.Exp(float64(-w*w/0.8)))
		}
		c.phase[i] += a * m.phase
		c.od[0][i] += a * m.od[0]
		if c.colour {
			c.od[1][i] += a * m.od[1]
			c.od[2][i] += a * m.od[2]
		}
		c.occ[i] = 1
		if cov >= 0.5 {
			x, y := int(i)%c.w, int(i)/c.w
			p := image.Rect(x, y, x+1, y+1)
			if n == 0 {
				box = p
			} else {
				box = box.Union(p)
			}
			n++
		}
	}
	c.touched = c.touched[:0]
	return box, n
}

// freeRect reports whether r is free of committed objects.
func (c *canvas) freeRect(r image.Rectangle) bool {
	r = r.Intersect(image.Rect(0, 0, c.w, c.h))
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for _, v := range c.occ[y*c.w+r.Min.X : y*c.w+r.Max.X] {
			if v != 0 {
				return false
			}
		}
	}
	return true
}

// stampCrop draws an NDSB crop (dark object on white) at `at`: its darkness 1 - v/255
// times phase and od or, with trans, its own transmission v/255 as an absorbance in every
// channel (what the brightfield look multiplies in); it marks the visible pixels as
// occupied.
func (c *canvas) stampCrop(img *image.Gray, at image.Point, phase float32, od [3]float32, trans bool) {
	b := img.Rect
	for y := 0; y < b.Dy(); y++ {
		fy := at.Y + y
		if fy < 0 || fy >= c.h {
			continue
		}
		for x, v := range img.Pix[y*img.Stride : y*img.Stride+b.Dx()] {
			fx := at.X + x
			if fx < 0 || fx >= c.w || v == 255 {
				continue
			}
			d := 1 - float32(v)/255
			i := fy*c.w + fx
			if trans {
				a := float32(-math.Log(max(1, float64(v)) / 255))
				od = [3]float32{a, a, a}
				d = 1
			}
			c.phase[i] += d * phase
			c.od[0][i] += d * od[0]
			if c.colour {
				c.od[1][i] += d * od[1]
				c.od[2][i] += d * od[2]
			}
			if float32(v) <= 255*(1-VisibleContrast) {
				c.occ[i] = 1
			}
		}
	}
}

// hashNoise is a deterministic value in -1..1 for pixel i and a seed.
func hashNoise(i, seed uint32) float32 {
	h := i*0x9e3779b1 ^ seed*0x85ebca6b
	h ^= h >> 16
	h *= 0x7feb352d
	h ^= h >> 15
	h *= 0x846ca68b
	h ^= h >> 16
	return float32(h)/float32(math.MaxUint32)*2 - 1
}

// gaussSparse blurs src (w x h) with the separable kernel k into dst, replicating the
// edge pixels like blurWith, but only near what is not zero: each row is cut into runs
// of non-zero pixels (runs closer than the kernel merged), the horizontal pass covers
// the runs and their margins, and the vertical pass adds only those. tmp is scratch the
// size of src (only the runs are read back, so it need not be clean); dst must not be
// src.
func gaussSparse(dst, src, tmp []float32, w, h int, k []float32) {
	if k == nil {
		copy(dst, src)
		return
	}
	r := len(k) / 2
	type run struct{ lo, hi int32 }
	var runs []run
	first := make([]int32, h+1) // runs of row y: runs[first[y]:first[y+1]]
	for y := 0; y < h; y++ {
		first[y] = int32(len(runs))
		row, out := src[y*w:(y+1)*w], tmp[y*w:(y+1)*w]
		start := len(runs)
		for x := 0; x < w; x++ {
			if row[x] == 0 {
				continue
			}
			lo := x
			for x < w && row[x] != 0 {
				x++
			}
			a, b := max(0, lo-r), min(w, x+r)
			if lo == 0 {
				a = 0
			}
			if n := len(runs); n > start && int(runs[n-1].hi) >= a {
				runs[n-1].hi = int32(b)
			} else {
				runs = append(runs, run{int32(a), int32(b)})
			}
		}
		for _, rn := range runs[start:] {
			for x := int(rn.lo); x < int(rn.hi); x++ {
				var s float32
				if x-r >= 0 && x+r < w {
					win := row[x-r : x+r+1]
					for i, kv := range k {
						s += kv * win[i]
					}
				} else {
					for i, kv := range k {
						s += kv * row[min(w-1, max(0, x+i-r))]
					}
				}
				out[x] = s
			}
		}
	}
	first[h] = int32(len(runs))
	for y := 0; y < h; y++ {
		out := dst[y*w : (y+1)*w]
		clear(out)
		for i, kv := range k {
			yy := min(h-1, max(0, y+i-r))
			for _, rn := range runs[first[yy]:first[yy+1]] {
				in := tmp[yy*w+int(rn.lo) : yy*w+int(rn.hi)]
				o := out[rn.lo:rn.hi]
				for x, v := range in {
					o[x] += kv * v
				}
			}
		}
	}
}
