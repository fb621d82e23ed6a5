package vision

import (
	"image"
	"math"

	"gocv.io/x/gocv"
)

// motionWidth is the width the frames are shrunk to before they are compared (at most;
// small frames are not enlarged): about a millisecond's work at any frame size, and a
// cell still spans a pixel or more.
const motionWidth = 160

// Field decisions (still mode). The object masks of two consecutive frames are
// phase-correlated (OpenCV phaseCorrelate), shrunk to motionWidth. Masks, not gray
// levels: the vignetting and the illumination estimate's own faults are the same in
// every frame and made flat-field images of two unrelated fields correlate at 0.5 to 0.9
// (measured on generated videos); masks of one field score 0.8 to 1. The shift found is
// then checked against the cells (track turnover), since the response alone misleads:
// on a sparse slide (8 similar round cells a field) the masks of two unrelated fields
// correlate at up to 1.06 wherever one cell happens to fall on another, and the first
// segmenter, which trusted a response of 0.5, missed 4 of 10 stage moves. It is the
// same field, moved by the shift (slow drift, focus changes), when
//   - at least turnoverShare of the objects are known cells where the shift puts them,
//     as large and as dark as they were (a partial stage move: the cells seen again are
//     not counted again), or
//   - at least nearShare of them lie where known cells were, whatever their look (a
//     focus change blurs and grows every cell but moves none), or
//   - the response is at least Options.MinFieldMatch and turnoverShare of them lie where
//     known cells were.
//
// The last two need at least two objects where known ones were: one object of an
// unrelated frame lands where a known one was by chance (two photos of different
// slides, 2 and 3 objects each, were taken for one field).
//
// Otherwise it is another field, and its cells are new.
const (
	turnoverShare = 0.25
	nearShare     = 0.5
)

// motion keeps the last frame's signature and compares the new one with it.
type motion struct {
	prev, cur gocv.Mat // float32 signatures
	small     gocv.Mat
	window    gocv.Mat
	hasPrev   bool
	sw, sh    int
}

func newMotion() motion {
	return motion{prev: gocv.NewMat(), cur: gocv.NewMat(), small: gocv.NewMat(), window: gocv.NewMat()}
}

func (m *motion) reset() { m.hasPrev = false }

func (m *motion) close() {
	for _, x := range []*gocv.Mat{&m.prev, &m.cur, &m.small, &m.window} {
		if x.Ptr() != nil {
			x.Close()
		}
	}
}

// motionStep is what the comparison of a frame with the one before says.
type motionStep struct {
	shift    image.Point
	response float64 // phase-correlation peak, 0 to 1 (1 with no previous frame)
	compared bool
}

// update compares the frame's object mask (8-bit, w x h) with the previous frame's that
// had objects, and keeps it for the next. A frame without objects says nothing.
func (m *motion) update(mask gocv.Mat, w, h int, hasObjects bool) motionStep {
	if !hasObjects {
		return motionStep{response: 1}
	}
	// A whole shrink factor, the frame cut to a multiple of it: OpenCV's area resize
	// takes its fast path only then.
	scale := max(1, w/motionWidth)
	sw, sh := max(1, w/scale), max(1, h/scale)
	if sw < 8 || sh < 8 {
		return motionStep{response: 1} // too small to tell
	}
	if sw != m.sw || sh != m.sh {
		m.sw, m.sh, m.hasPrev = sw, sh, false
		m.window = replaceMat(m.window, hanning(sw, sh))
	}
	whole := mask.Region(image.Rect(0, 0, sw*scale, sh*scale))
	gocv.Resize(whole, &m.small, image.Pt(sw, sh), 0, 0, gocv.InterpolationArea)
	whole.Close()
	m.small.ConvertTo(&m.cur, gocv.MatTypeCV32F)
	st := motionStep{response: 1}
	if m.hasPrev {
		d, resp := gocv.PhaseCorrelate(m.prev, m.cur, m.window)
		if math.IsNaN(resp) {
			resp = 0
		}
		st = motionStep{shift: image.Pt(int(math.Round(float64(d.X)*float64(scale))), int(math.Round(float64(d.Y)*float64(scale)))),
			response: resp, compared: true}
	}
	m.prev, m.cur = m.cur, m.prev
	m.hasPrev = true
	return st
}

// hanning returns a w x h float32 Hann window (what cv::createHanningWindow makes), which
// phaseCorrelate uses to keep the image edges from dominating the spectrum.
func hanning(w, h int) gocv.Mat {
	m := gocv.NewMatWithSize(h, w, gocv.MatTypeCV32F)
	hann := func(i, n int) float64 {
		if n < 2 {
			return 1
		}
		return 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n-1))
	}
	for y := 0; y < h; y++ {
		wy := hann(y, h)
		for x := 0; x < w; x++ {
			m.SetFloatAt(y, x, float32(wy*hann(x, w)))
		}
	}
	return m
}
