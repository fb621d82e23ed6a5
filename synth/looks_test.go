package synth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/phytoscreen/phytoscreen/assets"
)

// -examples DIR writes frames of every set into DIR to look at (go test ./synth/ -run
// TestExamples -args -examples /tmp/synth-examples).
var examplesDir = flag.String("examples", "", "write example frames of every set into this folder")

// phaseSize is the phase look's test frame: the full 2584x1936, or a quarter of it in
// -short runs (the race detector makes the full size slow).
func phaseSize() (int, int) {
	if testing.Short() {
		return 1292, 968
	}
	return 2584, 1936
}

// TestPhaseField: a dense phase-contrast field holds 50-200 objects of every kind, each
// box inside the frame; colonies, chains and filaments carry their cell counts; a
// colony is one object (no other object inside it); debris clouds are many objects.
func TestPhaseField(t *testing.T) {
	lib := library(t)
	W, H := phaseSize()
	g, err := New(lib, Options{Look: LookPhase, Width: W, Height: H, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	frame := image.Rect(0, 0, W, H)
	for k := 0; k < 2; k++ {
		f, err := g.NewField()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("field %d: %s", k, describeCounts(f.Cells))
		if min, max := 50*W*H/phaseRef, 200; len(f.Cells) < min || len(f.Cells) > max {
			t.Errorf("field %d: %d objects, want %d to %d", k, len(f.Cells), min, max)
		}
		kinds := map[Kind]int{}
		labels := map[string]int{}
		clouds := map[int]int{}
		for _, c := range f.Cells {
			kinds[c.KindOf()]++
			labels[c.Label]++
			r := c.Box.Rect()
			if r.Empty() || !r.In(frame) {
				t.Errorf("field %d: object %d (%s) box %v empty or outside the frame", k, c.ID, c.Label, r)
			}
			touches := r.Min.X == 0 || r.Min.Y == 0 || r.Max.X == W || r.Max.Y == H
			if c.Border != touches {
				t.Errorf("field %d: object %d (%s) box %v: border %v", k, c.ID, c.Label, r, c.Border)
			}
			switch c.KindOf() {
			case KindColony:
				if c.NCells < 10 || float64(c.NCells)*math.Pi*4 > float64(r.Dx()*r.Dy()) {
					t.Errorf("colony %d: %d cells in a %v box: want tens of cells of radius 2 px or more", c.ID, c.NCells, r)
				}
				// nothing else in its middle (the long box of a filament or a diagonal
				// needle may pass over it: the object itself keeps clear of the colony)
				core := r.Inset(min(r.Dx(), r.Dy()) / 4)
				for _, d := range f.Cells {
					if d.ID != c.ID && d.Kind != KindFilament && boxCentre(d.Box).In(core) {
						t.Errorf("colony %d (%v): object %d (%s, %v) inside it: a colony is one object", c.ID, r, d.ID, d.Label, d.Box)
					}
				}
			case KindChain:
				if c.NCells < 3 || c.NCells > 10 {
					t.Errorf("chain %d: %d cells, want 3-10", c.ID, c.NCells)
				}
			case KindFilament:
				if c.NCells < 12 {
					t.Errorf("filament %d: %d cells in the frame, want 12 or more", c.ID, c.NCells)
				}
			default:
				if c.NCells != 0 {
					t.Errorf("%s %d: ncells %d", c.Label, c.ID, c.NCells)
				}
			}
			if c.Group > 0 {
				clouds[c.Group]++
			}
		}
		for cl, n := range clouds {
			if n < 8 {
				t.Errorf("field %d: debris cloud %d has %d particles, want tens", k, cl, n)
			}
		}
		if !testing.Short() {
			for _, want := range []Kind{KindCell, KindColony, KindFilament, KindChain, KindDebris} {
				if kinds[want] == 0 {
					t.Errorf("field %d: no %s", k, want)
				}
			}
			if labels["needle"] < 5 || len(clouds) == 0 {
				t.Errorf("field %d: %d needles and %d debris clouds, want several needles and a cloud", k, labels["needle"], len(clouds))
			}
		}
	}
}

// TestPhaseHalo: the phase look's cells have a dark core and a ring brighter than the
// background around them, the mark of phase contrast; and the numbers behind the
// segmentation notes (contrast of each kind against the noise).
func TestPhaseHalo(t *testing.T) {
	lib := library(t)
	W, H := phaseSize()
	opt := Options{Look: LookPhase, Width: W, Height: H, Seed: 5, Noise: -1, Flicker: -1}
	g, err := New(lib, opt)
	if err != nil {
		t.Fatal(err)
	}
	f, err := g.NewField()
	if err != nil {
		t.Fatal(err)
	}
	img := Gray(g.Render(f))
	type stat struct{ core, halo []float64 }
	stats := map[string]*stat{}
	for _, c := range f.Cells {
		r := c.Box.Rect()
		if c.Border || c.Label == "needle" || c.Label == "filament" {
			continue // thin diagonal objects: their box is mostly background (see TestNeedleContrast)
		}
		bg := ringMedian(img, r, 12, 16)
		core := meanIn(img, r.Inset(max(1, min(r.Dx(), r.Dy())/3)))
		halo := ringMax(img, r, 1, 4)
		key := c.Label
		if c.Sample != "" {
			key = "ndsb"
		}
		if stats[key] == nil {
			stats[key] = &stat{}
		}
		stats[key].core = append(stats[key].core, bg-core)
		stats[key].halo = append(stats[key].halo, halo-bg)
	}
	for _, key := range []string{"cell", "colony", "chain", "debris", "ndsb"} {
		s := stats[key]
		if s == nil {
			continue
		}
		dc, dh := median(s.core), median(s.halo)
		t.Logf("%-7s %3d objects: core %5.1f gray levels below the background, halo %5.1f above (median, rendered without noise; the look's noise sigma is 3)", key, len(s.core), dc, dh)
		// colonies (cells and bright gaps) and chains (often diagonal in their box) are
		// only logged
		if (key == "cell" || key == "debris") && (dc < 8 || dh < 4) {
			t.Errorf("%s: core %.1f below and halo %.1f above the background: want a dark core and a bright halo", key, dc, dh)
		}
	}
}

// TestNeedleContrast measures how faint the needles are: one needle at a time on a flat
// field without noise, its core's darkening and its halo against the noise sigma of the
// phase look.
func TestNeedleContrast(t *testing.T) {
	lib := library(t)
	g, err := New(lib, Options{Look: LookPhase, Width: 400, Height: 400, Seed: 9, Noise: -1, Vignette: -1, Tilt: -1, Flicker: -1})
	if err != nil {
		t.Fatal(err)
	}
	sigma := 3.0 // the look's default noise at the background level
	light := float64(g.opt.Light)
	var cores, peaks, halos []float64
	for range 60 {
		c := g.canvas
		c.clear()
		n := g.newNeedle()
		c.eval(n.shapes(), 200, 200, 4)
		var core, ring []int
		for _, i := range c.touched {
			switch d := c.sd[i]; {
			case d < -0.5:
				core = append(core, int(i))
			case d > 1 && d < 3:
				ring = append(ring, int(i))
			}
		}
		m := material{phase: float32(g.uni(needlePhase[0], needlePhase[1])), tex: 0.05}
		c.commit(&m)
		tr := g.phaseImage()
		var sum, peak, hsum float64
		for _, i := range core {
			d := (1 - float64(tr[i])) * light
			sum += d
			peak = max(peak, d)
		}
		for _, i := range ring {
			hsum += (float64(tr[i]) - 1) * light
		}
		cores = append(cores, sum/float64(len(core)))
		peaks = append(peaks, peak)
		halos = append(halos, hsum/float64(len(ring)))
	}
	mc, mp, mh := median(cores), median(peaks), median(halos)
	t.Logf("needles: core %.1f gray levels below the background on average (%.1f at the darkest pixel), halo 1-3 px out %.1f above; background %.0f, noise sigma %.1f: core/sigma %.2f, halo/sigma %.2f",
		mc, mp, mh, light, sigma, mc/sigma, mh/sigma)
	if mc/sigma < 1 || mc/sigma > 6 {
		t.Errorf("needle core contrast %.1f = %.2f sigma: want faint, 1 to 6 sigma", mc, mc/sigma)
	}
}

func boxCentre(b Box) image.Point { return image.Pt(b.X+b.W/2, b.Y+b.H/2) }

func ringPixels(img *image.Gray, r image.Rectangle, from, to int) []float64 {
	var v []float64
	outer := r.Inset(-to).Intersect(img.Rect)
	inner := r.Inset(-from)
	for y := outer.Min.Y; y < outer.Max.Y; y++ {
		for x := outer.Min.X; x < outer.Max.X; x++ {
			if !(image.Point{x, y}).In(inner) {
				v = append(v, float64(img.GrayAt(x, y).Y))
			}
		}
	}
	return v
}

func ringMedian(img *image.Gray, r image.Rectangle, from, to int) float64 {
	return median(ringPixels(img, r, from, to))
}

// ringMax is the brightest side of the ring: the largest of the means of its four
// sides (a halo is all around; a neighbour's is on one side only, so the test uses the
// median over many objects).
func ringMax(img *image.Gray, r image.Rectangle, from, to int) float64 {
	best := 0.0
	for _, side := range []image.Rectangle{
		image.Rect(r.Min.X, r.Min.Y-to, r.Max.X, r.Min.Y-from+1), image.Rect(r.Min.X, r.Max.Y+from-1, r.Max.X, r.Max.Y+to),
		image.Rect(r.Min.X-to, r.Min.Y, r.Min.X-from+1, r.Max.Y), image.Rect(r.Max.X+from-1, r.Min.Y, r.Max.X+to, r.Max.Y),
	} {
		best = max(best, meanIn(img, side.Intersect(img.Rect)))
	}
	return best
}

func meanIn(img *image.Gray, r image.Rectangle) float64 {
	var s float64
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			s += float64(img.GrayAt(x, y).Y)
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return s / float64(n)
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	v = slices.Clone(v)
	slices.Sort(v)
	return v[len(v)/2]
}

// TestLooksReproducible: the same seed gives the same bytes and truth in every new set;
// another seed something else.
func TestLooksReproducible(t *testing.T) {
	lib := library(t)
	type run func(seed uint64) ([]byte, string)
	field := func(opt Options) run {
		return func(seed uint64) ([]byte, string) {
			opt.Seed = seed
			g, err := New(lib, opt)
			if err != nil {
				t.Fatal(err)
			}
			var pix []byte
			var truth []Cell
			fields := 2
			if testing.Short() {
				fields = 1
			}
			for range fields {
				f, err := g.NewField()
				if err != nil {
					t.Fatal(err)
				}
				pix = append(pix, g.Render(f).Pix...)
				truth = append(truth, f.Cells...)
			}
			js, _ := json.Marshal(truth)
			return pix, string(js)
		}
	}
	slide := func(so SlideOptions, opt Options) run {
		return func(seed uint64) ([]byte, string) {
			opt.Seed = seed
			g, err := New(lib, opt)
			if err != nil {
				t.Fatal(err)
			}
			s, err := g.NewSlide(so)
			if err != nil {
				t.Fatal(err)
			}
			var pix []byte
			for range s.Len() {
				img, _, err := s.Next()
				if err != nil {
					t.Fatal(err)
				}
				pix = append(pix, img.Pix...)
			}
			js, _ := json.Marshal(s.Truth())
			return pix, string(js)
		}
	}
	bad := func(seed uint64) ([]byte, string) {
		g, err := New(lib, Options{Width: 320, Height: 240, Cells: 3, Scale: 0.5, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		names, imgs, _, err := g.BadFrames()
		if err != nil {
			t.Fatal(err)
		}
		var pix []byte
		for _, img := range imgs {
			pix = append(pix, img.Pix...)
		}
		return pix, strings.Join(names, ",")
	}
	w, h, fields := 640, 480, 3
	if testing.Short() {
		w, h, fields = 400, 300, 2
	}
	cases := []struct {
		name string
		run  run
	}{
		{"phase", field(Options{Look: LookPhase, Width: w, Height: h, Density: 6})},
		{"colour", field(Options{Look: LookColour, Width: w, Height: h, Cells: 4, Scale: 0.5, Gap: 8, Green: 5})},
		{"slide", slide(SlideOptions{Fields: fields, Frames: 2, Drift: image.Pt(1, 0), Focus: [2]float64{0.3, 1.5}}, Options{Width: w, Height: h, Cells: 4, Scale: 0.5})},
		{"overlap", slide(SlideOptions{Fields: fields, Frames: 2, Overlap: 0.5}, Options{Width: w, Height: h, Cells: 8, Scale: 0.4, Gap: 4})},
		{"bad", bad},
	}
	for _, c := range cases {
		p1, t1 := c.run(42)
		p2, t2 := c.run(42)
		p3, t3 := c.run(43)
		if !bytes.Equal(p1, p2) || t1 != t2 {
			t.Errorf("%s: seed 42 twice gave different output", c.name)
		}
		if c.name != "bad" && (bytes.Equal(p1, p3) || t1 == t3) {
			t.Errorf("%s: seeds 42 and 43 gave the same output", c.name)
		}
		if c.name == "bad" && bytes.Equal(p1, p3) {
			t.Errorf("%s: seeds 42 and 43 gave the same frames", c.name)
		}
	}
}

// TestSlideDrift: a sparse slide of separate fields whose stage creeps and whose focus
// wanders: every frame says its field; within a field the same cells, each box moved by
// exactly the drift per frame and inside the frame; a stage move brings new cells only.
func TestSlideDrift(t *testing.T) {
	lib := library(t)
	drift := image.Pt(2, -1)
	const fields, per = 4, 3
	g, err := New(lib, Options{Width: 480, Height: 360, Cells: 8, Scale: 0.5, Gap: 8, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	s, err := g.NewSlide(SlideOptions{Fields: fields, Frames: per, Drift: drift, Focus: [2]float64{0.3, 1.5}})
	if err != nil {
		t.Fatal(err)
	}
	var prev FrameTruth
	seen := map[int]int{} // cell -> field
	for i := range s.Len() {
		_, ft, err := s.Next()
		if err != nil {
			t.Fatal(err)
		}
		if ft.Field != i/per || ft.Frame != i {
			t.Fatalf("frame %d: field %d, want %d", i, ft.Field, i/per)
		}
		if ft.Blur < 0.3 || ft.Blur > 1.5 {
			t.Errorf("frame %d: blur %g outside 0.3-1.5", i, ft.Blur)
		}
		if len(ft.Cells) != 8 {
			t.Errorf("frame %d: %d cells, want the field's 8", i, len(ft.Cells))
		}
		for _, c := range ft.Cells {
			if c.Border || !c.Box.Rect().In(image.Rect(0, 0, 480, 360)) {
				t.Errorf("frame %d: cell %d box %v leaves the frame", i, c.ID, c.Box)
			}
			if f, ok := seen[c.ID]; ok && f != ft.Field {
				t.Errorf("cell %d in fields %d and %d: separate fields share no cell", c.ID, f, ft.Field)
			}
			seen[c.ID] = ft.Field
		}
		if i%per > 0 {
			if len(prev.Cells) != len(ft.Cells) {
				t.Fatalf("frame %d: %d cells after %d", i, len(ft.Cells), len(prev.Cells))
			}
			for j, c := range ft.Cells {
				p := prev.Cells[j]
				if p.ID != c.ID || c.Box.Rect() != p.Box.Rect().Add(drift) {
					t.Errorf("frame %d: cell %d at %v after %v: want moved by the drift %v", i, c.ID, c.Box, p.Box, drift)
				}
			}
			if st := ft.Stage; st == nil || prev.Stage == nil || (Point{st.X - prev.Stage.X, st.Y - prev.Stage.Y}) != (Point{-drift.X, -drift.Y}) {
				t.Errorf("frame %d: stage %v after %v", i, ft.Stage, prev.Stage)
			}
		}
		prev = ft
	}
	st := s.Truth()
	if len(st.Moves) != fields-1 || len(st.Cells) != fields*8 || len(st.Frames) != fields*per {
		t.Errorf("truth: %d moves, %d cells, %d frames; want %d, %d, %d", len(st.Moves), len(st.Cells), len(st.Frames), fields-1, fields*8, fields*per)
	}
	for _, mv := range st.Moves {
		if len(mv.Same) != 0 || mv.Shift != nil || mv.Frame != mv.To*per {
			t.Errorf("move %+v: separate fields share no cell", mv)
		}
	}
	// The distinct cells are in slide pixels: frame box + stage.
	byID := map[int]Cell{}
	for _, c := range st.Cells {
		byID[c.ID] = c
	}
	for _, ft := range st.Frames {
		for _, c := range ft.Cells {
			if want := byID[c.ID].Box.Rect().Sub(image.Pt(ft.Stage.X, ft.Stage.Y)); c.Box.Rect() != want {
				t.Errorf("frame %d cell %d: box %v, slide box minus stage %v", ft.Frame, c.ID, c.Box, want)
			}
		}
	}
}

// TestSlideStill: without drift or focus changes, the frames of a field differ by
// sensor noise only (no flicker: the same mean); a dense field holds 60+ cells.
func TestSlideStill(t *testing.T) {
	lib := library(t)
	g, err := New(lib, Options{Width: 1280, Height: 960, Cells: 64, Scale: 0.5, Gap: 4, Seed: 8})
	if err != nil {
		t.Fatal(err)
	}
	per := 3
	if testing.Short() {
		per = 2
	}
	s, err := g.NewSlide(SlideOptions{Fields: 2, Frames: per})
	if err != nil {
		t.Fatal(err)
	}
	var first *image.Gray
	for i := range s.Len() {
		img, ft, err := s.Next()
		if err != nil {
			t.Fatal(err)
		}
		if len(ft.Cells) != 64 {
			t.Errorf("frame %d: %d cells, want 64", i, len(ft.Cells))
		}
		gray := Gray(img)
		if i%per == 0 {
			first = gray
			continue
		}
		var sum, abs float64
		for j, v := range gray.Pix {
			d := float64(v) - float64(first.Pix[j])
			sum += d
			abs += math.Abs(d)
		}
		n := float64(len(gray.Pix))
		t.Logf("frame %d against the field's first: mean difference %.3f, mean absolute %.2f gray levels", i, sum/n, abs/n)
		if math.Abs(sum/n) > 0.1 || abs/n > 4 {
			t.Errorf("frame %d: mean difference %.3f, mean absolute %.2f: want sensor noise only", i, sum/n, abs/n)
		}
	}
}

// TestSlideOverlap: the stage moves by half a field; the cells seen before and after a
// move are listed as the same, keep their identity and move by the stage's shift.
func TestSlideOverlap(t *testing.T) {
	lib := library(t)
	const W, H = 640, 480
	g, err := New(lib, Options{Width: W, Height: H, Cells: 24, Scale: 0.5, Gap: 6, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	s, err := g.NewSlide(SlideOptions{Fields: 4, Frames: 2, Overlap: 0.5, Drift: image.Pt(1, 1)})
	if err != nil {
		t.Fatal(err)
	}
	var frames []FrameTruth
	for range s.Len() {
		_, ft, err := s.Next()
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, ft)
	}
	st := s.Truth()
	if len(st.Moves) != 3 {
		t.Fatalf("%d moves, want 3", len(st.Moves))
	}
	for _, mv := range st.Moves {
		before, after := frames[mv.Frame-1], frames[mv.Frame]
		// the stage moves half a field on, and back over the drift of the field's frames
		if mv.Shift == nil || *mv.Shift != (Point{-W/2 - 1, -1}) {
			t.Errorf("move to field %d: shift %v, want (%d, -1)", mv.To, mv.Shift, -W/2-1)
			continue
		}
		if len(mv.Same) < 5 || len(mv.Same) >= len(after.Cells) {
			t.Errorf("move to field %d: %d of %d cells the same: want about half", mv.To, len(mv.Same), len(after.Cells))
		}
		shift := image.Pt(mv.Shift.X, mv.Shift.Y)
		for _, id := range mv.Same {
			b, a := cellByID(before.Cells, id), cellByID(after.Cells, id)
			if b == nil || a == nil {
				t.Fatalf("move to field %d: cell %d listed as the same but not in both frames", mv.To, id)
			}
			if !b.Border && !a.Border && a.Box.Rect() != b.Box.Rect().Add(shift) {
				t.Errorf("cell %d: %v before the move, %v after: want moved by %v", id, b.Box, a.Box, shift)
			}
		}
		t.Logf("move to field %d: %d of %d cells seen before, shifted by %v", mv.To, len(mv.Same), len(after.Cells), shift)
	}
}

func cellByID(cells []Cell, id int) *Cell {
	for i := range cells {
		if cells[i].ID == id {
			return &cells[i]
		}
	}
	return nil
}

// TestColourTwins: the colour look's frame is colour (a bluish centre, a magenta rim);
// the grey and green twins darken the luma alike, and only the green one changes the
// colour.
func TestColourTwins(t *testing.T) {
	lib := library(t)
	g, err := New(lib, Options{Look: LookColour, Width: 960, Height: 720, Seed: 6, Noise: -1, Flicker: -1})
	if err != nil {
		t.Fatal(err)
	}
	fields := 3
	if testing.Short() {
		fields = 1
	}
	for k := 0; k < fields; k++ {
		f, err := g.NewField()
		if err != nil {
			t.Fatal(err)
		}
		img := g.Render(f)
		if k == 0 {
			c, e := img.RGBAAt(480, 360), img.RGBAAt(4, 4)
			t.Logf("background: centre %v, corner %v", c, e)
			if !(c.B > c.R && c.B >= c.G) || !(e.R > e.G && e.B > e.G) {
				t.Errorf("background centre %v, corner %v: want a bluish centre and a magenta rim", c, e)
			}
		}
		greens := 0
		var twins [2]*Cell
		for i, c := range f.Cells {
			switch c.Label {
			case "twin-grey":
				twins[0] = &f.Cells[i]
			case "twin-green":
				twins[1] = &f.Cells[i]
			}
			if c.Colour == "green" || c.Colour == "olive" {
				greens++
			}
			if c.Colour == "" {
				t.Errorf("field %d: object %d (%s) has no colour", k, c.ID, c.Label)
			}
		}
		if twins[0] == nil || twins[1] == nil || greens < 3 {
			t.Fatalf("field %d: twins %v, %d green objects", k, twins, greens)
		}
		var luma, chroma [2]float64
		for j, c := range twins {
			r := c.Box.Rect()
			in, out := rgbMean(img, r.Inset(r.Dx()/3)), rgbRing(img, r, 6, 10)
			luma[j] = lum(in) / lum(out)
			chroma[j] = (in[1] / (in[0] + in[2])) / (out[1] / (out[0] + out[2]))
		}
		t.Logf("field %d: grey twin luma x%.3f chroma x%.3f; green twin luma x%.3f chroma x%.3f", k, luma[0], chroma[0], luma[1], chroma[1])
		if math.Abs(luma[0]-luma[1]) > 0.04 || luma[0] > 0.95 {
			t.Errorf("field %d: twins darken the luma by x%.3f and x%.3f: want the same, visible", k, luma[0], luma[1])
		}
		if math.Abs(chroma[0]-1) > 0.03 || chroma[1] < 1.1 {
			t.Errorf("field %d: chroma ratio grey %.3f, green %.3f: want 1 and clearly above", k, chroma[0], chroma[1])
		}
	}
}

func lum(c [3]float64) float64 { return 0.299*c[0] + 0.587*c[1] + 0.114*c[2] }

func rgbMean(img *image.RGBA, r image.Rectangle) [3]float64 {
	var s [3]float64
	n := 0.0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := img.RGBAAt(x, y)
			s[0], s[1], s[2] = s[0]+float64(c.R), s[1]+float64(c.G), s[2]+float64(c.B)
			n++
		}
	}
	return [3]float64{s[0] / n, s[1] / n, s[2] / n}
}

func rgbRing(img *image.RGBA, r image.Rectangle, from, to int) [3]float64 {
	var s [3]float64
	n := 0.0
	outer, inner := r.Inset(-to).Intersect(img.Rect), r.Inset(-from)
	for y := outer.Min.Y; y < outer.Max.Y; y++ {
		for x := outer.Min.X; x < outer.Max.X; x++ {
			if (image.Point{x, y}).In(inner) {
				continue
			}
			c := img.RGBAAt(x, y)
			s[0], s[1], s[2] = s[0]+float64(c.R), s[1]+float64(c.G), s[2]+float64(c.B)
			n++
		}
	}
	return [3]float64{s[0] / n, s[1] / n, s[2] / n}
}

// TestBadFrames: the bad-input frames are what they say.
func TestBadFrames(t *testing.T) {
	const W, H = 320, 240
	check := func(name string, img *image.RGBA, ok func(g *image.Gray) string) {
		t.Helper()
		if img.Rect != image.Rect(0, 0, W, H) {
			t.Fatalf("%s: %v", name, img.Rect)
		}
		if msg := ok(Gray(img)); msg != "" {
			t.Errorf("%s: %s", name, msg)
		}
	}
	levels := func(g *image.Gray) (lo, hi uint8, mean float64) {
		lo, hi = 255, 0
		for _, v := range g.Pix {
			lo, hi = min(lo, v), max(hi, v)
			mean += float64(v)
		}
		return lo, hi, mean / float64(len(g.Pix))
	}
	check("black", BlackFrame(W, H), func(g *image.Gray) string {
		if _, hi, _ := levels(g); hi != 0 {
			return "not all black"
		}
		return ""
	})
	check("saturated", SaturatedFrame(W, H), func(g *image.Gray) string {
		if lo, _, _ := levels(g); lo != 255 {
			return "not all 255"
		}
		return ""
	})
	check("noise", NoiseFrame(W, H, 1), func(g *image.Gray) string {
		if lo, hi, m := levels(g); lo > 40 || hi < 215 || m < 110 || m > 145 {
			return fmt.Sprintf("levels %d-%d mean %.0f: want noise over the whole range", lo, hi, m)
		}
		return ""
	})
	check("debris", DebrisFrame(W, H, 1), func(g *image.Gray) string {
		// covered: in every 16x16 block something is clearly darker than the background
		for y := 0; y+16 <= H; y += 16 {
			for x := 0; x+16 <= W; x += 16 {
				if darkest(g, image.Rect(x, y, x+16, y+16)) > 150 {
					return fmt.Sprintf("the block at %d,%d holds no debris", x, y)
				}
			}
		}
		return ""
	})
	check("line", LineFrame(W, H, 1), func(g *image.Gray) string {
		// one dark pixel in every column, nothing else dark
		dark := 0
		for x := range W {
			n := 0
			for y := range H {
				if g.GrayAt(x, y).Y < 100 {
					n++
				}
			}
			if n == 0 {
				return fmt.Sprintf("column %d has no line pixel", x)
			}
			dark += n
		}
		if dark > 2*W {
			return fmt.Sprintf("%d dark pixels: want a line one pixel wide", dark)
		}
		return ""
	})
	lib := library(t)
	g, err := New(lib, Options{Width: W, Height: H, Cells: 4, Scale: 0.5, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	f, err := g.NewField()
	if err != nil {
		t.Fatal(err)
	}
	sharp, blurred := Gray(g.Render(f)), Gray(g.DefocusedFrame(f, 8))
	for _, c := range f.Cells {
		r := c.Box.Rect()
		if darkest(blurred, r) <= darkest(sharp, r) {
			t.Errorf("cell %d: as dark out of focus (%d) as in focus (%d)", c.ID, darkest(blurred, r), darkest(sharp, r))
		}
	}
}

// TestWriteLooks writes each new set through the writers and reads the truth back.
func TestWriteLooks(t *testing.T) {
	lib := library(t)
	dir := t.TempDir()
	w, h := 640, 480
	if testing.Short() {
		w, h = 400, 300
	}
	g, err := New(lib, Options{Look: LookPhase, Width: w, Height: h, Density: 8, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	truths, err := g.WriteStills(context.Background(), filepath.Join(dir, "phase"), 2, 2, "png")
	if err != nil {
		t.Fatal(err)
	}
	back, err := ReadFrameTruth(filepath.Join(dir, "phase", "frame-0002.json"))
	if err != nil || back.Look != "phase" || len(back.Cells) != len(truths[1].Cells) || back.Cells[0].Kind == "" {
		t.Errorf("phase truth read back: %+v, %v", back, err)
	}
	rows := readCSV(t, filepath.Join(dir, "phase", "truth.csv"))
	if h := strings.Join(rows[0], ","); h != "frame,file,field,cell,label,x,y,w,h,sample,kind,ncells,group,border,colour" {
		t.Errorf("phase truth.csv header %s", h)
	}
	if _, err := g.WriteVideo(context.Background(), filepath.Join(dir, "phase.avi"), 3, 1, 5); err != nil {
		t.Fatal(err)
	}

	g, err = New(lib, Options{Look: LookColour, Width: w, Height: h, Cells: 4, Scale: 0.5, Gap: 8, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.WriteStills(context.Background(), filepath.Join(dir, "colour"), 1, 1, "jpg"); err != nil {
		t.Fatal(err)
	}

	g, err = New(lib, Options{Width: 400, Height: 300, Cells: 8, Scale: 0.4, Gap: 4, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	so := SlideOptions{Fields: 3, Frames: 2, Overlap: 0.5, Drift: image.Pt(1, 0)}
	st, err := g.WriteSlide(context.Background(), filepath.Join(dir, "slide"), so, "png")
	if err != nil {
		t.Fatal(err)
	}
	sb, err := ReadSlideTruth(filepath.Join(dir, "slide", "slide.json"))
	if err != nil || len(sb.Frames) != 6 || len(sb.Moves) != 2 || sb.FramesPerField != 2 || sb.Frames[5].File != "frame-0006.png" ||
		len(sb.Moves[0].Same) != len(st.Moves[0].Same) {
		t.Errorf("slide truth read back: %+v, %v", sb, err)
	}
	vt, err := g.WriteSlideVideo(context.Background(), filepath.Join(dir, "v", "slide.avi"), so, 4)
	if err != nil {
		t.Fatal(err)
	}
	vb, err := ReadVideoTruth(filepath.Join(dir, "v", "slide.json"))
	if err != nil || len(vb.Frames) != 6 || vb.Video != "slide.avi" || len(vb.Cells) != len(vt.Cells) {
		t.Errorf("slide video truth read as a VideoTruth: %+v, %v", vb, err)
	}
	files, err := g.WriteBadFrames(filepath.Join(dir, "bad"), "png")
	if err != nil || len(files) != 7 {
		t.Fatalf("bad frames: %v, %v", files, err)
	}
	for _, f := range append(files, "focus.json") {
		if _, err := os.Stat(filepath.Join(dir, "bad", f)); err != nil {
			t.Error(err)
		}
	}
}

// TestLookOptions: a wrong look or a slide in another look is refused.
func TestLookOptions(t *testing.T) {
	lib := library(t)
	if _, err := New(lib, Options{Look: "darkfield"}); err == nil {
		t.Error("look darkfield: no error")
	}
	if l, err := ParseLook("color"); err != nil || l != LookColour {
		t.Errorf("ParseLook(color) = %v, %v", l, err)
	}
	g, err := New(lib, Options{Look: LookPhase, Width: 320, Height: 240})
	if err != nil {
		t.Fatal(err)
	}
	if g.Options().Light != 125 || g.Options().Halo != 2.5 {
		t.Errorf("phase defaults: %+v", g.Options())
	}
	if _, err := g.NewSlide(SlideOptions{}); err == nil {
		t.Error("a phase slide: no error")
	}
	g, err = New(lib, Options{Width: 320, Height: 240})
	if err != nil {
		t.Fatal(err)
	}
	for _, so := range []SlideOptions{{Overlap: 1}, {Focus: [2]float64{1.5, 0.3}}, {Drift: image.Pt(500, 0)}} {
		if _, err := g.NewSlide(so); err == nil {
			t.Errorf("slide %+v: no error", so)
		}
	}
}

// TestExamples renders a few frames of every set; with -examples DIR it writes them
// there as PNG to look at, full size, with the three pictures of
// docs/segmentation-examples: a 1:1 crop of a phase-contrast frame (the window that holds
// the most kinds of object), a colour frame at half size, and two frames of an
// overlapping slide, before and after a stage move, with the truth boxes drawn (green: a
// cell seen before the move, orange: a new one).
func TestExamples(t *testing.T) {
	lib := library(t)
	out := *examplesDir
	write := func(name string, img image.Image) {
		if out == "" {
			return
		}
		if err := os.MkdirAll(out, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := writeImage(filepath.Join(out, name+".png"), img, "png"); err != nil {
			t.Fatal(err)
		}
	}
	W, H := 2584, 1936
	cw, ch := 1280, 960 // colour and slide frames
	if out == "" {
		W, H, cw, ch = 640, 480, 480, 360 // just render
	}
	g, err := New(lib, Options{Look: LookPhase, Width: W, Height: H, Seed: 21})
	if err != nil {
		t.Fatal(err)
	}
	f, err := g.NewField()
	if err != nil {
		t.Fatal(err)
	}
	phase := g.Render(f)
	write("phase", phase)
	crop := busiestWindow(f.Cells, image.Rect(0, 0, W, H), 560, 420)
	write("example-phase-contrast", grayOf(phase.SubImage(crop).(*image.RGBA)))
	t.Logf("phase crop %v: %s", crop, describeCounts(cellsWithin(f.Cells, crop)))
	if out != "" {
		g, err = New(lib, Options{Look: LookPhase, Width: 1920, Height: 1080, Seed: 22})
		if err != nil {
			t.Fatal(err)
		}
		f, err := g.NewField()
		if err != nil {
			t.Fatal(err)
		}
		write("phase-1920", g.Render(f))
	}
	g, err = New(lib, Options{Look: LookColour, Width: cw, Height: ch, Seed: 23})
	if err != nil {
		t.Fatal(err)
	}
	f, err = g.NewField()
	if err != nil {
		t.Fatal(err)
	}
	colour := g.Render(f)
	write("colour", colour)
	write("example-colour", halve(halve(colour)))
	g, err = New(lib, Options{Width: cw, Height: ch, Cells: 64 * cw * ch / (1280 * 960), Scale: 0.5, Gap: 4, Seed: 24})
	if err != nil {
		t.Fatal(err)
	}
	s, err := g.NewSlide(SlideOptions{Fields: 2, Frames: 2, Overlap: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	var pair []*image.RGBA
	var truths []FrameTruth
	for i := range s.Len() {
		img, ft, err := s.Next()
		if err != nil {
			t.Fatal(err)
		}
		write(fmt.Sprintf("slide-overlap-%d", i+1), img)
		if i == 1 || i == 2 {
			pair, truths = append(pair, img), append(truths, ft)
		}
	}
	same := map[int]bool{}
	for _, id := range s.Truth().Moves[0].Same {
		same[id] = true
	}
	for i, img := range pair {
		small := halve(halve(img))
		for _, c := range truths[i].Cells {
			col := color.RGBA{230, 120, 0, 255}
			if same[c.ID] {
				col = color.RGBA{0, 170, 0, 255}
			}
			r := c.Box.Rect()
			drawBox(small, image.Rect(r.Min.X/4-1, r.Min.Y/4-1, (r.Max.X+3)/4+1, (r.Max.Y+3)/4+1), col)
		}
		pair[i] = small
	}
	write("example-slide-overlap", greyPaletted(sideBySide(pair[0], pair[1])))
	names, imgs, _, err := g.BadFrames()
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range names {
		write("bad-"+n, imgs[i])
	}
}

// busiestWindow returns the w x h window (on a 40 px grid) that shows the most sorts of
// object (kind and label, a debris cloud its own sort), then the most objects.
func busiestWindow(cells []Cell, frame image.Rectangle, w, h int) image.Rectangle {
	best, bestScore := image.Rect(0, 0, w, h), -1
	for y := 0; y+h <= frame.Dy(); y += 40 {
		for x := 0; x+w <= frame.Dx(); x += 40 {
			r := image.Rect(x, y, x+w, y+h)
			kinds := map[string]bool{}
			n := 0
			for _, c := range cells {
				b := c.Box.Rect()
				if in := b.Intersect(r); in.Dx()*in.Dy()*2 < b.Dx()*b.Dy() {
					continue // less than half of it in the window
				}
				n++
				kinds[fmt.Sprint(c.KindOf(), c.Label, c.Group > 0)] = true
			}
			if score := 1000*len(kinds) + n; score > bestScore {
				best, bestScore = r, score
			}
		}
	}
	return best
}

func cellsWithin(cells []Cell, r image.Rectangle) []Cell {
	var in []Cell
	for _, c := range cells {
		if c.Box.Rect().In(r) {
			in = append(in, c)
		}
	}
	return in
}

// grayOf copies the green channel of an RGBA image (the phase look's R = G = B) into a
// Gray image at the origin.
func grayOf(img *image.RGBA) *image.Gray {
	b := img.Rect
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			g.Pix[y*g.Stride+x] = img.RGBAAt(b.Min.X+x, b.Min.Y+y).G
		}
	}
	return g
}

// halve shrinks an image to half its size, averaging 2x2 pixels.
func halve(img *image.RGBA) *image.RGBA {
	b := img.Rect
	out := image.NewRGBA(image.Rect(0, 0, b.Dx()/2, b.Dy()/2))
	for y := 0; y < b.Dy()/2; y++ {
		for x := 0; x < b.Dx()/2; x++ {
			for c := range 4 {
				s := 0
				for _, d := range [][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
					s += int(img.Pix[img.PixOffset(b.Min.X+2*x+d[0], b.Min.Y+2*y+d[1])+c])
				}
				out.Pix[out.PixOffset(x, y)+c] = uint8((s + 2) / 4)
			}
		}
	}
	return out
}

func sideBySide(a, b *image.RGBA) *image.RGBA {
	const gap = 8
	out := image.NewRGBA(image.Rect(0, 0, a.Rect.Dx()+gap+b.Rect.Dx(), max(a.Rect.Dy(), b.Rect.Dy())))
	for i := range out.Pix {
		out.Pix[i] = 255
	}
	draw.Draw(out, a.Rect, a, image.Point{}, draw.Src)
	draw.Draw(out, b.Rect.Add(image.Pt(a.Rect.Dx()+gap, 0)), b, image.Point{}, draw.Src)
	return out
}

// greyPaletted turns a grey picture with coloured marks into a paletted image (grey
// levels, and the nearest of a few colours where a pixel is clearly coloured), which PNG
// stores in a third of the bytes.
func greyPaletted(img *image.RGBA) *image.Paletted {
	pal := color.Palette{color.RGBA{0, 170, 0, 255}, color.RGBA{230, 120, 0, 255}}
	for v := range 254 {
		l := uint8(v * 255 / 253)
		pal = append(pal, color.RGBA{l, l, l, 255})
	}
	out := image.NewPaletted(img.Rect, pal)
	for y := img.Rect.Min.Y; y < img.Rect.Max.Y; y++ {
		for x := img.Rect.Min.X; x < img.Rect.Max.X; x++ {
			c := img.RGBAAt(x, y)
			lo, hi := min(c.R, c.G, c.B), max(c.R, c.G, c.B)
			if hi-lo > 40 {
				out.Set(x, y, pal.Convert(c))
				continue
			}
			l := (int(c.R) + int(c.G) + int(c.B)) / 3
			out.SetColorIndex(x, y, uint8(2+l*253/255))
		}
	}
	return out
}

func drawBox(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(img.Rect)
	for t := 0; t < 1; t++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, r.Min.Y+t, c)
			img.SetRGBA(x, r.Max.Y-1-t, c)
		}
		for y := r.Min.Y; y < r.Max.Y; y++ {
			img.SetRGBA(r.Min.X+t, y, c)
			img.SetRGBA(r.Max.X-1-t, y, c)
		}
	}
}

// TestDemoUnchanged: the brightfield look draws the bundled demo exactly as it was made
// (README: phytoscreen synth --video --out assets/demo --name demo --width 960 --height
// 720 --frames 36 --fields 3 --cells 7 --mix protist_noctiluca=3 --seed 2027 --fps 6
// --blur 0.4 --noise 1.5): the same truth as assets/demo/demo.json and, on amd64 (where
// no fused multiply-add changes the float rounding), the same pixels as before the newer
// looks were added.
func TestDemoUnchanged(t *testing.T) {
	lib := library(t)
	var demo VideoTruth
	if err := json.Unmarshal(assets.DemoTruth(), &demo); err != nil {
		t.Fatal(err)
	}
	g, err := New(lib, Options{Width: 960, Height: 720, Cells: 7, Mix: []Count{{"protist_noctiluca", 3}}, Seed: 2027, Blur: 0.4, Noise: 1.5})
	if err != nil {
		t.Fatal(err)
	}
	per, err := Plan(36, 3)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	idx := 0
	for _, n := range per {
		f, err := g.NewField()
		if err != nil {
			t.Fatal(err)
		}
		for range n {
			want := demo.Frames[idx]
			if got := g.truth(f, idx); !slices.Equal(got.Cells, want.Cells) || got.Field != want.Field {
				t.Fatalf("frame %d: truth differs from assets/demo/demo.json", idx)
			}
			if testing.Short() {
				return // the first frame's truth only: rendering the rest is slow under -race
			}
			h.Write(g.Render(f).Pix)
			idx++
		}
	}
	const want = "d302a73ac27d112c18203385ef9717c240c5a14be6388bda76c3294c3430ad6c"
	if got := fmt.Sprintf("%x", h.Sum(nil)); runtime.GOARCH == "amd64" && got != want {
		t.Errorf("the demo's frames hash to %s, want %s as before", got, want)
	}
}
