package vision

import (
	"image"
	"testing"

	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/synth"
)

// slideResult is what the segmenter made of a generated slide.
type slideResult struct {
	fields, truthFields int
	cells               int // distinct physical cells seen
	once, under, over   int
	spurious            int
}

// runSlide segments a generated slide frame by frame, in still mode, and checks each
// counted object against the truth of its frame: the physical cell under it.
func runSlide(t *testing.T, o synth.Options, so synth.SlideOptions) slideResult {
	t.Helper()
	lib, err := synth.DefaultLibrary()
	if err != nil {
		t.Fatal(err)
	}
	g, err := synth.New(lib, o)
	if err != nil {
		t.Fatal(err)
	}
	sl, err := g.NewSlide(so)
	if err != nil {
		t.Fatal(err)
	}
	seg, err := NewSegmenter(Options{OnStatus: func(capture.Status) {}})
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	counted := map[int]int{}
	seen := map[int]bool{}
	var r slideResult
	for i := 0; i < sl.Len(); i++ {
		img, ft, err := sl.Next()
		if err != nil {
			t.Fatal(err)
		}
		m := rgbaMat(t, img)
		objs, err := seg.Process(capture.Frame{Index: i, Source: "slide", Mat: m})
		m.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range ft.Cells {
			if c.Box.W*c.Box.H >= 50 {
				seen[c.ID] = true
			}
		}
		for _, ob := range objs {
			if !ob.New {
				continue
			}
			if id, ok := cellAt(ft.Cells, ob); ok {
				counted[id]++
				if counted[id] > 1 {
					for _, c := range ft.Cells {
						if c.ID == id {
							t.Logf("frame %d: %s (truth %v) counted again at %v", i, c.Label, c.Box.Rect(), ob.Box)
						}
					}
				}
			} else {
				r.spurious++
			}
		}
	}
	r.fields, r.truthFields, r.cells = seg.Stats().Fields, sl.Truth().Fields, len(seen)
	for id := range seen {
		switch n := counted[id]; {
		case n == 1:
			r.once++
		case n == 0:
			r.under++
		default:
			r.over += n - 1
		}
	}
	return r
}

// TestStillSlideFields is the still slide: 10 fields of 3 frames, 8 cells a field
// on a clean background (separate parts of the slide): every stage move found and each
// cell counted once, within 2%; then the same with the stage creeping 1 px a frame and
// with the focus wandering (neither is a new field); then dense fields (64 cells).
// The goal is within 2%, held for the still and the drifting slide. A copepod's
// pale egg sac beside its dark body is a piece of it from the field's first frame
// (track.go, faintShare); an acantharian whose two dark middles come out as two objects
// 1 px apart is counted twice (no rule tells them from two touching cells, which the
// real frames hold: see TestDemoVideoCountsEachCellOnce). With the focus wandering, an
// egg sac lies 5 px from its blurred body, beyond the reach of a piece: the test holds
// 4% there.
// (A stage moved by half a field is not recognised as a partial move: the shared half
// lies at the edges, where the phase correlation's window weighs little, and the field
// counts as new; docs/segmentation.md says so.)
func TestStillSlideFields(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and segments many frames; run without -short")
	}
	// Compact cells: what the test is about is the fields and the tracks. Faint
	// zooplankton with appendages (medusae, siphonophores, arrow worms) break into
	// pieces the segmenter keeps apart on the founding frame (regions.go, track.go);
	// TestGeneratedVideosCount measures that.
	compact := []synth.Count{{Label: "protist_noctiluca", N: 2}, {Label: "copepod_cyclopoid_oithona_eggs", N: 2},
		{Label: "trichodesmium_puff", N: 1}, {Label: "diatom_chain_tube", N: 1}, {Label: "fecal_pellet", N: 1}, {Label: "acantharia_protist", N: 1}}
	bright := synth.Options{Width: 960, Height: 720, Seed: 41, Cells: -1, Mix: compact}
	cases := []struct {
		name  string
		o     synth.Options
		so    synth.SlideOptions
		wrong float64 // the share of cells that may be counted wrong
	}{
		{"sparse", bright, synth.SlideOptions{}, 0.02},
		{"sparse, drift 1 px a frame", bright, synth.SlideOptions{Drift: image.Pt(1, 0)}, 0.02},
		{"sparse, focus wandering", bright, synth.SlideOptions{Focus: [2]float64{0.3, 1.5}}, 0.04},
		{"dense", synth.Options{Width: 960, Height: 720, Seed: 43, Cells: -1, Scale: 0.5, Gap: 4,
			Mix: []synth.Count{{Label: "protist_noctiluca", N: 16}, {Label: "copepod_cyclopoid_oithona_eggs", N: 16},
				{Label: "fecal_pellet", N: 16}, {Label: "acantharia_protist", N: 16}}}, synth.SlideOptions{}, 0.02},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runSlide(t, c.o, c.so)
			t.Logf("%s: %d fields of %d; %d cells: %d once, %d never, %d extra counts, %d spurious",
				c.name, r.fields, r.truthFields, r.cells, r.once, r.under, r.over, r.spurious)
			wrong := r.under + r.over + r.spurious
			if c.so.Overlap == 0 && r.fields != r.truthFields {
				t.Errorf("%d fields found, want %d", r.fields, r.truthFields)
			}
			if float64(wrong) > c.wrong*float64(r.cells) {
				t.Errorf("%d of %d cells counted wrong (never, twice or spurious): want within %.0f%% (goal 2%%)", wrong, r.cells, 100*c.wrong)
			}
		})
	}
}
