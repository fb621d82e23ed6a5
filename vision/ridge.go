package vision

import (
	"image"
	"math"
	"slices"

	"gocv.io/x/gocv"
)

// Thin faint structures (a Pseudo-nitzschia needle a few pixels wide, a faint trichome)
// differ from the background by less than the threshold over most of their length: the
// blob threshold finds pieces or nothing. A ridge filter follows them: the largest
// eigenvalue of the Hessian of the frame smoothed at ridgeSigma, which is large on a
// dark line of about that width and sums the line's contrast along a stretch of it, so
// a line too faint pixel by pixel still stands out. Its pixels are cut by hysteresis:
// a ridge is what stays above ridgeLow noise deviations of the response while reaching
// ridgeHigh somewhere, and it becomes an object when it is long and thin (at least
// ridgeMinLength working pixels end to end, its pixels under ridgeMaxWidth times its
// length) and not already inside an object the threshold found.
const (
	ridgeSigma     = 1.5
	ridgeHigh      = 12.0
	ridgeLow       = 6.0
	ridgeMinLength = 32
	ridgeMaxWidth  = 0.25
	ridgeFound     = 0.5 // share of a ridge's pixels in objects' boxes: it is theirs
)

// ridges holds the ridge filter's working images, reused frame after frame.
type ridges struct {
	blur, dxx, dyy, dxy gocv.Mat
	resp                []float32
	lo, hi              gocv.Mat
	cc, stats, cents    gocv.Mat
}

func newRidges() ridges {
	return ridges{blur: gocv.NewMat(), dxx: gocv.NewMat(), dyy: gocv.NewMat(), dxy: gocv.NewMat(),
		lo: gocv.NewMat(), hi: gocv.NewMat(), cc: gocv.NewMat(), stats: gocv.NewMat(), cents: gocv.NewMat()}
}

func (r *ridges) close() {
	for _, m := range []*gocv.Mat{&r.blur, &r.dxx, &r.dyy, &r.dxy, &r.lo, &r.hi, &r.cc, &r.stats, &r.cents} {
		if m.Ptr() != nil {
			m.Close()
		}
	}
}

// find adds the ridges of gray (8-bit, w x h) that no region holds to labels as new
// regions (labels from next on) and returns the regions with them.
func (r *ridges) find(gray gocv.Mat, labels []int32, regions []region, next int32, w, h int) ([]region, error) {
	gray.ConvertTo(&r.blur, gocv.MatTypeCV32F)
	gocv.GaussianBlur(r.blur, &r.blur, image.Point{}, ridgeSigma, ridgeSigma, gocv.BorderReplicate)
	gocv.Sobel(r.blur, &r.dxx, gocv.MatTypeCV32F, 2, 0, 3, 1, 0, gocv.BorderReplicate)
	gocv.Sobel(r.blur, &r.dyy, gocv.MatTypeCV32F, 0, 2, 3, 1, 0, gocv.BorderReplicate)
	gocv.Sobel(r.blur, &r.dxy, gocv.MatTypeCV32F, 1, 1, 3, 1, 0, gocv.BorderReplicate)
	xx, err := r.dxx.DataPtrFloat32()
	if err != nil {
		return nil, err
	}
	yy, err := r.dyy.DataPtrFloat32()
	if err != nil {
		return nil, err
	}
	xy, err := r.dxy.DataPtrFloat32()
	if err != nil {
		return nil, err
	}
	// The larger eigenvalue: positive across a dark line (the frame curves up on both
	// sides of it).
	r.resp = slices.Grow(r.resp[:0], w*h)[:w*h]
	for i := range r.resp {
		a, b, c := xx[i], yy[i], xy[i]
		r.resp[i] = (a+b)/2 + float32(math.Sqrt(float64((a-b)*(a-b)/4+c*c)))
	}
	// The response's noise: the median absolute response over the frame, which lines
	// barely move, as a standard deviation.
	sigma := medianAbs(r.resp) * 1.4826
	if sigma <= 0 {
		return regions, nil
	}
	if r.lo.Rows() != h || r.lo.Cols() != w {
		r.lo = replaceMat(r.lo, gocv.NewMatWithSize(h, w, gocv.MatTypeCV8U))
	}
	lo, err := r.lo.DataPtrUint8()
	if err != nil {
		return nil, err
	}
	loT, hiT := float32(ridgeLow*sigma), float32(ridgeHigh*sigma)
	for i, v := range r.resp {
		lo[i] = 0
		if v > loT && labels[i] == 0 {
			lo[i] = 255
		}
	}
	n := gocv.ConnectedComponentsWithStats(r.lo, &r.cc, &r.stats, &r.cents)
	cc, err := int32Pixels(r.cc, w*h)
	if err != nil {
		return nil, err
	}
	// Per component: reaches the high threshold? how many of its pixels touch objects?
	strong := make([]bool, n)
	for i, l := range cc {
		if l != 0 && r.resp[i] > hiT {
			strong[l] = true
		}
	}
	keep := make([]int32, n) // new label of each kept component
	for l := 1; l < n; l++ {
		if !strong[l] {
			continue
		}
		bw, bh := r.stats.GetIntAt(l, int(gocv.CC_STAT_WIDTH)), r.stats.GetIntAt(l, int(gocv.CC_STAT_HEIGHT))
		area := float64(r.stats.GetIntAt(l, int(gocv.CC_STAT_AREA)))
		length := math.Hypot(float64(bw), float64(bh))
		if length < ridgeMinLength || area > ridgeMaxWidth*length*length {
			continue
		}
		keep[l] = next
		next++
	}
	// A ridge along or inside an object the threshold found (its edge, a faint
	// organism's appendage) is that object's: it counts when most of it lies outside
	// every object's box, widened by the satellites' reach.
	touch := make([]int, n)
	for _, rg := range regions {
		b := rg.box.Inset(-satelliteGap).Intersect(image.Rect(0, 0, w, h))
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				if l := cc[y*w+x]; l != 0 && keep[l] != 0 {
					touch[l]++
				}
			}
		}
	}
	added := false
	for l := 1; l < n; l++ {
		if keep[l] == 0 {
			continue
		}
		if float64(touch[l]) > ridgeFound*float64(r.stats.GetIntAt(l, int(gocv.CC_STAT_AREA))) {
			keep[l] = 0
			continue
		}
		added = true
		x, y := int(r.stats.GetIntAt(l, int(gocv.CC_STAT_LEFT))), int(r.stats.GetIntAt(l, int(gocv.CC_STAT_TOP)))
		bw, bh := int(r.stats.GetIntAt(l, int(gocv.CC_STAT_WIDTH))), int(r.stats.GetIntAt(l, int(gocv.CC_STAT_HEIGHT)))
		regions = append(regions, region{label: keep[l], box: image.Rect(x, y, x+bw, y+bh), n: int(r.stats.GetIntAt(l, int(gocv.CC_STAT_AREA)))})
	}
	if !added {
		return regions, nil
	}
	for i, l := range cc {
		if l != 0 && keep[l] != 0 {
			labels[i] = keep[l]
		}
	}
	return regions, nil
}

// medianAbs is the median absolute value of v (of every 16th: plenty for a noise level).
func medianAbs(v []float32) float64 {
	s := make([]float32, 0, len(v)/16+1)
	for i := 0; i < len(v); i += 16 {
		s = append(s, float32(math.Abs(float64(v[i]))))
	}
	if len(s) == 0 {
		return 0
	}
	slices.Sort(s)
	return float64(s[len(s)/2])
}
