package quantise

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/onnxpb"
)

// DefaultMaxImages caps the calibration images used.
const DefaultMaxImages = 1024

// DefaultMaxLayerLoss is the default threshold, in points of top-1 agreement with the fp32
// model, above which a layer stays fp32: leaving it fp32 in the otherwise quantised model
// brings back the fp32 model's answer on more than this share of the calibration images.
const DefaultMaxLayerLoss = 1.0

// MinZ is the sign-test statistic a layer's measured cost must reach, besides the
// threshold, for the layer to stay fp32: about 98% one-sided, so that a few images that
// happen to flip on a small calibration set do not cost a layer its speed.
const MinZ = 2.0

// Options configure Optimise. Pack, Calibration and Out are required.
type Options struct {
	Pack *inference.Pack // the source pack: its base model is quantised
	// Calibration holds the calibration images (recursively), and optionally their
	// labels in a labels.csv (path,label); CalibrationName names it in messages and
	// on the card.
	Calibration     fs.FS
	CalibrationName string
	// CalibrationList, instead of Calibration, names the images by a labelled list: the
	// rows of its training split (sampled with CalibrationSeed beyond MaxImages).
	CalibrationList *CalibrationList
	MaxImages       int    // at most this many calibration images (0: DefaultMaxImages)
	Method          Method // activation ranges (zero: percentile 99.999)
	// MaxLayerLoss is the per-layer threshold in points of agreement (0: the default;
	// negative: keep nothing in fp32 but Keep).
	MaxLayerLoss float64
	Keep         []string // layers kept fp32 whatever they measure (names from the report)
	// CompareMethods also scores the fully quantised model with each calibration method
	// (minmax, percentile, entropy) for the card.
	CompareMethods bool
	Out            string // the new pack folder
	Threads        int    // ONNX Runtime threads for calibration and measuring (0: all CPUs)

	// Measuring the result (after the pack is written): a labelled list for accuracy
	// (path,label[,split] as `phytoscreen eval` reads), and the speed runs.
	Labels, LabelsRoot, LabelsSplit string
	SpeedDuration                   time.Duration // each speed run's window (0: 3 s; negative: no speed runs)
}

// LayerEffect is one layer's measured effect: the calibration images scored with that
// layer left fp32 and every other quantisable layer quantised.
type LayerEffect struct {
	Name  string `json:"name"`
	Op    string `json:"op"`
	Score Score  `json:"left_fp32"`
	// Loss is what quantising the layer costs, in points of top-1 agreement with the
	// fp32 model: Score's agreement minus the fully quantised model's (noise can make it
	// negative: one image is 100/images points).
	Loss float64 `json:"loss_points"`
	// Gained and Lost count the images whose agreement with the fp32 model leaving the
	// layer fp32 brings back and takes away; Z is (Gained-Lost)/sqrt(Gained+Lost), the
	// sign test's statistic: below MinZ the cost is not told apart from chance.
	Gained int     `json:"gained"`
	Lost   int     `json:"lost"`
	Z      float64 `json:"z"`
	Kept   string  `json:"kept_fp32,omitempty"` // why it stays fp32, "" when quantised
}

// MethodScore is the fully quantised model's score with one calibration method.
type MethodScore struct {
	Method string `json:"method"`
	Score  Score  `json:"score"`
}

// Report is what Optimise did and measured.
type Report struct {
	Pack              string        `json:"pack"`
	Out               string        `json:"out"`
	Method            string        `json:"method"`
	Calibration       string        `json:"calibration"`
	CalibrationImages int           `json:"calibration_images"`
	CalibrationLabels int           `json:"calibration_labelled"`
	MaxLayerLoss      float64       `json:"max_layer_loss_points"`
	Layers            []LayerEffect `json:"layers"`
	Unquantised       []Unquantised `json:"unquantised"`
	FusedRelu         int           `json:"fused_relu"`
	KeptFP32          []string      `json:"kept_fp32"`
	Methods           []MethodScore `json:"methods,omitempty"`
	// All is every quantisable layer quantised; Final the twin written.
	All   Score `json:"all_quantised"`
	Final Score `json:"final"`
	// RuntimeOps counts the operators ONNX Runtime runs for the twin after its fusions
	// (QLinearConv and the like): the check that the quantisation pays.
	RuntimeOps map[string]int `json:"runtime_ops"`
	Measured   *Measurement   `json:"measured,omitempty"`
}

// SureCalibration is the fewest calibration images on which a layer's cost can be told
// from chance (one image is a point of agreement at 100): under it the twin is written
// all the same, and FewImages says so.
const SureCalibration = 100

// FewImages says, when the twin was calibrated on fewer than SureCalibration images,
// what that means and the fix; "" otherwise. On 10 images no layer's cost could be told
// from chance, so none was kept fp32, and the twin's 80% agreement was said without a
// word of doubt (helper-68).
func (r *Report) FewImages() string {
	if r.CalibrationImages >= SureCalibration {
		return ""
	}
	return fmt.Sprintf("calibrated on %d images, too few to tell a layer's cost from chance (one image is %.0f points of agreement): no layer could be kept fp32 on evidence, and the agreement (%.1f%%) is of those %d images alone; calibrate on at least %d images of the pack's own kind (the built-in packs use 400)",
		r.CalibrationImages, 100/float64(max(1, r.CalibrationImages)), 100*r.Final.Agreement, r.CalibrationImages, SureCalibration)
}

// Stage names reported to the progress callback, in order (StageAccuracy and StageSpeed,
// the measuring of the written pack, come last).
const (
	StageImages     = "calibration images"
	StageRanges     = "calibrate: ranges"
	StageHistograms = "calibrate: histograms"
	StageLayers     = "per-layer effect"
	StageMethods    = "calibration methods"
	StageWrite      = "write pack"
)

// Optimise makes the int8 twin of opt.Pack's base model and writes it, with the pack's
// other files and an updated card, to the pack folder opt.Out. progress (may be nil) is
// called as each stage goes; ctx cancels between runs.
func Optimise(ctx context.Context, opt Options, progress func(stage string, done, total int)) (*Report, error) {
	if progress == nil {
		progress = func(string, int, int) {}
	}
	if err := opt.defaults(); err != nil {
		return nil, err
	}
	p := opt.Pack
	if err := checkOut(p, opt.Out); err != nil {
		return nil, err
	}
	raw, err := p.ModelBytes(inference.Base)
	if err != nil {
		return nil, err
	}
	model, err := onnxpb.ReadModel(raw, p.Source+"/"+p.Models[inference.Base].File)
	if err != nil {
		return nil, err
	}
	plan, err := Analyse(model)
	if err != nil {
		return nil, fmt.Errorf("pack %s base model: %w", p.Source, err)
	}
	if len(plan.Layers) == 0 {
		return nil, fmt.Errorf("pack %s base model has no layer the quantiser can quantise (%s)", p.Source, strings.Join(QuantisableOps, ", "))
	}
	for _, k := range opt.Keep {
		if !slices.ContainsFunc(plan.Layers, func(l Layer) bool { return l.Name == k }) {
			return nil, fmt.Errorf("--keep %s: no quantisable layer has that name: the report's layer table lists them", k)
		}
	}
	progress(StageImages, 0, 1)
	var images []calibImage
	if opt.CalibrationList != nil {
		images, err = listImages(opt.CalibrationList, opt.MaxImages, p.Source, p.Labels)
	} else {
		images, err = folderImages(opt.Calibration, opt.CalibrationName, opt.MaxImages, p.Labels)
	}
	if err != nil {
		return nil, err
	}
	set, err := loadCalibration(ctx, p, images, opt.CalibrationName)
	if err != nil {
		return nil, err
	}
	rep := &Report{Pack: p.Source, Out: opt.Out, Method: opt.Method.String(), Calibration: opt.CalibrationName,
		CalibrationImages: set.n(), MaxLayerLoss: opt.MaxLayerLoss, Unquantised: plan.Unquantised}
	for _, l := range set.labels {
		if l >= 0 {
			rep.CalibrationLabels++
		}
	}
	slog.Info("pack optimise: calibrating", "pack", p.Name, "images", set.n(), "layers", len(plan.Layers), "tensors", len(plan.Tensors))
	stats, ref, err := calibrate(ctx, plan, p, set, opt.Threads, progress)
	if err != nil {
		return nil, err
	}
	ranges := func(m Method) map[string]Range {
		r := make(map[string]Range, len(stats))
		for t, s := range stats {
			r[t] = s.Range(m)
		}
		return r
	}
	rs := ranges(opt.Method)
	names := make([]string, len(plan.Layers))
	for i, l := range plan.Layers {
		names[i] = l.Name
	}

	methods := []Method{opt.Method}
	if opt.CompareMethods {
		for _, m := range []Method{{Name: "minmax"}, {Name: "percentile", Percentile: DefaultPercentile}, {Name: "entropy"}} {
			if m != opt.Method {
				methods = append(methods, m)
			}
		}
	}
	for i, m := range methods {
		progress(StageMethods, i, len(methods))
		q, _, err := plan.Quantise(names, ranges(m))
		if err != nil {
			return nil, err
		}
		s, err := score(ctx, q, "the model quantised whole ("+m.String()+")", p, set, ref, opt.Threads)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			rep.All = s
		}
		if opt.CompareMethods {
			rep.Methods = append(rep.Methods, MethodScore{Method: m.String(), Score: s})
		}
	}
	progress(StageMethods, len(methods), len(methods))

	// Each layer left fp32 while every other is quantised: what quantising it costs in
	// the model as it will be. (Quantising one layer alone overstates the early layers:
	// their error grows through the fp32 layers after them, where the clipped ranges of
	// the quantised model would have bounded it.)
	for i, l := range plan.Layers {
		progress(StageLayers, i, len(plan.Layers))
		others := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == l.Name })
		m, _, err := plan.Quantise(others, rs)
		if err != nil {
			return nil, err
		}
		s, err := score(ctx, m, "the model with layer "+l.Name+" left fp32", p, set, ref, opt.Threads)
		if err != nil {
			return nil, err
		}
		e := LayerEffect{Name: l.Name, Op: l.Op, Score: s, Loss: 100 * (s.Agreement - rep.All.Agreement)}
		e.Gained, e.Lost = rep.All.Flips(s)
		e.Z = float64(e.Gained-e.Lost) / math.Sqrt(float64(max(1, e.Gained+e.Lost)))
		e.Kept = keepReason(e, opt)
		if e.Kept != "" {
			rep.KeptFP32 = append(rep.KeptFP32, l.Name)
		}
		rep.Layers = append(rep.Layers, e)
		slog.Debug("pack optimise: layer", "layer", l.Name, "op", l.Op, "agreement", s.Agreement, "kl", s.KL, "kept", e.Kept)
	}
	progress(StageLayers, len(plan.Layers), len(plan.Layers))

	quantised := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return slices.Contains(rep.KeptFP32, n) })
	twin, fused, err := plan.Quantise(quantised, rs)
	if err != nil {
		return nil, err
	}
	rep.FusedRelu = len(fused)
	if rep.Final, err = score(ctx, twin, "the int8 twin", p, set, ref, opt.Threads); err != nil {
		return nil, err
	}
	twinBytes, err := onnxpb.WriteModel(twin)
	if err != nil {
		return nil, fmt.Errorf("write the twin: %w", err)
	}
	if rep.RuntimeOps, err = runtimeOps(twinBytes); err != nil {
		return nil, err
	}
	// The pack is made and measured in a temporary folder beside --out and moved into
	// place at the end, so an error or a cancel leaves no half-written pack.
	tmp, err := os.MkdirTemp(filepath.Dir(filepath.Clean(opt.Out)), "."+filepath.Base(filepath.Clean(opt.Out))+".part-")
	if err != nil {
		return nil, fmt.Errorf("--out %s: %w", opt.Out, err)
	}
	defer os.RemoveAll(tmp) // gone already once moved into place
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, err
	}
	progress(StageWrite, 0, 1)
	if err := writePack(p, tmp, twinBytes, rep, nil); err != nil {
		return nil, err
	}
	progress(StageWrite, 1, 1)
	out, err := inference.LoadPackDir(tmp)
	if err != nil {
		return nil, fmt.Errorf("the written pack does not load: %w", err)
	}
	if err := inference.CheckModels(out); err != nil {
		return nil, fmt.Errorf("the written pack does not load: %w", err)
	}
	meas, err := measure(ctx, out, p, set, opt, progress)
	if err != nil {
		return nil, fmt.Errorf("measuring the twin failed, so no pack was written to %s: %w", opt.Out, err)
	}
	rep.Measured = meas
	if err := writePack(p, tmp, twinBytes, rep, meas); err != nil {
		return nil, err
	}
	if err := replaceDir(tmp, opt.Out); err != nil {
		return nil, err
	}
	return rep, nil
}

// replaceDir moves the finished folder tmp to out, replacing an earlier pack there (which
// checkOut allowed) only once the new one is complete.
func replaceDir(tmp, out string) error {
	if _, err := os.Stat(out); err == nil {
		old := tmp + ".old"
		if err := os.Rename(out, old); err != nil {
			return fmt.Errorf("--out %s: move the earlier pack aside: %w", out, err)
		}
		if err := os.Rename(tmp, out); err != nil {
			_ = os.Rename(old, out) // put the earlier pack back
			return fmt.Errorf("--out %s: %w", out, err)
		}
		return os.RemoveAll(old)
	}
	if err := os.Rename(tmp, out); err != nil {
		return fmt.Errorf("--out %s: %w", out, err)
	}
	return nil
}

// keepReason says why a measured layer stays fp32, "" when it is quantised: asked for,
// or a cost above the threshold that the sign test tells apart from chance.
func keepReason(e LayerEffect, opt Options) string {
	switch {
	case slices.Contains(opt.Keep, e.Name):
		return "asked (--keep)"
	case opt.MaxLayerLoss >= 0 && e.Loss > opt.MaxLayerLoss && e.Z >= MinZ:
		return fmt.Sprintf("costs %.2f points > %.2f (z %.1f)", e.Loss, opt.MaxLayerLoss, e.Z)
	}
	return ""
}

func (o *Options) defaults() error {
	if o.Pack == nil {
		return errors.New("no pack to optimise")
	}
	if !o.Pack.Has(inference.Base) {
		return fmt.Errorf("pack %s has no base model to quantise (it has %v)", o.Pack.Source, o.Pack.Variants())
	}
	switch {
	case o.Calibration == nil && o.CalibrationList == nil:
		return errors.New("no calibration images: give a folder with --calibration, or a labelled list with --calibration-list")
	case o.Calibration != nil && o.CalibrationList != nil:
		return errors.New("calibration images given both as a folder and as a list: give one")
	case o.CalibrationList != nil && o.CalibrationList.sameRows(o.Labels, o.LabelsSplit):
		return fmt.Errorf("calibration list %s: its rows include the ones the twin is measured on (--labels %s, split %q): calibrate on the training split (--calibration-split train) and measure on val (--split val)",
			o.CalibrationList.List, o.Labels, o.LabelsSplit)
	}
	if o.CalibrationList != nil && o.CalibrationName == "" {
		o.CalibrationName = o.CalibrationList.String()
	}
	if o.Out == "" {
		return errors.New("no output folder: give one with --out")
	}
	if o.Method.Name == "" {
		o.Method = Method{Name: "percentile", Percentile: DefaultPercentile}
	}
	if o.MaxImages <= 0 {
		o.MaxImages = DefaultMaxImages
	}
	if o.MaxLayerLoss == 0 {
		o.MaxLayerLoss = DefaultMaxLayerLoss
	}
	if o.Threads <= 0 {
		o.Threads = runtime.NumCPU()
	}
	if o.SpeedDuration == 0 {
		o.SpeedDuration = 3 * time.Second
	}
	return nil
}

// runtimeOps counts the operators of the graph ONNX Runtime runs for model.
func runtimeOps(model []byte) (map[string]int, error) {
	g, err := inference.OptimisedGraph(model)
	if err != nil {
		return nil, fmt.Errorf("the twin's runtime graph: %w", err)
	}
	m, err := onnxpb.ReadModel(g, "the twin's runtime graph")
	if err != nil {
		return nil, err
	}
	ops := map[string]int{}
	for _, n := range m.GetGraph().GetNode() {
		ops[n.GetOpType()]++
	}
	return ops, nil
}
