package inference

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// The scorer's figures on a hand-worked example: top-1, top-5, log-loss, macro and
// weighted F1 over the classes with support, and the expected calibration error over 15
// bins of the top probability (as training/phytotrain/metrics.py computes them).
func TestScorerMetrics(t *testing.T) {
	s := NewScorer([]string{"a", "b", "c"})
	add := func(truth string, best int, p float32) {
		t.Helper()
		top := []Prediction{{Index: best, Prob: p}}
		for i := range 3 {
			if i != best {
				top = append(top, Prediction{Index: i, Prob: (1 - p) / 2})
			}
		}
		if err := s.Add(truth, Result{Top: top}); err != nil {
			t.Fatal(err)
		}
	}
	add("a", 0, 0.9)  // right, bin (0.867, 0.933]
	add("a", 0, 0.95) // right, bin (0.933, 1]
	add("a", 1, 0.6)  // wrong, bin (0.533, 0.6]
	add("b", 1, 0.92) // right, bin (0.867, 0.933]
	if err := s.Add("z", Result{Top: []Prediction{{Index: 0, Prob: 1}}}); err == nil {
		t.Error("a label outside the pack was scored")
	}
	m := s.Metrics()
	near := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-6 {
			t.Errorf("%s %.6f, want %.6f", what, got, want)
		}
	}
	if m.N != 4 {
		t.Fatalf("n %d, want 4", m.N)
	}
	near("top-1", m.Top1, 0.75)
	near("top-5", m.Top5, 1)
	near("log-loss", m.LogLoss, -(math.Log(0.9)+math.Log(0.95)+math.Log(0.2)+math.Log(0.92))/4)
	// a: precision 1, recall 2/3, F1 0.8; b: precision 0.5, recall 1, F1 2/3; c: no support.
	near("macro-F1", m.MacroF1, (0.8+2.0/3)/2)
	near("weighted-F1", m.WeightedF1, (3*0.8+2.0/3)/4)
	// Bins: {0.9, 0.92} both right: |1 - 0.91|; {0.95} right: |1 - 0.95|; {0.6} wrong: |0 - 0.6|.
	near("ECE", m.ECE, 2.0/4*0.09+1.0/4*0.05+1.0/4*0.6)
	if len(m.Recall) != 2 {
		t.Errorf("%d classes with support, want 2", len(m.Recall))
	}
}

// TestDistinctRows: the first row of an image is kept, in list order; a repeat with the
// same label is said to be scored once and one with another label to be skipped, each
// naming both lines.
func TestDistinctRows(t *testing.T) {
	items := []LabelledImage{
		{Path: "/d/a.png", Label: "x", Line: 2},
		{Path: "/d/b.png", Label: "y", Line: 3},
		{Path: "/d/a.png", Label: "x", Line: 4},
		{Path: "/d/c.png", Label: "x", Line: 5},
		{Path: "/d/b.png", Label: "z", Line: 6},
	}
	kept, repeats := DistinctRows(items)
	var got []int
	for _, it := range kept {
		got = append(got, it.Line)
	}
	if !slices.Equal(got, []int{2, 3, 5}) {
		t.Errorf("kept lines %v, want [2 3 5]", got)
	}
	if len(repeats) != 2 {
		t.Fatalf("%d repeats, want 2: %+v", len(repeats), repeats)
	}
	if repeats[0].Conflicting() || repeats[0].Describe("l.csv") != "l.csv line 4: repeats line 2 (/d/a.png); scored once" {
		t.Errorf("same-label repeat: %q", repeats[0].Describe("l.csv"))
	}
	if !repeats[1].Conflicting() || !strings.Contains(repeats[1].Describe("l.csv"), `l.csv line 6: /d/b.png is listed as "z" here and as "y" on line 3; this row skipped`) {
		t.Errorf("conflicting repeat: %q", repeats[1].Describe("l.csv"))
	}
}
