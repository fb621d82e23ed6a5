package ui

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
)

// rowOf returns the counts table row of label.
func rowOf(rows []countRow, label string) (countRow, bool) {
	for _, r := range rows {
		if r.Label == label {
			return r, true
		}
	}
	return countRow{}, false
}

func countOf(rows []countRow, label string) int {
	r, _ := rowOf(rows, label)
	return r.Count
}

// cellTexts renders a counts table cell for row r and column col as the table does and
// returns the texts it shows.
func cellTexts(col int, r countRow) []string {
	c := newCountCell().(*fyne.Container)
	updateCountCell(c, col, r)
	var out []string
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if !o.Visible() {
			return
		}
		switch x := o.(type) {
		case *canvas.Text:
			out = append(out, x.Text)
		case *widget.Label:
			out = append(out, x.Text)
		case *fyne.Container:
			for _, ch := range x.Objects {
				walk(ch)
			}
		}
	}
	walk(c)
	return out
}

func TestCountsUpdateFromPipeline(t *testing.T) {
	h := newHarness(t, nil)
	p := h.a.svc.Pack
	noct, cop, det := labelIndex(t, p, "protist_noctiluca"), labelIndex(t, p, "copepod_calanoid"), labelIndex(t, p, "detritus_other")
	src := newGatedSource(6, func(int) []fakeCell { return []fakeCell{{noct, 0.9}, {cop, 0.8}, {det, 0.3}} })
	h.startRun(src, "S-COUNTS", 2)

	src.release(1)
	h.pump("the first frame's cells in the table", 10*time.Second, func() bool {
		rows := h.a.counts.Rows()
		return countOf(rows, "protist_noctiluca") == 1 && countOf(rows, screening.Unidentified) == 1
	})
	// 1 cell in 2 mL at factor 1: 500 cells/L, with the exact Poisson interval.
	r, _ := rowOf(h.a.counts.Rows(), "protist_noctiluca")
	lo, hi := screening.PoissonCI(1, 0.95)
	if r.PerL != 500 || math.Abs(r.Low-lo*500) > 1e-6 || math.Abs(r.High-hi*500) > 1e-6 {
		t.Errorf("noctiluca row %+v: want 500 cells/L, CI %.1f-%.1f", r.Concentration, lo*500, hi*500)
	}
	first := h.a.counts.Rows()
	if first[len(first)-1].Label != screening.Unidentified {
		t.Errorf("the unidentified row is not last: %v", first)
	}

	src.release(2)
	h.pump("three frames counted", 10*time.Second, func() bool {
		rows := h.a.counts.Rows()
		return countOf(rows, "protist_noctiluca") == 3 && countOf(rows, "copepod_calanoid") == 3 && countOf(rows, screening.Unidentified) == 3
	})
	// The table's cells show what the rows say.
	var texts []string
	for _, r := range h.a.counts.Rows() {
		for col := range numCols {
			texts = append(texts, cellTexts(col, r)...)
		}
	}
	all := strings.Join(texts, "|")
	for _, want := range []string{"Noctiluca", "Copepod calanoid", "1,500", "Unidentified (to review)", "–"} {
		if !strings.Contains(all, want) {
			t.Errorf("counts table does not show %q; it shows %s", want, all)
		}
	}
	// The live view outlines the last frame's cells in their taxon's colour.
	h.pump("the overlays of frame 3", 5*time.Second, func() bool {
		ov := h.a.live.Overlays()
		return len(ov) == 3 && ov[0].Text != "" && ov[2].Text != ""
	})
	ov := h.a.live.Overlays()
	if ov[0].Color != taxonColor("protist_noctiluca", "noctiluca") || !strings.HasPrefix(ov[0].Text, "Noctiluca 90%") {
		t.Errorf("noctiluca overlay %+v", ov[0])
	}
	if ov[2].Color != colorUnidentified || ov[2].Text != "? 30%" {
		t.Errorf("unidentified overlay %+v", ov[2])
	}
	if !strings.Contains(h.a.liveStatus.Text, "0 dropped") || !strings.Contains(h.a.liveStatus.Text, "9 cells counted") {
		t.Errorf("live status %q", h.a.liveStatus.Text)
	}

	src.release(3) // the source ends after 6 frames
	h.waitIdle()
	rows := h.a.counts.Rows()
	if countOf(rows, "protist_noctiluca") != 6 || countOf(rows, "copepod_calanoid") != 6 || countOf(rows, screening.Unidentified) != 6 {
		t.Errorf("final rows %+v", rows)
	}
	if want := "Sample S-COUNTS: 18 cells counted (6 unidentified) in 6 frames"; !strings.HasPrefix(h.a.status.Text, want) {
		t.Errorf("status %q, want it to start with %q", h.a.status.Text, want)
	}
	// The store holds the same counts.
	c, err := h.st.Counts(h.a.ctx, "S-COUNTS")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Taxa) < 2 || c.Taxa[0].Count != 6 || c.Unidentified.Count != 6 {
		t.Errorf("stored counts %+v", c)
	}
	// Sorting by taxon puts Copepod before Noctiluca, the HAB groups still first (each
	// with its unit and level), unidentified still last.
	h.a.counts.SortBy(colTaxon)
	rows = h.a.counts.Rows()
	taxa := slices.DeleteFunc(slices.Clone(rows), func(r countRow) bool { return r.IsGroup })
	if len(rows)-len(taxa) != 3 || !rows[0].IsGroup || taxa[0].Label != "copepod_calanoid" || rows[len(rows)-1].Label != screening.Unidentified {
		t.Errorf("sorted by taxon: %v", rows)
	}
	if g, ok := rowOf(rows, groupKey+"noctiluca"); !ok || g.Count != 6 || g.Level != alerts.Watch || g.Name != "HAB group: Noctiluca" {
		t.Errorf("Noctiluca's group row %+v", g)
	}
	if g, ok := rowOf(rows, groupKey+"trichodesmium"); !ok || g.Unit != "colony" || g.Count != 0 {
		t.Errorf("Trichodesmium's group row %+v (a watched group with none counted shows 0)", g)
	}
	// A new sample ID is proposed for the next sample, named so, beside the ended
	// sample's counts (helper-81: it read as theirs).
	if h.a.sample.ID.Text == "S-COUNTS" || !strings.HasPrefix(h.a.sample.ID.Text, "S-") {
		t.Errorf("next sample ID %q", h.a.sample.ID.Text)
	}
	if it := h.a.sample.idItem; it.Text != "Next sample ID" {
		t.Errorf("after the run the ID field is named %q", it.Text)
	}
	h.a.sample.SetRunning(true, false)
	if it := h.a.sample.idItem; it.Text != "Sample ID" {
		t.Errorf("as the next run starts the ID field is named %q", it.Text)
	}
	h.a.sample.SetRunning(false, false)
}

func TestAlertAppearsOncePerEscalation(t *testing.T) {
	h := newHarness(t, nil)
	noct := labelIndex(t, h.a.svc.Pack, "protist_noctiluca")
	// Two Noctiluca per frame in 1 mL: 2,000 cells/L per frame. The default preset
	// watches Noctiluca at presence and alerts at 10,000 cells/L.
	src := newGatedSource(12, func(int) []fakeCell { return []fakeCell{{noct, 0.9}, {noct, 0.95}} })
	h.startRun(src, "S-ALERT", 1)
	if h.a.banner.Level() != alerts.None || !strings.Contains(h.a.banner.Detail(), "Watching 3 rules of preset default") {
		t.Errorf("before any cell: level %v, detail %q", h.a.banner.Level(), h.a.banner.Detail())
	}
	src.release(1)
	h.pump("a watch", 10*time.Second, func() bool { return h.a.banner.Level() == alerts.Watch })
	if hl := h.a.banner.Headline(); hl != "Noctiluca: 2,000 cells/L" {
		t.Errorf("watch headline %q", hl)
	}
	src.release(3)
	h.pump("no alert yet at 8,000 cells/L", 10*time.Second, func() bool { return countOf(h.a.counts.Rows(), "protist_noctiluca") == 8 })
	if h.a.banner.Level() != alerts.Watch {
		t.Fatalf("level %v at 8,000 cells/L, want watch", h.a.banner.Level())
	}
	src.release(1)
	h.pump("the alert", 10*time.Second, func() bool { return h.a.banner.Level() == alerts.Alert })
	d := h.a.banner.Detail()
	for _, want := range []string{"alert level ≥ 10,000 cells/L", "rule noctiluca", "source: phytoscreen default", "10 counted"} {
		if !strings.Contains(d, want) {
			t.Errorf("alert detail %q lacks %q", d, want)
		}
	}
	if r, _ := rowOf(h.a.counts.Rows(), "protist_noctiluca"); r.Level != alerts.Alert {
		t.Errorf("noctiluca row level %v, want alert", r.Level)
	}
	src.release(7) // more frames, higher counts: no new escalation
	h.waitIdle()
	notes := h.notifications()
	var titles []string
	for _, n := range notes {
		titles = append(titles, n.Title)
	}
	if !slices.Equal(titles, []string{"WATCH: Noctiluca", "ALERT: Noctiluca"}) {
		t.Errorf("notifications %q, want one per escalation: WATCH then ALERT", titles)
	}
	if len(notes) == 2 && !strings.Contains(notes[1].Content, "10,000 cells/L") {
		t.Errorf("alert notification %q lacks the threshold", notes[1].Content)
	}
	if h.a.banner.Level() != alerts.Alert || !strings.Contains(h.a.banner.more.Text(), "sample S-ALERT (run ended)") {
		t.Errorf("after the run: level %v, %q", h.a.banner.Level(), h.a.banner.more.Text())
	}
	// History shows the alerts as the run recorded them, with their sources.
	h.a.history.Select("S-ALERT")
	h.pump("the recorded alerts in History", 10*time.Second, func() bool {
		return strings.Contains(h.a.history.alerts.Text, "Raised ALERT Noctiluca")
	})
	for _, want := range []string{"Raised WATCH Noctiluca", "alert level ≥ 10,000 cells/L", "source: phytoscreen default"} {
		if !strings.Contains(h.a.history.alerts.Text, want) {
			t.Errorf("History alerts lack %q:\n%s", want, h.a.history.alerts.Text)
		}
	}
	// However long the alert's detail, the window still fits a 1366x768 laptop screen:
	// long texts shorten with an ellipsis instead of pushing the toolbar off the screen.
	// In height it fits what such a screen leaves under a desktop panel and a title bar,
	// about 700 px: the real window asks 80 px more than its content does here (the
	// menu bar, the desktop theme), 671 against 592. The least height was 752, its
	// bottom off the screen (helper-67, helper-69).
	if min := h.a.win.Content().MinSize(); min.Width > 1366 || min.Height > 700-80 {
		t.Errorf("window content needs %.0fx%.0f, more than a 1366x768 screen leaves", min.Width, min.Height)
	}
}

// radioItems returns the tappable options of a radio group, in order.
func radioItems(r *widget.RadioGroup) []fyne.Tappable {
	var out []fyne.Tappable
	for _, o := range test.LaidOutObjects(r) {
		if t, ok := o.(fyne.Tappable); ok && o != fyne.CanvasObject(r) {
			out = append(out, t)
		}
	}
	return out
}

func TestSwitchModel(t *testing.T) {
	h := newHarness(t, nil)
	items := radioItems(h.a.model)
	if len(items) != 2 || h.a.model.Options[0] != "Base (fp32) · top-1 74.1%" {
		t.Fatalf("model choices %q (%d tappable)", h.a.model.Options, len(items))
	}
	// Idle: tap Base.
	test.Tap(items[0])
	h.pump("the base model", 5*time.Second, func() bool { return h.clf.Variant() == inference.Base && !h.a.switching })
	if h.a.set.Model != inference.Base || h.fy.Preferences().String(app.PrefModel) != "base" {
		t.Errorf("settings %s, preference %q", h.a.set.Model, h.fy.Preferences().String(app.PrefModel))
	}
	if h.a.model.Selected != h.a.model.Options[0] {
		t.Errorf("radio shows %q", h.a.model.Selected)
	}

	// During a run: cells after the switch are classified by the other model.
	cop := labelIndex(t, h.a.svc.Pack, "copepod_calanoid")
	src := newGatedSource(4, func(int) []fakeCell { return []fakeCell{{cop, 0.9}} })
	h.startRun(src, "S-SWITCH", 1)
	src.release(2)
	h.pump("two cells", 10*time.Second, func() bool { return countOf(h.a.counts.Rows(), "copepod_calanoid") == 2 })
	test.Tap(items[1])
	h.pump("the optimised model", 5*time.Second, func() bool { return h.clf.Variant() == inference.Optimised && !h.a.switching })
	if !strings.Contains(h.a.status.Text, "Model switched to Optimised (int8)") {
		t.Errorf("status %q", h.a.status.Text)
	}
	src.release(2)
	h.waitIdle()
	got := h.clf.classified()
	want := []inference.Variant{inference.Base, inference.Base, inference.Optimised, inference.Optimised}
	if !slices.Equal(got, want) {
		t.Errorf("variants per cell %v, want %v", got, want)
	}
	// The store records which model classified each cell.
	si, err := h.st.Sample(h.a.ctx, "S-SWITCH")
	if err != nil {
		t.Fatal(err)
	}
	var stored []string
	if err := h.st.Objects(h.a.ctx, si, false, func(o store.ObjectRow) error { stored = append(stored, o.Variant); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(stored, []string{"base", "base", "optimised", "optimised"}) {
		t.Errorf("stored variants %v", stored)
	}

	// A model that cannot be opened: the error is shown and the choice goes back.
	h.clf.mu.Lock()
	h.clf.failOpen = errors.New("open base model base.onnx: onnxruntime: out of memory")
	h.clf.mu.Unlock()
	test.Tap(items[0])
	h.pump("the error", 5*time.Second, func() bool { return !h.a.switching && h.a.lastError != nil })
	if !strings.Contains(h.a.lastError.Error(), "out of memory") || h.a.model.Selected != h.a.model.Options[1] {
		t.Errorf("error %v, radio %q", h.a.lastError, h.a.model.Selected)
	}
}

func TestRelabelCrop(t *testing.T) {
	h := newHarness(t, nil)
	p := h.a.svc.Pack
	cop, det := labelIndex(t, p, "copepod_calanoid"), labelIndex(t, p, "detritus_other")
	src := newGatedSource(3, func(k int) []fakeCell { return []fakeCell{{cop, 0.9}, {det, 0.2 + 0.1*float32(k)}} })
	h.startRun(src, "S-REVIEW", 1)
	src.release(3)
	h.waitIdle()

	g := h.a.gallery
	h.a.tabs.SelectIndex(1) // the gallery reloads when shown
	h.pump("the review queue", 10*time.Second, func() bool {
		return g.sampleID == "S-REVIEW" && g.category == reviewKey && len(g.Items()) == 3 && g.selected == 0
	})
	if c := g.Categories(); c[0].Key != reviewKey || c[0].Count != 3 {
		t.Errorf("categories %+v", c)
	}
	if !strings.Contains(g.detail.Text, "Model (optimised): Detritus, other, 20%") {
		t.Errorf("detail %q", g.detail.Text)
	}
	// Find the label by typing, then set it.
	test.Type(g.filter, "noctiluca")
	if len(g.labels) != 1 || g.labels[0] != "protist_noctiluca" || g.setLabel.Disabled() {
		t.Fatalf("filtered labels %v, set button disabled %v", g.labels, g.setLabel.Disabled())
	}
	first := g.Items()[0].Row
	test.Tap(g.setLabel)
	h.pump("the relabelled cell to leave the queue", 10*time.Second, func() bool { return len(g.Items()) == 2 })
	if g.Categories()[0].Count != 2 {
		t.Errorf("review count %d after relabelling, want 2", g.Categories()[0].Count)
	}
	// Stored as a validated label, counted under it, and exported as validated.
	q, err := h.st.ReviewQueue(h.a.ctx, "S-REVIEW", 10)
	if err != nil || len(q) != 2 {
		t.Fatalf("review queue %d, %v", len(q), err)
	}
	c, err := h.st.Counts(h.a.ctx, "S-REVIEW")
	if err != nil {
		t.Fatal(err)
	}
	var noct *store.TaxonCount
	for i := range c.Taxa {
		if c.Taxa[i].Label == "protist_noctiluca" {
			noct = &c.Taxa[i]
		}
	}
	if noct == nil || noct.Count != 1 || noct.Validated != 1 {
		t.Errorf("noctiluca after relabel: %+v", noct)
	}
	out := filepath.Join(t.TempDir(), "objects.csv")
	h.a.ExportPath("S-REVIEW", store.FormatObjects, out)
	h.pump("the export", 10*time.Second, func() bool { return strings.HasPrefix(h.a.status.Text, "Exported sample S-REVIEW") })
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "protist_noctiluca") || !strings.Contains(string(data), store.StatusValidated) {
		t.Errorf("objects export lacks the validated label:\n%s", data)
	}
	// The PDF report, as 'phytoscreen report' writes it, from the app.
	pdf := filepath.Join(t.TempDir(), exportName("S-REVIEW", formatReport))
	h.a.ExportPath("S-REVIEW", formatReport, pdf)
	h.pump("the report", 10*time.Second, func() bool { return strings.HasPrefix(h.a.status.Text, "Exported sample S-REVIEW to "+pdf) })
	if data, err := os.ReadFile(pdf); err != nil || !bytes.HasPrefix(data, []byte("%PDF-")) || !strings.HasSuffix(pdf, "S-REVIEW_report.pdf") {
		t.Errorf("the PDF report %s: %v, %.10q", pdf, err, data)
	}
	// "Model is right" validates the model's own label (in a taxon's category the cell stays).
	g.cats.Select(slices.IndexFunc(g.Categories(), func(c galleryCat) bool { return c.Key == "copepod_calanoid" }))
	h.pump("the copepod crops", 10*time.Second, func() bool { return g.category == "copepod_calanoid" && len(g.Items()) == 3 && g.selected == 0 })
	test.Tap(g.confirm)
	h.pump("the validation", 10*time.Second, func() bool { return g.Items()[0].Row.Status == store.StatusValidated })
	if len(g.Items()) != 3 {
		t.Errorf("a confirmed crop left its category: %d items", len(g.Items()))
	}
	_ = first
}

func TestSettingsPersist(t *testing.T) {
	fy := test.NewTempApp(t)
	h := newHarness(t, fy)
	h.a.ShowSettings()
	v := h.a.settingsWin
	v.Threads.SetSelected("1")
	h.pump("one thread", 5*time.Second, func() bool { return h.clf.Threads() == 1 })
	v.Batch.SetSelected("32")
	v.Threshold.SetValue(0.7)
	v.Threshold.OnChangeEnded(0.7)
	test.Type(v.Calib, "0.65")
	v.Mode.SetSelected("flow")
	v.Finder.SetSelected(finderWith + assets.DetectorName)
	v.MinSize.SetText("8um")
	v.Preset.SetSelected("scotland")
	test.Tap(v.Save)
	if !strings.HasPrefix(v.message.Text, "Saved.") {
		t.Fatalf("save: %q", v.message.Text)
	}
	pr := fy.Preferences()
	if pr.Int(app.PrefThreads) != 1 || pr.Int(app.PrefBatch) != 32 || pr.Float(app.PrefThreshold) != 0.7 || pr.Float(app.PrefUmPerPx) != 0.65 ||
		pr.String(app.PrefMode) != "flow" || pr.String(app.PrefMinSize) != "8um" || pr.String(app.PrefPreset) != "scotland" {
		t.Errorf("preferences: threads %d batch %d threshold %v um/px %v mode %q min %q preset %q", pr.Int(app.PrefThreads), pr.Int(app.PrefBatch),
			pr.Float(app.PrefThreshold), pr.Float(app.PrefUmPerPx), pr.String(app.PrefMode), pr.String(app.PrefMinSize), pr.String(app.PrefPreset))
	}
	if pr.String(app.PrefDetector) != assets.DetectorName {
		t.Errorf("detector preference %q, want %q", pr.String(app.PrefDetector), assets.DetectorName)
	}
	if h.clf.BatchSize() != 32 {
		t.Errorf("classifier batch %d", h.clf.BatchSize())
	}
	if h.a.rules.Name != "preset scotland" || h.a.sample.Calib.Text != "0.65" {
		t.Errorf("rules %q, sample panel calibration %q", h.a.rules.Name, h.a.sample.Calib.Text)
	}
	// Bad input is refused with the field and the fix, and nothing is stored.
	v.Calib.SetText("abc")
	v.MaxSize.SetText("huge")
	test.Tap(v.Save)
	if !strings.Contains(v.message.Text, `Calibration "abc" is not a positive number`) || !strings.Contains(v.message.Text, "Largest object") {
		t.Errorf("bad input message %q", v.message.Text)
	}
	if pr.Float(app.PrefUmPerPx) != 0.65 || pr.String(app.PrefMaxSize) != "" {
		t.Errorf("bad input was stored: %v %q", pr.Float(app.PrefUmPerPx), pr.String(app.PrefMaxSize))
	}
	v.win.Close()

	// The window's size is kept when it closes, here by Ctrl+Q, the File menu's Quit
	// (helper-52: Ctrl+Q did nothing).
	h.a.win.Resize(fyne.NewSize(1234, 777))
	file := h.a.menu().Items[0].Items
	if quit := file[len(file)-1]; quit.Label != "Quit" || !quit.IsQuit || quit.Shortcut != shortcutQuit {
		t.Errorf("the File menu ends with %q (quit %v, shortcut %v); want Quit, Ctrl+Q", quit.Label, quit.IsQuit, quit.Shortcut)
	}
	h.a.win.Canvas().(fyne.Shortcutable).TypedShortcut(shortcutQuit)
	h.pump("the app to close", 10*time.Second, func() bool { return pr.Float(app.PrefWindowW) == 1234 })
	if pr.Float(app.PrefWindowH) != 777 {
		t.Errorf("window height %v", pr.Float(app.PrefWindowH))
	}

	// A new app on the same preferences opens as it was left.
	h2 := newHarness(t, fy)
	s := h2.a.set
	if s.Threads != 1 || s.Batch != 32 || s.Threshold != 0.7 || s.UmPerPx != 0.65 || s.Mode != "flow" || s.Preset != "scotland" ||
		s.WindowW != 1234 || s.WindowH != 777 || s.Model != inference.Optimised {
		t.Errorf("restored settings %+v", s)
	}
	if sz := h2.a.win.Canvas().Size(); sz.Width != 1234 || sz.Height != 777 {
		t.Errorf("restored window size %v", sz)
	}
	h2.a.ShowSettings()
	v2 := h2.a.settingsWin
	if v2.Threads.Selected != "1" || v2.Calib.Text != "0.65" || v2.Preset.Selected != "scotland" || math.Abs(v2.Threshold.Value-0.7) > 1e-9 {
		t.Errorf("settings window shows threads %q calib %q preset %q threshold %v", v2.Threads.Selected, v2.Calib.Text, v2.Preset.Selected, v2.Threshold.Value)
	}
}

// Saving Settings keeps the sample being entered: its ID, time, depth and notes stay,
// and only the defaults the save changed reach the panel (helper-40: a typed Sample ID
// was replaced by a new one). The demo's made-up sample gives way to a real one.
func TestSettingsSaveKeepsTheSampleEntered(t *testing.T) {
	fy := test.NewTempApp(t)
	h := newHarness(t, fy)
	p := h.a.sample
	p.ID.SetText("POND-7")
	p.Depth.SetText("2")
	p.Notes.SetText("net haul, 20 µm")
	p.Site.SetText("Pond 7")
	h.a.ShowSettings()
	v := h.a.settingsWin
	v.Calib.SetText("0.65")
	test.Tap(v.Save)
	if !strings.HasPrefix(v.message.Text, "Saved.") {
		t.Fatalf("save: %q", v.message.Text)
	}
	if p.ID.Text != "POND-7" || p.Depth.Text != "2" || p.Notes.Text != "net haul, 20 µm" || p.Site.Text != "Pond 7" || p.Calib.Text != "0.65" {
		t.Errorf("after saving: ID %q depth %q notes %q site %q calibration %q; want the sample as typed, the new calibration", p.ID.Text, p.Depth.Text, p.Notes.Text, p.Site.Text, p.Calib.Text)
	}
	p.ID.SetText(demoIDPrefix + "20261203-173525")
	v.Calib.SetText("0.7")
	test.Tap(v.Save)
	if !strings.HasPrefix(p.ID.Text, "S-") {
		t.Errorf("the demo's sample after saving: %q, want a new sample", p.ID.Text)
	}
	v.win.Close()
}

// The first order puts a HAB group's members before taxa in no group, however many
// these are: the reject class "Not a cyanobacterium" topped the table (helper-49). A
// column clicked sorts by it alone, groups first and unidentified last as ever.
func TestCountsPutGroupMembersFirst(t *testing.T) {
	c := newCountsTable(false)
	c.SetRows([]countRow{
		{Label: screening.Unidentified, Name: "Unidentified (to review)", Concentration: screening.Concentration{Count: 50}},
		{Label: "Other", Name: "Not a cyanobacterium", Concentration: screening.Concentration{Count: 146}},
		{Label: "Microcystis", Name: "Microcystis", Group: "cyanobacteria", Concentration: screening.Concentration{Count: 40, PerL: 400_000}, Cells: 500},
		{Label: groupKey + "cyanobacteria", Name: "HAB group: Cyanobacteria", IsGroup: true, Concentration: screening.Concentration{Count: 42, PerL: 420_000}, Cells: 502},
		{Label: "Anabaena", Name: "Anabaena", Group: "cyanobacteria", Concentration: screening.Concentration{Count: 2}},
	})
	order := func() []string {
		var l []string
		for _, r := range c.Rows() {
			l = append(l, r.Label)
		}
		return l
	}
	if got, want := order(), []string{groupKey + "cyanobacteria", "Microcystis", "Anabaena", "Other", screening.Unidentified}; !slices.Equal(got, want) {
		t.Errorf("first order %q, want %q", got, want)
	}
	// Under the table, what the objects come to in cells, as the alert levels count them
	// (the banner read cells/mL above colonies per litre: helper-49); the reject class
	// and Anabaena count a cell an object and are not named.
	if want := "Per L counts objects: a colony, chain or filament is one. The alert levels are in cells, estimated in them: Cyanobacteria ≈ 5.02 M cells/L · Microcystis ≈ 5.00 M cells/L."; !c.note.Visible() || c.note.Text != want {
		t.Errorf("note %q (shown %v), want %q", c.note.Text, c.note.Visible(), want)
	}
	c.SortBy(colCount) // the column already sorted: now smallest first, by count alone
	if got, want := order(), []string{groupKey + "cyanobacteria", "Anabaena", "Microcystis", "Other", screening.Unidentified}; !slices.Equal(got, want) {
		t.Errorf("by count, ascending %q, want %q", got, want)
	}
	c.SortBy(colCount)
	if got, want := order(), []string{groupKey + "cyanobacteria", "Other", "Microcystis", "Anabaena", screening.Unidentified}; !slices.Equal(got, want) {
		t.Errorf("by count, descending %q, want %q", got, want)
	}
	c.SetRows([]countRow{{Label: "Other", Name: "Not a cyanobacterium", Concentration: screening.Concentration{Count: 3}, Cells: 3}})
	if c.note.Visible() {
		t.Errorf("a table of cells shows the note %q", c.note.Text)
	}
}

// The rules changed after a run: the banner and the counts table's Alert column are
// both measured again under the new ones, so they never disagree. After choosing
// who-cyanobacteria the banner said NOT CHECKED while the table kept Noctiluca's Alert
// from the default preset (helper-56); chosen back, the Alert returns on both.
func TestRulesChangedAfterRunRelevelTable(t *testing.T) {
	h := newHarness(t, nil)
	noct := labelIndex(t, h.a.svc.Pack, "protist_noctiluca")
	src := newGatedSource(6, func(int) []fakeCell { return []fakeCell{{noct, 0.9}, {noct, 0.95}} })
	h.startRun(src, "S-RULES", 1)
	src.release(6)
	h.waitIdle()
	levels := func() (row, group alerts.Level) {
		r, _ := rowOf(h.a.counts.Rows(), "protist_noctiluca")
		g, _ := rowOf(h.a.counts.Rows(), groupKey+"noctiluca")
		return r.Level, g.Level
	}
	if r, _ := levels(); h.a.banner.Level() != alerts.Alert || r != alerts.Alert {
		t.Fatalf("after the run under the default preset: banner %v, row %v; the test needs an alert", h.a.banner.Level(), r)
	}
	h.a.ShowSettings()
	v := h.a.settingsWin
	for _, c := range []struct {
		preset string
		want   alerts.Level
	}{{"who-cyanobacteria", alerts.None}, {"default", alerts.Alert}} {
		v.Preset.SetSelected(c.preset)
		test.Tap(v.Save)
		h.waitIdle()
		r, g := levels()
		if b := h.a.banner.Level(); b != c.want || r != c.want || g != c.want {
			t.Errorf("preset %s: banner %v (%q), Noctiluca row %v, its group %v; want %v on all", c.preset, b, h.a.banner.Headline(), r, g, c.want)
		}
		if more := h.a.banner.more.Text(); !strings.Contains(more, "sample S-RULES (run ended), under preset "+c.preset) {
			t.Errorf("preset %s: banner context %q", c.preset, more)
		}
	}
}
