// Package report writes a screened sample's report for the farm manager as a PDF: the
// sample's metadata, its HAB groups against their trigger levels with 95% intervals,
// the alerts raised with their sources, the model, threshold and reviewers, example
// crops of the taxa that raised them, and what the run cost. It renders what it is
// given (Data); internal/app gathers Data from the session store.
package report

import (
	"bytes"
	"cmp"
	"fmt"
	"image/png"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"
	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/internal/sigfig"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
	"github.com/phytoscreen/phytoscreen/vision"
)

// Data is everything a report shows.
type Data struct {
	Counts store.Counts // the sample, its runs and its tallies
	// Rules are the alert rules the report compares the sample with (those of its last
	// run, unless others were asked for), with the level each gives the whole sample;
	// RulesName names them ("preset who-cyanobacteria", a file).
	Rules     []RuleStatus
	RulesName string
	// RunRules names the rules the runs were screened under, which raised Events; empty
	// when they are Rules.
	RunRules string
	// Apply names the presets with rules for the pack's taxa, when none of Rules' do:
	// the report says which to compare with rather than stop at "no rule".
	Apply []string
	// CannotSee are taxa the rules watch for that the pack cannot recognise: the sample
	// says nothing about them.
	CannotSee []string
	Events    []alerts.Event // level changes, oldest first
	Reviewers []string       // who validated labels
	Validated int            // objects whose label a person set
	Examples  []Example      // crops of the taxa that raised alerts (else the commonest)
	Energy    []store.RunEnergy
	Generated time.Time
	// Zone is where the report shows its times, each with the zone's abbreviation: the
	// time taken, the alerts' and its own (nil: this machine's zone). It showed "Taken"
	// in UTC beside a footer in local time.
	Zone    *time.Location
	Version string // phytoscreen's version
	// RunModels says, by run, how many objects each model classified in a run whose model
	// was switched while it ran (its recorded model is the one at its end).
	RunModels map[int64]string
	// Pack names the pack that counted the sample (its last run's), and PackLimits what
	// that pack says it was not shown to do (inference.Manifest.Limits: the check to
	// make, then why), said beside a level raised as screen and the app's banner say it
	// ("" when the pack says nothing or is not known here).
	Pack, PackLimits string
}

// RuleStatus is one rule and where the sample stands against it.
type RuleStatus struct {
	Rule alerts.Rule
	// Level is the rule's level on the whole sample: all its runs together, the final
	// figures of Value.
	Level alerts.Level
	// Peak is the highest level the rule raised during the runs, each on the frames
	// screened so far (a run alone can go higher than the whole sample); None when the
	// runs were screened under other rules.
	Peak alerts.Level
	// Value is the sample's count of objects of the rule's taxa and, as the rule
	// compares it, its concentration in cells: scaled by Cells/Count when the objects
	// hold more cells than one each (colonies, filaments, chains; an estimate).
	Value screening.Concentration
	Cells float64 // cells estimated in the Count objects (0: one cell each)
	// Oversize is the part of Cells in objects over a tenth of their frame that could
	// not be split (a mat, or debris taken for one); Uncalibrated, how many of the
	// objects had their cells guessed from their shape alone (no calibration).
	Oversize     float64
	Uncalibrated int
	// CellsUnknown counts the objects of a multi-cell unit whose cells could not be
	// estimated (alerts.Measure.CellsUnknown): below every level, the rule is not
	// checked.
	CellsUnknown int
	// Guessed, GuessedCells and IfGuessed are what the review of the unidentified
	// objects the model guessed as the rule's taxa could make of it
	// (alerts.Measure.IfGuessed).
	Guessed      int
	GuessedCells float64
	IfGuessed    *alerts.Measure
}

// Unchecked reports whether the sample cannot say the rule is below its levels
// (alerts.State.Unchecked): no level reached, and some of its objects' cells unknown,
// or none counted in a volume where one would reach its first level.
func (s RuleStatus) Unchecked() bool { return s.state().Unchecked() }

// state is the rule's standing as the alerts package judges it.
func (s RuleStatus) state() alerts.State {
	r := s.Rule
	return r.StateAt(s.Level, alerts.Measure{Count: s.Value.Count, PerL: s.Value.PerL, Limit: s.Value.Limit, CellsUnknown: s.CellsUnknown,
		Guessed: s.Guessed, GuessedCells: s.GuessedCells, IfGuessed: s.IfGuessed})
}

// Example is a few crops of one taxon.
type Example struct {
	Label, Name string
	Crops       [][]byte // PNG
}

// Level is the sample's standing: the highest level any rule gives the whole sample.
func (d Data) Level() alerts.Level {
	l := alerts.None
	for _, r := range d.Rules {
		l = max(l, r.Level)
	}
	return l
}

// Unchecked names the rules the sample cannot say it is below (RuleStatus.Unchecked),
// when no level was reached: the one-line standing a caller prints beside the report.
func (d Data) Unchecked() []string {
	if d.Level() != alerts.None {
		return nil
	}
	var out []string
	for _, r := range d.Rules {
		if r.Unchecked() {
			out = append(out, r.Rule.Name())
		}
	}
	return out
}

// ReviewDecides names the rules the review of the unidentified objects would raise were
// they what the model guessed, with the level: "Cyanobacteria could reach WATCH".
func (d Data) ReviewDecides() []string {
	var out []string
	for _, r := range d.Rules {
		if to := r.state().ReviewTo; to != alerts.None {
			out = append(out, fmt.Sprintf("%s could reach %s", r.Rule.Name(), levelWord(to)))
		}
	}
	return out
}

// higherInRuns lists the rules that raised a higher level during the runs than they
// give the whole sample.
func (d Data) higherInRuns() []string {
	var out []string
	for _, r := range d.Rules {
		if r.Peak > r.Level {
			out = append(out, fmt.Sprintf("%s reached %s", r.Rule.Name(), levelWord(r.Peak)))
		}
	}
	return out
}

const (
	pageW, margin = 210.0, 15.0
	textW         = pageW - 2*margin
	lineH         = 5.0
)

// WritePDF writes the report to w as an A4 PDF.
func WritePDF(w io.Writer, d Data) error {
	pdf := newPDF()
	pdf.SetMargins(margin, margin, margin)
	pdf.SetAutoPageBreak(true, margin)
	pdf.SetCreationDate(d.Generated)
	pdf.SetModificationDate(d.Generated)
	si := d.Counts.Sample
	d.Zone = zoneOr(d.Zone)
	pdf.SetTitle("Screening report, sample "+si.ID, true)
	pdf.SetCreator("phytoscreen "+d.Version, true)
	pdf.AliasNbPages("{nb}")
	r := newWriter(pdf)
	pdf.SetFooterFunc(func() {
		pdf.SetY(-12)
		r.font("", 8)
		pdf.SetTextColor(110, 110, 110)
		pdf.CellFormat(textW/2, 4, fmt.Sprintf("phytoscreen %s, %s", d.Version, stamp(d.Generated, d.Zone)), "", 0, "L", false, 0, "")
		pdf.CellFormat(textW/2, 4, fmt.Sprintf("sample %s, page %d of {nb}", si.ID, pdf.PageNo()), "", 0, "R", false, 0, "")
		pdf.SetTextColor(0, 0, 0)
	})
	pdf.AddPage()
	r.title(d)
	r.banner(d)
	r.metadata(d)
	r.groups(d)
	r.taxa(d)
	r.alertEvents(d)
	r.examples(d)
	r.cost(d)
	r.notes(d)
	if err := pdf.Error(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return pdf.Output(w)
}

// writer holds the document.
type writer struct {
	pdf textPDF
}

// reportFont is the family the reports are set in: DejaVu Sans Condensed, embedded
// (assets/fonts). PDF's built-in Helvetica reads Windows-1252 alone, and a site named
// Gdańsk, a Greek note or a typed ✓ came out as dots (helper-77).
const reportFont = "DejaVu"

// newWriter registers the report font's three styles with pdf.
func newWriter(pdf textPDF) *writer {
	pdf.AddUTF8FontFromBytes(reportFont, "", assets.ReportFontRegular)
	pdf.AddUTF8FontFromBytes(reportFont, "B", assets.ReportFontBold)
	pdf.AddUTF8FontFromBytes(reportFont, "I", assets.ReportFontOblique)
	return &writer{pdf: pdf}
}

func (r *writer) font(style string, size float64) { r.pdf.SetFont(reportFont, style, size) }

// fit clips s to w mm in the current font, ending it with "..." when cut.
func (r *writer) fit(s string, w float64) string {
	w -= 2 // the cell's padding
	if r.pdf.GetStringWidth(s) <= w {
		return s
	}
	rs := []rune(s)
	for len(rs) > 1 && r.pdf.GetStringWidth(string(rs)+"...") > w {
		rs = rs[:len(rs)-1]
	}
	return strings.TrimSpace(string(rs)) + "..."
}

func (r *writer) heading(s string) { r.headingWithRoom(s, 0) }

// headingWithRoom is heading for a section whose first block needs room mm below it:
// the heading goes to the next page with it rather than end a page alone (helper-38:
// "Examples" at the foot of page 1, its crops on page 2).
func (r *writer) headingWithRoom(s string, room float64) {
	r.pdf.Ln(3)
	if y := r.pdf.GetY(); y > 250 || y+7+1.5+room > 297-margin { // a heading never ends a page alone
		r.pdf.AddPage()
	}
	r.font("B", 12)
	r.pdf.CellFormat(textW, 7, s, "B", 1, "L", false, 0, "")
	r.pdf.Ln(1.5)
	r.font("", 9)
}

func (r *writer) title(d Data) {
	si := d.Counts.Sample
	r.font("B", 17)
	r.pdf.CellFormat(textW, 9, "Phytoplankton screening report", "", 1, "L", false, 0, "")
	r.font("", 12)
	site := ""
	if si.Site != "" {
		site = " - " + si.Site
	}
	r.pdf.CellFormat(textW, 7, "Sample "+si.ID+site, "", 1, "L", false, 0, "")
	r.pdf.Ln(2)
}

// levelColour is the colour a level is shown in: red, amber, green.
func levelColour(l alerts.Level) (int, int, int) {
	switch l {
	case alerts.Alert:
		return 196, 40, 40
	case alerts.Watch:
		return 226, 150, 20
	}
	return 46, 139, 87
}

// ruleLevelText is the Level column of a rule: "unchecked" where its cells were unknown.
func ruleLevelText(s RuleStatus) string {
	if s.Unchecked() {
		return "unchecked"
	}
	return levelShort(s.Level)
}

func levelWord(l alerts.Level) string {
	if l == alerts.None {
		return "below trigger levels"
	}
	return levelShort(l)
}

// unchecked names the rules that could not be checked (RuleStatus.Unchecked) and why;
// "" when every rule was.
func (d Data) unchecked() string {
	var names, few []string
	n := 0
	for _, s := range d.Rules {
		switch {
		case !s.Unchecked():
		case s.CellsUnknown > 0:
			names = append(names, s.Rule.Name())
			n = max(n, s.CellsUnknown)
		default:
			few = append(few, s.state().TooLittleText(perL))
		}
	}
	var out []string
	if len(names) > 0 {
		out = append(out, fmt.Sprintf("in cells: %s. Their levels are in cells, and %d colonies, filaments or chains had no size to estimate their cells from (single-cell images): counted one cell each, they are a lower bound", strings.Join(names, ", "), n))
	}
	if len(few) > 0 {
		out = append(out, "where too little was examined: "+strings.Join(few, "; ")+". None counted in so little does not show the water below the level: examine more volume")
	}
	return strings.Join(out, "; ")
}

// closest says how near the rule nearest its next level came (alerts.ClosestText), on
// the whole sample's figures; "" when no rule has a level in numbers.
func (d Data) closest() string {
	var states []alerts.State
	for _, s := range d.Rules {
		st := alerts.State{Taxon: s.Rule.Name(), Level: s.Level, Value: alerts.Measure{PerL: s.Value.PerL}}
		st.NextLevel, st.Next = s.Rule.NextLevel(s.Level)
		states = append(states, st)
	}
	return alerts.ClosestText(states, perL)
}

// banner is the one line a manager reads: the highest level, what raised it, and what
// the sample cannot say.
func (r *writer) banner(d Data) {
	peak := d.Level()
	cr, cg, cb := levelColour(peak)
	r.pdf.SetFillColor(cr, cg, cb)
	r.pdf.SetTextColor(255, 255, 255)
	r.font("B", 13)
	var text string
	unchecked := d.unchecked()
	switch {
	case len(d.Rules) == 0:
		r.pdf.SetFillColor(110, 110, 110)
		text = "No alert rule applies to this pack: the sample was not checked against trigger levels"
	case peak == alerts.None && unchecked != "":
		// Colonies counted one cell each are a lower bound, and none counted where one
		// would reach the level shows nothing: below them is not below.
		r.pdf.SetFillColor(110, 110, 110)
		text = "Not checked " + unchecked
	case peak == alerts.None && len(d.ReviewDecides()) > 0:
		// Below a level only because the objects that would reach it wait for review:
		// not "below its trigger levels" (helper-77: the headline said so above the line
		// saying the review decides).
		r.pdf.SetFillColor(196, 150, 30)
		text = "No alert until reviewed: " + strings.Join(d.ReviewDecides(), "; ") + " were the unidentified objects what the model guessed"
	case peak == alerts.None:
		text = "No alert: every watched HAB group below its trigger levels"
		if c := d.closest(); c != "" {
			text += "; nearest: " + c
		}
	default:
		var who []string
		for _, s := range d.Rules {
			if s.Level == peak {
				who = append(who, s.Rule.Name())
			}
		}
		text = fmt.Sprintf("%s: %s", levelWord(peak), strings.Join(who, ", "))
		if rd := d.ReviewDecides(); len(rd) > 0 {
			text += "; review decides: " + strings.Join(rd, "; ")
		}
	}
	r.pdf.MultiCell(textW, 8, text, "", "L", true)
	r.pdf.SetTextColor(0, 0, 0)
	if peak > alerts.None && d.PackLimits != "" {
		// The filed report said the level without the pack's own warning, which screen
		// and the app's banner give beside it (helper-84).
		r.pdf.SetFillColor(250, 236, 200)
		r.font("B", 9)
		r.pdf.MultiCell(textW, lineH, endSentence("CHECK: pack "+d.Pack+": "+d.PackLimits), "", "L", true)
	}
	if higher := d.higherInRuns(); len(higher) > 0 {
		// A run alone can cross a level the whole sample does not: both are true, and
		// the banner is the sample's.
		r.pdf.SetFillColor(250, 236, 200)
		r.font("", 9)
		r.pdf.MultiCell(textW, lineH, "During the runs, "+strings.Join(higher, "; ")+
			" on the frames screened so far; on the whole sample (all runs together) it stands as above. See Alerts raised.", "", "L", true)
	}
	if len(d.CannotSee) > 0 {
		r.pdf.SetFillColor(250, 236, 200)
		r.font("", 9)
		r.pdf.MultiCell(textW, lineH, endSentence("Cannot see with this pack: "+strings.Join(d.CannotSee, ", "))+
			" The rules watch for these taxa but the model cannot recognise them; this sample says nothing about them.", "", "L", true)
	}
	if partial := PartialRuns(d.Counts.Sample); partial != "" {
		r.pdf.SetFillColor(250, 236, 200)
		r.font("", 9)
		r.pdf.MultiCell(textW, lineH, partial, "", "L", true)
	}
	r.pdf.Ln(2)
}

// PartialRuns says which runs of a sample examined only part of the volume given (a run
// stopped early, killed, or short of readable frames): the report and History say it.
// Empty when every run was whole.
func PartialRuns(si store.SampleInfo) string {
	var parts []string
	// Numbered as the report's Sample table numbers runs ("Run 2 of 2"): the store's
	// numbers read "run 9", "run 10" of a sample's two (helper-86).
	which := func(i int) string {
		if len(si.Runs) == 1 {
			return "the run"
		}
		return fmt.Sprintf("run %d of %d", i+1, len(si.Runs))
	}
	for i, run := range si.Runs {
		if !run.Partial() {
			continue
		}
		// A run another went on from was given its part of the source, not a volume
		// anyone entered, and its "stopped" was no loss: "run 1 of 2 examined 0.279 of the
		// 0.304 mL given (stopped; ...)" read as a third volume and a run cut short
		// (helper-93).
		if j := slices.IndexFunc(si.Runs, func(r store.RunRow) bool { return r.Continues == run.ID }); j > i {
			why := partialWhy(run, true)
			parts = append(parts, fmt.Sprintf("%s examined %s of the %s mL in the part of the source it read (run %d went on from there)%s",
				which(i), num(run.VolumeML, 3), num(run.VolumeGiven, 3), j+1, map[bool]string{true: "", false: ": " + why}[why == ""]))
			continue
		}
		parts = append(parts, fmt.Sprintf("%s examined %s of the %s mL given (%s)", which(i), num(run.VolumeML, 3), num(run.VolumeGiven, 3), partialWhy(run, false)))
	}
	if len(parts) == 0 {
		return ""
	}
	return "Partial: " + strings.Join(parts, "; ") + ". Concentrations are on the volume examined."
}

// partialWhy says why a run examined part of its volume: "(done)" said nothing of the
// unreadable file behind it (helper-62).
// continued leaves out the run's own stop: a later run went on from it.
func partialWhy(run store.RunRow, continued bool) string {
	var why []string
	if run.Status != "done" && !continued {
		why = append(why, run.Status) // stopped, cut off: the run's own word
	}
	if run.FilesSkipped > 0 {
		why = append(why, fmt.Sprintf("%d file%s could not be read", run.FilesSkipped, map[bool]string{true: "", false: "s"}[run.FilesSkipped == 1]))
	}
	frames := func(n int) string { return fmt.Sprintf("%d frame%s", n, map[bool]string{true: "", false: "s"}[n == 1]) }
	if n := run.FramesCrowded; n > 0 {
		why = append(why, frames(n)+" too crowded to segment: dilute the sample and screen it again")
	}
	if n := run.FramesBlank; n > 0 {
		why = append(why, frames(n)+" blank: the lamp off or saturated")
	}
	if n := run.FramesFailed - run.FramesCrowded - run.FramesBlank; n > 0 {
		why = append(why, frames(n)+" could not be segmented")
	}
	if len(why) == 0 && !continued {
		return run.Status
	}
	return strings.Join(why, "; ")
}

// endSentence ends s with a full stop, unless it ends with one already: a taxon list
// ending "Oscillatoria spp." read "spp.." (helper-66).
func endSentence(s string) string {
	if strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
}

func (r *writer) metadata(d Data) {
	si := d.Counts.Sample
	r.heading("Sample")
	pos := "not recorded"
	if si.HasPosition() {
		pos = fmt.Sprintf("%.5f, %.5f", si.Lat, si.Lon)
	}
	depth := "not recorded"
	if si.HasDepth() {
		depth = num(si.DepthM, 4) + " m below the surface"
	}
	factor := num(si.Factor, 4)
	switch {
	case si.Factor > 1:
		factor += " (diluted " + num(si.Factor, 4) + "-fold before counting)"
	case si.Factor < 1:
		factor += " (concentrated " + num(1/si.Factor, 4) + "-fold before counting)"
	default:
		factor += " (examined as taken)"
	}
	reviewers := "none: labels are the model's"
	if len(d.Reviewers) > 0 {
		objects := "objects"
		if d.Validated == 1 {
			objects = "object"
		}
		reviewers = fmt.Sprintf("%s (%d %s validated)", strings.Join(d.Reviewers, ", "), d.Validated, objects)
	}
	rows := [][2]string{
		{"Sample ID", si.ID},
		{"Site", orDash(si.Site)},
		{"Taken", stamp(si.Taken, d.Zone)},
		{"Analyst", orDash(si.Analyst)}, // who screened it: a report is signed by someone
		{"Position", pos},
		{"Depth", depth}, // entered and stored, left out of the report (helper-69)
		{"Volume examined", num(si.VolumeML, 4) + " mL"},
		{"Dilution factor", factor},
		// What one object counted stands for: the least the sample can show, for a
		// reader to weigh a count of none or of one (helper-76: said nowhere but JSON).
		{"Detection limit", perL(si.PerLFactor()) + " cells/L: one object counted in the volume examined, with the factor"},
		{"Notes", orDash(si.Notes)},
		{"Alert rules", rulesRow(d)},
		{"Reviewed by", reviewers},
	}
	for i, run := range si.Runs {
		model := run.Model
		if mix := d.RunModels[run.ID]; mix != "" {
			model += " at the end (" + mix + ")"
		}
		// Numbered in the sample, the store's ID beside: "Run 5" of a sample of one run
		// read as its fifth (helper-52).
		rows = append(rows, [2]string{fmt.Sprintf("Run %d of %d", i+1, len(si.Runs)), fmt.Sprintf("%s; pack %s, model %s, threshold %s; %d frames; %s (run ID %d in the store)",
			run.Spec, run.Pack, model, num(run.Threshold, 3), run.FramesSeen, run.Status, run.ID)})
	}
	for _, kv := range rows {
		r.font("B", 9)
		r.pdf.CellFormat(38, lineH, kv[0], "", 0, "L", false, 0, "")
		r.font("", 9)
		r.pdf.MultiCell(textW-38, lineH, kv[1], "", "L", false)
	}
}

// table draws a header row and rows; widths in mm, aligns per column; colour, when
// set, fills a row's last cell with a level's colour.
func (r *writer) table(head []string, widths []float64, aligns string, rows [][]string, level []alerts.Level) {
	r.font("B", tableSize)
	r.pdf.SetFillColor(230, 234, 240)
	for i, h := range head {
		r.pdf.CellFormat(widths[i], 6, r.cell(h, "B", widths[i]), "1", 0, string(aligns[i]), true, 0, "")
	}
	r.pdf.Ln(-1)
	r.font("", tableSize)
	for j, row := range rows {
		for i, c := range row {
			style := ""
			fill := false
			if level != nil && i == len(row)-1 && level[j] > alerts.None {
				cr, cg, cb := levelColour(level[j])
				r.pdf.SetFillColor(cr, cg, cb)
				r.pdf.SetTextColor(255, 255, 255)
				style, fill = "B", true
			}
			r.pdf.CellFormat(widths[i], 5.5, r.cell(c, style, widths[i]), "1", 0, string(aligns[i]), fill, 0, "")
			if fill {
				r.pdf.SetTextColor(0, 0, 0)
			}
		}
		r.font("", tableSize)
		r.pdf.Ln(-1)
	}
}

// tableSize is the font size of the tables' text.
const tableSize = 8.5

// cell sets the font for s in a table column w mm wide, in style, and returns the text
// to write: s set smaller where it is too wide (sizeToFit), cut only where even that is.
func (r *writer) cell(s, style string, w float64) string {
	r.font(style, r.sizeToFit(s, style, w, tableSize))
	return r.fit(s, w)
}

// cellText is what a table writes for s in a column w mm wide: a name it cuts is written
// out in full under the table.
func (r *writer) cellText(s string, w float64) string {
	t := r.cell(s, "", w)
	r.font("", tableSize)
	return t
}

// sizeToFit is the font size, size or smaller (down to three quarters of it), at which
// s fits a cell w mm wide: a long figure ("1,234,567,890") or a level ("unchecked")
// ran over its column's border into the next one (helper-77). What does not fit even
// then is cut by fit.
func (r *writer) sizeToFit(s, style string, w, size float64) float64 {
	r.font(style, size)
	have := r.pdf.GetStringWidth(s)
	if room := w - 2; have > room && have > 0 { // 2: the cell's padding
		return max(0.75*size, size*room/have)
	}
	return size
}

// rulesRow is the summary's "Alert rules": the rules compared with, and the runs'
// when they were screened under others (a report asked for with --rules said only the
// rules asked for, helper-52).
func rulesRow(d Data) string {
	if d.RunRules == "" {
		return orDash(d.RulesName)
	}
	return orDash(d.RulesName) + " (screened with " + d.RunRules + ")"
}

// groups compares each watched group with its trigger levels.
func (r *writer) groups(d Data) {
	r.heading("HAB groups against their trigger levels")
	if len(d.Rules) == 0 {
		text := "No rule of " + orDash(d.RulesName) + " names a taxon this pack recognises."
		if len(d.Apply) > 0 {
			// A farm manager read "no rule" over a sample at 114 M cells/L of
			// cyanobacteria screened under the marine defaults (helper-52).
			text += " Rules for its taxa: preset " + strings.Join(d.Apply, ", preset ") + " (phytoscreen report --rules " + d.Apply[0] + ")."
		}
		r.pdf.MultiCell(textW, lineH, text, "", "L", false)
		return
	}
	var rows [][]string
	var levels []alerts.Level
	for _, s := range d.Rules {
		v := s.Value
		cells := "-"
		if s.Cells > 0 {
			cells = "~" + perL(s.Cells)
		}
		rows = append(rows, []string{s.Rule.Name(), strconv.Itoa(v.Count), cells, perL(v.PerL), interval(v.Low, v.High),
			threshold(s.Rule.Watch), threshold(s.Rule.Alert), ruleLevelText(s)})
		levels = append(levels, s.Level)
	}
	r.table([]string{"Group / taxa", "Objects", "Cells est.", "Cells/L", "95% interval", "Watch at", "Alert at", "Level"},
		[]float64{44, 14, 18, 20, 34, 18, 18, 14}, "LRRRRRRC", rows, levels)
	// A name cut to its column is written out in full under the table: the rule says
	// what it sums (helper-38 read "Cyanobacteria + Microcysti...").
	for _, s := range d.Rules {
		if name := s.Rule.Name(); r.cellText(name, 44) != name {
			r.font("", 8.5)
			r.pdf.MultiCell(textW, lineH, r.cellText(name, 44)+" = "+name, "", "L", false)
		}
	}
	// What the cells estimates rest on, where a level may hang on them: the summary of
	// `screen` says it, and so does the report.
	var caveats []string
	for _, s := range d.Rules {
		if s.Unchecked() && s.CellsUnknown == 0 && d.Level() != alerts.None {
			// Beside a level raised the banner names that one: the rule whose row reads
			// "unchecked" for want of volume is said here (helper-74).
			caveats = append(caveats, fmt.Sprintf("%s: not checked: %s.", s.Rule.Name(), s.state().UncheckedWhy(perL)))
		}
		if s.Unchecked() && s.CellsUnknown > 0 {
			caveats = append(caveats, fmt.Sprintf("%s: not checked. Its levels are in cells, and its %d colonies, chains or filaments had no size to estimate their cells from (single-cell images); counted one cell each, %s cells/L is a lower bound. Screen whole frames, with the µm per pixel, to check it.",
				s.Rule.Name(), s.CellsUnknown, perL(s.Value.PerL)))
		}
		if text := s.state().ReviewText(perL); text != "" {
			// Below a level only because the objects that would reach it wait for
			// review: the review decides, as the screen summary says.
			caveats = append(caveats, fmt.Sprintf("Review decides: %s. Review them before reading the sample as below it.", text))
		}
		if s.Cells <= 0 {
			continue
		}
		if s.Oversize > 0 {
			without := s.Value.PerL * (s.Cells - s.Oversize) / s.Cells
			level := "no level"
			if l := s.Rule.LevelOf(alerts.Measure{Count: s.Value.Count, PerL: without, Cells: s.Cells - s.Oversize}); l != alerts.None {
				level = levelWord(l)
			}
			caveats = append(caveats, fmt.Sprintf("%s: about %s of its ~%s cells are in objects over a tenth of their frame that could not be split (a mat of cells, or debris taken for one); without them %s cells/L, %s. Check those frames (objects export: oversize) before acting.",
				s.Rule.Name(), perL(s.Oversize), perL(s.Cells), perL(without), level))
		}
		if s.Uncalibrated > 0 {
			caveats = append(caveats, fmt.Sprintf("%s: the cells of %d of its colonies, chains or filaments were guessed from their shape alone (frames not calibrated: one a colony when no cells show in it), not from their size.",
				s.Rule.Name(), s.Uncalibrated))
		}
	}
	if len(caveats) > 0 {
		r.pdf.SetFillColor(250, 236, 200)
		r.font("", 8.5)
		r.pdf.MultiCell(textW, lineH, strings.Join(caveats, "\n"), "", "L", true)
	}
	r.pdf.Ln(1)
	r.font("I", 7.5)
	var srcs []string // each source once, with the rules that take it
	bySrc := map[string][]string{}
	for _, s := range d.Rules {
		src := s.Rule.Source
		if !s.Rule.Verified && !strings.Contains(src, "not a regulatory") {
			src += " (not a verified regulatory value)"
		}
		if bySrc[src] == nil {
			srcs = append(srcs, src)
		}
		bySrc[src] = append(bySrc[src], s.Rule.Name())
	}
	for i, src := range srcs {
		srcs[i] = strings.Join(bySrc[src], ", ") + ": " + src
	}
	r.pdf.MultiCell(textW, 4, "Sources of the trigger levels: "+strings.Join(srcs, "; ")+
		". Objects are cells, colonies, chains or filaments; where they hold more cells than one, the cells are estimated (from their size on calibrated frames) and the concentration is in cells, as the trigger levels are. The interval is the exact Poisson 95% interval of the objects, scaled alike.", "", "L", false)
	r.font("", 9)
}

func (r *writer) taxa(d Data) {
	c := d.Counts
	r.heading("Taxa counted")
	// The members of HAB groups first, every one of them, then the other taxa, most
	// numerous first, up to 20 rows in all: cut at 20 by count, the table dropped a
	// diatom chain and a Trichodesmium and kept Artifact and Detritus (helper-41).
	shown := slices.Clone(c.Taxa)
	// A group's members together, the groups in their order of name (helper-42: sorted
	// by count alone, the groups were interleaved).
	slices.SortStableFunc(shown, func(a, b store.TaxonCount) int {
		return cmp.Or(cmp.Compare(boolRank(a.Group == ""), boolRank(b.Group == "")), strings.Compare(a.GroupName, b.GroupName), strings.Compare(a.Group, b.Group))
	})
	const most = 20
	var rows [][]string
	for i, x := range shown {
		if i >= most && x.Group == "" {
			rows = append(rows, []string{fmt.Sprintf("... and %d more taxa, none in a HAB group (see the CSV export)", len(shown)-i), "", "", "", "", ""})
			break
		}
		val := ""
		if x.Validated > 0 {
			val = strconv.Itoa(x.Validated)
		}
		rows = append(rows, []string{x.Name, orDash(x.Unit), strconv.Itoa(x.Count), perL(x.PerL), interval(x.Low, x.High), val})
	}
	u := c.Unidentified
	rows = append(rows, []string{"Unidentified (below the threshold, to review)", "cell", strconv.Itoa(u.Count), perL(u.PerL), interval(u.Low, u.High), ""})
	r.table([]string{"Taxon", "Unit", "Count", "Per L", "95% interval", "Validated"}, []float64{70, 18, 16, 24, 36, 16}, "LLRRRR", rows, nil)
}

// boolRank orders false before true.
func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (r *writer) alertEvents(d Data) {
	var raised []alerts.Event
	for _, e := range d.Events {
		if e.Raised() {
			raised = append(raised, e)
		}
	}
	if len(raised) == 0 {
		return
	}
	r.heading("Alerts raised during the runs")
	if d.RunRules != "" {
		// Raised under the rules screened with, not those the tables above compare with.
		r.font("I", 8.5)
		r.pdf.MultiCell(textW, lineH, "Under "+d.RunRules+", the rules the runs were screened with.", "", "L", false)
	}
	for _, e := range raised {
		val := fmt.Sprintf("%s cells/L (%d counted, 95%% interval %s - %s)", perL(e.Value.PerL), e.Value.Count, perL(e.Value.Low), perL(e.Value.High))
		if e.Value.Cells > 0 {
			val = fmt.Sprintf("%s cells/L estimated from %d objects holding about %s cells", perL(e.Value.PerL), e.Value.Count, perL(e.Value.Cells))
		}
		if e.Value.Provisional { // raised while the frames were read: on the volume read then
			val += " in the frames read by then"
		}
		th := "present"
		if !e.Threshold.Presence {
			th = "reached " + perL(e.Threshold.CellsPerL()) + " cells/L"
			if e.Threshold.Above {
				th = "over " + perL(e.Threshold.CellsPerL()) + " cells/L"
			}
		}
		cr, cg, cb := levelColour(e.To)
		r.pdf.SetTextColor(cr, cg, cb)
		r.font("B", 9)
		r.pdf.CellFormat(16, lineH, levelShort(e.To), "", 0, "L", false, 0, "")
		r.pdf.SetTextColor(0, 0, 0)
		r.font("", 9)
		// The figures are those when the level was reached, which the sample's final
		// ones in the table above may have outgrown: said so, so the two are not read
		// as a contradiction.
		// With its date and zone: "at 22:12:34" was UTC beside a run at 23:12 CET, and
		// a run past midnight raised alerts on two dates.
		line := fmt.Sprintf("%s at %s, when raised: %s, %s. Source: %s", e.Taxon, e.Time.In(d.Zone).Format("2006-01-02 15:04:05 MST"), val, th, e.Source)
		if !e.Verified && !strings.Contains(e.Source, "not a regulatory") {
			line += " (not a verified regulatory value)"
		}
		r.pdf.MultiCell(textW-16, lineH, line, "", "L", false)
	}
}

// examples shows up to six crops of each example taxon, 22 mm each.
func (r *writer) examples(d Data) {
	if len(d.Examples) == 0 {
		return
	}
	const size, gap = 22.0, 3.0
	r.headingWithRoom("Examples", size+12) // the room each example asks below
	for i, ex := range d.Examples {
		if r.pdf.GetY() > 297-margin-size-12 {
			r.pdf.AddPage()
		}
		r.font("B", 9)
		r.pdf.CellFormat(textW, lineH, ex.Name, "", 1, "L", false, 0, "")
		y := r.pdf.GetY()
		for j, crop := range ex.Crops {
			name := fmt.Sprintf("ex%d-%d", i, j)
			w, h := pngSize(crop)
			if w == 0 {
				continue
			}
			opt := fpdf.ImageOptions{ImageType: "PNG"}
			r.pdf.RegisterImageOptionsReader(name, opt, bytes.NewReader(crop))
			dw, dh := size, size*float64(h)/float64(w)
			if h > w {
				dw, dh = size*float64(w)/float64(h), size
			}
			x := margin + float64(j)*(size+gap)
			r.pdf.ImageOptions(name, x+(size-dw)/2, y+(size-dh)/2, dw, dh, false, opt, 0, "")
			r.pdf.Rect(x, y, size, size, "D")
		}
		r.pdf.SetY(y + size + 2)
	}
}

func pngSize(b []byte) (int, int) {
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return 0, 0
	}
	return cfg.Width, cfg.Height
}

// cost reports what classifying cost, per run and model.
func (r *writer) cost(d Data) {
	if len(d.Energy) == 0 {
		return
	}
	r.heading("What the screening cost on this machine")
	// Runs are numbered as the Sample table numbers them ("Run 1 of 1"), not by their
	// ID in the store: the table said "Run 2" of a sample's only run (helper-84).
	ordinal := map[int64]string{}
	for i, run := range d.Counts.Sample.Runs {
		ordinal[run.ID] = strconv.Itoa(i + 1)
	}
	var rows [][]string
	short := false
	for _, e := range d.Energy {
		src := measuredBy(e.Source, e.Estimated)
		short = short || e.Classified > e.Cells
		run, ok := ordinal[e.Run]
		if !ok {
			run = "ID " + strconv.FormatInt(e.Run, 10)
		}
		rows = append(rows, []string{run, e.Model, e.CellsText(), fmt.Sprintf("%.1f s", e.Measured.Seconds()),
			fmt.Sprintf("%.1f J", e.Joules), fmt.Sprintf("%.3f J", e.JoulesPerCell()), src})
	}
	r.table([]string{"Run", "Model", "Cells", "Time", "Energy", "Per cell", "Measured by"}, []float64{12, 22, 16, 18, 20, 20, 72}, "RLRRRRL", rows, nil)
	if short {
		r.font("I", 7.5)
		r.pdf.MultiCell(textW, lineH, "Cells \"N of M\": the power record covers N of the M objects the run classified with that model (a run cut off loses the span it was measuring; a span closed after a model switch is charged to the model then in use); the energy per cell is over the N it covers.", "", "L", false)
	}
}

// measuredBy says how a run's energy was had, for a reader: a sensor's ID
// ("rapl:package-0"), or for an estimate how it was made ("estimate:cpu-time (estimate)"
// said the source's ID and then the word again, helper-56).
func measuredBy(source string, estimated bool) string {
	switch {
	case source == "estimate:cpu-time":
		return "estimate from CPU time"
	case estimated && strings.HasPrefix(source, "estimate:"):
		return "estimate (" + strings.TrimPrefix(source, "estimate:") + ")"
	case estimated:
		return source + " (estimate)"
	}
	return source
}

func (r *writer) notes(d Data) {
	r.pdf.Ln(4)
	r.font("I", 7.5)
	r.pdf.SetTextColor(90, 90, 90)
	r.pdf.MultiCell(textW, 3.8, "Screening by phytoscreen: "+foundBy(d.Counts.Sample.Runs)+" and named by a neural network; "+
		"labels below the confidence threshold count as unidentified until a person reviews them. This is a screening result: "+
		"confirm any alert by an accredited count before regulatory action.", "", "L", false)
	r.pdf.SetTextColor(0, 0, 0)
}

// foundBy says how the runs found their objects, for the report's note: a folder of
// single-cell images is not segmented (the note said "found by image segmentation" of
// one, helper-84).
func foundBy(runs []store.RunRow) string {
	cellImages := 0
	for _, run := range runs {
		if run.Finder == vision.FinderCellImages {
			cellImages++
		}
	}
	switch {
	case cellImages > 0 && cellImages == len(runs):
		return "each image of a folder of single-cell images taken as one cell"
	case cellImages > 0:
		return "cells found by image segmentation (in the runs of single-cell images, each image taken as one cell)"
	}
	return "cells found by image segmentation"
}

func threshold(t *alerts.Threshold) string {
	switch {
	case t == nil:
		return "-"
	case t.Presence:
		return "presence"
	}
	return t.Marked(perL(t.CellsPerL()))
}

func levelShort(l alerts.Level) string {
	switch l {
	case alerts.Alert:
		return "ALERT"
	case alerts.Watch:
		return "WATCH"
	}
	return "-"
}

// perL formats cells per litre with thousands separators, in millions with two decimals
// from a million, in whole millions with separators from a thousand million ("1,276 M",
// not "1276.00 M": helper-70).
func perL(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "?"
	case v >= 1e9:
		return grouped(v/1e6) + " M"
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', 2, 64) + " M"
	case v > 0 && v < sigfig.Below: // 0.014, not 0: a rounded zero reads as none found
		return sigfig.Plain(v, 3)
	}
	return grouped(v)
}

// interval writes a 95% interval in one style: both bounds in millions when the upper is
// and the lower is at least 0.01 M ("[0.73 M - 3.73 M]"), as perL writes each otherwise. "[727,714 - 3.73 M]" read as two
// kinds of figure (helper-81).
func interval(lo, hi float64) string {
	if hi >= 1e6 && hi < 1e9 && lo >= 1e4 && lo < 1e6 { // a lower bound under 0.01 M keeps its digits
		return "[" + strconv.FormatFloat(lo/1e6, 'f', 2, 64) + " M - " + perL(hi) + "]"
	}
	return "[" + perL(lo) + " - " + perL(hi) + "]"
}

// grouped writes v rounded to a whole number with thousands separators.
func grouped(v float64) string {
	s := strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func num(v float64, digits int) string { return strconv.FormatFloat(v, 'g', digits, 64) }

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

// ExampleLabels picks whose crops a report shows: the labels of the rules that raised a
// level, else the commonest identified taxa; at most n.
func ExampleLabels(d Data, labelsOf func(alerts.Rule) []string, n int) []string {
	var out []string
	seen := map[string]bool{}
	add := func(l string) {
		if !seen[l] && len(out) < n {
			seen[l] = true
			out = append(out, l)
		}
	}
	rules := append([]RuleStatus(nil), d.Rules...)
	top := func(s RuleStatus) alerts.Level { return max(s.Level, s.Peak) }
	sort.SliceStable(rules, func(i, j int) bool { return top(rules[i]) > top(rules[j]) })
	for _, s := range rules { // the commonest taxa of the rules that raised a level first
		if top(s) == alerts.None {
			break
		}
		labels := labelsOf(s.Rule)
		for _, x := range d.Counts.Taxa {
			if slices.Contains(labels, x.Label) {
				add(x.Label)
			}
		}
	}
	for _, x := range d.Counts.Taxa {
		add(x.Label)
	}
	return out
}
