package vision

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"slices"

	"gocv.io/x/gocv"
)

// Measurements of one object: its own mask, area, axes, solidity, kind, cells estimate,
// focus and crop.

// frameData is the current frame's pixels as Go slices (views of the Mats' memory), at
// the working size (w x h) but full: the full-size gray frame (fw x fh, k times larger).
type frameData struct {
	gray, bg, thr []uint8
	labels        []int32 // the region of every pixel (regions.go)
	smooth        []uint8 // the blurred frame
	w, h          int
	full          []uint8
	fw, fh, k     int
}

// measure fills an Object with the measurements of a region.
func (s *Segmenter) measure(r region, fr frameData) (Object, error) {
	box := r.box
	o := Object{Box: box, UmPerPx: s.opt.UmPerPx, peak: r.peak}
	// The object's own mask, holes filled: its region copied into a box-sized image with
	// a one-pixel empty frame (so neighbours never fall outside), its external contours
	// found and drawn filled back, so that a neighbour inside the box does not count
	// and a cell's clear middle does.
	bw, bh := box.Dx(), box.Dy()
	if s.objMask.Cols() < bw+2 || s.objMask.Rows() < bh+2 {
		s.objMask = replaceMat(s.objMask, gocv.NewMatWithSize(max(bh+2, 64, s.objMask.Rows()), max(bw+2, 64, s.objMask.Cols()), gocv.MatTypeCV8U))
	}
	mk, err := s.objMask.DataPtrUint8()
	if err != nil {
		return o, err
	}
	ms := s.objMask.Cols()
	// Only the box's part is read: the mask keeps the size of the largest object so
	// far, and clearing all of it for every small object after a large one cost more
	// than measuring them.
	for y := 0; y < bh+2; y++ {
		clear(mk[y*ms : y*ms+bw+2])
	}
	for y := 0; y < bh; y++ {
		row := fr.labels[(box.Min.Y+y)*fr.w+box.Min.X : (box.Min.Y+y)*fr.w+box.Max.X]
		dst := mk[(y+1)*ms+1 : (y+1)*ms+1+bw]
		for x, l := range row {
			if l == r.label {
				dst[x] = 255
			}
		}
	}
	view := s.objMask.Region(image.Rect(0, 0, bw+2, bh+2))
	contours := gocv.FindContours(view, gocv.RetrievalExternal, gocv.ChainApproxSimple)
	view.Close()
	defer contours.Close()
	var pts []image.Point
	for i := 0; i < contours.Size(); i++ {
		gocv.DrawContoursWithParams(&s.objMask, contours, i, color.RGBA{255, 255, 255, 255}, -1, gocv.Line8, s.noHier, 0, image.Point{})
		pv := contours.At(i)
		o.Perimeter += gocv.ArcLength(pv, true)
		for _, p := range pv.ToPoints() {
			pts = append(pts, p.Add(box.Min).Sub(image.Pt(1, 1)))
		}
	}

	// The measured pixels: the filled region, less the pixels at its rim whose own (not
	// smoothed) difference from the background is under the threshold. The smoothing
	// that finds faint cells spreads every edge by a pixel; this takes the spread back,
	// so that sizes are those of the cell, not of its blur. Pixels deep inside count
	// even where a faint cell dips under the threshold.
	filled := 0
	var n, sx, sy, sxx, syy, sxy, sg, sc float64
	for pass := 0; pass < 2 && n == 0; pass++ {
		refine := pass == 0
		filled, n, sx, sy, sxx, syy, sxy, sg, sc = 0, 0, 0, 0, 0, 0, 0, 0, 0
		for y := 0; y < bh; y++ {
			up, row, down := mk[y*ms:y*ms+bw+2], mk[(y+1)*ms:(y+1)*ms+bw+2], mk[(y+2)*ms:(y+2)*ms+bw+2]
			off := (box.Min.Y+y)*fr.w + box.Min.X
			grow, brow, trow := fr.gray[off:off+bw], fr.bg[off:off+bw], fr.thr[off:off+bw]
			for x := 0; x < bw; x++ {
				if row[x+1] == 0 {
					continue
				}
				filled++
				if refine && (up[x]&up[x+1]&up[x+2]&row[x]&row[x+2]&down[x]&down[x+1]&down[x+2]) == 0 {
					d := int(grow[x]) - int(brow[x])
					if d < 0 {
						d = -d
					}
					if d <= int(trow[x]) {
						continue
					}
				}
				fx, fy := float64(x), float64(y)
				n++
				sx += fx
				sy += fy
				sxx += fx * fx
				syy += fy * fy
				sxy += fx * fy
				g := float64(grow[x])
				sg += g
				sc += (g - float64(brow[x])) / float64(brow[x])
			}
		}
		if refine && n < 0.5*float64(filled) {
			// Most of it went: a faint or hair-thin object, whose own pixels sink into
			// the noise. Its detected region is the better measure: take it whole.
			n = 0
		}
	}
	if n == 0 { // a degenerate contour: count its box
		n = float64(bw * bh)
	}
	o.AreaPx = n
	o.ESD = 2 * math.Sqrt(n/math.Pi)
	if n > 0 && sg > 0 {
		o.MeanGray = sg / n
		o.Contrast = sc / n
	}
	// Axes of the ellipse with the same second moments (a pixel is a unit square,
	// hence the 1/12).
	mx, my := sx/n, sy/n
	cxx, cyy, cxy := sxx/n-mx*mx+1.0/12, syy/n-my*my+1.0/12, sxy/n-mx*my
	tr, det := cxx+cyy, cxx*cyy-cxy*cxy
	disc := math.Sqrt(math.Max(tr*tr/4-det, 0))
	o.Major, o.Minor = 4*math.Sqrt(math.Max(tr/2+disc, 0)), 4*math.Sqrt(math.Max(tr/2-disc, 0))
	if o.Major > 0 {
		o.Aspect = o.Minor / o.Major
	}
	o.Centroid = [2]float64{float64(box.Min.X) + mx + 0.5, float64(box.Min.Y) + my + 0.5}

	// Solidity: the detected region's area over the area of the convex hull of its
	// outlines, both in pixels (a polygon through pixel centres covers its area plus
	// half its perimeter plus one pixel: Pick's theorem).
	hull := convexHull(pts)
	o.Solidity = min(1, float64(filled)/(polygonArea(hull)+polygonPerimeter(hull)/2+1))
	// Within two pixels of the edge: the illumination follows the steep fall of the
	// vignette at the border (illumination.go) and may take an edge object's last pixels.
	o.OnBorder = box.Min.X <= 2 || box.Min.Y <= 2 || box.Max.X >= fr.w-2 || box.Max.Y >= fr.h-2
	o.Length, o.Width = thinSize(float64(filled), o.Perimeter)
	// Parts: the dark cell centres in it (strict local minima of the smoothed frame,
	// darker than the illumination by the high threshold), the cells of a colony.
	for y := max(box.Min.Y, 1); y < min(box.Max.Y, fr.h-1); y++ {
		for x := max(box.Min.X, 1); x < min(box.Max.X, fr.w-1); x++ {
			i := y*fr.w + x
			v := fr.smooth[i]
			if fr.labels[i] != r.label || int(fr.bg[i])-int(v) <= int(fr.thr[i]) {
				continue
			}
			if v < fr.smooth[i-1] && v <= fr.smooth[i+1] && v < fr.smooth[i-fr.w] && v <= fr.smooth[i+fr.w] &&
				v < fr.smooth[i-fr.w-1] && v <= fr.smooth[i-fr.w+1] && v < fr.smooth[i+fr.w-1] && v <= fr.smooth[i+fr.w+1] {
				o.Parts++
			}
		}
	}
	o.Kind = kindOf(o.Length, o.Width, o.Parts)
	medianCore := 0.0
	if o.Parts > 0 {
		medianCore = float64(filled) / float64(o.Parts)
	}
	o.Cells = cellsGuess(o.Kind, float64(filled), o.Length, o.Width, o.Parts, medianCore)

	if fr.k > 1 {
		o.scaleUp(fr.k, fr.w, fr.h, fr.fw, fr.fh)
	}
	crop := o.Box.Inset(-s.opt.Margin).Intersect(image.Rect(0, 0, fr.fw, fr.fh))
	o.CropBox = crop
	o.Focus = laplacianVariance(fr.full, fr.fw, crop)
	switch s.opt.Crops {
	case CropFlat:
		o.Crop = flatCrop(fr, crop)
	case CropRaw:
		o.Crop = rawCrop(fr, crop)
	}
	if s.opt.ColourCrops && s.colour {
		c, err := colourCrop(s.frame, crop)
		if err != nil {
			return o, err
		}
		o.ColourCrop = c
	}
	if u := s.opt.UmPerPx; u > 0 {
		o.AreaUm2 = o.AreaPx * u * u
		o.ESDUm, o.MajorUm, o.MinorUm, o.PerimeterUm = o.ESD*u, o.Major*u, o.Minor*u, o.Perimeter*u
	}
	return o, nil
}

// flatScale[b] is 255/b in 16-bit fixed point (a multiply is cheaper than a divide).
var flatScale = func() (t [256]uint32) {
	for b := range t {
		t[b] = uint32((255<<16 + max(b, 1)/2) / max(b, 1))
	}
	return t
}()

// flatCrop copies a region of the full frame divided by the background, the background
// at 255 (the background of the working pixel each full pixel lies in: it is smooth).
func flatCrop(fr frameData, r image.Rectangle) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, r.Dx(), r.Dy()))
	// The working column of each crop column, once: a division per pixel took most of
	// the crop's time on large objects.
	col := make([]int, r.Dx())
	for x := range col {
		col[x] = min((r.Min.X+x)/fr.k, fr.w-1)
	}
	// Each crop column's scale, made again only when the working row changes: the k
	// full rows of one working row share it, and two lookups per pixel were a third of
	// the crop's time at 1920x1080.
	scale := make([]uint32, r.Dx())
	wrow := -1
	for y := 0; y < r.Dy(); y++ {
		if wy := min((r.Min.Y+y)/fr.k, fr.h-1); wy != wrow {
			wrow = wy
			bg := fr.bg[wy*fr.w : (wy+1)*fr.w]
			for x, c := range col {
				scale[x] = flatScale[bg[c]]
			}
		}
		off := (r.Min.Y+y)*fr.fw + r.Min.X
		g, dst := fr.full[off:off+len(scale)], img.Pix[y*img.Stride:y*img.Stride+len(scale)]
		for x, s := range scale {
			dst[x] = uint8(min((uint32(g[x])*s+1<<15)>>16, 255))
		}
	}
	return img
}

// rawCrop copies a region of the frame.
func rawCrop(fr frameData, r image.Rectangle) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, r.Dx(), r.Dy()))
	for y := 0; y < r.Dy(); y++ {
		off := (r.Min.Y+y)*fr.fw + r.Min.X
		copy(img.Pix[y*img.Stride:], fr.full[off:off+r.Dx()])
	}
	return img
}

// laplacianVariance is the variance of the 4-neighbour Laplacian over r (a focus score:
// sharp edges give large second derivatives).
func laplacianVariance(gray []uint8, w int, r image.Rectangle) float64 {
	h := len(gray) / w
	x0, y0, x1, y1 := max(r.Min.X, 1), max(r.Min.Y, 1), min(r.Max.X, w-1), min(r.Max.Y, h-1)
	// Integer sums: exact (a Laplacian is at most 2,040 in size, so even a whole frame's
	// squares stay far under 2^63), and the same figure the float sums gave, faster.
	if x1 <= x0 || y1 <= y0 {
		return 0
	}
	var s, ss int64
	for y := y0; y < y1; y++ {
		// Rows cut to the columns read, of one length, so that the loop has no bounds
		// checks: it was a fifth of a large object's measurement.
		up, down := gray[(y-1)*w+x0:(y-1)*w+x1], gray[(y+1)*w+x0:(y+1)*w+x1]
		left, mid, right := gray[y*w+x0-1:y*w+x1-1], gray[y*w+x0:y*w+x1], gray[y*w+x0+1:y*w+x1+1]
		down, left, mid, right = down[:len(up)], left[:len(up)], mid[:len(up)], right[:len(up)]
		var rs, rss int64 // a row's sums: a few thousand values of at most 2,040, and their squares: well in range
		for x, u := range up {
			l := int64(int(left[x]) + int(right[x]) + int(u) + int(down[x]) - 4*int(mid[x]))
			rs += l
			rss += l * l
		}
		s += rs
		ss += rss
	}
	n := float64((x1 - x0) * (y1 - y0))
	m := float64(s) / n
	return float64(ss)/n - m*m
}

// polygonArea is the shoelace area of a closed polygon.
func polygonArea(p []image.Point) float64 {
	if len(p) < 3 {
		return 0
	}
	var a int
	for i := range p {
		j := (i + 1) % len(p)
		a += p[i].X*p[j].Y - p[j].X*p[i].Y
	}
	return math.Abs(float64(a)) / 2
}

// polygonPerimeter is the length of a closed polygon.
func polygonPerimeter(p []image.Point) float64 {
	var l float64
	for i := range p {
		j := (i + 1) % len(p)
		l += math.Hypot(float64(p[j].X-p[i].X), float64(p[j].Y-p[i].Y))
	}
	return l
}

// convexHull returns the convex hull of points (Andrew's monotone chain), counter-clockwise.
func convexHull(pts []image.Point) []image.Point {
	if len(pts) < 3 {
		return pts
	}
	p := slices.Clone(pts)
	slices.SortFunc(p, func(a, b image.Point) int {
		if a.X != b.X {
			return a.X - b.X
		}
		return a.Y - b.Y
	})
	cross := func(o, a, b image.Point) int { return (a.X-o.X)*(b.Y-o.Y) - (a.Y-o.Y)*(b.X-o.X) }
	hull := make([]image.Point, 0, 2*len(p))
	for _, q := range p {
		for len(hull) >= 2 && cross(hull[len(hull)-2], hull[len(hull)-1], q) <= 0 {
			hull = hull[:len(hull)-1]
		}
		hull = append(hull, q)
	}
	lower := len(hull) + 1
	for i := len(p) - 2; i >= 0; i-- {
		q := p[i]
		for len(hull) >= lower && cross(hull[len(hull)-2], hull[len(hull)-1], q) <= 0 {
			hull = hull[:len(hull)-1]
		}
		hull = append(hull, q)
	}
	return hull[:len(hull)-1]
}

// colourCrop copies a region of a BGR or BGRA frame into an RGBA image.
func colourCrop(frame gocv.Mat, r image.Rectangle) (*image.RGBA, error) {
	pix, err := frame.DataPtrUint8()
	if err != nil {
		return nil, fmt.Errorf("colour crop: %w", err)
	}
	ch, fw := frame.Channels(), frame.Cols()
	img := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	for y := 0; y < r.Dy(); y++ {
		src := pix[((r.Min.Y+y)*fw+r.Min.X)*ch:]
		dst := img.Pix[y*img.Stride : y*img.Stride+4*r.Dx()]
		for x := 0; x < r.Dx(); x++ {
			dst[4*x], dst[4*x+1], dst[4*x+2], dst[4*x+3] = src[ch*x+2], src[ch*x+1], src[ch*x], 255
		}
	}
	return img, nil
}
