package inference

import (
	"context"
	"encoding/json"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/phytoscreen/phytoscreen/imagefile"
)

// goldenFile is a pack's golden.json (docs/pack-format.md): images of its validation split,
// their preprocessed tensors' SHA-256 and sum, and the base model's probabilities in
// PyTorch, written by the training recipe.
type goldenFile struct {
	Pack     string `json:"pack"`
	DataRoot string `json:"data_root"`
	Copy     string `json:"copy"` // the images' copy in the project, relative to its root
	Model    string `json:"model"`
	// HeadLabels are labels taught after the recipe (a reject class, make_reject.py): the
	// pack's last labels, absent from the PyTorch probabilities. A taught head leaves the
	// ratios among the recipe's own labels as they were, so those are compared renormalised.
	HeadLabels []string `json:"head_labels"`
	Items      []struct {
		Path          string    `json:"path"`
		Label         string    `json:"label"`
		SHA256        string    `json:"sha256"`
		Sum           float64   `json:"sum"`
		Top           string    `json:"top"`
		Probabilities []float32 `json:"probabilities"`
	} `json:"items"`
}

// Every pack under assets/models that has a golden.json: Go's tensor equals the Python
// recipe's bit for bit, and ONNX Runtime's probabilities from the base model match
// PyTorch's within 1e-4 with the same top label. The images are the copies in
// testdata/golden/<pack>, so the test does not need ../shared. PHYTOSCREEN_GOLDEN_PACKS
// (comma-separated folders) checks other packs instead.
func TestPackGolden(t *testing.T) {
	files, _ := filepath.Glob("../assets/models/*/golden.json")
	if env := os.Getenv("PHYTOSCREEN_GOLDEN_PACKS"); env != "" { // other pack folders, comma-separated
		files = nil
		for _, d := range strings.Split(env, ",") {
			files = append(files, filepath.Join(d, "golden.json"))
		}
	}
	if len(files) == 0 {
		// The shipped cyanobacteria pack has one: none means it went missing.
		t.Fatal("no pack with a golden.json under ../assets/models: the cyanobacteria pack ships one (make pack-cyano writes it)")
	}
	if _, err := InitRuntime(""); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		dir := filepath.Dir(f)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var g goldenFile
			if err := json.Unmarshal(data, &g); err != nil {
				t.Fatal(err)
			}
			p, err := LoadPackDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(g.Items) < 4 {
				t.Fatalf("%d golden items", len(g.Items))
			}
			c, err := NewClassifier(p, Options{Variant: Base, Threads: 1, Batch: 1, TopK: len(p.Labels)})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var imgs []image.Image
			maxDiff := 0.0
			n := len(p.Labels) - len(g.HeadLabels) // the recipe's own labels
			if !slices.Equal(p.Labels[n:], g.HeadLabels) {
				t.Fatalf("golden head labels %q are not the pack's last labels %q", g.HeadLabels, p.Labels[n:])
			}
			// own is the best of the recipe's own labels, with their probabilities
			// renormalised among themselves.
			own := func(r Result) (Prediction, []float32) {
				probs, sum := make([]float32, n), float32(0)
				for _, pr := range r.Top {
					if pr.Index < n {
						probs[pr.Index] = pr.Prob
						sum += pr.Prob
					}
				}
				best := 0
				for i := range probs {
					probs[i] /= sum
					if probs[i] > probs[best] {
						best = i
					}
				}
				return Prediction{Index: best, Label: p.Labels[best], Prob: probs[best]}, probs
			}
			for _, it := range g.Items {
				if len(it.Probabilities) != n {
					t.Fatalf("%s: %d golden probabilities for %d labels of the recipe", it.Path, len(it.Probabilities), n)
				}
				img, err := imagefile.ReadColor(filepath.Join("..", g.Copy, it.Path))
				if err != nil {
					t.Fatal(err)
				}
				imgs = append(imgs, img)
				dst := make([]float32, p.InputSize())
				if err := p.Preprocess(dst, img); err != nil {
					t.Fatal(err)
				}
				if h, sum := tensorDigest(dst); h != it.SHA256 {
					t.Errorf("%s: tensor differs from the recipe's (sum %.6f, want %.6f)", it.Path, sum, it.Sum)
				}
				res, err := c.ClassifyImages(context.Background(), []image.Image{img})
				if err != nil {
					t.Fatal(err)
				}
				best, probs := own(res[0])
				if best.Label != it.Top {
					t.Errorf("%s: top label %s, PyTorch %s", it.Path, best.Label, it.Top)
				}
				for i, pr := range probs {
					d := math.Abs(float64(pr - it.Probabilities[i]))
					maxDiff = max(maxDiff, d)
					if d > 1e-4 {
						t.Errorf("%s: p(%s) = %.6f, PyTorch %.6f", it.Path, p.Labels[i], pr, it.Probabilities[i])
					}
				}
			}
			t.Logf("%s: %d images, tensors identical, largest probability difference from PyTorch %.2g", g.Pack, len(g.Items), maxDiff)
			// The files classify the same through ClassifyFiles (colour decoding).
			var paths []string
			for _, it := range g.Items {
				paths = append(paths, filepath.Join("..", g.Copy, it.Path))
			}
			i := 0
			err = ClassifyFiles(context.Background(), c, paths, func(fr FileResult) error {
				if fr.Err != nil {
					return fr.Err
				}
				if best, _ := own(fr.Result); best.Label != g.Items[i].Top {
					t.Errorf("%s: file classified %s, PyTorch %s", fr.Path, best.Label, g.Items[i].Top)
				}
				i++
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
