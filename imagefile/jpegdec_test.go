package imagefile

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocv.io/x/gocv"
)

// testJPEGs is every JPEG of the project's test data: real frames of two cameras, the
// odd formats (arithmetic coding, CMYK, lossless and 12-bit ones decoders refuse).
func testJPEGs(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{"../testdata/microscope/*.jpg", "../testdata/real-frames/*.jpg", "../testdata/mixed-images/*.jpg", "testdata/formats/*.jpg"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 20 {
		t.Fatalf("only %d JPEGs found in the test data", len(files))
	}
	return files
}

// The libjpeg decoder gives OpenCV's pixels exactly, gray and colour, in every EXIF
// orientation, and fails where OpenCV fails: the frame path's results do not move.
func TestJPEGDecoderMatchesOpenCV(t *testing.T) {
	compared := 0
	for _, f := range testJPEGs(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for o := 1; o <= 8; o++ {
			d := data
			if o > 1 {
				if o > 2 && !strings.Contains(f, "testdata/microscope") {
					continue // every orientation on the real frames; the first two elsewhere
				}
				d = withOrientation(data, uint16(o))
			}
			for _, gray := range []bool{true, false} {
				want, werr := decodeJPEGOpenCV(d, gray)
				got, gerr := decodeJPEGMat(d, gray)
				switch {
				case werr != nil || gerr != nil:
					if (werr == nil) != (gerr == nil) {
						t.Errorf("%s orientation %d gray %v: OpenCV %v, ours %v", f, o, gray, werr, gerr)
					}
				default:
					if !sameMat(want, got) {
						t.Errorf("%s orientation %d gray %v: %dx%d type %v, OpenCV %dx%d type %v, or other pixels",
							f, o, gray, got.Cols(), got.Rows(), got.Type(), want.Cols(), want.Rows(), want.Type())
					}
					compared++
				}
				want.Close()
				got.Close()
			}
		}
	}
	t.Logf("%d decodes compared pixel for pixel", compared)
}

func sameMat(a, b gocv.Mat) bool {
	if a.Cols() != b.Cols() || a.Rows() != b.Rows() || a.Type() != b.Type() {
		return false
	}
	pa, err1 := a.DataPtrUint8()
	pb, err2 := b.DataPtrUint8()
	return err1 == nil && err2 == nil && bytes.Equal(pa, pb)
}

// A JPEG whose image data is damaged mid-scan (markers intact, so the truncation check
// passes) decodes in OpenCV with only a warning on stderr and garbled rows; here it is
// an error that says so, on every JPEG path.
func TestCorruptJPEGDataIsAnError(t *testing.T) {
	data, err := os.ReadFile("../testdata/microscope/closterium-20230609124213.jpg")
	if err != nil {
		t.Fatal(err)
	}
	sos := bytes.LastIndex(data, []byte{0xFF, 0xDA})
	bad := bytes.Clone(data)
	// Garble a stretch of the entropy-coded data a third of the way in, keeping clear
	// of 0xFF so no marker is made or broken.
	start := sos + (len(data)-sos)/3
	for i := start; i < start+400; i++ {
		if bad[i] != 0xFF && bad[i-1] != 0xFF {
			bad[i] = byte(i*37) & 0x7F
		}
	}
	if m, err := decodeJPEGOpenCV(bad, true); err != nil {
		t.Fatalf("OpenCV refused the damaged JPEG (%v): the test no longer shows the case", err)
	} else {
		m.Close()
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "damaged.jpg")
	if err := os.WriteFile(file, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, read := range map[string]func(string) error{
		"ReadMat":     func(p string) error { m, err := ReadMat(p); m.Close(); return err },
		"ReadMatGray": func(p string) error { m, err := ReadMatGray(p); m.Close(); return err },
		"Read":        func(p string) error { _, err := Read(p); return err },
		"ReadColor":   func(p string) error { _, err := ReadColor(p); return err },
	} {
		err := read(file)
		// Read decodes with Go's decoder, which refuses the data itself ("bad Huffman
		// code"); the others go through libjpeg.
		if err == nil || !strings.Contains(err.Error(), "damaged.jpg") || !strings.Contains(err.Error(), "bad Huffman code") || !strings.Contains(err.Error(), "export or copy the image again") {
			t.Errorf("%s of a damaged JPEG: %v", name, err)
		}
	}
	// The intact file reads.
	m, err := ReadMat("../testdata/microscope/closterium-20230609124213.jpg")
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
}
