package vision

import (
	"image"
	"testing"

	"github.com/phytoscreen/phytoscreen/capture"

	"github.com/phytoscreen/phytoscreen/synth"
)

// obj is an object with only what the tracker reads: a box and its centroid.
func obj(x0, y0, x1, y1 int) Object {
	return Object{Box: image.Rect(x0, y0, x1, y1), Centroid: [2]float64{float64(x0+x1) / 2, float64(y0+y1) / 2}}
}

// withPeak is o with the largest difference from the illumination set.
func withPeak(o Object, peak uint8) Object {
	o.peak = peak
	return o
}

// step is one frame given to the tracker.
type step struct {
	objs     []Object
	shift    image.Point
	newField bool
	wantNew  []bool
}

// TestTracker runs the tracker on hand-made sequences.
func TestTracker(t *testing.T) {
	a, b := obj(100, 100, 140, 130), obj(300, 200, 320, 260)
	cases := []struct {
		name  string
		mode  Mode
		steps []step
	}{
		{"still field: each cell once", ModeStill, []step{
			{objs: []Object{a, b}, wantNew: []bool{true, true}},
			{objs: []Object{a, b}, wantNew: []bool{false, false}},
			{objs: []Object{obj(101, 99, 141, 131), b}, wantNew: []bool{false, false}}, // jitter
		}},
		{"a cell missed in one frame is not recounted", ModeStill, []step{
			{objs: []Object{a, b}, wantNew: []bool{true, true}},
			{objs: []Object{b}, wantNew: []bool{false}},
			{objs: []Object{a, b}, wantNew: []bool{false, false}},
		}},
		{"field change: the same places hold new cells", ModeStill, []step{
			{objs: []Object{a, b}, wantNew: []bool{true, true}},
			{objs: []Object{a, b}, newField: true, wantNew: []bool{true, true}},
		}},
		{"stage pans: cells move together", ModeStill, []step{
			{objs: []Object{a, b}, wantNew: []bool{true, true}},
			{objs: []Object{obj(70, 110, 110, 140), obj(270, 210, 290, 270)}, shift: image.Pt(-30, 10), wantNew: []bool{false, false}},
			{objs: []Object{obj(40, 120, 80, 150), obj(500, 50, 520, 70)}, shift: image.Pt(-30, 10), wantNew: []bool{false, true}},
		}},
		{"a piece split off a known cell is not a new cell", ModeStill, []step{
			{objs: []Object{obj(100, 100, 200, 160)}, wantNew: []bool{true}},
			{objs: []Object{obj(100, 100, 170, 160), obj(176, 120, 200, 140)}, wantNew: []bool{false, false}},
		}},
		{"a faint piece beside a cell in its first frame is part of it", ModeStill, []step{
			{objs: []Object{withPeak(obj(100, 100, 120, 118), 110), withPeak(obj(95, 121, 103, 129), 20)}, wantNew: []bool{true, false}},
			{objs: []Object{withPeak(obj(100, 100, 120, 118), 110), withPeak(obj(95, 121, 103, 129), 20)}, wantNew: []bool{false, false}},
		}},
		{"a neighbour as dark as a cell in its first frame is a cell", ModeStill, []step{
			{objs: []Object{withPeak(obj(100, 100, 120, 118), 110), withPeak(obj(95, 121, 103, 129), 60)}, wantNew: []bool{true, true}},
		}},
		{"a faint object far from a cell in its first frame is a cell", ModeStill, []step{
			{objs: []Object{withPeak(obj(100, 100, 120, 118), 110), withPeak(obj(60, 140, 68, 148), 20)}, wantNew: []bool{true, true}},
		}},
		{"a cell entering at the edge grows", ModeStill, []step{
			{objs: []Object{obj(0, 100, 8, 130)}, wantNew: []bool{true}},
			{objs: []Object{obj(0, 100, 30, 130)}, shift: image.Pt(20, 0), wantNew: []bool{false}},
		}},
		{"flow: cells followed along their paths", ModeFlow, []step{
			{objs: []Object{obj(100, 100, 120, 120), obj(100, 300, 130, 330)}, wantNew: []bool{true, true}},
			{objs: []Object{obj(125, 100, 145, 120), obj(140, 300, 170, 330)}, wantNew: []bool{false, false}},
			{objs: []Object{obj(150, 101, 170, 121), obj(180, 300, 210, 330), obj(20, 200, 40, 220)}, wantNew: []bool{false, false, true}},
			{objs: []Object{obj(175, 101, 195, 121), obj(220, 300, 250, 330), obj(45, 200, 65, 220)}, wantNew: []bool{false, false, false}},
		}},
		{"flow: a cell gone for long is a new one", ModeFlow, []step{
			{objs: []Object{a}, wantNew: []bool{true}},
			{objs: nil},
			{objs: nil},
			{objs: nil},
			{objs: []Object{a}, wantNew: []bool{true}},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := tracker{mode: c.mode, pad: 3}
			ids := map[int]bool{}
			for i, s := range c.steps {
				objs := append([]Object(nil), s.objs...)
				tr.update(objs, s.shift, s.newField, false, 640, 480)
				for k, o := range objs {
					if o.New != s.wantNew[k] {
						t.Errorf("frame %d object %d (%v): New=%v, want %v", i, k, o.Box, o.New, s.wantNew[k])
					}
					if o.New && ids[o.Track] {
						t.Errorf("frame %d object %d: new object reuses track %d", i, k, o.Track)
					}
					ids[o.Track] = true
				}
			}
		})
	}
}

// TestMovingStageAndFlow runs the whole segmenter on frames of a field that moves under
// the camera: a stage panning 20 px a frame (still mode, motion from phase correlation)
// and the same motion read as a flow-through cell (flow mode, tracks with velocities,
// temporal background). Compact cells of six classes; every cell must be counted once.
func TestMovingStageAndFlow(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and segments many frames; run without -short")
	}
	lib, err := synth.DefaultLibrary()
	if err != nil {
		t.Fatal(err)
	}
	mix := []synth.Count{{Label: "protist_noctiluca", N: 3}, {Label: "copepod_calanoid", N: 3}, {Label: "diatom_chain_tube", N: 3},
		{Label: "trichodesmium_puff", N: 3}, {Label: "fecal_pellet", N: 3}, {Label: "copepod_cyclopoid_oithona_eggs", N: 3}}
	const w, h, v, frames = 800, 600, 20, 30
	for _, mode := range []Mode{ModeStill, ModeFlow} {
		t.Run(mode.String(), func(t *testing.T) {
			g, err := synth.New(lib, synth.Options{Width: w, Height: h, Cells: -1, Mix: mix, Seed: 21})
			if err != nil {
				t.Fatal(err)
			}
			field, err := g.NewFieldSize(w+v*frames, h)
			if err != nil {
				t.Fatal(err)
			}
			var log statusLog
			seg, err := NewSegmenter(Options{Mode: mode, OnStatus: log.add})
			if err != nil {
				t.Fatal(err)
			}
			defer seg.Close()
			counted := map[int]int{}
			seen := map[int]bool{}
			spurious := 0
			for k := 0; k < frames; k++ {
				at := image.Pt(k*v, 0)
				m := rgbaMat(t, g.RenderAt(field, at))
				objs, err := seg.Process(capture.Frame{Index: k, Source: "moving", Mat: m})
				m.Close()
				if err != nil {
					t.Fatal(err)
				}
				cells := field.CellsIn(image.Rectangle{Min: at, Max: at.Add(image.Pt(w, h))})
				for _, c := range cells {
					if c.Box.W*c.Box.H >= 50 { // more than a sliver at the edge
						seen[c.ID] = true
					}
				}
				for _, o := range objs {
					if !o.New {
						continue
					}
					if id, ok := cellAt(cells, o); ok {
						counted[id]++
						if counted[id] > 1 {
							for _, c := range cells {
								if c.ID == id {
									t.Logf("frame %d: cell %d (%s, truth %v) counted again at %v; in this frame: %v", k, id, c.Label, c.Box.Rect(), o.Box, boxesOf(objs))
								}
							}
						}
					} else {
						spurious++
						t.Logf("frame %d: new object %v is no cell", k, o.Box)
					}
				}
			}
			over, under := 0, 0
			for id := range seen {
				switch n := counted[id]; {
				case n == 0:
					under++
				case n > 1:
					over += n - 1
				}
			}
			t.Logf("%s: %d cells crossed the field; %d counted twice or more (+%d), %d never, %d spurious; %d field changes",
				mode, len(seen), over, over, under, spurious, log.count(capture.StatusFieldChanged))
			if over+under+spurious > 0 {
				t.Errorf("over-count %d, under-count %d, spurious %d: want every cell exactly once", over, under, spurious)
			}
			if log.count(capture.StatusFieldChanged) > 0 {
				t.Errorf("%d field changes reported while the stage only panned", log.count(capture.StatusFieldChanged))
			}
		})
	}
}

// cellAt finds the true cell whose box holds an object's centroid.
func cellAt(cells []synth.Cell, o Object) (int, bool) {
	c := image.Pt(int(o.Centroid[0]), int(o.Centroid[1]))
	for _, cell := range cells {
		if c.In(cell.Box.Rect().Inset(-2)) {
			return cell.ID, true
		}
	}
	return 0, false
}

func boxesOf(objs []Object) []image.Rectangle {
	var b []image.Rectangle
	for _, o := range objs {
		b = append(b, o.Box)
	}
	return b
}
