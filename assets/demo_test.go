package assets

import (
	"encoding/json"
	"io/fs"
	"slices"
	"testing"
)

// The demo's taxa are what the NDSB packs know and the cyanobacteria pack does not: the
// app plays the demo at launch only with a pack that knows them.
func TestDemoLabelsKnownToTheNDSBPacksOnly(t *testing.T) {
	got := DemoLabels()
	if !slices.Contains(got, "protist_noctiluca") || len(got) < 5 {
		t.Fatalf("demo labels %q: want the demo's Noctiluca among several taxa", got)
	}
	labels := func(name string) []string {
		p, ok := BuiltinPack(name)
		if !ok {
			t.Fatalf("no built-in pack %s", name)
		}
		b, err := fs.ReadFile(p, "pack.json")
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Labels []string `json:"labels"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m.Labels
	}
	for _, name := range []string{DefaultPackName, NDSBv2PackName} {
		known := labels(name)
		for _, l := range got {
			if !slices.Contains(known, l) {
				t.Errorf("pack %s does not know the demo's %s", name, l)
			}
		}
	}
	if cy := labels(CyanoPackName); slices.ContainsFunc(got, func(l string) bool { return slices.Contains(cy, l) }) {
		t.Errorf("the cyanobacteria pack knows one of the demo's taxa %q", got)
	}
}
