package vision

import (
	"context"
	"encoding/json"
	"image"
	"os"
	"path/filepath"
	"testing"

	"github.com/phytoscreen/phytoscreen/capture"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/synth"
)

// countResult compares the cells a segmenter counted on a video with its ground truth.
type countResult struct {
	cells, once, under, over, spurious int
	det                                synth.Score
	fields                             int
}

// countVideo runs a video through Run in still mode and matches every first sighting
// (Object.New) to the true cell whose box holds its centroid.
func countVideo(t *testing.T, path string, vt *synth.VideoTruth) countResult {
	t.Helper()
	src, err := capture.OpenVideo(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var log statusLog
	seg, err := NewSegmenter(Options{OnStatus: log.add})
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	counted := map[int]int{}
	var r countResult
	err = Run(context.Background(), src, seg, func(f capture.Frame, objs []Object) error {
		truth := vt.Frames[f.Index]
		boxes := make([]image.Rectangle, len(objs))
		for i, o := range objs {
			boxes[i] = o.Box
			if !o.New {
				continue
			}
			if id, ok := cellAt(truth.Cells, o); ok {
				counted[id]++
				if counted[id] > 1 {
					t.Logf("frame %d: cell %d counted again at %v", f.Index, id, o.Box)
				}
			} else {
				r.spurious++
				t.Logf("frame %d: new object %v is no cell", f.Index, o.Box)
			}
		}
		r.det = r.det.Add(synth.Evaluate(truth.Cells, boxes, 0.5))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r.cells = len(vt.Cells)
	for _, c := range vt.Cells {
		switch n := counted[c.ID]; {
		case n == 1:
			r.once++
		case n == 0:
			r.under++
			t.Logf("cell %d (%s) never counted", c.ID, c.Label)
		default:
			r.over += n - 1
		}
	}
	r.fields = seg.Stats().Fields
	return r
}

// TestDemoVideoCountsEachCellOnce: on the bundled demo video (three fields of a still
// slide, twelve frames each, 30 distinct cells) every cell is counted, the fields are
// found, and at most three cells (a tenth) are counted twice.
//
// Why three and not none: the segmenter rebuilt on real frames (issue 11) does not join
// pieces that do not meet within a frame, and the demo's faint organisms (medusae,
// siphonophores) show their parts apart in their field's first frame: 27 of 30 once, 3
// extra. Joining the pieces beside a cell in that frame (the tracker's reach) counts the
// demo right (29 of 30) but took the real frames' recall from 0.63 to 0.45 (tune
// split), where neighbouring cells do touch; the real frames decide. Only a faint piece
// (under a quarter of the cell's contrast) within reach is taken in that frame, which
// costs the real frames nothing. The old segmenter,
// whose closing joined everything nearby, counted 30 of 30 here and merged real fields
// into frame-wide objects.
func TestDemoVideoCountsEachCellOnce(t *testing.T) {
	var vt synth.VideoTruth
	if err := json.Unmarshal(assets.DemoTruth(), &vt); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "demo.avi")
	if err := os.WriteFile(path, assets.DemoVideo(), 0o644); err != nil {
		t.Fatal(err)
	}
	r := countVideo(t, path, &vt)
	t.Logf("demo video: %d cells: %d counted once, %d never (under-count), %d extra counts (over-count), %d spurious; %d fields seen of %d; detection recall %.3f precision %.3f",
		r.cells, r.once, r.under, r.over, r.spurious, r.fields, vt.Fields, r.det.Recall(), r.det.Precision())
	if r.under != 0 || r.over > 3 || r.spurious != 0 || r.fields != vt.Fields {
		t.Errorf("want every one of %d cells counted, at most three twice, in %d fields", r.cells, vt.Fields)
	}
}

// TestGeneratedVideosCount runs freshly generated videos with random class mixes: each
// cell counted, the stage moves found. The mixes include the faint, sparse medusae and
// ctenophores of the sample set, which break into pieces at any threshold: the tracker
// takes back the pieces that show in later frames of a field, but not those apart in
// the cell's first frame unless they are faint beside it (see
// TestDemoVideoCountsEachCellOnce for the real-frame measurement behind that), so the
// over-count allowed is a fifth of the cells (measured: 26 of 144; 28 before faint
// pieces were taken; 5 of 144 when all the first frame's pieces were joined).
func TestGeneratedVideosCount(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and segments many frames; run without -short")
	}
	lib, err := synth.DefaultLibrary()
	if err != nil {
		t.Fatal(err)
	}
	total := countResult{}
	for _, seed := range []uint64{5, 6, 7, 8} {
		g, err := synth.New(lib, synth.Options{Width: 960, Height: 720, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "v.avi")
		vt, err := g.WriteVideo(context.Background(), path, 24, 3, 10)
		if err != nil {
			t.Fatal(err)
		}
		r := countVideo(t, path, vt)
		t.Logf("seed %d: %d cells, %d once, %d never, %d extra, %d spurious; fields %d of %d", seed, r.cells, r.once, r.under, r.over, r.spurious, r.fields, vt.Fields)
		if r.fields != vt.Fields {
			t.Errorf("seed %d: %d fields seen, want %d", seed, r.fields, vt.Fields)
		}
		total.cells += r.cells
		total.once += r.once
		total.under += r.under
		total.over += r.over
		total.spurious += r.spurious
	}
	t.Logf("all: %d cells, %d counted once, under-count %d, over-count %d, spurious %d", total.cells, total.once, total.under, total.over, total.spurious)
	if total.under != 0 || float64(total.over+total.spurious) > 0.2*float64(total.cells) {
		t.Errorf("under-count %d (want 0), over-count %d + spurious %d (want at most a fifth of %d)", total.under, total.over, total.spurious, total.cells)
	}
}
