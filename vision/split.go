package vision

import (
	"fmt"
	"unsafe"

	"gocv.io/x/gocv"
)

// An object over MaxShare of the frame is cut again with both thresholds raised by the
// factors of splitSteps in turn, inside its own pixels, until every part is under
// MaxShare: a debris cloud or a haze that joined cells gives way first, and the cells,
// which differ from the background most, stay. Parts that fall under the size limits
// are dropped with the cloud. If no step brings every part under the share, the object
// is kept whole and reported as oversize.
var splitSteps = [...]float64{1.5, 2, 3, 4, 6}

// splitter holds the working buffers of the splits, reused frame after frame.
type splitter struct {
	grower       regionGrower
	diff, hi, lo []uint8
	at           []splitPixel
	cores        gocv.Mat
}

// splitPixel is one pixel of the region being split: its index in the frame (i) and in
// the region's box (j). The steps visit the region's own pixels only, not its whole box:
// a diagonal filament or a ring fills a small part of its box.
type splitPixel struct{ i, j int32 }

func newSplitter() splitter {
	return splitter{cores: gocv.NewMat()}
}

func (sp *splitter) close() {
	if sp.cores.Ptr() != nil {
		sp.cores.Close()
	}
}

// splitOversize replaces each region over MaxShare of the frame by its parts where a
// raised threshold cuts it into parts all under the share; labels are rewritten to
// match (new labels from next on). thr and thrLo are the per-pixel thresholds.
func (sp *splitter) splitOversize(regions []region, labels []int32, next int32, diff, thr, thrLo []uint8, w, h int) ([]region, error) {
	limit := MaxShare * float64(w*h)
	out := regions[:0:0]
	for _, r := range regions {
		if float64(r.n) <= limit {
			out = append(out, r)
			continue
		}
		parts, err := sp.split(r, labels, next, diff, thr, thrLo, w, limit)
		if err != nil {
			return nil, err
		}
		if parts == nil {
			out = append(out, r)
			continue
		}
		for _, p := range parts {
			next = max(next, p.label+1)
		}
		out = append(out, parts...)
	}
	return out, nil
}

// split tries the steps on one region; nil when none cuts it small enough.
func (sp *splitter) split(r region, labels []int32, next int32, diff, thr, thrLo []uint8, w int, limit float64) ([]region, error) {
	b := r.box
	bw, bh := b.Dx(), b.Dy()
	n := bw * bh
	sp.diff = grown(sp.diff, n)
	sp.hi = grown(sp.hi, n)
	sp.lo = grown(sp.lo, n)
	clear(sp.diff)
	clear(sp.hi)
	clear(sp.lo)
	sp.at = sp.at[:0]
	for y := 0; y < bh; y++ {
		row := (b.Min.Y+y)*w + b.Min.X
		for x, l := range labels[row : row+bw] {
			if l == r.label {
				sp.at = append(sp.at, splitPixel{int32(row + x), int32(y*bw + x)})
				sp.diff[y*bw+x] = diff[row+x]
			}
		}
	}
	for _, k := range splitSteps {
		any := false
		for _, p := range sp.at {
			d := float64(diff[p.i])
			sp.hi[p.j], sp.lo[p.j] = 0, 0
			if d > k*float64(thrLo[p.i]) {
				sp.lo[p.j] = 255
			}
			if d > k*float64(thr[p.i]) {
				sp.hi[p.j], any = 255, true
			}
		}
		if !any {
			return nil, nil // nothing left at this contrast: no higher step finds more
		}
		hi, err := gocv.NewMatFromBytes(bh, bw, gocv.MatTypeCV8U, sp.hi)
		if err != nil {
			return nil, fmt.Errorf("split: %w", err)
		}
		nc, coreLabels, err := components(hi, &sp.cores, n)
		hi.Close()
		if err != nil {
			return nil, fmt.Errorf("split: %w", err)
		}
		area := make([]int32, nc)
		for _, p := range sp.at { // cores lie in the region's pixels only
			area[coreLabels[p.j]]++
		}
		coreTooLarge := false
		for l := 1; l < nc; l++ {
			coreTooLarge = coreTooLarge || float64(area[l]) > limit
		}
		if coreTooLarge {
			continue // the flood only adds to the cores: no need to grow them
		}
		parts, pl, small := sp.grower.growUnder(sp.diff, sp.lo, coreLabels, area, bw, bh, limit)
		if !small {
			continue
		}
		for _, p := range sp.at {
			labels[p.i] = 0
			if l := pl[p.j]; l != 0 {
				labels[p.i] = next + l
			}
		}
		for pi := range parts {
			parts[pi].label += next
			parts[pi].box = parts[pi].box.Add(b.Min)
		}
		return parts, nil
	}
	return nil, nil
}

// grown returns buf resized to n bytes.
func grown(buf []uint8, n int) []uint8 {
	if cap(buf) < n {
		return make([]uint8, n)
	}
	return buf[:n]
}

// components labels the 8-connected regions of the mask src into dst (n pixels) and
// returns their count (background, label 0, included) and the labels as int32s. The
// areas are counted by the callers over the pixels they need: OpenCV's statistics
// (boxes and centroids too) took twice the time of the labelling itself.
func components(src gocv.Mat, dst *gocv.Mat, n int) (int, []int32, error) {
	nc := gocv.ConnectedComponents(src, dst)
	labels, err := int32Pixels(*dst, n)
	return nc, labels, err
}

// int32Pixels views a CV_32S Mat of n pixels (connected-component labels) as int32s.
func int32Pixels(m gocv.Mat, n int) ([]int32, error) {
	b, err := m.DataPtrUint8()
	if err != nil {
		return nil, err
	}
	if len(b) < 4*n {
		return nil, fmt.Errorf("label image has %d bytes, want %d", len(b), 4*n)
	}
	return unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(b))), n), nil
}
