package ui

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/BurntSushi/toml"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/store"
)

func TestSampleErrorsNameTheFix(t *testing.T) {
	h := newHarness(t, nil)
	h.a.sample.ID.SetText("")
	h.a.sample.Volume.SetText("abc")
	h.a.sample.Factor.SetText("0")
	test.Tap(h.a.sample.Start)
	h.q.runAll()
	if h.a.sess != nil {
		t.Fatal("a run started with a bad sample")
	}
	msg := h.a.lastError.Error()
	for _, want := range []string{`Volume "abc" is not a positive number`, "e.g. 1 for a full Sedgewick-Rafter chamber", `Factor "0"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	h.a.sample.Volume.SetText("1")
	h.a.sample.Factor.SetText("1")
	test.Tap(h.a.sample.Start)
	h.q.runAll()
	if !strings.Contains(h.a.lastError.Error(), "sample ID is empty") {
		t.Errorf("empty ID: %v", h.a.lastError)
	}
}

// "1,000" mL was read as 1 mL with no word (helper-54): now the run does not start and
// the error names both readings; an unambiguous decimal comma ("0,5") is read as typed.
func TestVolumeWithAThousandsCommaIsRefused(t *testing.T) {
	h := newHarness(t, nil)
	h.a.sample.ID.SetText("S-COMMA")
	h.a.sample.Volume.SetText("1,000")
	h.a.sample.Factor.SetText("0,5")
	test.Tap(h.a.sample.Start)
	h.q.runAll()
	if h.a.sess != nil {
		t.Fatal("a run started with volume 1,000, which could be 1 or 1000 mL")
	}
	msg := h.a.lastError.Error()
	if want := `Volume "1,000" could be 1000 or 1.000`; !strings.Contains(msg, want) {
		t.Errorf("error %q lacks %q", msg, want)
	}
	if strings.Contains(msg, "Factor") {
		t.Errorf("factor 0,5 refused: %q", msg)
	}
	s, _, err := h.a.sample.Sample()
	if err == nil || s.Factor != 0.5 {
		t.Errorf("sample read from the panel: factor %v (want 0.5), err %v", s.Factor, err)
	}
}

// Every fault of the panel is said at once: the sample's own checks (an ID with a
// slash, a site too long) beside a field that does not read; "POND/3" was said only
// once the volume typed as 1e309 was fixed (helper-86).
func TestSamplePanelSaysEveryFaultAtOnce(t *testing.T) {
	h := newHarness(t, nil)
	h.a.sample.ID.SetText("POND/3")
	h.a.sample.Site.SetText(strings.Repeat("Loch ", 200))
	h.a.sample.Volume.SetText("1e309")
	_, _, err := h.a.sample.Sample()
	if err == nil {
		t.Fatal("the panel read whole")
	}
	msg := err.Error()
	for _, want := range []string{"Volume", "1e309", `sample ID "POND/3" contains a tab, newline or slash`, "site of 999 characters is too long"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the panel's error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "volume examined") {
		t.Errorf("the volume that did not read is said twice:\n%s", msg)
	}
}

// Settings that cannot be kept for the next launch (their file cannot be written) are
// said at Save: it read "Saved." over settings lost at the next launch (helper-86).
func TestSettingsSaveSaysWhenNotKept(t *testing.T) {
	h := newHarness(t, nil)
	blocker := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	h.a.prefsPath = filepath.Join(blocker, "fyne", "preferences.json")
	h.a.ShowSettings()
	v := h.a.settingsWin
	test.Tap(v.Save)
	if msg := v.message.Text; !strings.HasPrefix(msg, "In use now, but not kept for the next launch:") || h.a.lastError == nil || !strings.Contains(h.a.status.Text, "Settings are not kept for the next launch") {
		t.Errorf("Save with the settings file unwritable: message %q, error %v, status %q", msg, h.a.lastError, h.a.status.Text)
	}
	h.a.prefsPath = filepath.Join(t.TempDir(), "preferences.json")
	h.a.lastError = nil
	test.Tap(v.Save)
	if msg := v.message.Text; !strings.HasPrefix(msg, "Saved.") || h.a.lastError != nil {
		t.Errorf("Save with the settings file writable: message %q, error %v", msg, h.a.lastError)
	}
}

// A sample ID holding the companions' mark is refused at Start with the fix: A~2 was
// taken for A's companion and left the programme's weekly report (helper-77).
func TestSampleIDWithCompanionMark(t *testing.T) {
	h := newHarness(t, nil)
	h.a.sample.ID.SetText("A~2")
	test.Tap(h.a.sample.Start)
	h.q.runAll()
	if h.a.sess != nil || h.a.lastError == nil || !strings.Contains(h.a.lastError.Error(), `sample ID "A~2" contains "~"`) {
		t.Errorf("Start with sample A~2: running %v, error %v; want refused", h.a.sess != nil, h.a.lastError)
	}
}

func TestSourceErrorIsShown(t *testing.T) {
	h := newHarness(t, nil) // no source set: opening fails
	h.a.sample.ID.SetText("S-NOSRC")
	test.Tap(h.a.sample.Start)
	h.pump("the error", 5*time.Second, func() bool { return h.a.lastError != nil && h.a.sess == nil })
	if !strings.Contains(h.a.lastError.Error(), "no such file or folder") || h.a.sample.Start.Disabled() || h.a.runState.Text != "Idle" {
		t.Errorf("error %v, start disabled %v, state %q", h.a.lastError, h.a.sample.Start.Disabled(), h.a.runState.Text)
	}
}

func TestPauseResume(t *testing.T) {
	h := newHarness(t, nil)
	cop := labelIndex(t, h.a.svc.Pack, "copepod_calanoid")
	src := newGatedSource(0, func(int) []fakeCell { return []fakeCell{{cop, 0.9}} })
	h.startRun(src, "S-PAUSE", 1)
	src.release(1)
	h.pump("a cell", 10*time.Second, func() bool { return countOf(h.a.counts.Rows(), "copepod_calanoid") == 1 })
	test.Tap(h.a.sample.Pause)
	if h.a.runState.Text != "Paused" || h.a.sample.Pause.Text != "Resume" {
		t.Errorf("paused: state %q, button %q", h.a.runState.Text, h.a.sample.Pause.Text)
	}
	src.release(5)
	time.Sleep(200 * time.Millisecond)
	// The read that was already waiting when Pause was pressed may complete; no other.
	if n := src.reads.Load(); n > 2 {
		t.Errorf("%d frames read while paused", n)
	}
	test.Tap(h.a.sample.Pause)
	h.pump("the frames after resuming", 10*time.Second, func() bool { return src.reads.Load() == 6 })
	test.Tap(h.a.sample.Stop)
	h.waitIdle()
	if n := countOf(h.a.counts.Rows(), "copepod_calanoid"); n != 6 {
		t.Errorf("%d cells counted, want 6", n)
	}
}

func TestMetadataMatchesFyneAppToml(t *testing.T) {
	var f struct {
		Details struct {
			Icon, Name, ID, Version string
			Build                   int
		}
		Migrations map[string]bool
	}
	data, err := os.ReadFile("../FyneApp.toml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := toml.Decode(string(data), &f); err != nil {
		t.Fatal(err)
	}
	m := metadata()
	if f.Details.ID != m.ID || f.Details.Name != m.Name || f.Details.Version != m.Version || f.Details.Build != m.Build || !f.Migrations["fyneDo"] || !m.Migrations["fyneDo"] {
		t.Errorf("FyneApp.toml %+v, code %+v", f, m)
	}
	icon, err := os.ReadFile(filepath.Join("..", f.Details.Icon))
	if err != nil || string(icon) != string(m.Icon.Content()) {
		t.Errorf("icon %s differs from the embedded one (%v)", f.Details.Icon, err)
	}
}

func TestExportName(t *testing.T) {
	for _, c := range []struct{ id, format, want string }{
		{"S-0142", store.FormatCounts, "S-0142_counts.csv"},
		{"bay 3:am", store.FormatObjects, "bay 3_am_objects.csv"},
		{"S-1", store.FormatEcoTaxa, "S-1_ecotaxa.zip"},
	} {
		if got := exportName(c.id, c.format); got != c.want {
			t.Errorf("exportName(%q, %q) = %q, want %q", c.id, c.format, got, c.want)
		}
	}
}

func TestFormatting(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{fmtPerL(12345.4), "12,345"},
		{fmtPerL(0), "0"},
		{fmtPerL(0.014), "0.014"}, // a thousand litres examined: not 0.0, which reads as none found
		{fmtPerL(7.25), "7.25"},
		{fmtPerL(2.5e7), "25.0 M"},
		{fmtPerL(2310000), "2.31 M"},
		{fmtPerL(999999), "999,999"},
		{fmtCount(1234567), "1,234,567"},
		{fmtThreshold(alerts.Threshold{Value: 10000, Unit: alerts.PerL}), "10,000 cells/L"},
		{fmtThreshold(alerts.Threshold{Value: 1.5, Unit: alerts.PerML}), "1.5 cells/mL"},
		{fmtThreshold(alerts.Threshold{Presence: true, Unit: alerts.Presence}), "presence"},
		{fmtJoules(0.0937), "93.7 mJ"},
		{fmtJoules(math.NaN()), "–"},
		{fmtDuration(3723 * time.Second), "1:02:03"},
		{fmt.Sprint(textOn(colorWatch) == textOn(colorAlert)), "false"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestKeyboardShortcuts(t *testing.T) {
	h := newHarness(t, nil)
	c := h.a.win.Canvas().(fyne.Shortcutable)
	// Export with nothing screened says so.
	c.TypedShortcut(shortcutExport)
	if h.a.lastError == nil || !strings.Contains(h.a.lastError.Error(), "screen a sample first") {
		t.Errorf("export before any sample: %v", h.a.lastError)
	}
	cop := labelIndex(t, h.a.svc.Pack, "copepod_calanoid")
	src := newGatedSource(0, func(int) []fakeCell { return []fakeCell{{cop, 0.9}} })
	h.mu.Lock()
	h.src = src
	h.mu.Unlock()
	h.a.sample.ID.SetText("S-KEYS")
	c.TypedShortcut(shortcutStartPause) // start
	h.pump("the run", 5*time.Second, func() bool { return h.a.sess != nil && h.a.runState.Text == "Running" })
	src.release(1)
	h.pump("a cell", 5*time.Second, func() bool { return countOf(h.a.counts.Rows(), "copepod_calanoid") == 1 })
	c.TypedShortcut(shortcutStartPause) // pause
	if h.a.runState.Text != "Paused" {
		t.Errorf("after Ctrl+Space during a run: %q", h.a.runState.Text)
	}
	c.TypedShortcut(shortcutOpen) // refused during a run, with the fix
	if !strings.Contains(h.a.lastError.Error(), "stop it first") {
		t.Errorf("open folder during a run: %v", h.a.lastError)
	}
	c.TypedShortcut(shortcutStop)
	h.waitIdle()
	overlays := len(h.a.win.Canvas().Overlays().List())
	c.TypedShortcut(shortcutExport) // now the sample can be exported: the dialog opens
	if n := len(h.a.win.Canvas().Overlays().List()); n != overlays+1 {
		t.Errorf("export dialog not shown (%d overlays, had %d)", n, overlays)
	}
	if got := h.a.exportSample(); got != "S-KEYS" {
		t.Errorf("export would write sample %q", got)
	}
}

// TestStopWhileOpening presses Stop while the source is still opening (a camera can take
// seconds): the run starts and ends at once, nothing is counted, and the app is idle.
func TestStopWhileOpening(t *testing.T) {
	release := make(chan struct{})
	var h *harness
	h = newHarness(t, nil, func(d *app.Services) {
		open := d.Open
		d.Open = func(ctx context.Context, spec capture.Spec, s app.Settings, opt capture.OpenOptions) (capture.Source, error) {
			<-release
			return open(ctx, spec, s, opt)
		}
	})
	cop := labelIndex(t, h.a.svc.Pack, "copepod_calanoid")
	src := newGatedSource(0, func(int) []fakeCell { return []fakeCell{{cop, 0.9}} })
	src.release(3)
	h.mu.Lock()
	h.src = src
	h.mu.Unlock()
	h.a.sample.ID.SetText("S-EARLY")
	test.Tap(h.a.sample.Start)
	if h.a.runState.Text != "Starting…" {
		t.Fatalf("state %q while opening", h.a.runState.Text)
	}
	test.Tap(h.a.sample.Stop)
	close(release)
	h.waitIdle()
	if h.a.lastError != nil {
		t.Errorf("error: %v", h.a.lastError)
	}
	if n := src.reads.Load(); n > 1 {
		t.Errorf("%d frames read after Stop", n)
	}
	if h.a.sample.Start.Disabled() {
		t.Error("Start stays disabled")
	}
}

// With nothing screened since launch, Export works on the sample chosen in History and
// says so: the Live tab shows the next sample's ID, and "Export sample NA-1" under it
// read as exporting the wrong sample (helper-52).
func TestExportSaysTheSampleIsHistorys(t *testing.T) {
	h := newHarness(t, nil)
	h.a.history.selected = "OLD-1"
	h.a.sample.ID.SetText("S-NEXT")
	h.a.ExportDialog()
	top := h.a.win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no export dialog")
	}
	var labels []string
	walkObjects(top, func(o fyne.CanvasObject) bool {
		if l, ok := o.(*widget.Label); ok {
			labels = append(labels, l.Text)
		}
		return true
	})
	want := "Export sample OLD-1, chosen in History (S-NEXT on the Live tab is not screened yet), as:"
	if !slices.Contains(labels, want) {
		t.Errorf("export dialog says %q; want %q", labels, want)
	}
	// A click on the format chosen keeps it: it cleared it, and the export then failed
	// on 'export format ""' (helper-67).
	var formats *widget.RadioGroup
	walkObjects(top, func(o fyne.CanvasObject) bool {
		formats, _ = o.(*widget.RadioGroup)
		return formats == nil
	})
	if formats == nil {
		t.Fatal("no formats to choose from in the export dialog")
	}
	chosen := formats.Selected
	walkObjects(formats, func(o fyne.CanvasObject) bool {
		if tp, ok := o.(fyne.Tappable); ok && o != fyne.CanvasObject(formats) {
			test.Tap(tp) // the first option: the one chosen
			return false
		}
		return true
	})
	if formats.Selected != chosen || chosen == "" {
		t.Errorf("a click on the format chosen (%q) left %q", chosen, formats.Selected)
	}
}

// History's alerts scroll in their own pane: at their full height a sample with a few
// alerts left its counts table one row (helper-52).
func TestHistoryCountsKeepTheirShareBesideLongAlerts(t *testing.T) {
	h := newHarness(t, nil)
	h.a.win.Resize(fyne.NewSize(1440, 900))
	h.a.tabs.SelectIndex(2)
	hv := h.a.history
	hv.alerts.SetText(strings.Repeat("Raised ALERT Cyanobacteria + Microcystis spp. + Oscillatoria spp. at 12:11:38: 301.5 M cells/L (39 counted in the frames read by then), alert level ≥ 100.0 M cells/L · source: WHO 2003 guidelines\n", 12))
	hv.countsSplit.Refresh()
	box := hv.countsSplit.Size().Height
	if got := hv.counts.Size().Height; box <= 0 || got < 0.5*box {
		t.Errorf("the counts table is %g px of the %g px it shares with 12 alert lines; want at least half", got, box)
	}
}

// A crop's caption cuts its probability down: 0.4996, in the queue of those under 50%,
// read "50%" (helper-52).
func TestTileCaptionCutsDown(t *testing.T) {
	for p, want := range map[float64]string{0.4996: "#88 · 49%", 0.5: "#88 · 50%", 0.999: "#88 · 99%", 1: "#88 · 100%",
		float64(float32(0.49)): "#88 · 49%"} { // 0.48999998: the model's float32 read 48% here, 49% in the detail
		if got := tileCaption(store.ObjectRow{Seq: 88, Prob: p}); got != want {
			t.Errorf("probability %v: caption %q, want %q", p, got, want)
		}
	}
	// Every view says one crop's probability alike (helper-54: 48% on the tile, 49% in
	// the detail).
	for _, p := range []float32{0.49, 0.4996, 0.57, 0.995} {
		if tile, detail := tileCaption(store.ObjectRow{Seq: 1, Prob: float64(p)}), probText(float64(p)); !strings.HasSuffix(tile, " "+detail) {
			t.Errorf("probability %v: tile %q, detail %q", p, tile, detail)
		}
	}
}

// History names the rules a sample was screened with when those in use differ: a
// sample screened under the marine defaults showed another preset's alerts with no
// word of it (helper-52).
func TestHistorySaysTheRulesScreenedWith(t *testing.T) {
	h := newHarness(t, nil)
	h.a.sample.Fill(h.a.newSample(), 0)
	id := h.runToEnd(2)
	h.a.ShowSettings()
	v := h.a.settingsWin
	v.Preset.SetSelected("scotland")
	test.Tap(v.Save)
	v.win.Close()
	hv := h.showOnlySample(id)
	want := "Screened with preset default; checked here under preset scotland, the rules in use:"
	h.pump("the sample's alerts", 10*time.Second, func() bool { return strings.HasPrefix(hv.alerts.Text, want) })
}

// A store opened read-only (an archive) is said at launch, with the fix, and in the
// live view's hint: it was said only when Start was refused (helper-54).
func TestReadOnlyStoreSaidAtLaunch(t *testing.T) {
	why := fmt.Errorf("session store /archive/sessions.db cannot be written (permission denied): %w", store.ErrReadOnly)
	h := newHarnessStore(t, nil, nil, filepath.Join(t.TempDir(), "s.db"), func(s *app.Services) { s.StoreReadOnly = why })
	if !errors.Is(h.a.lastError, store.ErrReadOnly) || !strings.Contains(h.a.status.Text, "cannot be written") {
		t.Errorf("at launch: error %v, status %q", h.a.lastError, h.a.status.Text)
	}
	if title := h.a.live.hint.Text; !strings.Contains(title, "runs cannot be recorded") {
		t.Errorf("the live view's hint: %q", title)
	}
	plain := newHarness(t, nil)
	if plain.a.lastError != nil {
		t.Errorf("a writable store: error at launch %v", plain.a.lastError)
	}
}

// A store another phytoscreen is writing (a second window on it, or the app beside a
// screen command) is said at launch as such, naming the holder, with its own fix: not
// as a read-only disk to be made writable (helper-87). The other process's hold is a
// flock on the lock file through a file of the test's own (flock is per open file).
func TestStoreInUseSaidAtLaunch(t *testing.T) {
	db := filepath.Join(t.TempDir(), "held.db")
	f, err := os.OpenFile(db+store.LockSuffix, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("pid 4242\ncommand phytoscreen gui\n"); err != nil {
		t.Fatal(err)
	}
	_, why := store.Open(db)
	if !errors.Is(why, store.ErrInUse) {
		t.Fatalf("Open of the held store: %v, want ErrInUse", why)
	}
	h := newHarnessStore(t, nil, nil, filepath.Join(t.TempDir(), "s.db"), func(s *app.Services) { s.StoreReadOnly = why })
	if !errors.Is(h.a.lastError, store.ErrInUse) ||
		!strings.HasPrefix(h.a.status.Text, "Another phytoscreen is using the session store: session store "+db+" is in use by another phytoscreen (process 4242") {
		t.Errorf("at launch: error %v, status %q", h.a.lastError, h.a.status.Text)
	}
	if hint, fix := h.a.live.hint.Text, h.a.live.hint2.Text; hint != "Another phytoscreen is using this store" ||
		!strings.Contains(fix, "Close the other phytoscreen and restart this one") || strings.Contains(fix, "writable") {
		t.Errorf("the live view's hint: %q / %q", hint, fix)
	}
	// No camera: the demo is not started, to be refused at once under "Could not start
	// screening" over the notice of why.
	h.a.chooseSource(capture.Demo)
	h.a.autoStart()
	h.q.runAll()
	if h.a.sess != nil || !errors.Is(h.a.lastError, store.ErrInUse) {
		t.Errorf("the demo started at launch: run %v, last error %v", h.a.sess != nil, h.a.lastError)
	}
}

// A preferences file Fyne could not read (cut short by a power cut while it was saved)
// is kept aside and said at launch: which file, where it was kept, and that the defaults
// are in use. Fyne started on defaults and wrote them over the file without a word
// (helper-87).
func TestUnreadablePrefsSaidAtLaunch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fyne", "preferences.json") // the test app's storage is the shared /tmp
	cut := `{"alerts.preset":"scotland","sample.site":"Loch Creran","model.batch":32,"review.reviewer":"An`
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(cut), 0o600); err != nil {
		t.Fatal(err)
	}
	prefsErr := keepUnreadablePrefs(path)
	var ue *app.UnreadablePrefsError
	if !errors.As(prefsErr, &ue) || ue.Kept == "" {
		t.Fatalf("the cut file: %v, want it kept aside", prefsErr)
	}
	if b, err := os.ReadFile(ue.Kept); err != nil || string(b) != cut {
		t.Errorf("%s holds %q (%v), want the cut file's bytes", ue.Kept, b, err)
	}
	h := newHarness(t, nil, func(s *app.Services) { s.PrefsUnreadable = prefsErr })
	want := "The saved settings could not be read: the settings file " + path + " could not be read (it ends part way"
	if h.a.lastError != prefsErr || !strings.HasPrefix(h.a.status.Text, want) {
		t.Errorf("at launch: error %v, status %q; want it said, beginning %q", h.a.lastError, h.a.status.Text, want)
	}
	for _, w := range []string{"it was kept as " + ue.Kept, "starts on the default settings"} {
		if !strings.Contains(h.a.lastError.Error(), w) {
			t.Errorf("the message shown does not say %q", w)
		}
	}
	if d := app.DefaultSettings(); h.a.set.Preset != d.Preset || h.a.set.Batch != d.Batch {
		t.Errorf("settings in use: preset %q, batch %d: want the defaults", h.a.set.Preset, h.a.set.Batch)
	}
	if keepUnreadablePrefs(path) != nil {
		t.Error("said again at the next launch: the file kept aside is read again")
	}
}

// No session store at all (a disk full, a folder given as --db): said at launch under
// its own title, with the fix, and Start refuses to screen: titled as the classifier's
// failure, it left Start on, and runs were counted and alerted on and recorded nowhere
// (helper-86).
func TestNoStoreRefusesToScreen(t *testing.T) {
	why := errors.New("session store /full/sessions.db: disk I/O error (the disk holding it is full or failing: free some space there, or pass another --db FILE on another disk)")
	h := newHarnessStore(t, nil, nil, filepath.Join(t.TempDir(), "s.db"), func(s *app.Services) { s.Store, s.StoreError = nil, why })
	if !errors.Is(h.a.lastError, why) || !strings.HasPrefix(h.a.status.Text, "The session store could not be opened: ") {
		t.Errorf("at launch: error %v, status %q", h.a.lastError, h.a.status.Text)
	}
	if title := h.a.live.hint.Text; !strings.Contains(title, "runs cannot be recorded") {
		t.Errorf("the live view's hint: %q", title)
	}
	h.a.lastError = nil
	h.a.sample.Fill(h.a.newSample(), 0)
	h.a.startSource(capture.Spec{Kind: capture.KindVideo, Path: "pond.avi"})
	if h.a.sess != nil || !errors.Is(h.a.lastError, why) || !strings.HasPrefix(h.a.status.Text, "Runs cannot be recorded: ") {
		t.Errorf("Start with no store: run started %v, error %v, status %q", h.a.sess != nil, h.a.lastError, h.a.status.Text)
	}
}

// The store's file deleted while the app runs: Start refuses, saying so, rather than
// record into a file that is gone when the app closes and say "stored in" it
// (helper-86).
func TestDeletedStoreRefusesToScreen(t *testing.T) {
	h := newHarness(t, nil)
	if err := os.Remove(h.st.Path()); err != nil {
		t.Fatal(err)
	}
	h.a.sample.Fill(h.a.newSample(), 0)
	h.a.startSource(capture.Spec{Kind: capture.KindVideo, Path: "pond.avi"})
	if h.a.sess != nil || h.a.lastError == nil || !strings.Contains(h.a.lastError.Error(), "was deleted while phytoscreen ran") || !strings.HasPrefix(h.a.status.Text, "Runs cannot be recorded: ") {
		t.Errorf("Start with the store's file deleted: run started %v, error %v, status %q", h.a.sess != nil, h.a.lastError, h.a.status.Text)
	}
}

// Enter presses a dialog's main button, as in a desktop dialog (helper-67: Export and
// Screen a folder took the mouse); Enter in the sample's details is Done.
func TestEnterPressesTheDialogsMainButton(t *testing.T) {
	h := newHarness(t, nil)
	h.a.history.selected = "OLD-1"
	h.a.ExportDialog()
	exportShown := func() bool {
		found := false
		if top := h.a.win.Canvas().Overlays().Top(); top != nil {
			walkObjects(top, func(o fyne.CanvasObject) bool {
				if l, ok := o.(*widget.Label); ok && strings.HasPrefix(l.Text, "Export sample OLD-1") {
					found = true
				}
				return !found
			})
		}
		return found
	}
	if !exportShown() {
		t.Fatal("no export dialog")
	}
	h.a.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if exportShown() || h.a.win.Canvas().Overlays().Top() == nil {
		t.Errorf("Enter in the export dialog: it is still shown, or no file chooser followed")
	}
	for h.a.closeTopDialog() {
	}
	test.Tap(h.a.sample.More)
	if h.a.win.Canvas().Focused() != h.a.sample.Taken {
		t.Errorf("the details opened with %v focused, want the time taken", h.a.win.Canvas().Focused())
	}
	h.a.sample.Taken.OnSubmitted(h.a.sample.Taken.Text) // Enter in the field
	if h.a.win.Canvas().Overlays().Top() != nil {
		t.Error("Enter in the details' field did not close them")
	}
	// Escape in a field closes them too (helper-67: the field took it and did nothing).
	test.Tap(h.a.sample.More)
	h.a.win.Canvas().Focus(h.a.sample.Notes)
	h.a.sample.Notes.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if h.a.win.Canvas().Overlays().Top() != nil {
		t.Error("Escape in the details' field did not close them")
	}
	// The field's other keys are its own.
	h.a.sample.Notes.SetText("ab")
	h.a.sample.Notes.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEnd})
	h.a.sample.Notes.TypedKey(&fyne.KeyEvent{Name: fyne.KeyBackspace})
	if h.a.sample.Notes.Text != "a" {
		t.Errorf("End, Backspace in the notes left %q, want a", h.a.sample.Notes.Text)
	}
}

// Quitting while a run goes asks first, saying what is kept; "Keep screening" goes on
// (helper-69: Ctrl+Q quit mid-run without a word). Between runs it quits at once.
func TestQuitDuringARunAsks(t *testing.T) {
	h := newHarness(t, nil)
	var asked []string
	answer := false
	h.a.confirm = func(title, msg, yes, no string, ans func(bool)) {
		asked = append(asked, msg)
		ans(answer)
	}
	src := newGatedSource(3, func(int) []fakeCell { return nil })
	h.startRun(src, "S-QUIT", 1)
	h.a.win.Canvas().(fyne.Shortcutable).TypedShortcut(shortcutQuit)
	if len(asked) != 1 || !strings.Contains(asked[0], "Sample S-QUIT is being screened. Quit now? Its counts so far are stored as a partial sample") {
		t.Fatalf("Ctrl+Q during a run asked %q", asked)
	}
	if h.a.closing || h.a.sess == nil {
		t.Fatal("answered Keep screening, the app closed or the run stopped")
	}
	src.release(3)
	h.waitIdle()
	h.a.Quit()
	if len(asked) != 1 || !h.a.closing {
		t.Errorf("between runs: asked %d times, closing %v; want it to close at once", len(asked), h.a.closing)
	}
}

// An error's dialog is as tall as its text wraps to (up to a scrolled limit): three
// lines' height was given whatever the text, and a longer one ran under the Close button
// (helper-86, the "settings ignored" notice).
func TestErrorBoxFitsItsText(t *testing.T) {
	test.NewTempApp(t)
	one := errorBox("The pack could not be loaded.").MinSize().Height
	line := widget.NewLabel("x").MinSize().Height
	long := errorBox(strings.Repeat("preferences: model.threshold 7 is not a confidence from 0 to 1: 0.5 is used instead. ", 8)).MinSize().Height
	if one < 60 || one > 2*line+60 {
		t.Errorf("one line: %g px high (a line is %g)", one, line)
	}
	if long < 5*line || long > 320 {
		t.Errorf("eight sentences: %g px high (a line is %g); want their wrapped height, at most 320", long, line)
	}
	huge := errorBox(strings.Repeat("a long list of settings ignored, ", 400)).MinSize().Height
	if huge != 320 {
		t.Errorf("a very long text: %g px high, want 320 (scrolled)", huge)
	}
}
