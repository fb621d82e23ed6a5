package vision

import (
	"image"
	"math"
	"slices"
)

// Objects are cut out of the frame by a hysteresis threshold on the difference from the
// illumination, with bounded merging:
//
//   - a core is a connected region above the high threshold (closed by one pixel, so a
//     cell's rim broken by a pixel stays whole);
//   - each core grows into the pixels above the low threshold next to it, brightest
//     difference first (a priority flood, a watershed on the difference);
//   - where two growing regions meet, they become one object only if the pixels where
//     they meet still differ from the background by at least a share (mergeShare) of
//     the weaker region's peak: two parts of one cell meet through its body, while two
//     particles that a faint haze or a halo joins meet through pixels barely above the
//     low threshold, and stay apart.
//
// A plain threshold with a closing (the first segmenter) joined debris, halos and cells
// into frame-wide webs on dense real fields; the hysteresis alone does too, since haze
// connects everything above the low threshold. The flood keeps the sensitivity of the
// low threshold for an object's extent without letting it join objects.
//
// Small cores (under minCoreArea pixels: texture specks inside a larger object) do not
// seed the first flood, so they do not split an object into fragments; those not taken
// by a larger object's flood seed a second one and become objects of their own.
const (
	mergeShare  = 0.2
	minCoreArea = 25
)

// regionGrower holds the working buffers of the flood, reused frame after frame.
type regionGrower struct {
	// labels, per pixel: 0 background, > 0 a region id (resolve through parent), < 0 a
	// small core set aside for the second flood (its id negated).
	labels  []int32
	parent  []int32
	peak    []uint8
	buckets [256][]pending
	top     int
	// With limit > 0 (growUnder), size counts each region's pixels (at its root) and the
	// flood stops as soon as one region has more than limit: over is then set.
	limit float64
	size  []int32
	over  bool
	// seeds are the pixels each flood starts from, in pixel order (the order a scan of
	// labels would find them in); smallAt the pixels of the small cores set aside.
	seeds, smallAt []int32
}

// pending is a pixel waiting in the flood, with the region that reached it.
type pending struct {
	at    int32
	label int32
}

// grow labels the objects of one frame. diff is the absolute difference from the
// illumination, lo the pixels above the low threshold (hi included), cores the labels of
// the connected regions above the high threshold (0 elsewhere) and coreArea their pixel
// counts (index 0 unused). It returns the regions, largest first, and the label of every
// pixel (0: background; a region's label otherwise).
func (g *regionGrower) grow(diff, lo []uint8, cores []int32, coreArea []int32, w, h int) ([]region, []int32) {
	g.limit = 0
	return g.run(diff, lo, cores, coreArea, w, h)
}

// growUnder is grow for a cut that only stands when every region has at most limit
// pixels (split.go); it says whether they all do. A region only gains pixels in the
// flood, and merges and the satellites only join regions, so once one has more than
// limit the cut cannot stand: the flood stops there, with no regions.
func (g *regionGrower) growUnder(diff, lo []uint8, cores []int32, coreArea []int32, w, h int, limit float64) ([]region, []int32, bool) {
	g.limit = limit
	regions, labels := g.run(diff, lo, cores, coreArea, w, h)
	if g.over {
		return nil, labels, false
	}
	for _, r := range regions {
		if float64(r.n) > limit {
			return nil, labels, false // the satellites joined it over the limit
		}
	}
	return regions, labels, true
}

func (g *regionGrower) run(diff, lo []uint8, cores []int32, coreArea []int32, w, h int) ([]region, []int32) {
	n := len(coreArea)
	g.over = false
	g.size = slices.Grow(g.size[:0], n)[:n]
	clear(g.size)
	g.labels = slices.Grow(g.labels[:0], w*h)[:w*h]
	g.parent = slices.Grow(g.parent[:0], n)[:n]
	g.peak = slices.Grow(g.peak[:0], n)[:n]
	for i := range g.parent {
		g.parent[i] = int32(i)
		g.peak[i] = 0
	}
	haveBig := false
	for l := 1; l < n; l++ {
		if coreArea[l] >= minCoreArea {
			haveBig = true
			break
		}
	}
	// One pass sets each pixel's label, counts the cores and lists the seeds of both
	// floods: scanning the frame for them again took a tenth of the segmentation.
	g.seeds, g.smallAt = g.seeds[:0], g.smallAt[:0]
	for i, l := range cores {
		g.labels[i] = l
		if l == 0 {
			continue
		}
		if haveBig && coreArea[l] < minCoreArea {
			g.labels[i] = -l
			g.smallAt = append(g.smallAt, int32(i))
			continue
		}
		g.peak[l] = max(g.peak[l], diff[i])
		g.size[l]++
		g.seeds = append(g.seeds, int32(i))
	}
	if g.tooLarge(n) {
		return nil, g.labels
	}
	g.flood(diff, lo, w, h)
	if g.over {
		return nil, g.labels
	}
	// Second flood: the small cores that no larger object took (a pixel the first flood
	// took has a region's label, no longer the negative one).
	g.seeds = g.seeds[:0]
	for _, i := range g.smallAt {
		if l := g.labels[i]; l < 0 {
			g.labels[i] = -l
			g.peak[-l] = max(g.peak[-l], diff[i])
			g.size[-l]++
			g.seeds = append(g.seeds, i)
		}
	}
	if len(g.seeds) > 0 {
		g.flood(diff, lo, w, h)
		if g.over {
			return nil, g.labels
		}
	}
	return absorbSatellites(g.collect(n, w, h), g.labels, w), g.labels
}

// tooLarge sets over when a limit is set and one of the n labels already has more
// pixels than it.
func (g *regionGrower) tooLarge(n int) bool {
	if g.limit > 0 {
		for l := 1; l < n; l++ {
			if float64(g.size[l]) > g.limit {
				g.over = true
			}
		}
	}
	return g.over
}

// flood grows the regions from the seed pixels into the unlabelled pixels of lo,
// largest difference first, merging regions where they meet strongly.
func (g *regionGrower) flood(diff, lo []uint8, w, h int) {
	for b := range g.buckets {
		g.buckets[b] = g.buckets[b][:0]
	}
	g.top = -1
	for _, s := range g.seeds {
		i := int(s)
		l := g.labels[i]
		x, y := i%w, i/w
		if x > 0 {
			g.push(i-1, l, diff, lo)
		}
		if x < w-1 {
			g.push(i+1, l, diff, lo)
		}
		if y > 0 {
			g.push(i-w, l, diff, lo)
		}
		if y < h-1 {
			g.push(i+w, l, diff, lo)
		}
	}
	for g.top >= 0 {
		q := g.buckets[g.top]
		if len(q) == 0 {
			g.top--
			continue
		}
		p := q[len(q)-1]
		g.buckets[g.top] = q[:len(q)-1]
		i, l := int(p.at), p.label
		if cur := g.labels[i]; cur > 0 {
			g.meet(cur, l, diff[i])
			if g.over {
				return
			}
			continue
		}
		g.labels[i] = l
		if g.limit > 0 {
			if r := g.find(l); g.grew(r, 1) {
				return
			}
		}
		// The four neighbours in a fixed order (left, right, up, down): the order of
		// the pushes decides which region takes a pixel two reach at the same level.
		x, y := i%w, i/w
		if x > 0 && g.reach(i, i-1, l, diff, lo) {
			return
		}
		if x < w-1 && g.reach(i, i+1, l, diff, lo) {
			return
		}
		if y > 0 && g.reach(i, i-w, l, diff, lo) {
			return
		}
		if y < h-1 && g.reach(i, i+w, l, diff, lo) {
			return
		}
	}
}

// reach handles neighbour j of pixel i, just labelled l: a pixel of lo already
// labelled is a meeting, an unlabelled one waits in the flood. It says whether a
// meeting took a region over the limit.
func (g *regionGrower) reach(i, j int, l int32, diff, lo []uint8) bool {
	if lo[j] == 0 {
		return false
	}
	if other := g.labels[j]; other > 0 {
		g.meet(other, l, min(diff[i], diff[j]))
		return g.over
	}
	g.push(j, l, diff, lo)
	return false
}

func (g *regionGrower) push(j int, l int32, diff, lo []uint8) {
	if lo[j] == 0 || g.labels[j] > 0 {
		return
	}
	v := int(diff[j])
	g.buckets[v] = append(g.buckets[v], pending{int32(j), l})
	g.top = max(g.top, v)
}

// meet merges the regions of labels a and b when they meet at a pixel of difference v
// that is at least mergeShare of the weaker region's peak.
func (g *regionGrower) meet(a, b int32, v uint8) {
	ra, rb := g.find(a), g.find(b)
	if ra == rb {
		return
	}
	weak := min(g.peak[ra], g.peak[rb])
	if float64(v) < mergeShare*float64(weak) {
		return
	}
	g.parent[ra] = rb
	g.peak[rb] = max(g.peak[ra], g.peak[rb])
	if g.limit > 0 {
		g.grew(rb, g.size[ra])
	}
}

// grew adds k pixels to root r's size and says whether that took it over the limit
// (setting over).
func (g *regionGrower) grew(r, k int32) bool {
	g.size[r] += k
	if float64(g.size[r]) > g.limit {
		g.over = true
	}
	return g.over
}

func (g *regionGrower) find(a int32) int32 {
	for g.parent[a] != a {
		g.parent[a] = g.parent[g.parent[a]]
		a = g.parent[a]
	}
	return a
}

// region is one object's pixels: its label, box and pixel count.
type region struct {
	label int32
	box   image.Rectangle
	n     int
	peak  uint8 // the largest difference from the illumination in it
	// fromBox: a learned detector's box made it (boxes.go); its box is the object's
	// whatever its measured pixels.
	fromBox bool
}

// collect resolves every pixel's label to its region's and lists the regions with their
// boxes and pixel counts. A small core that neither flood took (none: the second floods
// them all) would be left negative; it is cleared.
func (g *regionGrower) collect(n, w, h int) []region {
	idx := make([]int32, n)
	for i := range idx {
		idx[i] = -1
	}
	var out []region
	for y := 0; y < h; y++ {
		row := g.labels[y*w : (y+1)*w]
		for x, l := range row {
			if l == 0 {
				continue
			}
			if l < 0 {
				row[x] = 0
				continue
			}
			l = g.find(l)
			row[x] = l
			k := idx[l]
			if k < 0 {
				k = int32(len(out))
				idx[l] = k
				out = append(out, region{label: l, box: image.Rect(x, y, x+1, y+1), peak: g.peak[l]})
			}
			r := &out[k]
			r.n++
			if x < r.box.Min.X {
				r.box.Min.X = x
			}
			if x >= r.box.Max.X {
				r.box.Max.X = x + 1
			}
			r.box.Max.Y = y + 1
		}
	}
	return out
}

// smoothedNoise is the standard deviation of the pixel noise after the segmenter's 3x3
// blur, in gray levels: the median absolute difference of horizontally adjacent pixels
// (every fourth row: a quarter of a million pairs at 1920x1080), which objects and the illumination barely move, scaled to a
// standard deviation (1.4826 / sqrt 2), then by 0.6 for the blur. It is at least half a
// gray level (a flat synthetic frame has none).
func smoothedNoise(gray []uint8, w, h int) float64 {
	var hist [256]int
	n := 0
	for y := 0; y < h; y += 4 {
		row := gray[y*w : (y+1)*w]
		for x := 1; x < len(row); x++ {
			d := int(row[x]) - int(row[x-1])
			if d < 0 {
				d = -d
			}
			hist[d]++
			n++
		}
	}
	if n == 0 {
		return 0.5
	}
	// The median, interpolated within its bin (8-bit differences are often 0 or 1).
	half, acc := float64(n)/2, 0
	med := 0.0
	for v, c := range hist {
		if float64(acc+c) >= half {
			med = float64(v) + (half-float64(acc))/float64(max(c, 1)) - 0.5
			break
		}
		acc += c
	}
	return math.Max(0.5, 0.6*1.4826*math.Max(med, 0)/math.Sqrt2)
}

// Satellites: a small region (under satelliteShare of a large one's pixels) whose box
// comes within satelliteGap px of the large one's box is a loose part of it: the cells
// at a colony's rim, a flake off a debris particle. The annotation protocol boxes them
// with the colony. So is a region whose box lies at least nestShare inside a larger
// region's box, when that one fills at least nestFill of its box (a cell's body, not
// the long diagonal box of a filament, across which other particles lie): a faint
// organism's parts that the threshold cut apart (a trichome split lengthwise, a
// medusa's bell and tentacles). Measured on the real frames' tune split, nesting took
// precision from 0.66 to 0.71 for three points of recall.
const (
	satelliteShare = 0.05
	satelliteGap   = 4
	nestShare      = 0.3
	nestFill       = 0.1
)

// absorbSatellites relabels the small regions near a large one as part of it and
// returns the regions left, with their boxes and counts updated.
func absorbSatellites(regions []region, labels []int32, w int) []region {
	slices.SortFunc(regions, func(a, b region) int { return b.n - a.n })
	type move struct {
		box      image.Rectangle
		from, to int32
	}
	var moves []move
	for i := 0; i < len(regions); i++ {
		big := &regions[i]
		if big.n == 0 {
			continue
		}
		reach := big.box.Inset(-satelliteGap)
		for j := i + 1; j < len(regions); j++ {
			sm := &regions[j]
			if sm.n == 0 {
				continue
			}
			satellite := float64(sm.n) < satelliteShare*float64(big.n) && sm.box.Overlaps(reach)
			nested := overSmaller(sm.box, big.box) >= nestShare && float64(big.n) >= nestFill*float64(big.box.Dx()*big.box.Dy())
			if !satellite && !nested {
				continue
			}
			moves = append(moves, move{sm.box, sm.label, big.label})
			big.box = big.box.Union(sm.box)
			big.n += sm.n
			big.peak = max(big.peak, sm.peak)
			sm.n = 0
		}
	}
	if len(moves) == 0 {
		return regions
	}
	for _, m := range moves {
		for y := m.box.Min.Y; y < m.box.Max.Y; y++ {
			row := labels[y*w+m.box.Min.X : y*w+m.box.Max.X]
			for x, l := range row {
				if l == m.from {
					row[x] = m.to
				}
			}
		}
	}
	return slices.DeleteFunc(regions, func(r region) bool { return r.n == 0 })
}

// MaxShare is the largest share of the frame an object's pixels may cover: a region
// that large is a debris cloud or cells joined by haze more often than one organism. It
// is cut again at higher contrast (split.go); what no cut brings under the share is kept
// whole and marked Oversize, not silently counted or dropped. Measured on the real
// frames' tune split, the cut took recall from 0.53 to 0.63 for two points of
// precision, and the objects over the share from 4 to 1. (Cutting it again from its own
// cores without raising the thresholds took precision from 0.66 to 0.58 for no recall:
// the cloud's own specks became objects.)
const MaxShare = 0.10

// focusOf is a frame's sharpness over its objects' pixels: the root of their squared
// gradient (central differences of the smoothed frame) over their squared difference
// from the illumination. A blur of width b spreads an edge over about b pixels, so the
// ratio falls about as 1/b; it does not depend on the objects' contrast. 0 without
// objects.
func focusOf(smooth, diff []uint8, labels []int32, regions []region, w, h int) float64 {
	var grad, contrast float64
	for _, r := range regions {
		b := r.box.Intersect(image.Rect(1, 1, w-1, h-1))
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				i := y*w + x
				if labels[i] != r.label {
					continue
				}
				gx := float64(smooth[i+1]) - float64(smooth[i-1])
				gy := float64(smooth[i+w]) - float64(smooth[i-w])
				grad += (gx*gx + gy*gy) / 4
				d := float64(diff[i])
				contrast += d * d
			}
		}
	}
	if contrast == 0 {
		return 0
	}
	return math.Sqrt(grad / contrast)
}
