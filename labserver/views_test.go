package labserver

import (
	"context"
	"fmt"
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
	_, b, r := programme(t)
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
	rep, err := r.WeekReport(ctx, w)
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
	if len(rep.Benches) != 2 || rep.Server != r.ServerText() || rep.Week != w || rep.Made.IsZero() {
		t.Errorf("report header: %+v %q %v", rep.Benches, rep.Server, rep.Week)
	}
	if strings.Contains(rep.Server, "pw of") {
		t.Errorf("server text shows the password: %q", rep.Server)
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
	if err == nil || !strings.Contains(err.Error(), "check the bench role's password (keyring or PHYTOSCREEN_LAB_PASSWORD)") || strings.Contains(err.Error(), "s3cret-wrong") {
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
