//go:build matprofile

package inference

import (
	"image"
	"testing"

	"gocv.io/x/gocv"
)

// The format-2 preprocessing closes every Mat it opens, on every path: gray and colour
// crops, every resize rule, enlarging and shrinking, colour-to-gray. Run with
// go test -tags matprofile -run ClosesEveryMat ./inference/
func TestPreprocessClosesEveryMat(t *testing.T) {
	_, imgs := goldenImages(t)
	g, err := grayOf(imgs[0])
	if err != nil {
		t.Fatal(err)
	}
	imgs = append(imgs, g, image.NewGray(image.Rect(0, 0, 3, 2)))
	var packs []*Pack
	for _, ch := range []struct {
		c    int
		name string
	}{{1, "gray"}, {3, "rgb"}} {
		for _, rule := range []string{ResizeLetterbox, ResizeFit, ResizeCentreCrop} {
			packs = append(packs, packFromInput(t, map[string]any{"name": "image", "shape": []int{-1, ch.c, 40, 56}, "dtype": "float32",
				"channels": ch.name, "resize": rule, "background": map[string]any{"method": "percentile", "q": 0.9}}))
		}
	}
	start := gocv.MatProfile.Count()
	for range 3 {
		for _, p := range packs {
			dst := make([]float32, p.InputSize())
			for _, im := range imgs {
				if err := p.Preprocess(dst, im); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if n := gocv.MatProfile.Count() - start; n != 0 {
		t.Errorf("%d Mats left open by Preprocess", n)
	}
}

// The detector closes every Mat it opens: Detect on colour, gray and BGRA frames, an
// empty frame refused, then Close.
func TestDetectorClosesEveryMat(t *testing.T) {
	if _, err := InitRuntime(""); err != nil {
		t.Fatalf("the detector needs ONNX Runtime: %v", err)
	}
	start := gocv.MatProfile.Count()
	det, err := LoadDetector(builtinDetectorDir)
	if err != nil {
		t.Fatal(err)
	}
	frame := gocv.IMRead("../testdata/real-frames/closterium-20230609101330.jpg", gocv.IMReadColor)
	gray, bgra, empty := gocv.NewMat(), gocv.NewMat(), gocv.NewMat()
	gocv.CvtColor(frame, &gray, gocv.ColorBGRToGray)
	gocv.CvtColor(frame, &bgra, gocv.ColorBGRToBGRA)
	for range 3 {
		for _, m := range []gocv.Mat{frame, gray, bgra} {
			if _, err := det.Detect(m); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := det.Detect(empty); err == nil {
			t.Error("an empty frame was detected on")
		}
	}
	for _, m := range []*gocv.Mat{&frame, &gray, &bgra, &empty} {
		m.Close()
	}
	if err := det.Close(); err != nil {
		t.Fatal(err)
	}
	if n := gocv.MatProfile.Count() - start; n != 0 {
		t.Errorf("%d Mats left open by the detector", n)
	}
}
