package report

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"
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
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetMargins(margin, margin, margin)
	pdf.SetAutoPageBreak(true, margin)
	pdf.SetCreationDate(wr.Made)
	pdf.SetModificationDate(wr.Made)
	pdf.SetTitle("Programme report, week "+wr.Week.String(), true)
	pdf.SetCreator("phytoscreen "+version, true)
	pdf.AliasNbPages("{nb}")
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	r := &writer{pdf: pdf, tr: tr}
	pdf.SetFooterFunc(func() {
		pdf.SetY(-12)
		r.font("", 8)
		pdf.SetTextColor(110, 110, 110)
		pdf.CellFormat(textW/2, 4, tr(fmt.Sprintf("phytoscreen %s, %s", version, wr.Made.Format("2006-01-02 15:04 MST"))), "", 0, "L", false, 0, "")
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
	r.pdf.CellFormat(textW, 9, r.tr("Monitoring programme: weekly report"), "", 1, "L", false, 0, "")
	r.font("", 12)
	last := wr.Week.End().AddDate(0, 0, -1)
	r.pdf.CellFormat(textW, 7, r.tr(fmt.Sprintf("Week %s: %s to %s", wr.Week, wr.Week.Start().Format("Mon 2 Jan 2006"), last.Format("Mon 2 Jan 2006"))), "", 1, "L", false, 0, "")
	r.font("", 9)
	r.pdf.CellFormat(textW, lineH, r.tr("Lab server: "+orDash(wr.Server)), "", 1, "L", false, 0, "")
	r.pdf.Ln(2)
}

// levelOf reads a level name as the server keeps it.
func levelOf(s string) alerts.Level {
	switch s {
	case alerts.Alert.String():
		return alerts.Alert
	case alerts.Watch.String():
		return alerts.Watch
	}
	return alerts.None
}

// weekBanner is the line a programme manager reads first: how much was screened and
// the highest level reached, with where.
func (r *writer) weekBanner(wr labrec.WeekReport) {
	sites, benches := map[string]bool{}, map[string]bool{}
	peak := alerts.None
	var where []string
	for _, s := range wr.Samples {
		sites[s.Site] = true
		benches[s.Bench] = true
		peak = max(peak, levelOf(s.TopLevel))
	}
	for _, s := range wr.Samples {
		if l := levelOf(s.TopLevel); l == peak && peak > alerts.None {
			where = append(where, fmt.Sprintf("%s (%s)", orDash(s.Site), s.ID))
		}
	}
	cr, cg, cb := levelColour(peak)
	r.pdf.SetFillColor(cr, cg, cb)
	r.pdf.SetTextColor(255, 255, 255)
	r.font("B", 12)
	var text string
	switch {
	case len(wr.Samples) == 0:
		r.pdf.SetFillColor(110, 110, 110)
		text = "No sample taken in this week reached the lab server"
	case peak == alerts.None:
		text = fmt.Sprintf("No alert: %s from %s at %s, all below trigger levels", counted(len(wr.Samples), "sample"), counted(len(benches), "bench"), counted(len(sites), "site"))
	default:
		text = fmt.Sprintf("%s at %s; %s from %s at %s", levelShort(peak), strings.Join(where, ", "), counted(len(wr.Samples), "sample"), counted(len(benches), "bench"), counted(len(sites), "site"))
	}
	r.pdf.MultiCell(textW, 7, r.tr(text), "", "L", true)
	r.pdf.SetTextColor(0, 0, 0)
	r.font("", 8.5)
	r.pdf.MultiCell(textW, 4.5, r.tr("Counts and concentrations are each bench's own tally (objects counted per taxon, "+
		"validated labels first), with 95% Poisson intervals; samples deleted at their bench are left out."), "", "L", false)
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
		var full []string // what a column cut, written out under the table
		for _, s := range samples {
			id := s.ID
			if s.Partial {
				// A run stopped before its source's end: the figures cover part of the
				// water meant (helper-40: the stopped P7 read as whole).
				id += " (partial)"
			}
			row := []string{s.Taken.UTC().Format("Mon 02 15:04"), id, orDash(s.BenchName), num(s.VolumeML, 3),
				fmt.Sprint(s.Objects), groupsText(s.Counts), levelShort(levelOf(s.TopLevel))}
			for _, c := range []struct {
				col   int
				width float64
			}{{1, 30}, {2, 32}, {5, 52}} {
				if cut := r.fit(row[c.col], c.width); cut != row[c.col] {
					full = append(full, cut+" = "+row[c.col])
					row[c.col] = cut
				}
			}
			rows = append(rows, row)
			lv = append(lv, levelOf(s.TopLevel))
		}
		r.table([]string{"Taken (UTC)", "Sample", "Bench", "mL", "Objects", "HAB groups, cells/L", "Level"},
			[]float64{22, 30, 32, 12, 14, 52, 18}, "LLLRRLC", rows, lv)
		// Sample IDs and bench names cut to their columns ("DEMO-20261203…", "Bench A
		// (nor…") written out in full: a coordinator looks the sample up by them.
		for _, f := range full {
			r.font("", 8.5)
			r.pdf.MultiCell(textW, lineH, r.tr(f), "", "L", false)
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
		r.pdf.MultiCell(textW, lineH, r.tr("No alert level changed in this week's samples."), "", "L", false)
		return
	}
	as := slices.Clone(wr.Alerts)
	slices.SortFunc(as, func(a, b labrec.ProgrammeAlert) int { return a.Time.Compare(b.Time) })
	var rows [][]string
	var lv []alerts.Level
	for _, a := range as {
		rows = append(rows, []string{a.Time.UTC().Format("02 Jan 15:04"), r.fit(orDash(a.Site), 24), r.fit(a.SampleID, 26), r.fit(orDash(a.BenchName), 24),
			r.fit(a.Rule, 30), perL(a.CellsPerL), r.fit(thresholdText(a.Threshold), 26), levelShort(levelOf(a.ToLevel))})
		lv = append(lv, levelOf(a.ToLevel))
	}
	r.table([]string{"Raised (UTC)", "Site", "Sample", "Bench", "Rule", "Cells/L", "Threshold", "To"},
		[]float64{22, 24, 26, 24, 28, 16, 26, 14}, "LLLLLRLC", rows, lv)
}

func (r *writer) weekBenches(wr labrec.WeekReport) {
	r.heading("Benches")
	if len(wr.Benches) == 0 {
		r.pdf.MultiCell(textW, lineH, r.tr("No bench has pushed to this server yet."), "", "L", false)
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
			last = b.LastPush.UTC().Format("2006-01-02 15:04")
		}
		rows = append(rows, []string{r.fit(orDash(b.Name), 40), r.fit(b.ID, 64), r.fit(orDash(b.Role), 26), fmt.Sprint(n[b.ID]), last})
	}
	r.table([]string{"Bench", "ID", "Role", "Samples", "Last push (UTC)"}, []float64{40, 64, 26, 18, 32}, "LLLRL", rows, nil)
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
