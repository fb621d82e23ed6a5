package report

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/labrec"
)

// WriteWeekPDF writes a monitoring programme's weekly report as an A4 PDF: what every
// bench screened in the week, site by site, with the HAB groups' concentrations and the
// alerts raised, read from the lab server. The figures are the benches' own tallies.
func WriteWeekPDF(w io.Writer, wr labrec.WeekReport, version string) error {
	if wr.Made.IsZero() {
		wr.Made = time.Now()
	}
	if wr.Zone == nil {
		wr.Zone = time.UTC // as labserver cut the week without one
	}
	pdf := newPDF()
	pdf.SetMargins(margin, margin, margin)
	pdf.SetAutoPageBreak(true, margin)
	pdf.SetCreationDate(wr.Made)
	pdf.SetModificationDate(wr.Made)
	pdf.SetTitle("Programme report, week "+wr.Week.String(), true)
	pdf.SetCreator("phytoscreen "+version, true)
	pdf.AliasNbPages("{nb}")
	r := newWriter(pdf)
	pdf.SetFooterFunc(func() {
		pdf.SetY(-12)
		r.font("", 8)
		pdf.SetTextColor(110, 110, 110)
		pdf.CellFormat(textW/2, 4, fmt.Sprintf("phytoscreen %s, %s", version, stamp(wr.Made, wr.Zone)), "", 0, "L", false, 0, "")
		pdf.CellFormat(textW/2, 4, fmt.Sprintf("week %s, page %d of {nb}", wr.Week, pdf.PageNo()), "", 0, "R", false, 0, "")
		pdf.SetTextColor(0, 0, 0)
	})
	pdf.AddPage()
	r.weekTitle(wr)
	r.weekBanner(wr)
	r.weekSites(wr)
	r.weekAlerts(wr)
	r.weekBenches(wr)
	if err := pdf.Error(); err != nil {
		return fmt.Errorf("programme report: %w", err)
	}
	return pdf.Output(w)
}

func (r *writer) weekTitle(wr labrec.WeekReport) {
	r.font("B", 17)
	r.pdf.CellFormat(textW, 9, "Monitoring programme: weekly report", "", 1, "L", false, 0, "")
	r.font("", 12)
	// The zone the week was cut in, named: its days run from midnight there.
	first, last := wr.Week.Start(), wr.Week.End().AddDate(0, 0, -1)
	from := first.Format("Monday 2 Jan")
	if first.Year() != last.Year() {
		from = first.Format("Monday 2 Jan 2006")
	}
	r.pdf.CellFormat(textW, 7, fmt.Sprintf("Week %s: %s to %s, %s", wr.Week, from, last.Format("Sunday 2 Jan 2006"), ZoneName(wr.Zone)), "", 1, "L", false, 0, "")
	r.font("", 9)
	r.pdf.CellFormat(textW, lineH, "Lab server: "+orDash(wr.Server), "", 1, "L", false, 0, "")
	r.pdf.Ln(2)
}

// sampleLevel is where a programme sample stands, for the report: its bench's standing
// on the final figures (labrec.Standing), the level and its word; from a bench that did
// not work it out, the highest level its runs raised while counting, marked with a star
// that the tables explain (notWorkedOut).
func sampleLevel(s labrec.ProgrammeSample) (alerts.Level, string) {
	if st := s.Standing; st != nil {
		if st.Level == labrec.NotChecked {
			return alerts.None, "not checked"
		}
		if st.Level == alerts.None.String() && st.Why != "" {
			return alerts.None, "review" // below only until its unidentified objects are reviewed (Standing.Why)
		}
		l := alerts.LevelNamed(st.Level)
		return l, levelShort(l)
	}
	l := alerts.LevelNamed(s.TopLevel)
	return l, levelShort(l) + " *"
}

// notWorkedOut is the footnote of a level marked with a star.
const notWorkedOut = "* The bench did not say where the sample stands on its final figures (an older phytoscreen, or its pack or rules not at hand): the highest level its runs raised while counting, which a review can change."

// weekBanner is the line a programme manager reads first: how much was screened and
// the highest level its samples stand at, with where (and which bench: two benches
// may give the same ID), and how many no rule could check.
func (r *writer) weekBanner(wr labrec.WeekReport) {
	sites, benches := map[string]bool{}, map[string]bool{}
	peak := alerts.None
	unchecked, review, reviewHigher := 0, 0, 0
	var where []string
	for _, s := range wr.Samples {
		sites[s.Site] = true
		benches[s.Bench] = true
		l, word := sampleLevel(s)
		peak = max(peak, l)
		switch {
		case word == "not checked":
			unchecked++
		case word == "review":
			review++
		case l > alerts.None && s.Standing != nil && s.Standing.Why != "":
			reviewHigher++ // raised, and the review could raise it further
		}
	}
	for _, s := range wr.Samples {
		if l, word := sampleLevel(s); l == peak && peak > alerts.None {
			w := fmt.Sprintf("%s (%s, %s)", orDash(s.Site), s.ID, orDash(s.BenchName))
			if strings.HasSuffix(word, "*") {
				w += " *" // raised while counting: its site's table says what the star means
			}
			where = append(where, w)
		}
	}
	cr, cg, cb := levelColour(peak)
	r.pdf.SetFillColor(cr, cg, cb)
	r.pdf.SetTextColor(255, 255, 255)
	r.font("B", 12)
	var text string
	all := fmt.Sprintf("%s from %s at %s", counted(len(wr.Samples), "sample"), counted(len(benches), "bench"), counted(len(sites), "site"))
	switch {
	case len(wr.Samples) == 0:
		r.pdf.SetFillColor(110, 110, 110)
		text = "No sample taken in this week reached the lab server"
	case peak == alerts.None && unchecked == len(wr.Samples):
		// Not an all-clear: no rule said where any of them stands (helper-70).
		r.pdf.SetFillColor(110, 110, 110)
		text = fmt.Sprintf("Not checked: %s, none shown against its rules (no rule for its pack, unknown cells, or too little examined: the notes under each site's table say which)", all)
	case peak == alerts.None && unchecked > 0:
		r.pdf.SetFillColor(110, 110, 110)
		text = fmt.Sprintf("No alert in the %s checked; %s not checked (the notes under each site's table say why); %s", counted(len(wr.Samples)-unchecked, "sample"), counted(unchecked, "sample"), all)
	case peak == alerts.None && review > 0:
		// Below the levels only until reviewed is not "all below" (helper-77).
		r.pdf.SetFillColor(196, 150, 30)
		text = fmt.Sprintf("No alert until reviewed: %s could reach a level once %s unidentified objects are reviewed (the notes under each site's table say which); %s",
			counted(review, "sample"), map[bool]string{true: "its", false: "their"}[review == 1], all)
	case peak == alerts.None:
		text = fmt.Sprintf("No alert: %s, all below trigger levels", all)
	default:
		text = fmt.Sprintf("%s at %s; %s", levelShort(peak), strings.Join(where, ", "), all)
		if unchecked > 0 {
			text += fmt.Sprintf("; %s not checked", counted(unchecked, "sample"))
		}
		if review+reviewHigher > 0 {
			text += fmt.Sprintf("; %s could reach a higher level once reviewed", counted(review+reviewHigher, "sample"))
		}
	}
	r.pdf.MultiCell(textW, 7, text, "", "L", true)
	r.pdf.SetTextColor(0, 0, 0)
	r.font("", 8.5)
	r.pdf.MultiCell(textW, 4.5, "Counts and concentrations are each bench's own tally (objects counted per taxon, "+
		"validated labels first), with 95% Poisson intervals; a sample's level is where its final figures stand against the "+
		"rules of its last run, as its bench's History and report say; samples deleted at their bench are left out.", "", "L", false)
	if len(wr.Deleted) > 0 {
		// Left out, and said: an ALERT vanished from the week without a word when its
		// sample was deleted at its bench (helper-76).
		var names []string
		for _, d := range wr.Deleted {
			level := "no alert"
			switch {
			case d.Level == labrec.NotChecked:
				level = "not checked"
			case d.Level != "" && d.Level != "none":
				level = strings.ToUpper(d.Level)
			case d.Level == "" && d.Raised != "":
				level = "raised " + strings.ToUpper(d.Raised) + " while counting"
			case d.Level == "":
				level = "level not known"
			}
			if d.Raised != "" && d.Level != "" && alerts.LevelNamed(d.Raised) > alerts.LevelNamed(d.Level) {
				level += ", raised " + strings.ToUpper(d.Raised) + " while counting"
			}
			names = append(names, fmt.Sprintf("%s (%s, %s: %s)", d.ID, orDash(d.BenchName), orDash(d.Site), level))
		}
		r.font("B", 8.5)
		r.pdf.MultiCell(textW, 4.5, fmt.Sprintf("Left out: %s taken this week deleted at %s bench (in its trash, restorable there): %s.",
			counted(len(wr.Deleted), "sample"), map[bool]string{true: "its", false: "their"}[len(wr.Deleted) == 1], strings.Join(names, "; ")), "", "L", false)
	}
	r.pdf.Ln(1)
}

// weekSites lists each site's samples with the HAB groups counted in them.
func (r *writer) weekSites(wr labrec.WeekReport) {
	bySite := map[string][]labrec.ProgrammeSample{}
	var sites []string
	for _, s := range wr.Samples {
		if _, ok := bySite[s.Site]; !ok {
			sites = append(sites, s.Site)
		}
		bySite[s.Site] = append(bySite[s.Site], s)
	}
	slices.Sort(sites)
	for _, site := range sites {
		samples := bySite[site]
		slices.SortFunc(samples, func(a, b labrec.ProgrammeSample) int { return a.Taken.Compare(b.Taken) })
		r.heading("Site " + orDash(site))
		var rows [][]string
		var lv []alerts.Level
		var full []string  // what a column cut, written out under the table
		var notes []string // why a sample is not checked, a level raised that no longer stands
		starred := false
		for _, s := range samples {
			id := s.ID
			if s.Partial {
				// A run stopped before its source's end: the figures cover part of the
				// water meant (helper-40: the stopped P7 read as whole).
				id += " (partial)"
			}
			level, word := sampleLevel(s)
			starred = starred || strings.HasSuffix(word, "*")
			// The factor beside the volume: the figures are count / volume × factor, and
			// without it they could not be worked out again (helper-76).
			ml := num(s.VolumeML, 3)
			if s.Factor != 0 && s.Factor != 1 {
				ml += " ×" + num(s.Factor, 3)
			}
			row := []string{s.Taken.In(wr.Zone).Format("Mon 02 15:04"), id, orDash(s.BenchName), ml,
				fmt.Sprint(s.Objects), groupsText(s.Counts), word}
			for _, c := range []struct {
				col   int
				width float64
			}{{1, 30}, {2, 26}, {5, 52}} {
				if cut := r.cellText(row[c.col], c.width); cut != row[c.col] {
					full = append(full, cut+" = "+row[c.col])
					row[c.col] = cut
				}
			}
			rows = append(rows, row)
			lv = append(lv, level)
			if st := s.Standing; st != nil && st.Level == labrec.NotChecked && st.Why != "" {
				notes = append(notes, fmt.Sprintf("%s: not checked: %s.", s.ID, st.Why))
			}
			if st := s.Standing; st != nil && st.Level != labrec.NotChecked && st.Why != "" {
				notes = append(notes, fmt.Sprintf("%s: %s.", s.ID, st.Why)) // "review decides: …"
			}
			// What was raised while counting and no longer stands (a review, a
			// second run) is said, not hidden.
			if raised := alerts.LevelNamed(s.TopLevel); s.Standing != nil && s.Standing.Level != labrec.NotChecked && raised > level {
				stand := "below every level"
				if level > alerts.None {
					stand = "at " + levelShort(level)
				}
				notes = append(notes, fmt.Sprintf("%s: %s was raised while counting; its final figures stand %s.", s.ID, levelShort(raised), stand))
			}
		}
		r.table([]string{"Taken (" + zoneAbbr(wr) + ")", "Sample", "Bench", "mL ×factor", "Objects", "HAB groups, cells/L", "Level"},
			[]float64{22, 30, 26, 18, 14, 52, 18}, "LLLRRLC", rows, lv)
		// Sample IDs and bench names cut to their columns ("DEMO-20261203…", "Bench A
		// (nor…") written out in full: a coordinator looks the sample up by them.
		if starred {
			notes = append(notes, notWorkedOut)
		}
		for _, f := range append(full, notes...) {
			r.font("", 8.5)
			r.pdf.MultiCell(textW, lineH, f, "", "L", false)
		}
	}
}

// groupsText is a sample's groups that were counted, most numerous first.
func groupsText(cs []labrec.Count) string {
	var gs []labrec.Count
	for _, c := range cs {
		if c.Kind == "group" && c.Count > 0 {
			gs = append(gs, c)
		}
	}
	if len(gs) == 0 {
		return "none counted"
	}
	slices.SortFunc(gs, func(a, b labrec.Count) int { return b.Count - a.Count })
	var parts []string
	for _, g := range gs {
		name := g.GroupName
		if name == "" {
			name = g.Name
		}
		cells, _, _ := g.InCells() // the heading says cells/L: a colony counts by its cells
		parts = append(parts, fmt.Sprintf("%s %s", name, perL(cells)))
	}
	return strings.Join(parts, "; ")
}

func (r *writer) weekAlerts(wr labrec.WeekReport) {
	r.heading("Alerts raised")
	if len(wr.Alerts) == 0 {
		r.pdf.MultiCell(textW, lineH, "No alert level changed in this week's samples.", "", "L", false)
		return
	}
	as := slices.Clone(wr.Alerts)
	slices.SortFunc(as, func(a, b labrec.ProgrammeAlert) int { return a.Time.Compare(b.Time) })
	var rows [][]string
	var lv []alerts.Level
	// What happened while the samples were counted: the figure when each level was
	// raised, on the frames read by then (helper-70 read 338 M beside WATCH, under an
	// ALERT level, as the sample's).
	r.font("", 8.5)
	r.pdf.MultiCell(textW, lineH, "Each level change as a run raised it, with the figure on the frames read by then; a sample's level stands in its site's table.", "", "L", false)
	for _, a := range as {
		// The level in cells/L as the figure beside it: "100,000 cells/..." cut off
		// its unit where the units differ, cells/mL beside cells/L (helper-76).
		th := thresholdText(a.Threshold)
		if a.ThresholdPerL > 0 {
			th = alerts.Threshold{Above: alerts.IsAboveText(a.Threshold)}.Marked(perL(a.ThresholdPerL))
		}
		rows = append(rows, []string{stamp(a.Time, wr.Zone), orDash(a.Site), a.SampleID, orDash(a.BenchName),
			a.Rule, perL(a.CellsPerL), th, levelShort(alerts.LevelNamed(a.ToLevel))})
		lv = append(lv, alerts.LevelNamed(a.ToLevel))
	}
	r.table([]string{"Raised", "Site", "Sample", "Bench", "Rule", "Cells/L then", "Level, cells/L", "To"},
		[]float64{28, 22, 24, 22, 26, 18, 24, 16}, "LLLLLRLC", rows, lv)
}

func (r *writer) weekBenches(wr labrec.WeekReport) {
	r.heading("Benches")
	if len(wr.Benches) == 0 {
		r.pdf.MultiCell(textW, lineH, "No bench has pushed to this server yet.", "", "L", false)
		return
	}
	n := map[string]int{}
	for _, s := range wr.Samples {
		n[s.Bench]++
	}
	var rows [][]string
	for _, b := range wr.Benches {
		last := "never"
		if !b.LastPush.IsZero() {
			last = stamp(b.LastPush, wr.Zone) // any day, not only this week's: its own zone
		}
		rows = append(rows, []string{orDash(b.Name), b.ID, orDash(b.Role), fmt.Sprint(n[b.ID]), last})
	}
	r.table([]string{"Bench", "ID", "Role", "Samples", "Last push"}, []float64{40, 64, 26, 18, 32}, "LLLRL", rows, nil)
}

// counted writes n with its noun, singular for one: "1 bench", "2 benches".
func counted(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "ch") || strings.HasSuffix(noun, "s") {
		return fmt.Sprintf("%d %ses", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// thresholdText is a bench's threshold as recorded ("20000 cells/mL") with thousands
// separators, as the report writes its other figures (helper-63).
func thresholdText(t string) string {
	num, unit, ok := strings.Cut(strings.TrimSpace(t), " ")
	v, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || v < 1000 || v != math.Trunc(v) {
		return t
	}
	return perL(v) + " " + unit
}

// zoneAbbr is the abbreviation of the report's zone in its week, for the heading of a
// column of times in the week: "CET"; "local" in a week that changes to or from summer
// time (the report's heading names the zone).
func zoneAbbr(wr labrec.WeekReport) string {
	a, _ := wr.Week.StartIn(wr.Zone).Zone()
	b, _ := wr.Week.EndIn(wr.Zone).Add(-time.Second).Zone()
	if a != b {
		return "local"
	}
	return a
}
