package quantise

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phytoscreen/phytoscreen/internal/onnxpb"
)

// Every int8 weight of the twins the project ships is within ±WeightLevels: a twin made
// with full-range weights passes its card on a CPU with VNNI and collapses on one without
// (the CI failure of 2026-12-01), so this guards the files, not only the code that makes
// them.
func TestShippedTwinsUseSevenBitWeights(t *testing.T) {
	dirs, err := filepath.Glob("../assets/models/*")
	if err != nil {
		t.Fatal(err)
	}
	twins := 0
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, "pack.json"))
		if err != nil {
			continue
		}
		var m struct {
			Models map[string]struct {
				File         string          `json:"file"`
				Quantisation json.RawMessage `json:"quantisation"`
			} `json:"models"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		opt, ok := m.Models["optimised"]
		if !ok || opt.Quantisation == nil { // not made by pack optimise
			continue
		}
		twins++
		data, err := os.ReadFile(filepath.Join(dir, opt.File))
		if err != nil {
			t.Fatal(err)
		}
		model, err := onnxpb.ReadModel(data, opt.File)
		if err != nil {
			t.Fatal(err)
		}
		weights, worst := 0, 0
		for _, init := range model.GetGraph().GetInitializer() {
			if init.GetDataType() != int32(onnxpb.TensorProto_INT8) || !strings.HasSuffix(init.GetName(), "_quantized") {
				continue // zero points, activations' parameters
			}
			weights++
			for _, v := range init.GetRawData() {
				worst = max(worst, abs(int(int8(v))))
			}
		}
		if weights == 0 || worst > WeightLevels {
			t.Errorf("%s: %d int8 weight tensors, largest |q| %d: want some, none above %d (remake it: make pack-cyano-twin / pack-ndsb-twin)",
				filepath.Join(dir, opt.File), weights, worst, WeightLevels)
		}
		t.Logf("%s: %d int8 weight tensors, largest |q| %d", filepath.Base(dir), weights, worst)
	}
	if twins < 2 {
		t.Errorf("found %d twins made by pack optimise under assets/models; want the cyano and NDSB v2 ones", twins)
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
