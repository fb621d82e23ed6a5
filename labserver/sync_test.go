package labserver

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/internal/pgtest"
	"github.com/phytoscreen/phytoscreen/labrec"
)

// TestBenchesAtOnce: two benches push 25 runs each at the same time while a reviewer
// relabels their objects and each bench pulls labels as it goes. Every row arrives once,
// and the labels each bench pulled, applied in order, end as the server's (no revision
// is skipped by a pull that raced a commit).
func TestBenchesAtOnce(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	admin := connect(t, db, "postgres")
	const runs, perRun = 25, 12
	benches := []string{"bench-A", "bench-B"}
	servers := map[string]*Server{}
	for _, b := range benches {
		servers[b] = benchServer(t, db, b, b)
	}
	rv := connect(t, db, role(t, "phytoscreen_reviewer"))
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	pulled := map[string]map[int64]string{}
	var pulledMu sync.Mutex
	done := make(chan struct{})
	for _, b := range benches {
		s := servers[b]
		wg.Add(1)
		go func() { // pushes runs, some objects validated on the bench
			defer wg.Done()
			for r := int64(1); r <= runs; r++ {
				f := makeRun(b, fmt.Sprintf("%s-S%02d", b, r), "Kiel", t0.Add(time.Duration(r)*time.Hour), r, r*1000, perRun, "watch")
				f.objects[0].Validation = &labrec.Validation{Label: "bench", By: b, At: t0.Add(time.Duration(r) * time.Minute)}
				if err := s.PushRun(ctx, f.batch, f.stream); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	pullers := sync.WaitGroup{}
	for _, b := range benches {
		s := servers[b]
		pulledMu.Lock()
		pulled[b] = map[int64]string{}
		pulledMu.Unlock()
		pullers.Add(1)
		go func() { // pulls as a bench's sync loop would, resuming after the last revision
			defer pullers.Done()
			var since int64
			pull := func() bool {
				got, err := s.PullLabels(ctx, b, since, 7)
				if err != nil {
					errs <- err
					return false
				}
				pulledMu.Lock()
				for _, l := range got {
					pulled[b][l.ObjectID] = l.Label
					since = l.Rev
				}
				pulledMu.Unlock()
				return len(got) > 0
			}
			for {
				select {
				case <-done:
					for pull() {
					}
					return
				default:
					pull()
				}
			}
		}()
	}
	wg.Add(1)
	go func() { // a reviewer relabels objects as they arrive
		defer wg.Done()
		r := rand.New(rand.NewPCG(1, 2))
		for i := 0; i < 150; i++ {
			b := benches[i%2]
			obj := int64(1+r.IntN(runs))*1000 + int64(r.IntN(perRun))
			err := rv.Relabel(ctx, b, obj, labrec.Validation{Label: fmt.Sprintf("rev%d", i), By: "reviewer", At: t0.Add(48*time.Hour + time.Duration(i)*time.Second)})
			if err != nil && !isMissing(err) {
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	close(done)
	pullers.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, b := range benches {
		if n := count(t, admin, "SELECT count(*) FROM samples WHERE bench_id = $1", b); n != runs {
			t.Errorf("%s: %d samples, want %d", b, n, runs)
		}
		if n := count(t, admin, "SELECT count(*) FROM objects WHERE bench_id = $1", b); n != runs*perRun {
			t.Errorf("%s: %d objects, want %d", b, n, runs*perRun)
		}
		if n := count(t, admin, "SELECT count(*) FROM alerts WHERE bench_id = $1", b); n != runs {
			t.Errorf("%s: %d alerts, want %d", b, n, runs)
		}
		rows, err := admin.pool.Query(ctx, `SELECT object_id, validated_label FROM objects WHERE bench_id = $1 AND validated_label IS NOT NULL`, b)
		if err != nil {
			t.Fatal(err)
		}
		server := map[int64]string{}
		for rows.Next() {
			var id int64
			var l string
			if err := rows.Scan(&id, &l); err != nil {
				t.Fatal(err)
			}
			server[id] = l
		}
		if len(server) < runs {
			t.Fatalf("%s: only %d validated objects", b, len(server))
		}
		for id, l := range server {
			if pulled[b][id] != l {
				t.Errorf("%s object %d: the server says %q, the pulls ended at %q", b, id, l, pulled[b][id])
			}
		}
	}
}

// isMissing: a relabel of an object whose run is not pushed yet.
func isMissing(err error) bool { return err != nil && strings.Contains(err.Error(), "no such object") }

// TestServerKilledMidPush: the server crashes and comes back while a bench pushes; the
// bench retries what failed, and the server ends with every run exactly once.
func TestServerKilledMidPush(t *testing.T) {
	ctx := context.Background()
	c := pgtest.Start(t)
	db := "lab"
	c.CreateDatabase(t, db)
	if _, _, err := Migrate(ctx, Config{DSN: c.AdminDSN(db)}); err != nil {
		t.Fatal(err)
	}
	user := unique("killed_bench")
	c.Exec(t, "postgres", fmt.Sprintf("CREATE ROLE %s LOGIN IN ROLE phytoscreen_bench", user))
	s, err := Open(ctx, Config{DSN: c.DSN(user, db)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Hello(ctx, "bench-K", "K"); err != nil {
		t.Fatal(err)
	}
	const runs, perRun = 40, 50
	pushed := make(chan int64, runs)
	// The first try of runs 11 and 26 holds its objects until the server has been killed
	// under it, so each kill lands mid-push: killed after the 10th and 25th pushes had
	// come back, the kills could miss every push on a loaded machine (CI, 2026-12-05).
	midPush, killed := make(chan struct{}), make(chan struct{})
	killAt := map[int64]bool{11: true, 26: true}
	failures := 0
	go func() {
		defer close(pushed)
		for r := int64(1); r <= runs; r++ {
			f := makeRun("bench-K", fmt.Sprintf("K%02d", r), "Kiel", t0, r, r*1000, perRun, "alert")
			stream := f.stream
			if killAt[r] {
				held := false
				stream = func(fn func(labrec.Object) error) error {
					if !held {
						held = true
						midPush <- struct{}{}
						<-killed
					}
					return f.stream(fn)
				}
			}
			deadline := time.Now().Add(time.Minute)
			for {
				err := s.PushRun(ctx, f.batch, stream)
				if err == nil {
					break
				}
				failures++
				if time.Now().After(deadline) {
					t.Errorf("run %d never pushed: %v", r, err)
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
			pushed <- r
		}
	}()
	n := 0
	for open := true; open; {
		select {
		case _, open = <-pushed:
			if open {
				n++
			}
		case <-midPush:
			if err := c.Kill(); err != nil {
				t.Fatal(err)
			}
			killed <- struct{}{} // the held push goes on against a dead server
			time.Sleep(300 * time.Millisecond)
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n != runs {
		t.Fatalf("%d runs pushed", n)
	}
	admin, err := Open(ctx, Config{DSN: c.AdminDSN(db)})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	for tb, want := range map[string]int{"samples": runs, "runs": runs, "objects": runs * perRun, "alerts": runs, "perf": runs, "sample_counts": 3 * runs} {
		if got := count(t, admin, "SELECT count(*) FROM "+tb); got != want {
			t.Errorf("%s: %d rows, want %d", tb, got, want)
		}
	}
	if failures == 0 {
		t.Errorf("no push failed: the kills did not land mid-push")
	}
	t.Logf("%d pushes failed while the server was down and were retried", failures)
}

// BenchmarkPushRun: objects per second pushed over the unix socket, runs of 500 objects
// with realistic crops (about 3 kB PNG each).
func BenchmarkPushRun(b *testing.B) {
	ctx := context.Background()
	db := newDB(b)
	s := benchServer(b, db, "bench-bench", "bench")
	proto := makeRun("bench-bench", "S", "Kiel", t0, 1, 1, 500, "watch")
	size := 0
	for _, o := range proto.objects {
		size += len(o.Crop)
	}
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		f := proto
		run := int64(i + 1)
		f.batch.Tally.ID = fmt.Sprintf("S%d", run)
		f.batch.Run.ID, f.batch.Run.SampleID = run, f.batch.Tally.ID
		f.batch.Alerts = []labrec.Alert{proto.batch.Alerts[0]}
		f.batch.Alerts[0].ID, f.batch.Alerts[0].RunID = run, run
		f.batch.Perf = []labrec.Perf{proto.batch.Perf[0]}
		f.batch.Perf[0].ID, f.batch.Perf[0].RunID = run, run
		err := s.PushRun(ctx, f.batch, func(fn func(labrec.Object) error) error {
			for j, o := range proto.objects {
				o.ID, o.RunID = run*1000+int64(j), run
				if err := fn(o); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*500)/time.Since(start).Seconds(), "objects/s")
	b.ReportMetric(float64(size)/500, "crop-bytes/object")
}

// TestAdminNotSuperuser: the set-up docs/labserver.md gives works: an admin role with
// CREATEROLE owning the database migrates it (making the group roles on a new cluster),
// makes a bench's login role, and reads and manages what benches pushed through the
// owner's policy (row level security is forced on the owner too).
func TestAdminNotSuperuser(t *testing.T) {
	ctx := context.Background()
	c := pgtest.Start(t)
	c.Exec(t, "postgres", "CREATE ROLE phyto_admin LOGIN CREATEROLE")
	c.Exec(t, "postgres", "CREATE DATABASE phytoscreen OWNER phyto_admin")
	from, to, err := Migrate(ctx, Config{DSN: c.DSN("phyto_admin", "phytoscreen")})
	if err != nil || from != 0 || to != SchemaVersion {
		t.Fatalf("migrate as phyto_admin: %d→%d, %v", from, to, err)
	}
	admin, err := Open(ctx, Config{DSN: c.DSN("phyto_admin", "phytoscreen")})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.pool.Exec(ctx, "CREATE ROLE bench_kiel_1 LOGIN PASSWORD 'a long random password' IN ROLE phytoscreen_bench"); err != nil {
		t.Fatalf("the admin making a bench role: %v", err)
	}
	if _, err := admin.pool.Exec(ctx, "CREATE ROLE bench_sylt LOGIN IN ROLE phytoscreen_bench"); err != nil {
		t.Fatal(err)
	}
	bench, err := Open(ctx, Config{DSN: c.HostDSN("bench_kiel_1", "", "phytoscreen"), Password: "a long random password"})
	if err != nil {
		t.Fatal(err)
	}
	defer bench.Close()
	if err := bench.Hello(ctx, "bench-kiel", "Kiel 1"); err != nil {
		t.Fatal(err)
	}
	f := makeRun("bench-kiel", "K1", "Kiel", t0, 1, 1, 4, "alert")
	if err := bench.PushRun(ctx, f.batch, f.stream); err != nil {
		t.Fatal(err)
	}
	got, err := admin.Samples(ctx, labrec.ProgrammeFilter{})
	if err != nil || len(got) != 1 || got[0].ID != "K1" || got[0].TopLevel != "alert" {
		t.Fatalf("the admin reading samples: %+v, %v", got, err)
	}
	// The bench moves to a new machine with its own role: the admin hands the ID over.
	if _, err := admin.pool.Exec(ctx, "UPDATE benches SET role_name = 'bench_sylt' WHERE bench_id = 'bench-kiel'"); err != nil {
		t.Fatal(err)
	}
	if err := bench.Hello(ctx, "bench-kiel", "Kiel 1"); err == nil || !strings.Contains(err.Error(), "registered to role bench_sylt") {
		t.Fatalf("the old role after the handover: %v", err)
	}
	moved, err := Open(ctx, Config{DSN: c.DSN("bench_sylt", "phytoscreen")})
	if err != nil {
		t.Fatal(err)
	}
	defer moved.Close()
	if err := moved.Hello(ctx, "bench-kiel", "Kiel 1"); err != nil {
		t.Fatal(err)
	}
	if err := moved.PushRun(ctx, f.batch, f.stream); err != nil {
		t.Fatalf("the new role pushing the bench's run: %v", err)
	}
}
