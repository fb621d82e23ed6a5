package ui

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/internal/unaccent"
	"github.com/phytoscreen/phytoscreen/report"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
)

// sampleEntry is one stored sample in the history list.
type sampleEntry struct {
	ID     string
	Site   string
	Taken  time.Time
	Runs   int
	Marked bool
	// Partial: a run examined less than the volume given (stopped, cut off), as the
	// detail and the report say; the list said nothing of it (helper-41).
	Partial bool
	// Raised is the highest level its runs raised while screened (store.RaisedLevels):
	// the week's alerts are found in the list, and by searching "alert" or "watch".
	Raised alerts.Level
}

// historyView lists the stored samples; for the chosen one it shows the counts (with
// the alert levels the current rules give them), the alerts, a chart of a taxon's
// concentration over time at the sample's site, and the export buttons.
type historyView struct {
	e       *env
	content fyne.CanvasObject

	list *widget.List
	// countsSplit shares the detail's height between the counts and the alerts.
	countsSplit *container.Split
	all         []sampleEntry // every stored sample
	entries     []sampleEntry // those the search matches
	selected    string
	// follow is the sample of the newest run, which the next Reload shows once (as the
	// gallery's follow): History opened on the demo after two samples were screened
	// (helper-81). given is the sample last handed to the gallery (GiveGallery).
	follow, given string
	search        *widget.Entry
	mark          *widget.Button
	del           *widget.Button
	// cont takes up the shown sample's run of a folder where it stopped: shown only for a
	// sample whose last run can be (store.Continuable).
	cont    *widget.Button
	compare *widget.Button
	// lastComparison is the text of the last comparison shown (Compare).
	lastComparison string
	// saveText asks where to save a text and saves it (mainWindow.saveTextAs).
	saveText func(what, name, text string)
	// compareNote is what the last Compare dialog said of how the samples compare.
	compareNote string
	trash       *widget.Button
	// confirm asks before a delete (tests answer it); nil: a dialog.
	confirm func(title, msg string, answer func(bool))

	header   *widget.Label
	counts   *countsTable
	alerts   *widget.Label
	taxonSel *widget.Select
	taxonKey map[string]string // choice -> "group:ID" or a label
	chart    *trendChart
	exports  []*widget.Button
	gallery  *widget.Button
	counted  store.Counts
	// shownRules and shownTx are the rules the shown sample is measured under and its
	// pack's taxonomy (nil: the pack in use's), for the chart's level lines.
	shownRules alerts.Binding
	shownTx    *screening.Taxonomy
	gen        int

	// Mode chooses this bench or the whole programme (from the lab server); Mode and prog
	// are nil when the app has no lab server.
	Mode  *widget.RadioGroup
	bench fyne.CanvasObject // this bench's view
	prog  *programmeView
}

// newHistory makes the history screen; export writes a stored sample's export (asking
// where), showCrops shows a sample's crops in the gallery, continueRun takes up a
// sample's run that stopped before its folder's end.
func newHistory(e *env, export func(id, format string), showCrops func(id string), continueRun func(id string)) *historyView {
	h := &historyView{e: e}
	h.list = widget.NewList(func() int { return len(h.entries) },
		func() fyne.CanvasObject {
			t := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
			t.Truncation = fyne.TextTruncateEllipsis
			// Two caption lines: on one, "raised WATCH · Loch Fyne pen 3 · 2026-12-08
			// 00:5…" lost its time and runs at the list's width in a 1320 px window
			// (helper-98). Only a long site is shortened now, with an ellipsis.
			var lines []fyne.CanvasObject
			for range 2 {
				d := widget.NewLabel("")
				d.SizeName = theme.SizeNameCaptionText
				d.Truncation = fyne.TextTruncateEllipsis
				lines = append(lines, d)
			}
			// The caption lines sit close under the title: three padded labels made each
			// sample 30 px taller, fewer on a laptop's screen.
			return container.NewVBox(t, container.New(layout.NewCustomPaddedVBoxLayout(-theme.InnerPadding()), lines...))
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			e := h.entries[id]
			b := o.(*fyne.Container)
			title := e.ID
			if e.Marked {
				title = "★ " + title
			}
			b.Objects[0].(*widget.Label).SetText(title)
			where, when := historyLines(e)
			lines := b.Objects[1].(*fyne.Container).Objects
			if where == "" { // no blank line between the ID and the time
				where, when = when, ""
			}
			lines[0].(*widget.Label).SetText(where)
			lines[1].(*widget.Label).SetText(when)
		})
	h.list.OnSelected = func(id widget.ListItemID) {
		if id < len(h.entries) {
			h.Select(h.entries[id].ID)
		}
	}
	h.header = widget.NewLabel(chooseSample)
	h.header.Wrapping = fyne.TextWrapWord
	h.counts = newCountsTable(false)
	h.alerts = widget.NewLabel("")
	h.alerts.Wrapping = fyne.TextWrapWord
	h.taxonSel = widget.NewSelect(nil, func(string) { h.loadChart() })
	h.chart = newTrendChart()
	for _, f := range []struct{ label, format string }{
		{"Counts CSV", store.FormatCounts}, {"Objects CSV", store.FormatObjects}, {"EcoTaxa zip", store.FormatEcoTaxa}, {"PDF report", formatReport},
	} {
		format := f.format
		b := widget.NewButtonWithIcon(f.label, theme.DocumentSaveIcon(), func() { export(h.selected, format) })
		b.Disable()
		h.exports = append(h.exports, b)
	}
	h.gallery = widget.NewButtonWithIcon("Show crops", theme.GridIcon(), func() { showCrops(h.selected) })
	h.gallery.Disable()
	h.mark = widget.NewButton("★ Mark", h.ToggleMark)
	h.mark.Disable()
	h.del = widget.NewButtonWithIcon("Delete…", theme.DeleteIcon(), h.Delete)
	h.del.Disable()
	h.compare = widget.NewButtonWithIcon("Compare…", theme.ViewRestoreIcon(), h.Compare)
	h.compare.Disable()
	h.cont = widget.NewButtonWithIcon("Continue run", theme.MediaPlayIcon(), func() { continueRun(h.selected) })
	h.cont.Importance = widget.HighImportance
	h.cont.Hide()
	h.trash = widget.NewButtonWithIcon("Trash…", theme.HistoryIcon(), h.ShowTrash)
	h.search = widget.NewEntry()
	h.search.SetPlaceHolder("search ID, site or date")
	h.search.OnChanged = func(string) { h.applySearch() }

	buttons := container.NewHBox()
	for _, b := range h.exports {
		buttons.Add(b)
	}
	buttons.Add(h.gallery)
	buttons.Add(h.mark)
	buttons.Add(h.compare)
	buttons.Add(h.del)
	buttons.Add(h.cont)
	chartBox := container.NewBorder(container.NewBorder(nil, nil, widget.NewLabelWithStyle("Chart", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), nil, h.taxonSel), nil, nil, nil, h.chart)
	detailTop := container.NewVBox(h.header, buttons)
	// The alerts scroll in their own pane under the counts: at their full height they
	// left the counts table one row (helper-52, a sample of two runs with alerts).
	alertsBox := container.NewBorder(widget.NewLabelWithStyle("Alerts under the current rules, then as recorded; energy", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		nil, nil, nil, container.NewVScroll(h.alerts))
	h.countsSplit = container.NewVSplit(h.counts, alertsBox)
	h.countsSplit.Offset = 0.6
	countsBox := container.NewBorder(widget.NewLabelWithStyle("Counts", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), nil, nil, nil, h.countsSplit)
	body := container.NewHSplit(countsBox, chartBox)
	// The counts take what their columns need on a laptop's 1280 px: at half the width
	// the Alert column was cut to "Unchecke" at the pane's edge (helper-95); the chart
	// reads as well a little narrower.
	body.Offset = 0.56
	detail := container.NewBorder(detailTop, nil, nil, nil, body)
	left := container.NewBorder(container.NewVBox(
		container.NewBorder(nil, nil, widget.NewLabelWithStyle("Samples", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), h.trash),
		h.search), nil, nil, nil, h.list)
	split := container.NewHSplit(left, container.NewPadded(detail))
	split.Offset = 0.2
	h.content = split
	h.bench = split
	if e.lab != nil {
		h.prog = newProgrammeView(e)
		h.prog.content.Hide()
		h.Mode = widget.NewRadioGroup([]string{modeBench, modeProgramme}, func(string) { h.switchMode() })
		h.Mode.Horizontal = true
		h.Mode.Required = true
		h.Mode.Selected = modeBench
		h.content = container.NewBorder(h.Mode, nil, nil, nil, container.NewStack(split, h.prog.content))
	}
	if e.svc.Store == nil {
		h.header.SetText("The session store could not be opened, so there is no history. See the message at launch.")
	}
	return h
}

// historyLines are the two lines under a sample's ID in History's list: the level its
// runs raised, first (cut off at the list's edge it read "raised ALER", helper-69), and
// its site; then when it was taken, its runs and whether it is partial.
func historyLines(e sampleEntry) (where, when string) {
	var parts []string
	if e.Raised > alerts.None {
		parts = append(parts, "raised "+strings.ToUpper(e.Raised.String()))
	}
	if e.Site != "" {
		parts = append(parts, e.Site)
	}
	where = strings.Join(parts, " · ")
	when = fmt.Sprintf("%s · %d run%s", e.Taken.Local().Format("2006-01-02 15:04"), e.Runs, plural(e.Runs))
	if e.Partial {
		when += " · partial"
	}
	return where, when
}

// programme reports whether History shows the whole programme.
func (h *historyView) programme() bool { return h.Mode != nil && h.Mode.Selected == modeProgramme }

// switchMode shows the view Mode chose and reads it.
func (h *historyView) switchMode() {
	if h.programme() {
		h.bench.Hide()
		h.prog.content.Show()
	} else {
		h.prog.stop()
		h.prog.content.Hide()
		h.bench.Show()
	}
	h.Reload()
}

// Reload reads the list of stored samples again (in programme mode, the programme's).
func (h *historyView) Reload() {
	if h.programme() {
		h.prog.Load()
		return
	}
	st := h.e.svc.Store
	if st == nil {
		return
	}
	h.gen++
	gen := h.gen
	h.e.spawn(func(ctx context.Context) {
		entries, err := listSamples(ctx, st)
		h.e.runOnUI(func() {
			if gen != h.gen {
				return
			}
			if err != nil {
				h.e.showError("Could not read the session store", err)
				return
			}
			h.all = entries
			h.applySearch()
			if len(entries) == 0 {
				h.header.SetText("No samples stored yet in " + st.Path() + ". Screen one on the Live tab.")
				return
			}
			if h.follow != "" {
				h.selected, h.follow = h.follow, ""
			}
			i := slices.IndexFunc(h.entries, func(e sampleEntry) bool { return e.ID == h.selected })
			if i < 0 {
				i = 0
			}
			if len(h.entries) > 0 {
				h.list.Select(i)
				h.Select(h.entries[i].ID) // also when it was selected already: its figures and mark anew
			}
		})
	})
}

// Follow makes the next Reload show sample id, the newest run's (UI goroutine).
func (h *historyView) Follow(id string) { h.follow = id }

// GiveGallery is the sample History shows when it is not the one it last gave the
// gallery, "" otherwise: the gallery opens on a sample chosen in History (helper-81: it
// stayed on another), and keeps one chosen in the gallery while History's is unchanged.
func (h *historyView) GiveGallery() string {
	if h.selected == "" || h.selected == h.given {
		return ""
	}
	h.given = h.selected
	return h.selected
}

// applySearch shows the samples whose ID, site or date (2025-06-03) holds the search
// text, marked ones matching "★" or "marked", those that raised a level "alert" or
// "watch".
func (h *historyView) applySearch() {
	// Without accents on either side: "etang" found nothing of "Étang de Thau" (helper-67).
	q := strings.ToLower(unaccent.String(strings.TrimSpace(h.search.Text)))
	h.entries = h.entries[:0]
	for _, e := range h.all {
		// The date as the list and the gallery write it too ("Nov 17"): searched for so,
		// it found nothing (helper-62).
		hay := strings.ToLower(unaccent.String(e.ID + " " + e.Site + " " + e.Taken.Local().Format("2006-01-02 15:04") + " " + e.Taken.Local().Format("Jan 2 2006 15:04")))
		if e.Marked {
			hay += " ★ marked"
		}
		if e.Raised > alerts.None {
			hay += " raised " + e.Raised.String()
		}
		if q == "" || strings.Contains(hay, q) {
			h.entries = append(h.entries, e)
		}
	}
	h.list.Refresh()
	// The list keeps its highlighted row by index, which after a new filter is another
	// sample than the one shown, and the buttons act on the one shown: the shown
	// sample's row is highlighted again, or, when the search hides it, nothing is shown.
	if i := slices.IndexFunc(h.entries, func(e sampleEntry) bool { return e.ID == h.selected }); i >= 0 {
		h.list.Select(i)
	} else if h.selected != "" {
		h.list.UnselectAll()
		h.clearShown(searchHid)
	} else if h.header.Text == searchHid && q == "" {
		// The search cleared: it hides nothing any more (helper-69 read the line after).
		h.header.SetText(chooseSample)
	}
}

// History's heading with no sample shown.
const (
	chooseSample = "Choose a sample on the left."
	searchHid    = "No sample shown: the search hides the one that was. " + chooseSample
)

// clearShown empties the sample pane and disables what acts on a sample.
func (h *historyView) clearShown(why string) {
	h.selected = ""
	h.gen++ // a load under way must not fill the pane
	for _, b := range append(h.exports, h.gallery, h.mark, h.compare, h.del) {
		b.Disable()
	}
	h.cont.Hide()
	h.header.SetText(why)
	h.counts.Clear("No sample shown.")
	h.alerts.SetText("")
	// The chart too: it stayed on the hidden sample's site trend, its point marked.
	h.counted = store.Counts{}
	h.shownRules, h.shownTx = alerts.Binding{}, nil
	h.taxonSel.ClearSelected()
	h.taxonSel.SetOptions(nil)
	h.chart.Set(nil, "", chartLevels{}, colorBrand)
}

// ToggleMark marks the selected sample, or unmarks it.
func (h *historyView) ToggleMark() {
	st, id := h.e.svc.Store, h.selected
	if st == nil || id == "" {
		return
	}
	marked := strings.HasPrefix(h.mark.Text, "★")
	h.e.spawn(func(ctx context.Context) {
		err := st.MarkSample(ctx, id, marked)
		h.e.runOnUI(func() {
			if err != nil {
				h.e.showError("Could not mark the sample", err)
				return
			}
			h.Reload() // it selects the sample again, which shows its mark
		})
	})
}

// Delete moves the selected sample to the trash, after asking; it can be restored
// from Trash… for store.TrashKeep.
func (h *historyView) Delete() {
	st, id := h.e.svc.Store, h.selected
	if st == nil || id == "" {
		return
	}
	msg := fmt.Sprintf("Move sample %s to the trash? It leaves the lists and charts now; you can restore it from Trash… for %d days.", id, int(store.TrashKeep.Hours()/24))
	do := func(ok bool) {
		if !ok {
			return
		}
		h.e.spawn(func(ctx context.Context) {
			err := st.DeleteSample(ctx, id)
			h.e.runOnUI(func() {
				if err != nil {
					h.e.showError("Could not delete the sample", err)
					return
				}
				h.e.setStatus("Sample " + id + " moved to the trash (History › Trash… restores it).")
				// Its pane goes too: the only match of a search, it stayed shown with its
				// buttons on, and its PDF report did nothing (helper-62).
				h.list.UnselectAll()
				h.clearShown("Sample " + id + " is in the trash (Trash… restores it). Choose a sample on the left.")
				h.Reload()
			})
		})
	}
	if h.confirm != nil {
		h.confirm("Delete sample "+id+"?", msg, do)
		return
	}
	dialog.ShowConfirm("Delete sample "+id+"?", msg, do, h.e.win)
}

// ShowTrash lists the deleted samples with a Restore button each.
func (h *historyView) ShowTrash() {
	st := h.e.svc.Store
	if st == nil {
		return
	}
	h.e.spawn(func(ctx context.Context) {
		items, err := st.TrashedSamples(ctx)
		h.e.runOnUI(func() {
			if err != nil {
				h.e.showError("Could not read the trash", err)
				return
			}
			box := container.NewVBox()
			if len(items) == 0 {
				box.Add(widget.NewLabel("The trash is empty."))
			}
			var d dialog.Dialog
			for _, it := range items {
				id := it.ID
				l := widget.NewLabel(fmt.Sprintf("%s · %s · deleted %s", id, siteName(it.Site), it.Deleted.Local().Format("2006-01-02 15:04")))
				box.Add(container.NewBorder(nil, nil, nil, widget.NewButton("Restore", func() {
					h.Restore(id)
					if d != nil {
						d.Hide()
					}
				}), l))
			}
			d = dialog.NewCustom("Trash", "Close", container.NewVScroll(box), h.e.win)
			d.Resize(fyne.NewSize(620, 360))
			d.Show()
		})
	})
}

// Restore takes a sample out of the trash and shows it.
func (h *historyView) Restore(id string) {
	st := h.e.svc.Store
	h.e.spawn(func(ctx context.Context) {
		err := st.RestoreSample(ctx, id)
		h.e.runOnUI(func() {
			if err != nil {
				h.e.showError("Could not restore the sample", err)
				return
			}
			h.e.setStatus("Sample " + id + " restored from the trash.")
			h.selected = id
			h.Reload()
		})
	})
}

// listSamples reads every stored sample's site, date and runs, the last taken first
// (a sample taken last week and screened today sits among last week's, as in the site's
// trend), samples taken at the same time in the order they were entered, newest first.
func listSamples(ctx context.Context, st *store.Store) ([]sampleEntry, error) {
	ids, err := st.SampleIDs(ctx)
	if err != nil {
		return nil, err
	}
	raised, err := st.RaisedLevels(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]sampleEntry, 0, len(ids))
	for _, id := range ids {
		si, err := st.Sample(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, sampleEntry{ID: id, Site: si.Site, Taken: si.Taken, Runs: len(si.Runs), Marked: si.Marked, Partial: si.Partial(), Raised: raised[id]})
	}
	slices.SortStableFunc(out, func(a, b sampleEntry) int { return b.Taken.Compare(a.Taken) })
	return screening.MainThenCompanions(out, func(e sampleEntry) string { return e.ID }), nil
}

// Select shows a stored sample.
func (h *historyView) Select(id string) {
	st := h.e.svc.Store
	if st == nil {
		return
	}
	h.selected = id
	h.gen++
	gen := h.gen
	inUse := h.e.svc.Taxonomy.Pack
	current := h.e.rules()
	h.e.spawn(func(ctx context.Context) {
		// Cells as the sample's pack estimates them, so the alerts and the chart
		// measure colonies in cells as the live run and the PDF report do.
		c, tx, _, err := app.SampleCounts(ctx, st, id)
		rec := recorded{tx: tx}
		if err == nil && tx != nil && len(c.Sample.Runs) > 0 && tx.Pack != inUse {
			rec.ownRules = rulesForSample(current, c.Sample.Runs[len(c.Sample.Runs)-1].Rules, tx)
			rec.inUse = rec.ownRules != nil && rec.ownRules.Ruleset == current.Ruleset
		}
		if err == nil {
			rec.events, rec.err = st.AlertEvents(ctx, id)
			if rec.err == nil {
				rec.energy, rec.err = st.Energy(ctx, id)
			}
			rec.started = map[int64]time.Time{}
			for _, r := range c.Sample.Runs {
				rec.started[r.ID] = r.Started
			}
			// Why not is said by the store when asked (the button's message): a
			// sample that was never cut short is the usual case, not an error.
			_, cerr := st.Continuable(ctx, id)
			rec.continuable = cerr == nil
		}
		h.e.runOnUI(func() {
			if gen != h.gen {
				return
			}
			for _, b := range append(h.exports, h.gallery, h.mark, h.compare, h.del) {
				b.Enable()
			}
			h.mark.SetText("★ Mark")
			if err == nil && rec.continuable {
				h.cont.Show()
			} else {
				h.cont.Hide()
			}
			if err == nil && c.Sample.Marked {
				h.mark.SetText("☆ Unmark")
			}
			if err != nil {
				h.header.SetText(fmt.Sprintf("Sample %s: %v", id, err))
				h.counts.SetRows(nil)
				h.alerts.SetText("")
				return
			}
			h.show(c, rec)
		})
	})
}

// recorded is what the runs wrote down at the time: the alert level changes and the
// power record.
type recorded struct {
	events []alerts.Event
	energy []store.RunEnergy
	// started is each run's start, by its store-wide ID: the energy lines name a run by
	// when it ran ("run 4" of a sample of one run read as a missing three: helper-47).
	started map[int64]time.Time
	err     error
	// ownRules, for a sample screened with another pack than the one in use, is the
	// rules its last run was screened with bound to its own pack (nil when they cannot
	// be read again: a rules file since moved). The current rules, bound to the pack in
	// use, name none of its labels: every Alert cell read "–" beside the PDF's ALERT
	// (helper-41).
	ownRules *alerts.Binding
	// inUse: ownRules are the rules in use (bound to the sample's pack), not those it
	// was screened with.
	inUse bool
	// tx is the taxonomy of the sample's last run's pack (nil when not at hand).
	tx *screening.Taxonomy
	// continuable: the sample's last run stopped before its folder's end and can be
	// taken up.
	continuable bool
}

// rulesForSample is what History measures a sample of another pack under: the rules in
// use bound to the sample's own pack tx when any of them can fire on it (the marine
// default covers both NDSB packs: a sample of v2 read "none" under the WHO preset it was
// screened with, over its chart's Noctiluca above the default's level, helper-65), else
// the rules its last run was screened with; nil when those cannot be read again.
func rulesForSample(current alerts.Binding, runRules string, tx *screening.Taxonomy) *alerts.Binding {
	if b, ok := rulesOnPack(current, tx); ok {
		return &b
	}
	return ownRules(runRules, tx)
}

// rulesOnPack binds the rules in use to another pack's taxonomy tx; ok when any of them
// can fire on it.
func rulesOnPack(current alerts.Binding, tx *screening.Taxonomy) (alerts.Binding, bool) {
	if current.Ruleset == nil || tx == nil {
		return alerts.Binding{}, false
	}
	b := current.Ruleset.BindTo(tx, tx.Pack, current.Name)
	return b, len(b.Bound) > 0
}

// ownRules binds the rules a run was screened with ("preset default" or a file's path,
// as the store keeps them) to the sample's pack tx; nil when they cannot be opened.
func ownRules(runRules string, tx *screening.Taxonomy) *alerts.Binding {
	rs, name, err := alerts.Open(app.StoredRules(runRules), assets.Presets())
	if err != nil {
		return nil
	}
	b := rs.BindTo(tx, tx.Pack, name)
	return &b
}

// lines describes the alerts raised and the energy measured, one per line.
func (r recorded) lines() []string {
	if r.err != nil {
		return []string{"Recorded alerts and energy could not be read: " + r.err.Error()}
	}
	var out []string
	for _, e := range r.events {
		if !e.Raised() {
			continue
		}
		th := "present"
		if !e.Threshold.Presence {
			th = e.Threshold.Relation() + " " + fmtPerL(e.Threshold.CellsPerL()) + " cells/L"
		}
		counted := fmt.Sprintf("%d counted", e.Value.Count)
		if e.Value.Provisional { // on the share of the volume read then, not the sample's
			counted += " in the frames read by then"
		}
		out = append(out, fmt.Sprintf("Raised %s %s at %s: %s cells/L (%s), %s level %s · source: %s",
			strings.ToUpper(e.To.String()), e.Taxon, e.Time.Local().Format("15:04:05"), fmtPerL(e.Value.PerL), counted,
			e.To, th, sourceText(e.Source, e.Verified)))
	}
	for _, e := range r.energy {
		unit := ""
		if e.Estimated {
			unit = " (estimate)"
		}
		run := fmt.Sprintf("run %d", e.Run)
		if t, ok := r.started[e.Run]; ok && !t.IsZero() {
			run = "run of " + t.Local().Format("2006-01-02 15:04")
		}
		cells := fmt.Sprintf("%d cells", e.Cells)
		if e.Classified > e.Cells {
			// A run cut off loses the power span it was measuring (helper-75); a span
			// closed after a model switch is charged to the new model (helper-78).
			cells = fmt.Sprintf("%d of its %d cells (the power record covers those: a run cut off, or a model switched while it ran, leaves some outside it)", e.Cells, e.Classified)
		}
		out = append(out, fmt.Sprintf("Energy, %s, %s model: %s J per cell%s over %s and %s [%s]",
			run, e.Model, fmtSig(e.JoulesPerCell()), unit, cells, fmtDuration(e.Measured), e.Source))
	}
	return out
}

// Counted returns the counts shown (for tests).
func (h *historyView) Counted() store.Counts { return h.counted }

// sampleDetails is the line of what the technician typed in the sample's Details… that
// History shows ("" when none was): the analyst, depth, position and notes, as the PDF
// report gives them. History showed none of them, so notes typed before a run were
// never seen again in the app (helper-95).
func sampleDetails(s screening.Sample) string {
	var parts []string
	if a := strings.TrimSpace(s.Analyst); a != "" {
		parts = append(parts, "analyst "+a)
	}
	if !math.IsNaN(s.DepthM) && !math.IsInf(s.DepthM, 0) {
		parts = append(parts, "depth "+strconv.FormatFloat(s.DepthM, 'f', -1, 64)+" m")
	}
	if !math.IsNaN(s.Lat) && !math.IsNaN(s.Lon) {
		parts = append(parts, "position "+strconv.FormatFloat(s.Lat, 'f', -1, 64)+", "+strconv.FormatFloat(s.Lon, 'f', -1, 64))
	}
	if n := strings.TrimSpace(s.Notes); n != "" {
		parts = append(parts, "notes: "+n)
	}
	if len(parts) == 0 {
		return ""
	}
	d := strings.Join(parts, " · ")
	return strings.ToUpper(d[:1]) + d[1:]
}

// show fills the detail side from a sample's stored counts and what its runs recorded
// (UI goroutine).
func (h *historyView) show(c store.Counts, rec recorded) {
	another := h.counted.Sample.ID != c.Sample.ID
	h.counted = c
	si := c.Sample
	var models, finders []string
	frames := 0
	for _, r := range si.Runs {
		if !slices.Contains(models, r.Model) {
			models = append(models, r.Model)
		}
		if r.Finder != "" && !slices.Contains(finders, r.Finder) {
			finders = append(finders, r.Finder)
		}
		frames += r.FramesSeen
	}
	head := fmt.Sprintf("Sample %s", si.ID)
	if si.Site != "" {
		head += " · " + si.Site
	}
	head += fmt.Sprintf(" · taken %s\n%s mL examined, factor %s · %d run%s (%s), %d frames, %s objects (%d unidentified, %d failed)",
		si.Taken.Local().Format("2006-01-02 15:04 MST"), fmtVolume(si.VolumeML), fmtVolume(si.Factor), len(si.Runs), plural(len(si.Runs)),
		strings.Join(models, ", "), frames, fmtCount(c.Objects), c.Unidentified.Count, c.Failed)
	if len(finders) > 0 {
		head += " · objects found by " + strings.Join(finders, ", ")
	}
	if d := sampleDetails(si.Sample); d != "" {
		head += "\n" + d
	}
	if p := report.PartialRuns(si); p != "" { // as the PDF report says it
		head += "\n" + p
	}
	h.header.SetText(head)

	samplePack := lastRunPack(c.Sample)
	otherPack := samplePack != "" && samplePack != h.e.svc.Taxonomy.Pack
	rules := h.e.rules()
	if otherPack && rec.ownRules != nil {
		rules = *rec.ownRules
	}
	// The chart draws the levels of the rules the table is measured under, of the
	// sample's own taxa (helper-71: a sample of another pack showed its Alert, and its
	// chart no level lines).
	h.shownRules, h.shownTx = rules, rec.tx
	states := evaluateStored(rules, c)
	var raised []string
	for _, st := range states {
		if st.Level > alerts.None {
			measure, basis := stateDetail(st)
			raised = append(raised, fmt.Sprintf("%s %s: %s cells/L (%s · %s)", strings.ToUpper(st.Level.String()), st.Taxon, fmtPerL(st.Value.PerL), measure, basis))
		}
	}
	rows := storedRows(c)
	levelRows(rows, states, rec.tx)
	h.counts.SetRows(rows)
	if another {
		// Another sample starts at its top: scrolled down a longer table, the shorter
		// one's first rows (its HAB group) drew blank until scrolled (helper-62).
		h.counts.ScrollToTop()
	}
	switch {
	case otherPack && rec.ownRules != nil:
		which := "the rules it was screened with"
		if rec.inUse {
			which = "the rules in use"
		}
		head := fmt.Sprintf("Under %s, %s, on its pack %s (phytoscreen runs pack %s now):", rules.Name, which, samplePack, h.e.svc.Taxonomy.Pack)
		// As the sample's report says it: "none" read as an all-clear under a row of
		// colonies of unknown cells that its report calls not checked (helper-88).
		raised = append(raised, standingWords(states, rules.Name, samplePack, len(raised) > 0)...)
		raised = append([]string{head}, raised...)
	case otherPack:
		// The current rules are bound to the pack in use, whose labels are not this
		// sample's: "None" would read as an all-clear of taxa they never looked for.
		raised = []string{fmt.Sprintf("Not checked under the current rules: the sample was screened with pack %s, and phytoscreen runs pack %s now; the alerts as recorded follow.", samplePack, h.e.svc.Taxonomy.Pack)}
	case len(raised) == 0 && len(states) == 0:
		// No rule of the current set applies to this pack: "None" would read as an
		// all-clear.
		raised = append(raised, fmt.Sprintf("Not checked: no rule of %s applies to this pack (choose the rules for it in Settings › Alerts).", h.e.rules().Name))
	case len(raised) == 0 && alerts.UncheckedText(states, fmtPerL) != "":
		// Colonies counted one cell each, or none counted where one would reach a
		// level: "None" would read as an all-clear.
		raised = append(raised, fmt.Sprintf("Not checked under %s: %s", h.e.rules().Name, alerts.UncheckedText(states, fmtPerL)))
	case len(raised) == 0:
		raised = append(raised, fmt.Sprintf("None under %s.", h.e.rules().Name))
	}
	if !otherPack {
		for _, st := range states {
			if text := st.ReviewText(fmtPerL); text != "" {
				// Below a level only because the objects that would reach it wait for
				// review: the review decides.
				raised = append(raised, "Review decides: "+text+"; review them (Gallery and review › Review queue) before reading the sample as below it.")
			}
		}
	}
	if !otherPack {
		// The rules in use may not be those it was screened with: say which were
		// (helper-52: a sample screened under the marine defaults showed the WHO
		// preset's alert, with no word that it was not screened under it).
		var screened []string
		for _, r := range si.Runs {
			if r.Rules != "" && r.Rules != rules.Name && !slices.Contains(screened, r.Rules) {
				screened = append(screened, r.Rules)
			}
		}
		if len(screened) > 0 {
			raised = append([]string{fmt.Sprintf("Screened with %s; checked here under %s, the rules in use:", strings.Join(screened, ", "), rules.Name)}, raised...)
		}
	}
	h.alerts.SetText(strings.Join(append(raised, rec.lines()...), "\n"))

	// Chart choices: the HAB groups, then the sample's taxa.
	h.taxonKey = map[string]string{}
	var opts []string
	for _, g := range c.Groups {
		k := "Group: " + g.Name
		h.taxonKey[k] = "group:" + g.Label
		opts = append(opts, k)
	}
	for _, t := range c.Taxa {
		h.taxonKey[t.Name] = t.Label
		opts = append(opts, t.Name)
	}
	prev := h.taxonSel.Selected
	h.taxonSel.Options = opts
	if !slices.Contains(opts, prev) {
		prev = ""
		// Default: the most abundant HAB group present, else the most abundant taxon.
		best := -1
		for _, g := range c.Groups {
			if g.Count > best {
				best, prev = g.Count, "Group: "+g.Name
			}
		}
		if best <= 0 && len(c.Taxa) > 0 {
			prev = c.Taxa[0].Name
		}
	}
	h.taxonSel.Selected = prev
	h.taxonSel.Refresh()
	h.loadChart()
}

// standingWords is what History says of a sample of another pack under rules (named
// name, bound to its pack) besides the levels raised: no rule applies, the rules not
// checked and why, or "none" when nothing is raised and every rule is checked; then
// what the review decides.
func standingWords(states []alerts.State, name, pack string, raised bool) []string {
	var out []string
	switch {
	case len(states) == 0:
		out = append(out, fmt.Sprintf("Not checked: no rule of %s applies to pack %s.", name, pack))
	case alerts.UncheckedText(states, fmtPerL) != "":
		out = append(out, "Not checked: "+alerts.UncheckedText(states, fmtPerL))
	case !raised:
		out = append(out, "none")
	}
	for _, st := range states {
		if text := st.ReviewText(fmtPerL); text != "" {
			out = append(out, "Review decides: "+text+".")
		}
	}
	return out
}

// storedRows are a stored sample's counts as the Live tab shows a run's: the HAB groups
// first (what rules that sum taxa watch, with their level), then the taxa with the level
// of the rules on them alone, the unidentified last.
func storedRows(c store.Counts) []countRow {
	rows := make([]countRow, 0, len(c.Groups)+len(c.Taxa)+1)
	for _, g := range c.Groups {
		rows = append(rows, countRow{Label: groupKey + g.Label, Name: "HAB group: " + g.Name, Group: g.Label, Unit: g.Unit,
			Concentration: g.Concentration, IsGroup: true, Cells: g.Cells})
	}
	for _, t := range c.Taxa {
		rows = append(rows, countRow{Label: t.Label, Name: t.Name, Group: t.Group, Unit: t.Unit, Concentration: t.Concentration, Cells: t.Cells})
	}
	return append(rows, countRow{Label: screening.Unidentified, Name: "Unidentified (to review)", Concentration: c.Unidentified})
}

// evaluateStored applies the rules to a stored sample's counts: the alert each rule
// gives it now.
// Rules are in cells: colonies, filaments and chains count by the cells in them, as the
// live run counts them (screening.RuleMeasure).
func evaluateStored(r alerts.Binding, c store.Counts) []alerts.State {
	byLabel := make(map[string]ruleTally, len(c.Taxa))
	for _, t := range c.Taxa {
		byLabel[t.Label] = ruleTally{count: t.Count, cells: t.Cells, unknown: t.CellsUnknown}
	}
	addGuessed(byLabel, c.Guessed)
	return evaluateTallies(r, c.Sample.Sample, byLabel)
}

// evaluateSnapshot measures an ended run's counts (its snapshot) against rules r, which
// may not be those it ran with: the Live tab's banner and table after the rules change.
func evaluateSnapshot(r alerts.Binding, s screening.Snapshot) []alerts.State {
	byLabel := make(map[string]ruleTally, len(s.Taxa))
	for _, t := range s.Taxa {
		byLabel[t.Label] = ruleTally{count: t.Count, cells: t.CellsEstimate, oversize: t.OversizeCells, unknown: t.CellsUnknown}
	}
	addGuessed(byLabel, s.Guessed)
	return evaluateTallies(r, s.Sample, byLabel)
}

// earlierCounts is what a sample's stored runs counted, kept while a continuation of it
// runs: its taxa as rules measure them, the volume they examined and how many runs.
type earlierCounts struct {
	byLabel    map[string]ruleTally
	examinedML float64
	runs       int
}

func earlierOf(c store.Counts) *earlierCounts {
	e := &earlierCounts{byLabel: make(map[string]ruleTally, len(c.Taxa)), examinedML: c.Sample.VolumeML, runs: len(c.Sample.Runs)}
	for _, t := range c.Taxa {
		e.byLabel[t.Label] = ruleTally{count: t.Count, cells: t.Cells, oversize: t.OversizeCells, unknown: t.CellsUnknown}
	}
	addGuessed(e.byLabel, c.Guessed)
	return e
}

// evaluateWithEarlier measures a continuation's live counts (its snapshot s, on the
// share of its frames read so far) together with the sample's earlier runs, as History
// does and will once it ends: counts and examined volumes added, the point figures
// deciding. A green NO ALERT over a sample its earlier runs put at ALERT, the banner
// saying "this run only", read as the sample's standing (helper-59). Not on the
// interval's lower bound, as a run's own alerts are while it reads: the earlier runs'
// figures have already decided the sample's level, and the first frames of the
// continuation put an ALERT sample at WATCH for two seconds (helper-61).
func evaluateWithEarlier(r alerts.Binding, e *earlierCounts, s screening.Snapshot) []alerts.State {
	byLabel := maps.Clone(e.byLabel)
	for _, t := range s.Taxa {
		b := byLabel[t.Label]
		b.count += t.Count
		b.cells += t.CellsEstimate
		b.oversize += t.OversizeCells
		b.unknown += t.CellsUnknown
		byLabel[t.Label] = b
	}
	if !s.SoFar {
		// While the continuation is read its figures are not final: the guesses wait, as
		// the pipeline's own (helper-78).
		addGuessed(byLabel, s.Guessed)
	}
	sm := s.Sample
	sm.VolumeML = e.examinedML + s.Sample.VolumeML
	return evaluateTallies(r, sm, byLabel)
}

// ruleTally is what a rule measures of one taxon: objects, the cells estimated in them
// (those in unsplit oversize objects among them) and the objects of unknown cells.
type ruleTally struct {
	count           int
	cells, oversize float64
	unknown         int
	// guessed are the unidentified objects the model guessed as the taxon, and the
	// cells in them: what the review could add (screening.WithGuessed).
	guessed      int
	guessedCells float64
}

// addGuessed adds the unidentified objects guessed per label to byLabel.
func addGuessed(byLabel map[string]ruleTally, guessed map[string]screening.Guess) {
	for l, g := range guessed {
		t := byLabel[l]
		t.guessed += g.Count
		t.guessedCells += g.Cells
		byLabel[l] = t
	}
}

// evaluateTallies measures the taxa counted in sample sm against rules r, as a run
// measures them (screening.RuleMeasure), all counts in.
func evaluateTallies(r alerts.Binding, sm screening.Sample, byLabel map[string]ruleTally) []alerts.State {
	ev := alerts.NewEvaluator(r.Bound, r.Hysteresis())
	ev.Update(time.Time{}, func(labels []string) alerts.Measure {
		var sum ruleTally
		for _, l := range labels {
			t := byLabel[l]
			sum.count += t.count
			sum.cells += t.cells
			sum.oversize += t.oversize
			sum.unknown += t.unknown
			sum.guessed += t.guessed
			sum.guessedCells += t.guessedCells
		}
		m := screening.RuleMeasure(sm.Concentration(sum.count), sum.cells)
		if m.Cells > 0 {
			m.Oversize = sum.oversize
		}
		m.CellsUnknown = sum.unknown
		return screening.WithGuessed(m, sm, sum.count, sum.cells, sum.guessed, sum.guessedCells)
	})
	return ev.States()
}

// loadChart reads the chosen taxon's concentration in every sample of the same site.
func (h *historyView) loadChart() {
	st := h.e.svc.Store
	choice := h.taxonSel.Selected
	key, ok := h.taxonKey[choice]
	if st == nil || !ok {
		h.chart.Set(nil, "", chartLevels{}, colorBrand)
		return
	}
	site := h.counted.Sample.Site
	current := h.counted.Sample.ID
	// Every sample of the site, whatever the search shows in the list: the chart is the
	// site's trend, and it followed the search box (helper-54).
	entries := slices.Clone(h.all)
	levels := h.chartLevels(key)
	col := colorBrand
	if !strings.HasPrefix(key, "group:") {
		if x, ok := h.e.svc.Taxonomy.Lookup(key); ok {
			col = taxonColor(key, x.Group)
		}
	} else if c, ok := habColors[strings.TrimPrefix(key, "group:")]; ok {
		col = c
	}
	title := strings.TrimPrefix(choice, "Group: ") + " at " + siteName(siteSpelling(entries, site))
	h.gen++
	gen := h.gen
	h.e.spawn(func(ctx context.Context) {
		pts, unseen, err := chartPoints(ctx, st, entries, site, key, current)
		if unseen > 0 {
			// On a line of its own: on one, the title ran out of the chart at both ends
			// (helper-93).
			title += fmt.Sprintf("\n(%d sample%s of other packs left out: not looked for)", unseen, plural(unseen))
		}
		h.e.runOnUI(func() {
			if gen != h.gen {
				return
			}
			if err != nil {
				h.e.showError("Could not draw the chart", err)
				return
			}
			h.chart.Set(pts, title, levels, col)
		})
	})
}

func siteName(s string) string {
	if s == "" {
		return "an unnamed site"
	}
	return s
}

// chartLevels are the watch and alert levels (cells/L) of the first rule counting key,
// for the trend chart.
func (h *historyView) chartLevels(key string) chartLevels {
	tx, rules := h.shownTx, h.shownRules
	if tx == nil {
		tx = h.e.svc.Taxonomy
	}
	if rules.Ruleset == nil {
		rules = h.e.rules()
	}
	var labels []string
	if g, ok := strings.CutPrefix(key, "group:"); ok {
		labels = tx.Members(g)
	} else {
		labels = []string{key}
	}
	level := func(th *alerts.Threshold) float64 {
		if th == nil || th.Presence {
			return 0
		}
		return th.CellsPerL()
	}
	for _, b := range rules.Bound {
		for _, l := range labels {
			if slices.Contains(b.Labels, l) && (level(b.Rule.Watch) > 0 || level(b.Rule.Alert) > 0) {
				return chartLevels{Watch: level(b.Rule.Watch), Alert: level(b.Rule.Alert),
					WatchAbove: b.Rule.Watch != nil && b.Rule.Watch.Above, AlertAbove: b.Rule.Alert != nil && b.Rule.Alert.Above}
			}
		}
	}
	return chartLevels{}
}

// siteSpelling is the spelling of site most of entries use, of the spellings the
// search takes for one site (screening.SameSite); the first met on a tie, site itself
// when none matches.
func siteSpelling(entries []sampleEntry, site string) string {
	var spellings []string
	for _, e := range entries {
		if screening.SameSite(e.Site, site) {
			spellings = append(spellings, e.Site)
		}
	}
	if len(spellings) == 0 {
		return site
	}
	return screening.MostUsedSpelling(spellings)
}

// chartPoints reads key's concentration (a label, or "group:ID") in every sample taken
// at site, spelt as the search takes it (screening.SameSite): the chart of "Lagoon
// North" plotted LN-4 alone where the search listed LN-2 at "Lagoon north" with it
// (helper-91).
// A sample whose packs cannot see key (app.LooksFor: none names the label or the
// group) is left out and counted in unseen: plotted as 0, it read as a sample that had
// none (helper-41: a cyanobacteria trend of five zeros from samples screened with the
// NDSB pack). A sample of colonies of unknown cells is a LowerBound point.
func chartPoints(ctx context.Context, st *store.Store, entries []sampleEntry, site, key, current string) (pts []chartPoint, unseen int, err error) {
	group, isGroup := strings.CutPrefix(key, "group:")
	for _, e := range entries {
		if !screening.SameSite(e.Site, site) {
			continue
		}
		c, _, _, err := app.SampleCounts(ctx, st, e.ID)
		if err != nil {
			continue // a sample with no finished run has nothing to chart
		}
		// In cells per litre, as the chart's axis and the alert threshold drawn on it:
		// a colony counts by the cells estimated in it.
		if !app.LooksFor(c, key) { // as the comparison says "not looked for"
			unseen++
			continue
		}
		k := screening.RuleMeasure(c.Sample.Concentration(0), 0)
		list := c.Taxa
		if isGroup {
			list = c.Groups
		}
		lower := false
		for _, t := range list {
			if (isGroup && t.Label == group) || (!isGroup && t.Label == key) {
				k = screening.RuleMeasure(t.Concentration, t.Cells)
				// Colonies of unknown cells counted one cell each: a lower bound, joined
				// to the counts of known cells it read as a 77-fold fall (helper-88).
				lower = t.CellsUnknown > 0
			}
		}
		if math.IsNaN(k.PerL) {
			continue
		}
		pts = append(pts, chartPoint{Sample: e.ID, Time: e.Taken, PerL: k.PerL, Low: k.Low, High: k.High, Current: e.ID == current, LowerBound: lower})
	}
	return pts, unseen, nil
}
