package ui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
)

// selectHint is the detail panel's text with no crop selected: how to review by keyboard.
const selectHint = "Select a crop. Keys: → next, ← previous, Enter: the model is right, Ctrl+Z: undo."

// reviewKey is the gallery's category of cells waiting for a person.
const reviewKey = "\x00review"

// galleryLimit is how many crops a category shows at once (newest runs first); a
// variable so that a test can show a long queue with a few crops.
var galleryLimit = 600

// galleryCat is one entry of the gallery's category list.
type galleryCat struct {
	Key   string // a category (pack label), screening.Unidentified, or reviewKey
	Name  string
	Group string
	Count int
}

// galleryItem is one crop.
type galleryItem struct {
	Row store.ObjectRow
	Img image.Image
}

// galleryView shows a sample's crops per taxon at a chosen zoom, lets a person relabel any
// crop (stored as a validated label, which the counts and exports then use), and keeps a
// review queue of the unidentified cells, taken one after the other.
type galleryView struct {
	e *env
	// current is the sample being screened, "" between runs: the gallery opens on it.
	current func() string
	content fyne.CanvasObject

	sampleSel   *widget.Select
	zoom        *widget.Slider
	info        *statusLine
	total       int // crops in the category shown (more than items when they are many)
	cats        *widget.List
	catItems    []galleryCat
	category    string
	sampleID    string
	sampleLines map[string]string   // sample ID -> its line in sampleSel (site, when taken)
	tax         *screening.Taxonomy // the shown sample's pack's (nil: the app's, until read)
	// follow is the sample of the newest run, which the next Reload opens on once: after
	// its run has ended the gallery stayed on the sample viewed before (helper-49). Once
	// taken, a sample chosen by hand stays.
	follow string

	gridHolder *fyne.Container
	grid       *reviewGrid
	items      []galleryItem
	selected   int

	big       *canvas.Image
	detail    *widget.Label
	preds     *widget.Label
	filter    *labelEntry
	labelList *widget.List
	labels    []string // pack labels matching the filter
	chosen    string   // label chosen in the list
	setLabel  *widget.Button
	confirm   *widget.Button
	undoBtn   *widget.Button
	backBtn   *widget.Button
	reviewer  *widget.Entry
	// undo holds the labels set in this session, newest last: each restores what it
	// replaced.
	undo []undoStep
	// labTaxa are the labels people added that no pack has; selectAfterLoad the
	// object to select once a category loads (after an undo), 0 for the first.
	labTaxa         []string
	selectAfterLoad int64
	shown           int // counts the crops shown, so a late original of an earlier one is dropped
	gen             int // load generation: late results of an older load are dropped
	emptyLabel      *widget.Label
	teachBtn        *widget.Button
	teach           *teachDialog // the open teach dialog (tests drive it)
}

func newGallery(e *env, current func() string) *galleryView {
	g := &galleryView{e: e, current: current, selected: -1, category: reviewKey}
	g.sampleSel = widget.NewSelect(nil, func(label string) {
		id := g.idOf(label)
		if id != g.sampleID {
			g.sampleID = id
			g.loadCategories()
		}
	})
	g.sampleSel.PlaceHolder = "(no samples yet)"
	g.zoom = widget.NewSlider(48, 256)
	g.zoom.Step = 8
	g.zoom.SetValue(112)
	g.zoom.OnChangeEnded = func(float64) { g.rebuildGrid() }
	// Cut short rather than widen the window: a sample's long summary here took its
	// least width from 1140 to 1378 px when the gallery opened (helper-38: the Settings
	// button went off the window's edge). Cut, it shows whole under the pointer: at 1366
	// px it read "Review …" (helpers 95 and 98).
	g.info = newStatusLine("")
	refresh := widget.NewButtonWithIcon("Refresh", theme.ViewRefreshIcon(), g.Reload)
	g.teachBtn = widget.NewButtonWithIcon("Teach from reviewed crops…", theme.ComputerIcon(), g.ShowTeach)
	if e.svc.Teach == nil {
		g.teachBtn.Disable()
	}

	g.cats = widget.NewList(func() int { return len(g.catItems) },
		func() fyne.CanvasObject {
			sw := canvas.NewRectangle(color.Transparent)
			sw.SetMinSize(fyne.NewSize(10, 10))
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			n := widget.NewLabel("")
			return container.NewBorder(nil, nil, container.NewCenter(sw), n, l)
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			c := g.catItems[id]
			box := o.(*fyne.Container)
			l, sw, n := box.Objects[0].(*widget.Label), box.Objects[1].(*fyne.Container).Objects[0].(*canvas.Rectangle), box.Objects[2].(*widget.Label)
			l.SetText(c.Name)
			l.TextStyle.Bold = c.Key == reviewKey
			l.Refresh()
			n.SetText(fmtCount(c.Count))
			if c.Key == reviewKey {
				sw.FillColor = colorWatch
			} else {
				sw.FillColor = taxonColor(c.Key, c.Group)
			}
			sw.Refresh()
		})
	g.cats.OnSelected = func(id widget.ListItemID) {
		if id < len(g.catItems) && g.catItems[id].Key != g.category {
			g.category = g.catItems[id].Key
			g.loadCategory()
		}
	}

	g.gridHolder = container.NewStack()
	g.emptyLabel = widget.NewLabel("")
	g.emptyLabel.Alignment = fyne.TextAlignCenter
	g.emptyLabel.Wrapping = fyne.TextWrapWord

	g.big = canvas.NewImageFromImage(noCrop())
	g.big.FillMode = canvas.ImageFillContain
	g.big.ScaleMode = canvas.ImageScalePixels
	g.big.SetMinSize(fyne.NewSize(240, 240))
	g.detail = widget.NewLabel(selectHint)
	g.detail.Wrapping = fyne.TextWrapWord
	g.preds = widget.NewLabel("")
	g.preds.Wrapping = fyne.TextWrapWord
	g.filter = newLabelEntry(func() { g.Undo() })
	g.filter.SetPlaceHolder("type to find a label, or a new taxon's name")
	g.filter.OnChanged = func(string) { g.filterLabels() }
	g.filter.OnSubmitted = func(string) { g.submitLabel() } // Enter sets it, as Set label does (helper-40)
	g.labelList = widget.NewList(func() int { return len(g.labels) },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			o.(*widget.Label).SetText(g.labelText(g.labels[id]))
		})
	g.labelList.OnSelected = func(id widget.ListItemID) {
		if id < len(g.labels) {
			g.chosen = g.labels[id]
			g.updateButtons()
		}
	}
	g.setLabel = widget.NewButtonWithIcon("Set label", theme.ConfirmIcon(), func() { g.Relabel(g.chosen) })
	g.setLabel.Importance = widget.HighImportance
	g.confirm = widget.NewButtonWithIcon("Model is right", theme.ConfirmIcon(), func() {
		if g.selected >= 0 && g.selected < len(g.items) {
			g.Relabel(g.items[g.selected].Row.Label)
		}
	})
	g.undoBtn = widget.NewButtonWithIcon("Undo", theme.ContentUndoIcon(), g.Undo)
	g.backBtn = widget.NewButtonWithIcon("Back to review", theme.NavigateBackIcon(), g.BackToReview)
	g.reviewer = widget.NewEntry()
	g.reviewer.SetPlaceHolder("your name")
	g.reviewer.SetText(e.prefs.StringWithFallback(app.PrefReviewer, os.Getenv("USER")))
	g.reviewer.OnChanged = func(v string) { e.setReviewer(strings.TrimSpace(v)) }
	g.filterLabels()
	g.updateButtons()

	top := container.NewBorder(nil, nil,
		container.NewHBox(widget.NewLabelWithStyle("Sample", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
			container.NewGridWrap(fyne.NewSize(360, g.sampleSel.MinSize().Height), g.sampleSel),
			widget.NewLabelWithStyle("Reviewer", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
			container.NewGridWrap(fyne.NewSize(160, g.reviewer.MinSize().Height), g.reviewer)),
		container.NewHBox(g.undoBtn, g.backBtn, widget.NewIcon(theme.ZoomOutIcon()), container.NewGridWrap(fyne.NewSize(180, 36), g.zoom), widget.NewIcon(theme.ZoomInIcon()), refresh),
		g.info)
	// The crop and its description scroll above the relabel list, in a split: stacked
	// in one column they asked 507 px of height, and the window grew by 115 px when the
	// gallery opened (helper-38).
	crop := container.NewVScroll(container.NewVBox(container.NewPadded(g.big), g.detail, g.preds))
	relabel := container.NewBorder(
		container.NewVBox(widget.NewSeparator(), widget.NewLabelWithStyle("Relabel as", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), g.filter),
		container.NewGridWithColumns(2, g.confirm, g.setLabel), nil, nil, g.labelList)
	right := container.NewVSplit(crop, relabel)
	right.Offset = 0.55
	left := container.NewBorder(widget.NewLabelWithStyle("Categories", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), g.teachBtn, nil, nil, g.cats)
	// The message spans the grid's width, centred by spacers: in a Center container a
	// wrapping label has no width to wrap to, and "Review queue done" went one letter a
	// line, the window 1629 px tall (helper-66).
	center := container.NewStack(g.gridHolder, container.NewVBox(layout.NewSpacer(), g.emptyLabel, layout.NewSpacer()))
	split := container.NewHSplit(left, container.NewHSplit(center, right))
	split.Offset = 0.2
	split.Trailing.(*container.Split).Offset = 0.66
	g.content = container.NewBorder(container.NewPadded(top), nil, nil, nil, split)
	g.rebuildGrid()
	if g.e.svc.Store == nil {
		g.emptyLabel.SetText("The session store could not be opened, so no crops are kept. See the message at launch.")
	}
	return g
}

// Items returns the crops shown (for tests).
func (g *galleryView) Items() []galleryItem { return g.items }

// Categories returns the category list (for tests).
func (g *galleryView) Categories() []galleryCat { return g.catItems }

// rebuildGrid makes the crop grid at the zoom's tile size (a GridWrap's cell size is
// fixed when it is created).
func (g *galleryView) rebuildGrid() {
	size := float32(g.zoom.Value)
	multiRun := spansRuns(g.items)
	g.grid = newReviewGrid(g.reviewKey, func() int { return len(g.items) },
		func() fyne.CanvasObject {
			img := canvas.NewImageFromImage(image.NewGray(image.Rect(0, 0, 1, 1)))
			img.FillMode = canvas.ImageFillContain
			img.ScaleMode = canvas.ImageScaleSmooth
			img.SetMinSize(fyne.NewSize(size, size))
			cap := canvas.NewText("", theme.Color(theme.ColorNameForeground))
			cap.TextSize = 10.5
			cap.Alignment = fyne.TextAlignCenter
			bg := canvas.NewRectangle(color.White)
			return container.NewStack(bg, container.NewBorder(nil, cap, nil, nil, img))
		},
		func(id widget.GridWrapItemID, o fyne.CanvasObject) {
			if id >= len(g.items) {
				return
			}
			it := g.items[id]
			st := o.(*fyne.Container)
			b := st.Objects[1].(*fyne.Container)
			img, cap := b.Objects[0].(*canvas.Image), b.Objects[1].(*canvas.Text)
			img.Image = it.Img
			img.Refresh()
			cap.Text = tileCaptionIn(it.Row, multiRun)
			cap.Color = theme.Color(theme.ColorNameForeground)
			if it.Row.Status == store.StatusValidated {
				cap.Color = colorNone
			}
			cap.Refresh()
		})
	g.grid.OnSelected = func(id widget.GridWrapItemID) {
		// A crop chosen while the Reviewer field has the keys gives them to the crops:
		// → ← and Enter went into the name typed (helper-71). The Relabel field keeps
		// them: its label is being typed.
		if c := g.e.win.Canvas(); c != nil && c.Focused() == fyne.Focusable(g.reviewer) {
			c.Focus(g.grid)
		}
		g.show(id)
	}
	g.gridHolder.Objects = []fyne.CanvasObject{g.grid}
	g.gridHolder.Refresh()
	if g.selected >= 0 && g.selected < len(g.items) {
		g.grid.Select(g.selected)
	}
}

// tileCaption is a crop's number and probability, in whole percent cut down, not
// rounded: a crop at 0.4996 in the queue of those under 50% read "50%" (helper-52).
func tileCaption(o store.ObjectRow) string { return tileCaptionIn(o, false) }

// tileCaptionIn is tileCaption among crops of more than one run (multiRun): each run
// numbers its objects from 1, so a continued sample showed two crops "#9" side by side
// and nothing said which was which (helper-97); there the number says its run, as the
// detail line does ("r5 #9").
func tileCaptionIn(o store.ObjectRow, multiRun bool) string {
	s := fmt.Sprintf("#%d · %s", o.Seq, probText(o.Prob))
	if multiRun {
		s = fmt.Sprintf("r%d %s", o.Run.ID, s)
	}
	if o.Status == store.StatusValidated {
		s = "✓ " + s
	}
	return s
}

// spansRuns reports whether items hold crops of more than one run.
func spansRuns(items []galleryItem) bool {
	for _, it := range items[min(1, len(items)):] {
		if it.Row.Run.ID != items[0].Row.Run.ID {
			return true
		}
	}
	return false
}

// objectRef names an object for a status line: its number and run, since each run of a
// sample numbers its objects from 1.
func objectRef(seq int, run int64) string { return fmt.Sprintf("#%d of run %d", seq, run) }

// Reload reads the sample list and the current sample's crops again.
func (g *galleryView) Reload() {
	st := g.e.svc.Store
	if st == nil {
		return
	}
	want := g.sampleID
	if g.follow != "" {
		want, g.follow = g.follow, ""
	}
	if id := g.current(); id != "" {
		want = id
	}
	g.gen++
	gen := g.gen
	g.e.spawn(func(ctx context.Context) {
		entries, err := listSamples(ctx, st)
		g.e.runOnUI(func() {
			if gen != g.gen {
				return
			}
			if err != nil {
				g.e.showError("Could not read the session store", err)
				return
			}
			// Each sample with its site and when it was taken, newest first: bare IDs
			// (S-20261206-231034 and six alike) did not say which was which (helper-59).
			g.sampleLines = make(map[string]string, len(entries))
			ids := make([]string, 0, len(entries))
			g.sampleSel.Options = g.sampleSel.Options[:0]
			for _, e := range entries {
				g.sampleLines[e.ID] = sampleLabel(e)
				ids = append(ids, e.ID)
				g.sampleSel.Options = append(g.sampleSel.Options, g.sampleLines[e.ID])
			}
			if want == "" || !slices.Contains(ids, want) {
				want = ""
				if len(ids) > 0 {
					want = ids[0]
				}
			}
			g.sampleSel.Refresh()
			if want == "" {
				g.emptyLabel.SetText("No samples yet: screen one on the Live tab, and its crops appear here.")
				return
			}
			g.sampleID = want
			g.sampleSel.Selected = g.labelOf(want)
			g.sampleSel.Refresh()
			g.loadCategories()
		})
	})
}

// taxonomy is the shown sample's pack's taxonomy: its names and the labels offered for
// its objects (the app's own until the sample is read).
func (g *galleryView) taxonomy() *screening.Taxonomy {
	if g.tax != nil {
		return g.tax
	}
	return g.e.svc.Taxonomy
}

// sampleLabel is a sample's line in the gallery's list: its ID, site and when taken.
func sampleLabel(e sampleEntry) string {
	label := e.ID
	if e.Site != "" {
		label += " · " + e.Site
	}
	if !e.Taken.IsZero() {
		label += " · " + e.Taken.Local().Format("Jan 2 15:04")
	}
	return label
}

// labelOf is sample id's line in the list (the ID itself before the list is read).
func (g *galleryView) labelOf(id string) string {
	if l, ok := g.sampleLines[id]; ok {
		return l
	}
	return id
}

// idOf is the sample a line of the list names.
func (g *galleryView) idOf(label string) string {
	for id, l := range g.sampleLines {
		if l == label {
			return id
		}
	}
	return label
}

// Follow makes the next Reload open on sample id, the newest run's (UI goroutine).
func (g *galleryView) Follow(id string) { g.follow = id }

// ShowSample shows a sample's crops (from history).
func (g *galleryView) ShowSample(id string) {
	g.sampleID = id
	g.sampleSel.Selected = g.labelOf(id)
	g.sampleSel.Refresh()
	g.loadCategories()
}

// loadCategories counts the sample's objects per category, off the UI goroutine.
func (g *galleryView) loadCategories() {
	st, id := g.e.svc.Store, g.sampleID
	if st == nil || id == "" {
		return
	}
	g.gen++
	gen := g.gen
	running := g.e.svc.Taxonomy
	g.e.spawn(func(ctx context.Context) {
		// The sample's own pack names its objects and offers its labels, whichever pack
		// the app runs now (helper-62: a cyanobacteria sample reviewed under the marine
		// pack was offered "New taxon: Anabaena" and showed "Other" for its reject class).
		tx, packErr, err := app.SampleTaxonomy(ctx, st, id)
		if packErr != nil || tx == nil {
			tx = running
		}
		var cats []galleryCat
		if err == nil {
			cats, err = countCategories(ctx, st, id, tx)
		}
		lab, lerr := st.LabTaxa(ctx)
		g.e.runOnUI(func() {
			if gen != g.gen {
				return
			}
			if err = errors.Join(err, lerr); err != nil {
				g.e.showError("Could not read sample "+id, err)
				return
			}
			newPack := g.tax != tx
			g.tax = tx
			g.labTaxa = lab
			if newPack {
				g.filterLabels() // the labels offered are the sample's pack's
			}
			g.catItems = cats
			g.cats.Refresh()
			idx := slices.IndexFunc(cats, func(c galleryCat) bool { return c.Key == g.category })
			if idx < 0 || (g.category == reviewKey && cats[idx].Count == 0 && len(cats) > 1) {
				idx = 0
				if cats[0].Count == 0 && len(cats) > 1 {
					idx = 1
				}
			}
			g.category = cats[idx].Key
			g.cats.Select(idx)
			g.loadCategory()
		})
	})
}

// countCategories returns the review queue first, then the sample's categories, most
// numerous first.
func countCategories(ctx context.Context, st *store.Store, id string, tx *screening.Taxonomy) ([]galleryCat, error) {
	si, err := st.Sample(ctx, id)
	if err != nil {
		return nil, err
	}
	counts := map[string]*galleryCat{}
	review := galleryCat{Key: reviewKey, Name: "Review queue (unidentified)"}
	err = st.Objects(ctx, si, false, func(o store.ObjectRow) error {
		if o.Category == "" {
			return nil
		}
		if o.Category == screening.Unidentified {
			review.Count++
		}
		c := counts[o.Category]
		if c == nil {
			c = &galleryCat{Key: o.Category, Name: o.Name, Group: o.Group}
			if c.Name == "" {
				c.Name = tx.Name(o.Category)
			}
			counts[o.Category] = c
		}
		c.Count++
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := []galleryCat{review}
	var rest []galleryCat
	for k, c := range counts {
		if k != screening.Unidentified {
			rest = append(rest, *c)
		}
	}
	slices.SortFunc(rest, func(a, b galleryCat) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Name, b.Name)
	})
	return append(out, rest...), nil
}

// loadCategory reads the crops of the chosen category, off the UI goroutine.
func (g *galleryView) loadCategory() {
	st, id, cat := g.e.svc.Store, g.sampleID, g.category
	if st == nil || id == "" {
		return
	}
	g.gen++
	gen := g.gen
	g.e.spawn(func(ctx context.Context) {
		items, total, err := loadCrops(ctx, st, id, cat)
		g.e.runOnUI(func() {
			if gen != g.gen {
				return
			}
			if err != nil {
				g.e.showError("Could not read the crops of sample "+id, err)
				return
			}
			g.items = items
			g.selected = -1
			g.total = total
			g.showInfo()
			g.emptyLabel.SetText("")
			if len(items) == 0 {
				if cat == reviewKey {
					g.emptyLabel.SetText("Nothing to review: every cell of this sample reached the confidence threshold or was relabelled.")
				} else {
					g.emptyLabel.SetText("No crops in this category.")
				}
			}
			g.rebuildGrid()
			want := slices.IndexFunc(items, func(it galleryItem) bool { return it.Row.ID == g.selectAfterLoad })
			g.selectAfterLoad = 0
			switch {
			case want >= 0:
				g.grid.Select(want)
			case len(items) > 0:
				g.grid.Select(0)
			default:
				g.show(-1)
			}
			g.updateButtons()
		})
	})
}

// showInfo says the category shown and how many crops it holds (UI goroutine): after a
// load, and after a relabel moves a crop out of it.
func (g *galleryView) showInfo() {
	name := "Review queue"
	if i := slices.IndexFunc(g.catItems, func(c galleryCat) bool { return c.Key == g.category }); i >= 0 {
		name = g.catItems[i].Name
	}
	msg := fmt.Sprintf("%s: %d crops", name, g.total)
	if g.total == 1 {
		msg = name + ": 1 crop"
	}
	if g.total > len(g.items) {
		msg = fmt.Sprintf("%s: showing %d of %d crops", name, len(g.items), g.total)
	}
	g.info.SetText(msg)
}

// loadCrops reads up to galleryLimit crops of a category (reviewKey: the review queue)
// and decodes them.
func loadCrops(ctx context.Context, st *store.Store, id, cat string) ([]galleryItem, int, error) {
	var rows []store.ObjectRow
	total := 0
	if cat == reviewKey {
		// The queue is the unidentified objects, as store.ReviewQueue reads them; all
		// counted, so a queue longer than the gallery shows says "showing 600 of 1,613"
		// (it said 600, the category list 1,613: helper-40).
		cat = screening.Unidentified
	}
	si, err := st.Sample(ctx, id)
	if err != nil {
		return nil, 0, err
	}
	err = st.Objects(ctx, si, false, func(o store.ObjectRow) error { // crops: below, for the rows shown
		if o.Category != cat {
			return nil
		}
		total++
		if len(rows) < galleryLimit {
			rows = append(rows, o)
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	ids := make([]int64, len(rows))
	for i, o := range rows {
		ids[i] = o.ID
	}
	crops, err := st.Crops(ctx, ids)
	if err != nil {
		return nil, 0, err
	}
	items := make([]galleryItem, 0, len(rows))
	for _, o := range rows {
		var img image.Image = image.NewGray(image.Rect(0, 0, 1, 1))
		if c := crops[o.ID]; len(c) > 0 {
			if d, err := png.Decode(bytes.NewReader(c)); err == nil {
				img = d
			}
		}
		items = append(items, galleryItem{Row: o, Img: img})
	}
	return items, total, nil
}

// labelEntry is the Relabel field: Ctrl+Z with nothing typed in it undoes the last label
// set, as it does over the crops. Fyne hands the shortcut to the focused field, and after
// a label typed and set with Enter the focus stays there: Ctrl+Z did nothing (helper-66).
type labelEntry struct {
	widget.Entry
	undo func()
}

func newLabelEntry(undo func()) *labelEntry {
	e := &labelEntry{undo: undo}
	e.ExtendBaseWidget(e)
	return e
}

// TypedShortcut undoes the last label on Ctrl+Z when the field is empty; otherwise the
// field handles the shortcut (its own text's undo, copy, paste).
func (e *labelEntry) TypedShortcut(s fyne.Shortcut) {
	if _, ok := s.(*fyne.ShortcutUndo); ok && e.Text == "" && e.undo != nil {
		e.undo()
		return
	}
	e.Entry.TypedShortcut(s)
}

// noCrop is the preview with no crop selected: transparent (a black gray pixel filled the
// preview black once the review queue was done: helper-66).
func noCrop() image.Image { return image.NewNRGBA(image.Rect(0, 0, 1, 1)) }

// reviewGrid is the crop grid, whose review keys stay the Gallery's once a crop is
// clicked: the grid took the focus and kept → ← and Enter for its own highlight, so the
// keys the preview advertises did nothing after the first click (helper-69).
type reviewGrid struct {
	widget.GridWrap
	key func(fyne.KeyName) bool // the Gallery's handling of a key; false: the grid's own
}

func newReviewGrid(key func(fyne.KeyName) bool, length func() int, create func() fyne.CanvasObject, update func(widget.GridWrapItemID, fyne.CanvasObject)) *reviewGrid {
	g := &reviewGrid{key: key}
	g.Length, g.CreateItem, g.UpdateItem = length, create, update
	g.ExtendBaseWidget(g)
	return g
}

// TypedKey gives the review keys to the Gallery, the others to the grid.
func (g *reviewGrid) TypedKey(ev *fyne.KeyEvent) {
	if g.key != nil && g.key(ev.Name) {
		return
	}
	g.GridWrap.TypedKey(ev)
}

// reviewKey moves through the crops and accepts the model's label, as the window does
// when nothing has the focus (mainWindow.reviewKey); false for any other key.
func (g *galleryView) reviewKey(k fyne.KeyName) bool {
	switch k {
	case fyne.KeyRight, fyne.KeyDown:
		g.Step(1)
	case fyne.KeyLeft, fyne.KeyUp:
		g.Step(-1)
	case fyne.KeyReturn, fyne.KeyEnter:
		g.AcceptModel()
	default:
		return false
	}
	return true
}
