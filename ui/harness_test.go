package ui

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/vision"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"gocv.io/x/gocv"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
)

// The tests drive the real app and its widgets with Fyne's test driver. The app's
// goroutines (the run's bridge, loaders) reach the UI through runOnUI; here that queues
// the call and the test goroutine runs the queue: the test goroutine is the UI
// goroutine, so widgets are touched from one goroutine only, as in the real app, and the
// race detector can check it.

// uiQueue holds the calls the app's goroutines made for the UI goroutine. It never
// blocks the caller.
type uiQueue struct {
	mu    sync.Mutex
	calls []func()
	n     atomic.Int64 // calls run so far
}

func (q *uiQueue) push(f func()) {
	q.mu.Lock()
	q.calls = append(q.calls, f)
	q.mu.Unlock()
}

// runAll runs the queued calls (and those they queue) and reports whether any ran.
func (q *uiQueue) runAll() bool {
	ran := false
	for {
		q.mu.Lock()
		calls := q.calls
		q.calls = nil
		q.mu.Unlock()
		if len(calls) == 0 {
			return ran
		}
		for _, f := range calls {
			f()
			q.n.Add(1)
		}
		ran = true
	}
}

// harness is an app on the test driver with the built-in pack's taxonomy, a fake
// classifier, fake or real sources and a real session store in a temporary folder.
type harness struct {
	t     testing.TB
	fy    fyne.App
	a     *mainWindow
	q     *uiQueue
	clf   *fakeClassifier
	st    *store.Store
	src   *gatedSource // the source the next run opens, when a test sets it
	mu    sync.Mutex
	notes []*fyne.Notification
	// screenedBefore is what askScreenedBefore asked (confirmAgain), answered yes.
	screenedBefore []string
	opened         []string // specs opened
}

// defaultPack loads the built-in pack (labels and models' manifest only).
func defaultPack(t testing.TB) *inference.Pack {
	t.Helper()
	p, err := inference.LoadPack(assets.DefaultPack(), "built-in:"+assets.DefaultPackName)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type harnessOpt func(*app.Services)

func newHarness(t testing.TB, fy fyne.App, opts ...harnessOpt) *harness {
	t.Helper()
	return newHarnessLab(t, fy, nil, opts...)
}

// newHarnessLab is newHarness with a lab server (nil: none, as newHarness).
func newHarnessLab(t testing.TB, fy fyne.App, lab LabServer, opts ...harnessOpt) *harness {
	t.Helper()
	return newHarnessStore(t, fy, lab, filepath.Join(t.TempDir(), "sessions.db"), opts...)
}

// newHarnessStore is newHarnessLab on the session store at db (made when missing).
func newHarnessStore(t testing.TB, fy fyne.App, lab LabServer, db string, opts ...harnessOpt) *harness {
	t.Helper()
	if fy == nil {
		fy = test.NewTempApp(t)
	}
	pack := defaultPack(t)
	h := &harness{t: t, fy: fy, q: &uiQueue{}, clf: newFakeClassifier(pack.Labels)}
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	h.st = st
	svc := &app.Services{
		Pack: pack, Taxonomy: screening.DefaultTaxonomy(pack.Name, pack.Labels), Model: app.NewModel(h.clf), Store: st,
		Open: func(ctx context.Context, spec capture.Spec, s app.Settings, opt capture.OpenOptions) (capture.Source, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.opened = append(h.opened, spec.String())
			if h.src == nil {
				return nil, fmt.Errorf("source %s: no such file or folder (test)", spec)
			}
			src := h.src
			h.src = nil
			return src, nil
		},
		NewSegmenter: func(s app.Settings, spec capture.Spec) (screening.Segmenter, func(), error) {
			return &fakeSegmenter{}, func() {}, nil
		},
	}
	for _, o := range opts {
		o(svc)
	}
	if fy.Preferences().String(app.PrefReviewer) == "" {
		fy.Preferences().SetString(app.PrefReviewer, "Harness Reviewer") // labels need a reviewer
	}
	a, err := newApp(fy, svc, hooks{lab: lab, runOnUI: h.q.push, notify: func(n *fyne.Notification) {
		h.mu.Lock()
		h.notes = append(h.notes, n)
		h.mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	h.a = a
	// The tests' runs are of a video the fake Open replaces; the demo, which the app
	// fills in as a demo sample, is chosen by the tests about it.
	a.chooseSource(capture.Spec{Kind: capture.KindVideo, Path: "field.avi"})
	// ...screened as many samples: each time after the first, "screened before" is
	// asked and answered yes (TestScreenedBeforeAsked asks it for real).
	a.confirmAgain = func(title, msg, yes, no string, answer func(bool)) {
		h.mu.Lock()
		h.screenedBefore = append(h.screenedBefore, msg)
		h.mu.Unlock()
		answer(true)
	}
	t.Cleanup(h.shutdown)
	return h
}

// shutdown stops the app's goroutines, running the UI queue meanwhile, then closes the
// store.
func (h *harness) shutdown() {
	done := make(chan struct{})
	go func() {
		h.a.Shutdown()
		close(done)
	}()
	for {
		select {
		case <-done:
			h.q.runAll()
			_ = h.st.Close()
			return
		default:
			h.q.runAll()
			time.Sleep(time.Millisecond)
		}
	}
}

// pump runs the UI queue until cond holds, failing after timeout.
func (h *harness) pump(what string, timeout time.Duration, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		h.q.runAll()
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out after %v waiting for %s (status: %q)", timeout, what, h.a.status.Text)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitIdle pumps until the app has no run.
func (h *harness) waitIdle() {
	h.t.Helper()
	h.pump("the run to end", 20*time.Second, func() bool { return h.a.sess == nil })
}

func (h *harness) notifications() []*fyne.Notification {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*fyne.Notification(nil), h.notes...)
}

// startRun sets the sample panel and presses Start with src as the source.
func (h *harness) startRun(src *gatedSource, id string, volumeML float64) {
	h.t.Helper()
	h.mu.Lock()
	h.src = src
	h.mu.Unlock()
	h.a.sample.ID.SetText(id)
	h.a.sample.Volume.SetText(fmt.Sprint(volumeML))
	h.a.sample.Factor.SetText("1")
	test.Tap(h.a.sample.Start)
	h.pump("the run to start", 10*time.Second, func() bool { return h.a.sess != nil && h.a.runState.Text == "Running" })
}

// screenOneCellFrames screens frames frames of one cell each (label, at prob) into
// sample id, 1 mL, to the run's end.
func (h *harness) screenOneCellFrames(label string, prob float32, id string, frames int) {
	h.t.Helper()
	l := labelIndex(h.t, h.a.svc.Pack, label)
	src := newGatedSource(frames, func(int) []fakeCell { return []fakeCell{{l, prob}} })
	h.startRun(src, id, 1)
	src.release(frames)
	h.waitIdle()
}

// label index helper.
func labelIndex(t testing.TB, p *inference.Pack, label string) int {
	t.Helper()
	for i, l := range p.Labels {
		if l == label {
			return i
		}
	}
	t.Fatalf("pack has no label %s", label)
	return -1
}

// fakeCell is a cell the fake segmenter reports and the fake classifier recognises: the
// label index and probability are written into the crop's first pixels.
type fakeCell struct {
	label int
	prob  float32
}

// gatedSource yields frames of a BGR Mat when the test lets it: each token on gate lets
// one frame through. Frame k carries cells(k), written into the frame for the segmenter.
type gatedSource struct {
	w, h   int
	gate   chan struct{}
	cells  func(frame int) []fakeCell
	frames int // frames to give before io.EOF (0: until the context ends)
	i      int
	reads  atomic.Int32
}

func newGatedSource(frames int, cells func(int) []fakeCell) *gatedSource {
	return &gatedSource{w: 160, h: 120, gate: make(chan struct{}, 1000), cells: cells, frames: frames}
}

func (s *gatedSource) Name() string { return "gated" }
func (s *gatedSource) Close() error { return nil }

// release lets n frames through.
func (s *gatedSource) release(n int) {
	for range n {
		s.gate <- struct{}{}
	}
}

func (s *gatedSource) Next(ctx context.Context) (capture.Frame, error) {
	if s.frames > 0 && s.i >= s.frames {
		return capture.Frame{}, io.EOF
	}
	select {
	case <-s.gate:
	case <-ctx.Done():
		return capture.Frame{}, ctx.Err()
	}
	s.reads.Add(1)
	cells := s.cells(s.i)
	// A gray-blue field (B=200, G=180, R=160) with one byte per cell in the first row:
	// label, probability in percent.
	buf := make([]byte, s.w*s.h*3)
	for p := 0; p < s.w*s.h; p++ {
		buf[3*p], buf[3*p+1], buf[3*p+2] = 200, 180, 160
	}
	buf[0] = byte(len(cells))
	for k, c := range cells {
		buf[3+6*k], buf[3+6*k+1] = byte(c.label), byte(c.prob*100)
	}
	m, err := gocv.NewMatFromBytes(s.h, s.w, gocv.MatTypeCV8UC3, buf)
	if err != nil {
		return capture.Frame{}, err
	}
	f := capture.Frame{Index: s.i, Time: time.Unix(1_700_000_000+int64(s.i), 0), Source: "gated", Mat: m}
	s.i++
	return f, nil
}

// fakeSegmenter reads the cells the gated source wrote into the frame: cell k is a 12x12
// box at (14k+2, 20), a new cell on every frame (a flow-through field).
type fakeSegmenter struct{}

func (fakeSegmenter) Process(f capture.Frame) ([]vision.Object, error) {
	pix, err := f.Mat.DataPtrUint8()
	if err != nil {
		return nil, err
	}
	n := int(pix[0])
	objs := make([]vision.Object, n)
	for k := range n {
		crop := image.NewGray(image.Rect(0, 0, 8, 8))
		crop.Pix[0], crop.Pix[1] = pix[3+6*k], pix[3+6*k+1]
		box := image.Rect(14*k+2, 20, 14*k+14, 32)
		objs[k] = vision.Object{Source: f.Source, Frame: f.Index, ID: k, Track: f.Index*100 + k, New: true, Box: box, CropBox: box,
			AreaPx: 144, Crop: crop}
	}
	return objs, nil
}

// fakeClassifier decodes the fake crops. It records the variant of every batch.
type fakeClassifier struct {
	labels   []string
	variant  atomic.Value
	threads  atomic.Int32
	batch    atomic.Int32
	mu       sync.Mutex
	variants []inference.Variant // one per crop classified
	failOpen error               // SetVariant fails with it
	delay    atomic.Int64        // each batch takes this long (ns): a slow model
	// anyCrop classifies real crops: label from the pixel sum, probability 0.9.
	anyCrop bool
	// hold, when set, is called before each batch with the batch's number (from 1): a
	// test holds the run at a batch of its choosing.
	hold    func(batch int)
	batches atomic.Int32
}

func newFakeClassifier(labels []string) *fakeClassifier {
	c := &fakeClassifier{labels: labels}
	c.variant.Store(inference.Optimised)
	c.threads.Store(2)
	c.batch.Store(4)
	return c
}

func (c *fakeClassifier) BatchSize() int             { return int(c.batch.Load()) }
func (c *fakeClassifier) SetBatch(n int)             { c.batch.Store(int32(n)) }
func (c *fakeClassifier) Variant() inference.Variant { return c.variant.Load().(inference.Variant) }
func (c *fakeClassifier) Threads() int               { return int(c.threads.Load()) }
func (c *fakeClassifier) SetThreads(n int) error {
	if n < 1 {
		return errors.New("threads must be at least 1")
	}
	c.threads.Store(int32(n))
	return nil
}
func (c *fakeClassifier) SetVariant(v inference.Variant) error {
	c.mu.Lock()
	err := c.failOpen
	c.mu.Unlock()
	if err != nil {
		return err
	}
	c.variant.Store(v)
	return nil
}

func (c *fakeClassifier) Classify(ctx context.Context, crops []*image.Gray) ([]inference.Result, error) {
	if n := int(c.batches.Add(1)); c.hold != nil {
		c.hold(n)
	}
	time.Sleep(time.Duration(c.delay.Load()))
	v := c.Variant()
	out := make([]inference.Result, len(crops))
	for i, g := range crops {
		l, p := int(g.Pix[0]), float32(g.Pix[1])/100
		if c.anyCrop {
			sum := 0
			for _, v := range g.Pix {
				sum += int(v)
			}
			l, p = sum%len(c.labels), 0.9
		}
		if l >= len(c.labels) {
			return nil, fmt.Errorf("crop %d: label %d out of range", i, l)
		}
		other := (l + 1) % len(c.labels)
		out[i] = inference.Result{Variant: v, Top: []inference.Prediction{{Index: l, Label: c.labels[l], Prob: p}, {Index: other, Label: c.labels[other], Prob: (1 - p) / 2}}}
	}
	c.mu.Lock()
	for range crops {
		c.variants = append(c.variants, v)
	}
	c.mu.Unlock()
	return out, nil
}

func (c *fakeClassifier) classified() []inference.Variant {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]inference.Variant(nil), c.variants...)
}
