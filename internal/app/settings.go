package app

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/phytoscreen/phytoscreen/bench"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/phytoscreen/phytoscreen/capture"

	"github.com/phytoscreen/phytoscreen/vision"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/inference"
)

// Prefs is where settings are kept: Fyne's preferences (one JSON file per user, written
// by Fyne) implement it.
type Prefs interface {
	String(key string) string
	StringWithFallback(key, fallback string) string
	IntWithFallback(key string, fallback int) int
	FloatWithFallback(key string, fallback float64) float64
	BoolWithFallback(key string, fallback bool) bool
	SetString(key, value string)
	SetInt(key string, value int)
	SetFloat(key string, value float64)
	SetBool(key string, value bool)
}

// MapPrefs is Prefs over a map, as Fyne keeps preferences in memory and JSON decodes
// them (a number read back from the file is a float64): the app writes its file at a
// quit Fyne ended by itself, and tests look at every value stored.
type MapPrefs map[string]any

func (m MapPrefs) String(key string) string { return m.StringWithFallback(key, "") }
func (m MapPrefs) StringWithFallback(key, fallback string) string {
	if v, ok := m[key].(string); ok {
		return v
	}
	return fallback
}
func (m MapPrefs) IntWithFallback(key string, fallback int) int {
	switch v := m[key].(type) {
	case int:
		return v
	case float64:
		return int(v)
	}
	return fallback
}
func (m MapPrefs) FloatWithFallback(key string, fallback float64) float64 {
	if v, ok := m[key].(float64); ok {
		return v
	}
	return fallback
}
func (m MapPrefs) BoolWithFallback(key string, fallback bool) bool {
	if v, ok := m[key].(bool); ok {
		return v
	}
	return fallback
}
func (m MapPrefs) SetString(key, value string)        { m[key] = value }
func (m MapPrefs) SetInt(key string, value int)       { m[key] = value }
func (m MapPrefs) SetFloat(key string, value float64) { m[key] = value }
func (m MapPrefs) SetBool(key string, value bool)     { m[key] = value }

// Settings are the technician's choices, kept in the preferences so the app opens as it
// was left.
type Settings struct {
	// Model.
	Model     inference.Variant // base or optimised
	Threads   int               // ONNX Runtime intra-op threads; 0: one per CPU
	Batch     int               // crops per inference run
	Threshold float64           // confidence threshold: below it a cell is unidentified
	PackDir   string            // classifier pack folder or built-in pack name; "": the default built-in pack

	// Camera and segmentation.
	Camera     string  // source spec of the camera, e.g. "camera:0" or "camera:/dev/video2"
	Resolution string  // requested camera size, "WIDTHxHEIGHT"; "": the camera's default
	UmPerPx    float64 // calibration in micrometres per pixel; 0: uncalibrated
	MinSize    string  // smallest object, e.g. "8um" or "12px"; "": the segmenter's default
	MaxSize    string  // largest object; "": the segmenter's default
	Mode       string  // "still" (slide) or "flow" (flow-through); "": the default
	// Detector is a built-in learned detector that adds the objects the thresholds miss
	// (assets.BuiltinDetectors); "": the thresholds alone.
	Detector string

	// Alerts.
	Preset    string // alert preset name (assets/presets); used when RulesFile is ""
	RulesFile string // a rules file of the site's own; overrides Preset

	// Sample defaults, remembered from the last sample.
	Site     string
	VolumeML float64
	Factor   float64

	// Reviewer is who validates labels in the gallery (stored with each label).
	Reviewer string

	// Source is the last source used, as a capture.Spec writes it.
	Source string
	// Recent are the folders, videos and images screened lately, newest first (at most
	// MaxRecent), listed in the source list after a restart: a technician goes back to
	// yesterday's folder, not only to the last one.
	Recent []string
	// DemoWhenNoCamera starts the bundled demo at launch when no camera is found.
	DemoWhenNoCamera bool
	LastFolder       string // where the folder dialog opens
	// ExportFolder is where the export dialogs open: the folder of the last export, not
	// the last source's (a data folder, often read-only, where outputs do not belong).
	ExportFolder string

	// Window size, restored at launch.
	WindowW, WindowH float32
}

// DefaultSettings are the settings of a first launch.
func DefaultSettings() Settings {
	return Settings{
		Model: inference.Optimised, Batch: 16, Threshold: 0.5,
		Camera: "camera:0", Preset: assets.DefaultPreset,
		VolumeML: 1, Factor: 1, Source: capture.Demo.String(), DemoWhenNoCamera: true,
		WindowW: 1320, WindowH: 720, // fits a 1366x768 laptop screen; a larger one keeps what the user sets
	}
}

// Preference keys. They are part of the user's saved state: do not rename them.
const (
	PrefModel      = "model.variant"
	PrefThreads    = "model.threads"
	PrefBatch      = "model.batch"
	PrefThreshold  = "model.threshold"
	PrefPackDir    = "model.pack_dir"
	PrefCamera     = "camera.device"
	PrefResolution = "camera.resolution"
	PrefUmPerPx    = "camera.um_per_px"
	PrefMinSize    = "segment.min_size"
	PrefMaxSize    = "segment.max_size"
	PrefMode       = "segment.mode"
	PrefDetector   = "segment.detector"
	PrefPreset     = "alerts.preset"
	PrefRulesFile  = "alerts.rules_file"
	PrefSite       = "sample.site"
	PrefReviewer   = "review.reviewer"
	PrefVolume     = "sample.volume_ml"
	PrefFactor     = "sample.factor"
	PrefSource     = "source.last"
	PrefRecent     = "source.recent" // capture specs, one a line, newest first
	PrefDemo       = "source.demo_when_no_camera"
	PrefLastFolder = "source.last_folder"
	PrefExportDir  = "export.last_folder"
	// PrefStoppedAtQuit is the sample whose run the app stopped as it quit, offered to be
	// continued at the next launch (not one of Settings: read once, then cleared).
	PrefStoppedAtQuit = "source.stopped_at_quit"
	PrefWindowW       = "window.width"
	PrefWindowH       = "window.height"
	PrefCostPrefix    = "model.cost." // + pack + "." + variant: a measured ModelCost as JSON
)

// LoadSettings reads the settings from p; anything missing, of the wrong type or out of
// range takes its default, so a damaged preferences file cannot stop the app from
// opening. LoadSettingsChecked also says what it ignored.
func LoadSettings(p Prefs) Settings {
	s, _ := LoadSettingsChecked(p)
	return s
}

// LoadSettingsChecked reads the settings from p like LoadSettings and returns, one line
// each, the stored values it ignored, why, and what it uses instead: a number out of
// range, text where a number belongs, a rules file or pack folder that is no longer
// there or no longer valid, an unknown preset or model.
func LoadSettingsChecked(p Prefs) (Settings, []string) {
	d := DefaultSettings()
	var notes []string
	ignore := func(key string, val any, why, instead string) {
		notes = append(notes, fmt.Sprintf("%s = %v: %s; using %s", key, val, why, instead))
	}
	// Text where a number belongs (a hand-edited file) reads as missing: say so.
	for _, key := range []string{PrefThreads, PrefBatch, PrefThreshold, PrefUmPerPx, PrefVolume, PrefFactor, PrefWindowW, PrefWindowH} {
		const none = "\x00"
		if v := p.StringWithFallback(key, none); v != none {
			ignore(key, strconv.Quote(v), "text where a number belongs", "the default")
		}
	}
	s := Settings{
		Model:            inference.Variant(p.StringWithFallback(PrefModel, string(d.Model))),
		Threads:          p.IntWithFallback(PrefThreads, d.Threads),
		Batch:            p.IntWithFallback(PrefBatch, d.Batch),
		Threshold:        p.FloatWithFallback(PrefThreshold, d.Threshold),
		PackDir:          p.StringWithFallback(PrefPackDir, d.PackDir),
		Camera:           p.StringWithFallback(PrefCamera, d.Camera),
		Resolution:       p.StringWithFallback(PrefResolution, d.Resolution),
		UmPerPx:          p.FloatWithFallback(PrefUmPerPx, d.UmPerPx),
		MinSize:          p.StringWithFallback(PrefMinSize, d.MinSize),
		MaxSize:          p.StringWithFallback(PrefMaxSize, d.MaxSize),
		Mode:             p.StringWithFallback(PrefMode, d.Mode),
		Detector:         p.StringWithFallback(PrefDetector, d.Detector),
		Preset:           p.StringWithFallback(PrefPreset, d.Preset),
		RulesFile:        p.StringWithFallback(PrefRulesFile, d.RulesFile),
		Site:             p.StringWithFallback(PrefSite, d.Site),
		Reviewer:         p.StringWithFallback(PrefReviewer, d.Reviewer),
		VolumeML:         p.FloatWithFallback(PrefVolume, d.VolumeML),
		Factor:           p.FloatWithFallback(PrefFactor, d.Factor),
		Source:           p.StringWithFallback(PrefSource, d.Source),
		Recent:           recentSources(p.StringWithFallback(PrefRecent, "")),
		DemoWhenNoCamera: p.BoolWithFallback(PrefDemo, d.DemoWhenNoCamera),
		LastFolder:       p.StringWithFallback(PrefLastFolder, d.LastFolder),
		ExportFolder:     p.StringWithFallback(PrefExportDir, d.ExportFolder),
		WindowW:          float32(p.FloatWithFallback(PrefWindowW, float64(d.WindowW))),
		WindowH:          float32(p.FloatWithFallback(PrefWindowH, float64(d.WindowH))),
	}
	if _, err := inference.ParseVariant(string(s.Model)); err != nil {
		ignore(PrefModel, strconv.Quote(string(s.Model)), "not a model (base or optimised)", "the "+string(d.Model)+" model")
		s.Model = d.Model
	}
	if s.Threads < 0 || s.Threads > 256 {
		ignore(PrefThreads, s.Threads, "give 0 (one per CPU) to 256 threads", "one thread per CPU")
		s.Threads = d.Threads
	}
	if s.Batch < 1 || s.Batch > 1024 {
		ignore(PrefBatch, s.Batch, "give 1 to 1024 cells per run", fmt.Sprintf("%d", d.Batch))
		s.Batch = d.Batch
	}
	if !(s.Threshold >= 0 && s.Threshold <= 1) {
		ignore(PrefThreshold, s.Threshold, "a confidence threshold is a probability from 0 to 1", fmt.Sprintf("%v", d.Threshold))
		s.Threshold = d.Threshold
	}
	if !(s.UmPerPx >= 0) || math.IsInf(s.UmPerPx, 0) {
		ignore(PrefUmPerPx, s.UmPerPx, "a calibration is a positive number of micrometres per pixel", "no calibration")
		s.UmPerPx = 0
	}
	if !(s.VolumeML > 0) || math.IsInf(s.VolumeML, 0) {
		ignore(PrefVolume, s.VolumeML, "the volume examined is a positive number of mL", fmt.Sprintf("%v mL", d.VolumeML))
		s.VolumeML = d.VolumeML
	}
	if !(s.Factor > 0) || math.IsInf(s.Factor, 0) {
		ignore(PrefFactor, s.Factor, "the dilution factor is a positive number", fmt.Sprintf("%v", d.Factor))
		s.Factor = d.Factor
	}
	if s.WindowW < 640 || s.WindowH < 480 || s.WindowW > 16384 || s.WindowH > 16384 {
		ignore("window size", fmt.Sprintf("%vx%v", s.WindowW, s.WindowH), "smaller than 640x480 or larger than the largest screen", fmt.Sprintf("%vx%v", d.WindowW, d.WindowH))
		s.WindowW, s.WindowH = d.WindowW, d.WindowH
	}
	if sp, err := capture.ParseSpec(s.Camera); s.Camera != "" && (err != nil || sp.Kind != capture.KindCamera) {
		ignore(PrefCamera, strconv.Quote(s.Camera), "a camera is written camera:0 or camera:/dev/video2", d.Camera)
		s.Camera = d.Camera
	}
	if _, _, err := ParseResolution(s.Resolution); err != nil {
		ignore(PrefResolution, strconv.Quote(s.Resolution), "write it as WIDTHxHEIGHT", "the camera's default")
		s.Resolution = d.Resolution
	}
	if _, err := vision.ParseMode(s.Mode); err != nil {
		ignore(PrefMode, strconv.Quote(s.Mode), err.Error(), "still")
		s.Mode = d.Mode
	}
	if _, ok := assets.BuiltinDetector(s.Detector); s.Detector != "" && !ok {
		ignore(PrefDetector, strconv.Quote(s.Detector), "no such built-in detector: "+strings.Join(assets.BuiltinDetectors(), ", "), "the thresholds alone")
		s.Detector = d.Detector
	}
	for _, sz := range []struct {
		key string
		val *string
	}{{PrefMinSize, &s.MinSize}, {PrefMaxSize, &s.MaxSize}} {
		if *sz.val == "" {
			continue
		}
		if _, err := vision.ParseSize(*sz.val); err != nil {
			ignore(sz.key, strconv.Quote(*sz.val), err.Error(), "the segmenter's default")
			*sz.val = ""
		}
	}
	if !slices.Contains(assets.PresetNames(), s.Preset) {
		ignore(PrefPreset, strconv.Quote(s.Preset), "no such alert preset (presets: "+strings.Join(assets.PresetNames(), ", ")+")", "preset "+d.Preset)
		s.Preset = d.Preset
	}
	if s.RulesFile != "" {
		if _, err := os.Stat(s.RulesFile); err != nil {
			ignore(PrefRulesFile, s.RulesFile, "the rules file is no longer there ("+errText(err)+"); choose it again in Settings › Alerts", "preset "+s.Preset)
			s.RulesFile = ""
		}
	}
	if s.PackDir != "" {
		if _, err := LoadPack(s.PackDir); err != nil {
			ignore(PrefPackDir, s.PackDir, "the pack folder is no longer usable ("+err.Error()+"); fix it or choose it again in Settings › Model", "the built-in pack "+assets.DefaultPackName)
			s.PackDir = ""
		}
	}
	if s.Source == "" {
		s.Source = d.Source
	} else if sp, err := capture.ParseSpec(s.Source); err != nil {
		ignore(PrefSource, strconv.Quote(s.Source), err.Error(), "the demo")
		s.Source = d.Source
	} else if sp.Kind != capture.KindDemo && sp.Kind != capture.KindCamera {
		if _, err := os.Stat(sp.Path); err != nil {
			ignore(PrefSource, s.Source, "the last source is no longer there ("+errText(err)+")", "the demo")
			s.Source = d.Source
		}
	}
	if s.LastFolder != "" {
		if fi, err := os.Stat(s.LastFolder); err != nil || !fi.IsDir() {
			ignore(PrefLastFolder, s.LastFolder, "the folder is no longer there", "the home folder")
			s.LastFolder = ""
		}
	}
	if s.ExportFolder != "" {
		if fi, err := os.Stat(s.ExportFolder); err != nil || !fi.IsDir() {
			ignore(PrefExportDir, s.ExportFolder, "the folder is no longer there", "the home folder")
			s.ExportFolder = ""
		}
	}
	return s, notes
}

// MaxRecent is how many recent sources the source list keeps.
const MaxRecent = 8

// recentSources reads the saved recent sources, leaving out silently what no longer
// parses or is no longer there (a folder moved or a USB stick taken out is not worth a
// note at launch: it is simply not offered).
func recentSources(saved string) []string {
	var out []string
	for _, line := range strings.Split(saved, "\n") {
		sp, err := capture.ParseSpec(line)
		if line == "" || err != nil || sp.Kind == capture.KindDemo || sp.Kind == capture.KindCamera {
			continue
		}
		if _, err := os.Stat(sp.Path); err == nil && !slices.Contains(out, line) && len(out) < MaxRecent {
			out = append(out, line)
		}
	}
	return out
}

// AddRecent puts spec first in recent (a folder, video or image; the demo and cameras
// are always listed and are not kept), keeping at most MaxRecent.
func AddRecent(recent []string, spec capture.Spec) []string {
	if spec.Kind == capture.KindDemo || spec.Kind == capture.KindCamera {
		return recent
	}
	s := spec.String()
	if strings.Contains(s, "\n") { // one a line: a path with a line break is not kept
		return recent
	}
	out := append([]string{s}, slices.DeleteFunc(slices.Clone(recent), func(r string) bool { return r == s })...)
	if len(out) > MaxRecent {
		out = out[:MaxRecent]
	}
	return out
}

// errText is why a file could not be used, without its path (the caller names it).
func errText(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file or folder"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	return err.Error()
}

// CheckPrefsWritable says why the preferences file at path cannot be written, nil when
// it can: Fyne saves it on its own goroutine and only logs a failure, so Settings said
// "Saved." over settings lost at the next launch (helper-86). A file not there yet is
// checked by making a file beside it.
func CheckPrefsWritable(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err == nil {
		return f.Close()
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("the settings file %s cannot be written: %w", path, err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("the settings folder %s cannot be made: %w", dir, err)
	}
	probe, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return fmt.Errorf("the settings folder %s cannot be written: %w", dir, err)
	}
	probe.Close()
	return os.Remove(probe.Name())
}

// Save writes the settings to p (Fyne saves the file shortly after).
func (s Settings) Save(p Prefs) {
	p.SetString(PrefModel, string(s.Model))
	p.SetInt(PrefThreads, s.Threads)
	p.SetInt(PrefBatch, s.Batch)
	p.SetFloat(PrefThreshold, s.Threshold)
	p.SetString(PrefPackDir, s.PackDir)
	p.SetString(PrefCamera, s.Camera)
	p.SetString(PrefResolution, s.Resolution)
	p.SetFloat(PrefUmPerPx, s.UmPerPx)
	p.SetString(PrefMinSize, s.MinSize)
	p.SetString(PrefMaxSize, s.MaxSize)
	p.SetString(PrefMode, s.Mode)
	p.SetString(PrefDetector, s.Detector)
	p.SetString(PrefPreset, s.Preset)
	p.SetString(PrefRulesFile, s.RulesFile)
	p.SetString(PrefSite, s.Site)
	p.SetString(PrefReviewer, s.Reviewer)
	p.SetFloat(PrefVolume, s.VolumeML)
	p.SetFloat(PrefFactor, s.Factor)
	p.SetString(PrefSource, s.Source)
	p.SetString(PrefRecent, strings.Join(s.Recent, "\n"))
	p.SetBool(PrefDemo, s.DemoWhenNoCamera)
	p.SetString(PrefLastFolder, s.LastFolder)
	p.SetString(PrefExportDir, s.ExportFolder)
	p.SetFloat(PrefWindowW, float64(s.WindowW))
	p.SetFloat(PrefWindowH, float64(s.WindowH))
}

// ParseResolution reads "1920x1080"; "" is (0, 0): the camera's default.
func ParseResolution(s string) (w, h int, err error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "" {
		return 0, 0, nil
	}
	if _, err := fmt.Sscanf(s, "%dx%d", &w, &h); err != nil || w < 16 || h < 16 || w > 16384 || h > 16384 {
		return 0, 0, fmt.Errorf("resolution %q: write it as WIDTHxHEIGHT, e.g. 1920x1080", s)
	}
	return w, h, nil
}

// ModelCost is what a model costs on this machine, measured by a short benchmark and
// kept in the preferences so it is measured once, not at every launch.
type ModelCost struct {
	Variant     inference.Variant `json:"variant"`
	Threads     int               `json:"threads"`
	P50Ms       float64           `json:"p50_ms"`  // latency of one crop (single-stream)
	P90Ms       float64           `json:"p90_ms"`  // idem, 90th percentile
	CellsPerSec float64           `json:"cells_s"` // single-stream throughput
	JPerCell    float64           `json:"j_per_cell"`
	// EnergySource says where the joules came from; Estimated marks a CPU-time estimate.
	EnergySource string    `json:"energy_source"`
	Estimated    bool      `json:"estimated"`
	Measured     time.Time `json:"measured"`
	// OtherCPUPercent is what other processes took of the machine while measuring (100:
	// a core): above bench.DisturbedPercent the figures are slower than on a quiet
	// machine and swing from one measurement to the next, and the card says so
	// (helper-69 saw 7.0x become 2.5x as another process ran).
	OtherCPUPercent float64 `json:"others_cpu_percent"`
}

// Disturbed reports whether other processes took enough of the machine while the cost
// was measured to make it unreliable.
func (c ModelCost) Disturbed() bool { return c.OtherCPUPercent > bench.DisturbedPercent }

// PackCostID names a pack's models for the stored costs: its name and a fingerprint of
// its model files, so a twin made here under the same name (pack optimise keeps it) is
// measured anew instead of showing the replaced model's costs.
func PackCostID(p *inference.Pack) string {
	if id, ok := costIDs.Load(p); ok {
		return id.(string)
	}
	h := sha256.New()
	for _, v := range p.Variants() {
		if b, err := p.ModelBytes(v); err == nil {
			h.Write(b)
		}
	}
	id := fmt.Sprintf("%s@%x", p.Name, h.Sum(nil)[:6])
	costIDs.Store(p, id)
	return id
}

var costIDs sync.Map // *inference.Pack -> its PackCostID: the models are read once

func costKey(pack string, v inference.Variant) string {
	return PrefCostPrefix + pack + "." + string(v)
}

// LoadCost returns the stored cost of a pack's model, if it was measured; pack is its
// PackCostID.
func LoadCost(p Prefs, pack string, v inference.Variant) (ModelCost, bool) {
	raw := p.String(costKey(pack, v))
	if raw == "" {
		return ModelCost{}, false
	}
	var c ModelCost
	if err := json.Unmarshal([]byte(raw), &c); err != nil || c.Variant != v {
		return ModelCost{}, false
	}
	return c, true
}

// SaveCost stores a measured cost.
func SaveCost(p Prefs, pack string, c ModelCost) {
	// JSON has no NaN: a figure that could not be measured is stored as 0 (shown as "–").
	for _, f := range []*float64{&c.P50Ms, &c.P90Ms, &c.CellsPerSec, &c.JPerCell} {
		if math.IsNaN(*f) || math.IsInf(*f, 0) {
			*f = 0
		}
	}
	b, _ := json.Marshal(c) // finite numbers and strings: cannot fail
	p.SetString(costKey(pack, c.Variant), string(b))
}
