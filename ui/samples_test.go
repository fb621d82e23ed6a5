package ui

import (
	"context"
	"image"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/vision"
)

// runToEnd presses Start on the panel as it stands (a source of frames frames) and
// waits for the run to end; it returns the sample ID the run went into.
func (h *harness) runToEnd(frames int) string {
	h.t.Helper()
	noct := labelIndex(h.t, h.a.svc.Pack, "protist_noctiluca")
	return h.runToEndOf(newGatedSource(frames, func(int) []fakeCell { return []fakeCell{{noct, 0.9}} }), frames)
}

// runToEndOf is runToEnd on src, all of whose frames are let through at once.
func (h *harness) runToEndOf(src *gatedSource, frames int) string {
	h.t.Helper()
	src.release(frames)
	h.mu.Lock()
	h.src = src
	h.mu.Unlock()
	test.Tap(h.a.sample.Start) // Start sets the session at once, before it opens
	if h.a.sess == nil {
		h.t.Fatalf("Start started nothing: %v", h.a.lastError)
	}
	id := h.a.sess.sample.ID
	h.pump("the run to end", 10*time.Second, func() bool { return h.a.sess == nil })
	return id
}

// Samples never mix by accident: Start, finish and Start again within the same minute
// make two samples; a run into an existing sample's ID asks first, and adds to it only
// when told; the launch demo is a demo sample (own ID and site), a folder run after it
// is its own sample at the remembered site, and the demo never joins that site's trend.
func TestSamplesNeverMix(t *testing.T) {
	var asked []string
	addAnswer := false
	h := newHarness(t, nil)
	h.a.confirm = func(title, msg, yes, no string, answer func(bool)) {
		asked = append(asked, msg)
		answer(addAnswer)
	}
	h.a.set.Site = "Loch A"
	h.a.sample.Fill(h.a.newSample(), 0)
	h.a.chooseSource(capture.Spec{Kind: capture.KindVideo, Path: "field.avi"})
	first := h.runToEnd(2)
	second := h.runToEnd(2) // at once: the same minute, the same second even
	if first == second || !strings.HasPrefix(first, "S-") || !strings.HasPrefix(second, "S-") {
		t.Fatalf("two Starts in a row went into samples %q and %q", first, second)
	}
	ctx := context.Background()
	// The first sample's ID typed again for other frames: asked, answered "new
	// sample": a third sample.
	h.a.chooseSource(capture.Spec{Kind: capture.KindVideo, Path: "field-2.avi"})
	h.a.sample.ID.SetText(first)
	third := h.runToEnd(2)
	if len(asked) != 1 || !strings.Contains(asked[0], "Sample "+first+" exists: it holds 1 run (1 mL examined") || third == first {
		t.Fatalf("reusing %s: asked %q, run went into %s", first, asked, third)
	}
	// Typed again, answered "add": the run adds to it.
	addAnswer = true
	h.a.sample.ID.SetText(first)
	if got := h.runToEnd(2); got != first {
		t.Fatalf("told to add to %s, the run went into %s", first, got)
	}
	// The same frames again: adding is not offered (their cells would count twice);
	// yes is a new sample.
	h.a.chooseSource(capture.Spec{Kind: capture.KindVideo, Path: "field.avi"})
	h.a.sample.ID.SetText(first)
	if again := h.runToEnd(2); again == first || len(asked) != 3 || !strings.Contains(asked[2], "Sample "+first+" already holds run") || !strings.Contains(asked[2], "count every cell twice") {
		t.Fatalf("the same frames into %s: asked %q, the run went into %s", first, asked, again)
	}
	if si, err := h.st.Sample(ctx, first); err != nil || len(si.Runs) != 2 || si.VolumeML != 2 {
		t.Errorf("%s after adding: %d runs, %v mL (%v); want 2 runs, 2 mL", first, len(si.Runs), si.VolumeML, err)
	}
	// The demo: a demo sample, whatever the panel held; after it the panel is back on
	// the remembered site with a new ID.
	h.a.sample.Source.SetSelected(choiceDemo)
	if spec, _ := h.a.selectedSource(); spec.Kind != capture.KindDemo {
		t.Fatalf("source %v, want the demo", spec)
	}
	demo := h.runToEnd(2)
	si, err := h.st.Sample(ctx, demo)
	if err != nil || !strings.HasPrefix(demo, demoIDPrefix) || si.Site != demoSite {
		t.Fatalf("demo run stored as %q at site %q (%v)", demo, si.Site, err)
	}
	if h.a.sample.Site.Text != "Loch A" || !strings.HasPrefix(h.a.sample.ID.Text, "S-") || h.a.set.Site != "Loch A" {
		t.Errorf("after the demo the panel shows %q at %q (remembered %q); want a new S- ID at Loch A", h.a.sample.ID.Text, h.a.sample.Site.Text, h.a.set.Site)
	}
	h.a.chooseSource(capture.Spec{Kind: capture.KindFolder, Path: t.TempDir()}) // as Open folder… does
	folder := h.runToEnd(2)
	if folder == demo || strings.HasPrefix(folder, demoIDPrefix) {
		t.Errorf("the folder run after the demo went into %s", folder)
	}
	// The trend at Loch A: every sample of the site, never the demo.
	entries, err := listSamples(ctx, h.st)
	if err != nil {
		t.Fatal(err)
	}
	pts, unseen, err := chartPoints(ctx, h.st, entries, "Loch A", "protist_noctiluca", folder)
	if err != nil || unseen != 0 {
		t.Fatalf("%d samples not looked at (%v)", unseen, err)
	}
	if len(pts) != 5 {
		t.Errorf("Loch A's trend has %d points, want its 5 samples (%s, %s, %s, the same frames again, %s)", len(pts), first, second, third, folder)
	}
	for _, p := range pts {
		if strings.HasPrefix(p.Sample, demoIDPrefix) {
			t.Errorf("the demo %s is in Loch A's trend", p.Sample)
		}
	}
	// A taxon and a group the pack these samples were screened with cannot see: no
	// sample is plotted at 0, all five are said to be left out (helper-41).
	for _, key := range []string{"Microcystis", "group:cyanobacteria"} {
		pts, unseen, err := chartPoints(ctx, h.st, entries, "Loch A", key, folder)
		if err != nil || len(pts) != 0 || unseen != 5 {
			t.Errorf("%s at Loch A: %d points, %d left out (%v); want none plotted, 5 left out", key, len(pts), unseen, err)
		}
	}
}

// The sample after a run takes none of the details that describe the last alone: its
// time taken, depth and notes are cleared (helper-67: Monday's time and position went
// into the next sample's record). The analyst and the site's position stay for the
// same site; another site clears the position.
func TestNextSampleKeepsNoDetailsOfTheLast(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	h.a.set.Site = "Thau"
	h.a.sample.Fill(h.a.newSample(), 0)
	h.a.chooseSource(capture.Spec{Kind: capture.KindVideo, Path: "field.avi"})
	p := h.a.sample
	p.Taken.SetText("2025-06-02 08:15")
	p.LatLon.SetText("43.4, 3.62")
	p.Depth.SetText("2")
	p.Analyst.SetText("Ann")
	p.Notes.SetText("Monday, calm")
	first := h.runToEnd(2)
	if si, err := h.st.Sample(ctx, first); err != nil || si.Taken.Year() != 2025 || si.DepthM != 2 || si.Notes != "Monday, calm" {
		t.Fatalf("the first sample stored taken %v at %v m, notes %q (%v)", si.Taken, si.DepthM, si.Notes, err)
	}
	if p.Taken.Text != "" || p.Depth.Text != "" || p.Notes.Text != "" {
		t.Errorf("the next sample's details: taken %q, depth %q, notes %q; want them cleared", p.Taken.Text, p.Depth.Text, p.Notes.Text)
	}
	if p.Analyst.Text != "Ann" || p.LatLon.Text != "43.4, 3.62" || p.Site.Text != "Thau" {
		t.Errorf("the next sample at the same site: analyst %q, position %q, site %q; want them kept", p.Analyst.Text, p.LatLon.Text, p.Site.Text)
	}
	h.a.chooseSource(capture.Spec{Kind: capture.KindVideo, Path: "field-2.avi"})
	second := h.runToEnd(2)
	si, err := h.st.Sample(ctx, second)
	if err != nil || time.Since(si.Taken) > time.Hour || si.HasDepth() || si.Notes != "" || si.Analyst != "Ann" {
		t.Errorf("the second sample stored taken %v, depth %v, notes %q, analyst %q (%v); want taken now, no depth or notes, Ann", si.Taken, si.DepthM, si.Notes, si.Analyst, err)
	}
	p.Site.SetText("Vassivière")
	if p.LatLon.Text != "" {
		t.Errorf("another site keeps the position %q typed for Thau", p.LatLon.Text)
	}
}

// History searches, marks, deletes (asking first) and restores samples: a deleted
// sample leaves the list and comes back whole from the trash.
func TestHistoryDeleteRestoreMarkSearch(t *testing.T) {
	h := newHarness(t, nil)
	h.a.set.Site = "Étang A"
	h.a.sample.Fill(h.a.newSample(), 0)
	a := h.runToEnd(2)
	h.a.set.Site = "Bay B"
	h.a.sample.Fill(h.a.newSample(), 0)
	b := h.runToEnd(2)
	hv := h.a.history
	h.a.tabs.SelectIndex(2)
	h.pump("two samples listed", 10*time.Second, func() bool { return len(hv.entries) == 2 })
	hv.Select(a)
	h.pump("sample a shown with its chart", 10*time.Second, func() bool { return hv.selected == a && !hv.del.Disabled() && len(hv.chart.Points()) > 0 })
	test.Type(hv.search, "bay")
	if len(hv.entries) != 1 || hv.entries[0].ID != b {
		t.Fatalf("search bay: %+v", hv.entries)
	}
	// The search hid the sample shown: nothing is shown, nothing acts on it (the list
	// highlighted b while the buttons still acted on a).
	if hv.selected != "" || !hv.del.Disabled() || !hv.exports[0].Disabled() || strings.Contains(hv.header.Text, a) || len(hv.chart.Points()) > 0 || hv.taxonSel.Selected != "" {
		t.Errorf("search bay hid %s, yet it is still shown (%q, chart of %d points for %q) or its buttons on", a, hv.header.Text, len(hv.chart.Points()), hv.taxonSel.Selected)
	}
	if !hv.counts.empty.Visible() || hv.counts.empty.Text != "No sample shown." {
		t.Errorf("the counts under a sample the search hid: %q (shown %v)", hv.counts.empty.Text, hv.counts.empty.Visible())
	}
	// The search cleared, the heading no longer speaks of it (helper-69).
	hv.search.SetText("")
	if hv.header.Text != "Choose a sample on the left." {
		t.Errorf("the heading once the search is cleared: %q", hv.header.Text)
	}
	test.Type(hv.search, "bay")
	// The date as the gallery writes it ("Nov 17") finds the samples of that day.
	hv.search.SetText(strings.ToLower(hv.all[0].Taken.Local().Format("Jan 2")))
	if len(hv.entries) != 2 {
		t.Errorf("search %q: %d samples, want both of that day", hv.search.Text, len(hv.entries))
	}
	// Typed without its accent, or with one the site lacks, a site is found
	// (helper-67: "etang" found nothing of "Étang de Thau").
	for _, q := range []string{"etang", "ÉTANG A", "bäy"} {
		hv.search.SetText(q)
		if want := map[bool]string{true: b, false: a}[q == "bäy"]; len(hv.entries) != 1 || hv.entries[0].ID != want {
			t.Errorf("search %q: %+v, want %s alone", q, hv.entries, want)
		}
	}
	hv.search.SetText("")
	hv.Select(a)
	h.pump("sample a shown", 10*time.Second, func() bool { return hv.selected == a && !hv.mark.Disabled() })
	test.Tap(hv.mark)
	h.pump("the mark", 10*time.Second, func() bool {
		i := slices.IndexFunc(hv.all, func(e sampleEntry) bool { return e.ID == a })
		return i >= 0 && hv.all[i].Marked
	})
	test.Type(hv.search, "marked")
	if len(hv.entries) != 1 || hv.entries[0].ID != a {
		t.Errorf("search marked: %+v", hv.entries)
	}
	hv.search.SetText("")
	var asked string
	hv.confirm = func(title, msg string, answer func(bool)) { asked = msg; answer(false) }
	hv.Select(a)
	h.pump("sample a shown", 10*time.Second, func() bool { return hv.selected == a })
	test.Tap(hv.del)
	if !strings.Contains(asked, "Move sample "+a+" to the trash?") {
		t.Fatalf("no confirmation asked: %q", asked)
	}
	if ok, _ := h.st.HasSample(h.a.ctx, a); !ok {
		t.Fatal("a refused delete removed the sample")
	}
	hv.confirm = func(title, msg string, answer func(bool)) { answer(true) }
	// Deleted as the only match of a search: its pane goes with it (helper-62: it stayed,
	// its buttons on, its PDF report doing nothing).
	test.Type(hv.search, a)
	hv.Select(a)
	h.pump("sample a, the only match, shown", 10*time.Second, func() bool { return hv.selected == a && !hv.del.Disabled() })
	test.Tap(hv.del)
	h.pump("the delete", 10*time.Second, func() bool { return len(hv.all) == 1 && hv.all[0].ID == b })
	if strings.Contains(hv.header.Text, "Sample "+a+" ") && !strings.Contains(hv.header.Text, "in the trash") || !hv.del.Disabled() || !hv.exports[0].Disabled() || len(hv.chart.Points()) > 0 {
		t.Errorf("after the delete the pane shows %q (delete on %v, chart of %d points)", hv.header.Text, !hv.del.Disabled(), len(hv.chart.Points()))
	}
	hv.search.SetText("")
	before, _ := h.st.TrashedSamples(h.a.ctx)
	if len(before) != 1 || before[0].ID != a {
		t.Fatalf("trash %+v", before)
	}
	hv.Restore(a)
	h.pump("the restore", 10*time.Second, func() bool { return len(hv.all) == 2 })
	if c, err := h.st.Counts(h.a.ctx, a); err != nil || c.Objects != 2 || !c.Sample.Marked {
		t.Errorf("restored sample: %d objects, marked %v (%v)", c.Objects, c.Sample.Marked, err)
	}
}

// Help and About open from the menu; Esc closes the dialog in front.
func TestHelpAboutAndEsc(t *testing.T) {
	h := newHarness(t, nil)
	menu := h.a.menu()
	var labels []string
	for _, it := range menu.Items[len(menu.Items)-1].Items {
		labels = append(labels, it.Label)
	}
	if strings.Join(labels, "|") != "How to screen a sample|About phytoscreen" {
		t.Fatalf("help menu %v", labels)
	}
	for _, show := range []func(){h.a.ShowHelp, h.a.ShowAbout} {
		show()
		if h.a.win.Canvas().Overlays().Top() == nil {
			t.Fatal("no dialog shown")
		}
		h.a.reviewKey(fyne.KeyEscape)
		if top := h.a.win.Canvas().Overlays().Top(); top != nil {
			t.Errorf("Esc left the dialog open")
		}
	}
}

// After a fast run (every frame released at once) the live view ends on the run's last
// frame with its cells labelled as the final counts label them, not on an older frame
// with grey pending boxes.
func TestLiveViewEndsOnLastFrameLabelled(t *testing.T) {
	h := newHarness(t, nil)
	p := h.a.svc.Pack
	noct, cop := labelIndex(t, p, "protist_noctiluca"), labelIndex(t, p, "copepod_calanoid")
	h.a.sample.ID.SetText("S-FAST")
	h.runToEndOf(newGatedSource(12, func(k int) []fakeCell { return []fakeCell{{noct, 0.9}, {cop, 0.8}} }), 12)
	ov := h.a.live.Overlays()
	if len(ov) != 2 {
		t.Fatalf("%d boxes on the last frame, want its 2 cells", len(ov))
	}
	for _, o := range ov {
		if o.Text == "" || o.Color == colorPending {
			t.Errorf("box %v left unlabelled (%q)", o.Box, o.Text)
		}
	}
	if snap := h.a.lastSnap; snap.LastFrame.Index != 11 {
		t.Errorf("the last snapshot's frame is %d, want 11", snap.LastFrame.Index)
	}
}

// A frame shown before its cells are classified (a slow model, no newer frame: a still
// field) gets its labels when they come, not grey boxes until the next frame.
func TestShownFrameGetsItsLabels(t *testing.T) {
	h := newHarness(t, nil)
	h.clf.delay.Store(int64(400 * time.Millisecond))
	noct := labelIndex(t, h.a.svc.Pack, "protist_noctiluca")
	src := newGatedSource(3, func(int) []fakeCell { return []fakeCell{{noct, 0.9}} })
	h.startRun(src, "S-SLOW", 1)
	src.release(1)
	h.pump("the frame on screen before its label", 5*time.Second, func() bool {
		ov := h.a.live.Overlays()
		return len(ov) == 1 && ov[0].Text == ""
	})
	h.pump("its label, with no newer frame", 5*time.Second, func() bool {
		ov := h.a.live.Overlays()
		return len(ov) == 1 && strings.HasPrefix(ov[0].Text, "Noctiluca 90%")
	})
	if src.reads.Load() != 1 {
		t.Errorf("%d frames read, want the one released", src.reads.Load())
	}
	src.release(2)
	h.pump("the run to end", 10*time.Second, func() bool { return h.a.sess == nil })
}

// An uncalibrated run that counted colonies says their cells are guessed from shape (a
// rule in cells reads them); one of single cells does not.
func TestUncalibratedColoniesSaid(t *testing.T) {
	h := newHarness(t, nil)
	h.a.sample.Fill(h.a.newSample(), 0)
	tricho := labelIndex(t, h.a.svc.Pack, "trichodesmium_puff")
	h.runToEndOf(newGatedSource(2, func(int) []fakeCell { return []fakeCell{{tricho, 0.9}} }), 2)
	if !strings.Contains(h.a.status.Text, "uncalibrated: the cells in its colonies") {
		t.Errorf("colonies counted uncalibrated, status %q", h.a.status.Text)
	}
	h.runToEnd(2) // Noctiluca, counted in cells
	if strings.Contains(h.a.status.Text, "uncalibrated") {
		t.Errorf("single cells counted, status %q", h.a.status.Text)
	}
}

// A sample screened with another pack than the one in use: History does not call it
// clear under the current rules, which are bound to the other pack's labels.
func TestHistoryOtherPackNotChecked(t *testing.T) {
	h := newHarness(t, nil)
	sm := h.a.newSample()
	sm.ID = "S-OTHER-PACK"
	r, err := h.st.StartRun(h.a.ctx, screening.RunInfo{Sample: sm, Spec: capture.Camera("0"), Model: inference.Optimised, Threshold: 0.5,
		Taxonomy: screening.DefaultTaxonomy("other-pack", []string{"microcystis", "other"})})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Finish(h.a.ctx, screening.Snapshot{Threshold: 0.5, Variant: inference.Optimised}, nil); err != nil {
		t.Fatal(err)
	}
	hv := h.showOnlySample(sm.ID)
	h.pump("its alerts", 10*time.Second, func() bool { return strings.Contains(hv.alerts.Text, "Not checked under the current rules") })
	if strings.Contains(hv.alerts.Text, "None under") {
		t.Errorf("History calls a sample of another pack clear: %q", hv.alerts.Text)
	}
}

// A sample screened with another pack, under rules that apply to it: History measures it
// under those rules, bound to its own pack, as the PDF report does, so the Alert cells
// show its level; they read "–" beside the report's ALERT (helper-41).
func TestHistoryOtherPackUnderItsOwnRules(t *testing.T) {
	h := newHarness(t, nil)
	// 150 Microcystis in a microlitre: 150,000 per mL, over the alert's 100,000 cells/mL.
	hv := h.showSampleOfPack("cyano-tcb-10", "S-CYANO", 0.001, "Microcystis", 150,
		"Under preset who-cyanobacteria, the rules it was screened with, on its pack cyano-tcb-10")
	if !strings.Contains(hv.alerts.Text, "ALERT Cyanobacteria") {
		t.Errorf("History's alerts: %q", hv.alerts.Text)
	}
	var level alerts.Level
	for _, row := range hv.counts.Rows() {
		if row.Label == "Microcystis" || row.IsGroup {
			level = max(level, row.Level)
		}
	}
	if level != alerts.Alert {
		t.Errorf("the Alert column's highest level %v, want alert", level)
	}
	// Its chart draws the levels its table is measured under (helper-71: none drawn,
	// from the marine pack's rules in use).
	if got := hv.chartLevels("group:cyanobacteria"); got.Watch != 2e7 || got.Alert != 1e8 {
		t.Errorf("the cyanobacteria chart's levels %+v, want the WHO preset's 20 M and 100 M cells/L", got)
	}
}

// A sample of another pack that the rules in use cover too is measured under them (the
// marine default preset covers both NDSB packs): a v2 sample screened under the WHO
// preset read "none" over its chart's Noctiluca above the default's alert level, with
// the marine pack and the default preset in use (helper-65).
func TestHistoryOtherPackUnderTheRulesInUse(t *testing.T) {
	h := newHarness(t, nil)
	// 2 Noctiluca in 0.1 mL: 20,000 cells/L, over the default's 10,000.
	hv := h.showSampleOfPack("ndsb-plankton-121-v2", "S-V2", 0.1, "protist_noctiluca", 2,
		"Under preset default, the rules in use, on its pack ndsb-plankton-121-v2")
	if !strings.Contains(hv.alerts.Text, "ALERT Noctiluca") {
		t.Errorf("History's alerts: %q", hv.alerts.Text)
	}
	if r, _ := rowOf(hv.counts.Rows(), "protist_noctiluca"); r.Level != alerts.Alert {
		t.Errorf("the Noctiluca row's level %v, want alert", r.Level)
	}
}

// showSampleOfPack stores a sample of pack (storeSampleOfPack), shows it alone in
// History and waits for its alerts to say under (the rules it is measured under).
func (h *harness) showSampleOfPack(pack, id string, ml float64, label string, n int, under string) *historyView {
	h.t.Helper()
	hv := h.showOnlySample(h.storeSampleOfPack(packTaxonomy(h.t, pack), id, ml, label, n))
	h.pump("its alerts", 10*time.Second, func() bool { return strings.Contains(hv.alerts.Text, under) })
	return hv
}

// storeSampleOfPack stores a finished run of sample id (volume ml examined) screened
// with the pack of tx under the WHO preset: n objects named label.
func (h *harness) storeSampleOfPack(tx *screening.Taxonomy, id string, ml float64, label string, n int) string {
	h.t.Helper()
	sm := h.a.newSample()
	sm.ID, sm.VolumeML = id, ml
	r, err := h.st.StartRun(h.a.ctx, screening.RunInfo{Sample: sm, Spec: capture.Camera("0"), Model: inference.Optimised, Threshold: 0.5,
		Rules: "preset who-cyanobacteria", Taxonomy: tx})
	if err != nil {
		h.t.Fatal(err)
	}
	var recs []screening.ObjectRecord
	for i := range n {
		recs = append(recs, screening.ObjectRecord{Seq: i + 1, Time: time.Now(), Object: vision.Object{Frame: i, Box: image.Rect(0, 0, 8, 8), AreaPx: 40},
			Label: label, Prob: 0.9, Variant: inference.Optimised, Category: label})
	}
	if err := r.Objects(recs); err != nil {
		h.t.Fatal(err)
	}
	if err := r.Finish(h.a.ctx, screening.Snapshot{Threshold: 0.5, Variant: inference.Optimised}, nil); err != nil {
		h.t.Fatal(err)
	}
	return id
}

// Frames another sample holds, screened as a new sample, are asked about first, naming
// the sample; Cancel starts nothing; Screen starts the run; frames no sample holds, a
// sample added to, and the demo are not asked about (helper-41: long.avi went into three
// samples at Bay A without a word).
func TestScreenedBeforeAsked(t *testing.T) {
	h := newHarness(t, nil)
	h.a.set.Site = "Bay A"
	h.a.sample.Fill(h.a.newSample(), 0)
	first := h.runToEnd(2)
	if len(h.screenedBefore) != 0 {
		t.Fatalf("frames no sample held were asked about: %q", h.screenedBefore)
	}
	var asked []string
	answer := false
	h.a.confirmAgain = func(title, msg, yes, no string, ans func(bool)) {
		asked = append(asked, title+"\n"+msg)
		ans(answer)
	}
	h.a.sample.Fill(h.a.newSample(), 0)
	test.Tap(h.a.sample.Start)
	if h.a.sess != nil || len(asked) != 1 || !strings.Contains(asked[0], "Screened before as "+first) || !strings.Contains(asked[0], "sample "+first+" at Bay A (on ") ||
		!strings.Contains(asked[0], "both samples go into") {
		t.Fatalf("the same frames as a new sample, cancelled: running %v, asked %q", h.a.sess != nil, asked)
	}
	answer = true
	second := h.runToEnd(2)
	if second == first || len(asked) != 2 {
		t.Fatalf("told to screen them: sample %s (first %s), asked %d times", second, first, len(asked))
	}
	// A third time: not "both" (helper-52).
	answer = false
	h.a.sample.Fill(h.a.newSample(), 0)
	test.Tap(h.a.sample.Start)
	if len(asked) != 3 || !strings.Contains(asked[2], "all these samples and the new one go into") || !strings.HasPrefix(asked[2], "Screened before as 2 samples\n") {
		t.Fatalf("the frames of two samples as a third: asked %q", asked[2:])
	}
	// Other frames: not asked.
	h.a.chooseSource(capture.Spec{Kind: capture.KindVideo, Path: "field-2.avi"})
	h.a.sample.Fill(h.a.newSample(), 0)
	h.runToEnd(2)
	if len(asked) != 3 {
		t.Errorf("frames no sample held were asked about: %q", asked[3:])
	}
}

// showOnlySample opens History, waits for the store's one sample to be listed, and
// chooses it.
func (h *harness) showOnlySample(id string) *historyView {
	h.t.Helper()
	hv := h.a.history
	h.a.tabs.SelectIndex(2)
	h.pump("the sample listed", 10*time.Second, func() bool { return len(hv.entries) == 1 })
	hv.Select(id)
	return hv
}

// History lists samples by the date they were taken, the last first: a sample taken
// last week and screened today sits below today's (it stood at the top, in the order
// the samples were entered).
func TestHistoryByDateTaken(t *testing.T) {
	h := newHarness(t, nil)
	h.a.sample.Fill(h.a.newSample(), 0)
	today := h.runToEnd(2)
	h.a.sample.Fill(h.a.newSample(), 0)
	h.a.sample.Taken.SetText("2025-06-03 09:30")
	lastWeek := h.runToEnd(2)
	h.a.sample.Fill(h.a.newSample(), 0)
	later := h.runToEnd(2)
	hv := h.a.history
	hv.Reload()
	h.pump("three samples listed", 10*time.Second, func() bool { return len(hv.entries) == 3 })
	var got []string
	for _, e := range hv.entries {
		got = append(got, e.ID)
	}
	if want := []string{later, today, lastWeek}; !slices.Equal(got, want) {
		t.Errorf("History lists %v, want %v (taken now, now, 2025-06-03)", got, want)
	}
}

// The chart is the site's trend whatever the search shows in the list: searching one
// sample's ID left a chart of that one point (helper-54).
func TestHistoryChartIgnoresTheSearch(t *testing.T) {
	h := newHarness(t, nil)
	h.a.set.Site = "Loch A"
	h.a.sample.Fill(h.a.newSample(), 0)
	h.runToEnd(2)
	h.a.sample.Fill(h.a.newSample(), 0)
	a := h.runToEnd(2) // the second: its ID may be the first's with a suffix, never the reverse
	hv := h.a.history
	h.a.tabs.SelectIndex(2)
	h.pump("two samples listed", 10*time.Second, func() bool { return len(hv.entries) == 2 })
	test.Type(hv.search, a)
	if len(hv.entries) != 1 {
		t.Fatalf("search %s: %d listed", a, len(hv.entries))
	}
	hv.Select(a)
	h.pump("sample a shown with its chart", 10*time.Second, func() bool { return hv.selected == a && len(hv.chart.Points()) > 0 })
	if n := len(hv.chart.Points()); n != 2 {
		t.Errorf("Loch A's chart with the list searched to one sample: %d points, want both samples", n)
	}
}

// History's list says the highest level a sample raised while it was screened, and a
// search for "alert" or "watch" finds those samples: the week's alert was found by
// opening every sample (helper-67).
func TestHistoryListSaysTheLevelRaised(t *testing.T) {
	h := newHarness(t, nil)
	noct := labelIndex(t, h.a.svc.Pack, "protist_noctiluca")
	h.screenOneCellFrames("copepod_calanoid", 0.9, "S-QUIET", 2)
	h.screenOneCellFrames("protist_noctiluca", 0.9, "S-WATCH", 2) // present: watch
	src := newGatedSource(2, func(int) []fakeCell { return []fakeCell{{noct, 0.9}} })
	h.startRun(src, "S-ALERT", 0.05) // 2 in 0.05 mL: 40,000 cells/L, over 10,000
	src.release(2)
	h.waitIdle()
	hv := h.a.history
	hv.Reload()
	h.pump("three samples listed", 10*time.Second, func() bool { return len(hv.all) == 3 })
	want := map[string]alerts.Level{"S-QUIET": alerts.None, "S-WATCH": alerts.Watch, "S-ALERT": alerts.Alert}
	for _, e := range hv.all {
		if e.Raised != want[e.ID] {
			t.Errorf("%s raised %v, want %v", e.ID, e.Raised, want[e.ID])
		}
	}
	for q, id := range map[string]string{"alert": "S-ALERT", "raised watch": "S-WATCH"} {
		hv.search.SetText(q)
		if len(hv.entries) != 1 || hv.entries[0].ID != id {
			t.Errorf("search %q: %+v, want %s alone", q, hv.entries, id)
		}
	}
	hv.search.SetText("S-ALERT")
	item := hv.list.CreateItem()
	hv.list.UpdateItem(0, item)
	if line := item.(*fyne.Container).Objects[1].(*fyne.Container).Objects[0].(*widget.Label).Text; !strings.HasPrefix(line, "raised ALERT") {
		t.Errorf("the list's line for S-ALERT: %q", line)
	}
}
