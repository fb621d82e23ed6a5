package inference

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
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

// Manifest is the content of pack.json.
type Manifest struct {
	Name   string                `json:"name"`
	Labels []string              `json:"labels"`
	Input  InputSpec             `json:"input"`
	Output OutputSpec            `json:"output"`
	Models map[Variant]ModelSpec `json:"models"`
	// Optional descriptive fields of the default pack.
	Dataset     string `json:"dataset,omitempty"`
	ValImages   int    `json:"val_images,omitempty"`
	TrainImages int    `json:"train_images,omitempty"`
}

// InputSpec is the input contract: what tensor the model takes and how a crop becomes it.
type InputSpec struct {
	Name      string  `json:"name"`
	Shape     []int64 `json:"shape"` // [N, 1, H, W]; N may be -1 (free)
	DType     string  `json:"dtype"`
	Pixels    string  `json:"pixels"`
	Letterbox string  `json:"letterbox"`
	// Pad is the value of the letterbox padding after scaling (default 1.0: white).
	Pad *float32 `json:"pad,omitempty"`
}

// OutputSpec names the output tensor.
type OutputSpec struct {
	Name       string  `json:"name"`
	Shape      []int64 `json:"shape"`
	Activation string  `json:"activation"`
}

// ModelSpec is one model file of a pack and the metrics recorded for it.
type ModelSpec struct {
	File       string  `json:"file"`
	Arch       string  `json:"arch"`
	ValTop1    float64 `json:"val_top1"`
	ValTop5    float64 `json:"val_top5"`
	ValLogLoss float64 `json:"val_logloss"`
	Agreement  float64 `json:"top1_agreement_with_base,omitempty"`
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

// PadValue is the value letterbox padding takes in the tensor.
func (p *Pack) PadValue() float32 {
	if p.Input.Pad != nil {
		return *p.Input.Pad
	}
	return 1.0
}

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

// ModelBytes reads the ONNX file of variant v.
func (p *Pack) ModelBytes(v Variant) ([]byte, error) {
	m, ok := p.Models[v]
	if !ok {
		return nil, fmt.Errorf("pack %s has no %s model (it has %v)", p.Name, v, p.Variants())
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
	data, err := fs.ReadFile(fsys, ManifestFile)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("pack %s: no %s: a pack folder needs a manifest (see assets/models/ndsb-plankton-121/pack.json)", source, ManifestFile)
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
		if fi.IsDir() || fi.Size() == 0 {
			return nil, fmt.Errorf("pack %s: %s model file %s is empty or not a file", source, v, f)
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
		return fmt.Errorf(`"input.shape" %v: want [N, 1, height, width]`, in.Shape)
	}
	if in.Shape[1] != 1 {
		return fmt.Errorf(`"input.shape" %v has %d channels: the preprocessing produces one (grayscale) channel`, in.Shape, in.Shape[1])
	}
	if in.Shape[0] == 0 || in.Shape[0] < -1 {
		return fmt.Errorf(`"input.shape" %v: batch dimension must be -1 (free) or positive`, in.Shape)
	}
	for _, d := range in.Shape[2:] {
		if d < 8 || d > 4096 {
			return fmt.Errorf(`"input.shape" %v: height and width must be fixed, between 8 and 4096 pixels`, in.Shape)
		}
	}
	if px := strings.ToLower(in.Pixels); px != "" && !strings.HasPrefix(px, "grayscale") {
		return fmt.Errorf(`"input.pixels" is %q: the preprocessing produces grayscale/255 only`, in.Pixels)
	}
	if lb := strings.ToLower(in.Letterbox); lb != "" && !strings.Contains(lb, "never enlarge") {
		return fmt.Errorf(`"input.letterbox" is %q: the preprocessing implements the shrink-only letterbox ("shrink with INTER_AREA to fit if larger, never enlarge, centre, pad 1.0 (white)")`, in.Letterbox)
	}
	if p.Output.Name == "" {
		return errors.New(`"output.name" is empty: give the model's output tensor name`)
	}
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
