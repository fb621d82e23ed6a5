package app

import (
	"context"
	"image"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/power"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
	"github.com/phytoscreen/phytoscreen/vision"
)

// Two samples of the same frames (a sample and its companion under the other model)
// are set side by side: counts per taxon and group, the objects found at the same place
// in both and how many were counted alike, the pairs that differ, and the energy per
// cell of each.
func TestCompareSamplesOfTheSameFrames(t *testing.T) {
	// A in a microlitre, B in ten: A over the WHO levels, B under them.
	st, _, ra := cyanoRun(t, "S-1", 0.001, "preset who-cyanobacteria")
	ctx := context.Background()
	// A: 20 Microcystis at frames 0-19, and 2 at frames 60 and 61 that B does not find.
	// B: the same 20 places, 15 Microcystis, 3 Dolichospermum and 2 under the threshold,
	// and 1 at frame 50 that A does not find.
	object := func(frame int, label string, prob float32) screening.ObjectRecord {
		o := vision.Object{Source: "pond.avi", Frame: frame, Track: frame, New: true, Box: image.Rect(10, 10, 30, 30), AreaPx: 300}
		return screening.ObjectRecord{Seq: frame + 1, Time: time.Now(), Object: o, Label: label, Prob: prob, Variant: inference.Optimised, Category: label}
	}
	var a, b []screening.ObjectRecord
	for f := range 20 {
		a = append(a, object(f, "Microcystis", 0.9))
		switch {
		case f < 15:
			b = append(b, object(f, "Microcystis", 0.9))
		case f < 18:
			b = append(b, object(f, "Dolichospermum", 0.8))
		default:
			b = append(b, object(f, "Microcystis", 0.3))
		}
	}
	a = append(a, object(60, "Microcystis", 0.9), object(61, "Microcystis", 0.9))
	b = append(b, object(50, "Dolichospermum", 0.9))
	record := func(r *store.Run, objs []screening.ObjectRecord, v inference.Variant, joules float64) {
		t.Helper()
		if err := r.Objects(objs); err != nil {
			t.Fatal(err)
		}
		if err := r.Power(inference.Optimised, power.Span{Start: time.Now(), Duration: 2 * time.Second, Cells: uint64(len(objs)), Joules: joules, Source: "rapl:package-0"}); err != nil {
			t.Fatal(err)
		}
		if err := r.Finish(ctx, screening.Snapshot{Variant: v, Threshold: 0.5}, nil); err != nil {
			t.Fatal(err)
		}
	}
	record(ra, a, inference.Optimised, 2.2) // 0.1 J a cell
	sb := screening.NewSample("S-1~base")
	sb.VolumeML = 0.01
	tx, err := packTaxonomy("cyano-tcb-10")
	if err != nil {
		t.Fatal(err)
	}
	rb, err := st.StartRun(ctx, screening.RunInfo{Sample: sb, Spec: capture.MustParseSpec("pond.avi"), Model: inference.Base, Threshold: 0.5, Taxonomy: tx, Rules: "preset who-cyanobacteria"})
	if err != nil {
		t.Fatal(err)
	}
	record(rb, b, inference.Base, 6.3) // 0.3 J a cell

	c, err := CompareSamples(ctx, st, "S-1", "S-1~base")
	if err != nil {
		t.Fatal(err)
	}
	if !c.SameFrames || c.Matched != 20 || c.Agree != 15 || c.OnlyA != 2 || c.OnlyB != 1 {
		t.Errorf("same frames %v: %d matched, %d alike, %d in A alone, %d in B alone; want true, 20, 15, 2, 1", c.SameFrames, c.Matched, c.Agree, c.OnlyA, c.OnlyB)
	}
	if len(c.Differ) != 2 || c.Differ[0] != (CategoryPair{"Microcystis", "Dolichospermum", 3}) || c.Differ[1] != (CategoryPair{"Microcystis", "Unidentified", 2}) {
		t.Errorf("pairs that differ: %+v", c.Differ)
	}
	text := c.Text()
	for _, want := range []string{"A: sample S-1,", "B: sample S-1~base,", "model optimised", "model base",
		"Same frames: 20 objects found at the same place in both, 15 (75.0%) counted alike; 2 in A alone, 1 in B alone.",
		"3 counted as Microcystis in A, Dolichospermum in B", "A: 0.1 J/cell over 22 cells, 11 cells/s over 2s", "B: 0.3 J/cell over 21 cells", "Not set side by side: the records cover 2s and 2s, under 30s each", "phytoscreen bench --pack cyano-tcb-10", "HAB groups",
		"  B (preset who-cyanobacteria): none", "The alert levels differ: look at the sample before acting on either."} {
		if !strings.Contains(text, want) {
			t.Errorf("the comparison lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "B used") {
		t.Errorf("records of 2 s set side by side as a ratio:\n%s", text)
	}
	// Records long enough are set side by side, as the whole app's.
	for i := range c.Energy {
		for j := range c.Energy[i] {
			c.Energy[i][j].Measured = 40 * time.Second
		}
	}
	if text := c.Text(); !strings.Contains(text, "B used 3.00× A's energy per cell, the whole app's;\n  the models' own cost, measured alone: phytoscreen bench --pack cyano-tcb-10.") || strings.Contains(text, "Not set side by side") {
		t.Errorf("records of 40 s each:\n%s", text)
	}
	var micro *CompareRow
	for i := range c.Rows {
		if c.Rows[i].Label == "Microcystis" {
			micro = &c.Rows[i]
		}
	}
	if len(c.Levels[0]) == 0 || len(c.Levels[1]) != 0 {
		t.Errorf("levels %v and %v: want A over the WHO levels, B under", c.Levels[0], c.Levels[1])
	}
	if micro == nil || micro.A.Count != 22 || micro.B.Count != 15 {
		t.Errorf("Microcystis row %+v: want 22 in A, 15 in B", micro)
	}
	t.Logf("\n%s", text)
	// A sample whose rules file is gone: its levels cannot be worked out, and nothing
	// is said of the two together (not "none", not "the same").
	sc := screening.NewSample("S-3")
	sc.VolumeML, sc.Factor = 1, 0.1 // concentrated tenfold
	rc, err := st.StartRun(ctx, screening.RunInfo{Sample: sc, Spec: capture.MustParseSpec("pond.avi"), Model: inference.Base, Threshold: 0.5, Taxonomy: tx, Rules: "/no/such/rules.toml"})
	if err != nil {
		t.Fatal(err)
	}
	record(rc, b[:3], inference.Base, 0.9)
	c3, err := CompareSamples(ctx, st, "S-1", "S-3")
	if err != nil {
		t.Fatal(err)
	}
	if text := c3.Text(); !strings.Contains(text, "  B (/no/such/rules.toml): cannot be worked out: ") || strings.Contains(text, "The same alert levels") || strings.Contains(text, "levels differ") {
		t.Errorf("levels under rules that cannot be read:\n%s", text)
	}
	// Its factor is said beside its volume (helper-67: "10 mL examined" beside a
	// concentration ten times under the count's).
	if text := c3.Text(); !strings.Contains(text, "1 mL examined (factor 0.1)") {
		t.Errorf("the concentrated sample's header lacks its factor:\n%s", text)
	}
	if _, err := CompareSamples(ctx, st, "S-1", "S-1"); err == nil {
		t.Error("a sample compared with itself")
	}
}

// Frames of a folder are told apart by their path within it: subfolders may hold files
// of one name.
func TestPlaceOfFramesInSubfolders(t *testing.T) {
	run := store.RunRow{Spec: capture.Spec{Kind: capture.KindFolder, Path: "/data/run"}.String()}
	copyRun := store.RunRow{Spec: capture.Spec{Kind: capture.KindFolder, Path: "/copy/run"}.String()}
	box := image.Rect(0, 0, 8, 8)
	a := placeOf(store.ObjectRow{Run: run, File: "/data/run/a/img_0001.png", Box: box})
	b := placeOf(store.ObjectRow{Run: run, File: "/data/run/b/img_0001.png", Box: box})
	c := placeOf(store.ObjectRow{Run: copyRun, File: "/copy/run/a/img_0001.png", Box: box})
	if a == b || a != c {
		t.Errorf("places %+v, %+v, %+v: want the subfolders apart, the copy alike", a, b, c)
	}
}

// Colonies count once per object, the levels compare their cells: the comparison shows
// each side's cells per litre and its B / A is theirs (helper-81: Microcystis "1.00" in
// objects beside 160,000 against 280,000 cells/L).
func TestComparisonInCells(t *testing.T) {
	tc := func(n int, cells float64) store.TaxonCount {
		return store.TaxonCount{Label: "Microcystis", Name: "Microcystis", Unit: "colony",
			Concentration: screening.Concentration{Count: n, PerL: float64(n) * 10000}, Cells: cells}
	}
	c := Comparison{Rows: []CompareRow{{Label: "Microcystis", Name: "Microcystis", Unit: "colony", A: tc(16, 16*4), B: tc(16, 16*7)}}}
	text := c.Text()
	if !strings.Contains(text, "B / A (cells)") || !regexp.MustCompile(`(?m)Microcystis\s+colony\s+16\s+160,000\s+640,000\s+16\s+160,000\s+1,120,000\s+1\.8\s*$`).MatchString(text) {
		t.Errorf("colonies of 4 and 7 cells compared:\n%s", text)
	}
	c.Rows[0].A, c.Rows[0].B = tc(2, 2), tc(3, 3)
	if text := c.Text(); strings.Contains(text, "cells/L") || !regexp.MustCompile(`(?m)Microcystis\s+colony\s+2\s+20,000\s+3\s+30,000\s+1\.5\s*$`).MatchString(text) {
		t.Errorf("single cells compared:\n%s", text)
	}
}

// Each side's alert level is said as its report says it: "not checked" with why, never
// "none"; the taxa and groups a side's pack cannot name are "not looked for", with no
// ratio; samples of two packs and two rulesets are said to be screened with different
// rules, not "the same alert levels" (helper-88: RI-2, not checked in its report, read
// "none … The same alert levels" beside a sample of the NDSB pack under the default's
// rules, and Cyanobacteria 18,620,000 beside 0, "0.00", from a pack without them).
func TestCompareSaysNotCheckedAndNotLookedFor(t *testing.T) {
	ctx := context.Background()
	// A: Microcystis colonies of single-cell images, cells unknown: not checked.
	st, _, ra := cyanoRunOf(t, "C-1", 0.1, "preset who-cyanobacteria", vision.FinderCellImages)
	finishColonies(t, ra, 4, 0, 1)
	// B: the same water under the NDSB pack and the marine default: one diatom chain.
	ndsb, err := packTaxonomy("ndsb-plankton-121")
	if err != nil {
		t.Fatal(err)
	}
	chain := ndsb.Members("diatom_chains")
	if len(chain) == 0 {
		t.Fatalf("pack ndsb-plankton-121 names no chain-forming diatom (groups %+v)", ndsb.Groups)
	}
	sb := screening.NewSample("C-1~ndsb")
	sb.VolumeML = 1
	rb, err := st.StartRun(ctx, screening.RunInfo{Sample: sb, Spec: capture.MustParseSpec("pond.avi"), Model: inference.Base, Threshold: 0.5, Taxonomy: ndsb, Rules: "preset default"})
	if err != nil {
		t.Fatal(err)
	}
	o := vision.Object{Source: "pond.avi", Frame: 0, Track: 0, New: true, Box: image.Rect(0, 0, 16, 16), AreaPx: 100}
	if err := rb.Objects([]screening.ObjectRecord{{Seq: 1, Time: time.Now(), Object: o, Label: chain[0], Prob: 0.9, Variant: inference.Base, Category: chain[0]}}); err != nil {
		t.Fatal(err)
	}
	if err := rb.Finish(ctx, screening.Snapshot{}, nil); err != nil {
		t.Fatal(err)
	}
	c, err := CompareSamples(ctx, st, "C-1", "C-1~ndsb")
	if err != nil {
		t.Fatal(err)
	}
	text := c.Text()
	t.Logf("\n%s", text)
	for _, re := range []string{
		`(?m)^  A \(preset who-cyanobacteria\): not checked: Cyanobacteria \+ Microcystis spp\. \+ Oscillatoria spp\.: 4 objects of unknown cells`,
		`(?m)^Microcystis\s+colony\s+4\s+40,000\s+not looked for\s+–\s+–\s*$`,
		`(?m)^Cyanobacteria\s+filament/colony\s+4\s+40,000\s+not looked for\s+–\s+–\s*$`,
		`(?m)^Chain-forming diatoms\s+chain\s+not looked for\s+–\s+1\s+1,000\s+–\s*$`,
		`(?m)^Counted by different packs: A by pack cyano-tcb-10, B by pack ndsb-plankton-121\.`,
		`(?m)^  Screened with different rules \(A: preset who-cyanobacteria on pack cyano-tcb-10; B: preset default on pack ndsb-plankton-121\)`,
	} {
		if !regexp.MustCompile(re).MatchString(text) {
			t.Errorf("the comparison does not match %q", re)
		}
	}
	for _, bad := range []string{"A (preset who-cyanobacteria): none", "The same alert levels", "0.00"} {
		if strings.Contains(text, bad) {
			t.Errorf("the comparison says %q", bad)
		}
	}
	// The same pack and rules, both judged: the same levels are said only there.
	st2, _, r1 := cyanoRun(t, "P-1", 0.1, "preset who-cyanobacteria")
	finishColonies(t, r1, 2, 400, 3)
	s2 := screening.NewSample("P-2")
	s2.VolumeML = 0.1
	cyano, _ := packTaxonomy("cyano-tcb-10")
	r2, err := st2.StartRun(ctx, screening.RunInfo{Sample: s2, Spec: capture.MustParseSpec("pond2.avi"), Model: inference.Base, Threshold: 0.5, Taxonomy: cyano, Rules: "preset who-cyanobacteria"})
	if err != nil {
		t.Fatal(err)
	}
	finishColonies(t, r2, 2, 400, 3)
	c2, err := CompareSamples(ctx, st2, "P-1", "P-2")
	if err != nil {
		t.Fatal(err)
	}
	if text := c2.Text(); !strings.Contains(text, "  The same alert levels.\n") || strings.Contains(text, "not looked for") || strings.Contains(text, "different packs") {
		t.Errorf("two samples of one pack under one ruleset:\n%s", text)
	}
}

// B / A is given to two significant figures under 0.1, two decimals above: 6,000 against 1,510,000 cells/L read 0.00
// (helper-88).
func TestRatioTextTwoSignificantFigures(t *testing.T) {
	for _, c := range []struct {
		a, b float64
		want string
	}{
		{1510000, 6000, "0.0040"}, {2890000, 26300, "0.0091"}, {160000, 1700, "0.011"}, {100, 150, "1.5"}, {100, 100, "1.0"},
		{10, 120, "12"}, {100, 0, "0"}, {0, 5, "–"}, {4, 7, "1.8"}, {1e6, 3, "0.0000030"}, {100, 1398, "14"}, {10, 1234, "123"},
		{100, 50, "0.50"},
	} {
		if got := ratioText(c.a, c.b); got != c.want {
			t.Errorf("ratioText(%g, %g) = %q, want %q", c.a, c.b, got, c.want)
		}
	}
}

// Cells known only as a lower bound (colonies of single-cell images) are marked so in
// the comparison, and bound the ratio: RI-2's 240,000 cells/L of 24 filaments of
// unknown cells against RI-1's 18.6 M read as an exact 0.013 (helper-93).
func TestCompareMarksLowerBounds(t *testing.T) {
	ctx := context.Background()
	st, tx, rc := cyanoRunOf(t, "C-1", 0.1, "preset who-cyanobacteria", vision.FinderCellImages)
	finishColonies(t, rc, 4, 0, 1)
	sk := screening.NewSample("K-1")
	sk.VolumeML = 0.1
	rk, err := st.StartRun(ctx, screening.RunInfo{Sample: sk, Spec: capture.MustParseSpec("pond2.avi"), Model: inference.Base, Threshold: 0.5, Taxonomy: tx, Rules: "preset who-cyanobacteria"})
	if err != nil {
		t.Fatal(err)
	}
	finishColonies(t, rk, 2, 400, 30) // 18 cells each from their area and Microcystis' cell size: 360,000 cells/L, known
	for _, c := range []struct{ a, b, ratio string }{{"K-1", "C-1", `≥0\.11`}, {"C-1", "K-1", `≤9\.0`}} {
		cmp, err := CompareSamples(ctx, st, c.a, c.b)
		if err != nil {
			t.Fatal(err)
		}
		text := cmp.Text()
		t.Logf("\n%s", text)
		for _, re := range []string{
			`(?m)^Microcystis\s+colony\s+.*≥40,000\s+.*` + c.ratio + `\s*$`,
			`(?m)^≥: a lower bound`,
			`(?m)^A: sample ` + c.a + `, taken \d{4}-\d\d-\d\d \d\d:\d\d [A-Z+\-0-9]+,`,
		} {
			if !regexp.MustCompile(re).MatchString(text) {
				t.Errorf("%s against %s does not match %q", c.a, c.b, re)
			}
		}
	}
}
