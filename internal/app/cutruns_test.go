package app

import (
	"context"
	"image"
	"strings"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
	"github.com/phytoscreen/phytoscreen/vision"
)

// The notice of a run cut short says the levels its sample stands at under the rules
// it was screened with: the run that would have raised them was gone, so no one was
// told (helper-42). A run with no level says none.
func TestCutRunsTextSaysTheLevels(t *testing.T) {
	st, _, r := cyanoRun(t, "CUT-1", 0.001, "preset who-cyanobacteria")
	ctx := context.Background()
	var recs []screening.ObjectRecord
	for i := range 150 { // 150 Microcystis in a microlitre: over the alert's 100,000 cells/mL
		o := vision.Object{Source: "pond.avi", Frame: i, Track: i, New: true, Box: image.Rect(0, 0, 8, 8), AreaPx: 40}
		recs = append(recs, screening.ObjectRecord{Seq: i + 1, Time: time.Now(), Object: o, Label: "Microcystis", Prob: 0.9, Variant: inference.Base, Category: "Microcystis"})
	}
	if err := r.Objects(recs); err != nil {
		t.Fatal(err)
	}
	if err := r.Finish(ctx, screening.Snapshot{}, nil); err != nil {
		t.Fatal(err)
	}
	cut := store.CutRun{Sample: "CUT-1", Run: r.ID, Started: time.Now(), Frames: 150, Objects: 150, VolumeML: 0.001, VolumeGiven: 0.002, Rules: "preset who-cyanobacteria"}
	text := CutRunsText(ctx, st, []store.CutRun{cut}, "phytoscreen screen --continue SAMPLE-ID")
	for _, want := range []string{"Sample CUT-1: its run started at", "Kept: 150 frames and 150 objects, 0.001 of the 0.002 mL given examined",
		"On what it examined, the sample stands at: ALERT Cyanobacteria", "take the run up where it stopped: phytoscreen screen --continue SAMPLE-ID."} {
		if !strings.Contains(text, want) {
			t.Errorf("the notice lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "last classified") {
		t.Errorf("a run of no recorded work gives a time of its last work:\n%s", text)
	}
	// Killed before its first frame: said removed, and nothing more of it. Without a way
	// to continue, none is named.
	removed := store.CutRun{Sample: "GONE-1", Started: time.Now(), Removed: true}
	if text := CutRunsText(ctx, st, []store.CutRun{removed}, ""); !strings.Contains(text, "Sample GONE-1: its run started at ") ||
		!strings.HasSuffix(text, "before it recorded a frame, and was removed: screen it again.") {
		t.Errorf("a run removed:\n%s", text)
	}
	removed.SampleKept = true // a continuation removed: the sample keeps the run it took up
	if text := CutRunsText(ctx, st, []store.CutRun{removed}, ""); !strings.HasSuffix(text, "and was removed; the sample keeps its earlier runs (a run taking up one that stopped can be started again).") {
		t.Errorf("a continuation removed:\n%s", text)
	}
	if text := CutRunsText(ctx, st, []store.CutRun{cut, removed}, ""); strings.Contains(text, "take the run up") || !strings.Contains(text, "History shows what was counted") {
		t.Errorf("a run kept and a run removed, no way to continue:\n%s", text)
	}
	cut.Rules = "preset default" // names no taxon of this pack: no level
	if text := CutRunsText(ctx, st, []store.CutRun{cut}, "phytoscreen screen --continue SAMPLE-ID"); strings.Contains(text, "stands at") {
		t.Errorf("a level under rules that see nothing:\n%s", text)
	}
}
