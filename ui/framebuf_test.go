package ui

import (
	"image"
	"testing"

	"github.com/phytoscreen/phytoscreen/vision"

	"gocv.io/x/gocv"

	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/screening"
)

func TestConvertPixels(t *testing.T) {
	// A 4x2 frame: pixel (x, y) has B=10x+1, G=20y+2, R=3 (BGR), gray 10x+y.
	const w, h = 4, 2
	bgr := make([]byte, w*h*3)
	bgra := make([]byte, w*h*4)
	gray := make([]byte, w*h)
	for y := range h {
		for x := range w {
			i := y*w + x
			bgr[3*i], bgr[3*i+1], bgr[3*i+2] = byte(10*x+1), byte(20*y+2), 3
			bgra[4*i], bgra[4*i+1], bgra[4*i+2], bgra[4*i+3] = byte(10*x+1), byte(20*y+2), 3, 7
			gray[i] = byte(10*x + y)
		}
	}
	for _, c := range []struct {
		name string
		src  []byte
		ch   int
		maxW int
		// want: RGBA of view pixel (1, 1) and the view size
		want  [4]byte
		size  image.Point
		scale int
	}{
		{"bgr", bgr, 3, 100, [4]byte{3, 22, 11, 255}, image.Pt(4, 2), 1},
		{"bgra", bgra, 4, 100, [4]byte{3, 22, 11, 255}, image.Pt(4, 2), 1},
		{"gray", gray, 1, 100, [4]byte{11, 11, 11, 255}, image.Pt(4, 2), 1},
		// Reduced by 2: view pixel (1, 0) is frame pixel (2, 0).
		{"bgr reduced", bgr, 3, 2, [4]byte{3, 2, 21, 255}, image.Pt(2, 1), 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			var vf viewFrame
			if err := convertPixels(&vf, c.src, w, h, c.ch, c.maxW); err != nil {
				t.Fatal(err)
			}
			if vf.Img.Rect.Size() != c.size || vf.Scale != c.scale || vf.Size != image.Pt(w, h) {
				t.Fatalf("view %v scale %d size %v", vf.Img.Rect.Size(), vf.Scale, vf.Size)
			}
			px := image.Pt(1, 1)
			if c.scale == 2 {
				px = image.Pt(1, 0)
			}
			o := vf.Img.PixOffset(px.X, px.Y)
			if got := [4]byte(vf.Img.Pix[o : o+4]); got != c.want {
				t.Errorf("pixel %v = %v, want %v", px, got, c.want)
			}
			// The buffer is reused for a frame of the same size.
			before := vf.Img
			if err := convertPixels(&vf, c.src, w, h, c.ch, c.maxW); err != nil || vf.Img != before {
				t.Errorf("buffer not reused (%v)", err)
			}
		})
	}
	var vf viewFrame
	if err := convertPixels(&vf, bgr[:5], w, h, 3, 100); err == nil {
		t.Error("a short buffer was accepted")
	}
}

func TestConvertMatRejectsOtherTypes(t *testing.T) {
	m := gocv.NewMatWithSize(4, 4, gocv.MatTypeCV32F)
	defer m.Close()
	var vf viewFrame
	if err := convertMat(&vf, m, 100); err == nil {
		t.Error("a float Mat was accepted")
	}
	e := gocv.NewMat()
	defer e.Close()
	if err := convertMat(&vf, e, 100); err == nil {
		t.Error("an empty Mat was accepted")
	}
}

// TestFrameBufferNeverWritesWhatTheUIShows runs the writer, the bridge and the UI through
// many interleavings and checks the invariant: the buffer the writer fills is never the
// one in flight to the UI nor the one on screen.
func TestFrameBufferNeverWritesWhatTheUIShows(t *testing.T) {
	b := newFrameBuffer(64)
	m := gocv.NewMatWithSize(8, 8, gocv.MatTypeCV8UC3)
	defer m.Close()
	f := capture.Frame{Mat: m, Source: "t"}
	var inflight, shown *viewFrame
	seen := map[*viewFrame]bool{}
	for step := range 2000 {
		// A deterministic but irregular schedule.
		switch (step * 7919) % 5 {
		case 0, 1:
			if b.back == inflight || b.back == shown {
				t.Fatalf("step %d: the writer's buffer is on its way to the UI or on screen", step)
			}
			f.Index = step
			if err := b.Put(f, []vision.Object{{Track: step, Crop: image.NewGray(image.Rect(0, 0, 2, 2))}}); err != nil {
				t.Fatal(err)
			}
		case 2:
			if inflight == nil {
				inflight = b.Take()
				if inflight != nil && inflight.Objects[0].Crop != nil {
					t.Fatal("the view keeps crops alive")
				}
			}
		case 3, 4:
			if inflight != nil {
				b.Shown(inflight)
				shown, inflight = inflight, nil
			}
		}
		seen[b.back] = true
	}
	if len(seen) > 4 {
		t.Errorf("%d buffers used; four should rotate", len(seen))
	}
	if b.Written() == 0 {
		t.Error("nothing written")
	}
}

func TestOverlaysFollowTheRunsLabels(t *testing.T) {
	tx := screening.DefaultTaxonomy("p", []string{"protist_noctiluca", "copepod_calanoid"})
	vf := &viewFrame{Index: 4, Source: "s", Objects: []vision.Object{
		{Track: 1, New: true, Box: image.Rect(0, 0, 5, 5)},
		{Track: 2, Box: image.Rect(10, 0, 15, 5)},
		{Track: 3, Box: image.Rect(20, 0, 25, 5)},
	}}
	// The pipeline's view is of the previous frame: labels are taken by track.
	fv := screening.FrameView{Index: 3, Source: "s", Objects: []screening.Overlay{
		{Track: 1, State: screening.StateIdentified, Label: "protist_noctiluca", Name: "Noctiluca", Prob: 0.91},
		{Track: 2, State: screening.StateUnidentified, Label: screening.Unidentified, Prob: 0.2},
	}}
	got := overlaysFor(vf, fv, tx, nil)
	if len(got) != 3 {
		t.Fatalf("%d overlays", len(got))
	}
	if got[0].Text != "Noctiluca 91%" || got[0].Color != taxonColor("protist_noctiluca", "noctiluca") || !got[0].New || got[0].Box != vf.Objects[0].Box {
		t.Errorf("overlay 0 %+v", got[0])
	}
	if got[1].Text != "? 20%" || got[1].Color != colorUnidentified {
		t.Errorf("overlay 1 %+v", got[1])
	}
	if got[2].Text != "" || got[2].Color != colorPending {
		t.Errorf("overlay 2 (not classified yet) %+v", got[2])
	}
}

// BenchmarkFrameBufferPut1080p measures converting a 1080p BGR camera frame for the live
// view. It must not allocate: the buffers are reused from frame to frame.
func BenchmarkFrameBufferPut1080p(b *testing.B) {
	m := gocv.NewMatWithSize(1080, 1920, gocv.MatTypeCV8UC3)
	defer m.Close()
	fb := newFrameBuffer(0)
	objs := make([]vision.Object, 40)
	f := capture.Frame{Mat: m, Source: "camera:0"}
	b.ReportAllocs()
	b.SetBytes(1920 * 1080 * 3)
	for i := 0; b.Loop(); i++ {
		f.Index = i
		if err := fb.Put(f, objs); err != nil {
			b.Fatal(err)
		}
		if v := fb.Take(); v != nil {
			fb.Shown(v)
		}
	}
}
