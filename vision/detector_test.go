package vision

import (
	"errors"
	"image"
	"slices"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/synth"
)

// builtinDetector opens the built-in learned detector; it needs the ONNX Runtime
// library (make deps) and fails without it.
func builtinDetector(t testing.TB) *inference.Detector {
	t.Helper()
	if _, err := inference.InitRuntime(""); err != nil {
		t.Fatalf("the detector needs ONNX Runtime: %v", err)
	}
	fsys, ok := assets.BuiltinDetector(assets.DetectorName)
	if !ok {
		t.Fatalf("no built-in detector %s", assets.DetectorName)
	}
	det, err := inference.LoadDetectorFS(fsys, assets.DetectorName)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { det.Close() })
	return det
}

// TestRealAnnotatedFramesDetector measures the segmenter with the built-in learned
// detector adding what the thresholds miss (Options.Boxes) on the real annotated frames: trained on other frames of the
// same camera (testdata/real-frames-train, no frame within 3 minutes of an annotated
// one), its checkpoint and threshold chosen on the tune split, the test split unseen
// until the figures below were taken. The goal (issue 11): recall 0.85 and precision
// 0.75 at IoU 0.3, no object over a tenth of the frame where the truth has none.
func TestRealAnnotatedFramesDetector(t *testing.T) {
	det := builtinDetector(t)
	for _, split := range realSplits(t, false) {
		total, over := realSplitScores(t, split, loadRealFrames(t, split), Options{Boxes: det})
		if split != "test" {
			continue
		}
		if total.Recall() < detectorGuard.recall || total.Precision() < detectorGuard.precision {
			t.Errorf("test split at IoU 0.3 with the detector: recall %.3f (guard %.2f; goal 0.85), precision %.3f (guard %.2f; goal 0.75)",
				total.Recall(), detectorGuard.recall, total.Precision(), detectorGuard.precision)
		}
		if over > detectorGuard.oversize {
			t.Errorf("%d objects over 10%% of the frame where the truth has none as large with the detector (guard %d; goal 0)", over, detectorGuard.oversize)
		}
	}
}

// detectorGuard is the level reached with the detector on the test split, a little below
// it, so that a change that loses ground fails: measured recall 0.563 (236 of 419),
// precision 0.759, 12 oversize objects (the thresholds alone: 0.530, 0.776, 12; the
// figures are in docs/detector.md).
var detectorGuard = struct {
	recall, precision float64
	oversize          int
}{0.54, 0.74, 14}

// TestDetectorBadFrames: the bad-input frames of issue 11 at the detector's frame size,
// with the detector adding objects: none crashes, the frames that show nothing are
// refused as blank, none yields an object over a tenth of the frame.
func TestDetectorBadFrames(t *testing.T) {
	const w, h = 320, 240
	det := builtinDetector(t)
	checkBlank(t, "all black", synth.BlackFrame(w, h), Options{Boxes: det}, "all black")
	checkBlank(t, "saturated", synth.SaturatedFrame(w, h), Options{Boxes: det}, "all white")
	cases := []badCase{
		{"pure noise", synth.NoiseFrame(w, h, 3), noGiant},
		{"one-pixel line", synth.LineFrame(w, h, 5), noGiant},
	}
	// A frame that is all debris is refused as crowded with the detector too, and the
	// detector's boxes add no giant object to it when it is cut alone.
	if objs, _, err := processOne(t, "all debris", synth.DebrisFrame(w, h, 4), Options{Boxes: det}); !errors.Is(err, ErrCrowdedFrame) || len(objs) != 0 {
		t.Errorf("all debris: %d objects, error %v; want ErrCrowdedFrame", len(objs), err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			objs, fi := processBadFrame(t, c.name, c.img, Options{Boxes: det})
			if err := c.check(objs, fi); err != nil {
				t.Error(err)
			}
			for _, o := range objs { // the detector adds no box over a tenth (a line's thin object spans the frame, its pixels do not)
				if a := o.Box.Dx() * o.Box.Dy(); 10*a > w*h && c.name != "one-pixel line" {
					t.Errorf("box %v covers more than a tenth of the frame", o.Box)
				}
			}
		})
	}
}

// fixedBoxes is a BoxFinder that returns the same boxes for every frame.
type fixedBoxes struct {
	boxes []image.Rectangle
	calls int
}

func (f *fixedBoxes) FindBoxes(gocv.Mat) ([]image.Rectangle, []float32, error) {
	f.calls++
	scores := make([]float32, len(f.boxes))
	for i := range scores {
		scores[i] = 0.9 - 0.01*float32(i)
	}
	return f.boxes, scores, nil
}

// TestDetectorAddsWhatThresholdsMissed: a detector's box where the thresholds found
// nothing becomes an object with that box; a box on an object already found, a second
// box on the same spot, and a box inside an ignore region add nothing.
func TestDetectorAddsWhatThresholdsMissed(t *testing.T) {
	sc := scene{w: 320, h: 240, level: 200, shapes: []shape{
		disk(80, 120, 12, 0.4),   // a dark cell: the thresholds find it
		disk(200, 120, 6, 0.985), // a cell too pale for the high threshold
	}}
	g := sc.gray()
	addNoise(g, 2, 7)
	plain := detect(t, g, Options{})
	if len(plain) != 1 {
		t.Fatalf("the thresholds found %d objects, want only the dark cell", len(plain))
	}
	pale := image.Rect(193, 113, 207, 127)
	finder := &fixedBoxes{boxes: []image.Rectangle{
		image.Rect(67, 107, 93, 133), // the dark cell, found already
		pale,
		image.Rect(194, 114, 208, 128), // a second peak on the pale cell
		image.Rect(10, 10, 20, 20),     // in an ignore region
	}}
	objs := detect(t, g, Options{Boxes: finder, Ignore: []image.Rectangle{image.Rect(0, 0, 30, 30)}})
	if finder.calls != 1 {
		t.Errorf("the detector ran %d times for one frame", finder.calls)
	}
	if len(objs) != 2 {
		t.Fatalf("%d objects with the detector, want the dark cell and the pale one", len(objs))
	}
	var added *Object
	for i := range objs {
		if objs[i].Box == pale {
			added = &objs[i]
		}
	}
	if added == nil {
		t.Fatalf("no object with the detector's box %v: %v and %v", pale, objs[0].Box, objs[1].Box)
	}
	if added.AreaPx <= 0 || added.Crop == nil {
		t.Errorf("the added object is not measured: area %v, crop %v", added.AreaPx, added.Crop != nil)
	}
}

// BenchmarkSegmentWithDetector: the real 320x240 bench frames at their own size, segmented
// by the thresholds alone and with the learned detector adding what they miss, on one
// core: what the detector costs a frame (run with GOMAXPROCS=1).
func BenchmarkSegmentWithDetector(b *testing.B) {
	SetOpenCVThreads(1)
	defer SetOpenCVThreads(0)
	frames := loadRealFrames(b, "test")
	for _, withDetector := range []bool{false, true} {
		name := "thresholds"
		var opt Options
		if withDetector {
			name, opt.Boxes = "with-detector", builtinDetector(b)
		}
		b.Run(name, func(b *testing.B) {
			opt.OnStatus = func(capture.Status) {}
			seg, err := NewSegmenter(opt)
			if err != nil {
				b.Fatal(err)
			}
			defer seg.Close()
			times := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				f := frames[i%len(frames)]
				start := time.Now()
				if _, err := seg.Detect(f.mat, f.truth.File, i); err != nil {
					b.Fatal(err)
				}
				times = append(times, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "ms/frame-median")
		})
	}
}
