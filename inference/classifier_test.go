package inference

import (
	"context"
	"encoding/json"
	"image"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/imagefile"
)

// sample is one bundled image with its true label.
type sample struct {
	path, label string
	img         *image.Gray
}

var (
	samplesOnce sync.Once
	samplesAll  []sample
	samplesErr  error
)

// loadSamples decodes the bundled NDSB val sample (assets.Samples) once.
func loadSamples(t testing.TB) []sample {
	t.Helper()
	samplesOnce.Do(func() {
		data, err := fs.ReadFile(assets.Samples(), "labels.csv")
		if err != nil {
			samplesErr = err
			return
		}
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n")[1:] {
			parts := strings.Split(line, ",")
			raw, err := fs.ReadFile(assets.Samples(), parts[0])
			if err != nil {
				samplesErr = err
				return
			}
			img, err := imagefile.Decode(raw)
			if err != nil {
				samplesErr = err
				return
			}
			samplesAll = append(samplesAll, sample{parts[0], parts[1], imagefile.ToGray(img)})
		}
	})
	if samplesErr != nil {
		t.Fatal(samplesErr)
	}
	return samplesAll
}

func openDefault(t testing.TB, o Options) *Classifier {
	t.Helper()
	return openPack(t, func() (*Pack, error) { return LoadPack(assets.DefaultPack(), "built-in") }, o)
}

// openPack opens a classifier on the pack load returns, closed when the test ends.
func openPack(t testing.TB, load func() (*Pack, error), o Options) *Classifier {
	t.Helper()
	if _, err := InitRuntime(""); err != nil {
		t.Fatal(err)
	}
	p, err := load()
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClassifier(p, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func labelsOf(t *testing.T, c *Classifier, samples []sample) []string {
	t.Helper()
	crops := make([]*image.Gray, len(samples))
	for i, s := range samples {
		crops[i] = s.img
	}
	res, err := c.Classify(context.Background(), crops)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(samples) {
		t.Fatalf("%d results for %d crops", len(res), len(samples))
	}
	out := make([]string, len(res))
	for i, r := range res {
		out[i] = r.Best().Label
		if r.Variant != c.Variant() {
			t.Errorf("result from %s, classifier on %s", r.Variant, c.Variant())
		}
	}
	return out
}

// Both models classify the real held-out sample as accurately as their card says (the
// sample follows the val class mix), and agree with each other.
func TestAccuracyOnBundledSample(t *testing.T) {
	samples := loadSamples(t)
	c := openDefault(t, Options{Variant: Base, Batch: 32})
	if c.ColourInput() {
		t.Fatal("ColourInput() is true for the gray NDSB pack")
	}
	truth := make([]string, len(samples))
	for i, s := range samples {
		truth[i] = s.label
	}
	base := labelsOf(t, c, samples)
	if err := c.SetVariant(Optimised); err != nil {
		t.Fatal(err)
	}
	opt := labelsOf(t, c, samples)
	accB, accO, agree := Agreement(base, truth), Agreement(opt, truth), Agreement(base, opt)
	t.Logf("n=%d top-1 base %.3f optimised %.3f, agreement %.3f", len(samples), accB, accO, agree)
	if accB < 0.65 || accO < 0.65 {
		t.Errorf("top-1 base %.3f optimised %.3f: want both >= 0.65", accB, accO)
	}
	if agree < 0.85 {
		t.Errorf("top-1 agreement %.3f: want >= 0.85", agree)
	}
}

// Batching must not change results: a crop gets the same label and probability alone and
// in a batch of 32 (a wrong tensor offset would mix crops up).
func TestBatchSizeDoesNotChangeResults(t *testing.T) {
	samples := loadSamples(t)[:40]
	c := openDefault(t, Options{Variant: Optimised, Batch: 1})
	crops := make([]*image.Gray, len(samples))
	for i, s := range samples {
		crops[i] = s.img
	}
	one, err := c.Classify(context.Background(), crops)
	if err != nil {
		t.Fatal(err)
	}
	c.SetBatch(32)
	many, err := c.Classify(context.Background(), crops)
	if err != nil {
		t.Fatal(err)
	}
	for i := range one {
		a, b := one[i].Best(), many[i].Best()
		if a.Label != b.Label || abs32(a.Prob-b.Prob) > 1e-4 {
			t.Errorf("crop %d: %s %.5f alone, %s %.5f in a batch", i, a.Label, a.Prob, b.Label, b.Prob)
		}
	}
}

func abs32(f float32) float32 {
	if f < 0 {
		return -f
	}
	return f
}

// Switching the model and the thread count while other goroutines classify is safe
// (run with -race) and every result comes from one whole model.
func TestSwitchWhileClassifying(t *testing.T) {
	samples := loadSamples(t)[:64]
	crops := make([]*image.Gray, len(samples))
	for i, s := range samples {
		crops[i] = s.img
	}
	c := openDefault(t, Options{Variant: Base, Batch: 8, Threads: 1})
	want := map[Variant][]string{}
	for _, v := range []Variant{Base, Optimised} {
		if err := c.SetVariant(v); err != nil {
			t.Fatal(err)
		}
		want[v] = labelsOf(t, c, samples)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for g := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				res, err := c.Classify(ctx, crops)
				if err != nil {
					errs <- err.Error()
					return
				}
				for i, r := range res {
					// A batch ran on one model: its labels are that model's labels.
					if r.Best().Label != want[r.Variant][i] {
						errs <- "goroutine " + string(rune('0'+g)) + ": crop label differs from its model's"
						return
					}
				}
			}
		}()
	}
	for i := range 6 {
		if err := c.SetVariant([]Variant{Base, Optimised}[i%2]); err != nil {
			t.Fatal(err)
		}
		if err := c.SetThreads(1 + i%2); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestClassifyCancelled(t *testing.T) {
	samples := loadSamples(t)[:10]
	c := openDefault(t, Options{Batch: 2})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	crops := []*image.Gray{samples[0].img, samples[1].img, samples[2].img}
	if _, err := c.Classify(ctx, crops); err == nil {
		t.Error("cancelled context: want an error")
	}
}

// writePack writes a pack folder whose model is the default optimised model (linked) or
// the given bytes, with the manifest changed by edit.
func writePack(t *testing.T, model []byte, edit func(m map[string]any)) string {
	t.Helper()
	dir := t.TempDir()
	data, err := fs.ReadFile(assets.DefaultPack(), ManifestFile)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	m["models"] = map[string]any{"optimised": map[string]any{"file": "model.onnx"}}
	edit(m)
	out, _ := json.Marshal(m)
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), out, 0o644); err != nil {
		t.Fatal(err)
	}
	if model == nil {
		abs, err := filepath.Abs("../assets/models/ndsb-plankton-121/optimised.onnx")
		if err != nil {
			t.Fatal(err)
		}
		err = os.Symlink(abs, filepath.Join(dir, "model.onnx"))
		if err != nil {
			t.Fatal(err)
		}
	} else if err := os.WriteFile(filepath.Join(dir, "model.onnx"), model, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// A lab's pack that does not match its model is refused when the model opens, with the
// file and the fix named.
func TestPackModelMismatch(t *testing.T) {
	if _, err := InitRuntime(""); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		model []byte
		edit  func(m map[string]any)
		want  string
	}{
		{"label count", nil, func(m map[string]any) { m["labels"] = []string{"a", "b", "c"} }, "has 3 labels: the label list must match the model's output size"},
		{"input name", nil, func(m map[string]any) { m["input"].(map[string]any)["name"] = "pixels" }, `no input named "pixels"`},
		{"output name", nil, func(m map[string]any) { m["output"].(map[string]any)["name"] = "logits" }, `no output named "logits"`},
		{"input size", nil, func(m map[string]any) { m["input"].(map[string]any)["shape"] = []int{-1, 1, 64, 64} }, "takes input [-1 1 96 96]"},
		{"not onnx", []byte("this is not an ONNX model\n"), func(m map[string]any) {}, "is not a readable ONNX model"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writePack(t, tc.model, tc.edit)
			p, err := LoadPackDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			c, err := NewClassifier(p, Options{})
			if err == nil {
				c.Close()
				t.Fatalf("opened; want error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "model.onnx") {
				t.Errorf("error %q: want the file and %q", err, tc.want)
			}
			// CheckModels (the settings' check of a pack folder) refuses it the same way.
			if cerr := CheckModels(p); cerr == nil || cerr.Error() != err.Error() {
				t.Errorf("CheckModels: %v, want %v", cerr, err)
			}
		})
	}
}

// The full val split reproduces the pack cards' top-1 within half a point for both
// models, of the default pack and of its v2. It reads ../shared (present on developer machines and in CI, never shipped);
// elsewhere it is skipped.
func TestFullValMatchesCard(t *testing.T) {
	list := "../../shared/data/ndsb/split.csv"
	if _, err := os.Stat(list); err != nil {
		t.Skip("../shared/data/ndsb not present")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	valMatchesCard(t, openDefault(t, Options{Batch: 32}), list, filepath.Dir(list), 3032)
	// The v2 pack (format 2: background normalisation in the contract) on the same split.
	v2 := openPack(t, func() (*Pack, error) { return LoadPackDir("../assets/models/ndsb-plankton-121-v2") }, Options{Batch: 32})
	valMatchesCard(t, v2, list, filepath.Dir(list), 3032)
}

// valMatchesCard classifies the val rows of a label list (paths relative to root) with
// both models and checks top-1 and top-5 (and macro- and weighted F1 and the ECE where the
// base's card has them) against the card within half a point: ONNX Runtime in Go against
// the recipe's PyTorch figures for the base, against pack optimise's for an int8 twin.
func valMatchesCard(t *testing.T, c *Classifier, list, root string, n int) {
	t.Helper()
	items, err := ReadLabelListFrom(list, root, "val")
	if err != nil {
		t.Fatal(err)
	}
	files := make([]string, len(items))
	truth := map[string]string{}
	for i, it := range items {
		files[i], truth[it.Path] = it.Path, it.Label
	}
	c.SetTopK(len(c.Pack().Labels))
	near := func(what string, v Variant, got, card float64) {
		if got < card-0.005 || got > card+0.005 {
			t.Errorf("%s: %s %.4f on %d images, card %.4f: want within 0.005", v, what, got, n, card)
		}
	}
	for _, v := range []Variant{Base, Optimised} {
		if err := c.SetVariant(v); err != nil {
			t.Fatal(err)
		}
		s := NewScorer(c.Pack().Labels)
		err := ClassifyFiles(context.Background(), c, files, func(fr FileResult) error {
			if fr.Err != nil {
				return fr.Err
			}
			return s.Add(truth[fr.Path], fr.Result)
		})
		if err != nil {
			t.Fatal(err)
		}
		m, card := s.Metrics(), c.Pack().Models[v]
		t.Logf("%s: n=%d top-1 %.4f (card %.4f) macro-F1 %.4f (card %.4f) weighted-F1 %.4f (card %.4f) ECE %.4f (card %.4f) log-loss %.4f",
			v, m.N, m.Top1, card.ValTop1, m.MacroF1, card.ValMacroF1, m.WeightedF1, card.ValWeightedF1, m.ECE, card.ValECE, m.LogLoss)
		if m.N != n {
			t.Errorf("%s: %d images classified, want %d", v, m.N, n)
		}
		near("top-1", v, m.Top1, card.ValTop1)
		near("top-5", v, m.Top5, card.ValTop5)
		// A card with F1 and ECE for its base must have them for the optimised model too
		// (an int8 twin's are Go's own figures): one left out reads as 0 and fails.
		base := c.Pack().Models[Base]
		if card.ValMacroF1 > 0 || base.ValMacroF1 > 0 {
			near("macro-F1", v, m.MacroF1, card.ValMacroF1)
			near("weighted-F1", v, m.WeightedF1, card.ValWeightedF1)
		}
		if card.ValECE > 0 || base.ValECE > 0 {
			near("ECE", v, m.ECE, card.ValECE)
		}
	}
}

// The cyanobacteria pack's grouped val split (its split.csv, images in ../shared/data/ctcb)
// reproduces its card in Go: the tiles decoded in colour, the format-2 contract applied.
func TestCyanoValMatchesCard(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	pack := filepath.Join("..", "assets", "models", "cyano-tcb-10")
	data := filepath.Join("..", "..", "shared", "data", "ctcb")
	if _, err := os.Stat(data); err != nil {
		t.Fatalf("%v: the test needs the CTCB tiles in ../shared/data/ctcb", err)
	}
	c := openPack(t, func() (*Pack, error) { return LoadPackDir(pack) }, Options{Batch: 32})
	valMatchesCard(t, c, filepath.Join(pack, "split.csv"), data, 415) // the list's paths are relative to the data folder
}
