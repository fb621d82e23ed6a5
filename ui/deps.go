package ui

import (
	"context"
	"errors"
	"fmt"
	"image"
	"strings"

	"gocv.io/x/gocv"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/power"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
)

// Classifier is what the app needs of a classifier: the pipeline's interface and the
// settings it changes while a run goes on. inference.Classifier implements it.
type Classifier interface {
	screening.Classifier
	SetVariant(inference.Variant) error
	SetThreads(int) error
	Threads() int
	SetBatch(int)
}

// SourceKind says what a source spec is, which decides the segmenter and the progress.
type SourceKind int

// Kinds of source.
const (
	KindStream SourceKind = iota // a camera or a video: frames with many cells, tracked
	KindFrames                   // a folder of whole frames
	KindCells                    // a folder of single-cell images: each image is one cell
)

// Deps is what the app runs on: the model, the meter, the store and the functions that
// open sources. NewDeps (in the command) builds the real ones; tests give light fakes.
// Only Pack, Taxonomy, Classifier and OpenSource are required.
type Deps struct {
	Pack       *inference.Pack
	Taxonomy   *screening.Taxonomy
	Classifier Classifier
	// Meter measures power and latency; nil: the panel says it is not measured.
	Meter *power.Meter
	// Store keeps sessions; nil: history, gallery and export say why they are off.
	Store *store.Store
	// OpenSource opens a source spec ("demo", "camera:0", a video or folder path, or
	// "cells:" and a folder); onStatus receives the source's events (a skipped file, a
	// camera lost and retried).
	OpenSource func(ctx context.Context, spec string, kind SourceKind, s Settings, onStatus func(capture.Status)) (capture.Source, error)
	// NewSegmenter makes the segmenter of one run; nil: capture's, from the settings.
	NewSegmenter func(s Settings, kind SourceKind) (screening.Segmenter, func(), error)
	// Measure runs the quick benchmark of the pack's models on this machine.
	Measure func(ctx context.Context, s Settings, progress func(done, total int)) ([]ModelCost, error)
	// Cameras lists the camera specs present (camera:0, ...); nil: none.
	Cameras func() []string
	// CheckPack checks a pack folder the technician chooses in Settings, models included;
	// nil: only its manifest and files are checked (inference.LoadPackDir).
	CheckPack func(dir string) error
	// SetupError is why the classifier could not be loaded, shown at launch with its fix.
	SetupError error
}

func (d *Deps) check() error {
	var missing []string
	if d.Pack == nil {
		missing = append(missing, "Pack")
	}
	if d.Taxonomy == nil {
		missing = append(missing, "Taxonomy")
	}
	if d.OpenSource == nil {
		missing = append(missing, "OpenSource")
	}
	if len(missing) > 0 {
		return fmt.Errorf("ui: Deps lacks %s", strings.Join(missing, ", "))
	}
	return nil
}

// Rules are the alert rules of a run, bound to the pack.
type Rules struct {
	Name       string // "preset default" or the file's path
	Bound      []alerts.Bound
	Hysteresis float64
	Notices    []alerts.Notice
	Ruleset    *alerts.Ruleset
}

// LoadRules reads the rules file of the settings, or its preset, and binds it to the
// taxonomy. An unreadable file is an error naming it and the fix.
func LoadRules(s Settings, tx *screening.Taxonomy) (Rules, error) {
	var rs *alerts.Ruleset
	var err error
	var name string
	if s.RulesFile != "" {
		name = s.RulesFile
		rs, err = alerts.LoadFile(s.RulesFile)
		if err != nil {
			return Rules{}, fmt.Errorf("%w\nFix the file, or clear \"Rules file\" in Settings › Alerts to use the preset", err)
		}
	} else {
		preset := s.Preset
		if preset == "" {
			preset = assets.DefaultPreset
		}
		name = "preset " + preset
		rs, err = alerts.LoadPreset(assets.Presets(), preset)
		if err != nil {
			return Rules{}, fmt.Errorf("%w: choose one in Settings › Alerts", err)
		}
	}
	bound, notices := rs.Bind(tx, tx.Pack)
	return Rules{Name: name, Bound: bound, Hysteresis: rs.Hysteresis, Notices: notices, Ruleset: rs}, nil
}

// Watching describes the rules in words for the banner when nothing is raised.
func (r Rules) Watching() string {
	if len(r.Bound) == 0 {
		if len(r.Notices) > 0 {
			return fmt.Sprintf("No rule of %s can fire with this classifier pack (%d notices): see Settings › Alerts.", r.Name, len(r.Notices))
		}
		return "No alert rules in use: choose a preset or a rules file in Settings › Alerts."
	}
	names := make([]string, 0, len(r.Bound))
	for _, b := range r.Bound {
		names = append(names, b.Rule.Name())
	}
	return fmt.Sprintf("Watching %d rule%s of %s: %s", len(r.Bound), plural(len(r.Bound)), r.Name, strings.Join(names, ", "))
}

// CaptureSegmenter makes capture's segmenter from the settings: still or flow mode, the
// calibration and the size limits. A folder of frames is segmented as a still slide.
func CaptureSegmenter(s Settings, kind SourceKind) (screening.Segmenter, func(), error) {
	if kind == KindCells {
		return cellImages{}, func() {}, nil
	}
	o := capture.Options{UmPerPx: s.UmPerPx, OnStatus: capture.LogStatus}
	var err error
	if o.Mode, err = capture.ParseMode(s.Mode); err != nil {
		return nil, nil, fmt.Errorf("segmentation mode: %w (Settings › Camera)", err)
	}
	if s.MinSize != "" {
		if o.MinSize, err = capture.ParseSize(s.MinSize); err != nil {
			return nil, nil, fmt.Errorf("smallest object: %w (Settings › Camera)", err)
		}
	}
	if s.MaxSize != "" {
		if o.MaxSize, err = capture.ParseSize(s.MaxSize); err != nil {
			return nil, nil, fmt.Errorf("largest object: %w (Settings › Camera)", err)
		}
	}
	seg, err := capture.NewSegmenter(o)
	if err != nil {
		return nil, nil, fmt.Errorf("segmenter: %w (Settings › Camera)", err)
	}
	return seg, func() { _ = seg.Close() }, nil
}

// cellImages is the "segmenter" of a folder of single-cell images: each image is one
// cell, counted once, its crop the whole image in gray.
type cellImages struct{}

func (cellImages) Process(f capture.Frame) ([]capture.Object, error) {
	g, err := matToGray(f.Mat)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Source, err)
	}
	b := g.Rect
	return []capture.Object{{Source: f.Source, Frame: f.Index, Track: f.Index, New: true, Box: b, CropBox: b,
		AreaPx: float64(b.Dx() * b.Dy()), Crop: g}}, nil
}

// matToGray copies an 8-bit gray, BGR or BGRA Mat into a Go gray image (luma weights as
// OpenCV's BGR2GRAY).
func matToGray(m gocv.Mat) (*image.Gray, error) {
	if m.Empty() {
		return nil, errors.New("empty image")
	}
	w, h, ch := m.Cols(), m.Rows(), m.Channels()
	if m.Type()&7 != 0 || (ch != 1 && ch != 3 && ch != 4) || !m.IsContinuous() {
		return nil, fmt.Errorf("image of type %v with %d channels: want 8-bit gray or colour", m.Type(), ch)
	}
	src, err := m.DataPtrUint8()
	if err != nil {
		return nil, err
	}
	g := image.NewGray(image.Rect(0, 0, w, h))
	if ch == 1 {
		copy(g.Pix, src[:w*h])
		return g, nil
	}
	for i := range w * h {
		p := src[i*ch : i*ch+3]
		// 0.114 B + 0.587 G + 0.299 R in 16-bit fixed point, rounded.
		g.Pix[i] = uint8((7471*uint32(p[0]) + 38470*uint32(p[1]) + 19595*uint32(p[2]) + 32768) >> 16)
	}
	return g, nil
}
