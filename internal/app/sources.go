package app

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // frame folders are often JPEG
	_ "image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/imagefile"
	"github.com/phytoscreen/phytoscreen/inputfile"
)

// ListCameras lists the video devices present as camera specs (camera:0 for
// /dev/video0), in order.
func ListCameras() []capture.Spec {
	devs, _ := filepath.Glob("/dev/video*")
	slices.SortFunc(devs, func(a, b string) int {
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		return strings.Compare(a, b)
	})
	out := make([]capture.Spec, 0, len(devs))
	for _, d := range devs {
		out = append(out, capture.Camera(strings.TrimPrefix(d, "/dev/video")))
	}
	return out
}

// DemoVideo writes the bundled demo video (assets.DemoVideo: a recording made by the
// frame generator from the real cell images built into phytoscreen) into dir, once, and
// returns its path: OpenCV opens videos from files only.
func DemoVideo(dir string) (string, error) {
	data := assets.DemoVideo()
	sum := sha256.Sum256(data)
	path := filepath.Join(dir, fmt.Sprintf("phytoscreen-demo-%x.avi", sum[:4]))
	if fi, err := os.Stat(path); err == nil && fi.Size() == int64(len(data)) {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("demo video: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "demo-*.avi")
	if err != nil {
		return "", fmt.Errorf("demo video: %w", err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("demo video in %s: %w", dir, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("demo video: %w", err)
	}
	return path, nil
}

// FolderSurvey is what a quick look at a folder finds: its images and their typical size.
type FolderSurvey struct {
	Files    []string
	Others   []string // files that are not images (notes, videos, raw files): skipped
	Problems []imagefile.Problem
	Median   image.Point // median width and height of the first images
	Cells    bool        // the images look like single-cell crops
}

// SurveyFolder lists a folder's images and guesses whether they are whole frames or
// single-cell images from their sizes: cell crops are small (the NDSB images are 40 to
// 300 pixels), camera frames are 640 pixels or more.
func SurveyFolder(dir string) (FolderSurvey, error) {
	var s FolderSurvey
	s.Files, s.Others, s.Problems = imagefile.CollectAll([]string{dir})
	if len(s.Files) == 0 {
		why := ""
		if len(s.Problems) > 0 {
			why = " (" + s.Problems[0].Error() + ")"
		}
		return s, fmt.Errorf("folder %s holds no images%s: phytoscreen reads %s files; choose a folder of frames or of cell images", dir, why, strings.Join(imagefile.Extensions, ", "))
	}
	var ws, hs []int
	for _, f := range s.Files[:min(len(s.Files), 25)] {
		fh, err := inputfile.Open(f, inputfile.MaxImage) // replaced by a FIFO since the walk: refused, not waited on
		if err != nil {
			continue
		}
		cfg, _, err := image.DecodeConfig(fh)
		fh.Close()
		if err == nil {
			ws, hs = append(ws, cfg.Width), append(hs, cfg.Height)
		}
	}
	s.Cells = looksLikeCells(ws, hs)
	if len(ws) > 0 {
		slices.Sort(ws)
		slices.Sort(hs)
		s.Median = image.Pt(ws[len(ws)/2], hs[len(hs)/2])
	}
	return s, nil
}

// looksLikeCells guesses single-cell images from the sizes of a folder's images: a
// camera's frames all have its one size (320x240 from a small camera included, turned
// or not), cell crops come in as many sizes as cells; tiny images are crops whatever
// their sizes. A folder of frames with a few crops beside them is a folder of frames:
// counting each frame as one cell is the worse mistake.
func looksLikeCells(ws, hs []int) bool {
	if len(ws) == 0 {
		return false
	}
	long, sizes := 0, map[image.Point]int{}
	for i := range ws {
		long = max(long, ws[i], hs[i])
		sizes[image.Pt(max(ws[i], hs[i]), min(ws[i], hs[i]))]++ // a turned frame is the camera's size
	}
	var common image.Point // the commonest size
	for sz, n := range sizes {
		if n > sizes[common] || (n == sizes[common] && sz.X > common.X) {
			common = sz
		}
	}
	switch {
	case long < 200:
		return true // a frame of a usable camera is larger
	case len(ws) == 1:
		return long < 480 // one image: only its size to go by
	case common.X >= 200 && 2*sizes[common] >= len(ws):
		return false // half the images or more of one camera-sized size: frames
	}
	return len(sizes) > max(1, len(ws)/4) // many sizes: crops; one or a few: frames
}
