package ui

import (
	"archive/zip"
	"context"
	"image"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/imagefile"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
	"github.com/phytoscreen/phytoscreen/vision"
)

// Review that teaches: a taxon the pack lacks is typed in and set (the lab's own
// taxon, stored with the reviewer's name); the label is not kept armed for the next
// crop; Undo puts the crop back in the queue; "Back to review" returns to the queue
// from a taxon; the keyboard moves and accepts.
func TestReviewThatTeaches(t *testing.T) {
	h := newHarness(t, nil)
	p := h.a.svc.Pack
	cop, det := labelIndex(t, p, "copepod_calanoid"), labelIndex(t, p, "detritus_other")
	src := newGatedSource(3, func(k int) []fakeCell { return []fakeCell{{cop, 0.9}, {det, 0.2 + 0.1*float32(k)}} })
	h.startRun(src, "S-TEACH", 1)
	src.release(3)
	h.waitIdle()
	g := h.a.gallery
	g.reviewer.SetText("Ana Reviewer")
	h.a.tabs.SelectIndex(1)
	h.pump("the review queue", 10*time.Second, func() bool {
		return g.sampleID == "S-TEACH" && g.category == reviewKey && len(g.Items()) == 3 && g.selected == 0
	})
	// Part of a known name lists the known taxa first, the text as a new taxon last
	// (it came first and pushed the known ones out of sight).
	test.Type(g.filter, "copepod_cal")
	if n := len(g.labels); n < 2 || g.labels[0] != "copepod_calanoid" || g.labels[n-1] != "copepod_cal" {
		t.Errorf("labels offered for %q: %v; want the known taxa, then the new one", "copepod_cal", g.labels)
	}
	// Enter on part of a name that several taxa share makes no new taxon of it: it is
	// said to choose one (helper-69: "acanth" became a taxon beside three Acantharia).
	items := len(g.Items())
	g.filter.SetText("copepod_cal") // part of copepod_calanoid and of others
	g.filter.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	h.q.runAll()
	if len(g.Items()) != items || !strings.HasPrefix(h.a.status.Text, `Several taxa match "copepod_cal": choose one in the list`) {
		t.Errorf("Enter on %q: %d crops left of %d, status %q", "copepod_cal", len(g.Items()), items, h.a.status.Text)
	}
	// A name no taxon matches that cannot be a new taxon (too long) is said so, with the
	// reason: it read "Several taxa match" over an empty list (helper-86).
	g.filter.SetText(strings.Repeat("Qxw ", 75))
	g.filter.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	h.q.runAll()
	if len(g.Items()) != items || !strings.HasPrefix(h.a.status.Text, "No taxon matches what was typed, and it cannot be a new taxon: the label is ") {
		t.Errorf("Enter on a 300-character name: %d crops left of %d, status %q", len(g.Items()), items, h.a.status.Text)
	}
	g.filter.SetText("")
	// A known name typed without its punctuation, or its words in another order, is
	// that taxon, not a new one beside it (helper-65: "protist other" offered only "New
	// taxon: protist other", a second taxon counted apart from Protist, other).
	for _, typed := range []string{"protist other", "other protist", "Protist other"} {
		g.filter.SetText(typed)
		if len(g.labels) != 1 || g.labels[0] != "protist_other" || g.chosen != "protist_other" {
			t.Errorf("labels offered for %q: %v (chosen %q); want protist_other alone", typed, g.labels, g.chosen)
		}
	}
	g.filter.SetText("")
	// Microcystis is in no NDSB label: typed, it is offered as a new taxon, alone.
	test.Type(g.filter, "Microcystis")
	if len(g.labels) != 1 || g.labels[0] != "Microcystis" || g.chosen != "Microcystis" {
		t.Fatalf("labels offered for %q: %v", "Microcystis", g.labels)
	}
	if txt := g.labelText("Microcystis"); txt != "New taxon: Microcystis" {
		t.Errorf("list text %q", txt)
	}
	g.ChooseLabel("Microcystis")
	first := g.Items()[0].Row
	test.Tap(g.setLabel)
	h.pump("the new taxon set", 10*time.Second, func() bool { return len(g.Items()) == 2 })
	if g.chosen != "" || g.filter.Text != "" || !g.setLabel.Disabled() {
		t.Errorf("the label stays armed: chosen %q, filter %q", g.chosen, g.filter.Text)
	}
	// Chosen from the list with no filter typed: disarmed as well (setting an empty
	// filter empty again fired nothing, and the next crop got the same label).
	if !g.ChooseLabel("copepod_calanoid") || g.setLabel.Disabled() {
		t.Fatalf("copepod_calanoid not chosen from the full list (%d labels)", len(g.labels))
	}
	test.Tap(g.setLabel)
	h.pump("the second label set", 10*time.Second, func() bool { return len(g.Items()) == 1 })
	if g.chosen != "" || !g.setLabel.Disabled() {
		t.Errorf("a label chosen from the list stays armed for the next crop: %q", g.chosen)
	}
	g.Undo() // back to one label set, as the rest of the test expects
	h.pump("the second label undone", 10*time.Second, func() bool { return len(g.Items()) == 2 })
	// Enter in the label field sets the label typed whole, as Set label does (it did
	// nothing: helper-40); then undone as well.
	test.Type(g.filter, "Copepod_Calanoid")
	g.filter.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	h.pump("Enter setting the label typed", 10*time.Second, func() bool { return len(g.Items()) == 1 })
	g.Undo()
	h.pump("the label typed undone", 10*time.Second, func() bool { return len(g.Items()) == 2 })
	c, err := h.st.Counts(h.a.ctx, "S-TEACH")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(c.Taxa, func(x store.TaxonCount) bool { return x.Label == "Microcystis" && x.Count == 1 && x.Validated == 1 }) {
		t.Errorf("Microcystis not counted as validated: %+v", c.Taxa)
	}
	var by string
	si, _ := h.st.Sample(h.a.ctx, "S-TEACH")
	h.st.Objects(h.a.ctx, si, false, func(o store.ObjectRow) error {
		if o.ID == first.ID {
			by = o.ValidatedBy
		}
		return nil
	})
	if by != "Ana Reviewer" {
		t.Errorf("validated by %q, want the reviewer typed", by)
	}
	// Ctrl+Z: the crop is back in the queue, selected.
	test.Type(g.filter, "micro") // the lab's taxon is offered from now on
	if !slices.Contains(g.labels, "Microcystis") || g.labelText("Microcystis") != "Microcystis  (your lab's taxon)" {
		t.Errorf("after setting it, labels for micro: %v", g.labels)
	}
	g.filter.SetText("")
	// As the desktop driver hands Ctrl+Z over when no field takes it.
	h.a.win.Canvas().(fyne.Shortcutable).TypedShortcut(&fyne.ShortcutUndo{})
	h.pump("the undo", 10*time.Second, func() bool {
		return len(g.Items()) == 3 && g.selected >= 0 && g.Items()[g.selected].Row.ID == first.ID
	})
	if q, _ := h.st.ReviewQueue(h.a.ctx, "S-TEACH", 10); len(q) != 3 {
		t.Errorf("after undo the store's queue holds %d, want 3", len(q))
	}
	// Keyboard: → moves on, Enter accepts the model's label (detritus) for that crop.
	h.a.reviewKey(fyne.KeyRight)
	if g.selected != 1 {
		t.Fatalf("→ selected %d, want 1", g.selected)
	}
	// A crop clicked, the grid has the focus and the keys: they still move through the
	// crops (helper-69: they moved the grid's own highlight, and did nothing seen).
	h.a.win.Canvas().Focus(g.grid)
	g.grid.TypedKey(&fyne.KeyEvent{Name: fyne.KeyLeft})
	if g.selected != 0 {
		t.Errorf("← with the grid focused selected %d, want 0", g.selected)
	}
	g.grid.TypedKey(&fyne.KeyEvent{Name: fyne.KeyRight})
	if g.selected != 1 {
		t.Fatalf("→ with the grid focused selected %d, want 1", g.selected)
	}
	// A crop chosen after typing the reviewer's name takes the keys from that field
	// (helper-71: → and Enter went into the name).
	h.a.win.Canvas().Focus(g.reviewer)
	g.grid.Select(0)
	g.grid.Select(1)
	if f := h.a.win.Canvas().Focused(); f != fyne.Focusable(g.grid) {
		t.Errorf("a crop chosen from the Reviewer field leaves the keys with %T", f)
	}
	h.a.win.Canvas().Unfocus()
	second := g.Items()[1].Row
	h.a.reviewKey(fyne.KeyReturn)
	h.pump("Enter accepting", 10*time.Second, func() bool { return len(g.Items()) == 2 })
	if q, _ := h.st.ReviewQueue(h.a.ctx, "S-TEACH", 10); slices.ContainsFunc(q, func(o store.ObjectRow) bool { return o.ID == second.ID }) {
		t.Error("the accepted crop is still in the queue")
	}
	// Enter in the empty label field accepts the model's label too (helper-62: with
	// the field focused, Enter did nothing).
	next := g.Items()[g.selected].Row
	g.filter.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	h.pump("Enter in the empty field accepting", 10*time.Second, func() bool { return len(g.Items()) == 1 })
	if q, _ := h.st.ReviewQueue(h.a.ctx, "S-TEACH", 10); slices.ContainsFunc(q, func(o store.ObjectRow) bool { return o.ID == next.ID }) {
		t.Error("the crop accepted from the label field is still in the queue")
	}
	g.Undo()
	h.pump("the acceptance undone", 10*time.Second, func() bool { return len(g.Items()) == 2 })
	// A taxon's crops, then back to the queue.
	g.cats.Select(slices.IndexFunc(g.Categories(), func(c galleryCat) bool { return c.Key == "copepod_calanoid" }))
	h.pump("the copepods", 10*time.Second, func() bool { return g.category == "copepod_calanoid" && !g.backBtn.Disabled() })
	test.Tap(g.backBtn)
	h.pump("back to review", 10*time.Second, func() bool { return g.category == reviewKey && len(g.Items()) == 2 })
	// No reviewer: refused, saying where to type it.
	g.reviewer.SetText(" ")
	g.Relabel("copepod_calanoid")
	if h.a.lastError == nil || !strings.Contains(h.a.lastError.Error(), "Reviewer field") {
		t.Errorf("a label without a reviewer: %v", h.a.lastError)
	}
	// Enter on the message closes it, and does not accept a crop behind it again (each
	// Enter stacked another copy: helper-71); the status reads "Who is reviewing? type…".
	if !strings.HasPrefix(h.a.status.Text, "Who is reviewing? type your name") {
		t.Errorf("status %q", h.a.status.Text)
	}
	if h.a.win.Canvas().Overlays().Top() == nil {
		t.Fatal("no message shown")
	}
	for range 3 {
		h.a.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyReturn})
	}
	if top := h.a.win.Canvas().Overlays().Top(); top != nil {
		t.Errorf("after Enter on the message, a dialog is still shown (%d overlays)", len(h.a.win.Canvas().Overlays().List()))
	}
}

// The details typed for a sample (position, depth, analyst, time) and the reviewer's
// name reach the EcoTaxa export.
func TestEcoTaxaCarriesReviewerAndPosition(t *testing.T) {
	h := newHarness(t, nil)
	p := h.a.svc.Pack
	det := labelIndex(t, p, "detritus_other")
	src := newGatedSource(2, func(int) []fakeCell { return []fakeCell{{det, 0.2}} })
	h.a.sample.LatLon.SetText("56.51, -5.39")
	h.a.sample.Depth.SetText("3")
	h.a.sample.Analyst.SetText("Kim Analyst")
	h.a.sample.Taken.SetText("2025-06-03 09:30")
	h.startRun(src, "S-ECO", 1)
	src.release(2)
	h.waitIdle()
	g := h.a.gallery
	g.reviewer.SetText("Ana Reviewer")
	h.a.tabs.SelectIndex(1)
	h.pump("the review queue", 10*time.Second, func() bool { return g.sampleID == "S-ECO" && len(g.Items()) == 2 && g.selected == 0 })
	if g.info.Text != "Review queue (unidentified): 2 crops" {
		t.Errorf("the queue's heading %q", g.info.Text)
	}
	g.Relabel("protist_noctiluca")
	h.pump("the label", 10*time.Second, func() bool { return len(g.Items()) == 1 })
	if g.info.Text != "Review queue (unidentified): 1 crop" { // the heading follows the list
		t.Errorf("after a relabel the queue's heading says %q, and it holds %d crops", g.info.Text, len(g.Items()))
	}
	out := filepath.Join(t.TempDir(), "eco.zip")
	h.a.ExportPath("S-ECO", store.FormatEcoTaxa, out)
	h.pump("the export", 10*time.Second, func() bool { return strings.HasPrefix(h.a.status.Text, "Exported sample S-ECO") })
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var tsv string
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, ".tsv") {
			rc, _ := f.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			tsv = string(b)
		}
	}
	lines := strings.Split(strings.TrimSpace(tsv), "\n")
	if len(lines) != 4 { // header, types, 2 objects
		t.Fatalf("TSV has %d lines:\n%s", len(lines), tsv)
	}
	head := strings.Split(lines[0], "\t")
	col := func(row []string, name string) string {
		i := slices.Index(head, name)
		if i < 0 {
			t.Fatalf("no column %s", name)
		}
		return row[i]
	}
	var reviewed int
	for _, l := range lines[2:] {
		row := strings.Split(l, "\t")
		if col(row, "object_lat") != "56.510000" || col(row, "object_lon") != "-5.390000" || col(row, "object_depth_min") != "3" ||
			col(row, "sample_operator") != "Kim Analyst" || col(row, "object_date") != "20250603" {
			t.Errorf("row lacks the sample's details: lat %q lon %q depth %q operator %q date %q", col(row, "object_lat"), col(row, "object_lon"),
				col(row, "object_depth_min"), col(row, "sample_operator"), col(row, "object_date"))
		}
		if col(row, "object_annotation_status") == store.StatusValidated {
			reviewed++
			if col(row, "object_annotation_person_name") != "Ana Reviewer" || col(row, "object_annotation_category") != "protist_noctiluca" {
				t.Errorf("validated row: %q by %q", col(row, "object_annotation_category"), col(row, "object_annotation_person_name"))
			}
		}
	}
	if reviewed != 1 {
		t.Errorf("%d validated rows, want 1", reviewed)
	}
}

// The rule editor in Settings › Alerts starts from the rules in use, edits levels and
// adds a rule with its unit and source, refuses what the CLI would refuse, and saves a
// TOML file that the CLI's parser reads back to the same rules, then in use.
func TestRuleEditorSavesRulesTheCLIReads(t *testing.T) {
	fy := test.NewTempApp(t)
	h := newHarness(t, fy)
	h.a.set.Site = "Loch A"
	h.a.ShowSettings()
	v := h.a.settingsWin
	v.EditRules()
	ed := v.editor
	if ed == nil || len(ed.rows) != 3 || ed.Name.Text != "Loch A" {
		t.Fatalf("editor from the default preset: %+v", ed)
	}
	ed.Path.SetText(filepath.Join(t.TempDir(), "rules", "loch-a.toml"))
	ed.rows[0].Alert.SetText("5,000")
	r := ed.AddRule(alerts.Rule{})
	r.Taxa.SetText("Dinophysis acuminata + Dinophysis acuta")
	r.Watch.SetText("0.1")
	r.Alert.SetText("presence")
	r.Unit.SetSelected(alerts.PerML)
	r.Source.SetText("farm's own level")
	// A level reached only above its number, typed as a regulation writes it.
	above := ed.AddRule(alerts.Rule{})
	above.Taxa.SetText("Karenia brevis")
	above.Watch.SetText("> 1,000")
	above.Alert.SetText("5000")
	above.Source.SetText("Florida FWC")
	if _, err := ed.Save(); err == nil || !strings.Contains(err.Error(), "an alert on presence leaves no room for a watch level") {
		t.Errorf("watch below a presence alert: %v", err)
	}
	r.Watch.SetText("")
	path, err := ed.Save()
	if err != nil {
		t.Fatal(err)
	}
	rs, err := alerts.LoadFile(path) // what phytoscreen screen --rules reads
	if err != nil {
		t.Fatal(err)
	}
	if rs.Name != "Loch A" || len(rs.Rules) != 5 || rs.Rules[0].Alert.CellsPerL() != 5000 {
		t.Fatalf("read back: %s, %d rules, first alert %v", rs.Name, len(rs.Rules), rs.Rules[0].Alert)
	}
	last := rs.Rules[3]
	if strings.Join(last.Taxa, "|") != "Dinophysis acuminata|Dinophysis acuta" || !last.Alert.Presence || last.Source != "farm's own level" {
		t.Errorf("the new rule read back as %+v", last)
	}
	if kb := rs.Rules[4]; kb.Watch == nil || !kb.Watch.Above || kb.Watch.CellsPerL() != 1000 || kb.Alert.Above || kb.Alert.CellsPerL() != 5000 {
		t.Errorf("Karenia's levels read back as %v and %v", kb.Watch, kb.Alert)
	}
	// Opened again in the editor, the level keeps its ">".
	row := ed.AddRule(rs.Rules[4])
	if row.Watch.Text != "> 1000" || row.Alert.Text != "5000" {
		t.Errorf("the editor shows Karenia's levels as %q and %q", row.Watch.Text, row.Alert.Text)
	}
	ed.remove(row)
	// Saved from the dialog, the file becomes the settings' rules file.
	v.RulesFile.SetText(path)
	test.Tap(v.Save)
	if h.a.set.RulesFile != path || h.a.rules.Name != path {
		t.Errorf("rules in use %q (setting %q), want %s", h.a.rules.Name, h.a.set.RulesFile, path)
	}
}

// Settings › Model › What it recognises lists the pack's taxa (the default pack's card
// has no per-taxon figures, and the dialog says so).
func TestWhatThePackRecognises(t *testing.T) {
	h := newHarness(t, nil)
	h.a.ShowSettings()
	v := h.a.settingsWin
	v.ShowRecognises()
	if len(v.recognises) != 121 || !slices.ContainsFunc(v.recognises, func(l string) bool { return strings.HasPrefix(l, "Noctiluca · group Noctiluca") }) {
		t.Errorf("%d lines, e.g. %q", len(v.recognises), v.recognises[:3])
	}
}

// A crop cut from an image file is shown in its original colours, read back from the
// file around its box (the stored crop is what the model saw: flattened, gray for a gray
// pack); a file no longer there leaves the stored crop and says so.
func TestGalleryShowsOriginalColours(t *testing.T) {
	dir := t.TempDir()
	frames, _ := filepath.Glob("../testdata/real-frames/*.jpg")
	if len(frames) < 2 {
		t.Fatalf("%d real frames", len(frames))
	}
	for _, f := range frames[:2] {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644)
	}
	h := newHarness(t, nil, func(s *app.Services) {
		s.Open = func(ctx context.Context, spec capture.Spec, set app.Settings, opt capture.OpenOptions) (capture.Source, error) {
			return app.OpenSource(spec, set, "", opt)
		}
		s.NewSegmenter = nil // the session's own: each image is one cell
	})
	h.clf.anyCrop = true
	h.a.sample.ID.SetText("S-COLOUR")
	h.a.chooseSource(capture.Spec{Kind: capture.KindCells, Path: dir})
	test.Tap(h.a.sample.Start)
	h.pump("the run to end", 20*time.Second, func() bool { return h.a.sess == nil })
	g := h.a.gallery
	g.reviewer.SetText("Ana")
	h.a.tabs.SelectIndex(1)
	h.pump("a crop with its original", 10*time.Second, func() bool {
		return g.sampleID == "S-COLOUR" && g.selected >= 0 && strings.Contains(g.detail.Text, "original colours")
	})
	o := g.Items()[g.selected].Row
	if !strings.HasPrefix(g.detail.Text, "Cell #") || !strings.Contains(g.detail.Text, "File: "+filepath.Base(o.File)) {
		t.Errorf("detail %q", g.detail.Text)
	}
	want, err := imagefile.ReadColor(o.File)
	if err != nil {
		t.Fatal(err)
	}
	got := g.big.Image
	if got.Bounds().Dx() != want.Bounds().Dx() || got.Bounds().Dy() != want.Bounds().Dy() {
		t.Fatalf("shown %v, the file is %v", got.Bounds(), want.Bounds())
	}
	colour := 0
	for y := 0; y < got.Bounds().Dy(); y += 7 {
		for x := 0; x < got.Bounds().Dx(); x += 7 {
			r, gg, b, _ := got.At(x, y).RGBA()
			wr, wg, wb, _ := want.At(want.Bounds().Min.X+x, want.Bounds().Min.Y+y).RGBA()
			if r != wr || gg != wg || b != wb {
				t.Fatalf("pixel %d,%d shown %v, in the file %v", x, y, got.At(x, y), want.At(x, y))
			}
			if r != gg || gg != b {
				colour++
			}
		}
	}
	if colour == 0 {
		t.Error("the crop shown is gray: not the file's colours")
	}
	// The file gone: the stored crop stays, said so.
	os.Remove(o.File)
	g.show(-1)
	g.show(slices.IndexFunc(g.Items(), func(it galleryItem) bool { return it.Row.ID == o.ID }))
	h.pump("the missing file said", 10*time.Second, func() bool { return strings.Contains(g.detail.Text, "no longer reads") })
}

// A crop of a video is shown as filmed: its frame read back from the video, around its
// box.
func TestGalleryShowsVideoFrameCrop(t *testing.T) {
	video, err := filepath.Abs("../assets/demo/demo.avi")
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, nil, func(s *app.Services) {
		s.Open = func(ctx context.Context, spec capture.Spec, set app.Settings, opt capture.OpenOptions) (capture.Source, error) {
			return app.OpenSource(spec, set, "", opt)
		}
		s.NewSegmenter = nil
	})
	h.clf.anyCrop = true
	h.a.sample.ID.SetText("S-FILMED")
	h.a.chooseSource(capture.Spec{Kind: capture.KindVideo, Path: video})
	test.Tap(h.a.sample.Start)
	h.pump("the run to end", 60*time.Second, func() bool { return h.a.sess == nil })
	g := h.a.gallery
	h.a.tabs.SelectIndex(1)
	h.pump("a crop as filmed", 10*time.Second, func() bool {
		return g.sampleID == "S-FILMED" && g.selected >= 0 && strings.Contains(g.detail.Text, "original colours")
	})
	o := g.Items()[g.selected].Row
	frame, err := capture.VideoFrame(video, o.Frame)
	if err != nil {
		t.Fatal(err)
	}
	want, got := cropAround(frame, o.Box), g.big.Image
	if o.File != video || got.Bounds() != want.Bounds() {
		t.Fatalf("file %q, shown %v, the frame's crop %v", o.File, got.Bounds(), want.Bounds())
	}
	for y := 0; y < got.Bounds().Dy(); y += 3 {
		for x := 0; x < got.Bounds().Dx(); x += 3 {
			if got.At(x, y) != want.At(x, y) {
				t.Fatalf("pixel %d,%d: shown %v, in frame %d %v", x, y, got.At(x, y), o.Frame, want.At(x, y))
			}
		}
	}
}

// The reviewer's name outlives the next settings save and the restart: it was kept in
// the preferences beside the settings, which a save wrote back whole with the name the
// app started with (helper-38 was asked "Who is reviewing?" again after a restart).
func TestReviewerKeptAcrossSaves(t *testing.T) {
	fy := test.NewTempApp(t)
	h := newHarness(t, fy)
	h.a.gallery.reviewer.SetText("Ana Ruiz ")
	h.a.SetBatch(8) // any change of settings saves them all
	if got := fy.Preferences().String(app.PrefReviewer); got != "Ana Ruiz" {
		t.Errorf("after a settings save the stored reviewer is %q, want Ana Ruiz", got)
	}
	if s := app.LoadSettings(fy.Preferences()); s.Reviewer != "Ana Ruiz" {
		t.Errorf("the next launch's reviewer is %q, want Ana Ruiz", s.Reviewer)
	}
}

// A review queue longer than the gallery shows is counted whole: "showing 2 of 3", not
// the 2 shown (helper-40: "600 crops" beside the category's 1,613).
func TestReviewQueueCountedWhole(t *testing.T) {
	h := newHarness(t, nil)
	h.screenOneCellFrames("detritus_other", 0.2, "S-LONG", 3)
	defer func(n int) { galleryLimit = n }(galleryLimit)
	galleryLimit = 2
	items, total, err := loadCrops(h.a.ctx, h.st, "S-LONG", reviewKey)
	if err != nil || len(items) != 2 || total != 3 {
		t.Fatalf("review queue: %d crops of %d, %v; want 2 shown of 3", len(items), total, err)
	}
	g := h.a.gallery
	h.a.tabs.SelectIndex(1)
	h.pump("the queue's heading", 10*time.Second, func() bool {
		return g.sampleID == "S-LONG" && g.info.Text == "Review queue (unidentified): showing 2 of 3 crops"
	})
}

// The gallery opens on the sample run last, also after its run has ended: it stayed on
// the sample viewed before the run (helper-49).
func TestGalleryFollowsTheNewestRun(t *testing.T) {
	h := newHarness(t, nil)
	h.screenOneCellFrames("protist_noctiluca", 0.9, "S-FIRST", 2)
	g := h.a.gallery
	h.a.tabs.SelectIndex(1)
	h.pump("the first sample's crops", 10*time.Second, func() bool { return g.sampleID == "S-FIRST" && len(g.Items()) > 0 })
	h.a.tabs.SelectIndex(0)
	h.screenOneCellFrames("copepod_calanoid", 0.9, "S-SECOND", 3)
	h.a.tabs.SelectIndex(1)
	h.pump("the second sample's crops", 10*time.Second, func() bool {
		return strings.HasPrefix(g.sampleSel.Selected, "S-SECOND · ") && g.sampleID == "S-SECOND" && len(g.Items()) == 3
	})
	// The list says each sample's site and when it was taken (helper-59: bare IDs), and
	// choosing a line shows its sample.
	first := ""
	for _, o := range g.sampleSel.Options {
		if strings.HasPrefix(o, "S-FIRST · ") {
			first = o
		}
	}
	if first == "" || len(g.sampleSel.Options) != 2 {
		t.Fatalf("the gallery's samples: %q, want each with its site and time", g.sampleSel.Options)
	}
	g.sampleSel.SetSelected(first)
	h.pump("the first sample chosen again", 10*time.Second, func() bool { return g.sampleID == "S-FIRST" && len(g.Items()) > 0 })
	// History opens on the sample run last, and the gallery on a sample chosen in
	// History (helper-81: History opened on the demo, and the gallery stayed on another
	// sample than the one chosen there); a sample chosen in the gallery stays while
	// History's is unchanged.
	hv := h.a.history
	h.a.tabs.SelectIndex(2)
	h.pump("History on the newest run's sample", 10*time.Second, func() bool { return hv.selected == "S-SECOND" })
	h.a.tabs.SelectIndex(1)
	h.pump("the gallery on History's sample", 10*time.Second, func() bool { return g.sampleID == "S-SECOND" && len(g.Items()) == 3 })
	h.a.tabs.SelectIndex(2)
	i := slices.IndexFunc(hv.entries, func(e sampleEntry) bool { return e.ID == "S-FIRST" })
	hv.list.Select(i)
	h.a.tabs.SelectIndex(1)
	h.pump("the gallery on the sample chosen in History", 10*time.Second, func() bool { return g.sampleID == "S-FIRST" && len(g.Items()) > 0 })
	g.sampleSel.SetSelected(g.sampleLines["S-SECOND"])
	h.pump("the second chosen in the gallery", 10*time.Second, func() bool { return g.sampleID == "S-SECOND" })
	h.a.tabs.SelectIndex(2)
	h.a.tabs.SelectIndex(1)
	h.pump("the gallery keeps its own choice", 10*time.Second, func() bool { return g.sampleID == "S-SECOND" && len(g.Items()) == 3 })
}

// At launch without a camera the demo plays only with a pack that knows its marine
// plankton: the cyanobacteria pack named them Microcystis and Anabaena (helper-50).
func TestDemoAtLaunchOnlyWithAPackThatKnowsIt(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  []harnessOpt
		plays bool
	}{
		{"the default pack", nil, true},
		{"a pack of other taxa", []harnessOpt{func(s *app.Services) {
			s.Taxonomy = screening.DefaultTaxonomy("cyano-like", []string{"Microcystis", "Anabaena", "Other"})
		}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil, tc.opts...)
			h.a.set.DemoWhenNoCamera = true
			h.a.sample.Source.SetSelected(choiceDemo)
			h.a.autoStart()
			h.mu.Lock()
			opened := slices.Clone(h.opened)
			h.mu.Unlock()
			if tc.plays {
				h.pump("the demo opened", 10*time.Second, func() bool {
					h.mu.Lock()
					defer h.mu.Unlock()
					return len(h.opened) == 1 && strings.Contains(h.opened[0], "demo")
				})
				return
			}
			if len(opened) > 0 || !strings.Contains(h.a.status.Text, "pack cyano-like knows none of the demo's 17 taxa, so it was not started") {
				t.Errorf("opened %q; status %q", opened, h.a.status.Text)
			}
		})
	}
}

// A sample screened with another pack than the one the app runs is reviewed under its
// own: its categories by that pack's names, the labels offered that pack's (helper-62:
// a cyanobacteria sample under the marine pack offered "New taxon: Anabaena" and showed
// its reject class as "Other").
func TestGalleryReviewsUnderTheSamplesPack(t *testing.T) {
	h := newHarness(t, nil)
	if h.a.svc.Taxonomy.Pack == "cyano-tcb-10" {
		t.Fatal("the harness runs the cyanobacteria pack: the test needs another")
	}
	tx := cyanoTaxonomy(t)
	other, ok := tx.Lookup("Other")
	if !ok || other.Name == "Other" {
		t.Fatalf("the cyano pack's reject class is %+v: the test needs a display name of its own", other)
	}
	sm := screening.NewSample("S-CYANO")
	sm.VolumeML = 1
	r, err := h.st.StartRun(h.a.ctx, screening.RunInfo{Sample: sm, Spec: capture.MustParseSpec("pond.avi"), Model: inference.Optimised, Threshold: 0.5, Taxonomy: tx})
	if err != nil {
		t.Fatal(err)
	}
	crop := image.NewGray(image.Rect(0, 0, 16, 16))
	var recs []screening.ObjectRecord
	for i, l := range []string{"Other", "Anabaena"} {
		recs = append(recs, screening.ObjectRecord{Seq: i + 1, Time: time.Now(), Object: vision.Object{Source: "pond.avi", Frame: i, Track: i, New: true, Box: crop.Rect, Crop: crop},
			Label: l, Prob: 0.9, Variant: inference.Optimised, Category: l})
	}
	if err := r.Objects(recs); err != nil {
		t.Fatal(err)
	}
	if err := r.Finish(h.a.ctx, screening.Snapshot{}, nil); err != nil {
		t.Fatal(err)
	}
	g := h.a.gallery
	h.a.tabs.SelectIndex(1)
	g.ShowSample("S-CYANO")
	h.pump("the sample's categories", 10*time.Second, func() bool {
		return slices.ContainsFunc(g.Categories(), func(c galleryCat) bool { return c.Key == "Other" })
	})
	if i := slices.IndexFunc(g.Categories(), func(c galleryCat) bool { return c.Key == "Other" }); g.Categories()[i].Name != other.Name {
		t.Errorf("the reject class is listed as %q, want the cyano pack's %q", g.Categories()[i].Name, other.Name)
	}
	g.filter.SetText("Anab")
	if !slices.Contains(g.labels, "Anabaena") {
		t.Errorf("typing Anab offers %q, want the sample's pack's Anabaena", g.labels)
	}
}

// A review of the sample the Live tab shows reaches the Live tab: its counts and its
// banner are the store's, with the labels set, as History reads them (they stayed as
// screened, and the two told two stories of one sample); Undo takes it back, and a
// change of rules measures the reviewed counts again. The sample's single unidentified
// cell, labelled Noctiluca at 0.05 mL, is 20,000 cells/L: over the default preset's
// alert level (10,000).
func TestReviewReachesTheLiveTab(t *testing.T) {
	h := newHarness(t, nil)
	p := h.a.svc.Pack
	cop, det := labelIndex(t, p, "copepod_calanoid"), labelIndex(t, p, "detritus_other")
	src := newGatedSource(1, func(int) []fakeCell { return []fakeCell{{cop, 0.9}, {det, 0.2}} })
	h.startRun(src, "S-LIVE", 0.05)
	src.release(1)
	h.waitIdle()
	// None counted in 0.05 mL, where one is over the alert level, is not below it: the
	// banner says so (helper-72), and raises no level.
	if n := countOf(h.a.counts.Rows(), "protist_noctiluca"); n != 0 || h.a.banner.Level() != alerts.None ||
		!strings.HasPrefix(h.a.banner.Headline(), "Not checked: too little examined for Noctiluca") {
		t.Fatalf("before the review: %d Noctiluca, banner %v %q", n, h.a.banner.Level(), h.a.banner.Headline())
	}
	g := h.reviewQueue("S-LIVE", 1)
	g.Relabel("protist_noctiluca")
	h.pump("the Live tab reviewed", 10*time.Second, func() bool { return countOf(h.a.counts.Rows(), "protist_noctiluca") == 1 })
	if n := countOf(h.a.counts.Rows(), screening.Unidentified); n != 0 {
		t.Errorf("the Live tab still counts %d unidentified after the review", n)
	}
	if hl, ctx := h.a.banner.Headline(), h.a.counts.Scope(); !strings.Contains(hl, "Noctiluca: 20,000 cells/L") || !strings.Contains(ctx, "Sample S-LIVE as reviewed") {
		t.Errorf("after the review the banner says %q and the table %q", hl, ctx)
	}
	if st := h.a.status.Text; !strings.Contains(st, "the Live tab, exports and History use it") {
		t.Errorf("status after the review: %q", st)
	}
	// The queue emptied: its message wraps at the gallery's width, not a letter a line
	// (the window grew to 1629 px: helper-66).
	h.pump("the queue done", 5*time.Second, func() bool { return strings.HasPrefix(g.emptyLabel.Text, "Review queue done") })
	if hgt := h.a.win.Content().MinSize().Height; hgt > 720 {
		t.Errorf("with the queue done the window needs %.0f px of height", hgt)
	}
	if _, _, _, alpha := g.big.Image.At(0, 0).RGBA(); alpha != 0 {
		t.Errorf("with no crop selected the preview is opaque (alpha %d): a black square", alpha)
	}
	// Rules changed: the reviewed counts are measured under them, not the screened ones.
	h.a.set.Preset = "who-cyanobacteria"
	h.a.reloadRules()
	h.pump("the banner under the new rules", 10*time.Second, func() bool { return !strings.Contains(h.a.banner.Headline(), "Noctiluca") })
	if n := countOf(h.a.counts.Rows(), "protist_noctiluca"); n != 1 {
		t.Errorf("under the new rules the Live tab counts %d Noctiluca, want the reviewed 1", n)
	}
	h.a.set.Preset = "default"
	h.a.reloadRules()
	h.pump("the banner under the default rules", 10*time.Second, func() bool { return strings.Contains(h.a.banner.Headline(), "Noctiluca") })
	// Ctrl+Z in the Relabel field, where the focus stays after a label typed and set
	// with Enter: with text in it, it is the text's; empty, it undoes the label
	// (helper-66: it did nothing).
	g.filter.SetText("protist")
	g.filter.TypedShortcut(&fyne.ShortcutUndo{})
	h.q.runAll()
	if n := countOf(h.a.counts.Rows(), "protist_noctiluca"); n != 1 {
		t.Fatalf("Ctrl+Z with text in the Relabel field undid the label (%d Noctiluca)", n)
	}
	g.filter.SetText("")
	g.filter.TypedShortcut(&fyne.ShortcutUndo{})
	h.pump("the review undone on the Live tab", 10*time.Second, func() bool {
		return countOf(h.a.counts.Rows(), "protist_noctiluca") == 0 && countOf(h.a.counts.Rows(), screening.Unidentified) == 1
	})
	if hl := h.a.banner.Headline(); h.a.banner.Level() != alerts.None || strings.Contains(hl, "Noctiluca:") {
		t.Errorf("after Undo the banner says %v %q", h.a.banner.Level(), hl)
	}
}

// Undo acts on the sample shown: after a run the Gallery moved to the new sample, and
// Undo put back a label of the one before, out of sight, naming the new one
// (helper-69). Back on that sample, its label is undone and named with it.
func TestUndoActsOnTheSampleShown(t *testing.T) {
	h := newHarness(t, nil)
	det := labelIndex(t, h.a.svc.Pack, "detritus_other")
	screen := func(id string) {
		src := newGatedSource(2, func(int) []fakeCell { return []fakeCell{{det, 0.3}} }) // under the threshold: to review
		h.startRun(src, id, 1)
		src.release(2)
		h.waitIdle()
	}
	screen("S-A")
	g := h.reviewQueue("S-A", 2)
	g.Relabel("copepod_calanoid")
	h.pump("the label set", 10*time.Second, func() bool { return len(g.Items()) == 1 && !g.undoBtn.Disabled() })
	validated := func() int {
		c, err := h.st.Counts(h.a.ctx, "S-A")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, x := range c.Taxa {
			n += x.Validated
		}
		return n
	}
	h.a.tabs.SelectIndex(0)
	screen("S-B")
	h.a.tabs.SelectIndex(1) // the Gallery opens on the new sample
	h.pump("S-B shown", 10*time.Second, func() bool { return g.sampleID == "S-B" && len(g.Items()) == 2 })
	if !g.undoBtn.Disabled() {
		t.Error("Undo is offered on S-B for a label of S-A")
	}
	g.Undo()
	h.q.runAll()
	time.Sleep(100 * time.Millisecond)
	h.q.runAll()
	if n := validated(); n != 1 {
		t.Errorf("Undo on S-B changed S-A: %d labels left there, want 1", n)
	}
	g.ShowSample("S-A")
	h.pump("S-A back", 10*time.Second, func() bool { return g.sampleID == "S-A" && len(g.Items()) == 1 && !g.undoBtn.Disabled() })
	g.Undo()
	h.pump("S-A's label undone", 10*time.Second, func() bool { return len(g.Items()) == 2 })
	if n := validated(); n != 0 || !strings.Contains(h.a.status.Text, "of sample S-A is no longer labelled") {
		t.Errorf("undone on S-A: %d labels left, status %q", n, h.a.status.Text)
	}
}

// reviewQueue opens the Gallery on sample id's review queue of n crops, the first
// selected, with a reviewer named.
func (h *harness) reviewQueue(id string, n int) *galleryView {
	h.t.Helper()
	g := h.a.gallery
	g.reviewer.SetText("Ana Reviewer")
	h.a.tabs.SelectIndex(1)
	h.pump(id+"'s review queue", 10*time.Second, func() bool {
		return g.sampleID == id && g.category == reviewKey && len(g.Items()) == n && g.selected == 0
	})
	return g
}
