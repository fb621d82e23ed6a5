package quantise

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/onnxpb"
	"github.com/phytoscreen/phytoscreen/internal/testpack"
	"google.golang.org/protobuf/proto"
)

func TestOptimiseRefusesCalibrationWithoutImages(t *testing.T) {
	p, err := inference.LoadPackDir(tinyPack(t))
	if err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	if err := os.WriteFile(filepath.Join(empty, "notes.txt"), []byte("no images here"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Optimise(context.Background(), Options{Pack: p, Calibration: os.DirFS(empty), CalibrationName: empty, Out: filepath.Join(t.TempDir(), "out")}, nil)
	if !errors.Is(err, ErrNoImages) || !strings.Contains(err.Error(), empty) || !strings.Contains(err.Error(), "give a folder") {
		t.Fatalf("err = %v, want the folder named with the fix", err)
	}
}

func TestOptimiseRefusesTheSourcePackAsOut(t *testing.T) {
	dir := tinyPack(t)
	p, err := inference.LoadPackDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	images := tinyImages(t, 4)
	for _, out := range []string{dir, dir + "/.", filepath.Join(dir, "..", filepath.Base(dir)), filepath.Join(dir, "twin")} {
		_, err = Optimise(context.Background(), Options{Pack: p, Calibration: os.DirFS(images), CalibrationName: images, Out: out}, nil)
		if err == nil || !strings.Contains(err.Error(), "is the source pack") {
			t.Errorf("--out %s: err = %v, want it refused as the source pack", out, err)
		}
	}
	// A folder holding something else is refused too; a file is.
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "thesis.docx"), []byte("x"), 0o644)
	if _, err = Optimise(context.Background(), Options{Pack: p, Calibration: os.DirFS(images), Out: other}, nil); err == nil || !strings.Contains(err.Error(), "holds other files") {
		t.Errorf("--out %s: err = %v, want it refused", other, err)
	}
	if _, err = Optimise(context.Background(), Options{Pack: p, Calibration: os.DirFS(images), Out: filepath.Join(other, "thesis.docx")}, nil); err == nil || !strings.Contains(err.Error(), "is a file") {
		t.Errorf("--out onto a file: err = %v, want it refused", err)
	}
	// Another pack's folder is refused, and left as it was; an earlier twin is not
	// (TestOptimiseTinyPack... replaces one).
	another := t.TempDir()
	manifest := `{"name": "cyano-tcb-10", "labels": ["Microcystis", "Nostoc"]}`
	os.WriteFile(filepath.Join(another, inference.ManifestFile), []byte(manifest), 0o644)
	os.WriteFile(filepath.Join(another, "taxonomy.toml"), []byte("x"), 0o644)
	_, err = Optimise(context.Background(), Options{Pack: p, Calibration: os.DirFS(images), Out: another}, nil)
	if err == nil || !strings.Contains(err.Error(), `holds pack "cyano-tcb-10" (2 labels), not an earlier optimised pack of "tiny"`) {
		t.Errorf("--out another pack: err = %v, want it refused naming both packs", err)
	}
	if b, _ := os.ReadFile(filepath.Join(another, "taxonomy.toml")); string(b) != "x" {
		t.Error("the other pack's taxonomy was touched")
	}
	if err := checkEarlierTwin(p, dir); err != nil {
		t.Errorf("a folder holding the pack itself (an earlier twin's manifest): %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "twin")); err == nil {
		t.Error("a folder was made inside the source pack")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "README.md")); string(b) != "# tiny\n" {
		t.Errorf("the source pack's README changed: %q", b)
	}
}

// The whole path on a small model with an op outside the quantisable set: it stays fp32
// and the report says so; the new pack loads and its model runs quantised.
func TestOptimiseTinyPackKeepsUnquantisableOpsFP32(t *testing.T) {
	testpack.RequireRuntime(t)
	dir := tinyPack(t)
	p, err := inference.LoadPackDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	images := tinyImages(t, 24)
	out := filepath.Join(t.TempDir(), "twin")
	var stages []string
	rep, err := Optimise(context.Background(), Options{Pack: p, Calibration: os.DirFS(images), CalibrationName: images, Out: out,
		MaxLayerLoss: -1, CompareMethods: true, SpeedDuration: -1, Threads: 1},
		func(stage string, done, total int) {
			if len(stages) == 0 || stages[len(stages)-1] != stage {
				stages = append(stages, stage)
			}
		})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Unquantised) != 2 || rep.Unquantised[0].Op != "Sin" {
		t.Errorf("unquantised %+v, want Sin (and Softmax) reported", rep.Unquantised)
	}
	if rep.CalibrationImages != 24 || rep.CalibrationLabels != 24 || len(rep.Layers) != 6 || len(rep.KeptFP32) != 0 || len(rep.Methods) != 3 {
		t.Errorf("report: %d images (%d labelled), %d layers, kept %v, %d methods", rep.CalibrationImages, rep.CalibrationLabels, len(rep.Layers), rep.KeptFP32, len(rep.Methods))
	}
	// 24 images: too few to tell a layer's cost from chance, said with the fix
	// (helper-68: 10 images gave a twin of 80% agreement without a word).
	if few := rep.FewImages(); !strings.Contains(few, "calibrated on 24 images, too few to tell a layer's cost from chance (one image is 4 points of agreement)") ||
		!strings.Contains(few, "calibrate on at least 100 images") {
		t.Errorf("the warning of 24 calibration images: %q", few)
	}
	if few := (&Report{CalibrationImages: SureCalibration}).FewImages(); few != "" {
		t.Errorf("%d calibration images warned of: %q", SureCalibration, few)
	}
	if rep.RuntimeOps["QLinearConv"] != 1 || rep.RuntimeOps["Sin"] != 1 {
		t.Errorf("runtime ops %v: want the Conv fused into QLinearConv and the Sin kept", rep.RuntimeOps)
	}
	for _, s := range []string{StageImages, StageRanges, StageHistograms, StageMethods, StageLayers, StageWrite} {
		if !strings.Contains(strings.Join(stages, "|"), s) {
			t.Errorf("stages %v lack %s", stages, s)
		}
	}
	np, err := inference.LoadPackDir(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := inference.CheckModels(np); err != nil {
		t.Fatal(err)
	}
	data, err := np.ModelBytes(inference.Optimised)
	if err != nil {
		t.Fatal(err)
	}
	m, err := onnxpb.ReadModel(data, "twin")
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]int{}
	for _, n := range m.Graph.Node {
		ops[n.GetOpType()]++
	}
	if ops["Sin"] != 1 || ops["QuantizeLinear"] == 0 || ops["Relu"] != 0 {
		t.Errorf("twin ops %v: want Sin kept, QDQ nodes, the Relu fused", ops)
	}
	readme, _ := os.ReadFile(filepath.Join(out, "README.md"))
	for _, want := range []string{"# tiny", "phytoscreen pack optimise", "| c1 | Conv |", "s (Sin): operator not in the quantisable set"} {
		if !strings.Contains(string(readme), want) {
			t.Errorf("README lacks %q:\n%s", want, readme)
		}
	}
	// Without a labelled list the calibration images' top-1 is kept apart from the val
	// figures: those images are not held out, nor the base model's val set.
	if np.Models[inference.Optimised].Agreement != rep.Final.Agreement || np.Models[inference.Optimised].ValTop1 != 0 {
		t.Errorf("pack.json optimised entry %+v, want the measured agreement %g and no val top-1", np.Models[inference.Optimised], rep.Final.Agreement)
	}
	manifest, _ := os.ReadFile(filepath.Join(out, inference.ManifestFile))
	if want := fmt.Sprintf(`"calibration_top1":%v`, rep.Final.Top1); !strings.Contains(strings.ReplaceAll(string(manifest), " ", ""), want) {
		t.Errorf("pack.json lacks %s:\n%s", want, manifest)
	}
}

func TestOptimiseCancelled(t *testing.T) {
	testpack.RequireRuntime(t)
	p, err := inference.LoadPackDir(tinyPack(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := filepath.Join(t.TempDir(), "twin")
	_, err = Optimise(ctx, Options{Pack: p, Calibration: os.DirFS(tinyImages(t, 4)), Out: out, SpeedDuration: -1}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a cancelled run left %s behind", out)
	}
}

// A cancel after the twin is written, while it is measured, leaves nothing at --out nor
// beside it: the pack is made in a temporary folder and moved into place at the end.
func TestOptimiseCancelledWhileMeasuring(t *testing.T) {
	testpack.RequireRuntime(t)
	p, err := inference.LoadPackDir(tinyPack(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	parent := t.TempDir()
	out := filepath.Join(parent, "twin")
	written := false
	_, err = Optimise(ctx, Options{Pack: p, Calibration: os.DirFS(tinyImages(t, 4)), Out: out, SpeedDuration: time.Second}, func(stage string, done, total int) {
		if stage == StageWrite && done == total {
			written = true
			cancel()
		}
	})
	if !written || !errors.Is(err, context.Canceled) {
		t.Fatalf("written %v, err = %v, want a cancel after the write", written, err)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Errorf("a run cancelled while measuring left %v in %s", entries, parent)
	}
}

// A layer kept fp32 runs fp32: ONNX Runtime quantises on its own (per tensor, full int8
// range: the very kernels that saturate on CPUs without VNNI) the fp32 weights of a Conv
// between a DequantizeLinear and a QuantizeLinear, so the twin must not give a kept layer
// a quantised input. The tiny model's Sin becomes a second Conv, kept.
func TestKeptLayerRunsFP32(t *testing.T) {
	testpack.RequireRuntime(t)
	m := tinyModel(17)
	for _, n := range m.Graph.Node {
		if n.GetOpType() == "Sin" {
			n.OpType, n.Name = proto.String("Conv"), proto.String("c2")
			// It reads c1's Relu, which the twin fuses into c1: the kept layer must still
			// see the Relu's output, not c1's.
			n.Input = []string{"r1_out", "c2.w", "c2.b"}
			ints := onnxpb.AttributeProto_INTS
			n.Attribute = []*onnxpb.AttributeProto{
				{Name: proto.String("pads"), Type: &ints, Ints: []int64{1, 1, 1, 1}},
				{Name: proto.String("kernel_shape"), Type: &ints, Ints: []int64{3, 3}},
				{Name: proto.String("strides"), Type: &ints, Ints: []int64{2, 2}}}
		}
	}
	w := make([]byte, 0, 4*(4*4*9+4))
	for i := range 4*4*9 + 4 {
		w = binary.LittleEndian.AppendUint32(w, math.Float32bits(float32((i*37)%19-9)/20))
	}
	m.Graph.Initializer = append(m.Graph.Initializer,
		tensorOf("c2.w", onnxpb.TensorProto_FLOAT, []int64{4, 4, 3, 3}, w[:4*4*4*9]),
		tensorOf("c2.b", onnxpb.TensorProto_FLOAT, []int64{4}, w[4*4*4*9:]))
	p, err := inference.LoadPackDir(tinyPackOf(t, m))
	if err != nil {
		t.Fatal(err)
	}
	images := tinyImages(t, 24)
	rep, err := Optimise(context.Background(), Options{Pack: p, Calibration: os.DirFS(images), CalibrationName: images,
		Out: filepath.Join(t.TempDir(), "twin"), Keep: []string{"c2"}, SpeedDuration: -1, Threads: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.KeptFP32) != 1 || rep.KeptFP32[0] != "c2" {
		t.Fatalf("kept %v, want c2", rep.KeptFP32)
	}
	if rep.RuntimeOps["QLinearConv"] != 1 || rep.RuntimeOps["Conv"]+rep.RuntimeOps["FusedConv"] != 1 {
		t.Errorf("runtime ops %v: want c1 quantised and the kept c2 fp32", rep.RuntimeOps)
	}
	// Left fp32, c2 brings the twin no further from the base than quantising it did (with
	// c1's Relu lost to the fusion it was 170 times further).
	if rep.Final.KL > 2*rep.All.KL+1e-6 {
		t.Errorf("KL against fp32 with c2 kept %.3g, all quantised %.3g: the kept layer reads something else", rep.Final.KL, rep.All.KL)
	}
}

// Every calibration image that cannot be read is named at once, with the fix: three bad
// images took three runs to find (helper-68). Nothing is written.
func TestOptimiseNamesEveryBadImage(t *testing.T) {
	testpack.RequireRuntime(t)
	p, err := inference.LoadPackDir(tinyPack(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := tinyImages(t, 4)
	for name, data := range map[string]string{"empty.png": "", "notes.png": "not an image\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "twin")
	_, err = Optimise(context.Background(), Options{Pack: p, Calibration: os.DirFS(dir), Out: out, SpeedDuration: -1}, nil)
	for _, want := range []string{"calibration image empty.png", "calibration image notes.png", "remove it from the calibration images"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("two bad images: %v; want %q", err, want)
		}
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused calibration left %s", out)
	}
}
