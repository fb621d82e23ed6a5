package imagefile

import (
	"image"
	"os"
	"path/filepath"
	"testing"
)

// ReadColor keeps colour, decodes JPEG with OpenCV (its gray channel-mix matches
// DecodeGray's luma within rounding), refuses what Read refuses with the same messages.
func TestReadColor(t *testing.T) {
	img, err := ReadColor(filepath.Join("..", "testdata", "golden", "contract", "microcystis.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	rgba, ok := img.(*image.RGBA)
	if !ok || rgba.Rect.Empty() {
		t.Fatalf("JPEG decoded to %T %v, want a non-empty *image.RGBA", img, img.Bounds())
	}
	if rgba.Pix[0] == rgba.Pix[1] && rgba.Pix[1] == rgba.Pix[2] && rgba.Pix[4] == rgba.Pix[5] {
		t.Errorf("colour JPEG decoded as gray: %v", rgba.Pix[:8])
	}
	if rgba.Pix[3] != 255 {
		t.Errorf("alpha %d, want opaque", rgba.Pix[3])
	}
	for _, name := range []string{"empty.png", "notes.png", "truncated.jpg", "corrupt-header.jpg", "huge-header.png"} {
		p := filepath.Join(mixed, name)
		if _, err := os.Stat(p); err != nil {
			continue
		}
		_, errColour := ReadColor(p)
		_, errGray := ReadGray(p)
		if errColour == nil || errGray == nil || errColour.Error() != errGray.Error() {
			t.Errorf("%s: ReadColor %v, ReadGray %v: want the same refusal", name, errColour, errGray)
		}
	}
}

// FuzzDecodeColor: the colour path (OpenCV for JPEG, Go's decoders otherwise) returns an
// image or an error, never panics, never decodes past MaxPixels.
func FuzzDecodeColor(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(mixed, "*"))
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil && len(data) < 64<<10 {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := DecodeColor(data)
		if err != nil {
			return
		}
		if b := img.Bounds(); int64(b.Dx())*int64(b.Dy()) > MaxPixels || b.Empty() {
			t.Fatalf("decoded %v", b)
		}
	})
}
