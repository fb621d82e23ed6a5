package imagefile

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the image loading paths (Go's decoders and the
// OpenCV JPEG path of DecodeGray): it must return an image or
// an error, never panic, hang or allocate for a forged header. The seeds are the real and
// broken files of testdata/mixed-images; crashers found are kept in testdata/fuzz.
func FuzzDecode(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(mixed, "*"))
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil && len(data) < 64<<10 {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if g, err := DecodeGray(data); err == nil && int64(g.Rect.Dx())*int64(g.Rect.Dy()) > MaxPixels {
			t.Fatalf("gray-decoded %v, over MaxPixels", g.Rect)
		}
		img, err := Decode(data)
		if err != nil {
			return
		}
		b := img.Bounds()
		if int64(b.Dx())*int64(b.Dy()) > MaxPixels {
			t.Fatalf("decoded %v, over MaxPixels", b)
		}
		g := ToGray(img)
		if g.Rect.Dx() != b.Dx() || g.Rect.Dy() != b.Dy() {
			t.Fatalf("gray %v from %v", g.Rect, b)
		}
	})
}
