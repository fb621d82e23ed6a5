package inference

import (
	"encoding/json"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/phytoscreen/phytoscreen/assets"
)

// manifestJSON returns the default pack's manifest after edit has changed it.
func manifestJSON(t *testing.T, edit func(m map[string]any)) []byte {
	t.Helper()
	data, err := fs.ReadFile(assets.DefaultPack(), ManifestFile)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLoadDefaultPack(t *testing.T) {
	p, err := LoadPack(assets.DefaultPack(), "built-in")
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != assets.DefaultPackName || len(p.Labels) != 121 || p.Height() != 96 || p.Width() != 96 {
		t.Errorf("pack %s: %d labels, %dx%d input", p.Name, len(p.Labels), p.Width(), p.Height())
	}
	if got := p.Variants(); len(got) != 2 || got[0] != Base || got[1] != Optimised {
		t.Errorf("variants %v, want [base optimised]", got)
	}
	if p.Models[Base].ValTop1 < 0.74 || p.Models[Optimised].ValTop1 < 0.73 || p.PadValue() != 1 {
		t.Errorf("card figures not read: %+v", p.Models)
	}
}

func TestLoadPackRejects(t *testing.T) {
	model := &fstest.MapFile{Data: []byte("onnx bytes")}
	tests := []struct {
		name  string
		files fstest.MapFS
		want  string
	}{
		{"no manifest", fstest.MapFS{"base.onnx": model}, "no pack.json"},
		{"malformed JSON", fstest.MapFS{"pack.json": {Data: []byte("{\n \"name\": \"x\",\n \"labels\": [\"a\" \"b\"]\n}")}}, "not valid JSON: line 3, column"},
		{"wrong type", fstest.MapFS{"pack.json": {Data: []byte(`{"name": 3}`)}}, "not valid JSON: line 1"},
		{"missing model file", fstest.MapFS{"pack.json": {Data: manifestJSON(t, func(m map[string]any) {})}, "base.onnx": model}, "optimised model file optimised.onnx is missing"},
		{"one label", fstest.MapFS{"pack.json": {Data: manifestJSON(t, func(m map[string]any) { m["labels"] = []string{"a"} })}}, "at least 2"},
		{"duplicate label", fstest.MapFS{"pack.json": {Data: manifestJSON(t, func(m map[string]any) { m["labels"] = []string{"a", "b", "a"} })}}, `"a" twice`},
		{"three channels", fstest.MapFS{"pack.json": {Data: manifestJSON(t, func(m map[string]any) { m["input"].(map[string]any)["shape"] = []int{-1, 3, 96, 96} })}}, "3 channels"},
		{"free height", fstest.MapFS{"pack.json": {Data: manifestJSON(t, func(m map[string]any) { m["input"].(map[string]any)["shape"] = []int{-1, 1, -1, 96} })}}, "height and width must be fixed"},
		{"not float32", fstest.MapFS{"pack.json": {Data: manifestJSON(t, func(m map[string]any) { m["input"].(map[string]any)["dtype"] = "uint8" })}}, "float32 tensors only"},
		{"colour pixels", fstest.MapFS{"pack.json": {Data: manifestJSON(t, func(m map[string]any) { m["input"].(map[string]any)["pixels"] = "rgb/255" })}}, "grayscale/255 only"},
		{"stretch letterbox", fstest.MapFS{"pack.json": {Data: manifestJSON(t, func(m map[string]any) { m["input"].(map[string]any)["letterbox"] = "stretch to fit" })}}, "shrink-only letterbox"},
		{"no models", fstest.MapFS{"pack.json": {Data: manifestJSON(t, func(m map[string]any) { m["models"] = map[string]any{} })}}, `"models" is empty`},
		{"model outside pack", fstest.MapFS{"pack.json": {Data: manifestJSON(t, func(m map[string]any) {
			m["models"] = map[string]any{"base": map[string]any{"file": "../base.onnx"}}
		})}}, "inside the pack folder"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadPack(tc.files, "lab-pack")
			if err == nil {
				t.Fatalf("loaded; want error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "lab-pack") {
				t.Errorf("error %q: want it to name the pack and contain %q", err, tc.want)
			}
		})
	}
}

func TestLoadPackDirNotAFolder(t *testing.T) {
	if _, err := LoadPackDir("pack_test.go"); err == nil || !strings.Contains(err.Error(), "not a folder") {
		t.Errorf("error %v, want 'not a folder'", err)
	}
	if _, err := LoadPackDir("no/such/pack"); err == nil || !strings.Contains(err.Error(), "no/such/pack") {
		t.Errorf("error %v, want the path named", err)
	}
}

func TestParseVariant(t *testing.T) {
	for in, want := range map[string]Variant{"base": Base, "Optimised": Optimised, "optimized": Optimised, "int8": Optimised} {
		if got, err := ParseVariant(in); err != nil || got != want {
			t.Errorf("ParseVariant(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseVariant("fp16"); err == nil {
		t.Error("fp16 accepted")
	}
}
