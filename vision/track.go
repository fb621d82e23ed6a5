package vision

import (
	"cmp"
	"image"
	"math"
	"slices"
)

// Matching rules for the tracker.
const (
	matchIoU      = 0.25 // boxes overlapping this much (intersection over union) are the same cell
	containShare  = 0.6  // or when this much of the smaller box lies in the larger (a cell entering the field grows)
	fragmentShare = 0.6  // an unmatched object this much inside a known cell's box is a piece of it
	flowMaxGap    = 2    // frames a flowing cell may go unseen before its track ends
	maxTracks     = 20000
	faintShare    = 0.25 // an object whose peak difference is under this share of a neighbour's is faint beside it
)

// track is one cell followed across frames.
type track struct {
	id     int
	box    image.Rectangle // where it was last seen (moved with the stage in still mode)
	c, v   [2]float64      // centroid there, and velocity in px per frame (flow mode)
	seen   int             // tracker frame it was last seen
	hits   int
	hitNow bool
	before image.Rectangle // where it was expected at the start of this frame
	// extent is everything the cell has covered in this field (still mode): a faint
	// cell shows different pieces in different frames, each of them a part of it.
	extent image.Rectangle
	born   int // tracker frame it was founded
	// area and gray: the cell's size (px) and mean gray level when last seen.
	area, gray float64
	peak       uint8 // the cell's largest difference from the illumination when founded
}

// tracker gives every object a cell identity and marks first sightings. In still mode a
// cell stays where it is (moved only with the whole stage) until the field changes; in
// flow mode cells move on their own and are followed by their velocity.
type tracker struct {
	mode   Mode
	pad    int // the segmenter's closing radius: the least reach
	w, h   int // frame size
	tracks []track
	next   int
	frame  int
}

// sameGray is how far (gray levels) a cell's mean level may move between two frames of a
// still field (sensor noise, lamp flicker, a focus change).
const sameGray = 15

// fieldMatch says how much of the frame is the field the tracker knows, once the tracks
// are moved by shift (still mode): same is the share of objs that are a known cell where
// it was, about as large and as dark (nothing changed); near is the share that lie where
// a known cell was, whatever their look (boxes overlapping by IoU 0.3, or each one's
// centre inside the other's box: a focus change blurs and grows a cell but leaves it
// where it was).
func (t *tracker) fieldMatch(objs []Object, shift image.Point) (same, near float64) {
	if len(objs) == 0 || len(t.tracks) == 0 {
		return 1, 1
	}
	nSame, nNear := 0, 0
	for oi := range objs {
		o := &objs[oi]
		isSame, isNear := false, false
		for _, tr := range t.tracks {
			b := tr.box.Add(shift)
			iou := IoU(b, o.Box)
			if iou >= 0.3 || (centre(b).In(o.Box) && centre(o.Box).In(b)) {
				isNear = true
			}
			if iou >= 0.5 && tr.area > 0 && o.AreaPx >= 0.6*tr.area && o.AreaPx <= tr.area/0.6 &&
				math.Abs(o.MeanGray-tr.gray) <= sameGray {
				isSame = true
				break
			}
		}
		if isSame {
			nSame++
		}
		if isNear || isSame {
			nNear++
		}
	}
	return float64(nSame) / float64(len(objs)), float64(nNear) / float64(len(objs))
}

// centre is the middle pixel of r.
func centre(r image.Rectangle) image.Point {
	return image.Pt((r.Min.X+r.Max.X)/2, (r.Min.Y+r.Max.Y)/2)
}

// reset forgets the cells (a new field); identities keep counting up.
func (t *tracker) reset() { t.tracks = t.tracks[:0] }

type pair struct {
	t, o  int
	score float64
}

// update assigns Track and New to objs. shift is the stage movement since the last frame
// (still mode) and newField says the stage moved to another field; hold says the frame is
// out of focus and starts no new cell.
func (t *tracker) update(objs []Object, shift image.Point, newField, hold bool, w, h int) {
	t.frame++
	t.w, t.h = w, h
	if newField {
		t.reset()
	}
	frame := image.Rect(0, 0, w, h)
	live := t.tracks[:0]
	for _, tr := range t.tracks {
		tr.hitNow = false
		if t.mode == ModeFlow {
			if t.frame-tr.seen > flowMaxGap {
				continue
			}
		} else {
			tr.box = tr.box.Add(shift)
			tr.extent = tr.extent.Add(shift)
			tr.c[0] += float64(shift.X)
			tr.c[1] += float64(shift.Y)
		}
		if pb := t.predictBox(tr); pb.Overlaps(frame) {
			tr.before = pb
			live = append(live, tr)
		}
	}
	t.tracks = live

	var pairs []pair
	for ti, tr := range t.tracks {
		for oi := range objs {
			if s, ok := t.similar(tr, &objs[oi]); ok {
				pairs = append(pairs, pair{ti, oi, s})
			}
		}
	}
	slices.SortFunc(pairs, func(a, b pair) int { return cmp.Compare(b.score, a.score) }) // best first
	objMatched := make([]bool, len(objs))
	for _, p := range pairs {
		tr := &t.tracks[p.t]
		if tr.hitNow || objMatched[p.o] {
			continue
		}
		o := &objs[p.o]
		objMatched[p.o] = true
		tr.hitNow = true
		if t.mode == ModeFlow {
			gap := float64(t.frame - tr.seen)
			nv := [2]float64{(o.Centroid[0] - tr.c[0]) / gap, (o.Centroid[1] - tr.c[1]) / gap}
			if tr.hits > 1 { // smooth the velocity once there is one
				nv = [2]float64{(tr.v[0] + nv[0]) / 2, (tr.v[1] + nv[1]) / 2}
			}
			tr.v = nv
		}
		tr.box, tr.c, tr.seen = o.Box, o.Centroid, t.frame
		tr.area, tr.gray = o.AreaPx, o.MeanGray
		tr.extent = tr.extent.Union(o.Box)
		tr.hits++
		o.Track, o.New = tr.id, false
	}
	// Unmatched objects, largest first: a cell founds its track before the pieces of it
	// that the threshold split off are weighed as fragments.
	order := make([]int, 0, len(objs))
	for oi := range objs {
		if !objMatched[oi] {
			order = append(order, oi)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return objs[b].Box.Dx()*objs[b].Box.Dy() - objs[a].Box.Dx()*objs[a].Box.Dy()
	})
	for _, oi := range order {
		o := &objs[oi]
		if ti, ok := t.fragmentOf(o); ok {
			// The piece belongs to the cell: the cell's box takes it in, so that the
			// piece is still covered next frame.
			tr := &t.tracks[ti]
			o.Track, o.New = tr.id, false
			tr.box = tr.box.Union(o.Box)
			tr.extent = tr.extent.Union(o.Box)
			continue
		}
		if hold {
			// An out-of-focus frame of a still field: the cell is not counted from this
			// picture; a sharper frame of the field will count it.
			o.Track, o.New = -1, false
			continue
		}
		o.Track, o.New = t.next, true
		if len(t.tracks) < maxTracks {
			t.tracks = append(t.tracks, track{id: t.next, box: o.Box, c: o.Centroid, seen: t.frame, hits: 1, hitNow: true, before: o.Box, extent: o.Box, born: t.frame,
				area: o.AreaPx, gray: o.MeanGray, peak: o.peak})
		}
		t.next++
	}
}

// predictBox is where a track's cell should be in the current frame: where it was last
// seen, moved by its velocity in flow mode.
func (t *tracker) predictBox(tr track) image.Rectangle {
	if t.mode != ModeFlow {
		return tr.box
	}
	gap := float64(t.frame - tr.seen)
	return tr.box.Add(image.Pt(int(math.Round(tr.v[0]*gap)), int(math.Round(tr.v[1]*gap))))
}

// similar says whether object o may be the cell of track tr, and how good a match it is.
func (t *tracker) similar(tr track, o *Object) (float64, bool) {
	if t.mode == ModeStill {
		iou := IoU(tr.box, o.Box)
		return iou, iou >= matchIoU || overSmaller(tr.box, o.Box) >= containShare
	}
	// Flow: overlapping the predicted box, or near the predicted position and of a
	// similar size.
	pb := t.predictBox(tr)
	iou := IoU(pb, o.Box)
	if iou >= matchIoU || overSmaller(pb, o.Box) >= containShare {
		return 1 + iou, true
	}
	// A cell entering or leaving the field changes size as much as it likes.
	a, b := float64(tr.box.Dx()*tr.box.Dy()), float64(o.Box.Dx()*o.Box.Dy())
	if (a > 3*b || b > 3*a) && !t.atEdge(tr.box) && !t.atEdge(o.Box) {
		return 0, false
	}
	gap := float64(t.frame - tr.seen)
	px, py := tr.c[0]+tr.v[0]*gap, tr.c[1]+tr.v[1]*gap
	d := math.Hypot(o.Centroid[0]-px, o.Centroid[1]-py)
	size := math.Max(float64(max(o.Box.Dx(), o.Box.Dy())), 8)
	gate := size
	if tr.hits < 2 { // no velocity yet: anywhere within a few cell sizes
		gate = 4 * size
	}
	if d > gate {
		return 0, false
	}
	return 1 - d/(gate+1) + iou, true
}

// fragmentOf returns the index of the track an unmatched object is a piece of: a part of a known
// cell that the threshold split off in this frame. It lies mostly inside the cell's
// (predicted) box, or it is smaller than the cell and within reach of it (the reach of
// the segmenter's grouping): cells do not appear from nowhere right beside others.
func (t *tracker) fragmentOf(o *Object) (int, bool) {
	b := o.Box
	area := float64(b.Dx() * b.Dy())
	for ti, tr := range t.tracks {
		if tr.hits == 0 {
			continue
		}
		// A cell founded in this very frame takes no pieces as large or as dark as
		// itself: within a frame the segmenter decides what is one object
		// (regions.go); pieces are for the frames after, where a faint cell shows other
		// parts of itself. Measured: taking even the much smaller pieces in the founding
		// frame counts 6 points fewer of the real frames' objects (tune split), where
		// neighbouring cells touch. It takes a faint one (faintShare), smaller and
		// within its reach, in still mode: a copepod's pale egg sac beside its dark
		// body, which a slide would count twice, where neighbouring real cells are
		// about as dark as each other (tune split: recall unchanged, precision 0.74 to
		// 0.77: two faint false objects beside cells no longer counted).
		if tr.born == t.frame {
			if t.mode == ModeStill && float64(o.peak) < faintShare*float64(tr.peak) && area < float64(tr.box.Dx()*tr.box.Dy()) &&
				b.Overlaps(tr.box.Inset(-t.reach(tr.box))) {
				return ti, true
			}
			continue
		}
		// Where the cell was expected this frame, and where it was found in it (a cell
		// matched to one piece has its box shrunk to that piece).
		boxes := []image.Rectangle{t.predictBox(tr), tr.before}
		if t.mode == ModeStill {
			boxes = append(boxes, tr.extent)
		}
		for _, pb := range boxes {
			if pb.Empty() {
				continue
			}
			in := b.Intersect(pb)
			if !in.Empty() && float64(in.Dx()*in.Dy()) >= fragmentShare*area {
				return ti, true
			}
			if area < float64(pb.Dx()*pb.Dy()) && b.Overlaps(pb.Inset(-t.reach(pb))) {
				return ti, true
			}
			// A still field does not change: a smaller object that appears beside a
			// known cell after the field's first frame is a flickering piece of it.
			if t.mode == ModeStill && tr.born < t.frame && area < float64(pb.Dx()*pb.Dy())/4 &&
				b.Overlaps(pb.Inset(-stillReach(pb))) {
				return ti, true
			}
		}
	}
	return 0, false
}

// atEdge says whether a box touches the frame's edge.
func (t *tracker) atEdge(b image.Rectangle) bool {
	return b.Min.X <= 0 || b.Min.Y <= 0 || b.Max.X >= t.w || b.Max.Y >= t.h
}

// A piece of a cell may lie beside its box by a fifth of the cell's size, at most
// satelliteMax px (and at least the tracker's pad): a faint cell that the segmenter cut
// in two in one frame is matched whole in the next.
const (
	satelliteFrac = 0.20
	satelliteMax  = 12
)

// stillReach is how far beside a known cell a later, much smaller piece still belongs to
// it on a still field: half the cell's size, at most 3 satelliteMax.
func stillReach(b image.Rectangle) int {
	return min(3*satelliteMax, max(b.Dx(), b.Dy())/2)
}

// reach is how far beside a cell's box a piece of it may lie.
func (t *tracker) reach(b image.Rectangle) int {
	return max(t.pad, min(satelliteMax, int(satelliteFrac*float64(max(b.Dx(), b.Dy())))))
}

// overSmaller is the intersection of two boxes over the area of the smaller.
func overSmaller(a, b image.Rectangle) float64 {
	in := a.Intersect(b)
	if in.Empty() {
		return 0
	}
	return float64(in.Dx()*in.Dy()) / float64(min(a.Dx()*a.Dy(), b.Dx()*b.Dy()))
}

// IoU is the intersection over union of two boxes (0 when either is empty).
func IoU(a, b image.Rectangle) float64 {
	in := a.Intersect(b)
	if in.Empty() {
		return 0
	}
	i := float64(in.Dx() * in.Dy())
	u := float64(a.Dx()*a.Dy()+b.Dx()*b.Dy()) - i
	return i / u
}
