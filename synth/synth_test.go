package synth

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"image"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gocv.io/x/gocv"
)

func library(t *testing.T) *Library {
	t.Helper()
	lib, err := DefaultLibrary()
	if err != nil {
		t.Fatal(err)
	}
	return lib
}

func TestLibrary(t *testing.T) {
	lib := library(t)
	skipped := lib.Skipped()
	if lib.Len()+len(skipped) != 387 {
		t.Errorf("%d samples usable and %d skipped, want 387 in all", lib.Len(), len(skipped))
	}
	if len(skipped) > 10 {
		t.Errorf("%d samples skipped as too faint: the visibility rule is too strict", len(skipped))
	}
	for _, s := range skipped {
		if !strings.Contains(s, "diatom_chain_string") && !strings.Contains(s, "artifacts") {
			t.Errorf("skipped %s: only the faint diatom chain strings and artefacts are expected", s)
		}
	}
	t.Logf("%d usable samples in %d classes; skipped: %v", lib.Len(), len(lib.Labels()), skipped)
	if lib.Count("protist_noctiluca") != 7 {
		t.Errorf("%d Noctiluca samples, want the 7 of the sample set", lib.Count("protist_noctiluca"))
	}
	for i := 0; i < lib.Len(); i++ {
		s := lib.Sample(i)
		if s.Object.Empty() || !s.Object.In(s.Img.Rect) {
			t.Fatalf("%s: object box %v not inside the %v image", s.Path, s.Object, s.Img.Rect)
		}
	}
}

func TestParseMix(t *testing.T) {
	cases := []struct {
		in   string
		want []Count
		bad  bool
	}{
		{"", nil, false},
		{"protist_noctiluca=3", []Count{{"protist_noctiluca", 3}}, false},
		{" a=1 , b=0,", []Count{{"a", 1}, {"b", 0}}, false},
		{"protist_noctiluca", nil, true},
		{"a=-1", nil, true},
		{"a=two", nil, true},
	}
	for _, c := range cases {
		got, err := ParseMix(c.in)
		if (err != nil) != c.bad || !slices.Equal(got, c.want) {
			t.Errorf("ParseMix(%q) = %v, %v; want %v (error %v)", c.in, got, err, c.want, c.bad)
		}
	}
}

func TestPlan(t *testing.T) {
	cases := []struct {
		frames, fields int
		want           []int
	}{{10, 10, []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}}, {48, 4, []int{12, 12, 12, 12}}, {10, 3, []int{4, 3, 3}}, {1, 1, []int{1}}}
	for _, c := range cases {
		got, err := Plan(c.frames, c.fields)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("Plan(%d, %d) = %v, %v; want %v", c.frames, c.fields, got, err, c.want)
		}
	}
	for _, bad := range [][2]int{{0, 1}, {3, 0}, {3, 4}} {
		if _, err := Plan(bad[0], bad[1]); err == nil {
			t.Errorf("Plan(%d, %d): no error", bad[0], bad[1])
		}
	}
}

// TestReproducible: the same seed gives the same cells and pixels, another seed others.
func TestReproducible(t *testing.T) {
	lib := library(t)
	render := func(seed uint64) ([]Cell, []byte) {
		g, err := New(lib, Options{Width: 400, Height: 300, Cells: 5, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		f, err := g.NewField()
		if err != nil {
			t.Fatal(err)
		}
		return f.Cells, g.Render(f).Pix
	}
	c1, p1 := render(42)
	c2, p2 := render(42)
	c3, p3 := render(43)
	if !slices.Equal(c1, c2) || !bytes.Equal(p1, p2) {
		t.Error("seed 42 twice gave different output")
	}
	if slices.Equal(c1, c3) || bytes.Equal(p1, p3) {
		t.Error("seeds 42 and 43 gave the same output")
	}
}

// TestFields: cells never overlap, stay inside the frame, the mix is exact, identities are
// unique, and each truth box is tight around what is visible.
func TestFields(t *testing.T) {
	lib := library(t)
	g, err := New(lib, Options{Width: 800, Height: 600, Cells: 6, Mix: []Count{{"protist_noctiluca", 3}}, Seed: 5,
		Noise: -1, Blur: -1, Vignette: -1, Tilt: -1, Flicker: -1})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[int]bool{}
	for k := 0; k < 8; k++ {
		f, err := g.NewField()
		if err != nil {
			t.Fatal(err)
		}
		noct := 0
		for i, c := range f.Cells {
			if ids[c.ID] {
				t.Errorf("field %d: cell id %d used twice", k, c.ID)
			}
			ids[c.ID] = true
			if c.Label == "protist_noctiluca" {
				noct++
			}
			if !c.Box.Rect().In(image.Rect(0, 0, 800, 600)) {
				t.Errorf("field %d: cell %d box %v outside the frame", k, c.ID, c.Box)
			}
			for _, d := range f.Cells[i+1:] {
				if c.Box.Rect().Overlaps(d.Box.Rect()) {
					t.Errorf("field %d: cells %d and %d overlap", k, c.ID, d.ID)
				}
			}
		}
		if noct != 3 || len(f.Cells) != 9 {
			t.Errorf("field %d: %d cells, %d Noctiluca; want 9 and 3", k, len(f.Cells), noct)
		}
		// Tight boxes: inside, something at least VisibleContrast darker than the
		// light; on the ring just outside, nothing that dark.
		gray := Gray(g.Render(f))
		light := float64(gray.GrayAt(0, 0).Y)
		limit := uint8(light * (1 - VisibleContrast))
		for _, c := range f.Cells {
			r := c.Box.Rect()
			if darkest(gray, r) > limit {
				t.Errorf("field %d cell %d: nothing visible inside its box", k, c.ID)
			}
			for _, edge := range []image.Rectangle{
				image.Rect(r.Min.X-1, r.Min.Y-1, r.Max.X+1, r.Min.Y), image.Rect(r.Min.X-1, r.Max.Y, r.Max.X+1, r.Max.Y+1),
				image.Rect(r.Min.X-1, r.Min.Y, r.Min.X, r.Max.Y), image.Rect(r.Max.X, r.Min.Y, r.Max.X+1, r.Max.Y),
			} {
				if d := darkest(gray, edge.Intersect(gray.Rect)); d < limit-2 {
					t.Errorf("field %d cell %d (%s): a visible pixel (%d) just outside its box %v", k, c.ID, c.Sample, d, r)
				}
			}
		}
	}
}

func darkest(g *image.Gray, r image.Rectangle) uint8 {
	m := uint8(255)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			m = min(m, g.GrayAt(x, y).Y)
		}
	}
	return m
}

func TestOptionErrors(t *testing.T) {
	lib := library(t)
	_, err := New(lib, Options{Mix: []Count{{"protist_noctilucca", 1}}})
	if err == nil || !strings.Contains(err.Error(), "did you mean protist_") {
		t.Errorf("misspelt class: error %v, want a suggestion", err)
	}
	if _, err := New(lib, Options{Width: 20, Height: 20}); err == nil {
		t.Error("20x20 frame: no error")
	}
	g, err := New(lib, Options{Width: 200, Height: 150, Cells: 60, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.NewField(); !errors.Is(err, ErrFieldFull) {
		t.Errorf("60 cells on 200x150: error %v, want ErrFieldFull", err)
	} else {
		t.Logf("error: %v", err)
	}
}

// TestWriteStillsAndVideo writes both outputs and reads them back.
func TestWriteStillsAndVideo(t *testing.T) {
	lib := library(t)
	dir := t.TempDir()
	g, err := New(lib, Options{Width: 320, Height: 240, Cells: 3, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	truths, err := g.WriteStills(context.Background(), dir, 4, 2, "png")
	if err != nil {
		t.Fatal(err)
	}
	if len(truths) != 4 || truths[0].Field != truths[1].Field || truths[1].Field == truths[2].Field {
		t.Fatalf("truths %+v: want 4 frames, two per field", truths)
	}
	for i, tr := range truths {
		back, err := ReadFrameTruth(filepath.Join(dir, strings.TrimSuffix(tr.File, ".png")+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if back.File != tr.File || back.Frame != i || len(back.Cells) != 3 {
			t.Errorf("frame %d: read back %+v", i, back)
		}
		if _, err := os.Stat(filepath.Join(dir, tr.File)); err != nil {
			t.Error(err)
		}
	}
	rows := readCSV(t, filepath.Join(dir, "truth.csv"))
	if len(rows) != 1+4*3 || strings.Join(rows[0], ",") != "frame,file,field,cell,label,x,y,w,h,sample" {
		t.Errorf("truth.csv: %d rows, header %v", len(rows), rows[0])
	}

	path := filepath.Join(dir, "v", "clip.avi")
	vt, err := g.WriteVideo(context.Background(), path, 9, 3, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(vt.Frames) != 9 || len(vt.Cells) != 9 || vt.Fields != 3 {
		t.Errorf("video truth: %d frames, %d cells, %d fields; want 9, 9, 3", len(vt.Frames), len(vt.Cells), vt.Fields)
	}
	back, err := ReadVideoTruth(filepath.Join(dir, "v", "clip.json"))
	if err != nil || len(back.Frames) != 9 || back.Seed != 2 || back.FPS != 5 {
		t.Errorf("read back %+v, %v", back, err)
	}
	vc, err := gocv.VideoCaptureFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer vc.Close()
	m := gocv.NewMat()
	defer m.Close()
	n := 0
	for vc.Read(&m) && !m.Empty() {
		if m.Cols() != 320 || m.Rows() != 240 {
			t.Fatalf("frame %d is %dx%d", n, m.Cols(), m.Rows())
		}
		n++
	}
	if n != 9 {
		t.Errorf("the video holds %d frames, want 9", n)
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestEvaluate checks the detection scoring on hand-made boxes.
func TestEvaluate(t *testing.T) {
	truth := []Cell{{ID: 1, Box: Box{0, 0, 10, 10}}, {ID: 2, Box: Box{20, 20, 10, 10}}, {ID: 3, Box: Box{50, 50, 10, 10}}}
	found := []image.Rectangle{
		image.Rect(1, 1, 11, 11),   // matches cell 1 (IoU 0.68)
		image.Rect(0, 0, 10, 10),   // a better match for cell 1: takes it
		image.Rect(20, 20, 25, 25), // cell 2 at IoU 0.25: not enough
		image.Rect(90, 90, 99, 99), // nothing
	}
	s := Evaluate(truth, found, 0.5)
	if s.Hits != 1 || s.Truth != 3 || s.Found != 4 || len(s.Missed) != 2 || len(s.Spurious) != 3 {
		t.Errorf("score %+v: want 1 hit, 2 missed, 3 spurious", s)
	}
	if s.Matches[0].Found != 1 {
		t.Errorf("cell 1 matched to found box %d, want the exact box 1", s.Matches[0].Found)
	}
	if r, p := s.Recall(), s.Precision(); r != 1.0/3 || p != 0.25 {
		t.Errorf("recall %v precision %v", r, p)
	}
}
