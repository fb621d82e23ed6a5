package vision

import (
	"errors"
	"fmt"
	"image"
	"strings"
	"testing"

	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/synth"
)

// Frames no segmenter should choke on (issue 11): an all-black frame, a saturated one,
// pure noise, a frame that is all debris, a one-pixel line across the frame, and a field
// far out of focus. None crashes or yields a giant object: a frame that is all debris
// is refused as crowded (not examined, like a blank one), its giant region withheld,
// and the frames that hold nothing give nothing.
func TestBadFramesReportedSensibly(t *testing.T) {
	const w, h = 640, 480
	lib, err := synth.DefaultLibrary()
	if err != nil {
		t.Fatal(err)
	}
	g, err := synth.New(lib, synth.Options{Width: w, Height: h, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	field, err := g.NewField()
	if err != nil {
		t.Fatal(err)
	}
	sharp, blurred := g.Render(field), g.DefocusedFrame(field, 8)
	// A frame that shows nothing examined no water: refused as blank, saying why and the
	// fix (helper-68: a lamp off was counted as examined); a dim or pale field is not.
	dim, pale := image.NewRGBA(image.Rect(0, 0, w, h)), image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range dim.Pix {
		dim.Pix[i], pale.Pix[i] = 40, 245
	}
	for _, c := range []struct {
		name string
		img  *image.RGBA
		want string // "" when the frame is not blank
	}{
		{"all black", synth.BlackFrame(w, h), "all black (the brightest pixels at"},
		{"saturated", synth.SaturatedFrame(w, h), "all white (the darkest pixels at 255 of 255): saturated"},
		{"dim", dim, ""},
		{"pale", pale, ""},
	} {
		t.Run(c.name, func(t *testing.T) { checkBlank(t, c.name, c.img, Options{}, c.want) })
	}
	cases := []badCase{
		{"pure noise", synth.NoiseFrame(w, h, 3), noGiant},
		{"one-pixel line", synth.LineFrame(w, h, 5), func(objs []Object, fi FrameInfo) error {
			// One thin object at most (a hair is an object), never oversize: its box
			// spans the frame, its pixels do not.
			if len(objs) > 1 {
				return fmt.Errorf("%d objects, want at most one", len(objs))
			}
			for _, o := range objs {
				if o.Kind == KindColony {
					return fmt.Errorf("the line is a %s", o.Kind)
				}
			}
			return noGiant(objs, fi)
		}},
	}
	t.Run("all debris", func(t *testing.T) {
		// A frame that is mostly objects examined no water it can count: refused, saying
		// why and the fix, as a blank frame is, and described all the same (helper-72: its
		// volume counted while its mats were withheld, a bloom read "No alert").
		debris := synth.DebrisFrame(w, h, 4)
		objs, fi, err := processOne(t, "all debris", debris, Options{})
		if !errors.Is(err, ErrCrowdedFrame) || !strings.Contains(err.Error(), "dilute the sample") || len(objs) != 0 {
			t.Errorf("%d objects, error %v: want ErrCrowdedFrame saying to dilute, and no object", len(objs), err)
		}
		if err := crowdedNoGiant(nil, fi); err != nil {
			t.Error(err)
		}
		// Alone, as classify and eval cut an image, its objects come without the mats.
		if err := crowdedNoGiant(detectOne(t, debris)); err != nil {
			t.Error(err)
		}
	})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			objs, fi := processBadFrame(t, c.name, c.img, Options{})
			if err := c.check(objs, fi); err != nil {
				t.Error(err)
			}
		})
	}
	// Out of focus: the same field sharp, then blurred far out of focus, in still mode:
	// the blurred frame is flagged and starts no cell.
	t.Run("out of focus", func(t *testing.T) {
		seg, err := NewSegmenter(Options{OnStatus: func(capture.Status) {}})
		if err != nil {
			t.Fatal(err)
		}
		defer seg.Close()
		var infos []FrameInfo
		for i, img := range []*image.RGBA{sharp, blurred} {
			m := rgbaMat(t, img)
			if _, err := seg.Process(capture.Frame{Index: i, Source: "focus", Mat: m}); err != nil {
				t.Fatal(err)
			}
			m.Close()
			infos = append(infos, seg.Frame())
		}
		t.Logf("focus sharp %.3f, blurred %.3f", infos[0].Focus, infos[1].Focus)
		if infos[0].OutOfFocus || !infos[1].OutOfFocus || !infos[1].Held {
			t.Errorf("sharp frame %+v, blurred frame %+v: want only the blurred one out of focus, and held", infos[0], infos[1])
		}
	})
	// A frame with no object has no focus of its own. In a flow cell, an empty frame
	// after a sharp one is an empty stretch, not out of focus (a user pass saw "out of
	// focus" said of empty frames); on a still slide, the same field blurred past
	// finding anything is out of focus, as a milder blur is.
	// The empty stretch is the same lamp without cells: a uniform gray after a vignetted
	// field differs from the flow's background everywhere, and is refused as crowded.
	gEmpty, err := synth.New(lib, synth.Options{Width: w, Height: h, Seed: 11, Cells: -1})
	if err != nil {
		t.Fatal(err)
	}
	emptyField, err := gEmpty.NewField()
	if err != nil {
		t.Fatal(err)
	}
	empty := gEmpty.Render(emptyField)
	for _, c := range []struct {
		mode  Mode
		next  *image.RGBA
		flags bool
	}{{ModeFlow, empty, false}, {ModeStill, g.DefocusedFrame(field, 32), true}} {
		t.Run(fmt.Sprintf("nothing found after sharp, %v", c.mode), func(t *testing.T) {
			seg, err := NewSegmenter(Options{Mode: c.mode, OnStatus: func(capture.Status) {}})
			if err != nil {
				t.Fatal(err)
			}
			defer seg.Close()
			var infos []FrameInfo
			for i, img := range []*image.RGBA{sharp, sharp, c.next} {
				m := rgbaMat(t, img)
				if _, err := seg.Process(capture.Frame{Index: i, Source: "empty", Mat: m}); err != nil {
					t.Fatal(err)
				}
				m.Close()
				infos = append(infos, seg.Frame())
			}
			if infos[0].Focus == 0 || infos[2].Objects != 0 || infos[2].NewField {
				t.Fatalf("frames %+v: want objects in the sharp frame, none in the last, of the same field", infos)
			}
			if infos[2].OutOfFocus != c.flags {
				t.Errorf("frame with nothing found %+v: out of focus %v, want %v", infos[2], infos[2].OutOfFocus, c.flags)
			}
		})
	}
}

// checkBlank processes img in a fresh segmenter with opt: refused as ErrBlankFrame saying
// want, or, when want is "", processed.
func checkBlank(t *testing.T, name string, img *image.RGBA, opt Options, want string) {
	t.Helper()
	objs, _, err := processOne(t, name, img, opt)
	switch {
	case want == "" && err != nil:
		t.Errorf("refused: %v", err)
	case want != "" && (!errors.Is(err, ErrBlankFrame) || !strings.Contains(err.Error(), want)):
		t.Errorf("%d objects, error %v; want ErrBlankFrame saying %q", len(objs), err, want)
	}
}

// processOne runs img through a fresh segmenter with opt, as a run's first frame.
func processOne(t *testing.T, name string, img *image.RGBA, opt Options) ([]Object, FrameInfo, error) {
	t.Helper()
	opt.OnStatus = func(capture.Status) {}
	seg, err := NewSegmenter(opt)
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	m := rgbaMat(t, img)
	defer m.Close()
	objs, err := seg.Process(capture.Frame{Source: name, Mat: m})
	return objs, seg.Frame(), err
}

// detectOne cuts img alone (Segmenter.Detect) and says what it found of it.
func detectOne(t *testing.T, img *image.RGBA) ([]Object, FrameInfo) {
	t.Helper()
	seg, err := NewSegmenter(Options{OnStatus: func(capture.Status) {}})
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	m := rgbaMat(t, img)
	defer m.Close()
	objs, err := seg.Detect(m, "image", 0)
	if err != nil {
		t.Fatalf("Detect: %v", err)
	}
	return objs, seg.Frame()
}

// badCase is a bad-input frame and what must hold of what the segmenter makes of it.
type badCase struct {
	name  string
	img   *image.RGBA
	check func(objs []Object, fi FrameInfo) error
}

// processBadFrame runs one frame through a fresh segmenter with opt, as a run would,
// and fails the test if it is not processed.
func processBadFrame(t *testing.T, name string, img *image.RGBA, opt Options) ([]Object, FrameInfo) {
	t.Helper()
	objs, fi, err := processOne(t, name, img, opt)
	if err != nil {
		t.Fatalf("error %v: want the frame processed", err)
	}
	t.Logf("%d objects, %d oversize (%d withheld), %.0f%% covered, focus %.3f", len(objs), fi.Oversize, fi.Withheld, 100*fi.Covered, fi.Focus)
	return objs, fi
}

// noGiant: nothing over MaxShare of the frame at all.
func noGiant(objs []Object, fi FrameInfo) error {
	for _, o := range objs {
		if o.Oversize {
			return fmt.Errorf("object %v covers more than %.0f%% of the frame", o.Box, 100*MaxShare)
		}
	}
	return nil
}

// crowdedNoGiant: a frame that is mostly objects is reported crowded, and what is over
// MaxShare of it is withheld (reported in the frame's figures, not returned): no giant
// object reaches the count.
func crowdedNoGiant(objs []Object, fi FrameInfo) error {
	if !fi.Crowded || fi.Covered <= crowdedShare {
		return fmt.Errorf("frame %.0f%% covered, crowded %v: want it reported crowded", 100*fi.Covered, fi.Crowded)
	}
	if fi.Withheld != fi.Oversize || fi.Oversize == 0 {
		return fmt.Errorf("%d objects over %.0f%% of the frame, %d withheld: want them all withheld and reported", fi.Oversize, 100*MaxShare, fi.Withheld)
	}
	return noGiant(objs, fi)
}
