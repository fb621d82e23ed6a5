package vision

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/phytoscreen/phytoscreen/capture"

	"github.com/phytoscreen/phytoscreen/synth"
	"gocv.io/x/gocv"
)

// TestSyntheticFramesRecallPrecision measures detection on frames composed of real NDSB
// cells (brightfield, vignetting, noise, blur): a match needs a box overlap (IoU) of 0.5.
// Three frame sizes, ten frames each, fixed seeds. The segmenter is tuned on the
// annotated real frames (realset_test.go), which decide accuracy; on these composites,
// whose faint organisms (medusae, ctenophores) break into pieces it does not join
// across gaps, it finds 0.90 of the cells with a precision of 0.79 (the first segmenter,
// tuned on these frames with a closing that joined everything nearby: 0.98 and 0.96, and
// 0.21 recall on the real frames). The bar guards that level; counting, which the
// tracker makes whole again, is checked in count_test.go.
func TestSyntheticFramesRecallPrecision(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and segments many frames; run without -short")
	}
	lib, err := synth.DefaultLibrary()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		opt  synth.Options
	}{
		{"1280x960", synth.Options{Seed: 1}},
		{"1920x1080", synth.Options{Seed: 3, Width: 1920, Height: 1080}},
		{"640x480 crowded", synth.Options{Seed: 6, Width: 640, Height: 480}},
	}
	var total synth.Score
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, err := synth.New(lib, c.opt)
			if err != nil {
				t.Fatal(err)
			}
			seg, err := NewSegmenter(Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer seg.Close()
			var sum synth.Score
			for k := 0; k < 10; k++ {
				f, err := g.NewField()
				if err != nil {
					t.Fatal(err)
				}
				m := rgbaMat(t, g.Render(f))
				objs, err := seg.Detect(m, c.name, k)
				m.Close()
				if err != nil {
					t.Fatal(err)
				}
				boxes := make([]image.Rectangle, len(objs))
				for i, o := range objs {
					boxes[i] = o.Box
				}
				sc := synth.Evaluate(f.Cells, boxes, 0.5)
				for _, i := range sc.Missed {
					t.Logf("frame %d: missed %s at %v", k, f.Cells[i].Sample, f.Cells[i].Box.Rect())
				}
				sum = sum.Add(sc)
			}
			t.Logf("%s: %d cells, %d found, %d matched: recall %.3f, precision %.3f",
				c.name, sum.Truth, sum.Found, sum.Hits, sum.Recall(), sum.Precision())
			if sum.Recall() < 0.85 || sum.Precision() < 0.65 {
				t.Errorf("recall %.3f (want >= 0.85), precision %.3f (want >= 0.65)", sum.Recall(), sum.Precision())
			}
			total = total.Add(sum)
		})
	}
	t.Logf("all sizes: %d cells, recall %.3f, precision %.3f", total.Truth, total.Recall(), total.Precision())
}

// TestPolarityAndIllumination: objects are what differs from the background either way,
// and uneven light is not an object.
func TestPolarityAndIllumination(t *testing.T) {
	cases := []struct {
		name  string
		sc    scene
		want  []image.Rectangle // expected boxes, in order of position
		noise float64
	}{
		{"brightfield: dark cells on a vignetted field", scene{w: 640, h: 480, level: 210, vignette: 0.45,
			shapes: []shape{disk(160, 120, 20, 0.55), disk(480, 360, 12, 0.7), disk(40, 440, 10, 0.6)}},
			[]image.Rectangle{image.Rect(140, 100, 181, 141), image.Rect(468, 348, 493, 373), image.Rect(30, 430, 51, 451)}, 2},
		{"dark field: bright cells on a dark field", scene{w: 640, h: 480, level: 40, vignette: 0.3,
			shapes: []shape{disk(320, 240, 25, 3.0), disk(100, 80, 9, 2.0)}},
			[]image.Rectangle{image.Rect(91, 71, 110, 90), image.Rect(295, 215, 346, 266)}, 1.5},
		{"phase contrast: dark cell with a bright halo is one object", scene{w: 640, h: 480, level: 120, vignette: 0.2,
			shapes: []shape{disk(300, 200, 24, 1.6), disk(300, 200, 18, 1.0/1.6*0.6)}},
			[]image.Rectangle{image.Rect(276, 176, 325, 225)}, 2},
		{"vignetting and a lamp gradient alone: no object", scene{w: 800, h: 600, level: 220, vignette: 0.6},
			nil, 2.5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := c.sc.gray()
			addNoise(g, c.noise, 7)
			objs := detect(t, g, Options{})
			if len(objs) != len(c.want) {
				for _, o := range objs {
					t.Logf("found %v contrast %.2f", o.Box, o.Contrast)
				}
				t.Fatalf("found %d objects, want %d", len(objs), len(c.want))
			}
			for i, o := range objs {
				if iou := IoU(o.Box, c.want[i]); iou < 0.8 {
					t.Errorf("object %d: box %v, want about %v (IoU %.2f)", i, o.Box, c.want[i], iou)
				}
			}
		})
	}
}

// TestMeasurements checks the features against shapes of known geometry.
func TestMeasurements(t *testing.T) {
	const um = 0.5 // µm per pixel
	cases := []struct {
		name                string
		sh                  shape
		area, major, minor  float64 // expected, px
		solidityMin, solMax float64
	}{
		{"disk r=20", disk(200, 150, 20, 0.5), math.Pi * 400, 40, 40, 0.95, 1},
		{"ellipse 40x15 at 30°", ellipse(200, 150, 40, 15, math.Pi/6, 0.5), math.Pi * 40 * 15, 80, 30, 0.95, 1},
		{"L shape (concave)", shape{box: image.Rect(150, 100, 251, 201), inside: func(x, y float64) bool {
			return (x >= 150 && x < 250 && y >= 180 && y < 200) || (x >= 150 && x < 170 && y >= 100 && y < 200)
		}, factor: 0.5}, 100*20 + 20*80, 0, 0, 0.48, 0.58}, // hull: the 100x100 box less an 80x80 half square
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := scene{w: 400, h: 300, level: 200, shapes: []shape{c.sh}}.gray()
			objs := detect(t, g, Options{UmPerPx: um, Close: -1})
			if len(objs) != 1 {
				t.Fatalf("found %d objects, want 1", len(objs))
			}
			o := objs[0]
			near := func(what string, got, want, tol float64) { within(t, what, got, want, tol) }
			near("area", o.AreaPx, c.area, 0.04)
			near("ESD", o.ESD, 2*math.Sqrt(c.area/math.Pi), 0.02)
			if c.major > 0 {
				near("major axis", o.Major, c.major, 0.04)
				near("minor axis", o.Minor, c.minor, 0.06)
				near("aspect", o.Aspect, c.minor/c.major, 0.08)
			}
			if o.Solidity < c.solidityMin || o.Solidity > c.solMax {
				t.Errorf("solidity %.3f, want %.2f..%.2f", o.Solidity, c.solidityMin, c.solMax)
			}
			near("mean gray", o.MeanGray, 100, 0.03)
			near("contrast", -o.Contrast, 0.5, 0.05)
			if o.UmPerPx != um || math.Abs(o.ESDUm-o.ESD*um) > 1e-9 || math.Abs(o.AreaUm2-o.AreaPx*um*um) > 1e-9 ||
				math.Abs(o.MajorUm-o.Major*um) > 1e-9 || math.Abs(o.PerimeterUm-o.Perimeter*um) > 1e-9 {
				t.Errorf("calibrated sizes %+v do not follow %.2f µm/px", o, um)
			}
			if o.Perimeter <= 0 || o.Focus <= 0 {
				t.Errorf("perimeter %.1f, focus %.1f: want both > 0", o.Perimeter, o.Focus)
			}
		})
	}
}

// TestMeasurementsAtWorkingSize: a frame large enough to be segmented shrunk (workScale)
// reports its objects in full-frame pixels: the sizes of the same shapes drawn on a
// small frame, scaled, with the box, centroid and crop in full-frame coordinates.
func TestMeasurementsAtWorkingSize(t *testing.T) {
	const w, h = 1700, 1200
	if k := workScale(w, h, 6); k != 2 {
		t.Fatalf("work scale of %dx%d is %d, want 2", w, h, k)
	}
	cases := []struct {
		name               string
		sh                 shape
		area, major, minor float64
		box                image.Rectangle
	}{
		{"disk r=40", disk(801, 601, 40, 0.5), math.Pi * 1600, 80, 80, image.Rect(761, 561, 841, 641)},
		{"ellipse 80x30 at 30°", ellipse(700, 500, 80, 30, math.Pi/6, 0.5), math.Pi * 80 * 30, 160, 60, image.Rectangle{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := scene{w: w, h: h, level: 200, shapes: []shape{c.sh}}.gray()
			objs := detect(t, g, Options{Close: -1, Margin: 8, Crops: CropFlat})
			if len(objs) != 1 {
				t.Fatalf("found %d objects, want 1", len(objs))
			}
			o := objs[0]
			near := func(what string, got, want, tol float64) { within(t, what, got, want, tol) }
			near("area", o.AreaPx, c.area, 0.05)
			near("ESD", o.ESD, 2*math.Sqrt(c.area/math.Pi), 0.03)
			near("major axis", o.Major, c.major, 0.05)
			near("minor axis", o.Minor, c.minor, 0.08)
			near("mean gray", o.MeanGray, 100, 0.05)
			cx, cy := (c.sh.box.Min.X+c.sh.box.Max.X)/2, (c.sh.box.Min.Y+c.sh.box.Max.Y)/2
			if math.Abs(o.Centroid[0]-float64(cx)) > 2 || math.Abs(o.Centroid[1]-float64(cy)) > 2 {
				t.Errorf("centroid %.1f,%.1f, want about %d,%d", o.Centroid[0], o.Centroid[1], cx, cy)
			}
			if !c.box.Empty() {
				for _, d := range [4]int{o.Box.Min.X - c.box.Min.X, o.Box.Min.Y - c.box.Min.Y, o.Box.Max.X - c.box.Max.X, o.Box.Max.Y - c.box.Max.Y} {
					if d < -3 || d > 3 {
						t.Errorf("box %v, want %v within 3 px", o.Box, c.box)
						break
					}
				}
			}
			if o.CropBox != o.Box.Inset(-8) || o.Crop == nil || o.Crop.Rect.Dx() != o.CropBox.Dx() || o.Crop.Rect.Dy() != o.CropBox.Dy() {
				t.Errorf("crop box %v (crop %v), want the full-size box %v padded by 8", o.CropBox, o.Crop.Rect, o.Box)
			}
		})
	}
}

// within fails t when got is not within tol (a share) of want.
func within(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol*want {
		t.Errorf("%s = %.2f, want %.2f ± %.0f%%", what, got, want, 100*tol)
	}
}

// TestFocusScore: the same cell blurred scores lower.
func TestFocusScore(t *testing.T) {
	sharp := scene{w: 300, h: 300, level: 200, shapes: []shape{disk(150, 150, 30, 0.4)}}.gray()
	m := grayMat(t, sharp)
	defer m.Close()
	blurred := gocv.NewMat()
	defer blurred.Close()
	gocv.GaussianBlur(m, &blurred, image.Pt(0, 0), 3, 3, gocv.BorderReplicate)
	seg, err := NewSegmenter(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	a, err := seg.Detect(m, "sharp", 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := seg.Detect(blurred, "blurred", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 1 || len(b) != 1 {
		t.Fatalf("found %d and %d objects, want 1 and 1", len(a), len(b))
	}
	if a[0].Focus < 4*b[0].Focus {
		t.Errorf("focus sharp %.1f, blurred %.1f: want the sharp one at least 4 times higher", a[0].Focus, b[0].Focus)
	}
}

// TestCropsMarginBorder: crops are the box padded by the margin, clipped to the frame;
// objects at the edge are flagged; a flat crop has a white background.
func TestCropsMarginBorder(t *testing.T) {
	g := scene{w: 320, h: 240, level: 180, vignette: 0.3, shapes: []shape{
		disk(160, 120, 15, 0.5),  // inside
		rect(0, 50, 12, 80, 0.5), // touches the left edge
	}}.gray()
	for _, c := range []struct {
		name   string
		margin int
		style  CropStyle
	}{{"flat, margin 8", 8, CropFlat}, {"raw, margin 20", 20, CropRaw}, {"no margin", -1, CropFlat}, {"no crops", 8, CropNone}} {
		t.Run(c.name, func(t *testing.T) {
			objs := detect(t, g, Options{Margin: c.margin, Crops: c.style})
			if len(objs) != 2 {
				t.Fatalf("found %d objects, want 2", len(objs))
			}
			m := max(c.margin, 0)
			for _, o := range objs {
				want := o.Box.Inset(-m).Intersect(image.Rect(0, 0, 320, 240))
				if o.CropBox != want {
					t.Errorf("crop box %v, want %v (box %v padded by %d, clipped)", o.CropBox, want, o.Box, m)
				}
				if c.style == CropNone {
					if o.Crop != nil {
						t.Error("CropNone kept a crop")
					}
					continue
				}
				if o.Crop == nil || o.Crop.Rect.Size() != want.Size() {
					t.Fatalf("crop %v, want size %v", o.Crop, want.Size())
				}
				corner := o.Crop.GrayAt(0, 0).Y
				if c.style == CropFlat && corner < 245 && m > 0 {
					t.Errorf("flat crop background %d, want about 255", corner)
				}
				if c.style == CropRaw && math.Abs(float64(corner)-float64(g.GrayAt(want.Min.X, want.Min.Y).Y)) > 1 {
					t.Errorf("raw crop corner %d, frame %d", corner, g.GrayAt(want.Min.X, want.Min.Y).Y)
				}
			}
			if objs[0].OnBorder == objs[1].OnBorder {
				t.Errorf("border flags %v and %v: want exactly the left-edge object flagged", objs[0].OnBorder, objs[1].OnBorder)
			}
		})
	}
}

// TestSizeLimits: limits are equivalent diameters, in px or, with a calibration, µm.
func TestSizeLimits(t *testing.T) {
	// Disks of diameter 8, 20 and 60 px.
	g := scene{w: 400, h: 200, level: 200, shapes: []shape{disk(50, 100, 4, 0.4), disk(150, 100, 10, 0.4), disk(300, 100, 30, 0.4)}}.gray()
	cases := []struct {
		name     string
		opt      Options
		wantESDs []float64 // approximate, px
		wantErr  bool
	}{
		{"defaults (6 px and up)", Options{}, []float64{8, 20, 60}, false},
		{"min 12px", Options{MinSize: Size{12, UnitPx}}, []float64{20, 60}, false},
		{"max 30px", Options{MaxSize: Size{30, UnitPx}}, []float64{8, 20}, false},
		{"min 5um at 0.5 um/px = 10px", Options{UmPerPx: 0.5, MinSize: Size{5, UnitUm}}, []float64{20, 60}, false},
		{"bare number is um when calibrated: 30 um = 15 px", Options{UmPerPx: 2, MinSize: Size{30, UnitAuto}}, []float64{20, 60}, false},
		{"bare number is px when uncalibrated", Options{MinSize: Size{30, UnitAuto}}, []float64{60}, false},
		{"um without calibration", Options{MinSize: Size{5, UnitUm}}, nil, true},
		{"max below min", Options{MinSize: Size{20, UnitPx}, MaxSize: Size{10, UnitPx}}, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			seg, err := NewSegmenter(c.opt)
			if c.wantErr {
				if err == nil {
					seg.Close()
					t.Fatal("no error")
				}
				t.Logf("error: %v", err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			seg.Close()
			objs := detect(t, g, c.opt)
			slices.SortFunc(objs, func(a, b Object) int { return a.Box.Min.X - b.Box.Min.X })
			if len(objs) != len(c.wantESDs) {
				t.Fatalf("found %d objects, want %d", len(objs), len(c.wantESDs))
			}
			for i, o := range objs {
				if math.Abs(o.ESD-c.wantESDs[i]) > 0.15*c.wantESDs[i]+1 {
					t.Errorf("object %d ESD %.1f, want about %.0f", i, o.ESD, c.wantESDs[i])
				}
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	cases := []struct {
		in      string
		want    Size
		px      float64 // with 0.5 µm/px
		wantErr bool
	}{
		{"12", Size{12, UnitAuto}, 24, false},
		{"12px", Size{12, UnitPx}, 12, false},
		{"8um", Size{8, UnitUm}, 16, false},
		{"8 µm", Size{8, UnitUm}, 16, false},
		{"2.5UM", Size{2.5, UnitUm}, 5, false},
		{"-3", Size{}, 0, true},
		{"big", Size{}, 0, true},
		{"NaN", Size{}, 0, true},
		{"Inf px", Size{}, 0, true},
		{"+inf", Size{}, 0, true},
	}
	for _, c := range cases {
		got, err := ParseSize(c.in)
		if (err != nil) != c.wantErr {
			t.Errorf("ParseSize(%q) error %v, want error %v", c.in, err, c.wantErr)
			continue
		}
		if c.wantErr {
			continue
		}
		px, err := got.Pixels(0.5)
		if got != c.want || err != nil || px != c.px {
			t.Errorf("ParseSize(%q) = %v (%v px, %v), want %v (%v px)", c.in, got, px, err, c.want, c.px)
		}
	}
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"still": ModeStill, "": ModeStill, "Flow": ModeFlow, "flow-through": ModeFlow} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseMode("pan"); err == nil {
		t.Error("ParseMode(pan): no error")
	}
}

// TestEdgeLinesAndIgnore: a sensor's dark first row and the camera's fixed marks are
// not objects; a cell beside them still is.
func TestEdgeLinesAndIgnore(t *testing.T) {
	g := scene{w: 320, h: 240, level: 180, shapes: []shape{
		rect(0, 0, 320, 1, 0.7),     // dark first row, whole width
		rect(40, 1, 200, 2, 0.8),    // and part of the second
		rect(268, 0, 280, 6, 0.2),   // a fixed dark dot on the top edge
		disk(160, 120, 12, 0.5),     // a cell
		rect(150, 2, 170, 14, 0.55), // a cell touching the dark row
	}}.gray()
	objs := detect(t, g, Options{Ignore: []image.Rectangle{image.Rect(266, 0, 284, 8)}})
	if len(objs) != 2 {
		for _, o := range objs {
			t.Logf("found %v", o.Box)
		}
		t.Fatalf("found %d objects, want the 2 cells", len(objs))
	}
	if top := objs[0].Box; top.Dx() > 30 || top.Min.X < 140 {
		t.Errorf("the cell at the top edge came out as %v: joined to the edge line", top)
	}
}

// TestEdgeLinesOfAnEnlargedFrame: the same camera's frame saved at four times its size
// (1280x960, segmented at that size) carries its dark edge rows four times as deep; they
// are still not an object, and the cell touching them is still found on its own. Judging
// only the first three rows left the rest of the band as a frame-wide "filament" of a
// hundred estimated cells; a piece of a row beyond the band, too short to clear its row,
// a thin "filament" of thirty.
func TestEdgeLinesOfAnEnlargedFrame(t *testing.T) {
	g := scene{w: 1280, h: 960, level: 180, shapes: []shape{
		rect(0, 0, 1280, 4, 0.7),      // the dark first row, four rows deep
		rect(160, 4, 800, 12, 0.8),    // and part of the second
		rect(900, 12, 1000, 15, 0.8),  // and a piece beyond it, under a quarter of its row
		disk(640, 480, 48, 0.5),       // a cell
		rect(600, 8, 680, 56, 0.55),   // a cell touching the dark rows
		rect(0, 300, 4, 700, 0.7),     // a dark column on the left edge, part of the height
		rect(1272, 0, 1280, 960, 0.7), // and the last columns, whole height
	}}.gray()
	objs := detect(t, g, Options{})
	for _, o := range objs {
		t.Logf("found %v (%s, %.0f cells)", o.Box, o.Kind, o.Cells)
	}
	if len(objs) != 2 {
		t.Fatalf("found %d objects, want the 2 cells", len(objs))
	}
	for _, o := range objs {
		if o.Box.Dx() > 120 || o.Box.Dy() > 120 {
			t.Errorf("object %v: joined to the edge band", o.Box)
		}
	}
}

// TestBadFrames: empty frames, unsupported formats and tiny frames are errors that say
// so; nothing crashes.
func TestBadFrames(t *testing.T) {
	seg, err := NewSegmenter(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	empty := gocv.NewMat()
	defer empty.Close()
	f16 := gocv.NewMatWithSize(100, 100, gocv.MatTypeCV16UC1)
	defer f16.Close()
	tiny := gocv.NewMatWithSize(8, 8, gocv.MatTypeCV8UC1)
	defer tiny.Close()
	for _, c := range []struct {
		name string
		m    gocv.Mat
		want error
	}{{"empty", empty, ErrEmptyFrame}, {"16-bit", f16, ErrFrameFormat}, {"8x8", tiny, ErrFrameTooTiny}} {
		_, err := seg.Process(capture.Frame{Index: 3, Source: "bad", Mat: c.m})
		if !errors.Is(err, c.want) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.want)
		} else {
			t.Logf("%s: %v", c.name, err)
		}
	}
}

// TestSizeChangeMidStream: a frame of another size restarts background and tracking,
// reported as a status, and the stream goes on.
func TestSizeChangeMidStream(t *testing.T) {
	var log statusLog
	seg, err := NewSegmenter(Options{OnStatus: log.add})
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	big := scene{w: 320, h: 240, level: 200, shapes: []shape{disk(100, 100, 15, 0.5)}}.gray()
	small := scene{w: 160, h: 200, level: 200, shapes: []shape{disk(100, 100, 15, 0.5)}}.gray()
	var news []bool
	fields := 1 // the first frame's, which FrameInfo does not mark
	for i, g := range []*image.Gray{big, big, small, small, big} {
		m := grayMat(t, g)
		objs, err := seg.Process(capture.Frame{Index: i, Source: "mixed", Mat: m})
		m.Close()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if seg.Frame().NewField {
			fields++
		}
		if len(objs) != 1 {
			t.Fatalf("frame %d: %d objects, want 1", i, len(objs))
		}
		news = append(news, objs[0].New)
	}
	if log.count(capture.StatusSizeChanged) != 2 {
		t.Errorf("%d size-change statuses, want 2: %v", log.count(capture.StatusSizeChanged), log.events)
	}
	// The frames say each new size starts a field, as the stats count them: screen (which
	// counts the frames' word) and segment (the stats) agree on a folder of mixed sizes.
	if st := seg.Stats(); fields != 3 || st.Fields != fields {
		t.Errorf("fields: %d marked by the frames, %d in the stats; want 3 and 3", fields, st.Fields)
	}
	want := []bool{true, false, true, false, true}
	for i := range want {
		if news[i] != want[i] {
			t.Errorf("frame %d: New=%v, want %v (a new size is a new stream)", i, news[i], want[i])
		}
	}
	t.Logf("statuses: %v", log.events)
}

// TestRunOnBadFolder runs the segmenter over the same kind of folder through Run: the
// frame of another size restarts the stream, and the run finishes.
func TestRunOnBadFolder(t *testing.T) {
	dir := t.TempDir()
	writeScenePNG(t, filepath.Join(dir, "a1.png"), scene{w: 160, h: 120, level: 200, shapes: []shape{disk(80, 60, 10, 0.5)}})
	writeScenePNG(t, filepath.Join(dir, "a2.png"), scene{w: 120, h: 160, level: 200, shapes: []shape{disk(60, 80, 10, 0.5)}})
	// The first size again, another frame (the same pixels would be a duplicate, left out).
	writeScenePNG(t, filepath.Join(dir, "a3.png"), scene{w: 160, h: 120, level: 200, shapes: []shape{disk(81, 60, 10, 0.5)}})
	if err := os.WriteFile(filepath.Join(dir, "a4.jpg"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var log statusLog
	src, err := capture.OpenFolder(dir, log.add)
	if err != nil {
		t.Fatal(err)
	}
	seg, err := NewSegmenter(Options{OnStatus: log.add})
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	frames, counted := 0, 0
	err = Run(context.Background(), src, seg, func(f capture.Frame, objs []Object) error {
		frames++
		for _, o := range objs {
			if o.New {
				counted++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if frames != 3 || counted != 3 || log.count(capture.StatusSizeChanged) != 2 || log.count(capture.StatusSkipped) != 1 {
		t.Errorf("%d frames, %d counted, statuses %v: want 3 frames, 3 counted (each size change is a new stream), 2 size changes, 1 skip",
			frames, counted, log.events)
	}
}

// TestIgnoreCoveringTheFrameEndsTheRun: Ignore regions that cover the whole frame,
// alone or together, left nothing to detect: every frame counted 0 cells and the run
// read as clean water (helper-83). The first such frame ends the run with
// ErrAllIgnored, saying the frame's size; regions that leave any of it open do not.
func TestIgnoreCoveringTheFrameEndsTheRun(t *testing.T) {
	dir := t.TempDir()
	for i, x := range []float64{60, 100} {
		writeScenePNG(t, filepath.Join(dir, fmt.Sprintf("f%d.png", i+1)), scene{w: 160, h: 120, level: 200, shapes: []shape{disk(x, 60, 10, 0.5)}})
	}
	for _, c := range []struct {
		name   string
		ignore []image.Rectangle
		all    bool
	}{
		{"larger than the frame", []image.Rectangle{image.Rect(0, 0, 5000, 5000)}, true},
		{"two halves", []image.Rectangle{image.Rect(0, 0, 80, 120), image.Rect(80, 0, 160, 120)}, true},
		{"four overlapping quarters", []image.Rectangle{image.Rect(0, 0, 90, 70), image.Rect(70, 0, 160, 70), image.Rect(0, 50, 90, 120), image.Rect(70, 50, 160, 120)}, true},
		{"a column left open", []image.Rectangle{image.Rect(0, 0, 80, 120), image.Rect(81, 0, 160, 120)}, false},
		{"a corner mark", []image.Rectangle{image.Rect(0, 0, 10, 8)}, false},
		{"outside the frame", []image.Rectangle{image.Rect(200, 200, 300, 300)}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var log statusLog
			src, err := capture.OpenFolder(dir, log.add)
			if err != nil {
				t.Fatal(err)
			}
			seg, err := NewSegmenter(Options{Ignore: c.ignore, OnStatus: log.add})
			if err != nil {
				t.Fatal(err)
			}
			defer seg.Close()
			frames := 0
			err = Run(context.Background(), src, seg, func(capture.Frame, []Object) error { frames++; return nil })
			if !c.all {
				if err != nil || frames != 2 {
					t.Errorf("%d frames, %v; want both frames segmented", frames, err)
				}
				return
			}
			if !errors.Is(err, ErrAllIgnored) || !strings.Contains(err.Error(), "f1.png frame 0 (160x120): the regions to ignore cover the whole frame") ||
				frames != 0 || log.count(capture.StatusSkipped) != 0 {
				t.Errorf("%d frames, %d skipped, %v; want the run ended at the first frame with ErrAllIgnored and its size", frames, log.count(capture.StatusSkipped), err)
			}
		})
	}
}

// TestColourCrops: with ColourCrops, an object of a colour frame also gets its crop in
// the frame's colours, the same region as its gray crop; a gray frame gives none. Also
// on a frame segmented at the working size (the crop is cut from the full frame).
func TestColourCrops(t *testing.T) {
	for _, size := range []image.Point{{400, 300}, {1700, 1200}} {
		img := image.NewRGBA(image.Rect(0, 0, size.X, size.Y))
		cx, cy, r := size.X/2, size.Y/2, size.Y/10
		for y := 0; y < size.Y; y++ {
			for x := 0; x < size.X; x++ {
				c := color.RGBA{200, 200, 200, 255}
				if (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r {
					c = color.RGBA{60, 150, 40, 255} // a green cell
				}
				img.SetRGBA(x, y, c)
			}
		}
		m := rgbaMat(t, img)
		objs := func() []Object {
			seg, err := NewSegmenter(Options{ColourCrops: true, Close: -1})
			if err != nil {
				t.Fatal(err)
			}
			defer seg.Close()
			objs, err := seg.Detect(m, "green", 0)
			if err != nil {
				t.Fatal(err)
			}
			return objs
		}()
		m.Close()
		if len(objs) != 1 {
			t.Fatalf("%v: %d objects, want 1", size, len(objs))
		}
		o := objs[0]
		if o.ColourCrop == nil || o.ColourCrop.Rect.Size() != o.Crop.Rect.Size() {
			t.Fatalf("%v: colour crop %v, gray crop %v: want both, the same size", size, o.ColourCrop, o.Crop.Rect)
		}
		mid := o.ColourCrop.RGBAAt(o.ColourCrop.Rect.Dx()/2, o.ColourCrop.Rect.Dy()/2)
		if mid != (color.RGBA{60, 150, 40, 255}) {
			t.Errorf("%v: the crop's centre is %v, want the cell's green", size, mid)
		}
	}
	g := scene{w: 400, h: 300, level: 200, shapes: []shape{disk(200, 150, 20, 0.5)}}.gray()
	if objs := detect(t, g, Options{ColourCrops: true}); len(objs) != 1 || objs[0].ColourCrop != nil {
		t.Errorf("a gray frame: %d objects, colour crop %v: want one, without", len(objs), objs[0].ColourCrop)
	}
}
