package labsync_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/pgtest"
	"github.com/phytoscreen/phytoscreen/labrec"
	"github.com/phytoscreen/phytoscreen/labserver"
	"github.com/phytoscreen/phytoscreen/labsync"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
)

// programme is a throw-away lab server: a real PostgreSQL cluster with the schema
// migrated and a login role per bench.
type programme struct {
	c  *pgtest.Cluster
	db string
}

func newProgramme(t testing.TB, roles ...string) *programme {
	t.Helper()
	c := pgtest.Start(t)
	p := &programme{c: c, db: "programme"}
	c.CreateDatabase(t, p.db)
	if _, _, err := labserver.Migrate(context.Background(), labserver.Config{DSN: c.AdminDSN(p.db)}); err != nil {
		t.Fatal(err)
	}
	for _, r := range roles {
		p.role(t, r, "phytoscreen_bench")
	}
	return p
}

// role makes a login role in one of the programme's group roles, as docs/labserver.md
// has the admin do.
func (p *programme) role(t testing.TB, name, group string) {
	t.Helper()
	p.c.Exec(t, p.db, "CREATE ROLE "+pgIdent(name)+" LOGIN IN ROLE "+pgIdent(group))
}

// pgIdent quotes a test's fixed role name (lower-case letters and underscores only).
func pgIdent(s string) string {
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z') {
			panic("test role name " + s)
		}
	}
	return `"` + s + `"`
}

func (p *programme) admin() labserver.Config { return labserver.Config{DSN: p.c.AdminDSN(p.db)} }

func (p *programme) as(role string) labserver.Config {
	return labserver.Config{DSN: p.c.DSN(role, p.db)}
}

// open connects as the programme's admin, to read back what the benches pushed.
func (p *programme) open(t testing.TB) *labserver.Server {
	t.Helper()
	srv, err := labserver.Open(context.Background(), p.admin())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// bench is a bench's session store and its syncer.
type bench struct {
	st   *store.Store
	sy   *labsync.Syncer
	stop func()
}

func newBench(t testing.TB, p *programme, role string, o labsync.Options) *bench {
	t.Helper()
	dir := filepath.Join(t.TempDir(), role)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "sessions.db"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := p.as(role)
	if o.Dial == nil {
		o.Dial = func(ctx context.Context) (labsync.Server, error) { return labserver.Open(ctx, cfg) }
	}
	if o.Interval == 0 {
		o.Interval = 50 * time.Millisecond
	}
	if o.MinBackoff == 0 {
		o.MinBackoff, o.MaxBackoff = 50*time.Millisecond, 300*time.Millisecond
	}
	o.BenchName = role
	sy, err := labsync.New(st, o)
	if err != nil {
		t.Fatal(err)
	}
	b := &bench{st: st, sy: sy}
	t.Cleanup(func() {
		if b.stop != nil {
			b.stop()
		}
		st.Close()
	})
	return b
}

// run starts the syncer's loop until the test ends (or stop).
func (b *bench) run() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.sy.Run(ctx)
	}()
	b.stop = func() { cancel(); <-done }
}

// drained waits until nothing waits in the bench's outbox.
func (b *bench) drained(t testing.TB, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		st := b.sy.Status(context.Background())
		if st.Pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the outbox still holds %d entries after %v (last error: %s)", st.Pending, within, st.LastError)
		}
		b.sy.Kick()
		time.Sleep(50 * time.Millisecond)
	}
}

// screener screens folders of single-cell images with the real default pack, as the
// app does, into a store.
type screener struct {
	clf   *inference.Classifier
	tax   *screening.Taxonomy
	rules alerts.Binding
	dirs  []string // folders of 2 to 6 images of Noctiluca and others
}

func newScreener(t testing.TB) *screener {
	t.Helper()
	if _, err := inference.InitRuntime(""); err != nil {
		t.Fatal(err)
	}
	pack, err := inference.LoadPack(assets.DefaultPack(), "built-in")
	if err != nil {
		t.Fatal(err)
	}
	clf, err := inference.NewClassifier(pack, inference.Options{Variant: inference.Optimised, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { clf.Close() })
	tax, err := screening.ForPack(pack)
	if err != nil {
		t.Fatal(err)
	}
	rs, name, err := alerts.Open("default", assets.Presets())
	if err != nil {
		t.Fatal(err)
	}
	sc := &screener{clf: clf, tax: tax, rules: rs.BindTo(tax, tax.Pack, name)}
	var imgs []string
	for _, d := range []string{"protist_noctiluca", "copepod_calanoid", "diatom_chain_string", "detritus_blob"} {
		es, err := fs.ReadDir(assets.Samples(), d)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es[:min(len(es), 3)] {
			imgs = append(imgs, d+"/"+e.Name())
		}
	}
	root := t.TempDir()
	for i := range 5 { // five folders of different content: counts differ by sample
		dir := filepath.Join(root, fmt.Sprintf("field%d", i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for j, p := range imgs {
			if j%5 > i%5 && j%3 != 0 {
				continue
			}
			data, err := fs.ReadFile(assets.Samples(), p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%02d.jpg", j)), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		sc.dirs = append(sc.dirs, dir)
	}
	return sc
}

// screen screens folder i%5 as sample id into st.
func (sc *screener) screen(t testing.TB, st *store.Store, id string, i int) {
	sm := screening.NewSample(id)
	sm.Site, sm.Taken = []string{"Loch Creran", "Loch Spelve 'Süd'"}[i%2], time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC).Add(time.Duration(i)*time.Hour)
	spec, err := capture.ParseSpec(sc.dirs[i%len(sc.dirs)])
	if err != nil {
		t.Error(err)
		return
	}
	sess, err := screening.OpenSession(context.Background(), screening.SessionConfig{
		Spec: spec, Sample: sm, Threshold: 0.5, Rules: sc.rules, Classifier: sc.clf, Taxonomy: sc.tax, Store: st.Runs(),
	})
	if err != nil {
		t.Error(err)
		return
	}
	if _, err := sess.Run(context.Background()); err != nil {
		t.Errorf("screen %s: %v", id, err)
	}
}

// sameOnServer checks that the server holds exactly the bench's samples, each with all
// its objects (crop bytes and labels equal), its alerts, and the bench's counts.
func sameOnServer(t *testing.T, srv *labserver.Server, b *bench) {
	t.Helper()
	ctx := context.Background()
	benchID, err := b.st.BenchID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := b.st.SampleIDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := srv.Samples(ctx, labrec.ProgrammeFilter{Bench: benchID})
	if err != nil {
		t.Fatal(err)
	}
	var onServer []string
	for _, s := range got {
		onServer = append(onServer, s.ID)
	}
	slices.Sort(ids)
	slices.Sort(onServer)
	if !slices.Equal(ids, onServer) {
		t.Fatalf("bench %s holds %d samples, the server %d: %q vs %q", benchID, len(ids), len(onServer), ids, onServer)
	}
	for _, id := range ids {
		local, err := b.st.Counts(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		remote, err := srv.SampleCounts(ctx, benchID, id)
		if err != nil {
			t.Fatal(err)
		}
		if remote.Objects != local.Objects || remote.Failed != local.Failed {
			t.Errorf("sample %q: server has %d objects (%d failed), the bench %d (%d)", id, remote.Objects, remote.Failed, local.Objects, local.Failed)
		}
		want := map[string]int{}
		for _, tc := range local.Taxa {
			want[tc.Label] = tc.Count
		}
		have := map[string]int{}
		for _, c := range remote.Counts {
			if c.Kind == "taxon" && c.Count > 0 {
				have[c.Label] = c.Count
			}
		}
		if fmt.Sprint(want) != fmt.Sprint(have) {
			t.Errorf("sample %q: counts per taxon on the server %v, on the bench %v", id, have, want)
		}
		// Every object, crop for crop.
		si, err := b.st.Sample(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		localCrops := map[int64][]byte{}
		for _, run := range si.Runs {
			if err := b.st.SyncObjects(ctx, run.ID, func(o labrec.Object) error {
				localCrops[o.ID] = o.Crop
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		remoteN := 0
		if err := srv.SampleObjects(ctx, benchID, id, func(o labrec.Object) error {
			remoteN++
			if c, ok := localCrops[o.ID]; !ok || !bytes.Equal(c, o.Crop) {
				t.Errorf("sample %q object %d: its crop on the server (%d bytes) is not the bench's (%d bytes, held %v)", id, o.ID, len(o.Crop), len(c), ok)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if remoteN != len(localCrops) {
			t.Errorf("sample %q: %d objects on the server, %d on the bench", id, remoteN, len(localCrops))
		}
		evs, err := b.st.AlertEvents(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		ras, err := srv.SampleAlerts(ctx, benchID, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(ras) != len(evs) {
			t.Errorf("sample %q: %d alerts on the server, %d on the bench", id, len(ras), len(evs))
		}
	}
}

// Two benches screen 50 samples each at once while their syncers push; the server is
// stopped for a while in the middle and started again. Afterwards it holds exactly the
// 100 samples, each with all its objects and crops, its alerts and the bench's counts.
func TestTwoBenchesServerStoppedMidRun(t *testing.T) {
	p := newProgramme(t, "bench_a", "bench_b")
	sc := newScreener(t)
	a := newBench(t, p, "bench_a", labsync.Options{})
	b := newBench(t, p, "bench_b", labsync.Options{})
	a.run()
	b.run()

	var screened atomic.Int32
	stopped, restarted := make(chan struct{}), make(chan struct{})
	go func() { // the server goes away after 30 samples and comes back after 70
		for screened.Load() < 30 {
			time.Sleep(10 * time.Millisecond)
		}
		p.c.Stop()
		close(stopped)
		for screened.Load() < 70 {
			time.Sleep(10 * time.Millisecond)
		}
		if err := p.c.Start(); err != nil {
			t.Error(err)
		}
		close(restarted)
	}()
	var wg sync.WaitGroup
	for k, bn := range []*bench{a, b} {
		wg.Go(func() {
			for i := range 50 {
				id := fmt.Sprintf("%c-%02d", 'A'+k, i)
				if i%7 == 3 {
					id = fmt.Sprintf("%c-%02d 'Nord'; DROP TABLE samples; -- ☃ 日本", 'A'+k, i)
				}
				sc.screen(t, bn.st, id, i+k)
				screened.Add(1)
			}
		})
	}
	wg.Wait()
	<-stopped
	<-restarted
	a.drained(t, 2*time.Minute)
	b.drained(t, 2*time.Minute)

	srv := p.open(t)
	all, err := srv.Samples(context.Background(), labrec.ProgrammeFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 100 {
		t.Fatalf("the server holds %d samples, want exactly 100", len(all))
	}
	sameOnServer(t, srv, a)
	sameOnServer(t, srv, b)
	for _, bn := range []*bench{a, b} {
		if st := bn.sy.Status(context.Background()); st.LastError != "" || !st.Connected || st.LastSync.IsZero() {
			t.Errorf("after the server came back the syncer says %+v", st)
		}
	}
}
