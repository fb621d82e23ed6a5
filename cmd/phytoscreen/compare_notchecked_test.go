package main

import (
	"context"
	"image"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
	"github.com/phytoscreen/phytoscreen/vision"
)

// compare says each side's level as the side's report does and never turns "not
// looked for" into 0 (helper-88: RI-2, "not checked" in its report, read "none … The
// same alert levels"; a pack without cyanobacteria read "B 0 | B/A 0.00"; Anabaena at
// 6,000 against 1,510,000 cells/L read "0.00").
func TestCompareNotCheckedNotLookedForAndSmallRatios(t *testing.T) {
	s, err := store.Open(filepath.Join(t.TempDir(), "sessions.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	taxonomy := func(pack string) *screening.Taxonomy {
		t.Helper()
		p, err := app.LoadPack(pack)
		if err != nil {
			t.Fatal(err)
		}
		tx, err := screening.ForPack(p)
		if err != nil {
			t.Fatal(err)
		}
		return tx
	}
	cyano, ndsb := taxonomy("cyano-tcb-10"), taxonomy("ndsb-plankton-121")
	// add stores sample id of ml examined: n objects of label, colonies of areaUm2 µm²
	// (0: single-cell images, no size, their cells unknown).
	add := func(id string, tx *screening.Taxonomy, rules string, ml float64, label string, n int, areaUm2 float64) {
		t.Helper()
		sm := screening.NewSample(id)
		sm.Site, sm.VolumeML = "Reservoir intake", ml
		finder := ""
		if areaUm2 == 0 {
			finder = vision.FinderCellImages
		}
		r, err := s.StartRun(ctx, screening.RunInfo{Sample: sm, Spec: capture.MustParseSpec(id + ".avi"), Model: inference.Optimised, Threshold: 0.5, Taxonomy: tx, Rules: rules, Finder: finder})
		if err != nil {
			t.Fatal(err)
		}
		var recs []screening.ObjectRecord
		for i := range n {
			o := vision.Object{Source: id + ".avi", Frame: i, Track: i, New: true, Box: image.Rect(0, 0, 16, 16), AreaPx: 100}
			if areaUm2 > 0 {
				o.Kind, o.UmPerPx, o.AreaUm2, o.AreaPx = vision.KindColony, 0.5, areaUm2, areaUm2*4
			}
			recs = append(recs, screening.ObjectRecord{Seq: i + 1, Time: time.Now(), Object: o, Label: label, Prob: 0.9, Variant: inference.Optimised, Category: label})
		}
		if err := r.Objects(recs); err != nil {
			t.Fatal(err)
		}
		if err := r.Finish(ctx, screening.Snapshot{Threshold: 0.5, Variant: inference.Optimised}, nil); err != nil {
			t.Fatal(err)
		}
	}
	add("RI-1", cyano, "preset who-cyanobacteria", 0.1, "Microcystis", 10, 400)
	add("RI-2", cyano, "preset who-cyanobacteria", 0.1, "Microcystis", 24, 0)
	add("RI-3", cyano, "preset who-cyanobacteria", 100, "Microcystis", 1, 400)
	add("RI-1~ndsb", ndsb, "preset default", 0.1, "diatom_chain_string", 2, 0)

	compare := func(a, b string) string {
		t.Helper()
		code, stdout, stderr := run(t, "compare", "--db", s.Path(), a, b)
		if code != exitOK {
			t.Fatalf("compare %s %s: exit %d: %s", a, b, code, stderr)
		}
		return stdout
	}
	check := func(out string, want, bad []string) {
		t.Helper()
		for _, re := range want {
			if !regexp.MustCompile(re).MatchString(out) {
				t.Errorf("the comparison does not match %q:\n%s", re, out)
			}
		}
		for _, b := range bad {
			if strings.Contains(out, b) {
				t.Errorf("the comparison says %q:\n%s", b, out)
			}
		}
	}
	check(compare("RI-2", "RI-1"), []string{
		`(?m)^  A \(preset who-cyanobacteria\): not checked: Cyanobacteria \+ Microcystis spp\. \+ Oscillatoria spp\.: 24 objects of unknown cells`,
		`(?m)^  The alert levels differ`,
	}, []string{"A (preset who-cyanobacteria): none", "The same alert levels", "not looked for"})
	check(compare("RI-1", "RI-1~ndsb"), []string{
		`(?m)^Cyanobacteria\s+filament/colony\s+10\s+100,000\s+[\d,]+\s+not looked for\s+–\s+–\s+–\s*$`,
		`(?m)^Chain-forming diatoms\s+chain\s+not looked for\s+–\s+–\s+2\s+`,
		`(?m)^Counted by different packs: A by pack cyano-tcb-10, B by pack ndsb-plankton-121\.`,
		`(?m)^  Screened with different rules \(A: preset who-cyanobacteria on pack cyano-tcb-10; B: preset default on pack ndsb-plankton-121\)`,
	}, []string{"The same alert levels", " 0.00 "})
	// One colony in 100 mL beside ten in 0.1 mL: B / A to two significant figures.
	check(compare("RI-1", "RI-3"), []string{`(?m)^Microcystis\s+colony\s+10\s.*\s0\.00010\s*$`, `(?m)^  The same alert levels\.$`}, []string{"not looked for", " 0.00 "})
}
