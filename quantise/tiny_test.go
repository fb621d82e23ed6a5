package quantise

import (
	"encoding/binary"
	"encoding/json"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/phytoscreen/phytoscreen/internal/onnxpb"
	"google.golang.org/protobuf/proto"
)

// tinyModel is a small classifier built node by node: image [N,1,8,8] -> Conv -> Relu ->
// MaxPool -> Sin (outside the quantisable set) -> Add(MaxPool, Sin) -> GlobalAveragePool
// -> Flatten -> Gemm -> Softmax -> probabilities [N,2].
func tinyModel(opset int64) *onnxpb.ModelProto {
	rng := rand.New(rand.NewPCG(1, 2))
	weights := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * 0.5)
		}
		return v
	}
	init := func(name string, dims []int64, v []float32) *onnxpb.TensorProto {
		raw := make([]byte, 0, 4*len(v))
		for _, f := range v {
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(f))
		}
		return tensorOf(name, onnxpb.TensorProto_FLOAT, dims, raw)
	}
	ints := func(name string, v ...int64) *onnxpb.AttributeProto {
		t := onnxpb.AttributeProto_INTS
		return &onnxpb.AttributeProto{Name: proto.String(name), Type: &t, Ints: v}
	}
	node := func(op, name string, in []string, out string, attrs ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
		n := newNode(op, name, in, []string{out})
		n.Attribute = attrs
		return n
	}
	io := func(name string, dims ...int64) *onnxpb.ValueInfoProto {
		v := floatValueInfo(name)
		shape := &onnxpb.TensorShapeProto{}
		for _, d := range dims {
			dim := &onnxpb.TensorShapeProto_Dimension{}
			if d < 0 {
				dim.Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "N"}
			} else {
				dim.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}
			}
			shape.Dim = append(shape.Dim, dim)
		}
		v.GetType().GetTensorType().Shape = shape
		return v
	}
	g := &onnxpb.GraphProto{
		Name: proto.String("tiny"),
		Node: []*onnxpb.NodeProto{
			node("Conv", "c1", []string{"image", "c1.w", "c1.b"}, "c1_out", ints("pads", 1, 1, 1, 1), ints("kernel_shape", 3, 3)),
			node("Relu", "r1", []string{"c1_out"}, "r1_out"),
			node("MaxPool", "mp", []string{"r1_out"}, "mp_out", ints("kernel_shape", 2, 2), ints("strides", 2, 2)),
			node("Sin", "s", []string{"mp_out"}, "s_out"),
			node("Add", "add", []string{"mp_out", "s_out"}, "add_out"),
			node("GlobalAveragePool", "gap", []string{"add_out"}, "gap_out"),
			node("Flatten", "fl", []string{"gap_out"}, "fl_out"),
			node("Gemm", "fc", []string{"fl_out", "fc.w", "fc.b"}, "logits", intAttr("transB", 1)),
			node("Softmax", "sm", []string{"logits"}, "probabilities"),
		},
		Initializer: []*onnxpb.TensorProto{
			init("c1.w", []int64{4, 1, 3, 3}, weights(36)),
			init("c1.b", []int64{4}, weights(4)),
			init("fc.w", []int64{2, 4}, weights(8)),
			init("fc.b", []int64{2}, weights(2)),
		},
		Input:  []*onnxpb.ValueInfoProto{io("image", -1, 1, 8, 8)},
		Output: []*onnxpb.ValueInfoProto{io("probabilities", -1, 2)},
	}
	return &onnxpb.ModelProto{IrVersion: proto.Int64(8), ProducerName: proto.String("quantise test"), Graph: g,
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(opset)}}}
}

// tinyPack writes a pack folder around tinyModel (base.onnx only) and returns it.
func tinyPack(t *testing.T) string {
	t.Helper()
	return tinyPackOf(t, tinyModel(17))
}

// tinyPackOf writes a pack folder around m, a model with tinyModel's input and output.
func tinyPackOf(t *testing.T, m *onnxpb.ModelProto) string {
	t.Helper()
	dir := t.TempDir()
	data, err := onnxpb.WriteModel(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "base.onnx"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	manifest := map[string]any{
		"name":   "tiny",
		"labels": []string{"dark", "light"},
		"input":  map[string]any{"name": "image", "shape": []int{-1, 1, 8, 8}, "dtype": "float32"},
		"output": map[string]any{"name": "probabilities", "shape": []int{-1, 2}},
		"models": map[string]any{"base": map[string]any{"file": "base.onnx", "arch": "tiny"}},
	}
	b, _ := json.Marshal(manifest)
	if err := os.WriteFile(filepath.Join(dir, "pack.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("# tiny\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tinyImages writes n small gray PNGs with a labels.csv to a new folder.
func tinyImages(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	csv := "path,label\n"
	for i := range n {
		img := image.NewGray(image.Rect(0, 0, 12, 10))
		base := uint8(40 + 160*(i%2))
		for j := range img.Pix {
			img.Pix[j] = base + uint8(rng.IntN(40))
		}
		name := filepath.Join(dir, "img"+string(rune('a'+i%26))+string(rune('a'+i/26))+".png")
		f, err := os.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
		f.Close()
		csv += filepath.Base(name) + "," + []string{"dark", "light"}[i%2] + "\n"
	}
	if err := os.WriteFile(filepath.Join(dir, LabelsFile), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}
