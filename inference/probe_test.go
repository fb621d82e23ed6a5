package inference

import (
	"image"
	"strings"
	"testing"
)

// A probe returns the model's output as the classifier computes it, for a batch of two;
// a wrong input shape is an error, not a crash.
func TestProbeMatchesClassifier(t *testing.T) {
	c := openDefault(t, Options{Variant: Base, Threads: 1, TopK: 121})
	p := c.Pack()
	data, err := p.ModelBytes(Base)
	if err != nil {
		t.Fatal(err)
	}
	probe, err := NewProbe(data, "base", p.Input.Name, []string{p.Output.Name}, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	var crops []*image.Gray
	for _, s := range loadSamples(t)[:2] {
		crops = append(crops, s.img)
	}
	in := make([]float32, 2*p.InputSize())
	for i, g := range crops {
		if err := p.Preprocess(in[i*p.InputSize():], g); err != nil {
			t.Fatal(err)
		}
	}
	out, err := probe.Run(in, []int64{2, 1, 96, 96})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Classify(t.Context(), crops)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || len(out[0]) != 2*len(p.Labels) {
		t.Fatalf("probe returned %d outputs of %d values, want 1 of %d", len(out), len(out[0]), 2*len(p.Labels))
	}
	for i, r := range res {
		for _, pr := range r.Top {
			if got := out[0][i*len(p.Labels)+pr.Index]; got != pr.Prob {
				t.Fatalf("crop %d class %d: probe %g, classifier %g", i, pr.Index, got, pr.Prob)
			}
		}
	}
	if _, err := probe.Run(in[:p.InputSize()], []int64{1, 1, 90, 96}); err == nil {
		t.Error("a tensor of the wrong shape was accepted")
	}
	if _, err := NewProbe([]byte("not onnx"), "junk", "image", []string{"x"}, 1); err == nil || !strings.Contains(err.Error(), "junk") {
		t.Errorf("err = %v, want the model named", err)
	}
	g, err := OptimisedGraph(data)
	if err != nil || len(g) == 0 {
		t.Fatalf("optimised graph: %d bytes, %v", len(g), err)
	}
}
