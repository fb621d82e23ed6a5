package inference

import (
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
	})
}
