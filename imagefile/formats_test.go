package imagefile

import (
	"errors"
	"image"
	"image/color"
	"image/gif"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocv.io/x/gocv"
)

// readers are the decode paths a file can take: the gray classifier's, the colour
// classifier's, the frame path's (BGR and gray Mats) and the plain Go decode.
var readers = map[string]func(string) (image.Image, error){
	"Read":      Read,
	"ReadGray":  func(p string) (image.Image, error) { return ReadGray(p) },
	"ReadColor": ReadColor,
	"ReadMat":   func(p string) (image.Image, error) { return matImage(ReadMat(p)) },
	"ReadMatGray": func(p string) (image.Image, error) {
		return matImage(ReadMatGray(p))
	},
}

// matImage turns a decoded Mat into an image (gray or RGBA), closing the Mat.
func matImage(m gocv.Mat, err error) (image.Image, error) {
	if err != nil {
		return nil, err
	}
	defer m.Close()
	return m.ToImage() // *image.Gray or *image.RGBA
}

// Valid files in variants the decoders lack (made by testdata/make-formats.sh) are named
// as what they are, with how to export them, on every decode path: not called corrupt,
// which would send the technician to copy the file again for nothing.
func TestUnsupportedFormatsNamed(t *testing.T) {
	cases := []struct{ file, want string }{
		{"float32.tif", "float32 TIFF is not supported: export it as 8- or 16-bit integer TIFF or PNG"},
		{"int32.tif", "32-bit TIFF is not supported: export it as 8- or 16-bit integer TIFF or PNG"},
		{"jpeg-compressed.tif", "JPEG-compressed TIFF is not supported: save it as uncompressed, LZW or Deflate"},
		{"cmyk.tif", "CMYK TIFF is not supported: save it as RGB TIFF or PNG"},
		{"planar.tif", "TIFF with separate colour planes (planar configuration 2) is not supported"},
		{"gray-alpha.tif", "gray TIFF with an alpha or extra channel is not supported: save it as PNG"},
		{"bigtiff.tif", "BigTIFF is not supported: save it as ordinary TIFF or as PNG"},
		{"stack3.tif", "TIFF of 3 pages (a stack) is not supported: save each page as an image of its own"},
		{"12bit.jpg", "12-bit JPEG is not supported: export it as 8-bit JPEG, or as 16-bit PNG or TIFF"},
		{"arithmetic.jpg", "arithmetic-coded JPEG is not supported: re-save it as a standard (Huffman-coded) JPEG or as PNG"},
		{"lossless.jpg", "lossless JPEG is not supported: save it as PNG or TIFF"},
		{"rle.bmp", "this BMP (compressed, or not 8, 24 or 32 bits per pixel) is not supported: save it as PNG"},
	}
	for _, c := range cases {
		path := filepath.Join("testdata", "formats", c.file)
		for name, read := range readers {
			_, err := read(path)
			if err == nil {
				t.Errorf("%s %s: decoded, want %q", name, c.file, c.want)
				continue
			}
			msg := err.Error()
			if !strings.Contains(msg, c.want) || !strings.Contains(msg, path) || !errors.Is(err, ErrUnsupported) || strings.Contains(msg, "corrupt") {
				t.Errorf("%s %s: %q, want the path and %q (ErrUnsupported, not corrupt)", name, c.file, msg, c.want)
			}
			if name == "ReadGray" {
				t.Logf("%s: %v", c.file, err)
			}
		}
	}
}

// A GIF decodes with Go's decoder (a library linked in registers it), but a folder walk
// leaves it out as not an image: named alone it was read, and skipped in a folder
// (helper-83). Every path refuses it alike, saying the formats that are read.
func TestGIFRefusedAsInAFolder(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cell.gif")
	img := image.NewPaletted(image.Rect(0, 0, 32, 32), color.Palette{color.White, color.Black})
	for i := 8; i < 24; i++ {
		img.SetColorIndex(i, i, 1)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := gif.Encode(f, img, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if files, others, _ := CollectAll([]string{dir}); len(files) != 0 || len(others) != 1 {
		t.Fatalf("folder walk: images %q, others %q; want the GIF among the others", files, others)
	}
	for name, read := range readers {
		_, err := read(path)
		if err == nil {
			t.Errorf("%s: a GIF decoded, but a folder walk leaves it out", name)
			continue
		}
		msg := err.Error()
		if !errors.Is(err, ErrNotImage) || !strings.Contains(msg, path) || !strings.Contains(msg, "a GIF file: not a JPEG, PNG, TIFF or BMP image: convert it") {
			t.Errorf("%s: %q, want the path, that it is a GIF, the formats read and the fix (ErrNotImage)", name, msg)
		}
	}
}

// A CMYK JPEG (Adobe marker, as ImageMagick and Photoshop write it) is not among the
// variants refused: it decodes on every path to the colours of the RGB file it was made
// from, within JPEG's loss.
func TestCMYKJPEGDecodes(t *testing.T) {
	want, err := Read(filepath.Join(mixed, "colour.tif"))
	if err != nil {
		t.Fatal(err)
	}
	for name, read := range readers {
		got, err := read(filepath.Join("testdata", "formats", "cmyk.jpg"))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got.Bounds().Size() != want.Bounds().Size() {
			t.Errorf("%s: %v, want %v", name, got.Bounds().Size(), want.Bounds().Size())
			continue
		}
		sum, n := 0, 0
		g, w := ToGray(got), ToGray(want)
		for i := range w.Pix {
			sum, n = sum+abs(int(g.Pix[i])-int(w.Pix[i])), n+1
		}
		if mean := float64(sum) / float64(n); mean > 4 {
			t.Errorf("%s: %.1f levels from the RGB original on average", name, mean)
		} else {
			t.Logf("%s: %.2f levels from the RGB original on average", name, mean)
		}
	}
}
