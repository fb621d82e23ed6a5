package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	iofs "io/fs"
	"strings"
	"time"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/quantise"
)

const optimiseHelp = `usage: phytoscreen pack optimise [--pack DIR] [--calibration DIR | --calibration-list LIST.csv] --out DIR [flags]

Makes the int8 twin of a pack's fp32 base model: static QDQ quantisation with per-channel
int8 weights and uint8 activations calibrated on real images, each layer's effect
measured and the layers that cost too much kept fp32. Writes a complete pack to --out
(the source pack's files, the twin as its optimised model, pack.json and README.md with
the twin's card), then measures both models here: accuracy on --labels when given,
agreement, speed single-stream and offline, J/cell.

--calibration defaults to the pack's bundled sample: the 387 NDSB val images built into
phytoscreen for ` + assets.DefaultPackName + `, or the pack folder's calibration/ subfolder.
A labels.csv (path,label) in the calibration folder adds top-1 to the layer measurements.

--calibration-list takes the images from a labelled list instead (path,label[,split] as
eval reads it, paths relative to --calibration-root): the rows of --calibration-split
(default train), at most --max-images of them sampled with a fixed seed. Calibrate on the
training split and measure on val (--labels LIST --split val): the command refuses to
calibrate on the rows it measures on.
`

func (m *Main) packOptimise(ctx context.Context, args []string) error {
	fs := newFlags("pack optimise", "", m.Stderr)
	fs.Usage = func() {
		fmt.Fprint(m.Stderr, optimiseHelp, "\nflags:\n")
		fs.PrintDefaults()
	}
	pack := fs.String("pack", "", "classifier pack: a built-in `name` ("+strings.Join(assets.BuiltinPacks(), ", ")+"; default "+assets.DefaultPackName+") or a pack folder")
	calib := fs.String("calibration", "", "`folder` of calibration images (default: the pack's bundled sample)")
	calibList := fs.String("calibration-list", "", "labelled `list` (path,label[,split]) whose rows are the calibration images, instead of --calibration")
	calibRoot := fs.String("calibration-root", "", "`folder` the calibration list's relative paths start from (default: the list's folder)")
	calibSplit := fs.String("calibration-split", "train", "calibrate on the calibration list's rows whose split column equals `NAME` (empty: every row)")
	out := fs.String("out", "", "`folder` to write the new pack to (new, empty, or an earlier optimised pack)")
	method := fs.String("method", quantise.Method{Name: "percentile", Percentile: quantise.DefaultPercentile}.String(), "activation ranges: percentile[:P], entropy or minmax")
	maxImages := 0
	intVar(fs, &maxImages, "max-images", quantise.DefaultMaxImages, 1, 100000, "an image count", "use at most this many calibration images")
	maxLoss := 0.0
	floatVar(fs, &maxLoss, "max-layer-loss", quantise.DefaultMaxLayerLoss, -1, 100, "points", "keep fp32 the layers whose quantisation costs more than this many points of top-1 agreement with the fp32 model, when a sign test tells the cost from chance (-1: none)")
	keep := fs.String("keep", "", "comma-separated `layers` to keep fp32 whatever they measure (names as the report lists them)")
	compare := fs.Bool("compare-methods", true, "also score minmax, percentile and entropy on the calibration images, for the card")
	labels := fs.String("labels", "", "labelled `list` (path,label[,split]) to measure accuracy on, as eval reads it")
	root := fs.String("root", "", "`folder` the list's relative paths start from (default: the list's folder)")
	split := fs.String("split", "", "keep only rows of the list whose split column equals `NAME`")
	speed := fs.Duration("speed", 3*time.Second, "each speed run's measured window (0: no speed runs)")
	threads := 0
	intVar(fs, &threads, "threads", 0, 0, maxThreads(), "a thread count (0: one per core)", "ONNX Runtime threads for calibration and accuracy")
	ortLib := fs.String("ort-lib", "", "`path` to libonnxruntime.so.1")
	format := fs.String("format", "text", "report format: text or json")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := flagsOnly(pos); err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return usageError("--format %q: use text or json", *format)
	}
	if len(pos) != 0 || *out == "" {
		return showUsage(fs)
	}
	meth, err := quantise.ParseMethod(*method)
	if err != nil {
		return usageError("--method: %v", err)
	}
	p, err := app.LoadPack(*pack)
	if err != nil {
		return setupError(err)
	}
	var cfs iofs.FS
	var cname string
	var clist *quantise.CalibrationList
	switch {
	case *calibList != "" && *calib != "":
		return usageError("give --calibration (a folder) or --calibration-list (a labelled list), not both")
	case *calibList != "":
		clist = &quantise.CalibrationList{List: *calibList, Root: *calibRoot, Split: *calibSplit}
	default:
		if *calibRoot != "" {
			return usageError("--calibration-root goes with --calibration-list")
		}
		if cfs, cname, err = quantise.CalibrationSource(p, *calib); err != nil {
			return setupError(err)
		}
	}
	if _, err := inference.InitRuntime(*ortLib); err != nil {
		return setupError(err)
	}
	opt := quantise.Options{Pack: p, Calibration: cfs, CalibrationName: cname, CalibrationList: clist, MaxImages: maxImages, Method: meth,
		MaxLayerLoss: maxLoss, CompareMethods: *compare, Out: *out, Threads: threads,
		Labels: *labels, LabelsRoot: *root, LabelsSplit: *split, SpeedDuration: *speed}
	if maxLoss == 0 {
		opt.MaxLayerLoss = 1e-9 // 0 means "any measured cost"; the package reads 0 as its default
	}
	if *speed == 0 {
		opt.SpeedDuration = -1
	}
	for _, k := range strings.Split(*keep, ",") {
		if k = strings.TrimSpace(k); k != "" {
			opt.Keep = append(opt.Keep, k)
		}
	}
	rep, err := quantise.Optimise(ctx, opt, stageLogger(m.Stderr))
	if err != nil {
		return setupError(err)
	}
	if *format == "json" {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printOptimise(m.Stdout, rep)
	if few := rep.FewImages(); few != "" {
		fmt.Fprintf(m.Stderr, "phytoscreen pack optimise: warning: %s\n", few)
	}
	return nil
}

// stageLogger prints a line when a stage starts and when it ends.
func stageLogger(w io.Writer) func(string, int, int) {
	last := ""
	start := time.Now()
	return func(stage string, done, total int) {
		if stage != last {
			fmt.Fprintf(w, "%6.1fs %s...\n", time.Since(start).Seconds(), stage)
			last = stage
		}
	}
}

func printOptimise(w io.Writer, r *quantise.Report) {
	fmt.Fprintf(w, "pack %s -> %s\n", r.Pack, r.Out)
	fmt.Fprintf(w, "calibration: %s, %d images (%d labelled), method %s\n\n", r.Calibration, r.CalibrationImages, r.CalibrationLabels, r.Method)
	fmt.Fprintf(w, "%-52s %-8s %9s %7s %6s %7s %5s  %s\n", "layer (left fp32, the rest quantised)", "op", "agreement", "KL", "cost", "+/-", "z", "kept fp32")
	for _, l := range r.Layers {
		fmt.Fprintf(w, "%-52s %-8s %8.1f%% %7.4f %+6.2f %3d/%-3d %5.1f  %s\n", clip(l.Name, 52), clip(l.Op, 8), 100*l.Score.Agreement, l.Score.KL, l.Loss, l.Gained, l.Lost, l.Z, l.Kept)
	}
	for _, u := range r.Unquantised {
		fmt.Fprintf(w, "stays fp32: %s (%s): %s\n", u.Name, u.Op, u.Reason)
	}
	fmt.Fprintln(w)
	for _, m := range r.Methods {
		top := "-"
		if m.Score.Top1 >= 0 {
			top = fmt.Sprintf("%.1f%%", 100*m.Score.Top1)
		}
		fmt.Fprintf(w, "all layers quantised, %-18s agreement %5.1f%%  top-1 %6s  KL %.4f\n", m.Method+":", 100*m.Score.Agreement, top, m.Score.KL)
	}
	fmt.Fprintf(w, "written twin (%d kept fp32, %d Relu fused):   agreement %5.1f%%  KL %.4f", len(r.KeptFP32), r.FusedRelu, 100*r.Final.Agreement, r.Final.KL)
	if r.Final.Top1 >= 0 {
		fmt.Fprintf(w, "  top-1 %.1f%% (calibration images)", 100*r.Final.Top1)
	}
	fmt.Fprintf(w, "\nruntime graph: %d QLinearConv, %d Conv left fp32\n", r.RuntimeOps["QLinearConv"], r.RuntimeOps["Conv"]+r.RuntimeOps["FusedConv"])
	if ms := r.Measured; ms != nil {
		if ms.Twin != nil {
			fmt.Fprintf(w, "\naccuracy on %s:\n", ms.List)
			for _, s := range []struct {
				n string
				s *quantise.ListScore
			}{{"base", ms.Base}, {"twin", ms.Twin}, {"previous optimised", ms.Previous}} {
				if s.s != nil {
					fmt.Fprintf(w, "  %-19s top-1 %.4f  top-5 %.4f  log-loss %.4f  agreement with base %.1f%%  (%d images)\n", s.n, s.s.Top1, s.s.Top5, s.s.LogLoss, 100*s.s.Agreement, s.s.N)
				}
			}
		}
		if len(ms.Speed) > 0 {
			fmt.Fprintf(w, "\nspeed (%s):\n", ms.SpeedNote)
			for _, s := range ms.Speed {
				fmt.Fprintf(w, "  %-10s %-8s batch %-3d %8.1f cells/s  p50 %6.2f ms  %.4f J/cell (%s)\n", s.Model, s.Scenario, s.Batch, s.CellsPerSec, s.P50Ms, s.JPerCell, s.Energy)
			}
		}
	}
	fmt.Fprintf(w, "\npack written to %s (load it with --pack %s)\n", r.Out, r.Out)
}
