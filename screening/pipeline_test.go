package screening

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/vision"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
)

// quietLog keeps the tests' expected warnings (failed frames and batches) off the output.
var quietLog = slog.New(slog.DiscardHandler)

// fixture is a pipeline over fakes with the default pack's taxonomy.
type fixture struct {
	tx   *Taxonomy
	src  *fakeSource
	seg  *fakeSegmenter
	clf  *fakeClassifier
	sink *memSink
	cfg  Config
}

func idx(t testing.TB, tx *Taxonomy, label string) int {
	x, ok := tx.Lookup(label)
	if !ok {
		t.Fatalf("no label %s", label)
	}
	return x.Index
}

// newFixture: frames of 5 cells, a new field every 3 frames. Cells per field: two
// Noctiluca, a copepod, a Trichodesmium puff (all p=0.9) and a detritus at p=0.3.
func newFixture(t testing.TB, frames int) *fixture {
	p := defaultPack(t)
	tx := DefaultTaxonomy(p.Name, p.Labels)
	kinds := []fakeCell{
		{idx(t, tx, "protist_noctiluca"), 0.9},
		{idx(t, tx, "copepod_calanoid"), 0.9},
		{idx(t, tx, "trichodesmium_puff"), 0.9},
		{idx(t, tx, "protist_noctiluca"), 0.9},
		{idx(t, tx, "detritus_other"), 0.3},
	}
	f := &fixture{tx: tx, src: &fakeSource{n: frames}, clf: newFakeClassifier(p.Labels), sink: &memSink{}}
	f.seg = &fakeSegmenter{cells: func(_, k int) fakeCell { return kinds[k] }, perFrame: 5, still: 3}
	s := NewSample("S1")
	s.VolumeML = 2
	f.cfg = Config{Source: f.src, Segmenter: f.seg, Classifier: f.clf, Taxonomy: tx, Sample: s, Threshold: 0.5, Sink: f.sink, Logger: quietLog}
	return f
}

func (f *fixture) rules(t testing.TB, text string) {
	rs, err := alerts.Parse([]byte(text), "test.toml")
	if err != nil {
		t.Fatal(err)
	}
	bound, _ := rs.Bind(f.tx, f.tx.Pack)
	f.cfg.Rules, f.cfg.Hysteresis = bound, rs.Hysteresis
}

func (f *fixture) run(t testing.TB, ctx context.Context) (Snapshot, *Pipeline) {
	t.Helper()
	p, err := New(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := p.Run(ctx)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return s, p
}

func countOf(s Snapshot, label string) int {
	for _, x := range s.Taxa {
		if x.Label == label {
			return x.Count
		}
	}
	return 0
}

// checkComplete asserts the invariants of a finished run.
func checkComplete(t *testing.T, s Snapshot, sink *memSink) {
	t.Helper()
	c := s.Cells
	if c.Pending != 0 || c.Found != c.Identified+c.Unidentified+c.Failed {
		t.Errorf("incomplete tallies: %+v", c)
	}
	if s.Frames.Seen != s.Frames.Segmented+s.Frames.Dropped {
		t.Errorf("frames seen %d != segmented %d + dropped %d", s.Frames.Seen, s.Frames.Segmented, s.Frames.Dropped)
	}
	if sink != nil {
		sink.mu.Lock()
		defer sink.mu.Unlock()
		if len(sink.objects) != c.Found {
			t.Errorf("sink holds %d objects, %d cells were found", len(sink.objects), c.Found)
		}
		seen := map[int]bool{}
		for _, o := range sink.objects {
			if seen[o.Seq] || o.Seq < 1 || o.Seq > c.Found {
				t.Errorf("object seq %d repeated or out of range", o.Seq)
			}
			seen[o.Seq] = true
		}
	}
}

func TestPipelineCountsAndConcentrations(t *testing.T) {
	f := newFixture(t, 30) // 10 fields x 5 cells
	s, _ := f.run(t, context.Background())
	checkComplete(t, s, f.sink)
	want := map[string]int{"protist_noctiluca": 20, "copepod_calanoid": 10, "trichodesmium_puff": 10}
	for l, n := range want {
		if got := countOf(s, l); got != n {
			t.Errorf("%s counted %d, want %d", l, got, n)
		}
	}
	if s.Cells.Found != 50 || s.Cells.Unidentified != 10 || s.Cells.Objects != 150 || s.Frames.Segmented != 30 || s.Frames.Dropped != 0 {
		t.Errorf("stats %+v %+v", s.Cells, s.Frames)
	}
	if s.Taxa[0].Label != "protist_noctiluca" || s.Taxa[0].Name != "Noctiluca" {
		t.Errorf("most numerous first: %+v", s.Taxa[0])
	}
	// Hand computation: 20 cells in 2 mL = 10,000 cells/L; 95% CI [12.22, 30.89] x 500.
	n := s.Taxa[0]
	if n.PerL != 10000 || !close4(n.Low, 12.217*500) || !close4(n.High, 30.888*500) {
		t.Errorf("Noctiluca %v cells/L [%v, %v], want 10000 [6108, 15444]", n.PerL, n.Low, n.High)
	}
	if s.Unidentified.Count != 10 || s.Unidentified.PerL != 5000 {
		t.Errorf("unidentified %+v", s.Unidentified)
	}
	groups := map[string]int{}
	for _, g := range s.Groups {
		groups[g.ID] = g.Count
	}
	if groups["noctiluca"] != 20 || groups["trichodesmium"] != 10 || groups["diatom_chains"] != 0 || len(groups) != 3 {
		t.Errorf("groups %v", groups)
	}
	// The sink got every cell with its category, the variant and the object.
	cats := map[string]int{}
	for _, o := range f.sink.objects {
		cats[o.Category]++
		if o.Variant != inference.Optimised || o.Crop == nil || o.Err != "" {
			t.Errorf("object %+v", o)
		}
	}
	if cats[Unidentified] != 10 || cats["protist_noctiluca"] != 20 {
		t.Errorf("stored categories %v", cats)
	}
	for _, b := range f.clf.batches {
		if b > 4 {
			t.Errorf("batch of %d over the batch size", b)
		}
	}
	if len(f.sink.perf) != len(f.clf.batches) {
		t.Errorf("%d perf samples for %d batches", len(f.sink.perf), len(f.clf.batches))
	}
}

// TestPipelineFrameRecords: what the segmenter says of each frame reaches the snapshot
// (fields, focus, frames out of focus and held, oversize objects) and the sink, one
// record per frame examined; frames without cells reach the sink without waiting for the
// run's end. A crowded frame is counted as such and not examined: no record, no volume.
func TestPipelineFrameRecords(t *testing.T) {
	f := newFixture(t, 30)
	seg := &informedSegmenter{fakeSegmenter: f.seg, crowdedAt: map[int]bool{7: true}}
	f.cfg.Segmenter = seg
	s, _ := f.run(t, context.Background())
	fr := s.Frames
	if fr.Fields != 10 || fr.OutOfFocus != 6 || fr.Held != 6 || fr.Oversize != 0 || fr.Crowded != 1 || fr.Failed != 1 || fr.Blank != 0 || fr.Focus != 0.9 {
		t.Errorf("frame stats %+v: want 10 fields, 6 frames out of focus and held (the 7th is the crowded one), no oversize object (the crowded frame's is in no export), 1 crowded frame (failed, not blank), last focus 0.9", fr)
	}
	if len(f.sink.frames) != 29 || f.sink.frames[3].Focus != 0.3 || !f.sink.frames[3].Held || f.sink.frames[7].Index != 8 ||
		!f.sink.frames[3].NewField || f.sink.frames[0].NewField || f.sink.frames[28].Index != 29 {
		t.Errorf("%d frame records; some: %+v %+v", len(f.sink.frames), f.sink.frames[:min(4, len(f.sink.frames))], f.sink.frames[len(f.sink.frames)-1:])
	}
	for _, r := range f.sink.frames {
		if r.Crowded || r.Oversize != 0 {
			t.Errorf("frame %d recorded crowded or with oversize objects: %+v", r.Index, r)
		}
	}

	// A long stream without a cell: its frames reach the sink in several calls, not
	// all at the end (the segmenter sleeps a little on each frame, as a real one
	// works, so the sink's goroutine takes each flush as it comes).
	f = newFixture(t, 3*frameFlushAt)
	f.seg.perFrame, f.seg.delay = 0, 200*time.Microsecond
	f.cfg.Segmenter = &informedSegmenter{fakeSegmenter: f.seg}
	f.run(t, context.Background())
	if len(f.sink.frames) != 3*frameFlushAt || f.sink.frameCalls < 2 {
		t.Errorf("%d frame records in %d calls, want %d in at least 2", len(f.sink.frames), f.sink.frameCalls, 3*frameFlushAt)
	}
}

// A frame's record reaches the sink only after every new cell of the frame: a program
// killed between the two calls must not store a frame (its volume counts) without its
// cells. The segmenter runs ahead of a slow classifier whose batches (4) split the
// frames' cells (5 each), as a heavy pack's did when Ctrl+C lost 42 cells of 8 frames
// whose records were stored (helper-39).
func TestPipelineFramesAfterTheirCells(t *testing.T) {
	f := newFixture(t, 40)
	f.seg.still = 1 // every frame a new field: 5 new cells each
	f.cfg.Segmenter = &informedSegmenter{fakeSegmenter: f.seg}
	f.clf.delay = 2 * time.Millisecond
	var early []string
	f.sink.onFrames = func(stored []ObjectRecord, recs []FrameRecord) {
		for _, r := range recs {
			n := 0
			for _, o := range stored {
				if o.Object.Frame == r.Index {
					n++
				}
			}
			if n != 5 {
				early = append(early, fmt.Sprintf("frame %d with %d of its 5 cells", r.Index, n))
			}
		}
	}
	f.run(t, context.Background())
	if len(early) > 0 {
		t.Errorf("frame records handed over before their cells: %v", early)
	}
	if len(f.sink.frames) != 40 || len(f.sink.objects) != 200 {
		t.Errorf("%d frame records and %d objects stored; want 40 and 200", len(f.sink.frames), len(f.sink.objects))
	}
}

// A sink that writes cells and frame records together gets each frame's record in the
// one write with the last of its cells (never after, in a write of its own, where a
// kill between the two kept cells without their frame: helper-45).
func TestPipelineFramesWithTheirCellsInOneWrite(t *testing.T) {
	f := newFixture(t, 40)
	f.seg.still = 1 // every frame a new field: 5 new cells each
	f.cfg.Segmenter = &informedSegmenter{fakeSegmenter: f.seg}
	f.clf.delay = 2 * time.Millisecond
	sink := &oneWriteSink{memSink: f.sink}
	f.cfg.Sink = sink
	f.run(t, context.Background())
	if len(sink.early) > 0 || f.sink.frameCalls != 0 || sink.writes == 0 {
		t.Errorf("%d writes; frame records apart from their cells: %v, %d in writes of their own", sink.writes, sink.early, f.sink.frameCalls)
	}
	if len(f.sink.frames) != 40 || len(f.sink.objects) != 200 {
		t.Errorf("%d frame records and %d objects stored; want 40 and 200", len(f.sink.frames), len(f.sink.objects))
	}
}

// oneWriteSink is a memSink that takes cells and frame records in one write, checking
// that each frame record comes with the last of its 5 cells.
type oneWriteSink struct {
	*memSink
	writes int
	early  []string
}

func (s *oneWriteSink) ObjectsWithFrames(recs []ObjectRecord, frames []FrameRecord) error {
	if err := s.memSink.Objects(recs); err != nil {
		return err
	}
	s.mu.Lock()
	s.writes++
	for _, r := range frames {
		n, here := 0, 0
		for _, o := range s.objects {
			if o.Object.Frame == r.Index {
				n++
			}
		}
		for _, o := range recs {
			if o.Object.Frame == r.Index {
				here++
			}
		}
		if n != 5 || here == 0 {
			s.early = append(s.early, fmt.Sprintf("frame %d with %d of its 5 cells, %d in its write", r.Index, n, here))
		}
	}
	s.frames = append(s.frames, frames...)
	s.mu.Unlock()
	return nil
}

// TestPipelineCellsEstimate: a taxon counted in colonies or chains sums the cells its
// objects are estimated to hold, beside the count of objects; a taxon counted in cells
// has one cell an object, whatever the shape says; an object without an estimate is
// one cell.
func TestPipelineCellsEstimate(t *testing.T) {
	f := newFixture(t, 30)
	f.seg.cellsOf = 6
	s, _ := f.run(t, context.Background())
	units := 0
	for _, x := range s.Taxa {
		want := float64(x.Count)
		if x.Unit != "cell" {
			want, units = 6*want, units+1
		}
		if x.CellsEstimate != want {
			t.Errorf("%s (unit %s): %d objects of 6 cells each, %g cells estimated, want %g", x.Label, x.Unit, x.Count, x.CellsEstimate, want)
		}
		// Their concentration in cells, what the rules compare, beside the objects'.
		if perL := x.PerL * want / float64(x.Count); math.Abs(x.CellsPerL-perL) > 1e-6*perL {
			t.Errorf("%s: %g cells per litre estimated, want %g (objects %g)", x.Label, x.CellsPerL, perL, x.PerL)
		}
	}
	for _, g := range s.Groups {
		if g.Count > 0 && math.Abs(g.CellsPerL-g.PerL*g.CellsEstimate/float64(g.Count)) > 1e-6*g.CellsPerL {
			t.Errorf("group %s: %g cells per litre estimated, %g cells in %d objects at %g per litre", g.ID, g.CellsPerL, g.CellsEstimate, g.Count, g.PerL)
		}
	}
	if units == 0 {
		t.Fatal("no taxon counted in colonies or chains: the fixture does not test the estimate")
	}
	// The stored objects carry the same estimate: the export and the report sum them.
	stored := map[string]float64{}
	for _, r := range f.sink.objects {
		if r.Category != "" && r.Category != Unidentified {
			stored[r.Category] += r.Cells
		}
	}
	for _, x := range s.Taxa {
		if stored[x.Label] != x.CellsEstimate {
			t.Errorf("%s: the stored objects hold %g cells, the counts say %g", x.Label, stored[x.Label], x.CellsEstimate)
		}
	}
	for _, x := range s.Taxa {
		if x.OversizeCells != 0 {
			t.Errorf("%s: %g cells in oversize objects, and none was oversize", x.Label, x.OversizeCells)
		}
	}
	// Oversize objects: their cells are counted, and said to be theirs.
	// The alert rule measuring them says how many of its cells are theirs.
	f = newFixture(t, 30)
	f.seg.cellsOf, f.seg.oversize = 6, true
	f.rules(t, "source = \"s\"\n[[rule]]\nid = \"tricho\"\ntaxon = \"trichodesmium_puff\"\nalert = 1\n")
	s, _ = f.run(t, context.Background())
	for _, x := range s.Taxa {
		if x.OversizeCells != x.CellsEstimate || x.CellsEstimate == 0 {
			t.Errorf("%s: %g of %g cells in oversize objects, want all", x.Label, x.OversizeCells, x.CellsEstimate)
		}
	}
	if len(s.Alerts) != 1 || s.Alerts[0].Value.Cells == 0 || s.Alerts[0].Value.Oversize != s.Alerts[0].Value.Cells {
		t.Errorf("the rule on colonies all in oversize objects measured %+v, want its cells all said oversize", s.Alerts)
	}
	f = newFixture(t, 3)
	s, _ = f.run(t, context.Background())
	for _, x := range s.Taxa {
		if x.CellsEstimate != float64(x.Count) {
			t.Errorf("%s: %d objects without an estimate, %g cells estimated", x.Label, x.Count, x.CellsEstimate)
		}
	}
}

// TestPipelineColourPack: a classifier whose pack takes colour gets the colour crops,
// and the counts are those of the gray path.
func TestPipelineColourPack(t *testing.T) {
	f := newFixture(t, 30)
	clf := &colourFake{fakeClassifier: f.clf}
	f.cfg.Classifier, f.cfg.Segmenter = clf, colourSegmenter{f.seg}
	s, _ := f.run(t, context.Background())
	if clf.colourCrops != 50 || countOf(s, "protist_noctiluca") != 20 || s.Cells.Found != 50 {
		t.Errorf("%d colour crops classified, %d cells counted, %d Noctiluca: want 50, 50, 20", clf.colourCrops, s.Cells.Found, countOf(s, "protist_noctiluca"))
	}
	if !takesColour(clf) || takesColour(f.clf) {
		t.Error("takesColour does not tell the colour pack from the gray one")
	}
}

func TestPipelineThresholdChangeRecounts(t *testing.T) {
	f := newFixture(t, 30)
	f.cfg.Threshold = 0
	s, p := f.run(t, context.Background())
	if s.Cells.Unidentified != 0 || countOf(s, "detritus_other") != 10 {
		t.Fatalf("threshold 0 counts every cell: %+v", s.Cells)
	}
	for _, c := range []struct {
		th           float64
		unidentified int
	}{{0.5, 10}, {0.95, 50}, {0.3, 0}, {0.31, 10}} {
		if err := p.SetThreshold(c.th); err != nil {
			t.Fatal(err)
		}
		s := p.Snapshot()
		if s.Cells.Unidentified != c.unidentified || s.Cells.Identified != 50-c.unidentified || s.Threshold != c.th {
			t.Errorf("threshold %v: %+v, want %d unidentified", c.th, s.Cells, c.unidentified)
		}
	}
	if err := p.SetThreshold(1.5); err == nil || !strings.Contains(err.Error(), "from 0 to 1") {
		t.Errorf("threshold 1.5 accepted: %v", err)
	}
}

// A Noctiluca rule whose alert level the sample crosses raises exactly one alert, with
// the rule's source, the value and the threshold.
func TestPipelineRaisesOneAlert(t *testing.T) {
	f := newFixture(t, 30)
	f.rules(t, `
source = "test authority"
[[rule]]
id = "noct"
taxon = "Noctiluca"
alert = 5000
[[rule]]
taxon = "Dinophysis acuminata"
alert = 100
`)
	s, _ := f.run(t, context.Background())
	if len(s.Events) != 1 || len(f.sink.events) != 1 {
		t.Fatalf("events %+v (sink %d), want exactly one", s.Events, len(f.sink.events))
	}
	e := s.Events[0]
	if e.Rule != "noct" || e.To != alerts.Alert || e.Source != "test authority" || e.Threshold.CellsPerL() != 5000 || e.Value.PerL != float64(e.Value.Count)*500 || e.Value.Count < 10 || e.Value.Count >= 10+f.clf.batch {
		t.Errorf("event %+v", e)
	}
	if len(s.Alerts) != 1 || s.Alerts[0].Level != alerts.Alert || s.Taxa[0].Level != alerts.Alert {
		t.Errorf("states %+v, Noctiluca level %v", s.Alerts, s.Taxa[0].Level)
	}
	for _, g := range s.Groups {
		if (g.ID == "noctiluca") != (g.Level == alerts.Alert) {
			t.Errorf("group %s level %v", g.ID, g.Level)
		}
	}
}

func TestPipelineThresholdClearsAlert(t *testing.T) {
	f := newFixture(t, 30)
	f.rules(t, "source = \"s\"\n[[rule]]\ntaxon = \"Noctiluca\"\nalert = 5000\n")
	_, p := f.run(t, context.Background())
	if err := p.SetThreshold(0.95); err != nil {
		t.Fatal(err)
	}
	s := p.Snapshot()
	if len(s.Events) != 2 || s.Events[1].To != alerts.None || s.Alerts[0].Level != alerts.None || s.Alerts[0].Peak != alerts.Alert {
		t.Fatalf("after raising the threshold: events %+v states %+v", s.Events, s.Alerts)
	}
}

func TestPipelineBatchErrorRecordsFailedAndGoesOn(t *testing.T) {
	f := newFixture(t, 30)
	f.clf.failOn = map[int]bool{2: true}
	s, _ := f.run(t, context.Background())
	checkComplete(t, s, f.sink)
	failedBatch := f.clf.batches[1]
	if s.Cells.Failed != failedBatch || failedBatch == 0 || s.Cells.Found != 50 {
		t.Fatalf("failed %d, batch 2 had %d crops; cells %+v", s.Cells.Failed, failedBatch, s.Cells)
	}
	n := 0
	for _, o := range f.sink.objects {
		if o.Err != "" {
			n++
			if !strings.Contains(o.Err, "out of memory") || o.Category != "" {
				t.Errorf("failed object %+v lacks its reason", o)
			}
		}
	}
	if n != failedBatch || len(f.clf.batches) < 3 {
		t.Errorf("%d failed objects stored, %d batches run", n, len(f.clf.batches))
	}
}

func TestPipelineSegmentationErrorSkipsFrame(t *testing.T) {
	f := newFixture(t, 30)
	f.seg.failAt = map[int]bool{3: true} // the first frame of field 1: its cells are never seen new
	s, _ := f.run(t, context.Background())
	checkComplete(t, s, f.sink)
	if s.Frames.Failed != 1 || s.Cells.Found != 45 {
		t.Errorf("frames %+v cells %+v", s.Frames, s.Cells)
	}
}

// Behind a live source whole frames are dropped before segmentation; every cell of
// the frames that were segmented is classified.
func TestPipelineLiveDropsFramesNeverCells(t *testing.T) {
	f := newFixture(t, 60)
	f.src.live = true
	f.src.every = time.Millisecond
	f.seg.still = 1 // every frame a new field: 5 new cells per frame
	f.clf.delay = 15 * time.Millisecond
	s, _ := f.run(t, context.Background())
	checkComplete(t, s, f.sink)
	if s.Frames.Dropped == 0 {
		t.Fatalf("no frame dropped although classification is 10x slower than the camera: %+v", s.Frames)
	}
	if s.Frames.Seen != 60 || s.Cells.Found != 5*s.Frames.Segmented || s.Cells.Found != f.seg.newCount {
		t.Errorf("frames %+v, cells %+v, segmenter found %d", s.Frames, s.Cells, f.seg.newCount)
	}
	// A file source at the same speed loses nothing.
	f2 := newFixture(t, 60)
	f2.seg.still = 1
	f2.clf.delay = 2 * time.Millisecond
	s2, _ := f2.run(t, context.Background())
	if s2.Frames.Dropped != 0 || s2.Cells.Found != 300 {
		t.Errorf("file source dropped frames: %+v %+v", s2.Frames, s2.Cells)
	}
}

// Cancelling stops the source; everything already read is counted and stored.
func TestPipelineCancelCompletesTallies(t *testing.T) {
	f := newFixture(t, -1) // endless
	f.seg.still = 1
	f.clf.delay = 2 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	p, err := New(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for range p.Updates() {
			if p.Snapshot().Cells.Found >= 40 {
				cancel()
			}
		}
	}()
	done := make(chan Snapshot)
	go func() {
		s, err := p.Run(ctx)
		if err != nil {
			t.Errorf("run: %v", err)
		}
		done <- s
	}()
	select {
	case s := <-done:
		checkComplete(t, s, f.sink)
		if s.Cells.Found < 40 || s.Running {
			t.Errorf("stopped with %+v", s.Cells)
		}
		if s.Cells.Found != f.seg.newCount {
			t.Errorf("%d cells counted, segmenter found %d", s.Cells.Found, f.seg.newCount)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if _, err := p.Run(context.Background()); err == nil {
		t.Error("a second Run was accepted")
	}
}

func TestPipelineSourceErrorEndsRunWithCompleteTallies(t *testing.T) {
	f := newFixture(t, 30)
	f.src.failAt = 10
	p, err := New(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := p.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "source fake: camera unplugged") || !strings.Contains(s.Err, "camera unplugged") {
		t.Fatalf("err %v, snapshot err %q", err, s.Err)
	}
	checkComplete(t, s, f.sink)
	if s.Frames.Seen != 9 || s.Cells.Found != 15 {
		t.Errorf("frames %+v cells %+v", s.Frames, s.Cells)
	}
}

func TestPipelineSinkErrorStopsRun(t *testing.T) {
	f := newFixture(t, -1)
	f.sink.failAt = 20
	p, err := New(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := p.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "session store: disk full") {
		t.Fatalf("err %v", err)
	}
	if s.Cells.Pending != 0 || s.Cells.Found != s.Cells.Identified+s.Cells.Unidentified+s.Cells.Failed {
		t.Errorf("tallies %+v", s.Cells)
	}
}

// Settings change while the pipeline runs; a GUI polls snapshots all along (run with
// -race).
func TestPipelineLiveControls(t *testing.T) {
	f := newFixture(t, 90)
	f.seg.still = 1
	f.clf.delay = time.Millisecond
	p, err := New(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		i := 0
		for range p.Updates() {
			s := p.Snapshot()
			for _, o := range s.LastFrame.Objects {
				if o.State == StateIdentified && o.Name == "" {
					t.Errorf("overlay %+v has no name", o)
				}
			}
			i++
			switch i {
			case 5:
				if err := f.clf.SetVariant(inference.Base); err != nil {
					t.Error(err)
				}
			case 10:
				if err := f.clf.SetThreads(1); err != nil {
					t.Error(err)
				}
			case 15:
				if err := p.SetThreshold(0.2); err != nil {
					t.Error(err)
				}
			}
		}
	})
	s, err := p.Run(context.Background())
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	checkComplete(t, s, f.sink)
	if s.Variant != inference.Base || s.Threads != 1 || s.Threshold != 0.2 || s.Cells.Unidentified != 0 {
		t.Errorf("controls not applied: model %s threads %d threshold %v %+v", s.Variant, s.Threads, s.Threshold, s.Cells)
	}
	variants := map[inference.Variant]int{}
	for _, o := range f.sink.objects {
		variants[o.Variant]++
	}
	if variants[inference.Base] == 0 || variants[inference.Base]+variants[inference.Optimised] != 450 {
		t.Errorf("objects per variant %v", variants)
	}
}

func TestPipelineOverlaysCarryTrackLabels(t *testing.T) {
	f := newFixture(t, 5) // field 0 (frames 0-2, new at 0), field 1 (frames 3-4)
	var frames []int
	f.cfg.OnFrame = func(fr capture.Frame, objs []vision.Object) {
		if fr.Mat.Empty() || len(objs) != 5 {
			t.Errorf("OnFrame got frame %d with %d objects", fr.Index, len(objs))
		}
		frames = append(frames, fr.Index)
	}
	s, _ := f.run(t, context.Background())
	if len(frames) != 5 {
		t.Errorf("OnFrame saw frames %v", frames)
	}
	v := s.LastFrame
	if v.Index != 4 || len(v.Objects) != 5 || v.Size.X != 8 {
		t.Fatalf("last frame %+v", v)
	}
	want := []string{"protist_noctiluca", "copepod_calanoid", "trichodesmium_puff", "protist_noctiluca", Unidentified}
	for i, o := range v.Objects {
		if o.New || o.Track != 1000+i || o.Label != want[i] {
			t.Errorf("overlay %d = %+v, want track %d labelled %s (a re-sighting)", i, o, 1000+i, want[i])
		}
	}
	if v.Objects[4].State != StateUnidentified || v.Objects[0].State != StateIdentified || v.Objects[0].Name != "Noctiluca" {
		t.Errorf("overlay states %+v", v.Objects)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	f := newFixture(t, 1)
	cases := []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.Source = nil }, "no source"},
		{func(c *Config) { c.Segmenter = nil }, "no segmenter"},
		{func(c *Config) { c.Classifier = nil }, "no classifier"},
		{func(c *Config) { c.Taxonomy = nil }, "no taxonomy"},
		{func(c *Config) { c.Sample.VolumeML = 0 }, "volume examined"},
		{func(c *Config) { c.Threshold = -0.1 }, "confidence threshold"},
	}
	for _, c := range cases {
		cfg := f.cfg
		c.edit(&cfg)
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
}

func TestPipelineStopBeforeRunReadsNothing(t *testing.T) {
	f := newFixture(t, 30)
	p, err := New(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	p.Stop()
	s, err := p.Run(context.Background())
	if err != nil || s.Frames.Seen != 0 || s.Cells.Found != 0 || s.Running {
		t.Errorf("after Stop: %v, frames %+v cells %+v", err, s.Frames, s.Cells)
	}
}

func TestJoinErrorsKeepsOneCopy(t *testing.T) {
	disk := errors.New("save 10 objects of run 4: disk I/O error")
	tests := []struct {
		errs []error
		want string
	}{
		{nil, ""},
		{[]error{nil, nil}, ""},
		{[]error{disk, nil, disk, disk}, disk.Error()},
		{[]error{disk, fmt.Errorf("session store: %w", disk)}, "session store: " + disk.Error()},
		{[]error{fmt.Errorf("session store: %w", disk), disk, errors.New("camera lost")}, "session store: " + disk.Error() + "\ncamera lost"},
	}
	for _, tc := range tests {
		got := ""
		if err := JoinErrors(tc.errs...); err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("JoinErrors(%v) = %q, want %q", tc.errs, got, tc.want)
		}
	}
}

// A model switched while a batch runs: the batch's cost is the model's that ran it, as
// its objects say, not the newly chosen one's.
func TestPerfIsTheModelThatRan(t *testing.T) {
	f := newFixture(t, 12)
	f.clf.delay = 40 * time.Millisecond
	done := make(chan struct{})
	go func() { // switch every 15 ms, while batches take 40
		for {
			select {
			case <-done:
				return
			case <-time.After(15 * time.Millisecond):
			}
			v := inference.Base
			if f.clf.Variant() == inference.Base {
				v = inference.Optimised
			}
			_ = f.clf.SetVariant(v)
		}
	}()
	f.run(t, context.Background())
	close(done)
	f.sink.mu.Lock()
	defer f.sink.mu.Unlock()
	byModel := map[inference.Variant]int{}
	for _, o := range f.sink.objects {
		if o.Err == "" {
			byModel[o.Variant]++
		}
	}
	perf := map[inference.Variant]int{}
	for _, p := range f.sink.perf {
		perf[p.Variant] += p.Cells
	}
	if len(byModel) < 2 || byModel[inference.Base] != perf[inference.Base] || byModel[inference.Optimised] != perf[inference.Optimised] {
		t.Errorf("objects classified by %v, cost recorded for %v: want the same cells per model, both models used", byModel, perf)
	}
}

// While a folder run reads (Config.Expected known), the concentrations are on the share
// of the volume read so far, not on the whole volume given: an alert the frames read make
// certain shows during the run, not only at its end. A level is entered on the interval's
// lower bound then, so a few cells in the first frames' small volume raise nothing.
func TestPipelineConcentrationsSoFar(t *testing.T) {
	rule := "source = \"s\"\n[[rule]]\nid = \"noct\"\ntaxon = \"Noctiluca\"\nalert = 5000\n"
	// 30 frames of a source said to hold 300: the run has read a tenth of 2 mL.
	f := newFixture(t, 30)
	f.rules(t, rule)
	f.cfg.Expected = func() int { return 300 }
	f.seg.delay = 2 * time.Millisecond // the classifier has finished each field's cells before its later frames come
	s, p := f.run(t, context.Background())
	noct := s.Taxa[0]
	if !s.SoFar || math.Abs(s.Sample.VolumeML-0.2) > 1e-12 || noct.Label != "protist_noctiluca" || noct.PerL != float64(noct.Count)*5000 {
		t.Errorf("so far %v on %g mL, %s %d at %g/L: want 0.2 mL, 5,000/L a cell", s.SoFar, s.Sample.VolumeML, noct.Label, noct.Count, noct.PerL)
	}
	if len(s.Events) != 1 || !s.Events[0].Value.Provisional || s.Events[0].Value.Low < 5000 {
		t.Errorf("events %+v: want one alert, raised on a share read, its lower bound at the threshold", s.Events)
	}
	// The last field's later frames bring no new cell, yet add volume: the rule's value
	// follows them, as the table does (the banner kept an earlier, higher value).
	if len(s.Alerts) != 1 || s.Alerts[0].Value.PerL != noct.PerL {
		t.Errorf("the rule measures %+v, the table %g/L: want the same", s.Alerts, noct.PerL)
	}
	p.SetExamined(Examined{Expected: 300, Frames: 30, Fraction: 0.1, Interrupted: true})
	if s = p.Snapshot(); s.SoFar || math.Abs(s.Sample.VolumeML-0.2) > 1e-12 || s.Alerts[0].Level != alerts.Alert || s.Alerts[0].Value.Provisional {
		t.Errorf("ended: so far %v on %g mL, %+v", s.SoFar, s.Sample.VolumeML, s.Alerts[0])
	}

	// The whole source: each level raised while reading had its lower bound over the
	// threshold; at the end the whole 2 mL decides, as History and the report do.
	f = newFixture(t, 30)
	f.rules(t, rule)
	f.cfg.Expected = func() int { return 30 }
	s, p = f.run(t, context.Background())
	if len(s.Events) != 1 || !s.Events[0].Value.Provisional {
		t.Errorf("events %+v: want the alert raised while the frames were read", s.Events)
	}
	for _, e := range s.Events {
		if e.Raised() && e.Value.Provisional && e.Value.Low < 5000 {
			t.Errorf("raised on %d cells so far, lower bound %g under the threshold", e.Value.Count, e.Value.Low)
		}
	}
	p.SetExamined(Examined{Expected: 30, Frames: 30, Fraction: 1})
	s = p.Snapshot()
	if s.SoFar || s.Sample.VolumeML != 2 || s.Alerts[0].Level != alerts.Alert || s.Alerts[0].Value.PerL != 10000 {
		t.Errorf("ended on %g mL: %+v, want ALERT at 10,000/L", s.Sample.VolumeML, s.Alerts[0])
	}
}

// A lone cell in the first frame of a long folder raises no count level while the folder
// is read: on the first frame's volume its Poisson lower bound was 50,600 cells/L and the
// alert at 10,000 was raised, on a 0.2 mL slide whose whole volume gives 5,000
// (helper-41). Presence is said at once, as ever.
func TestPipelineLoneEarlyCellRaisesNoAlert(t *testing.T) {
	f := newFixture(t, 400)
	f.rules(t, "source = \"s\"\n[[rule]]\nid = \"noct\"\ntaxon = \"Noctiluca\"\nwatch = \"presence\"\nalert = 10000\n")
	f.cfg.Sample.VolumeML = 0.2
	f.cfg.Expected = func() int { return 400 }
	noct, other := fakeCell{idx(t, f.tx, "protist_noctiluca"), 0.9}, fakeCell{idx(t, f.tx, "detritus_other"), 0.9}
	f.seg.perFrame, f.seg.still = 1, 1
	f.seg.cells = func(field, _ int) fakeCell {
		if field == 0 {
			return noct
		}
		return other
	}
	f.seg.delay = time.Millisecond // the cell is classified while the first frames are read
	s, p := f.run(t, context.Background())
	for _, e := range s.Events {
		if e.Raised() && e.To == alerts.Alert {
			t.Errorf("ALERT raised on %d cell at %g cells/L (lower bound %g) in the frames read by then", e.Value.Count, e.Value.PerL, e.Value.Low)
		}
	}
	if len(s.Events) == 0 || s.Events[0].To != alerts.Watch {
		t.Errorf("events %+v: want the presence watch raised", s.Events)
	}
	p.SetExamined(Examined{Expected: 400, Frames: 400, Fraction: 1})
	if s = p.Snapshot(); s.Alerts[0].Level != alerts.Watch || s.Alerts[0].Value.PerL != 5000 {
		t.Errorf("ended: %+v, want WATCH at 5,000 cells/L", s.Alerts[0])
	}
}

// The volume read so far is that of the frames whose cells are all counted: a frame
// segmented while its cells wait for the classifier adds no volume yet (its cells are not
// in the counts), or the concentrations would read low while the model catches up.
func TestPipelineVolumeSoFarWaitsForTheModel(t *testing.T) {
	f := newFixture(t, 30)
	f.cfg.Expected = func() int { return 300 }
	f.clf.delay = 3 * time.Millisecond
	p, err := New(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var waited, checked int
	go func() {
		defer close(done)
		for range p.Updates() {
			s := p.Snapshot()
			if !s.SoFar {
				continue
			}
			checked++
			frames := int(math.Round(s.Sample.VolumeML / 2 * 300))
			if frames > s.Frames.Segmented || (s.Cells.Pending > 0 && frames >= s.Frames.Segmented) {
				t.Errorf("volume of %d frames with %d segmented, %d cells waiting", frames, s.Frames.Segmented, s.Cells.Pending)
				return
			}
			if s.Cells.Pending > 0 {
				waited++
			}
		}
	}()
	if _, err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-done
	if s := p.Snapshot(); math.Abs(s.Sample.VolumeML-0.2) > 1e-12 {
		t.Errorf("all counted: %g mL, want the 30 frames' 0.2", s.Sample.VolumeML)
	}
	t.Logf("%d updates checked, %d with cells waiting", checked, waited)
	if waited == 0 {
		t.Errorf("no update (of %d) found cells waiting for the model: the test did not test", checked)
	}
}

func TestFramesCountedInOrder(t *testing.T) {
	var p Pipeline
	for _, f := range []frameCells{{2, true}, {0, true}, {3, true}, {0, false}, {1, true}} {
		p.frameFoundLocked(f.cells, f.ok)
	}
	for _, c := range []struct{ n, want int }{{0, 0}, {1, 0}, {1, 2}, {2, 2}, {1, 3}, {1, 4}} {
		p.cellsCountedLocked(c.n)
		if p.counted != c.want {
			t.Errorf("after %d more cells: %d frames counted, want %d", c.n, p.counted, c.want)
		}
	}
}

// A run whose frames were all refused says why, with the fix; one that read some, or
// none at all, says nothing here.
func TestNoneExaminedWhy(t *testing.T) {
	for _, c := range []struct {
		f    FrameStats
		want string
	}{
		{FrameStats{Seen: 3, Failed: 3, Crowded: 3}, "every frame was too crowded to segment; dilute the sample (1+9, factor 10) and screen it again"},
		{FrameStats{Seen: 2, Failed: 2, Blank: 2}, "every frame was blank; check the lamp, the shutter and the exposure"},
		{FrameStats{Seen: 3, Failed: 3, Crowded: 1, Blank: 2}, "1 frame was too crowded to segment (dilute the sample) and 2 frames were blank (check the lamp)"},
		{FrameStats{Seen: 3, Failed: 3, Crowded: 1}, ""}, // two unreadable: their files say why
		{FrameStats{}, ""},
	} {
		if got := c.f.NoneExaminedWhy(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.f, got, c.want)
		}
	}
}

// A camera's run (no frame count) whose frames were partly refused as crowded or blank
// examined the share of its frames it could count, as a folder's does: the cells of the
// refused frames were not counted, so the volume given would read the bloom low
// (helper-74).
func TestCameraShare(t *testing.T) {
	e := Examined{Frames: 8, Fraction: 1}
	cameraShare(&e, FrameStats{Seen: 10, Failed: 2, Crowded: 1, Blank: 1})
	if e.Expected != 10 {
		t.Errorf("%+v: want 10 frames expected (8 examined, 2 refused)", e)
	}
	e = Examined{Frames: 8, Fraction: 1}
	cameraShare(&e, FrameStats{Seen: 9, Failed: 1}) // an unreadable frame: none of the water's
	if e.Expected != 0 {
		t.Errorf("%+v: want the camera's volume whole", e)
	}
}

// While a folder is read, a rule none of whose taxa are counted, in a volume where one
// cell would reach its level, is said not checked from the first frames on the whole
// volume's limit, not "below" until the last frame (helper-74).
func TestPipelineTooLittleExaminedWhileReading(t *testing.T) {
	f := newFixture(t, 30)
	// 2 mL: one cell is 500 cells/L, this rule's alert; the fake frames hold no chains.
	f.rules(t, "source = \"s\"\n[[rule]]\nid = \"chains\"\ngroup = \"Chain-forming diatoms\"\nalert = 500\n")
	f.cfg.Expected = func() int { return 300 }
	s, _ := f.run(t, context.Background())
	if len(s.Alerts) != 1 {
		t.Fatalf("states %+v: want the one rule", s.Alerts)
	}
	st := s.Alerts[0]
	if !s.SoFar || !st.Value.Provisional || st.Value.Count != 0 || st.Value.Limit != 500 || !st.TooLittleExamined() {
		t.Errorf("so far %v: %+v; want none counted, the whole volume's limit 500 cells/L, too little examined", s.SoFar, st)
	}
}

// Objects left unidentified that the model guessed as a rule's taxon, enough to reach
// its level, make the review decide (alerts.State.ReviewTo) on the final figures; once
// the threshold lets them count, the level is raised and nothing is left to decide.
// While a folder is still read no guess is weighed (a level there stands on the
// interval's lower bound).
func TestPipelineReviewDecides(t *testing.T) {
	rule := "source = \"s\"\n[[rule]]\nid = \"det\"\ntaxon = \"detritus_other\"\nalert = 3000\n"
	f := newFixture(t, 30)
	f.rules(t, rule)
	s, p := f.run(t, context.Background())
	if s.Cells.Unidentified != 10 || len(s.Alerts) != 1 {
		t.Fatalf("unidentified %d, states %+v: want 10 and the one rule", s.Cells.Unidentified, s.Alerts)
	}
	st := s.Alerts[0]
	// 2 mL: the 10 detritus guesses are 5,000 cells/L, over the 3,000 of the level.
	if st.Level != alerts.None || st.ReviewTo != alerts.Alert || st.Value.Guessed != 10 || st.Value.IfGuessed == nil || st.Value.IfGuessed.PerL != 5000 {
		t.Errorf("state %+v (if guessed %+v): want none now, ALERT were the 10 guesses right at 5,000 cells/L", st, st.Value.IfGuessed)
	}
	if g := s.Guessed["detritus_other"]; g.Count != 10 || g.Cells != 10 {
		t.Errorf("guessed %+v: want 10 detritus, 10 cells", s.Guessed)
	}
	if err := p.SetThreshold(0.2); err != nil {
		t.Fatal(err)
	}
	s = p.Snapshot()
	if st := s.Alerts[0]; st.Level != alerts.Alert || st.ReviewTo != alerts.None || s.Guessed != nil {
		t.Errorf("at threshold 0.2: state %+v, guessed %+v; want ALERT, nothing left to review", st, s.Guessed)
	}

	f = newFixture(t, 30)
	f.rules(t, rule)
	f.cfg.Expected = func() int { return 300 }
	s, _ = f.run(t, context.Background())
	if st := s.Alerts[0]; !s.SoFar || st.ReviewTo != alerts.None || st.Value.IfGuessed != nil {
		t.Errorf("a folder still read: so far %v, state %+v; want no guess weighed", s.SoFar, st)
	}
}
