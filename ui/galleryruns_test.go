package ui

import (
	"testing"

	"github.com/phytoscreen/phytoscreen/store"
)

// A continued sample holds two runs, each numbering its objects from 1: the Gallery
// showed two crops "#9 · 81%" side by side, and its status line "Cell #9 of sample MC-C
// labelled ..." did not say which had been labelled (helper-97). Among crops of more
// than one run each caption names its run; a sample of one run reads as before.
func TestCaptionsNameTheRunInAContinuedSample(t *testing.T) {
	row := func(run int64, seq int, status string) galleryItem {
		return galleryItem{Row: store.ObjectRow{Run: store.RunRow{ID: run}, Seq: seq, Prob: 0.81, Status: status}}
	}
	captions := func(items []galleryItem) []string {
		multi := spansRuns(items)
		var out []string
		for _, it := range items {
			out = append(out, tileCaptionIn(it.Row, multi))
		}
		return out
	}
	for _, c := range []struct {
		name  string
		items []galleryItem
		want  []string
	}{
		{"one run", []galleryItem{row(4, 9, store.StatusPredicted), row(4, 10, store.StatusValidated)}, []string{"#9 · 81%", "✓ #10 · 81%"}},
		{"stopped run and its continuation", []galleryItem{row(4, 9, store.StatusPredicted), row(5, 9, store.StatusValidated)}, []string{"r4 #9 · 81%", "✓ r5 #9 · 81%"}},
		{"one crop", []galleryItem{row(5, 1, store.StatusPredicted)}, []string{"#1 · 81%"}},
		{"none", nil, nil},
	} {
		got := captions(c.items)
		if len(got) != len(c.want) {
			t.Fatalf("%s: captions %q, want %q", c.name, got, c.want)
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: caption %d is %q, want %q", c.name, i, got[i], c.want[i])
			}
		}
	}
	if got, want := objectRef(9, 5), "#9 of run 5"; got != want {
		t.Errorf("status line names the object %q, want %q", got, want)
	}
}
