package teach

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/onnxpb"
	"github.com/phytoscreen/phytoscreen/screening"
)

// ExamplesFile lists, in a taught pack, the crops it learned from (source,label).
const ExamplesFile = "examples.csv"

// CheckOut refuses a folder a taught pack cannot be saved to: one that exists and is not
// empty. Commands call it before teaching, so that the refusal does not come after the
// embedding and the training (helper-39); Save calls it again.
func CheckOut(dir string) error {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("pack folder %s exists and is not empty: phytoscreen will not write into it; choose a new folder for the taught pack", dir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("pack folder %s: %w", dir, err)
	}
	return nil
}

// Save writes the taught pack into folder dir (which must not exist, or be empty): both
// models with their heads, pack.json with the extended labels, the taxonomy with the new
// taxa, the card (README.md) with the cross-validated report, and the list of crops it
// learned from. The folder appears whole or not at all (written beside it, then renamed).
// It returns the pack as loaded back.
func (t *Taught) Save(dir string) (*inference.Pack, error) {
	if err := CheckOut(dir); err != nil {
		return nil, err
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("pack folder %s: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".part-")
	if err != nil {
		return nil, fmt.Errorf("pack folder %s: %w", dir, err)
	}
	defer os.RemoveAll(tmp)
	files, err := t.files()
	if err != nil {
		return nil, err
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(tmp, name), data, 0o644); err != nil {
			return nil, fmt.Errorf("pack folder %s: write %s: %w", dir, name, err)
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, err
	}
	os.Remove(dir) // an empty folder given: replaced
	if err := os.Rename(tmp, dir); err != nil {
		return nil, fmt.Errorf("pack folder %s: %w", dir, err)
	}
	return inference.LoadPackDir(dir)
}

// files are the taught pack's files by name.
func (t *Taught) files() (map[string][]byte, error) {
	p := t.From
	out := map[string][]byte{}
	for _, v := range p.Variants() {
		h := t.heads[v]
		if h == nil {
			return nil, fmt.Errorf("no head was fitted for the %s model", v)
		}
		data, err := p.ModelBytes(v)
		if err != nil {
			return nil, err
		}
		w, b := h.folded()
		_, d := h.w.Dims()
		model, err := appendHead(data, p.Models[v].File, p.Output.Name, p.Features.Name, w, b, len(t.New), d, len(t.Labels))
		if err != nil {
			return nil, err
		}
		out[p.Models[v].File] = model
	}
	manifest, err := t.manifest()
	if err != nil {
		return nil, err
	}
	out[inference.ManifestFile] = manifest
	if tax, err := t.taxonomy(); err != nil {
		return nil, err
	} else if tax != nil {
		out[screening.TaxonomyFile] = tax
	}
	var ex bytes.Buffer
	cw := csv.NewWriter(&ex)
	cw.Write([]string{"source", "label"}) //nolint:errcheck // a buffer
	for _, e := range t.Examples {
		cw.Write([]string{e.Source, e.Label}) //nolint:errcheck // a buffer
	}
	cw.Flush()
	out[ExamplesFile] = ex.Bytes()
	out["README.md"] = []byte(t.Card())
	return out, nil
}

// appendHead appends the taught head to a model's graph: the probabilities output becomes
// softmax([log max(p, 1e-30) ; features W^T + b]).
func appendHead(data []byte, file, probs, features string, w, b []float32, k, d, total int) ([]byte, error) {
	m, err := onnxpb.ReadModel(data, file)
	if err != nil {
		return nil, err
	}
	g := m.GetGraph()
	// A pack taught before has a head named teach/ already: a second teaching's head
	// gets names of its own (teach2/, ...), or ONNX Runtime refuses the duplicates.
	prefix := "teach/"
	for i := 2; namesUsed(g, prefix); i++ {
		prefix = fmt.Sprintf("teach%d/", i)
	}
	oldProbs := prefix + "old_probabilities"
	found := false
	for _, n := range g.GetNode() {
		for i, o := range n.Output {
			if o == probs {
				n.Output[i], found = oldProbs, true
			}
		}
	}
	if !found {
		return nil, fmt.Errorf("%s: no node outputs %q: the pack's output is not the model's", file, probs)
	}
	tensor := func(name string, dims []int64, v []float32) *onnxpb.TensorProto {
		return &onnxpb.TensorProto{Name: proto.String(prefix + name), Dims: dims, DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), FloatData: v}
	}
	g.Initializer = append(g.Initializer,
		tensor("eps", nil, []float32{1e-30}),
		tensor("w", []int64{int64(k), int64(d)}, w),
		tensor("b", []int64{int64(k)}, b))
	node := func(op, name string, in []string, out string, attrs ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
		return &onnxpb.NodeProto{OpType: proto.String(op), Name: proto.String(prefix + name), Input: in, Output: []string{out}, Attribute: attrs}
	}
	intAttr := func(name string, v int64) *onnxpb.AttributeProto {
		return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
	}
	g.Node = append(g.Node,
		node("Max", "clamp", []string{oldProbs, prefix + "eps"}, prefix+"old_clamped"),
		node("Log", "log", []string{prefix + "old_clamped"}, prefix+"old_logp"),
		node("Gemm", "head", []string{features, prefix + "w", prefix + "b"}, prefix+"new_scores", intAttr("transB", 1)),
		node("Concat", "concat", []string{prefix + "old_logp", prefix + "new_scores"}, prefix+"scores", intAttr("axis", 1)),
		node("Softmax", "softmax", []string{prefix + "scores"}, probs, intAttr("axis", 1)),
	)
	for _, o := range g.GetOutput() {
		if o.GetName() != probs {
			continue
		}
		dims := o.GetType().GetTensorType().GetShape().GetDim()
		if len(dims) != 2 {
			return nil, fmt.Errorf("%s: output %q has %d dimensions, want 2", file, probs, len(dims))
		}
		dims[1].Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(total)}
	}
	// Shapes recorded for the old output no longer hold.
	vi := g.ValueInfo[:0]
	for _, v := range g.GetValueInfo() {
		if v.GetName() != probs {
			vi = append(vi, v)
		}
	}
	g.ValueInfo = vi
	return onnxpb.WriteModel(m)
}

// namesUsed says whether any node, node output or initializer of g is named under prefix.
func namesUsed(g *onnxpb.GraphProto, prefix string) bool {
	for _, n := range g.GetNode() {
		if strings.HasPrefix(n.GetName(), prefix) || slices.ContainsFunc(n.GetOutput(), func(o string) bool { return strings.HasPrefix(o, prefix) }) {
			return true
		}
	}
	return slices.ContainsFunc(g.GetInitializer(), func(t *onnxpb.TensorProto) bool { return strings.HasPrefix(t.GetName(), prefix) })
}

// manifest is the taught pack's pack.json: the pack's, with the labels extended, the
// output's shape, the models' figures moved to the metrics (they were measured before
// teaching) and the report.
func (t *Taught) manifest() ([]byte, error) {
	raw, err := t.From.ReadFile(inference.ManifestFile)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("pack %s: %s: %w", t.From.Source, inference.ManifestFile, err)
	}
	m["name"] = t.Name
	m["labels"] = t.Labels
	if out, ok := m["output"].(map[string]any); ok {
		out["shape"] = []int64{-1, int64(len(t.Labels))}
	}
	untaught := map[string]any{}
	if models, ok := m["models"].(map[string]any); ok {
		for v, spec := range models {
			s, ok := spec.(map[string]any)
			if !ok {
				continue
			}
			before := map[string]any{}
			for key, val := range s {
				if strings.HasPrefix(key, "val_") || key == "top1_agreement_with_base" {
					before[key] = val
					delete(s, key)
				}
			}
			untaught[v] = before
			s["arch"] = fmt.Sprintf("%v; taught %d new taxa (a head on its features beside the pack's own probabilities)", s["arch"], len(t.New))
		}
	}
	for _, key := range []string{"val_images", "train_images"} { // they counted the pack's own val figures
		if v, ok := m[key]; ok {
			untaught[key] = v
			delete(m, key)
		}
	}
	m["dataset"] = fmt.Sprintf("%s, taught %s from %d crops", t.From.Dataset, strings.Join(t.New, ", "), len(t.Examples))
	m["metrics"] = map[string]any{
		"taught": map[string]any{
			"from_pack":        t.From.Name,
			"new_taxa":         t.New,
			"crops":            len(t.Examples),
			"reference_crops":  t.Reference,
			"examples":         ExamplesFile,
			"cross_validation": t.Report.Models,
			"date":             time.Now().UTC().Format(time.DateOnly),
		},
		"before_teaching": map[string]any{"models": untaught, "metrics": t.From.Metrics},
	}
	return json.MarshalIndent(m, "", " ")
}

// taxonomy is the pack's taxonomy.toml with the new taxa appended (counted as cells with
// no group until someone edits it), or nil when the pack has none (every label then gets
// the default treatment).
func (t *Taught) taxonomy() ([]byte, error) {
	data, err := t.From.ReadFile(screening.TaxonomyFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Write(data)
	fmt.Fprintf(&b, "\n# Taught by phytoscreen pack teach on %s: no group or cell size yet; edit them here.\n", time.Now().UTC().Format(time.DateOnly))
	for _, l := range t.New {
		fmt.Fprintf(&b, "\n[[taxon]]\nlabel = %q\nname = %q\nunit = \"cell\"\n", l, l)
	}
	return b.Bytes(), nil
}
