package app

import (
	"context"
	"errors"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/pgtest"
	"github.com/phytoscreen/phytoscreen/labrec"
	"github.com/phytoscreen/phytoscreen/labserver"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
	"github.com/zalando/go-keyring"

	"github.com/phytoscreen/phytoscreen/vision"
)

// newTestLab is a Lab on a new session store and preferences, closed with the test.
func newTestLab(t *testing.T) (*Lab, *store.Store) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "sessions.db"))
	if err != nil {
		t.Fatal(err)
	}
	l := NewLab(context.Background(), newMemPrefs(), st)
	t.Cleanup(func() {
		l.Close()
		st.Close()
	})
	return l, st
}

// With no lab server configured the link starts nothing: no sync, the programme views
// say where to set one up, and the outbox is only counted.
func TestLabNotConfigured(t *testing.T) {
	l, _ := newTestLab(t)
	if s := l.Status(); s.Configured || s.Connected {
		t.Errorf("status without a server: %+v", s)
	}
	if _, err := l.Programme(context.Background()); err == nil || !strings.Contains(err.Error(), "Settings › Lab server") {
		t.Errorf("programme views without a server: %v", err)
	}
	if l.BenchID() == "" {
		t.Error("no bench ID")
	}
}

// Settings applied from two places at once (Apply twice, Apply racing Close) leave one
// sync running, not one per Apply: after Close every goroutine the lab started is gone.
// The server named does not exist; the syncers only retry their dial meanwhile.
func TestLabConcurrentApplyLeavesNoSync(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "sessions.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	before := runtime.NumGoroutine()
	l := NewLab(context.Background(), newMemPrefs(), st)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := LabSettings{Enabled: true, DSN: "host=127.0.0.1 port=1 dbname=programme user=bench_" + strconv.Itoa(i), SSLMode: "disable"}
			if err := l.Apply(s, "", false); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if !l.Status().Configured {
		t.Error("no sync configured after the Applies")
	}
	l.Close()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after Close, %d before the lab: a sync leaked\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

// The app's link against a real server: Test says what it reached (and a wrong typed
// password is refused, naming the password), Apply starts the sync, a recorded run
// reaches the server, the programme views and the weekly report read it back, and
// Close stops the sync.
func TestLabAgainstServer(t *testing.T) {
	c := pgtest.Start(t)
	c.CreateDatabase(t, "programme")
	if _, _, err := labserver.Migrate(context.Background(), labserver.Config{DSN: c.AdminDSN("programme")}); err != nil {
		t.Fatal(err)
	}
	c.Exec(t, "programme", "CREATE ROLE bench_a LOGIN PASSWORD 'pw ''of'' bench a' IN ROLE phytoscreen_bench")
	t.Setenv(LabPasswordEnv, "pw 'of' bench a")

	st, err := store.Open(filepath.Join(t.TempDir(), "sessions.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	prefs := newMemPrefs()
	l := NewLab(context.Background(), prefs, st)
	defer l.Close()
	s := LabSettings{Enabled: true, DSN: "host=127.0.0.1 port=" + strconv.Itoa(c.Port()) + " dbname=programme user=bench_a", SSLMode: "disable", BenchName: "Oban bench"}
	ctx := context.Background()
	got, err := l.Test(ctx, s, "")
	if err != nil || !strings.Contains(got, "as bench_a") || !strings.Contains(got, "schema 3") {
		t.Fatalf("Test: %q, %v", got, err)
	}
	if _, err := l.Test(ctx, s, "wrong"); err == nil || !strings.Contains(err.Error(), "password") {
		t.Errorf("Test with a wrong password: %v", err)
	}
	if err := l.Apply(s, "", false); err != nil {
		t.Fatal(err)
	}
	if LoadLabSettings(prefs) != s {
		t.Errorf("settings kept as %+v, want %+v", LoadLabSettings(prefs), s)
	}
	recordRun(t, st, "OB-1 'Nord'", 12)
	deadline := time.Now().Add(time.Minute)
	for {
		l.SyncNow()
		stt := l.Status()
		if stt.Configured && stt.Pending == 0 && !stt.LastSync.IsZero() && stt.Connected {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sync did not push the run: %+v", stt)
		}
		time.Sleep(50 * time.Millisecond)
	}
	p, err := l.Programme(ctx)
	if err != nil {
		t.Fatal(err)
	}
	samples, err := p.Samples(ctx, labrec.ProgrammeFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) != 1 || samples[0].ID != "OB-1 'Nord'" || samples[0].BenchName != "Oban bench" || samples[0].Objects != 12 {
		t.Fatalf("the programme holds %+v", samples)
	}
	out := filepath.Join(t.TempDir(), "week.pdf")
	if err := l.WeekReport(ctx, labrec.WeekOf(samples[0].Taken.Local()), out); err != nil {
		t.Fatal(err)
	}
	text, err := exec.Command("pdftotext", "-layout", out, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v (install poppler-utils: make deps)", err)
	}
	if !strings.Contains(string(text), "OB-1 'Nord'") || !strings.Contains(string(text), "Oban bench") {
		t.Errorf("the weekly report does not show the pushed sample:\n%s", text)
	}
	// A name cleared in Settings goes back to the host name, in the store too.
	cleared := s
	cleared.BenchName = ""
	if err := l.Apply(cleared, "", false); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if n, err := st.BenchName(ctx); err != nil || (n != host && n != "bench") {
		t.Errorf("after clearing the bench name the store still names it %q (%v); want the host name %q", n, err, host)
	}
	l.Close()
	if stt := l.Status(); stt.Configured {
		t.Errorf("after Close the sync still runs: %+v", stt)
	}
	if _, err := os.Stat(out); err != nil {
		t.Fatal(err)
	}
}

// recordRun records a run of n objects for sample id, as a screening session does.
func recordRun(t *testing.T, st *store.Store, id string, n int) {
	t.Helper()
	p, err := inference.LoadPack(assets.DefaultPack(), "built-in")
	if err != nil {
		t.Fatal(err)
	}
	tax := screening.DefaultTaxonomy(p.Name, p.Labels)
	sm := screening.NewSample(id)
	sm.Site, sm.Taken = "Loch Creran", time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	ctx := context.Background()
	r, err := st.StartRun(ctx, screening.RunInfo{Sample: sm, Spec: capture.MustParseSpec("field.avi"), Model: inference.Optimised, Threshold: 0.5, Taxonomy: tax})
	if err != nil {
		t.Fatal(err)
	}
	crop := image.NewGray(image.Rect(0, 0, 24, 24))
	for i := range crop.Pix {
		crop.Pix[i] = uint8(i * 7)
	}
	var recs []screening.ObjectRecord
	for i := range n {
		recs = append(recs, screening.ObjectRecord{Seq: i + 1, Time: sm.Taken,
			Object: vision.Object{Source: "field.avi", Frame: i, Track: i, New: true, Box: crop.Rect, AreaPx: 100, Crop: crop, Kind: vision.KindCell},
			Label:  "protist_noctiluca", Prob: 0.9, Variant: inference.Optimised, Category: "protist_noctiluca"})
	}
	if err := r.Objects(recs); err != nil {
		t.Fatal(err)
	}
	if err := r.Event(alerts.Event{Time: sm.Taken, Rule: "noctiluca", Taxon: "noctiluca", From: alerts.None, To: alerts.Watch,
		Value: alerts.Measure{Count: n, PerL: float64(n) * 1000}, Threshold: alerts.Threshold{Presence: true, Unit: alerts.Presence}}); err != nil {
		t.Fatal(err)
	}
	if err := r.Finish(ctx, screening.Snapshot{}, nil); err != nil {
		t.Fatal(err)
	}
}

// A password typed for the session is the one Test uses too (it tested an empty one
// while the sync was connected); a keyring that cannot keep it leaves the settings
// applied and the password in use for the session, said so; a wrong one leaves the
// sync refused, not "offline" (helper-40).
func TestLabPasswordTypedAndRefused(t *testing.T) {
	keyring.MockInitWithError(errors.New("no D-Bus session"))
	t.Cleanup(keyring.MockInit)
	t.Setenv(LabPasswordEnv, "")
	c := pgtest.Start(t)
	c.CreateDatabase(t, "programme")
	if _, _, err := labserver.Migrate(context.Background(), labserver.Config{DSN: c.AdminDSN("programme")}); err != nil {
		t.Fatal(err)
	}
	c.Exec(t, "programme", "CREATE ROLE bench_a LOGIN PASSWORD 'pw a' IN ROLE phytoscreen_bench")
	l, _ := newTestLab(t)
	s := LabSettings{Enabled: true, DSN: "host=127.0.0.1 port=" + strconv.Itoa(c.Port()) + " dbname=programme user=bench_a", SSLMode: "disable", BenchName: "Oban bench"}
	ctx := context.Background()
	err := l.Apply(s, "pw a", true)
	if !errors.Is(err, ErrPasswordNotKept) || !strings.Contains(err.Error(), "no D-Bus session") {
		t.Fatalf("Apply with a keyring that cannot keep the password: %v; want ErrPasswordNotKept with why", err)
	}
	if LoadLabSettings(l.prefs) != s {
		t.Errorf("the settings were not applied: %+v", LoadLabSettings(l.prefs))
	}
	if from, _ := l.PasswordFrom(s); from != PasswordTyped {
		t.Errorf("password from %q, want %q", from, PasswordTyped)
	}
	if got, err := l.Test(ctx, s, ""); err != nil || !strings.Contains(got, "as bench_a") {
		t.Errorf("Test with the session's password: %q, %v", got, err)
	}
	if err := l.Apply(s, "not it", false); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		l.SyncNow()
		if stt := l.Status(); stt.Refused {
			if !strings.Contains(stt.LastError, "password") || stt.Connected {
				t.Errorf("refused status %+v", stt)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a wrong password did not leave the sync refused: %+v", l.Status())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
