package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
)

// Settings are the technician's choices, kept in Fyne's preferences (one JSON file per
// user, written by Fyne) so the app opens as it was left.
type Settings struct {
	// Model.
	Model     inference.Variant // base or optimised
	Threads   int               // ONNX Runtime intra-op threads; 0: one per CPU
	Batch     int               // crops per inference run
	Threshold float64           // confidence threshold: below it a cell is unidentified
	PackDir   string            // classifier pack folder; "": the built-in pack

	// Camera and segmentation.
	Camera     string  // source spec of the camera, e.g. "camera:0" or "camera:/dev/video2"
	Resolution string  // requested camera size, "WIDTHxHEIGHT"; "": the camera's default
	UmPerPx    float64 // calibration in micrometres per pixel; 0: uncalibrated
	MinSize    string  // smallest object, e.g. "8um" or "12px"; "": the segmenter's default
	MaxSize    string  // largest object; "": the segmenter's default
	Mode       string  // "still" (slide) or "flow" (flow-through); "": the default

	// Alerts.
	Preset    string // alert preset name (assets/presets); used when RulesFile is ""
	RulesFile string // a rules file of the site's own; overrides Preset

	// Sample defaults, remembered from the last sample.
	Site     string
	VolumeML float64
	Factor   float64

	// Source is the last source used: SourceDemo, a camera spec, a video or folder path.
	Source string
	// DemoWhenNoCamera starts the bundled demo at launch when no camera is found.
	DemoWhenNoCamera bool
	LastFolder       string // where the folder dialog opens

	// Window size, restored at launch.
	WindowW, WindowH float32
}

// SourceDemo is the source spec of the bundled demo video.
const SourceDemo = "demo"

// DefaultSettings are the settings of a first launch.
func DefaultSettings() Settings {
	return Settings{
		Model: inference.Optimised, Batch: 16, Threshold: 0.5,
		Camera: "camera:0", Preset: assets.DefaultPreset,
		VolumeML: 1, Factor: 1, Source: SourceDemo, DemoWhenNoCamera: true,
		WindowW: 1440, WindowH: 900,
	}
}

// Preference keys. They are part of the user's saved state: do not rename them.
const (
	prefModel      = "model.variant"
	prefThreads    = "model.threads"
	prefBatch      = "model.batch"
	prefThreshold  = "model.threshold"
	prefPackDir    = "model.pack_dir"
	prefCamera     = "camera.device"
	prefResolution = "camera.resolution"
	prefUmPerPx    = "camera.um_per_px"
	prefMinSize    = "segment.min_size"
	prefMaxSize    = "segment.max_size"
	prefMode       = "segment.mode"
	prefPreset     = "alerts.preset"
	prefRulesFile  = "alerts.rules_file"
	prefSite       = "sample.site"
	prefVolume     = "sample.volume_ml"
	prefFactor     = "sample.factor"
	prefSource     = "source.last"
	prefDemo       = "source.demo_when_no_camera"
	prefLastFolder = "source.last_folder"
	prefWindowW    = "window.width"
	prefWindowH    = "window.height"
	prefCostPrefix = "model.cost." // + pack + "." + variant: a measured ModelCost as JSON
)

// LoadSettings reads the settings from p; anything missing, of the wrong type or out of
// range takes its default, so a damaged preferences file cannot stop the app from
// opening. LoadSettingsChecked also says what it ignored.
func LoadSettings(p fyne.Preferences) Settings {
	s, _ := LoadSettingsChecked(p)
	return s
}

// LoadSettingsChecked reads the settings from p like LoadSettings and returns, one line
// each, the stored values it ignored, why, and what it uses instead: a number out of
// range, text where a number belongs, a rules file or pack folder that is no longer
// there or no longer valid, an unknown preset or model.
func LoadSettingsChecked(p fyne.Preferences) (Settings, []string) {
	d := DefaultSettings()
	var notes []string
	ignore := func(key string, val any, why, instead string) {
		notes = append(notes, fmt.Sprintf("%s = %v: %s; using %s", key, val, why, instead))
	}
	// Text where a number belongs (a hand-edited file) reads as missing: say so.
	for _, key := range []string{prefThreads, prefBatch, prefThreshold, prefUmPerPx, prefVolume, prefFactor, prefWindowW, prefWindowH} {
		const none = "\x00"
		if v := p.StringWithFallback(key, none); v != none {
			ignore(key, strconv.Quote(v), "text where a number belongs", "the default")
		}
	}
	s := Settings{
		Model:            inference.Variant(p.StringWithFallback(prefModel, string(d.Model))),
		Threads:          p.IntWithFallback(prefThreads, d.Threads),
		Batch:            p.IntWithFallback(prefBatch, d.Batch),
		Threshold:        p.FloatWithFallback(prefThreshold, d.Threshold),
		PackDir:          p.StringWithFallback(prefPackDir, d.PackDir),
		Camera:           p.StringWithFallback(prefCamera, d.Camera),
		Resolution:       p.StringWithFallback(prefResolution, d.Resolution),
		UmPerPx:          p.FloatWithFallback(prefUmPerPx, d.UmPerPx),
		MinSize:          p.StringWithFallback(prefMinSize, d.MinSize),
		MaxSize:          p.StringWithFallback(prefMaxSize, d.MaxSize),
		Mode:             p.StringWithFallback(prefMode, d.Mode),
		Preset:           p.StringWithFallback(prefPreset, d.Preset),
		RulesFile:        p.StringWithFallback(prefRulesFile, d.RulesFile),
		Site:             p.StringWithFallback(prefSite, d.Site),
		VolumeML:         p.FloatWithFallback(prefVolume, d.VolumeML),
		Factor:           p.FloatWithFallback(prefFactor, d.Factor),
		Source:           p.StringWithFallback(prefSource, d.Source),
		DemoWhenNoCamera: p.BoolWithFallback(prefDemo, d.DemoWhenNoCamera),
		LastFolder:       p.StringWithFallback(prefLastFolder, d.LastFolder),
		WindowW:          float32(p.FloatWithFallback(prefWindowW, float64(d.WindowW))),
		WindowH:          float32(p.FloatWithFallback(prefWindowH, float64(d.WindowH))),
	}
	if _, err := inference.ParseVariant(string(s.Model)); err != nil {
		ignore(prefModel, strconv.Quote(string(s.Model)), "not a model (base or optimised)", "the "+string(d.Model)+" model")
		s.Model = d.Model
	}
	if s.Threads < 0 || s.Threads > 256 {
		ignore(prefThreads, s.Threads, "give 0 (one per CPU) to 256 threads", "one thread per CPU")
		s.Threads = d.Threads
	}
	if s.Batch < 1 || s.Batch > 1024 {
		ignore(prefBatch, s.Batch, "give 1 to 1024 cells per run", fmt.Sprintf("%d", d.Batch))
		s.Batch = d.Batch
	}
	if !(s.Threshold >= 0 && s.Threshold <= 1) {
		ignore(prefThreshold, s.Threshold, "a confidence threshold is a probability from 0 to 1", fmt.Sprintf("%v", d.Threshold))
		s.Threshold = d.Threshold
	}
	if !(s.UmPerPx >= 0) || math.IsInf(s.UmPerPx, 0) {
		ignore(prefUmPerPx, s.UmPerPx, "a calibration is a positive number of micrometres per pixel", "no calibration")
		s.UmPerPx = 0
	}
	if !(s.VolumeML > 0) || math.IsInf(s.VolumeML, 0) {
		ignore(prefVolume, s.VolumeML, "the volume examined is a positive number of mL", fmt.Sprintf("%v mL", d.VolumeML))
		s.VolumeML = d.VolumeML
	}
	if !(s.Factor > 0) || math.IsInf(s.Factor, 0) {
		ignore(prefFactor, s.Factor, "the dilution factor is a positive number", fmt.Sprintf("%v", d.Factor))
		s.Factor = d.Factor
	}
	if s.WindowW < 640 || s.WindowH < 480 || s.WindowW > 16384 || s.WindowH > 16384 {
		ignore("window size", fmt.Sprintf("%vx%v", s.WindowW, s.WindowH), "smaller than 640x480 or larger than the largest screen", fmt.Sprintf("%vx%v", d.WindowW, d.WindowH))
		s.WindowW, s.WindowH = d.WindowW, d.WindowH
	}
	if s.Camera != "" && !strings.HasPrefix(s.Camera, "camera:") {
		ignore(prefCamera, strconv.Quote(s.Camera), "a camera is written camera:0 or camera:/dev/video2", d.Camera)
		s.Camera = d.Camera
	}
	if _, _, err := ParseResolution(s.Resolution); err != nil {
		ignore(prefResolution, strconv.Quote(s.Resolution), "write it as WIDTHxHEIGHT", "the camera's default")
		s.Resolution = d.Resolution
	}
	if _, err := capture.ParseMode(s.Mode); err != nil {
		ignore(prefMode, strconv.Quote(s.Mode), err.Error(), "still")
		s.Mode = d.Mode
	}
	for _, sz := range []struct {
		key string
		val *string
	}{{prefMinSize, &s.MinSize}, {prefMaxSize, &s.MaxSize}} {
		if *sz.val == "" {
			continue
		}
		if _, err := capture.ParseSize(*sz.val); err != nil {
			ignore(sz.key, strconv.Quote(*sz.val), err.Error(), "the segmenter's default")
			*sz.val = ""
		}
	}
	if !slices.Contains(assets.PresetNames(), s.Preset) {
		ignore(prefPreset, strconv.Quote(s.Preset), "no such alert preset (presets: "+strings.Join(assets.PresetNames(), ", ")+")", "preset "+d.Preset)
		s.Preset = d.Preset
	}
	if s.RulesFile != "" {
		if _, err := os.Stat(s.RulesFile); err != nil {
			ignore(prefRulesFile, s.RulesFile, "the rules file is no longer there ("+errText(err)+"); choose it again in Settings › Alerts", "preset "+s.Preset)
			s.RulesFile = ""
		}
	}
	if s.PackDir != "" {
		if _, err := inference.LoadPackDir(s.PackDir); err != nil {
			ignore(prefPackDir, s.PackDir, "the pack folder is no longer usable ("+err.Error()+"); fix it or choose it again in Settings › Model", "the built-in pack "+assets.DefaultPackName)
			s.PackDir = ""
		}
	}
	if src := s.Source; src != "" && src != SourceDemo && !strings.HasPrefix(src, "camera:") {
		if _, err := os.Stat(specPath(src)); err != nil {
			ignore(prefSource, src, "the last source is no longer there ("+errText(err)+")", "the demo")
			s.Source = d.Source
		}
	}
	if s.LastFolder != "" {
		if fi, err := os.Stat(s.LastFolder); err != nil || !fi.IsDir() {
			ignore(prefLastFolder, s.LastFolder, "the folder is no longer there", "the home folder")
			s.LastFolder = ""
		}
	}
	return s, notes
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

// Save writes the settings to p (Fyne saves the file shortly after).
func (s Settings) Save(p fyne.Preferences) {
	p.SetString(prefModel, string(s.Model))
	p.SetInt(prefThreads, s.Threads)
	p.SetInt(prefBatch, s.Batch)
	p.SetFloat(prefThreshold, s.Threshold)
	p.SetString(prefPackDir, s.PackDir)
	p.SetString(prefCamera, s.Camera)
	p.SetString(prefResolution, s.Resolution)
	p.SetFloat(prefUmPerPx, s.UmPerPx)
	p.SetString(prefMinSize, s.MinSize)
	p.SetString(prefMaxSize, s.MaxSize)
	p.SetString(prefMode, s.Mode)
	p.SetString(prefPreset, s.Preset)
	p.SetString(prefRulesFile, s.RulesFile)
	p.SetString(prefSite, s.Site)
	p.SetFloat(prefVolume, s.VolumeML)
	p.SetFloat(prefFactor, s.Factor)
	p.SetString(prefSource, s.Source)
	p.SetBool(prefDemo, s.DemoWhenNoCamera)
	p.SetString(prefLastFolder, s.LastFolder)
	p.SetFloat(prefWindowW, float64(s.WindowW))
	p.SetFloat(prefWindowH, float64(s.WindowH))
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
}

func costKey(pack string, v inference.Variant) string {
	return prefCostPrefix + pack + "." + string(v)
}

// LoadCost returns the stored cost of a pack's model, if it was measured.
func LoadCost(p fyne.Preferences, pack string, v inference.Variant) (ModelCost, bool) {
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
func SaveCost(p fyne.Preferences, pack string, c ModelCost) {
	// JSON has no NaN: a figure that could not be measured is stored as 0 (shown as "–").
	for _, f := range []*float64{&c.P50Ms, &c.P90Ms, &c.CellsPerSec, &c.JPerCell} {
		if math.IsNaN(*f) || math.IsInf(*f, 0) {
			*f = 0
		}
	}
	b, _ := json.Marshal(c) // finite numbers and strings: cannot fail
	p.SetString(costKey(pack, c.Variant), string(b))
}
