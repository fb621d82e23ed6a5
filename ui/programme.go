package ui

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/labrec"
	"github.com/phytoscreen/phytoscreen/report"
	"github.com/phytoscreen/phytoscreen/screening"
)

// History's two views.
const (
	modeBench     = "This bench"
	modeProgramme = "Lab server — all benches"
)

// Filter choices that choose everything.
const (
	allSites   = "All sites"
	allBenches = "All benches"
)

// dateLayout is how the programme view's date filters are written.
const dateLayout = "2006-01-02"

// programmeView is History's programme mode (issue 16): every bench's samples from the
// lab server, filtered by site, bench and dates; a sample's tally and alerts as its bench
// pushed them; the chosen taxon's trend at the sample's site across benches, one line per
// bench; and the weekly programme report. Every read runs on a goroutine; a newer one
// cancels the one it replaces, and a server that cannot be reached shows its error here.
type programmeView struct {
	e       *env
	content fyne.CanvasObject

	Site    *widget.Select
	Bench   *widget.Select
	From    *widget.Entry
	To      *widget.Entry
	Refresh *widget.Button
	Report  *widget.Button
	Error   *widget.Label // why the view is empty or stale ("" when all is well)

	list     *widget.List
	samples  []labrec.ProgrammeSample
	selected labrec.ProgrammeSample // the sample shown ("" ID: none)
	benchIDs map[string]string      // Bench choice -> bench ID

	header   *widget.Label
	counts   *countsTable
	Alerts   *widget.Label
	taxonSel *widget.Select
	taxonKey map[string]string // choice -> a label or a group ID
	chart    *trendChart

	// One read of each kind at a time: a newer one cancels the older and its answer is
	// dropped (gen).
	listGen, detailGen, chartGen    int
	stopList, stopDetail, stopChart context.CancelFunc
	week                            *weekDialog // the open weekly report dialog (tests drive it)
	filtersLoaded                   bool
}

// newProgrammeView makes the programme view; it reads nothing until Load.
func newProgrammeView(e *env) *programmeView {
	v := &programmeView{e: e, benchIDs: map[string]string{}}
	v.Site = widget.NewSelect([]string{allSites}, func(string) { v.Load() })
	v.Site.Selected = allSites
	v.Bench = widget.NewSelect([]string{allBenches}, func(string) { v.Load() })
	v.Bench.Selected = allBenches
	v.From = widget.NewEntry()
	v.From.SetPlaceHolder("from YYYY-MM-DD")
	v.From.OnSubmitted = func(string) { v.Load() }
	v.To = widget.NewEntry()
	v.To.SetPlaceHolder("to YYYY-MM-DD")
	v.To.OnSubmitted = func(string) { v.Load() }
	v.Refresh = widget.NewButtonWithIcon("Refresh", theme.ViewRefreshIcon(), v.Load)
	v.Report = widget.NewButtonWithIcon("Weekly report…", theme.DocumentPrintIcon(), v.ShowWeekReport)
	v.Error = widget.NewLabel("")
	v.Error.Wrapping = fyne.TextWrapWord
	v.Error.Importance = widget.DangerImportance

	v.list = widget.NewList(func() int { return len(v.samples) },
		func() fyne.CanvasObject {
			t := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
			d := widget.NewLabel("")
			d.SizeName = theme.SizeNameCaptionText
			return container.NewVBox(t, d)
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id >= len(v.samples) {
				return
			}
			s := v.samples[id]
			b := o.(*fyne.Container)
			b.Objects[0].(*widget.Label).SetText(s.ID)
			b.Objects[1].(*widget.Label).SetText(programmeLine(s))
		})
	v.list.OnSelected = func(id widget.ListItemID) {
		if id < len(v.samples) {
			v.Select(v.samples[id])
		}
	}
	v.header = widget.NewLabel("Choose a sample on the left.")
	v.header.Wrapping = fyne.TextWrapWord
	v.counts = newCountsTable(false)
	v.Alerts = widget.NewLabel("")
	v.Alerts.Wrapping = fyne.TextWrapWord
	v.taxonSel = widget.NewSelect(nil, func(string) { v.loadChart() })
	v.chart = newTrendChart()

	dates := container.NewGridWithColumns(2, v.From, v.To)
	filters := container.NewVBox(v.Site, v.Bench, dates, container.NewHBox(v.Refresh, v.Report))
	left := container.NewBorder(container.NewVBox(
		widget.NewLabelWithStyle("Every bench's samples", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), filters),
		nil, nil, nil, v.list)
	countsBox := container.NewBorder(widget.NewLabelWithStyle("Counts, as the bench tallied them", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		container.NewVBox(widget.NewLabelWithStyle("Alerts its runs raised", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), v.Alerts), nil, nil, v.counts)
	chartBox := container.NewBorder(container.NewBorder(nil, nil,
		widget.NewLabelWithStyle("Trend at the site, all benches", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), nil, v.taxonSel), nil, nil, nil, v.chart)
	body := container.NewHSplit(countsBox, chartBox)
	body.Offset = 0.5
	detail := container.NewBorder(container.NewVBox(v.Error, v.header), nil, nil, nil, body)
	split := container.NewHSplit(left, container.NewPadded(detail))
	split.Offset = 0.22
	v.content = split
	return v
}

// programmeLine is a sample's second line in the list: bench, site, date, and where it
// stands on its final figures as its bench says (labrec.Standing), with a level raised
// while counting that no longer stands; from a bench that did not say, the level raised
// while counting, said so (helper-70: a relabel's WATCH was missed, one run's ALERT kept).
func programmeLine(s labrec.ProgrammeSample) string {
	var level string
	switch st := s.Standing; {
	case st == nil && s.TopLevel != "":
		level = "raised " + strings.ToUpper(s.TopLevel) + " while counting"
	case st == nil:
		level = "level not known"
	case st.Level == labrec.NotChecked:
		level = "not checked"
	case st.Level == "none" && st.Why != "":
		level = "no alert until reviewed" // its unidentified objects could raise a level (labrec.Standing.Why)
	case st.Level == "none":
		level = "no alert"
	default:
		level = strings.ToUpper(st.Level)
	}
	if st := s.Standing; st != nil && st.Why != "" && st.Level != labrec.NotChecked && st.Level != "none" {
		level += " (a review could raise it)" // labrec.Standing.Why: "review decides: …"
	}
	if st := s.Standing; st != nil && s.TopLevel != "" && st.Level != labrec.NotChecked && alerts.LevelNamed(s.TopLevel) > alerts.LevelNamed(st.Level) {
		level += " (raised " + strings.ToUpper(s.TopLevel) + " while counting)"
	}
	bench := s.BenchName
	if bench == "" {
		bench = s.Bench
	}
	return fmt.Sprintf("%s · %s · %s · %s", bench, siteName(s.Site), s.Taken.Local().Format("2006-01-02 15:04"), level)
}

// filter reads the filter fields. Dates are local days; To includes its day.
func (v *programmeView) filter() (labrec.ProgrammeFilter, error) {
	var f labrec.ProgrammeFilter
	if v.Site.Selected != allSites {
		f.Site = v.Site.Selected
	}
	if v.Bench.Selected != allBenches && v.Bench.Selected != "" {
		f.Bench = v.benchIDs[v.Bench.Selected]
	}
	var errs []error
	for _, d := range []struct {
		name  string
		entry *widget.Entry
		into  *time.Time
		after int
	}{{"From", v.From, &f.From, 0}, {"To", v.To, &f.To, 1}} {
		t := strings.TrimSpace(d.entry.Text)
		if t == "" {
			continue
		}
		day, err := time.ParseInLocation(dateLayout, t, time.Local)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s date %q: write it as YYYY-MM-DD, e.g. %s", d.name, t, time.Now().Format(dateLayout)))
			continue
		}
		*d.into = day.AddDate(0, 0, d.after)
	}
	if err := errors.Join(errs...); err != nil {
		return f, err
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return f, errors.New("the From date is after the To date: swap them")
	}
	return f, nil
}

// Load reads the filters' choices (once) and the samples the filters choose.
func (v *programmeView) Load() {
	f, err := v.filter()
	if err != nil {
		v.Error.SetText(err.Error())
		return
	}
	if v.stopList != nil {
		v.stopList()
	}
	v.listGen++
	gen := v.listGen
	ctx, cancel := context.WithTimeout(v.e.ctx, labTimeout)
	v.stopList = cancel
	loadFilters := !v.filtersLoaded
	v.Error.SetText("")
	v.header.SetText("Reading the lab server…")
	v.e.spawn(func(context.Context) {
		defer cancel()
		var benches []labrec.BenchInfo
		var sites []string
		var samples []labrec.ProgrammeSample
		prog, err := v.e.lab.Programme(ctx)
		if err == nil && loadFilters {
			if benches, err = prog.Benches(ctx); err == nil {
				sites, err = prog.Sites(ctx)
			}
		}
		if err == nil {
			samples, err = prog.Samples(ctx, f)
		}
		v.e.runOnUI(func() {
			if gen != v.listGen {
				return
			}
			v.stopList = nil
			if err != nil {
				v.samples = nil
				v.list.UnselectAll()
				v.list.Refresh()
				v.clearDetail("")
				v.Error.SetText("Lab server: " + err.Error())
				return
			}
			if loadFilters {
				v.setFilterChoices(benches, sites)
			}
			v.samples = samples
			v.list.UnselectAll()
			v.list.Refresh()
			if len(samples) == 0 {
				v.clearDetail("No sample on the lab server matches these filters.")
				return
			}
			i := slices.IndexFunc(samples, func(s labrec.ProgrammeSample) bool {
				return s.Bench == v.selected.Bench && s.ID == v.selected.ID
			})
			v.list.Select(max(i, 0)) // shows it (OnSelected)
		})
	})
}

// setFilterChoices fills the site and bench choices, keeping what was chosen.
func (v *programmeView) setFilterChoices(benches []labrec.BenchInfo, sites []string) {
	v.filtersLoaded = true
	v.Site.Options = append([]string{allSites}, sites...)
	v.Site.Refresh()
	names := map[string]int{}
	for _, b := range benches {
		names[b.Name]++
	}
	opts := []string{allBenches}
	v.benchIDs = map[string]string{}
	for _, b := range benches {
		n := b.Name
		if n == "" || names[n] > 1 { // two benches of one name: their IDs tell them apart
			n = strings.TrimSpace(n + " (" + b.ID[:min(8, len(b.ID))] + ")")
		}
		v.benchIDs[n] = b.ID
		opts = append(opts, n)
	}
	v.Bench.Options = opts
	v.Bench.Refresh()
}

// clearDetail empties the detail side and says why.
func (v *programmeView) clearDetail(msg string) {
	if v.stopDetail != nil {
		v.stopDetail()
	}
	v.detailGen++
	v.chartGen++
	v.selected = labrec.ProgrammeSample{}
	v.header.SetText(msg)
	v.counts.SetRows(nil)
	v.Alerts.SetText("")
	v.taxonSel.Options = nil
	v.taxonSel.ClearSelected()
	v.chart.Set(nil, "", chartLevels{}, colorBrand)
}

// Select shows a sample: its tally, its alerts and the choices of its site's trend.
func (v *programmeView) Select(s labrec.ProgrammeSample) {
	if v.stopDetail != nil {
		v.stopDetail()
	}
	v.selected = s
	v.detailGen++
	gen := v.detailGen
	// The chart was the previous sample's site: gone until this one's is read.
	if v.stopChart != nil {
		v.stopChart()
	}
	v.chartGen++
	v.chart.Set(nil, "", chartLevels{}, colorBrand)
	ctx, cancel := context.WithTimeout(v.e.ctx, labTimeout)
	v.stopDetail = cancel
	v.e.spawn(func(context.Context) {
		defer cancel()
		var tally labrec.SampleTally
		var al []labrec.ProgrammeAlert
		var taxa []labrec.Count
		prog, err := v.e.lab.Programme(ctx)
		if err == nil {
			tally, err = prog.SampleCounts(ctx, s.Bench, s.ID)
		}
		if err == nil {
			al, err = prog.SampleAlerts(ctx, s.Bench, s.ID)
		}
		if err == nil {
			taxa, err = prog.TaxonChoices(ctx, s.Site)
		}
		v.e.runOnUI(func() {
			if gen != v.detailGen {
				return
			}
			v.stopDetail = nil
			if err != nil {
				v.header.SetText(fmt.Sprintf("Sample %s of %s: %v", s.ID, s.BenchName, err))
				v.counts.SetRows(nil)
				v.Alerts.SetText("")
				v.Error.SetText("Lab server: " + err.Error())
				return
			}
			v.Error.SetText("")
			v.show(s, tally, al, taxa)
		})
	})
}

// show fills the detail side (UI goroutine).
func (v *programmeView) show(s labrec.ProgrammeSample, t labrec.SampleTally, al []labrec.ProgrammeAlert, taxa []labrec.Count) {
	head := fmt.Sprintf("Sample %s · %s · bench %s · taken %s\n%s mL examined, factor %s · %d run%s, %s objects (%d failed)",
		s.ID, siteName(t.Site), s.BenchName, t.Taken.Local().Format("2006-01-02 15:04"),
		fmtVolume(t.VolumeML), fmtVolume(t.Factor), s.Runs, plural(s.Runs), fmtCount(t.Objects), t.Failed)
	if !s.PushedAt.IsZero() {
		head += " · pushed " + s.PushedAt.Local().Format("2006-01-02 15:04")
	}
	v.header.SetText(head)
	rows := make([]countRow, 0, len(t.Counts))
	for _, c := range t.Counts {
		r := countRow{Label: c.Label, Name: c.Name, Group: c.Group, Unit: c.Unit, IsGroup: c.Kind == "group", Cells: c.Cells,
			Concentration: screening.Concentration{Count: c.Count, PerL: c.PerL, Low: c.CILow, High: c.CIHigh}}
		switch c.Kind {
		case "unidentified":
			r.Label = screening.Unidentified
		case "group": // as this bench's own table shows a group: its own key and name
			r.Label, r.Name = groupKey+c.Label, "HAB group: "+cmp.Or(c.GroupName, c.Name)
		}
		rows = append(rows, r)
	}
	setProgrammeLevels(rows, al)
	v.counts.SetRows(rows)
	var lines []string
	for _, a := range al {
		lines = append(lines, fmt.Sprintf("%s %s at %s: %s cells/L (%d counted; %s → %s) · rule %s",
			strings.ToUpper(a.ToLevel), a.Taxon, a.Time.Local().Format("2006-01-02 15:04"), fmtPerL(a.CellsPerL), a.Count, a.FromLevel, a.ToLevel, a.Rule))
	}
	if len(lines) == 0 {
		lines = []string{"No alert was raised by this sample's runs."}
	}
	v.Alerts.SetText(strings.Join(lines, "\n"))

	// Chart choices: the groups seen at the site, then the taxa.
	v.taxonKey = map[string]string{}
	var opts []string
	for _, kind := range []string{"group", "taxon"} {
		for _, c := range taxa {
			if c.Kind != kind {
				continue
			}
			k := c.Name
			if kind == "group" {
				k = "Group: " + c.Name
			}
			if _, dup := v.taxonKey[k]; dup {
				continue
			}
			v.taxonKey[k] = c.Label
			opts = append(opts, k)
		}
	}
	prev := v.taxonSel.Selected
	v.taxonSel.Options = opts
	if !slices.Contains(opts, prev) {
		// Default: the sample's most abundant group, else its most abundant taxon.
		prev = ""
		best := -1
		for _, kind := range []string{"group", "taxon"} {
			for _, c := range t.Counts {
				k := c.Name
				if kind == "group" {
					k = "Group: " + c.Name
				}
				if c.Kind == kind && c.Count > best && slices.Contains(opts, k) {
					best, prev = c.Count, k
				}
			}
			if best > 0 {
				break
			}
		}
		if prev == "" && len(opts) > 0 {
			prev = opts[0]
		}
	}
	v.taxonSel.Selected = prev
	v.taxonSel.Refresh()
	v.loadChart()
}

// loadChart reads the chosen taxon's or group's trend at the sample's site, within the
// date filters, across benches.
func (v *programmeView) loadChart() {
	if v.stopChart != nil {
		v.stopChart()
	}
	v.chartGen++
	gen := v.chartGen
	choice := v.taxonSel.Selected
	label, ok := v.taxonKey[choice]
	s := v.selected
	if !ok || s.ID == "" {
		v.chart.Set(nil, "", chartLevels{}, colorBrand)
		return
	}
	f, err := v.filter()
	if err != nil {
		v.Error.SetText(err.Error())
		return
	}
	title := strings.TrimPrefix(choice, "Group: ") + " at " + siteName(s.Site) + ", all benches"
	ctx, cancel := context.WithTimeout(v.e.ctx, labTimeout)
	v.stopChart = cancel
	v.e.spawn(func(context.Context) {
		defer cancel()
		var trend []labrec.TrendPoint
		prog, err := v.e.lab.Programme(ctx)
		if err == nil {
			trend, err = prog.SiteTrend(ctx, s.Site, label, f.From, f.To)
		}
		v.e.runOnUI(func() {
			if gen != v.chartGen {
				return
			}
			v.stopChart = nil
			if err != nil {
				v.chart.Set(nil, "", chartLevels{}, colorBrand)
				v.Error.SetText("Lab server: the trend could not be read: " + err.Error())
				return
			}
			pts := make([]chartPoint, 0, len(trend))
			for _, p := range trend {
				name := p.BenchName
				if name == "" {
					name = p.Bench
				}
				// In cells per litre, as the axis says and as the bench's own chart: a
				// colony counts by the cells estimated in it.
				perL, lo, hi := p.InCells()
				pts = append(pts, chartPoint{Sample: p.SampleID, Time: p.Taken, PerL: perL, Low: lo, High: hi,
					Current: p.Bench == s.Bench && p.SampleID == s.ID, Series: name})
			}
			v.chart.Set(pts, title, chartLevels{}, colorBrand)
		})
	})
}

// stop cancels what the view is reading (History left the programme mode).
func (v *programmeView) stop() {
	for _, c := range []context.CancelFunc{v.stopList, v.stopDetail, v.stopChart} {
		if c != nil {
			c()
		}
	}
	v.stopList, v.stopDetail, v.stopChart = nil, nil, nil
	v.listGen++
	v.detailGen++
	v.chartGen++
}

// weekDialog asks for the ISO week and the file of the weekly programme report, then
// writes it on a goroutine.
type weekDialog struct {
	v      *programmeView
	dlg    dialog.Dialog
	Week   *widget.Entry
	Path   *widget.Entry
	Make   *widget.Button
	Cancel *widget.Button
	Result *widget.Label
	busy   *widget.ProgressBarInfinite
	stop   context.CancelFunc
	// pathSet is true once the user chose the file: the week no longer renames it.
	pathSet bool
	// saved is where the last report was written ("" none yet; tests read it).
	saved string
}

// ShowWeekReport opens the weekly report dialog on this week.
func (v *programmeView) ShowWeekReport() {
	d := &weekDialog{v: v}
	v.week = d
	d.Week = widget.NewEntry()
	d.Week.SetPlaceHolder("YEAR-Wnn, e.g. 2026-W48")
	d.Path = widget.NewEntry()
	d.Path.SetPlaceHolder("the PDF file to write")
	auto := false // the week is naming the file
	d.Week.OnChanged = func(w string) {
		if !d.pathSet {
			auto = true
			d.Path.SetText(defaultReportPath(v.e.prefs.String(app.PrefExportDir), strings.TrimSpace(w)))
			auto = false
		}
	}
	d.Path.OnChanged = func(string) { d.pathSet = d.pathSet || !auto }
	d.Week.SetText(labrec.WeekOf(time.Now()).String())
	browse := widget.NewButtonWithIcon("", theme.FolderOpenIcon(), d.choosePath)
	d.Result = widget.NewLabel("")
	d.Result.Wrapping = fyne.TextWrapWord
	d.busy = widget.NewProgressBarInfinite()
	d.busy.Stop()
	d.busy.Hide()
	d.Make = widget.NewButtonWithIcon("Make the report", theme.DocumentSaveIcon(), d.run)
	d.Make.Importance = widget.HighImportance
	d.Cancel = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() {
		if d.stop != nil {
			d.stop()
		}
	})
	d.Cancel.Disable()
	form := widget.NewForm(
		widget.NewFormItem("ISO week", d.Week),
		widget.NewFormItem("Save to", container.NewBorder(nil, nil, nil, browse, d.Path)),
	)
	// The week is cut at this machine's midnights, as the date filter above cuts days.
	form.Items[0].HintText = "Monday to Sunday, " + report.ZoneName(time.Local) + " time; this week is " + labrec.WeekOf(time.Now()).String()
	intro := widget.NewLabel("Every bench's samples taken in the week, site by site, with their counts and alerts, read from the lab server (PDF).")
	intro.Wrapping = fyne.TextWrapWord
	body := container.NewVBox(intro, form, container.NewHBox(d.Make, d.Cancel), d.busy, d.Result)
	d.dlg = dialog.NewCustom("Weekly programme report", "Close", body, v.e.win)
	d.dlg.SetOnClosed(func() {
		if d.stop != nil {
			d.stop()
		}
		v.week = nil
	})
	d.dlg.Resize(fyne.NewSize(640, 360))
	d.dlg.Show()
}

// defaultReportPath proposes programme-2026-W48.pdf in dir (else the home folder).
func defaultReportPath(dir, week string) string {
	if dir == "" {
		dir, _ = os.UserHomeDir()
	}
	name := "programme-" + strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ':' || r < ' ' {
			return '_'
		}
		return r
	}, week) + ".pdf"
	return filepath.Join(dir, name)
}

// choosePath asks where to save.
func (d *weekDialog) choosePath() {
	fd := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		path := w.URI().Path()
		_ = w.Close() // the report is written over it
		d.Path.SetText(path)
	}, d.v.e.win)
	fd.SetFileName(filepath.Base(strings.TrimSpace(d.Path.Text)))
	if l, err := storage.ListerForURI(storage.NewFileURI(filepath.Dir(strings.TrimSpace(d.Path.Text)))); err == nil {
		fd.SetLocation(l)
	}
	fd.SetFilter(storage.NewExtensionFileFilter([]string{".pdf"}))
	fd.Resize(fyne.NewSize(900, 640))
	fd.Show()
}

// run checks the week and the file and writes the report on a goroutine.
func (d *weekDialog) run() {
	if d.stop != nil {
		return
	}
	week, err := labrec.ParseWeek(strings.TrimSpace(d.Week.Text))
	if err != nil {
		d.Result.SetText("Not made: " + err.Error())
		return
	}
	path := strings.TrimSpace(d.Path.Text)
	if path == "" {
		d.Result.SetText("Not made: choose the file to save the report in.")
		return
	}
	if !strings.EqualFold(filepath.Ext(path), ".pdf") {
		path += ".pdf"
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || !fi.IsDir() {
		d.Result.SetText(fmt.Sprintf("Not made: the folder %s does not exist; choose another with the folder button.", filepath.Dir(path)))
		return
	}
	ctx, cancel := context.WithCancel(d.v.e.ctx)
	d.stop = cancel
	d.Make.Disable()
	d.Cancel.Enable()
	d.busy.Show()
	d.busy.Start()
	d.Result.SetText(fmt.Sprintf("Reading week %s from the lab server and writing %s…", week, path))
	lab := d.v.e.lab
	d.v.e.spawn(func(context.Context) {
		err := lab.WeekReport(ctx, week, path)
		d.v.e.runOnUI(func() {
			cancel()
			d.stop = nil
			d.Make.Enable()
			d.Cancel.Disable()
			d.busy.Stop()
			d.busy.Hide()
			switch {
			case errors.Is(err, context.Canceled):
				d.Result.SetText("Cancelled.")
			case err != nil:
				d.Result.SetText("Not made: " + err.Error())
			default:
				d.saved = path
				d.Result.SetText(fmt.Sprintf("The report of week %s is saved in %s.", week, path))
				d.v.e.setStatus("Weekly programme report saved in " + path)
			}
		})
	})
}

// setProgrammeLevels puts on each row the level the sample's rules left it at: each
// rule's last level change, on the row the rule names (its taxon, or its HAB group by
// the group's name), as the bench's own table shows them (helper-40: the group row of a
// WATCH sample showed "–"). A rule summing taxa under another name matches no row.
func setProgrammeLevels(rows []countRow, al []labrec.ProgrammeAlert) {
	last := map[string]labrec.ProgrammeAlert{}
	for _, a := range al {
		if p, ok := last[a.Rule]; !ok || !a.Time.Before(p.Time) {
			last[a.Rule] = a
		}
	}
	for _, a := range last {
		var lv alerts.Level
		switch a.ToLevel {
		case alerts.Alert.String():
			lv = alerts.Alert
		case alerts.Watch.String():
			lv = alerts.Watch
		default:
			continue
		}
		for i := range rows {
			name := strings.TrimPrefix(rows[i].Name, "HAB group: ")
			if strings.EqualFold(name, a.Taxon) || strings.EqualFold(rows[i].Label, a.Taxon) {
				rows[i].Level = max(rows[i].Level, lv)
			}
		}
	}
}
