package main

import (
	"strings"
	"testing"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/vision"
)

func TestVolumeText(t *testing.T) {
	for _, c := range []struct {
		ml   float64
		want string
	}{
		{1, "1"}, {0.1 + 0.1 + 0.1, "0.3"}, {5.0 / 9, "0.5556"}, {0.01, "0.01"}, {0.000123456, "0.0001235"},
		{25, "25"}, {1000, "1000"}, {12345.6, "12346"}, {0, "0"},
	} {
		if got := volumeText(c.ml); got != c.want {
			t.Errorf("volumeText(%v) = %q, want %q", c.ml, got, c.want)
		}
	}
}

// While a folder is read, the live table says its cells/L are of the volume read so far.
func TestLiveTableSaysVolumeSoFar(t *testing.T) {
	s := screening.Snapshot{Sample: screening.Sample{ID: "S", VolumeML: 0.25}, Examined: screening.Examined{DeclaredML: 2}, SoFar: true}
	if got := liveTable(s)[0]; !strings.Contains(got, "per litre of the 0.25 of 2 mL read so far") {
		t.Errorf("while reading: %q", got)
	}
	s.SoFar, s.Sample.VolumeML = false, 2
	if got := liveTable(s)[0]; strings.Contains(got, "so far") {
		t.Errorf("ended: %q", got)
	}
}

// The summary's cell estimates add up to the group's (a taxon whose colonies came to a
// cell each is listed too), and the note on unsplit objects says alerts rest on them only
// for a taxon in a HAB group: a reject class counts in none (helper-49).
func TestSummaryEstimatesAndRejectClassNote(t *testing.T) {
	rs := &alerts.Ruleset{File: "preset who-cyanobacteria"}
	s := screening.Snapshot{Sample: screening.Sample{ID: "MC1", VolumeML: 0.1, Factor: 1}, Finder: vision.FinderThresholds}
	c := func(n int) screening.Concentration { return screening.Concentration{Count: n, PerL: float64(n) * 1e4} }
	s.Taxa = []screening.TaxonCount{
		{Taxon: screening.Taxon{Label: "Microcystis", Name: "Microcystis", Group: "cyanobacteria", Unit: "colony"}, Concentration: c(40), CellsEstimate: 500},
		{Taxon: screening.Taxon{Label: "Dolichospermum", Name: "Dolichospermum", Group: "cyanobacteria", Unit: "filament"}, Concentration: c(2), CellsEstimate: 2},
		{Taxon: screening.Taxon{Label: "Other", Name: "Not a cyanobacterium", Unit: "cell"}, Concentration: c(146), CellsEstimate: 146, OversizeCells: 4},
		{Taxon: screening.Taxon{Label: "Planktothrix", Name: "Planktothrix", Group: "cyanobacteria", Unit: "filament"}, Concentration: c(1), CellsEstimate: 1},
	}
	s.Frames.Fields, s.Frames.OutOfFocus = 3, 1
	var b strings.Builder
	screenResult{Snapshot: s, Rules: rs}.writeText(&b)
	out := b.String()
	for _, want := range []string{
		"Objects found by the threshold segmenter",
		"  Dolichospermum                          2 filaments           about 2 cells",
		"  Planktothrix                            1 filament            about 1 cell, 10,000 cells/L", // not "1 cells" (helper-52)
		"; 1 frame out of focus (",
		"Note: about 4 of the 146 cells in Not a cyanobacterium are in objects over a tenth of their frame that could not be split (a mat of cells, or debris taken for one); check those frames",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the summary lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Not a cyanobacterium are in objects over a tenth of their frame that could not be split (a mat of cells, or debris taken for one): the alerts") {
		t.Errorf("the reject class's note says alerts rest on it:\n%s", out)
	}
}

// A level reached while counting but not by the whole sample is said as such: the line
// leads with the sample's level on its final figures (the report's), not the peak
// (helper-52: "ALERT … 99,110,000 cells/L … reached 100,000 cells/mL").
func TestSummaryLeadsWithTheFinalLevel(t *testing.T) {
	watch := alerts.Threshold{Value: 20000, Unit: alerts.PerML}
	alert := alerts.Threshold{Value: 100000, Unit: alerts.PerML}
	rs := &alerts.Ruleset{File: "preset who-cyanobacteria"}
	s := screening.Snapshot{Sample: screening.Sample{ID: "NA-2", VolumeML: 0.1, Factor: 1}}
	s.Alerts = []alerts.State{{Rule: "cyanobacteria", Taxon: "Cyanobacteria", Level: alerts.Watch, Peak: alerts.Alert,
		Value: alerts.Measure{Count: 412, PerL: 99.11e6, Low: 89.8e6, High: 109.2e6, Cells: 9911}, Threshold: &watch, Source: "WHO 2003", Verified: true}}
	s.Events = []alerts.Event{
		{Rule: "cyanobacteria", From: alerts.None, To: alerts.Alert, Threshold: alert},
		{Rule: "cyanobacteria", From: alerts.Alert, To: alerts.Watch, Threshold: watch},
	}
	var b strings.Builder
	screenResult{Snapshot: s, Rules: rs, Bound: []alerts.Bound{{Rule: alerts.Rule{ID: "cyanobacteria", Watch: &watch, Alert: &alert}}}}.writeText(&b)
	out := b.String()
	// A rule not checked beside the one raised is said too (helper-74: its row read
	// "unchecked" with no reason).
	s.Alerts = append(s.Alerts, alerts.State{Rule: "other", Taxon: "Other taxa", Value: alerts.Measure{Limit: 1e9}, Counted: &watch, CountedLevel: alerts.Watch})
	b.Reset()
	screenResult{Snapshot: s, Rules: rs, Bound: []alerts.Bound{{Rule: alerts.Rule{ID: "cyanobacteria", Watch: &watch, Alert: &alert}}}}.writeText(&b)
	if out := b.String(); !strings.Contains(out, "  NOT CHECKED: Other taxa (none counted; one cell in the volume examined is 1,000,000,000 cells/L, its WATCH level 20,000,000 cells/L)") {
		t.Errorf("a rule not checked beside one raised:\n%s", out)
	}
	want := "  WATCH Cyanobacteria: about 99,100,000 cells/L (412 colonies, filaments or chains counted, about 9,911 cells estimated from their size; 95% interval of the count, scaled: 89,800,000 – 109,000,000) reached 20,000 cells/mL; ALERT (100,000 cells/mL) was reached while counting, not by the whole sample; rule cyanobacteria, source: WHO 2003"
	if !strings.Contains(out, want) {
		t.Errorf("want the line\n%s\nin:\n%s", want, out)
	}
}

// An alert whose cells lie partly in objects over a tenth of their frame that could not
// be split says how many, what the concentration is without them and which level that
// still reaches: one unsplit mat can carry a level (helper-52's Microcystis frames: 1,404
// of 3,192 cells). Built here rather than read off real frames, where whether a mat is
// named a cyanobacterium or set aside changes with each pack.
func TestSummarySaysWhatAnAlertIsWithoutUnsplitObjects(t *testing.T) {
	watch := alerts.Threshold{Value: 20000, Unit: alerts.PerML}
	alert := alerts.Threshold{Value: 100000, Unit: alerts.PerML}
	rs := &alerts.Ruleset{File: "preset who-cyanobacteria"}
	for _, c := range []struct {
		oversize float64
		want     string
	}{
		{1404, "    (about 1,404 of these cells are in objects over a tenth of their frame that could not be split; without them 35,760,000 cells/L: WATCH; check those frames before acting)"},
		{2000, "    (about 2,000 of these cells are in objects over a tenth of their frame that could not be split; without them 23,840,000 cells/L: WATCH; check those frames before acting)"},
		{2400, "    (about 2,400 of these cells are in objects over a tenth of their frame that could not be split; without them 15,840,000 cells/L: no level; check those frames before acting)"},
	} {
		s := screening.Snapshot{Sample: screening.Sample{ID: "MC-1", VolumeML: 0.05, Factor: 1}}
		s.Alerts = []alerts.State{{Rule: "cyanobacteria", Taxon: "Cyanobacteria", Level: alerts.Watch, Peak: alerts.Watch,
			Value:     alerts.Measure{Count: 99, PerL: 63.84e6, Low: 55e6, High: 73e6, Cells: 3192, Oversize: c.oversize},
			Threshold: &watch, Source: "WHO 2003", Verified: true}}
		var b strings.Builder
		screenResult{Snapshot: s, Rules: rs, Bound: []alerts.Bound{{Rule: alerts.Rule{ID: "cyanobacteria", Watch: &watch, Alert: &alert}}}}.writeText(&b)
		if out := b.String(); !strings.Contains(out, c.want+"\n") {
			t.Errorf("%g cells in unsplit objects: want the line\n%s\nin:\n%s", c.oversize, c.want, out)
		}
	}
}

// A confidence threshold is written as given, to two decimals at least: 0.999 read
// "1.00" and 0.001 "0.00" (helper-77).
func TestThresholdNum(t *testing.T) {
	for th, want := range map[float64]string{0.5: "0.50", 0.75: "0.75", 0.999: "0.999", 0.001: "0.001", 1: "1.00", 0: "0.00"} {
		if got := thresholdNum(th); got != want {
			t.Errorf("thresholdNum(%v) = %q, want %q", th, got, want)
		}
	}
}
