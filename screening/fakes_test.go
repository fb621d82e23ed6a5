package screening

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/phytoscreen/phytoscreen/vision"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
	"gocv.io/x/gocv"
)

// fakeSource yields frames of a small gray Mat. n < 0: endless until ctx is done.
type fakeSource struct {
	n      int
	live   bool
	every  time.Duration // pace of a live source
	failAt int           // 1-based frame at which Next fails (0: never)
	i      int
	opened atomic.Int32 // Mats made and not yet closed by the source's reader
}

func (s *fakeSource) Name() string { return "fake" }
func (s *fakeSource) Live() bool   { return s.live }
func (s *fakeSource) Close() error { return nil }
func (s *fakeSource) Next(ctx context.Context) (capture.Frame, error) {
	if s.n >= 0 && s.i >= s.n {
		return capture.Frame{}, io.EOF
	}
	if s.every > 0 {
		select {
		case <-time.After(s.every):
		case <-ctx.Done():
			return capture.Frame{}, ctx.Err()
		}
	} else if err := ctx.Err(); err != nil {
		return capture.Frame{}, err
	}
	if s.failAt > 0 && s.i+1 == s.failAt {
		return capture.Frame{}, errors.New("camera unplugged")
	}
	f := capture.Frame{Index: s.i, Time: time.Unix(1700000000, 0).Add(time.Duration(s.i) * time.Second), Source: "fake", Mat: gocv.NewMatWithSize(8, 8, gocv.MatTypeCV8U)}
	s.i++
	return f, nil
}

// fakeCell describes a cell the fake segmenter reports: its label index in the pack and
// the probability the fake classifier will give it.
type fakeCell struct {
	label int
	prob  float32
}

// cropFor encodes a fake cell in a crop: pixel 0 is the label, pixel 1 the probability
// in percent.
func cropFor(c fakeCell) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, 4, 4))
	g.Pix[0], g.Pix[1] = uint8(c.label), uint8(c.prob*100)
	return g
}

// fakeSegmenter reports cells per frame: each frame shows `perFrame` cells; every
// `still` frames the field moves and all its cells are new.
type fakeSegmenter struct {
	cells    func(frame, k int) fakeCell
	perFrame int
	still    int // frames per field (1: every frame new)
	failAt   map[int]bool
	delay    time.Duration
	cellsOf  float64 // each object's estimated cells (vision.Object.Cells; 0: unset)
	oversize bool    // every object over a tenth of its frame (vision.Object.Oversize)
	mu       sync.Mutex
	newCount int
	frames   int
}

func (s *fakeSegmenter) Process(f capture.Frame) ([]vision.Object, error) {
	if s.delay > 0 {
		time.Sleep(s.delay)
	}
	if f.Mat.Empty() {
		return nil, errors.New("segmenter got a closed Mat")
	}
	if s.failAt[f.Index] {
		return nil, fmt.Errorf("frame %d: out of focus", f.Index)
	}
	still := max(1, s.still)
	field, first := f.Index/still, f.Index%still == 0
	objs := make([]vision.Object, s.perFrame)
	for k := range objs {
		c := s.cells(field, k)
		objs[k] = vision.Object{Source: f.Source, Frame: f.Index, ID: k, Track: field*1000 + k, New: first,
			Box: image.Rect(10*k, 0, 10*k+8, 8), Crop: cropFor(c), AreaPx: 50, Cells: s.cellsOf, Oversize: s.oversize}
	}
	s.mu.Lock()
	s.frames++
	if first {
		s.newCount += len(objs)
	}
	s.mu.Unlock()
	return objs, nil
}

// informedSegmenter is a fakeSegmenter that also tells about each frame as
// vision.Segmenter does: every fourth frame out of focus and held, a new field every
// still frames, and the frames of crowdedAt crowded, one oversize object withheld
// (refused, as vision.Segmenter refuses a crowded frame).
type informedSegmenter struct {
	*fakeSegmenter
	last      vision.FrameInfo
	crowdedAt map[int]bool
}

func (s *informedSegmenter) Process(f capture.Frame) ([]vision.Object, error) {
	objs, err := s.fakeSegmenter.Process(f)
	still := max(1, s.still)
	s.last = vision.FrameInfo{Index: f.Index, Objects: len(objs), Focus: 0.9, NewField: f.Index > 0 && f.Index%still == 0}
	if f.Index%4 == 3 {
		s.last.Focus, s.last.OutOfFocus, s.last.Held = 0.3, true, true
	}
	if s.crowdedAt[f.Index] {
		s.last.Oversize, s.last.Crowded, s.last.Withheld = 1, true, 1
		return nil, fmt.Errorf("frame %d: %w", f.Index, vision.ErrCrowdedFrame)
	}
	return objs, err
}

func (s *informedSegmenter) Frame() vision.FrameInfo { return s.last }

// fakeClassifier decodes cropFor crops.
type fakeClassifier struct {
	labels  []string
	batch   int
	delay   time.Duration
	failOn  map[int]bool // 1-based batch numbers that fail
	mu      sync.Mutex
	batches []int
	variant atomic.Value
	threads atomic.Int32
}

func newFakeClassifier(labels []string) *fakeClassifier {
	c := &fakeClassifier{labels: labels, batch: 4}
	c.variant.Store(inference.Optimised)
	c.threads.Store(2)
	return c
}

func (c *fakeClassifier) BatchSize() int             { return c.batch }
func (c *fakeClassifier) Variant() inference.Variant { return c.variant.Load().(inference.Variant) }
func (c *fakeClassifier) SetVariant(v inference.Variant) error {
	if v != inference.Base && v != inference.Optimised {
		return fmt.Errorf("no %s model", v)
	}
	c.variant.Store(v)
	return nil
}
func (c *fakeClassifier) Threads() int { return int(c.threads.Load()) }
func (c *fakeClassifier) SetThreads(n int) error {
	c.threads.Store(int32(n))
	return nil
}

func (c *fakeClassifier) Classify(ctx context.Context, crops []*image.Gray) ([]inference.Result, error) {
	c.mu.Lock()
	c.batches = append(c.batches, len(crops))
	n := len(c.batches)
	c.mu.Unlock()
	if len(crops) > c.batch {
		return nil, fmt.Errorf("batch of %d over the batch size %d", len(crops), c.batch)
	}
	v := c.Variant() // as the real one: the model chosen when the batch starts runs it
	if c.delay > 0 {
		time.Sleep(c.delay)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if c.failOn[n] {
		return nil, errors.New("run optimised model on 4 crops: onnxruntime: out of memory")
	}
	out := make([]inference.Result, len(crops))
	for i, g := range crops {
		l, p := int(g.Pix[0]), float32(g.Pix[1])/100
		out[i] = inference.Result{Variant: v, Top: []inference.Prediction{{Index: l, Label: c.labels[l], Prob: p}, {Index: (l + 1) % len(c.labels), Label: c.labels[(l+1)%len(c.labels)], Prob: (1 - p) / 2}}}
	}
	return out, nil
}

// memSink keeps what a run stores.
type memSink struct {
	mu      sync.Mutex
	objects []ObjectRecord
	events  []alerts.Event
	perf    []PerfSample
	source  []SourceEvent
	frames  []FrameRecord
	// frameCalls counts the Frames calls (frames reach the sink with a batch, or on
	// their own when no cell comes).
	frameCalls int
	failAt     int // fail the Objects call with this many objects stored already (0: never)
	// onFrames, when set, sees each Frames call with the objects stored before it.
	onFrames func(stored []ObjectRecord, recs []FrameRecord)
}

func (s *memSink) Objects(recs []ObjectRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failAt > 0 && len(s.objects) >= s.failAt {
		return errors.New("disk full")
	}
	s.objects = append(s.objects, recs...)
	return nil
}
func (s *memSink) Event(e alerts.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, e)
	return nil
}
func (s *memSink) Frames(recs []FrameRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.onFrames != nil {
		s.onFrames(s.objects, recs)
	}
	s.frames = append(s.frames, recs...)
	s.frameCalls++
	return nil
}
func (s *memSink) SourceEvent(e SourceEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.source = append(s.source, e)
	return nil
}
func (s *memSink) Perf(p PerfSample) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.perf = append(s.perf, p)
	return nil
}

// colourFake is a fakeClassifier whose pack takes colour: ClassifyImages decodes the
// cropFor pixels from a gray crop or from the red channel of a colour one, and counts
// the colour crops it got.
type colourFake struct {
	*fakeClassifier
	colourCrops int
}

func (c *colourFake) ColourInput() bool { return true }

func (c *colourFake) ClassifyImages(ctx context.Context, crops []image.Image) ([]inference.Result, error) {
	gray := make([]*image.Gray, len(crops))
	for i, im := range crops {
		switch m := im.(type) {
		case *image.Gray:
			gray[i] = m
		case *image.RGBA:
			c.colourCrops++
			g := image.NewGray(m.Rect)
			for j := range g.Pix {
				g.Pix[j] = m.Pix[4*j]
			}
			gray[i] = g
		default:
			return nil, fmt.Errorf("crop of type %T", im)
		}
	}
	return c.Classify(ctx, gray)
}

// colourSegmenter is a fakeSegmenter whose objects also have a colour crop (the cropFor
// pixels in its red channel).
type colourSegmenter struct{ *fakeSegmenter }

func (s colourSegmenter) Process(f capture.Frame) ([]vision.Object, error) {
	objs, err := s.fakeSegmenter.Process(f)
	for i := range objs {
		g := objs[i].Crop
		c := image.NewRGBA(g.Rect)
		for j, v := range g.Pix {
			c.Pix[4*j], c.Pix[4*j+3] = v, 255
		}
		objs[i].ColourCrop = c
	}
	return objs, err
}
