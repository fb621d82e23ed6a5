package vision

import (
	"errors"
	"fmt"
	"image"
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

	Margin int // pixels of context around each crop, clipped at the frame edge (default 8; -1 for none)
	// Sigmas and MinContrast set the high threshold, which an object must reach
	// somewhere: Sigmas noise standard deviations (default 8) and at least MinContrast of
	// the illumination (default 0.10). An object extends over the pixels above the low
	// threshold, LowShare of the high one (default 0.35).
	Sigmas      float64
	MinContrast float64
	LowShare    float64
	Close       int // radius of the closing of the high-threshold cores, px (default 1; -1 for none)
	Crops       CropStyle
	// ColourCrops also cuts each object's crop in colour from a colour frame
	// (Object.ColourCrop, the camera's colours), for a pack that takes colour crops.
	ColourCrops bool
	// Colour adds each colour channel's difference from its own illumination to the gray
	// one (in the gray image's noise units; the largest counts), so that an object that
	// differs from the field in colour more than in brightness (a green cell on a
	// grey-green field) is found. Off by default: on the real bench frames (tune split),
	// whose chromatic vignette and JPEG chroma noise it also finds, it took precision
	// from 0.66 to 0.51 for no gain in recall.
	Colour bool

	// Ridges adds a ridge filter for thin faint structures the threshold misses (a
	// Pseudo-nitzschia needle in phase contrast; ridge.go). Off by default: on the real
	// bench frames (tune split) it found nothing the threshold missed and added false
	// objects (precision 0.74 to 0.68); on generated phase-contrast fields it finds 7
	// more of 31 needles and cells.
	Ridges bool

	// Boxes, when set, is a learned detector whose boxes join the thresholds' objects
	// where they found none (boxes.go): faint specks and pale cells of the kind of frames
	// it was trained on.
	Boxes BoxFinder

	// Ignore lists regions of the frame where nothing is detected: the camera's own
	// marks (dead pixels, a reticle, an overlay) that are in every frame and in no
	// sample.
	Ignore []image.Rectangle

	// MinFieldMatch is the phase-correlation response of two consecutive object masks
	// from which a quarter of the cells found where the shift puts known ones is enough
	// to call it the same field (default 0.8; see motion.go).
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
		o.Sigmas = 8
	}
	if o.MinContrast == 0 {
		o.MinContrast = 0.10
	}
	if o.LowShare == 0 {
		o.LowShare = 0.35
	}
	switch {
	case o.Close == 0:
		o.Close = 1
	case o.Close < 0:
		o.Close = 0
	}
	if o.MinFieldMatch == 0 {
		o.MinFieldMatch = 0.8
	}
	return o
}

// Segmenter finds the objects in frames, measures them and, across the frames of one
// stream, tells which are new. It keeps its working images between frames, so it is not
// safe for concurrent use: give each stream its own, and Close it.
type Segmenter struct {
	opt          Options
	minPx, maxPx float64 // ESD limits in pixels
	minArea      float64
	w, h         int // frame size of the stream, 0 before the first frame
	// The frame is segmented at a working size, shrunk by scale (workScale); full holds
	// the full-size gray frame the crops are cut from when scale > 1 (else gray does).
	scale          int
	full           gocv.Mat
	gray, smooth   gocv.Mat
	bg, diff, thr  gocv.Mat
	thrLo, floor   gocv.Mat
	hi, lo         gocv.Mat // pixels above the high and the low threshold
	closed         gocv.Mat // all objects' pixels: the motion signature
	cores          gocv.Mat // labels of the high-threshold cores
	kernel, noHier gocv.Mat
	objMask        gocv.Mat
	illum          illumination
	grower         regionGrower
	splitter       splitter
	ridges         ridges
	info           FrameInfo
	fieldFocus     float64 // the sharpest frame's focus in this field (still mode)
	heldFrames     int     // consecutive frames held for focus
	// Colour frames: each channel's difference from its own illumination joins the gray
	// one (the largest counts), so a green cell on a grey-green field stands out.
	colour                   bool
	frame                    gocv.Mat // the frame being processed (the caller's, valid during the call)
	bgr, channel, chanSmooth gocv.Mat
	chanBg, chanDiff         gocv.Mat
	chanIllum                [3]illumination
	tbg                      gocv.Mat // flow mode's running temporal median
	flowInit                 bool
	motion                   motion
	tracker                  tracker
	stats                    Stats
	noise                    float64
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
	if !(opt.Sigmas >= 1 && opt.Sigmas <= 1000) || !(opt.MinContrast >= 0 && opt.MinContrast <= 0.9) || !(opt.LowShare > 0 && opt.LowShare <= 1) ||
		opt.Margin < 0 || opt.Close > 50 {
		return nil, fmt.Errorf("segmentation options out of range: sigmas %g (1 to 1000), min contrast %g (0 to 0.9), low share %g (above 0, at most 1), margin %d, close %d",
			opt.Sigmas, opt.MinContrast, opt.LowShare, opt.Margin, opt.Close)
	}
	s := &Segmenter{
		opt: opt, minPx: minPx, maxPx: maxPx, minArea: math.Pi * minPx * minPx / 4,
		gray: gocv.NewMat(), full: gocv.NewMat(), smooth: gocv.NewMat(), bg: gocv.NewMat(), diff: gocv.NewMat(), thr: gocv.NewMat(),
		thrLo: gocv.NewMat(), floor: gocv.NewMat(), hi: gocv.NewMat(), lo: gocv.NewMat(), closed: gocv.NewMat(),
		cores:  gocv.NewMat(),
		noHier: gocv.NewMat(), objMask: gocv.NewMat(), tbg: gocv.NewMat(),
		illum: newIllumination(), motion: newMotion(), splitter: newSplitter(), ridges: newRidges(), tracker: tracker{mode: opt.Mode, pad: max(opt.Close, 2)},
		bgr: gocv.NewMat(), channel: gocv.NewMat(), chanSmooth: gocv.NewMat(), chanBg: gocv.NewMat(), chanDiff: gocv.NewMat(),
	}
	for i := range s.chanIllum {
		s.chanIllum[i] = newIllumination()
	}
	if opt.Close > 0 {
		s.kernel = gocv.GetStructuringElement(gocv.MorphEllipse, image.Pt(2*opt.Close+1, 2*opt.Close+1))
	} else {
		s.kernel = gocv.NewMat()
	}
	return s, nil
}

// Options returns the options in effect, defaults filled in.
func (s *Segmenter) Options() Options { return s.opt }

// Stats returns what the segmenter has seen so far.
func (s *Segmenter) Stats() Stats { return s.stats }

// FrameInfo is what the segmenter found out about the last frame as a whole.
type FrameInfo struct {
	Index    int
	Objects  int
	Oversize int // objects over MaxShare of the frame (reported, see Object.Oversize)
	// Covered is the share of the frame in objects. A frame over crowdedShare is
	// Crowded: too dense to segment (no background between the particles: dilute the
	// sample); Process refuses it (ErrCrowdedFrame), and Detect returns its objects but
	// for the oversize ones, Withheld, since one object over a tenth of a frame that is
	// mostly objects is a mat of them, not one to count.
	Covered  float64
	Crowded  bool
	Withheld int
	// Focus is the frame's sharpness: the objects' gradient energy over their contrast
	// energy, per pixel (about 1 for sharp edges, falling as the blur widens them); 0
	// without objects. OutOfFocus marks a frame under focusShare of the sharpest frame
	// of its field; Held says its new cells were not counted, waiting for a sharper one.
	Focus      float64
	OutOfFocus bool
	Held       bool
	// NewField says the stage moved to another field; Shift is the stage's move since
	// the last frame (still mode) and Response how alike the two frames were (0 to 1).
	NewField bool
	Shift    image.Point
	Response float64
}

// crowdedShare is the share of a frame in objects over which it is Crowded.
const crowdedShare = 0.5

// Frame returns what the segmenter found out about the last frame processed.
func (s *Segmenter) Frame() FrameInfo { return s.info }

// Focus rules (still mode): a frame whose focus is under focusShare of the sharpest frame
// seen in its field is out of focus; its new cells wait (are not counted) for a sharper
// frame of the field, for at most maxFocusWait frames, after which they are counted
// anyway (a field that never comes sharper must still be counted) and the frames stay
// flagged.
const (
	focusShare   = 0.6
	maxFocusWait = 3
)

// judgeFocus flags the last frame out of focus against its field's sharpest and says
// whether its new cells wait. A frame without objects has no focus of its own (focusOf
// measures the objects' edges): in a flow cell it is an empty stretch of the sample, not
// a blurred one, and is not flagged; on a still slide, the same field showing nothing
// where it showed cells is blurred past finding any (a defocus of sigma 24 px and more
// on the generated field), and is.
func (s *Segmenter) judgeFocus(newField bool) bool {
	if newField {
		s.fieldFocus, s.heldFrames = 0, 0
	}
	f := s.info.Focus
	judged := f > 0 || s.opt.Mode == ModeStill
	s.info.OutOfFocus = judged && s.fieldFocus > 0 && f < focusShare*s.fieldFocus
	s.fieldFocus = math.Max(s.fieldFocus, f)
	if !s.info.OutOfFocus || s.opt.Mode != ModeStill || s.heldFrames >= maxFocusWait {
		s.heldFrames = 0
		return false
	}
	s.heldFrames++
	return true
}

// Noise returns the noise standard deviation (gray levels) measured on the last frame.
func (s *Segmenter) Noise() float64 { return s.noise }

// Close frees the working images.
func (s *Segmenter) Close() error {
	for _, m := range []*gocv.Mat{&s.gray, &s.full, &s.smooth, &s.bg, &s.diff, &s.thr, &s.thrLo, &s.floor, &s.hi, &s.lo, &s.closed,
		&s.cores, &s.kernel, &s.noHier, &s.objMask, &s.tbg,
		&s.bgr, &s.channel, &s.chanSmooth, &s.chanBg, &s.chanDiff} {
		if m.Ptr() != nil {
			m.Close()
		}
	}
	s.illum.close()
	for i := range s.chanIllum {
		s.chanIllum[i].close()
	}
	s.motion.close()
	s.splitter.close()
	s.ridges.close()
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
	// ErrBlankFrame is a frame with nothing in it to examine: all black (the lamp off,
	// the shutter closed) or all white (saturated). It examined no water: counted as
	// examined, a lamp off lowered the concentrations without a word (helper-68).
	ErrBlankFrame = errors.New("blank frame")
	// ErrCrowdedFrame is a frame more than crowdedShare covered by objects: no
	// background between the particles to cut them apart (a mat of a bloom, a debris
	// cloud). Its objects cannot be counted, so it examined no water either: counted as
	// examined with its mats withheld, it lowered the concentrations of the densest
	// samples, and a folder of a bloom's mats read "No alert" (helper-72). Frame()
	// still describes it (Covered, Oversize, Withheld).
	ErrCrowdedFrame = errors.New("frame too crowded to segment")
	// ErrAllIgnored is a frame that the Ignore regions cover whole: nothing in it can be
	// detected, so every frame of the stream would count 0 cells, read as clean water
	// (helper-83). Run ends the stream on it rather than skipping frame after frame.
	ErrAllIgnored = errors.New("the regions to ignore cover the whole frame")
)

// coversFrame reports whether the rectangles rs together cover the w x h frame: the
// frame is cut along every rectangle's edges, and each piece must lie inside one.
func coversFrame(rs []image.Rectangle, w, h int) bool {
	frame := image.Rect(0, 0, w, h)
	xs, ys := []int{0, w}, []int{0, h}
	for _, r := range rs {
		r = r.Intersect(frame)
		if r.Empty() {
			continue
		}
		xs, ys = append(xs, r.Min.X, r.Max.X), append(ys, r.Min.Y, r.Max.Y)
	}
	slices.Sort(xs)
	slices.Sort(ys)
	xs, ys = slices.Compact(xs), slices.Compact(ys)
	for i := 1; i < len(xs); i++ {
		for j := 1; j < len(ys); j++ {
			piece := image.Rect(xs[i-1], ys[j-1], xs[i], ys[j])
			if !slices.ContainsFunc(rs, func(r image.Rectangle) bool { return piece.In(r) }) {
				return false
			}
		}
	}
	return true
}

// checkIgnore refuses a frame that the Ignore regions cover whole (ErrAllIgnored).
func (s *Segmenter) checkIgnore(source string, index, w, h int) error {
	if len(s.opt.Ignore) == 0 || !coversFrame(s.opt.Ignore, w, h) {
		return nil
	}
	return fmt.Errorf("%s frame %d (%dx%d): %w: nothing is left to detect in it", source, index, w, h, ErrAllIgnored)
}

// blankFrame says why the working-size luma gray shows nothing to examine ("" when it
// does): all black when its brightest thousandth is under blackBelow, all white when its
// darkest thousandth is over whiteAbove. A brightfield or phase-contrast field, even of
// clean water, has its lamp's light, and its cells' shadows, in between.
func blankFrame(gray []uint8) string {
	const blackBelow, whiteAbove = 24, 250
	var hist [256]int
	for _, v := range gray {
		hist[v]++
	}
	tail := max(1, len(gray)/1000)
	dark, bright := 0, 255
	for n := 0; dark < 255 && n+hist[dark] < tail; dark++ {
		n += hist[dark]
	}
	for n := 0; bright > 0 && n+hist[bright] < tail; bright-- {
		n += hist[bright]
	}
	switch {
	case bright < blackBelow:
		return fmt.Sprintf("all black (the brightest pixels at %d of 255): the lamp off or the light path shut; check the lamp and the shutter", bright)
	case dark > whiteAbove:
		return fmt.Sprintf("all white (the darkest pixels at %d of 255): saturated; lower the exposure or the lamp", dark)
	}
	return ""
}

// Process segments one frame of the stream, measures its objects and matches them with
// the previous frames: Object.Track is the cell's identity and Object.New marks its first
// sighting, the one to count. A frame of another size than the stream's restarts the
// background and the tracks (reported as StatusSizeChanged). The frame's Mat stays the
// caller's.
func (s *Segmenter) Process(f capture.Frame) ([]Object, error) {
	if err := s.toGray(f.Mat); err != nil {
		return nil, fmt.Errorf("%s frame %d: %w", f.Source, f.Index, err)
	}
	if gray, err := s.gray.DataPtrUint8(); err == nil {
		if why := blankFrame(gray); why != "" {
			// Before the frame's size or field is taken: it says nothing of either.
			return nil, fmt.Errorf("%s frame %d: %w: %s", f.Source, f.Index, ErrBlankFrame, why)
		}
	}
	w, h := s.fullGray().Cols(), s.fullGray().Rows()
	if err := s.checkIgnore(f.Source, f.Index, w, h); err != nil {
		return nil, err
	}
	s.frame = f.Mat
	defer func() { s.frame = gocv.Mat{} }()
	resized := s.w != 0 && (w != s.w || h != s.h)
	if resized {
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
	if s.info.Crowded {
		// Before the field and the tracks take it: the next readable frame of the field
		// counts its cells as they are.
		return nil, fmt.Errorf("%s frame %d: %w: %.0f%% of it differs from the background; dilute the sample and screen again",
			f.Source, f.Index, ErrCrowdedFrame, 100*s.info.Covered)
	}
	var shift image.Point
	newField := false
	if s.opt.Mode == ModeStill {
		st := s.motion.update(s.closed, s.gray.Cols(), s.gray.Rows(), len(objs) > 0)
		st.shift = st.shift.Mul(s.scale)
		s.info.Shift, s.info.Response = st.shift, st.response
		if st.compared {
			// The shift is checked against the cells (track turnover, motion.go).
			same, near := s.tracker.fieldMatch(objs, st.shift)
			// Position alone needs two objects to say anything: one object of an
			// unrelated frame lands where a known one was by chance.
			nearN := int(math.Round(near * float64(len(objs))))
			if same >= turnoverShare || (nearN >= 2 && (near >= nearShare || (st.response >= s.opt.MinFieldMatch && near >= turnoverShare))) {
				shift = st.shift
			} else {
				newField = true
			}
		}
	}
	// A frame of another size starts a field too: its cells are all new (the tracks
	// restarted), and Stats counts it so; FrameInfo says it, so that the pipeline's field
	// count (screen, the app) is segment's.
	s.info.NewField = newField || resized
	if newField {
		s.stats.Fields++
		capture.Report(s.opt.OnStatus, capture.Status{Source: f.Source, Kind: capture.StatusFieldChanged, Frame: f.Index})
	}
	hold := s.judgeFocus(newField)
	s.tracker.update(objs, shift, newField, hold, s.w, s.h)
	s.info.Index, s.info.Objects, s.info.Held = f.Index, len(objs), hold
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
	if err := s.checkIgnore(source, index, s.fullGray().Cols(), s.fullGray().Rows()); err != nil {
		return nil, err
	}
	mode := s.opt.Mode
	s.opt.Mode = ModeStill
	s.w, s.h = s.fullGray().Cols(), s.fullGray().Rows()
	s.frame = m
	objs, err := s.detect(source, index)
	s.frame = gocv.Mat{}
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
	s.fieldFocus, s.heldFrames = 0, 0
	s.motion.reset()
	s.tracker.reset()
}

// workSide is the shorter side of the working size frames are segmented at: a frame
// larger than twice that is shrunk by a whole factor (area averaging) to about it, and
// its objects' boxes and measurements are scaled back to the frame, their crops cut
// from the full frame. A camera's 1920x1080 or 2592x1944 frame holds no more objects at
// a bench microscope's magnifications than a quarter or a ninth of its pixels resolve,
// and every step of the segmentation costs per pixel: segmenting 2592x1944 at full
// size took 150 ms a frame on one core. The shrink never takes the smallest object
// (Options.MinSize) under minWorkPx working pixels across.
const (
	workSide  = 540
	minWorkPx = 2
)

// workScale is the shrink factor for a w x h frame with objects from minPx across.
func workScale(w, h int, minPx float64) int {
	return max(1, min(min(w, h)/workSide, int(minPx/minWorkPx)))
}

// toGray puts the 8-bit luma of m into s.gray at the working size, and into s.full at
// full size when they differ.
func (s *Segmenter) toGray(m gocv.Mat) error {
	if m.Ptr() == nil || m.Empty() {
		return ErrEmptyFrame
	}
	if m.Cols() < 16 || m.Rows() < 16 {
		return fmt.Errorf("%w: %dx%d, want at least 16x16", ErrFrameTooTiny, m.Cols(), m.Rows())
	}
	s.scale = workScale(m.Cols(), m.Rows(), s.minPx)
	if err := s.lumaOf(m, s.fullGray()); err != nil {
		return err
	}
	if s.scale == 1 {
		return nil
	}
	ww, wh := m.Cols()/s.scale, m.Rows()/s.scale
	whole := s.full.Region(image.Rect(0, 0, ww*s.scale, wh*s.scale))
	gocv.Resize(whole, &s.gray, image.Pt(ww, wh), 0, 0, gocv.InterpolationArea)
	whole.Close()
	if s.colour && s.opt.Colour {
		whole = s.bgr.Region(image.Rect(0, 0, ww*s.scale, wh*s.scale))
		gocv.Resize(whole, &s.channel, image.Pt(ww, wh), 0, 0, gocv.InterpolationArea)
		whole.Close()
		s.channel.CopyTo(&s.bgr)
	}
	return nil
}

// fullGray is the full-size gray frame.
func (s *Segmenter) fullGray() *gocv.Mat {
	if s.scale > 1 {
		return &s.full
	}
	return &s.gray
}

// lumaOf puts the 8-bit luma of m into dst (and m into s.bgr when it has colour and the
// colour is used).
func (s *Segmenter) lumaOf(m gocv.Mat, dst *gocv.Mat) error {
	s.colour = false
	switch m.Type() {
	case gocv.MatTypeCV8UC1:
		m.CopyTo(dst)
	case gocv.MatTypeCV8UC3:
		gocv.CvtColor(m, dst, gocv.ColorBGRToGray)
		if s.opt.Colour {
			m.CopyTo(&s.bgr)
		}
		s.colour = true
	case gocv.MatTypeCV8UC4:
		gocv.CvtColor(m, dst, gocv.ColorBGRAToGray)
		if s.opt.Colour {
			gocv.CvtColor(m, &s.bgr, gocv.ColorBGRAToBGR)
		}
		s.colour = true
	default:
		return fmt.Errorf("%w: OpenCV type %d; want 8-bit gray, BGR or BGRA", ErrFrameFormat, m.Type())
	}
	return nil
}

// detect finds and measures the objects of s.gray.
func (s *Segmenter) detect(source string, index int) ([]Object, error) {
	w, h, k := s.gray.Cols(), s.gray.Rows(), s.scale
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
	s.noise = smoothedNoise(gray, w, h)
	if s.colour && s.opt.Colour && s.opt.Mode == ModeStill {
		for c := 0; c < 3; c++ {
			gocv.ExtractChannel(s.bgr, &s.channel, c)
			ch, err := s.channel.DataPtrUint8()
			if err != nil {
				return nil, err
			}
			// In the gray image's noise units: a channel's own noise (JPEG's blue and
			// red are noisier than its luma) must not pass for contrast.
			scale := math.Min(1, s.noise/smoothedNoise(ch, w, h))
			gocv.GaussianBlur(s.channel, &s.chanSmooth, image.Pt(3, 3), 0, 0, gocv.BorderReplicate)
			s.chanIllum[c].estimate(s.channel, &s.chanBg)
			gocv.AbsDiff(s.chanSmooth, s.chanBg, &s.chanDiff)
			if scale < 1 {
				s.chanDiff.ConvertToWithParams(&s.chanDiff, gocv.MatTypeCV8U, float32(scale), 0)
			}
			gocv.Max(s.diff, s.chanDiff, &s.diff)
		}
	}

	// Thresholds, per pixel: Sigmas noise deviations and at least MinContrast of the
	// local illumination (high), and LowShare of that (low).
	hiFloor := math.Min(254, math.Ceil(s.opt.Sigmas*s.noise))
	loFloor := math.Min(254, math.Ceil(s.opt.LowShare*s.opt.Sigmas*s.noise))
	if s.floor.Rows() != h || s.floor.Cols() != w {
		s.floor = replaceMat(s.floor, gocv.NewMatWithSize(h, w, gocv.MatTypeCV8U))
	}
	gocv.ConvertScaleAbs(s.bg, &s.thr, s.opt.MinContrast, 0)
	s.floor.SetTo(gocv.NewScalar(hiFloor, 0, 0, 0))
	gocv.Max(s.thr, s.floor, &s.thr)
	gocv.ConvertScaleAbs(s.bg, &s.thrLo, s.opt.LowShare*s.opt.MinContrast, 0)
	s.floor.SetTo(gocv.NewScalar(loFloor, 0, 0, 0))
	gocv.Max(s.thrLo, s.floor, &s.thrLo)
	gocv.Compare(s.diff, s.thr, &s.hi, gocv.CompareGT)
	gocv.Compare(s.diff, s.thrLo, &s.lo, gocv.CompareGT)
	for _, m := range []*gocv.Mat{&s.hi, &s.lo} {
		mask, err := m.DataPtrUint8()
		if err != nil {
			return nil, err
		}
		clearEdgeLines(mask, w, h)
		for _, r := range s.opt.Ignore {
			r = workRect(r, k).Intersect(image.Rect(0, 0, w, h))
			for y := r.Min.Y; y < r.Max.Y; y++ {
				clear(mask[y*w+r.Min.X : y*w+r.Max.X])
			}
		}
	}
	if s.opt.Close > 0 {
		gocv.MorphologyEx(s.hi, &s.hi, gocv.MorphClose, s.kernel)
	}
	gocv.BitwiseOr(s.lo, s.hi, &s.lo)

	diff, err := s.diff.DataPtrUint8()
	if err != nil {
		return nil, err
	}
	lo, err := s.lo.DataPtrUint8()
	if err != nil {
		return nil, err
	}
	thr, err := s.thr.DataPtrUint8()
	if err != nil {
		return nil, err
	}
	regions, labels, err := s.thresholdRegions(diff, lo, thr, w, h)
	if err != nil {
		return nil, fmt.Errorf("%s frame %d: %w", source, index, err)
	}
	if s.opt.Boxes != nil {
		if regions, err = s.addBoxRegions(regions, labels, diff, lo, w, h, k); err != nil {
			return nil, fmt.Errorf("%s frame %d: detector: %w", source, index, err)
		}
	}

	// The objects' pixels, for the motion signature of the frame.
	if s.closed.Rows() != h || s.closed.Cols() != w || s.closed.Type() != gocv.MatTypeCV8U {
		s.closed = replaceMat(s.closed, gocv.NewMatWithSize(h, w, gocv.MatTypeCV8U))
	}
	sig, err := s.closed.DataPtrUint8()
	if err != nil {
		return nil, err
	}
	sig = sig[:len(labels)]
	for i, l := range labels {
		// 255 where l != 0, without a branch (labels are non-negative here): a branch
		// per pixel mispredicted along every object's edge.
		sig[i] = uint8((l | -l) >> 31)
	}
	smoothPix, err := s.smooth.DataPtrUint8()
	if err != nil {
		return nil, err
	}
	s.info = FrameInfo{Focus: focusOf(smoothPix, diff, labels, regions, w, h)}
	covered := 0
	for _, r := range regions {
		covered += r.n
	}
	s.info.Covered = float64(covered) / float64(w*h)
	s.info.Crowded = s.info.Covered > crowdedShare

	bg, err := s.bg.DataPtrUint8()
	if err != nil {
		return nil, err
	}
	smooth, err := s.smooth.DataPtrUint8()
	if err != nil {
		return nil, err
	}
	full, err := s.fullGray().DataPtrUint8()
	if err != nil {
		return nil, err
	}
	fr := frameData{gray: gray, bg: bg, thr: thr, labels: labels, smooth: smooth, w: w, h: h, full: full, fw: s.w, fh: s.h, k: k}
	var objs []Object
	for _, r := range regions {
		if max(r.box.Dx(), r.box.Dy()) < int(math.Ceil(s.minPx/float64(k))) {
			continue // its longest side is under the smallest object's diameter
		}
		if edgeSliver(r.box, w, h) {
			continue
		}
		o, err := s.measure(r, fr)
		if err != nil {
			return nil, fmt.Errorf("%s frame %d: %w", source, index, err)
		}
		// The size limits judge the measured size, the one reported.
		// A detector's box is an object whatever its measured pixels (a faint speck's
		// sink into the noise); the threshold's regions must measure up.
		if (!r.fromBox && o.ESD < s.minPx) || (s.maxPx > 0 && o.ESD > s.maxPx) {
			continue
		}
		o.Source, o.Frame = source, index
		o.Oversize = o.AreaPx > MaxShare*float64(s.w*s.h) // its pixels, not its box: a long filament is thin
		if o.Oversize {
			s.info.Oversize++
			if s.info.Crowded {
				s.info.Withheld++
				continue
			}
		}
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

// thresholdRegions finds the objects' regions by the thresholds alone: cores, the
// bounded flood from them (regions.go), the cut of oversize regions (split.go) and,
// when asked, the ridges (ridge.go).
func (s *Segmenter) thresholdRegions(diff, lo, thr []uint8, w, h int) ([]region, []int32, error) {
	n, coreLabels, err := components(s.hi, &s.cores, w*h)
	if err != nil {
		return nil, nil, err
	}
	area := make([]int32, n)
	for _, l := range coreLabels {
		area[l]++
	}
	regions, labels := s.grower.grow(diff, lo, coreLabels, area, w, h)
	thrLo, err := s.thrLo.DataPtrUint8()
	if err != nil {
		return nil, nil, err
	}
	if regions, err = s.splitter.splitOversize(regions, labels, int32(n), diff, thr, thrLo, w, h); err != nil {
		return nil, nil, err
	}
	if s.opt.Ridges {
		next := int32(n)
		for _, r := range regions {
			next = max(next, r.label+1)
		}
		if regions, err = s.ridges.find(s.gray, labels, regions, next, w, h); err != nil {
			return nil, nil, fmt.Errorf("ridges: %w", err)
		}
	}
	return regions, labels, nil
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
	s.illum.estimate(s.gray, &s.bg)
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
// the share of a row or column above the threshold that marks it as one. An enlarged
// frame (a 320x240 camera's frame saved at four times its size) carries its camera's
// edge lines enlarged as well, so a band of such rows that goes on from the edge is
// followed inward up to edgeBandShare of the frame's shorter side (never fewer than
// edgeLines rows: 3 at 320x240, 13 at four times that).
const (
	edgeLines     = 3
	edgeLineShare = 0.25
	edgeBandShare = 1.0 / 72
)

// edgeDepth is how deep into a w x h frame's sides the edge lines are looked for.
func edgeDepth(w, h int) int { return max(edgeLines, int(float64(min(w, h))*edgeBandShare)) }

// clearEdgeLines blanks, in the object mask, the rows and columns at the frame edge that
// are above the threshold over most of their length. Cheap cameras often deliver a dark or
// bright first row or column (the ESP32 bench camera's top row is 25% darker than the
// next); left in, it joins every cell near that edge into one frame-wide object. Blanking
// a row costs a real object lying along the edge one row of pixels, no more. The first
// edgeLines rows are each judged on their own; deeper ones only while the band of such
// rows from the edge is unbroken.
func clearEdgeLines(mask []uint8, w, h int) {
	share := func(n, of int) bool { return float64(n) > edgeLineShare*float64(of) }
	row := func(y int) bool {
		n := 0
		for _, v := range mask[y*w : (y+1)*w] {
			if v != 0 {
				n++
			}
		}
		if !share(n, w) {
			return false
		}
		clear(mask[y*w : (y+1)*w])
		return true
	}
	col := func(x int) bool {
		n := 0
		for y := 0; y < h; y++ {
			if mask[y*w+x] != 0 {
				n++
			}
		}
		if !share(n, h) {
			return false
		}
		for y := 0; y < h; y++ {
			mask[y*w+x] = 0
		}
		return true
	}
	depth := edgeDepth(w, h)
	fromEdges(h, depth, row)
	fromEdges(w, depth, col)
}

// fromEdges calls line on the lines of a side of n pixels from each edge inward: on the
// first edgeLines of each edge, then on deeper ones up to depth while line keeps
// reporting one it cleared.
func fromEdges(n, depth int, line func(i int) bool) {
	depth = min(depth, n/2)
	for _, inward := range []func(i int) int{func(i int) int { return i }, func(i int) int { return n - 1 - i }} {
		band := true
		for i := 0; i < depth; i++ {
			if i >= edgeLines && !band {
				break
			}
			band = line(inward(i)) && band
		}
	}
}

// edgeSliver reports a box that hugs one edge of the frame (within the edge lines' depth
// of it), at most that depth plus one pixels thick and four times as long: a piece of a
// sensor's edge line (of an enlarged frame's, the part of its band under the share that
// clears a whole row), or a sliver of a cell that is out of the frame and cannot be
// measured or counted anyway.
func edgeSliver(b image.Rectangle, w, h int) bool {
	d := edgeDepth(w, h)
	switch {
	case (b.Min.Y <= d || b.Max.Y >= h-d) && b.Dy() <= d+1 && b.Dx() >= 4*b.Dy():
		return true
	case (b.Min.X <= d || b.Max.X >= w-d) && b.Dx() <= d+1 && b.Dy() >= 4*b.Dx():
		return true
	}
	return false
}

// replaceMat closes old and returns m.
func replaceMat(old, m gocv.Mat) gocv.Mat {
	if old.Ptr() != nil {
		old.Close()
	}
	return m
}
