package app

import (
	"context"
	"fmt"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/vision"
)

// RunRequest is what the technician asked to screen and how the screen follows it.
type RunRequest struct {
	Spec     capture.Spec
	Sample   screening.Sample
	Settings Settings
	Rules    alerts.Binding
	// OnStatus and OnFrame are the screen's hooks (see screening.SessionConfig).
	OnStatus func(capture.Status)
	OnFrame  func(capture.Frame, []vision.Object)
	// Continue, when set, takes up a stored run of a folder where it stopped
	// (store.Continuation.Continue); Spec and Sample are that run's.
	Continue *screening.Continue
}

// OpenSession opens a screening session of the request on the services: the model, the
// meter and the store. It fills screening.SessionConfig from the settings; the session
// does the rest, as it does for the screen command.
func (s *Services) OpenSession(ctx context.Context, r RunRequest) (*screening.Session, error) {
	if s.Model == nil {
		err := s.SetupError
		if err == nil {
			err = fmt.Errorf("no classifier")
		}
		return nil, err
	}
	vo, err := r.Settings.VisionOptions()
	if err != nil {
		return nil, err
	}
	if name := r.Settings.Detector; name != "" {
		if s.Detector == nil {
			return nil, fmt.Errorf("the learned detector %s needs ONNX Runtime, which is not loaded: choose Thresholds in Settings › Camera, or run 'make deps'", name)
		}
		if vo.Boxes, err = s.Detector(name); err != nil {
			return nil, fmt.Errorf("learned detector: %w", err)
		}
	}
	cfg := screening.SessionConfig{
		Spec: r.Spec, Sample: r.Sample, Threshold: r.Settings.Threshold, Rules: r.Rules,
		Classifier: s.Model.Classifier(), Taxonomy: s.Taxonomy, Vision: vo, Meter: s.Meter,
		OnStatus: r.OnStatus, OnFrame: r.OnFrame, Continue: r.Continue,
		Open: func(ctx context.Context, spec capture.Spec, opt capture.OpenOptions) (capture.Source, error) {
			return s.Open(ctx, spec, r.Settings, opt)
		},
	}
	if s.NewSegmenter != nil {
		cfg.NewSegmenter = func(spec capture.Spec) (screening.Segmenter, func(), error) { return s.NewSegmenter(r.Settings, spec) }
	}
	if s.Store != nil {
		cfg.Store = s.Store.Runs()
	}
	return screening.OpenSession(ctx, cfg)
}

// VisionOptions are the segmenter's settings: still or flow mode, the calibration and
// the size limits.
func (s Settings) VisionOptions() (vision.Options, error) {
	o := vision.Options{UmPerPx: s.UmPerPx}
	var err error
	if o.Mode, err = vision.ParseMode(s.Mode); err != nil {
		return o, fmt.Errorf("segmentation mode: %w (Settings › Camera)", err)
	}
	if s.MinSize != "" {
		if o.MinSize, err = vision.ParseSize(s.MinSize); err != nil {
			return o, fmt.Errorf("smallest object: %w (Settings › Camera)", err)
		}
	}
	if s.MaxSize != "" {
		if o.MaxSize, err = vision.ParseSize(s.MaxSize); err != nil {
			return o, fmt.Errorf("largest object: %w (Settings › Camera)", err)
		}
	}
	return o, nil
}
