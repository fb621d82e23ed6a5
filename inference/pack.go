package inference

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/phytoscreen/phytoscreen/inputfile"
)

// ManifestFile is the name of a pack's manifest inside its folder.
const ManifestFile = "pack.json"

// Variant names one model of a pack. The default pack has both.
type Variant string

// The variants the app knows how to present side by side.
const (
	Base      Variant = "base"
	Optimised Variant = "optimised"
)

// ParseVariant accepts "base" and "optimised" (and the spelling "optimized").
func ParseVariant(s string) (Variant, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "base":
		return Base, nil
	case "optimised", "optimized", "int8":
		return Optimised, nil
	}
	return "", fmt.Errorf("unknown model %q: use base or optimised", s)
}

// Manifest is the content of pack.json (docs/pack-format.md).
type Manifest struct {
	// Format is 1 (the key absent: the first pack's one-channel contract) or 2 (colour,
	// resize rules, background normalisation, per-channel normalisation, features).
	Format int                   `json:"format,omitempty"`
	Name   string                `json:"name"`
	Labels []string              `json:"labels"`
	Input  InputSpec             `json:"input"`
	Output OutputSpec            `json:"output"`
	Models map[Variant]ModelSpec `json:"models"`
	// Features names the optional embedding output (format 2).
	Features *OutputSpec `json:"features,omitempty"`
	// Optional descriptive fields of the default pack.
	Dataset string `json:"dataset,omitempty"`
	// Limits says what the pack was not shown to do, in one sentence with the check to
	// make: shown beside any level its counts raise (screen's summary, the app's
	// banner). The cyanobacteria pack's genus calls held on the culture-collection
	// photographs it learnt from, not on a low-cost bench camera, whose water without
	// algae read near the WHO watch level with no word of it (helper-81).
	Limits      string `json:"limits,omitempty"`
	ValImages   int    `json:"val_images,omitempty"`
	TrainImages int    `json:"train_images,omitempty"`
	// Metrics is the recipe's free-form evaluation (the pack card's figures), kept as is.
	Metrics json.RawMessage `json:"metrics,omitempty"`
}

// InputSpec is the input contract: what tensor the model takes and how a crop becomes it.
type InputSpec struct {
	Name  string  `json:"name"`
	Shape []int64 `json:"shape"` // [N, C, H, W]; N may be -1 (free); C is 1 in format 1
	DType string  `json:"dtype"`
	// Format 1's descriptions of its fixed rule (grayscale/255, shrink-only letterbox).
	Pixels    string `json:"pixels,omitempty"`
	Letterbox string `json:"letterbox,omitempty"`
	// Pad is the value of the padding in the 0..1 scale (default 1.0: white): one number,
	// or one per channel in format 2.
	Pad *Pad `json:"pad,omitempty"`
	// Format 2: "gray" or "rgb"; "letterbox", "fit" or "centre-crop"; the background
	// normalisation; per-channel normalisation (both or neither).
	Channels   string          `json:"channels,omitempty"`
	Resize     string          `json:"resize,omitempty"`
	Background *BackgroundSpec `json:"background,omitempty"`
	Mean       []float64       `json:"mean,omitempty"`
	Std        []float64       `json:"std,omitempty"`
}

// BackgroundSpec is format 2's background normalisation: method "none" or "percentile"
// (each channel divided by its Q-quantile level, so a brightfield background becomes 1.0).
type BackgroundSpec struct {
	Method string  `json:"method"`
	Q      float64 `json:"q,omitempty"`
}

// Pad is the padding value: a JSON number (every channel) or an array (one per channel).
type Pad []float32

// UnmarshalJSON accepts a number or an array of numbers. Numbers are read as float64 and
// then rounded to float32, as the Python recipe (json, then numpy.float32) does.
func (p *Pad) UnmarshalJSON(b []byte) error {
	var one float64
	if err := json.Unmarshal(b, &one); err == nil {
		*p = Pad{float32(one)}
		return nil
	}
	var many []float64
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("pad must be a number or an array of numbers, got %s", clipJSON(b))
	}
	*p = make(Pad, len(many))
	for i, v := range many {
		(*p)[i] = float32(v)
	}
	return nil
}

// MarshalJSON writes one value as a number.
func (p Pad) MarshalJSON() ([]byte, error) {
	if len(p) == 1 {
		return json.Marshal(p[0])
	}
	return json.Marshal([]float32(p))
}

func clipJSON(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

// OutputSpec names an output tensor.
type OutputSpec struct {
	Name       string  `json:"name"`
	Shape      []int64 `json:"shape"`
	Activation string  `json:"activation,omitempty"`
}

// ModelSpec is one model file of a pack and the metrics recorded for it.
type ModelSpec struct {
	File          string  `json:"file"`
	Arch          string  `json:"arch"`
	ValTop1       float64 `json:"val_top1"`
	ValTop5       float64 `json:"val_top5"`
	ValLogLoss    float64 `json:"val_logloss"`
	ValMacroF1    float64 `json:"val_macro_f1,omitempty"`
	ValWeightedF1 float64 `json:"val_weighted_f1,omitempty"`
	ValECE        float64 `json:"val_ece,omitempty"`
	Agreement     float64 `json:"top1_agreement_with_base,omitempty"`
	// FeaturesDim is the length of this model's features output, when it differs between
	// the models (the manifest's features shape then says -1).
	FeaturesDim int `json:"features_dim,omitempty"`
}

// Pack is a validated classifier pack: its manifest and the file system holding it.
type Pack struct {
	Manifest
	// Source says where the pack came from: a folder path or "built-in".
	Source string
	fsys   fs.FS
}

// Height and Width of the model input in pixels.
func (p *Pack) Height() int { return int(p.Input.Shape[2]) }

// Width of the model input in pixels.
func (p *Pack) Width() int { return int(p.Input.Shape[3]) }

// Channels is the model input's channel count: 1 (gray) or 3 (rgb).
func (p *Pack) Channels() int { return int(p.Input.Shape[1]) }

// InputSize is the number of float32 values one crop takes in the input tensor (C*H*W).
func (p *Pack) InputSize() int { return p.Channels() * p.Height() * p.Width() }

// IsColour reports whether the pack takes colour (rgb) input.
func (p *Pack) IsColour() bool { return p.Channels() == 3 }

// PadValue is the value padding takes in the tensor (the first channel's, when they
// differ), in the 0..1 scale.
func (p *Pack) PadValue() float32 {
	if p.Input.Pad != nil && len(*p.Input.Pad) > 0 {
		return (*p.Input.Pad)[0]
	}
	return 1.0
}

// HasFeatures reports whether the pack's models have a features (embedding) output.
func (p *Pack) HasFeatures() bool { return p.Features != nil && p.Features.Name != "" }

// Variants lists the pack's models, base first.
func (p *Pack) Variants() []Variant {
	vs := make([]Variant, 0, len(p.Models))
	for v := range p.Models {
		vs = append(vs, v)
	}
	slices.SortFunc(vs, func(a, b Variant) int { return strings.Compare(variantRank(a), variantRank(b)) })
	return vs
}

func variantRank(v Variant) string {
	switch v {
	case Base:
		return "0"
	case Optimised:
		return "1"
	}
	return "2" + string(v)
}

// Has reports whether the pack has a model for v.
func (p *Pack) Has(v Variant) bool { _, ok := p.Models[v]; return ok }

// errNoModel says the pack lacks variant v, and what to do: a pack built by the
// training recipe has a base alone until its twin is made (helper-94: eval said only
// "has no optimised model (it has [base])").
func (p *Pack) errNoModel(v Variant) error {
	fix := "choose a model it has"
	if v == Optimised && p.Has(Base) {
		fix = "choose the base model (--model base), or make the optimised one with phytoscreen pack optimise (docs/training.md)"
	}
	return fmt.Errorf("pack %s has no %s model (it has %v): %s", p.Name, v, p.Variants(), fix)
}

// ModelBytes reads the ONNX file of variant v.
func (p *Pack) ModelBytes(v Variant) ([]byte, error) {
	m, ok := p.Models[v]
	if !ok {
		return nil, p.errNoModel(v)
	}
	data, err := fs.ReadFile(p.fsys, m.File)
	if err != nil {
		return nil, fmt.Errorf("pack %s: read %s model %s: %w", p.Source, v, m.File, err)
	}
	return data, nil
}

// ModelSize returns the size in bytes of variant v's model file.
func (p *Pack) ModelSize(v Variant) (int64, error) {
	fi, err := fs.Stat(p.fsys, p.Models[v].File)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// ReadFile reads another file of the pack (its README, a confusion matrix).
func (p *Pack) ReadFile(name string) ([]byte, error) { return fs.ReadFile(p.fsys, name) }

// FS is the file system holding the pack's files, for a tool that copies the pack.
func (p *Pack) FS() fs.FS { return p.fsys }

// LoadPackDir loads and validates the pack in folder dir.
func LoadPackDir(dir string) (*Pack, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("pack folder %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("pack %s is not a folder: give the folder that holds %s", dir, ManifestFile)
	}
	return LoadPack(os.DirFS(dir), dir)
}

// LoadPack loads and validates the pack held by fsys; source names it in errors.
// It checks everything that can be checked without ONNX Runtime; the model files' own
// inputs and outputs are checked when a Classifier opens them.
func LoadPack(fsys fs.FS, source string) (*Pack, error) {
	// A FIFO named pack.json would hold the read; a manifest over 4 MiB is not one.
	data, err := inputfile.ReadFS(fsys, ManifestFile, filepath.Join(source, ManifestFile), inputfile.MaxText)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("pack %s: no %s: a pack folder needs a manifest (see assets/models/ndsb-plankton-121/pack.json)", source, ManifestFile)
		}
		if errors.Is(err, inputfile.ErrNotRegular) || errors.Is(err, inputfile.ErrTooLarge) {
			return nil, fmt.Errorf("pack %s: %w", source, err)
		}
		return nil, fmt.Errorf("pack %s: read %s: %w", source, ManifestFile, err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("pack %s: %s is not valid JSON: %s; fix the file", source, ManifestFile, describeJSONError(data, err))
	}
	p := &Pack{Manifest: m, Source: source, fsys: fsys}
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("pack %s: %s: %w", source, ManifestFile, err)
	}
	for _, v := range p.Variants() {
		f := p.Models[v].File
		fi, err := fs.Stat(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("pack %s: %s model file %s is missing: copy it into the pack folder or remove the %q entry from %s", source, v, f, v, ManifestFile)
		}
		if err := inputfile.CheckInfo(f, fi, 0); err != nil {
			return nil, fmt.Errorf("pack %s: %s model file %w", source, v, err)
		}
		if fi.Size() == 0 {
			return nil, fmt.Errorf("pack %s: %s model file %s is empty (0 bytes): copy it again", source, v, f)
		}
	}
	return p, nil
}

// describeJSONError adds the line and column of a syntax error.
func describeJSONError(data []byte, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	off := int64(-1)
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 {
		return err.Error()
	}
	line, col := 1, 1
	for _, b := range data[:min(int(off), len(data))] {
		if b == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("line %d, column %d: %v", line, col, err)
}

func (p *Pack) validate() error {
	switch p.Format {
	case 0, 1:
	case 2:
		return p.validate2()
	default:
		return fmt.Errorf(`"format" is %d: this phytoscreen reads pack formats 1 and 2; use a newer phytoscreen or re-export the pack in format 2`, p.Format)
	}
	if err := p.validateCommon(); err != nil {
		return err
	}
	if err := p.rejectFormat2Keys(); err != nil {
		return err
	}
	in := p.Input
	if in.Shape[1] != 1 {
		return fmt.Errorf(`"input.shape" %v has %d channels: the preprocessing produces one (grayscale) channel`, in.Shape, in.Shape[1])
	}
	if px := strings.ToLower(in.Pixels); px != "" && !strings.HasPrefix(px, "grayscale") {
		return fmt.Errorf(`"input.pixels" is %q: the preprocessing produces grayscale/255 only`, in.Pixels)
	}
	if lb := strings.ToLower(in.Letterbox); lb != "" && !strings.Contains(lb, "never enlarge") {
		return fmt.Errorf(`"input.letterbox" is %q: the preprocessing implements the shrink-only letterbox ("shrink with INTER_AREA to fit if larger, never enlarge, centre, pad 1.0 (white)")`, in.Letterbox)
	}
	if in.Pad != nil && len(*in.Pad) != 1 {
		return fmt.Errorf(`"input.pad" has %d values: format 1 pads its one channel with one number`, len(*in.Pad))
	}
	return p.validateModels()
}

// validateCommon checks what both formats share: name, labels, the input tensor's name,
// type and shape (any channel count), the output's name.
func (p *Pack) validateCommon() error {
	if strings.TrimSpace(p.Name) == "" {
		return errors.New(`"name" is empty`)
	}
	if len(p.Labels) < 2 {
		return fmt.Errorf(`"labels" has %d entries: a classifier needs at least 2, in the model's output order`, len(p.Labels))
	}
	seen := make(map[string]int, len(p.Labels))
	for i, l := range p.Labels {
		if strings.TrimSpace(l) == "" {
			return fmt.Errorf(`"labels"[%d] is empty`, i)
		}
		if j, dup := seen[l]; dup {
			return fmt.Errorf(`"labels" has %q twice (at %d and %d)`, l, j, i)
		}
		seen[l] = i
	}
	in := p.Input
	if in.Name == "" {
		return errors.New(`"input.name" is empty: give the model's input tensor name`)
	}
	if in.DType != "float32" {
		return fmt.Errorf(`"input.dtype" is %q: phytoscreen feeds float32 tensors only`, in.DType)
	}
	if len(in.Shape) != 4 {
		return fmt.Errorf(`"input.shape" %v: want [N, channels, height, width]`, in.Shape)
	}
	if in.Shape[0] == 0 || in.Shape[0] < -1 {
		return fmt.Errorf(`"input.shape" %v: batch dimension must be -1 (free) or positive`, in.Shape)
	}
	for _, d := range in.Shape[2:] {
		if d < 8 || d > 4096 {
			return fmt.Errorf(`"input.shape" %v: height and width must be fixed, between 8 and 4096 pixels`, in.Shape)
		}
	}
	if p.Output.Name == "" {
		return errors.New(`"output.name" is empty: give the model's output tensor name`)
	}
	return nil
}

// validateModels checks the models map.
func (p *Pack) validateModels() error {
	if len(p.Models) == 0 {
		return errors.New(`"models" is empty: a pack needs at least a "base" model`)
	}
	for v, m := range p.Models {
		if m.File == "" {
			return fmt.Errorf(`"models.%s.file" is empty`, v)
		}
		if !fs.ValidPath(m.File) {
			return fmt.Errorf(`"models.%s.file" %q must be a path inside the pack folder`, v, m.File)
		}
	}
	return nil
}
