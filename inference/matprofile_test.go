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
