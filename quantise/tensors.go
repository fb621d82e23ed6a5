package quantise

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/phytoscreen/phytoscreen/internal/onnxpb"
	"google.golang.org/protobuf/proto"
)

func cloneModel(m *onnxpb.ModelProto) *onnxpb.ModelProto {
	return proto.Clone(m).(*onnxpb.ModelProto)
}

func newNode(op, name string, in, out []string) *onnxpb.NodeProto {
	return &onnxpb.NodeProto{OpType: proto.String(op), Name: proto.String(name), Input: in, Output: out}
}

func intAttr(name string, v int64) *onnxpb.AttributeProto {
	t := onnxpb.AttributeProto_INT
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: &t, I: proto.Int64(v)}
}

func tensorOf(name string, dt onnxpb.TensorProto_DataType, dims []int64, raw []byte) *onnxpb.TensorProto {
	return &onnxpb.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(dt)), Dims: dims, RawData: raw}
}

func scalarFloat(name string, v float32) *onnxpb.TensorProto {
	return tensorOf(name, onnxpb.TensorProto_FLOAT, nil, binary.LittleEndian.AppendUint32(nil, math.Float32bits(v)))
}

func scalarUint8(name string, v uint8) *onnxpb.TensorProto {
	return tensorOf(name, onnxpb.TensorProto_UINT8, nil, []byte{v})
}

func floatsTensor(name string, v []float32) *onnxpb.TensorProto {
	raw := make([]byte, 0, 4*len(v))
	for _, f := range v {
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(f))
	}
	return tensorOf(name, onnxpb.TensorProto_FLOAT, []int64{int64(len(v))}, raw)
}

func floatsTensorDims(name string, dims []int64, v []float32) *onnxpb.TensorProto {
	t := floatsTensor(name, v)
	t.Dims = dims
	return t
}

// halfFloats reads an fp16 tensor's values as float32, from raw_data or int32_data (which
// holds one 16-bit pattern a value).
func halfFloats(t *onnxpb.TensorProto) ([]float32, error) {
	n := int64(1)
	for _, d := range t.GetDims() {
		n *= d
	}
	bits := make([]uint16, 0, n)
	if raw := t.GetRawData(); len(raw) > 0 {
		if int64(len(raw)) != 2*n {
			return nil, fmt.Errorf("tensor %s holds %d bytes for %d fp16 values", t.GetName(), len(raw), n)
		}
		for i := range n {
			bits = append(bits, binary.LittleEndian.Uint16(raw[2*i:]))
		}
	} else {
		if int64(len(t.GetInt32Data())) != n {
			return nil, fmt.Errorf("tensor %s holds %d fp16 values, its shape needs %d", t.GetName(), len(t.GetInt32Data()), n)
		}
		for _, v := range t.GetInt32Data() {
			bits = append(bits, uint16(v))
		}
	}
	v := make([]float32, n)
	for i, h := range bits {
		v[i] = halfToFloat(h)
	}
	return v, nil
}

// halfToFloat converts IEEE 754 half precision to float32 exactly.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: frac x 2^-24
		f := float32(frac) * float32(math.Ldexp(1, -24))
		if sign != 0 {
			f = -f
		}
		return f
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | frac<<13)
	}
	return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
}

func floatValueInfo(name string) *onnxpb.ValueInfoProto {
	return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{
		Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(onnxpb.TensorProto_FLOAT))}},
	}}
}

// floats reads an fp32 tensor's values, from raw_data or float_data.
func floats(t *onnxpb.TensorProto) ([]float32, error) {
	if t.GetDataType() != int32(onnxpb.TensorProto_FLOAT) {
		return nil, fmt.Errorf("tensor %s is not float32", t.GetName())
	}
	if t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
		return nil, fmt.Errorf("tensor %s is stored outside the model file: save the model with its weights inside", t.GetName())
	}
	n := int64(1)
	for _, d := range t.GetDims() {
		n *= d
	}
	if raw := t.GetRawData(); len(raw) > 0 {
		if int64(len(raw)) != 4*n {
			return nil, fmt.Errorf("tensor %s holds %d bytes for %d values", t.GetName(), len(raw), n)
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		return v, nil
	}
	if int64(len(t.GetFloatData())) != n {
		return nil, fmt.Errorf("tensor %s holds %d values, its shape %v needs %d", t.GetName(), len(t.GetFloatData()), t.GetDims(), n)
	}
	return t.GetFloatData(), nil
}

// roundHalfEven rounds as QuantizeLinear does (ties to even).
func roundHalfEven(x float64) float64 { return math.RoundToEven(x) }

// WeightLevels is the largest |q| a weight takes: 7-bit weights in an int8, as ONNX
// Runtime's reduce_range makes them. On x86 CPUs with AVX2 but no VNNI (many AMD EPYC and
// older Intel parts) ONNX Runtime's u8×s8 kernels add pairs of products in int16 with
// saturation (VPMADDUBSW): 2×255×127 overflows it and the twin's accuracy collapses (the
// cyano twin fell from top-1 0.865 to 0.583 on such a machine), while 2×255×64 = 32,640
// fits. With 7 bits the integer arithmetic is exact on every CPU, so a twin's card holds
// on whatever machine measures it.
const WeightLevels = 64

// WeightScales quantises w (channels along axis of shape dims) symmetrically per channel:
// scale = max|w_c| / WeightLevels, values rounded and clipped to ±WeightLevels.
func WeightScales(w []float32, dims []int64, axis int) ([]int8, []float32) {
	// w is laid out as [outer, C, inner] around the axis.
	outer, inner := int64(1), int64(1)
	for i, d := range dims {
		switch {
		case i < axis:
			outer *= d
		case i > axis:
			inner *= d
		}
	}
	c := dims[axis]
	absMax := make([]float64, c)
	for o := range outer {
		for k := range c {
			for _, v := range w[(o*c+k)*inner : (o*c+k+1)*inner] {
				absMax[k] = max(absMax[k], math.Abs(float64(v)))
			}
		}
	}
	scales := make([]float32, c)
	for k, a := range absMax {
		scales[k] = float32(a / WeightLevels)
		if !(scales[k] > 0) {
			scales[k] = 1
		}
	}
	q := make([]int8, len(w))
	for o := range outer {
		for k := range c {
			base := (o*c + k) * inner
			for i, v := range w[base : base+inner] {
				q[base+int64(i)] = int8(min(max(roundHalfEven(float64(v)/float64(scales[k])), -WeightLevels), WeightLevels))
			}
		}
	}
	return q, scales
}

// quantiseWeights replaces a Conv's or Gemm's fp32 weights (and bias) by int8 (int32)
// initializers read through DequantizeLinear nodes, per output channel. in is the
// activation input's parameters: the bias scale is theirs times the weight's.
func quantiseWeights(n *onnxpb.NodeProto, weight func(string) *onnxpb.TensorProto, in Params, name string) ([]*onnxpb.NodeProto, []*onnxpb.TensorProto, error) {
	wt := weight(n.Input[1])
	w, err := floats(wt)
	if err != nil {
		return nil, nil, err
	}
	dims := wt.GetDims()
	axis := 0
	if n.GetOpType() == "Gemm" && attrInt(n, "transB", 0) == 0 {
		axis = 1 // B is [K, N]: the output channels are its columns
	}
	q, scales := WeightScales(w, dims, axis)
	raw := make([]byte, len(q))
	for i, v := range q {
		raw[i] = byte(v)
	}
	base := name + "_W"
	zeros := make([]byte, len(scales))
	ts := []*onnxpb.TensorProto{
		tensorOf(base+"_quantized", onnxpb.TensorProto_INT8, dims, raw),
		floatsTensor(base+"_scale", scales),
		tensorOf(base+"_zero_point", onnxpb.TensorProto_INT8, []int64{int64(len(scales))}, zeros),
	}
	dq := newNode("DequantizeLinear", base+"_DequantizeLinear", []string{base + "_quantized", base + "_scale", base + "_zero_point"}, []string{base + "_DequantizeLinear_Output"})
	dq.Attribute = []*onnxpb.AttributeProto{intAttr("axis", int64(axis))}
	n.Input[1] = base + "_DequantizeLinear_Output"
	nodes := []*onnxpb.NodeProto{dq}
	if len(n.Input) < 3 || n.Input[2] == "" {
		return nodes, ts, nil
	}
	bt := weight(n.Input[2])
	b, err := floats(bt)
	if err != nil {
		return nil, nil, err
	}
	if len(b) != len(scales) {
		return nil, nil, fmt.Errorf("bias %s has %d values for %d output channels", bt.GetName(), len(b), len(scales))
	}
	bq := make([]byte, 0, 4*len(b))
	bs := make([]float32, len(b))
	for i, v := range b {
		bs[i] = in.Scale * scales[i]
		r := roundHalfEven(float64(v) / float64(bs[i]))
		bq = binary.LittleEndian.AppendUint32(bq, uint32(int32(min(max(r, math.MinInt32), math.MaxInt32))))
	}
	bb := name + "_B"
	ts = append(ts,
		tensorOf(bb+"_quantized", onnxpb.TensorProto_INT32, []int64{int64(len(b))}, bq),
		floatsTensor(bb+"_scale", bs),
		tensorOf(bb+"_zero_point", onnxpb.TensorProto_INT32, []int64{int64(len(b))}, make([]byte, 4*len(b))),
	)
	bdq := newNode("DequantizeLinear", bb+"_DequantizeLinear", []string{bb + "_quantized", bb + "_scale", bb + "_zero_point"}, []string{bb + "_DequantizeLinear_Output"})
	bdq.Attribute = []*onnxpb.AttributeProto{intAttr("axis", 0)}
	n.Input[2] = bb + "_DequantizeLinear_Output"
	return append(nodes, bdq), ts, nil
}
