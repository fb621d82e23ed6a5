package app

import (
	"fmt"
	"image"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/imagefile"
	"github.com/phytoscreen/phytoscreen/inference"
)

// colourChroma is the mean spread between a pixel's channels (0-255) above which a
// picture is a colour camera's: a gray camera's frames have none (JPEG adds under 1),
// a colour camera's have at least its white balance's cast.
const colourChroma = 3.0

// IsColour reports whether img is a colour picture: the mean, over a grid of up to 64 x
// 64 samples, of the largest difference between a pixel's channels exceeds colourChroma.
func IsColour(img image.Image) bool {
	b := img.Bounds()
	if b.Empty() {
		return false
	}
	stepX, stepY := max(1, b.Dx()/64), max(1, b.Dy()/64)
	sum, n := 0.0, 0
	for y := b.Min.Y; y < b.Max.Y; y += stepY {
		for x := b.Min.X; x < b.Max.X; x += stepX {
			r, g, bl, _ := img.At(x, y).RGBA()
			hi, lo := max(r, g, bl), min(r, g, bl)
			sum += float64(hi-lo) / 257
			n++
		}
	}
	return sum/float64(n) > colourChroma
}

// FirstFrameColour reads the first image file a folder or image source will screen and
// reports whether it is in colour, with the file read; ok is false for cameras, videos,
// the demo and a file that does not read (the run says why itself).
func FirstFrameColour(spec capture.Spec) (colour bool, file string, ok bool) {
	if spec.Kind != capture.KindFolder && spec.Kind != capture.KindImage {
		return false, "", false
	}
	files, _, _ := imagefile.CollectAll([]string{spec.Path})
	if len(files) == 0 {
		return false, "", false
	}
	img, err := imagefile.ReadColor(files[0])
	if err != nil {
		return false, "", false
	}
	return IsColour(img), files[0], true
}

// PackFitNote is what a person should know when the frames and the pack's input differ
// in colour, "" when they agree: the default marine pack reads gray images and sees a
// colour camera's freshwater frames by their brightness alone (helper-47 screened
// cyanobacteria frames with it and was told nothing), and the cyanobacteria pack learnt
// from colour.
func PackFitNote(p *inference.Pack, colour bool, file string) string {
	switch {
	case colour && !p.IsColour():
		return fmt.Sprintf("%s is in colour, and pack %s reads gray images: it sees these frames by their brightness alone. "+
			"For freshwater cyanobacteria the colour pack %s fits them better (--pack %s, or Settings › Model pack)",
			file, p.Name, assets.CyanoPackName, assets.CyanoPackName)
	case !colour && p.IsColour():
		return fmt.Sprintf("%s is gray, and pack %s learnt its taxa in colour, a strong cue for them: expect lower accuracy than its card's",
			file, p.Name)
	}
	return ""
}
