package bench

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/power"
)

// Config is a benchmark: every combination of its lists is run.
type Config struct {
	Pack      *inference.Pack
	Models    []inference.Variant
	Threads   []int      // ONNX Runtime intra-op threads
	Batches   []int      // offline batch sizes (single-stream is always batch 1)
	Scenarios []Scenario // Single and/or Offline
	Stress    []int      // percent of StressWorkers cores kept busy while measuring
	// Bare adds a bare ONNX Runtime row for every model, thread count and batch size (batch
	// 1 included), at the first stress level.
	Bare bool

	Warmup   time.Duration // classifying before each run's measurement, not measured
	Idle     time.Duration // the idle baseline measured just before each run
	Duration time.Duration // each run's measured window
	Repeat   int           // repetitions of the whole plan; the report takes medians

	Crops    *Crops
	Accuracy map[inference.Variant]Accuracy
	Power    power.Detection
	// SampleInterval is the meter's sampling period (0: power.DefaultInterval).
	SampleInterval time.Duration
	// Progress, when set, is called before each run (Result nil) and after it.
	Progress func(Progress)
}

// Accuracy is a model's top-1 accuracy and where the figure came from.
type Accuracy struct {
	Top1   float64
	Source string
}

// Spec is one run of the plan.
type Spec struct {
	Model    inference.Variant
	Scenario Scenario
	Threads  int
	Batch    int
	Stress   int
	Rep      int
}

// String names the run in messages.
func (s Spec) String() string {
	return fmt.Sprintf("%s %s threads=%d batch=%d stress=%d%% rep=%d", s.Model, s.Scenario, s.Threads, s.Batch, s.Stress, s.Rep)
}

// Progress reports the plan's advance.
type Progress struct {
	Index, Total int
	Spec         Spec
	Result       *Result // nil before the run
}

// Validate checks the configuration and says which flag to fix. The models are checked
// against the pack once Pack is set; Run also needs the crops.
func (c *Config) Validate() error {
	switch {
	case len(c.Models) == 0:
		return errors.New("--models is empty")
	case len(c.Threads) == 0:
		return errors.New("--threads is empty")
	case len(c.Scenarios) == 0:
		return errors.New("--scenario is empty")
	case len(c.Stress) == 0:
		return errors.New("--stress is empty")
	case c.Duration <= 0:
		return fmt.Errorf("--duration %v: must be positive", c.Duration)
	case c.Warmup < 0 || c.Idle < 0:
		return errors.New("--warmup and --idle must not be negative")
	case c.Repeat < 1:
		return fmt.Errorf("--repeat %d: at least 1", c.Repeat)
	}
	for _, m := range c.Models {
		if c.Pack != nil && !c.Pack.Has(m) {
			return fmt.Errorf("--models: pack %s has no %s model (it has %v)", c.Pack.Name, m, c.Pack.Variants())
		}
	}
	for _, t := range c.Threads {
		if t < 1 {
			return fmt.Errorf("--threads %d: at least 1", t)
		}
	}
	if slices.Contains(c.Scenarios, Offline) && len(c.Batches) == 0 {
		return errors.New("--batch is empty but the offline scenario needs batch sizes")
	}
	for _, b := range c.Batches {
		if b < 1 || b > 1024 {
			return fmt.Errorf("--batch %d: between 1 and 1024", b)
		}
	}
	for _, s := range c.Stress {
		if s < 0 || s > 100 {
			return fmt.Errorf("--stress %d: a percentage, 0 to 100", s)
		}
	}
	for _, s := range c.Scenarios {
		if s != Single && s != Offline {
			return fmt.Errorf("--scenario %s: use single or offline (the bare ONNX Runtime rows come with --bare)", s)
		}
	}
	return nil
}

// Plan lists the runs in the order they are made: repetition, model, threads, stress, then
// single-stream, offline batches and the bare rows, so each model's session and each
// stress load is set up once per group.
func (c *Config) Plan() []Spec {
	var plan []Spec
	bareBatches := []int{}
	if slices.Contains(c.Scenarios, Single) {
		bareBatches = append(bareBatches, 1)
	}
	if slices.Contains(c.Scenarios, Offline) {
		bareBatches = append(bareBatches, c.Batches...)
	}
	slices.Sort(bareBatches)
	bareBatches = slices.Compact(bareBatches)
	for rep := 1; rep <= c.Repeat; rep++ {
		for _, m := range c.Models {
			for _, t := range c.Threads {
				for _, s := range c.Stress {
					if slices.Contains(c.Scenarios, Single) {
						plan = append(plan, Spec{m, Single, t, 1, s, rep})
					}
					if slices.Contains(c.Scenarios, Offline) {
						for _, b := range c.Batches {
							plan = append(plan, Spec{m, Offline, t, b, s, rep})
						}
					}
					if c.Bare && s == c.Stress[0] {
						for _, b := range bareBatches {
							plan = append(plan, Spec{m, Bare, t, b, s, rep})
						}
					}
				}
			}
		}
	}
	return plan
}

// EstimatedTime is how long the plan takes, session loading aside.
func (c *Config) EstimatedTime() time.Duration {
	return time.Duration(len(c.Plan())) * (c.Warmup + c.Idle + c.Duration)
}

// runner holds what the runs share: the open classifier and the stress load.
type runner struct {
	cfg    *Config
	clf    *inference.Classifier
	model  inference.Variant
	stress *Stress
}

// Run executes the plan and returns one Result per run. Cancelling ctx stops it between
// inference runs; the results so far are returned with the error.
func Run(ctx context.Context, cfg Config) ([]Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Pack == nil {
		return nil, errors.New("no classifier pack")
	}
	if cfg.Crops == nil || len(cfg.Crops.Images) == 0 {
		return nil, errors.New("no images to classify")
	}
	plan := cfg.Plan()
	r := &runner{cfg: &cfg}
	defer r.close()
	var results []Result
	for i, spec := range plan {
		if err := ctx.Err(); err != nil {
			return results, err
		}
		if cfg.Progress != nil {
			cfg.Progress(Progress{Index: i + 1, Total: len(plan), Spec: spec})
		}
		if err := r.setup(ctx, spec); err != nil {
			return results, err
		}
		res, err := r.runOne(ctx, spec)
		if err != nil {
			return results, fmt.Errorf("run %d of %d (%s): %w", i+1, len(plan), spec, err)
		}
		results = append(results, res)
		if cfg.Progress != nil {
			cfg.Progress(Progress{Index: i + 1, Total: len(plan), Spec: spec, Result: &res})
		}
	}
	return results, nil
}

// setup brings the classifier and the stress load to spec's settings.
func (r *runner) setup(ctx context.Context, spec Spec) error {
	if r.clf == nil || r.model != spec.Model {
		if r.clf != nil {
			r.clf.Close()
			r.clf = nil
		}
		clf, err := inference.NewClassifier(r.cfg.Pack, inference.Options{Variant: spec.Model, Threads: spec.Threads, Batch: spec.Batch, TopK: 1})
		if err != nil {
			return err
		}
		r.clf, r.model = clf, spec.Model
	}
	if r.clf.Threads() != spec.Threads {
		if err := r.clf.SetThreads(spec.Threads); err != nil {
			return err
		}
	}
	r.clf.SetBatch(spec.Batch)
	if r.stress == nil || r.stress.Percent != spec.Stress {
		if r.stress != nil {
			r.stress.Stop()
		}
		r.stress = StartStress(ctx, spec.Stress, StressWorkers())
		slog.Debug("stress load", "percent", spec.Stress, "workers", r.stress.Workers)
	}
	return nil
}

func (r *runner) close() {
	if r.stress != nil {
		r.stress.Stop()
	}
	if r.clf != nil {
		r.clf.Close()
	}
}

// runOne warms up, measures the idle baseline, then measures spec for the configured
// duration with a fresh meter.
func (r *runner) runOne(ctx context.Context, spec Spec) (Result, error) {
	cfg := r.cfg
	meter := power.NewMeter(power.Config{Sensors: cfg.Power.Sensors, Total: cfg.Power.Total, Interval: cfg.SampleInterval})
	meter.Start(ctx)
	defer meter.Stop()
	work, cleanup, err := r.work(spec, meter)
	if err != nil {
		return Result{}, err
	}
	defer cleanup()
	if err := runFor(ctx, cfg.Warmup, work); err != nil {
		return Result{}, fmt.Errorf("warm-up: %w", err)
	}
	if cfg.Idle > 0 {
		if err := meter.MeasureBaseline(ctx, cfg.Idle); err != nil {
			return Result{}, err
		}
	}
	stress0 := r.stress.CPU()
	sys0, sysErr := SystemCPU()
	meter.Begin()
	err = runFor(ctx, cfg.Duration, work)
	snap := meter.End()
	stressCPU := r.stress.CPU() - stress0
	sys1, sysErr1 := SystemCPU()
	if err != nil {
		return Result{}, err
	}
	res := r.result(spec, snap, stressCPU)
	res.OtherCPUPercent = math.NaN()
	if sysErr == nil && sysErr1 == nil && res.Seconds > 0 {
		// Everything busy on the machine, less this process (classifier and stress load).
		ours := (res.CPUPercent + res.StressCPUPercent) / 100 * res.Seconds
		res.OtherCPUPercent = math.Max(0, 100*((sys1-sys0).Seconds()-ours)/res.Seconds)
	}
	return res.Rounded(), nil
}

// work returns the function that classifies for spec until its context ends.
func (r *runner) work(spec Spec, meter *power.Meter) (func(context.Context) error, func(), error) {
	clf, crops := r.clf, r.cfg.Crops.Images
	switch spec.Scenario {
	case Single:
		i := 0
		return func(ctx context.Context) error {
			for ctx.Err() == nil {
				if err := classifyTimed(ctx, clf, crops[i:i+1], meter); err != nil {
					return err
				}
				i = (i + 1) % len(crops)
			}
			return ctx.Err()
		}, func() {}, nil
	case Offline:
		return func(ctx context.Context) error {
			for ctx.Err() == nil {
				// One batch per call, so each run's latency is counted on its own.
				for start := 0; start < len(crops) && ctx.Err() == nil; start += spec.Batch {
					if err := classifyTimed(ctx, clf, crops[start:min(start+spec.Batch, len(crops))], meter); err != nil {
						return err
					}
				}
			}
			return ctx.Err()
		}, func() {}, nil
	case Bare:
		b, err := clf.NewBatch(spec.Batch)
		if err != nil {
			return nil, nil, err
		}
		if err := fillBare(r.cfg.Pack, b.Input, spec.Batch, crops); err != nil {
			b.Close()
			return nil, nil, err
		}
		return func(ctx context.Context) error {
			for ctx.Err() == nil {
				t0 := time.Now()
				_, err := clf.Run(b)
				if err != nil {
					return err
				}
				meter.Observe(power.Batch{Cells: b.N, Latency: time.Since(t0)})
			}
			return ctx.Err()
		}, b.Close, nil
	}
	return nil, nil, fmt.Errorf("unknown scenario %q", spec.Scenario)
}

// fillBare writes n crops (cycling through crops) into input as the pack's contract has
// them, the tensors the bare scenario runs on. A colour pack's crop fills three planes,
// so crop i starts at i*InputSize, not at i*H*W.
func fillBare(p *inference.Pack, input []float32, n int, crops []*image.Gray) error {
	size := p.InputSize()
	for i := range n {
		if err := p.Preprocess(input[i*size:(i+1)*size], crops[i%len(crops)]); err != nil {
			return fmt.Errorf("bare tensors: crop %d: %w", i%len(crops), err)
		}
	}
	return nil
}

// classifyTimed classifies crops and counts the batch, with its latency, in the meter.
func classifyTimed(ctx context.Context, clf *inference.Classifier, crops []*image.Gray, meter *power.Meter) error {
	t0 := time.Now()
	if _, err := clf.Classify(ctx, crops); err != nil {
		return err
	}
	meter.Observe(power.Batch{Cells: len(crops), Latency: time.Since(t0)})
	return nil
}

// runFor runs work until d has passed. Reaching d is success; a cancelled parent is not.
func runFor(ctx context.Context, d time.Duration, work func(context.Context) error) error {
	if d <= 0 {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	err := work(wctx)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

func (r *runner) result(spec Spec, s power.Snapshot, stressCPU time.Duration) Result {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	secs := s.Elapsed.Seconds()
	stressPct := 0.0
	if secs > 0 {
		stressPct = 100 * stressCPU.Seconds() / secs
	}
	e := s.Energy
	res := Result{Model: string(spec.Model), Scenario: spec.Scenario, Threads: spec.Threads, Batch: spec.Batch, Stress: spec.Stress, StressWorkers: r.stress.Workers, Rep: spec.Rep,
		Seconds: secs, Cells: int(s.Cells), CellsPerSec: s.CellsPerSec,
		P50: ms(s.Latency.P50), P90: ms(s.Latency.P90), P99: ms(s.Latency.P99), MeanMs: ms(s.Latency.Mean),
		CPUPercent: math.Max(0, s.CPUPercent-stressPct), StressCPUPercent: stressPct,
		PeakRSSMB: float64(s.PeakRSS) / (1 << 20), GoHeapMB: float64(s.GoHeap) / (1 << 20),
		MeanWatts: e.MeanWatts, IdleWatts: e.BaselineWatts, MarginalWatts: e.MarginalWatts, Joules: e.Joules,
		JPerCell: e.JoulesPerCell, MarginalJPerCell: e.MarginalJoulesPerCell,
		EnergyKind: KindReading, EnergySource: e.Label, Notes: strings.Join(s.Problems, "; ")}
	if e.Estimated {
		res.EnergyKind = KindEstimate
	}
	if a, ok := r.cfg.Accuracy[spec.Model]; ok {
		res.Top1, res.AccuracySource = a.Top1, a.Source
	} else {
		res.Top1 = math.NaN()
	}
	return res
}

// CardAccuracy returns each model's top-1 from the pack's card.
func CardAccuracy(p *inference.Pack) map[inference.Variant]Accuracy {
	out := map[inference.Variant]Accuracy{}
	for v, m := range p.Models {
		src := "pack card (val top-1)"
		if p.ValImages > 0 {
			src = fmt.Sprintf("pack card (val top-1, %d images)", p.ValImages)
		}
		out[v] = Accuracy{Top1: m.ValTop1, Source: src}
	}
	return out
}

// MeasureAccuracy classifies a labelled list with model v and returns its top-1. Rows whose
// label the pack does not know, and files that cannot be decoded, are counted as skipped.
func MeasureAccuracy(ctx context.Context, p *inference.Pack, v inference.Variant, threads int, list string) (Accuracy, int, error) {
	items, err := inference.ReadLabelList(list, "")
	if err != nil {
		return Accuracy{}, 0, err
	}
	clf, err := inference.NewClassifier(p, inference.Options{Variant: v, Threads: threads, Batch: 16, TopK: 5})
	if err != nil {
		return Accuracy{}, 0, err
	}
	defer clf.Close()
	scorer := inference.NewScorer(p.Labels)
	truth := map[string]string{}
	var files []string
	distinct, repeats := inference.DistinctRows(items) // scored once, as eval scores them
	skipped := len(repeats)
	for _, it := range distinct {
		if !scorer.Known(it.Label) {
			skipped++
			continue
		}
		files = append(files, it.Path)
		truth[it.Path] = it.Label
	}
	err = inference.ClassifyFiles(ctx, clf, files, func(fr inference.FileResult) error {
		if fr.Err != nil {
			skipped++
			return nil
		}
		return scorer.Add(truth[fr.Path], fr.Result)
	})
	if err != nil {
		return Accuracy{}, skipped, fmt.Errorf("--eval %s with %s: %w", list, v, err)
	}
	m := scorer.Metrics()
	if m.N == 0 {
		return Accuracy{}, skipped, fmt.Errorf("--eval %s: no row could be scored (%d skipped): the labels must be the pack's", list, skipped)
	}
	return Accuracy{Top1: m.Top1, Source: fmt.Sprintf("measured on %s (%d images)", list, m.N)}, skipped, nil
}
