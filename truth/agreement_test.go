package truth

import (
	"image"
	"path/filepath"
	"testing"
)

// TestAnnotatorAgreement measures how far two people boxing the same real frames agree,
// with the yardstick the segmenter is judged by (Match: IoU, the reference's ignore
// regions excusing). testdata/real-frames/annotations.csv is the reference;
// annotations-second.csv was boxed later by other annotators under the same protocol,
// without seeing the reference (testdata/real-frames/README.md). The second
// annotator's real objects are scored as if they were a segmenter's: the figures are a
// human's score on the benchmark, the ceiling against which the segmenter's 0.85
// recall goal can be read.
//
// It fails when the two files do not cover the same frames, or when a second frame has
// no row: agreement over a partial set would mislead.
func TestAnnotatorAgreement(t *testing.T) {
	dir := filepath.Join("..", "testdata", "real-frames")
	ref, err := ReadCSV(filepath.Join(dir, "annotations.csv"))
	if err != nil {
		t.Fatal(err)
	}
	second, err := ReadCSV(filepath.Join(dir, "annotations-second.csv"))
	if err != nil {
		t.Fatal(err)
	}
	other := map[string]Frame{}
	for _, f := range second {
		other[f.File] = f
	}
	if len(other) != len(ref) {
		t.Fatalf("annotations-second.csv covers %d frames, the reference %d: box every frame of the set", len(other), len(ref))
	}
	for _, split := range []string{"tune", "test"} {
		for _, iou := range []float64{0.3, 0.5} {
			var total Score
			var bySize BySize
			var counts CountErrors
			for _, f := range ref {
				if f.Split != split {
					continue
				}
				g, ok := other[f.File]
				if !ok {
					t.Fatalf("annotations-second.csv has no row for %s", f.File)
				}
				// The sensor's dark band (rows 0-1) excuses, as in the segmenter's scoring.
				f.Objects = append(f.Objects, Object{Box: image.Rect(0, 0, 320, 2), Ignore: true})
				var found []image.Rectangle
				for _, o := range g.Real() {
					found = append(found, o.Box)
				}
				s := f.Match(found, iou)
				total = total.Add(s)
				bySize.Add(f, s)
				counts.Add(s)
			}
			if counts.Frames == 0 || total.Truth == 0 {
				t.Fatalf("split %s: no frames or no objects in the reference", split)
			}
			t.Logf("%s split, IoU %.1f: the second annotator against the reference: recall %.3f (%d of %d), precision %.3f (%d of %d); count error per frame: %v",
				split, iou, total.Recall(), total.Hits, total.Truth, total.Precision(), total.Hits, total.Found-total.Excused,
				counts)
			t.Logf("%s split, IoU %.1f: recall by size (longer side): %v", split, iou, bySize)
		}
	}
}
