package store

import (
	"bytes"
	"context"
	"encoding/csv"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/screening"
)

// The counts CSV says the calibration its cells estimates rest on (um_per_px, empty
// when uncalibrated) and the rules the runs were screened against, on every row, after
// the columns it had (helper-91: the rules were named only in the rule rows' group
// field, the calibration nowhere).
func TestCountsCSVCalibrationAndRules(t *testing.T) {
	s := finishedStore(t)
	ctx := context.Background()
	// A second sample, of uncalibrated frames.
	sm := testSample()
	sm.ID = "UNCAL-1"
	r, err := s.startRun(ctx, screening.RunInfo{Sample: sm, Spec: capture.MustParseSpec("other.avi"), Model: inference.Optimised, Threshold: 0.5,
		Rules: "/lab/rules/scotland.toml", Taxonomy: testTaxonomy(t)}, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	crops := realCrops(t)
	recs := []screening.ObjectRecord{record(crops, 1, "protist_noctiluca", 0.9, ""), record(crops, 2, "trichodesmium_puff", 0.9, "")}
	for i := range recs {
		recs[i].UmPerPx, recs[i].AreaUm2, recs[i].ESDUm, recs[i].MajorUm, recs[i].MinorUm, recs[i].PerimeterUm = 0, 0, 0, 0, 0, 0
	}
	if err := r.Objects(recs); err != nil {
		t.Fatal(err)
	}
	if err := r.Finish(ctx, screening.Snapshot{Frames: screening.FrameStats{Seen: 2}, Threshold: 0.5, Variant: inference.Optimised}, nil); err != nil {
		t.Fatal(err)
	}
	opt := ExportOptions{Rules: func(c Counts) []RuleRow {
		return []RuleRow{{ID: "noct", Name: "Noctiluca", Rules: "ruleset"}}
	}}
	for _, c := range []struct{ id, um, rules string }{
		{"LIM-2025-06-03", "0.5", "preset:default"},
		{"UNCAL-1", "", "/lab/rules/scotland.toml"},
	} {
		var b bytes.Buffer
		if err := s.ExportTo(ctx, c.id, FormatCounts, &b, opt); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(&b).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		head := rows[0]
		if n := len(head); n < 2 || head[n-2] != "um_per_px" || head[n-1] != "rules" || head[28] != "pack" || head[30] != "threshold" {
			t.Fatalf("header %v: want um_per_px and rules last, pack and threshold where they were", head)
		}
		kinds := map[string]bool{}
		for _, row := range rows[1:] {
			n := len(row)
			kinds[row[5]] = true
			if n != len(head) || row[n-2] != c.um || row[n-1] != c.rules {
				t.Errorf("%s: %s row %v: um_per_px %q, rules %q; want %q, %q", c.id, row[5], row, row[n-2], row[n-1], c.um, c.rules)
			}
		}
		if !kinds["taxon"] || !kinds["rule"] {
			t.Errorf("%s: rows of kinds %v; want taxon and rule rows", c.id, kinds)
		}
	}
}
