package synth

import (
	"image"
	"math"
	"slices"
)

// The colour look (LookColour): the bench camera's colour brightfield.
//
// Background. Each channel has its own vignette and a hot spot, fitted to the real bench
// frames of testdata/real-frames (their colour along the radius, from the centre to the
// corners): at the default light of 250 the centre is a slightly bluish white (245, 248,
// 250), a bright hot spot fading within about a third of the way to the edge, the rim
// magenta-purple (about 145, 125, 140 at the middle of the top edge) and the corners
// darker still (118, 100, 113): green falls off fastest, so the rim turns magenta.
// Options.Vignette scales the fall-off (0.45, the default, is the fit; -1 a flat field).
//
// Objects. Cells real NDSB crops (grey: their transmission in all three channels, label
// the NDSB class, Colour "grey"), then Green procedural objects in colour: green round
// cells (chlorophytes, Colour "green"), Microcystis-like colonies of yellow-green cells
// with dark outlines ("green"), olive cyanobacterial filaments ("olive") and green diatom
// chains ("green"); the absorbance of each channel is set per pigment (green: much red and
// blue, little green). Every field also holds a twin pair: a grey cell and a green cell of
// the same size and shape whose luma contrast (ITU-R 601, what Gray and a monochrome
// segmenter see) is the same, so only the colour tells the green one from the grey one
// on the chroma channels; their labels are "twin-grey" and "twin-green" (kind cell).
// Objects keep Options.Gap from each other; the truth boxes are the outlines (coverage
// at least 1/2; for crops the VisibleContrast rule).

// pigments: absorbance of R, G, B at strength 1.
var (
	pigGreen  = [3]float32{0.55, 0.14, 0.50}
	pigColony = [3]float32{0.38, 0.16, 0.62}
	pigOlive  = [3]float32{0.45, 0.30, 0.78}
)

// The colour background: fit(r2) = base (1 - 0.22 r2) + hot exp(-r2/0.12) per channel
// R, G, B, with r2 the squared distance from the centre (1 in the corners): a bright hot
// spot over a floor that falls off slowly; the gain is 1 - (1 - fit) Vignette/0.45.
var (
	bgBase = [3]float64{0.603, 0.513, 0.577}
	bgHot  = [3]float64{0.377, 0.477, 0.423}
)

// initColour prepares the colour look's background and canvas.
func (g *Generator) initColour() error {
	o := g.opt
	W, H := o.Width, o.Height
	w, h := float64(W), float64(H)
	cx, cy, r2max := w/2, h/2, (w*w+h*h)/4
	for c := range 3 {
		g.illumRGB[c] = make([]float32, W*H)
	}
	for y := 0; y < H; y++ {
		for x := 0; x < W; x++ {
			dx, dy := float64(x)+0.5-cx, float64(y)+0.5-cy
			r2 := (dx*dx + dy*dy) / r2max
			tilt := 1 + o.Tilt*((float64(x)+0.5)/w-0.5)
			spot := math.Exp(-r2 / 0.12)
			for c := range 3 {
				fit := bgBase[c]*(1-0.22*r2) + bgHot[c]*spot
				v := o.Light * max(0.05, 1-(1-fit)*o.Vignette/0.45) * tilt
				g.illumRGB[c][y*W+x] = float32(v)
			}
		}
	}
	g.canvas = newCanvas(W, H, true)
	g.canvas.tmp = make([]float32, W*H)
	for i, s := range g.lib.samples {
		if !g.mixSet[s.Label] && ndsbKind(s.Label) != "" {
			g.cellPool = append(g.cellPool, i)
		}
	}
	if o.Cells > 0 && len(g.cellPool) == 0 {
		return errNoPool
	}
	return nil
}

var errNoPool = errorString("no class is left for the random cells: the mix names every single-cell class; set cells to -1")

type errorString string

func (e errorString) Error() string { return string(e) }

// pigmented returns a material of pigment p at strength s.
func pigmented(p [3]float32, s float64) material {
	k := float32(s)
	return material{od: [3]float32{p[0] * k, p[1] * k, p[2] * k}}
}

// lumaT is the luma of a grey background seen through absorbances od (0..1).
func lumaT(od [3]float32) float64 {
	return 0.299*math.Exp(-float64(od[0])) + 0.587*math.Exp(-float64(od[1])) + 0.114*math.Exp(-float64(od[2]))
}

// newColourField draws one colour brightfield field.
func (g *Generator) newColourField() (*Field, error) {
	W, H := g.opt.Width, g.opt.Height
	b := g.beginField()
	c, f := b.c, b.f
	inner := b.frame.Inset(g.opt.Margin)
	gap := float64(g.opt.Gap)
	// The twin pair first, so it always fits.
	a := g.uni(7, 12)
	twin := []shape{{kind: shapeEllipse, r0: a, r1: a * g.uni(0.7, 0.95), ang: g.uni(0, math.Pi)}}
	green := pigmented(pigGreen, g.uni(0.5, 0.9))
	green.rim, green.rimW, green.tex = 0.4, 1.2, 0.3
	grey := green
	od := float32(-math.Log(lumaT(green.od)))
	grey.od = [3]float32{od, od, od}
	for _, t := range []struct {
		m      material
		label  string
		colour string
	}{{grey, "twin-grey", "grey"}, {green, "twin-green", "green"}} {
		if _, _, ok := g.placeShapes(c, twin, inner, gap, 100); ok {
			if cell := b.add(t.m, t.label, KindCell, 0, 0); cell != nil {
				cell.Colour = t.colour
			}
		}
	}
	// Grey NDSB crops: the mix, then random ones.
	var picks []int
	for _, m := range g.opt.Mix {
		picks = append(picks, g.draw(g.lib.byLabel[m.Label], m.N)...)
	}
	if g.opt.Cells > 0 {
		picks = append(picks, g.draw(g.cellPool, g.opt.Cells)...)
	}
	for _, i := range picks {
		g.placeCrop(b, i, g.opt.Scale, inner, int(gap))
	}
	// Green and olive procedural objects.
	for range g.opt.Green {
		var sh []shape
		var m material
		var label, col string
		var kind Kind
		var outline []shape
		n := 0
		switch u := g.rng.Float64(); {
		case u < 0.35:
			a := g.uni(6, 14)
			sh = []shape{{kind: shapeEllipse, r0: a, r1: a * g.uni(0.65, 1), ang: g.uni(0, math.Pi)}}
			m = pigmented(pigGreen, g.uni(0.6, 1.2))
			m.rim, m.rimW, m.tex = 0.9, 1, 0.45
			label, kind, col = "cell", KindCell, "green"
		case u < 0.65:
			var o shape
			sh, n, o = g.newColony(16, 45)
			outline = []shape{o}
			m = pigmented(pigColony, g.uni(0.7, 1.2))
			m.rim, m.rimW, m.tex = 2.2, 0.7, 0.15
			label, kind, col = "colony", KindColony, "green"
		case u < 0.85:
			sh, n = g.newChain(1)
			m = pigmented(pigGreen, g.uni(0.3, 0.6))
			m.rim, m.rimW, m.tex = 0.8, 1, 0.25
			label, kind, col = "chain", KindChain, "green"
		default:
			fl := g.newFilament(W, H)
			// a filament's truth counts its cells in the frame: keep it inside
			fl = clampFilament(fl, inner)
			if len(fl.pts) < 20 {
				continue
			}
			sh = fl.shapes()
			m = pigmented(pigOlive, g.uni(0.4, 0.8))
			m.tex, m.period, m.wall = 0.1, float32(fl.cellLen), 0.35
			label, kind, col = "filament", KindFilament, "olive"
			c.eval(sh, 0, 0, gap)
			if c.collides(gap) {
				c.discard()
				continue
			}
			if cell := b.add(m, label, kind, fl.cellsIn(b.frame), 0); cell != nil {
				cell.Colour = col
			}
			continue
		}
		if kind == KindColony && n < 10 {
			continue
		}
		if dx, dy, ok := g.placeShapes(c, sh, inner, gap, 40); ok {
			if cell := b.add(m, label, kind, n, 0); cell != nil {
				cell.Colour = col
			}
			if outline != nil {
				c.eval(outline, dx, dy, 0)
				c.reserve()
			}
		}
	}
	slices.SortFunc(f.Cells, func(a, b Cell) int { return a.ID - b.ID })
	for ch := range 3 {
		t := make([]float32, W*H)
		for i, a := range c.od[ch] {
			t[i] = 1
			if a != 0 {
				t[i] = float32(math.Exp(-float64(a)))
			}
		}
		g.blur(t, W, H)
		f.rgb[ch] = t
	}
	return f, nil
}

// clampFilament keeps the part of a filament's walk from its first point inside r to
// the first point after that outside it.
func clampFilament(f filament, r image.Rectangle) filament {
	in := func(p [2]float64) bool {
		return p[0] >= float64(r.Min.X)+f.hw+1 && p[0] < float64(r.Max.X)-f.hw-1 && p[1] >= float64(r.Min.Y)+f.hw+1 && p[1] < float64(r.Max.Y)-f.hw-1
	}
	start := slices.IndexFunc(f.pts, in)
	if start < 0 {
		f.pts = nil
		return f
	}
	end := start
	for end < len(f.pts) && in(f.pts[end]) {
		end++
	}
	f.pts = f.pts[start:end]
	return f
}

// renderRGB renders a window of a colour field: each channel's background light times
// its transmission, lamp flicker, and noise per channel.
func (g *Generator) renderRGB(f *Field, at image.Point, flicker float64) *image.RGBA {
	W, H := g.opt.Width, g.opt.Height
	img := image.NewRGBA(image.Rect(0, 0, W, H))
	nz := g.newNoise()
	fl := float32(flicker)
	for y := 0; y < H; y++ {
		pix := img.Pix[y*img.Stride : y*img.Stride+4*W]
		off := (at.Y+y)*f.W + at.X
		for c := range 3 {
			tr := f.rgb[c][off : off+W]
			illum := g.illumRGB[c][y*W : (y+1)*W]
			for x, t := range tr {
				light := illum[x] * t * fl
				pix[4*x+c] = quantize(float64(light + nz.sample(light)))
			}
		}
		for x := range W {
			pix[4*x+3] = 255
		}
	}
	return img
}
