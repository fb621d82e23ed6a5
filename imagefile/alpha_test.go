package imagefile

import (
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/image/tiff"
)

// onWhite is the reference composite of one pixel onto white, in floating point:
// c·a + 255·(1−a), with c and a the straight (not premultiplied) colour and alpha in 0..1.
func onWhite(c, a float64) float64 { return 255 * (c*a + 1 - a) }

// alphaCase is a transparent rendering of a real crop and the crop it must decode to.
type alphaCase struct {
	name string
	img  image.Image // what is written
	ref  *image.Gray // the same crop on white, computed by onWhite
}

// alphaCases renders the gray crop g with transparency in the ways files carry it: the
// crop as black ink whose opacity is its darkness (what an editor's "remove white"
// gives), a cut-out cell on a fully transparent black background, the crop at half
// opacity, the ink in 16 bits and as a palette with a transparent entry.
func alphaCases(g *image.Gray) []alphaCase {
	b := g.Rect
	ink := image.NewNRGBA(b)
	ink16 := image.NewNRGBA64(b)
	cut := image.NewNRGBA(b)
	half := image.NewNRGBA(b)
	pal := make(color.Palette, 256)
	for i := range pal {
		pal[i] = color.NRGBA{uint8(i), uint8(i), uint8(i), 255}
	}
	pal[255] = color.NRGBA{} // white is "no cell": transparent, black
	palImg := image.NewPaletted(b, pal)
	refs := map[string]*image.Gray{}
	for _, n := range []string{"ink", "ink16", "cutout", "half", "palette"} {
		refs[n] = image.NewGray(b)
	}
	set := func(name string, x, y int, v float64) { refs[name].SetGray(x, y, color.Gray{uint8(math.Round(v))}) }
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			v := g.GrayAt(x, y).Y
			ink.SetNRGBA(x, y, color.NRGBA{0, 0, 0, 255 - v})
			set("ink", x, y, onWhite(0, float64(255-v)/255))
			ink16.SetNRGBA64(x, y, color.NRGBA64{0, 0, 0, uint16(255-v) * 257})
			set("ink16", x, y, onWhite(0, float64(255-v)/255))
			if v >= 230 { // the background around the cell
				cut.SetNRGBA(x, y, color.NRGBA{})
				set("cutout", x, y, onWhite(0, 0))
			} else {
				cut.SetNRGBA(x, y, color.NRGBA{v, v, v, 255})
				set("cutout", x, y, onWhite(float64(v)/255, 1))
			}
			half.SetNRGBA(x, y, color.NRGBA{v, v, v, 128})
			set("half", x, y, onWhite(float64(v)/255, 128.0/255))
			palImg.SetColorIndex(x, y, v)
			if v == 255 {
				set("palette", x, y, onWhite(0, 0))
			} else {
				set("palette", x, y, onWhite(float64(v)/255, 1))
			}
		}
	}
	return []alphaCase{
		{"ink.png", ink, refs["ink"]},
		{"ink16.png", ink16, refs["ink16"]},
		{"cutout.png", cut, refs["cutout"]},
		{"half.png", half, refs["half"]},
		{"palette.png", palImg, refs["palette"]},
		{"ink.tif", ink, refs["ink"]},     // unassociated alpha (ExtraSamples 2)
		{"ink16.tif", ink16, refs["ink"]}, // 16-bit, unassociated
	}
}

// writeImage writes img as PNG or TIFF by the name's extension.
func writeImage(t *testing.T, path string, img image.Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if filepath.Ext(path) == ".tif" {
		err = tiff.Encode(f, img, nil)
	} else {
		err = png.Encode(f, img)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// maxDiff is the largest difference between the gray reference and img's pixels (every
// channel of a colour image), with the pixel where it is.
func maxDiff(ref *image.Gray, img image.Image) (int, image.Point) {
	worst, at := 0, image.Point{}
	b := img.Bounds()
	for y := 0; y < ref.Rect.Dy(); y++ {
		for x := 0; x < ref.Rect.Dx(); x++ {
			r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			want := int(ref.GrayAt(x, y).Y)
			for _, c := range []uint32{r, g, bl} {
				if d := abs(int(c>>8) - want); d > worst {
					worst, at = d, image.Pt(x, y)
				}
			}
		}
	}
	return worst, at
}

func abs(v int) int { return max(v, -v) }

// A real crop saved with transparency (PNG RGBA, 16-bit RGBA, palette with a transparent
// entry, RGBA TIFF, gray+alpha PNG) decodes, on every path, to the crop on white: the
// brightfield background the packs are trained on. Flattened onto black instead, the
// ink rendering is a black square and the cut-out a cell on black.
func TestTransparentPixelsOnWhite(t *testing.T) {
	g, err := ReadGray(filepath.Join(mixed, "good acantharia.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cases := alphaCases(g)
	for _, c := range cases {
		if c.name == "ink.png" {
			if d, at := maxDiff(c.ref, g); d > 1 {
				t.Fatalf("the ink reference is not the crop: %d levels off at %v", d, at)
			}
		}
		writeImage(t, filepath.Join(dir, c.name), c.img)
	}
	// ImageMagick's gray+alpha PNG (colour type 4, half opacity), and its reference
	// from the file's own straight values.
	ga, err := os.Open(filepath.Join("testdata", "formats", "gray-alpha.png"))
	if err != nil {
		t.Fatal(err)
	}
	gaImg, err := png.Decode(ga)
	ga.Close()
	if err != nil {
		t.Fatal(err)
	}
	gaRef := image.NewGray(image.Rect(0, 0, gaImg.Bounds().Dx(), gaImg.Bounds().Dy()))
	for y := range gaRef.Rect.Dy() {
		for x := range gaRef.Rect.Dx() {
			c := color.NRGBAModel.Convert(gaImg.At(x, y)).(color.NRGBA)
			gaRef.SetGray(x, y, color.Gray{uint8(math.Round(onWhite(float64(c.R)/255, float64(c.A)/255)))})
		}
	}
	cases = append(cases, alphaCase{"gray-alpha.png", nil, gaRef})
	for _, c := range cases {
		path := filepath.Join(dir, c.name)
		if c.img == nil {
			path = filepath.Join("testdata", "formats", c.name)
		}
		for name, read := range readers {
			img, err := read(path)
			if err != nil {
				t.Errorf("%s %s: %v", name, c.name, err)
				continue
			}
			if d, at := maxDiff(c.ref, img); d > 1 {
				r, gg, b, _ := img.At(img.Bounds().Min.X+at.X, img.Bounds().Min.Y+at.Y).RGBA()
				t.Errorf("%s %s: pixel %v is (%d,%d,%d), the crop on white is %d (%d levels off)",
					name, c.name, at, r>>8, gg>>8, b>>8, c.ref.GrayAt(at.X, at.Y).Y, d)
			}
		}
	}
}
