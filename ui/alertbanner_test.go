package ui

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
)

// TestBannerNotCheckedTooLittleExamined: none counted where one cell would reach a level
// is not an all-clear (helper-72): NOT CHECKED, naming the rule, the limit and the fix;
// enough volume gives the all-clear.
func TestBannerNotCheckedTooLittleExamined(t *testing.T) {
	test.NewTempApp(t)
	b := newAlertBanner()
	alert := &alerts.Threshold{Value: 10000, Unit: alerts.PerL}
	st := alerts.State{Rule: "noctiluca", Taxon: "Noctiluca", Value: alerts.Measure{Limit: 10000},
		Next: &alerts.Threshold{Presence: true, Unit: alerts.Presence}, NextLevel: alerts.Watch, Counted: alert, CountedLevel: alerts.Alert}
	b.Set([]alerts.State{st}, "", "Watching: default", "sample S-1", nil)
	if b.chip.Text != "NOT CHECKED" || b.Headline() != "Not checked: too little examined for Noctiluca" ||
		!strings.HasPrefix(b.Detail(), "Examine more volume (a larger chamber, more fields, or the sample concentrated): none counted, and one cell in this volume is 10,000 cells/L, at or over their first level") {
		t.Errorf("none in 0.1 mL: chip %q, %q / %q", b.chip.Text, b.Headline(), b.Detail())
	}
	st.Value.Limit = 1000 // 1 mL
	b.Set([]alerts.State{st}, "", "Watching: default", "sample S-1", nil)
	if b.chip.Text == "NOT CHECKED" || !strings.HasPrefix(b.Headline(), "No alert") {
		t.Errorf("none in 1 mL: chip %q, %q", b.chip.Text, b.Headline())
	}
}

// TestBannerNotCheckedInCells: below every level on colonies counted one cell each (their
// cells unknown) is not an all-clear: the banner says NOT CHECKED and why; a level that
// the lower bound reaches still shows.
func TestBannerNotCheckedInCells(t *testing.T) {
	test.NewTempApp(t)
	b := newAlertBanner()
	st := alerts.State{Rule: "cyanobacteria", Taxon: "Cyanobacteria", Value: alerts.Measure{Count: 39, PerL: 390000, CellsUnknown: 39}}
	b.Set([]alerts.State{st}, "", "Watching: cyanobacteria", "sample TILES-1", nil)
	if b.chip.Text != "NOT CHECKED" || !strings.HasPrefix(b.Headline(), "Not checked in cells: 39 colonies") || !strings.Contains(b.Detail(), "lower bound") {
		t.Errorf("unknown cells below the levels: chip %q, %q / %q", b.chip.Text, b.Headline(), b.Detail())
	}
	st.Level = alerts.Watch
	st.Value.PerL = 92.5e6
	st.Threshold = &alerts.Threshold{Value: 20000, Unit: alerts.PerML}
	b.Set([]alerts.State{st}, "", "Watching: cyanobacteria", "sample TILES-1", nil)
	if b.Level() != alerts.Watch {
		t.Errorf("a level reached on the lower bound: banner at %v, want WATCH", b.Level())
	}
	// The level in the headline's unit beside the rule's own.
	if !strings.Contains(b.Detail(), "watch level ≥ 20,000 cells/mL = 20.0 M cells/L") || !strings.Contains(b.Headline(), "92.5 M cells/L") {
		t.Errorf("raised: %q / %q", b.Headline(), b.Detail())
	}
	// The source and rule have a line of their own: behind an oversize warning they were
	// cut off at 1440 px (helper-50).
	st.Source = "WHO 2003 guidelines for safe recreational water environments"
	st.Value.Cells, st.Value.Oversize = 1031, 78
	b.Set([]alerts.State{st}, "", "Watching: cyanobacteria", "sample MC-1", nil)
	if !strings.HasPrefix(b.line3.Text(), "source: WHO 2003 guidelines") || !strings.Contains(b.line3.Text(), "rule cyanobacteria") ||
		!strings.Contains(b.line2.Text(), "about 1,031 cells (78 in unsplit objects over a tenth of a frame: check those frames)") || strings.Contains(b.line2.Text(), "source:") {
		t.Errorf("raised with oversize cells: line 2 %q, line 3 %q", b.line2.Text(), b.line3.Text())
	}
	// The real Microcystis folder's watch, whole at 1440 px: the oversize note's end,
	// what to do, was cut off (helper-54). The window leaves the line about 1,330 px.
	st.Value = alerts.Measure{Count: 99, PerL: 63.8e6, Low: 51.9e6, High: 77.7e6, Cells: 3192, Oversize: 1404}
	b.Set([]alerts.State{st}, "", "Watching: cyanobacteria", "sample S-20261205-123014 (run ended)", nil)
	if w := fyne.MeasureText(b.line2.Text(), 12.5, fyne.TextStyle{}).Width; w > 1300 {
		t.Errorf("line 2 is %.0f px wide, over the 1,300 a 1440 px window leaves it: %q", w, b.line2.Text())
	}
	st.Level, st.Value.CellsUnknown = alerts.None, 0
	b.Set([]alerts.State{st}, "", "Watching: cyanobacteria", "sample TILES-1", nil)
	if b.chip.Text != "NO ALERT" || b.line3.Text() != "" || !b.line3.Visible() {
		t.Errorf("cells known, below the levels: chip %q, want NO ALERT; third line %q, shown %v (empty, keeping the height)", b.chip.Text, b.line3.Text(), b.line3.Visible())
	}
}

// TestEnergyLineNamesTheRunByItsStart: History's energy lines name a run by when it ran,
// not by the store-wide run number ("run 4" of a sample of one run: helper-47).
func TestEnergyLineNamesTheRunByItsStart(t *testing.T) {
	at := time.Date(2026, 6, 4, 9, 30, 0, 0, time.Local)
	r := recorded{energy: []store.RunEnergy{{Run: 4, Model: "optimised", Cells: 10, Measured: time.Second, Joules: 2, Source: "estimate:cpu-time", Estimated: true}},
		started: map[int64]time.Time{4: at}}
	lines := strings.Join(r.lines(), "\n")
	if !strings.Contains(lines, "Energy, run of 2026-06-04 09:30, optimised model: 0.200 J per cell (estimate)") || strings.Contains(lines, "run 4") {
		t.Errorf("energy line: %q", lines)
	}
}

// Below every level the green banner says how close the nearest rule is, in its level's
// own unit: 18,500 of 20,000 cells/mL must not read like an empty sample. Past the watch
// level the next level is the alert level; a presence rule has no share.
func TestBannerSaysHowCloseBelowTheLevels(t *testing.T) {
	test.NewTempApp(t)
	b := newAlertBanner()
	who := alerts.Rule{ID: "cyanobacteria", Taxa: []string{"Cyanobacteria"}, Source: "WHO",
		Watch: &alerts.Threshold{Value: 20000, Unit: alerts.PerML}, Alert: &alerts.Threshold{Value: 100000, Unit: alerts.PerML}}
	karenia := alerts.Rule{ID: "karenia", Taxa: []string{"Karenia"}, Source: "x", Watch: &alerts.Threshold{Value: 5000, Unit: alerts.PerL}}
	presence := alerts.Rule{ID: "alex", Taxa: []string{"Alexandrium"}, Source: "x", Watch: &alerts.Threshold{Presence: true, Unit: alerts.Presence}}
	e := alerts.NewEvaluator([]alerts.Bound{{Rule: who, Labels: []string{"Microcystis"}}, {Rule: karenia, Labels: []string{"karenia"}},
		{Rule: presence, Labels: []string{"alex"}}}, 0.1)
	perL := map[string]float64{"Microcystis": 18.6e6, "karenia": 1000}
	e.Update(time.Now(), func(labels []string) alerts.Measure { return alerts.Measure{PerL: perL[labels[0]]} })
	b.Set(e.States(), "", "Watching: 3 rules", "sample S-1", nil)
	// On the line under the headline, the rules watched under it: after the headline,
	// with a regulatory rule's taxon list, it was cut off (helper-59).
	if want := "Nearest: Cyanobacteria at 18,600 of 20,000 cells/mL (93% of its watch level) · Watching: 3 rules"; b.chip.Text != "NO ALERT" || b.Detail() != want ||
		b.Headline() != "No alert: 3 rules below their thresholds" {
		t.Errorf("below the levels: chip %q, headline %q, detail %q; want %q", b.chip.Text, b.Headline(), b.Detail(), want)
	}
	// After a raised level, every line of the quiet banner is in its dark colour: the
	// third kept the level's white on the pale green (helper-65).
	perL["Microcystis"] = 30e6
	e.Update(time.Now(), func(labels []string) alerts.Measure { return alerts.Measure{PerL: perL[labels[0]]} })
	b.Set(e.States(), "", "Watching: 3 rules", "sample S-1", nil)
	perL["Microcystis"] = 18.6e6
	e2 := alerts.NewEvaluator([]alerts.Bound{{Rule: who, Labels: []string{"Microcystis"}}, {Rule: karenia, Labels: []string{"karenia"}}}, 0.1)
	e2.Update(time.Now(), func(labels []string) alerts.Measure { return alerts.Measure{PerL: perL[labels[0]]} })
	b.Set(e2.States(), "", "Watching: 2 rules", "sample S-2", nil)
	if b.chip.Text != "NO ALERT" || b.line3.Text() != "Watching: 2 rules" || b.line3.text.Color != b.line1.text.Color {
		t.Errorf("below the levels after a raised one: chip %q, third line %q in %v, headline in %v", b.chip.Text, b.line3.Text(), b.line3.text.Color, b.line1.text.Color)
	}
	perL["Microcystis"] = 0
	e.Update(time.Now(), func(labels []string) alerts.Measure { return alerts.Measure{PerL: perL[labels[0]]} })
	b.Set(e.States(), "", "Watching: 3 rules", "sample S-1", nil)
	if want := "Nearest: Karenia at 1,000 of 5,000 cells/L (20% of its watch level)"; !strings.HasPrefix(b.Detail(), want) {
		t.Errorf("the nearest rule changed: detail %q; want %q", b.Detail(), want)
	}
	perL["Microcystis"] = 30e6
	e.Update(time.Now(), func(labels []string) alerts.Measure { return alerts.Measure{PerL: perL[labels[0]]} })
	st := e.States()[0]
	if share, next, ok := st.Closeness(); st.Level != alerts.Watch || !ok || next != alerts.Alert || share != 0.3 {
		t.Errorf("past the watch level: level %v, closeness %v of %v (%v); want 0.3 of the alert level", st.Level, share, next, ok)
	}
	if _, _, ok := e.States()[2].Closeness(); ok {
		t.Error("a presence rule has no share of its level")
	}
	// Nothing counted under any rule: no "Nearest: … at 0 (0%)" (helper-69).
	for k := range perL {
		perL[k] = 0
	}
	e3 := alerts.NewEvaluator([]alerts.Bound{{Rule: who, Labels: []string{"Microcystis"}}, {Rule: karenia, Labels: []string{"karenia"}}}, 0.1)
	e3.Update(time.Now(), func(labels []string) alerts.Measure { return alerts.Measure{PerL: perL[labels[0]]} })
	b.Set(e3.States(), "", "Watching: 2 rules", "sample S-3", nil)
	if strings.Contains(b.Detail(), "Nearest") {
		t.Errorf("nothing counted: detail %q", b.Detail())
	}
}

// The Alert column of a group whose rule could not be checked in cells reads
// "Unchecked", as the banner's NOT CHECKED, not "–" (below the levels: helper-50); a
// taxon's row only for a rule on it alone; a level reached stays a level.
func TestCountsTableSaysUnchecked(t *testing.T) {
	test.NewTempApp(t)
	rows := []countRow{
		{Label: groupKey + "cyanobacteria", Name: "HAB group: Cyanobacteria", Group: "cyanobacteria", IsGroup: true},
		{Label: "Microcystis", Name: "Microcystis", Group: "cyanobacteria"},
		{Label: "Anabaena", Name: "Anabaena", Group: "cyanobacteria"},
		{Label: "Other", Name: "Not a cyanobacterium"},
	}
	states := []alerts.State{{Rule: "cyanobacteria", Labels: []string{"Microcystis", "Anabaena"}, Value: alerts.Measure{Count: 39, CellsUnknown: 39}}}
	markUnchecked(rows, states, nil)
	if got := []bool{rows[0].Unchecked, rows[1].Unchecked, rows[2].Unchecked, rows[3].Unchecked}; !slices.Equal(got, []bool{true, false, false, false}) {
		t.Errorf("unchecked group, Microcystis, Anabaena, other: %v, want the group alone", got)
	}
	cell := newCountCell().(*fyne.Container)
	updateCountCell(cell, colLevel, rows[0])
	if txt := cell.Objects[2].(*fyne.Container).Objects[0].(*fyne.Container).Objects[1].(*fyne.Container).Objects[0].(*canvas.Text); txt.Text != "Unchecked" {
		t.Errorf("the group's Alert cell reads %q", txt.Text)
	} else if w := fyne.MeasureText(txt.Text, txt.TextSize, txt.TextStyle).Width + 2*theme.Padding(); w > colWidths[colLevel] {
		t.Errorf("%q takes %.0f px in a column of %.0f", txt.Text, w, colWidths[colLevel])
	}
	states = append(states, alerts.State{Rule: "microcystis", Labels: []string{"Microcystis"}, Value: alerts.Measure{Count: 39, CellsUnknown: 39}})
	rows[0].Level, rows[0].Unchecked = alerts.Watch, false
	markUnchecked(rows, states, nil)
	if rows[0].Unchecked || !rows[1].Unchecked {
		t.Errorf("a group at WATCH marked unchecked %v; Microcystis under its own rule %v", rows[0].Unchecked, rows[1].Unchecked)
	}
	// Nothing of a group counted in too little volume (a stored sample: no taxon rows
	// of it): its row reads Unchecked from the taxonomy's members, as the summary, the
	// counts CSV and the report say (helper-75: History read "–").
	tx := screening.DefaultTaxonomy("p", []string{"protist_noctiluca", "copepod_calanoid"})
	rows = []countRow{{Label: groupKey + "noctiluca", Name: "HAB group: Noctiluca", Group: "noctiluca", IsGroup: true}, {Label: "copepod_calanoid", Name: "Copepod"}}
	states = []alerts.State{{Rule: "noctiluca", Labels: []string{"protist_noctiluca"}, Value: alerts.Measure{Limit: 10000},
		Counted: &alerts.Threshold{Value: 10000, Unit: alerts.PerL}, CountedLevel: alerts.Alert}}
	levelRows(rows, states, tx)
	if !rows[0].Unchecked || rows[1].Unchecked {
		t.Errorf("none counted in 0.1 mL: group unchecked %v, copepod %v; want the group alone", rows[0].Unchecked, rows[1].Unchecked)
	}
}

// The note under the counts names the HAB groups and the three taxa of most cells,
// whatever the table's sort (it named the first three rows shown: helper-51), and says
// how many more there are (helper-81: the parts fell short of the group's figure).
func TestCellsNoteNamesTheTaxaOfMostCells(t *testing.T) {
	test.NewTempApp(t)
	c := newCountsTable(false)
	row := func(label string, count int, cells float64) countRow {
		return countRow{Label: label, Name: label, Group: "cyanobacteria", Unit: "colony", Cells: cells,
			Concentration: screening.Concentration{Count: count, PerL: float64(count) * 1000}}
	}
	c.SetRows([]countRow{row("A", 50, 60), row("B", 5, 500), row("C", 3, 300), row("D", 40, 100), row("E", 2, 2)})
	want := "Per L counts objects: a colony, chain or filament is one. The alert levels are in cells, estimated in them: B ≈ 500,000 cells/L · C ≈ 300,000 cells/L · D ≈ 100,000 cells/L · 1 more taxon (each taxon's cells in the counts CSV)."
	if c.note.Text != want {
		t.Errorf("note %q, want %q", c.note.Text, want)
	}
	c.SortBy(colTaxon)
	if c.note.Text != want {
		t.Errorf("sorted by name, the note reads %q, want %q", c.note.Text, want)
	}
}

// Past a level on the first frames of a folder, where the level is held back until a
// tenth is read or the lower bound is there, the banner says so instead of "below its
// thresholds" beside "486% of its watch level" (helper-54); once the level is entered
// it shows as ever.
func TestBannerSaysALevelIsHeldBack(t *testing.T) {
	test.NewTempApp(t)
	b := newAlertBanner()
	who := alerts.Rule{ID: "cyanobacteria", Taxa: []string{"Cyanobacteria"}, Source: "WHO",
		Watch: &alerts.Threshold{Value: 20000, Unit: alerts.PerML}, Alert: &alerts.Threshold{Value: 100000, Unit: alerts.PerML}}
	e := alerts.NewEvaluator([]alerts.Bound{{Rule: who, Labels: []string{"Microcystis"}}}, 0.1)
	m := alerts.Measure{Count: 40, PerL: 97.2e6, Low: 70e6, High: 130e6, Provisional: true, Early: true}
	e.Update(time.Now(), func([]string) alerts.Measure { return m })
	b.Set(e.States(), "", "Watching: cyanobacteria", "sample S-1", nil)
	if want := "Not yet: Cyanobacteria at 97.2 M cells/L, 486% of its watch level on under 10% of the frames"; b.chip.Text != "NOT YET" || !strings.HasPrefix(b.Headline(), want) {
		t.Errorf("early: chip %q, headline %q; want NOT YET and %q", b.chip.Text, b.Headline(), want)
	}
	m.Early, m.Low = false, 15e6
	e.Update(time.Now(), func([]string) alerts.Measure { return m })
	b.Set(e.States(), "", "Watching: cyanobacteria", "sample S-1", nil)
	if b.chip.Text != "NOT YET" || !strings.HasSuffix(b.Headline(), "486% of its watch level so far") ||
		!strings.HasPrefix(b.Detail(), "Its lower bound (15.0 M) is still under the level: more frames decide.") {
		t.Errorf("past the level, the lower bound not: chip %q, headline %q, detail %q", b.chip.Text, b.Headline(), b.Detail())
	}
	// With the WHO rule's taxon list the headline fits the row a 1440 px window gives it
	// beside the sample (about 1,050 px); the reason is on a line of its own.
	m.PerL = 28.2e6
	e.Update(time.Now(), func([]string) alerts.Measure { return m })
	states := e.States()
	for i := range states {
		states[i].Taxon = "Cyanobacteria + Microcystis spp. + Oscillatoria spp."
	}
	b.Set(states, "", "Watching: cyanobacteria", "sample S-20261206-204343", nil)
	if w := b.line1.natural(); b.chip.Text != "NOT YET" || w > 1050 {
		t.Errorf("chip %q; the headline %q needs %.0f px, over the 1,050 it has at 1440 px", b.chip.Text, b.Headline(), w)
	}
	m.Low = 70e6
	e.Update(time.Now(), func([]string) alerts.Measure { return m })
	b.Set(e.States(), "", "Watching: cyanobacteria", "sample S-1", nil)
	if b.Level() != alerts.Watch || b.chip.Text != "WATCH" {
		t.Errorf("the lower bound past the watch level: banner %v, chip %q", b.Level(), b.chip.Text)
	}
	e.Settle(time.Now(), func([]string) alerts.Measure { return alerts.Measure{Count: 3, PerL: 3e6, Low: 1e6} })
	b.Set(e.States(), "", "Watching: cyanobacteria", "sample S-1", nil)
	if b.chip.Text != "NO ALERT" {
		t.Errorf("settled below the levels: chip %q, headline %q", b.chip.Text, b.Headline())
	}
}

// A level raised while a higher one is past on the frames read so far and held back:
// the banner shows the level raised and says the higher one is pending (helper-81: WATCH
// at 257% of the alert level, with no word of it, until the run ended at ALERT).
func TestBannerSaysAHigherLevelIsHeldBack(t *testing.T) {
	test.NewTempApp(t)
	b := newAlertBanner()
	who := alerts.Rule{ID: "cyanobacteria", Taxa: []string{"Cyanobacteria"}, Source: "WHO",
		Watch: &alerts.Threshold{Value: 20000, Unit: alerts.PerML}, Alert: &alerts.Threshold{Value: 100000, Unit: alerts.PerML}}
	e := alerts.NewEvaluator([]alerts.Bound{{Rule: who, Labels: []string{"Microcystis"}}}, 0.1)
	m := alerts.Measure{Count: 40, PerL: 150e6, Low: 30e6, High: 250e6, Provisional: true}
	e.Update(time.Now(), func([]string) alerts.Measure { return m })
	b.Set(e.States(), "", "Watching: cyanobacteria", "sample S-1", nil)
	want := "Not yet: Cyanobacteria at 150.0 M cells/L, 150% of its alert level so far · Its lower bound (30.0 M) is still under the level: more frames decide. · sample S-1"
	if b.chip.Text != "WATCH" || b.more.Text() != want {
		t.Errorf("chip %q, line %q; want WATCH and %q", b.chip.Text, b.more.Text(), want)
	}
	m.Low = 110e6
	e.Update(time.Now(), func([]string) alerts.Measure { return m })
	b.Set(e.States(), "", "Watching: cyanobacteria", "sample S-1", nil)
	if b.chip.Text != "ALERT" || strings.Contains(b.more.Text(), "Not yet") {
		t.Errorf("the lower bound past the alert level: chip %q, line %q", b.chip.Text, b.more.Text())
	}
	// What the pack that counted the sample was not shown to do is said beside a level
	// raised (helper-81), and nowhere below the levels.
	b.SetPackLimits(func(pack string) string {
		if pack == "cyano" {
			return "confirm genera by microscopy: its calls held on photographs of cultures"
		}
		return ""
	})
	b.Set(e.States(), "cyano", "Watching: cyanobacteria", "sample S-1", nil)
	if want := "sample S-1 · confirm genera by microscopy"; b.more.Text() != want {
		t.Errorf("a level raised on a pack with limits: line %q, want %q", b.more.Text(), want)
	}
	// The same level counted by a pack without limits: nothing of the other's check.
	b.Set(e.States(), "marine", "Watching: cyanobacteria", "sample S-1", nil)
	if want := "sample S-1"; b.more.Text() != want {
		t.Errorf("a level raised on a pack without limits: line %q, want %q", b.more.Text(), want)
	}
	e.Settle(time.Now(), func([]string) alerts.Measure { return alerts.Measure{Count: 3, PerL: 3e6, Low: 1e6} })
	b.Set(e.States(), "cyano", "Watching: cyanobacteria", "sample S-1", nil)
	if b.chip.Text != "NO ALERT" || strings.Contains(b.Detail()+b.more.Text(), "microscopy") {
		t.Errorf("below the levels: chip %q, detail %q, line %q", b.chip.Text, b.Detail(), b.more.Text())
	}
}

// The banner's context (which sample, and that its run stopped) keeps its own width
// beside a headline too long for the row: it read "sample …" behind a no-alert headline
// at 1440 px (helper-56). A short headline still takes its whole width.
func TestBannerContextNotCutBehindALongHeadline(t *testing.T) {
	test.NewTempApp(t)
	head := newFitText(16, true, fyne.TextAlignLeading)
	more := newFitText(12.5, false, fyne.TextAlignTrailing)
	head.SetText(strings.Repeat("Cyanobacteria + Microcystis spp. at 10,257 of 20,000 cells/mL ", 4))
	more.SetText("sample POND11-AM (stopped: partial)")
	row := fyne.NewSize(1200, 24)
	headlineRow{}.Layout([]fyne.CanvasObject{head, more}, row)
	if more.Size().Width < more.natural() || more.Position().X+more.Size().Width > row.Width {
		t.Errorf("context %g px wide at x %g, needs %g in a row of %g", more.Size().Width, more.Position().X, more.natural(), row.Width)
	}
	if head.Size().Width >= head.natural() {
		t.Errorf("the long headline was given its whole %g px in a %g px row", head.natural(), row.Width)
	}
	head.SetText("No alert")
	headlineRow{}.Layout([]fyne.CanvasObject{head, more}, row)
	if head.Size().Width < head.natural() {
		t.Errorf("a short headline given %g px of its %g", head.Size().Width, head.natural())
	}
}

// Before any sample the banner is neither an all-clear nor a level: after a restart it
// was a green NO ALERT over nothing counted (helper-67). A watched taxon the pack cannot
// see is still said first.
func TestBannerBeforeAnySample(t *testing.T) {
	h := newHarness(t, nil)
	b := h.a.banner
	if b.chip.Text != "READY" || !strings.HasPrefix(b.Headline(), "Nothing screened yet") || b.Level() != alerts.None {
		t.Errorf("at launch: chip %q, headline %q", b.chip.Text, b.Headline())
	}
	b.NothingScreened("Watching: 1 rule", []string{"Cyanobacteria"})
	if b.chip.Text != "NOT CHECKED" || !strings.Contains(b.Headline(), "cannot see Cyanobacteria") {
		t.Errorf("at launch, the pack blind to a watched taxon: chip %q, headline %q", b.chip.Text, b.Headline())
	}
}

// TestBannerReviewDecides: below the levels only because the unidentified objects the
// model took for the rule's taxa wait for review is no all-clear: the banner says REVIEW
// with what the guesses would reach, from the stored counts (History's measure) as from
// a run's; beside a level raised, a higher one the review could give is said.
func TestBannerReviewDecides(t *testing.T) {
	test.NewTempApp(t)
	watch, alert := 20000.0, 100000.0
	rs, err := alerts.Parse([]byte(fmt.Sprintf("source = \"WHO\"\n[[rule]]\nid = \"cyano\"\ntaxon = \"Microcystis\"\nwatch = %g\nalert = %g\nunit = \"cells/mL\"\n", watch, alert)), "r.toml")
	if err != nil {
		t.Fatal(err)
	}
	r := alerts.Binding{Ruleset: rs, Bound: []alerts.Bound{{Rule: rs.Rules[0], Labels: []string{"Microcystis"}}}, Name: "who"}
	sm := screening.NewSample("REV")
	sm.VolumeML = 0.04
	c := store.Counts{Sample: store.SampleInfo{Sample: sm},
		Taxa:    []store.TaxonCount{{Label: "Microcystis", Concentration: sm.Concentration(34), Cells: 749, Unit: "colony"}},
		Guessed: map[string]screening.Guess{"Microcystis": {Count: 14, Cells: 288}}}
	states := evaluateStored(r, c)
	if len(states) != 1 || states[0].Level != alerts.None || states[0].ReviewTo != alerts.Watch {
		t.Fatalf("stored counts: %+v; want none, watch were the guesses right", states)
	}
	b := newAlertBanner()
	b.Set(states, "", "Watching: who", "sample REV", nil)
	if b.chip.Text != "REVIEW" || b.Headline() != "No alert until reviewed: Microcystis could reach WATCH" ||
		!strings.HasPrefix(b.Detail(), "About 25.9 M cells/L were its 14 unidentified objects (about 288 cells) what the model guessed: review them (Gallery and review › Review queue)") {
		t.Errorf("chip %q, %q / %q", b.chip.Text, b.Headline(), b.Detail())
	}
	c.Guessed = nil
	b.Set(evaluateStored(r, c), "", "Watching: who", "sample REV", nil)
	if !strings.HasPrefix(b.Headline(), "No alert") || strings.Contains(b.Headline(), "review") {
		t.Errorf("nothing unidentified: %q", b.Headline())
	}
	// At watch, guesses that would pass the alert level are said beside it.
	c.Taxa[0].Cells, c.Guessed = 1000, map[string]screening.Guess{"Microcystis": {Count: 30, Cells: 3500}}
	b.Set(evaluateStored(r, c), "", "Watching: who", "sample REV", nil)
	if b.Level() != alerts.Watch || !strings.Contains(b.more.Text(), "review decides: Microcystis could reach ALERT") {
		t.Errorf("at watch: level %v, more %q", b.Level(), b.more.Text())
	}
}

// The end-of-run lead of a continuation says its volumes to three figures, as the
// report: it read "the 0.5496688741721855 mL given" (helper-75).
func TestPartialLeadVolumes(t *testing.T) {
	ex := screening.Examined{Frames: 77, Expected: 83, Fraction: 77.0 / 83, DeclaredML: 0.5496688741721855, Interrupted: true}
	want := "Stopped: partial, 77 of 83 frames (the concentrations are on the 0.51 mL of the 0.55 mL given). "
	if got := partialLead(ex, 0.5099337748344371); got != want {
		t.Errorf("lead %q, want %q", got, want)
	}
}
