// Package quantise makes the int8 twin of a classifier's fp32 ONNX model: static
// quantisation in ONNX's QDQ form (per-channel int8 weights, uint8 activations whose
// ranges come from a calibration pass over real images), with the layers that lose too
// much kept in fp32, measured one by one, and a pack folder holding the twin and its card.
// It reads and rewrites the model with the onnxpb protobuf types; the runs of ONNX
// Runtime it needs go through the inference package.
package quantise

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/phytoscreen/phytoscreen/internal/onnxpb"
)

// Kind says how a quantisable node is quantised.
type Kind int

const (
	// Weighted nodes (Conv, Gemm) take int8 per-channel weights, an int32 bias and a
	// uint8 activation input, and produce a uint8 output of its own range.
	Weighted Kind = iota
	// Arithmetic nodes (Add, GlobalAveragePool, AveragePool) take uint8 inputs and
	// produce an output of its own range.
	Arithmetic
	// Shared nodes (MaxPool, Flatten, Reshape) only move values: their output keeps
	// their input's range, so ONNX Runtime runs them on uint8 directly.
	Shared
)

// Layer is one node the quantiser can quantise.
type Layer struct {
	Name  string // the node's name, or its first output's when it has none
	Op    string
	Kind  Kind
	index int // in the graph's node list
}

// Unquantised is a node the quantiser leaves in fp32 whatever the calibration says,
// with the reason.
type Unquantised struct {
	Name, Op, Reason string
}

// QuantisableOps lists the operators the quantiser knows, for messages.
var QuantisableOps = []string{"Conv", "Gemm", "Add", "GlobalAveragePool", "AveragePool", "MaxPool", "Flatten", "Reshape", "Relu (fused into the node before it)"}

// MinOpset is the lowest default-domain opset the QDQ form with per-channel weights needs.
const MinOpset = 13

// Plan is what Analyse found in a model: the layers it can quantise, the nodes it
// cannot (and why), and the float tensors whose ranges calibration must measure.
type Plan struct {
	Layers      []Layer
	Unquantised []Unquantised
	// Tensors are the node outputs the quantised model may need ranges for, in graph
	// order; the ranges of graph inputs come from the data fed (Inputs).
	Tensors []string
	model   *onnxpb.ModelProto
	g       *graphIndex
}

// graphIndex is a model's graph with its lookups.
type graphIndex struct {
	g         *onnxpb.GraphProto
	inits     map[string]*onnxpb.TensorProto
	producer  map[string]int
	consumers map[string][]int
	outputs   map[string]bool
	inputs    map[string]bool
}

func indexGraph(g *onnxpb.GraphProto) *graphIndex {
	x := &graphIndex{g: g, inits: map[string]*onnxpb.TensorProto{}, producer: map[string]int{},
		consumers: map[string][]int{}, outputs: map[string]bool{}, inputs: map[string]bool{}}
	for _, t := range g.GetInitializer() {
		x.inits[t.GetName()] = t
	}
	for i, n := range g.GetNode() {
		for _, o := range n.GetOutput() {
			if o != "" {
				x.producer[o] = i
			}
		}
		for _, in := range n.GetInput() {
			if in != "" {
				x.consumers[in] = append(x.consumers[in], i)
			}
		}
	}
	for _, o := range g.GetOutput() {
		x.outputs[o.GetName()] = true
	}
	for _, in := range g.GetInput() {
		if _, ok := x.inits[in.GetName()]; !ok {
			x.inputs[in.GetName()] = true
		}
	}
	return x
}

// isActivation reports whether a tensor is computed at run time (a graph input or a
// node's output other than a Constant's), as opposed to a weight.
func (x *graphIndex) isActivation(name string) bool {
	if _, ok := x.inits[name]; ok {
		return false
	}
	if x.inputs[name] {
		return true
	}
	p, ok := x.producer[name]
	return ok && x.g.Node[p].GetOpType() != "Constant" && x.castWeight(name) == nil
}

// weight returns the constant a weight input holds, as fp32: an fp32 initializer, or an
// fp16 one cast to fp32 by a Cast node (how a pack stored in half precision keeps its
// weights); nil for anything else.
func (x *graphIndex) weight(name string) *onnxpb.TensorProto {
	if t, ok := x.inits[name]; ok {
		if t.GetDataType() == int32(onnxpb.TensorProto_FLOAT) {
			return t
		}
		return nil
	}
	return x.castWeight(name)
}

// castWeight is weight's second case: name is the output of Cast(to float) of an fp16
// initializer.
func (x *graphIndex) castWeight(name string) *onnxpb.TensorProto {
	p, ok := x.producer[name]
	if !ok {
		return nil
	}
	n := x.g.Node[p]
	if n.GetOpType() != "Cast" || n.GetDomain() != "" || attrInt(n, "to", 0) != int64(onnxpb.TensorProto_FLOAT) || len(n.Input) != 1 {
		return nil
	}
	t, ok := x.inits[n.Input[0]]
	if !ok || t.GetDataType() != int32(onnxpb.TensorProto_FLOAT16) {
		return nil
	}
	v, err := halfFloats(t)
	if err != nil {
		return nil
	}
	return floatsTensorDims(name, t.GetDims(), v)
}

func nodeName(n *onnxpb.NodeProto, i int) string {
	if n.GetName() != "" {
		return n.GetName()
	}
	if len(n.GetOutput()) > 0 {
		return n.GetOutput()[0]
	}
	return fmt.Sprintf("%s#%d", n.GetOpType(), i)
}

func attrInt(n *onnxpb.NodeProto, name string, def int64) int64 {
	for _, a := range n.GetAttribute() {
		if a.GetName() == name {
			return a.GetI()
		}
	}
	return def
}

func attrFloat(n *onnxpb.NodeProto, name string, def float32) float32 {
	for _, a := range n.GetAttribute() {
		if a.GetName() == name {
			return a.GetF()
		}
	}
	return def
}

// Analyse reads a model's graph and plans its quantisation. A model whose opset is too
// old for per-channel QDQ is refused; nodes outside QuantisableOps, or whose inputs do
// not fit (a Conv whose weights are computed, an Add of a constant), are listed in
// Unquantised and stay fp32.
func Analyse(m *onnxpb.ModelProto) (*Plan, error) {
	opset := int64(0)
	for _, o := range m.GetOpsetImport() {
		if o.GetDomain() == "" || o.GetDomain() == "ai.onnx" {
			opset = o.GetVersion()
		}
	}
	if opset < MinOpset {
		return nil, fmt.Errorf("the model's opset is %d: quantisation with per-channel weights needs opset %d or later; re-export the model with a newer opset", opset, MinOpset)
	}
	x := indexGraph(m.GetGraph())
	p := &Plan{model: m, g: x}
	seen := map[string]bool{}
	for i, n := range x.g.GetNode() {
		name := nodeName(n, i)
		op := n.GetOpType()
		if n.GetDomain() != "" && n.GetDomain() != "ai.onnx" {
			p.Unquantised = append(p.Unquantised, Unquantised{name, n.GetDomain() + "." + op, "operator of another domain"})
			continue
		}
		kind, why := x.classify(n)
		switch {
		case why == "":
			p.Layers = append(p.Layers, Layer{Name: name, Op: op, Kind: kind, index: i})
			// Calibration measures what a quantised layer reads and writes, and the
			// output of a Relu that would be fused into it.
			ts := append(activationInputs(n), n.Output[0])
			if c := x.consumers[n.Output[0]]; len(c) == 1 && x.g.Node[c[0]].GetOpType() == "Relu" {
				ts = append(ts, x.g.Node[c[0]].Output[0])
			}
			for _, t := range ts {
				if !seen[t] && !x.inputs[t] {
					seen[t] = true
					p.Tensors = append(p.Tensors, t)
				}
			}
		case op == "Constant" || op == "Relu" || len(n.Output) == 1 && x.castWeight(n.Output[0]) != nil:
			// Constants and the Casts of fp16 weights are weights; a Relu is fused into a
			// quantised node before it, or left as it is (it costs nothing in fp32). None
			// is a loss worth a line.
		default:
			p.Unquantised = append(p.Unquantised, Unquantised{name, op, why})
		}
	}
	return p, nil
}

// activationInputs are the inputs of a quantisable node that carry activations: both
// terms of an Add, the first input of the others (weights and shapes are not).
func activationInputs(n *onnxpb.NodeProto) []string {
	if n.GetOpType() == "Add" {
		return slices.Clone(n.Input[:2])
	}
	return []string{n.Input[0]}
}

// Inputs are the graph inputs that feed quantised layers directly: their ranges come
// from the calibration data itself.
func (p *Plan) Inputs() []string {
	var ins []string
	for _, l := range p.Layers {
		for _, t := range activationInputs(p.g.g.Node[l.index]) {
			if p.g.inputs[t] && !slices.Contains(ins, t) {
				ins = append(ins, t)
			}
		}
	}
	return ins
}

// classify says how node n can be quantised, or why it cannot ("" when it can).
func (x *graphIndex) classify(n *onnxpb.NodeProto) (Kind, string) {
	in := n.GetInput()
	act := func(i int) bool { return i < len(in) && x.isActivation(in[i]) }
	weight := func(i int) bool { return i < len(in) && x.weight(in[i]) != nil }
	dims := func(i int) int { return len(x.weight(in[i]).GetDims()) }
	optionalWeight := func(i int) bool { return i >= len(in) || in[i] == "" || weight(i) }
	switch n.GetOpType() {
	case "Conv":
		if !act(0) || !weight(1) || !optionalWeight(2) {
			return 0, "its weights or bias are not fp32 constants of the model"
		}
		if dims(1) < 3 {
			return 0, "its weights are not a convolution kernel"
		}
		return Weighted, ""
	case "Gemm":
		if !act(0) || !weight(1) || !optionalWeight(2) {
			return 0, "its weights or bias are not fp32 constants of the model"
		}
		if attrInt(n, "transA", 0) != 0 || dims(1) != 2 {
			return 0, "a transposed or non-matrix input"
		}
		if len(in) > 2 && in[2] != "" && (attrFloat(n, "alpha", 1) != 1 || attrFloat(n, "beta", 1) != 1 || dims(2) != 1) {
			return 0, "a scaled or broadcast bias"
		}
		return Weighted, ""
	case "Add":
		if len(in) != 2 || !act(0) || !act(1) {
			return 0, "it adds a constant (only the sum of two computed tensors is quantised)"
		}
		return Arithmetic, ""
	case "GlobalAveragePool", "AveragePool":
		if !act(0) {
			return 0, "its input is a constant"
		}
		return Arithmetic, ""
	case "MaxPool", "Flatten", "Reshape":
		if !act(0) || len(n.GetOutput()) > 1 && n.GetOutput()[1] != "" {
			return 0, "its input is a constant, or it returns indices"
		}
		return Shared, ""
	}
	return 0, "operator not in the quantisable set (" + strings.Join(QuantisableOps, ", ") + ")"
}

// Range is an activation tensor's calibrated range.
type Range struct{ Lo, Hi float64 }

// Params are a uint8 activation's quantisation parameters.
type Params struct {
	Scale float32
	Zero  uint8
}

// ParamsOf turns a range into uint8 parameters. The range is widened to hold 0 (so that
// zero padding and a removed Relu are exact) and a degenerate one gets scale 1.
func ParamsOf(r Range) Params {
	lo, hi := min(r.Lo, 0), max(r.Hi, 0)
	scale := float32((hi - lo) / 255)
	if !(scale > 1e-12) { // also NaN
		return Params{Scale: 1}
	}
	z := -lo / float64(scale)
	return Params{Scale: scale, Zero: uint8(min(max(roundHalfEven(z), 0), 255))}
}

// Quantise returns a copy of the plan's model in QDQ form with the layers named in
// quantised (by Layer.Name) quantised, using ranges for their activations (a range for
// every tensor of Plan.Tensors the quantised layers touch). A Relu right after a
// quantised Conv, Gemm or Add is removed, its output taking the node's: the uint8 range
// starting at 0 clips as it did, and ONNX Runtime fuses the node into QLinearConv and the
// like. Layers not named stay fp32. It also returns the Relu nodes it removed.
func (p *Plan) Quantise(quantised []string, ranges map[string]Range) (*onnxpb.ModelProto, []string, error) {
	want := map[string]bool{}
	for _, n := range quantised {
		want[n] = true
	}
	m := cloneModel(p.model)
	g := m.Graph
	x := indexGraph(g)
	q := map[int]Layer{}
	for _, l := range p.Layers {
		if want[l.Name] {
			q[l.index] = l
			delete(want, l.Name)
		}
	}
	if len(want) > 0 {
		names := make([]string, 0, len(want))
		for n := range want {
			names = append(names, n)
		}
		slices.Sort(names)
		return nil, nil, fmt.Errorf("no quantisable layer named %s", strings.Join(names, ", "))
	}
	// The layers in graph order: walking the map would write the weights' nodes and
	// initializers in a different order on every run, a different file from the same
	// model (two fresh-clone rebuilds of the cyano pack, 2026-12-06).
	order := slices.Sorted(maps.Keys(q))
	// A weighted layer left fp32 reads its input as computed, never through a
	// DequantizeLinear: ONNX Runtime's WeightBiasQuantization would quantise a Conv or Gemm
	// between DequantizeLinear and QuantizeLinear on its own (per tensor, full int8 range),
	// and the layer would neither be fp32 nor exact on CPUs without VNNI.
	kept := map[int]bool{}
	for _, l := range p.Layers {
		if _, ok := q[l.index]; !ok && l.Kind == Weighted {
			kept[l.index] = true
		}
	}
	// Shared-range nodes keep their input's range only when the node before them is
	// quantised; otherwise they stay fp32 (nothing to share).
	removed := map[int]bool{}
	var fused []string
	for _, i := range order {
		l := q[i]
		if l.Op != "Conv" && l.Op != "Gemm" && l.Op != "Add" {
			continue
		}
		out := g.Node[i].Output[0]
		cons := x.consumers[out]
		if len(cons) != 1 || x.outputs[out] || g.Node[cons[0]].GetOpType() != "Relu" || g.Node[cons[0]].GetDomain() != "" {
			continue
		}
		r := cons[0]
		// A fused Relu is the QuantizeLinear's clipping at 0; a kept layer reads the tensor
		// without it, so a Relu feeding one stays.
		if slices.ContainsFunc(x.consumers[g.Node[r].Output[0]], func(c int) bool { return kept[c] }) {
			continue
		}
		g.Node[i].Output[0] = g.Node[r].Output[0]
		removed[r] = true
		fused = append(fused, nodeName(g.Node[r], r))
	}
	slices.Sort(fused)
	x = indexGraphSkipping(g, removed)

	// The tensors that get a QuantizeLinear/DequantizeLinear pair: the activation inputs
	// and the outputs of quantised nodes.
	quant := map[string]bool{}
	for _, i := range order {
		n := g.Node[i]
		for _, in := range activationInputs(n) {
			quant[in] = true
		}
		quant[n.Output[0]] = true
	}
	// A quantised shared node's input and output take one set of parameters, from the
	// union of their ranges (a MaxPool's output is its input's upper tail: the input's
	// percentile alone would clip the very values it keeps), through chains of them.
	group := map[string]string{} // tensor -> the first tensor of its chain
	var root func(t string) string
	root = func(t string) string {
		if r, ok := group[t]; ok && r != t {
			return root(r)
		}
		return t
	}
	for _, i := range order {
		if q[i].Kind == Shared {
			group[root(g.Node[i].Output[0])] = root(g.Node[i].Input[0])
		}
	}
	merged := map[string]Range{}
	for t := range quant {
		r, ok := ranges[t]
		if !ok {
			return nil, nil, fmt.Errorf("no calibrated range for tensor %q", t)
		}
		k := root(t)
		if m, seen := merged[k]; seen {
			r = Range{min(m.Lo, r.Lo), max(m.Hi, r.Hi)}
		}
		merged[k] = r
	}
	params := map[string]Params{}
	for t := range quant {
		params[t] = ParamsOf(merged[root(t)])
	}

	var inits []*onnxpb.TensorProto
	var head []*onnxpb.NodeProto // weight DequantizeLinear nodes, ahead of everything
	for _, i := range order {
		l := q[i]
		if l.Kind != Weighted {
			continue
		}
		n := g.Node[i]
		nodes, ts, err := quantiseWeights(n, x.weight, params[n.Input[0]], nodeName(n, i))
		if err != nil {
			return nil, nil, fmt.Errorf("layer %s: %w", l.Name, err)
		}
		head = append(head, nodes...)
		inits = append(inits, ts...)
	}
	qdq := func(t string) []*onnxpb.NodeProto {
		pr := params[t]
		inits = append(inits, scalarFloat(t+"_scale", pr.Scale), scalarUint8(t+"_zero_point", pr.Zero))
		return []*onnxpb.NodeProto{
			newNode("QuantizeLinear", t+"_QuantizeLinear", []string{t, t + "_scale", t + "_zero_point"}, []string{t + "_QuantizeLinear_Output"}),
			newNode("DequantizeLinear", t+"_DequantizeLinear", []string{t + "_QuantizeLinear_Output", t + "_scale", t + "_zero_point"}, []string{t + "_DequantizeLinear_Output"}),
		}
	}
	nodes := head
	for _, in := range g.GetInput() {
		if quant[in.GetName()] {
			nodes = append(nodes, qdq(in.GetName())...)
		}
	}
	for i, n := range g.Node {
		if removed[i] {
			continue
		}
		for j, in := range n.Input {
			if quant[in] && !kept[i] {
				n.Input[j] = in + "_DequantizeLinear_Output"
			}
		}
		nodes = append(nodes, n)
		for _, o := range n.Output {
			if quant[o] {
				nodes = append(nodes, qdq(o)...)
			}
		}
	}
	g.Node = pruneDead(nodes, x.outputs)
	nodes = g.Node
	// Initializers nothing reads any more (the fp32 weights replaced), and value infos of
	// tensors that no longer exist (a fused Relu's input), go.
	used, made := tensorSet(nodes, (*onnxpb.NodeProto).GetInput), tensorSet(nodes, (*onnxpb.NodeProto).GetOutput)
	g.Initializer = append(slices.DeleteFunc(g.Initializer, func(t *onnxpb.TensorProto) bool { return !used[t.GetName()] }), inits...)
	g.ValueInfo = slices.DeleteFunc(g.ValueInfo, func(v *onnxpb.ValueInfoProto) bool { return !made[v.GetName()] })
	return m, fused, nil
}

// pruneDead drops the nodes none of whose outputs is read or a graph output (the Casts
// of weights the quantised ones replaced), repeatedly, keeping the order.
func pruneDead(nodes []*onnxpb.NodeProto, outputs map[string]bool) []*onnxpb.NodeProto {
	for {
		used := tensorSet(nodes, (*onnxpb.NodeProto).GetInput)
		kept := slices.DeleteFunc(slices.Clone(nodes), func(n *onnxpb.NodeProto) bool {
			return !slices.ContainsFunc(n.Output, func(o string) bool { return used[o] || outputs[o] })
		})
		if len(kept) == len(nodes) {
			return nodes
		}
		nodes = kept
	}
}

// tensorSet is the set of the tensors names(n) lists over nodes.
func tensorSet(nodes []*onnxpb.NodeProto, names func(*onnxpb.NodeProto) []string) map[string]bool {
	set := map[string]bool{}
	for _, n := range nodes {
		for _, t := range names(n) {
			set[t] = true
		}
	}
	return set
}

// indexGraphSkipping indexes g as if the nodes in skip were gone.
func indexGraphSkipping(g *onnxpb.GraphProto, skip map[int]bool) *graphIndex {
	x := indexGraph(g)
	for i, n := range g.Node {
		if !skip[i] {
			continue
		}
		for _, in := range n.Input {
			x.consumers[in] = slices.DeleteFunc(x.consumers[in], func(c int) bool { return c == i })
		}
	}
	for o, i := range x.producer {
		if skip[i] {
			delete(x.producer, o)
		}
	}
	for i, n := range g.Node {
		if skip[i] {
			continue
		}
		for _, o := range n.Output {
			if o != "" {
				x.producer[o] = i
			}
		}
	}
	return x
}

// WithOutputs returns a copy of m that also outputs the named tensors (as float32), for
// the calibration pass.
func WithOutputs(m *onnxpb.ModelProto, names []string) *onnxpb.ModelProto {
	c := cloneModel(m)
	have := map[string]bool{}
	for _, o := range c.Graph.Output {
		have[o.GetName()] = true
	}
	for _, n := range names {
		if !have[n] {
			c.Graph.Output = append(c.Graph.Output, floatValueInfo(n))
			have[n] = true
		}
	}
	return c
}
