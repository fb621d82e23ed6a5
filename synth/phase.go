package synth

import (
	"fmt"
	"image"
	"math"
	"slices"
	"strings"

	"github.com/disintegration/imaging"
	"github.com/phytoscreen/phytoscreen/imagefile"
)

// The phase-contrast look (LookPhase): a coastal net sample under a phase-contrast
// objective, on a monochrome camera.
//
// Optics. Every object has an optical path (its "phase", in fractions of the background
// light it takes away at the core) and, for dense or pigmented particles, an absorbance.
// The image is
//
//	I = L(x, y) * (1 - D) * exp(-A),  D = P - s G*P - b max(0, G*P - P)
//
// where P and A are the phase and absorbance maps after the optical blur (Options.Blur),
// G a Gaussian of sigma Options.Halo (2.5 px), s = shadeOff (0.5) and b = haloBoost (3).
// Inside an object D is positive: a dark core, (1-s) P in the middle of a large object
// and darker towards its rim (shade-off). Outside it D = -(s+b) G*P: a ring brighter than
// the background, a few px wide, fading out: the halo. D is continuous, so the edge
// between core and halo is as sharp as the optics make P. L is a mid-grey background (125)
// with mild vignetting, a tilt and a few broad brighter and darker patches (uneven
// illumination, +-4%). Then sensor noise, one sample per pixel (a monochrome camera).
//
// Objects, at 2584x1936 (counts scale with the frame's area and Options.Density):
//   - debris: ~70 irregular particles 5-19 px, some dark and refractile, a few fibres and
//     larger fragments (label "debris", kind debris);
//   - ~3 debris clouds: 12-35 small particles each, 1.5-3 px apart, within a 35-90 px
//     patch; every particle is its own truth object, with Group the cloud's number;
//   - ~14 pennate needles (Pseudo-nitzschia look): 60-150 px long, 4-6 px wide, tapered
//     ends, often diagonal, half slightly bent, faint (phase 0.09-0.14: see
//     docs/segmentation-examples/README.md for the contrast against the noise); ~8 alone,
//     two pairs crossing each other, two touching a debris particle at a tip or side
//     (label "needle", kind cell);
//   - ~3 filaments (label "filament"): 4-7 px wide, 250-2000 px long, uniform, gently
//     curved, half entering from an edge; faint cross walls; NCells counts the cells whose
//     centre is in the frame;
//   - ~4 diatom chains (label "chain"): 3-10 elliptic cells joined by narrow necks;
//   - ~4 colonies (label "colony", Microcystis look): tens to hundreds of round cells of
//     radius 2-4 px packed with gaps and holes, one truth object each, NCells the cells;
//   - ~8 round or oval single cells 10-26 px (label "cell");
//   - ~5 real NDSB organisms (their NDSB label, kind cell or, for detritus, debris): the
//     crop's darkness used as phase and absorbance, so they get halos too; Options.Mix
//     adds its classes to every field (at Options.Scale; a chain or colony class with
//     NCells 0: nobody counted its cells). Options.Cells is not used.
//
// All objects except filaments, crossing needles and needle-debris contacts keep a gap
// from each other (4 px, 1.5-3 px within a cloud), and nothing else is put inside a
// colony's outline or a cloud's patch. At most 200 objects: the single debris stop
// there. Truth boxes are the object's outline (pixels at least half covered; for NDSB
// crops the VisibleContrast rule), not its halo.

// shadeOff is the share of the spread phase taken from an object's core (its middle is
// lighter than its rim), and shadeOff + haloBoost the share that comes back as the bright
// halo around it (see the model above).
const (
	shadeOff  = 0.5
	haloBoost = 3.0
)

// needlePhase is the range of a needle's phase: faint (see TestNeedleContrast).
var needlePhase = [2]float64{0.09, 0.14}

// phaseRef is the frame area the phase look's counts are given for.
const phaseRef = 2584 * 1936

// initPhase prepares the phase look: background, canvas, halo kernel and the NDSB
// samples drawn as organisms.
func (g *Generator) initPhase() error {
	o := g.opt
	W, H := o.Width, o.Height
	g.illum = make([]float32, W*H)
	// Broad patches of uneven illumination, separable Gaussians.
	type patch struct {
		amp    float64
		gx, gy []float64
	}
	var patches []patch
	for range 4 {
		p := patch{amp: g.uni(-0.04, 0.04), gx: make([]float64, W), gy: make([]float64, H)}
		cx, cy := g.uni(0, float64(W)), g.uni(0, float64(H))
		sx, sy := g.uni(0.15, 0.4)*float64(W), g.uni(0.15, 0.4)*float64(H)
		for x := range W {
			d := (float64(x) - cx) / sx
			p.gx[x] = math.Exp(-d * d / 2)
		}
		for y := range H {
			d := (float64(y) - cy) / sy
			p.gy[y] = math.Exp(-d * d / 2)
		}
		patches = append(patches, p)
	}
	w, h := float64(W), float64(H)
	cx, cy, r2max := w/2, h/2, (w*w+h*h)/4
	for y := 0; y < H; y++ {
		for x := 0; x < W; x++ {
			dx, dy := float64(x)+0.5-cx, float64(y)+0.5-cy
			v := o.Light * (1 - o.Vignette*(dx*dx+dy*dy)/r2max) * (1 + o.Tilt*((float64(x)+0.5)/w-0.5))
			u := 1.0
			for _, p := range patches {
				u += p.amp * p.gx[x] * p.gy[y]
			}
			g.illum[y*W+x] = float32(v * u)
		}
	}
	g.phaseK = gaussKernel(o.Halo)
	g.canvas = newCanvas(W, H, false)
	g.canvas.tmp = make([]float32, W*H)
	for i, s := range g.lib.samples {
		if k := ndsbKind(s.Label); k != "" {
			g.cellPool = append(g.cellPool, i)
		}
	}
	return nil
}

// ndsbKind is the kind of object an NDSB class is, or "" for classes not drawn as single
// objects in the procedural looks (chains and colonies, whose cells nobody counted, and
// the unclassified).
func ndsbKind(label string) Kind {
	switch {
	case strings.HasPrefix(label, "detritus") || strings.HasPrefix(label, "artifacts") || label == "fecal_pellet":
		return KindDebris
	case strings.Contains(label, "chain") || strings.Contains(label, "colony") || strings.HasPrefix(label, "trichodesmium") ||
		strings.HasPrefix(label, "unknown") || strings.Contains(label, "siphonophore"):
		return ""
	}
	return KindCell
}

// fieldBuild collects a procedural field's truth as its objects are committed.
type fieldBuild struct {
	g     *Generator
	c     *canvas
	f     *Field
	frame image.Rectangle
}

// add commits the evaluated object with material m and records its truth. An object
// whose core fell entirely outside the frame is dropped.
func (b *fieldBuild) add(m material, label string, kind Kind, ncells, group int) *Cell {
	m.seed = uint32(b.g.rng.Uint64())
	box, n := b.c.commit(&m)
	if n == 0 {
		return nil
	}
	c := Cell{ID: b.g.nextID, Label: label, Field: b.f.Index, Box: boxOf(box), Kind: kind, NCells: ncells, Group: group}
	c.Border = box.Min.X == 0 || box.Min.Y == 0 || box.Max.X == b.frame.Max.X || box.Max.Y == b.frame.Max.Y
	b.g.nextID++
	b.f.Cells = append(b.f.Cells, c)
	return &b.f.Cells[len(b.f.Cells)-1]
}

// beginField clears the canvas and starts the next field of the frame's size.
func (g *Generator) beginField() *fieldBuild {
	W, H := g.opt.Width, g.opt.Height
	g.canvas.clear()
	f := &Field{Index: g.nextFld, W: W, H: H}
	g.nextFld++
	return &fieldBuild{g: g, c: g.canvas, f: f, frame: image.Rect(0, 0, W, H)}
}

// newPhaseField draws one dense phase-contrast field.
func (g *Generator) newPhaseField() (*Field, error) {
	W, H := g.opt.Width, g.opt.Height
	b := g.beginField()
	c, f := b.c, b.f
	s := float64(W*H) / phaseRef * g.opt.Density
	inner := b.frame.Inset(g.opt.Margin)
	const gap = 4
	const maxObjects = 200

	// Filaments first: they may cross each other and run off the frame.
	for range g.poisson(3 * s) {
		for try := 0; try < 20; try++ {
			fl := g.newFilament(W, H)
			if n := fl.cellsIn(b.frame); n < 12 {
				continue // hardly in the frame
			}
			c.eval(fl.shapes(), 0, 0, 0)
			m := material{phase: float32(g.uni(0.4, 0.55)), od: [3]float32{float32(g.uni(0.02, 0.06))}, tex: 0.1,
				period: float32(fl.cellLen), wall: 0.3}
			b.add(m, "filament", KindFilament, fl.cellsIn(b.frame), 0)
			break
		}
	}
	// Colonies.
	for range g.poisson(4 * s) {
		cells, n, outline := g.newColony(18, 70)
		if n < 10 {
			continue
		}
		if dx, dy, ok := g.placeShapes(c, cells, inner, gap, 40); ok {
			m := material{phase: float32(g.uni(0.5, 0.8)), od: [3]float32{float32(g.uni(0.02, 0.08))}, rim: 0.3, rimW: 1, tex: 0.15}
			b.add(m, "colony", KindColony, n, 0)
			c.eval([]shape{outline}, dx, dy, 0) // its holes and gaps are the colony's
			c.reserve()
		}
	}
	// Real organisms from the library: the Mix in every field, then larger cells with
	// their own texture.
	for _, m := range g.opt.Mix {
		for _, i := range g.draw(g.lib.byLabel[m.Label], m.N) {
			g.placeCrop(b, i, g.opt.Scale, inner, gap)
		}
	}
	for range g.poisson(5 * s) {
		if len(g.cellPool) == 0 {
			break
		}
		g.placeCrop(b, g.cellPool[g.rng.IntN(len(g.cellPool))], g.uni(0.8, 1.3), inner, gap)
	}
	// Diatom chains.
	for range g.poisson(4 * s) {
		sh, n := g.newChain(1)
		if _, _, ok := g.placeShapes(c, sh, inner, gap, 40); ok {
			m := material{phase: float32(g.uni(0.45, 0.65)), od: [3]float32{0.04}, rim: 0.6, rimW: 1.2, tex: 0.25}
			b.add(m, "chain", KindChain, n, 0)
		}
	}
	// Round and oval single cells.
	for range g.poisson(8 * s) {
		a := g.uni(5, 13)
		sh := []shape{{kind: shapeEllipse, r0: a, r1: a * g.uni(0.6, 1), ang: g.uni(0, math.Pi)}}
		if _, _, ok := g.placeShapes(c, sh, inner, gap, 40); ok {
			m := material{phase: float32(g.uni(0.5, 0.8)), od: [3]float32{float32(g.uni(0, 0.06))}, rim: 0.5, rimW: 1.5, tex: 0.3}
			b.add(m, "cell", KindCell, 0, 0)
		}
	}
	// Needles: single, crossing pairs and needles touching a debris particle.
	needleMat := func() material {
		return material{phase: float32(g.uni(needlePhase[0], needlePhase[1])), tex: 0.05}
	}
	for range g.poisson(8 * s) {
		n := g.newNeedle()
		if _, _, ok := g.placeShapes(c, n.shapes(), inner, gap, 40); ok {
			b.add(needleMat(), "needle", KindCell, 0, 0)
		}
	}
	for range g.poisson(2 * s) { // crossing pairs
		n1, n2 := g.newNeedle(), g.newNeedle()
		x, y, _, _ := n1.at(g.uni(0.3, 0.7))
		a := math.Atan2(n1.uy, n1.ux) + (float64(g.rng.IntN(2))*2-1)*g.uni(0.4, 1.2)
		n2.ux, n2.uy, n2.sag = math.Cos(a), math.Sin(a), 0
		t := g.uni(0.3, 0.7)
		n2.cx, n2.cy = x-(t-0.5)*n2.L*n2.ux, y-(t-0.5)*n2.L*n2.uy
		s1, s2 := n1.shapes(), n2.shapes()
		dx, dy, ok := g.placeShapes(c, append(slices.Clone(s1), s2...), inner, gap, 40)
		if !ok {
			continue
		}
		c.discard()
		c.eval(s1, dx, dy, 0)
		b.add(needleMat(), "needle", KindCell, 0, 0)
		c.eval(s2, dx, dy, 0)
		b.add(needleMat(), "needle", KindCell, 0, 0)
	}
	for range g.poisson(2 * s) { // a needle touching a debris particle
		n := g.newNeedle()
		d := g.newBlob(g.uni(3, 7), 0.3)
		var x, y, nx, ny float64
		if g.rng.IntN(2) == 0 { // at its side
			x, y, nx, ny = n.at(g.uni(0.25, 0.75))
			side := float64(g.rng.IntN(2)*2 - 1)
			d.ax, d.ay = x+side*nx*(n.hw+d.r0*0.85), y+side*ny*(n.hw+d.r0*0.85)
		} else { // at its tip
			t := float64(g.rng.IntN(2))
			x, y, _, _ = n.at(t)
			d.ax, d.ay = x+(2*t-1)*n.ux*d.r0*0.8, y+(2*t-1)*n.uy*d.r0*0.8
		}
		sn := n.shapes()
		dx, dy, ok := g.placeShapes(c, append(slices.Clone(sn), d), inner, gap, 40)
		if !ok {
			continue
		}
		c.discard()
		c.eval(sn, dx, dy, 0)
		b.add(needleMat(), "needle", KindCell, 0, 0)
		c.eval([]shape{d}, dx, dy, 0)
		b.add(g.debrisMat(), "debris", KindDebris, 0, 0)
	}
	// Debris clouds: tens of small particles with gaps, each its own object.
	for cloud := 1; cloud <= g.poisson(3*s); cloud++ {
		R := g.uni(35, 90)
		area := []shape{{kind: shapeDisc, r0: R}}
		cx, cy, ok := g.placeShapes(c, area, inner, gap, 40)
		if !ok {
			continue
		}
		c.discard()
		placed := 0
		n := 12 + g.rng.IntN(24)
		cgap := g.uni(1.5, 3)
		for range n {
			if len(f.Cells) >= maxObjects {
				break
			}
			p := []shape{g.newBlob(g.uni(1.8, 4.5), 0.3)}
			for range 4 { // particles crowd towards the cloud's centre
				rr, a := R*math.Sqrt(g.rng.Float64())*g.uni(0.5, 1), g.uni(0, 2*math.Pi)
				c.eval(p, cx+rr*math.Cos(a), cy+rr*math.Sin(a), cgap)
				if c.collides(cgap) || !c.covers(inner) {
					c.discard()
					continue
				}
				if b.add(g.debrisMat(), "debris", KindDebris, 0, cloud) != nil {
					placed++
				}
				break
			}
		}
		if placed > 0 { // single debris stays out of the cloud
			c.eval(area, cx, cy, 0)
			c.reserve()
		}
	}
	// Single debris up to the object budget: mostly small particles, some fragments and
	// fibres.
	for range g.poisson(70 * s) {
		if len(f.Cells) >= maxObjects {
			break
		}
		var sh []shape
		switch u := g.rng.Float64(); {
		case u < 0.1:
			sh = g.newFibre()
		case u < 0.2:
			sh = []shape{g.newBlob(g.uni(8, 16), 0.45)}
		default:
			r := g.rng.Float64()
			sh = []shape{g.newBlob(2.5+7*r*r, 0.35)}
		}
		if _, _, ok := g.placeShapes(c, sh, inner, gap, 20); ok {
			b.add(g.debrisMat(), "debris", KindDebris, 0, 0)
		}
	}
	slices.SortFunc(f.Cells, func(a, b Cell) int { return a.ID - b.ID })
	f.trans = g.phaseImage()
	return f, nil
}

// debrisMat is a debris particle's material: a fair amount of phase, and for about a
// third of them a dark, refractile absorbance.
func (g *Generator) debrisMat() material {
	m := material{phase: float32(g.uni(0.35, 0.9)), tex: 0.3}
	if g.rng.Float64() < 0.35 {
		m.od[0] = float32(g.uni(0.25, 0.8))
	} else {
		m.od[0] = float32(g.uni(0, 0.08))
	}
	return m
}

// placeCrop puts NDSB sample i, scaled and turned, on the canvas (phase and absorbance
// from its darkness) where it keeps gap px from everything, and records it.
func (g *Generator) placeCrop(b *fieldBuild, i int, scale float64, area image.Rectangle, gap int) {
	s := g.lib.samples[i]
	var img image.Image = s.Img
	if scale != 1 {
		img = imaging.Resize(s.Img, max(1, int(float64(s.Img.Rect.Dx())*scale)), max(1, int(float64(s.Img.Rect.Dy())*scale)), imaging.CatmullRom)
	}
	if g.rng.IntN(2) == 1 {
		img = imaging.FlipH(img)
	}
	switch g.rng.IntN(4) {
	case 1:
		img = imaging.Rotate90(img)
	case 2:
		img = imaging.Rotate180(img)
	case 3:
		img = imaging.Rotate270(img)
	}
	gray := imagefile.ToGray(img)
	obj, n := visibleBox(gray)
	if n < MinVisiblePixels {
		return
	}
	for try := 0; try < 40; try++ {
		if obj.Dx() > area.Dx() || obj.Dy() > area.Dy() {
			return
		}
		at := image.Pt(area.Min.X-obj.Min.X+g.rng.IntN(area.Dx()-obj.Dx()+1), area.Min.Y-obj.Min.Y+g.rng.IntN(area.Dy()-obj.Dy()+1))
		if !b.c.freeRect(obj.Add(at).Inset(-gap)) {
			continue
		}
		kind := ndsbKind(s.Label)
		switch {
		case kind != "":
		case strings.Contains(s.Label, "chain"): // a Mix class: its cells are not counted (NCells 0)
			kind = KindChain
		case strings.Contains(s.Label, "colony") || strings.HasPrefix(s.Label, "trichodesmium"):
			kind = KindColony
		default:
			kind = KindCell
		}
		if b.c.colour {
			b.c.stampCrop(gray, at, 0, [3]float32{}, true) // brightfield: the crop's own transmission
		} else {
			b.c.stampCrop(gray, at, 0.8, [3]float32{0.25}, false)
		}
		c := Cell{ID: g.nextID, Label: s.Label, Sample: s.Path, Field: b.f.Index, Box: boxOf(obj.Add(at)), Kind: kind}
		if b.c.colour {
			c.Colour = "grey"
		}
		g.nextID++
		b.f.Cells = append(b.f.Cells, c)
		return
	}
}

// phaseImage turns the canvas into the field's modulation of the background light.
func (g *Generator) phaseImage() []float32 {
	c := g.canvas
	W, H := c.w, c.h
	pb := g.buf(0, W*H)
	hb := g.buf(1, W*H)
	gaussSparse(pb, c.phase, c.tmp, W, H, g.kernel) // optical blur
	gaussSparse(hb, pb, c.tmp, W, H, g.phaseK)      // the halo's spread
	out := make([]float32, W*H)
	for i, p := range pb {
		g := hb[i]
		d := p - shadeOff*g
		if g > p {
			d -= haloBoost * (g - p)
		}
		out[i] = 1 - d
	}
	gaussSparse(pb, c.od[0], c.tmp, W, H, g.kernel)
	for i, a := range pb {
		if a != 0 {
			out[i] *= float32(math.Exp(-float64(a)))
		}
	}
	return out
}

// buf returns the generator's scratch buffer i of n floats.
func (g *Generator) buf(i, n int) []float32 {
	for len(g.bufs) <= i {
		g.bufs = append(g.bufs, nil)
	}
	if len(g.bufs[i]) != n {
		g.bufs[i] = make([]float32, n)
	}
	return g.bufs[i]
}

// renderMono renders a window of a modulation map as a monochrome camera does: one noise
// sample per pixel, the same in R, G and B.
func (g *Generator) renderMono(trans []float32, stride int, at image.Point, flicker float64) *image.RGBA {
	W, H := g.opt.Width, g.opt.Height
	img := image.NewRGBA(image.Rect(0, 0, W, H))
	nz := g.newNoise()
	fl := float32(flicker)
	for y := 0; y < H; y++ {
		tr := trans[(at.Y+y)*stride+at.X : (at.Y+y)*stride+at.X+W]
		illum := g.illum[y*W : (y+1)*W]
		pix := img.Pix[y*img.Stride : y*img.Stride+4*W]
		for x, t := range tr {
			light := illum[x] * t * fl
			q := quantize(float64(light + nz.sample(light)))
			p := pix[4*x : 4*x+4 : 4*x+4]
			p[0], p[1], p[2], p[3] = q, q, q, 255
		}
	}
	return img
}

// noise draws sensor noise for the newer looks fast: the standard deviation for a light
// level comes from a table (read noise plus shot noise, as in renderTrans), the normal
// deviates from a table of 4096 quantiles indexed by 12 bits at a time of the generator's
// stream (five per draw). The brightfield look keeps its own exact draws.
type noise struct {
	g    *Generator
	sd   []float32 // by light level 0..511
	bits uint64
	left int
}

var normTab = func() (t [4096]float32) {
	for i := range t {
		p := (float64(i) + 0.5) / float64(len(t))
		t[i] = float32(math.Sqrt2 * math.Erfinv(2*p-1))
	}
	return
}()

func (g *Generator) newNoise() *noise {
	n := &noise{g: g}
	if g.opt.Noise <= 0 {
		return n
	}
	if g.sdTab == nil {
		g.sdTab = make([]float32, 512)
		for i := range g.sdTab {
			g.sdTab[i] = float32(math.Sqrt(g.noiseVar[0] + g.noiseVar[1]*float64(i)))
		}
	}
	n.sd = g.sdTab
	return n
}

// sample returns a noise value for a pixel of the given light.
func (n *noise) sample(light float32) float32 {
	if n.sd == nil {
		return 0
	}
	if n.left == 0 {
		n.bits, n.left = n.g.rng.Uint64(), 5
	}
	z := normTab[n.bits&4095]
	n.bits >>= 12
	n.left--
	return z * n.sd[min(511, max(0, int(light)))]
}

// describeCounts summarises a field's truth by kind, for logs.
func describeCounts(cells []Cell) string {
	n := map[Kind]int{}
	for _, c := range cells {
		n[c.KindOf()]++
	}
	var parts []string
	for _, k := range []Kind{KindCell, KindColony, KindFilament, KindChain, KindDebris} {
		parts = append(parts, fmt.Sprintf("%d %s", n[k], k))
	}
	return fmt.Sprintf("%d objects (%s)", len(cells), strings.Join(parts, ", "))
}
