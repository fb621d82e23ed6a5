package vision

import (
	"fmt"
	"image"
	"slices"

	"gocv.io/x/gocv"

	"github.com/phytoscreen/phytoscreen/truth"
)

// BoxFinder finds a frame's objects as boxes in its pixels: a learned detector
// (inference.Detector, docs/detector.md). The frame is the caller's, 8-bit BGR or gray,
// at full size. The scores are in (0, 1), best first.
type BoxFinder interface {
	FindBoxes(frame gocv.Mat) ([]image.Rectangle, []float32, error)
}

// How objects are found, as a run records it (Options.Finder): the threshold segmenter
// alone, or each image of a folder of single-cell images taken as one object.
const (
	FinderThresholds = "thresholds"
	FinderCellImages = "one cell per image"
)

// Finder names how these options find objects, for a run's record and its summary:
// "thresholds", or "thresholds + detector NAME" with a learned detector (its String).
// Counts made by different finders do not add up: the detector finds more objects.
func (o Options) Finder() string {
	if o.Boxes == nil {
		return FinderThresholds
	}
	name := "(unnamed)"
	if s, ok := o.Boxes.(fmt.Stringer); ok {
		name = s.String()
	}
	return FinderThresholds + " + detector " + name
}

// Where a detector's box counts as an object the thresholds already found: it overlaps
// one's box by this IoU, or lies this share inside one's box (a piece of it).
const (
	boxSeenIoU    = 0.1
	boxSeenInside = 0.5
)

// findBoxes runs the detector on the frame and brings its boxes to the working size,
// dropping those in ignore regions.
func (s *Segmenter) findBoxes(w, h, k int) ([]image.Rectangle, error) {
	frame := s.frame
	if frame.Ptr() == nil || frame.Empty() {
		frame = *s.fullGray()
	}
	found, _, err := s.opt.Boxes.FindBoxes(frame)
	if err != nil {
		return nil, err
	}
	frameRect := image.Rect(0, 0, w, h)
	var out []image.Rectangle
	for _, b := range found {
		b = workRect(b, k).Intersect(frameRect)
		if b.Empty() || slices.ContainsFunc(s.opt.Ignore, func(r image.Rectangle) bool { return b.Intersect(workRect(r, k)).Eq(b) }) {
			continue
		}
		out = append(out, b)
	}
	return out, nil
}

// addBoxRegions adds to the thresholds' regions the objects the detector finds where
// they found none: faint specks under the JPEG noise, pale cells the high threshold
// never reaches. A box over MaxShare of the frame adds nothing. A box that overlaps a region already found (boxSeenIoU, boxSeenInside)
// is that object, or a piece of it, and adds nothing: the thresholds' outline of a large
// object (a filament across the frame, a colony) is the better one.
func (s *Segmenter) addBoxRegions(regions []region, labels []int32, diff, lo []uint8, w, h, k int) ([]region, error) {
	found, err := s.findBoxes(w, h, k)
	if err != nil {
		return nil, err
	}
	// New labels above every label in use: the cuts and merges before leave labels
	// that no listed region has.
	next := slices.Max(labels) + 1
	var add []image.Rectangle
	for _, b := range found {
		if float64(b.Dx()*b.Dy()) > MaxShare*float64(w*h) {
			continue // large objects are the thresholds' (the detector's boxes of them are poor, docs/detector.md)
		}
		seen := slices.ContainsFunc(regions, func(r region) bool {
			return truth.IoU(b, r.box) >= boxSeenIoU || insideShare(b, r.box) >= boxSeenInside
		})
		// Two boxes of the detector on one object (a second peak): the better one stays.
		dup := slices.ContainsFunc(add, func(a image.Rectangle) bool {
			return truth.IoU(b, a) >= boxSeenIoU || insideShare(b, a) >= boxSeenInside
		})
		if !seen && !dup {
			add = append(add, b)
		}
	}
	return append(regions, labelBoxes(add, labels, lo, diff, w, next)...), nil
}

// labelBoxes gives each box a new label from next on: its pixels above the low
// threshold that no region holds, the smaller box taking what two share; a box with none
// (a speck fainter than the low threshold) gets its inscribed ellipse, so that it is
// measured at the size the detector saw. It returns the boxes' regions, each with the
// box as the object's box.
func labelBoxes(boxes []image.Rectangle, labels []int32, lo, diff []uint8, w int, next int32) []region {
	order := make([]int, len(boxes))
	for i := range order {
		order[i] = i
	}
	// Largest first, so that a smaller box drawn later takes its own pixels.
	slices.SortStableFunc(order, func(a, b int) int { return boxes[b].Dx()*boxes[b].Dy() - boxes[a].Dx()*boxes[a].Dy() })
	free := func(l int32) bool { return l == 0 || (l >= next && l < next+int32(len(boxes))) }
	for _, i := range order {
		b, l := boxes[i], next+int32(i)
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				if j := y*w + x; lo[j] != 0 && free(labels[j]) {
					labels[j] = l
				}
			}
		}
	}
	regions := make([]region, len(boxes))
	for i, b := range boxes {
		regions[i] = region{label: next + int32(i), box: b, fromBox: true}
		countRegion(&regions[i], labels, diff, w)
		if regions[i].n > 0 {
			continue
		}
		cx, cy := float64(b.Min.X+b.Max.X)/2, float64(b.Min.Y+b.Max.Y)/2
		rx, ry := float64(b.Dx())/2, float64(b.Dy())/2
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				dx, dy := (float64(x)+0.5-cx)/rx, (float64(y)+0.5-cy)/ry
				if j := y*w + x; dx*dx+dy*dy <= 1 && labels[j] == 0 {
					labels[j] = regions[i].label
				}
			}
		}
		countRegion(&regions[i], labels, diff, w)
	}
	return regions
}

// countRegion sets a region's pixel count and peak difference from its labels.
func countRegion(r *region, labels []int32, diff []uint8, w int) {
	r.n, r.peak = 0, 0
	for y := r.box.Min.Y; y < r.box.Max.Y; y++ {
		for x := r.box.Min.X; x < r.box.Max.X; x++ {
			if j := y*w + x; labels[j] == r.label {
				r.n++
				r.peak = max(r.peak, diff[j])
			}
		}
	}
}

// workRect is a frame rectangle at the working size (shrunk k times), covering every
// working pixel it touches.
func workRect(r image.Rectangle, k int) image.Rectangle {
	return image.Rect(r.Min.X/k, r.Min.Y/k, (r.Max.X+k-1)/k, (r.Max.Y+k-1)/k)
}

// insideShare is the share of a's area inside b.
func insideShare(a, b image.Rectangle) float64 {
	in := a.Intersect(b)
	return float64(in.Dx()*in.Dy()) / float64(max(1, a.Dx()*a.Dy()))
}
