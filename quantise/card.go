package quantise

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/phytoscreen/phytoscreen/bench"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/outfile"
	"github.com/phytoscreen/phytoscreen/power"
)

// Measurement is what was measured of the written pack on this machine.
type Measurement struct {
	// Accuracy on the labelled list, when one was given.
	List      string        `json:"list,omitempty"`
	Base      *ListScore    `json:"base,omitempty"`
	Twin      *ListScore    `json:"twin,omitempty"`
	Previous  *ListScore    `json:"previous_optimised,omitempty"` // the source pack's own optimised model
	Speed     []SpeedResult `json:"speed,omitempty"`
	SpeedNote string        `json:"speed_note,omitempty"`
}

// ListScore is a model's accuracy on the labelled list (inference.Scorer's figures, as
// `phytoscreen eval` prints them, without the per-class rows) and its agreement with the
// base.
type ListScore struct {
	inference.Metrics
	Agreement float64 `json:"top1_agreement_with_base"`
	// Failed counts the list's files that could not be read or classified: left out of
	// the figures, and said.
	Failed int `json:"failed,omitempty"`
}

// SpeedResult is one speed run: a model in one scenario on one thread.
type SpeedResult struct {
	Model       string  `json:"model"`
	Scenario    string  `json:"scenario"`
	Batch       int     `json:"batch"`
	CellsPerSec float64 `json:"cells_per_s"`
	P50Ms       float64 `json:"p50_ms"`
	JPerCell    float64 `json:"j_per_cell"`
	Energy      string  `json:"energy_source"`
}

// checkOut refuses an output folder that is the source pack, a file, or a folder holding
// something other than a pack.
func checkOut(p *inference.Pack, out string) error {
	if !strings.HasPrefix(p.Source, "built-in") {
		if rel, err := filepath.Rel(absPath(p.Source), absPath(out)); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return fmt.Errorf("--out %s is the source pack or inside it: give a folder outside %s (the source pack is read, never changed)", out, p.Source)
		}
	}
	fi, err := os.Stat(out)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("--out %s: %w", out, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("--out %s is a file: give a new folder for the optimised pack", out)
	}
	if !strings.HasPrefix(p.Source, "built-in") {
		inputs := []outfile.Input{{Path: filepath.Join(p.Source, inference.ManifestFile), What: "the source pack's manifest"}}
		for _, v := range p.Variants() {
			inputs = append(inputs, outfile.Input{Path: filepath.Join(p.Source, p.Models[v].File), What: "the source pack's " + string(v) + " model"})
		}
		for _, in := range inputs {
			if err := outfile.CheckNotInput(filepath.Join(out, filepath.Base(in.Path)), in); err != nil {
				return fmt.Errorf("--out %s is the source pack: give another folder (the source pack is read, never changed)", out)
			}
		}
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		return fmt.Errorf("--out %s: %w", out, err)
	}
	if len(entries) > 0 && !slices.ContainsFunc(entries, func(e fs.DirEntry) bool { return e.Name() == inference.ManifestFile }) {
		return fmt.Errorf("--out %s holds other files and no %s: give a new or empty folder, or an earlier optimised pack to replace", out, inference.ManifestFile)
	}
	if len(entries) > 0 {
		return checkEarlierTwin(p, out)
	}
	return nil
}

// checkEarlierTwin refuses an output folder whose pack is not an earlier twin of p (its
// name and labels): replacing it would lose another pack (helper-39: a forgotten --pack
// turned a copy of the cyanobacteria pack into an NDSB twin, its taxonomy and split
// gone).
func checkEarlierTwin(p *inference.Pack, out string) error {
	path := filepath.Join(out, inference.ManifestFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--out %s: %w", out, err)
	}
	var there struct {
		Name   string   `json:"name"`
		Labels []string `json:"labels"`
	}
	if err := json.Unmarshal(data, &there); err != nil {
		return fmt.Errorf("--out %s holds a %s that is not a pack's (%v): give a new or empty folder", out, inference.ManifestFile, err)
	}
	if there.Name != p.Name || !slices.Equal(there.Labels, p.Labels) {
		return fmt.Errorf("--out %s holds pack %q (%d labels), not an earlier optimised pack of %q (%d labels): give a new or empty folder (did you mean --pack %s?)",
			out, there.Name, len(there.Labels), p.Name, len(p.Labels), out)
	}
	return nil
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// optimisedFile is the file name the twin takes in the new pack.
func optimisedFile(p *inference.Pack) string {
	if m, ok := p.Models[inference.Optimised]; ok {
		return m.File
	}
	return "optimised.onnx"
}

// writePack writes the new pack: every file of the source pack, the twin in place of its
// optimised model, pack.json with the twin's entry, and README.md with the twin's card.
func writePack(p *inference.Pack, out string, model []byte, rep *Report, meas *Measurement) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("--out %s: %w", out, err)
	}
	file := optimisedFile(p)
	src := p.FS()
	err := fs.WalkDir(src, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(out, filepath.FromSlash(name))
		switch {
		case d.IsDir():
			return os.MkdirAll(dst, 0o755)
		case !d.Type().IsRegular() || name == file || name == inference.ManifestFile || name == "README.md",
			name == "confusion-val-optimised.csv" || name == "quantisation.md": // they describe the model replaced
			return nil
		}
		return outfile.Write(dst, func(w io.Writer) error {
			f, err := src.Open(name)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(w, f)
			return err
		})
	})
	if err != nil {
		return fmt.Errorf("copy pack %s to %s: %w", p.Source, out, err)
	}
	if err := outfile.Write(filepath.Join(out, filepath.FromSlash(file)), func(w io.Writer) error { _, err := w.Write(model); return err }); err != nil {
		return err
	}
	manifest, err := newManifest(p, file, rep, meas)
	if err != nil {
		return err
	}
	if err := outfile.Write(filepath.Join(out, inference.ManifestFile), func(w io.Writer) error { _, err := w.Write(manifest); return err }); err != nil {
		return err
	}
	readme, _ := p.ReadFile("README.md")
	return outfile.Write(filepath.Join(out, "README.md"), func(w io.Writer) error {
		if len(readme) > 0 {
			if _, err := w.Write(bytes.TrimRight(readme, "\n")); err != nil {
				return err
			}
			fmt.Fprint(w, "\n\n")
		}
		return WriteCard(w, rep, meas)
	})
}

// newManifest is the source pack.json with the optimised model's entry replaced (every
// other key kept as it was).
func newManifest(p *inference.Pack, file string, rep *Report, meas *Measurement) ([]byte, error) {
	raw, err := p.ReadFile(inference.ManifestFile)
	if err != nil {
		return nil, err
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("pack %s: %s: %w", p.Source, inference.ManifestFile, err)
	}
	var models map[string]json.RawMessage
	if err := json.Unmarshal(doc["models"], &models); err != nil {
		return nil, fmt.Errorf("pack %s: %s models: %w", p.Source, inference.ManifestFile, err)
	}
	entry := map[string]any{
		"file": file,
		"arch": fmt.Sprintf("same network, static int8 QDQ made by phytoscreen pack optimise: per-channel int8 weights, uint8 activations, %s calibration on %d images of %s; %d of %d layers kept fp32",
			rep.Method, rep.CalibrationImages, rep.Calibration, len(rep.KeptFP32), len(rep.Layers)),
		"quantisation": rep,
	}
	switch {
	case meas != nil && meas.Twin != nil:
		entry["val_top1"], entry["val_top5"], entry["val_logloss"] = meas.Twin.Top1, meas.Twin.Top5, meas.Twin.LogLoss
		entry["val_macro_f1"], entry["val_weighted_f1"], entry["val_ece"] = meas.Twin.MacroF1, meas.Twin.WeightedF1, meas.Twin.ECE
		entry["top1_agreement_with_base"] = meas.Twin.Agreement
		entry["measured_on"] = fmt.Sprintf("%s (%d images)", meas.List, meas.Twin.N)
		if meas.Twin.Failed > 0 {
			entry["measured_on"] = fmt.Sprintf("%s (%d images; %d unreadable, left out)", meas.List, meas.Twin.N, meas.Twin.Failed)
		}
	case rep.Final.Top1 >= 0: // not val figures: these images are not held out, nor the base's val set
		entry["calibration_top1"], entry["calibration_top5"], entry["calibration_logloss"] = rep.Final.Top1, rep.Final.Top5, rep.Final.LogLoss
		entry["top1_agreement_with_base"] = rep.Final.Agreement
		entry["measured_on"] = fmt.Sprintf("the calibration images %s (%d labelled; not held out)", rep.Calibration, rep.CalibrationLabels)
	default:
		entry["top1_agreement_with_base"] = rep.Final.Agreement
		entry["measured_on"] = fmt.Sprintf("the calibration images %s (agreement only: no labels)", rep.Calibration)
	}
	if meas != nil && len(meas.Speed) > 0 {
		entry["speed"] = meas.Speed
	}
	if d := p.Models[inference.Base].FeaturesDim; d > 0 {
		entry["features_dim"] = d // the same network: the same embedding
	}
	b, err := json.Marshal(entry)
	if err != nil {
		return nil, err
	}
	models[string(inference.Optimised)] = b
	if doc["models"], err = json.Marshal(models); err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(doc, "", " ")
	return append(out, '\n'), err
}

// measure scores the written pack's models on the labelled list (when given) and times
// them single-stream and offline on one thread, with the energy per cell.
func measure(ctx context.Context, out, src *inference.Pack, set *calibSet, opt Options, progress func(string, int, int)) (*Measurement, error) {
	m := &Measurement{}
	if opt.Labels != "" {
		progress(StageAccuracy, 0, 1)
		if err := m.accuracy(ctx, out, src, opt); err != nil {
			return nil, err
		}
		progress(StageAccuracy, 1, 1)
	}
	if opt.SpeedDuration < 0 {
		return m, nil
	}
	cfg := bench.Config{Pack: out, Models: []inference.Variant{inference.Base, inference.Optimised}, Threads: []int{1}, Batches: []int{16},
		Scenarios: []bench.Scenario{bench.Single, bench.Offline}, Stress: []int{0}, Warmup: time.Second, Idle: time.Second,
		Duration: opt.SpeedDuration, Repeat: 1, Crops: &bench.Crops{Source: set.source, Images: set.gray, Names: set.names[:len(set.gray)]},
		Power: power.Detect(power.Options{})}
	cfg.Progress = func(pr bench.Progress) { progress(StageSpeed, pr.Index, pr.Total) }
	res, err := bench.Run(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("speed runs: %w", err)
	}
	for _, s := range bench.Summarise(res) {
		if s.Scenario == bench.Bare {
			continue
		}
		m.Speed = append(m.Speed, SpeedResult{Model: s.Model, Scenario: string(s.Scenario), Batch: s.Batch, CellsPerSec: s.CellsPerSec,
			P50Ms: s.P50, JPerCell: s.JPerCell, Energy: s.EnergySource})
	}
	sort.SliceStable(m.Speed, func(i, j int) bool { return m.Speed[i].Scenario > m.Speed[j].Scenario })
	m.SpeedNote = fmt.Sprintf("one ONNX Runtime thread, %v per run, on %d crops of %s", opt.SpeedDuration, len(set.gray), set.source)
	return m, nil
}

// Stage names of the measuring step.
const (
	StageAccuracy = "accuracy"
	StageSpeed    = "speed"
)

// accuracy classifies the labelled list with the base model, the twin and the source
// pack's own optimised model (when it has one).
func (m *Measurement) accuracy(ctx context.Context, out, src *inference.Pack, opt Options) error {
	root := opt.LabelsRoot
	if root == "" {
		root = filepath.Dir(opt.Labels)
	}
	items, err := inference.ReadLabelListFrom(opt.Labels, root, opt.LabelsSplit)
	if err != nil {
		return err
	}
	truth := map[string]string{}
	var files []string
	for _, it := range items {
		if slices.Contains(out.Labels, it.Label) {
			files = append(files, it.Path)
			truth[it.Path] = it.Label
		}
	}
	if len(files) == 0 {
		return fmt.Errorf("--labels %s: no row with one of the pack's labels (check --split)", opt.Labels)
	}
	m.List = opt.Labels
	if opt.LabelsSplit != "" {
		m.List += " split " + opt.LabelsSplit
	}
	run := func(p *inference.Pack, v inference.Variant) (*ListScore, map[string]int, error) {
		clf, err := inference.NewClassifier(p, inference.Options{Variant: v, Threads: opt.Threads, Batch: probeBatch, TopK: len(p.Labels)})
		if err != nil {
			return nil, nil, err
		}
		defer clf.Close()
		sc := inference.NewScorer(p.Labels)
		best := map[string]int{}
		failed := 0
		var firstErr error
		err = inference.ClassifyFiles(ctx, clf, files, func(fr inference.FileResult) error {
			if fr.Err != nil {
				failed++ // left out of the figures; the card says how many
				firstErr = cmp.Or(firstErr, fr.Err)
				slog.Warn("pack optimise: a labelled file left out", "file", fr.Path, "err", fr.Err)
				return nil
			}
			best[fr.Path] = fr.Result.Top[0].Index
			return sc.Add(truth[fr.Path], fr.Result)
		})
		if err != nil {
			return nil, nil, err
		}
		if failed == len(files) {
			// Figures of no image read as measured ("top-1 0.0000 ... (0 images)"): a
			// list whose paths start elsewhere than its folder, without --root (helper-94).
			return nil, nil, fmt.Errorf("--labels %s: none of its %d images could be read (the first: %w): its relative paths start from %s; give --root the folder they start from", opt.Labels, len(files), firstErr, root)
		}
		met := sc.Metrics()
		met.Recall = nil // per class: phytoscreen eval; the report keeps the summary
		return &ListScore{Metrics: met, Failed: failed}, best, nil
	}
	var base map[string]int
	agree := func(s *ListScore, b map[string]int) {
		same := 0
		for f, i := range b {
			if bi, ok := base[f]; ok && bi == i { // a file the base could not read does not agree
				same++
			}
		}
		s.Agreement = float64(same) / float64(max(1, len(b)))
	}
	if m.Base, base, err = run(out, inference.Base); err != nil {
		return err
	}
	m.Base.Agreement = 1
	var b map[string]int
	if m.Twin, b, err = run(out, inference.Optimised); err != nil {
		return err
	}
	agree(m.Twin, b)
	if src.Has(inference.Optimised) {
		if m.Previous, b, err = run(src, inference.Optimised); err != nil {
			return err
		}
		agree(m.Previous, b)
	}
	return nil
}

// WriteCard writes the twin's card as a Markdown section.
func WriteCard(w io.Writer, rep *Report, meas *Measurement) error {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("## Optimised model made by `phytoscreen pack optimise`\n\n")
	p("The optimised model of this pack was made on this machine from the base model: static\n")
	p("quantisation in ONNX's QDQ form, per-channel symmetric int8 weights in a 7-bit range (±64,\n")
	p("exact on CPUs without VNNI), int32 biases, uint8\n")
	p("activations whose ranges come from a calibration pass (method **%s**) over %d images of\n", rep.Method, rep.CalibrationImages)
	p("%s", rep.Calibration)
	if rep.CalibrationLabels > 0 {
		p(" (%d of them labelled)", rep.CalibrationLabels)
	}
	p(". A Relu after a quantised Conv, Gemm or Add is removed (%d here): the uint8 range\n", rep.FusedRelu)
	p("starting at 0 clips as it did, and ONNX Runtime fuses the pair into QLinearConv and the like.\n\n")
	p("On the calibration images, against the fp32 model: every layer quantised agrees on %s of\n", pct(rep.All.Agreement))
	p("top-1 labels (mean KL %.4f); the model written, %d layer(s) kept fp32, on %s (mean KL %.4f)", rep.All.KL, len(rep.KeptFP32), pct(rep.Final.Agreement), rep.Final.KL)
	if rep.Final.Top1 >= 0 {
		p(", top-1 %s", pct(rep.Final.Top1))
	}
	p(".\n\n")
	if len(rep.Methods) > 0 {
		p("| calibration method (all layers quantised) | agreement | top-1 | mean KL |\n|---|---|---|---|\n")
		for _, m := range rep.Methods {
			p("| %s | %s | %s | %.4f |\n", m.Method, pct(m.Score.Agreement), pctOrDash(m.Score.Top1), m.Score.KL)
		}
		p("\n")
	}
	p("### Each layer's effect\n\nEach quantisable layer left fp32 while all the others are quantised; the cost of\n")
	p("quantising it is the agreement this brings back, in points (one image is %.2f). Layers\n", 100/float64(max(1, rep.CalibrationImages)))
	p("costing more than %.2f points, told apart from chance by a sign test on the images that\n", rep.MaxLayerLoss)
	p("flip (z = (gained - lost) / sqrt(gained + lost) at least %.0f), are kept fp32.\n\n", MinZ)
	p("| layer | op | agreement with it fp32 | mean KL | cost (points) | gained / lost | z | kept fp32 |\n|---|---|---|---|---|---|---|---|\n")
	for _, l := range rep.Layers {
		p("| %s | %s | %s | %.4f | %+.2f | %d / %d | %.1f | %s |\n", l.Name, l.Op, pct(l.Score.Agreement), l.Score.KL, l.Loss, l.Gained, l.Lost, l.Z, orDash(l.Kept))
	}
	p("\n")
	if len(rep.Unquantised) > 0 {
		p("Nodes that stay fp32 because they cannot be quantised:\n\n")
		for _, u := range rep.Unquantised {
			p("- %s (%s): %s\n", u.Name, u.Op, u.Reason)
		}
		p("\n")
	}
	if len(rep.RuntimeOps) > 0 {
		ops := make([]string, 0, len(rep.RuntimeOps))
		for op, n := range rep.RuntimeOps {
			ops = append(ops, fmt.Sprintf("%s %d", op, n))
		}
		slices.Sort(ops)
		p("Operators ONNX Runtime runs after its fusions: %s.\n\n", strings.Join(ops, ", "))
	}
	if meas != nil && meas.Twin != nil {
		p("### Accuracy on %s\n\n| model | images | top-1 | top-5 | log-loss | macro-F1 | weighted F1 | ECE | agreement with base |\n|---|---|---|---|---|---|---|---|---|\n", meas.List)
		for _, r := range []struct {
			name string
			s    *ListScore
		}{{"base (fp32)", meas.Base}, {"optimised (this twin)", meas.Twin}, {"the source pack's optimised", meas.Previous}} {
			if r.s != nil {
				p("| %s | %d | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f | %s |\n", r.name, r.s.N, r.s.Top1, r.s.Top5, r.s.LogLoss, r.s.MacroF1, r.s.WeightedF1, r.s.ECE, pct(r.s.Agreement))
			}
		}
		p("\n")
	}
	if meas != nil && len(meas.Speed) > 0 {
		p("### Speed and energy on this machine\n\n%s.\n\n| model | scenario | batch | cells/s | p50 ms | J/cell | energy source |\n|---|---|---|---|---|---|---|\n", meas.SpeedNote)
		for _, s := range meas.Speed {
			p("| %s | %s | %d | %.1f | %.2f | %.4f | %s |\n", s.Model, s.Scenario, s.Batch, s.CellsPerSec, s.P50Ms, s.JPerCell, s.Energy)
		}
		p("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func pct(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }

func pctOrDash(f float64) string {
	if f < 0 {
		return "-"
	}
	return pct(f)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
