package capture

import (
	"context"
	"errors"
	"image"
	"io"
	"path/filepath"
	"testing"

	"github.com/phytoscreen/phytoscreen/internal/testutil"
	"github.com/phytoscreen/phytoscreen/synth"
	"gocv.io/x/gocv"
)

// jpegFields renders one generated field per size (NDSB cells on a brightfield
// background), n frames each, as JPEG files' bytes.
func jpegFields(t *testing.T, sizes []image.Point, n int) [][]byte {
	t.Helper()
	lib, err := synth.DefaultLibrary()
	if err != nil {
		t.Fatal(err)
	}
	frames, err := synth.JPEGFields(lib, sizes, n, 11)
	if err != nil {
		t.Fatal(err)
	}
	return frames
}

// An MJPG video whose frames go 640x480, then 800x600, then 640x480 again (a camera
// switched resolution mid-recording) gives every frame at its own size with its own
// pixels: through FFmpeg, OpenCV repeated the last 640x480 frame in place of each 800x600
// one, so that field's cells were never seen.
func TestVideoFramesChangeSize(t *testing.T) {
	sizes := []image.Point{{640, 480}, {800, 600}, {640, 480}}
	const per = 3
	frames := jpegFields(t, sizes, per)
	path := filepath.Join(t.TempDir(), "resolution switch.avi")
	if err := testutil.WriteMJPGAVI(path, frames, 640, 480, 10); err != nil {
		t.Fatal(err)
	}
	src, err := OpenVideo(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for i := 0; ; i++ {
		f, err := src.Next(context.Background())
		if errors.Is(err, io.EOF) {
			if i != len(frames) {
				t.Errorf("%d frames read, want %d", i, len(frames))
			}
			break
		}
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		want, err := gocv.IMDecode(frames[i], gocv.IMReadColor)
		if err != nil {
			t.Fatal(err)
		}
		got := image.Pt(f.Mat.Cols(), f.Mat.Rows())
		if got != sizes[i/per] {
			t.Errorf("frame %d: %v, want %v", i, got, sizes[i/per])
		} else {
			// A frame decoded by another decoder is within a level of its JPEG on
			// average; another frame of the same field, with its own sensor noise, is
			// not.
			mean := gocv.NormWithMats(f.Mat, want, gocv.NormL1) / float64(3*got.X*got.Y)
			t.Logf("frame %d: %v, %.2f levels from its own JPEG on average", i, got, mean)
			if mean > 1 {
				t.Errorf("frame %d: %.2f levels from its own JPEG on average: another frame's pixels", i, mean)
			}
		}
		want.Close()
		f.Mat.Close()
	}
}
