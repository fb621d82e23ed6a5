package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/labrec"
	"github.com/phytoscreen/phytoscreen/labsync"
	"github.com/phytoscreen/phytoscreen/screening"
)

// The session store is the bench's side of the lab server sync.
var _ labsync.Outbox = (*Store)(nil)

// entry is an outbox row as the table holds it (active runs included).
type entry struct {
	seq       int64
	kind, ref string
}

// outboxRows reads the whole outbox table, in seq order.
func outboxRows(t testing.TB, s *Store) []entry {
	t.Helper()
	rows, err := s.db.Query("SELECT seq, kind, ref FROM outbox ORDER BY seq")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []entry
	for rows.Next() {
		var e entry
		if err := rows.Scan(&e.seq, &e.kind, &e.ref); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// find is the seq of the outbox entry kind/ref (0 when none), and fails on duplicates.
func find(t testing.TB, rows []entry, kind, ref string) int64 {
	t.Helper()
	var seq int64
	for _, e := range rows {
		if e.kind == kind && e.ref == ref {
			if seq != 0 {
				t.Fatalf("outbox holds %s %s twice: %v", kind, ref, rows)
			}
			seq = e.seq
		}
	}
	return seq
}

func pending(t testing.TB, s *Store) []labrec.Pending {
	t.Helper()
	p, err := s.PendingSync(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func pendingKeys(p []labrec.Pending) []string {
	var out []string
	for _, e := range p {
		out = append(out, e.Kind+" "+e.Ref)
	}
	return out
}

func seqsOf(p []labrec.Pending) []int64 {
	var out []int64
	for _, e := range p {
		out = append(out, e.Seq)
	}
	return out
}

// recordRun records n objects (with crops, labels cycling) in batches, with frames, an
// alert and a perf record, as a screening run does; it returns the unfinished run.
func recordRun(t testing.TB, s *Store, sm screening.Sample, n int) *Run {
	t.Helper()
	return recordRunFrom(t, s, sm, n, capture.MustParseSpec("field.avi"))
}

// recordRunFrom is recordRun from a source of the caller's.
func recordRunFrom(t testing.TB, s *Store, sm screening.Sample, n int, spec capture.Spec) *Run {
	t.Helper()
	r, err := s.startRun(context.Background(), screening.RunInfo{Sample: sm, Spec: spec, Model: inference.Optimised, Threshold: 0.5, Taxonomy: testTaxonomy(t)}, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	crops := realCrops(t)
	labels := []string{"protist_noctiluca", "copepod_calanoid", "trichodesmium_puff"}
	for seq := 1; seq <= n; {
		var batch []screening.ObjectRecord
		for ; seq <= n && len(batch) < 16; seq++ {
			batch = append(batch, record(crops, seq, labels[seq%3], 0.3+0.1*float32(seq%7), ""))
		}
		if err := r.Objects(batch); err != nil {
			t.Fatal(err)
		}
		// The frame of the batch's last object (record puts object seq in frame 3 seq):
		// every object's frame recorded, as a run records them.
		if err := r.Frames([]screening.FrameRecord{{Time: t0, Index: 3 * (seq - 1), Source: "field.avi", Focus: 0.9, Objects: len(batch)}}); err != nil {
			t.Fatal(err)
		}
	}
	ev := alerts.Event{Time: t0, Rule: "noctiluca", Taxon: "noctiluca", From: alerts.None, To: alerts.Watch, Value: alerts.Measure{Count: 1, PerL: 500},
		Threshold: alerts.Threshold{Presence: true, Unit: alerts.Presence}, Source: "phytoscreen default"}
	if err := r.Event(ev); err != nil {
		t.Fatal(err)
	}
	if err := r.Perf(screening.PerfSample{Time: t0, Variant: inference.Optimised, Cells: n, Duration: 35 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	return r
}

// Each trigger queues what it should and nothing else: a run of 200 objects (with its
// frames, alert and perf record) queues its sample and one run entry, queued again by
// Finish; a validation queues the label and its sample; a mark or a delete the sample.
func TestOutboxTriggers(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	if got := outboxRows(t, s); len(got) != 0 {
		t.Fatalf("a new store's outbox holds %v", got)
	}
	sm := testSample()
	r := recordRun(t, s, sm, 200)
	run := strconv.FormatInt(r.ID, 10)
	during := outboxRows(t, s)
	if len(during) != 2 || find(t, during, "sample", sm.ID) == 0 || find(t, during, "run", run) == 0 {
		t.Fatalf("while recording 200 objects the outbox holds %v; want the sample and the run", during)
	}
	if err := r.Finish(ctx, screening.Snapshot{Frames: screening.FrameStats{Seen: 300}, Threshold: 0.5, Variant: inference.Optimised}, nil); err != nil {
		t.Fatal(err)
	}
	after := outboxRows(t, s)
	t.Logf("after Finish: %v", after)
	if len(after) != 2 || find(t, after, "sample", sm.ID) != find(t, during, "sample", sm.ID) {
		t.Fatalf("after Finish the outbox holds %v; want the same sample entry and one run entry", after)
	}
	if old, now := find(t, during, "run", run), find(t, after, "run", run); now <= old {
		t.Errorf("Finish did not queue the run again: seq %d, before %d", now, old)
	}
	if got := pendingKeys(pending(t, s)); !slices.Equal(got, []string{"sample " + sm.ID, "run " + run}) {
		t.Errorf("PendingSync after Finish: %v", got)
	}
	var objects, frames int
	s.db.QueryRow("SELECT COUNT(*) FROM objects WHERE source_id = ?", r.ID).Scan(&objects)
	s.db.QueryRow("SELECT COUNT(*) FROM frames WHERE source_id = ?", r.ID).Scan(&frames)
	if objects != 200 || frames == 0 {
		t.Fatalf("the run stored %d objects, %d frames; want 200 and some", objects, frames)
	}
	// SyncObjects reads them in batches: all 200, once each, in ID order, with crops.
	var last int64
	var pushed int
	if err := s.SyncObjects(ctx, r.ID, func(o labrec.Object) error {
		if o.ID <= last || len(o.Crop) == 0 || o.Seq != pushed+1 {
			t.Errorf("object %d (seq %d) after %d, crop %d bytes", o.ID, o.Seq, last, len(o.Crop))
		}
		last = o.ID
		pushed++
		return nil
	}); err != nil || pushed != 200 {
		t.Errorf("SyncObjects gave %d objects, %v; want 200", pushed, err)
	}

	if err := s.DoneSync(ctx, seqsOf(pending(t, s))); err != nil {
		t.Fatal(err)
	}
	if got := outboxRows(t, s); len(got) != 0 {
		t.Fatalf("after DoneSync of everything: %v", got)
	}
	var obj int64
	s.db.QueryRow("SELECT id FROM objects WHERE source_id = ? ORDER BY id LIMIT 1 OFFSET 7", r.ID).Scan(&obj)
	if err := s.Validate(ctx, obj, "copepod_calanoid", "Ana"); err != nil {
		t.Fatal(err)
	}
	if got := pendingKeys(pending(t, s)); !slices.Equal(got, []string{"label " + strconv.FormatInt(obj, 10), "sample " + sm.ID}) {
		t.Errorf("after a validation: %v; want the label and its sample", got)
	}
	if err := s.DoneSync(ctx, seqsOf(pending(t, s))); err != nil {
		t.Fatal(err)
	}
	// An update that leaves the validation as it was queues nothing.
	if _, err := s.db.Exec("UPDATE objects SET validated_label = validated_label, focus = 1 WHERE id = ?", obj); err != nil {
		t.Fatal(err)
	}
	if got := outboxRows(t, s); len(got) != 0 {
		t.Errorf("an update that changed no validation queued %v", got)
	}
	for name, change := range map[string]func() error{
		"mark":    func() error { return s.MarkSample(ctx, sm.ID, true) },
		"delete":  func() error { return s.DeleteSample(ctx, sm.ID) },
		"restore": func() error { return s.RestoreSample(ctx, sm.ID) },
	} {
		if err := change(); err != nil {
			t.Fatal(err)
		}
		got := pending(t, s)
		if !slices.Equal(pendingKeys(got), []string{"sample " + sm.ID}) {
			t.Errorf("after a %s: %v; want the sample alone", name, pendingKeys(got))
		}
		if err := s.DoneSync(ctx, seqsOf(got)); err != nil {
			t.Fatal(err)
		}
	}
}

// The bundled demo stays on the bench: its runs, their labels and a sample of demo
// runs alone are never listed for the lab server, while a real sample's run beside it
// is (helper-40: every launch's demo was pushed and headed the weekly report).
func TestOutboxLeavesTheDemoOnTheBench(t *testing.T) {
	if capture.Demo.String() != labrec.DemoSpec {
		t.Fatalf("the demo records its source as %q, the lab server knows it as %q", capture.Demo.String(), labrec.DemoSpec)
	}
	s := openTemp(t)
	ctx := context.Background()
	demo := screening.NewSample("DEMO-20261203-173525")
	demo.Site, demo.Taken, demo.VolumeML, demo.Factor = "Demo slide (generated)", t0, 0.25, 1
	d := recordRunFrom(t, s, demo, 12, capture.Demo)
	if err := d.Finish(ctx, screening.Snapshot{Frames: screening.FrameStats{Seen: 30}, Threshold: 0.5, Variant: inference.Optimised}, nil); err != nil {
		t.Fatal(err)
	}
	var obj int64
	s.db.QueryRow("SELECT id FROM objects WHERE source_id = ? LIMIT 1", d.ID).Scan(&obj)
	if err := s.Validate(ctx, obj, "copepod_calanoid", "Ana"); err != nil {
		t.Fatal(err)
	}
	real := testSample()
	r := recordRun(t, s, real, 5)
	if err := r.Finish(ctx, screening.Snapshot{Frames: screening.FrameStats{Seen: 10}, Threshold: 0.5, Variant: inference.Optimised}, nil); err != nil {
		t.Fatal(err)
	}
	if n := len(outboxRows(t, s)); n < 5 {
		t.Fatalf("the outbox holds %d entries; want the demo's 3 and the real sample's 2 queued", n)
	}
	want := []string{"sample " + real.ID, "run " + strconv.FormatInt(r.ID, 10)}
	if got := pendingKeys(pending(t, s)); !slices.Equal(got, want) {
		t.Errorf("PendingSync lists %v; want the real sample and its run alone, %v", got, want)
	}
	st, err := s.OutboxState(ctx)
	if err != nil || st.Pending != 2 {
		t.Errorf("OutboxState counts %d waiting (%v); want 2: the demo does not wait for the server", st.Pending, err)
	}
}

// An entry queued again gets a new seq: marking the seq read earlier done keeps it.
func TestOutboxRequeueKeepsNewerChange(t *testing.T) {
	s := finishedStore(t)
	ctx := context.Background()
	first := pending(t, s)
	if len(first) != 2 {
		t.Fatalf("pending %v; want the sample and the run", pendingKeys(first))
	}
	if err := s.MarkSample(ctx, testSample().ID, true); err != nil { // changed while the push was under way
		t.Fatal(err)
	}
	if err := s.DoneSync(ctx, seqsOf(first)); err != nil {
		t.Fatal(err)
	}
	left := pending(t, s)
	if len(left) != 1 || left[0].Kind != labrec.KindSample || left[0].Ref != testSample().ID || left[0].Seq <= max(first[0].Seq, first[1].Seq) {
		t.Fatalf("after DoneSync of the older read: %+v; want the sample, with a newer seq", left)
	}
	if left[0].Queued.IsZero() || time.Since(left[0].Queued) > time.Minute {
		t.Errorf("queued at %v", left[0].Queued)
	}
	st, err := s.OutboxState(ctx)
	if err != nil || st.Pending != 1 || !st.Oldest.Equal(left[0].Queued) {
		t.Errorf("outbox state %+v, %v; want 1 waiting since %v", st, err, left[0].Queued)
	}
	if err := s.DoneSync(ctx, seqsOf(left)); err != nil {
		t.Fatal(err)
	}
	if st, err := s.OutboxState(ctx); err != nil || st.Pending != 0 || !st.Oldest.IsZero() {
		t.Errorf("empty outbox state %+v, %v", st, err)
	}
	if p, err := s.PendingSync(ctx, 1); err != nil || len(p) != 0 {
		t.Errorf("empty outbox lists %v, %v", p, err)
	}
}

// A run this process records is not listed, nor its objects' labels, until Finish, even
// to a sync reading all along; another process (a second open of the file, as after a
// crash) lists it as it is; a discarded run leaves its sample gone and nothing else.
func TestOutboxHoldsBackActiveRuns(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	sm := testSample()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var leaked []string
	var mu sync.Mutex
	wg.Add(1)
	go func() { // a sync loop reading while the run records
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			p, err := s.PendingSync(ctx, 10)
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := s.OutboxState(ctx); err != nil {
				t.Error(err)
				return
			}
			for _, e := range p {
				if e.Kind != labrec.KindSample {
					mu.Lock()
					leaked = append(leaked, e.Kind+" "+e.Ref)
					mu.Unlock()
				}
			}
			time.Sleep(time.Millisecond)
		}
	}()
	r := recordRun(t, s, sm, 40)
	var obj int64
	s.db.QueryRow("SELECT MIN(id) FROM objects WHERE source_id = ?", r.ID).Scan(&obj)
	if err := s.Validate(ctx, obj, "protist_noctiluca", "Ana"); err != nil { // reviewed while it records
		t.Fatal(err)
	}
	if got := pendingKeys(pending(t, s)); !slices.Equal(got, []string{"sample " + sm.ID}) {
		t.Errorf("while the run records: %v; want its sample alone", got)
	}
	if st, err := s.OutboxState(ctx); err != nil || st.Pending != 1 {
		t.Errorf("outbox state while the run records: %+v, %v", st, err)
	}
	// Another process sees a run with no end: it is pushed as it is (Ended nil).
	other, err := Open(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	ob, err := other.SyncRun(ctx, r.ID)
	if got := pendingKeys(pending(t, other)); !slices.Contains(got, "run "+strconv.FormatInt(r.ID, 10)) || err != nil || ob.Run.Ended != nil || ob.Run.Status != "running" {
		t.Errorf("another process: pending %v, run ended %v status %q, %v; want the unfinished run listed", got, ob.Run.Ended, ob.Run.Status, err)
	}
	other.Close()
	close(stop)
	wg.Wait()
	if len(leaked) > 0 {
		t.Errorf("a sync reading during the run saw %v", leaked)
	}
	if err := r.Finish(ctx, screening.Snapshot{Threshold: 0.5}, nil); err != nil {
		t.Fatal(err)
	}
	got := pendingKeys(pending(t, s))
	// The validation queued the label and the sample again, Finish the run.
	want := []string{"label " + strconv.FormatInt(obj, 10), "sample " + sm.ID, "run " + strconv.FormatInt(r.ID, 10)}
	if !slices.Equal(got, want) {
		t.Errorf("after Finish: %v; want %v", got, want)
	}
	if err := s.DoneSync(ctx, seqsOf(pending(t, s))); err != nil {
		t.Fatal(err)
	}

	sm2 := testSample()
	sm2.ID = "LIM-2025-06-04"
	r2 := recordRun(t, s, sm2, 5)
	if err := r2.Discard(ctx); err != nil {
		t.Fatal(err)
	}
	if got := outboxRows(t, s); len(got) != 1 || got[0].kind != "sample" || got[0].ref != sm2.ID {
		t.Errorf("after a discarded run the outbox holds %v; want its sample (gone)", got)
	}
	if tl, err := s.SyncSample(ctx, sm2.ID); err != nil || !tl.Gone {
		t.Errorf("the discarded run's sample: %+v, %v; want gone", tl, err)
	}
}

// A file of schema 5 brought to 6 gets a bench identity, kept across opens, and queues
// every run and sample it holds, so a bench joining a programme pushes its history.
func TestUpgradeTo6QueuesHistory(t *testing.T) {
	probe := openTemp(t)
	rows, err := probe.db.Query("SELECT name FROM sqlite_schema WHERE type = 'trigger' AND name LIKE 'outbox%'")
	if err != nil {
		t.Fatal(err)
	}
	var drop []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		drop = append(drop, "DROP TRIGGER "+n)
	}
	rows.Close()
	if len(drop) != 8 {
		t.Fatalf("%d outbox triggers: %v", len(drop), drop)
	}
	drop = append(drop, "DROP TABLE outbox", "DELETE FROM meta WHERE key = 'bench_id'")
	s := upgradedStore(t, 5, strings.Join(drop, "; "))
	ctx := context.Background()
	got := pendingKeys(pending(t, s))
	if !slices.Equal(got, []string{"sample " + testSample().ID, "run 1"}) {
		t.Errorf("after the upgrade to 6 the outbox holds %v; want the sample and its run", got)
	}
	id, err := s.BenchID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := uuid.Parse(id); err != nil {
		t.Errorf("bench ID %q: %v", id, err)
	}
	s.Close()
	again, err := Open(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if id2, err := again.BenchID(ctx); err != nil || id2 != id {
		t.Errorf("bench ID after reopening %q, %v; want %q", id2, err, id)
	}
	ro, err := OpenReadOnly(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if id3, err := ro.BenchID(ctx); err != nil || id3 != id {
		t.Errorf("bench ID read-only %q, %v; want %q", id3, err, id)
	}
	// Reopening queues nothing again; another new store is another bench.
	if got := pendingKeys(pending(t, again)); len(got) != 2 {
		t.Errorf("after reopening: %v", got)
	}
	if other, err := openTemp(t).BenchID(ctx); err != nil || other == id {
		t.Errorf("a second store's bench ID %q (%v), the first's %q", other, err, id)
	}
}

// SyncRun and SyncObjects give the run, every object with its crop and measurements
// (NULL: nil) and validation, and the sample's tally equal to Counts, taxon by taxon.
func TestSyncRunAndObjects(t *testing.T) {
	s := finishedStore(t)
	ctx := context.Background()
	sm := testSample()
	bench, err := s.BenchID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var objs []ObjectRow
	c, err := s.Counts(ctx, sm.ID)
	if err != nil {
		t.Fatal(err)
	}
	s.Objects(ctx, c.Sample, true, func(o ObjectRow) error { objs = append(objs, o); return nil })
	if err := s.Validate(ctx, objs[2].ID, "copepod_calanoid", "Ana O'Neill"); err != nil { // 0.4: unidentified until now
		t.Fatal(err)
	}
	if _, err := s.db.Exec("UPDATE objects SET area = NULL, parts = NULL, on_border = NULL, um_per_px = NULL WHERE id = ?", objs[0].ID); err != nil {
		t.Fatal(err)
	}
	c, err = s.Counts(ctx, sm.ID)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.SyncRun(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	r := b.Run
	if r.Bench != bench || r.ID != 1 || r.SampleID != sm.ID || r.Spec != "field.avi" || r.Pack != objs[0].Run.Pack || r.Threshold != 0.5 || r.VolumeML != 2 ||
		r.VolumeExaminedML != nil || r.Rules != "preset:default" || r.Ended == nil || r.FramesSeen != 30 || r.Status != "done" || r.Started.IsZero() {
		t.Errorf("run %+v", r)
	}
	tl := b.Tally
	if tl.Bench != bench || tl.ID != sm.ID || tl.Site != sm.Site || !tl.Taken.Equal(sm.Taken) || tl.Lat == nil || *tl.Lat != 56.95 || tl.DepthM != nil ||
		tl.Objects != c.Objects || tl.Failed != c.Failed || tl.VolumeML != c.Sample.VolumeML || tl.Gone || tl.Deleted != nil || tl.Created.IsZero() {
		t.Errorf("tally sample %+v", tl)
	}
	checkTally(t, tl.Counts, c)
	if len(b.Alerts) != 1 || b.Alerts[0].Rule != "noctiluca" || b.Alerts[0].ToLevel != alerts.Watch.String() || b.Alerts[0].CellsPerL != 500 || b.Alerts[0].RunID != 1 {
		t.Errorf("alerts %+v", b.Alerts)
	}
	if len(b.Perf) != 1 || b.Perf[0].Cells != 10 || b.Perf[0].DurationMS != 35 || b.Perf[0].Watts != nil || b.Perf[0].Variant != string(inference.Optimised) {
		t.Errorf("perf %+v", b.Perf)
	}
	if len(b.Taxa) == 0 || !slices.ContainsFunc(b.Taxa, func(x labrec.Taxon) bool { return x.Label == "protist_noctiluca" && x.Pack == r.Pack && x.Name != "" }) {
		t.Errorf("taxa %+v", b.Taxa)
	}

	var got []labrec.Object
	if err := s.SyncObjects(ctx, 1, func(o labrec.Object) error { got = append(got, o); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(objs) {
		t.Fatalf("%d objects pushed, %d stored", len(got), len(objs))
	}
	for i, o := range got {
		want := objs[i] // Objects reads in seq order, which is ID order here
		if o.ID != want.ID || o.Seq != want.Seq || o.RunID != 1 || !bytes.Equal(o.Crop, want.Crop) || o.Label != want.Label || o.Prob != want.Prob ||
			o.Top != want.Top || o.Error != want.Err || o.Kind != want.Kind || o.X != want.Box.Min.X || o.W != want.Box.Dx() || !o.Time.Equal(want.Time) {
			t.Errorf("object %d pushed as %+v", want.Seq, o)
		}
		if want.Err == "" {
			if _, err := png.Decode(bytes.NewReader(o.Crop)); err != nil {
				t.Errorf("object %d crop: %v", o.Seq, err)
			}
		}
		if i > 0 && o.ID <= got[i-1].ID {
			t.Errorf("objects not in ID order: %d after %d", o.ID, got[i-1].ID)
		}
	}
	if o := got[0]; o.Area != nil || o.Parts != nil || o.UmPerPx != nil || o.OnBorder || o.ESD == nil || *o.ESD != 39.1 {
		t.Errorf("NULL measurements pushed as %v %v %v, ESD %v", o.Area, o.Parts, o.UmPerPx, o.ESD)
	}
	if o := got[4]; o.UmPerPx == nil || *o.UmPerPx != 0.5 || o.AreaUm2 == nil || *o.AreaUm2 != 300.125 {
		t.Errorf("calibrated object %+v", o)
	}
	if o := got[8]; o.Kind != "filament" || !o.Oversize || o.Length == nil || *o.Length != 180.5 || o.CellsEstimate == nil || *o.CellsEstimate != 42 {
		t.Errorf("oversize filament %+v", o)
	}
	if v := got[2].Validation; v == nil || v.Label != "copepod_calanoid" || v.By != "Ana O'Neill" || time.Since(v.At) > time.Minute {
		t.Errorf("validated object: %+v", v)
	}
	for i, o := range got {
		if i != 2 && o.Validation != nil {
			t.Errorf("object %d pushed with validation %+v", o.Seq, o.Validation)
		}
	}
	if _, err := s.SyncRun(ctx, 99); !errors.Is(err, ErrNoRun) {
		t.Errorf("SyncRun of no run: %v", err)
	}
	if err := s.SyncObjects(ctx, 99, func(labrec.Object) error { return nil }); !errors.Is(err, ErrNoRun) {
		t.Errorf("SyncObjects of no run: %v", err)
	}
}

// checkTally compares a pushed tally with the store's Counts, taxon by taxon.
func checkTally(t *testing.T, counts []labrec.Count, c Counts) {
	t.Helper()
	got := map[string]labrec.Count{}
	for _, x := range counts {
		k := x.Kind + ":" + x.Label
		if _, dup := got[k]; dup {
			t.Errorf("tally has %s twice", k)
		}
		got[k] = x
	}
	want := map[string]TaxonCount{}
	for _, x := range c.Taxa {
		want["taxon:"+x.Label] = x
	}
	for _, x := range c.Groups {
		want["group:"+x.Label] = x
	}
	want["unidentified:"+screening.Unidentified] = TaxonCount{Label: screening.Unidentified, Name: "Unidentified", Unit: "cell", Concentration: c.Unidentified,
		Cells: float64(c.Unidentified.Count)}
	if len(got) != len(want) {
		t.Errorf("tally has %d rows, Counts %d: %+v", len(got), len(want), counts)
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("tally lacks %s", k)
			continue
		}
		if g.Count != w.Count || g.Validated != w.Validated || g.PerL != w.PerL || g.CILow != w.Low || g.CIHigh != w.High || g.Name != w.Name ||
			g.Group != w.Group || g.GroupName != w.GroupName || g.Unit != w.Unit || g.Cells != w.Cells {
			t.Errorf("tally %s = %+v; Counts %+v", k, g, w)
		}
	}
	if n := got["taxon:protist_noctiluca"].Count; n == 0 {
		t.Errorf("no Noctiluca counted: %+v", counts)
	}
}

// ApplyLabels: the later validation wins either way, keeps its reviewer and time, is not
// queued back, queues its sample; other benches' labels and vanished objects are ignored.
func TestApplyLabelsLastWriterWins(t *testing.T) {
	s := finishedStore(t)
	ctx := context.Background()
	sm := testSample()
	bench, _ := s.BenchID(ctx)
	q, err := s.ReviewQueue(ctx, sm.ID, 10)
	if err != nil || len(q) == 0 {
		t.Fatalf("review queue %v, %v", q, err)
	}
	var ids []int64
	rows, _ := s.db.Query("SELECT id FROM objects ORDER BY id")
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	a, b := ids[0], q[0].ID // a: Noctiluca at 0.9; b: unidentified
	if err := s.Validate(ctx, a, "copepod_calanoid", "Ana"); err != nil {
		t.Fatal(err)
	}
	local, err := s.SyncLabel(ctx, a)
	if err != nil || local.Label != "copepod_calanoid" || local.By != "Ana" || local.SampleID != sm.ID || local.Bench != bench {
		t.Fatalf("local label %+v, %v", local, err)
	}
	if err := s.DoneSync(ctx, seqsOf(pending(t, s))); err != nil {
		t.Fatal(err)
	}
	// The bench's own label coming back from the server (which keeps microseconds,
	// rounded or truncated) is no change.
	round, trunc := local, local
	round.At, trunc.At = local.At.Round(time.Microsecond), local.At.Truncate(time.Microsecond)
	if changed, _, err := s.ApplyLabels(ctx, []labrec.Label{round, trunc}); err != nil || len(changed) != 0 {
		t.Errorf("the bench's own label pulled back: changed %v, %v", changed, err)
	}
	if got := outboxRows(t, s); len(got) != 0 {
		t.Errorf("the bench's own label pulled back queued %v", got)
	}
	if err := s.Validate(ctx, a, "trichodesmium_puff", "Ana"); err != nil { // not yet pushed
		t.Fatal(err)
	}
	local, _ = s.SyncLabel(ctx, a)
	before, _ := s.Counts(ctx, sm.ID)

	// Older than the local one: nothing changes, and the local change still waits.
	older := labrec.Label{Bench: bench, ObjectID: a, SampleID: sm.ID, Validation: labrec.Validation{Label: "protist_noctiluca", By: "Bo", At: local.At.Add(-time.Hour)}}
	same := older
	same.At = local.At
	changed, _, err := s.ApplyLabels(ctx, []labrec.Label{older, same})
	if err != nil || len(changed) != 0 {
		t.Errorf("older labels: changed %v, %v", changed, err)
	}
	if l, _ := s.SyncLabel(ctx, a); l.Label != "trichodesmium_puff" || l.By != "Ana" {
		t.Errorf("an older label replaced the local one: %+v", l)
	}
	if got := pendingKeys(pending(t, s)); !slices.Contains(got, "label "+strconv.FormatInt(a, 10)) {
		t.Errorf("the local change no longer waits: %v", got)
	}

	// Later: it replaces the local one with its reviewer and time, and is not echoed.
	// Its trailing space (typed on the server) does not make a second Noctiluca.
	at := local.At.Add(time.Hour).Truncate(time.Microsecond)
	later := labrec.Label{Bench: bench, ObjectID: a, SampleID: sm.ID, Validation: labrec.Validation{Label: "protist_noctiluca ", By: "Bo Ødegård", At: at}}
	fresh := labrec.Label{Bench: bench, ObjectID: b, SampleID: sm.ID, Validation: labrec.Validation{Label: "Alexandrium 'minutum'", By: "Cy", At: at.Add(-48 * time.Hour)}}
	foreign := labrec.Label{Bench: uuid.NewString(), ObjectID: ids[1], Validation: labrec.Validation{Label: "copepod_calanoid", By: "Di", At: at}}
	gone := labrec.Label{Bench: bench, ObjectID: 1 << 40, Validation: labrec.Validation{Label: "copepod_calanoid", By: "Di", At: at}}
	changed, applied, err := s.ApplyLabels(ctx, []labrec.Label{later, fresh, foreign, gone})
	if err != nil || !slices.Equal(changed, []string{sm.ID}) || applied != 2 {
		t.Fatalf("later labels: changed %v, %d applied, %v; want [%s], 2 applied (helper-63: the samples were counted as labels)", changed, applied, err, sm.ID)
	}
	for _, want := range []labrec.Label{later, fresh} {
		l, err := s.SyncLabel(ctx, want.ObjectID)
		if err != nil || l.Label != strings.TrimSpace(want.Label) || l.By != want.By || !l.At.Equal(want.At) {
			t.Errorf("object %d after ApplyLabels: %+v, %v; want %+v", want.ObjectID, l, err, want.Validation)
		}
	}
	if l, _ := s.SyncLabel(ctx, ids[1]); l.Label != "" {
		t.Errorf("another bench's label was applied: %+v", l)
	}
	if got := pendingKeys(pending(t, s)); !slices.Equal(got, []string{"sample " + sm.ID}) {
		t.Errorf("after ApplyLabels the outbox lists %v; want the sample alone (no echo)", got)
	}
	after, _ := s.Counts(ctx, sm.ID)
	if n := countOf(after, "Alexandrium 'minutum'"); n != 1 {
		t.Errorf("the pulled lab taxon counts %d: %+v", n, after.Taxa)
	}
	if countOf(after, "protist_noctiluca") != countOf(before, "protist_noctiluca")+1 || countOf(after, "trichodesmium_puff") != countOf(before, "trichodesmium_puff")-1 {
		t.Errorf("counts before %+v after %+v", before.Taxa, after.Taxa)
	}
	tl, err := s.SyncSample(ctx, sm.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkTally(t, tl.Counts, after)
	if err := s.DoneSync(ctx, seqsOf(pending(t, s))); err != nil {
		t.Fatal(err)
	}

	// A local Undo back to the model's label is a change later than the label it undid;
	// a clear pulled later than the local label clears it.
	if _, err := s.Relabel(ctx, b, "copepod_calanoid", "Ana"); err != nil {
		t.Fatal(err)
	}
	relabel, _ := s.SyncLabel(ctx, b)
	if err := s.RestoreValidation(ctx, b, Validation{}); err != nil {
		t.Fatal(err)
	}
	l, _ := s.SyncLabel(ctx, b)
	if l.Label != "" || l.By != "" || !l.At.After(relabel.At) {
		t.Errorf("after an undo to no label: %+v (the label it undid at %v)", l, relabel.At)
	}
	if changed, _, _ := s.ApplyLabels(ctx, []labrec.Label{fresh}); len(changed) != 0 {
		t.Errorf("a label older than the local undo came back: %v", changed)
	}
	clear := labrec.Label{Bench: bench, ObjectID: a, Validation: labrec.Validation{At: at.Add(time.Minute)}}
	if changed, _, err := s.ApplyLabels(ctx, []labrec.Label{clear}); err != nil || len(changed) != 1 {
		t.Errorf("a later clear: %v, %v", changed, err)
	}
	if l, _ := s.SyncLabel(ctx, a); l.Label != "" || !l.At.Equal(clear.At) {
		t.Errorf("after a pulled clear: %+v", l)
	}
	if q2, _ := s.ReviewQueue(ctx, sm.ID, 20); len(q2) != len(q) {
		t.Errorf("review queue %d after the undo, was %d", len(q2), len(q))
	}
}

func countOf(c Counts, label string) int {
	for _, x := range c.Taxa {
		if x.Label == label {
			return x.Count
		}
	}
	return 0
}

// Sample IDs, sites and labels with quotes, SQL metacharacters and unicode round-trip
// through the outbox, SyncSample, SyncObjects and ApplyLabels.
func TestSyncOddNames(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	sm := testSample()
	sm.ID = `O'Brien "bay"'; DROP TABLE samples; -- Ærø 海 🦠`
	sm.Site = `Site '1'; DELETE FROM objects; --`
	r := fillRun(t, s, sm)
	if err := r.Finish(ctx, screening.Snapshot{Threshold: 0.5}, nil); err != nil {
		t.Fatal(err)
	}
	p := pending(t, s)
	if len(p) != 2 || p[0].Kind != labrec.KindSample || p[0].Ref != sm.ID {
		t.Fatalf("pending %v", pendingKeys(p))
	}
	tl, err := s.SyncSample(ctx, p[0].Ref)
	if err != nil || tl.ID != sm.ID || tl.Site != sm.Site || tl.Gone || tl.Objects != 10 {
		t.Fatalf("odd sample: %+v, %v", tl.Sample, err)
	}
	odd := `Ceratium "fusus"'; DROP TABLE objects; -- ñ 角藻`
	var first labrec.Object
	if err := s.SyncObjects(ctx, r.ID, func(o labrec.Object) error {
		if first.ID == 0 {
			first = o
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	bench, _ := s.BenchID(ctx)
	in := labrec.Label{Bench: bench, ObjectID: first.ID, Validation: labrec.Validation{Label: odd, By: `Zoë "Z" O'Hara`, At: time.Now().Add(time.Minute)}}
	changed, _, err := s.ApplyLabels(ctx, []labrec.Label{in})
	if err != nil || !slices.Equal(changed, []string{sm.ID}) {
		t.Fatalf("apply odd label: %v, %v", changed, err)
	}
	var got *labrec.Validation
	s.SyncObjects(ctx, r.ID, func(o labrec.Object) error {
		if o.ID == first.ID {
			got = o.Validation
		}
		return nil
	})
	if got == nil || got.Label != odd || got.By != in.By {
		t.Errorf("odd label read back %+v", got)
	}
	c, err := s.Counts(ctx, sm.ID)
	if err != nil || countOf(c, odd) != 1 {
		t.Errorf("odd label not counted: %v", err)
	}
	if tl, err := s.SyncSample(ctx, sm.ID); err != nil || !slices.ContainsFunc(tl.Counts, func(x labrec.Count) bool { return x.Label == odd && x.Count == 1 }) {
		t.Errorf("odd label not in the tally: %v", err)
	}
	if ids, err := s.SampleIDs(ctx); err != nil || !slices.Equal(ids, []string{sm.ID}) {
		t.Errorf("samples after all that: %q, %v", ids, err)
	}
	// A sample with no runs (made by hand here) pushes with an empty tally.
	if _, err := s.db.Exec("INSERT INTO samples(id, taken, factor, created) VALUES (?, ?, 1, ?)", "ÆØÅ-'0'", timeText(t0), timeText(t0)); err != nil {
		t.Fatal(err)
	}
	if tl, err := s.SyncSample(ctx, "ÆØÅ-'0'"); err != nil || tl.Gone || len(tl.Counts) != 0 || tl.Objects != 0 || tl.ID != "ÆØÅ-'0'" {
		t.Errorf("a sample with no runs: %+v, %v", tl, err)
	}
}

// A deleted sample and its run push with Deleted set; once the trash is emptied the
// sample is Gone (no error), its run and labels leave the outbox.
func TestSyncTrashedAndGone(t *testing.T) {
	s := finishedStore(t)
	ctx := context.Background()
	id := testSample().ID
	var obj int64
	s.db.QueryRow("SELECT MIN(id) FROM objects").Scan(&obj)
	if err := s.Validate(ctx, obj, "copepod_calanoid", "Ana"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSample(ctx, id); err != nil {
		t.Fatal(err)
	}
	b, err := s.SyncRun(ctx, 1)
	if err != nil || b.Tally.Deleted == nil || b.Tally.Gone || b.Tally.Objects != 10 {
		t.Errorf("run of a trashed sample: deleted %v gone %v objects %d, %v", b.Tally.Deleted, b.Tally.Gone, b.Tally.Objects, err)
	}
	if n, err := s.EmptyTrash(ctx, time.Now().Add(TrashKeep+time.Hour)); err != nil || n != 1 {
		t.Fatalf("emptied %d, %v", n, err)
	}
	tl, err := s.SyncSample(ctx, id)
	if err != nil || !tl.Gone || tl.ID != id || len(tl.Counts) != 0 || tl.Bench == "" {
		t.Errorf("emptied sample: %+v, %v; want gone", tl, err)
	}
	if got := pendingKeys(pending(t, s)); !slices.Equal(got, []string{"sample " + id}) {
		t.Errorf("after emptying the trash: %v; want the sample (gone) alone", got)
	}
	if _, err := s.SyncLabel(ctx, obj); !errors.Is(err, ErrNoObject) {
		t.Errorf("label of an emptied object: %v", err)
	}
}

// The bench's name defaults to the host's, can be set (any text, no control
// characters) and unset; sync marks keep what they are given.
func TestBenchNameAndSyncMarks(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	host, _ := os.Hostname()
	if n, err := s.BenchName(ctx); err != nil || n != host {
		t.Errorf("default bench name %q, %v; want the host's %q", n, err, host)
	}
	name := `Bench "B" d'Ærø; --`
	if err := s.SetBenchName(ctx, " "+name+" "); err != nil {
		t.Fatal(err)
	}
	if n, err := s.BenchName(ctx); err != nil || n != name {
		t.Errorf("bench name %q, %v; want %q", n, err, name)
	}
	for _, bad := range []string{"a\nb", strings.Repeat("x", labrec.MaxBenchNameLen+1)} {
		if err := s.SetBenchName(ctx, bad); err == nil {
			t.Errorf("bench name %q accepted", bad)
		}
	}
	if err := s.SetBenchName(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.BenchName(ctx); n != host {
		t.Errorf("unset bench name %q; want the host's", n)
	}
	if v, err := s.SyncMark(ctx, "pulled"); err != nil || v != "" {
		t.Errorf("unset mark %q, %v", v, err)
	}
	for i, v := range []string{"17", "42"} {
		if err := s.SetSyncMark(ctx, "pulled", v); err != nil {
			t.Fatal(err)
		}
		if err := s.SetSyncMark(ctx, "last", fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
		if got, err := s.SyncMark(ctx, "pulled"); err != nil || got != v {
			t.Errorf("mark %q, %v; want %q", got, err, v)
		}
	}
	if got, _ := s.SyncMark(ctx, "last"); got != "1" {
		t.Errorf("second mark %q", got)
	}
	s.Close()
	ro, err := OpenReadOnly(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if err := ro.SetSyncMark(ctx, "pulled", "1"); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("sync mark in a read-only store: %v", err)
	}
	if got, _ := ro.SyncMark(ctx, "pulled"); got != "42" {
		t.Errorf("mark read-only %q", got)
	}
}

// BenchmarkRecordRun records runs of 200 objects with crops, with the outbox triggers
// and with them dropped: the objects/s of the two should not differ measurably, since
// no per-object write queues anything (go test -bench RecordRun -count 5 ./store/).
func BenchmarkRecordRun(b *testing.B) {
	for _, outbox := range []bool{true, false} {
		b.Run(map[bool]string{true: "outbox", false: "no-outbox"}[outbox], func(b *testing.B) {
			s, err := Open(filepath.Join(b.TempDir(), FileName))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			if !outbox {
				for _, n := range []string{"outbox_run_insert", "outbox_run_update", "outbox_run_delete", "outbox_sample_insert",
					"outbox_sample_update", "outbox_sample_delete", "outbox_label", "outbox_object_delete"} {
					if _, err := s.db.Exec("DROP TRIGGER " + n); err != nil {
						b.Fatal(err)
					}
				}
			}
			const n = 200
			crops := realCrops(b)
			recs := make([]screening.ObjectRecord, n)
			for i := range recs {
				recs[i] = record(crops, i+1, "copepod_calanoid", 0.9, "")
			}
			tax := testTaxonomy(b)
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				sm := testSample()
				sm.ID = fmt.Sprintf("S-%06d", i) // a sample per run, as a bench screens them
				r, err := s.StartRun(ctx, screening.RunInfo{Sample: sm, Spec: capture.MustParseSpec("field.avi"), Model: inference.Optimised, Threshold: 0.5, Taxonomy: tax})
				if err != nil {
					b.Fatal(err)
				}
				for j := 0; j < n; j += 20 {
					if err := r.Objects(recs[j : j+20]); err != nil {
						b.Fatal(err)
					}
				}
				if err := r.Finish(ctx, screening.Snapshot{Threshold: 0.5, Variant: inference.Optimised}, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "objects/s")
		})
	}
}

// maxIDs are the largest run, object and alert IDs the store holds.
func maxIDs(t *testing.T, s *Store) [3]int64 {
	t.Helper()
	var m [3]int64
	for i, table := range idTables {
		if err := s.db.QueryRow("SELECT coalesce(max(id), 0) FROM " + table).Scan(&m[i]); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// The lab server knows runs, objects and alerts by their IDs: one that came back after
// the newest rows were deleted (a discarded run, an emptied trash) would give a new
// object an old one's label there. New rows get IDs above every one ever given.
func TestIDsNeverReused(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	sm := testSample()
	sm.ID = "A"
	r := recordRun(t, s, sm, 5)
	if err := r.Discard(ctx); err != nil {
		t.Fatal(err)
	}
	was := maxIDs(t, s)
	if was != ([3]int64{0, 0, 0}) {
		t.Fatalf("after the discard the store holds IDs %v", was)
	}
	sm.ID = "B"
	r = recordRun(t, s, sm, 5)
	if err := r.Finish(ctx, screening.Snapshot{Threshold: 0.5}, nil); err != nil {
		t.Fatal(err)
	}
	var low [3]int64
	for i, table := range idTables {
		s.db.QueryRow("SELECT min(id) FROM " + table).Scan(&low[i])
	}
	// The discarded run held run 1, objects 1 to 5 and alert 1.
	if low != [3]int64{2, 6, 2} {
		t.Errorf("after a discarded run the new run's lowest IDs are %v (run, object, alert); want [2 6 2]", low)
	}
	high := maxIDs(t, s)
	if err := s.DeleteSample(ctx, "B"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.EmptyTrash(ctx, time.Now().Add(TrashKeep+time.Hour)); err != nil || n != 1 {
		t.Fatalf("emptied %d, %v", n, err)
	}
	sm.ID = "C"
	r = recordRun(t, s, sm, 3)
	if err := r.Finish(ctx, screening.Snapshot{Threshold: 0.5}, nil); err != nil {
		t.Fatal(err)
	}
	for i, table := range idTables {
		var lo int64
		s.db.QueryRow("SELECT min(id) FROM " + table).Scan(&lo)
		if lo <= high[i] {
			t.Errorf("%s: after the trash was emptied a new row has ID %d; %d was given before", table, lo, high[i])
		}
	}
}

// A label pulled for an object ID this bench now gives to an object of another sample
// is not applied to it.
func TestApplyLabelsChecksTheSample(t *testing.T) {
	s := finishedStore(t)
	ctx := context.Background()
	bench, err := s.BenchID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var obj int64
	s.db.QueryRow("SELECT MIN(id) FROM objects").Scan(&obj)
	at := time.Now().UTC()
	other := labrec.Label{Bench: bench, ObjectID: obj, SampleID: "not-" + testSample().ID, Validation: labrec.Validation{Label: "copepod_calanoid", By: "Ana", At: at}}
	if changed, _, err := s.ApplyLabels(ctx, []labrec.Label{other}); err != nil || len(changed) != 0 {
		t.Errorf("a label of another sample's object: changed %v, %v; want nothing", changed, err)
	}
	var label sql.NullString
	s.db.QueryRow("SELECT validated_label FROM objects WHERE id = ?", obj).Scan(&label)
	if label.Valid {
		t.Errorf("object %d took the label %q of another sample's object", obj, label.String)
	}
	same := other
	same.SampleID = testSample().ID
	if changed, _, err := s.ApplyLabels(ctx, []labrec.Label{same}); err != nil || !slices.Equal(changed, []string{same.SampleID}) {
		t.Errorf("the label of its own object: changed %v, %v; want its sample", changed, err)
	}
}
