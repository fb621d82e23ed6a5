package ui

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// History sets two samples of the same frames side by side: each object found at the
// same place in both, and how the two counted it.
func TestHistoryComparesTwoSamples(t *testing.T) {
	h := newHarness(t, nil)
	h.a.sample.Fill(h.a.newSample(), 0)
	a := h.runToEnd(2) // a Noctiluca a frame
	h.a.sample.Fill(h.a.newSample(), 0)
	cop := labelIndex(t, h.a.svc.Pack, "copepod_calanoid")
	b := h.runToEndOf(newGatedSource(2, func(int) []fakeCell { return []fakeCell{{cop, 0.9}} }), 2)
	hv := h.a.history
	hv.Reload()
	h.pump("two samples listed", 10*time.Second, func() bool { return len(hv.all) == 2 })
	hv.Select(a)
	h.pump("sample a shown", 10*time.Second, func() bool { return hv.selected == a && !hv.compare.Disabled() })
	if got := hv.compareCandidates(a); !slices.Equal(got, []string{b}) {
		t.Errorf("candidates %v, want %v", got, []string{b})
	}
	hv.CompareWith(a, b)
	h.pump("the comparison", 10*time.Second, func() bool { return hv.lastComparison != "" || h.a.lastError != nil })
	for _, want := range []string{"A: sample " + a, "B: sample " + b, "Same frames: 2 objects found at the same place in both, 0 (0.0%) counted alike; 0 in A alone, 0 in B alone.", "2 counted as Noctiluca"} {
		if !strings.Contains(hv.lastComparison, want) {
			t.Errorf("the comparison lacks %q:\n%s", want, hv.lastComparison)
		}
	}
	if !strings.HasPrefix(h.a.status.Text, "Same frames: 2 objects") {
		t.Errorf("status %q: want the comparison's summary", h.a.status.Text)
	}
}

// The samples offered to compare with start with the shown one's companions (the same
// frames under other settings: S-1, S-1~base), then the others in History's order.
func TestCompareCandidatesCompanionsFirst(t *testing.T) {
	hv := &historyView{all: []sampleEntry{{ID: "S-3"}, {ID: "S-1~t0.7"}, {ID: "S-2"}, {ID: "S-1~base"}, {ID: "S-1"}, {ID: "S-10"}}}
	if got, want := hv.compareCandidates("S-1"), []string{"S-1~t0.7", "S-1~base", "S-3", "S-2", "S-10"}; !slices.Equal(got, want) {
		t.Errorf("candidates of S-1: %v, want %v", got, want)
	}
	if got, want := hv.compareCandidates("S-1~base"), []string{"S-1~t0.7", "S-1", "S-3", "S-2", "S-10"}; !slices.Equal(got, want) {
		t.Errorf("candidates of S-1~base: %v, want %v", got, want)
	}
}
