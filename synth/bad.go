package synth

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
)

// Frames no segmenter should choke on: each is a plain function of its size (and seed),
// so a test can feed them to a segmenter directly. None holds a countable cell except the
// defocused frame, whose field's truth says what an in-focus frame would show.

// BlackFrame is all black: a capped lens or a dead lamp.
func BlackFrame(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 255
	}
	return img
}

// SaturatedFrame is all 255: the lamp far too bright for the exposure.
func SaturatedFrame(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	return img
}

// NoiseFrame is pure noise: every channel of every pixel uniform in 0..255 (a broken
// camera link).
func NoiseFrame(w, h int, seed uint64) *image.RGBA {
	rng := rand.New(rand.NewPCG(seed, 0xbad0_0001))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		v := rng.Uint32()
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = uint8(v), uint8(v>>8), uint8(v>>16), 255
	}
	return img
}

// plainField returns the light of a clean brightfield background (centre 205, mild
// vignette) and a noise source for it.
func plainField(w, h int, seed uint64) ([]float32, *rand.Rand) {
	light := make([]float32, w*h)
	fw, fh := float64(w), float64(h)
	r2max := (fw*fw + fh*fh) / 4
	for y := range h {
		for x := range w {
			dx, dy := float64(x)+0.5-fw/2, float64(y)+0.5-fh/2
			light[y*w+x] = float32(205 * (1 - 0.2*(dx*dx+dy*dy)/r2max))
		}
	}
	return light, rand.New(rand.NewPCG(seed, 0xbad0_0002))
}

// greyFrame renders light times trans with noise of 2 gray levels, R = G = B.
func greyFrame(w, h int, light, trans []float32, rng *rand.Rand) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i, l := range light {
		v := float64(l)
		if trans != nil {
			v *= float64(trans[i])
		}
		q := quantize(v + 2*rng.NormFloat64())
		img.Pix[4*i], img.Pix[4*i+1], img.Pix[4*i+2], img.Pix[4*i+3] = q, q, q, 255
	}
	return img
}

// DebrisFrame is a frame covered edge to edge with touching debris particles (a sample
// choked with sediment): irregular particles on a 12 px grid, each wide enough to touch
// or overlap its neighbours, of varied darkness, on a brightfield background.
func DebrisFrame(w, h int, seed uint64) *image.RGBA {
	light, rng := plainField(w, h, seed)
	g := &Generator{rng: rand.New(rand.NewPCG(seed, 0xbad0_0003))}
	c := newCanvas(w, h, false)
	const step = 12.0
	for y := -step / 2; y < float64(h)+step; y += step {
		for x := -step / 2; x < float64(w)+step; x += step {
			b := g.newBlob(g.uni(0.6, 0.85)*step, 0.3)
			m := material{od: [3]float32{float32(g.uni(0.25, 1.2))}, tex: 0.3, seed: uint32(g.rng.Uint64())}
			c.eval([]shape{b}, x+g.uni(-3, 3), y+g.uni(-3, 3), 0)
			c.commit(&m)
		}
	}
	trans := make([]float32, w*h)
	for i, a := range c.od[0] {
		trans[i] = float32(math.Exp(-float64(a)))
	}
	g.blurWith(trans, w, h, gaussKernel(0.8))
	return greyFrame(w, h, light, trans, rng)
}

// LineFrame is a clean brightfield frame crossed by one dark line exactly one pixel wide
// (a hair, a scratch, a bad sensor row) from the left edge to the right edge, not blurred.
func LineFrame(w, h int, seed uint64) *image.RGBA {
	light, rng := plainField(w, h, seed)
	trans := make([]float32, w*h)
	for i := range trans {
		trans[i] = 1
	}
	y0, y1 := rng.IntN(h), rng.IntN(h)
	// Bresenham from (0, y0) to (w-1, y1): one pixel per column, or per row where steeper.
	dx, dy := w-1, abs(y1-y0)
	sy := 1
	if y1 < y0 {
		sy = -1
	}
	err := dx - dy
	x, y := 0, y0
	for {
		trans[y*w+x] = 0.3
		if x == w-1 && y == y1 {
			break
		}
		e2 := 2 * err
		if e2 > -dy {
			err -= dy
			x++
		}
		if e2 < dx {
			err += dx
			y += sy
		}
	}
	return greyFrame(w, h, light, trans, rng)
}

// DefocusedFrame renders a frame of field f far out of focus: the field blurred by a
// Gaussian of sigma px on top of its optical blur (8 px is heavy at 1280x960: cells turn
// to faint smudges). The field's Cells are what the frame would hold in focus.
func (g *Generator) DefocusedFrame(f *Field, sigma float64) *image.RGBA {
	k := gaussKernel(sigma)
	d := *f
	blur := func(m []float32) []float32 {
		if m == nil {
			return nil
		}
		m = slices.Clone(m)
		g.blurWith(m, f.W, f.H, k)
		return m
	}
	d.trans = blur(f.trans)
	for c := range d.rgb {
		d.rgb[c] = blur(f.rgb[c])
	}
	return g.Render(&d)
}

// BadFrames are the names and images of the bad-input frames, in a fixed order.
func (g *Generator) BadFrames() ([]string, []*image.RGBA, *Field, error) {
	W, H, seed := g.opt.Width, g.opt.Height, g.opt.Seed
	f, err := g.NewField()
	if err != nil {
		return nil, nil, nil, err
	}
	names := []string{"black", "saturated", "noise", "debris", "line", "defocus", "focus"}
	imgs := []*image.RGBA{BlackFrame(W, H), SaturatedFrame(W, H), NoiseFrame(W, H, seed), DebrisFrame(W, H, seed),
		LineFrame(W, H, seed), g.DefocusedFrame(f, 8), g.Render(f)}
	return names, imgs, f, nil
}

// WriteBadFrames writes the bad-input frames into dir (black, saturated, noise, debris,
// line, and defocus beside focus, the same field in focus, with focus.json its truth) and
// returns the file names.
func (g *Generator) WriteBadFrames(dir, format string) ([]string, error) {
	if format != "png" && format != "jpg" {
		return nil, fmt.Errorf("image format %q: want png or jpg", format)
	}
	names, imgs, f, err := g.BadFrames()
	if err != nil {
		return nil, err
	}
	if err := mkdir(dir); err != nil {
		return nil, err
	}
	var files []string
	for i, n := range names {
		file := n + "." + format
		if err := writeImage(filepath.Join(dir, file), imgs[i], format); err != nil {
			return files, err
		}
		files = append(files, file)
	}
	t := g.truth(f, 0)
	t.File = "focus." + format
	return files, writeJSON(filepath.Join(dir, "focus.json"), t)
}
