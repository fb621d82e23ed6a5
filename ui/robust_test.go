package ui

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/testutil"
)

// packFolder makes a pack folder from the built-in pack: pack.json edited by edit (nil:
// as it is; raw replaces it whole when set), each model a link to the built-in one
// unless models gives its bytes (nil bytes: the file is left out).
func packFolder(t *testing.T, edit func(m map[string]any), raw string, models map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	data, err := fs.ReadFile(assets.DefaultPack(), inference.ManifestFile)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		edit(m)
		if data, err = json.MarshalIndent(m, "", "  "); err != nil {
			t.Fatal(err)
		}
	}
	if raw != "" {
		data = []byte(raw)
	}
	if err := os.WriteFile(filepath.Join(dir, inference.ManifestFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
	builtin := filepath.Join(testutil.RepoRoot(t), "assets", "models", assets.DefaultPackName)
	for _, f := range []string{"base.onnx", "optimised.onnx"} {
		b, given := models[f]
		switch {
		case !given:
			if err := os.Symlink(filepath.Join(builtin, f), filepath.Join(dir, f)); err != nil {
				t.Fatal(err)
			}
		case b != nil:
			if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

// Every damaged or stale saved setting is ignored with a line that names it, says why
// and what is used instead; the rest of the settings are kept.
func TestLoadSettingsRejectsDamage(t *testing.T) {
	brokenPack := packFolder(t, nil, `{"name": "lab", "labels": [`, nil)
	gone := filepath.Join(t.TempDir(), "gone")
	d := DefaultSettings()
	cases := []struct {
		name  string
		store func(fyPrefs prefsSetter)
		check func(s Settings) bool
		note  string // the note must contain this
	}{
		{"threads -3", func(p prefsSetter) { p.SetInt(prefThreads, -3) }, func(s Settings) bool { return s.Threads == d.Threads },
			"model.threads = -3: give 0 (one per CPU) to 256 threads; using one thread per CPU"},
		{"batch 0", func(p prefsSetter) { p.SetInt(prefBatch, 0) }, func(s Settings) bool { return s.Batch == d.Batch },
			"model.batch = 0: give 1 to 1024 cells per run; using 16"},
		{"threshold 7", func(p prefsSetter) { p.SetFloat(prefThreshold, 7) }, func(s Settings) bool { return s.Threshold == d.Threshold },
			"model.threshold = 7: a confidence threshold is a probability from 0 to 1; using 0.5"},
		{"threads as text", func(p prefsSetter) { p.SetString(prefThreads, "four") }, func(s Settings) bool { return s.Threads == d.Threads },
			`model.threads = "four": text where a number belongs; using the default`},
		{"unknown model", func(p prefsSetter) { p.SetString(prefModel, "turbo") }, func(s Settings) bool { return s.Model == d.Model },
			`model.variant = "turbo": not a model (base or optimised); using the optimised model`},
		{"negative volume", func(p prefsSetter) { p.SetFloat(prefVolume, -1) }, func(s Settings) bool { return s.VolumeML == d.VolumeML },
			"sample.volume_ml = -1: the volume examined is a positive number of mL; using 1 mL"},
		{"tiny window", func(p prefsSetter) { p.SetFloat(prefWindowW, 12) }, func(s Settings) bool { return s.WindowW == d.WindowW },
			"window size = 12x900: smaller than 640x480"},
		{"unknown mode", func(p prefsSetter) { p.SetString(prefMode, "spin") }, func(s Settings) bool { return s.Mode == "" },
			`segment.mode = "spin": mode "spin": want still`},
		{"bad size", func(p prefsSetter) { p.SetString(prefMinSize, "huge") }, func(s Settings) bool { return s.MinSize == "" },
			`segment.min_size = "huge": `},
		{"unknown preset", func(p prefsSetter) { p.SetString(prefPreset, "atlantis") }, func(s Settings) bool { return s.Preset == d.Preset },
			`alerts.preset = "atlantis": no such alert preset (presets: chile, default`},
		{"rules file gone", func(p prefsSetter) { p.SetString(prefRulesFile, gone+".toml") }, func(s Settings) bool { return s.RulesFile == "" },
			"alerts.rules_file = " + gone + ".toml: the rules file is no longer there (no such file or folder); choose it again in Settings › Alerts; using preset default"},
		{"pack folder broken", func(p prefsSetter) { p.SetString(prefPackDir, brokenPack) }, func(s Settings) bool { return s.PackDir == "" },
			"model.pack_dir = " + brokenPack + ": the pack folder is no longer usable (pack " + brokenPack + ": pack.json is not valid JSON"},
		{"pack folder gone", func(p prefsSetter) { p.SetString(prefPackDir, gone) }, func(s Settings) bool { return s.PackDir == "" },
			"using the built-in pack " + assets.DefaultPackName},
		{"last video gone", func(p prefsSetter) { p.SetString(prefSource, gone+".avi") }, func(s Settings) bool { return s.Source == SourceDemo },
			"source.last = " + gone + ".avi: the last source is no longer there (no such file or folder); using the demo"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fy := test.NewTempApp(t)
			p := fy.Preferences()
			p.SetString(prefSite, "Limfjord A") // a good value, to be kept
			c.store(p)
			s, notes := LoadSettingsChecked(p)
			if !c.check(s) || s.Site != "Limfjord A" {
				t.Errorf("settings %+v: the bad value was not replaced by its default, or a good one was lost", s)
			}
			if len(notes) != 1 || !strings.Contains(notes[0], c.note) {
				t.Errorf("notes %q, want one containing %q", notes, c.note)
			}
			if len(notes) == 1 && strings.Contains(notes[0], "\n") {
				t.Errorf("note %q is not one line", notes[0])
			}
		})
	}
	// Good settings give no note.
	fy := test.NewTempApp(t)
	good := DefaultSettings()
	good.Threads, good.Batch, good.Threshold, good.RulesFile = 2, 32, 0.7, filepath.Join("..", "alerts", "testdata", "site.toml")
	good.Save(fy.Preferences())
	if s, notes := LoadSettingsChecked(fy.Preferences()); len(notes) != 0 || s != good {
		t.Errorf("good settings: notes %q, settings %+v", notes, s)
	}
}

// prefsSetter is the part of fyne.Preferences the cases write with.
type prefsSetter interface {
	SetInt(string, int)
	SetFloat(string, float64)
	SetString(string, string)
}

// The app opens on preferences holding bad values (threads -3, batch 0, a threshold of
// 7, a rules file that is gone, a pack folder that broke): it says what it ignored and
// why, uses the defaults (and stores them), and screens.
func TestDamagedSettingsAppStarts(t *testing.T) {
	fy := test.NewTempApp(t)
	p := fy.Preferences()
	brokenPack := packFolder(t, nil, "", map[string][]byte{"optimised.onnx": nil}) // a model file went missing
	rules := filepath.Join(t.TempDir(), "site.toml")
	p.SetInt(prefThreads, -3)
	p.SetInt(prefBatch, 0)
	p.SetFloat(prefThreshold, 7)
	p.SetString(prefRulesFile, rules)
	p.SetString(prefPackDir, brokenPack)
	h := newHarness(t, fy)
	s := h.a.Settings()
	d := DefaultSettings()
	if s.Threads != d.Threads || s.Batch != d.Batch || s.Threshold != d.Threshold || s.RulesFile != "" || s.PackDir != "" {
		t.Errorf("settings in use %+v: want the defaults for the bad values", s)
	}
	if len(h.a.settingsNotes) != 5 {
		t.Errorf("notes %q, want 5", h.a.settingsNotes)
	}
	for _, want := range []string{"model.threads = -3", "model.batch = 0", "model.threshold = 7", "alerts.rules_file = " + rules,
		"model.pack_dir = " + brokenPack + ": the pack folder is no longer usable (pack " + brokenPack + ": optimised model file optimised.onnx is missing"} {
		if err := h.a.lastError; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("the message shown does not say %q:\n%v", want, err)
		}
	}
	if !strings.HasPrefix(h.a.status.Text, "Some saved settings were ignored: model.threads = -3") {
		t.Errorf("status bar %q", h.a.status.Text)
	}
	if h.a.rules.Name != "preset default" || len(h.a.rules.Bound) == 0 {
		t.Errorf("rules in use %q (%d bound), want the default preset", h.a.rules.Name, len(h.a.rules.Bound))
	}
	if p.Int(prefThreads) != 0 || p.Int(prefBatch) != 16 || p.Float(prefThreshold) != 0.5 || p.String(prefPackDir) != "" {
		t.Errorf("defaults not stored: threads %d batch %d threshold %v pack %q", p.Int(prefThreads), p.Int(prefBatch), p.Float(prefThreshold), p.String(prefPackDir))
	}
	// The app screens.
	cop := labelIndex(t, h.a.deps.Pack, "copepod_calanoid")
	src := newGatedSource(3, func(int) []fakeCell { return []fakeCell{{cop, 0.9}} })
	h.startRun(src, "S-DEFAULTS", 1) // frames released once the run is seen started
	src.release(3)
	h.waitIdle()
	if n := countOf(h.a.counts.Rows(), "copepod_calanoid"); n != 3 {
		t.Errorf("%d cells counted, want 3", n)
	}
}

// realCheckPack is the app's check of a pack folder (NewDeps's), with ONNX Runtime.
func realCheckPack(t *testing.T) func(string) error {
	t.Helper()
	if _, err := inference.InitRuntime(""); err != nil {
		t.Fatal(err)
	}
	return func(dir string) error {
		p, err := inference.LoadPackDir(dir)
		if err != nil {
			return err
		}
		return inference.CheckModels(p)
	}
}

// A pack folder that is broken, chosen in Settings while a run goes on, is refused
// with one line naming the file and the fix; the app keeps its pack, stores nothing,
// and the run goes on counting. A good pack folder is taken (for the next launch).
func TestSettingsRefuseBrokenPack(t *testing.T) {
	h := newHarness(t, nil, func(d *Deps) { d.CheckPack = realCheckPack(t) })
	pack := h.a.deps.Pack
	cop := labelIndex(t, pack, "copepod_calanoid")
	src := newGatedSource(0, func(int) []fakeCell { return []fakeCell{{cop, 0.9}} })
	h.startRun(src, "S-PACK", 1)
	h.a.ShowSettings()
	v := h.a.settingsWin
	counted := 0
	cases := []struct {
		name string
		dir  string
		want []string // the message must say these
	}{
		{"no manifest", t.TempDir(), []string{"has no pack.json: choose the folder that holds the pack's pack.json, or press Built-in"}},
		{"malformed manifest", packFolder(t, nil, "{\n  \"name\": \"lab\",\n  \"labels\": [\"a\" \"b\"]\n}", nil),
			[]string{"pack.json is not valid JSON: line 3, column", "fix the file"}},
		{"model file missing", packFolder(t, nil, "", map[string][]byte{"base.onnx": nil}),
			[]string{"base model file base.onnx is missing: copy it into the pack folder or remove the \"base\" entry from pack.json"}},
		{"model not ONNX", packFolder(t, nil, "", map[string][]byte{"optimised.onnx": []byte("not an ONNX model\n")}),
			[]string{"optimised.onnx is not a readable ONNX model", "replace the file with the pack's ONNX export"}},
		{"labels do not match", packFolder(t, func(m map[string]any) { m["labels"] = []string{"a", "b", "c"} }, "", nil),
			[]string{"has 3 labels: the label list must match the model's output size"}},
	}
	for _, c := range cases {
		v.PackDir.SetText(c.dir)
		test.Tap(v.Save)
		msg := v.message.Text
		t.Logf("%s: %s", c.name, msg)
		for _, w := range append([]string{c.dir, "(the app keeps the pack " + pack.Name + ")"}, c.want...) {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: message %q does not say %q", c.name, msg, w)
			}
		}
		if strings.Contains(msg, "\n") {
			t.Errorf("%s: message is not one line: %q", c.name, msg)
		}
		if got := h.fy.Preferences().String(prefPackDir); got != "" || h.a.set.PackDir != "" || h.a.deps.Pack != pack {
			t.Errorf("%s: pack folder stored (%q, %q) or pack changed", c.name, got, h.a.set.PackDir)
		}
		// The run goes on counting with the current pack.
		src.release(1)
		counted++
		h.pump("a cell after the refused pack", 5*time.Second, func() bool { return countOf(h.a.counts.Rows(), "copepod_calanoid") == counted })
		if h.a.sess == nil || h.a.runState.Text != "Running" {
			t.Fatalf("%s: the run stopped", c.name)
		}
	}
	good := packFolder(t, nil, "", nil)
	v.PackDir.SetText(good)
	test.Tap(v.Save)
	if !strings.HasPrefix(v.message.Text, "Saved.") || h.fy.Preferences().String(prefPackDir) != good || h.a.deps.Pack != pack {
		t.Errorf("good pack folder: %q, stored %q", v.message.Text, h.fy.Preferences().String(prefPackDir))
	}
	h.a.Stop()
	h.waitIdle()
}

// A pack folder whose model does not open (not ONNX) at launch: the app opens on the
// built-in pack and its classifier, and says why and how to fix it.
func TestNewDepsFallsBackFromBrokenPack(t *testing.T) {
	dir := packFolder(t, nil, "", map[string][]byte{"optimised.onnx": []byte("not an ONNX model\n")})
	s := DefaultSettings()
	s.PackDir = dir
	tmp := t.TempDir()
	d, closeDeps := NewDeps(context.Background(), s, DepsOptions{DB: filepath.Join(tmp, "sessions.db"), DemoDir: tmp})
	defer closeDeps()
	if d.Pack == nil || d.Pack.Name != assets.DefaultPackName || d.Classifier == nil || d.Taxonomy == nil || d.Taxonomy.Pack != assets.DefaultPackName {
		t.Fatalf("deps: pack %v, classifier %v: want the built-in pack and its classifier", d.Pack, d.Classifier)
	}
	err := d.SetupError
	if err == nil || !strings.Contains(err.Error(), dir+"/optimised.onnx is not a readable ONNX model") ||
		!strings.Contains(err.Error(), "Using the built-in pack "+assets.DefaultPackName+" instead; fix the folder in Settings › Model") {
		t.Errorf("setup error %v: want the model file, the fallback and the fix", err)
	}
	if err := d.CheckPack(dir); err == nil || !strings.Contains(err.Error(), "optimised.onnx") {
		t.Errorf("CheckPack(%s) = %v, want the model refused", dir, err)
	}
}

// A rules file that no longer parses at launch: the default preset watches meanwhile,
// and the app says which file, which line and what it uses.
func TestBrokenRulesFileFallsBackToPreset(t *testing.T) {
	fy := test.NewTempApp(t)
	rules := filepath.Join(t.TempDir(), "site.toml")
	if err := os.WriteFile(rules, []byte("source = \"site\"\n[[rule]]\ntaxon = \"Noctiluca\"\nalert = -5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fy.Preferences().SetString(prefRulesFile, rules)
	h := newHarness(t, fy)
	if h.a.rules.Name != "preset default" || len(h.a.rules.Bound) == 0 {
		t.Errorf("rules in use %q, want the default preset", h.a.rules.Name)
	}
	msg := h.a.lastError
	if msg == nil || !strings.Contains(msg.Error(), rules+" line 4: alert = -5: a threshold must be a positive") || !strings.Contains(msg.Error(), "Using preset default until it is fixed") {
		t.Errorf("message %v: want the file, line, reason and the preset used", msg)
	}
	if h.a.Settings().RulesFile != rules {
		t.Errorf("the rules file setting was dropped: %q (it is the technician's to fix)", h.a.Settings().RulesFile)
	}
}

// The camera is lost and comes back during a run in the app: the status bar says so,
// the run goes on counting, and its end reports the gap, which the store keeps.
func TestCameraGapInApp(t *testing.T) {
	var report func(capture.Status)
	h := newHarness(t, nil, func(d *Deps) {
		open := d.OpenSource
		d.OpenSource = func(ctx context.Context, spec string, kind SourceKind, s Settings, onStatus func(capture.Status)) (capture.Source, error) {
			report = onStatus
			return open(ctx, spec, kind, s, onStatus)
		}
	})
	cop := labelIndex(t, h.a.deps.Pack, "copepod_calanoid")
	src := newGatedSource(4, func(int) []fakeCell { return []fakeCell{{cop, 0.9}} })
	h.startRun(src, "S-GAP", 1)
	src.release(2)
	h.pump("two cells", 5*time.Second, func() bool { return countOf(h.a.counts.Rows(), "copepod_calanoid") == 2 })
	report(capture.Status{Source: "camera:0", Kind: capture.StatusLost, Frame: 2, Err: errors.New("5 reads in a row gave no frame")})
	h.pump("the loss shown", 5*time.Second, func() bool { return strings.Contains(h.a.status.Text, "camera:0: lost at frame 2") })
	report(capture.Status{Source: "camera:0", Kind: capture.StatusReconnected, Frame: 2, Attempt: 2})
	src.release(2)
	h.waitIdle()
	if n := countOf(h.a.counts.Rows(), "copepod_calanoid"); n != 4 {
		t.Errorf("%d cells counted, want 4 (2 before the gap, 2 after)", n)
	}
	if !strings.Contains(h.a.status.Text, "1 gap without frames") {
		t.Errorf("end of run %q does not report the gap", h.a.status.Text)
	}
	evs, err := h.st.SourceEvents(context.Background(), "S-GAP")
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].Kind != "lost" || evs[1].Kind != "reconnected" || evs[1].Attempt != 2 || evs[0].Frame != 2 {
		t.Errorf("stored source events %+v", evs)
	}
}
