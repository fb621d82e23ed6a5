package screening

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/power"
	"github.com/phytoscreen/phytoscreen/vision"
)

// RunInfo describes a run as it starts, for the session store.
type RunInfo struct {
	Sample    Sample
	Spec      capture.Spec // the source as the user named it
	Model     inference.Variant
	Threshold float64
	// Finder is how the run finds objects (vision.Options.Finder): a setting its counts
	// depend on, like the pack and the threshold.
	Finder   string
	Rules    string // the rules file or preset in use
	Taxonomy *Taxonomy
	// KeepApart lets a run whose pack, model or threshold differ from the sample's
	// earlier runs go into a companion sample (the ID with what differs: S-1~base,
	// S-1~t0.7) instead of being refused: counts made under other settings never add up
	// in one concentration.
	KeepApart bool
	// Expected is the frames the source holds (a folder's files, a video's frames; 0
	// when unknown, a camera): recorded as the run starts, so a run that never ends (the
	// program killed, the power cut) is known for the part of its frames it examined.
	Expected int
	// Digests, when not nil, are the fingerprints of the files the run reads, made as
	// the source opened (capture.FolderSource.Prescan): the store need not read them again.
	Digests []capture.FileDigest
	// Continues, when not 0, is the run this one takes up where it stopped: a folder's
	// run, whose files up to its last recorded frame's this run passes over (the source
	// was opened past them), into that run's sample. The store splits the volume given
	// between the two by files (store.Continuation).
	Continues int64
}

// RunStore is where sessions record their runs: the session store.
type RunStore interface {
	StartRun(ctx context.Context, info RunInfo) (RunRecorder, error)
}

// RunRecorder records one run: its objects, alerts and source events (Sink), its power
// record, and its end. store.Run implements it.
type RunRecorder interface {
	Sink
	Power(v inference.Variant, sp power.Span) error
	Finish(ctx context.Context, s Snapshot, runErr error) error
	// Discard removes a run that examined nothing (an empty source, a run stopped
	// before its first frame), and its sample when no other run holds it.
	Discard(ctx context.Context) error
	RunID() int64
	// SampleID is the sample the run went into: the one asked for, or its companion
	// when RunInfo.KeepApart put it there.
	SampleID() string
}

// SessionConfig is what a session screens and with what. Spec, Sample, Classifier and
// Taxonomy are required.
type SessionConfig struct {
	Spec      capture.Spec
	Sample    Sample
	Threshold float64
	Rules     alerts.Binding

	Classifier Classifier
	Taxonomy   *Taxonomy

	// Open opens the source; nil: capture.Open with OpenOptions.
	Open        func(ctx context.Context, spec capture.Spec, opt capture.OpenOptions) (capture.Source, error)
	OpenOptions capture.OpenOptions
	// Vision tunes the segmenter of frames (a folder of single-cell images needs none:
	// each image is one cell). NewSegmenter, when set, replaces it (tests).
	Vision       vision.Options
	NewSegmenter func(spec capture.Spec) (Segmenter, func(), error)

	// Store records the run; nil: nothing is recorded.
	Store RunStore
	// KeepApart: see RunInfo.
	KeepApart bool
	// Continue, when set, takes up a folder's run where it stopped: the session opens
	// the same folder past the files that run covered, into its sample.
	Continue *Continue
	// Screened, when set, is given the fingerprints of the files a new run's frames come
	// from (a folder's images, a video, an image; capture.FrameDigests) once the source
	// has opened and before anything is recorded; an error from it ends the opening.
	// The app asks there whether frames other samples hold, copies elsewhere included,
	// are to be screened as a new sample. A continuation and a camera are not given.
	Screened func(ctx context.Context, digests []capture.FileDigest) error
	// Meter measures the run's cost; nil: not measured. Its idle baseline is the
	// caller's to measure, before the run.
	Meter *power.Meter
	// PowerEvery is how often a stored run's power record takes a row (default 1 s).
	PowerEvery time.Duration

	// OnStatus receives the source's and the segmenter's events (a skipped file, a
	// camera lost and retried, a new field) to show them; the session records the
	// camera's gaps itself. Called from the reading goroutines.
	OnStatus func(capture.Status)
	// OnFrame is called after each frame is segmented, before its Mat is closed (the live
	// view copies what it shows); from the segmentation goroutine.
	OnFrame func(f capture.Frame, objects []vision.Object)
	Logger  *slog.Logger
}

// Session is one screening run from source to finish: it opens the source, the
// segmenter and the store's record, runs the pipeline, records the run's power and
// closes everything at the end. The app and the screen command are its clients.
// OpenSession prepares it, Run runs it once; the other methods may be called from any
// goroutine, also while it opens or after it ended.
type Session struct {
	cfg  SessionConfig
	log  *slog.Logger
	src  *capture.Pausable
	seg  Segmenter
	done func() // closes the segmenter
	rec  RunRecorder
	p    *Pipeline

	skipped    atomic.Int64 // files the source skipped (unreadable, not images, duplicates)
	duplicates atomic.Int64 // of skipped, the duplicates of a frame read before

	ended chan struct{}
	mu    sync.Mutex
	final Snapshot
	err   error
	cost  power.Snapshot

	pauseMu   sync.Mutex
	pauseWait context.CancelFunc // the wait for the frames read to be classified; nil when none
}

// OpenSession opens everything a run needs; nothing is read yet. What fails is closed
// again and reported with what to do. A camera can take a second to open: call it off a
// UI goroutine.
func OpenSession(ctx context.Context, cfg SessionConfig) (s *Session, err error) {
	switch {
	case cfg.Spec.IsZero():
		return nil, errors.New("screening: no source")
	case cfg.Classifier == nil:
		return nil, errors.New("screening: no classifier")
	case cfg.Taxonomy == nil:
		return nil, errors.New("screening: no taxonomy")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.PowerEvery <= 0 {
		cfg.PowerEvery = time.Second
	}
	s = &Session{cfg: cfg, log: cfg.Logger, ended: make(chan struct{})}
	var cleanup []func()
	defer func() {
		if err != nil {
			for i := len(cleanup) - 1; i >= 0; i-- {
				cleanup[i]()
			}
		}
	}()

	// A camera reports its gaps from its reading goroutine, and may report events while
	// it opens, before the pipeline exists to record them.
	onStatus := func(st capture.Status) {
		if cfg.OnStatus != nil {
			cfg.OnStatus(st)
		}
		if st.Kind == capture.StatusSkipped {
			s.skipped.Add(1)
			if dup := (*capture.DuplicateError)(nil); errors.As(st.Err, &dup) {
				s.duplicates.Add(1)
			}
		}
		s.mu.Lock()
		p := s.p
		s.mu.Unlock()
		if p != nil {
			p.SourceStatus(st)
		}
	}
	opt := cfg.OpenOptions
	opt.OnStatus = onStatus
	// A pack that takes colour gets colour crops; image files need their colour only
	// then or when the segmenter uses it.
	cfg.Vision.ColourCrops = takesColour(cfg.Classifier)
	opt.Gray = !cfg.Vision.Colour && !cfg.Vision.ColourCrops && cfg.Vision.Boxes == nil // a detector takes colour frames
	open := cfg.Open
	if open == nil {
		open = func(_ context.Context, spec capture.Spec, opt capture.OpenOptions) (capture.Source, error) {
			return capture.Open(spec, opt)
		}
	}
	src, err := open(ctx, cfg.Spec, opt)
	if err != nil {
		return nil, err
	}
	s.src = capture.NewPausable(src)
	cleanup = append(cleanup, func() { _ = src.Close() })
	// A folder's duplicate frames are known before the first is read: the run then knows
	// from the start how many frames it examines.
	var digests []capture.FileDigest
	if ps, ok := src.(interface {
		Prescan(context.Context) ([]capture.FileDigest, error)
	}); ok {
		if digests, err = ps.Prescan(ctx); err != nil {
			return nil, err
		}
	}
	if cfg.Screened != nil && cfg.Continue == nil {
		if digests == nil { // a video or an image: fingerprinted here, once for the store too
			if digests, err = capture.FrameDigests(ctx, cfg.Spec); err != nil {
				return nil, err
			}
		}
		if len(digests) > 0 {
			if err := cfg.Screened(ctx, digests); err != nil {
				return nil, err
			}
		}
	}
	var lastRead string // a continued run's last frame, whose field the new run is in
	if cfg.Continue != nil {
		if digests, lastRead, err = passCovered(src, cfg.Continue, &cfg.Sample, digests); err != nil {
			return nil, err
		}
		s.cfg.Sample = cfg.Sample
	}

	newSeg := cfg.NewSegmenter
	if newSeg == nil {
		newSeg = func(spec capture.Spec) (Segmenter, func(), error) { return newSegmenter(spec, cfg.Vision, onStatus) }
	}
	if s.seg, s.done, err = newSeg(cfg.Spec); err != nil {
		return nil, err
	}
	cleanup = append(cleanup, s.done)
	if lastRead != "" && cfg.Spec.Kind == capture.KindFolder {
		if err := primeSegmenter(ctx, s.seg, lastRead, opt); err != nil {
			return nil, fmt.Errorf("continue run %d: %w", cfg.Continue.Run, err)
		}
	}

	if cfg.Store != nil {
		s.rec, err = cfg.Store.StartRun(ctx, RunInfo{Sample: cfg.Sample, Spec: cfg.Spec, Model: cfg.Classifier.Variant(),
			Threshold: cfg.Threshold, Finder: finderOf(cfg), Rules: cfg.Rules.Name, Taxonomy: cfg.Taxonomy, KeepApart: cfg.KeepApart,
			Expected: s.src.Len(), Digests: digests, Continues: cfg.Continue.run()})
		if err != nil {
			return nil, err
		}
		cfg.Sample.ID = s.rec.SampleID()
		s.cfg.Sample.ID = cfg.Sample.ID
	}
	p, err := New(Config{Source: s.src, Segmenter: s.seg, Classifier: cfg.Classifier, Taxonomy: cfg.Taxonomy,
		Sample: cfg.Sample, Threshold: cfg.Threshold, Finder: finderOf(cfg), Rules: cfg.Rules.Bound, Hysteresis: cfg.Rules.Hysteresis(),
		Sink: sessionSink{rec: s.rec, meter: cfg.Meter}, Logger: cfg.Logger, OnFrame: s.onFrame, Expected: s.src.Len})
	if err != nil {
		if s.rec != nil {
			_ = s.rec.Discard(context.WithoutCancel(ctx))
		}
		return nil, err
	}
	s.mu.Lock()
	s.p = p
	s.mu.Unlock()
	return s, nil
}

// Continue takes up a stored run of a folder where it stopped (store.Continuation says
// where; the store checks it again as the new run starts).
type Continue struct {
	Run int64 // the run taken up
	// Locate places the run in the folder's files as the opened source lists them (in
	// reading order, duplicates left out): it returns the files that run and those it
	// took up covered, to pass over, and the volume given for the rest.
	Locate func(files []string) (skip int, volumeML float64, err error)
}

// run is the run taken up, or 0 for none.
func (c *Continue) run() int64 {
	if c == nil {
		return 0
	}
	return c.Run
}

// passCovered opens a continued run's folder past the files it covered: the source
// passes over them, the sample's volume becomes that of the files left, and only their
// fingerprints are returned for the store, with the last file passed over ("" when none).
func passCovered(src capture.Source, c *Continue, sm *Sample, digests []capture.FileDigest) ([]capture.FileDigest, string, error) {
	f, ok := src.(interface {
		Files() []string
		Pass(n int) error
	})
	if !ok {
		return nil, "", fmt.Errorf("continue run %d: its source %s is not a folder", c.Run, src.Name())
	}
	files := f.Files()
	skip, vol, err := c.Locate(files)
	if err != nil {
		return nil, "", err
	}
	if err := f.Pass(skip); err != nil {
		return nil, "", fmt.Errorf("continue run %d: %w", c.Run, err)
	}
	var last string
	if skip > 0 {
		last = files[skip-1]
	}
	rest := make(map[string]bool)
	for _, p := range f.Files() {
		rest[p] = true
	}
	kept := digests[:0:0]
	for _, d := range digests {
		if rest[d.Path] {
			kept = append(kept, d)
		}
	}
	sm.VolumeML = vol
	return kept, last, nil
}

// primeSegmenter shows the segmenter the last frame a continued run read, counting
// nothing: the frames of a slide's field are one field to it, its cells tracked and
// counted once, and without it the field in view when the run stopped would be a new
// one to the continuation and its cells counted again.
func primeSegmenter(ctx context.Context, seg Segmenter, path string, opt capture.OpenOptions) error {
	src, err := capture.Open(capture.Spec{Kind: capture.KindImage, Path: path}, capture.OpenOptions{Gray: opt.Gray, OnStatus: func(capture.Status) {}})
	if err != nil {
		return fmt.Errorf("read the last frame it read, whose field it takes up: %w", err)
	}
	defer src.Close()
	f, err := src.Next(ctx)
	if err != nil {
		return fmt.Errorf("read the last frame it read, whose field it takes up: %w", err)
	}
	defer f.Mat.Close()
	f.Index = -1 // before the run's first
	if _, err := seg.Process(f); err != nil {
		return fmt.Errorf("segment the last frame it read, whose field it takes up: %w", err)
	}
	return nil
}

// newSegmenter makes the segmenter a source needs: vision's for frames, one crop per
// image for a folder of single-cell images.
// finderOf names how a session finds its objects: each image of a folder of cells is
// one, frames are segmented as cfg.Vision says.
func finderOf(cfg SessionConfig) string {
	if cfg.Spec.Kind == capture.KindCells {
		return vision.FinderCellImages
	}
	return cfg.Vision.Finder()
}

func newSegmenter(spec capture.Spec, o vision.Options, onStatus func(capture.Status)) (Segmenter, func(), error) {
	if spec.Kind == capture.KindCells {
		return vision.CellImages{ColourCrops: o.ColourCrops}, func() {}, nil
	}
	o.OnStatus = onStatus
	seg, err := vision.NewSegmenter(o)
	if err != nil {
		return nil, nil, fmt.Errorf("segmenter: %w", err)
	}
	return seg, func() { _ = seg.Close() }, nil
}

func (s *Session) onFrame(f capture.Frame, objs []vision.Object) {
	if s.cfg.OnFrame != nil {
		s.cfg.OnFrame(f, objs)
	}
	if s.cfg.Meter != nil {
		s.cfg.Meter.ObserveFrame()
	}
}

// Run screens until the source ends, ctx is cancelled or Stop is called, then records
// the end, closes the source and the segmenter, and returns the final snapshot. The
// error is the source's, the store's or the pipeline's; the snapshot is valid anyway.
func (s *Session) Run(ctx context.Context) (Snapshot, error) {
	m := s.cfg.Meter
	spansDone := make(chan struct{})
	// The power record runs until the pipeline has drained, not until ctx ends: after
	// Ctrl+C the frames already read are still classified, and a record cut at the
	// interrupt gave the report 211 cells' joules where the run stored 294 (helper-54).
	spansCtx, stopSpans := context.WithCancel(context.WithoutCancel(ctx))
	if m != nil {
		m.Begin()
	}
	go func() {
		defer close(spansDone)
		if m == nil || s.rec == nil {
			return
		}
		// The run's power record: the energy and cells of every PowerEvery.
		m.RecordSpans(spansCtx, s.cfg.PowerEvery, func(sp power.Span) {
			if err := s.rec.Power(s.cfg.Classifier.Variant(), sp); err != nil {
				s.log.Warn("power record not stored", "err", err)
			}
		})
	}()
	final, runErr := s.p.Run(ctx)
	s.p.SetExamined(s.examined(ctx, final, runErr))
	s.p.flushPendingEvents() // the alerts re-evaluated on the volume examined
	final = s.p.Snapshot()
	stopSpans()
	<-spansDone
	var cost power.Snapshot
	if m != nil {
		cost = m.End()
	}
	s.done()
	if err := s.src.Close(); err != nil {
		s.log.Warn("closing the source", "source", s.cfg.Spec.String(), "err", err)
	}
	switch {
	case s.rec == nil:
	case final.Examined.Frames == 0: // an empty source, or stopped before a frame: nothing to keep
		if err := s.rec.Discard(context.WithoutCancel(ctx)); err != nil {
			runErr = JoinErrors(runErr, err)
		}
	default:
		if err := s.rec.Finish(context.WithoutCancel(ctx), final, runErr); err != nil {
			runErr = JoinErrors(runErr, err)
		}
	}
	s.mu.Lock()
	s.final, s.err, s.cost = final, runErr, cost
	s.mu.Unlock()
	close(s.ended)
	return final, runErr
}

// examined works out how much of the source the ended run examined. A folder knows its
// files and a video its frames; a video read to its end without error is whole even when
// its header's frame count was off by a few.
func (s *Session) examined(ctx context.Context, final Snapshot, runErr error) Examined {
	f := final.Frames
	e := Examined{
		Expected:    s.src.Len(),
		Frames:      max(0, f.Seen-f.Failed-f.Dropped),
		Skipped:     int(s.skipped.Load()),
		Duplicates:  int(s.duplicates.Load()),
		Interrupted: ctx.Err() != nil || s.p.stopped(),
		Fraction:    1,
	}
	if (s.cfg.Spec.Kind == capture.KindVideo || s.cfg.Spec.Kind == capture.KindDemo) && !e.Interrupted && runErr == nil {
		e.Expected = min(e.Expected, f.Seen)
	}
	if e.Expected == 0 {
		e.Interrupted = false // a camera stopped by the user is complete
		cameraShare(&e, f)
	}
	if e.Expected > 0 {
		e.Fraction = min(1, float64(e.Frames)/float64(e.Expected))
	}
	if e.Expected == 0 || e.Frames >= e.Expected {
		e.Interrupted = false // a camera stopped by the user, or a source read whole: complete
	}
	return e
}

// cameraShare gives a source of unknown length (a camera) the frames it streamed as its
// count when some were refused as blank or crowded: the volume given was viewed through
// all of them, and the cells of the refused ones were not counted, so the concentrations
// stand on the share examined, as a folder's do. Kept whole, a bloom's crowded frames and
// a lamp left off lowered a camera run's concentrations without a word (helper-74).
func cameraShare(e *Examined, f FrameStats) {
	if refused := f.Crowded + f.Blank; refused > 0 && e.Frames > 0 {
		e.Expected = e.Frames + refused
	}
}

// Stop ends reading; what was read is still classified and counted, then Run returns.
// A Stop before Run makes the run read nothing.
func (s *Session) Stop() {
	s.src.SetPaused(false)
	s.p.Stop()
}

// SetPaused pauses or resumes reading; the counts so far are kept, and the meter leaves
// the pause out of the run's figures.
func (s *Session) SetPaused(paused bool) {
	s.src.SetPaused(paused)
	m := s.cfg.Meter
	if m == nil {
		return
	}
	s.pauseMu.Lock()
	defer s.pauseMu.Unlock()
	if s.pauseWait != nil {
		s.pauseWait()
		s.pauseWait = nil
	}
	if !paused {
		m.SetPaused(false)
		return
	}
	// The meter pauses once the frames already read are classified, not at once: that
	// work is the run's, and paused at once the meter left both its joules and its cells
	// out of the run's energy (helper-38: "over 348 cells" for a sample of 431 objects).
	ctx, cancel := context.WithCancel(context.Background())
	s.pauseWait = cancel
	go whenDrained(ctx, s.ended, s.p.drained, func() {
		s.pauseMu.Lock()
		defer s.pauseMu.Unlock()
		if ctx.Err() == nil { // not resumed meanwhile
			m.SetPaused(true)
		}
	})
}

// whenDrained calls then once drained reports true, checking every 20 ms, unless ctx is
// cancelled (the run resumed) or ended is closed first.
func whenDrained(ctx context.Context, ended <-chan struct{}, drained func() bool, then func()) {
	for !drained() {
		select {
		case <-ctx.Done():
			return
		case <-ended:
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
	then()
}

// Paused reports whether reading is paused.
func (s *Session) Paused() bool { return s.src.Paused() }

// Updates signals every change (coalesced) and is closed when the run ends.
func (s *Session) Updates() <-chan struct{} { return s.p.Updates() }

// Snapshot returns the run's state now.
func (s *Session) Snapshot() Snapshot { return s.p.Snapshot() }

// SetThreshold changes the confidence threshold; the counts are recounted under it.
func (s *Session) SetThreshold(th float64) error { return s.p.SetThreshold(th) }

// Spec is the source the session screens.
func (s *Session) Spec() capture.Spec { return s.cfg.Spec }

// Sample is the sample the session screens.
func (s *Session) Sample() Sample { return s.cfg.Sample }

// Files is the number of files a folder source reads (for progress), 0 for a stream.
func (s *Session) Files() int {
	if !s.cfg.Spec.Files() {
		return 0
	}
	return s.src.Len()
}

// RunID is the store's number of the run, 0 when it is not stored.
func (s *Session) RunID() int64 {
	if s.rec == nil {
		return 0
	}
	return s.rec.RunID()
}

// Done is closed once Run has returned and the run is recorded.
func (s *Session) Done() <-chan struct{} { return s.ended }

// Result is the final snapshot, the run's error and what the run cost, once Done.
func (s *Session) Result() (Snapshot, error, power.Snapshot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.final, s.err, s.cost
}

// sessionSink hands the pipeline's output to the store's record and its batch costs to
// the meter: the one path of the performance figures.
type sessionSink struct {
	rec   RunRecorder
	meter *power.Meter
}

func (k sessionSink) Objects(recs []ObjectRecord) error {
	if k.rec == nil {
		return nil
	}
	return k.rec.Objects(recs)
}

func (k sessionSink) ObjectsWithFrames(recs []ObjectRecord, frames []FrameRecord) error {
	if k.rec == nil {
		return nil
	}
	if fs, ok := k.rec.(FramesSink); ok {
		return fs.ObjectsWithFrames(recs, frames)
	}
	if err := k.rec.Objects(recs); err != nil || len(frames) == 0 {
		return err
	}
	return k.rec.Frames(frames)
}

func (k sessionSink) Event(e alerts.Event) error {
	if k.rec == nil {
		return nil
	}
	return k.rec.Event(e)
}

func (k sessionSink) SourceEvent(e SourceEvent) error {
	if k.rec == nil {
		return nil
	}
	return k.rec.SourceEvent(e)
}

func (k sessionSink) Frames(recs []FrameRecord) error {
	if k.rec == nil {
		return nil
	}
	return k.rec.Frames(recs)
}

func (k sessionSink) Perf(p PerfSample) error {
	if k.meter != nil && !p.Failed {
		k.meter.Observe(power.Batch{Cells: p.Cells, Latency: p.Duration})
	}
	if k.rec == nil {
		return nil
	}
	return k.rec.Perf(p)
}
