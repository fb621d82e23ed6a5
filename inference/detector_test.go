package inference

import (
	"encoding/json"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"
)

// builtinDetectorDir is the built-in detector's folder (assets/detectors).
const builtinDetectorDir = "../assets/detectors/brightfield-esp32-320"

// TestDetectorGolden: the app's detector (ONNX Runtime, Go decoding) finds on real frames
// what the recipe found when it exported the model (PyTorch, Python decoding; golden.json,
// written by training/make_detector.py from a score lower than the app's threshold). Detections whose score lies within 0.02 of the
// threshold may fall either side of it between the two runtimes; every other one must be
// found by both, its box within 1 px.
func TestDetectorGolden(t *testing.T) {
	if _, err := InitRuntime(""); err != nil {
		t.Fatalf("the detector needs ONNX Runtime: %v", err)
	}
	det, err := LoadDetector(builtinDetectorDir)
	if err != nil {
		t.Fatal(err)
	}
	defer det.Close()
	var golden struct {
		Threshold float64 `json:"threshold"`
		Frames    []struct {
			Frame      string `json:"frame"`
			Detections []struct {
				Score float64 `json:"score"`
				Box   [4]int  `json:"box"`
			} `json:"detections"`
		} `json:"frames"`
	}
	b, err := os.ReadFile(filepath.Join(builtinDetectorDir, "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &golden); err != nil {
		t.Fatal(err)
	}
	if len(golden.Frames) == 0 || golden.Threshold <= 0 || golden.Threshold > det.Meta.Threshold {
		t.Fatalf("golden.json: %d frames from score %v (detector.json's threshold %v): regenerate it with make detector", len(golden.Frames), golden.Threshold, det.Meta.Threshold)
	}
	det.Meta.Threshold = golden.Threshold // compare every box the recipe listed, not only those the app keeps
	near := func(a, b image.Rectangle) bool {
		d := func(x, y int) bool { return x-y <= 1 && y-x <= 1 }
		return d(a.Min.X, b.Min.X) && d(a.Min.Y, b.Min.Y) && d(a.Max.X, b.Max.X) && d(a.Max.Y, b.Max.Y)
	}
	compared := 0
	for _, gf := range golden.Frames {
		m := gocv.IMRead(filepath.Join("..", gf.Frame), gocv.IMReadColor)
		if m.Empty() {
			t.Fatalf("cannot read %s", gf.Frame)
		}
		found, err := det.Detect(m)
		m.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range gf.Detections {
			want := image.Rect(g.Box[0], g.Box[1], g.Box[2], g.Box[3])
			ok := false
			for _, f := range found {
				ok = ok || near(f.Box, want)
			}
			if !ok && g.Score > golden.Threshold+0.02 {
				t.Errorf("%s: the recipe found %v (score %.3f), the app did not", gf.Frame, want, g.Score)
			}
			compared++
		}
		for _, f := range found {
			ok := false
			for _, g := range gf.Detections {
				ok = ok || near(f.Box, image.Rect(g.Box[0], g.Box[1], g.Box[2], g.Box[3]))
			}
			if !ok && float64(f.Score) > golden.Threshold+0.02 {
				t.Errorf("%s: the app found %v (score %.3f), the recipe did not", gf.Frame, f.Box, f.Score)
			}
		}
	}
	t.Logf("%d frames, %d recipe detections compared", len(golden.Frames), compared)
}

// TestDetectorReusesInput: the detector keeps its input tensor between frames of one size
// and makes a new one when the size changes; neither may leak one frame into the next. A
// frame, the same frame turned a quarter (another size), and the frame again must each
// find what a fresh detector finds on it.
func TestDetectorReusesInput(t *testing.T) {
	if _, err := InitRuntime(""); err != nil {
		t.Fatalf("the detector needs ONNX Runtime: %v", err)
	}
	frame := gocv.IMRead("../testdata/real-frames/closterium-20230609101330.jpg", gocv.IMReadColor)
	defer frame.Close()
	if frame.Empty() {
		t.Fatal("cannot read the frame")
	}
	turned := gocv.NewMat()
	defer turned.Close()
	gocv.Rotate(frame, &turned, gocv.Rotate90Clockwise)
	fresh := func(m gocv.Mat) []Detection {
		det, err := LoadDetector(builtinDetectorDir)
		if err != nil {
			t.Fatal(err)
		}
		defer det.Close()
		found, err := det.Detect(m)
		if err != nil {
			t.Fatal(err)
		}
		return found
	}
	det, err := LoadDetector(builtinDetectorDir)
	if err != nil {
		t.Fatal(err)
	}
	defer det.Close()
	for i, m := range []gocv.Mat{frame, frame, turned, frame} {
		got, err := det.Detect(m)
		if err != nil {
			t.Fatal(err)
		}
		want := fresh(m)
		if len(want) == 0 {
			t.Fatalf("frame %d: a fresh detector found nothing: pick a frame with objects", i)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("frame %d (%dx%d): the reused detector found %v, a fresh one %v", i, m.Cols(), m.Rows(), got, want)
		}
	}
}

// TestLoadDetectorErrors: a broken detector folder is refused with the file and the fix.
func TestLoadDetectorErrors(t *testing.T) {
	if _, err := InitRuntime(""); err != nil {
		t.Fatalf("the detector needs ONNX Runtime: %v", err)
	}
	dir := t.TempDir()
	if _, err := LoadDetector(dir); err == nil {
		t.Error("an empty folder loaded")
	}
	write := func(s string) {
		if err := os.WriteFile(filepath.Join(dir, "detector.json"), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []string{
		`{`,
		`{"format": 2}`,
		`{"format": 1, "model": "m.onnx", "input": {"name": "frame", "layout": "NHWC", "channels": "RGB", "multiple": 32}, "outputs": {"peaks": "p", "geometry": "g"}, "stride": 2, "threshold": 0.3}`,
		`{"format": 1, "model": "m.onnx", "input": {"name": "frame", "layout": "NCHW", "channels": "RGB", "multiple": 32}, "outputs": {"peaks": "p", "geometry": "g"}, "stride": 2, "threshold": 1.5}`,
		`{"format": 1, "model": "missing.onnx", "input": {"name": "frame", "layout": "NCHW", "channels": "RGB", "multiple": 32}, "outputs": {"peaks": "p", "geometry": "g"}, "stride": 2, "threshold": 0.3}`,
	} {
		write(c)
		_, err := LoadDetector(dir)
		if err == nil {
			t.Errorf("%s: loaded", c)
			continue
		}
		t.Logf("%v", err)
	}
}

// BenchmarkDetector: one 320x240 real frame through the detector, one thread (its
// session's setting), as the segmenter calls it once a frame.
func BenchmarkDetector(b *testing.B) {
	if _, err := InitRuntime(""); err != nil {
		b.Fatal(err)
	}
	det, err := LoadDetector(builtinDetectorDir)
	if err != nil {
		b.Fatal(err)
	}
	defer det.Close()
	m := gocv.IMRead("../testdata/real-frames/closterium-20230609101330.jpg", gocv.IMReadColor)
	defer m.Close()
	if m.Empty() {
		b.Fatal("cannot read the frame")
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := det.Detect(m); err != nil {
			b.Fatal(err)
		}
	}
}
