package inference

import (
	"image"
	"image/color"
	"strings"
	"testing"

	"github.com/phytoscreen/phytoscreen/imagefile"
)

// An image of one flat shade holds no cell: a fully transparent cut-out (white once
// composited), a blank export, a black frame. The models named one with 0.73
// confidence (helper-82); it fails with why. A real crop, or a faint one, does not.
func TestFlatShadeHoldsNoCell(t *testing.T) {
	transparent := image.NewNRGBA(image.Rect(0, 0, 40, 30)) // all alpha 0
	noisyWhite := image.NewGray(image.Rect(0, 0, 40, 30))
	for i := range noisyWhite.Pix {
		noisyWhite.Pix[i] = uint8(253 + i%3) // a blank JPEG's noise
	}
	faint := image.NewGray(image.Rect(0, 0, 40, 30))
	for i := range faint.Pix {
		faint.Pix[i] = 250
	}
	for y := 10; y < 20; y++ {
		for x := 10; x < 20; x++ {
			faint.SetGray(x, y, color.Gray{Y: 240}) // a pale cell, 10 levels under the light
		}
	}
	real, err := imagefile.ReadColor("../testdata/mixed-images/good acantharia.jpg")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		img  image.Image
		flat bool
	}{
		{"transparent, composited onto white", imagefile.Flatten(transparent), true},
		{"black", image.NewGray(image.Rect(0, 0, 40, 30)), true},
		{"white with JPEG noise", noisyWhite, true},
		{"a faint cell", faint, false},
		{"a real crop", real, false},
		{"opaque white NRGBA", opaqueWhite(), true},
	} {
		err := checkCropSize(c.img)
		if got := err != nil && strings.Contains(err.Error(), "no cell in it to classify"); got != c.flat {
			t.Errorf("%s: %v, want flat %v", c.name, err, c.flat)
		}
	}
}

// opaqueWhite is an opaque white *image.NRGBA, as Go's PNG decoder gives for an RGBA PNG
// with no transparent pixel.
func opaqueWhite() *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, 40, 30))
	for i := range m.Pix {
		m.Pix[i] = 255
	}
	return m
}
