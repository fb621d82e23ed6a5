package inference

import (
	"context"
	"encoding/json"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phytoscreen/phytoscreen/imagefile"
)

func openTiny(t testing.TB, o Options) *Classifier {
	t.Helper()
	return openPack(t, func() (*Pack, error) { return LoadPackDir("testdata/tiny-rgb") }, o)
}

// goldenImages decodes the contract's test images (colour JPEGs and PNGs) in colour.
func goldenImages(t testing.TB) (paths []string, imgs []image.Image) {
	t.Helper()
	for _, n := range []string{"microcystis.jpg", "raphidiopsis.jpg", "anabaena.jpg", "noctiluca.jpg", "alpha.png", "dark.png"} {
		p := filepath.Join("../testdata/golden/contract", n)
		img, err := imagefile.ReadColor(p)
		if err != nil {
			t.Fatal(err)
		}
		paths, imgs = append(paths, p), append(imgs, img)
	}
	return paths, imgs
}

func sameResults(t *testing.T, what string, a, b []Result) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d and %d results", what, len(a), len(b))
	}
	for i := range a {
		x, y := a[i].Best(), b[i].Best()
		if x.Label != y.Label || abs32(x.Prob-y.Prob) > 1e-5 {
			t.Errorf("%s: crop %d: %s %.6f and %s %.6f", what, i, x.Label, x.Prob, y.Label, y.Prob)
		}
	}
}

// A format-2 colour pack classifies colour crops of every image type, returns each model's
// features on request (4 for base, 6 for optimised: the manifest says -1), gives the same
// results alone and in a batch, and classifies files decoded in colour.
func TestClassifyImagesColourPack(t *testing.T) {
	paths, imgs := goldenImages(t)
	c := openTiny(t, Options{Variant: Base, Batch: 1, TopK: 3, Features: true})
	if !c.ColourInput() {
		t.Fatal("ColourInput() is false for an rgb pack: the screening run would hand it gray crops")
	}
	one, err := c.ClassifyImages(context.Background(), imgs)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range one {
		if len(r.Top) != 3 || len(r.Features) != 4 {
			t.Fatalf("crop %d: %d labels, %d features; want 3 and 4", i, len(r.Top), len(r.Features))
		}
		if s := r.Top[0].Prob + r.Top[1].Prob + r.Top[2].Prob; abs32(s-1) > 1e-5 {
			t.Errorf("crop %d: probabilities sum to %v", i, s)
		}
	}
	c.SetBatch(4)
	many, err := c.ClassifyImages(context.Background(), imgs)
	if err != nil {
		t.Fatal(err)
	}
	sameResults(t, "batch 1 vs 4", one, many)
	for i := range one {
		for j := range one[i].Features {
			if abs32(one[i].Features[j]-many[i].Features[j]) > 1e-5 {
				t.Fatalf("crop %d feature %d: %v alone, %v in a batch", i, j, one[i].Features[j], many[i].Features[j])
			}
		}
	}
	// NRGBA and a generic image (converted) give the RGBA results.
	rgba := imgs[0].(*image.RGBA)
	nrgba := image.NewNRGBA(rgba.Rect)
	copy(nrgba.Pix, rgba.Pix)
	pal := image.NewPaletted(image.Rect(0, 0, 40, 30), color.Palette{color.RGBA{10, 200, 30, 255}, color.RGBA{250, 250, 240, 255}})
	for i := range pal.Pix {
		pal.Pix[i] = uint8(i % 7 / 6)
	}
	palRGBA := image.NewRGBA(pal.Rect)
	for y := 0; y < 30; y++ {
		for x := 0; x < 40; x++ {
			palRGBA.Set(x, y, pal.At(x, y))
		}
	}
	a, err := c.ClassifyImages(context.Background(), []image.Image{rgba, pal})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.ClassifyImages(context.Background(), []image.Image{nrgba, palRGBA})
	if err != nil {
		t.Fatal(err)
	}
	sameResults(t, "RGBA and NRGBA, Paletted and RGBA", a, b)
	// The optimised model's features are its own length.
	if err := c.SetVariant(Optimised); err != nil {
		t.Fatal(err)
	}
	r, err := c.ClassifyImages(context.Background(), imgs[:2])
	if err != nil {
		t.Fatal(err)
	}
	if len(r[0].Features) != 6 || r[0].Variant != Optimised {
		t.Errorf("optimised: %d features from %s, want 6", len(r[0].Features), r[0].Variant)
	}
	// Files decode in colour: ClassifyFiles gives ClassifyImages' results.
	if err := c.SetVariant(Base); err != nil {
		t.Fatal(err)
	}
	var files []Result
	err = ClassifyFiles(context.Background(), c, paths, func(fr FileResult) error {
		if fr.Err != nil {
			return fr.Err
		}
		files = append(files, fr.Result)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sameResults(t, "files vs images", files, one)
}

// Without Options.Features no features are computed or returned.
func TestClassifyImagesNoFeatures(t *testing.T) {
	_, imgs := goldenImages(t)
	c := openTiny(t, Options{Variant: Base})
	r, err := c.ClassifyImages(context.Background(), imgs[:1])
	if err != nil {
		t.Fatal(err)
	}
	if r[0].Features != nil {
		t.Errorf("features %v without Options.Features", r[0].Features)
	}
	// The default (format 1) pack has no features output: the option is ignored.
	d := openDefault(t, Options{Variant: Base, Features: true})
	g, err := grayOf(imgs[3])
	if err != nil {
		t.Fatal(err)
	}
	r, err = d.ClassifyImages(context.Background(), []image.Image{g})
	if err != nil || r[0].Features != nil {
		t.Errorf("format 1 pack: %v, features %v", err, r[0].Features)
	}
}

// Classify (gray crops) on a colour pack replicates them: the same as ClassifyImages with
// the gray crops, and as colour crops whose three channels are equal.
func TestClassifyGrayOnColourPack(t *testing.T) {
	_, imgs := goldenImages(t)
	c := openTiny(t, Options{Variant: Base, Batch: 3})
	var grays []*image.Gray
	var asImages, replicated []image.Image
	for _, im := range imgs {
		g, err := grayOf(im)
		if err != nil {
			t.Fatal(err)
		}
		grays = append(grays, g)
		asImages = append(asImages, g)
		rgba := image.NewRGBA(g.Rect)
		for i, v := range g.Pix {
			rgba.Pix[4*i], rgba.Pix[4*i+1], rgba.Pix[4*i+2], rgba.Pix[4*i+3] = v, v, v, 255
		}
		replicated = append(replicated, rgba)
	}
	a, err := c.Classify(context.Background(), grays)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.ClassifyImages(context.Background(), asImages)
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.ClassifyImages(context.Background(), replicated)
	if err != nil {
		t.Fatal(err)
	}
	sameResults(t, "Classify vs ClassifyImages", a, b)
	sameResults(t, "gray vs replicated colour", a, r)
	if _, err := c.ClassifyImages(context.Background(), []image.Image{imgs[0], nil}); err == nil || !strings.Contains(err.Error(), "crop 1 is empty") {
		t.Errorf("nil crop: %v", err)
	}
}

// On the default (format 1) pack ClassifyImages gives Classify's results, for gray crops
// and for colour crops whose channels are equal (BGR2GRAY of a gray pixel is the pixel).
func TestClassifyImagesFormat1(t *testing.T) {
	samples := loadSamples(t)[:24]
	c := openDefault(t, Options{Variant: Optimised, Batch: 8})
	grays := make([]*image.Gray, len(samples))
	imgs := make([]image.Image, len(samples))
	colour := make([]image.Image, len(samples))
	for i, s := range samples {
		grays[i], imgs[i] = s.img, s.img
		rgba := image.NewRGBA(s.img.Rect)
		for j, v := range s.img.Pix {
			rgba.Pix[4*j], rgba.Pix[4*j+1], rgba.Pix[4*j+2], rgba.Pix[4*j+3] = v, v, v, 255
		}
		colour[i] = rgba
	}
	want, err := c.Classify(context.Background(), grays)
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string][]image.Image{"gray": imgs, "colour": colour} {
		got, err := c.ClassifyImages(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if want[i].Best() != got[i].Best() {
				t.Errorf("%s crop %d: %+v, Classify gave %+v", name, i, got[i].Best(), want[i].Best())
			}
		}
	}
}

// A format-2 pack that does not match its model is refused when the model opens, naming
// the file and the fix.
func TestPackModelMismatchFormat2(t *testing.T) {
	if _, err := InitRuntime(""); err != nil {
		t.Fatal(err)
	}
	base, err := os.ReadFile("testdata/tiny-rgb/base.onnx")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("testdata/tiny-rgb/pack.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(m map[string]any)
		want string
	}{
		{"gray manifest, rgb model", func(m map[string]any) {
			input(m)["shape"], input(m)["channels"], input(m)["mean"], input(m)["std"] = []int{-1, 1, 32, 32}, "gray", []float64{0.5}, []float64{0.25}
		}, "takes input [-1 3 32 32], but pack.json declares [-1 1 32 32]: the preprocessing produces [N,1,32,32]"},
		{"features name", func(m map[string]any) { m["features"] = map[string]any{"name": "embedding", "shape": []int{-1, 4}} }, `has no output named "embedding"`},
		{"features size", func(m map[string]any) { m["features"] = map[string]any{"name": "features", "shape": []int{-1, 8}} }, `has features [-1 4], but pack.json declares [-1 8]`},
		{"labels", func(m map[string]any) {
			m["labels"] = []string{"a", "b"}
			m["output"].(map[string]any)["shape"] = []int{-1, 2}
		}, "has 2 labels: the label list must match the model's output size"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatal(err)
			}
			m["models"] = map[string]any{"base": map[string]any{"file": "model.onnx"}}
			tc.edit(m)
			dir := t.TempDir()
			data, _ := json.Marshal(m)
			if err := os.WriteFile(filepath.Join(dir, "pack.json"), data, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "model.onnx"), base, 0o644); err != nil {
				t.Fatal(err)
			}
			p, err := LoadPackDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			c, err := NewClassifier(p, Options{Features: true})
			if err == nil {
				c.Close()
				t.Fatalf("opened; want error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "model.onnx") {
				t.Errorf("error %q: want the file and %q", err, tc.want)
			}
		})
	}
}
