package app

import (
	"context"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/testutil"
	"github.com/phytoscreen/phytoscreen/screening"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/internal/testpack"
)

// Every damaged or stale saved setting is ignored with a line that names it, says why
// and what is used instead; the rest of the settings are kept.
func TestLoadSettingsRejectsDamage(t *testing.T) {
	brokenPack := testpack.Folder(t, nil, `{"name": "lab", "labels": [`, nil)
	gone := filepath.Join(t.TempDir(), "gone")
	d := DefaultSettings()
	cases := []struct {
		name  string
		store func(fyPrefs prefsSetter)
		check func(s Settings) bool
		note  string // the note must contain this
	}{
		{"threads -3", func(p prefsSetter) { p.SetInt(PrefThreads, -3) }, func(s Settings) bool { return s.Threads == d.Threads },
			"model.threads = -3: give 0 (one per CPU) to 256 threads; using one thread per CPU"},
		{"batch 0", func(p prefsSetter) { p.SetInt(PrefBatch, 0) }, func(s Settings) bool { return s.Batch == d.Batch },
			"model.batch = 0: give 1 to 1024 cells per run; using 16"},
		{"threshold 7", func(p prefsSetter) { p.SetFloat(PrefThreshold, 7) }, func(s Settings) bool { return s.Threshold == d.Threshold },
			"model.threshold = 7: a confidence threshold is a probability from 0 to 1; using 0.5"},
		{"threads as text", func(p prefsSetter) { p.SetString(PrefThreads, "four") }, func(s Settings) bool { return s.Threads == d.Threads },
			`model.threads = "four": text where a number belongs; using the default`},
		{"unknown model", func(p prefsSetter) { p.SetString(PrefModel, "turbo") }, func(s Settings) bool { return s.Model == d.Model },
			`model.variant = "turbo": not a model (base or optimised); using the optimised model`},
		{"negative volume", func(p prefsSetter) { p.SetFloat(PrefVolume, -1) }, func(s Settings) bool { return s.VolumeML == d.VolumeML },
			"sample.volume_ml = -1: the volume examined is a positive number of mL; using 1 mL"},
		{"tiny window", func(p prefsSetter) { p.SetFloat(PrefWindowW, 12) }, func(s Settings) bool { return s.WindowW == d.WindowW },
			"window size = 12x720: smaller than 640x480"},
		{"unknown mode", func(p prefsSetter) { p.SetString(PrefMode, "spin") }, func(s Settings) bool { return s.Mode == "" },
			`segment.mode = "spin": mode "spin": want still`},
		{"unknown detector", func(p prefsSetter) { p.SetString(PrefDetector, "yolo") }, func(s Settings) bool { return s.Detector == "" },
			`segment.detector = "yolo": no such built-in detector: ` + assets.DetectorName},
		{"bad size", func(p prefsSetter) { p.SetString(PrefMinSize, "huge") }, func(s Settings) bool { return s.MinSize == "" },
			`segment.min_size = "huge": `},
		{"unknown preset", func(p prefsSetter) { p.SetString(PrefPreset, "atlantis") }, func(s Settings) bool { return s.Preset == d.Preset },
			`alerts.preset = "atlantis": no such alert preset (presets: chile, default`},
		{"rules file gone", func(p prefsSetter) { p.SetString(PrefRulesFile, gone+".toml") }, func(s Settings) bool { return s.RulesFile == "" },
			"alerts.rules_file = " + gone + ".toml: the rules file is no longer there (no such file or folder); choose it again in Settings › Alerts; using preset default"},
		{"pack folder broken", func(p prefsSetter) { p.SetString(PrefPackDir, brokenPack) }, func(s Settings) bool { return s.PackDir == "" },
			"model.pack_dir = " + brokenPack + ": the pack folder is no longer usable (pack " + brokenPack + ": pack.json is not valid JSON"},
		{"pack folder gone", func(p prefsSetter) { p.SetString(PrefPackDir, gone) }, func(s Settings) bool { return s.PackDir == "" },
			"using the built-in pack " + assets.DefaultPackName},
		{"last video gone", func(p prefsSetter) { p.SetString(PrefSource, gone+".avi") }, func(s Settings) bool { return s.Source == capture.Demo.String() },
			"source.last = " + gone + ".avi: the last source is no longer there (no such file or folder); using the demo"},
		{"export folder gone", func(p prefsSetter) { p.SetString(PrefExportDir, gone) }, func(s Settings) bool { return s.ExportFolder == "" },
			"export.last_folder = " + gone + ": the folder is no longer there; using the home folder"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newMemPrefs()
			p.SetString(PrefSite, "Limfjord A") // a good value, to be kept
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
	p := newMemPrefs()
	good := DefaultSettings()
	good.Threads, good.Batch, good.Threshold, good.RulesFile = 2, 32, 0.7, filepath.Join("..", "..", "alerts", "testdata", "site.toml")
	good.LastFolder, good.ExportFolder = t.TempDir(), t.TempDir() // kept apart: a source's folder is not where exports go
	good.Recent = []string{capture.Spec{Kind: capture.KindFolder, Path: t.TempDir()}.String(), capture.Spec{Kind: capture.KindVideo, Path: filepath.Join("..", "..", "assets", "demo", "demo.avi")}.String()}
	good.Save(p)
	if s, notes := LoadSettingsChecked(p); len(notes) != 0 || !reflect.DeepEqual(s, good) {
		t.Errorf("good settings: notes %q, settings %+v", notes, s)
	}
}

// prefsSetter is the part of fyne.Preferences the cases write with.
type prefsSetter interface {
	SetInt(string, int)
	SetFloat(string, float64)
	SetString(string, string)
}

// A pack folder whose model does not open (not ONNX) at launch: the app opens on the
// built-in pack and its classifier, and says why and how to fix it.
func TestBuildFallsBackFromBrokenPack(t *testing.T) {
	dir := testpack.Folder(t, nil, "", map[string][]byte{"optimised.onnx": []byte("not an ONNX model\n")})
	s := DefaultSettings()
	s.PackDir = dir
	tmp := t.TempDir()
	d, closeAll := Build(context.Background(), s, BuildOptions{DB: filepath.Join(tmp, "sessions.db"), DemoDir: tmp})
	defer closeAll()
	if d.Pack == nil || d.Pack.Name != assets.DefaultPackName || d.Model == nil || d.Taxonomy == nil || d.Taxonomy.Pack != assets.DefaultPackName {
		t.Fatalf("deps: pack %v, classifier %v: want the built-in pack and its classifier", d.Pack, d.Model)
	}
	err := d.SetupError
	if err == nil || !strings.Contains(err.Error(), dir+"/optimised.onnx is not a readable ONNX model") ||
		!strings.Contains(err.Error(), "Using the built-in pack "+assets.DefaultPackName+" instead; fix the folder in Settings › Model") {
		t.Errorf("setup error %v: want the model file, the fallback and the fix", err)
	}
	if err := d.CheckPack(dir); err == nil || !strings.Contains(err.Error(), "optimised.onnx") {
		t.Errorf("CheckPack(%s) = %v, want the model refused", dir, err)
	}
	// The built-in detector loads once and is kept; an unknown one is refused by name.
	d1, err := d.Detector(assets.DetectorName)
	if err != nil {
		t.Fatalf("built-in detector: %v", err)
	}
	if d2, _ := d.Detector(assets.DetectorName); d2 != d1 {
		t.Error("the detector was loaded twice")
	}
	if _, err := d.Detector("yolo"); err == nil || !strings.Contains(err.Error(), `"yolo"`) {
		t.Errorf("unknown detector: %v", err)
	}
}

// A pack chosen while the app runs opens with its taxonomy and a classifier set as the
// settings say (the model variant), and Use puts it in use in place of the one in use;
// a pack that cannot be read is refused by name, the pack in use kept.
func TestOpenPackAndUse(t *testing.T) {
	testpack.RequireRuntime(t)
	s := DefaultSettings()
	tmp := t.TempDir()
	d, closeAll := Build(context.Background(), s, BuildOptions{DB: filepath.Join(tmp, "sessions.db"), DemoDir: tmp})
	defer closeAll()
	if d.SetupError != nil || d.OpenPack == nil {
		t.Fatalf("setup error %v; OpenPack set: %v", d.SetupError, d.OpenPack != nil)
	}
	first := d.Model
	s.Model = inference.Base
	p, err := d.OpenPack("ndsb-plankton-121-v2", s)
	if err != nil {
		t.Fatal(err)
	}
	if p.Pack.Name != "ndsb-plankton-121-v2" || p.Taxonomy.Pack != p.Pack.Name || p.Model.Variant() != inference.Base {
		t.Fatalf("opened pack %s, taxonomy of %s, variant %s", p.Pack.Name, p.Taxonomy.Pack, p.Model.Variant())
	}
	d.Use(p)
	if d.Pack != p.Pack || d.Taxonomy != p.Taxonomy || d.Model != p.Model || d.Model == first {
		t.Fatal("Use did not put the opened pack in use")
	}
	crop := image.NewGray(image.Rect(0, 0, 40, 40))
	for i := range crop.Pix {
		crop.Pix[i] = 250
	}
	for y := 12; y < 28; y++ {
		for x := 12; x < 28; x++ {
			crop.Pix[y*40+x] = 60
		}
	}
	res, err := d.Model.Classifier().Classify(context.Background(), []*image.Gray{crop})
	if err != nil || len(res) != 1 || res[0].Variant != inference.Base || len(res[0].Top) == 0 || !slices.Contains(p.Pack.Labels, res[0].Top[0].Label) {
		t.Fatalf("classified with the pack in use: %+v, %v", res, err)
	}
	if _, err := d.OpenPack(filepath.Join(tmp, "no-such-pack"), s); err == nil || !strings.Contains(err.Error(), "no-such-pack") {
		t.Errorf("a pack folder that does not exist: %v", err)
	}
	if d.Pack.Name != "ndsb-plankton-121-v2" {
		t.Errorf("a refused pack replaced the pack in use: %s", d.Pack.Name)
	}
}

func TestSurveyFolder(t *testing.T) {
	cells := testutil.CellFolder(t, 8)
	s, err := SurveyFolder(cells)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Cells || len(s.Files) != 9 || s.Median.X == 0 {
		t.Errorf("cell folder: cells %v, %d files, median %v", s.Cells, len(s.Files), s.Median)
	}
	frames := t.TempDir()
	for i := range 3 {
		img := image.NewGray(image.Rect(0, 0, 1280, 960))
		for j := range img.Pix {
			img.Pix[j] = 200
		}
		f, err := os.Create(filepath.Join(frames, "frame-"+string(rune('1'+i))+".png"))
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	s, err = SurveyFolder(frames)
	if err != nil || s.Cells || s.Median != image.Pt(1280, 960) {
		t.Errorf("frame folder: %+v, %v", s, err)
	}
	// Real frames of a small camera (320x240, ESP32): frames, not cells (the dialog
	// once proposed single-cell images for them).
	esp := t.TempDir()
	real, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "real-frames", "*.jpg"))
	if len(real) < 5 {
		t.Fatalf("%d real frames in testdata/real-frames", len(real))
	}
	for _, f := range real[:12] {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(esp, filepath.Base(f)), data, 0o644)
	}
	if s, err = SurveyFolder(esp); err != nil || s.Cells {
		t.Errorf("320x240 camera frames: cells %v (%v), want frames", s.Cells, err)
	}
	// Real NDSB crops, all sizes: cells.
	crops, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "mixed-images", "*.jpg"))
	// The camera's frames with three crops beside them (a technician's folder): still
	// frames; each frame counted as one cell would be the worse mistake.
	for _, f := range crops[:3] {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(esp, "crop-"+filepath.Base(f)), data, 0o644)
	}
	if s, err = SurveyFolder(esp); err != nil || s.Cells || len(s.Files) != 15 {
		t.Errorf("12 camera frames and 3 crops: cells %v, %d files (%v), want frames", s.Cells, len(s.Files), err)
	}
	if s, err = SurveyFolder(filepath.Dir(crops[0])); err != nil || !s.Cells {
		t.Errorf("mixed cell images: cells %v (%v)", s.Cells, err)
	}
	empty := t.TempDir()
	if _, err := SurveyFolder(empty); err == nil || !strings.Contains(err.Error(), "holds no images") || !strings.Contains(err.Error(), ".png") {
		t.Errorf("empty folder: %v", err)
	}
}

func TestDemoVideoPlaysAtItsPace(t *testing.T) {
	dir := t.TempDir()
	path, err := DemoVideo(dir)
	if err != nil {
		t.Fatal(err)
	}
	again, err := DemoVideo(dir)
	if err != nil || again != path {
		t.Fatalf("second call: %s, %v", again, err)
	}
	src, err := OpenSource(capture.Demo, DefaultSettings(), dir, capture.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	start := time.Now()
	for i := range 4 {
		f, err := src.Next(context.Background())
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if f.Mat.Cols() != 960 || f.Mat.Rows() != 720 {
			t.Errorf("frame %d is %dx%d", i, f.Mat.Cols(), f.Mat.Rows())
		}
		f.Mat.Close()
	}
	// 4 frames at the video's 6 fps take about 2/3 s, not the few ms of a bare read.
	if el := time.Since(start); el < 500*time.Millisecond {
		t.Errorf("4 demo frames in %v: not paced", el)
	}
}

// memPrefs keeps preferences in memory, typed as Fyne's do: a value read as another
// type gives the fallback.
type memPrefs struct{ m map[string]any }

func newMemPrefs() *memPrefs { return &memPrefs{m: map[string]any{}} }

func (p *memPrefs) String(key string) string { return p.StringWithFallback(key, "") }
func (p *memPrefs) StringWithFallback(key, fallback string) string {
	if v, ok := p.m[key].(string); ok {
		return v
	}
	return fallback
}
func (p *memPrefs) IntWithFallback(key string, fallback int) int {
	if v, ok := p.m[key].(int); ok {
		return v
	}
	return fallback
}
func (p *memPrefs) FloatWithFallback(key string, fallback float64) float64 {
	if v, ok := p.m[key].(float64); ok {
		return v
	}
	return fallback
}
func (p *memPrefs) BoolWithFallback(key string, fallback bool) bool {
	if v, ok := p.m[key].(bool); ok {
		return v
	}
	return fallback
}
func (p *memPrefs) SetString(key, value string)        { p.m[key] = value }
func (p *memPrefs) SetInt(key string, value int)       { p.m[key] = value }
func (p *memPrefs) SetFloat(key string, value float64) { p.m[key] = value }
func (p *memPrefs) SetBool(key string, value bool)     { p.m[key] = value }

// The cyanobacteria pack says how well it names each genus, weakest first, and on
// what; the default pack, whose card has no per-taxon figures, says so.
func TestRecognises(t *testing.T) {
	p, err := LoadPack("cyano-tcb-10")
	if err != nil {
		t.Fatal(err)
	}
	tx, err := screening.ForPack(p)
	if err != nil {
		t.Fatal(err)
	}
	skills, on, err := Recognises(p, tx, inference.Base)
	if err != nil {
		t.Fatal(err)
	}
	if len(skills) != 11 || !skills[0].Measured || skills[0].Recall > skills[9].Recall || !strings.Contains(on, "measured on 415 validation images") {
		t.Fatalf("skills %+v; %s", skills, on)
	}
	// The reject class has no validation images: not measured, listed last (not as the
	// weakest genus with a recall of 0).
	if last := skills[10]; last.Label != "Other" || last.Measured || last.Group != "" {
		t.Errorf("last skill %+v: want the reject class, not measured", last)
	}
	for _, s := range skills {
		if s.Label == "Anabaena" && (s.Recall != 0.8113 || s.Support != 53) {
			t.Errorf("Anabaena %+v, want the card's recall 0.8113 on 53 images", s)
		}
	}
	// Beside the validation figures, the card's test on a bench camera's real frames.
	if !strings.Contains(on, "it named Microcystis on 8% of 155 frames and Oscillatoria on 0% of 741 frames") {
		t.Errorf("the bench camera's figures are not said: %s", on)
	}
	d, err := LoadPack("")
	if err != nil {
		t.Fatal(err)
	}
	dtx, _ := screening.ForPack(d)
	skills, on, err = Recognises(d, dtx, inference.Optimised)
	if err != nil || len(skills) != 121 || skills[0].Measured || !strings.Contains(on, "no per-taxon figures") {
		t.Errorf("default pack: %d skills, measured %v, %q, %v", len(skills), len(skills) > 0 && skills[0].Measured, on, err)
	}
}

// The recent sources keep the newest first, once each, at most MaxRecent, never the demo
// or a camera; at launch, those no longer there are left out without a note.
func TestRecentSources(t *testing.T) {
	folder := func(p string) capture.Spec { return capture.Spec{Kind: capture.KindFolder, Path: p} }
	dirs := make([]string, MaxRecent+2)
	var recent []string
	for i := range dirs {
		dirs[i] = t.TempDir()
		recent = AddRecent(recent, folder(dirs[i]))
	}
	recent = AddRecent(recent, folder(dirs[MaxRecent])) // again: moves to the front, not twice
	recent = AddRecent(recent, capture.Demo)
	recent = AddRecent(recent, capture.Camera("0"))
	if len(recent) != MaxRecent || recent[0] != folder(dirs[MaxRecent]).String() || recent[1] != folder(dirs[MaxRecent+1]).String() {
		t.Fatalf("recent %q: want %d, newest first, the one screened again at the front", recent, MaxRecent)
	}
	for _, r := range recent {
		if r == folder(dirs[0]).String() || r == folder(dirs[1]).String() {
			t.Errorf("the oldest folder %s kept past %d", r, MaxRecent)
		}
	}
	if err := os.Remove(dirs[MaxRecent+1]); err != nil {
		t.Fatal(err)
	}
	p := newMemPrefs()
	s := DefaultSettings()
	s.Recent = recent
	s.Save(p)
	got, notes := LoadSettingsChecked(p)
	if len(notes) != 0 {
		t.Errorf("notes %q for a recent folder gone", notes)
	}
	want := append([]string{recent[0]}, recent[2:]...)
	if !reflect.DeepEqual(got.Recent, want) {
		t.Errorf("recent after a launch %q, want %q (the removed folder left out)", got.Recent, want)
	}
}

// A built-in pack's limits are read by its name, for a sample it counted while another
// pack is in use; a pack that says none, or a name no built-in pack has, gives "".
func TestBuiltinPackLimits(t *testing.T) {
	for _, name := range assets.BuiltinPacks() {
		p, err := LoadPack(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := BuiltinPackLimits(name); got != p.Limits {
			t.Errorf("pack %s: limits %q, its manifest says %q", name, got, p.Limits)
		}
	}
	if got := BuiltinPackLimits(assets.CyanoPackName); !strings.HasPrefix(got, "confirm genera") {
		t.Errorf("the cyanobacteria pack's limits: %q, want its check first", got)
	}
	if got := BuiltinPackLimits("no-such-pack"); got != "" {
		t.Errorf("a name no built-in pack has: %q", got)
	}
}

// The preferences file is checked as Fyne will write it: a file there that can be
// opened, or a folder a file can be made in; under a file (not a folder) it cannot.
func TestCheckPrefsWritable(t *testing.T) {
	dir := t.TempDir()
	if err := CheckPrefsWritable(filepath.Join(dir, "app", "preferences.json")); err != nil {
		t.Errorf("a folder still to make: %v", err)
	}
	file := filepath.Join(dir, "preferences.json")
	if err := os.WriteFile(file, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := CheckPrefsWritable(file); err != nil {
		t.Errorf("a file there: %v", err)
	}
	if data, _ := os.ReadFile(file); string(data) != "{}" {
		t.Errorf("the check changed the file: %q", data)
	}
	if err := CheckPrefsWritable(filepath.Join(file, "fyne", "preferences.json")); err == nil || !strings.Contains(err.Error(), "preferences.json/fyne") {
		t.Errorf("under a file: %v", err)
	}
}
