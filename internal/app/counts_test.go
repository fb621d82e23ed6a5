package app

import (
	"bytes"
	"context"
	"encoding/csv"
	"image"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/labrec"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
	"github.com/phytoscreen/phytoscreen/vision"
)

// A stored sample's colonies count by the cells in them, as the live run counted them,
// and an object a reviewer moves to another taxon takes that taxon's rule: History and
// the PDF report measure the alert rules on these cells.
func TestSampleCountsCellsFollowTheReview(t *testing.T) {
	st, tx, r := cyanoRun(t, "C1", 1, "")
	micro, ok := tx.Lookup("Microcystis")
	if !ok || micro.Unit != "colony" || micro.CellUm == 0 {
		t.Fatalf("the cyano pack's Microcystis is %+v: the test needs a colony with a cell size", micro)
	}
	ctx := context.Background()
	const n, areaUm2 = 4, 400.0
	want := micro.Cells(1, 0, areaUm2) // a colony's cells from its area
	finishColonies(t, r, n, areaUm2, want)
	cellsOf := func(c store.Counts, label string) (int, float64) {
		for _, x := range c.Taxa {
			if x.Label == label {
				return x.Count, x.Cells
			}
		}
		return 0, 0
	}
	c, got, packErr, err := SampleCounts(ctx, st, "C1")
	if err != nil || packErr != nil || got == nil {
		t.Fatalf("counts: %v; pack: %v", err, packErr)
	}
	if k, cells := cellsOf(c, "Microcystis"); k != n || cells != n*want || want <= 1 {
		t.Fatalf("%d Microcystis colonies of %g cells: counted %d holding %g cells", n, want, k, cells)
	}
	// The group's unit names its members' units in the order the live run names them.
	var live []string
	for _, l := range tx.Members("cyanobacteria") {
		if x, _ := tx.Lookup(l); !slices.Contains(live, x.Unit) {
			live = append(live, x.Unit)
		}
	}
	if len(c.Groups) != 1 || c.Groups[0].Unit != strings.Join(live, "/") || c.Groups[0].Cells != n*want {
		t.Errorf("stored group %+v, want unit %q and %g cells", c.Groups, strings.Join(live, "/"), n*want)
	}
	m := screening.RuleMeasure(c.Taxa[0].Concentration, c.Taxa[0].Cells)
	if math.Abs(m.PerL-c.Taxa[0].PerL*want) > 1e-6*m.PerL {
		t.Errorf("the rule measures %g cells/L, want %g colonies/L times %g cells", m.PerL, c.Taxa[0].PerL, want)
	}

	// A reviewer calls one colony Nostoc: it counts by Nostoc's cell size now.
	var id int64
	if err := st.Objects(ctx, c.Sample, false, func(o store.ObjectRow) error { id = o.ID; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Relabel(ctx, id, "Nostoc", "tester"); err != nil {
		t.Fatal(err)
	}
	nostoc, _ := tx.Lookup("Nostoc")
	c, _, _, err = SampleCounts(ctx, st, "C1")
	if err != nil {
		t.Fatal(err)
	}
	wantNostoc := nostoc.Cells(want, 0, areaUm2)
	if k, cells := cellsOf(c, "Nostoc"); k != 1 || cells != wantNostoc || wantNostoc == want {
		t.Errorf("the colony moved to Nostoc counts %d holding %g cells, want 1 of %g (Microcystis gave it %g)", k, cells, wantNostoc, want)
	}
	if _, cells := cellsOf(c, "Microcystis"); cells != (n-1)*want {
		t.Errorf("Microcystis keeps %g cells, want %g", cells, (n-1)*want)
	}
	// The store alone keeps each object's estimate as stored.
	plain, err := st.Counts(ctx, "C1")
	if err != nil {
		t.Fatal(err)
	}
	if _, cells := cellsOf(plain, "Nostoc"); cells != want {
		t.Errorf("Store.Counts gives the moved colony %g cells, want the stored %g", cells, want)
	}
	// So does the tally pushed to the lab server once the store counts by the packs
	// (the bench's sync sets it): the programme's weekly report said the stored cells.
	nostocCells := func() float64 {
		tl, err := st.SyncSample(ctx, "C1")
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range tl.Counts {
			if x.Label == "Nostoc" {
				return x.Cells
			}
		}
		return -1
	}
	if got := nostocCells(); got != want {
		t.Errorf("the lab server's tally before SetCellsOf: Nostoc %g cells, want the stored %g", got, want)
	}
	st.SetCellsOf(PackCells())
	if got := nostocCells(); got != wantNostoc {
		t.Errorf("the lab server's tally counted by the packs: Nostoc %g cells, want %g as History", got, wantNostoc)
	}
	// The exports say what History says: the counts CSV's cells and the objects CSV's
	// estimate of the moved colony are Nostoc's (helper-62: the stored one, 1 against 41).
	var counts, objects bytes.Buffer
	if err := ExportSample(ctx, st, "C1", store.FormatCounts, "", &counts); err != nil {
		t.Fatal(err)
	}
	if err := ExportSample(ctx, st, "C1", store.FormatObjects, "", &objects); err != nil {
		t.Fatal(err)
	}
	if row := csvRow(t, counts.String(), "label", "Nostoc"); row["cells_estimate"] != strconv.FormatFloat(wantNostoc, 'f', 0, 64) {
		t.Errorf("the counts CSV's Nostoc row %v: want cells_estimate %g", row, wantNostoc)
	}
	if row := csvRow(t, objects.String(), "validated_label", "Nostoc"); row["cells_estimate"] != strconv.FormatFloat(wantNostoc, 'f', 0, 64) {
		t.Errorf("the objects CSV's moved colony %v: want cells_estimate %g", row, wantNostoc)
	}
}

// watchColonies is a sample of 4 Microcystis colonies of 400 µm², each holding cells as
// the cyanobacteria pack estimates them, in the volume that makes them 50,000 cells per
// mL: between the WHO preset's watch (20,000) and alert (100,000) levels.
func watchColonies(t *testing.T) (n int, areaUm2, cells, volumeML float64) {
	t.Helper()
	tx, err := packTaxonomy("cyano-tcb-10")
	if err != nil {
		t.Fatal(err)
	}
	micro, _ := tx.Lookup("Microcystis")
	n, areaUm2 = 4, 400
	cells = micro.Cells(1, 0, areaUm2)
	return n, areaUm2, cells, float64(n) * cells / 50000
}

// finishColonies stores n Microcystis colonies of areaUm2 µm² holding cells each (at
// 0.5 µm a pixel, one a frame) in run r, and finishes it.
func finishColonies(t *testing.T, r *store.Run, n int, areaUm2, cells float64) {
	t.Helper()
	const umPerPx = 0.5
	crop := image.NewGray(image.Rect(0, 0, 16, 16))
	var recs []screening.ObjectRecord
	for i := range n {
		o := vision.Object{Source: "pond.avi", Frame: i, Track: i, New: true, Box: crop.Rect, AreaPx: areaUm2 / umPerPx / umPerPx, Crop: crop,
			Kind: vision.KindColony, UmPerPx: umPerPx, AreaUm2: areaUm2, Cells: cells}
		recs = append(recs, screening.ObjectRecord{Seq: i + 1, Time: time.Now(), Object: o, Label: "Microcystis", Prob: 0.9, Variant: inference.Base, Category: "Microcystis"})
	}
	if err := r.Objects(recs); err != nil {
		t.Fatal(err)
	}
	if err := r.Finish(context.Background(), screening.Snapshot{}, nil); err != nil {
		t.Fatal(err)
	}
}

// csvRow is the first row of the CSV text whose column col holds value, by header name.
func csvRow(t *testing.T, text, col, value string) map[string]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("CSV: %v, %d rows", err, len(rows))
	}
	i := slices.Index(rows[0], col)
	for _, r := range rows[1:] {
		if i >= 0 && r[i] == value {
			m := map[string]string{}
			for j, h := range rows[0] {
				m[h] = r[j]
			}
			return m
		}
	}
	t.Fatalf("no row with %s %q in\n%s", col, value, text)
	return nil
}

// cyanoRun opens a new session store (closed at the test's end) and starts a run of
// pond.avi into sample id of volumeML with the cyanobacteria pack, base model,
// threshold 0.5 and the rules given.
func cyanoRun(t *testing.T, id string, volumeML float64, rules string) (*store.Store, *screening.Taxonomy, *store.Run) {
	t.Helper()
	return cyanoRunOf(t, id, volumeML, rules, "")
}

// cyanoRunOf is cyanoRun with the objects found by finder (vision.FinderCellImages: a
// folder of single-cell images).
func cyanoRunOf(t *testing.T, id string, volumeML float64, rules, finder string) (*store.Store, *screening.Taxonomy, *store.Run) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "sessions.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tx, err := packTaxonomy("cyano-tcb-10")
	if err != nil {
		t.Fatal(err)
	}
	sm := screening.NewSample(id)
	sm.VolumeML = volumeML
	r, err := st.StartRun(context.Background(), screening.RunInfo{Sample: sm, Spec: capture.MustParseSpec("pond.avi"), Model: inference.Base, Threshold: 0.5,
		Taxonomy: tx, Rules: rules, Finder: finder})
	if err != nil {
		t.Fatal(err)
	}
	return st, tx, r
}

// An object stored under a taxon counted in cells (one cell) and moved by a reviewer to
// one counted in colonies counts its cores, as the live run counts them
// (screening.ShapeCells); moved back, one cell.
func TestObjectCellsCountTheCoresOfAMovedObject(t *testing.T) {
	tx, err := packTaxonomy("cyano-tcb-10")
	if err != nil {
		t.Fatal(err)
	}
	cells := ObjectCells(tx)
	o := store.ObjectRow{Cells: 1, Parts: 116}
	for cat, want := range map[string]float64{"Microcystis": 116, "Other": 1} {
		o.Category = cat
		if got := cells(o); got != want {
			t.Errorf("an uncalibrated object of 116 cores stored at one cell, moved to %s: %v cells, want %v", cat, got, want)
		}
	}
}

// The counts CSV ends with each alert rule of the sample's last run and the level its
// final figures reach, in cells as History and the report measure it: colonies of
// Microcystis holding 50,000 cells per mL stand at the WHO preset's watch level (20,000)
// and below its alert level (100,000). Rules that cannot be read again leave the rows
// out, not the export.
func TestCountsCSVSaysTheRulesLevels(t *testing.T) {
	n, areaUm2, cells, volumeML := watchColonies(t)
	ctx := context.Background()
	export := func(id, rules string) string {
		st, _, r := cyanoRun(t, id, volumeML, rules)
		finishColonies(t, r, n, areaUm2, cells)
		var out bytes.Buffer
		if err := ExportSample(ctx, st, id, store.FormatCounts, "", &out); err != nil {
			t.Fatalf("export of %s under %q: %v", id, rules, err)
		}
		return out.String()
	}

	text := export("W1", "preset who-cyanobacteria")
	row := csvRow(t, text, "kind", "rule")
	want := map[string]string{"label": "cyanobacteria", "group": "preset who-cyanobacteria", "count": strconv.Itoa(n), "unit": "colony",
		"cells_estimate": strconv.FormatFloat(float64(n)*cells, 'f', 0, 64), "cells_estimate_per_l": "50000000.0",
		"cells_per_l": strconv.FormatFloat(float64(n)/(volumeML/1000), 'f', 1, 64), // colonies per litre, as on the taxon row
		"level":       "watch", "watch_threshold": "20000 cells/mL", "alert_threshold": "100000 cells/mL", "sample_id": "W1"}
	for col, v := range want {
		if row[col] != v {
			t.Errorf("the rule row's %s is %q, want %q (row %v)", col, row[col], v, row)
		}
	}
	// The taxon rows keep their columns and leave the level empty; the rule's counts
	// are its one taxon's here, interval included.
	taxon := csvRow(t, text, "label", "Microcystis")
	if taxon["kind"] != "taxon" || taxon["level"] != "" || taxon["count"] != strconv.Itoa(n) {
		t.Errorf("the Microcystis row %v: want a taxon row of %d with no level", taxon, n)
	}
	for _, col := range []string{"cells_per_l", "ci95_low", "ci95_high", "cells_estimate", "cells_estimate_per_l"} {
		if row[col] != taxon[col] {
			t.Errorf("%s: the rule row says %q, its one taxon's row %q", col, row[col], taxon[col])
		}
	}

	// The interval of the cells' figure the rule compares holds it (helper-70: a
	// database checked cells_estimate_per_l against the objects' interval).
	lo, _ := strconv.ParseFloat(row["cells_ci95_low"], 64)
	hi, _ := strconv.ParseFloat(row["cells_ci95_high"], 64)
	if !(lo > 0 && lo < 5e7 && hi > 5e7) {
		t.Errorf("the rule row's cells interval [%q, %q] does not hold its 50,000,000 cells/L", row["cells_ci95_low"], row["cells_ci95_high"])
	}
	// Rules none of which applies to the pack: one row says so, not none (a database
	// told "not checked" from "no rules" by nothing, helper-70).
	if row := csvRow(t, export("W4", "preset default"), "kind", "rule"); row["level"] != "not checked" || row["name"] != "no rule of preset default applies to pack cyano-tcb-10" || row["group"] != "preset default" {
		t.Errorf("the default preset on the cyanobacteria pack: rule row %v", row)
	}
	// Colonies of single-cell images have no size: their cells are unknown, counted one
	// each, and the rule cannot say the sample is below its levels.
	st, _, r := cyanoRunOf(t, "W3", volumeML, "preset who-cyanobacteria", vision.FinderCellImages)
	finishColonies(t, r, n, 0, 1)
	var out bytes.Buffer
	if err := ExportSample(ctx, st, "W3", store.FormatCounts, "", &out); err != nil {
		t.Fatal(err)
	}
	if row := csvRow(t, out.String(), "kind", "rule"); row["level"] != "unchecked" || row["cells_unknown"] != strconv.Itoa(n) {
		t.Errorf("colonies of unknown cells: the rule row %v, want level unchecked, cells_unknown %d", row, n)
	}
	if row := csvRow(t, out.String(), "label", "Microcystis"); row["cells_unknown"] != strconv.Itoa(n) {
		t.Errorf("colonies of unknown cells: the taxon row %v, want cells_unknown %d", row, n)
	}
	if row["cells_unknown"] != "0" {
		t.Errorf("colonies of known size: cells_unknown %q, want 0", row["cells_unknown"])
	}

	text = export("W2", "/no/such/rules.toml")
	if strings.Contains(text, ",rule,") {
		t.Errorf("rules not at hand: the export writes rule rows\n%s", text)
	}
	csvRow(t, text, "label", "Microcystis") // the counts are there all the same
}

// The lab server's tallies say where a sample stands on its final figures, as History
// does: watch for colonies holding 50,000 cells/mL under the WHO preset, not checked
// when the colonies' cells are unknown or when no rule applies to the pack, and nothing
// when the rules are not at hand (helper-70: the weekly report gave the levels raised
// while counting, and "all below" for a sample no rule applied to).
func TestPackStanding(t *testing.T) {
	n, areaUm2, cells, volumeML := watchColonies(t)
	standing := PackStanding()
	for _, c := range []struct {
		id, rules, finder string
		area, cells       float64
		want              labrec.Standing
	}{
		{"S1", "preset who-cyanobacteria", "", areaUm2, cells, labrec.Standing{Rules: "preset who-cyanobacteria", Level: "watch", Rule: "Cyanobacteria + Microcystis spp. + Oscillatoria spp.", PerL: 5e7}},
		{"S2", "preset who-cyanobacteria", vision.FinderCellImages, 0, 1, labrec.Standing{Rules: "preset who-cyanobacteria", Level: labrec.NotChecked,
			Why: "the cells of 4 colonies, filaments or chains are unknown (single-cell images: no size)"}},
		{"S3", "preset default", "", areaUm2, cells, labrec.Standing{Rules: "preset default", Level: labrec.NotChecked, Why: "no rule of preset default applies to pack cyano-tcb-10"}},
	} {
		st, _, r := cyanoRunOf(t, c.id, volumeML, c.rules, c.finder)
		finishColonies(t, r, n, c.area, c.cells)
		counts, _, _, err := SampleCounts(context.Background(), st, c.id)
		if err != nil {
			t.Fatal(err)
		}
		got := standing(counts)
		if got == nil || got.Rules != c.want.Rules || got.Level != c.want.Level || got.Rule != c.want.Rule || got.Why != c.want.Why || math.Abs(got.PerL-c.want.PerL) > 1e-6*c.want.PerL {
			t.Errorf("%s: standing %+v, want %+v", c.id, got, c.want)
		}
	}
	// Below every level the standing keeps the rule and its value: a programme's
	// database read 0 cells/L for every sample under its levels (helper-76).
	st, _, r := cyanoRunOf(t, "S5", 10*volumeML, "preset who-cyanobacteria", "")
	finishColonies(t, r, n, areaUm2, cells)
	counts, _, _, err := SampleCounts(context.Background(), st, "S5")
	if err != nil {
		t.Fatal(err)
	}
	if got := standing(counts); got == nil || got.Level != "none" || got.Rule != "Cyanobacteria + Microcystis spp. + Oscillatoria spp." || math.Abs(got.PerL-5e6) > 1 {
		t.Errorf("a tenth of the watch level: standing %+v, want none, the WHO rule at 5,000,000 cells/L", got)
	}
	st, _, r = cyanoRunOf(t, "S4", volumeML, "/no/such/rules.toml", "")
	finishColonies(t, r, n, areaUm2, cells)
	counts, _, _, err = SampleCounts(context.Background(), st, "S4")
	if err != nil {
		t.Fatal(err)
	}
	if got := standing(counts); got != nil {
		t.Errorf("rules not at hand: standing %+v, want none", got)
	}
}

// A rule of nothing counted has the units its taxa count in, as its group row has
// (helper-71: its unit column was empty).
func TestRuleRowUnitsOfNothingCounted(t *testing.T) {
	tx, err := packTaxonomy("cyano-tcb-10")
	if err != nil {
		t.Fatal(err)
	}
	ss := []ruleStanding{{Bound: alerts.Bound{Rule: alerts.Rule{ID: "r", Taxa: []string{"Cyanobacteria"}}, Labels: []string{"Microcystis", "Oscillatoria"}}}}
	if rows := ruleRows(ss, "preset who-cyanobacteria", tx); len(rows) != 1 || rows[0].Units != "colony/filament" {
		t.Errorf("rows %+v: want one of units colony/filament", rows)
	}
}

// A rule's units read in the order it binds its labels, whichever taxon was counted
// most: one rule's rows read "filament/colony" and "colony/filament" (helper-70).
func TestRuleUnitsInTheRulesOrder(t *testing.T) {
	bound := []alerts.Bound{{Rule: alerts.Rule{ID: "r", Taxa: []string{"Cyanobacteria"}}, Labels: []string{"Microcystis", "Oscillatoria"}}}
	colonies := store.TaxonCount{Label: "Microcystis", Unit: "colony", Concentration: screening.Concentration{Count: 2}}
	filaments := store.TaxonCount{Label: "Oscillatoria", Unit: "filament", Concentration: screening.Concentration{Count: 5}}
	for _, taxa := range [][]store.TaxonCount{{filaments, colonies}, {colonies, filaments}} {
		c := store.Counts{Sample: store.SampleInfo{Sample: screening.Sample{VolumeML: 1, Factor: 1}}, Taxa: taxa}
		if got := ruleStandings(c, bound)[0].Units; got != "colony/filament" {
			t.Errorf("counts %s first: units %q, want colony/filament", taxa[0].Label, got)
		}
	}
}

// A sample with none of a rule's taxa in a volume where one cell would reach its level
// stands not checked on the lab server, saying why (helper-72).
func TestStandingTooLittleExamined(t *testing.T) {
	rule := alerts.Rule{ID: "noctiluca", Taxa: []string{"Noctiluca"}, Watch: &alerts.Threshold{Presence: true, Unit: alerts.Presence},
		Alert: &alerts.Threshold{Value: 10000, Unit: alerts.PerL}}
	ss := []ruleStanding{{Bound: alerts.Bound{Rule: rule, Labels: []string{"protist_noctiluca"}}, Measure: alerts.Measure{Limit: 10000}}}
	got := standingOf(ss, "preset default", "ndsb-plankton-121")
	want := labrec.Standing{Rules: "preset default", Level: labrec.NotChecked,
		Why: "too little examined: Noctiluca (none counted; one cell in the volume examined is 10,000 cells/L, its ALERT level 10,000 cells/L)"}
	if *got != want {
		t.Errorf("standing %+v, want %+v", *got, want)
	}
	ss[0].Measure.Limit = 1000 // 1 mL: none counted shows it below
	if got := standingOf(ss, "preset default", "ndsb-plankton-121"); got.Level != "none" || got.Why != "" {
		t.Errorf("1 mL: standing %+v, want none", *got)
	}
}

// Below every level only until the unidentified objects are reviewed: the lab server's
// standing says the review decides (helper-77: the weekly report read "all below").
func TestStandingReviewDecides(t *testing.T) {
	rule := alerts.Rule{ID: "cyano", Taxa: []string{"Cyanobacteria"}, Watch: &alerts.Threshold{Value: 20000, Unit: alerts.PerML}}
	guessed := alerts.Measure{Count: 48, PerL: 25.9e6, Cells: 1037}
	ss := []ruleStanding{{Bound: alerts.Bound{Rule: rule, Labels: []string{"Microcystis"}},
		Measure: alerts.Measure{Count: 34, PerL: 18.7e6, Cells: 749, Limit: 25000, Guessed: 14, GuessedCells: 288, IfGuessed: &guessed}}}
	got := standingOf(ss, "preset who-cyanobacteria", "cyano-tcb-10")
	if got.Level != "none" || got.Rule != "Cyanobacteria" || got.PerL != 18.7e6 ||
		got.Why != "review decides: Cyanobacteria would reach WATCH (about 25,900,000 cells/L) were its 14 unidentified objects (about 288 cells) what the model guessed" {
		t.Errorf("standing %+v", *got)
	}
	// Raised already, a higher level the review could give is said too (helper-78).
	ss[0].Level, ss[0].Measure.PerL = alerts.Watch, 21e6
	rule.Alert = &alerts.Threshold{Value: 100000, Unit: alerts.PerML}
	ss[0].Bound.Rule = rule
	higher := alerts.Measure{Count: 48, PerL: 130e6, Cells: 5000}
	ss[0].Measure.IfGuessed = &higher
	if got := standingOf(ss, "preset who-cyanobacteria", "cyano-tcb-10"); got.Level != "watch" || !strings.HasPrefix(got.Why, "review decides: Cyanobacteria would reach ALERT") {
		t.Errorf("at watch, ALERT were the guesses right: standing %+v", *got)
	}
	ss[0].Measure.IfGuessed = nil
	if got := standingOf(ss, "preset who-cyanobacteria", "cyano-tcb-10"); got.Why != "" {
		t.Errorf("nothing to review: standing %+v, want no why", *got)
	}
}
