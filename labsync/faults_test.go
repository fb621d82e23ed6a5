package labsync_test

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"io/fs"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/imagefile"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/labrec"
	"github.com/phytoscreen/phytoscreen/labserver"
	"github.com/phytoscreen/phytoscreen/labsync"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
	"github.com/phytoscreen/phytoscreen/vision"
)

// crops are real NDSB images used as the objects' crops.
func crops(t testing.TB) []*image.Gray {
	t.Helper()
	var out []*image.Gray
	for _, d := range []string{"protist_noctiluca", "copepod_calanoid", "diatom_chain_string"} {
		es, err := fs.ReadDir(assets.Samples(), d)
		if err != nil {
			t.Fatal(err)
		}
		data, err := fs.ReadFile(assets.Samples(), d+"/"+es[0].Name())
		if err != nil {
			t.Fatal(err)
		}
		img, err := imagefile.Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, imagefile.ToGray(img))
	}
	return out
}

var labels = []string{"protist_noctiluca", "copepod_calanoid", "diatom_chain_string"}

// record stores a run of n objects for sample id, as a screening session records it:
// objects with crops and labels, an alert, a power record.
func record(t testing.TB, st *store.Store, tax *screening.Taxonomy, cs []*image.Gray, id string, n int) {
	t.Helper()
	sm := screening.NewSample(id)
	sm.Site, sm.Taken = "Loch Creran", time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	ctx := context.Background()
	r, err := st.StartRun(ctx, screening.RunInfo{Sample: sm, Spec: capture.MustParseSpec("field.avi"), Model: inference.Optimised, Threshold: 0.5, Rules: "preset:default", Taxonomy: tax})
	if err != nil {
		t.Fatal(err)
	}
	var recs []screening.ObjectRecord
	for i := range n {
		c := cs[i%len(cs)]
		l := labels[i%len(labels)]
		recs = append(recs, screening.ObjectRecord{Seq: i + 1, Time: sm.Taken.Add(time.Duration(i) * time.Millisecond),
			Object: vision.Object{Source: "field.avi", Frame: i, Track: i, New: true, Box: image.Rect(0, 0, c.Rect.Dx(), c.Rect.Dy()), AreaPx: 100, Crop: c, Kind: vision.KindCell},
			Label:  l, Prob: 0.9, Variant: inference.Optimised, Category: l, Top: []inference.Prediction{{Label: l, Prob: 0.9}}})
	}
	for len(recs) > 0 {
		k := min(len(recs), 200)
		if err := r.Objects(recs[:k]); err != nil {
			t.Fatal(err)
		}
		recs = recs[k:]
	}
	ev := alerts.Event{Time: sm.Taken, Rule: "noctiluca", Taxon: "noctiluca", From: alerts.None, To: alerts.Watch, Value: alerts.Measure{Count: 1, PerL: 1000},
		Threshold: alerts.Threshold{Presence: true, Unit: alerts.Presence}, Source: "phytoscreen default"}
	if err := r.Event(ev); err != nil {
		t.Fatal(err)
	}
	if err := r.Perf(screening.PerfSample{Time: sm.Taken, Variant: inference.Optimised, Cells: n, Duration: time.Duration(n) * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if err := r.Finish(ctx, screening.Snapshot{}, nil); err != nil {
		t.Fatal(err)
	}
}

func defaultTaxonomy(t testing.TB) *screening.Taxonomy {
	t.Helper()
	p, err := inference.LoadPack(assets.DefaultPack(), "built-in")
	if err != nil {
		t.Fatal(err)
	}
	return screening.DefaultTaxonomy(p.Name, p.Labels)
}

// proxy forwards TCP connections to the server; cut closes its listener and every
// connection, so the bench sees "connection refused" as on a cut network, and restore
// listens again on the same address.
type proxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        []net.Conn
}

func newProxy(t testing.TB, target string) *proxy {
	p := &proxy{target: target}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }() //nolint:errcheck // ends with the connection
			go func() { io.Copy(c, s); c.Close() }() //nolint:errcheck
		}
	}()
}

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *proxy) restore(t testing.TB) {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.serve(ln)
}

// The network is cut (connection refused) while the bench records 100 samples; the
// bench keeps recording, the outbox grows, and when the network returns everything is
// pushed once: exactly 100 samples with all their objects.
func TestNetworkCutFor100Samples(t *testing.T) {
	p := newProgramme(t, "bench_a")
	p.c.Exec(t, p.db, "ALTER ROLE bench_a PASSWORD 's3cret ''quoted'''")
	px := newProxy(t, fmt.Sprintf("127.0.0.1:%d", p.c.Port()))
	host, port, _ := net.SplitHostPort(px.addr)
	cfg := labserver.Config{DSN: fmt.Sprintf("host=%s port=%s dbname=%s user=bench_a sslmode=disable", host, port, p.db), Password: "s3cret 'quoted'"}
	a := newBench(t, p, "bench_a", labsync.Options{Dial: func(ctx context.Context) (labsync.Server, error) { return labserver.Open(ctx, cfg) }})
	a.run()
	tax, cs := defaultTaxonomy(t), crops(t)
	record(t, a.st, tax, cs, "before-cut", 20)
	a.drained(t, time.Minute)

	px.cut()
	for i := range 100 {
		record(t, a.st, tax, cs, fmt.Sprintf("cut-%03d", i), 5+i%7)
	}
	time.Sleep(300 * time.Millisecond) // a few rounds fail meanwhile
	st := a.sy.Status(context.Background())
	if st.Pending < 100 || st.Connected || !strings.Contains(st.LastError, "refused") {
		t.Errorf("while the network is cut the syncer says %+v; want ≥ 100 pending, not connected, connection refused", st)
	}
	px.restore(t)
	a.drained(t, 2*time.Minute)
	srv := p.open(t)
	all, err := srv.Samples(context.Background(), labrec.ProgrammeFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 101 {
		t.Fatalf("the server holds %d samples, want 101", len(all))
	}
	sameOnServer(t, srv, a)
}

// killingBox kills the server while a run's objects are being pushed.
type killingBox struct {
	*store.Store
	at   int
	kill func()
	once sync.Once
}

func (k *killingBox) SyncObjects(ctx context.Context, runID int64, fn func(labrec.Object) error) error {
	n := 0
	return k.Store.SyncObjects(ctx, runID, func(o labrec.Object) error {
		n++
		if n == k.at {
			k.once.Do(k.kill)
		}
		return fn(o)
	})
}

// The server is killed (immediate shutdown) halfway through pushing a run of 2,000
// objects: the push fails, the run stays queued, and after the restart it is pushed
// whole: 2,000 objects, not 1,000 and not 3,000.
func TestServerKilledMidPush(t *testing.T) {
	p := newProgramme(t, "bench_a")
	st := newBenchStore(t)
	record(t, st, defaultTaxonomy(t), crops(t), "big", 2000)
	box := &killingBox{Store: st, at: 1000, kill: func() { p.c.Kill() }}
	cfg := p.as("bench_a")
	sy, err := labsync.New(box, labsync.Options{Dial: func(ctx context.Context) (labsync.Server, error) { return labserver.Open(ctx, cfg) }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sy.Once(context.Background()); err == nil {
		t.Fatal("the round went through although the server was killed in it")
	}
	if ob, _ := st.OutboxState(context.Background()); ob.Pending == 0 {
		t.Fatal("the outbox is empty after a failed push")
	}
	if err := p.c.Start(); err != nil {
		t.Fatal(err)
	}
	res, err := sy.Once(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Objects != 2000 || res.Pending != 0 {
		t.Errorf("after the restart the round pushed %d objects and left %d pending", res.Objects, res.Pending)
	}
	sameOnServer(t, p.open(t), &bench{st: st, sy: sy})
}

// forgetfulBox fails to mark its first pushed entry done: the bench died after the
// server committed and before the outbox knew. The entry is pushed again next round.
type forgetfulBox struct {
	*store.Store
	failed bool
}

func (f *forgetfulBox) DoneSync(ctx context.Context, seqs []int64) error {
	if !f.failed {
		f.failed = true
		return errors.New("disk full (test)")
	}
	return f.Store.DoneSync(ctx, seqs)
}

// The same sample pushed twice (the bench died between the server's commit and its
// own outbox, then the whole history pushed again from another syncer) leaves one copy.
func TestSamePushedTwice(t *testing.T) {
	p := newProgramme(t, "bench_a")
	st := newBenchStore(t)
	tax, cs := defaultTaxonomy(t), crops(t)
	record(t, st, tax, cs, "twice 'ü'", 40)
	record(t, st, tax, cs, "other", 3)
	cfg := p.as("bench_a")
	dial := func(ctx context.Context) (labsync.Server, error) { return labserver.Open(ctx, cfg) }
	sy, err := labsync.New(&forgetfulBox{Store: st}, labsync.Options{Dial: dial})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sy.Once(context.Background()); err == nil {
		t.Fatal("the round did not report the outbox's failure")
	}
	res, err := sy.Once(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Pending != 0 {
		t.Fatalf("%d entries still pending", res.Pending)
	}
	// A second syncer pushes the same runs again, as a bench restored from a backup would.
	twice, err := labsync.New(st, labsync.Options{Dial: dial})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := labserver.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	benchID, _ := st.BenchID(context.Background())
	si, err := st.Sample(context.Background(), "twice 'ü'")
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.SyncRun(context.Background(), si.Runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Hello(context.Background(), benchID, "bench_a"); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := srv.PushRun(context.Background(), b, func(fn func(labrec.Object) error) error {
			return st.SyncObjects(context.Background(), si.Runs[0].ID, fn)
		}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := twice.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	sameOnServer(t, p.open(t), &bench{st: st, sy: twice})
}

// A reviewer relabels on the server: the label comes back to the bench with the
// reviewer and time. Where the bench relabelled later, the bench's label wins on both.
func TestRelabelsComeBack(t *testing.T) {
	p := newProgramme(t, "bench_a")
	p.role(t, "dr_ana", "phytoscreen_reviewer")
	a := newBench(t, p, "bench_a", labsync.Options{})
	ctx := context.Background()
	record(t, a.st, defaultTaxonomy(t), crops(t), "reviewed", 6)
	if _, err := a.sy.Once(ctx); err != nil {
		t.Fatal(err)
	}
	benchID, _ := a.st.BenchID(ctx)
	si, err := a.st.Sample(ctx, "reviewed")
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	if err := a.st.SyncObjects(ctx, si.Runs[0].ID, func(o labrec.Object) error { ids = append(ids, o.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	rev, err := labserver.Open(ctx, p.as("dr_ana"))
	if err != nil {
		t.Fatal(err)
	}
	defer rev.Close()
	now := time.Now().UTC().Truncate(time.Microsecond)
	// Object 0: only the reviewer labels it. Object 1: the reviewer first, the bench later.
	if err := rev.Relabel(ctx, benchID, ids[0], labrec.Validation{Label: "Dinophysis 'acuminata'", By: "Dr. Ana Núñez", At: now.Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := rev.Relabel(ctx, benchID, ids[1], labrec.Validation{Label: "copepod_calanoid", By: "Dr. Ana Núñez", At: now.Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := a.st.Validate(ctx, ids[1], "protist_noctiluca", "tech on bench"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.sy.Once(ctx); err != nil {
		t.Fatal(err)
	}
	l0, err := a.st.SyncLabel(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if l0.Label != "Dinophysis 'acuminata'" || l0.By != "Dr. Ana Núñez" || !l0.At.Equal(now.Add(-time.Minute)) {
		t.Errorf("the reviewer's label came back as %+v", l0.Validation)
	}
	l1, err := a.st.SyncLabel(ctx, ids[1])
	if err != nil {
		t.Fatal(err)
	}
	if l1.Label != "protist_noctiluca" || l1.By != "tech on bench" {
		t.Errorf("the bench's later label was replaced by the reviewer's older one: %+v", l1.Validation)
	}
	// One more round: the sample's new tally (the reviewer's label counted) reaches the
	// server, and the bench's label of object 1 is the server's too.
	if _, err := a.sy.Once(ctx); err != nil {
		t.Fatal(err)
	}
	srv := p.open(t)
	sameOnServer(t, srv, a)
	if err := srv.SampleObjects(ctx, benchID, "reviewed", func(o labrec.Object) error {
		if o.ID == ids[1] && (o.Validation == nil || o.Validation.Label != "protist_noctiluca") {
			t.Errorf("the server keeps %+v for object 1, want the bench's later label", o.Validation)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// troubledBox fails its first object read (a disk error: the store's fault, not the
// server's), and empties the trash of one sample between listing the outbox and reading
// its run (the run is gone, as after a user emptied the trash meanwhile).
type troubledBox struct {
	*store.Store
	vanish  string
	objects bool
}

func (b *troubledBox) SyncObjects(ctx context.Context, runID int64, fn func(labrec.Object) error) error {
	if !b.objects {
		b.objects = true
		return errors.New("disk I/O error (test)")
	}
	return b.Store.SyncObjects(ctx, runID, fn)
}

func (b *troubledBox) SyncRun(ctx context.Context, runID int64) (labrec.RunBatch, error) {
	if b.vanish != "" {
		if err := b.Store.DeleteSample(ctx, b.vanish); err != nil {
			return labrec.RunBatch{}, err
		}
		if _, err := b.Store.EmptyTrash(ctx, time.Now().Add(store.TrashKeep+time.Hour)); err != nil {
			return labrec.RunBatch{}, err
		}
		b.vanish = ""
	}
	return b.Store.SyncRun(ctx, runID)
}

// The bench's own failures are not the server's refusals: a failed local read is
// retried (the entry is not set aside as refused), and an entry whose run the bench
// removed meanwhile is dropped as done; everything else arrives.
func TestLocalFailuresAreNotRefusals(t *testing.T) {
	p := newProgramme(t, "bench_a")
	st := newBenchStore(t)
	tax, cs := defaultTaxonomy(t), crops(t)
	record(t, st, tax, cs, "first", 5)
	record(t, st, tax, cs, "second", 4)
	cfg := p.as("bench_a")
	sy, err := labsync.New(&troubledBox{Store: st, vanish: "first"}, labsync.Options{Dial: func(ctx context.Context) (labsync.Server, error) { return labserver.Open(ctx, cfg) }})
	if err != nil {
		t.Fatal(err)
	}
	res, err := sy.Once(context.Background())
	if err == nil || !strings.Contains(err.Error(), "disk I/O error") {
		t.Fatalf("first round: %+v, %v; want the store's read error", res, err)
	}
	if res.Stuck != 0 {
		t.Errorf("the store's own failure set %d entries aside as refused by the server", res.Stuck)
	}
	res, err = sy.Once(context.Background())
	if err != nil || res.Pending != 0 || res.Stuck != 0 {
		t.Fatalf("second round: %+v, %v; want everything pushed, none refused", res, err)
	}
	srv := p.open(t)
	ws, err := srv.Samples(context.Background(), labrec.ProgrammeFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range ws {
		got = append(got, s.ID+fmt.Sprintf(":%d", s.Objects))
	}
	if strings.Join(got, ",") != "second:4" {
		t.Errorf("server samples %v; want second:4 alone (first was removed on the bench before it was pushed)", got)
	}
}

// closeCounter is a Server that counts its Close calls.
type closeCounter struct {
	labsync.Server
	closed *atomic.Int32
}

func (c closeCounter) Close() { c.closed.Add(1); c.Server.Close() }

// A caller of Once (phytoscreen sync) closes the connection with Close; closing twice
// closes it once.
func TestCloseClosesTheConnection(t *testing.T) {
	p := newProgramme(t, "bench_a")
	st := newBenchStore(t)
	record(t, st, defaultTaxonomy(t), crops(t), "one", 3)
	cfg := p.as("bench_a")
	var closed atomic.Int32
	sy, err := labsync.New(st, labsync.Options{Dial: func(ctx context.Context) (labsync.Server, error) {
		srv, err := labserver.Open(ctx, cfg)
		if err != nil {
			return nil, err
		}
		return closeCounter{srv, &closed}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := sy.Once(context.Background()); err != nil || res.Pending != 0 {
		t.Fatalf("round: %+v, %v", res, err)
	}
	if n := closed.Load(); n != 0 {
		t.Fatalf("the connection was closed %d times during the round", n)
	}
	sy.Close()
	sy.Close()
	if n := closed.Load(); n != 1 {
		t.Errorf("after Close the connection was closed %d times; want 1", n)
	}
}

// newBenchStore opens a bench's empty session store, closed when the test ends.
func newBenchStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(t.TempDir() + "/sessions.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
