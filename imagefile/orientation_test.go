package imagefile

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"
)

// withOrientation returns a JPEG with an EXIF segment (APP1) whose orientation tag is o,
// inserted after the start-of-image marker, as a camera held sideways writes it.
func withOrientation(jpg []byte, o uint16) []byte {
	var tiffHdr bytes.Buffer
	le := binary.LittleEndian
	tiffHdr.WriteString("II*\x00")
	binary.Write(&tiffHdr, le, uint32(8)) //nolint:errcheck // bytes.Buffer
	binary.Write(&tiffHdr, le, uint16(1)) //nolint:errcheck
	for _, v := range []any{uint16(0x0112), uint16(3), uint32(1), o, uint16(0), uint32(0)} {
		binary.Write(&tiffHdr, le, v) //nolint:errcheck
	}
	seg := append([]byte("Exif\x00\x00"), tiffHdr.Bytes()...)
	app1 := []byte{0xFF, 0xE1, byte((len(seg) + 2) >> 8), byte(len(seg) + 2)}
	out := append([]byte{}, jpg[:2]...)
	out = append(append(out, app1...), seg...)
	return append(out, jpg[2:]...)
}

// rotateCW is img turned 90° clockwise, what EXIF orientation 6 asks to display.
func rotateCW(img image.Image) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dy(), b.Dx()))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			out.Set(b.Dy()-1-y, x, img.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return out
}

// imgDiff is the largest channel difference between two images of the same size, -1 when
// the sizes differ.
func imgDiff(a, b image.Image) int {
	if a.Bounds().Dx() != b.Bounds().Dx() || a.Bounds().Dy() != b.Bounds().Dy() {
		return -1
	}
	worst := 0
	for y := 0; y < a.Bounds().Dy(); y++ {
		for x := 0; x < a.Bounds().Dx(); x++ {
			r1, g1, b1, _ := a.At(a.Bounds().Min.X+x, a.Bounds().Min.Y+y).RGBA()
			r2, g2, b2, _ := b.At(b.Bounds().Min.X+x, b.Bounds().Min.Y+y).RGBA()
			for _, d := range []int{int(r1>>8) - int(r2>>8), int(g1>>8) - int(g2>>8), int(b1>>8) - int(b2>>8)} {
				worst = max(worst, abs(d))
			}
		}
	}
	return worst
}

// A sideways frame (EXIF orientation 6 in a JPEG, the Orientation tag in a TIFF) decodes
// upright on every path: the classifier's gray and colour decoders, the frame path's Mats
// and the plain Go decoder, as OpenCV's imread shows it. Each path's result is compared
// with the same path's decode of the file without the tag, turned by the test.
func TestOrientationOnEveryPath(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join(mixed, "good acantharia.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jpeg.DecodeConfig(bytes.NewReader(withOrientation(src, 6))); err != nil {
		t.Fatal(err)
	}
	files := map[string][2]string{ // upright file, the same pixels stored sideways
		"jpeg": {filepath.Join(dir, "plain.jpg"), filepath.Join(dir, "sideways.jpg")},
		"tiff": {filepath.Join(mixed, "colour.tif"), filepath.Join("testdata", "formats", "orientation6.tif")},
	}
	if err := os.WriteFile(files["jpeg"][0], src, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(files["jpeg"][1], withOrientation(src, 6), 0o644); err != nil {
		t.Fatal(err)
	}
	for kind, f := range files {
		for name, read := range readers {
			plain, err := read(f[0])
			if err != nil {
				t.Fatal(err)
			}
			got, err := read(f[1])
			if err != nil {
				t.Fatalf("%s %s: %v", name, kind, err)
			}
			want := rotateCW(plain)
			// Go's JPEG decoder keeps the luma plane; turned, the image goes through
			// the colour model: a level at most.
			if d := imgDiff(want, got); d < 0 || d > 1 {
				t.Errorf("%s %s: decoded %v, want %v upright (difference %d)", name, kind, got.Bounds().Size(), want.Bounds().Size(), d)
			}
		}
	}
}
