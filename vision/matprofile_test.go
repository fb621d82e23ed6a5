//go:build matprofile

package vision

import (
	"bytes"
	"context"
	"errors"
	"image"
	"os"
	"path/filepath"
	"testing"

	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/synth"

	"github.com/phytoscreen/phytoscreen/assets"
	"gocv.io/x/gocv"
)

// TestNoMatLeak processes over 500 frames (the demo video 14 times in still mode, then in
// flow mode, the real frames folder with its change of frame size, single-image
// detection) and checks gocv's Mat profile returns to where it started: every Mat made is
// closed. Run with: go test -tags matprofile -run TestNoMatLeak ./vision/
func TestNoMatLeak(t *testing.T) {
	video := filepath.Join(t.TempDir(), "demo.avi")
	if err := os.WriteFile(video, assets.DemoVideo(), 0o644); err != nil {
		t.Fatal(err)
	}
	start := gocv.MatProfile.Count()
	frames := 0
	count := func(f capture.Frame, objs []Object) error { frames++; return nil }
	for _, mode := range []Mode{ModeStill, ModeFlow} {
		seg, err := NewSegmenter(Options{Mode: mode, OnStatus: func(capture.Status) {}})
		if err != nil {
			t.Fatal(err)
		}
		for range 7 {
			src, err := capture.OpenVideo(video)
			if err != nil {
				t.Fatal(err)
			}
			if err := Run(context.Background(), src, seg, count); err != nil {
				t.Fatal(err)
			}
			src.Close()
		}
		src, err := capture.OpenFolder(filepath.Join("..", "testdata", "microscope"), func(capture.Status) {})
		if err != nil {
			t.Fatal(err)
		}
		if err := Run(context.Background(), src, seg, count); err != nil {
			t.Fatal(err)
		}
		src.Close()
		seg.Close()
	}
	seg, err := NewSegmenter(Options{})
	if err != nil {
		t.Fatal(err)
	}
	img, err := capture.OpenImage(filepath.Join("..", "testdata", "microscope", "non-algae-20230608154459.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := img.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := seg.Detect(f.Mat, f.Source, 0); err != nil {
		t.Fatal(err)
	}
	f.Mat.Close()
	seg.Close()
	// Every optional path: a frame segmented at the working size (1920x1080), colour
	// channels, the ridge filter, an oversize region cut again, a crowded frame.
	seg, err = NewSegmenter(Options{Ridges: true, Colour: true, OnStatus: func(capture.Status) {}})
	if err != nil {
		t.Fatal(err)
	}
	lib, err := synth.DefaultLibrary()
	if err != nil {
		t.Fatal(err)
	}
	g, err := synth.New(lib, synth.Options{Width: 1920, Height: 1080, Seed: 5, Look: synth.LookPhase})
	if err != nil {
		t.Fatal(err)
	}
	field, err := g.NewField()
	if err != nil {
		t.Fatal(err)
	}
	for i, img := range []*image.RGBA{g.Render(field), synth.DebrisFrame(640, 480, 4), synth.DebrisFrame(1920, 1080, 4)} {
		m := rgbaMat(t, img)
		// The debris frames are refused as crowded once segmented: that path too.
		if _, err := seg.Process(capture.Frame{Index: i, Source: "paths", Mat: m}); err != nil && (i == 0 || !errors.Is(err, ErrCrowdedFrame)) {
			t.Fatal(err)
		}
		m.Close()
		frames++
	}
	seg.Close()
	// The learned detector's boxes and colour crops, on the hand-annotated real frames
	// (colour JPEGs): the paths a run with the detector and the cyanobacteria pack takes
	// (helper-73: not covered). The detector is closed before the count, as the app
	// closes it.
	det := builtinDetector(t)
	seg, err = NewSegmenter(Options{Boxes: det, ColourCrops: true, OnStatus: func(capture.Status) {}})
	if err != nil {
		t.Fatal(err)
	}
	real, err := capture.OpenFolder(filepath.Join("..", "testdata", "real-frames"), func(capture.Status) {})
	if err != nil {
		t.Fatal(err)
	}
	if err := Run(context.Background(), real, seg, count); err != nil {
		t.Fatal(err)
	}
	real.Close()
	seg.Close()
	det.Close()
	end := gocv.MatProfile.Count()
	t.Logf("%d frames processed; Mat profile count %d before, %d after", frames, start, end)
	if frames < 500 {
		t.Errorf("only %d frames processed, want at least 500", frames)
	}
	if end != start {
		var b bytes.Buffer
		gocv.MatProfile.WriteTo(&b, 1)
		t.Errorf("%d Mats not closed:\n%s", end-start, b.String())
	}
}
