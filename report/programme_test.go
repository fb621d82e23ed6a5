package report

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/labrec"
)

// The weekly programme report names the week's dates, the peak level with its site and
// sample, each site's samples with their groups' concentrations, the alerts and the
// benches; an empty week says so instead of an empty table.
func TestWeekPDF(t *testing.T) {
	wk := labrec.Week{Year: 2026, Week: 48}
	taken := wk.Start().Add(33 * time.Hour) // Tuesday 09:00
	sample := func(bench, name, id, site, level string, count int) labrec.ProgrammeSample {
		return labrec.ProgrammeSample{SampleTally: labrec.SampleTally{
			Sample: labrec.Sample{Bench: bench, ID: id, Site: site, Taken: taken}, VolumeML: 1, Objects: count + 3,
			Counts: []labrec.Count{{Label: "dino", Kind: "group", Name: "Dinoflagellates", GroupName: "Dinoflagellates", Count: count, PerL: float64(count) * 1000}},
		}, BenchName: name, TopLevel: level}
	}
	wr := labrec.WeekReport{Week: wk, Made: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC), Server: "lab.example.org/phytoscreen",
		Benches: []labrec.BenchInfo{{ID: "b-1", Name: "Oban bench", Role: "bench_oban"}, {ID: "b-2", Name: "Mull bench", Role: "bench_mull"}},
		Samples: []labrec.ProgrammeSample{sample("b-1", "Oban bench", "OB-1 'Nord'", "Loch Creran", "alert", 12), sample("b-2", "Mull bench", "MU-7", "Loch Spelve", "none", 2)},
		Alerts: []labrec.ProgrammeAlert{{Alert: labrec.Alert{Time: taken, Rule: "Dinophysis", ToLevel: "alert", CellsPerL: 12000, Threshold: "100 cells/L"},
			Bench: "b-1", BenchName: "Oban bench", SampleID: "OB-1 'Nord'", Site: "Loch Creran"}},
	}
	text := weekText(t, wr)
	for _, want := range []string{"Week 2026-W48: Monday 23 Nov to Sunday 29 Nov 2026, UTC", "ALERT at Loch Creran (OB-1 'Nord', Oban bench)", "2 samples from 2 benches at 2 sites",
		"Site Loch Creran", "Site Loch Spelve", "Dinoflagellates 12", "Mull bench", "Dinophysis", "bench_oban"} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q:\n%s", want, text)
		}
	}
	// A stopped sample is marked partial; a long sample ID and bench name, cut to their
	// columns, are written out in full under the table (helper-40).
	long := sample("b-3", "Bench A (north shore, upper pond)", "DEMO-20261203-173525-second-run", "Loch Creran", "watch", 5)
	long.Partial = true
	wr.Samples = append(wr.Samples, long)
	text = weekText(t, wr)
	for _, want := range []string{"= DEMO-20261203-173525-second-run (partial)", "= Bench A (north shore, upper pond)"} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q:\n%s", want, text)
		}
	}
	// The factor beside the volume, the figures being count / volume × factor; a level in
	// cells/mL given in cells/L, as the figure beside it (it read "100,000 cells/...",
	// cut where the units differ: helper-76).
	settled := sample("b-1", "Oban bench", "OB-2", "Loch Creran", "alert", 3)
	settled.VolumeML, settled.Factor = 0.5, 0.1
	wr.Samples = append(wr.Samples, settled)
	wr.Alerts = append(wr.Alerts, labrec.ProgrammeAlert{Alert: labrec.Alert{Time: taken, Rule: "Cyanobacteria", ToLevel: "alert", CellsPerL: 250.47e6,
		Threshold: "100000 cells/mL", ThresholdPerL: 1e8}, Bench: "b-1", BenchName: "Oban bench", SampleID: "OB-2", Site: "Loch Creran"})
	text = weekText(t, wr)
	for _, want := range []string{"0.5 ×0.1", "mL ×factor", "Level, cells/L", "250.47 M 100.00 M"} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q:\n%s", want, text)
		}
	}
	// A sample deleted at its bench is left out and named, with where it stood.
	wr.Deleted = []labrec.DeletedSample{{Bench: "b-2", BenchName: "Mull bench", ID: "MU-8", Site: "Loch Spelve", Level: "alert", Raised: "alert"}}
	if text = weekText(t, wr); !strings.Contains(text, "Left out: 1 sample taken this week deleted at its bench (in its trash, restorable there): MU-8 (Mull bench, Loch Spelve: ALERT).") {
		t.Errorf("the report does not name the deleted sample:\n%s", text)
	}
	// A sample below the levels only until reviewed is no "all below" (helper-77).
	rev := sample("b-2", "Mull bench", "MU-9", "Loch Spelve", "", 1)
	rev.Standing = &labrec.Standing{Rules: "preset who-cyanobacteria", Level: "none", Rule: "Cyanobacteria", PerL: 18.7e6,
		Why: "review decides: Cyanobacteria would reach WATCH (about 25,900,000 cells/L) were its 14 unidentified objects what the model guessed"}
	text = weekText(t, labrec.WeekReport{Week: wk, Samples: []labrec.ProgrammeSample{rev}})
	for _, want := range []string{"No alert until reviewed: 1 sample could reach a level once its unidentified objects are reviewed",
		"MU-9: review decides: Cyanobacteria would reach WATCH"} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "all below trigger levels") {
		t.Errorf("a sample the review decides read as below:\n%s", text)
	}
	empty := weekText(t, labrec.WeekReport{Week: wk})
	if !strings.Contains(empty, "No sample taken in this week reached the lab server") || !strings.Contains(empty, "No bench has pushed") {
		t.Errorf("an empty week's report does not say it is empty:\n%s", empty)
	}
}

// A sample's level is where its final figures stand, as its bench says (helper-70): a
// WATCH a relabel brought is given though no run raised it, an ALERT of one run that
// the whole sample is below is said as raised and no longer standing, and a sample no
// rule applies to is "not checked", never below the trigger levels. A bench that did
// not say gives the level raised while counting, starred and explained.
func TestWeekPDFStandsOnTheFinalFigures(t *testing.T) {
	wk := labrec.Week{Year: 2026, Week: 23}
	taken := wk.Start().Add(33 * time.Hour)
	sample := func(id, raised string, st *labrec.Standing) labrec.ProgrammeSample {
		return labrec.ProgrammeSample{SampleTally: labrec.SampleTally{Sample: labrec.Sample{Bench: "b-1", ID: id, Site: "Reservoir N", Taken: taken}, VolumeML: 0.05, Objects: 25,
			Standing: st}, BenchName: "Kiel bench", TopLevel: raised}
	}
	norway := &labrec.Standing{Rules: "preset norway", Level: labrec.NotChecked, Why: "no rule of preset norway applies to pack ndsb-plankton-121"}
	wr := labrec.WeekReport{Week: wk, Made: time.Date(2026, 6, 12, 8, 0, 0, 0, time.UTC), Samples: []labrec.ProgrammeSample{
		sample("P3-0605", "", &labrec.Standing{Rules: "preset who-cyanobacteria", Level: "watch", Rule: "Cyanobacteria", PerL: 20.56e6}),
		sample("RN-0605", "alert", &labrec.Standing{Rules: "preset who-cyanobacteria", Level: "none"}),
		sample("CL-0610", "", norway),
		sample("OLD-1", "watch", nil),
	}}
	text := weekText(t, wr)
	for _, want := range []string{"WATCH at Reservoir N (P3-0605, Kiel bench), Reservoir N (OLD-1, Kiel bench) *; 4 samples from 1 bench at 1 site; 1 sample not checked",
		"RN-0605: ALERT was raised while counting; its final figures stand below every level.",
		"CL-0610: not checked: no rule of preset norway applies to pack ndsb-plankton-121.",
		"WATCH *", "* The bench did not say where the sample stands on its final figures"} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "ALERT at") {
		t.Errorf("the report's headline stands on a level raised while counting:\n%s", text)
	}
	wr.Samples = []labrec.ProgrammeSample{sample("CL-0610", "", norway)}
	if text := weekText(t, wr); !strings.Contains(text, "Not checked: 1 sample from 1 bench at 1 site, none shown against its rules (no rule for its pack, unknown cells, or too little examined: the notes under each site's table say which)") || strings.Contains(text, "all below trigger levels") {
		t.Errorf("a week of one sample no rule applies to:\n%s", text)
	}
}

// A programme in Berlin reads its week in Berlin time: the heading names the zone, and
// a sample taken Monday 30 November 00:30 CET (Sunday 23:30 UTC) reads as Monday 00:30,
// with its alert and the report's own time in CET (all were UTC, the week's sample on
// the Sunday before, helper-89).
func TestWeekPDFInTheProgrammesZone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	wk := labrec.Week{Year: 2026, Week: 49}
	taken := time.Date(2026, 11, 30, 0, 30, 0, 0, berlin).UTC() // as the server gives it
	raised := time.Date(2026, 12, 7, 22, 12, 34, 0, time.UTC)
	wr := labrec.WeekReport{Week: wk, Zone: berlin, Made: time.Date(2026, 12, 7, 22, 13, 0, 0, time.UTC),
		Benches: []labrec.BenchInfo{{ID: "b-1", Name: "Kiel bench", LastPush: raised}},
		Samples: []labrec.ProgrammeSample{{SampleTally: labrec.SampleTally{Sample: labrec.Sample{Bench: "b-1", ID: "K-1", Site: "Kiel", Taken: taken}, VolumeML: 1},
			BenchName: "Kiel bench", TopLevel: "alert"}},
		Alerts: []labrec.ProgrammeAlert{{Alert: labrec.Alert{Time: raised, Rule: "Dinophysis", ToLevel: "alert", CellsPerL: 12000, Threshold: "100 cells/L"},
			Bench: "b-1", BenchName: "Kiel bench", SampleID: "K-1", Site: "Kiel"}},
	}
	text := weekText(t, wr)
	for _, want := range []string{"Week 2026-W49: Monday 30 Nov to Sunday 6 Dec 2026, Europe/Berlin", "Taken (CET)", "Mon 30 00:30 K-1",
		"2026-12-07 23:12 CET Kiel K-1", "2026-12-07 23:13 CET"} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "UTC") || strings.Contains(text, "Sun 29") {
		t.Errorf("the report shows UTC times:\n%s", text)
	}
	// A week that crosses the year says both years.
	wr = labrec.WeekReport{Week: labrec.Week{Year: 2026, Week: 53}, Zone: berlin}
	if text := weekText(t, wr); !strings.Contains(text, "Week 2026-W53: Monday 28 Dec 2026 to Sunday 3 Jan 2027, Europe/Berlin") {
		t.Errorf("week 53's heading:\n%s", text)
	}
	// A week that changes to summer time heads its times local, the heading naming the
	// zone; a time outside the week (the last push) carries its own abbreviation.
	wr = labrec.WeekReport{Week: labrec.Week{Year: 2026, Week: 13}, Zone: berlin,
		Benches: []labrec.BenchInfo{{ID: "b-1", Name: "Kiel bench", LastPush: raised}},
		Samples: []labrec.ProgrammeSample{{SampleTally: labrec.SampleTally{Sample: labrec.Sample{Bench: "b-1", ID: "K-2", Site: "Kiel",
			Taken: time.Date(2026, 3, 29, 12, 0, 0, 0, berlin)}, VolumeML: 1}, BenchName: "Kiel bench"}}}
	if text := weekText(t, wr); !strings.Contains(text, "Taken (local)") || !strings.Contains(text, "Sun 29 12:00 K-2") || !strings.Contains(text, "2026-12-07 23:12 CET") {
		t.Errorf("a week changing to summer time:\n%s", text)
	}
}

func weekText(t *testing.T, wr labrec.WeekReport) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteWeekPDF(&b, wr, "test"); err != nil {
		t.Fatal(err)
	}
	return pdfWords(t, b.Bytes())
}

// pdfWords is a PDF's text as pdftotext reads it, its words joined by single spaces (so a
// wrapped line reads as one).
func pdfWords(t *testing.T, pdf []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(p, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", p, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v (install poppler-utils: make deps)", err)
	}
	return strings.Join(strings.Fields(string(out)), " ")
}

// The weekly table's groups column is headed cells/L: a count of colonies gives the
// cells estimated in them, as the bench's own banner does (helper-40: 1.90 M colonies
// shown where the sample held 53.94 M cells/L), and a count without cells (pushed
// before benches sent them) gives its objects.
func TestWeekGroupsInCells(t *testing.T) {
	got := groupsText([]labrec.Count{
		{Label: "diatom", Kind: "group", GroupName: "Chain-forming diatoms", Count: 19, PerL: 1.9e6, Cells: 539.4},
		{Label: "cyano", Kind: "group", GroupName: "Cyanobacteria", Count: 4, PerL: 4e5},
		{Label: "pseudo_nitzschia", Kind: "taxon", Name: "Pseudo-nitzschia", Count: 19, PerL: 1.9e6, Cells: 539.4},
	})
	if want := "Chain-forming diatoms 53.94 M; Cyanobacteria 400,000"; got != want {
		t.Errorf("groups: %q, want %q", got, want)
	}
}

// A bench's threshold as recorded reads with thousands separators; what is not a plain
// number and unit stays as it was; one of a thing is said in the singular (helper-63).
func TestThresholdAndCountText(t *testing.T) {
	for in, want := range map[string]string{"20000 cells/mL": "20,000 cells/mL", "100000 cells/L": "100,000 cells/L", "500 cells/L": "500 cells/L",
		"presence": "presence", "1.5e3 cells/L": "1,500 cells/L", "2500000 cells/L": "2.50 M cells/L"} {
		if got := thresholdText(in); got != want {
			t.Errorf("thresholdText(%q) = %q, want %q", in, got, want)
		}
	}
	if got := counted(1, "bench") + ", " + counted(2, "bench") + ", " + counted(0, "sample"); got != "1 bench, 2 benches, 0 samples" {
		t.Errorf("counted: %q", got)
	}
}

// The weekly report says what counted each sample and what its packs cannot see, names
// the companions left out with the level each stands at, and takes "Lagoon north" and
// "Lagoon North" for one site (helper-92: LN-1's diatoms beside LN-3's cyanobacteria with
// no pack named; a companion's ALERT beside "No alert"; a fourth site of one letter).
func TestWeekPDFPacksCompanionsSites(t *testing.T) {
	wk := labrec.Week{Year: 2026, Week: 49}
	day := wk.Start()
	ndsb := func(pack string) labrec.Setup {
		return labrec.Setup{Pack: pack, Model: "optimised", Threshold: 0.5, Rules: "preset default", Taxa: []labrec.Taxon{
			{Pack: pack, Label: "chaetoceros", Name: "Chaetoceros", Group: "chain_diatom", GroupName: "Chain-forming diatoms"}}}
	}
	cyano := labrec.Setup{Pack: "cyano-tcb-10", Model: "optimised", Threshold: 0.5, Rules: "preset who-cyanobacteria", UmPerPxMin: 0.65, UmPerPxMax: 0.65,
		Taxa: []labrec.Taxon{{Pack: "cyano-tcb-10", Label: "microcystis", Name: "Microcystis", Group: "cyano", GroupName: "Cyanobacteria"}}}
	sample := func(id, site string, hours int, u labrec.Setup, group, name string, perL float64) labrec.ProgrammeSample {
		return labrec.ProgrammeSample{SampleTally: labrec.SampleTally{
			Sample: labrec.Sample{Bench: "b-1", ID: id, Site: site, Taken: day.Add(time.Duration(hours) * time.Hour)}, VolumeML: 1, Objects: 9,
			Counts:   []labrec.Count{{Label: group, Kind: "group", Name: name, GroupName: name, Count: 4, PerL: perL}},
			Standing: &labrec.Standing{Level: "none", Rules: u.Rules},
		}, BenchName: "Regional bench 1", Setups: []labrec.Setup{u}}
	}
	ri := sample("RI-1", "Reservoir intake", 33, cyano, "cyano", "Cyanobacteria", 18.62e6)
	comp := sample("RI-1~ndsb-plankton-121", "Reservoir intake", 33, ndsb("ndsb-plankton-121"), "chain_diatom", "Chain-forming diatoms", 2.84e6)
	comp.Companion = "RI-1"
	comp.Standing = &labrec.Standing{Level: "alert", Rule: "Chain-forming diatoms", PerL: 2.84e6, Rules: "preset default"}
	comp.TopLevel = "alert"
	wr := labrec.WeekReport{Week: wk, Made: day.Add(200 * time.Hour), Samples: []labrec.ProgrammeSample{
		sample("LN-1", "Lagoon north", 62, ndsb("ndsb-plankton-121"), "chain_diatom", "Chain-forming diatoms", 4000),
		sample("LN-3", "Lagoon north", 130, cyano, "cyano", "Cyanobacteria", 3.27e6),
		sample("LN-4", "Lagoon North", 140, ndsb("ndsb-plankton-121-v2"), "chain_diatom", "Chain-forming diatoms", 1000),
		sample("LN-2", "Lagoon north ", 160, ndsb("ndsb-plankton-121-v2"), "chain_diatom", "Chain-forming diatoms", 2000),
		ri,
	}, Companions: []labrec.ProgrammeSample{comp}}
	text := weekText(t, wr)
	for _, want := range []string{
		// one site, titled as most of its samples spell it, counted once
		"5 samples from 1 bench at 2 sites", "Site Lagoon north Taken",
		`Site written otherwise at its bench: LN-4 as "Lagoon North", LN-2 as "Lagoon north ".`,
		// what counted each sample
		"Counted by: LN-1 with ndsb-plankton-121 (optimised, threshold 0.5, rules preset default, no µm per pixel); " +
			"LN-3 with cyano-tcb-10 (optimised, threshold 0.5, rules preset who-cyanobacteria, 0.65 µm per pixel); " +
			"LN-4, LN-2 with ndsb-plankton-121-v2 (optimised, threshold 0.5, rules preset default, no µm per pixel).",
		"Not looked for: Chain-forming diatoms by cyano-tcb-10 (LN-3); Cyanobacteria by ndsb-plankton-121 (LN-1) and ndsb-plankton-121-v2 (LN-4, LN-2).",
		"Counted by: RI-1 with cyano-tcb-10",
		// the companion, left out, and said with its level
		"Left out of the counts and levels in this report: 1 companion sample",
		"No alert: 5 samples from 1 bench at 2 sites, all below trigger levels; a companion stands higher (another pack, left out: below): RI-1~ndsb-plankton-121 ALERT",
		"RI-1~ndsb-plankton-121, the same frames as RI-1 counted by ndsb-plankton-121 (Reservoir intake, Regional bench 1): ALERT Chain-forming diatoms 2.84 M cells/L.",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "Site Lagoon North") || strings.Contains(text, "at 3 sites") {
		t.Errorf("Lagoon North is a site of its own:\n%s", text)
	}
	// Packs alike at a site: said once, nothing not looked for; no companion: no line.
	again := wr.Samples[1]
	again.ID = "LN-6"
	wr.Samples, wr.Companions = []labrec.ProgrammeSample{wr.Samples[1], again}, nil
	text = weekText(t, wr)
	if strings.Contains(text, "Not looked for") || strings.Contains(text, "companion") || !strings.Contains(text, "Counted by: all with cyano-tcb-10 (") {
		t.Errorf("one pack, no companion, yet:\n%s", text)
	}
	// A pack whose taxa the server does not hold: not said to look for nothing.
	unknown := sample("LN-5", "Lagoon north", 150, labrec.Setup{Pack: "old-pack"}, "chain_diatom", "Chain-forming diatoms", 1000)
	wr.Samples = append(wr.Samples, unknown)
	if text = weekText(t, wr); !strings.Contains(text, "Not known whether LN-5 looked for every group counted here") || strings.Contains(text, "by old-pack") {
		t.Errorf("a pack of unknown taxa:\n%s", text)
	}
}
