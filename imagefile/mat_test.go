package imagefile

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocv.io/x/gocv"
)

// TestReadMatGray: a colour JPEG read for a gray frame path gives its luma, as the
// colour decode converted to gray does (within the rounding of the two routes); a
// colour PNG gives gray too; a truncated file is an error naming it.
func TestReadMatGray(t *testing.T) {
	path := "../testdata/real-frames/closterium-20230608155607.jpg"
	col, err := ReadMat(path)
	if err != nil {
		t.Fatal(err)
	}
	defer col.Close()
	gray, err := ReadMatGray(path)
	if err != nil {
		t.Fatal(err)
	}
	defer gray.Close()
	if col.Type() != gocv.MatTypeCV8UC3 || gray.Type() != gocv.MatTypeCV8UC1 || gray.Cols() != col.Cols() || gray.Rows() != col.Rows() {
		t.Fatalf("colour %v %dx%d, gray %v %dx%d: want BGR and gray of one size", col.Type(), col.Cols(), col.Rows(), gray.Type(), gray.Cols(), gray.Rows())
	}
	conv := gocv.NewMat()
	defer conv.Close()
	gocv.CvtColor(col, &conv, gocv.ColorBGRToGray)
	a, _ := gray.DataPtrUint8()
	b, _ := conv.DataPtrUint8()
	off := 0
	for i := range a {
		if d := int(a[i]) - int(b[i]); d > 3 || d < -3 {
			off++
		}
	}
	if off > len(a)/100 {
		t.Errorf("%d of %d pixels differ by more than 3 levels from the colour decode's gray", off, len(a))
	}

	dir := t.TempDir()
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for i := range 40 * 30 {
		img.Set(i%40, i/40, color.RGBA{uint8(i), 200, 30, 255})
	}
	pngPath := filepath.Join(dir, "c.png")
	f, err := os.Create(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	f.Close()
	m, err := ReadMatGray(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	if m.Type() != gocv.MatTypeCV8UC1 || m.Cols() != 40 || m.Rows() != 30 {
		t.Errorf("colour PNG read gray: type %v %dx%d, want gray 40x30", m.Type(), m.Cols(), m.Rows())
	}
	m.Close()

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.jpg")
	if err := os.WriteFile(cut, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadMatGray(cut); err == nil || !strings.Contains(err.Error(), cut) {
		t.Errorf("truncated JPEG: %v, want an error naming %s", err, cut)
	}
}
