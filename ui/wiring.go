package ui

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/bench"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/power"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
)

// DepsOptions say where the real dependencies are.
type DepsOptions struct {
	ORTLib string // libonnxruntime.so.1; "": the usual places (see inference.FindLibrary)
	DB     string // session store file; "": store.DefaultPath()
	// DemoDir is where the demo video is kept once made; "": the user's cache folder.
	DemoDir string
	// MeasureFor is how long each model is measured in the quick benchmark (0: 4 s).
	MeasureFor time.Duration
}

// NewDeps loads what the app runs on, from the settings: the classifier pack and its
// classifier, the power meter, the session store and the sources. What fails is reported
// in Deps.SetupError (with its fix) and left nil, so the window still opens and says so.
// close releases everything.
func NewDeps(ctx context.Context, s Settings, o DepsOptions) (d Deps, close func()) {
	var closers []func()
	close = func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	var setupErrs []error
	builtin := func(why error) *inference.Pack {
		setupErrs = append(setupErrs, fmt.Errorf("%w\nUsing the built-in pack %s instead; fix the folder in Settings › Model", why, assets.DefaultPackName))
		p, err := loadPack("")
		if err != nil { // the built-in pack is checked by its tests: this cannot happen
			panic(err)
		}
		return p
	}
	pack, err := loadPack(s.PackDir)
	if err != nil {
		pack = builtin(err)
	}
	open := func(p *inference.Pack) (*inference.Classifier, error) {
		variant := s.Model
		if !p.Has(variant) {
			variant = ""
		}
		return inference.NewClassifier(p, inference.Options{Variant: variant, Threads: s.Threads, Batch: s.Batch, TopK: 5})
	}
	ortOK := false
	if _, err := inference.InitRuntime(o.ORTLib); err != nil {
		setupErrs = append(setupErrs, fmt.Errorf("%w\nRun 'make deps' (it fetches ONNX Runtime 1.24.1), or set $%s to libonnxruntime.so.1", err, inference.LibraryEnv))
	} else {
		ortOK = true
		c, err := open(pack)
		if err != nil && s.PackDir != "" && pack.Source == s.PackDir {
			// A pack folder whose models do not open (not ONNX, not matching pack.json):
			// the built-in pack screens meanwhile, rather than nothing.
			pack = builtin(err)
			c, err = open(pack)
		}
		if err != nil {
			setupErrs = append(setupErrs, err)
		} else {
			d.Classifier = c
			closers = append(closers, c.Close)
		}
	}
	d.Pack = pack
	if d.Taxonomy, err = screening.ForPack(pack); err != nil {
		setupErrs = append(setupErrs, err)
		d.Taxonomy = screening.DefaultTaxonomy(pack.Name, pack.Labels)
	}
	d.CheckPack = func(dir string) error {
		p, err := inference.LoadPackDir(dir)
		if err != nil || !ortOK {
			return err
		}
		return inference.CheckModels(p)
	}
	det := power.Detect(power.Options{})
	m := power.NewMeter(power.Config{Sensors: det.Sensors, Total: det.Total})
	m.Start(ctx)
	closers = append(closers, m.Stop)
	if c, ok := d.Classifier.(*inference.Classifier); ok {
		m.Hook(c)
	}
	d.Meter = m

	st, err := openStore(o.DB)
	if err != nil {
		setupErrs = append(setupErrs, err)
	} else {
		d.Store = st
		closers = append(closers, func() {
			if err := st.Close(); err != nil {
				slog.Error("closing the session store", "path", st.Path(), "err", err)
			}
		})
	}
	demoDir := o.DemoDir
	if demoDir == "" {
		if dir, err := os.UserCacheDir(); err == nil {
			demoDir = filepath.Join(dir, "phytoscreen")
		} else {
			demoDir = filepath.Join(os.TempDir(), "phytoscreen")
		}
	}
	d.OpenSource = func(ctx context.Context, spec string, kind SourceKind, s Settings, onStatus func(capture.Status)) (capture.Source, error) {
		return openSource(ctx, spec, kind, s, demoDir, onStatus)
	}
	d.Cameras = ListCameras
	measureFor := o.MeasureFor
	if measureFor <= 0 {
		measureFor = 4 * time.Second
	}
	d.Measure = func(ctx context.Context, s Settings, progress func(done, total int)) ([]ModelCost, error) {
		return measureModels(ctx, pack, s, measureFor, progress)
	}
	d.SetupError = errors.Join(setupErrs...)
	return d, close
}

func loadPack(dir string) (*inference.Pack, error) {
	if dir == "" {
		return inference.LoadPack(assets.DefaultPack(), "built-in:"+assets.DefaultPackName)
	}
	return inference.LoadPackDir(dir)
}

// openStore opens the session store, making its folder.
func openStore(path string) (*store.Store, error) {
	if path == "" {
		p, err := store.DefaultPath()
		if err != nil {
			return nil, err
		}
		path = p
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("session store folder %s: %w: make it writable, or start phytoscreen with --db FILE", filepath.Dir(path), err)
	}
	st, err := store.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w\nHistory, the gallery and exports are off until it opens; start phytoscreen with --db FILE to use another file", err)
	}
	return st, nil
}

// ListCameras lists the video devices present as source specs (camera:0 for
// /dev/video0), in order.
func ListCameras() []string {
	devs, _ := filepath.Glob("/dev/video*")
	slices.SortFunc(devs, func(a, b string) int {
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		return strings.Compare(a, b)
	})
	out := make([]string, 0, len(devs))
	for _, d := range devs {
		out = append(out, "camera:"+strings.TrimPrefix(d, "/dev/video"))
	}
	return out
}

// openSource opens a spec with the settings. The demo is played at its own frame rate,
// as a camera would deliver it.
func openSource(ctx context.Context, spec string, kind SourceKind, s Settings, demoDir string, onStatus func(capture.Status)) (capture.Source, error) {
	if spec == SourceDemo {
		path, err := DemoVideo(demoDir)
		if err != nil {
			return nil, err
		}
		v, err := capture.OpenVideo(path)
		if err != nil {
			return nil, err
		}
		return newPacedSource(v, v.FPS()), nil
	}
	w, h, err := ParseResolution(s.Resolution)
	if err != nil {
		return nil, fmt.Errorf("%w (Settings › Camera)", err)
	}
	return capture.Open(specPath(spec), capture.OpenOptions{Camera: capture.CameraOptions{Width: w, Height: h}, OnStatus: onStatus})
}

// DemoVideo writes the bundled demo video (assets.DemoVideo: a recording made by the
// frame generator from the real cell images built into phytoscreen) into dir, once, and
// returns its path: OpenCV opens videos from files only.
func DemoVideo(dir string) (string, error) {
	data := assets.DemoVideo()
	sum := sha256.Sum256(data)
	path := filepath.Join(dir, fmt.Sprintf("phytoscreen-demo-%x.avi", sum[:4]))
	if fi, err := os.Stat(path); err == nil && fi.Size() == int64(len(data)) {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("demo video: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "demo-*.avi")
	if err != nil {
		return "", fmt.Errorf("demo video: %w", err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("demo video in %s: %w", dir, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("demo video: %w", err)
	}
	return path, nil
}

// pacedSource delivers a file's frames at the rate they were recorded, so a demo plays
// like a camera instead of as fast as the machine can read it. It is paced by a ticker.
type pacedSource struct {
	capture.Source
	tick *time.Ticker
}

func newPacedSource(src capture.Source, fps float64) capture.Source {
	if fps <= 0 || fps > 240 {
		fps = 10
	}
	return &pacedSource{Source: src, tick: time.NewTicker(time.Duration(float64(time.Second) / fps))}
}

// Next waits for the next tick, then reads a frame.
func (p *pacedSource) Next(ctx context.Context) (capture.Frame, error) {
	select {
	case <-p.tick.C:
	case <-ctx.Done():
		return capture.Frame{}, ctx.Err()
	}
	return p.Source.Next(ctx)
}

// Close stops the ticker and closes the source.
func (p *pacedSource) Close() error {
	p.tick.Stop()
	return p.Source.Close()
}

// measureModels runs the quick benchmark: each model of the pack, single-stream (one
// cell at a time, as a live run classifies a trickle of cells), on the bundled sample
// images, with an idle baseline, with the thread count of the settings.
func measureModels(ctx context.Context, pack *inference.Pack, s Settings, dur time.Duration, progress func(done, total int)) ([]ModelCost, error) {
	crops, err := bench.LoadFS(assets.Samples(), "built-in samples")
	if err != nil {
		return nil, err
	}
	threads := s.Threads
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	cfg := bench.Config{
		Pack: pack, Models: pack.Variants(), Threads: []int{threads}, Batches: []int{1},
		Scenarios: []bench.Scenario{bench.Single}, Stress: []int{0},
		Warmup: dur / 4, Idle: dur / 4, Duration: dur, Repeat: 1,
		Crops: crops, Accuracy: bench.CardAccuracy(pack), Power: power.Detect(power.Options{}),
		Progress: func(p bench.Progress) {
			done := p.Index
			if p.Result != nil {
				done++
			}
			if progress != nil {
				progress(done, p.Total)
			}
		},
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	results, err := bench.Run(ctx, cfg)
	if err != nil {
		return nil, err
	}
	var out []ModelCost
	for _, r := range results {
		out = append(out, ModelCost{Variant: inference.Variant(r.Model), Threads: r.Threads, P50Ms: r.P50, P90Ms: r.P90,
			CellsPerSec: r.CellsPerSec, JPerCell: r.JPerCell, EnergySource: r.EnergySource, Estimated: r.Estimated(), Measured: time.Now()})
	}
	return out, nil
}
