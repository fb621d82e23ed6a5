package labserver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/internal/pgtest"
	"github.com/phytoscreen/phytoscreen/labrec"
)

// programme pushes samples of two benches at two sites:
//
//	bench-A "North": A1 Kiel 2026-11-23 00:00 (watch), A2 Kiel 11-26 (alert), A3 Sylt 11-30 23:59:59, A4 Kiel 12-01 (next week)
//	bench-B "South": B1 Kiel 11-22 23:59:59 (previous week), B2 Kiel 11-25 (none), B3 Kiel trashed, B4 Kiel gone
func programme(t *testing.T) (*Server, *Server, *Server) {
	t.Helper()
	ctx := context.Background()
	db := newDB(t)
	a := benchServer(t, db, "bench-A", "North")
	b := benchServer(t, db, "bench-B", "South")
	mk := func(s *Server, bench, id, site string, taken time.Time, run int64, level string, pn int) {
		t.Helper()
		f := makeRun(bench, id, site, taken, run, run*100, 3, level)
		f.batch.Tally.Counts[0].Count = pn
		f.batch.Tally.Counts[0].PerL = float64(pn) * 1000
		if pn == 0 {
			f.batch.Tally.Counts = f.batch.Tally.Counts[1:] // no Pseudo-nitzschia seen
		}
		if err := s.PushRun(ctx, f.batch, f.stream); err != nil {
			t.Fatal(err)
		}
	}
	mk(a, "bench-A", "A1", "Kiel", time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), 1, "watch", 4)
	mk(a, "bench-A", "A2", "Kiel", time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC), 2, "alert", 9)
	mk(a, "bench-A", "A3", "Sylt", time.Date(2026, 11, 29, 23, 59, 59, 0, time.UTC), 3, "", 1)
	mk(a, "bench-A", "A4", "Kiel", time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), 4, "", 2)
	mk(b, "bench-B", "B1", "Kiel", time.Date(2026, 11, 22, 23, 59, 59, 0, time.UTC), 1, "alert", 7)
	mk(b, "bench-B", "B2", "Kiel", time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC), 2, "", 0)
	mk(b, "bench-B", "B3", "Kiel", time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC), 3, "", 5)
	mk(b, "bench-B", "B4", "Kiel", time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), 4, "", 5)
	trashed, err := b.SampleCounts(ctx, "bench-B", "B3")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	trashed.Deleted = &now
	if err := b.PushSample(ctx, trashed); err != nil {
		t.Fatal(err)
	}
	// A sample the bench no longer holds is pushed with only its identity.
	if err := b.PushSample(ctx, labrec.SampleTally{Sample: labrec.Sample{Bench: "bench-B", ID: "B4", Gone: true}}); err != nil {
		t.Fatal(err)
	}
	return a, b, connect(t, db, role(t, "phytoscreen_reader"))
}

func ids(ps []labrec.ProgrammeSample) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.ID)
	}
	return strings.Join(s, " ")
}

func TestSamples(t *testing.T) {
	ctx := context.Background()
	a, b, r := programme(t)
	cases := []struct {
		f    labrec.ProgrammeFilter
		want string
	}{
		{labrec.ProgrammeFilter{}, "A4 A3 A2 B2 A1 B1"},
		{labrec.ProgrammeFilter{Site: "Kiel"}, "A4 A2 B2 A1 B1"},
		{labrec.ProgrammeFilter{Bench: "bench-B"}, "B2 B1"},
		{labrec.ProgrammeFilter{Bench: "North", Site: "Sylt"}, "A3"},
		{labrec.ProgrammeFilter{From: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)}, "A3 A2 B2 A1"},
		{labrec.ProgrammeFilter{Limit: 2}, "A4 A3"},
		{labrec.ProgrammeFilter{Site: "Nowhere"}, ""},
	}
	for _, c := range cases {
		got, err := r.Samples(ctx, c.f)
		if err != nil {
			t.Fatal(err)
		}
		if ids(got) != c.want {
			t.Errorf("Samples(%+v) = %q, want %q", c.f, ids(got), c.want)
		}
	}
	all, _ := r.Samples(ctx, labrec.ProgrammeFilter{Bench: "North"})
	top := map[string]string{}
	for _, p := range all {
		top[p.ID] = fmt.Sprintf("%s/%d/%d/%s", p.TopLevel, p.Alerts, p.Runs, p.BenchName)
		if p.Objects != 3 || p.VolumeML != 10 || p.PushedAt.IsZero() || *p.Lat != 54.1 {
			t.Errorf("%s: objects %d volume %v pushed %v lat %v", p.ID, p.Objects, p.VolumeML, p.PushedAt, *p.Lat)
		}
	}
	want := map[string]string{"A1": "watch/1/1/North", "A2": "alert/1/1/North", "A3": "/0/1/North", "A4": "/0/1/North"}
	for id, w := range want {
		if top[id] != w {
			t.Errorf("%s: level/alerts/runs/bench %q, want %q", id, top[id], w)
		}
	}
	al, err := r.SampleAlerts(ctx, "bench-A", "A2")
	if err != nil || len(al) != 1 || al[0].ToLevel != "alert" || al[0].SampleID != "A2" || al[0].Site != "Kiel" || al[0].BenchName != "North" {
		t.Fatalf("SampleAlerts A2: %+v, %v", al, err)
	}
	tally, err := r.SampleCounts(ctx, "bench-A", "A2")
	if err != nil || len(tally.Counts) != 3 || tally.Counts[0].Label != "pseudo_nitzschia" || tally.Counts[0].Count != 9 || tally.Counts[2].Kind != "unidentified" {
		t.Fatalf("SampleCounts A2: %+v, %v", tally, err)
	}
	if _, err := r.SampleCounts(ctx, "bench-A", "nope"); err == nil || !strings.Contains(err.Error(), "not on the server") {
		t.Fatalf("SampleCounts of a missing sample: %v", err)
	}
	// B3 restored from the bench's trash (pushed twice: no difference) shows again.
	restored, err := b.SampleCounts(ctx, "bench-B", "B3")
	if err != nil || restored.Deleted == nil {
		t.Fatalf("B3 before restoring: %+v, %v", restored, err)
	}
	restored.Deleted = nil
	for range 2 {
		if err := b.PushSample(ctx, restored); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := r.Samples(ctx, labrec.ProgrammeFilter{Bench: "South"}); err != nil || ids(got) != "B3 B2 B1" || len(got[0].Counts) != 0 {
		t.Fatalf("after restoring B3: %q, %v", ids(got), err)
	}
	if tally, err := r.SampleCounts(ctx, "bench-B", "B3"); err != nil || len(tally.Counts) != 3 || tally.Deleted != nil {
		t.Fatalf("B3 restored: %+v, %v", tally, err)
	}
	benches, err := r.Benches(ctx)
	if err != nil || len(benches) != 2 || benches[0].Name != "North" || benches[1].ID != "bench-B" || benches[0].LastPush.IsZero() || benches[0].Role == "" {
		t.Fatalf("Benches: %+v, %v", benches, err)
	}
	// Where a sample stands on its final figures travels with its tally: A1 raised
	// WATCH while counting, and a review took it below (helper-70: the weekly report
	// kept the WATCH); a tally without one (an older bench) reads as not worked out.
	a1, err := a.SampleCounts(ctx, "bench-A", "A1")
	if err != nil {
		t.Fatal(err)
	}
	want1 := labrec.Standing{Rules: "preset default", Level: "none"}
	a1.Standing = &want1
	if err := a.PushSample(ctx, a1); err != nil {
		t.Fatal(err)
	}
	north, err := r.Samples(ctx, labrec.ProgrammeFilter{Bench: "North"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range north {
		switch p.ID {
		case "A1":
			if p.Standing == nil || *p.Standing != want1 || p.TopLevel != "watch" {
				t.Errorf("A1 after the review: standing %+v, raised %q; want %+v, raised watch", p.Standing, p.TopLevel, want1)
			}
		case "A3":
			if p.Standing != nil {
				t.Errorf("A3, pushed without a standing: %+v", p.Standing)
			}
		}
	}
}

func TestSiteTrend(t *testing.T) {
	ctx := context.Background()
	_, _, r := programme(t)
	got, err := r.SiteTrend(ctx, "Kiel", "pseudo_nitzschia", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, p := range got {
		s = append(s, fmt.Sprintf("%s:%s:%d:%g", p.BenchName, p.SampleID, p.Count, p.PerL))
	}
	want := "South:B1:7:7000 North:A1:4:4000 South:B2:0:0 North:A2:9:9000 North:A4:2:2000"
	if strings.Join(s, " ") != want {
		t.Fatalf("trend at Kiel:\n got %s\nwant %s", strings.Join(s, " "), want)
	}
	got, err = r.SiteTrend(ctx, "Kiel", "diatom", time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC))
	if err != nil || len(got) != 2 || got[0].SampleID != "A1" || got[1].SampleID != "B2" || got[0].Count != 2 {
		t.Fatalf("diatom group at Kiel in [23, 26): %+v, %v", got, err)
	}
	choices, err := r.TaxonChoices(ctx, "Sylt")
	if err != nil {
		t.Fatal(err)
	}
	var c []string
	for _, x := range choices {
		c = append(c, x.Kind+":"+x.Label+":"+x.Name+":"+x.Group)
	}
	if strings.Join(c, " ") != "taxon:pseudo_nitzschia:Pseudo-nitzschia:diatom group:diatom:Diatoms: unidentified:unidentified:Unidentified:" {
		t.Fatalf("taxon choices at Sylt: %q", c)
	}
}

func TestWeekReport(t *testing.T) {
	ctx := context.Background()
	_, _, r := programme(t)
	w, err := labrec.ParseWeek("2026-W48")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := r.WeekReport(ctx, w, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	// Monday 23 November 00:00 is in, Sunday 22 23:59:59 and Monday 30 00:00 are out;
	// by site, then time.
	if got := ids(rep.Samples); got != "A1 B2 A2 A3" {
		t.Fatalf("week 48 samples %q, want A1 B2 A2 A3", got)
	}
	if len(rep.Samples[0].Counts) != 3 || rep.Samples[0].Counts[0].Count != 4 || len(rep.Samples[1].Counts) != 2 {
		t.Errorf("counts not filled: %+v", rep.Samples[:2])
	}
	var al []string
	for _, a := range rep.Alerts {
		al = append(al, a.SampleID+":"+a.ToLevel)
	}
	if strings.Join(al, " ") != "A1:watch A2:alert" {
		t.Errorf("week 48 alerts %q, want A1:watch A2:alert (B1's is of week 47)", al)
	}
	// B3, in bench B's trash, is left out and named (its alert vanished without a word,
	// helper-76); B4, gone for good, is not.
	if len(rep.Deleted) != 1 || rep.Deleted[0].ID != "B3" || rep.Deleted[0].BenchName != "South" || rep.Deleted[0].Site != "Kiel" {
		t.Errorf("week 48 deleted %+v, want B3 of South at Kiel alone", rep.Deleted)
	}
	if len(rep.Benches) != 2 || rep.Server != r.ServerText() || rep.Week != w || rep.Made.IsZero() {
		t.Errorf("report header: %+v %q %v", rep.Benches, rep.Server, rep.Week)
	}
	if strings.Contains(rep.Server, "pw of") {
		t.Errorf("server text shows the password: %q", rep.Server)
	}

	// In a programme working in Berlin time the week runs from Monday 00:00 CET, as its
	// benches and the History date filter show the days: B1, Sunday 22 23:59:59 UTC, is
	// Monday 23 00:59:59 there, in; A3, Sunday 29 23:59:59 UTC, is Monday 30 00:59:59
	// there, and A4, Monday 30 00:00 UTC, 01:00: both of week 49 (cut in UTC, a sample
	// taken Monday 00:30 CET fell in the week before).
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	rep, err = r.WeekReport(ctx, w, berlin)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(rep.Samples); got != "B1 A1 B2 A2" {
		t.Errorf("week 48 in Berlin: samples %q, want B1 A1 B2 A2", got)
	}
	if rep.Zone != berlin {
		t.Errorf("week 48 in Berlin: the report's zone is %v", rep.Zone)
	}
	rep, err = r.WeekReport(ctx, labrec.Week{Year: 2026, Week: 49}, berlin)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(rep.Samples); got != "A4 A3" {
		t.Errorf("week 49 in Berlin: samples %q, want A4 A3 (Monday 30 November 01:00 and 00:59:59 CET)", got)
	}
}

// TestOpenErrors: what a bench sees when the server is away, the password is wrong or
// the database was never migrated says the fix, and never the password.
func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	user := role(t, "phytoscreen_bench")
	// Right password over TCP works; the wrong one says where the password comes from.
	s, err := Open(ctx, Config{DSN: cluster.HostDSN(user, "not it", db), Password: "pw of " + user})
	if err != nil {
		t.Fatalf("password from Config: %v", err)
	}
	s.Close()
	_, err = Open(ctx, Config{DSN: cluster.HostDSN(user, "s3cret-wrong", db)})
	if err == nil || !strings.Contains(err.Error(), "check the login role's password (keyring or PHYTOSCREEN_LAB_PASSWORD") || strings.Contains(err.Error(), "s3cret-wrong") {
		t.Fatalf("wrong password: %v", err)
	}
	t.Logf("wrong password: %v", err)
	// An unmigrated database names the migrate command.
	bare := unique("bare")
	cluster.CreateDatabase(t, bare)
	s, err = Open(ctx, Config{DSN: cluster.DSN(user, bare)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Hello(ctx, "bench-X", "x")
	if err == nil || !strings.Contains(err.Error(), "phytoscreen server migrate") {
		t.Fatalf("Hello on an unmigrated database: %v", err)
	}
	t.Logf("unmigrated: %v", err)
	// A stopped server: connection refused, and what to check.
	c := pgtest.Start(t)
	dsn := c.HostDSN("postgres", "s3cret-stopped", "postgres")
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, Config{DSN: dsn})
	if err == nil || !strings.Contains(err.Error(), "is the server running and is host/port right?") || strings.Contains(err.Error(), "s3cret-stopped") {
		t.Fatalf("stopped server: %v", err)
	}
	t.Logf("stopped: %v", err)
	_, err = Open(ctx, Config{DSN: c.DSN("postgres", "postgres")})
	if err == nil || !strings.Contains(err.Error(), "is the server running") {
		t.Fatalf("stopped server over its socket: %v", err)
	}
	for _, cfg := range []Config{{DSN: ""}, {DSN: dsn, SSLMode: "sometimes"}, {DSN: dsn, SSLMode: "verify-full", RootCert: "/nonexistent/ca.pem"}, {DSN: "host=x port=notaport password=s3cret-bad"}} {
		_, err := Open(ctx, cfg)
		if err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open(%+v): %v", Redacted(cfg.DSN), err)
		}
		t.Logf("bad config: %v", err)
	}
	// TLS modes reach the connection: this server has no TLS, so require fails saying so.
	_, err = Open(ctx, Config{DSN: cluster.HostDSN(user, "pw of "+user, db), SSLMode: "require"})
	if err == nil || !strings.Contains(err.Error(), "TLS") {
		t.Fatalf("sslmode require on a server without TLS: %v", err)
	}
	t.Logf("require: %v", err)
}

func TestRedacted(t *testing.T) {
	cases := map[string]string{
		"host=a password=secret user=b":                  "host=a password=xxxxx user=b",
		`host=a password='it\'s \\ secret' user=b`:       "host=a password=xxxxx user=b",
		"host=a PASSWORD = 'two words' dbname=d":         "host=a PASSWORD = xxxxx dbname=d",
		"postgres://bench:secret@lab:5432/phytoscreen":   "postgres://bench:xxxxx@lab:5432/phytoscreen",
		"postgresql://lab/db?user=u&password=secret&x=1": "postgresql://lab/db?user=u&password=xxxxx&x=1",
		"host=a user=b": "host=a user=b",
	}
	for in, want := range cases {
		if got := Redacted(in); got != want {
			t.Errorf("Redacted(%q) = %q, want %q", in, got, want)
		}
	}
}

// The programme's views leave out what a bench could not have seen and what was never
// a sample, and give cells per litre where a count holds colonies (helper-40):
//   - a sample of the bundled demo pushed before benches kept it back;
//   - a sample screened with a pack that knows neither Pseudo-nitzschia nor its group
//     is not checked for them, not zero, in the trend;
//   - a group count of colonies carries the cells estimated in them.
func TestProgrammeViewsLeaveOutDemoAndUnchecked(t *testing.T) {
	ctx := context.Background()
	a, b, r := programme(t)
	taken := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	demo := makeRun("bench-A", "DEMO-1", "Kiel", taken, 9, 900, 3, "alert")
	demo.batch.Run.Spec = labrec.DemoSpec
	if err := a.PushRun(ctx, demo.batch, demo.stream); err != nil {
		t.Fatal(err)
	}
	marine := makeRun("bench-B", "B5", "Kiel", taken.Add(time.Hour), 9, 950, 3, "")
	marine.batch.Run.Pack = "marine"
	marine.batch.Taxa = []labrec.Taxon{{Pack: "marine", Label: "noctiluca", Name: "Noctiluca", Unit: "cell"}}
	marine.batch.Tally.Counts = []labrec.Count{
		{Label: "noctiluca", Kind: "taxon", Name: "Noctiluca", Unit: "cell", Count: 2, PerL: 200, Cells: 2},
		{Label: "unidentified", Kind: "unidentified", Name: "Unidentified", Count: 1, PerL: 100, Cells: 1},
	}
	if err := b.PushRun(ctx, marine.batch, marine.stream); err != nil {
		t.Fatal(err)
	}
	// The demo sample's own water screened again with the base model to compare them
	// (screen --keep-apart), and A2's: companions, the bench's comparisons, not samples
	// of the programme (A2~base counted as a second sample at Kiel, its alert twice:
	// helper-76). A sample of another bench whose ID merely begins so is no companion.
	for i, c := range []struct{ bench, id string }{{"bench-A", "A2~base"}, {"bench-B", "A2~x"}} {
		comp := makeRun(c.bench, c.id, "Kiel", time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC), int64(20+i), int64(2000+100*i), 3, "alert")
		srv := a
		if c.bench == "bench-B" {
			srv = b
		}
		if err := srv.PushRun(ctx, comp.batch, comp.stream); err != nil {
			t.Fatal(err)
		}
	}
	colonies := makeRun("bench-A", "A5", "Kiel", taken.Add(2*time.Hour), 10, 1000, 3, "")
	colonies.batch.Tally.Counts[1].Cells = 30 // 2 chains holding 30 cells
	colonies.batch.Run.Status = "stopped"     // and stopped before its source's end: partial
	if err := a.PushRun(ctx, colonies.batch, colonies.stream); err != nil {
		t.Fatal(err)
	}

	all, err := r.Samples(ctx, labrec.ProgrammeFilter{})
	if err != nil || strings.Contains(ids(all), "DEMO-1") || !strings.Contains(ids(all), "B5") || strings.Contains(ids(all), "A2~base") || !strings.Contains(ids(all), "A2~x") {
		t.Errorf("Samples: %q, %v; want B5 and bench B's A2~x, no DEMO-1 and no companion A2~base", ids(all), err)
	}
	for _, p := range all {
		if p.Partial != (p.ID == "A5") {
			t.Errorf("sample %s partial %v; want A5 alone partial (its run stopped)", p.ID, p.Partial)
		}
	}
	w, _ := labrec.ParseWeek("2026-W48")
	rep, err := r.WeekReport(ctx, w, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, al := range rep.Alerts {
		if al.SampleID == "DEMO-1" || al.SampleID == "A2~base" {
			t.Errorf("the week's alerts hold the demo's or a companion's: %+v", al)
		}
	}
	if strings.Contains(ids(rep.Samples), "A2~base") {
		t.Errorf("the week's samples hold the companion A2~base: %q", ids(rep.Samples))
	}
	if strings.Contains(ids(rep.Samples), "DEMO-1") {
		t.Errorf("the week's samples hold the demo: %q", ids(rep.Samples))
	}

	trend, err := r.SiteTrend(ctx, "Kiel", "pseudo_nitzschia", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range trend {
		got = append(got, p.SampleID)
	}
	if want := "B1 A1 A5 B2 A2 A2~x A4"; strings.Join(got, " ") != want {
		t.Errorf("Pseudo-nitzschia at Kiel: %q, want %q (B2 counted none, B5 could not see it, DEMO-1 is the demo)", strings.Join(got, " "), want)
	}

	trend, err = r.SiteTrend(ctx, "Kiel", "diatom", taken, taken.Add(3*time.Hour))
	if err != nil || len(trend) != 1 || trend[0].SampleID != "A5" {
		t.Fatalf("diatoms at Kiel on the 24th: %+v, %v; want A5 alone", trend, err)
	}
	p := trend[0]
	if perL, lo, hi := p.InCells(); p.Cells != 30 || perL != 15*p.PerL || lo != 15*p.CILow || hi != 15*p.CIHigh {
		t.Errorf("A5's diatoms: %d objects holding %g cells, %g/L; in cells %g [%g, %g], want 15 times the objects'", p.Count, p.Cells, p.PerL, perL, lo, hi)
	}
	tally, err := r.SampleCounts(ctx, "bench-A", "A5")
	if err != nil || tally.Counts[1].Cells != 30 || tally.Counts[0].Cells != 0 {
		t.Errorf("A5's tally: %+v, %v; want the group's 30 cells kept, the taxon's 0 (not said)", tally.Counts, err)
	}
}

// A sample its bench removed for good is neither listed for review nor relabelled: the
// label would never reach the bench (helper-63). One in the bench's trash still is: it
// may be restored.
func TestGoneSampleNotRelabelled(t *testing.T) {
	ctx := context.Background()
	_, b, _ := programme(t)
	err := b.SampleObjects(ctx, "bench-B", "B4", func(labrec.Object) error { return nil })
	if !errors.Is(err, ErrSampleGone) {
		t.Errorf("objects of the gone sample B4: %v; want ErrSampleGone", err)
	}
	later := labrec.Validation{Label: "x", By: "rev", At: time.Now().Add(time.Hour)}
	if err := b.Relabel(ctx, "bench-B", 400, later); !errors.Is(err, ErrSampleGone) {
		t.Errorf("relabelling object 400 of the gone sample B4: %v; want ErrSampleGone", err)
	}
	n := 0
	if err := b.SampleObjects(ctx, "bench-B", "B3", func(labrec.Object) error { n++; return nil }); err != nil || n != 3 {
		t.Errorf("objects of the trashed sample B3: %d, %v; want its 3", n, err)
	}
	if err := b.Relabel(ctx, "bench-B", 300, later); err != nil {
		t.Errorf("relabelling an object of the trashed sample B3: %v", err)
	}
}

// A sample the server holds no run of is left out of the programme's views: a copied
// store's sample whose run the server refused showed on the weekly report with a tally
// and no object to review (helper-70). Once a run of it arrives, it shows.
func TestSampleWithoutRunsLeftOut(t *testing.T) {
	ctx := context.Background()
	a, _, r := programme(t)
	taken := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	orphan := labrec.SampleTally{Sample: labrec.Sample{Bench: "bench-A", ID: "A9", Site: "Nowhere Bay", Taken: taken, Created: taken, Factor: 1},
		VolumeML: 1, Objects: 8, Counts: []labrec.Count{{Label: "pseudo_nitzschia", Kind: "taxon", Count: 8, PerL: 8000}}}
	if err := a.PushSample(ctx, orphan); err != nil {
		t.Fatal(err)
	}
	listed := func() (bool, bool) {
		samples, err := r.Samples(ctx, labrec.ProgrammeFilter{})
		if err != nil {
			t.Fatal(err)
		}
		sites, err := r.Sites(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Contains(" "+ids(samples)+" ", " A9 "), slices.Contains(sites, "Nowhere Bay")
	}
	if s, site := listed(); s || site {
		t.Errorf("a sample with no run: listed %v, its site listed %v", s, site)
	}
	f := makeRun("bench-A", "A9", "Nowhere Bay", taken, 9, 900, 3, "")
	if err := a.PushRun(ctx, f.batch, f.stream); err != nil {
		t.Fatal(err)
	}
	if s, site := listed(); !s || !site {
		t.Errorf("once its run arrived: listed %v, its site listed %v", s, site)
	}
}

// An object whose label is the model's guess under its run's threshold, with no person's
// label, reads as unidentified: it waits for review whatever its label says (helper-76
// read the guess as the object's label). A person's label ends that.
func TestSampleObjectsSayUnidentified(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	a := benchServer(t, db, "bench-A", "North")
	f := makeRun("bench-A", "U1", "Kiel", time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC), 1, 100, 3, "")
	f.objects[2].Prob = 0.3 // the run's threshold is 0.5
	if err := a.PushRun(ctx, f.batch, f.stream); err != nil {
		t.Fatal(err)
	}
	read := func() []bool {
		var got []bool
		if err := a.SampleObjects(ctx, "bench-A", "U1", func(o labrec.Object) error { got = append(got, o.Unidentified); return nil }); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := read(); !slices.Equal(got, []bool{false, false, true}) {
		t.Errorf("unidentified %v, want the third alone", got)
	}
	if err := a.Relabel(ctx, "bench-A", 102, labrec.Validation{Label: "other", By: "rev", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if got := read(); !slices.Equal(got, []bool{false, false, false}) {
		t.Errorf("after a person's label: unidentified %v, want none", got)
	}
}

// The weekly report says what counted each sample (pack, model, threshold, rules, the
// calibration of its objects, and its packs' taxa: what it can see), and names the
// week's companions with where they stand: left out of the week's samples, an ALERT of
// one sat beside "No alert" without a word (helper-92).
func TestWeekReportSetupsAndCompanions(t *testing.T) {
	ctx := context.Background()
	a, b, r := programme(t)
	taken := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC) // A2's
	// A2 counted again with another pack, on calibrated frames: two setups.
	marine := makeRun("bench-A", "A2", "Kiel", taken, 30, 3000, 3, "")
	marine.batch.Run.Pack, marine.batch.Run.Model, marine.batch.Run.Threshold, marine.batch.Run.Rules = "marine", "base", 0.7, "preset default"
	marine.batch.Taxa = []labrec.Taxon{{Pack: "marine", Label: "noctiluca", Name: "Noctiluca", Group: "dino", GroupName: "Dinoflagellates", Unit: "cell"}}
	for i := range marine.objects {
		marine.objects[i].UmPerPx = ptr(0.8 + 0.1*float64(i%2))
	}
	if err := a.PushRun(ctx, marine.batch, marine.stream); err != nil {
		t.Fatal(err)
	}
	// A2's frames counted by the marine pack, kept apart: a companion standing at ALERT.
	comp := makeRun("bench-A", "A2~marine", "Kiel", taken, 31, 3100, 3, "alert")
	comp.batch.Run.Pack = "marine"
	comp.batch.Taxa = marine.batch.Taxa
	comp.batch.Tally.Standing = &labrec.Standing{Rules: "preset default", Level: "alert", Rule: "Diatoms", PerL: 2.84e6}
	if err := a.PushRun(ctx, comp.batch, comp.stream); err != nil {
		t.Fatal(err)
	}
	// Bench B holds no A2: its A2~x is a sample of the programme, not a companion.
	other := makeRun("bench-B", "A2~x", "Kiel", taken, 32, 3200, 3, "")
	if err := b.PushRun(ctx, other.batch, other.stream); err != nil {
		t.Fatal(err)
	}
	w, _ := labrec.ParseWeek("2026-W48")
	rep, err := r.WeekReport(ctx, w, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(rep.Samples); got != "A1 B2 A2 A2~x A3" {
		t.Errorf("week 48 samples %q, want A1 B2 A2 A2~x A3 (A2~marine a companion)", got)
	}
	if len(rep.Companions) != 1 {
		t.Fatalf("week 48 companions %+v, want A2~marine alone", rep.Companions)
	}
	c := rep.Companions[0]
	if c.ID != "A2~marine" || c.Companion != "A2" || c.BenchName != "North" || c.Standing == nil || c.Standing.Level != "alert" ||
		c.Standing.PerL != 2.84e6 || c.TopLevel != "alert" || len(c.Counts) != 3 || len(c.Setups) != 1 || c.Setups[0].Pack != "marine" {
		t.Errorf("companion %+v, want A2~marine of A2 at bench North, standing at ALERT 2.84e6, its counts and the marine pack", c)
	}
	for _, p := range rep.Samples {
		if p.ID != "A2" {
			if len(p.Setups) != 1 || p.Setups[0].Pack != "baltic" || p.Setups[0].Model != "m.onnx" || p.Setups[0].Threshold != 0.5 || p.Setups[0].UmPerPxMax != 0 {
				t.Errorf("%s setups %+v, want baltic m.onnx at 0.5, uncalibrated", p.ID, p.Setups)
			}
			continue
		}
		if len(p.Setups) != 2 || p.Setups[0].Pack != "baltic" || p.Setups[1].Pack != "marine" {
			t.Fatalf("A2 setups %+v, want baltic then marine", p.Setups)
		}
		m := p.Setups[1]
		if m.Model != "base" || m.Threshold != 0.7 || m.Rules != "preset default" || m.UmPerPxMin != 0.8 || m.UmPerPxMax != 0.9 ||
			len(m.Taxa) != 1 || m.Taxa[0].Group != "dino" {
			t.Errorf("A2's marine setup %+v, want base at 0.7, preset default, 0.8 to 0.9 µm/px, its taxon noctiluca", m)
		}
		if looks, known := p.LooksFor("dino"); !looks || !known {
			t.Errorf("A2 looks for dinoflagellates: %v (known %v), want true (its marine run)", looks, known)
		}
		if looks, known := p.LooksFor("cyano"); looks || !known {
			t.Errorf("A2 looks for cyanobacteria: %v (known %v), want false, known", looks, known)
		}
	}
}
