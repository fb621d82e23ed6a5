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
	"github.com/phytoscreen/phytoscreen/screening"
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
		sites[screening.SiteKey(s.Site)] = true // "Lagoon north" and "Lagoon North" are one site
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
	// A companion above the week's peak is left out of it, and said here: "No alert"
	// read alone while RI-1~ndsb-plankton-121 stood at ALERT (helper-92).
	var above []string
	for _, c := range wr.Companions {
		if l, _ := sampleLevel(c); l > peak {
			above = append(above, fmt.Sprintf("%s %s", c.ID, levelShort(l)))
		}
	}
	if len(above) > 0 {
		text += fmt.Sprintf("; %s (another pack, left out: below): %s", map[bool]string{true: "a companion stands higher", false: "companions stand higher"}[len(above) == 1], strings.Join(above, ", "))
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
	if len(wr.Companions) > 0 {
		r.font("B", 8.5)
		for _, line := range companionsText(wr.Companions) {
			r.pdf.MultiCell(textW, 4.5, line, "", "L", false)
		}
	}
	r.pdf.Ln(1)
}

// companionsText names the week's companion samples, left out of its figures, with the
// level each stands at or raised, a line each after the first: an ALERT at Reservoir
// intake from RI-1~ndsb-plankton-121 sat beside "No alert in the 6 samples checked"
// without a word (helper-92). None when there are none.
func companionsText(cs []labrec.ProgrammeSample) []string {
	if len(cs) == 0 {
		return nil
	}
	parts := []string{fmt.Sprintf("Left out of the counts and levels in this report: %s, the same frames as a sample of the week counted again by another pack to compare them (screen --keep-apart); each bench's report of the sample shows its figures:",
		counted(len(cs), "companion sample"))}
	for _, c := range cs {
		var packs []string
		for _, u := range c.Setups {
			if !slices.Contains(packs, u.Pack) {
				packs = append(packs, orDash(u.Pack))
			}
		}
		by := "another pack"
		if len(packs) > 0 {
			by = strings.Join(packs, " and ")
		}
		parts = append(parts, fmt.Sprintf("  %s, the same frames as %s counted by %s (%s, %s): %s.",
			c.ID, orDash(c.Companion), by, orDash(c.Site), orDash(c.BenchName), companionLevel(c)))
	}
	return parts
}

// companionLevel is where a companion stands, as its bench said, with the figure of the
// rule at that level: "ALERT Chain-forming diatoms 2.84 M cells/L".
func companionLevel(c labrec.ProgrammeSample) string {
	level, word := sampleLevel(c)
	var text string
	switch st := c.Standing; {
	case st == nil:
		text = "level not worked out at its bench"
		if level > alerts.None {
			text = "raised " + levelShort(level) + " while counting"
		}
	case st.Level == labrec.NotChecked:
		text = "not checked" // why: in its bench's report; here it buried the ALERT beside it
	case word == "review":
		text = "no alert until its unidentified objects are reviewed"
	case level > alerts.None:
		text = levelShort(level)
		if st.Rule != "" {
			text += " " + st.Rule
		}
		if st.PerL > 0 {
			text += " " + perL(st.PerL) + " cells/L"
		}
	default:
		text = "no alert"
	}
	if raised := alerts.LevelNamed(c.TopLevel); c.Standing != nil && raised > level {
		text += ", raised " + levelShort(raised) + " while counting"
	}
	return text
}

// siteGroups groups samples (in time order) by site as a search takes it, sites in the
// order of their names: each site is titled with the spelling most of its samples use,
// the first met on a tie. "Lagoon North" (LN-4) had a table of its own beside "Lagoon
// north", and counted as a fourth site (helper-92).
func siteGroups(samples []labrec.ProgrammeSample) (titles []string, groups [][]labrec.ProgrammeSample) {
	index := map[string]int{}
	var spellings [][]string
	for _, s := range samples {
		k := screening.SiteKey(s.Site)
		i, ok := index[k]
		if !ok {
			i = len(groups)
			index[k] = i
			groups = append(groups, nil)
			spellings = append(spellings, nil)
		}
		groups[i] = append(groups[i], s)
		spellings[i] = append(spellings[i], s.Site)
	}
	for _, sp := range spellings {
		titles = append(titles, screening.MostUsedSpelling(sp))
	}
	order := make([]int, len(titles))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(titles[a], titles[b]) })
	outT, outG := make([]string, len(order)), make([][]labrec.ProgrammeSample, len(order))
	for i, o := range order {
		outT[i], outG[i] = titles[o], groups[o]
	}
	return outT, outG
}

// weekSites lists each site's samples with the HAB groups counted in them.
func (r *writer) weekSites(wr labrec.WeekReport) {
	samples := slices.Clone(wr.Samples)
	slices.SortStableFunc(samples, func(a, b labrec.ProgrammeSample) int { return a.Taken.Compare(b.Taken) })
	titles, groups := siteGroups(samples)
	for g, site := range titles {
		samples := groups[g]
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
		// What counted each sample, and what its packs cannot see: LN-1's diatoms beside
		// LN-3's cyanobacteria read as one water with neither, where neither pack looked
		// for the other's (helper-92).
		var spelt []string
		for _, s := range samples {
			if s.Site != site {
				spelt = append(spelt, fmt.Sprintf("%s as %q", s.ID, s.Site))
			}
		}
		if len(spelt) > 0 {
			notes = append(notes, fmt.Sprintf("Site written otherwise at its bench: %s.", strings.Join(spelt, ", ")))
		}
		notes = append(notes, countedBy(samples))
		if nl := notLookedFor(samples); nl != "" {
			notes = append(notes, nl)
		}
		if starred {
			notes = append(notes, notWorkedOut)
		}
		for _, f := range append(full, notes...) {
			r.font("", 8.5)
			r.pdf.MultiCell(textW, lineH, f, "", "L", false)
		}
	}
}

// setupText is how runs counted a sample: "ndsb-plankton-121 (optimised, threshold 0.5,
// rules preset default, no µm per pixel)".
func setupText(u labrec.Setup) string {
	var parts []string
	if u.Model != "" {
		parts = append(parts, u.Model)
	}
	parts = append(parts, "threshold "+num(u.Threshold, 2))
	if u.Rules != "" {
		parts = append(parts, "rules "+u.Rules)
	} else {
		parts = append(parts, "no rules")
	}
	switch {
	case u.UmPerPxMax <= 0:
		parts = append(parts, "no µm per pixel")
	case u.UmPerPxMin == u.UmPerPxMax:
		parts = append(parts, num(u.UmPerPxMin, 3)+" µm per pixel")
	default:
		parts = append(parts, num(u.UmPerPxMin, 3)+" to "+num(u.UmPerPxMax, 3)+" µm per pixel")
	}
	return orDash(u.Pack) + " (" + strings.Join(parts, ", ") + ")"
}

// setupsText is every setup of a sample, "not recorded" for none.
func setupsText(us []labrec.Setup) string {
	if len(us) == 0 {
		return "pack not recorded on the server"
	}
	var ts []string
	for _, u := range us {
		ts = append(ts, setupText(u))
	}
	return strings.Join(ts, ", then ")
}

// countedBy is the line under a site's table saying what counted each sample: once for
// all when they were counted alike.
func countedBy(samples []labrec.ProgrammeSample) string {
	var setups []string
	ids := map[string][]string{}
	for _, s := range samples {
		t := setupsText(s.Setups)
		if _, ok := ids[t]; !ok {
			setups = append(setups, t)
		}
		ids[t] = append(ids[t], s.ID)
	}
	if len(setups) == 1 && len(samples) > 1 {
		return "Counted by: all with " + setups[0] + "."
	}
	var parts []string
	for _, t := range setups {
		parts = append(parts, strings.Join(ids[t], ", ")+" with "+t)
	}
	return "Counted by: " + strings.Join(parts, "; ") + "."
}

// notLookedFor says, for each group counted in a site's samples, which of its samples'
// packs cannot name it: their blank there is not a zero. "" when every pack looks for
// every group counted.
func notLookedFor(samples []labrec.ProgrammeSample) string {
	type group struct{ id, name string }
	var groups []group
	for _, s := range samples {
		for _, c := range s.Counts {
			if c.Kind == "group" && c.Count > 0 && !slices.ContainsFunc(groups, func(g group) bool { return g.id == c.Label }) {
				name := c.GroupName
				if name == "" {
					name = c.Name
				}
				groups = append(groups, group{c.Label, name})
			}
		}
	}
	var parts, unknown []string
	for _, g := range groups {
		var by []string // "ndsb-plankton-121 (LN-1, LN-5)"
		var packs []string
		ids := map[string][]string{}
		for _, s := range samples {
			looks, known := s.LooksFor(g.id)
			if looks {
				continue
			}
			if !known {
				if !slices.Contains(unknown, s.ID) {
					unknown = append(unknown, s.ID)
				}
				continue
			}
			var ps []string
			for _, u := range s.Setups {
				if !slices.Contains(ps, u.Pack) {
					ps = append(ps, u.Pack)
				}
			}
			p := strings.Join(ps, " and ")
			if _, ok := ids[p]; !ok {
				packs = append(packs, p)
			}
			ids[p] = append(ids[p], s.ID)
		}
		for _, p := range packs {
			by = append(by, fmt.Sprintf("%s (%s)", orDash(p), strings.Join(ids[p], ", ")))
		}
		if len(by) > 0 {
			parts = append(parts, g.name+" by "+strings.Join(by, " and "))
		}
	}
	var text string
	if len(parts) > 0 {
		text = "Not looked for: " + strings.Join(parts, "; ") + ". A pack that cannot name a group counts none of it: its samples' blank there is not a zero."
	}
	if len(unknown) > 0 {
		text = strings.TrimSpace(text + " " + fmt.Sprintf("Not known whether %s looked for every group counted here: the server holds no taxa of a pack that counted them.", strings.Join(unknown, ", ")))
	}
	return text
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
