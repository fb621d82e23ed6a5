package inference

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"image"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/phytoscreen/phytoscreen/imagefile"
)

// format2JSON is a valid format-2 manifest whose input edit changes.
func format2JSON(t testing.TB, edit func(m map[string]any)) []byte {
	t.Helper()
	m := map[string]any{
		"format": 2,
		"name":   "lab-rgb",
		"labels": []string{"a", "b", "c"},
		"input": map[string]any{
			"name": "image", "shape": []int{-1, 3, 32, 32}, "dtype": "float32", "channels": "rgb", "resize": "fit",
			"background": map[string]any{"method": "percentile", "q": 0.95}, "pad": []float64{1, 0.5, 0},
			"mean": []float64{0.5, 0.5, 0.5}, "std": []float64{0.25, 0.25, 0.25},
		},
		"output":   map[string]any{"name": "probabilities", "shape": []int{-1, 3}, "activation": "softmax"},
		"features": map[string]any{"name": "features", "shape": []int{-1, 4}},
		"models":   map[string]any{"base": map[string]any{"file": "base.onnx", "val_macro_f1": 0.9}},
		"metrics":  map[string]any{"anything": []int{1, 2}},
	}
	if edit != nil {
		edit(m)
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func input(m map[string]any) map[string]any { return m["input"].(map[string]any) }

func TestLoadPackFormat2(t *testing.T) {
	fsys := fstest.MapFS{"pack.json": {Data: format2JSON(t, nil)}, "base.onnx": {Data: []byte("x")}}
	p, err := LoadPack(fsys, "lab-pack")
	if err != nil {
		t.Fatal(err)
	}
	in := p.Input
	if p.Format != 2 || p.Channels() != 3 || !p.IsColour() || p.InputSize() != 3*32*32 || in.Resize != ResizeFit ||
		in.Background.Method != "percentile" || in.Background.Q != 0.95 || len(*in.Pad) != 3 || p.padFor(1) != 0.5 ||
		in.Mean[2] != 0.5 || in.Std[0] != 0.25 || !p.HasFeatures() || p.FeaturesDim() != 4 || p.Models[Base].ValMacroF1 != 0.9 ||
		!strings.Contains(string(p.Metrics), "anything") {
		t.Errorf("format 2 fields not read: %+v", p.Manifest)
	}
	// Defaults: channels from the shape, letterbox, no background, pad 1.
	p, err = LoadPack(fstest.MapFS{"pack.json": {Data: format2JSON(t, func(m map[string]any) {
		in := input(m)
		in["shape"] = []int{-1, 1, 32, 32}
		for _, k := range []string{"channels", "resize", "background", "pad", "mean", "std"} {
			delete(in, k)
		}
		delete(m, "features")
	})}, "base.onnx": {Data: []byte("x")}}, "lab-pack")
	if err != nil {
		t.Fatal(err)
	}
	if p.Input.Channels != "gray" || p.Input.Resize != ResizeLetterbox || p.PadValue() != 1 || p.HasFeatures() {
		t.Errorf("defaults: %+v", p.Input)
	}
}

func TestLoadPackRejectsFormat2(t *testing.T) {
	tests := []struct {
		name string
		edit func(m map[string]any)
		want string
	}{
		{"format 3", func(m map[string]any) { m["format"] = 3 }, `"format" is 3: this phytoscreen reads pack formats 1 and 2`},
		{"bgr", func(m map[string]any) { input(m)["channels"] = "bgr" }, `"input.channels" is "bgr": format 2 feeds "rgb"`},
		{"unknown channels", func(m map[string]any) { input(m)["channels"] = "hsv" }, `use "gray" or "rgb"`},
		{"channels disagree", func(m map[string]any) { input(m)["channels"] = "gray" }, `has 3 channels but "input.channels" is "gray"`},
		{"two channels", func(m map[string]any) {
			input(m)["shape"] = []int{-1, 2, 32, 32}
			delete(input(m), "channels")
		}, `has 2 channels: format 2 takes 1 (gray) or 3 (rgb)`},
		{"zero channels", func(m map[string]any) { // found by FuzzLoadPack
			input(m)["shape"] = []int{-1, 0, 32, 32}
			delete(input(m), "channels")
		}, `has 0 channels: format 2 takes 1 (gray) or 3 (rgb)`},
		{"stretch", func(m map[string]any) { input(m)["resize"] = "stretch" }, `"input.resize" is "stretch": use "letterbox"`},
		{"background method", func(m map[string]any) { input(m)["background"] = map[string]any{"method": "rolling-ball"} }, `"input.background.method" is "rolling-ball": use "none" or "percentile"`},
		{"background q", func(m map[string]any) { input(m)["background"] = map[string]any{"method": "percentile", "q": 95} }, `"input.background.q" is 95: the percentile must be in (0, 1]`},
		{"background q zero", func(m map[string]any) { input(m)["background"] = map[string]any{"method": "percentile"} }, `"input.background.q" is 0`},
		{"pad count", func(m map[string]any) { input(m)["pad"] = []float64{1, 1} }, `"input.pad" has 2 values for 3 channels`},
		{"pad range", func(m map[string]any) { input(m)["pad"] = 255 }, `"input.pad"[0] is 255: padding is in the 0..1 scale`},
		{"pad type", func(m map[string]any) { input(m)["pad"] = "white" }, `pad must be a number or an array of numbers`},
		{"mean alone", func(m map[string]any) { delete(input(m), "std") }, `"input.mean" and "input.std" go together`},
		{"mean count", func(m map[string]any) { input(m)["mean"] = []float64{0.5} }, `"input.mean" has 1 and "input.std" 3 values for 3 channels`},
		{"std zero", func(m map[string]any) { input(m)["std"] = []float64{0.2, 0, 0.2} }, `"input.std"[1] is 0: it divides`},
		{"format 1 keys", func(m map[string]any) { input(m)["letterbox"] = "shrink" }, `"input.pixels" and "input.letterbox" are format 1 keys`},
		{"logits", func(m map[string]any) { m["output"].(map[string]any)["activation"] = "none" }, `"output.activation" is "none": phytoscreen reads probabilities`},
		{"output classes", func(m map[string]any) { m["output"].(map[string]any)["shape"] = []int{-1, 5} }, `declares 5 classes but "labels" has 3`},
		{"features unnamed", func(m map[string]any) { m["features"] = map[string]any{"shape": []int{-1, 4}} }, `"features.name" is empty`},
		{"features same", func(m map[string]any) { m["features"] = map[string]any{"name": "probabilities"} }, `"features.name" "probabilities" is the probabilities output`},
		{"features shape", func(m map[string]any) { m["features"] = map[string]any{"name": "f", "shape": []int{4}} }, `"features.shape" [4]: want [N, D]`},
		{"uint8", func(m map[string]any) { input(m)["dtype"] = "uint8" }, "float32 tensors only"},
		{"format 2 keys in format 1", func(m map[string]any) { delete(m, "format") }, `"input.channels", "input.resize", "input.background", "input.mean"/"input.std", "features" belong to pack format 2: add "format": 2`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadPack(fstest.MapFS{"pack.json": {Data: format2JSON(t, tc.edit)}, "base.onnx": {Data: []byte("x")}}, "lab-pack")
			if err == nil {
				t.Fatalf("loaded; want error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "lab-pack") || !strings.Contains(err.Error(), "pack.json") {
				t.Errorf("error %q: want it to name the pack, the file and contain %q", err, tc.want)
			}
		})
	}
}

// contractCase is one entry of testdata/golden/contract.json.
type contractCase struct {
	Image  string         `json:"image"`
	Input  map[string]any `json:"input"`
	SHA256 string         `json:"sha256"`
	Sum    float64        `json:"sum"`
	First  []float32      `json:"first"`
}

// tensorDigest is the SHA-256 of the tensor's little-endian float32 bytes and its sum.
func tensorDigest(t []float32) (string, float64) {
	b := make([]byte, 4*len(t))
	sum := 0.0
	for i, v := range t {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		sum += float64(v)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:]), sum
}

// packFromInput is a pack whose input is in (format 2), for preprocessing tests.
func packFromInput(t testing.TB, in map[string]any) *Pack {
	t.Helper()
	p, err := LoadPack(fstest.MapFS{"pack.json": {Data: format2JSON(t, func(m map[string]any) {
		m["input"] = in
		delete(m, "features")
	})}, "base.onnx": {Data: []byte("x")}}, "golden")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Go's preprocessing gives the Python recipe's tensor bit for bit under every rule of the
// contract: gray and rgb, letterbox, fit and centre-crop, shrinking and enlarging, the
// percentile background, per-channel pad, mean and std, a non-square input, PNG with alpha.
func TestContractGolden(t *testing.T) {
	data, err := os.ReadFile("../testdata/golden/contract.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Cases []contractCase }
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Cases) < 30 {
		t.Fatalf("%d cases", len(doc.Cases))
	}
	for _, c := range doc.Cases {
		p := packFromInput(t, c.Input)
		img, err := imagefile.ReadColor(filepath.Join("../testdata/golden/contract", c.Image))
		if err != nil {
			t.Fatal(err)
		}
		dst := make([]float32, p.InputSize())
		if err := p.Preprocess(dst, img); err != nil {
			t.Fatal(err)
		}
		h, sum := tensorDigest(dst)
		if h != c.SHA256 {
			t.Errorf("%s %v %s %s: tensor differs from Python's (sum %.6f, want %.6f; first %v, want %v)",
				c.Image, c.Input["shape"], c.Input["channels"], c.Input["resize"], sum, c.Sum, dst[:4], c.First)
		}
	}
}

// A colour crop gives the same tensor as *image.RGBA, *image.NRGBA or another type (here
// YCbCr-free: a Paletted image through conversion); a gray crop for an rgb pack is its
// replication; a colour crop for a gray pack goes through OpenCV's BGR2GRAY.
func TestPreprocessImageTypes(t *testing.T) {
	rgbPack := packFromInput(t, map[string]any{"name": "image", "shape": []int{-1, 3, 24, 24}, "dtype": "float32", "channels": "rgb", "resize": "fit"})
	grayPack := packFromInput(t, map[string]any{"name": "image", "shape": []int{-1, 1, 24, 24}, "dtype": "float32", "channels": "gray", "resize": "fit"})
	img, err := imagefile.ReadColor("../testdata/golden/contract/microcystis.jpg")
	if err != nil {
		t.Fatal(err)
	}
	rgba := img.(*image.RGBA)
	nrgba := image.NewNRGBA(rgba.Rect)
	copy(nrgba.Pix, rgba.Pix)
	sub := rgba.SubImage(image.Rect(3, 5, 60, 41)).(*image.RGBA)
	subCopy := image.NewRGBA(image.Rect(0, 0, 57, 36))
	for y := 0; y < 36; y++ {
		copy(subCopy.Pix[y*subCopy.Stride:], rgba.Pix[rgba.PixOffset(3, 5+y):rgba.PixOffset(60, 5+y)])
	}
	tensor := func(p *Pack, im image.Image) []float32 {
		d := make([]float32, p.InputSize())
		if err := p.Preprocess(d, im); err != nil {
			t.Fatal(err)
		}
		return d
	}
	same := func(name string, a, b []float32) {
		t.Helper()
		ha, _ := tensorDigest(a)
		hb, _ := tensorDigest(b)
		if ha != hb {
			t.Errorf("%s: tensors differ", name)
		}
	}
	same("RGBA vs NRGBA", tensor(rgbPack, rgba), tensor(rgbPack, nrgba))
	same("sub-image vs copy", tensor(rgbPack, sub), tensor(rgbPack, subCopy))
	// Gray crop, rgb pack: the three planes are the gray tensor's.
	g, err := grayOf(rgba)
	if err != nil {
		t.Fatal(err)
	}
	rg, gg := tensor(rgbPack, g), tensor(grayPack, g)
	for c := 0; c < 3; c++ {
		same("replicated gray", rg[c*24*24:(c+1)*24*24], gg)
	}
	// Colour crop, gray pack: OpenCV's BGR2GRAY weights (0.299 R + 0.587 G + 0.114 B).
	same("colour crop on a gray pack", tensor(grayPack, rgba), gg)
	px := rgba.Pix[:3]
	want := math.Round(0.299*float64(px[0]) + 0.587*float64(px[1]) + 0.114*float64(px[2]))
	if d := math.Abs(float64(g.Pix[0]) - want); d > 1 {
		t.Errorf("gray of (%d,%d,%d) = %d, want about %.0f", px[0], px[1], px[2], g.Pix[0], want)
	}
}

// A pack built by the training recipe has its base alone until its twin is made: asked
// for the optimised model, the error says what to do (helper-94: "has no optimised model
// (it has [base])" and nothing more).
func TestNoTwinSaysWhatToDo(t *testing.T) {
	p, err := LoadPack(fstest.MapFS{"pack.json": {Data: format2JSON(t, nil)}, "base.onnx": {Data: []byte("x")}}, "lab-pack")
	if err != nil {
		t.Fatal(err)
	}
	if p.Has(Optimised) {
		t.Fatal("the test pack has an optimised model")
	}
	_, err = p.ModelBytes(Optimised)
	if err == nil || !strings.Contains(err.Error(), "has no optimised model (it has [base]): choose the base model (--model base), or make the optimised one with phytoscreen pack optimise") {
		t.Errorf("ModelBytes(optimised) of a base-only pack: %v", err)
	}
}
