package inference

import (
	"image"
	"io/fs"
	"math/rand/v2"
	"testing"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/imagefile"
	"gocv.io/x/gocv"
)

// opencvArea shrinks src with OpenCV's own INTER_AREA: the reference the model was
// trained against.
func opencvArea(t *testing.T, src *image.Gray, w, h int) []uint8 {
	t.Helper()
	m, err := gocv.NewMatFromBytes(src.Rect.Dy(), src.Rect.Dx(), gocv.MatTypeCV8UC1, src.Pix)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	dst := gocv.NewMat()
	defer dst.Close()
	gocv.Resize(m, &dst, image.Pt(w, h), 0, 0, gocv.InterpolationArea)
	return append([]uint8(nil), dst.ToBytes()...)
}

func TestResizeAreaMatchesOpenCV(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	type size struct{ sw, sh, dw, dh int }
	cases := []size{{192, 192, 96, 96}, {288, 144, 96, 48}, {200, 100, 96, 48}, {97, 50, 96, 49}, {300, 211, 96, 68}, {1000, 37, 96, 4}, {150, 150, 96, 96}}
	for range 40 {
		sw, sh := 97+rng.IntN(400), 20+rng.IntN(400)
		dw, dh := FitSize(sw, sh, 96, 96)
		cases = append(cases, size{sw, sh, dw, dh})
	}
	for _, c := range cases {
		src := image.NewGray(image.Rect(0, 0, c.sw, c.sh))
		for i := range src.Pix {
			src.Pix[i] = uint8(rng.IntN(256))
		}
		want := opencvArea(t, src, c.dw, c.dh)
		got := make([]uint8, c.dw*c.dh)
		ResizeArea(got, c.dw, c.dh, src.Pix, src.Stride, c.sw, c.sh)
		diff := 0
		for i := range got {
			if got[i] != want[i] {
				diff++
			}
		}
		if diff > 0 {
			t.Errorf("%dx%d -> %dx%d: %d of %d pixels differ from OpenCV INTER_AREA", c.sw, c.sh, c.dw, c.dh, diff, len(got))
		}
	}
}

func TestFitSize(t *testing.T) {
	tests := []struct{ cw, ch, nw, nh int }{
		{50, 40, 50, 40},   // smaller: native size kept
		{96, 96, 96, 96},   // exact fit
		{192, 96, 96, 48},  // wide: shrunk by 2
		{100, 300, 32, 96}, // tall
		{1000, 5, 96, 1},   // a hair: at least one pixel
	}
	for _, tc := range tests {
		if nw, nh := FitSize(tc.cw, tc.ch, 96, 96); nw != tc.nw || nh != tc.nh {
			t.Errorf("FitSize(%d,%d) = %d,%d, want %d,%d", tc.cw, tc.ch, nw, nh, tc.nw, tc.nh)
		}
	}
}

func TestLetterboxSmallCropCentredNotEnlarged(t *testing.T) {
	crop := image.NewGray(image.Rect(0, 0, 10, 6))
	for i := range crop.Pix {
		crop.Pix[i] = 51 // 0.2
	}
	dst := make([]float32, 96*96)
	Letterbox(dst, crop, 96, 96, 1, nil)
	dark := 0
	for y := 0; y < 96; y++ {
		for x := 0; x < 96; x++ {
			v := dst[y*96+x]
			inside := x >= 43 && x < 53 && y >= 45 && y < 51
			switch {
			case inside && v != 0.2:
				t.Fatalf("pixel (%d,%d) = %v, want the crop's 0.2", x, y, v)
			case !inside && v != 1:
				t.Fatalf("pixel (%d,%d) = %v, want white padding", x, y, v)
			}
			if inside {
				dark++
			}
		}
	}
	if dark != 60 {
		t.Errorf("%d crop pixels, want 60 (10x6 at native size)", dark)
	}
}

// A sub-image (as segmentation produces) must letterbox like its copy.
func TestLetterboxSubImage(t *testing.T) {
	data, err := fs.ReadFile(assets.Samples(), "protist_noctiluca/"+firstFile(t, "protist_noctiluca"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := imagefile.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	g := imagefile.ToGray(img)
	big := image.NewGray(image.Rect(0, 0, g.Rect.Dx()+20, g.Rect.Dy()+20))
	sub := big.SubImage(image.Rect(7, 9, 7+g.Rect.Dx(), 9+g.Rect.Dy())).(*image.Gray)
	for y := 0; y < g.Rect.Dy(); y++ {
		copy(sub.Pix[y*sub.Stride:y*sub.Stride+g.Rect.Dx()], g.Pix[y*g.Stride:])
	}
	a, b := make([]float32, 96*96), make([]float32, 96*96)
	Letterbox(a, g, 96, 96, 1, nil)
	var scratch []uint8
	Letterbox(b, sub, 96, 96, 1, &scratch)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("pixel %d: %v from the image, %v from the sub-image", i, a[i], b[i])
		}
	}
}

func firstFile(t *testing.T, dir string) string {
	t.Helper()
	entries, err := fs.ReadDir(assets.Samples(), dir)
	if err != nil || len(entries) == 0 {
		t.Fatalf("samples/%s: %v", dir, err)
	}
	return entries[0].Name()
}
