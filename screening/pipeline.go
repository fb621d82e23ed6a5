package screening

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/phytoscreen/phytoscreen/vision"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
)

// Segmenter finds the objects of a frame and tracks them across frames, marking the
// first sighting of each cell New (an object with Track < 0 is untracked: it is its own
// cell). It must not close the frame's Mat (the pipeline does). *vision.Segmenter
// implements it.
type Segmenter interface {
	Process(f capture.Frame) ([]vision.Object, error)
}

// frameInformer is a segmenter that tells about each frame as a whole (vision.Segmenter:
// its focus, a new field).
type frameInformer interface{ Frame() vision.FrameInfo }

// Classifier is what the pipeline needs of an inference.Classifier.
type Classifier interface {
	Classify(ctx context.Context, crops []*image.Gray) ([]inference.Result, error)
	Variant() inference.Variant
	BatchSize() int
}

// colourClassifier is a classifier whose pack may take colour crops
// (inference.Classifier).
type colourClassifier interface {
	// ColourInput says whether the pack takes colour crops.
	ColourInput() bool
	// ClassifyImages classifies crops of any colour model (a gray one is replicated
	// into the channels of a colour pack).
	ClassifyImages(ctx context.Context, crops []image.Image) ([]inference.Result, error)
}

// takesColour says whether c wants colour crops.
func takesColour(c Classifier) bool {
	cc, ok := c.(colourClassifier)
	return ok && cc.ColourInput()
}

// What the pipeline uses of a classifier or a source when it has it.
type (
	// threadCounter is a classifier that says how many threads it uses.
	threadCounter interface{ Threads() int }
	// liveSource is implemented by sources that produce frames at their own pace (a
	// camera): frames they produce while the pipeline is busy are dropped, not queued.
	liveSource interface{ Live() bool }
)

// DropPolicy says when frames may be dropped ahead of segmentation.
type DropPolicy int

// Drop policies.
const (
	// DropWhenLive drops frames only from a live source (one whose Live method reports
	// true): a file is read at the pipeline's pace and nothing is lost.
	DropWhenLive DropPolicy = iota
	// NeverDrop always waits for the pipeline.
	NeverDrop
	// AlwaysDrop treats the source as live.
	AlwaysDrop
)

// Sink receives what a run produces, in order, from one goroutine: a session store.
// An error stops the run (its tallies stay complete), since results that cannot be
// kept should not silently pile up.
type Sink interface {
	Objects(recs []ObjectRecord) error
	Event(e alerts.Event) error
	Perf(p PerfSample) error
	// SourceEvent keeps an event of the source: a camera lost, or reconnected.
	SourceEvent(e SourceEvent) error
	// Frames keeps what the segmenter found out about frames (their focus).
	Frames(recs []FrameRecord) error
}

// FramesSink is a Sink that keeps a batch's cells and the records of the frames they
// complete as one write: a process killed between two writes kept cells whose frames it
// had not recorded, and a run taking it up read those frames again (helper-45).
type FramesSink interface {
	ObjectsWithFrames(recs []ObjectRecord, frames []FrameRecord) error
}

// FrameRecord is what the segmenter found out about one frame as a whole.
type FrameRecord struct {
	Time   time.Time
	Index  int
	Source string // the frame's file, or the stream
	// Focus is the frame's sharpness (vision.FrameInfo); OutOfFocus marks a frame well
	// under the sharpest of its field, Held one whose new cells waited for a sharper
	// frame. NewField says the stage moved to another field.
	Focus      float64
	OutOfFocus bool
	Held       bool
	NewField   bool
	Objects    int
	Oversize   int // objects over vision.MaxShare of the frame, kept whole
	// Crowded marks a frame mostly covered by objects (no background to segment
	// against); its oversize objects were withheld, not counted.
	Crowded bool
}

// frameFlushAt is how many frame records may wait for the next classification batch
// before they are handed to the sink on their own (a stream without cells).
const frameFlushAt = 256

// ObjectRecord is one counted cell: the segmented object and its classification.
type ObjectRecord struct {
	Seq  int       // 1-based order of the cell in the run
	Time time.Time // the frame's time
	vision.Object
	Label    string                 // top label; "" when classification failed
	Prob     float32                // its probability
	Top      []inference.Prediction // best labels, best first
	Variant  inference.Variant      // model that classified it
	Category string                 // Label, Unidentified (below threshold) or "" (failed)
	Err      string                 // why classification failed
}

// PerfSample is the cost of one classification batch.
type PerfSample struct {
	Time     time.Time
	Variant  inference.Variant
	Cells    int
	Duration time.Duration // wall time of the batch, preprocessing and inference
	Failed   bool
}

// Config is what a pipeline runs on. Source, Segmenter, Classifier and Taxonomy are
// required.
type Config struct {
	Source     capture.Source
	Segmenter  Segmenter
	Classifier Classifier
	Taxonomy   *Taxonomy
	Sample     Sample
	// Threshold is the confidence threshold: cells whose top probability is below it
	// are counted as Unidentified (default 0: every cell counted under its top label).
	Threshold float64
	// Finder names how the segmenter finds objects (vision.Options.Finder), for the
	// snapshot: counts made by different finders do not add up.
	Finder string
	// Rules are the alert rules bound to the pack's labels; Hysteresis their clearing
	// margin, a fraction of the threshold (0: alerts.DefaultHysteresis).
	Rules      []alerts.Bound
	Hysteresis float64
	Sink       Sink
	Drop       DropPolicy
	// FrameQueue is how many frames may wait for segmentation (default 2); CellQueue how
	// many cells may wait for classification (default 4 batches).
	FrameQueue, CellQueue int
	// OnFrame, when set, is called after each frame is segmented, before its Mat is
	// closed, from the segmentation goroutine: copy what you need and return quickly.
	OnFrame func(f capture.Frame, objects []vision.Object)
	Logger  *slog.Logger
	// Expected, when set, says how many frames the source holds (0: not known, a
	// camera). While such a run reads, its concentrations are on the share of
	// Sample.VolumeML read so far, and levels are entered on the interval's lower bound
	// (alerts.Measure.Provisional): a folder's alert shows as soon as the frames read
	// make it certain, not only at the end, and a few cells in the first frames' tiny
	// volume raise nothing. SetExamined ends it.
	Expected func() int
}

// Pipeline runs source -> segmentation -> batched classification -> tallies, with
// bounded queues between concurrent stages. Create it with New, run it once with Run;
// Snapshot, Updates and the Set methods may be called from any goroutine meanwhile.
type Pipeline struct {
	cfg  Config
	log  *slog.Logger
	live bool

	mu       sync.Mutex // guards everything below
	version  uint64
	started  time.Time
	ended    time.Time
	running  bool
	frames   FrameStats
	examined Examined // Fraction 1 until SetExamined says otherwise
	// waiting holds, for each segmented frame not yet wholly counted, in order, how many
	// of its new cells wait for the classifier (ok false: a frame that failed, which adds
	// no volume); counted is the frames whose cells are all counted. Cells are classified
	// in the order they were found, so the front empties first. The volume read so far is
	// these frames', not the segmented ones': their cells' labels are not in the counts yet.
	waiting  []frameCells
	counted  int
	objects  int
	tally    *tally
	eval     *alerts.Evaluator
	events   []alerts.Event
	last     FrameView
	tracks   map[trackKey]trackState
	runErr   error
	batchDur time.Duration // total classification time
	sinkErr  error
	// pendingEvents are level changes made outside the classification goroutine (by
	// SetThreshold), handed to the sink with the next batch so the sink has one writer.
	pendingEvents []alerts.Event
	// gaps are the times the source gave no frames (SourceStatus); pendingSource the
	// source events not yet handed to the sink, which the classification goroutine does.
	gaps          []Gap
	pendingSource []SourceEvent
	// pendingFrames are the frame records not yet handed to the sink, in order: the
	// first is the noted-th frame noted less len(pendingFrames) plus one. A record is
	// handed over only once every new cell of its frame has been classified and handed
	// over: a program killed between the two must not store a frame (and its volume)
	// whose cells it never stored (helper-39: Ctrl+C counted 8 frames' volume whose 42
	// cells were lost, and the concentrations read low). frameFlushAsked says a flush job
	// is on its way to the classifier's goroutine.
	pendingFrames   []FrameRecord
	noted           int
	frameFlushAsked bool

	updates chan struct{}
	closed  bool // updates is closed
	// stopAsked records a Stop, also one that comes before Run.
	stopAsked bool
	ran       atomic.Bool
	stopRead  context.CancelFunc
}

// frameCells is a segmented frame's new cells still waiting for the classifier.
type frameCells struct {
	cells int
	ok    bool
}

// frameFoundLocked notes a segmented frame and its new cells (ok false: it failed), and
// reports whether frames were thereby counted.
func (p *Pipeline) frameFoundLocked(cells int, ok bool) bool {
	before := p.counted
	p.waiting = append(p.waiting, frameCells{cells, ok})
	p.cellsCountedLocked(0)
	return p.counted != before
}

// cellsCountedLocked takes n cells counted off the oldest frames and moves the frames
// left with none into counted.
func (p *Pipeline) cellsCountedLocked(n int) {
	for len(p.waiting) > 0 {
		f := &p.waiting[0]
		take := min(n, f.cells)
		f.cells -= take
		n -= take
		if f.cells > 0 {
			return
		}
		if f.ok {
			p.counted++
		}
		p.waiting = p.waiting[1:]
	}
}

// trackState is what is known of a tracked cell: pending, failed or classified (then
// its top label and probability; whether it is identified depends on the threshold).
type trackState struct {
	state    string // StatePending, StateFailed or stateClassified
	label    string
	prob     float32
	lastSeen int
}

const stateClassified = "classified"

// trackKey identifies a cell across frames: its track, or for an untracked object
// (Track < 0) its frame and index.
type trackKey struct{ track, frame, id int }

func keyOf(o vision.Object) trackKey {
	if o.Track >= 0 {
		return trackKey{track: o.Track}
	}
	return trackKey{track: -1, frame: o.Frame, id: o.ID}
}

// overlay fills an overlay's state from a track under the current threshold.
func (p *Pipeline) overlayLocked(ov *Overlay, ts trackState) {
	ov.State, ov.Label, ov.Prob, ov.Name = ts.state, "", 0, ""
	if ts.state != stateClassified {
		return
	}
	ov.Prob = ts.prob
	ov.State, ov.Label = StateIdentified, ts.label
	if !p.tally.identified(ts.prob) {
		ov.State, ov.Label = StateUnidentified, Unidentified
	}
	ov.Name = p.cfg.Taxonomy.Name(ov.Label)
}

// New checks cfg and returns a pipeline ready to Run.
func New(cfg Config) (*Pipeline, error) {
	switch {
	case cfg.Source == nil:
		return nil, errors.New("screening: no source")
	case cfg.Segmenter == nil:
		return nil, errors.New("screening: no segmenter")
	case cfg.Classifier == nil:
		return nil, errors.New("screening: no classifier")
	case cfg.Taxonomy == nil:
		return nil, errors.New("screening: no taxonomy")
	}
	if err := cfg.Sample.Validate(); err != nil {
		return nil, fmt.Errorf("sample: %w", err)
	}
	if err := checkThreshold(cfg.Threshold); err != nil {
		return nil, err
	}
	if cfg.Hysteresis == 0 {
		cfg.Hysteresis = alerts.DefaultHysteresis
	}
	if cfg.FrameQueue <= 0 {
		cfg.FrameQueue = 2
	}
	if cfg.CellQueue <= 0 {
		cfg.CellQueue = 4 * max(1, cfg.Classifier.BatchSize())
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	p := &Pipeline{
		cfg:     cfg,
		log:     cfg.Logger,
		tally:   newTally(cfg.Taxonomy.Taxa, cfg.Threshold),
		eval:    alerts.NewEvaluator(cfg.Rules, cfg.Hysteresis),
		tracks:  map[trackKey]trackState{},
		updates: make(chan struct{}, 1),
	}
	p.examined = Examined{Fraction: 1, DeclaredML: cfg.Sample.VolumeML}
	switch cfg.Drop {
	case AlwaysDrop:
		p.live = true
	case DropWhenLive:
		if l, ok := cfg.Source.(liveSource); ok {
			p.live = l.Live()
		}
	}
	return p, nil
}

func checkThreshold(th float64) error {
	if !(th >= 0 && th <= 1) {
		return fmt.Errorf("confidence threshold %v: give a probability from 0 to 1 (0.5 counts a cell under its top label when the model gives it at least 50%%)", th)
	}
	return nil
}

// Updates returns a channel that receives a signal (coalesced: at most one waits) after
// every change; it is closed when Run returns. A GUI reads Snapshot when it fires.
func (p *Pipeline) Updates() <-chan struct{} { return p.updates }

func (p *Pipeline) changed() {
	p.version++
	if p.closed {
		return
	}
	select {
	case p.updates <- struct{}{}:
	default:
	}
}

// SetThreshold changes the confidence threshold. Cells already classified are recounted
// under it and the alerts re-evaluated, so the tallies always follow one threshold.
func (p *Pipeline) SetThreshold(th float64) error {
	if err := checkThreshold(th); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tally.setThreshold(th)
	p.refreshOverlaysLocked()
	events := p.evaluateLocked(time.Now())
	p.changed()
	p.pendingEvents = append(p.pendingEvents, events...)
	return nil
}

// stopped reports whether Stop was called.
func (p *Pipeline) stopped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopAsked
}

// SetExamined records how much of the source the ended run examined. When it was less
// than the whole (Fraction < 1), the sample's volume becomes the share examined, so the
// concentrations and the alerts are on what was seen; the alerts are re-evaluated.
func (p *Pipeline) SetExamined(e Examined) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e.DeclaredML = p.examined.DeclaredML
	p.examined = e
	p.cfg.Expected = nil // the volume is now the run's, no longer the share read so far
	if e.Fraction > 0 && e.Fraction < 1 {
		p.cfg.Sample.VolumeML = e.DeclaredML * e.Fraction
	}
	p.pendingEvents = append(p.pendingEvents, p.evaluateLocked(time.Now())...)
	p.changed()
}

// sampleSoFarLocked is the sample with the volume the run has counted so far (the frames
// whose cells are all in the counts), and whether that is a share of the whole still
// being read (Config.Expected). Before the first frame, or from a source of unknown
// length, it is the sample as given.
func (p *Pipeline) sampleSoFarLocked() (Sample, bool) {
	sm := p.cfg.Sample
	if p.cfg.Expected == nil {
		return sm, false
	}
	n, read := p.cfg.Expected(), p.counted
	if n <= 0 || read <= 0 || read >= n {
		return sm, false
	}
	sm.VolumeML *= float64(read) / float64(n)
	return sm, true
}

// Stop ends reading from the source; what was already read is still segmented and
// classified, and Run then returns. It is the same as cancelling Run's context.
func (p *Pipeline) Stop() {
	p.mu.Lock()
	stop := p.stopRead
	p.stopAsked = true
	p.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// cellJob is a cell on its way to the classifier.
type cellJob struct {
	idx  int // index in the tally
	time time.Time
	obj  vision.Object
	// flush asks the classifier's goroutine, which feeds the sink, to hand it the
	// waiting frame records (no cell).
	flush bool
	// frames is how many frame records had been noted when the job was queued, less
	// one when the job's frame still has cells queued after it: the records a batch
	// ending with the job (or the flush) may hand over.
	frames int
}

// Run screens until the source ends, ctx is cancelled or Stop is called, then returns the
// final snapshot. Cancelling stops the reading only: frames already read are segmented
// and every cell found is classified and counted, so the final tallies are complete.
// The error is the source's, the sink's or a setup error; the snapshot is valid anyway.
func (p *Pipeline) Run(ctx context.Context) (Snapshot, error) {
	if !p.ran.CompareAndSwap(false, true) {
		return p.Snapshot(), errors.New("screening: a pipeline runs once; make a new one")
	}
	readCtx, stopRead := context.WithCancel(ctx)
	defer stopRead()
	p.mu.Lock()
	p.started, p.running, p.stopRead = time.Now(), true, stopRead
	if p.stopAsked { // Stop came before Run: read nothing
		stopRead()
	}
	p.mu.Unlock()

	frames := make(chan capture.Frame, p.cfg.FrameQueue)
	cells := make(chan cellJob, p.cfg.CellQueue)
	var wg sync.WaitGroup
	var srcErr error
	wg.Go(func() { srcErr = p.read(readCtx, frames) })
	wg.Go(func() { p.segment(frames, cells) })
	// Classification is not cancelled: it drains every cell found (bounded by the queues).
	p.classify(context.WithoutCancel(ctx), cells)
	wg.Wait()
	p.flushPendingEvents()

	p.mu.Lock()
	p.running, p.ended = false, time.Now()
	err := errors.Join(srcErr, p.sinkErr)
	p.runErr = err
	p.changed()
	p.closed = true
	close(p.updates)
	p.mu.Unlock()
	return p.Snapshot(), err
}

// read pulls frames from the source until it ends or ctx is done.
func (p *Pipeline) read(ctx context.Context, frames chan<- capture.Frame) error {
	defer close(frames)
	for {
		if ctx.Err() != nil { // Stop (even one before Run): read no further frame
			return nil
		}
		f, err := p.cfg.Source.Next(ctx)
		if err != nil {
			if errors.Is(err, io.EOF) || ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("source %s: %w", p.cfg.Source.Name(), err)
		}
		p.mu.Lock()
		p.frames.Seen++
		p.mu.Unlock()
		if p.live {
			select {
			case frames <- f:
			default: // the pipeline is behind a live source: drop the whole frame, unsegmented
				f.Mat.Close()
				p.mu.Lock()
				p.frames.Dropped++
				p.changed()
				p.mu.Unlock()
			}
			continue
		}
		select {
		case frames <- f:
		case <-ctx.Done():
			f.Mat.Close()
			p.mu.Lock()
			p.frames.Seen-- // never reached the pipeline: as if not read
			p.mu.Unlock()
			return nil
		}
	}
}

// segment finds the objects of each frame and passes the new cells on. It never drops a
// cell: when classification is behind it waits, and the frame queue fills instead.
func (p *Pipeline) segment(frames <-chan capture.Frame, cells chan<- cellJob) {
	defer close(cells)
	for f := range frames {
		objs, err := p.cfg.Segmenter.Process(f)
		if err == nil && p.cfg.OnFrame != nil {
			p.cfg.OnFrame(f, objs)
		}
		size := image.Point{f.Mat.Cols(), f.Mat.Rows()}
		f.Mat.Close()
		p.mu.Lock()
		if err != nil {
			p.frames.Failed++
			switch {
			case errors.Is(err, vision.ErrBlankFrame):
				p.frames.Blank++
			case errors.Is(err, vision.ErrCrowdedFrame):
				// Its objects, oversize ones too, are in no export: not counted among
				// the oversize objects to check there (helper-74).
				p.frames.Crowded++
			}
			p.frames.Segmented++
			_ = p.frameFoundLocked(0, false) // adds no volume
			p.changed()
			p.mu.Unlock()
			p.log.Warn("segmentation failed; frame skipped", "source", f.Source, "frame", f.Index, "err", err)
			continue
		}
		p.frames.Segmented++
		p.objects += len(objs)
		var info *vision.FrameInfo
		if fi, ok := p.cfg.Segmenter.(frameInformer); ok {
			in := fi.Frame()
			info = &in
			p.noteFrameLocked(f, in)
		} else {
			// A segmenter that says nothing of its frames (one cell per image) has them
			// recorded all the same: a run cut off is measured, and a stopped one taken
			// up, by the frames it recorded (none were: a killed folder of cell images
			// kept 0 mL, and its continuation read it all again).
			p.recordFrameLocked(f, vision.FrameInfo{Objects: len(objs)})
		}
		var jobs []cellJob
		for _, o := range objs {
			if o.New {
				jobs = append(jobs, cellJob{idx: p.tally.add(ShapeCells(o.Cells, o.Parts), o.Length*o.UmPerPx, o.AreaUm2, o.Oversize, p.cfg.Finder == vision.FinderCellImages), time: f.Time, obj: o, frames: p.noted - 1})
				p.tracks[keyOf(o)] = trackState{state: StatePending, lastSeen: f.Index}
			} else if ts, ok := p.tracks[keyOf(o)]; ok {
				ts.lastSeen = f.Index
				p.tracks[keyOf(o)] = ts
			}
		}
		if len(jobs) > 0 {
			jobs[len(jobs)-1].frames = p.noted // its frame's last cell
		}
		// A frame counted without new cells still adds volume read: while a folder is
		// read, the levels follow it (the alert banner would keep an early, higher value
		// until the next cells were classified). The sink gets the changes with the next
		// batch or flush.
		levelsMoved := false
		if p.frameFoundLocked(len(jobs), true) && p.cfg.Expected != nil {
			evs := p.evaluateLocked(time.Now())
			p.pendingEvents = append(p.pendingEvents, evs...)
			levelsMoved = len(evs) > 0
		}
		p.pruneTracksLocked(f.Index)
		p.last = p.frameViewLocked(f, size, objs)
		if info != nil {
			p.last.Focus, p.last.OutOfFocus, p.last.Held = info.Focus, info.OutOfFocus, info.Held
		}
		if len(jobs) == 0 && (len(p.pendingFrames) >= frameFlushAt || levelsMoved) && !p.frameFlushAsked {
			p.frameFlushAsked = true
			jobs = append(jobs, cellJob{flush: true, frames: p.noted})
		}
		p.changed()
		p.mu.Unlock()
		for _, j := range jobs {
			cells <- j
		}
	}
}

// pruneTracksLocked forgets tracks not seen for a while, bounding memory on long runs.
func (p *Pipeline) pruneTracksLocked(frame int) {
	const keep, limit = 100, 4096
	if len(p.tracks) < limit {
		return
	}
	for id, ts := range p.tracks {
		if ts.lastSeen < frame-keep && ts.state != StatePending {
			delete(p.tracks, id)
		}
	}
}

func (p *Pipeline) frameViewLocked(f capture.Frame, size image.Point, objs []vision.Object) FrameView {
	v := FrameView{Index: f.Index, Source: f.Source, Time: f.Time, Size: size, Objects: make([]Overlay, len(objs))}
	for i, o := range objs {
		ov := Overlay{Box: o.Box, Track: o.Track, New: o.New, State: StatePending, key: keyOf(o)}
		if ts, ok := p.tracks[ov.key]; ok {
			p.overlayLocked(&ov, ts)
		}
		v.Objects[i] = ov
	}
	return v
}

// classify batches cells as they come: it takes what is queued, up to the batch size,
// so a full queue gives full batches and a trickle is not held back waiting for one.
func (p *Pipeline) classify(ctx context.Context, cells <-chan cellJob) {
	for first := range cells {
		if first.flush {
			p.flushPendingUpTo(first.frames)
			continue
		}
		batch := []cellJob{first}
		frames := first.frames
		size := max(1, p.cfg.Classifier.BatchSize())
	fill:
		for len(batch) < size {
			select {
			case j, ok := <-cells:
				if !ok {
					break fill
				}
				frames = max(frames, j.frames) // the batch hands the sink a flush's frames too
				if !j.flush {
					batch = append(batch, j)
				}
			default:
				break fill
			}
		}
		p.classifyBatch(ctx, batch, frames)
	}
}

// classifyBatch classifies a batch and hands the sink its objects with the first frames
// records (those whose cells are all classified by the end of the batch).
func (p *Pipeline) classifyBatch(ctx context.Context, batch []cellJob, frames int) {
	recs := make([]ObjectRecord, len(batch))
	var crops []*image.Gray
	var at []int // recs index of each crop
	for i, j := range batch {
		recs[i] = ObjectRecord{Seq: j.idx + 1, Time: j.time, Object: j.obj}
		if c := j.obj.Crop; c == nil || c.Rect.Empty() {
			recs[i].Err = "empty crop: the segmenter gave no pixels for this object"
			continue
		}
		crops = append(crops, j.obj.Crop)
		at = append(at, i)
	}
	t0 := time.Now()
	var results []inference.Result
	var err error
	if len(crops) > 0 {
		if cc, ok := p.cfg.Classifier.(colourClassifier); ok && cc.ColourInput() {
			// A colour pack: the colour crops, or the gray ones where the frame had none.
			imgs := make([]image.Image, len(at))
			for k, i := range at {
				imgs[k] = crops[k]
				if c := batch[i].obj.ColourCrop; c != nil {
					imgs[k] = c
				}
			}
			results, err = cc.ClassifyImages(ctx, imgs)
		} else {
			results, err = p.cfg.Classifier.Classify(ctx, crops)
		}
		if err == nil && len(results) != len(crops) {
			err = fmt.Errorf("classifier returned %d results for %d crops", len(results), len(crops))
		}
	}
	dur := time.Since(t0)
	// The model that ran, not the one chosen now: a switch during the batch would give
	// the batch's cost and cells to the other model.
	variant := p.cfg.Classifier.Variant()
	if len(results) > 0 && results[0].Variant != "" {
		variant = results[0].Variant
	}
	if err != nil {
		p.log.Warn("classification batch failed; its cells are recorded as failed", "cells", len(crops), "err", err)
	}
	for k, i := range at {
		if err != nil {
			recs[i].Err = err.Error()
			continue
		}
		r := results[k]
		best := r.Best()
		recs[i].Label, recs[i].Prob, recs[i].Top, recs[i].Variant = best.Label, best.Prob, r.Top, r.Variant
	}

	now := time.Now()
	p.mu.Lock()
	for i, j := range batch {
		rec := &recs[i]
		key := keyOf(j.obj)
		ts, seen := p.tracks[key]
		if rec.Err != "" {
			p.tally.set(j.idx, -1, 0)
			ts.state = StateFailed
		} else {
			x, ok := p.cfg.Taxonomy.Lookup(rec.Label)
			if !ok { // a classifier whose labels differ from the taxonomy's
				rec.Err = fmt.Sprintf("label %q is not in the taxonomy of pack %s", rec.Label, p.cfg.Taxonomy.Pack)
				p.tally.set(j.idx, -1, 0)
				ts.state = StateFailed
			} else {
				p.tally.set(j.idx, x.Index, rec.Prob)
				// The record carries the cells the tally counted for it (the taxon's
				// estimate from its calibrated size, one for a taxon counted in cells),
				// not the shape's guess alone: the stored objects, their export and the
				// report must add up to the cells the screen showed.
				rec.Cells = x.Cells(ShapeCells(j.obj.Cells, j.obj.Parts), j.obj.Length*j.obj.UmPerPx, j.obj.AreaUm2)
				rec.Category, ts.state, ts.label, ts.prob = rec.Label, stateClassified, rec.Label, rec.Prob
				if !p.tally.identified(rec.Prob) {
					rec.Category = Unidentified
				}
			}
		}
		if seen {
			p.tracks[key] = ts
		}
	}
	p.cellsCountedLocked(len(batch))
	p.refreshOverlaysLocked()
	p.batchDur += dur
	events := append(p.pendingEvents, p.evaluateLocked(now)...)
	p.pendingEvents = nil
	srcEvents := p.pendingSource
	p.pendingSource = nil
	frameRecs := p.takeFramesLocked(frames)
	p.changed()
	sinkOK := p.sinkErr == nil
	p.mu.Unlock()

	perf := PerfSample{Time: now, Variant: variant, Cells: len(crops), Duration: dur, Failed: err != nil}
	if p.cfg.Sink == nil || !sinkOK {
		return
	}
	var serr error
	for _, e := range srcEvents { // in the order they happened; each carries its time and frame
		serr = JoinErrors(serr, p.cfg.Sink.SourceEvent(e))
	}
	// The cells with, or else before, the records of their frames (see pendingFrames).
	if fs, ok := p.cfg.Sink.(FramesSink); ok {
		serr = JoinErrors(serr, fs.ObjectsWithFrames(recs, frameRecs))
	} else {
		serr = JoinErrors(serr, p.cfg.Sink.Objects(recs))
		if len(frameRecs) > 0 {
			serr = JoinErrors(serr, p.cfg.Sink.Frames(frameRecs))
		}
	}
	for _, e := range events {
		serr = JoinErrors(serr, p.cfg.Sink.Event(e))
	}
	if len(crops) > 0 {
		serr = JoinErrors(serr, p.cfg.Sink.Perf(perf))
	}
	if serr != nil {
		p.log.Error("session store failed: stopping the run (the counts so far stay complete)", "err", serr)
		p.mu.Lock()
		p.sinkErr = fmt.Errorf("session store: %w", serr)
		p.mu.Unlock()
		p.Stop()
	}
}

// noteFrameLocked counts what the segmenter said of a frame and queues its record.
func (p *Pipeline) noteFrameLocked(f capture.Frame, in vision.FrameInfo) {
	p.frames.Focus = in.Focus
	if in.OutOfFocus {
		p.frames.OutOfFocus++
	}
	if in.Held {
		p.frames.Held++
	}
	if in.NewField || p.frames.Fields == 0 {
		p.frames.Fields++
	}
	p.frames.Oversize += in.Oversize
	p.recordFrameLocked(f, in)
}

// recordFrameLocked queues a frame's record.
func (p *Pipeline) recordFrameLocked(f capture.Frame, in vision.FrameInfo) {
	p.noted++
	p.pendingFrames = append(p.pendingFrames, FrameRecord{Time: f.Time, Index: f.Index, Source: f.Source, Focus: in.Focus,
		OutOfFocus: in.OutOfFocus, Held: in.Held, NewField: in.NewField, Objects: in.Objects, Oversize: in.Oversize, Crowded: in.Crowded})
}

// takeFramesLocked takes the queued frame records of the first upTo frames noted
// (those not taken yet) off the queue and returns them.
func (p *Pipeline) takeFramesLocked(upTo int) []FrameRecord {
	first := p.noted - len(p.pendingFrames) // frames noted before the first queued
	n := min(max(upTo-first, 0), len(p.pendingFrames))
	recs := slices.Clone(p.pendingFrames[:n])
	p.pendingFrames = slices.Delete(p.pendingFrames, 0, n)
	p.frameFlushAsked = false
	return recs
}

// flushPendingEvents hands the sink the source events, every frame record and the
// level changes SetThreshold made after the last batch: at the end of a run, when
// every cell has been classified.
func (p *Pipeline) flushPendingEvents() {
	p.mu.Lock()
	upTo := p.noted
	p.mu.Unlock()
	p.flushPendingUpTo(upTo)
}

// flushPendingUpTo is flushPendingEvents with the records of the first upTo frames
// noted only (a flush job's: frames after it may have cells queued behind it).
func (p *Pipeline) flushPendingUpTo(upTo int) {
	p.mu.Lock()
	events, srcEvents := p.pendingEvents, p.pendingSource
	p.pendingEvents, p.pendingSource = nil, nil
	frameRecs := p.takeFramesLocked(upTo)
	ok := p.sinkErr == nil
	p.mu.Unlock()
	if p.cfg.Sink == nil || !ok {
		return
	}
	var err error
	for _, e := range srcEvents {
		err = JoinErrors(err, p.cfg.Sink.SourceEvent(e))
	}
	if len(frameRecs) > 0 {
		err = JoinErrors(err, p.cfg.Sink.Frames(frameRecs))
	}
	for _, e := range events {
		err = JoinErrors(err, p.cfg.Sink.Event(e))
	}
	if err != nil {
		p.mu.Lock()
		p.sinkErr = fmt.Errorf("session store: %w", err)
		p.mu.Unlock()
	}
}

// refreshOverlaysLocked updates the last frame's overlays with classifications that
// arrived after it was segmented.
func (p *Pipeline) refreshOverlaysLocked() {
	for i := range p.last.Objects {
		ov := &p.last.Objects[i]
		if ts, ok := p.tracks[ov.key]; ok {
			p.overlayLocked(ov, ts)
		}
	}
}

// evaluateLocked runs the alert rules on the current tallies; it returns and keeps the
// level changes.
func (p *Pipeline) evaluateLocked(now time.Time) []alerts.Event {
	sm, soFar := p.sampleSoFarLocked()
	early := soFar && sm.VolumeML < MinProvisionalShare*p.cfg.Sample.VolumeML
	update := p.eval.Update
	if p.closed {
		// The run has ended (SetExamined, or a threshold changed after): every count is
		// in, and the final figures alone decide the level.
		update = p.eval.Settle
	}
	var guessed map[string]Guess
	if !soFar {
		// What the review could make of the final figures (not while a folder is read:
		// a level there is entered on the interval's lower bound).
		guessed = p.tally.guessed(p.cfg.Taxonomy)
	}
	evs := update(now, func(labels []string) alerts.Measure {
		n, cells, oversize, unknown := p.tally.sum(p.cfg.Taxonomy, labels)
		m := RuleMeasure(sm.Concentration(n), cells)
		gn, gc := GuessedOf(guessed, labels)
		m = WithGuessed(m, sm, n, cells, gn, gc)
		if m.Cells > 0 {
			m.Oversize = oversize
		}
		m.CellsUnknown = unknown
		m.Provisional, m.Early = soFar, early
		if soFar {
			// What one object stands for in the whole volume given, not in the share read
			// so far: a volume too small to show a level below is said from the first
			// frame, not at the end after a run of "No alert" (helper-74).
			m.Limit = p.cfg.Sample.PerLFactor()
		}
		return m
	})
	p.events = append(p.events, evs...)
	return evs
}

// MinProvisionalShare is the share of a folder's or video's frames read before a level
// is entered on its counts while it is read (alerts.Measure.Early). By a tenth of the
// volume a lone cell's Poisson lower bound is 0.025 cells in that tenth: 1,265 cells/L
// on a 0.2 mL slide, under the count thresholds of every preset, where on the first of
// 400 frames it was 50,600. An alert the frames make certain still shows during the run:
// on the real Microcystis folder it showed at frame 75 of 96.
const MinProvisionalShare = 0.1

// ShapeCells is the cells an object's shape says it holds, the shape guess that
// Taxon.Cells takes: the segmenter's guess from the kind it told by shape alone
// (vision.Object.Cells), or the dark cores seen in the object (Parts) when they are
// more. The segmenter tells a kind without knowing the organism: a Microcystis colony
// with a ragged outline measures long and thin, a coiled Dolichospermum filament
// compact, and both read as one "cell", guessed at one cell, though 116 to 174 and 17
// to 19 cores show in them (helper-52). Once the classifier names a taxon counted in
// colonies, filaments or chains, its cores are its cells, at least; a taxon counted in
// cells counts one whatever its cores (Taxon.Cells). cells is the segmenter's guess
// (vision.Object.Cells, or a stored object's cells), parts its cores: the live run and
// a stored object's recount (app.ObjectCells) take the same rule.
func ShapeCells(cells float64, parts int) float64 {
	return max(cells, float64(parts))
}

// RuleMeasure is what an alert rule is evaluated on, from the concentration of the
// objects counted and the cells estimated in them: thresholds are in cells, so when the
// objects hold more cells than one each (colonies, filaments, chains), the concentration
// and its interval are scaled from objects to cells. The interval stays the objects'
// Poisson interval, scaled: the objects are what was sampled at random. The live run,
// History and the PDF report all measure a rule this way, so they agree.
func RuleMeasure(c Concentration, cells float64) alerts.Measure {
	m := alerts.Measure{Count: c.Count, PerL: c.PerL, Low: c.Low, High: c.High, Limit: c.Limit}
	if c.Count > 0 && cells > float64(c.Count) {
		k := cells / float64(c.Count)
		m.PerL, m.Low, m.High, m.Cells = k*c.PerL, k*c.Low, k*c.High, cells
	}
	return m
}

// Snapshot returns a copy of the run's state.
func (p *Pipeline) Snapshot() Snapshot {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := Snapshot{
		Version: p.version, Pack: p.cfg.Taxonomy.Pack, Variant: p.cfg.Classifier.Variant(),
		Finder: p.cfg.Finder, Started: p.started, Running: p.running, Frames: p.frames, Examined: p.examined,
		Events: slices.Clone(p.events), Alerts: p.eval.States(), Gaps: slices.Clone(p.gaps),
	}
	s.Sample, s.SoFar = p.sampleSoFarLocked()
	if t, ok := p.cfg.Classifier.(threadCounter); ok {
		s.Threads = t.Threads()
	}
	switch {
	case p.started.IsZero():
	case p.running:
		s.Elapsed = time.Since(p.started)
	default:
		s.Elapsed = p.ended.Sub(p.started)
	}
	if p.runErr != nil {
		s.Err = p.runErr.Error()
	}
	own, counted := RowLevels(s.Alerts)
	p.tally.fill(&s, p.cfg.Taxonomy, func(l string) alerts.Level { return own[l] }, func(id string) alerts.Level {
		lv := alerts.None
		for _, l := range p.cfg.Taxonomy.Members(id) {
			lv = max(lv, counted[l])
		}
		return lv
	})
	markUnchecked(&s, p.cfg.Taxonomy)
	s.Guessed = p.tally.guessed(p.cfg.Taxonomy)
	s.Cells.Objects = p.objects
	if secs := s.Elapsed.Seconds(); secs > 0 {
		s.Cells.PerSecond = float64(s.Cells.Found-s.Cells.Pending) / secs
	}
	s.LastFrame = p.last
	s.LastFrame.Objects = slices.Clone(p.last.Objects)
	return s
}

// markUnchecked sets Unchecked on the rows of s below their levels that a rule not
// checked in cells watches (UncheckedRows).
func markUnchecked(s *Snapshot, tax *Taxonomy) {
	own, counted := UncheckedRows(s.Alerts)
	for i := range s.Taxa {
		t := &s.Taxa[i]
		t.Unchecked = t.Level == alerts.None && own[t.Label]
	}
	for i := range s.Groups {
		g := &s.Groups[i]
		g.Unchecked = g.Level == alerts.None && slices.ContainsFunc(tax.Members(g.ID), func(l string) bool { return counted[l] })
	}
}

// drained reports whether every frame read so far is segmented (or dropped) and every
// cell found is classified: nothing is left of the run's work but what reading brings.
func (p *Pipeline) drained() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.frames.Seen == p.frames.Segmented+p.frames.Dropped && p.tally.pending == 0
}

// RowLevels are the levels a counts table shows, from the rules' states. own: a taxon's
// level from the rules that watch it alone; a rule that sums several taxa (a HAB group,
// "Cyanobacteria + Microcystis spp.") puts its level on the group's row, not on each
// member's, or a taxon at 900,000 cells/L showed Alert beside a level of 100 M cells/L
// (helper-38). counted: the highest level of any rule that counts the taxon, which
// gives a group's row its level.
func RowLevels(states []alerts.State) (own, counted map[string]alerts.Level) {
	own, counted = map[string]alerts.Level{}, map[string]alerts.Level{}
	for _, st := range states {
		for _, l := range st.Labels {
			counted[l] = max(counted[l], st.Level)
			if len(st.Labels) == 1 {
				own[l] = max(own[l], st.Level)
			}
		}
	}
	return own, counted
}

// UncheckedRows says which rows of a counts table read "unchecked" rather than blank:
// rows below their levels that a rule not checked watches (alerts.State.Unchecked:
// colonies in single-cell images, whose cells are unknown; none counted in a volume
// where one would reach the level). It places them as RowLevels
// places levels: own, a taxon's row by the rules on it alone; counted, the taxa that a
// group's rule counts, which mark their group's row. The app's table and `screen`'s
// share it, so both say Unchecked on the same rows (the CLI's column was blank).
func UncheckedRows(states []alerts.State) (own, counted map[string]bool) {
	// RowLevels places them: fed the unchecked states alone, a level it gives marks a row.
	var unchecked []alerts.State
	for _, st := range states {
		if st.Unchecked() {
			st.Level = alerts.Watch
			unchecked = append(unchecked, st)
		}
	}
	ownLv, countedLv := RowLevels(unchecked)
	own, counted = map[string]bool{}, map[string]bool{}
	for l := range ownLv {
		own[l] = true
	}
	for l := range countedLv {
		counted[l] = true
	}
	return own, counted
}

// JoinErrors joins errs like errors.Join, leaving out nil ones and any whose message is
// already part of one kept: a store that failed returns the same error to every write of
// a batch (and again when the run is finished), and one copy says all there is.
func JoinErrors(errs ...error) error {
	var kept []error
	for _, err := range errs {
		if err == nil {
			continue
		}
		msg, dup := err.Error(), false
		for i, k := range kept {
			switch km := k.Error(); {
			case strings.Contains(km, msg):
				dup = true
			case strings.Contains(msg, km):
				kept[i], dup = err, true // the longer message says more
			}
			if dup {
				break
			}
		}
		if !dup {
			kept = append(kept, err)
		}
	}
	return errors.Join(kept...)
}
