package vision

import (
	"image"
	"math"

	"gocv.io/x/gocv"
)

// motionWidth is the width the object masks are shrunk to before they are compared
// (at most; small frames are not enlarged): about a millisecond's work at any frame
// size, and a cell still spans a pixel or more.
const motionWidth = 160

// motion tells from two consecutive object masks whether the stage moved: it
// phase-correlates them (OpenCV phaseCorrelate) shrunk to motionWidth. A high peak means the
// same field, possibly shifted (the shift is returned); a low one means another field.
// Masks, not gray levels, are compared: the vignetting is the same in every frame and
// would make any two fields look alike, and sensor noise would make a field with few
// cells look unlike itself.
type motion struct {
	prev, cur gocv.Mat // float32 signatures; prev is the last frame that had objects
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

// update compares the object mask of the new frame with the last one that had objects.
// It returns the stage shift in pixels and whether the field changed. A frame without
// objects says nothing and is not remembered.
func (m *motion) update(mask gocv.Mat, w, h int, hasObjects bool, minResponse float64) (image.Point, bool) {
	if !hasObjects {
		return image.Point{}, false
	}
	// A whole shrink factor, and the frame cut to a multiple of it: OpenCV's area
	// resize takes its fast path only then (at 2592x1944 the general path costs 14 ms;
	// this one a fraction of a millisecond). The few pixels cut at the right and bottom
	// edges do not matter to a shift.
	scale := max(1, w/motionWidth)
	sw, sh := max(1, w/scale), max(1, h/scale)
	if sw < 8 || sh < 8 {
		return image.Point{}, false // too small to tell
	}
	if sw != m.sw || sh != m.sh {
		m.sw, m.sh, m.hasPrev = sw, sh, false
		m.window = replaceMat(m.window, hanning(sw, sh))
	}
	whole := mask.Region(image.Rect(0, 0, sw*scale, sh*scale))
	gocv.Resize(whole, &m.small, image.Pt(sw, sh), 0, 0, gocv.InterpolationArea)
	whole.Close()
	m.small.ConvertTo(&m.cur, gocv.MatTypeCV32F)
	var shift image.Point
	changed := false
	if m.hasPrev {
		d, resp := gocv.PhaseCorrelate(m.prev, m.cur, m.window)
		if resp < minResponse || math.IsNaN(resp) {
			changed = true
		} else {
			shift = image.Pt(int(math.Round(float64(d.X)*float64(scale))), int(math.Round(float64(d.Y)*float64(scale))))
		}
	}
	m.prev, m.cur = m.cur, m.prev
	m.hasPrev = true
	return shift, changed
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
