package app

import (
	"context"
	"fmt"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
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
	// ScreenAgain: the technician has been told that other samples hold these frames
	// and screens them as a new sample all the same; unset, OpenSession returns a
	// *ScreenedBeforeError when they do.
	ScreenAgain bool
}

// ScreenedBeforeError says that other samples hold the frames a new sample was about to
// screen, found by their fingerprints: a copy of a folder in another place, or renamed
// files, are the same water, which a comparison of paths missed (helper-54). Nothing
// was recorded; the app asks, and screens them with RunRequest.ScreenAgain.
type ScreenedBeforeError struct {
	Spec capture.Spec
	Runs []store.RunRef
	// Frames is how many distinct readable frames the source holds: each of Runs holds
	// Shared of them.
	Frames int
}

func (e *ScreenedBeforeError) Error() string {
	r := e.Runs[0]
	if r.Copy == "" {
		return fmt.Sprintf("the frames of %s were screened before as sample %s", e.Spec.Describe(), r.Sample)
	}
	return fmt.Sprintf("the frames of %s were screened before as sample %s (%s)", e.Spec.Describe(), r.Sample, r.Copy)
}

// screenedBefore is the SessionConfig.Screened check of a request: for a new sample not
// yet told about them, the runs of other samples holding its frames end the opening.
func (s *Services) screenedBefore(r RunRequest) func(context.Context, []capture.FileDigest) error {
	if s.Store == nil || r.ScreenAgain || r.Continue != nil {
		return nil
	}
	return func(ctx context.Context, digests []capture.FileDigest) error {
		if held, err := s.Store.HasSample(ctx, r.Sample.ID); err != nil || held {
			return err // a run added to a sample: the store refuses frames it holds
		}
		refs, err := s.Store.RunsHoldingFrames(ctx, digests, r.Sample.ID)
		if err != nil || len(refs) == 0 {
			return err
		}
		return &ScreenedBeforeError{Spec: r.Spec, Runs: refs, Frames: capture.DistinctFrames(digests)}
	}
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
		OnStatus: r.OnStatus, OnFrame: r.OnFrame, Continue: r.Continue, Screened: s.screenedBefore(r),
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
