package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/power"
	"github.com/phytoscreen/phytoscreen/quantise"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
	"github.com/phytoscreen/phytoscreen/teach"
	"github.com/phytoscreen/phytoscreen/vision"
)

// Services are what the desktop app runs on: the pack and its model, the power meter,
// the session store, the sources and the quick measurement of the models. Build makes the
// real ones; tests give light fakes. Pack, Taxonomy and Open are required.
type Services struct {
	Pack     *inference.Pack
	Taxonomy *screening.Taxonomy
	// Model is the classifier and the one owner of which variant classifies; nil when
	// it could not be loaded (SetupError says why).
	Model *Model
	// Meter measures power and latency; nil: the panel says it is not measured.
	Meter *power.Meter
	// Store keeps sessions; nil: history, gallery and export say why they are off.
	Store *store.Store
	// StoreReadOnly, when not nil, says why Store was opened read-only: History,
	// reports and exports read it, and no run can be recorded. The app says so at
	// launch, not only when Start is refused (helper-54).
	StoreReadOnly error
	// StoreError, when not nil, says why no session store could be opened (Store is
	// nil): a run would be counted and alerted on, and recorded nowhere.
	StoreError error
	// Open opens a source spec with the settings; opt carries the run's status callback.
	Open func(ctx context.Context, spec capture.Spec, s Settings, opt capture.OpenOptions) (capture.Source, error)
	// NewSegmenter makes the segmenter of one run; nil: vision's, from the settings.
	NewSegmenter func(s Settings, spec capture.Spec) (screening.Segmenter, func(), error)
	// Measure runs the quick benchmark of a pack's models (the one in use) on this machine.
	Measure func(ctx context.Context, p *inference.Pack, s Settings, progress func(done, total int)) ([]ModelCost, error)
	// Optimise makes the int8 twin of a pack (the one in use: pack optimise); nil: the
	// Settings button is off.
	Optimise func(ctx context.Context, p *inference.Pack, r OptimiseRequest, progress func(stage string, done, total int)) (*quantise.Report, error)
	// OpenPack opens the pack of a pack setting (a built-in name or a folder) with its
	// taxonomy and its classifier, for Use to put in use while the app runs: a pack
	// chosen in Settings screens without a restart. nil: the runtime is not loaded, and
	// a pack chosen is loaded at the next start.
	OpenPack func(dir string, s Settings) (*OpenedPack, error)
	// closeModel releases the classifier in use (Use replaces it, close at the end).
	closeModel func()
	// Teach teaches a pack the store's reviewed crops (TeachRequest);
	// TeachPacks lists the installed packs it can teach (those with a features output).
	// nil: the Gallery's Teach button is off.
	Teach      func(ctx context.Context, req TeachRequest, progress func(teach.Progress)) (*TeachResult, error)
	TeachPacks func() []string
	// Cameras lists the cameras present; nil: none.
	Cameras func() []capture.Spec
	// CheckPack checks a pack folder the technician chooses in Settings, models included;
	// nil: only its manifest and files are checked (inference.LoadPackDir).
	CheckPack func(dir string) error
	// Detector opens a built-in learned detector by name (Settings.Detector), loaded
	// once and kept; nil: the runtime is not loaded, and a run that asks for one fails
	// with the reason.
	Detector func(name string) (vision.BoxFinder, error)
	// SetupError is why something could not be loaded, shown at launch with its fix.
	SetupError error
	// PrefsUnreadable, when not nil, says that the preferences file did not read at
	// launch, where it was kept and that the defaults are in use (KeepUnreadablePrefs):
	// the app says so at launch.
	PrefsUnreadable error
}

// OpenedPack is a pack ready to screen with: its taxonomy and its classifier.
type OpenedPack struct {
	Pack     *inference.Pack
	Taxonomy *screening.Taxonomy
	Model    *Model
	// Close releases the classifier; nil: nothing to release.
	Close func()
}

// Use puts a pack opened by OpenPack in use in place of the pack in use, whose
// classifier it closes. Call it on the goroutine that reads Pack, Taxonomy and Model,
// and only while no run classifies with the pack in use.
func (s *Services) Use(p *OpenedPack) {
	old := s.closeModel
	s.Pack, s.Taxonomy, s.Model, s.closeModel = p.Pack, p.Taxonomy, p.Model, p.Close
	if old != nil {
		old()
	}
}

// Check reports the required services that are missing.
func (s *Services) Check() error {
	var missing []string
	if s.Pack == nil {
		missing = append(missing, "Pack")
	}
	if s.Taxonomy == nil {
		missing = append(missing, "Taxonomy")
	}
	if s.Open == nil {
		missing = append(missing, "Open")
	}
	if len(missing) > 0 {
		return fmt.Errorf("app: Services lacks %v", missing)
	}
	return nil
}

// BuildOptions say where the real services are.
type BuildOptions struct {
	ORTLib string // libonnxruntime.so.1; "": the usual places (see inference.FindLibrary)
	DB     string // session store file; "": store.DefaultPath()
	// DemoDir is where the demo video is kept once made; "": the user's cache folder.
	DemoDir string
	// MeasureFor is how long each model is measured in the quick benchmark (0: 4 s).
	MeasureFor time.Duration
}

// Build loads what the app runs on, from the settings: the classifier pack and its
// classifier, the power meter, the session store and the sources. What fails is reported
// in SetupError (with its fix) and left nil, so the window still opens and says so.
// close releases everything.
func Build(ctx context.Context, s Settings, o BuildOptions) (svc *Services, close func()) {
	svc = &Services{}
	var closers []func()
	close = func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	var setupErrs []error
	builtin := func(why error) *inference.Pack {
		setupErrs = append(setupErrs, fmt.Errorf("%w\nUsing the built-in pack %s instead; fix the folder in Settings › Model", why, assets.DefaultPackName))
		p, err := LoadPack("")
		if err != nil { // the built-in pack is checked by its tests: this cannot happen
			panic(err)
		}
		return p
	}
	pack, err := LoadPack(s.PackDir)
	if err != nil {
		pack = builtin(err)
	}
	open := func(p *inference.Pack, s Settings) (*inference.Classifier, error) {
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
		c, err := open(pack, s)
		if err != nil && s.PackDir != "" && pack.Source == s.PackDir {
			// A pack folder whose models do not open (not ONNX, not matching pack.json):
			// the built-in pack screens meanwhile, rather than nothing.
			pack = builtin(err)
			c, err = open(pack, s)
		}
		if err != nil {
			setupErrs = append(setupErrs, err)
		} else {
			svc.Model = NewModel(c)
			svc.closeModel = c.Close
		}
	}
	closers = append(closers, func() { // the classifier in use then: Use may have replaced it
		if svc.closeModel != nil {
			svc.closeModel()
		}
	})
	svc.Pack = pack
	if svc.Taxonomy, err = screening.ForPack(pack); err != nil {
		setupErrs = append(setupErrs, err)
		svc.Taxonomy = screening.DefaultTaxonomy(pack.Name, pack.Labels)
	}
	svc.CheckPack = func(dir string) error {
		p, err := LoadPack(dir)
		if err != nil || !ortOK {
			return err
		}
		return inference.CheckModels(p)
	}
	det := power.Detect(power.Options{})
	m := power.NewMeter(power.Config{Sensors: det.Sensors, Total: det.Total})
	m.Start(ctx)
	closers = append(closers, m.Stop)
	svc.Meter = m

	st, roErr, err := openAppStore(o.DB)
	svc.StoreReadOnly = roErr
	if err != nil {
		svc.StoreError = fmt.Errorf("%w\nRuns cannot be recorded, and History, the gallery and exports are off until it opens; start phytoscreen with --db FILE to use another file", err)
	} else {
		svc.Store = st
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
	svc.Open = func(ctx context.Context, spec capture.Spec, s Settings, opt capture.OpenOptions) (capture.Source, error) {
		return OpenSource(spec, s, demoDir, opt)
	}
	svc.Cameras = ListCameras
	measureFor := o.MeasureFor
	if measureFor <= 0 {
		measureFor = 4 * time.Second
	}
	svc.Measure = func(ctx context.Context, p *inference.Pack, s Settings, progress func(done, total int)) ([]ModelCost, error) {
		return MeasureModels(ctx, p, s, measureFor, progress)
	}
	if ortOK {
		var mu sync.Mutex
		dets := map[string]*inference.Detector{}
		closers = append(closers, func() {
			for name, d := range dets {
				if err := d.Close(); err != nil {
					slog.Error("closing the learned detector", "detector", name, "err", err)
				}
			}
		})
		svc.Detector = func(name string) (vision.BoxFinder, error) {
			mu.Lock()
			defer mu.Unlock()
			if d, ok := dets[name]; ok {
				return d, nil
			}
			fsys, ok := assets.BuiltinDetector(name)
			if !ok {
				return nil, fmt.Errorf("no built-in detector %q (Settings › Camera)", name)
			}
			d, err := inference.LoadDetectorFS(fsys, "built-in detector "+name)
			if err != nil {
				return nil, err
			}
			dets[name] = d
			return d, nil
		}
	}
	if ortOK { // the twin can be made here, and another pack opened
		svc.Optimise = OptimisePack
		svc.OpenPack = func(dir string, s Settings) (*OpenedPack, error) {
			p, err := LoadPack(dir)
			if err != nil {
				return nil, err
			}
			tx, err := screening.ForPack(p)
			if err != nil {
				return nil, err
			}
			c, err := open(p, s)
			if err != nil {
				return nil, err
			}
			return &OpenedPack{Pack: p, Taxonomy: tx, Model: NewModel(c), Close: c.Close}, nil
		}
	}
	if svc.Model != nil && svc.Store != nil {
		st := svc.Store
		svc.Teach = func(ctx context.Context, req TeachRequest, progress func(teach.Progress)) (*TeachResult, error) {
			return TeachReviewed(ctx, st, req, 0, progress)
		}
		svc.TeachPacks = teachablePacks
	}
	svc.SetupError = errors.Join(setupErrs...)
	return svc, close
}

// LoadPack loads a pack: the default built-in pack when dir is "", the built-in pack of
// that name when dir is one of assets.BuiltinPacks (a bare name, no path separator:
// write ./name for a folder called so), else the pack folder dir.
func LoadPack(dir string) (*inference.Pack, error) {
	if dir == "" {
		dir = assets.DefaultPackName
	}
	if IsBuiltinPack(dir) {
		fsys, _ := assets.BuiltinPack(dir)
		return inference.LoadPack(fsys, "built-in:"+dir)
	}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if !strings.ContainsRune(dir, filepath.Separator) {
			return nil, fmt.Errorf("pack %q: no such folder, and no built-in pack has that name: use one of %s, or a pack folder",
				dir, strings.Join(assets.BuiltinPacks(), ", "))
		}
		return nil, fmt.Errorf("pack folder %s does not exist: give a pack folder (one holding pack.json) or a built-in pack: %s",
			dir, strings.Join(assets.BuiltinPacks(), ", "))
	}
	return inference.LoadPackDir(dir)
}

// BuiltinPackLimits is what the built-in pack called name was not shown to do
// (inference.Manifest.Limits), "" when it says nothing or no built-in pack has that
// name: the banner says it beside a level of a sample that pack counted, whichever pack
// is in use now.
func BuiltinPackLimits(name string) string {
	fsys, ok := assets.BuiltinPack(name)
	if !ok {
		return ""
	}
	p, err := inference.LoadPack(fsys, "built-in:"+name)
	if err != nil || p.Name != name {
		return ""
	}
	return p.Limits
}

// IsBuiltinPack reports whether a pack setting names a built-in pack rather than a folder.
func IsBuiltinPack(dir string) bool {
	_, ok := assets.BuiltinPack(dir)
	return ok
}

// openAppStore opens the app's session store. One that cannot be written (an archive
// on a read-only medium, or a store another phytoscreen is writing: store.ErrInUse) is
// opened read-only, so that History, reports and exports read it; a run started
// meanwhile is refused by the store, saying why. readOnly is why it was opened
// read-only (nil when it can be written).
func openAppStore(path string) (st *store.Store, readOnly, err error) {
	st, err = OpenStore(path)
	if !errors.Is(err, store.ErrReadOnly) {
		return st, nil, err
	}
	if path == "" {
		path, _ = store.DefaultPath() // OpenStore found it
	}
	var why error // a read-only medium: the store's own refusal of a run says it
	if errors.Is(err, store.ErrInUse) {
		why = err // Start is refused with who holds the store, not as on a read-only disk
	}
	ro, rerr := store.OpenReadOnlyBecause(path, why)
	if rerr != nil {
		return nil, nil, err
	}
	slog.Warn("session store opened read-only: runs cannot be recorded", "err", err)
	return ro, err, nil
}

// OpenStore opens the session store at path, or at store.DefaultPath() when path is "",
// making the default's folder (a path given by the user must be in a folder that exists).
func OpenStore(path string) (*store.Store, error) {
	if path == "" {
		p, err := store.DefaultPath()
		if err != nil {
			return nil, err
		}
		path = p
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("session store folder %s: %w: make it writable, or start phytoscreen with --db FILE", filepath.Dir(path), err)
		}
	}
	return store.Open(path)
}

// OpenSource opens spec with the settings' camera resolution; the demo is written into
// demoDir first.
func OpenSource(spec capture.Spec, s Settings, demoDir string, opt capture.OpenOptions) (capture.Source, error) {
	if spec.Kind == capture.KindDemo {
		path, err := DemoVideo(demoDir)
		if err != nil {
			return nil, err
		}
		opt.DemoPath = path
	}
	w, h, err := ParseResolution(s.Resolution)
	if err != nil {
		return nil, fmt.Errorf("%w (Settings › Camera)", err)
	}
	opt.Camera.Width, opt.Camera.Height = w, h
	return capture.Open(spec, opt)
}
