package vision

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"slices"
	"strings"

	"github.com/phytoscreen/phytoscreen/capture"

	"gocv.io/x/gocv"
)

// Mode says how the frames of a stream relate to each other, which decides how the
// background is estimated and how cells are matched from frame to frame.
type Mode int

const (
	// ModeStill is a slide on the stage: cells stay where they are while the field is
	// still, and all move together when the stage moves. The background of every frame
	// is its own large-scale illumination (a temporal median would absorb cells that do
	// not move), and the same cell in consecutive frames is counted once. The default.
	ModeStill Mode = iota
	// ModeFlow is a flow-through cell: the sample moves past a still camera. The
	// background is the running temporal median of the frames (dust on the optics stays
	// put and drops out), and cells are followed along their own paths.
	ModeFlow
)

// ParseMode reads "still" or "flow".
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "still", "slide", "":
		return ModeStill, nil
	case "flow", "flow-through":
		return ModeFlow, nil
	}
	return 0, fmt.Errorf("mode %q: want still (a slide on the stage) or flow (a flow-through cell)", s)
}

// String returns the mode as ParseMode reads it.
func (m Mode) String() string {
	if m == ModeFlow {
		return "flow"
	}
	return "still"
}

// CropStyle says what Object.Crop holds.
type CropStyle int

const (
	// CropFlat is the crop divided by the background, white where the field is: the
	// look of the single-cell images the classifier was trained on, whatever the
	// vignetting. Brighter-than-background pixels (phase halos) saturate at white.
	CropFlat CropStyle = iota
	// CropRaw is the crop's gray levels as the camera gave them.
	CropRaw
	// CropNone keeps no crop (measurement only).
	CropNone
)

// Options tune the segmenter. The zero value is a sensible default for a brightfield
// bench microscope.
type Options struct {
	Mode    Mode
	UmPerPx float64 // calibration, micrometres per pixel; 0 when uncalibrated

	// MinSize and MaxSize bound the equivalent spherical diameter of the objects kept
	// (default 6 px and no upper limit).
	MinSize, MaxSize Size

	Margin      int     // pixels of context around each crop, clipped at the frame edge (default 8; -1 for none)
	Sigmas      float64 // detection threshold in noise standard deviations (default 4)
	MinContrast float64 // and at least this fraction of the background level (default 0.02)
	Close       int     // radius of the morphological closing that joins a cell's parts, px (default 3; -1 for none)
	Mesh        int     // background mesh cell, px (default: an eighth of the shorter side, at least 32)
	Crops       CropStyle

	// Ignore lists regions of the frame where nothing is detected: the camera's own
	// marks (dead pixels, a reticle, an overlay) that are in every frame and in no
	// sample.
	Ignore []image.Rectangle

	// MinFieldMatch is the phase-correlation response of two consecutive object masks
	// below which they are taken to show different fields (default 0.5; frames of one
	// field score 0.8 to 1, frames of two fields under 0.4).
	MinFieldMatch float64

	OnStatus func(capture.Status) // events (frame size changed, field changed); default LogStatus
}

// withDefaults fills the zero fields of o.
func (o Options) withDefaults() Options {
	if o.MinSize.Value == 0 {
		o.MinSize = Size{Value: 6, Unit: UnitPx}
	}
	switch {
	case o.Margin == 0:
		o.Margin = 8
	case o.Margin < 0:
		o.Margin = 0
	}
	if o.Sigmas == 0 {
		o.Sigmas = 4
	}
	if o.MinContrast == 0 {
		o.MinContrast = 0.02
	}
	switch {
	case o.Close == 0:
		o.Close = 3
	case o.Close < 0:
		o.Close = 0
	}
	if o.MinFieldMatch == 0 {
		o.MinFieldMatch = 0.5
	}
	return o
}

// Segmenter finds the objects in frames, measures them and, across the frames of one
// stream, tells which are new. It keeps its working images between frames, so it is not
// safe for concurrent use: give each stream its own, and Close it.
type Segmenter struct {
	opt            Options
	minPx, maxPx   float64 // ESD limits in pixels
	minArea        float64
	w, h           int // frame size of the stream, 0 before the first frame
	gray, smooth   gocv.Mat
	bg, diff, thr  gocv.Mat
	mask, closed   gocv.Mat
	kernel, noHier gocv.Mat
	objMask        gocv.Mat
	mesh           mesh
	up, floor, tbg gocv.Mat // tbg: flow mode's running temporal median
	flowInit       bool
	motion         motion
	tracker        tracker
	stats          Stats
	noise          float64
}

// Stats sums up what a Segmenter has seen.
type Stats struct {
	Frames  int // frames processed
	Objects int // objects found, all frames together
	Counted int // distinct objects (first sightings)
	Fields  int // fields seen: 1 + stage moves detected
}

// NewSegmenter checks the options and prepares a segmenter.
func NewSegmenter(opt Options) (*Segmenter, error) {
	opt = opt.withDefaults()
	if opt.UmPerPx < 0 || math.IsNaN(opt.UmPerPx) || math.IsInf(opt.UmPerPx, 0) {
		return nil, fmt.Errorf("calibration %g µm/px: want a positive number (or 0 for none)", opt.UmPerPx)
	}
	minPx, err := opt.MinSize.Pixels(opt.UmPerPx)
	if err != nil {
		return nil, fmt.Errorf("minimum size: %w", err)
	}
	maxPx, err := opt.MaxSize.Pixels(opt.UmPerPx)
	if err != nil {
		return nil, fmt.Errorf("maximum size: %w", err)
	}
	if maxPx > 0 && maxPx < minPx {
		return nil, fmt.Errorf("maximum size %s is below the minimum %s", opt.MaxSize, opt.MinSize)
	}
	if opt.Sigmas < 1 || opt.MinContrast < 0 || opt.MinContrast > 0.9 || opt.Margin < 0 || opt.Mesh < 0 || opt.Close > 50 {
		return nil, fmt.Errorf("segmentation options out of range: sigmas %g (>= 1), min contrast %g (0 to 0.9), margin %d, mesh %d, close %d",
			opt.Sigmas, opt.MinContrast, opt.Margin, opt.Mesh, opt.Close)
	}
	s := &Segmenter{
		opt: opt, minPx: minPx, maxPx: maxPx, minArea: math.Pi * minPx * minPx / 4,
		gray: gocv.NewMat(), smooth: gocv.NewMat(), bg: gocv.NewMat(), diff: gocv.NewMat(), thr: gocv.NewMat(),
		mask: gocv.NewMat(), closed: gocv.NewMat(), noHier: gocv.NewMat(), objMask: gocv.NewMat(),
		up: gocv.NewMat(), floor: gocv.NewMat(), tbg: gocv.NewMat(),
		motion: newMotion(), tracker: tracker{mode: opt.Mode, pad: opt.Close},
	}
	if opt.Close > 0 {
		// A square kernel: OpenCV runs it as two 1-D passes, several times faster than
		// a disc, and for joining a cell's parts the shape hardly matters.
		s.kernel = gocv.GetStructuringElement(gocv.MorphRect, image.Pt(2*opt.Close+1, 2*opt.Close+1))
	} else {
		s.kernel = gocv.NewMat()
	}
	return s, nil
}

// Options returns the options in effect, defaults filled in.
func (s *Segmenter) Options() Options { return s.opt }

// Stats returns what the segmenter has seen so far.
func (s *Segmenter) Stats() Stats { return s.stats }

// Noise returns the noise standard deviation (gray levels) measured on the last frame.
func (s *Segmenter) Noise() float64 { return s.noise }

// Close frees the working images.
func (s *Segmenter) Close() error {
	for _, m := range []*gocv.Mat{&s.gray, &s.smooth, &s.bg, &s.diff, &s.thr, &s.mask, &s.closed, &s.kernel, &s.noHier, &s.objMask, &s.up, &s.floor, &s.tbg} {
		if m.Ptr() != nil {
			m.Close()
		}
	}
	s.motion.close()
	return nil
}

// bgUncertainty is how closely the interpolated background follows the true
// illumination, in gray levels: about one (measured on generated frames with known
// illumination: at most 2 levels off, in the corners). It adds to the pixel noise in the
// threshold, so that a smoothly lit frame with a very clean camera does not turn the
// background model's own error into objects.
const bgUncertainty = 1.0

// Errors a caller can test with errors.Is.
var (
	ErrEmptyFrame   = errors.New("empty frame (no pixels)")
	ErrFrameFormat  = errors.New("unsupported frame format")
	ErrFrameTooTiny = errors.New("frame too small to segment")
)

// Process segments one frame of the stream, measures its objects and matches them with
// the previous frames: Object.Track is the cell's identity and Object.New marks its first
// sighting, the one to count. A frame of another size than the stream's restarts the
// background and the tracks (reported as StatusSizeChanged). The frame's Mat stays the
// caller's.
func (s *Segmenter) Process(f capture.Frame) ([]Object, error) {
	if err := s.toGray(f.Mat); err != nil {
		return nil, fmt.Errorf("%s frame %d: %w", f.Source, f.Index, err)
	}
	w, h := s.gray.Cols(), s.gray.Rows()
	if s.w != 0 && (w != s.w || h != s.h) {
		capture.Report(s.opt.OnStatus, capture.Status{Source: f.Source, Kind: capture.StatusSizeChanged, Frame: f.Index,
			Err: fmt.Errorf("frame is %dx%d, the stream so far was %dx%d; background and tracking restarted", w, h, s.w, s.h)})
		s.restart()
	}
	if s.w == 0 {
		s.stats.Fields++
	}
	s.w, s.h = w, h
	objs, err := s.detect(f.Source, f.Index)
	if err != nil {
		return nil, err
	}
	shift, newField := s.motion.update(s.closed, s.w, s.h, len(objs) > 0, s.opt.MinFieldMatch)
	if s.opt.Mode == ModeFlow {
		shift, newField = image.Point{}, false // the camera does not move; the cells do
	}
	if newField {
		s.stats.Fields++
		capture.Report(s.opt.OnStatus, capture.Status{Source: f.Source, Kind: capture.StatusFieldChanged, Frame: f.Index})
	}
	s.tracker.update(objs, shift, newField, s.w, s.h)
	s.stats.Frames++
	s.stats.Objects += len(objs)
	for _, o := range objs {
		if o.New {
			s.stats.Counted++
		}
	}
	return objs, nil
}

// Detect segments and measures one image on its own, without tracking (every object is
// New, with Track -1) and with the single-frame background whatever the mode.
func (s *Segmenter) Detect(m gocv.Mat, source string, index int) ([]Object, error) {
	if err := s.toGray(m); err != nil {
		return nil, fmt.Errorf("%s frame %d: %w", source, index, err)
	}
	mode := s.opt.Mode
	s.opt.Mode = ModeStill
	s.w, s.h = s.gray.Cols(), s.gray.Rows()
	objs, err := s.detect(source, index)
	s.opt.Mode = mode
	s.restart()
	for i := range objs {
		objs[i].Track, objs[i].New = -1, true
	}
	return objs, err
}

// restart forgets the stream: background, motion and tracks.
func (s *Segmenter) restart() {
	s.w, s.h = 0, 0
	s.flowInit = false
	s.motion.reset()
	s.tracker.reset()
}

// toGray puts the 8-bit luma of m into s.gray.
func (s *Segmenter) toGray(m gocv.Mat) error {
	if m.Ptr() == nil || m.Empty() {
		return ErrEmptyFrame
	}
	if m.Cols() < 16 || m.Rows() < 16 {
		return fmt.Errorf("%w: %dx%d, want at least 16x16", ErrFrameTooTiny, m.Cols(), m.Rows())
	}
	switch m.Type() {
	case gocv.MatTypeCV8UC1:
		m.CopyTo(&s.gray)
	case gocv.MatTypeCV8UC3:
		gocv.CvtColor(m, &s.gray, gocv.ColorBGRToGray)
	case gocv.MatTypeCV8UC4:
		gocv.CvtColor(m, &s.gray, gocv.ColorBGRAToGray)
	default:
		return fmt.Errorf("%w: OpenCV type %d; want 8-bit gray, BGR or BGRA", ErrFrameFormat, m.Type())
	}
	return nil
}

// detect finds and measures the objects of s.gray.
func (s *Segmenter) detect(source string, index int) ([]Object, error) {
	w, h := s.w, s.h
	gray, err := s.gray.DataPtrUint8()
	if err != nil {
		return nil, fmt.Errorf("%s frame %d: %w", source, index, err)
	}
	// A light blur (sigma ~0.8 px) takes the pixel noise down by half before the
	// threshold, so faint cells stand out and single hot pixels do not.
	gocv.GaussianBlur(s.gray, &s.smooth, image.Pt(3, 3), 0, 0, gocv.BorderReplicate)

	if err := s.background(gray, w, h); err != nil {
		return nil, fmt.Errorf("%s frame %d: background: %w", source, index, err)
	}
	gocv.AbsDiff(s.smooth, s.bg, &s.diff)
	smooth, err := s.smooth.DataPtrUint8()
	if err != nil {
		return nil, err
	}
	bg, err := s.bg.DataPtrUint8()
	if err != nil {
		return nil, err
	}
	s.noise = noiseSigma(smooth, bg, w, h)

	// Threshold map: Sigmas times the noise (the pixels' own, and the background
	// model's), and at least MinContrast of the local background.
	floor := math.Min(254, math.Ceil(s.opt.Sigmas*math.Hypot(s.noise, bgUncertainty)))
	gocv.ConvertScaleAbs(s.bg, &s.thr, s.opt.MinContrast, 0)
	if s.floor.Rows() != h || s.floor.Cols() != w {
		s.floor = replaceMat(s.floor, gocv.NewMatWithSize(h, w, gocv.MatTypeCV8U))
	}
	s.floor.SetTo(gocv.NewScalar(floor, 0, 0, 0))
	gocv.Max(s.thr, s.floor, &s.thr)
	gocv.Compare(s.diff, s.thr, &s.mask, gocv.CompareGT)
	if mask, err := s.mask.DataPtrUint8(); err == nil {
		clearEdgeLines(mask, w, h)
		for _, r := range s.opt.Ignore {
			r = r.Intersect(image.Rect(0, 0, w, h))
			for y := r.Min.Y; y < r.Max.Y; y++ {
				clear(mask[y*w+r.Min.X : y*w+r.Max.X])
			}
		}
	}
	if s.opt.Close > 0 {
		gocv.MorphologyEx(s.mask, &s.closed, gocv.MorphClose, s.kernel)
	} else {
		s.mask.CopyTo(&s.closed)
	}
	contours := gocv.FindContours(s.closed, gocv.RetrievalExternal, gocv.ChainApproxSimple)
	defer contours.Close()
	thr, err := s.thr.DataPtrUint8()
	if err != nil {
		return nil, err
	}
	fr := frameData{gray: gray, bg: bg, thr: thr, w: w, h: h}
	var objs []Object
	for _, g := range s.group(contours) {
		if float64(g.box.Dx()*g.box.Dy()) < s.minArea {
			continue // even filled, its box could not hold the smallest object
		}
		o, err := s.measure(contours, g, fr)
		if err != nil {
			return nil, fmt.Errorf("%s frame %d: %w", source, index, err)
		}
		// The size limits judge the measured size, the one reported.
		if o.ESD < s.minPx || (s.maxPx > 0 && o.ESD > s.maxPx) || edgeSliver(o.Box, w, h) {
			continue
		}
		o.Source, o.Frame = source, index
		objs = append(objs, o)
	}
	slices.SortFunc(objs, func(a, b Object) int {
		if a.Box.Min.Y != b.Box.Min.Y {
			return a.Box.Min.Y - b.Box.Min.Y
		}
		return a.Box.Min.X - b.Box.Min.X
	})
	for i := range objs {
		objs[i].ID = i
	}
	return objs, nil
}

// background puts the background of the current frame into s.bg: the mesh estimate of
// this frame (still mode, and the first frame in flow mode), or the running temporal
// median (flow mode), scaled to this frame's overall brightness so that lamp flicker and
// auto-exposure do not light up the whole field.
func (s *Segmenter) background(gray []uint8, w, h int) error {
	if s.opt.Mode == ModeFlow && s.flowInit {
		tbg, err := s.tbg.DataPtrUint8()
		if err != nil {
			return err
		}
		approachMedian(tbg, gray, 1)
		gain := medianLevel(gray, w, h) / math.Max(medianLevel(tbg, w, h), 1)
		s.tbg.ConvertToWithParams(&s.bg, gocv.MatTypeCV8U, float32(gain), 0)
		return nil
	}
	s.mesh.estimate(gray, w, h, meshSize(w, h, s.opt.Mesh))
	s.upsample(w, h)
	if s.opt.Mode == ModeFlow {
		s.bg.CopyTo(&s.tbg)
		s.flowInit = true
	}
	return nil
}

// medianLevel is the median gray level of every 8th row.
func medianLevel(pix []uint8, w, h int) float64 {
	var hist [256]int
	for y := 0; y < h; y += 8 {
		for _, v := range pix[y*w : (y+1)*w] {
			hist[v]++
		}
	}
	return histQuantile(&hist, 0, 255, 0.5)
}

// edgeLines is how many rows and columns at each edge of the frame are checked for
// sensor artefacts (two, and one more the smoothing spreads them to), and edgeLineShare
// the share of a row or column above the threshold that marks it as one.
const (
	edgeLines     = 3
	edgeLineShare = 0.25
)

// clearEdgeLines blanks, in the object mask, the rows and columns at the frame edge that
// are above the threshold over most of their length. Cheap cameras often deliver a dark or
// bright first row or column (the ESP32 bench camera's top row is 25% darker than the
// next); left in, it joins every cell near that edge into one frame-wide object. Blanking
// a row costs a real object lying along the edge one row of pixels, no more.
func clearEdgeLines(mask []uint8, w, h int) {
	share := func(n, of int) bool { return float64(n) > edgeLineShare*float64(of) }
	for _, y := range edgeRows(h) {
		row := mask[y*w : (y+1)*w]
		n := 0
		for _, v := range row {
			if v != 0 {
				n++
			}
		}
		if share(n, w) {
			clear(row)
		}
	}
	for _, x := range edgeRows(w) {
		n := 0
		for y := 0; y < h; y++ {
			if mask[y*w+x] != 0 {
				n++
			}
		}
		if share(n, h) {
			for y := 0; y < h; y++ {
				mask[y*w+x] = 0
			}
		}
	}
}

// edgeSliver reports a box that hugs one edge of the frame, at most edgeLines+1 pixels
// thick and four times as long: a piece of a sensor's edge line, or a sliver of a cell
// that is out of the frame and cannot be measured or counted anyway.
func edgeSliver(b image.Rectangle, w, h int) bool {
	thin := edgeLines + 1
	switch {
	case (b.Min.Y == 0 || b.Max.Y == h) && b.Dy() <= thin && b.Dx() >= 4*b.Dy():
		return true
	case (b.Min.X == 0 || b.Max.X == w) && b.Dx() <= thin && b.Dy() >= 4*b.Dx():
		return true
	}
	return false
}

// edgeRows lists the indexes of the first and last edgeLines of n.
func edgeRows(n int) []int {
	var out []int
	for i := 0; i < edgeLines && i < n; i++ {
		out = append(out, i)
		if n-1-i > i {
			out = append(out, n-1-i)
		}
	}
	return out
}

// upsample interpolates the mesh (levels at the cell centres, and the extrapolated ring
// around) to the w x h frame into s.bg: the mesh is resized by exactly the cell size, so
// that node centres land on cell centres, and the frame is cut out of the middle.
func (s *Segmenter) upsample(w, h int) {
	m := &s.mesh
	g, err := gocv.NewMatFromBytes(m.gh+2, m.gw+2, gocv.MatTypeCV8U, m.ext)
	if err != nil {
		panic("capture: mesh buffer size: " + err.Error()) // sizes are computed above
	}
	defer g.Close()
	gocv.Resize(g, &s.up, image.Point{}, m.cw, m.ch, gocv.InterpolationLinear)
	x0, y0 := int(math.Round(m.cw)), int(math.Round(m.ch))
	frame := s.up.Region(image.Rect(x0, y0, x0+w, y0+h))
	defer frame.Close()
	frame.CopyTo(&s.bg)
}

// replaceMat closes old and returns m.
func replaceMat(old, m gocv.Mat) gocv.Mat {
	if old.Ptr() != nil {
		old.Close()
	}
	return m
}

// frameData is the current frame's pixels as Go slices (views of the Mats' memory).
type frameData struct {
	gray, bg, thr []uint8
	w, h          int
}

// blobGroup is one object: the contours of its parts and their joint box.
type blobGroup struct {
	box   image.Rectangle
	parts []int
	area  int // box area of the largest part, for ordering
}

// Grouping: a part that comes within a few pixels of a larger object's box (a fifth of
// the object's size, at most satelliteMax px) belongs to that object. A faint organism
// often breaks into pieces at the threshold (a medusa's tentacles, a diatom chain's
// cells, the halo of a phase-contrast cell); its pieces lie inside or right beside its
// box, while separate cells on a slide rarely come that close. Joining is repeated until
// nothing changes, since a grown box can reach further parts.
const (
	satelliteFrac = 0.20
	satelliteMax  = 12
	minPartPx     = 3 // parts with a smaller box (single noisy pixels) are dropped before grouping
)

// group gathers the external contours into objects, largest first.
func (s *Segmenter) group(contours gocv.PointsVector) []blobGroup {
	n := contours.Size()
	groups := make([]blobGroup, 0, n)
	for i := 0; i < n; i++ {
		box := gocv.BoundingRect(contours.At(i))
		if box.Dx()*box.Dy() < minPartPx {
			continue
		}
		groups = append(groups, blobGroup{box: box, parts: []int{i}, area: box.Dx() * box.Dy()})
	}
	slices.SortFunc(groups, func(a, b blobGroup) int { return b.area - a.area })
	for changed := true; changed; {
		changed = false
		for gi := 0; gi < len(groups); gi++ {
			g := &groups[gi]
			reach := g.box.Inset(-s.tracker.reach(g.box))
			for bi := gi + 1; bi < len(groups); bi++ {
				b := groups[bi]
				if !b.box.Overlaps(reach) {
					continue
				}
				g.box = g.box.Union(b.box)
				g.parts = append(g.parts, b.parts...)
				groups = slices.Delete(groups, bi, bi+1)
				bi--
				changed = true
			}
		}
	}
	return groups
}

// measure fills an Object with the measurements of a group of contours.
func (s *Segmenter) measure(contours gocv.PointsVector, g blobGroup, fr frameData) (Object, error) {
	box := g.box
	o := Object{Box: box, UmPerPx: s.opt.UmPerPx}
	// The object's own mask, holes filled: its external contours drawn filled into a
	// box-sized image with a one-pixel empty frame (so neighbours never fall outside),
	// so that a neighbour inside the box does not count.
	bw, bh := box.Dx(), box.Dy()
	if s.objMask.Cols() < bw+2 || s.objMask.Rows() < bh+2 {
		s.objMask = replaceMat(s.objMask, gocv.NewMatWithSize(max(bh+2, 64, s.objMask.Rows()), max(bw+2, 64, s.objMask.Cols()), gocv.MatTypeCV8U))
	}
	s.objMask.SetTo(gocv.NewScalar(0, 0, 0, 0))
	var pts []image.Point
	for _, i := range g.parts {
		gocv.DrawContoursWithParams(&s.objMask, contours, i, color.RGBA{255, 255, 255, 255}, -1, gocv.Line8, s.noHier, 0, image.Pt(1-box.Min.X, 1-box.Min.Y))
		pv := contours.At(i)
		o.Perimeter += gocv.ArcLength(pv, true)
		pts = append(pts, pv.ToPoints()...)
	}
	mk, err := s.objMask.DataPtrUint8()
	if err != nil {
		return o, err
	}
	ms := s.objMask.Cols()

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
	o.OnBorder = box.Min.X == 0 || box.Min.Y == 0 || box.Max.X == fr.w || box.Max.Y == fr.h

	crop := box.Inset(-s.opt.Margin).Intersect(image.Rect(0, 0, fr.w, fr.h))
	o.CropBox = crop
	o.Focus = laplacianVariance(fr.gray, fr.w, crop)
	switch s.opt.Crops {
	case CropFlat:
		o.Crop = flatCrop(fr, crop)
	case CropRaw:
		o.Crop = rawCrop(fr, crop)
	}
	if u := s.opt.UmPerPx; u > 0 {
		o.AreaUm2 = o.AreaPx * u * u
		o.ESDUm, o.MajorUm, o.MinorUm, o.PerimeterUm = o.ESD*u, o.Major*u, o.Minor*u, o.Perimeter*u
	}
	return o, nil
}

// flatCrop copies a region of the frame divided by the background, the background at 255.
func flatCrop(fr frameData, r image.Rectangle) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, r.Dx(), r.Dy()))
	for y := 0; y < r.Dy(); y++ {
		off := (r.Min.Y+y)*fr.w + r.Min.X
		g, b, dst := fr.gray[off:off+r.Dx()], fr.bg[off:off+r.Dx()], img.Pix[y*img.Stride:y*img.Stride+r.Dx()]
		for x := range dst {
			v := (uint32(g[x])*255 + uint32(b[x])/2) / uint32(max(b[x], 1))
			dst[x] = uint8(min(v, 255))
		}
	}
	return img
}

// rawCrop copies a region of the frame.
func rawCrop(fr frameData, r image.Rectangle) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, r.Dx(), r.Dy()))
	for y := 0; y < r.Dy(); y++ {
		off := (r.Min.Y+y)*fr.w + r.Min.X
		copy(img.Pix[y*img.Stride:], fr.gray[off:off+r.Dx()])
	}
	return img
}

// laplacianVariance is the variance of the 4-neighbour Laplacian over r (a focus score:
// sharp edges give large second derivatives).
func laplacianVariance(gray []uint8, w int, r image.Rectangle) float64 {
	h := len(gray) / w
	x0, y0, x1, y1 := max(r.Min.X, 1), max(r.Min.Y, 1), min(r.Max.X, w-1), min(r.Max.Y, h-1)
	var n, s, ss float64
	for y := y0; y < y1; y++ {
		row, up, down := gray[y*w:(y+1)*w], gray[(y-1)*w:y*w], gray[(y+1)*w:(y+2)*w]
		for x := x0; x < x1; x++ {
			l := float64(int(row[x-1]) + int(row[x+1]) + int(up[x]) + int(down[x]) - 4*int(row[x]))
			n++
			s += l
			ss += l * l
		}
	}
	if n == 0 {
		return 0
	}
	m := s / n
	return ss/n - m*m
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
