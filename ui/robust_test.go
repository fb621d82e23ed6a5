package ui

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/internal/testpack"
)

// The app opens on preferences holding bad values (threads -3, batch 0, a threshold of
// 7, a rules file that is gone, a pack folder that broke): it says what it ignored and
// why, uses the defaults (and stores them), and screens.
func TestDamagedSettingsAppStarts(t *testing.T) {
	fy := test.NewTempApp(t)
	p := fy.Preferences()
	brokenPack := testpack.Folder(t, nil, "", map[string][]byte{"optimised.onnx": nil}) // a model file went missing
	rules := filepath.Join(t.TempDir(), "site.toml")
	p.SetInt(app.PrefThreads, -3)
	p.SetInt(app.PrefBatch, 0)
	p.SetFloat(app.PrefThreshold, 7)
	p.SetString(app.PrefRulesFile, rules)
	p.SetString(app.PrefPackDir, brokenPack)
	h := newHarness(t, fy)
	s := h.a.set
	d := app.DefaultSettings()
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
	if p.Int(app.PrefThreads) != 0 || p.Int(app.PrefBatch) != 16 || p.Float(app.PrefThreshold) != 0.5 || p.String(app.PrefPackDir) != "" {
		t.Errorf("defaults not stored: threads %d batch %d threshold %v pack %q", p.Int(app.PrefThreads), p.Int(app.PrefBatch), p.Float(app.PrefThreshold), p.String(app.PrefPackDir))
	}
	// The app screens.
	cop := labelIndex(t, h.a.svc.Pack, "copepod_calanoid")
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
	testpack.RequireRuntime(t)
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
	h := newHarness(t, nil, func(d *app.Services) { d.CheckPack = realCheckPack(t) })
	pack := h.a.svc.Pack
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
		{"no manifest", t.TempDir(), []string{"has no pack.json: choose the folder that holds the pack's pack.json, or choose a built-in pack"}},
		{"malformed manifest", testpack.Folder(t, nil, "{\n  \"name\": \"lab\",\n  \"labels\": [\"a\" \"b\"]\n}", nil),
			[]string{"pack.json is not valid JSON: line 3, column", "fix the file"}},
		{"model file missing", testpack.Folder(t, nil, "", map[string][]byte{"base.onnx": nil}),
			[]string{"base model file base.onnx is missing: copy it into the pack folder or remove the \"base\" entry from pack.json"}},
		{"model not ONNX", testpack.Folder(t, nil, "", map[string][]byte{"optimised.onnx": []byte("not an ONNX model\n")}),
			[]string{"optimised.onnx is not a readable ONNX model", "replace the file with the pack's ONNX export"}},
		{"labels do not match", testpack.Folder(t, func(m map[string]any) { m["labels"] = []string{"a", "b", "c"} }, "", nil),
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
		if got := h.fy.Preferences().String(app.PrefPackDir); got != "" || h.a.set.PackDir != "" || h.a.svc.Pack != pack {
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
	good := testpack.Folder(t, nil, "", nil)
	v.PackDir.SetText(good)
	test.Tap(v.Save)
	if !strings.HasPrefix(v.message.Text, "Saved.") || h.fy.Preferences().String(app.PrefPackDir) != good || h.a.svc.Pack != pack {
		t.Errorf("good pack folder: %q, stored %q", v.message.Text, h.fy.Preferences().String(app.PrefPackDir))
	}
	// The pack is loaded at the next start: said so, with the pack in use till then.
	if !strings.Contains(v.message.Text, "loaded when phytoscreen starts again") || !strings.Contains(v.message.Text, "pack "+pack.Name+" stays in use") {
		t.Errorf("the save of a new pack does not say it takes effect at the next start: %q", v.message.Text)
	}
	// Rules that cannot fire with the pack in use: the banner sends the technician to
	// a restart, not to a preset for the old pack.
	none := alerts.Binding{Name: "preset who-cyanobacteria", Notices: []alerts.Notice{{Kind: alerts.NoticeMissingTaxon}}, Apply: []string{"default"}}
	if w := h.a.watching(none); !strings.Contains(w, "in use until phytoscreen starts again: the pack chosen in Settings ("+good+") is loaded then") {
		t.Errorf("rules that cannot fire while a new pack waits: %q", w)
	}
	// The Alerts tab's preview says the same of a preset no rule of which the pack in use
	// can fire (helper-35 read it as checked against the pack just chosen).
	v.Preset.SetSelected("who-cyanobacteria")
	if txt := v.rulesInfo.Text; !strings.Contains(txt, "No rule of this set can fire with the classifier pack "+pack.Name+", in use until phytoscreen starts again") {
		t.Errorf("rules preview while a new pack waits: %q", txt)
	}
	// ... and checks them against the pack chosen, before the restart (helper-36).
	if txt := v.rulesInfo.Text; !strings.Contains(txt, "With pack "+pack.Name+" from "+good+", chosen for the next start: 0 of 1 rule of this set can fire.") {
		t.Errorf("rules preview against the chosen pack (%s): %q", good, txt)
	}
	v.PackDir.SetText("cyano-tcb-10") // a pack that sees the rule's taxa
	if txt := v.rulesInfo.Text; !strings.Contains(txt, "With pack cyano-tcb-10, chosen for the next start: 1 of 1 rule of this set can fire.") {
		t.Errorf("rules preview against cyano-tcb-10: %q", txt)
	}
	// A pack chosen that will not load is named with its reason, not left out.
	broken := cases[0].dir
	v.PackDir.SetText(broken)
	if txt := v.rulesInfo.Text; !strings.Contains(txt, "The pack chosen for the next start cannot be read, so these rules cannot be checked against it: ") || !strings.Contains(txt, broken) {
		t.Errorf("rules preview against a pack that will not load (%s): %q", broken, txt)
	}
	v.PackDir.SetText(good)
	// Chosen back, the pack in use needs no restart, and the status bar stops saying so.
	v.PackDir.SetText(h.a.startPackDir)
	test.Tap(v.Save)
	if st := h.a.status.Text; st != "Pack "+pack.Name+" stays in use: no restart is needed." {
		t.Errorf("the pack in use chosen back: status %q", st)
	}
	h.a.set.PackDir = h.a.startPackDir
	if w := h.a.watching(none); w != none.Watching() {
		t.Errorf("with no pack waiting the banner says %q, want %q", w, none.Watching())
	}
	h.a.Stop()
	h.waitIdle()
}

// A rules file that no longer parses at launch: the default preset watches meanwhile,
// and the app says which file, which line and what it uses.
func TestBrokenRulesFileFallsBackToPreset(t *testing.T) {
	fy := test.NewTempApp(t)
	rules := filepath.Join(t.TempDir(), "site.toml")
	if err := os.WriteFile(rules, []byte("source = \"site\"\n[[rule]]\ntaxon = \"Noctiluca\"\nalert = -5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fy.Preferences().SetString(app.PrefRulesFile, rules)
	h := newHarness(t, fy)
	if h.a.rules.Name != "preset default" || len(h.a.rules.Bound) == 0 {
		t.Errorf("rules in use %q, want the default preset", h.a.rules.Name)
	}
	msg := h.a.lastError
	if msg == nil || !strings.Contains(msg.Error(), rules+" line 4: alert = -5: a threshold must be a positive") || !strings.Contains(msg.Error(), "Using preset default until it is fixed") {
		t.Errorf("message %v: want the file, line, reason and the preset used", msg)
	}
	if h.a.set.RulesFile != rules {
		t.Errorf("the rules file setting was dropped: %q (it is the technician's to fix)", h.a.set.RulesFile)
	}
}

// The camera is lost and comes back during a run in the app: the status bar says so,
// the run goes on counting, and its end reports the gap, which the store keeps.
func TestCameraGapInApp(t *testing.T) {
	var report func(capture.Status)
	h := newHarness(t, nil, func(d *app.Services) {
		open := d.Open
		d.Open = func(ctx context.Context, spec capture.Spec, s app.Settings, opt capture.OpenOptions) (capture.Source, error) {
			report = opt.OnStatus
			return open(ctx, spec, s, opt)
		}
	})
	cop := labelIndex(t, h.a.svc.Pack, "copepod_calanoid")
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

// With the Norway preset and the NDSB pack no rule can fire: the banner must not be a
// green "No alert" but say the sample is not checked and which taxa the pack cannot see;
// with the default preset and a preset rule the pack lacks a taxon of, a calm banner
// still names them.
func TestBannerSaysWhatThePackCannotSee(t *testing.T) {
	fy := test.NewTempApp(t)
	fy.Preferences().SetString(app.PrefPreset, "norway")
	h := newHarness(t, fy)
	b := h.a.banner
	hl := b.Headline()
	if b.chip.Text != "NOT CHECKED" || !strings.HasPrefix(hl, "Not checked: the pack cannot see Dinophysis acuminata, Dinophysis norvegica, Protoceratium reticulatum, Pseudo-nitzschia spp. and 1 more") {
		t.Errorf("banner %q %q", b.chip.Text, hl)
	}
	if strings.Contains(hl, "No alert") {
		t.Errorf("banner claims no alert: %q", hl)
	}
	t.Logf("norway: %s | %s", hl, b.Detail())
	b.Set([]alerts.State{{Rule: "r", Taxon: "Chain-forming diatoms"}}, "", "Watching 1 rule", "", []string{"Dinophysis"})
	if hl := b.Headline(); hl != "No alert: the rule is below its thresholds; cannot see Dinophysis with this pack" {
		t.Errorf("calm banner %q", hl)
	}
}
