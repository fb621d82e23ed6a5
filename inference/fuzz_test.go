package inference

import (
	"image"
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/phytoscreen/phytoscreen/assets"
)

// FuzzLoadPack feeds arbitrary manifests to pack loading: it must load or refuse with an
// error, never panic; a pack it accepts has what the preprocessing needs.
func FuzzLoadPack(f *testing.F) {
	good, err := fs.ReadFile(assets.DefaultPack(), ManifestFile)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"name":"x","labels":["a","b"],"input":{"name":"i","shape":[-1,1,8,8],"dtype":"float32"},"output":{"name":"o"},"models":{"base":{"file":"m.onnx"}}}`))
	f.Add([]byte(`{"labels": [1, 2]}`))
	f.Add([]byte(`{"format":2,"name":"c","labels":["a","b","c"],"input":{"name":"image","shape":[-1,3,32,24],"dtype":"float32","channels":"rgb","resize":"centre-crop","background":{"method":"percentile","q":0.95},"pad":[1,0.5,0],"mean":[0.5,0.5,0.5],"std":[0.25,0.25,0.25]},"output":{"name":"probabilities","shape":[-1,3],"activation":"softmax"},"features":{"name":"features","shape":[-1,-1]},"models":{"base":{"file":"base.onnx"},"optimised":{"file":"optimised.onnx"}}}`))
	f.Add([]byte(`{"format":2,"name":"g","labels":["a","b"],"input":{"name":"i","shape":[-1,1,8,8],"dtype":"float32","resize":"fit","pad":0},"output":{"name":"o"},"models":{"base":{"file":"m.onnx"}}}`))
	crop := image.NewRGBA(image.Rect(0, 0, 13, 5))
	for i := range crop.Pix {
		crop.Pix[i] = uint8(i * 37)
	}
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, manifest []byte) {
		fsys := fstest.MapFS{
			ManifestFile:     {Data: manifest},
			"m.onnx":         {Data: []byte("model")},
			"base.onnx":      {Data: []byte("model")},
			"optimised.onnx": {Data: []byte("model")},
		}
		p, err := LoadPack(fsys, "fuzz")
		if err != nil {
			return
		}
		if len(p.Labels) < 2 || p.Height() < 8 || p.Width() < 8 || len(p.Variants()) == 0 {
			t.Fatalf("accepted an unusable pack: %d labels, %dx%d, %v", len(p.Labels), p.Width(), p.Height(), p.Variants())
		}
		for _, v := range p.Variants() {
			if _, err := p.ModelBytes(v); err != nil {
				t.Fatalf("accepted pack cannot read its %s model: %v", v, err)
			}
		}
		// An accepted contract can be applied: preprocessing a crop must not fail or panic.
		if c := p.Channels(); c != 1 && (p.Format < 2 || c != 3) {
			t.Fatalf("accepted %d channels in format %d", c, p.Format)
		}
		if p.InputSize() <= 1<<18 {
			dst := make([]float32, p.InputSize())
			if err := p.Preprocess(dst, crop); err != nil {
				t.Fatalf("accepted pack cannot preprocess a crop: %v", err)
			}
		}
	})
}
