package synth

import (
	"context"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
)

// A slide is a still preparation seen field by field: the stage stops at a field, the
// camera takes a few frames, the stage moves on. Within a field the frames differ by
// sensor noise only (no lamp flicker), unless the stage creeps (Drift: every frame the
// cells move by the same few pixels) or the focus wanders (Focus: each frame's blur sigma
// drawn from a range); neither is a new field. Consecutive fields are separate parts of
// the slide, or overlap (Overlap: the stage moved by less than a field, so some cells
// are seen again, shifted, under the same identity). Slides use the brightfield look.
//
// Coordinates: a frame's Stage is where its top-left pixel lies on the slide; a cell's
// box in SlideTruth.Cells is in slide pixels, its box in a frame is that minus the
// frame's Stage, clipped to the frame (Border when clipped).

// Point is a position or shift in pixels.
type Point struct {
	X int `json:"x"`
	Y int `json:"y"`
}

// SlideOptions say how a slide is seen.
type SlideOptions struct {
	Fields  int         // stage positions (default 10)
	Frames  int         // frames per field (default 3)
	Drift   image.Point // px the cells move in the frame from one frame to the next within a field (the stage creeping); zero for none
	Focus   [2]float64  // range of the optical blur sigma, px, each frame's drawn from it (e.g. 0.3, 1.5); zero: Options.Blur on every frame
	Overlap float64     // share of the frame's width consecutive fields have in common: 0 separate fields, 0.5 the stage moved by half a field; below 1
}

func (so *SlideOptions) setDefaults() error {
	if so.Fields == 0 {
		so.Fields = 10
	}
	if so.Frames == 0 {
		so.Frames = 3
	}
	switch {
	case so.Fields < 1 || so.Frames < 1 || so.Fields*so.Frames > 100_000:
		return fmt.Errorf("slide %dx%d: want at least one field of at least one frame", so.Fields, so.Frames)
	case so.Overlap < 0 || so.Overlap >= 1:
		return fmt.Errorf("overlap %g: want 0 (separate fields) up to below 1", so.Overlap)
	case so.Focus[0] < 0 || so.Focus[1] < so.Focus[0] || so.Focus[1] > 20:
		return fmt.Errorf("focus %g-%g: want a blur sigma range such as 0.3-1.5 (low <= high <= 20)", so.Focus[0], so.Focus[1])
	case abs(so.Drift.X) > 200 || abs(so.Drift.Y) > 200:
		return fmt.Errorf("drift %v: want at most 200 px per frame", so.Drift)
	}
	return nil
}

// Validate reports what is wrong with so, if anything (zero fields and frames stand for
// the defaults, 10 and 3).
func (so SlideOptions) Validate() error { return so.setDefaults() }

func abs(v int) int { return max(v, -v) }

// Move is a stage move between two fields.
type Move struct {
	Frame int    `json:"frame"`           // the first frame of the new field
	From  int    `json:"from"`            // field before
	To    int    `json:"to"`              // field after
	Shift *Point `json:"shift,omitempty"` // how far the cells moved in the frame (overlapping fields); absent when the new field is another part of the slide
	Same  []int  `json:"same"`            // IDs of the cells in both the last frame before and the first frame after: the same physical cells
}

// SlideTruth is a slide's ground truth: VideoTruth's fields (every frame's cells, the
// distinct cells with boxes in slide pixels) and the slide's plan.
type SlideTruth struct {
	VideoTruth
	FramesPerField int       `json:"frames_per_field"`
	Drift          Point     `json:"drift"`
	Focus          []float64 `json:"focus,omitempty"` // blur sigma range within a field
	Overlap        float64   `json:"overlap"`
	Moves          []Move    `json:"moves"`
}

// Slide renders a slide's frames in order.
type Slide struct {
	g      *Generator
	so     SlideOptions
	focus  *rand.Rand
	fw, fh int // a field's size (non-overlapping) or the strip's (overlapping)
	strip  *Field
	cur    *Field
	next   int // next frame
	last   []Cell
	lastAt image.Point
	truth  SlideTruth
	buf    []float32
}

// NewSlide prepares a slide seen with so. The generator must have the brightfield look.
func (g *Generator) NewSlide(so SlideOptions) (*Slide, error) {
	if err := so.setDefaults(); err != nil {
		return nil, err
	}
	if g.opt.Look != LookBright {
		return nil, fmt.Errorf("slides are drawn in the brightfield look, not %s", g.opt.Look)
	}
	W, H := g.opt.Width, g.opt.Height
	n := so.Frames
	s := &Slide{g: g, so: so, focus: rand.New(rand.NewPCG(g.opt.Seed, 0x5eed_f0c5))}
	s.truth = SlideTruth{
		VideoTruth:     VideoTruth{Width: W, Height: H, Seed: g.opt.Seed, Fields: so.Fields},
		FramesPerField: n, Drift: Point{so.Drift.X, so.Drift.Y}, Overlap: so.Overlap,
	}
	if so.Focus[1] > 0 {
		s.truth.Focus = []float64{so.Focus[0], so.Focus[1]}
		g.keepRaw = true
	}
	ex, ey := (n-1)*abs(so.Drift.X), (n-1)*abs(so.Drift.Y)
	if so.Overlap == 0 {
		s.fw, s.fh = W+ex, H+ey
		return s, nil
	}
	// One strip holds every field: field k starts k*step to the right of field 0.
	step := s.step()
	s.fw, s.fh = W+(so.Fields-1)*step+ex, H+ey
	scale := float64(s.fw*s.fh) / float64(W*H)
	saved := g.opt
	g.opt.Cells = int(math.Round(float64(g.opt.Cells) * scale))
	g.opt.Mix = slices.Clone(g.opt.Mix)
	for i := range g.opt.Mix {
		g.opt.Mix[i].N = int(math.Round(float64(g.opt.Mix[i].N) * scale))
	}
	f, err := g.NewFieldSize(s.fw, s.fh)
	g.opt = saved
	if err != nil {
		return nil, err
	}
	s.strip = f
	s.truth.Cells = slices.Clone(f.Cells)
	return s, nil
}

// step is how far the stage moves between overlapping fields, px.
func (s *Slide) step() int {
	return max(1, int(math.Round((1-s.so.Overlap)*float64(s.g.opt.Width))))
}

// Len is the number of frames.
func (s *Slide) Len() int { return s.so.Fields * s.so.Frames }

// window returns where frame j of a field sees the field (or the strip), and where that
// is on the slide.
func (s *Slide) window(field, j int) (at, stage image.Point) {
	d := s.so.Drift
	n := s.so.Frames
	base := image.Pt(max(0, (n-1)*d.X), max(0, (n-1)*d.Y))
	at = base.Sub(d.Mul(j)) // the window moves against the drift, so the cells move with it
	if s.strip != nil {
		at.X += field * s.step()
		return at, at
	}
	// separate fields lie side by side on the slide, a frame's width apart
	return at, at.Add(image.Pt(field*(s.fw+s.g.opt.Width), 0))
}

// Next renders the next frame and its truth.
func (s *Slide) Next() (*image.RGBA, FrameTruth, error) {
	if s.next >= s.Len() {
		return nil, FrameTruth{}, fmt.Errorf("slide: all %d frames rendered", s.Len())
	}
	g := s.g
	k, j := s.next/s.so.Frames, s.next%s.so.Frames
	f := s.strip
	if f == nil {
		if j == 0 {
			W, H := g.opt.Width, g.opt.Height
			ex, ey := s.fw-W, s.fh-H
			g.region = image.Rect(ex, ey, W, H) // what every frame of the field sees
			var err error
			s.cur, err = g.NewFieldSize(s.fw, s.fh)
			g.region = image.Rectangle{}
			if err != nil {
				return nil, FrameTruth{}, err
			}
			at0, st0 := s.window(k, 0) // field pixel + st0 - at0 = slide pixel
			for _, c := range s.cur.Cells {
				c.Box = boxOf(c.Box.Rect().Sub(at0).Add(st0))
				c.Field = k
				s.truth.Cells = append(s.truth.Cells, c)
			}
		}
		f = s.cur
	}
	at, stage := s.window(k, j)
	win := image.Rectangle{Min: at, Max: at.Add(image.Pt(g.opt.Width, g.opt.Height))}
	t := FrameTruth{Frame: s.next, Field: k, Width: g.opt.Width, Height: g.opt.Height, Stage: &Point{stage.X, stage.Y}}
	t.Cells = f.CellsIn(win)
	for i := range t.Cells {
		t.Cells[i].Field = k
	}
	var img *image.RGBA
	if s.so.Focus[1] > 0 {
		sigma := s.so.Focus[0] + s.focus.Float64()*(s.so.Focus[1]-s.so.Focus[0])
		sigma = math.Round(sigma*100) / 100
		t.Blur = sigma
		img = s.renderFocus(f, win, sigma)
	} else {
		img = g.renderTrans(f.trans, f.W, at, 1)
	}
	if j == 0 && k > 0 {
		mv := Move{Frame: s.next, From: k - 1, To: k, Same: []int{}}
		if s.strip != nil {
			d := s.lastAt.Sub(at)
			mv.Shift = &Point{d.X, d.Y}
			ids := map[int]bool{}
			for _, c := range s.last {
				ids[c.ID] = true
			}
			for _, c := range t.Cells {
				if ids[c.ID] {
					mv.Same = append(mv.Same, c.ID)
				}
			}
		}
		s.truth.Moves = append(s.truth.Moves, mv)
	}
	s.last, s.lastAt = t.Cells, at
	s.truth.Frames = append(s.truth.Frames, t)
	s.next++
	return img, t, nil
}

// renderFocus renders the window of a field with its own blur sigma, from the field's
// unblurred transmission.
func (s *Slide) renderFocus(f *Field, win image.Rectangle, sigma float64) *image.RGBA {
	k := gaussKernel(sigma)
	r := len(k) / 2
	R := win.Inset(-r).Intersect(image.Rect(0, 0, f.W, f.H))
	n := R.Dx() * R.Dy()
	if len(s.buf) < n {
		s.buf = make([]float32, n)
	}
	buf := s.buf[:n]
	for y := R.Min.Y; y < R.Max.Y; y++ {
		copy(buf[(y-R.Min.Y)*R.Dx():(y-R.Min.Y+1)*R.Dx()], f.raw[y*f.W+R.Min.X:y*f.W+R.Max.X])
	}
	s.g.blurWith(buf, R.Dx(), R.Dy(), k)
	return s.g.renderTrans(buf, R.Dx(), win.Min.Sub(R.Min), 1)
}

// Truth returns the slide's truth so far (all of it once every frame is rendered).
func (s *Slide) Truth() *SlideTruth { return &s.truth }

// WriteSlide renders the whole slide into dir as still frames (png or jpg) with their
// truth (frame-0001.json), truth.csv and slide.json (SlideTruth).
func (g *Generator) WriteSlide(ctx context.Context, dir string, so SlideOptions, format string) (*SlideTruth, error) {
	s, err := g.NewSlide(so)
	if err != nil {
		return nil, err
	}
	frames, err := writeStillsFrom(ctx, dir, format, s.Len(), s.Next)
	if err != nil {
		return nil, err
	}
	s.truth.Frames = frames // with their files
	return s.Truth(), writeJSON(filepath.Join(dir, "slide.json"), s.Truth())
}

// WriteSlideVideo renders the whole slide as an MJPG AVI at path, with NAME.json
// (SlideTruth, readable by ReadVideoTruth too) and NAME.csv beside it.
func (g *Generator) WriteSlideVideo(ctx context.Context, path string, so SlideOptions, fps float64) (*SlideTruth, error) {
	s, err := g.NewSlide(so)
	if err != nil {
		return nil, err
	}
	frames, err := writeVideoFrom(ctx, path, fps, g.opt.Width, g.opt.Height, s.Len(), s.Next)
	if err != nil {
		return nil, err
	}
	t := s.Truth()
	t.Video, t.FPS = filepath.Base(path), fps
	base := path[:len(path)-len(filepath.Ext(path))]
	if err := writeJSON(base+".json", t); err != nil {
		return nil, err
	}
	return t, writeTruthCSV(base+".csv", frames)
}

// ReadSlideTruth reads a slide's truth (slide.json, or NAME.json of a slide video).
func ReadSlideTruth(path string) (*SlideTruth, error) {
	var t SlideTruth
	if err := readJSON(path, &t); err != nil {
		return nil, err
	}
	return &t, nil
}
