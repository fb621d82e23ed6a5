package ui

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/internal/app"
)

// laptopSizes are the window's default size, a laptop's screen and a desk screen.
var laptopSizes = []fyne.Size{{Width: 1280, Height: 720}, {Width: 1320, Height: 720}, {Width: 1366, Height: 768}, {Width: 1920, Height: 1080}}

// History's list says, under each sample's ID, its level, site, time, runs and whether
// it is partial, whole at a laptop's width: on one line "raised WATCH · Loch Fyne pen 3
// · 2026-12-08 00:5…" lost the time and the runs in a 1320 px window (helper-98, shot-42).
func TestHistoryListLinesFit(t *testing.T) {
	h := newHarness(t, nil)
	h.a.tabs.SelectIndex(2)
	hv := h.a.history
	taken := time.Date(2026, 12, 8, 0, 59, 0, 0, time.Local)
	hv.entries = []sampleEntry{
		{ID: "CYANO-0812-E", Site: "Loch Fyne pen 3", Taken: taken, Runs: 12, Partial: true, Raised: alerts.Watch, Marked: true},
		{ID: "CYANO-0812-D", Site: "Loch Fyne pen 3", Taken: taken, Runs: 1, Raised: alerts.Alert},
	}
	hv.list.Refresh()
	for _, size := range laptopSizes {
		h.a.win.Resize(size)
		h.a.win.Content().Refresh()
		var shown []string
		walkObjects(hv.list, func(o fyne.CanvasObject) bool {
			l, ok := o.(*widget.Label)
			if !ok || !l.Visible() || l.Text == "" {
				return true
			}
			shown = append(shown, l.Text)
			ts := theme.TextSize()
			if l.SizeName == theme.SizeNameCaptionText {
				ts = theme.CaptionTextSize()
			}
			need := fyne.MeasureText(l.Text, ts, l.TextStyle).Width + 2*theme.InnerPadding()
			if need > l.Size().Width+0.5 {
				t.Errorf("window %gx%g: History's list line %q needs %.0f px, has %.0f", size.Width, size.Height, l.Text, need, l.Size().Width)
			}
			return true
		})
		all := strings.Join(shown, "\n")
		for _, want := range []string{"raised WATCH", "Loch Fyne pen 3", "2026-12-08 00:59", "12 runs", "partial", "raised ALERT", "1 run"} {
			if !strings.Contains(all, want) {
				t.Errorf("window %gx%g: History's list does not say %q:\n%s", size.Width, size.Height, want, all)
			}
		}
	}
}

// The status bar's whole text can be read when the bar cuts it: with the pointer on it,
// or tapped, it shows whole above the bar, inside the window (helper-98: "...are guessed
// fr…" at 1366 px, and no way to read the rest). A line that fits shows nothing more.
func TestStatusBarShowsItsWholeText(t *testing.T) {
	h := newHarness(t, nil)
	long := "Sample CYANO-0812-E: 52 objects (cells, colonies, filaments) counted (9 unidentified) in 32 frames; stored in /home/tech/.local/share/phytoscreen/sessions.db; uncalibrated: the cells in its colonies and filaments are guessed from their shape (give the µm per pixel for estimates from their size)."
	c := h.a.win.Canvas()
	for _, size := range laptopSizes {
		h.a.win.Resize(size)
		h.a.win.Content().Refresh()
		h.a.setStatus(long)
		st := h.a.status
		if !st.Cut() {
			t.Fatalf("window %gx%g: the status line is %.0f px wide, and shows %d characters whole", size.Width, size.Height, st.Size().Width, len(long))
		}
		at := fyne.CurrentApp().Driver().AbsolutePositionForObject(st)
		test.MoveMouse(c, at.Add(fyne.NewPos(20, st.Size().Height/2)))
		if got := st.Whole(); got != long {
			t.Fatalf("window %gx%g: with the pointer on the cut status line, the whole text shown is %q", size.Width, size.Height, got)
		}
		box := st.whole.tips.box
		d := fyne.CurrentApp().Driver()
		top := d.AbsolutePositionForObject(box).Y
		bottom, right := top+box.Size().Height, d.AbsolutePositionForObject(box).X+box.Size().Width
		if top < 0 || bottom > c.Size().Height || right > c.Size().Width+0.5 {
			t.Errorf("window %gx%g: the whole status shows from y=%.0f to %.0f, x to %.0f: outside the window", size.Width, size.Height, top, bottom, right)
		}
		if bottom > at.Y+0.5 {
			t.Errorf("window %gx%g: the whole status (y=%.0f to %.0f) covers the status line at y=%.0f", size.Width, size.Height, top, bottom, at.Y)
		}
		if lines := st.whole.tips.text.MinSize().Height; lines > box.Size().Height+0.5 {
			t.Errorf("window %gx%g: the whole status needs %.0f px of height, has %.0f", size.Width, size.Height, lines, box.Size().Height)
		}
		// The pointer moving along the line keeps it (a pop-up took the pointer, and the
		// next move hid it).
		test.MoveMouse(c, at.Add(fyne.NewPos(60, st.Size().Height/2)))
		if got := st.Whole(); got != long {
			t.Errorf("window %gx%g: the pointer moved along the status line, and the whole text shown is %q", size.Width, size.Height, got)
		}
		test.MoveMouse(c, fyne.NewPos(5, 5))
		if got := st.Whole(); got != "" {
			t.Errorf("window %gx%g: the pointer left the status line, and %q still shows", size.Width, size.Height, got)
		}
		test.Tap(st)
		if got := st.Whole(); got != long {
			t.Errorf("window %gx%g: a tap on the cut status line shows %q", size.Width, size.Height, got)
		}
		test.Tap(st)
		if got := st.Whole(); got != "" {
			t.Errorf("window %gx%g: a second tap leaves %q shown", size.Width, size.Height, got)
		}
	}
	// The cost gauges' details alike ("p99 140 ms · 5 runs, 10.0 cells each on a…").
	h.a.win.Resize(laptopSizes[2])
	h.a.win.Content().Refresh()
	detail := "p99 140 ms · 5 runs, 10.0 cells each on average · the optimised model"
	h.a.perf.Latency.Set("96.2 ms / 140 ms", detail, nil)
	d := h.a.perf.Latency.detail
	d.Refresh()
	if !d.Cut() {
		t.Fatalf("the latency gauge's detail %q fits its %.0f px: the test needs a longer one", detail, d.Size().Width)
	}
	test.MoveMouse(c, fyne.CurrentApp().Driver().AbsolutePositionForObject(d).Add(fyne.NewPos(10, d.Size().Height/2)))
	if got := d.Whole(); got != detail {
		t.Errorf("with the pointer on the cut latency detail, the whole text shown is %q", got)
	}
	test.MoveMouse(c, fyne.NewPos(5, 5))
	if got := d.Whole(); got != "" {
		t.Errorf("the pointer left the latency detail, and %q still shows", got)
	}
	// The gallery's heading alike ("Review …" at 1366 px).
	h.a.tabs.SelectIndex(1)
	g := h.a.gallery
	heading := "Review queue (unidentified): showing 200 of 1,234 crops, those under the confidence threshold first"
	g.info.SetText(heading)
	h.a.win.Content().Refresh()
	if !g.info.Cut() {
		t.Fatalf("the gallery's heading %q fits its %.0f px: the test needs a longer one", heading, g.info.Size().Width)
	}
	test.MoveMouse(c, fyne.CurrentApp().Driver().AbsolutePositionForObject(g.info).Add(fyne.NewPos(10, g.info.Size().Height/2)))
	if got := g.info.Whole(); got != heading {
		t.Errorf("with the pointer on the gallery's cut heading, the whole text shown is %q", got)
	}
	test.MoveMouse(c, fyne.NewPos(5, 5))
	h.a.tabs.SelectIndex(0)
	h.a.setStatus("Ready.")
	at := fyne.CurrentApp().Driver().AbsolutePositionForObject(h.a.status)
	test.MoveMouse(c, at.Add(fyne.NewPos(20, 5)))
	if got := h.a.status.Whole(); got != "" {
		t.Errorf("a status line that fits shows %q over it too", got)
	}
}

// The model's cost on this machine reads whole under a short pack's heading, at the
// default width and on a laptop's screen, and does not widen the window past the
// laptop's: it had the heading's width alone, "41.0 ms, 451 mJ est. per cell here"
// barely under "Pack cyano-tcb-10 · model:" (helper-98).
func TestModelCostReadsWholeUnderAShortHeading(t *testing.T) {
	h := newHarness(t, nil)
	h.a.win.Resize(laptopSizes[1])
	h.a.modelHead.Text = "Pack x · model:"
	h.a.modelHead.Refresh()
	v := h.a.svc.Model.Variant()
	app.SaveCost(h.fy.Preferences(), app.PackCostID(h.a.svc.Pack), app.ModelCost{Variant: v, P50Ms: 1240, JPerCell: 12.3, Estimated: true})
	h.a.applyModelUI()
	note := h.a.modelNote
	if !strings.Contains(note.Text(), "1,240 ms") && !strings.Contains(note.Text(), "1240 ms") {
		t.Fatalf("cost note %q: want the measured figures", note.Text())
	}
	for i, size := range laptopSizes[1:] {
		if i > 0 { // the first as laid out before the note was shown
			h.a.win.Resize(size)
			h.a.win.Content().Refresh()
		}
		if w := note.Size().Width; w < note.natural() {
			t.Errorf("window %gx%g: cost note %q given %.0f px of the %.0f it needs", size.Width, size.Height, note.Text(), w, note.natural())
		}
		// Shown once measured, after the first layout: its foot was cut by the banner.
		d := fyne.CurrentApp().Driver()
		if foot, banner := d.AbsolutePositionForObject(note).Y+note.Size().Height, d.AbsolutePositionForObject(h.a.banner).Y; note.Size().Height < note.MinSize().Height || foot > banner {
			t.Errorf("window %gx%g: cost note %.0f px high of the %.0f it needs, its foot at y=%.0f, the banner's top at %.0f", size.Width, size.Height, note.Size().Height, note.MinSize().Height, foot, banner)
		}
	}
	if w := h.a.win.Content().MinSize().Width; w > 1280 {
		t.Errorf("the window's least width is %.0f with the cost note: it must fit a 1280 px screen", w)
	}
}

// While the next sample's source opens, the banner is the new sample's, with nothing
// counted yet: the last sample's level stayed on it, labelled with the last sample's
// ID, over the new sample's emptied counts (helper-98, shot-20), and read as the new
// sample's.
func TestBannerIsTheNewSamplesWhileItOpens(t *testing.T) {
	h := newHarness(t, nil)
	first := h.runToEnd(2)
	if h.a.banner.Level() == alerts.None {
		t.Fatalf("the first sample raised nothing (banner %q): the test needs a level on the banner", h.a.banner.Headline())
	}
	src := newGatedSource(2, func(int) []fakeCell { return nil })
	h.mu.Lock()
	h.src = src
	h.mu.Unlock()
	test.Tap(h.a.sample.Start) // the source opens in a goroutine: the UI queue is not run yet
	if h.a.sess == nil {
		t.Fatalf("Start started nothing: %v", h.a.lastError)
	}
	next := h.a.sess.sample.ID
	b := h.a.banner
	if b.Level() != alerts.None || strings.Contains(b.more.Text(), first) || strings.Contains(b.Headline(), first+" ") || !strings.Contains(b.Headline(), next) {
		t.Errorf("while sample %s opens the banner says %v %q (%q), of the last sample %s", next, b.Level(), b.Headline(), b.more.Text(), first)
	}
	src.release(2)
	h.waitIdle()
}

// The analyst of a new sample is the one typed in Details… for the last sample, after a
// restart too, as the site is; never the gallery's reviewer, who labels crops (helper-98:
// new samples took the reviewer, empty where $USER was unset, and the analyst typed was
// gone after a restart).
func TestAnalystCarriesToTheNextSample(t *testing.T) {
	fy := test.NewTempApp(t)
	h := newHarness(t, fy)
	p := h.a.sample
	if p.Analyst.Text != "" {
		t.Errorf("a first launch's analyst is %q: the reviewer is who labels crops, not who prepared the sample", p.Analyst.Text)
	}
	p.Analyst.SetText("Morag Campbell")
	h.runToEnd(2)
	if p.Analyst.Text != "Morag Campbell" {
		t.Errorf("the next sample's analyst is %q, want Morag Campbell as typed for the last", p.Analyst.Text)
	}
	again := newHarness(t, fy)
	if got := again.a.sample.Analyst.Text; got != "Morag Campbell" {
		t.Errorf("after a restart the new sample's analyst is %q, want Morag Campbell as typed for the last sample", got)
	}
	// Saving Settings leaves the analyst typed.
	again.a.sample.Analyst.SetText("Ewan Ross")
	was := again.a.set
	now := was
	now.Reviewer = "Someone Else"
	again.a.sample.applyDefaults(was, now)
	if got := again.a.sample.Analyst.Text; got != "Ewan Ross" {
		t.Errorf("a reviewer changed in the settings replaced the analyst typed with %q", got)
	}
}

// A quit that Fyne's driver made by itself (SIGTERM, SIGINT: the Close the signal had
// queued dropped) keeps the window's size and the settings in the preferences file,
// written whole: the size was lost in three quits of eight, and a write of Fyne's cut
// short by the exit left the file empty, the next launch on the default settings
// (helper-98).
func TestQuitWithoutCloseKeepsThePreferences(t *testing.T) {
	fy := test.NewTempApp(t)
	h := newHarness(t, fy)
	h.a.ownPrefs = true // the app's own preferences, as Run's
	h.a.win.Resize(fyne.NewSize(1303, 741))
	h.a.set.Site = "Loch Fyne pen 3"
	path := filepath.Join(fy.Storage().RootURI().Path(), "preferences.json")
	if err := os.WriteFile(path, nil, 0o600); err != nil { // as a cut write left it
		t.Fatal(err)
	}
	h.a.Shutdown() // no Close
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no preferences file after the quit: %v", err)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("the preferences file after the quit does not read (%v): %q", err, data)
	}
	if got[app.PrefWindowW] != 1303.0 || got[app.PrefWindowH] != 741.0 || got[app.PrefSite] != "Loch Fyne pen 3" {
		t.Errorf("the preferences file keeps window %v x %v, site %v; want 1303 x 741, Loch Fyne pen 3", got[app.PrefWindowW], got[app.PrefWindowH], got[app.PrefSite])
	}
	if s := app.LoadSettings(app.MapPrefs(got)); s.WindowW != 1303 || s.Site != "Loch Fyne pen 3" {
		t.Errorf("the next launch's settings: window width %v, site %q", s.WindowW, s.Site)
	}
	// A Close the driver's stop overtook, run after it off the UI goroutine, does nothing.
	h.a.closing = false
	h.a.Close()
	if h.a.closing {
		t.Errorf("Close ran after the app had shut down")
	}
}
