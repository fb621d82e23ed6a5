package inference

import (
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// A crop handed to Preprocess with its alpha channel (the PNG decoded by Go's decoder,
// not through imagefile) gives the Python recipe's tensor for that file: the transparent
// pixels go onto white under every rule, not onto black and not with their hidden colour.
func TestPreprocessTransparentCrop(t *testing.T) {
	data, err := os.ReadFile("../testdata/golden/contract.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Cases []contractCase }
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join("../testdata/golden/contract", "alpha.png"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := img.(interface{ Opaque() bool }); !ok || o.Opaque() {
		t.Fatalf("alpha.png decodes to an opaque %T: it must test transparency", img)
	}
	n := 0
	for _, c := range doc.Cases {
		if c.Image != "alpha.png" {
			continue
		}
		n++
		p := packFromInput(t, c.Input)
		dst := make([]float32, p.InputSize())
		if err := p.Preprocess(dst, img); err != nil {
			t.Fatal(err)
		}
		if h, sum := tensorDigest(dst); h != c.SHA256 {
			t.Errorf("%v %s %s: tensor differs from Python's (sum %.6f, want %.6f)", c.Input["shape"], c.Input["channels"], c.Input["resize"], sum, c.Sum)
		}
	}
	if n < 6 {
		t.Fatalf("%d alpha.png cases in contract.json, want one per input spec", n)
	}
}
