package ui

import (
	"cmp"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"image/color"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/labrec"
	"github.com/phytoscreen/phytoscreen/labsync"
)

// fakeLab is a LabServer for the UI tests: settings kept in the app's preferences as the
// real one keeps them, the programme in memory. The lead's end-to-end tests use the real
// server. Its fields are shared with the app's goroutines: mu guards them.
type fakeLab struct {
	mu    sync.Mutex
	prefs app.Prefs

	applied  []fakeApply
	tested   []fakeApply
	testMsg  string
	testErr  error
	testGate chan struct{} // when set, Test waits for it
	status   labsync.Status
	benchID  string
	syncs    int
	from     string
	fromErr  error
	forgot   int

	prog      *fakeProgramme
	progErr   error
	reports   []fakeReport
	reportErr error
}

type fakeApply struct {
	s        app.LabSettings
	password string
	save     bool
}

type fakeReport struct {
	week labrec.Week
	path string
}

func (l *fakeLab) Settings() app.LabSettings {
	l.mu.Lock()
	defer l.mu.Unlock()
	return app.LoadLabSettings(l.prefs)
}

func (l *fakeLab) Apply(s app.LabSettings, password string, save bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := s.Check(); err != nil {
		return err
	}
	s.Save(l.prefs)
	l.applied = append(l.applied, fakeApply{s, password, save})
	if password != "" && save {
		l.from = app.PasswordFromKeyring
	}
	return nil
}

func (l *fakeLab) Test(ctx context.Context, s app.LabSettings, password string) (string, error) {
	l.mu.Lock()
	l.tested = append(l.tested, fakeApply{s: s, password: password})
	gate, msg, err := l.testGate, l.testMsg, l.testErr
	l.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	return msg, err
}

func (l *fakeLab) PasswordFrom(app.LabSettings) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.from, l.fromErr
}

func (l *fakeLab) ForgetPassword(app.LabSettings) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.forgot++
	l.from = ""
	return nil
}

func (l *fakeLab) Status() labsync.Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.status
}

func (l *fakeLab) BenchID() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.benchID
}

func (l *fakeLab) SyncNow() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.syncs++
}

func (l *fakeLab) Programme(ctx context.Context) (Programme, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.progErr != nil {
		return nil, l.progErr
	}
	if l.prog == nil {
		return nil, errors.New("no lab server configured: set one in Settings › Lab server")
	}
	return l.prog, nil
}

func (l *fakeLab) WeekReport(ctx context.Context, week labrec.Week, path string) error {
	l.mu.Lock()
	err := l.reportErr
	l.reports = append(l.reports, fakeReport{week, path})
	l.mu.Unlock()
	if err != nil {
		return err
	}
	return os.WriteFile(path, []byte("%PDF-1.4 week "+week.String()), 0o644)
}

// get reads a field of l under its lock.
func get[T any](l *fakeLab, f func(*fakeLab) T) T {
	l.mu.Lock()
	defer l.mu.Unlock()
	return f(l)
}

// fakeProgramme is a programme in memory: it filters as the server would.
type fakeProgramme struct {
	benches []labrec.BenchInfo
	samples []labrec.ProgrammeSample
	alerts  map[string][]labrec.ProgrammeAlert // by bench + "/" + sample
}

func (p *fakeProgramme) Benches(context.Context) ([]labrec.BenchInfo, error) { return p.benches, nil }

func (p *fakeProgramme) Sites(context.Context) ([]string, error) {
	var out []string
	for _, s := range p.samples {
		if !slices.Contains(out, s.Site) {
			out = append(out, s.Site)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (p *fakeProgramme) Samples(_ context.Context, f labrec.ProgrammeFilter) ([]labrec.ProgrammeSample, error) {
	var out []labrec.ProgrammeSample
	for _, s := range p.samples {
		if (f.Site != "" && s.Site != f.Site) || (f.Bench != "" && s.Bench != f.Bench && s.BenchName != f.Bench) ||
			(!f.From.IsZero() && s.Taken.Before(f.From)) || (!f.To.IsZero() && !s.Taken.Before(f.To)) {
			continue
		}
		out = append(out, s)
	}
	return out, nil
}

func (p *fakeProgramme) find(bench, id string) (labrec.ProgrammeSample, error) {
	for _, s := range p.samples {
		if s.Bench == bench && s.ID == id {
			return s, nil
		}
	}
	return labrec.ProgrammeSample{}, fmt.Errorf("bench %s has no sample %q", bench, id)
}

func (p *fakeProgramme) SampleCounts(_ context.Context, bench, id string) (labrec.SampleTally, error) {
	s, err := p.find(bench, id)
	return s.SampleTally, err
}

func (p *fakeProgramme) SampleAlerts(_ context.Context, bench, id string) ([]labrec.ProgrammeAlert, error) {
	return p.alerts[bench+"/"+id], nil
}

func (p *fakeProgramme) TaxonChoices(_ context.Context, site string) ([]labrec.Count, error) {
	var out []labrec.Count
	for _, s := range p.samples {
		if s.Site != site {
			continue
		}
		for _, c := range s.Counts {
			if !slices.ContainsFunc(out, func(o labrec.Count) bool { return o.Label == c.Label }) {
				out = append(out, labrec.Count{Label: c.Label, Kind: c.Kind, Name: c.Name})
			}
		}
	}
	return out, nil
}

func (p *fakeProgramme) SiteTrend(_ context.Context, site, label string, from, to time.Time) ([]labrec.TrendPoint, error) {
	var out []labrec.TrendPoint
	for _, s := range p.samples {
		if s.Site != site || (!from.IsZero() && s.Taken.Before(from)) || (!to.IsZero() && !s.Taken.Before(to)) {
			continue
		}
		for _, c := range s.Counts {
			if c.Label == label {
				out = append(out, labrec.TrendPoint{Bench: s.Bench, BenchName: s.BenchName, SampleID: s.ID, Taken: s.Taken,
					Count: c.Count, PerL: c.PerL, CILow: c.CILow, CIHigh: c.CIHigh, Cells: c.Cells})
			}
		}
	}
	return out, nil
}

// The programme of the tests: two benches, two sites. Bench B's name and one sample ID
// hold quotes, unicode and SQL metacharacters, which the views show as they are.
const (
	benchA   = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
	benchB   = "6fa459ea-ee8a-3ca4-894e-db77e160355e"
	nameB    = `Banc d'Ouessant "B"; --`
	oddID    = `S-'1; DROP TABLE samples;--é`
	taxonDin = "dino_dinophysis"
)

func day(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, time.Local) }

func testProgramme() *fakeProgramme {
	sample := func(bench, name, id, site string, taken time.Time, din int, level string) labrec.ProgrammeSample {
		perL := float64(din) * 1000
		return labrec.ProgrammeSample{
			SampleTally: labrec.SampleTally{
				Sample:   labrec.Sample{Bench: bench, ID: id, Site: site, Taken: taken, Factor: 1},
				VolumeML: 1, Objects: din + 2,
				Counts: []labrec.Count{
					{Label: taxonDin, Kind: "taxon", Name: "Dinophysis", Group: "dsp", Unit: "cell", Count: din, PerL: perL, CILow: perL * 0.6, CIHigh: perL * 1.5},
					// chains of three cells: the group's trend is in cells per litre
					{Label: "dsp", Kind: "group", Name: "DSP producers", Count: din, PerL: perL, CILow: perL * 0.6, CIHigh: perL * 1.5, Cells: float64(3 * din)},
					{Label: "unidentified", Kind: "unidentified", Name: "Unidentified", Count: 2, PerL: 2000, CILow: 240, CIHigh: 7200},
				},
			},
			BenchName: name, Runs: 1, TopLevel: level,
		}
	}
	// Their benches said where they stand: at the level their runs raised.
	stands := func(p labrec.ProgrammeSample) labrec.ProgrammeSample {
		p.Standing = &labrec.Standing{Rules: "preset default", Level: cmp.Or(p.TopLevel, "none")}
		return p
	}
	p := &fakeProgramme{
		benches: []labrec.BenchInfo{{ID: benchA, Name: "Bench A"}, {ID: benchB, Name: nameB}},
		samples: []labrec.ProgrammeSample{
			stands(sample(benchA, "Bench A", "A1", "Loch A", day(2026, 11, 2, 9), 3, "")),
			stands(sample(benchA, "Bench A", "A2", "Loch A", day(2026, 11, 10, 9), 40, "alert")),
			stands(sample(benchB, nameB, oddID, "Loch A", day(2026, 11, 5, 14), 12, "watch")),
			stands(sample(benchB, nameB, "B2", "Bay B", day(2026, 11, 6, 10), 1, "")),
		},
		alerts: map[string][]labrec.ProgrammeAlert{
			benchA + "/A2": {{Alert: labrec.Alert{Time: day(2026, 11, 10, 9), Rule: "DSP", Taxon: "Dinophysis", FromLevel: "watch", ToLevel: "alert", Count: 40, CellsPerL: 40000},
				Bench: benchA, BenchName: "Bench A", SampleID: "A2", Site: "Loch A"}},
		},
	}
	return p
}

// newLabHarness is a harness whose app has the fake lab server.
func newLabHarness(t *testing.T) (*harness, *fakeLab) {
	fy := test.NewTempApp(t)
	lab := &fakeLab{prefs: fy.Preferences(), benchID: benchA, from: ""}
	return newHarnessLab(t, fy, lab), lab
}

// writeTestCA writes a self-signed CA certificate (PEM) and returns its path.
func writeTestCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "lab CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "lab-ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// prefValues lists every value the test app's preferences hold.
func prefValues(t *testing.T, h *harness) map[string]any {
	t.Helper()
	rv, ok := h.fy.Preferences().(interface{ ReadValues(func(map[string]any)) })
	if !ok {
		t.Fatalf("the test app's preferences (%T) cannot list their values", h.fy.Preferences())
	}
	out := map[string]any{}
	rv.ReadValues(func(m map[string]any) {
		for k, v := range m {
			out[k] = v
		}
	})
	return out
}

// An app with no lab server has the settings and history it always had: no Lab server
// tab, no programme selector.
func TestNoLabServerAsBefore(t *testing.T) {
	h := newHarness(t, nil)
	h.a.ShowSettings()
	v := h.a.settingsWin
	if v.lab != nil || len(v.Tabs.Items) != 3 {
		t.Errorf("settings without a lab server: %d tabs, lab panel %v", len(v.Tabs.Items), v.lab != nil)
	}
	if h.a.history.Mode != nil || h.a.history.prog != nil || h.a.history.content != h.a.history.bench {
		t.Error("history without a lab server has a programme view")
	}
}

// Settings › Lab server: the fields reach Apply on Save, the password too but never the
// preferences; the panel then says where the password is kept.
func TestLabSettingsApply(t *testing.T) {
	h, lab := newLabHarness(t)
	h.a.ShowSettings()
	v := h.a.settingsWin
	if v.lab == nil || v.Tabs.Items[len(v.Tabs.Items)-1].Text != "Lab server" {
		t.Fatal("no Lab server tab")
	}
	p := v.lab
	h.pump("where the password comes from", 5*time.Second, func() bool { return p.PasswordFrom.Text != "" })
	if !strings.Contains(p.PasswordFrom.Text, "none") {
		t.Errorf("with nothing configured the password line says %q", p.PasswordFrom.Text)
	}
	ca := writeTestCA(t)
	const secret = `pa'ss "wörd"; DROP--`
	p.Enabled.SetChecked(true)
	test.Type(p.DSN, "host=lab.example.org dbname=phytoscreen user=bench_a")
	p.SSLMode.SetSelected("verify-full")
	if !strings.Contains(p.sslHint.Text, "name the host") {
		t.Errorf("verify-full hint %q", p.sslHint.Text)
	}
	p.RootCert.SetText(ca)
	p.BenchName.SetText("Bench A — Loch Ness")
	test.Type(p.Password, secret)
	p.SavePassword.SetChecked(true)
	test.Tap(v.Save)
	h.pump("Apply", 5*time.Second, func() bool { return len(get(lab, func(l *fakeLab) []fakeApply { return l.applied })) == 1 })
	got := get(lab, func(l *fakeLab) []fakeApply { return l.applied })[0]
	want := app.LabSettings{Enabled: true, DSN: "host=lab.example.org dbname=phytoscreen user=bench_a", SSLMode: "verify-full", RootCert: ca, BenchName: "Bench A — Loch Ness"}
	if got.s != want || got.password != secret || !got.save {
		t.Fatalf("Apply got %+v, password %q, save %v; want %+v with the password typed, saved", got.s, got.password, got.save, want)
	}
	h.pump("the outcome", 5*time.Second, func() bool { return strings.Contains(p.Message.Text, "OS keyring") })
	if p.Password.Text != "" {
		t.Error("the password stays in the entry after it was saved")
	}
	h.pump("the password line", 5*time.Second, func() bool { return strings.Contains(p.PasswordFrom.Text, "from the OS keyring") })
	for k, val := range prefValues(t, h) {
		if strings.Contains(fmt.Sprint(val), "pa'ss") {
			t.Errorf("preference %s holds the password", k)
		}
	}
	if s := app.LoadLabSettings(h.fy.Preferences()); s != want {
		t.Errorf("preferences hold %+v, want %+v", s, want)
	}
	// Saving again with nothing changed does not restart the sync.
	test.Tap(v.Save)
	time.Sleep(50 * time.Millisecond)
	h.q.runAll()
	if n := len(get(lab, func(l *fakeLab) []fakeApply { return l.applied })); n != 1 {
		t.Errorf("Save with nothing changed applied again (%d applies)", n)
	}
	// A settings window opened later shows what was saved.
	v.win.Close()
	h.a.ShowSettings()
	if p2 := h.a.settingsWin.lab; p2.DSN.Text != want.DSN || p2.SSLMode.Selected != "verify-full" || !p2.Enabled.Checked || p2.BenchName.Text != want.BenchName {
		t.Errorf("reopened: DSN %q, TLS %q, enabled %v, name %q", p2.DSN.Text, p2.SSLMode.Selected, p2.Enabled.Checked, p2.BenchName.Text)
	}
}

// A connection string with a password is refused with the fix, and nothing is saved or
// applied; so is verify-full without a CA certificate.
func TestLabSettingsRefusesPasswordInDSN(t *testing.T) {
	h, lab := newLabHarness(t)
	h.a.ShowSettings()
	v := h.a.settingsWin
	p := v.lab
	for _, c := range []struct{ dsn, mode, want string }{
		{"postgres://bench_a:hunter2@lab.example.org/phytoscreen", "prefer", "put the password in the password field (kept in the OS keyring) or in PHYTOSCREEN_LAB_PASSWORD, never in the connection string"},
		{"host=lab user=bench_a password='hunter2'", "prefer", "never in the connection string"},
		{"host=lab user=bench_a", "verify-ca", "choose its PEM file"},
	} {
		p.Enabled.SetChecked(true)
		p.DSN.SetText(c.dsn)
		p.SSLMode.SetSelected(c.mode)
		test.Tap(v.Save)
		if !strings.Contains(v.message.Text, c.want) {
			t.Errorf("DSN %q, TLS %s: message %q, want it to say %q", c.dsn, c.mode, v.message.Text, c.want)
		}
		if strings.Contains(v.message.Text, "hunter2") {
			t.Errorf("the refusal shows the password: %q", v.message.Text)
		}
		if top := v.win.Canvas().Overlays().Top(); top != nil {
			v.win.Canvas().Overlays().Remove(top) // the error dialog
		}
	}
	time.Sleep(50 * time.Millisecond)
	h.q.runAll()
	if n := len(get(lab, func(l *fakeLab) []fakeApply { return l.applied })); n != 0 {
		t.Errorf("refused settings were applied %d times", n)
	}
	if s := app.LoadLabSettings(h.fy.Preferences()); s.DSN != "" || s.Enabled {
		t.Errorf("refused settings were saved: %+v", s)
	}
	// Test connection refuses them too, without connecting.
	p.DSN.SetText("postgres://bench_a:hunter2@lab/p")
	p.SSLMode.SetSelected("prefer")
	test.Tap(p.Test)
	if !strings.HasPrefix(p.TestResult.Text, "Not tested: ") || !strings.Contains(p.TestResult.Text, "never in the connection string") {
		t.Errorf("test with a password in the DSN: %q", p.TestResult.Text)
	}
	if n := len(get(lab, func(l *fakeLab) []fakeApply { return l.tested })); n != 0 {
		t.Errorf("it connected %d times", n)
	}
}

// Test connection tries the fields as they stand (unsaved) on a goroutine, showing its
// progress, then what it reached, or why not.
func TestLabTestConnection(t *testing.T) {
	h, lab := newLabHarness(t)
	h.a.ShowSettings()
	p := h.a.settingsWin.lab
	p.DSN.SetText("postgres://bench_a@lab.example.org/phytoscreen")
	p.SSLMode.SetSelected("require")
	test.Type(p.Password, "typed")
	lab.mu.Lock()
	lab.testMsg = "connected to lab.example.org/phytoscreen as bench_a; schema 1; 3 benches"
	lab.mu.Unlock()
	test.Tap(p.Test)
	h.pump("the test's answer", 5*time.Second, func() bool { return strings.HasPrefix(p.TestResult.Text, "✓") })
	if p.TestResult.Text != "✓ connected to lab.example.org/phytoscreen as bench_a; schema 1; 3 benches" {
		t.Errorf("success: %q", p.TestResult.Text)
	}
	tested := get(lab, func(l *fakeLab) []fakeApply { return l.tested })
	if len(tested) != 1 || tested[0].s.DSN != "postgres://bench_a@lab.example.org/phytoscreen" || tested[0].s.SSLMode != "require" || tested[0].password != "typed" {
		t.Errorf("tested with %+v", tested)
	}
	if s := app.LoadLabSettings(h.fy.Preferences()); s.DSN != "" {
		t.Errorf("testing saved the settings: %+v", s)
	}
	// A failing server: while it is asked, the button is off and the bar shows.
	gate := make(chan struct{})
	lab.mu.Lock()
	lab.testErr = errors.New(`password authentication failed for user "bench_a"`)
	lab.testGate = gate
	lab.mu.Unlock()
	test.Tap(p.Test)
	h.pump("the test under way", 5*time.Second, func() bool {
		return p.Test.Disabled() && p.testing.Visible() && len(get(lab, func(l *fakeLab) []fakeApply { return l.tested })) == 2
	})
	close(gate)
	h.pump("the failure", 5*time.Second, func() bool { return strings.HasPrefix(p.TestResult.Text, "✗") })
	if p.TestResult.Text != `✗ Could not connect: password authentication failed for user "bench_a"` {
		t.Errorf("failure: %q", p.TestResult.Text)
	}
	if p.Test.Disabled() || p.testing.Visible() {
		t.Error("the test ended but its button stays off or its bar shows")
	}
}

// The status block shows the outbox, the last sync and the connection, and refreshes
// itself while the tab shows; Sync now asks for a sync.
func TestLabStatusBlock(t *testing.T) {
	h, lab := newLabHarness(t)
	oldest := time.Date(2026, 11, 30, 8, 15, 0, 0, time.UTC)
	lab.mu.Lock()
	lab.status = labsync.Status{Configured: true, Pending: 3, Oldest: oldest, LastError: "dial tcp 10.0.0.9:5432: connect: connection refused"}
	lab.mu.Unlock()
	h.a.ShowSettings()
	v := h.a.settingsWin
	p := v.lab
	v.Tabs.SelectIndex(len(v.Tabs.Items) - 1)
	h.pump("the status", 5*time.Second, func() bool { return p.Outbox.Text != "" })
	if want := "3 changes, oldest queued " + oldest.Local().Format("2006-01-02 15:04:05"); p.Outbox.Text != want {
		t.Errorf("outbox %q, want %q", p.Outbox.Text, want)
	}
	if p.LastSync.Text != "never" {
		t.Errorf("last sync %q, want never", p.LastSync.Text)
	}
	if !strings.Contains(p.State.Text, "Offline") || !strings.Contains(p.State.Text, "connection refused") {
		t.Errorf("state %q", p.State.Text)
	}
	if p.BenchID.Text != benchA || !p.BenchID.Selectable {
		t.Errorf("bench ID %q (selectable %v)", p.BenchID.Text, p.BenchID.Selectable)
	}
	// The sync catches up: the block shows it at its next refresh, by itself.
	synced := time.Date(2026, 12, 1, 9, 30, 5, 0, time.UTC)
	lab.mu.Lock()
	lab.status = labsync.Status{Configured: true, Connected: true, LastSync: synced, Pushed: 3}
	lab.mu.Unlock()
	h.pump("the next refresh", 3*labStatusEvery, func() bool { return p.Outbox.Text == "nothing waits" })
	if want := synced.Local().Format("2006-01-02 15:04:05"); p.LastSync.Text != want {
		t.Errorf("last sync %q, want %q", p.LastSync.Text, want)
	}
	if !strings.HasPrefix(p.State.Text, "Connected") {
		t.Errorf("state %q", p.State.Text)
	}
	// A login the server refused is not "offline": the fix is the password.
	lab.mu.Lock()
	lab.status = labsync.Status{Configured: true, Refused: true, LastError: `password authentication failed for user "bench_a"`}
	lab.mu.Unlock()
	h.pump("the refused login", 3*labStatusEvery, func() bool { return strings.HasPrefix(p.State.Text, "Refused:") })
	if !strings.Contains(p.State.Text, "type the password above and Save") || strings.Contains(p.State.Text, "Offline") {
		t.Errorf("state %q", p.State.Text)
	}
	test.Tap(p.SyncNow)
	h.pump("Sync now", 5*time.Second, func() bool { return get(lab, func(l *fakeLab) int { return l.syncs }) == 1 })
	// Another tab stops the refresh.
	v.Tabs.SelectIndex(0)
	if p.stopTick != nil {
		t.Error("the status still refreshes behind another tab")
	}
}

// History's programme view lists every bench's samples, filtered by site, bench and
// dates; a sample shows its tally and alerts, and the trend at its site has one line
// per bench.
func TestHistoryProgramme(t *testing.T) {
	h, lab := newLabHarness(t)
	lab.mu.Lock()
	lab.prog = testProgramme()
	lab.mu.Unlock()
	hv := h.a.history
	h.a.tabs.SelectIndex(2)
	hv.Mode.SetSelected(modeProgramme)
	pv := hv.prog
	if !pv.content.Visible() || hv.bench.Visible() {
		t.Fatal("the programme view does not replace this bench's")
	}
	ids := func() []string {
		var out []string
		for _, s := range pv.samples {
			out = append(out, s.ID)
		}
		return out
	}
	h.pump("every bench's samples", 5*time.Second, func() bool { return len(pv.samples) == 4 })
	if !slices.Equal(pv.Site.Options, []string{allSites, "Bay B", "Loch A"}) || !slices.Equal(pv.Bench.Options, []string{allBenches, "Bench A", nameB}) {
		t.Fatalf("filter choices: sites %q, benches %q", pv.Site.Options, pv.Bench.Options)
	}
	pv.Site.SetSelected("Loch A")
	h.pump("Loch A's samples", 5*time.Second, func() bool { return len(pv.samples) == 3 })
	if got := ids(); !slices.Equal(got, []string{"A1", "A2", oddID}) {
		t.Errorf("Loch A: %q", got)
	}
	pv.Bench.SetSelected(nameB)
	h.pump("bench B's samples at Loch A", 5*time.Second, func() bool { return len(pv.samples) == 1 })
	if got := ids(); !slices.Equal(got, []string{oddID}) {
		t.Errorf("bench B at Loch A: %q", got)
	}
	if line := programmeLine(pv.samples[0]); line != nameB+" · Loch A · 2026-11-05 14:00 · WATCH" {
		t.Errorf("list line %q", line)
	}
	// Where it stands on its final figures, not what its runs raised while counting
	// (helper-70); a bench that did not say is said so.
	s := pv.samples[0]
	for _, c := range []struct {
		st   *labrec.Standing
		want string
	}{
		{&labrec.Standing{Level: "none"}, "no alert (raised WATCH while counting)"},
		{&labrec.Standing{Level: labrec.NotChecked}, "not checked"},
		{&labrec.Standing{Level: "alert"}, "ALERT"},
		{nil, "raised WATCH while counting"},
	} {
		s.Standing = c.st
		if line := programmeLine(s); !strings.HasSuffix(line, " · 2026-11-05 14:00 · "+c.want) {
			t.Errorf("standing %+v: list line %q, want it to end %q", c.st, line, c.want)
		}
	}
	pv.Bench.SetSelected(allBenches)
	pv.From.SetText("2026-11-04")
	pv.To.SetText("2026-11-10") // includes its day
	test.Tap(pv.Refresh)
	h.pump("Loch A, 4 to 10 November", 5*time.Second, func() bool { return len(pv.samples) == 2 })
	if got := ids(); !slices.Equal(got, []string{"A2", oddID}) {
		t.Errorf("4 to 10 November: %q", got)
	}
	// A bad date says the format and keeps the list.
	pv.From.SetText("04/11/2026")
	test.Tap(pv.Refresh)
	if !strings.Contains(pv.Error.Text, `From date "04/11/2026": write it as YYYY-MM-DD`) || len(pv.samples) != 2 {
		t.Errorf("bad date: error %q, %d samples", pv.Error.Text, len(pv.samples))
	}
	pv.From.SetText("")
	pv.To.SetText("")
	test.Tap(pv.Refresh)
	h.pump("Loch A again", 5*time.Second, func() bool { return len(pv.samples) == 3 && pv.Error.Text == "" })

	// The detail of A2: its tally, its alert, and the trend at Loch A across benches.
	i := slices.Index(ids(), "A2")
	pv.list.Select(i)
	h.pump("A2's detail", 5*time.Second, func() bool {
		return strings.HasPrefix(pv.header.Text, "Sample A2 ") &&
			slices.ContainsFunc(pv.chart.Points(), func(p chartPoint) bool { return p.Current && p.Sample == "A2" })
	})
	rows := pv.counts.Rows()
	k := slices.IndexFunc(rows, func(r countRow) bool { return r.Label == taxonDin })
	if k < 0 || rows[k].Count != 40 || rows[k].PerL != 40000 || rows[k].Low != 24000 || rows[k].High != 60000 {
		t.Errorf("A2's counts %+v", rows)
	}
	if k >= 0 && rows[k].Level != alerts.Alert {
		t.Errorf("A2's Dinophysis row at %v; its rule ended at alert", rows[k].Level)
	}
	if !strings.Contains(pv.Alerts.Text, "ALERT Dinophysis") || !strings.Contains(pv.Alerts.Text, "40,000 cells/L") {
		t.Errorf("A2's alerts %q", pv.Alerts.Text)
	}
	if pv.taxonSel.Selected != "Group: DSP producers" {
		t.Errorf("chart of %q, want the most abundant group", pv.taxonSel.Selected)
	}
	if s := pv.chart.Series(); !slices.Equal(s, []string{nameB, "Bench A"}) { // by name
		t.Errorf("chart series %q, want one per bench", s)
	}
	var current []string
	for _, p := range pv.chart.Points() {
		if p.Current {
			current = append(current, p.Series+"/"+p.Sample)
		}
	}
	if len(pv.chart.Points()) != 3 || !slices.Equal(current, []string{"Bench A/A2"}) {
		t.Errorf("chart points %+v", pv.chart.Points())
	}
	for _, p := range pv.chart.Points() {
		if p.Sample == "A2" && (p.PerL != 120000 || p.Low != 72000 || p.High != 180000) {
			t.Errorf("A2 on the chart of cells per litre: %g [%g, %g]; want its 40 chains' 120 cells, 120,000/L [72,000, 180,000]", p.PerL, p.Low, p.High)
		}
	}
	// The sample with quotes and SQL in its ID is shown as it is.
	pv.list.Select(slices.Index(ids(), oddID))
	h.pump("the odd sample", 5*time.Second, func() bool { return strings.HasPrefix(pv.header.Text, "Sample "+oddID+" ") })
	if !strings.Contains(pv.Alerts.Text, "No alert") {
		t.Errorf("odd sample's alerts %q", pv.Alerts.Text)
	}
}

// A server that cannot be reached shows its error in the view, and This bench still
// works.
func TestHistoryProgrammeUnreachable(t *testing.T) {
	h, lab := newLabHarness(t)
	h.a.set.Site = "Loch A"
	h.a.sample.Fill(h.a.newSample(), 0)
	local := h.runToEnd(2)
	lab.mu.Lock()
	lab.progErr = errors.New("dial tcp 10.0.0.9:5432: connect: connection refused")
	lab.mu.Unlock()
	hv := h.a.history
	h.a.tabs.SelectIndex(2)
	h.pump("this bench's sample", 5*time.Second, func() bool { return len(hv.entries) == 1 })
	hv.Mode.SetSelected(modeProgramme)
	pv := hv.prog
	h.pump("the error", 5*time.Second, func() bool { return pv.Error.Text != "" })
	if pv.Error.Text != "Lab server: dial tcp 10.0.0.9:5432: connect: connection refused" || len(pv.samples) != 0 {
		t.Errorf("unreachable: %q, %d samples", pv.Error.Text, len(pv.samples))
	}
	hv.Mode.SetSelected(modeBench)
	if !hv.bench.Visible() || pv.content.Visible() {
		t.Fatal("This bench is not shown again")
	}
	hv.all, hv.entries = nil, nil
	h.pump("this bench's sample again", 5*time.Second, func() bool { return len(hv.entries) == 1 && hv.selected == local })
	h.pump("its counts", 5*time.Second, func() bool { return hv.Counted().Sample.ID == local })
	// The server back: the programme view reads it.
	lab.mu.Lock()
	lab.progErr = nil
	lab.prog = testProgramme()
	lab.mu.Unlock()
	hv.Mode.SetSelected(modeProgramme)
	h.pump("the programme", 5*time.Second, func() bool { return len(pv.samples) == 4 && pv.Error.Text == "" })
}

// The weekly report asks for an ISO week (this week by default), refuses one that does
// not exist, and writes the report of a good one where asked, saying where.
func TestWeekReportDialog(t *testing.T) {
	h, lab := newLabHarness(t)
	lab.mu.Lock()
	lab.prog = testProgramme()
	lab.mu.Unlock()
	hv := h.a.history
	h.a.tabs.SelectIndex(2)
	hv.Mode.SetSelected(modeProgramme)
	test.Tap(hv.prog.Report)
	d := hv.prog.week
	if d == nil {
		t.Fatal("no weekly report dialog")
	}
	if this := labrec.WeekOf(time.Now()).String(); d.Week.Text != this || !strings.HasSuffix(d.Path.Text, "programme-"+this+".pdf") {
		t.Errorf("defaults: week %q, file %q; want %s", d.Week.Text, d.Path.Text, this)
	}
	for _, c := range []struct{ week, want string }{
		{"2026-W54", "the week must be 1 to 53"},
		{"2025-W53", "2025 has no week 53"},
		{"week 48", "write it as YEAR-Wnn, e.g. 2026-W48"},
	} {
		d.Week.SetText(c.week)
		test.Tap(d.Make)
		if !strings.HasPrefix(d.Result.Text, "Not made: ") || !strings.Contains(d.Result.Text, c.want) {
			t.Errorf("week %q: %q, want it to say %q", c.week, d.Result.Text, c.want)
		}
	}
	if n := len(get(lab, func(l *fakeLab) []fakeReport { return l.reports })); n != 0 {
		t.Fatalf("bad weeks reached the server %d times", n)
	}
	d.Week.SetText("2026-W48")
	if !strings.HasSuffix(d.Path.Text, "programme-2026-W48.pdf") {
		t.Errorf("the file does not follow the week: %q", d.Path.Text)
	}
	out := filepath.Join(t.TempDir(), "lab report")
	d.Path.SetText(out) // no extension: .pdf is added
	d.Week.SetText("2026-W49")
	if d.Path.Text != out {
		t.Errorf("a file the user chose was renamed to %q", d.Path.Text)
	}
	test.Tap(d.Make)
	h.pump("the report", 5*time.Second, func() bool { return d.saved != "" })
	reps := get(lab, func(l *fakeLab) []fakeReport { return l.reports })
	if len(reps) != 1 || reps[0].week != (labrec.Week{Year: 2026, Week: 49}) || reps[0].path != out+".pdf" {
		t.Fatalf("reports %+v", reps)
	}
	if b, err := os.ReadFile(out + ".pdf"); err != nil || !strings.HasPrefix(string(b), "%PDF") {
		t.Errorf("the report file: %v", err)
	}
	if !strings.Contains(d.Result.Text, "saved in "+out+".pdf") {
		t.Errorf("result %q", d.Result.Text)
	}
	// A failure says why.
	lab.mu.Lock()
	lab.reportErr = errors.New("lab server: permission denied for table samples (role bench_a)")
	lab.mu.Unlock()
	test.Tap(d.Make)
	h.pump("the failure", 5*time.Second, func() bool { return strings.Contains(d.Result.Text, "permission denied") })
	if !strings.HasPrefix(d.Result.Text, "Not made: ") {
		t.Errorf("failure: %q", d.Result.Text)
	}
}

// A chart of several benches draws each in its own colour; a chart of one unnamed
// series draws none of the others'.
func TestChartSeriesColours(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.Local)
	var pts, single []chartPoint
	for i := range 6 {
		series := "Bench A"
		if i%2 == 1 {
			series = "Bench B"
		}
		p := chartPoint{Sample: fmt.Sprint(i), Time: t0.Add(time.Duration(i) * 24 * time.Hour), PerL: float64(1000 * (i + 1)), Low: 500, High: float64(1500 * (i + 1)), Series: series}
		pts = append(pts, p)
		p.Series = ""
		single = append(single, p)
	}
	count := func(pts []chartPoint, c color.NRGBA) int {
		img := renderChart(pts, "t", chartLevels{}, colorBrand, 640, 400, 1)
		n := 0
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				r, g, bb, _ := img.At(x, y).RGBA()
				if uint8(r>>8) == c.R && uint8(g>>8) == c.G && uint8(bb>>8) == c.B {
					n++
				}
			}
		}
		return n
	}
	a, b := count(pts, seriesColor(0)), count(pts, seriesColor(1))
	if a < 20 || b < 20 {
		t.Errorf("two benches: %d pixels of the first's colour, %d of the second's", a, b)
	}
	if n := count(single, seriesColor(1)); n != 0 {
		t.Errorf("one unnamed series drew %d pixels of a second series' colour", n)
	}
	if s := chartSeries(pts); !slices.Equal(s, []string{"Bench A", "Bench B"}) {
		t.Errorf("series %q", s)
	}
}

// Each rule's last level lands on the row it names: a group's rule on the group row
// (it showed "–" on the row of a WATCH sample: helper-40); a rule lowered again leaves
// its row at the lower level.
func TestProgrammeRowLevels(t *testing.T) {
	rows := []countRow{{Label: "microcystis", Name: "Microcystis"}, {Label: groupKey + "cyano", Name: "HAB group: Cyanobacteria", IsGroup: true}, {Label: "nostoc", Name: "Nostoc"}}
	t0 := day(2026, 11, 10, 9)
	setProgrammeLevels(rows, []labrec.ProgrammeAlert{
		{Alert: labrec.Alert{Time: t0, Rule: "who", Taxon: "Cyanobacteria", ToLevel: "watch"}},
		{Alert: labrec.Alert{Time: t0, Rule: "mc", Taxon: "Microcystis", ToLevel: "alert"}},
		{Alert: labrec.Alert{Time: t0.Add(time.Hour), Rule: "mc", Taxon: "Microcystis", ToLevel: "watch"}},
	})
	if rows[0].Level != alerts.Watch || rows[1].Level != alerts.Watch || rows[2].Level != alerts.None {
		t.Errorf("levels %v %v %v; want watch on Microcystis (lowered) and on the group, none on Nostoc", rows[0].Level, rows[1].Level, rows[2].Level)
	}
}
