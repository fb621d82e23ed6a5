package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/bench"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/outfile"
	"github.com/phytoscreen/phytoscreen/power"
)

// benchFlags are the bench command's settings as typed.
type benchFlags struct {
	models, threads, batches, scenarios, stress string
	duration, warmup, idle, interval            time.Duration
	repeat                                      int
	images, eval, out, pack, ortLib, sysfs      string
	redraw                                      string
	bare                                        bool
	wattsPerCore                                float64
	skipped                                     int // --images files that could not be read
}

func defaultThreads() string {
	if n := runtime.NumCPU(); n > 1 {
		return "1," + strconv.Itoa(n)
	}
	return "1"
}

func (m *Main) bench(ctx context.Context, args []string) error {
	fs := newFlags("bench", "", m.Stderr)
	var f benchFlags
	fs.StringVar(&f.models, "models", "base,optimised", "models to compare, comma-separated")
	listVar(fs, &f.threads, "threads", defaultThreads(), 1, maxThreads(), "thread counts", "ONNX Runtime intra-op thread counts, comma-separated")
	listVar(fs, &f.batches, "batch", "1,8,32", 1, maxBatch, "batch sizes", "offline batch sizes, comma-separated (single-stream is always batch 1)")
	fs.StringVar(&f.scenarios, "scenario", "single,offline", "scenarios: single (one crop at a time: latency) and offline (all crops available: throughput)")
	listVar(fs, &f.stress, "stress", "0,100", 0, 100, "percentages", "percentages of the other cores kept busy by a synthetic load while measuring, comma-separated")
	fs.DurationVar(&f.duration, "duration", 3*time.Second, "measured time of each run")
	fs.DurationVar(&f.warmup, "warmup", 500*time.Millisecond, "classifying before each run, not measured")
	fs.DurationVar(&f.idle, "idle", time.Second, "idle baseline measured just before each run (0: none, no marginal figures)")
	fs.IntVar(&f.repeat, "repeat", 1, "repetitions of the whole plan; the report shows medians and the spread")
	fs.BoolVar(&f.bare, "bare", true, "add bare ONNX Runtime rows (ready tensors, no preprocessing) to show the pipeline's overhead")
	fs.StringVar(&f.images, "images", "", "`folder` of cell crops to classify (default: the bundled NDSB val sample)")
	fs.StringVar(&f.eval, "eval", "", "measure each model's top-1 on a labelled `LIST.csv` (path,label) instead of quoting the pack card")
	fs.StringVar(&f.out, "out", "bench-results", "`folder` for results.csv, report.md and the plots")
	fs.StringVar(&f.pack, "pack", "", "classifier pack: a built-in `name` ("+strings.Join(assets.BuiltinPacks(), ", ")+"; default "+assets.DefaultPackName+") or a pack folder")
	fs.StringVar(&f.ortLib, "ort-lib", "", "`path` to libonnxruntime.so.1 (default: found automatically)")
	fs.DurationVar(&f.interval, "sample-interval", power.DefaultInterval, "energy and process sampling period")
	floatVar(fs, &f.wattsPerCore, "watts-per-core", power.DefaultWattsPerCore, 0.01, 1000, "watts", "declared watts of one busy core, for the estimate used when no energy sensor is readable")
	fs.StringVar(&f.sysfs, "sysfs", power.DefaultRoot, "sysfs `root` where energy sensors are looked for")
	fs.StringVar(&f.redraw, "redraw", "", "draw report.md and the plots again from the results.csv and run.json in `folder`, without measuring")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("unexpected argument %q (images go with --images DIR)", pos[0])
	}
	if f.redraw != "" {
		return m.redrawBench(f.redraw)
	}
	cfg, err := f.config()
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		return usageError("%v", err)
	}
	if err := writableFolder(f.out); err != nil { // said now, not after the whole benchmark (helper-39)
		return err
	}
	if cfg.Pack, err = app.LoadPack(f.pack); err != nil {
		return setupError(err)
	}
	if _, err := inference.InitRuntime(f.ortLib); err != nil {
		return setupError(err)
	}
	if err := f.loadImages(&cfg, m.Stderr); err != nil {
		return setupError(err)
	}
	cfg.Power = power.Detect(power.Options{Sysfs: power.Sysfs{Root: f.sysfs}, WattsPerCore: f.wattsPerCore})
	for _, p := range cfg.Power.Problems {
		fmt.Fprintf(m.Stderr, "energy source not usable: %v\n", p.Error())
	}
	if err := cfg.Validate(); err != nil {
		return usageError("%v", err)
	}
	if err := f.accuracy(ctx, &cfg, m.Stderr); err != nil {
		return setupError(err)
	}
	rep := &bench.Report{Command: "phytoscreen bench " + strings.Join(args, " "), Energy: bench.EnergySetupOf(cfg.Power),
		Settings: bench.SettingsOf(cfg), Machine: bench.DescribeMachine(f.sysfs, inference.LoadedRuntimeVersion())}
	plan := cfg.Plan()
	fmt.Fprintf(m.Stderr, "%d runs on %d images, about %s; energy: %s\n", len(plan), len(cfg.Crops.Images),
		cfg.EstimatedTime().Round(time.Second), energyLine(cfg.Power.Total))
	cfg.Progress = func(p bench.Progress) { printProgress(m.Stderr, p) }
	rep.Started = time.Now()
	rep.Results, err = bench.Run(ctx, cfg)
	rep.Ended = time.Now()
	rep.Machine.LoadAfter = bench.LoadAverage()
	if err != nil {
		if len(rep.Results) == 0 {
			return err
		}
		fmt.Fprintf(m.Stderr, "phytoscreen bench: %v\nwriting the %d runs made\n", err, len(rep.Results))
	}
	files, werr := rep.WriteAll(f.out)
	if werr != nil {
		return werr
	}
	printBenchSummary(m.Stdout, rep, files)
	if f.skipped > 0 {
		// Measured on the readable crops, but an input failed: exit 1, as classify and
		// eval do (helper-60: exit 0).
		fmt.Fprintf(m.Stderr, "phytoscreen bench: %d files of --images %s could not be read (listed above as skipped); the figures are of the %d that could\n",
			f.skipped, f.images, len(cfg.Crops.Images))
		err = errSomeFailed
	}
	if err != nil {
		return errSomeFailed
	}
	return nil
}

// redrawBench draws report.md and the plots again from a finished benchmark's folder.
func (m *Main) redrawBench(dir string) error {
	rep, err := bench.LoadReport(dir)
	if err != nil {
		return setupError(err)
	}
	files, err := rep.Draw(dir)
	if err != nil {
		return err
	}
	printBenchSummary(m.Stdout, rep, files)
	return nil
}

// config turns the flags into a benchmark configuration; errors name the flag.
func (f *benchFlags) config() (bench.Config, error) {
	cfg := bench.Config{Duration: f.duration, Warmup: f.warmup, Idle: f.idle, Repeat: f.repeat, Bare: f.bare, SampleInterval: f.interval}
	var err error
	for _, s := range splitList(f.models) {
		v, perr := inference.ParseVariant(s)
		if perr != nil {
			return cfg, fmt.Errorf("--models: %v", perr)
		}
		cfg.Models = append(cfg.Models, v)
	}
	if cfg.Threads, err = parseInts("--threads", f.threads); err != nil {
		return cfg, err
	}
	if cfg.Batches, err = parseInts("--batch", f.batches); err != nil {
		return cfg, err
	}
	if cfg.Stress, err = parseInts("--stress", f.stress); err != nil {
		return cfg, err
	}
	for _, s := range splitList(f.scenarios) {
		sc, perr := bench.ParseScenario(s)
		if perr != nil || sc == bench.Bare {
			return cfg, fmt.Errorf("--scenario %q: use single or offline (bare rows come with --bare)", s)
		}
		cfg.Scenarios = append(cfg.Scenarios, sc)
	}
	if f.interval <= 0 {
		return cfg, fmt.Errorf("--sample-interval %v: must be positive", f.interval)
	}
	return cfg, nil
}

func (f *benchFlags) loadImages(cfg *bench.Config, stderr io.Writer) error {
	if f.images == "" {
		source := "the bundled NDSB val sample (assets/samples/ndsb-val)"
		if cfg.Pack != nil && cfg.Pack.IsColour() {
			// A colour pack timed on grey marine crops read as a mistake (helper-84): it
			// is not one for speed and energy, which a fixed-size input does not change.
			source += ": grey marine plankton, each given to the colour pack in its three channels; a fixed-size input costs the same whatever it shows, so speed and energy hold for the pack's own images (--images DIR to time those), and its accuracy is its pack card's"
		}
		c, err := bench.LoadFS(assets.Samples(), source)
		cfg.Crops = c
		return err
	}
	c, problems, err := bench.LoadDir(f.images)
	for _, p := range problems {
		fmt.Fprintf(stderr, "skipped: %v\n", p)
	}
	f.skipped = len(problems)
	cfg.Crops = c
	return err
}

func (f *benchFlags) accuracy(ctx context.Context, cfg *bench.Config, stderr io.Writer) error {
	cfg.Accuracy = bench.CardAccuracy(cfg.Pack)
	if f.eval == "" {
		return nil
	}
	for _, m := range cfg.Models {
		fmt.Fprintf(stderr, "measuring %s top-1 on %s\n", m, f.eval)
		a, skipped, err := bench.MeasureAccuracy(ctx, cfg.Pack, m, slicesMax(cfg.Threads), f.eval)
		if err != nil {
			return err
		}
		if skipped > 0 {
			fmt.Fprintf(stderr, "--eval %s: %d rows skipped (unknown label or unreadable file)\n", f.eval, skipped)
		}
		cfg.Accuracy[m] = a
	}
	return nil
}

func slicesMax(v []int) int {
	m := v[0]
	for _, x := range v[1:] {
		m = max(m, x)
	}
	return m
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parseInts(flag, s string) ([]int, error) {
	var out []int
	for _, p := range splitList(s) {
		n, err := strconv.Atoi(strings.TrimSuffix(p, "%"))
		if err != nil {
			return nil, fmt.Errorf("%s %q: %q is not a whole number (give a comma-separated list such as 1,2)", flag, s, p)
		}
		out = append(out, n)
	}
	return out, nil
}

func energyLine(t power.Total) string {
	if t.Estimated() {
		return "ESTIMATE (" + t.Sensors[0].Info().Label + "): no readable energy sensor"
	}
	return t.Name()
}

func printProgress(w io.Writer, p bench.Progress) {
	if p.Result == nil {
		return
	}
	r := p.Result
	est := ""
	if r.Estimated() {
		est = " (estimate)"
	}
	fmt.Fprintf(w, "[%2d/%d] %-9s %-8s threads %d batch %2d stress %3d%%: %7.1f cells/s  p50 %7.2f ms  p90 %7.2f ms  CPU %4.0f%% (others %3.0f%%)  %s J/cell%s\n",
		p.Index, p.Total, r.Model, r.Scenario, r.Threads, r.Batch, r.Stress, r.CellsPerSec, r.P50, r.P90, r.CPUPercent, r.OtherCPUPercent, fmtJ(r.JPerCell), est)
}

func fmtJ(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}

func printBenchSummary(w io.Writer, rep *bench.Report, files []string) {
	for _, l := range bench.Conclusions(rep.Results) {
		fmt.Fprintf(w, "%s\n", l)
	}
	fmt.Fprintf(w, "\nwrote %s\n", strings.Join(files, ", "))
}

// writableFolder makes dir if needed and checks a file can be written in it.
func writableFolder(dir string) error {
	if err := outfile.CheckFolder(dir); err != nil {
		return usageError("--out %v: give a folder for the results", err)
	}
	// A folder that cannot be made or written is the machine's refusal, not a mistake in
	// the flags: exit 3, as segment, classify and screen --db give for theirs.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return setupError(fmt.Errorf("--out %w", err))
	}
	f, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return setupError(fmt.Errorf("--out %s: cannot write there: %w", dir, err))
	}
	f.Close()
	return os.Remove(f.Name())
}
