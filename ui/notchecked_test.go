package ui

import (
	"image"
	"image/color"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/vision"
)

// A sample of another pack whose colonies' cells are unknown (single-cell images, no
// size) is "not checked", as its report says, not "none" under its rules; its point on
// the site's chart is a lower bound drawn apart, not joined to the samples of known
// cells; and the comparison History shows says so too, as the command line does
// (helper-88: RI-2's pane read "none" under a row marked unchecked, and its 240,000
// cells/L was joined to RI-1's 18.62 M as a 77-fold fall).
func TestHistoryNotCheckedAndLowerBound(t *testing.T) {
	h := newHarness(t, nil)
	tx := packTaxonomy(t, "cyano-tcb-10")
	if tx.Pack == h.a.svc.Taxonomy.Pack {
		t.Fatalf("the harness runs pack %s: the test needs a sample of another pack", tx.Pack)
	}
	taken := time.Date(2026, 12, 1, 9, 15, 0, 0, time.Local)
	store := func(id string, at time.Time, n int, areaUm2 float64) {
		t.Helper()
		sm := h.a.newSample()
		sm.ID, sm.Site, sm.VolumeML, sm.Taken = id, "Reservoir intake", 0.1, at
		finder := ""
		if areaUm2 == 0 {
			finder = vision.FinderCellImages
		}
		r, err := h.st.StartRun(h.a.ctx, screening.RunInfo{Sample: sm, Spec: capture.MustParseSpec(id + ".avi"), Model: inference.Optimised, Threshold: 0.5,
			Rules: "preset who-cyanobacteria", Taxonomy: tx, Finder: finder})
		if err != nil {
			t.Fatal(err)
		}
		var recs []screening.ObjectRecord
		for i := range n {
			o := vision.Object{Source: id + ".avi", Frame: i, Track: i, New: true, Box: image.Rect(0, 0, 16, 16), AreaPx: 100}
			if areaUm2 > 0 {
				o.Kind, o.UmPerPx, o.AreaUm2, o.AreaPx = vision.KindColony, 0.5, areaUm2, areaUm2*4
			}
			recs = append(recs, screening.ObjectRecord{Seq: i + 1, Time: time.Now(), Object: o, Label: "Microcystis", Prob: 0.9, Variant: inference.Optimised, Category: "Microcystis"})
		}
		if err := r.Objects(recs); err != nil {
			t.Fatal(err)
		}
		if err := r.Finish(h.a.ctx, screening.Snapshot{Threshold: 0.5, Variant: inference.Optimised}, nil); err != nil {
			t.Fatal(err)
		}
	}
	store("RI-1", taken, 10, 400)
	store("RI-2", taken.Add(72*time.Hour), 24, 0)
	store("RI-3", taken.Add(96*time.Hour), 8, 400)

	hv := h.a.history
	h.a.tabs.SelectIndex(2)
	h.pump("three samples listed", 10*time.Second, func() bool { return len(hv.all) == 3 })
	hv.Select("RI-2")
	h.pump("its alerts", 10*time.Second, func() bool {
		return hv.selected == "RI-2" && strings.Contains(hv.alerts.Text, "Under preset who-cyanobacteria, the rules it was screened with, on its pack cyano-tcb-10")
	})
	// The time taken with its zone, as the reports give it (helper-93: "taken
	// 2026-12-04 08:00" said neither which).
	if !regexp.MustCompile(` · taken \d{4}-\d\d-\d\d \d\d:\d\d [A-Z][A-Za-z0-9+-]*\n`).MatchString(hv.header.Text) {
		t.Errorf("the header %q does not give the zone of the time taken", hv.header.Text)
	}
	if a := hv.alerts.Text; !strings.Contains(a, "Not checked: Cyanobacteria + Microcystis spp. + Oscillatoria spp. (24 objects of unknown cells") || strings.Contains(a, "\nnone") {
		t.Errorf("RI-2's alerts say not what its report says (not checked: cells unknown):\n%s", a)
	}

	// The chart of its group: RI-2 is a lower bound, RI-1 and RI-3 are not.
	h.pump("the cyanobacteria chart", 10*time.Second, func() bool {
		return hv.taxonSel.Selected == "Group: Cyanobacteria" && len(hv.chart.Points()) == 3
	})
	pts := hv.chart.Points()
	for _, pt := range pts {
		if pt.LowerBound != (pt.Sample == "RI-2") {
			t.Errorf("chart point %s: lower bound %v", pt.Sample, pt.LowerBound)
		}
	}
	// Drawn apart: the line joins RI-1 to RI-3 alone, and RI-2 is drawn otherwise than
	// a point of known value.
	if exact, lower := splitLowerBounds(pts); len(exact) != 2 || len(lower) != 1 || lower[0].Sample != "RI-2" {
		t.Errorf("joined %v, apart %v: want RI-1 and RI-3 joined, RI-2 apart", exact, lower)
	}
	known := slices.Clone(pts)
	for i := range known {
		known[i].LowerBound = false
	}
	blue := color.NRGBA{0, 0, 0xff, 0xff}
	if a, b := renderChart(pts, "", chartLevels{}, blue, 400, 300, 1), renderChart(known, "", chartLevels{}, blue, 400, 300, 1); sameImage(a, b) {
		t.Error("the chart draws the lower bound as a point of known value")
	}

	// The comparison History shows: RI-2 not checked, the levels not the same.
	hv.CompareWith("RI-2", "RI-1")
	h.pump("the comparison", 10*time.Second, func() bool { return hv.lastComparison != "" || h.a.lastError != nil })
	c := hv.lastComparison
	if !strings.Contains(c, "  A (preset who-cyanobacteria): not checked: Cyanobacteria + Microcystis spp. + Oscillatoria spp.: 24 objects of unknown cells") ||
		strings.Contains(c, "The same alert levels") || !strings.Contains(c, "The alert levels differ") {
		t.Errorf("the comparison of RI-2 with RI-1:\n%s", c)
	}
}

// sameImage reports whether two images hold the same pixels.
func sameImage(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			if a.At(x, y) != b.At(x, y) {
				return false
			}
		}
	}
	return true
}
