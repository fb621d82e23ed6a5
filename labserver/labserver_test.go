package labserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/phytoscreen/phytoscreen/labrec"
)

var tables = []string{"benches", "samples", "runs", "objects", "alerts", "perf", "taxa", "sample_counts"}

// digest is each table's row count and a hash of its content (push times left out).
func digest(t *testing.T, admin *Server) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, tb := range tables {
		var n int
		var h string
		q := fmt.Sprintf(`SELECT count(*), md5(coalesce(string_agg(j, '|' ORDER BY j), ''))
FROM (SELECT (to_jsonb(whole_row) - 'pushed_at' - 'last_push')::text AS j FROM %s whole_row) y`, pgx.Identifier{tb}.Sanitize())
		if err := admin.pool.QueryRow(context.Background(), q).Scan(&n, &h); err != nil {
			t.Fatal(err)
		}
		out[tb] = fmt.Sprintf("%d rows %s", n, h)
	}
	return out
}

func count(t *testing.T, admin *Server, q string, args ...any) int {
	t.Helper()
	var n int
	if err := admin.pool.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestMigrate(t *testing.T) {
	ctx := context.Background()
	db := unique("migrate")
	cluster.CreateDatabase(t, db)
	from, to, err := Migrate(ctx, Config{DSN: cluster.AdminDSN(db)})
	if err != nil || from != 0 || to != SchemaVersion {
		t.Fatalf("first Migrate: %d→%d, %v; want 0→%d", from, to, err, SchemaVersion)
	}
	from, to, err = Migrate(ctx, Config{DSN: cluster.AdminDSN(db)})
	if err != nil || from != SchemaVersion || to != SchemaVersion {
		t.Fatalf("second Migrate: %d→%d, %v; want no-op at %d", from, to, err, SchemaVersion)
	}
	admin := connect(t, db, "postgres")
	for _, tb := range tables {
		if n := count(t, admin, `SELECT count(*) FROM pg_class WHERE relname = $1 AND relrowsecurity AND relforcerowsecurity`, tb); n != 1 {
			t.Errorf("table %s: missing or without forced row level security", tb)
		}
	}
	for _, r := range []string{"phytoscreen_bench", "phytoscreen_reader", "phytoscreen_reviewer"} {
		if n := count(t, admin, `SELECT count(*) FROM pg_roles WHERE rolname = $1 AND NOT rolcanlogin`, r); n != 1 {
			t.Errorf("group role %s missing", r)
		}
	}
	if err := admin.CheckSchema(ctx); err != nil {
		t.Fatalf("CheckSchema after Migrate: %v", err)
	}
	// A server migrated by a newer phytoscreen: this one refuses to write to it.
	if _, err := admin.pool.Exec(ctx, `INSERT INTO goose_db_version (version_id, is_applied) VALUES ($1, true)`, SchemaVersion+1); err != nil {
		t.Fatal(err)
	}
	if err := admin.Hello(ctx, "bench-N", "n"); !errors.Is(err, ErrNoSchema) || !strings.Contains(err.Error(), "update phytoscreen on this bench") {
		t.Fatalf("Hello on a newer schema: %v", err)
	}
}

// TestMigrateConcurrently: two admins migrating one database at once both succeed, and
// the migration is applied once.
func TestMigrateConcurrently(t *testing.T) {
	ctx := context.Background()
	db := unique("migrate_twice")
	cluster.CreateDatabase(t, db)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	tos := make([]int64, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, tos[i], errs[i] = Migrate(ctx, Config{DSN: cluster.AdminDSN(db)})
		}()
	}
	wg.Wait()
	for i := range 2 {
		if errs[i] != nil || tos[i] != SchemaVersion {
			t.Fatalf("migration %d: to %d, %v", i, tos[i], errs[i])
		}
	}
	admin := connect(t, db, "postgres")
	if n := count(t, admin, `SELECT count(*) FROM goose_db_version WHERE version_id = 1`); n != 1 {
		t.Fatalf("version 1 recorded %d times", n)
	}
}

func TestPushRunTwice(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	admin := connect(t, db, "postgres")
	s := benchServer(t, db, "bench-A", "Bench A")
	f := makeRun("bench-A", "S1", "Kiel", t0, 1, 100, 20, "alert")
	f.objects[3].Validation = &labrec.Validation{Label: "other", By: "eva", At: t0.Add(5 * time.Hour)}
	if err := s.PushRun(ctx, f.batch, f.stream); err != nil {
		t.Fatal(err)
	}
	first := digest(t, admin)
	want := map[string]int{"benches": 1, "samples": 1, "runs": 1, "objects": 20, "alerts": 1, "perf": 1, "taxa": 2, "sample_counts": 3}
	for tb, n := range want {
		if got := count(t, admin, "SELECT count(*) FROM "+pgx.Identifier{tb}.Sanitize()); got != n {
			t.Errorf("%s: %d rows, want %d", tb, got, n)
		}
	}
	if err := s.PushRun(ctx, f.batch, f.stream); err != nil {
		t.Fatal(err)
	}
	if second := digest(t, admin); !reflect.DeepEqual(first, second) {
		t.Fatalf("pushing twice changed the server:\nfirst  %v\nsecond %v", first, second)
	}
	// The objects come back as pushed, crops byte for byte.
	rows, err := admin.pool.Query(ctx, `SELECT object_id, seq, crop, area, perimeter, parts, on_border, validated_label, label_rev FROM objects ORDER BY object_id`)
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	for rows.Next() {
		var id int64
		var seq int
		var crop []byte
		var area, perim *float64
		var parts *int
		var border bool
		var vl *string
		var rev *int64
		if err := rows.Scan(&id, &seq, &crop, &area, &perim, &parts, &border, &vl, &rev); err != nil {
			t.Fatal(err)
		}
		o := f.objects[i]
		if id != o.ID || seq != o.Seq || !bytes.Equal(crop, o.Crop) || *area != *o.Area || perim != nil || *parts != *o.Parts || border != o.OnBorder {
			t.Errorf("object %d came back as id %d seq %d area %v perim %v parts %v border %v (crop equal %v)", o.ID, id, seq, area, perim, parts, border, bytes.Equal(crop, o.Crop))
		}
		if (vl != nil) != (i == 3) || (rev != nil) != (i == 3) {
			t.Errorf("object %d: validated label %v rev %v; only object 103 is validated", o.ID, vl, rev)
		}
		i++
	}
	if rows.Err() != nil || i != 20 {
		t.Fatalf("%d objects read, %v", i, rows.Err())
	}
	// The bench's run now has fewer objects and no alert: the server's copy follows.
	f.objects = f.objects[:15]
	f.batch.Alerts = nil
	if err := s.PushRun(ctx, f.batch, f.stream); err != nil {
		t.Fatal(err)
	}
	if n := count(t, admin, "SELECT count(*) FROM objects"); n != 15 {
		t.Errorf("after pushing the run with 15 objects the server holds %d", n)
	}
	if n := count(t, admin, "SELECT count(*) FROM alerts"); n != 0 {
		t.Errorf("the removed alert stayed")
	}
}

// TestPushRunOfAnotherStore: a store copied (or restored from a backup) keeps the
// bench's ID and numbers its new runs as the original does; its run of that number, of
// another sample or started at another time, is refused, and the server keeps the first
// run's objects and alert (helper-63: replaced, its WATCH lost from the weekly report).
func TestPushRunOfAnotherStore(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	admin := connect(t, db, "postgres")
	s := benchServer(t, db, "bench-A", "Bench A")
	first := makeRun("bench-A", "A5", "Kiel", t0, 6, 100, 25, "watch")
	if err := s.PushRun(ctx, first.batch, first.stream); err != nil {
		t.Fatal(err)
	}
	before := digest(t, admin)
	for _, other := range []fixture{
		makeRun("bench-A", "C1", "Kiel", t0, 6, 100, 30, ""),                   // another sample
		makeRun("bench-A", "A5", "Kiel", t0.Add(24*time.Hour), 6, 100, 30, ""), // the same ID, another run
	} {
		err := s.PushRun(ctx, other.batch, other.stream)
		if !errors.Is(err, ErrOtherRun) || !strings.Contains(err.Error(), `the server's run 6 is of sample "A5"`) {
			t.Errorf("run 6 of sample %s started %s over the server's: %v; want ErrOtherRun", other.batch.Run.SampleID, other.batch.Run.Started, err)
		}
	}
	if after := digest(t, admin); !reflect.DeepEqual(before, after) {
		t.Fatalf("the refused pushes changed the server:\nbefore %v\nafter  %v", before, after)
	}
	// The same run again (a retry, more objects classified) is its own.
	if err := s.PushRun(ctx, first.batch, first.stream); err != nil {
		t.Fatalf("the same run pushed again: %v", err)
	}
}

// TestPushRunRefused: an object of another run, or a failing object stream, leaves
// nothing on the server (one transaction).
func TestPushRunRefused(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	admin := connect(t, db, "postgres")
	s := benchServer(t, db, "bench-A", "Bench A")
	f := makeRun("bench-A", "S1", "Kiel", t0, 1, 100, 600, "")
	f.objects[550].RunID = 2
	err := s.PushRun(ctx, f.batch, f.stream)
	if err == nil || !strings.Contains(err.Error(), "object 650 is of run 2") {
		t.Fatalf("object of another run: %v", err)
	}
	f.objects[550].RunID = 1
	boom := errors.New("disk read failed")
	err = s.PushRun(ctx, f.batch, func(fn func(labrec.Object) error) error {
		if err := f.stream(fn); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("failing stream: %v", err)
	}
	for _, tb := range []string{"samples", "runs", "objects", "perf", "taxa", "sample_counts"} {
		if n := count(t, admin, "SELECT count(*) FROM "+pgx.Identifier{tb}.Sanitize()); n != 0 {
			t.Errorf("%s holds %d rows after failed pushes", tb, n)
		}
	}
}

func label(t *testing.T, admin *Server, bench string, obj int64) (string, string, time.Time) {
	t.Helper()
	var l, by *string
	var at *time.Time
	if err := admin.pool.QueryRow(context.Background(), `SELECT validated_label, validated_by, validated_at FROM objects WHERE bench_id = $1 AND object_id = $2`, bench, obj).Scan(&l, &by, &at); err != nil {
		t.Fatal(err)
	}
	if l == nil || by == nil || at == nil {
		return "", "", time.Time{}
	}
	return *l, *by, at.UTC()
}

// TestLastWriterWins: an older validation never replaces a newer one, a later one does,
// a tie keeps the server's, whether it comes with the run or as a label.
func TestLastWriterWins(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	admin := connect(t, db, "postgres")
	s := benchServer(t, db, "bench-A", "Bench A")
	f := makeRun("bench-A", "S1", "Kiel", t0, 1, 1, 5, "")
	t1 := t0.Add(24 * time.Hour)
	f.objects[0].Validation = &labrec.Validation{Label: "diatom_x", By: "bench tech", At: t1}
	if err := s.PushRun(ctx, f.batch, f.stream); err != nil {
		t.Fatal(err)
	}
	older := labrec.Label{Bench: "bench-A", ObjectID: 1, Validation: labrec.Validation{Label: "older", By: "x", At: t1.Add(-time.Minute)}}
	if err := s.PushLabels(ctx, []labrec.Label{older}); err != nil {
		t.Fatal(err)
	}
	if l, by, at := label(t, admin, "bench-A", 1); l != "diatom_x" || by != "bench tech" || !at.Equal(t1) {
		t.Fatalf("an older label replaced the newer: %q %q %v", l, by, at)
	}
	tie := labrec.Label{Bench: "bench-A", ObjectID: 1, Validation: labrec.Validation{Label: "tie", By: "y", At: t1}}
	if err := s.PushLabels(ctx, []labrec.Label{tie}); err != nil {
		t.Fatal(err)
	}
	if l, _, _ := label(t, admin, "bench-A", 1); l != "diatom_x" {
		t.Fatalf("a tie replaced the server's label: %q", l)
	}
	t2 := t1.Add(time.Hour)
	later := labrec.Label{Bench: "bench-A", ObjectID: 1, Validation: labrec.Validation{Label: "later", By: "z", At: t2}}
	if err := s.PushLabels(ctx, []labrec.Label{later}); err != nil {
		t.Fatal(err)
	}
	if l, by, at := label(t, admin, "bench-A", 1); l != "later" || by != "z" || !at.Equal(t2) {
		t.Fatalf("a later label did not win: %q %q %v", l, by, at)
	}
	// The run pushed again with its older validation leaves the later one.
	if err := s.PushRun(ctx, f.batch, f.stream); err != nil {
		t.Fatal(err)
	}
	if l, _, _ := label(t, admin, "bench-A", 1); l != "later" {
		t.Fatalf("re-pushing the run put back its older label: %q", l)
	}
	// ...and with a later one takes it.
	t3 := t2.Add(time.Hour)
	f.objects[0].Validation = &labrec.Validation{Label: "newest", By: "bench tech", At: t3}
	if err := s.PushRun(ctx, f.batch, f.stream); err != nil {
		t.Fatal(err)
	}
	if l, _, at := label(t, admin, "bench-A", 1); l != "newest" || !at.Equal(t3) {
		t.Fatalf("the run's later label did not win: %q %v", l, at)
	}
	// A reviewer's older relabel is refused as superseded.
	rev := connect(t, db, role(t, "phytoscreen_reviewer"))
	err := rev.Relabel(ctx, "bench-A", 1, labrec.Validation{Label: "r", By: "rev", At: t2})
	if !errors.Is(err, ErrSuperseded) {
		t.Fatalf("older relabel: %v; want ErrSuperseded", err)
	}
	// The validated crop is there to teach, with the latest label; a cleared one is not.
	var crops []ValidatedCrop
	collect := func(c ValidatedCrop) error { crops = append(crops, c); return nil }
	if err := rev.ValidatedCrops(ctx, "baltic", collect); err != nil {
		t.Fatal(err)
	}
	if len(crops) != 1 || crops[0].ObjectID != 1 || crops[0].Label != "newest" || crops[0].Predicted != "pseudo_nitzschia" ||
		!bytes.Equal(crops[0].Crop, f.objects[0].Crop) || crops[0].SampleID != "S1" || crops[0].BenchName != "Bench A" {
		t.Fatalf("validated crops: %+v", crops)
	}
	if err := s.PushLabels(ctx, []labrec.Label{{Bench: "bench-A", ObjectID: 1, Validation: labrec.Validation{By: "bench tech", At: t3.Add(time.Hour)}}}); err != nil {
		t.Fatal(err)
	}
	crops = nil
	if err := rev.ValidatedCrops(ctx, "", collect); err != nil || len(crops) != 0 {
		t.Fatalf("after the validation was cleared: %d crops, %v", len(crops), err)
	}
	if err := rev.Relabel(ctx, "bench-A", 999, labrec.Validation{Label: "r", By: "rev", At: t3.Add(time.Hour)}); err == nil || !strings.Contains(err.Error(), "no such object") {
		t.Fatalf("relabel of a missing object: %v", err)
	}
}

// TestFutureValidationTime: a validation stamped by a clock running a year ahead is
// held at the server's time, so a reviewer's relabel made after it still wins.
func TestFutureValidationTime(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	admin := connect(t, db, "postgres")
	s := benchServer(t, db, "bench-A", "Bench A")
	f := makeRun("bench-A", "S1", "Kiel", t0, 1, 1, 5, "")
	ahead := time.Now().AddDate(1, 0, 0)
	f.objects[1].Validation = &labrec.Validation{Label: "from the run", By: "fast clock", At: ahead}
	if err := s.PushRun(ctx, f.batch, f.stream); err != nil {
		t.Fatal(err)
	}
	if err := s.PushLabels(ctx, []labrec.Label{{Bench: "bench-A", ObjectID: 1, Validation: labrec.Validation{Label: "ahead", By: "fast clock", At: ahead}}}); err != nil {
		t.Fatal(err)
	}
	for _, obj := range []int64{1, 2} {
		if _, _, at := label(t, admin, "bench-A", obj); at.After(time.Now().Add(time.Minute)) {
			t.Errorf("object %d: the server holds a validation time %v, ahead of its clock", obj, at)
		}
	}
	rev := connect(t, db, role(t, "phytoscreen_reviewer"))
	time.Sleep(10 * time.Millisecond) // a later transaction: its now() is later
	if err := rev.Relabel(ctx, "bench-A", 1, labrec.Validation{Label: "reviewed", By: "rev", At: time.Now().Add(time.Minute)}); err != nil {
		t.Fatalf("a relabel after the fast clock's label: %v", err)
	}
	if l, by, _ := label(t, admin, "bench-A", 1); l != "reviewed" || by != "rev" {
		t.Errorf("after the relabel the server holds %q by %q", l, by)
	}
}

// TestReusedObjectID: a bench whose store gave a deleted object's ID to a new object of
// another run pushes it; the server holds the new object whole, without the old one's
// label (which belonged to another sample).
func TestReusedObjectID(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	admin := connect(t, db, "postgres")
	s := benchServer(t, db, "bench-A", "Bench A")
	old := makeRun("bench-A", "S1", "Kiel", t0, 1, 1, 3, "")
	old.objects[0].Validation = &labrec.Validation{Label: "diatom_x", By: "eva", At: t0.Add(time.Hour)}
	if err := s.PushRun(ctx, old.batch, old.stream); err != nil {
		t.Fatal(err)
	}
	reused := makeRun("bench-A", "S2", "Kiel", t0.Add(48*time.Hour), 2, 1, 3, "")
	if err := s.PushRun(ctx, reused.batch, reused.stream); err != nil {
		t.Fatal(err)
	}
	if l, _, _ := label(t, admin, "bench-A", 1); l != "" {
		t.Errorf("the new object 1 (run 2, sample S2) kept the old object's label %q", l)
	}
	var run int64
	if err := admin.pool.QueryRow(ctx, "SELECT run_id FROM objects WHERE bench_id = 'bench-A' AND object_id = 1").Scan(&run); err != nil || run != 2 {
		t.Errorf("object 1 is of run %d, %v; want the new run 2", run, err)
	}
	// Its own later validation is kept as before when the same run is pushed again.
	reused.objects[0].Validation = &labrec.Validation{Label: "copepod", By: "ana", At: t0.Add(49 * time.Hour)}
	if err := s.PushRun(ctx, reused.batch, reused.stream); err != nil {
		t.Fatal(err)
	}
	reused.objects[0].Validation = nil
	if err := s.PushRun(ctx, reused.batch, reused.stream); err != nil {
		t.Fatal(err)
	}
	if l, _, _ := label(t, admin, "bench-A", 1); l != "copepod" {
		t.Errorf("the same object pushed again without its validation lost it: %q", l)
	}
}

// TestPullLabels: relabels come back in revision order, with their samples, and a pull
// after the last revision seen gets only what changed since.
func TestPullLabels(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	s := benchServer(t, db, "bench-A", "Bench A")
	other := benchServer(t, db, "bench-B", "Bench B")
	f := makeRun("bench-A", "S1", "Kiel", t0, 1, 1, 3, "")
	g := makeRun("bench-A", "S2", "Kiel", t0, 2, 4, 3, "")
	h := makeRun("bench-B", "S1", "Kiel", t0, 1, 1, 3, "")
	for _, x := range []struct {
		s *Server
		f fixture
	}{{s, f}, {s, g}, {other, h}} {
		if err := x.s.PushRun(ctx, x.f.batch, x.f.stream); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.PullLabels(ctx, "bench-A", 0, 100); err != nil || len(got) != 0 {
		t.Fatalf("nothing validated yet, pulled %v, %v", got, err)
	}
	rev := connect(t, db, role(t, "phytoscreen_reviewer"))
	at := t0.Add(48 * time.Hour)
	relabel := func(bench string, obj int64, l string) {
		t.Helper()
		at = at.Add(time.Minute)
		if err := rev.Relabel(ctx, bench, obj, labrec.Validation{Label: l, By: "reviewer", At: at}); err != nil {
			t.Fatal(err)
		}
	}
	relabel("bench-A", 5, "five")
	relabel("bench-B", 1, "theirs")
	relabel("bench-A", 2, "two")
	got, err := s.PullLabels(ctx, "bench-A", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ObjectID != 5 || got[0].SampleID != "S2" || got[0].Label != "five" || got[0].By != "reviewer" ||
		got[1].ObjectID != 2 || got[1].SampleID != "S1" || got[1].Rev <= got[0].Rev {
		t.Fatalf("pulled %+v; want objects 5 (S2) then 2 (S1) of bench-A", got)
	}
	if one, err := s.PullLabels(ctx, "bench-A", 0, 1); err != nil || len(one) != 1 || one[0].ObjectID != 5 {
		t.Fatalf("limit 1 pulled %+v, %v", one, err)
	}
	last := got[1].Rev
	relabel("bench-A", 5, "five again")
	got, err = s.PullLabels(ctx, "bench-A", last, 100)
	if err != nil || len(got) != 1 || got[0].ObjectID != 5 || got[0].Label != "five again" || got[0].Rev <= last || !got[0].At.Equal(at) {
		t.Fatalf("pull after rev %d: %+v, %v; want only object 5's new label", last, got, err)
	}
	if got, err := s.PullLabels(ctx, "bench-A", got[0].Rev, 100); err != nil || len(got) != 0 {
		t.Fatalf("pull after the last revision: %+v, %v", got, err)
	}
}

// TestRowLevelSecurity: a bench writes only its own bench's rows and cannot claim
// another's ID; a reader cannot write; a reviewer changes only labels.
func TestRowLevelSecurity(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	admin := connect(t, db, "postgres")
	roleA := role(t, "phytoscreen_bench")
	a := connect(t, db, roleA)
	if err := a.Hello(ctx, "bench-A", "Bench A"); err != nil {
		t.Fatal(err)
	}
	b := benchServer(t, db, "bench-B", "Bench B")
	fb := makeRun("bench-B", "S1", "Kiel", t0, 1, 1, 3, "watch")
	if err := b.PushRun(ctx, fb.batch, fb.stream); err != nil {
		t.Fatal(err)
	}
	before := digest(t, admin)

	// bench A pushing bench B's rows: refused out loud.
	err := a.PushRun(ctx, fb.batch, fb.stream)
	if err == nil || !strings.Contains(err.Error(), "row-level security") || !strings.Contains(err.Error(), "phytoscreen_bench") {
		t.Fatalf("bench A pushing bench B's run: %v; want a row level security refusal with the fix", err)
	}
	fresh := makeRun("bench-B", "S9", "Kiel", t0, 9, 50, 2, "")
	if err := a.PushRun(ctx, fresh.batch, fresh.stream); err == nil {
		t.Fatal("bench A inserted a new sample under bench B's ID")
	}
	if err := a.PushSample(ctx, fb.batch.Tally); err == nil {
		t.Fatal("bench A overwrote bench B's sample")
	}
	err = a.PushLabels(ctx, []labrec.Label{{Bench: "bench-B", ObjectID: 1, Validation: labrec.Validation{Label: "x", By: "a", At: t0.Add(99 * time.Hour)}}})
	if err == nil || !strings.Contains(err.Error(), "only its own bench's labels") {
		t.Fatalf("bench A pushing bench B's labels: %v", err)
	}
	// Straight SQL: row level security hides bench B's rows from A's updates and deletes.
	for _, q := range []string{
		`UPDATE samples SET site = 'hijacked' WHERE bench_id = 'bench-B'`,
		`UPDATE objects SET validated_label = 'hijacked', validated_at = now() WHERE bench_id = 'bench-B'`,
		`DELETE FROM runs WHERE bench_id = 'bench-B'`,
		`UPDATE benches SET name = 'hijacked' WHERE bench_id = 'bench-B'`,
	} {
		if tag, err := a.pool.Exec(ctx, q); err == nil && tag.RowsAffected() != 0 {
			t.Errorf("bench A: %s changed %d rows", q, tag.RowsAffected())
		}
	}
	for _, q := range []string{
		`UPDATE benches SET role_name = current_user WHERE bench_id = 'bench-B'`,
		`INSERT INTO samples (bench_id, sample_id, taken, created) VALUES ('bench-B', 'S2', now(), now())`,
		`UPDATE samples SET bench_id = 'bench-B' WHERE bench_id = 'bench-A'`,
	} {
		if tag, err := a.pool.Exec(ctx, q); err == nil && tag.RowsAffected() != 0 {
			t.Errorf("bench A: %s succeeded", q)
		}
	}
	// Relabelling bench B's object as bench A: refused by name, not a panic (helper-63).
	if err := a.Relabel(ctx, "bench-B", 1, labrec.Validation{Label: "x", By: "a", At: t0.Add(99 * time.Hour)}); !errors.Is(err, ErrNotYours) {
		t.Fatalf("bench A relabelling bench B's object: %v; want ErrNotYours", err)
	}
	// Claiming bench B's ID, or a second bench for one role.
	if err := a.Hello(ctx, "bench-B", "me"); err == nil || !strings.Contains(err.Error(), "is registered to role") {
		t.Fatalf("bench A claiming bench B's ID: %v", err)
	}
	if err := a.Hello(ctx, "bench-A2", "me"); err == nil || !strings.Contains(err.Error(), "already pushes for bench bench-A") {
		t.Fatalf("a second bench ID for role A: %v", err)
	}
	// Bench A taking bench B's name: refused, its own name kept (helper-63: two benches
	// of one name, and a relabel by name went to the other's object).
	if err := a.Hello(ctx, "bench-A", "Bench B"); err == nil || !strings.Contains(err.Error(), `bench bench-B is already named "Bench B"`) {
		t.Fatalf("bench A taking bench B's name: %v", err)
	}
	if bs, err := admin.Benches(ctx); err != nil || len(bs) != 2 || bs[0].Name == bs[1].Name {
		t.Fatalf("after the refused name: %+v, %v", bs, err)
	}
	// A reader reads, and cannot write.
	reader := connect(t, db, role(t, "phytoscreen_reader"))
	if got, err := reader.Samples(ctx, labrec.ProgrammeFilter{}); err != nil || len(got) != 1 {
		t.Fatalf("reader's samples: %v, %v", got, err)
	}
	if err := reader.Hello(ctx, "bench-R", "r"); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("reader registering a bench: %v", err)
	}
	if _, err := reader.pool.Exec(ctx, `UPDATE samples SET site = 'x'`); err == nil {
		t.Fatal("reader updated samples")
	}
	// A reviewer changes labels of any bench, and nothing else.
	rv := connect(t, db, role(t, "phytoscreen_reviewer"))
	if _, err := rv.pool.Exec(ctx, `UPDATE objects SET label = 'x' WHERE bench_id = 'bench-B'`); err == nil {
		t.Fatal("reviewer changed an object's classification")
	}
	if _, err := rv.pool.Exec(ctx, `UPDATE samples SET site = 'x'`); err == nil {
		t.Fatal("reviewer changed a sample")
	}
	if _, err := rv.pool.Exec(ctx, `DELETE FROM objects`); err == nil {
		t.Fatal("reviewer deleted objects")
	}
	if after := digest(t, admin); !reflect.DeepEqual(before, after) {
		t.Fatalf("refused writes changed the server:\nbefore %v\nafter  %v", before, after)
	}
	if err := rv.Relabel(ctx, "bench-B", 2, labrec.Validation{Label: "rev", By: "r", At: t0.Add(time.Hour)}); err != nil {
		t.Fatalf("reviewer relabel: %v", err)
	}
	if l, _, _ := label(t, admin, "bench-B", 2); l != "rev" {
		t.Fatalf("reviewer's label not set: %q", l)
	}
}

// TestAwkwardText: IDs, names and labels with quotes, SQL, backslashes and unicode come
// back exactly.
func TestAwkwardText(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	awkward := []string{
		"Ästuar-Probe 'Nord' ☃ 日本",
		"'; DROP TABLE samples; --",
		`C:\new\table \\ \' "quoted" $1 %s`,
		"O'Brien's \"x\" `y` ; -- /* */",
	}
	bench := "bench-'\"\\-☃"
	s := benchServer(t, db, bench, awkward[3])
	for i, id := range awkward {
		f := makeRun(bench, id, awkward[(i+1)%len(awkward)], t0.Add(time.Duration(i)*time.Hour), int64(i+1), int64(100*i+1), 2, "alert")
		f.batch.Tally.Notes = awkward[(i+2)%len(awkward)]
		f.batch.Tally.Counts[0].Label = awkward[(i+3)%len(awkward)]
		f.batch.Tally.Counts[0].Name = awkward[i]
		f.objects[0].Validation = &labrec.Validation{Label: awkward[i], By: awkward[(i+1)%len(awkward)], At: t0.Add(time.Hour)}
		if err := s.PushRun(ctx, f.batch, f.stream); err != nil {
			t.Fatalf("pushing sample %q: %v", id, err)
		}
		got, err := s.SampleCounts(ctx, bench, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != id || got.Site != f.batch.Tally.Site || got.Notes != f.batch.Tally.Notes ||
			got.Counts[0].Label != f.batch.Tally.Counts[0].Label || got.Counts[0].Name != awkward[i] {
			t.Errorf("sample %q came back as %q site %q notes %q count %q/%q", id, got.ID, got.Site, got.Notes, got.Counts[0].Label, got.Counts[0].Name)
		}
		list, err := s.Samples(ctx, labrec.ProgrammeFilter{Site: f.batch.Tally.Site, Bench: awkward[3]})
		if err != nil || len(list) != 1 || list[0].ID != id || list[0].BenchName != awkward[3] || list[0].Bench != bench {
			t.Errorf("Samples at site %q: %+v, %v", f.batch.Tally.Site, list, err)
		}
	}
	labels, err := s.PullLabels(ctx, bench, 0, 100)
	if err != nil || len(labels) != len(awkward) {
		t.Fatalf("pulled %d labels, %v", len(labels), err)
	}
	for i, l := range labels {
		if l.Label != awkward[i] || l.SampleID != awkward[i] || l.By != awkward[(i+1)%len(awkward)] || l.Bench != bench {
			t.Errorf("label %d came back as %+v", i, l)
		}
	}
	admin := connect(t, db, "postgres")
	if n := count(t, admin, "SELECT count(*) FROM samples"); n != len(awkward) {
		t.Fatalf("samples holds %d rows (a dropped table would fail)", n)
	}
	sites, err := s.Sites(ctx)
	if err != nil || len(sites) != len(awkward) {
		t.Fatalf("sites %q, %v", sites, err)
	}
}
