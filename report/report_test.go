package report

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/labrec"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
	"github.com/phytoscreen/phytoscreen/vision"
)

// The banner and the Level column are the whole sample's level, not the highest a run
// reached alone; a higher level raised during a run is said beside it. Alerts raised
// under other rules than those compared with say so. Cells resting on unsplit objects,
// or guessed from shape alone, are said under the table.
func TestSampleLevelAndCaveats(t *testing.T) {
	sm := screening.NewSample("POND-B")
	sm.VolumeML, sm.DepthM = 0.1, 3
	rule := alerts.Rule{ID: "cyano", Taxa: []string{"Cyanobacteria"}, Source: "WHO 2003", Verified: true,
		Watch: &alerts.Threshold{Value: 20000, Unit: "cells/mL"}, Alert: &alerts.Threshold{Value: 100000, Unit: "cells/mL"}}
	c := sm.Concentration(77)
	k := 1795.0 / 77 // cells per object
	d := Data{
		Counts:    store.Counts{Sample: store.SampleInfo{Sample: sm, Runs: []store.RunRow{{ID: 1, VolumeML: 0.05, VolumeGiven: 0.05}, {ID: 2, VolumeML: 0.05, VolumeGiven: 0.05}}}},
		RulesName: "preset who-cyanobacteria", RunRules: "site.toml",
		Rules: []RuleStatus{{Rule: rule, Level: alerts.None, Peak: alerts.Watch, Cells: 1795, Oversize: 1200, Uncalibrated: 5,
			Value: screening.Concentration{Count: 77, PerL: k * c.PerL, Low: k * c.Low, High: k * c.High}}},
		Events: []alerts.Event{{Time: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC), Rule: "cyano", Taxon: "Cyanobacteria", From: alerts.None, To: alerts.Watch,
			Value: alerts.Measure{Count: 40, PerL: 2.1e7, Cells: 1050, Provisional: true}, Threshold: *rule.Watch, Source: "site"}},
		Generated: time.Now(), Version: "test",
		RunModels: map[int64]string{2: "models switched during the run: base 578, optimised 162 of 740 objects"},
	}
	d.Counts.Sample.Runs[1].Model = "base"
	text := sampleText(t, d)
	for _, want := range []string{
		"Depth 3 m below the surface", // stored, and left out of the report (helper-69)
		"model base at the end (models switched during the run: base 578, optimised 162 of 740 objects)", // helper-40
		"No alert: every watched HAB group below its trigger levels; nearest: Cyanobacteria at 17,950 of 20,000 cells/mL (90% of its watch level)",
		"During the runs, Cyanobacteria reached WATCH on the frames screened so far; on the whole sample (all runs together) it stands as above",
		"about 1,200 of its ~1,795 cells are in objects over a tenth of their frame that could not be split (a mat of cells, or debris taken for one); without them 5.95 M cells/L, no level.",
		"the cells of 5 of its colonies, chains or filaments were guessed from their shape alone",
		"Alerts raised during the runs Under site.toml, the rules the runs were screened with.",
		"holding about 1,050 cells in the frames read by then", // raised while the folder was read
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q:\n%s", want, text)
		}
	}
	if d.Level() != alerts.None {
		t.Errorf("the sample's level is %v, want none: its final figures are under the watch level", d.Level())
	}
	// At the watch level on the whole sample: the banner says it, with no note.
	d.Rules[0].Level, d.RunRules = alerts.Watch, ""
	text = sampleText(t, d)
	if !strings.Contains(text, "WATCH: Cyanobacteria") || strings.Contains(text, "During the runs") || strings.Contains(text, "Under ") {
		t.Errorf("a sample at the watch level:\n%s", text)
	}
}

// Every time the report shows is in one zone, named: the time taken, the alerts (with
// their date) and the report's own. "Taken 2026-11-29 23:30 UTC" stood beside a footer
// in CET, and the alerts "at 22:12:34" with no zone or date (helper-89).
func TestTimesInOneZone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	sm := screening.NewSample("K-1")
	sm.VolumeML = 1
	sm.Taken = time.Date(2026, 11, 29, 23, 30, 0, 0, time.UTC) // as the store gives it back
	rule := alerts.Rule{ID: "dino", Taxa: []string{"Dinophysis"}, Source: "site", Alert: &alerts.Threshold{Value: 100, Unit: "cells/L"}}
	d := Data{
		Counts: store.Counts{Sample: store.SampleInfo{Sample: sm}},
		Rules:  []RuleStatus{{Rule: rule, Level: alerts.Alert, Value: screening.Concentration{Count: 3, PerL: 3000}}},
		Events: []alerts.Event{{Time: time.Date(2026, 12, 7, 22, 12, 34, 0, time.UTC), Rule: "dino", Taxon: "Dinophysis", From: alerts.None, To: alerts.Alert,
			Value: alerts.Measure{Count: 3, PerL: 3000}, Threshold: *rule.Alert, Source: "site"}},
		Generated: time.Date(2026, 12, 7, 22, 13, 0, 0, time.UTC), Zone: berlin, Version: "test",
	}
	text := sampleText(t, d)
	for _, want := range []string{"Taken 2026-11-30 00:30 CET", "Dinophysis at 2026-12-07 23:12:34 CET, when raised", "phytoscreen test, 2026-12-07 23:13 CET"} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "UTC") {
		t.Errorf("the report shows a time in UTC:\n%s", text)
	}
}

func sampleText(t *testing.T, d Data) string {
	t.Helper()
	var b bytes.Buffer
	if err := WritePDF(&b, d); err != nil {
		t.Fatal(err)
	}
	return pdfWords(t, b.Bytes())
}

// A section's heading goes to the next page with its first block when that block would
// not fit under it: "Examples" ended page 1 alone, its crops on page 2 (helper-38).
func TestHeadingKeepsItsFirstBlock(t *testing.T) {
	pdf := newPDF()
	pdf.SetMargins(margin, margin, margin)
	pdf.SetAutoPageBreak(true, margin)
	pdf.AddPage()
	r := newWriter(pdf)
	pdf.SetY(242) // under the 250 mm a heading alone may start at
	r.headingWithRoom("Examples", 22+12)
	if pdf.PageNo() != 2 {
		t.Errorf("the heading stayed on page %d at %.0f mm with 34 mm of crops to come", pdf.PageNo(), pdf.GetY())
	}
	pdf.SetY(200)
	r.headingWithRoom("Alerts", 10)
	if pdf.PageNo() != 2 {
		t.Errorf("a heading with room for its block moved to page %d", pdf.PageNo())
	}
}

// A rule's name cut to its table column is written out in full under the table.
func TestLongGroupNameInFull(t *testing.T) {
	sm := screening.NewSample("LAKE-02")
	sm.VolumeML = 0.1
	rule := alerts.Rule{ID: "cyano", Taxa: []string{"Cyanobacteria", "Microcystis spp.", "Oscillatoria spp."}, Source: "WHO 2003", Verified: true,
		Alert: &alerts.Threshold{Value: 100000, Unit: "cells/mL"}}
	d := Data{
		Counts:    store.Counts{Sample: store.SampleInfo{Sample: sm}},
		RulesName: "preset who-cyanobacteria",
		Rules:     []RuleStatus{{Rule: rule, Level: alerts.Alert, Value: sm.Concentration(607)}},
		Generated: time.Now(), Version: "test",
	}
	if text := sampleText(t, d); !strings.Contains(text, "= Cyanobacteria + Microcystis spp. + Oscillatoria spp.") {
		t.Errorf("the report does not write the rule's name in full:\n%s", text)
	}
}

// The taxa table keeps every member of a HAB group, however few were counted, and cuts
// the others: cut at 20 by count alone, it dropped a diatom chain and a Trichodesmium
// and kept Artifact and Detritus (helper-41).
func TestTaxaTableKeepsHABMembers(t *testing.T) {
	sm := screening.NewSample("BAY-A")
	sm.VolumeML = 1
	var taxa []store.TaxonCount
	for i := range 30 { // 30 taxa of no group, 100 down to 71 counted
		taxa = append(taxa, store.TaxonCount{Label: fmt.Sprintf("other_%02d", i), Name: fmt.Sprintf("Other %02d", i), Unit: "cell", Concentration: sm.Concentration(100 - i)})
	}
	// Two groups of two members each, in the order of their counts as the store gives
	// them: interleaved.
	taxa = append(taxa,
		store.TaxonCount{Label: "diatom_chain_tube", Name: "Diatom chain tube", Group: "diatoms", GroupName: "Diatoms", Unit: "chain", Concentration: sm.Concentration(5)},
		store.TaxonCount{Label: "trichodesmium_puff", Name: "Trichodesmium puff", Group: "trichodesmium", GroupName: "Trichodesmium", Unit: "colony", Concentration: sm.Concentration(4)},
		store.TaxonCount{Label: "diatom_chain_string", Name: "Diatom chain string", Group: "diatoms", GroupName: "Diatoms", Unit: "chain", Concentration: sm.Concentration(3)},
		store.TaxonCount{Label: "trichodesmium_bowtie", Name: "Trichodesmium bowtie", Group: "trichodesmium", GroupName: "Trichodesmium", Unit: "colony", Concentration: sm.Concentration(1)})
	d := Data{Counts: store.Counts{Sample: store.SampleInfo{Sample: sm}, Taxa: taxa}, RulesName: "preset default", Generated: time.Now(), Version: "test"}
	text := sampleText(t, d)
	// The groups' members first, each group's together, then the others by count.
	order := []string{"Diatom chain tube", "Diatom chain string", "Trichodesmium puff", "Trichodesmium bowtie", "Other 00", "Other 15", "... and 14 more taxa, none in a HAB group"}
	at := -1
	for _, want := range order {
		i := strings.Index(text, want)
		if i < 0 {
			t.Errorf("the taxa table lacks %q:\n%s", want, text)
			continue
		}
		if i < at {
			t.Errorf("%q comes before the row above it in %q:\n%s", want, order, text)
		}
		at = i
	}
	if strings.Contains(text, "Other 16") {
		t.Errorf("the table has more than 20 rows of taxa:\n%s", text)
	}
}

// The summary names the rules the runs were screened with when the report compares with
// others, and a report whose rules name none of the pack's taxa says which preset does
// (helper-52).
func TestReportNamesOtherRules(t *testing.T) {
	sm := screening.NewSample("OS-1")
	sm.VolumeML = 0.1
	d := Data{
		Counts:    store.Counts{Sample: store.SampleInfo{Sample: sm}},
		RulesName: "preset default", Apply: []string{"who-cyanobacteria"},
		Generated: time.Now(), Version: "test",
	}
	if text := sampleText(t, d); !strings.Contains(text, "No rule of preset default names a taxon this pack recognises. Rules for its taxa: preset who-cyanobacteria (phytoscreen report --rules who-cyanobacteria).") {
		t.Errorf("the report does not offer the preset with rules for the pack:\n%s", text)
	}
	d.RulesName, d.Apply, d.RunRules = "preset who-cyanobacteria", nil, "preset default"
	// Its runs are numbered in the sample, the store's ID beside ("Run 5" of a sample
	// of one run read as its fifth).
	d.Counts.Sample.Runs = []store.RunRow{{ID: 5, Spec: "pond.avi", Pack: "cyano-tcb-10", Model: "optimised", Status: "whole"}}
	text := sampleText(t, d)
	if !strings.Contains(text, "preset who-cyanobacteria (screened with preset default)") {
		t.Errorf("the report does not say which rules the sample was screened with:\n%s", text)
	}
	if !strings.Contains(text, "Run 1 of 1") || !strings.Contains(text, "(run ID 5 in the store)") {
		t.Errorf("the report does not number the run in the sample with the store's ID beside:\n%s", text)
	}
}

// A concentration under ten cells/L is written to three figures, not rounded to 0
// (a thousand litres examined by a typo read "0" beside 14 counted, helper-56).
// An interval's bounds are written in one style (helper-81: "[727,714 - 3.73 M]").
func TestIntervalInOneStyle(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		want   string
	}{{727714, 3.73e6, "[0.73 M - 3.73 M]"}, {1.2e6, 3.73e6, "[1.20 M - 3.73 M]"}, {5000, 1.2e6, "[5,000 - 1.20 M]"}, {253, 55716, "[253 - 55,716]"}} {
		if got := interval(c.lo, c.hi); got != c.want {
			t.Errorf("interval(%v, %v) = %q, want %q", c.lo, c.hi, got, c.want)
		}
	}
}

func TestSmallConcentrationNotZero(t *testing.T) {
	for v, want := range map[float64]string{0.014: "0.014", 0: "0", 12345.4: "12,345", 2.31e6: "2.31 M", 9.5: "9.5", 1.2760004e9: "1,276 M", 2.25e12: "2,250,000 M"} {
		if got := perL(v); got != want {
			t.Errorf("perL(%v) = %q, want %q", v, got, want)
		}
	}
}

// The cost table's "Measured by" reads as words for the CPU-time estimate, not its ID
// twice ("estimate:cpu-time (estimate)", helper-56); a sensor keeps its name.
func TestMeasuredBy(t *testing.T) {
	for _, c := range []struct {
		src       string
		estimated bool
		want      string
	}{
		{"estimate:cpu-time", true, "estimate from CPU time"},
		{"estimate:other", true, "estimate (other)"},
		{"hwmon:x", true, "hwmon:x (estimate)"},
		{"rapl:package-0", false, "rapl:package-0"},
	} {
		if got := measuredBy(c.src, c.estimated); got != c.want {
			t.Errorf("measuredBy(%q, %v) = %q, want %q", c.src, c.estimated, got, c.want)
		}
	}
}

// A sentence ending in an abbreviation takes no second full stop.
func TestEndSentence(t *testing.T) {
	for in, want := range map[string]string{
		"Cannot see with this pack: Cyanobacteria, Oscillatoria spp.": "Cannot see with this pack: Cyanobacteria, Oscillatoria spp.",
		"Cannot see with this pack: Noctiluca":                        "Cannot see with this pack: Noctiluca.",
	} {
		if got := endSentence(in); got != want {
			t.Errorf("endSentence(%q) = %q, want %q", in, got, want)
		}
	}
}

// A partial run says why its frames were not examined: too crowded (dilute), blank (the
// lamp), or not segmented; a crowded frame read only "could not be segmented", which
// says nothing of the fix (helper-72).
func TestPartialRunsSaysWhyFramesWereNotExamined(t *testing.T) {
	si := store.SampleInfo{Runs: []store.RunRow{{ID: 3, VolumeML: 0.05, VolumeGiven: 0.1, Status: "done",
		FramesFailed: 4, FramesCrowded: 2, FramesBlank: 1}}}
	want := "Partial: the run examined 0.05 of the 0.1 mL given (2 frames too crowded to segment: dilute the sample and screen it again; 1 frame blank: the lamp off or saturated; 1 frame could not be segmented)."
	if got := PartialRuns(si); !strings.HasPrefix(got, want) {
		t.Errorf("partial line\n%q\nwant it to begin\n%q", got, want)
	}
}

// A run stopped part way and continued by another: its volume is its part of the
// source, not a volume given, and its stop lost nothing (helper-93: "run 1 of 2 examined
// 0.279 of the 0.304 mL given (stopped; ...)" where 0.5 mL was given). A continued run
// that lost nothing is not partial.
func TestPartialRunsOfAContinuedSample(t *testing.T) {
	si := store.SampleInfo{Runs: []store.RunRow{
		{ID: 11, VolumeML: 0.2791666, VolumeGiven: 0.3041666, Status: "stopped", Interrupted: true, FramesFailed: 6, FramesCrowded: 6},
		{ID: 12, VolumeML: 0.1958333, VolumeGiven: 0.1958333, Status: "done", Continues: 11},
	}}
	want := "Partial: run 1 of 2 examined 0.279 of the 0.304 mL in the part of the source it read (run 2 went on from there): 6 frames too crowded to segment: dilute the sample and screen it again."
	if got := PartialRuns(si); !strings.HasPrefix(got, want) {
		t.Errorf("partial line\n%q\nwant it to begin\n%q", got, want)
	}
	si.Runs[0].VolumeML, si.Runs[0].FramesFailed, si.Runs[0].FramesCrowded = 0.3041666, 0, 0
	if got := PartialRuns(si); got != "" {
		t.Errorf("a continued run that examined all it read: %q, want nothing", got)
	}
}

// A rule not checked for want of volume beside one raised: the banner names the raised
// one, and the rule whose row reads "unchecked" is said with why (helper-74: no reason
// anywhere). Alone, the banner says it.
func TestTooLittleExaminedBesideARaisedLevel(t *testing.T) {
	sm := screening.NewSample("LOW-VOL")
	sm.VolumeML = 0.01 // one object is 100,000 cells/L
	noct := alerts.Rule{ID: "noct", Taxa: []string{"Noctiluca"}, Watch: &alerts.Threshold{Presence: true, Unit: alerts.Presence}, Alert: &alerts.Threshold{Value: 10000, Unit: alerts.PerL}}
	chains := alerts.Rule{ID: "chains", Taxa: []string{"Chain-forming diatoms"}, Watch: &alerts.Threshold{Value: 50000, Unit: alerts.PerL}}
	d := Data{
		Counts:    store.Counts{Sample: store.SampleInfo{Sample: sm, Runs: []store.RunRow{{ID: 1, VolumeML: 0.01, VolumeGiven: 0.01}}}},
		RulesName: "preset default",
		Rules: []RuleStatus{{Rule: noct, Level: alerts.Alert, Value: sm.Concentration(1)},
			{Rule: chains, Level: alerts.None, Value: sm.Concentration(0)}},
		Generated: time.Now(), Version: "test",
	}
	want := "Chain-forming diatoms: not checked: none counted, and one cell in the volume examined is 100,000 cells/L, at or over its WATCH level 50,000 cells/L: examine more volume."
	// The detection limit is in the sample's table too, not only where a rule wants it
	// (helper-76).
	if text := sampleText(t, d); !strings.Contains(text, "Detection limit 100,000 cells/L: one object counted in the volume examined") {
		t.Errorf("the report lacks the detection limit:\n%s", text)
	}
	if text := sampleText(t, d); !strings.Contains(text, "ALERT: Noctiluca") || !strings.Contains(text, want) {
		t.Errorf("the report lacks %q beside the alert:\n%s", want, text)
	}
	d.Rules = d.Rules[1:]
	if text := sampleText(t, d); !strings.Contains(text, "Not checked where too little was examined: Chain-forming diatoms (none counted;") || strings.Contains(text, "No alert") {
		t.Errorf("alone:\n%s", text)
	}
}

// A level raised on a sample counted by a pack that says what it was not shown to do
// carries the pack's check in the report, as screen and the app's banner say it
// (helper-84); below the levels it is not said.
func TestPackCheckBesideARaisedLevel(t *testing.T) {
	sm := screening.NewSample("MC-1")
	sm.VolumeML = 0.05
	who := alerts.Rule{ID: "cyanobacteria", Taxa: []string{"Cyanobacteria"}, Watch: &alerts.Threshold{Value: 20000, Unit: alerts.PerML}}
	d := Data{
		Counts:    store.Counts{Sample: store.SampleInfo{Sample: sm, Runs: []store.RunRow{{ID: 1, Pack: "cyano-tcb-10", VolumeML: 0.05, VolumeGiven: 0.05}}}},
		RulesName: "preset who-cyanobacteria",
		Rules:     []RuleStatus{{Rule: who, Level: alerts.Watch, Value: sm.Concentration(1600)}},
		Pack:      "cyano-tcb-10", PackLimits: "confirm genera and count by microscopy before acting on a level: its genus calls held on photographs of cultured strains",
		Generated: time.Now(), Version: "test",
	}
	want := "CHECK: pack cyano-tcb-10: confirm genera and count by microscopy before acting on a level: its genus calls held on photographs of cultured strains."
	if text := sampleText(t, d); !strings.Contains(text, want) {
		t.Errorf("the report lacks %q beside the level:\n%s", want, text)
	}
	d.Rules[0].Level, d.Rules[0].Value = alerts.None, sm.Concentration(1)
	if text := sampleText(t, d); strings.Contains(text, "CHECK") {
		t.Errorf("below the levels the report says the check:\n%s", text)
	}
}

// The cost table numbers runs as the Sample table does, not by their ID in the store,
// and the note says how the objects were found: a folder of single-cell images is not
// segmented (helper-84).
func TestRunNumbersAndHowFound(t *testing.T) {
	sm := screening.NewSample("NOCT")
	sm.VolumeML = 1
	run := store.RunRow{ID: 7, Pack: "ndsb-plankton-121", Model: "optimised", Finder: vision.FinderCellImages, VolumeML: 1, VolumeGiven: 1}
	d := Data{
		Counts:    store.Counts{Sample: store.SampleInfo{Sample: sm, Runs: []store.RunRow{run}}},
		Energy:    []store.RunEnergy{{Run: 7, Model: "optimised", Cells: 62, Measured: 500 * time.Millisecond, Joules: 3.1, Source: "estimate:cpu-time", Estimated: true}},
		Generated: time.Now(), Version: "test",
	}
	text := sampleText(t, d)
	for _, want := range []string{"Run 1 of 1", "1 optimised 62 0.5 s 3.1 J 0.050 J estimate from CPU time", "Screening by phytoscreen: each image of a folder of single-cell images taken as one cell and named by a neural network"} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "7 optimised") || strings.Contains(text, "image segmentation") {
		t.Errorf("the report numbers the run by its ID or says it was segmented:\n%s", text)
	}
	d.Counts.Sample.Runs[0].Finder = vision.FinderThresholds
	if text := sampleText(t, d); !strings.Contains(text, "Screening by phytoscreen: cells found by image segmentation and named") {
		t.Errorf("a segmented run's note:\n%s", text)
	}
}

// Below every level only because the unidentified objects that would reach one wait for
// review, the report's headline is no "below its trigger levels" (helper-77): it says
// the review decides, and the caveat gives the figures.
func TestReviewDecidesHeadline(t *testing.T) {
	sm := screening.NewSample("REV-1")
	sm.VolumeML = 0.04
	cyano := alerts.Rule{ID: "cyano", Taxa: []string{"Cyanobacteria"}, Watch: &alerts.Threshold{Value: 20000, Unit: alerts.PerML}, Alert: &alerts.Threshold{Value: 100000, Unit: alerts.PerML}}
	guessed := alerts.Measure{Count: 48, PerL: 25.9e6, Cells: 1037}
	d := Data{
		Counts:    store.Counts{Sample: store.SampleInfo{Sample: sm, Runs: []store.RunRow{{ID: 1, VolumeML: 0.04, VolumeGiven: 0.04}}}},
		RulesName: "preset who-cyanobacteria",
		Rules: []RuleStatus{{Rule: cyano, Level: alerts.None, Value: screening.Concentration{Count: 34, PerL: 18.7e6}, Cells: 749,
			Guessed: 14, GuessedCells: 288, IfGuessed: &guessed}},
		Generated: time.Now(), Version: "test",
	}
	text := sampleText(t, d)
	for _, want := range []string{"No alert until reviewed: Cyanobacteria could reach WATCH were the unidentified objects what the model guessed",
		"Review decides: Cyanobacteria would reach WATCH (about 25.90 M cells/L) were its 14 unidentified objects (about 288 cells)"} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "below its trigger levels") {
		t.Errorf("the report says the sample is below its levels:\n%s", text)
	}
}

// Names and notes beyond Windows-1252 print as typed: PDF's built-in Helvetica read that
// code page alone, and a site named Gdańsk, a Greek or Russian note, a ✓ typed in one,
// came out as dots (helper-77). The reports are set in an embedded TrueType font.
func TestReportPrintsAnyLatinGreekCyrillic(t *testing.T) {
	sm := screening.NewSample("GDN-1")
	sm.Site, sm.Analyst, sm.Notes = "Gdańsk, Łódź", "Józef Błażejczyk", "Pročitano ✓; Ελλάδα; Москва"
	sm.VolumeML = 1
	d := Data{Counts: store.Counts{Sample: store.SampleInfo{Sample: sm, Runs: []store.RunRow{{ID: 1, VolumeML: 1, VolumeGiven: 1}}}},
		RulesName: "preset default", Generated: time.Now(), Version: "test"}
	text := sampleText(t, d)
	for _, want := range []string{"Sample GDN-1 - Gdańsk, Łódź", "Józef Błażejczyk", "Pročitano ✓; Ελλάδα; Москва"} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q:\n%s", want, text)
		}
	}
	wk := labrec.Week{Year: 2026, Week: 48}
	wr := labrec.WeekReport{Week: wk, Made: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC),
		Benches: []labrec.BenchInfo{{ID: "b-1", Name: "Stanowisko Gdańsk", Role: "bench_gdansk"}},
		Samples: []labrec.ProgrammeSample{{SampleTally: labrec.SampleTally{Sample: labrec.Sample{Bench: "b-1", ID: "ŁÓDŹ-7", Site: "Zatoka Gdańska",
			Taken: wk.Start().Add(33 * time.Hour)}, VolumeML: 1}, BenchName: "Stanowisko Gdańsk", TopLevel: "none"}},
	}
	if text := weekText(t, wr); !strings.Contains(text, "Zatoka Gdańska") || !strings.Contains(text, "ŁÓDŹ-7") {
		t.Errorf("the weekly report lacks the site or the sample as named:\n%s", text)
	}
}

// A sample ID, site or note that is not UTF-8, stored before screening refused them,
// makes a report, each bad byte shown as U+FFFD: fpdf's text conversion panicked on
// them (helper-82).
func TestReportOfAnIDThatIsNotUTF8(t *testing.T) {
	sm := screening.NewSample("x\xff")
	sm.Site, sm.Notes = "Lac \xe9t\xe9", "r\xe9colte"
	d := Data{Counts: store.Counts{Sample: store.SampleInfo{Sample: sm, Runs: []store.RunRow{{ID: 1, VolumeML: 1, VolumeGiven: 1}}}},
		RulesName: "preset default", Generated: time.Now(), Version: "test"}
	if text := sampleText(t, d); !strings.Contains(text, "Sample x\uFFFD - Lac \uFFFDt\uFFFD") || !strings.Contains(text, "r\uFFFDcolte") {
		t.Errorf("the report lacks its sample:\n%s", text)
	}
}

// A cell too wide for its column is set smaller to fit, down to three quarters of the
// size, and cut only past that: "unchecked" and long figures (\"123,456,789\") ran over the column's
// border into the next (helper-77).
func TestTableCellsFitTheirColumns(t *testing.T) {
	pdf := newPDF()
	r := newWriter(pdf)
	pdf.AddPage()
	for _, c := range []struct {
		s     string
		w     float64
		small bool
	}{{"unchecked", 14, true}, {"123,456,789", 16, true}, {"ALERT", 14, false}, {"10,000", 18, false}} {
		size := r.sizeToFit(c.s, "", c.w, 8.5)
		r.font("", size)
		if got := pdf.GetStringWidth(c.s); got > c.w-2 || (size < 8.5) != c.small || size < 0.75*8.5 {
			t.Errorf("%q in %v mm: size %.2f, %.2f mm wide", c.s, c.w, size, got)
		}
	}
	// Past three quarters of the size, the text is cut, not run over the border.
	size := r.sizeToFit("Cyanobacteria + Microcystis spp.", "", 14, 8.5)
	r.font("", size)
	if size != 0.75*8.5 || pdf.GetStringWidth(r.fit("Cyanobacteria + Microcystis spp.", 14)) > 12 {
		t.Errorf("a long name in 14 mm: size %.2f", size)
	}
}
