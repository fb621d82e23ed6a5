package quantise

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/phytoscreen/phytoscreen/internal/onnxpb"
)

func layerNames(p *Plan) []string {
	var n []string
	for _, l := range p.Layers {
		n = append(n, l.Name)
	}
	return n
}

// tinyRanges gives every tensor the plan asks for a range: signed ones [-1, 2], the
// Relu's output [0, 3], the MaxPool's output [0, 5] (wider than its input's, as a
// percentile of the MaxPool's upper tail can be).
func tinyRanges(p *Plan) map[string]Range {
	r := map[string]Range{}
	for _, t := range p.Tensors {
		r[t] = Range{-1, 2}
	}
	r["image"] = Range{0, 1}
	r["r1_out"] = Range{0, 3}
	r["mp_out"] = Range{0, 5}
	return r
}

func TestAnalyseFindsLayersAndUnquantisableOps(t *testing.T) {
	p, err := Analyse(tinyModel(17))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := layerNames(p), []string{"c1", "mp", "add", "gap", "fl", "fc"}; !slices.Equal(got, want) {
		t.Errorf("layers %v, want %v", got, want)
	}
	if len(p.Unquantised) != 2 || p.Unquantised[0].Name != "s" || p.Unquantised[0].Op != "Sin" || !strings.Contains(p.Unquantised[0].Reason, "not in the quantisable set") || p.Unquantised[1].Op != "Softmax" {
		t.Errorf("unquantised %+v, want the Sin and the Softmax nodes with their reason", p.Unquantised)
	}
	if !slices.Contains(p.Tensors, "r1_out") || !slices.Contains(p.Tensors, "s_out") || slices.Contains(p.Tensors, "image") {
		t.Errorf("tensors %v: want the Relu's and the Sin's outputs (both feed quantised nodes), not the graph input", p.Tensors)
	}
	if got := p.Inputs(); !slices.Equal(got, []string{"image"}) {
		t.Errorf("inputs %v, want [image]", got)
	}
}

func TestAnalyseRefusesOldOpset(t *testing.T) {
	_, err := Analyse(tinyModel(11))
	if err == nil || !strings.Contains(err.Error(), "opset is 11") || !strings.Contains(err.Error(), "re-export") {
		t.Fatalf("err = %v, want the opset named with the fix", err)
	}
}

// checkTopological fails when a node reads a tensor nothing made before it.
func checkTopological(t *testing.T, m *onnxpb.ModelProto) {
	t.Helper()
	have := map[string]bool{}
	for _, in := range m.Graph.Input {
		have[in.GetName()] = true
	}
	for _, in := range m.Graph.Initializer {
		have[in.GetName()] = true
	}
	for _, n := range m.Graph.Node {
		for _, in := range n.Input {
			if in != "" && !have[in] {
				t.Errorf("node %s reads %s before anything makes it", n.GetName(), in)
			}
		}
		for _, o := range n.Output {
			have[o] = true
		}
	}
	for _, o := range m.Graph.Output {
		if !have[o.GetName()] {
			t.Errorf("graph output %s is never made", o.GetName())
		}
	}
}

func nodeByName(m *onnxpb.ModelProto, name string) *onnxpb.NodeProto {
	for _, n := range m.Graph.Node {
		if n.GetName() == name {
			return n
		}
	}
	return nil
}

func initByName(m *onnxpb.ModelProto, name string) *onnxpb.TensorProto {
	for _, t := range m.Graph.Initializer {
		if t.GetName() == name {
			return t
		}
	}
	return nil
}

func scalarParams(t *testing.T, m *onnxpb.ModelProto, tensor string) Params {
	t.Helper()
	s, z := initByName(m, tensor+"_scale"), initByName(m, tensor+"_zero_point")
	if s == nil || z == nil {
		t.Fatalf("tensor %s has no quantisation parameters", tensor)
	}
	return Params{Scale: math.Float32frombits(binary.LittleEndian.Uint32(s.RawData)), Zero: z.RawData[0]}
}

func TestQuantiseRewritesToQDQ(t *testing.T) {
	p, err := Analyse(tinyModel(17))
	if err != nil {
		t.Fatal(err)
	}
	q, fused, err := p.Quantise(layerNames(p), tinyRanges(p))
	if err != nil {
		t.Fatal(err)
	}
	checkTopological(t, q)
	if !slices.Equal(fused, []string{"r1"}) || nodeByName(q, "r1") != nil {
		t.Errorf("fused %v, want the Relu r1 removed", fused)
	}
	c1 := nodeByName(q, "c1")
	if c1.Output[0] != "r1_out" || c1.Input[0] != "image_DequantizeLinear_Output" {
		t.Errorf("c1 reads %s and writes %s: want the quantised image and the Relu's output", c1.Input[0], c1.Output[0])
	}
	// Per-channel int8 weights read through DequantizeLinear on axis 0, an int32 bias whose
	// scale is the input's times the weight's.
	w := initByName(q, "c1_W_quantized")
	if w == nil || w.GetDataType() != int32(onnxpb.TensorProto_INT8) || !slices.Equal(w.Dims, []int64{4, 1, 3, 3}) {
		t.Fatalf("c1 weights %v, want int8 [4 1 3 3]", w)
	}
	if c1.Input[1] != "c1_W_DequantizeLinear_Output" || attrInt(nodeByName(q, "c1_W_DequantizeLinear"), "axis", -1) != 0 {
		t.Errorf("c1 reads weights %s: want them through a per-channel DequantizeLinear", c1.Input[1])
	}
	ws, _ := floats(initByName(q, "c1_W_scale"))
	bs, _ := floats(initByName(q, "c1_B_scale"))
	in := scalarParams(t, q, "image")
	if len(ws) != 4 || len(bs) != 4 {
		t.Fatalf("%d weight scales and %d bias scales, want 4 each", len(ws), len(bs))
	}
	for i := range bs {
		if bs[i] != in.Scale*ws[i] {
			t.Errorf("bias scale %d = %g, want input scale x weight scale = %g", i, bs[i], in.Scale*ws[i])
		}
	}
	if b := initByName(q, "c1_B_quantized"); b.GetDataType() != int32(onnxpb.TensorProto_INT32) {
		t.Errorf("bias type %d, want int32", b.GetDataType())
	}
	// The MaxPool's input and output share one set of parameters, from the union of their
	// ranges ([0, 5]).
	pi, po := scalarParams(t, q, "r1_out"), scalarParams(t, q, "mp_out")
	if pi != po || pi != ParamsOf(Range{0, 5}) {
		t.Errorf("MaxPool parameters in %+v out %+v, want both %+v", pi, po, ParamsOf(Range{0, 5}))
	}
	// The Sin stays fp32 between quantised nodes: it reads the dequantised MaxPool output
	// and its own output is quantised for the Add.
	s := nodeByName(q, "s")
	if s == nil || s.Input[0] != "mp_out_DequantizeLinear_Output" {
		t.Errorf("Sin node %v: want it kept, reading the dequantised MaxPool output", s)
	}
	if a := nodeByName(q, "add"); a.Input[1] != "s_out_DequantizeLinear_Output" {
		t.Errorf("Add reads %v, want the Sin's output quantised", a.Input)
	}
	// The Gemm's weights are [N, K] (transB): per-channel on axis 0 too.
	if fw := initByName(q, "fc_W_quantized"); fw == nil || !slices.Equal(fw.Dims, []int64{2, 4}) {
		t.Errorf("fc weights %v, want int8 [2 4]", fw)
	}
	for _, name := range []string{"c1.w", "c1.b", "fc.w", "fc.b"} {
		if initByName(q, name) != nil {
			t.Errorf("fp32 initializer %s is still in the model", name)
		}
	}
	if _, err := onnxpb.WriteModel(q); err != nil {
		t.Fatal(err)
	}
}

func TestQuantiseLeavesUnnamedLayersFP32(t *testing.T) {
	p, _ := Analyse(tinyModel(17))
	q, fused, err := p.Quantise([]string{"mp", "add", "gap", "fl", "fc"}, tinyRanges(p))
	if err != nil {
		t.Fatal(err)
	}
	checkTopological(t, q)
	if len(fused) != 0 || nodeByName(q, "r1") == nil {
		t.Errorf("fused %v: the Relu after an fp32 Conv must stay", fused)
	}
	c1 := nodeByName(q, "c1")
	if c1.Input[0] != "image" || c1.Input[1] != "c1.w" || c1.Input[2] != "c1.b" {
		t.Errorf("fp32 conv reads %v, want the image and its fp32 weights", c1.Input)
	}
	// The original model is not changed by Quantise.
	if orig := nodeByName(p.model, "c1"); orig.Input[1] != "c1.w" || len(p.model.Graph.Node) != 9 {
		t.Errorf("Quantise changed the plan's model")
	}
}

func TestQuantiseRefusesUnknownLayer(t *testing.T) {
	p, _ := Analyse(tinyModel(17))
	_, _, err := p.Quantise([]string{"c1", "nope"}, tinyRanges(p))
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("err = %v, want the unknown layer named", err)
	}
	_, _, err = p.Quantise([]string{"c1"}, map[string]Range{})
	if err == nil || !strings.Contains(err.Error(), "no calibrated range") {
		t.Fatalf("err = %v, want the missing range named", err)
	}
}

func TestWithOutputsAddsFloatOutputs(t *testing.T) {
	m := tinyModel(17)
	c := WithOutputs(m, []string{"r1_out", "probabilities", "s_out"})
	var names []string
	for _, o := range c.Graph.Output {
		names = append(names, o.GetName())
		if o.GetType().GetTensorType().GetElemType() != int32(onnxpb.TensorProto_FLOAT) {
			t.Errorf("output %s is not declared float", o.GetName())
		}
	}
	if !slices.Equal(names, []string{"probabilities", "r1_out", "s_out"}) || len(m.Graph.Output) != 1 {
		t.Errorf("outputs %v (original %d), want probabilities, r1_out, s_out added to a copy", names, len(m.Graph.Output))
	}
}

func TestHalfToFloat(t *testing.T) {
	for h, want := range map[uint16]float32{0x3C00: 1, 0xC000: -2, 0x3800: 0.5, 0x7BFF: 65504, 0x0001: 5.9604645e-08, 0x8000: 0, 0x3555: 0.33325195} {
		if got := halfToFloat(h); got != want {
			t.Errorf("halfToFloat(%#04x) = %g, want %g", h, got, want)
		}
	}
	if !math.IsInf(float64(halfToFloat(0xFC00)), -1) {
		t.Error("0xFC00 is -Inf")
	}
}

// A model keeping its weights in fp16 behind Cast nodes (as the v2 packs do) is quantised
// like one with fp32 weights: the Casts are weights, not unquantisable nodes, and go.
func TestQuantiseFP16WeightsBehindCast(t *testing.T) {
	m := tinyModel(17)
	g := m.Graph
	w := initByName(m, "c1.w")
	v, _ := floats(w)
	raw := make([]byte, 0, 2*len(v))
	for _, f := range v {
		// Round to fp16 through the bits of values that fp16 holds: keep 10 mantissa bits.
		b := math.Float32bits(f)
		e := int((b>>23)&0xff) - 127 + 15
		raw = binary.LittleEndian.AppendUint16(raw, uint16(b>>31)<<15|uint16(e)<<10|uint16((b>>13)&0x3ff))
	}
	g.Initializer = slices.DeleteFunc(g.Initializer, func(t *onnxpb.TensorProto) bool { return t.GetName() == "c1.w" })
	g.Initializer = append(g.Initializer, tensorOf("c1.w_fp16", onnxpb.TensorProto_FLOAT16, w.Dims, raw))
	cast := newNode("Cast", "c1.w_cast", []string{"c1.w_fp16"}, []string{"c1.w"})
	cast.Attribute = append(cast.Attribute, intAttr("to", int64(onnxpb.TensorProto_FLOAT)))
	g.Node = append([]*onnxpb.NodeProto{cast}, g.Node...)
	p, err := Analyse(m)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(layerNames(p), "c1") || slices.ContainsFunc(p.Unquantised, func(u Unquantised) bool { return u.Op == "Cast" }) {
		t.Fatalf("layers %v, unquantised %v: want c1 quantisable and the Cast silent", layerNames(p), p.Unquantised)
	}
	q, _, err := p.Quantise(layerNames(p), tinyRanges(p))
	if err != nil {
		t.Fatal(err)
	}
	checkTopological(t, q)
	if nodeByName(q, "c1.w_cast") != nil || initByName(q, "c1.w_fp16") != nil {
		t.Error("the Cast of the replaced weights and its fp16 initializer are still in the model")
	}
	ws, _ := floats(initByName(q, "c1_W_scale"))
	_, want := WeightScales(v, w.Dims, 0)
	for i := range ws {
		if math.Abs(float64(ws[i]-want[i])) > 1e-3*float64(want[i]) {
			t.Errorf("weight scale %d = %g, want about %g (from the fp16 values)", i, ws[i], want[i])
		}
	}
}

// The same plan and ranges give the same file, byte for byte: the weights' nodes and
// initializers were written in map order, so two rebuilds of a pack made two different
// twins of one model (the cyano pack's fresh-clone rebuilds, 2026-12-06).
func TestQuantiseWritesTheSameFileEveryTime(t *testing.T) {
	p, err := Analyse(tinyModel(17))
	if err != nil {
		t.Fatal(err)
	}
	var first []byte
	for run := range 20 {
		q, _, err := p.Quantise(layerNames(p), tinyRanges(p))
		if err != nil {
			t.Fatal(err)
		}
		b, err := onnxpb.WriteModel(q)
		if err != nil {
			t.Fatal(err)
		}
		if run == 0 {
			first = b
		} else if !bytes.Equal(b, first) {
			t.Fatalf("run %d wrote another file than run 0 (%d and %d bytes)", run, len(b), len(first))
		}
	}
}
