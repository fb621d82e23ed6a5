package app

import (
	"image"
	"image/color"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phytoscreen/phytoscreen/capture"
)

// A colour camera's frame is colour, an NDSB image and a picture with a faint JPEG-like
// tint are gray; the note says which pack fits, both ways, and nothing when they agree.
func TestPackFitNote(t *testing.T) {
	frames := filepath.Join("..", "..", "testdata", "real-frames") // the bench camera's colour frames
	colour, file, ok := FirstFrameColour(capture.Spec{Kind: capture.KindFolder, Path: frames})
	if !ok || !colour || !strings.HasPrefix(file, frames) {
		t.Fatalf("a colour camera's folder: colour %v, file %q, ok %v", colour, file, ok)
	}
	grayFiles, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "golden", "ndsb-plankton-121-v2", "images", "*", "*.jpg"))
	if len(grayFiles) == 0 {
		t.Fatal("no NDSB golden image under testdata/golden/ndsb-plankton-121-v2")
	}
	if colour, _, ok := FirstFrameColour(capture.Spec{Kind: capture.KindImage, Path: grayFiles[0]}); !ok || colour {
		t.Errorf("an NDSB image (%s): colour %v, ok %v; want gray", grayFiles[0], colour, ok)
	}
	if _, _, ok := FirstFrameColour(capture.Spec{Kind: capture.KindCamera, Path: "0"}); ok {
		t.Error("a camera: nothing can be read before the run")
	}
	tinted := image.NewRGBA(image.Rect(0, 0, 50, 50))
	for i := range 50 * 50 {
		tinted.Set(i%50, i/50, color.RGBA{uint8(100 + i%7), uint8(101 + i%7), uint8(100 + i%7), 255})
	}
	if IsColour(tinted) {
		t.Error("channels a level apart (JPEG rounding of a gray frame): want gray")
	}

	ndsb, err := LoadPack("")
	if err != nil {
		t.Fatal(err)
	}
	cyano, err := LoadPack("cyano-tcb-10")
	if err != nil {
		t.Fatal(err)
	}
	if n := PackFitNote(ndsb, true, "f.jpg"); !strings.Contains(n, "f.jpg is in colour, and pack ndsb-plankton-121 reads gray images") || !strings.Contains(n, "--pack cyano-tcb-10") {
		t.Errorf("colour frames, gray pack: %q", n)
	}
	if n := PackFitNote(cyano, false, "g.png"); !strings.Contains(n, "g.png is gray, and pack cyano-tcb-10 learnt its taxa in colour") {
		t.Errorf("gray frames, colour pack: %q", n)
	}
	if PackFitNote(cyano, true, "f.jpg") != "" || PackFitNote(ndsb, false, "g.png") != "" {
		t.Error("frames and pack agree: want no note")
	}
}
