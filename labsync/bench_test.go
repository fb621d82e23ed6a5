package labsync_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/labserver"
	"github.com/phytoscreen/phytoscreen/labsync"
	"github.com/phytoscreen/phytoscreen/store"
)

// BenchmarkSyncPush measures the whole push, store to server over the local socket:
// runs of 500 objects with their crops, read from SQLite and written to PostgreSQL.
//
//	go test -run '^$' -bench SyncPush ./labsync/
func BenchmarkSyncPush(b *testing.B) {
	p := newProgramme(b, "bench_a")
	st, err := store.Open(b.TempDir() + "/sessions.db")
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	cfg := p.as("bench_a")
	sy, err := labsync.New(st, labsync.Options{Dial: func(ctx context.Context) (labsync.Server, error) { return labserver.Open(ctx, cfg) }})
	if err != nil {
		b.Fatal(err)
	}
	tax, cs := defaultTaxonomy(b), crops(b)
	objects := 0
	var pushing time.Duration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		record(b, st, tax, cs, fmt.Sprintf("S%05d", i), 500)
		b.StartTimer()
		start := time.Now()
		res, err := sy.Once(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		pushing += time.Since(start)
		objects += res.Objects
	}
	b.ReportMetric(float64(objects)/pushing.Seconds(), "objects/s")
}

// BenchmarkScreeningWhileSyncing screens the same folder with the real model, in turns
// alone and while the bench's syncer pushes a backlog of 400 runs (20,000 objects), as
// the app's syncer does while a run is recorded (Busy). It reports both throughputs and
// their ratio: the goal is a ratio of 0.9 or more.
//
//	go test -run '^$' -bench ScreeningWhileSyncing -benchtime 10x ./labsync/
func BenchmarkScreeningWhileSyncing(b *testing.B) {
	p := newProgramme(b, "bench_a")
	sc := newScreener(b)
	backlog, err := store.Open(b.TempDir() + "/backlog.db")
	if err != nil {
		b.Fatal(err)
	}
	defer backlog.Close()
	tax, cs := defaultTaxonomy(b), crops(b)
	for i := range 400 {
		record(b, backlog, tax, cs, fmt.Sprintf("B%04d", i), 50)
	}
	screened, err := store.Open(b.TempDir() + "/screened.db")
	if err != nil {
		b.Fatal(err)
	}
	defer screened.Close()
	cfg := p.as("bench_a")
	sy, err := labsync.New(backlog, labsync.Options{Busy: func() bool { return true },
		Dial: func(ctx context.Context) (labsync.Server, error) { return labserver.Open(ctx, cfg) }})
	if err != nil {
		b.Fatal(err)
	}
	// Turns of four screens each, so the syncer's connection (made when it starts, as
	// the app's is once) is not what is measured.
	const turn = 4
	var alone, syncing time.Duration
	crops := 0
	for i := 0; b.Loop(); i++ {
		before := objectsIn(b, screened)
		start := time.Now()
		for k := range turn {
			sc.screen(b, screened, fmt.Sprintf("alone-%d-%d", i, k), k)
		}
		alone += time.Since(start)
		n := objectsIn(b, screened) - before

		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); sy.Run(ctx) }()
		start = time.Now()
		for k := range turn {
			sc.screen(b, screened, fmt.Sprintf("syncing-%d-%d", i, k), k)
		}
		syncing += time.Since(start)
		cancel()
		<-done
		crops += n
	}
	st := sy.Status(context.Background())
	if st.Pushed == 0 {
		b.Fatalf("the syncer pushed nothing while screening (%+v): the comparison measures nothing", st)
	}
	b.ReportMetric(float64(crops)/alone.Seconds(), "crops/s-alone")
	b.ReportMetric(float64(crops)/syncing.Seconds(), "crops/s-syncing")
	b.ReportMetric(alone.Seconds()/syncing.Seconds(), "ratio")
	b.ReportMetric(float64(st.Pushed), "runs-pushed")
}

func objectsIn(b *testing.B, st *store.Store) int {
	ids, err := st.SampleIDs(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, id := range ids {
		c, err := st.Counts(context.Background(), id)
		if err != nil {
			b.Fatal(err)
		}
		n += c.Objects
	}
	return n
}
