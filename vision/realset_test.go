package vision

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/imagefile"
	"github.com/phytoscreen/phytoscreen/truth"
)

// realSet is the hand-annotated set of real bench-microscope frames
// (testdata/real-frames, docs/annotation-protocol.md).
const realSet = "../testdata/real-frames"

// realTrainSet is the learned detector's training frames (testdata/real-frames-train),
// boxed under the same protocol: split "train", a second, larger set to tune the
// thresholds on (PHYTOSCREEN_REAL_SPLIT=train). Never for the detector's own figures,
// which it was fitted to.
const realTrainSet = "../testdata/real-frames-train"

// realSetDir is the folder of a split's frames.
func realSetDir(split string) string {
	if split == "train" {
		return realTrainSet
	}
	return realSet
}

// realFrame is one annotated frame as the frame path decodes it, with its truth mapped
// into the decoded orientation.
type realFrame struct {
	truth truth.Frame
	mat   gocv.Mat
}

// loadRealFrames decodes the annotated frames of a split ("" for all) through the
// product's frame path (a folder source's decoder: EXIF orientation applied).
func loadRealFrames(t testing.TB, split string) []realFrame {
	t.Helper()
	dir := realSetDir(split)
	frames, err := truth.ReadCSV(filepath.Join(dir, "annotations.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var out []realFrame
	for _, f := range frames {
		if split != "" && f.Split != split {
			continue
		}
		path := filepath.Join(dir, f.File)
		src, err := capture.OpenImage(path)
		if err != nil {
			t.Fatal(err)
		}
		fr, err := src.Next(context.Background())
		src.Close()
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// The annotator's boxes are in the stored 320x240 pixel order; rows 0-1 are the
		// sensor's dark band (not an object, protocol): a detection lying in them is excused.
		f.Objects = append(f.Objects, truth.Object{Box: image.Rect(0, 0, 320, 2), Ignore: true, Note: "sensor rows"})
		f = f.Oriented(imagefile.Orientation(data), 320, 240)
		out = append(out, realFrame{truth: f, mat: fr.Mat})
	}
	t.Cleanup(func() {
		for _, f := range out {
			f.mat.Close()
		}
	})
	return out
}

// realScores segments every frame on its own (each is a field of its own) and scores
// it at the given overlap.
type realResult struct {
	file   string
	score  truth.Score
	found  []Object
	oversz []Object // objects over 10% of the frame without a truth object that large
}

func scoreRealFrames(t testing.TB, frames []realFrame, opt Options, minIoU float64) []realResult {
	t.Helper()
	seg, err := NewSegmenter(opt)
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	var out []realResult
	for _, f := range frames {
		// Each frame is a field of its own: a new stream, processed as a run would, and
		// what it counts (the objects marked New) is scored.
		seg.restart()
		all, err := seg.Process(capture.Frame{Source: f.truth.File, Mat: f.mat})
		if err != nil {
			t.Fatalf("%s: %v", f.truth.File, err)
		}
		var objs []Object
		for _, o := range all {
			if o.New {
				objs = append(objs, o)
			}
		}
		boxes := make([]image.Rectangle, len(objs))
		for i, o := range objs {
			boxes[i] = o.Box
		}
		r := realResult{file: f.truth.File, score: f.truth.Match(boxes, minIoU), found: objs}
		frameArea := f.mat.Cols() * f.mat.Rows()
		largest := 0
		for _, o := range f.truth.Objects {
			largest = max(largest, o.Box.Dx()*o.Box.Dy()) // an ignored haze region counts: it is that large
		}
		for _, o := range objs {
			if a := o.Box.Dx() * o.Box.Dy(); 10*a > frameArea && a > largest*5/4 {
				r.oversz = append(r.oversz, o)
			}
		}
		out = append(out, r)
	}
	return out
}

// TestRealAnnotatedFrames measures the segmenter on the real frames of the test split,
// which it was not tuned on: recall and precision at IoU 0.3 and 0.5, the count error of
// every frame, and the objects over a tenth of the frame where the truth has none as
// large. The goal (issue 11) is recall 0.85 and precision 0.75 at IoU 0.3 with no such
// object; it is not reached (docs/segmentation.md has the figures). The bars below guard
// the level reached, a little below it, so that a change that loses ground fails here:
// measured recall 0.530, precision 0.776, 12 oversized objects on the test split (the
// first segmenter: 0.212, 0.597, 32); guarded at 0.50, 0.74 and 14.
// It also measures the learned detector's 137 training frames (split "train",
// testdata/real-frames-train), which the thresholds were never tuned on either: seven
// times the tune split's objects, so a change tuned there is judged on more than 94
// objects; guarded the same way (measured recall 0.474, precision 0.760, 15 oversized;
// guarded at 0.45, 0.74 and 17).
// With PHYTOSCREEN_OVERLAYS=DIR it draws each frame with the truth (green, ignore regions
// grey) and what was found (red: unmatched, blue: matched) into DIR. With
// PHYTOSCREEN_REAL_SPLIT=tune (or train) it measures that split alone (what to tune a
// change on, leaving the test split unseen until the change is done).
func TestRealAnnotatedFrames(t *testing.T) {
	for _, split := range realSplits(t, true) {
		total, over := realSplitScores(t, split, loadRealFrames(t, split), Options{})
		if split == "train" {
			if total.Recall() < 0.45 || total.Precision() < 0.74 || over > 17 {
				t.Errorf("train split at IoU 0.3: recall %.3f (guard 0.45), precision %.3f (guard 0.74), %d oversized (guard 17)", total.Recall(), total.Precision(), over)
			}
			continue
		}
		if split != "test" {
			continue
		}
		if total.Recall() < 0.50 || total.Precision() < 0.74 {
			t.Errorf("test split at IoU 0.3: recall %.3f (guard 0.50; goal 0.85), precision %.3f (guard 0.74; goal 0.75)", total.Recall(), total.Precision())
		}
		if over > 14 {
			t.Errorf("%d objects over 10%% of the frame where the truth has none as large (guard 14; goal 0)", over)
		}
	}
}

// realSplits is the splits to measure: all, or the one PHYTOSCREEN_REAL_SPLIT names.
// withTrain adds the detector's training frames (split "train"): for the thresholds
// alone, never for the detector, which was fitted to them.
func realSplits(t *testing.T, withTrain bool) []string {
	splits := []string{"tune", "test"}
	if withTrain {
		splits = append(splits, "train")
	}
	if only := os.Getenv("PHYTOSCREEN_REAL_SPLIT"); only != "" {
		if !slices.Contains(splits, only) {
			t.Fatalf("PHYTOSCREEN_REAL_SPLIT=%q: want one of %s", only, strings.Join(splits, ", "))
		}
		splits = []string{only}
	}
	return splits
}

// realSplitScores scores one split at IoU 0.3 and 0.5, logging recall, precision, the
// objects over a tenth of the frame, the count error and the kinds (with -v, each tune
// frame; with PHYTOSCREEN_OVERLAYS, the overlays), and returns the IoU 0.3 totals and the
// number of oversize objects.
func realSplitScores(t *testing.T, split string, frames []realFrame, opt Options) (truth.Score, int) {
	t.Helper()
	var total03 truth.Score
	over03 := 0
	for _, iou := range []float64{0.3, 0.5} {
		res := scoreRealFrames(t, frames, opt, iou)
		var total truth.Score
		var lines []string
		over := 0
		for _, r := range res {
			total = total.Add(r.score)
			over += len(r.oversz)
			for _, o := range r.oversz {
				if testing.Verbose() && iou == 0.3 {
					t.Logf("  oversize: %s %v (%d px, %s, marked %v)", r.file, o.Box, int(o.AreaPx), o.Kind, o.Oversize)
				}
			}
			lines = append(lines, fmt.Sprintf("  %-44s truth %3d found %3d hits %3d excused %2d  count error %+d", r.file, r.score.Truth,
				r.score.Found, r.score.Hits, r.score.Excused, r.score.CountError()))
		}
		t.Logf("%s split, %d frames, IoU %.1f: recall %.3f (%d of %d), precision %.3f (%d of %d), %d oversize objects",
			split, len(frames), iou, total.Recall(), total.Hits, total.Truth, total.Precision(), total.Hits, total.Found-total.Excused, over)
		if iou != 0.3 {
			continue
		}
		total03, over03 = total, over
		var bySize truth.BySize
		for i, r := range res {
			bySize.Add(frames[i].truth, r.score)
		}
		t.Logf("%s split, IoU 0.3, recall by size (longer side): %v", split, bySize)
		var counts truth.CountErrors
		for _, r := range res {
			counts.Add(r.score)
		}
		t.Logf("%s split, count error per frame: %v", split, counts)
		if testing.Verbose() && split == "tune" {
			sort.Strings(lines)
			t.Log("per frame:\n" + strings.Join(lines, "\n"))
		}
		t.Logf("%s split, kinds of the matched objects (truth: found): %s", split, kindAgreement(frames, res))
		if dir := os.Getenv("PHYTOSCREEN_OVERLAYS"); dir != "" {
			drawOverlays(t, dir, frames, res)
		}
	}
	return total03, over03
}

// drawOverlays writes each frame with its truth and detections, scaled 3x.
func drawOverlays(t testing.TB, dir string, frames []realFrame, res []realResult) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	const k = 3
	for i, f := range frames {
		img, err := f.mat.ToImage()
		if err != nil {
			t.Fatal(err)
		}
		b := img.Bounds()
		out := image.NewRGBA(image.Rect(0, 0, k*b.Dx(), k*b.Dy()))
		for y := 0; y < out.Rect.Dy(); y++ {
			for x := 0; x < out.Rect.Dx(); x++ {
				out.Set(x, y, img.At(x/k, y/k))
			}
		}
		rect := func(r image.Rectangle, c color.RGBA, width int) {
			r = image.Rect(r.Min.X*k, r.Min.Y*k, r.Max.X*k, r.Max.Y*k)
			for w := 0; w < width; w++ {
				rr := r.Inset(-w)
				for _, e := range []image.Rectangle{{rr.Min, image.Pt(rr.Max.X, rr.Min.Y+1)}, {image.Pt(rr.Min.X, rr.Max.Y-1), rr.Max},
					{rr.Min, image.Pt(rr.Min.X+1, rr.Max.Y)}, {image.Pt(rr.Max.X-1, rr.Min.Y), rr.Max}} {
					draw.Draw(out, e, &image.Uniform{c}, image.Point{}, draw.Src)
				}
			}
		}
		for _, o := range f.truth.Objects {
			if o.Ignore {
				rect(o.Box, color.RGBA{160, 160, 160, 255}, 1)
			} else {
				rect(o.Box, color.RGBA{0, 200, 0, 255}, 2)
			}
		}
		extra := map[int]bool{}
		for _, e := range res[i].score.Extra {
			extra[e] = true
		}
		for j, o := range res[i].found {
			c := color.RGBA{40, 90, 255, 255}
			if extra[j] {
				c = color.RGBA{255, 0, 0, 255}
			}
			rect(o.Box.Inset(0), c, 1)
		}
		fh, err := os.Create(filepath.Join(dir, strings.TrimSuffix(f.truth.File, ".jpg")+".png"))
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(fh, out); err != nil {
			t.Fatal(err)
		}
		fh.Close()
	}
}

// kindAgreement tabulates, for matched objects whose truth kind is a shape kind, the
// kind the segmenter gave.
func kindAgreement(frames []realFrame, res []realResult) string {
	counts := map[string]map[Kind]int{}
	right, all := 0, 0
	for i, f := range frames {
		real := f.truth.Real()
		for _, p := range res[i].score.Pairs {
			tk := real[p[0]].Kind
			if tk == "debris" || tk == "" {
				continue
			}
			if counts[tk] == nil {
				counts[tk] = map[Kind]int{}
			}
			k := res[i].found[p[1]].Kind
			counts[tk][k]++
			all++
			if string(k) == tk {
				right++
			}
		}
	}
	var parts []string
	for _, tk := range []string{"cell", "colony", "filament", "chain"} {
		parts = append(parts, fmt.Sprintf("%s: %v", tk, counts[tk]))
	}
	return fmt.Sprintf("%d of %d agree; %s", right, all, strings.Join(parts, "; "))
}
