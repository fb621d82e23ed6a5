package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"unicode"

	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/imagefile"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
)

// show puts crop id in the detail panel (-1: none).
func (g *galleryView) show(id int) {
	g.selected = id
	if id < 0 || id >= len(g.items) {
		g.big.Image = noCrop()
		g.big.Refresh()
		g.detail.SetText(selectHint)
		g.preds.SetText("")
		g.updateButtons()
		return
	}
	it := g.items[id]
	o := it.Row
	g.big.Image = withScaleBar(it.Img, o.UmPerPx)
	g.big.Refresh()
	g.shown++
	if o.File != "" {
		g.showOriginal(id, g.shown, o)
	}
	b := it.Img.Bounds()
	lines := []string{fmt.Sprintf("Cell #%d of run %d, frame %d · %dx%d px", o.Seq, o.Run.ID, o.Frame+1, b.Dx(), b.Dy())}
	if o.File != "" {
		lines = append(lines, "File: "+filepath.Base(o.File))
	}
	if o.UmPerPx > 0 {
		lines = append(lines, fmt.Sprintf("Scale bar: %g µm", scaleBarMicrons(b.Dx(), o.UmPerPx)))
	}
	if o.ESD > 0 {
		d := fmt.Sprintf("ESD %.1f px", o.ESD)
		if o.UmPerPx > 0 {
			d = fmt.Sprintf("ESD %.1f µm", o.ESD*o.UmPerPx)
		}
		lines = append(lines, d+fmt.Sprintf(" · focus %.0f", o.Focus))
	}
	model := fmt.Sprintf("Model (%s): %s, %s", o.Variant, g.taxonomy().Name(o.Label), probText(o.Prob))
	lines = append(lines, model)
	if o.Status == store.StatusValidated {
		lines = append(lines, "Validated as "+g.taxonomy().Name(o.Validated)+" by "+o.ValidatedBy)
	}
	g.detail.SetText(strings.Join(lines, "\n"))
	g.preds.SetText(topText(o.Top, g.taxonomy()))
	g.updateButtons()
}

// showOriginal replaces the stored crop (what the model saw: flattened, and gray for a
// gray pack) by the object's pixels in the file it came from, in their own colours, once
// read off the UI goroutine; a file no longer readable leaves the stored crop, said so.
func (g *galleryView) showOriginal(id, shown int, o store.ObjectRow) {
	g.e.spawn(func(context.Context) {
		read := imagefile.ReadColor
		if !imagefile.IsImageName(o.File) { // a video: the object's frame of it
			read = func(path string) (image.Image, error) { return capture.VideoFrame(path, o.Frame) }
		}
		img, err := read(o.File)
		var crop image.Image
		if err == nil {
			crop = cropAround(img, o.Box)
		}
		g.e.runOnUI(func() {
			if shown != g.shown || g.selected != id {
				return // another crop was chosen meanwhile
			}
			if err != nil {
				g.detail.SetText(g.detail.Text + "\nThe file no longer reads (" + err.Error() + "): showing the stored crop.")
				return
			}
			g.big.Image = withScaleBar(crop, o.UmPerPx)
			g.big.Refresh()
			g.detail.SetText(g.detail.Text + "\nShown in its original colours, from the file.")
		})
	})
}

// cropAround cuts box with a margin of a fifth of its size (at least 4 px) from img,
// inside its bounds: the object with some of its surroundings, as a person looks at it.
func cropAround(img image.Image, box image.Rectangle) image.Image {
	m := max(4, max(box.Dx(), box.Dy())/5)
	r := box.Inset(-m).Intersect(img.Bounds())
	if r.Empty() {
		r = img.Bounds()
	}
	out := image.NewNRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(out, out.Rect, img, r.Min, draw.Src)
	return out
}

// topText lists the model's best labels from the stored JSON.
func topText(raw string, tx *screening.Taxonomy) string {
	var top []inference.Prediction
	if err := json.Unmarshal([]byte(raw), &top); err != nil || len(top) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("Best guesses: ")
	for i, p := range top {
		if i == 3 {
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %s", tx.Name(p.Label), probText(float64(p.Prob)))
	}
	return b.String()
}

// filterLabels lists the labels matching the filter (by label or name): the pack's, the
// lab's own taxa added earlier, the taxa the alert rules name, and last the text itself
// as a new taxon when nothing is called exactly that.
func (g *galleryView) filterLabels() {
	typed := strings.TrimSpace(g.filter.Text)
	words := strings.Fields(labelKey(typed))
	g.labels = g.labels[:0]
	seen := map[string]bool{}
	add := func(label, name string) {
		if seen[label] || !matchesWords(words, label) && !matchesWords(words, name) {
			return
		}
		seen[label] = true
		g.labels = append(g.labels, label)
	}
	for _, t := range g.taxonomy().Taxa {
		add(t.Label, t.Name)
	}
	for _, l := range g.labTaxa {
		add(l, l)
	}
	for _, l := range g.ruleTaxa() {
		add(l, l)
	}
	// "protist other" is Protist, other: offered as a new taxon too, one click made a
	// second taxon counted apart from the pack's (helper-65).
	exact := slices.ContainsFunc(g.labels, func(l string) bool {
		return sameLabel(typed, l) || sameLabel(typed, g.taxonomy().Name(l))
	})
	if typed != "" && !exact && store.CheckLabel(typed) == nil {
		// A new taxon, last: typing "Nitz" offered "New taxon: Nitz" first and pushed the
		// Nitzschia already known below the list's edge (helper-38).
		g.labels = append(g.labels, typed)
	}
	g.labelList.UnselectAll()
	g.chosen = ""
	if len(g.labels) == 1 {
		g.chosen = g.labels[0]
	}
	g.labelList.Refresh()
	g.updateButtons()
}

// labelKey is a label or name as typed and matched: lower case, its punctuation and
// underscores as spaces, runs of spaces as one ("Protist, other" and protist_other are
// both "protist other").
func labelKey(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return ' '
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// sameLabel reports whether a typed text names label or name: the same words, in any
// order ("other protist" is Protist, other).
func sameLabel(typed, s string) bool {
	a, b := strings.Fields(labelKey(typed)), strings.Fields(labelKey(s))
	slices.Sort(a)
	slices.Sort(b)
	return len(a) > 0 && slices.Equal(a, b)
}

// matchesWords reports whether each word typed is in the label or name s (any order:
// "other protist" finds Protist, other); no word matches everything.
func matchesWords(words []string, s string) bool {
	k := labelKey(s)
	for _, w := range words {
		if !strings.Contains(k, w) {
			return false
		}
	}
	return true
}

// submitLabel sets the label the filter leads to: the one chosen in the list, the only
// one listed, or the one whose label or name is what was typed. With several listed and
// none of them typed whole, Enter says to choose one: a guess would relabel wrongly, and
// the text itself as a new taxon is chosen by a click. With nothing typed, it accepts
// the model's label.
func (g *galleryView) submitLabel() {
	if g.selected < 0 || g.selected >= len(g.items) || g.e.svc.Store == nil {
		return // no crop to label
	}
	label := g.chosen
	typed := strings.TrimSpace(g.filter.Text)
	if label == "" && typed == "" {
		// Nothing typed: Enter is "the model is right", as it is with the crops in front
		// (helper-62: with the label field focused it did nothing).
		g.AcceptModel()
		return
	}
	if label == "" {
		for _, l := range g.labels {
			if l == typed {
				// The text offered as a new taxon below the known ones that match it:
				// Enter made "acanth" a taxon beside three Acantharia (helper-69). It
				// is chosen in the list, by a click, not by Enter.
				continue
			}
			if sameLabel(typed, l) || sameLabel(typed, g.taxonomy().Name(l)) {
				label = l
				break
			}
		}
	}
	if label == "" {
		g.e.setStatus(g.noLabelChosen(typed))
		return
	}
	g.Relabel(label)
}

// noLabelChosen says why Enter on typed set no label: several taxa match it, or none
// does and it cannot be a new taxon (store.CheckLabel's reason). A 300-character name
// read "Several taxa match" over an empty list (helper-86).
func (g *galleryView) noLabelChosen(typed string) string {
	n := len(g.labels)
	if err := store.CheckLabel(typed); err != nil {
		if n == 0 {
			return fmt.Sprintf("No taxon matches what was typed, and it cannot be a new taxon: %v.", err)
		}
		return fmt.Sprintf("%d taxa match what was typed: choose one in the list (it cannot be a new taxon: %v).", n, err)
	}
	return fmt.Sprintf("Several taxa match %q: choose one in the list (or its last line, to make %q a new taxon).", typed, typed)
}

// ruleTaxa are the taxa the alert rules in use name that the pack lacks: what a
// technician most needs to label by hand.
func (g *galleryView) ruleTaxa() []string {
	if g.e.rules == nil {
		return nil
	}
	return g.e.rules().CannotSee()
}

// labelText is how a label reads in the list: the pack's name and label, the lab's or
// the rules' taxon as it is, a new one marked so.
func (g *galleryView) labelText(l string) string {
	tx := g.taxonomy()
	switch {
	case isPackLabel(tx, l):
		return tx.Name(l) + "  (" + l + ")"
	case slices.Contains(g.labTaxa, l):
		return l + "  (your lab's taxon)"
	case slices.Contains(g.ruleTaxa(), l):
		return l + "  (named by the alert rules; new to this pack)"
	}
	return "New taxon: " + l
}

// ChooseLabel picks a label in the relabel list (as a click would).
func (g *galleryView) ChooseLabel(label string) bool {
	i := slices.Index(g.labels, label)
	if i < 0 {
		return false
	}
	g.labelList.Select(i)
	return true
}

func (g *galleryView) updateButtons() {
	ok := g.selected >= 0 && g.selected < len(g.items) && g.e.svc.Store != nil
	if ok && g.chosen != "" {
		g.setLabel.Enable()
		g.setLabel.SetText("Set label: " + shortName(g.taxonomy().Name(g.chosen), 24))
	} else {
		g.setLabel.Disable()
		g.setLabel.SetText("Set label")
	}
	if ok && g.items[g.selected].Row.Label != "" {
		g.confirm.Enable()
	} else {
		g.confirm.Disable()
	}
	if g.lastUndo() >= 0 && g.e.svc.Store != nil {
		g.undoBtn.Enable()
	} else {
		g.undoBtn.Disable()
	}
	if g.category != reviewKey {
		g.backBtn.Enable()
	} else {
		g.backBtn.Disable()
	}
}

// undoStep is one label set: the object, its sample, where it was shown, and what it
// replaced.
type undoStep struct {
	sample   string
	objectID int64
	seq      int
	run      int64
	from     string // the category the crop was shown in
	label    string // the label set
	prev     store.Validation
}

// lastUndo is the index of the last label set in the sample shown, -1 when none: Undo
// acts on the sample in view. After a run the Gallery moved to the new sample and Undo
// changed a label of the one before, out of sight, naming the new one (helper-69).
func (g *galleryView) lastUndo() int {
	for i := len(g.undo) - 1; i >= 0; i-- {
		if g.undo[i].sample == g.sampleID {
			return i
		}
	}
	return -1
}

// Undo puts back the last label set in this session and shows the crop again where it
// was (Ctrl+Z).
func (g *galleryView) Undo() {
	st := g.e.svc.Store
	i := g.lastUndo()
	if i < 0 || st == nil {
		return
	}
	step := g.undo[i]
	g.undo = slices.Delete(g.undo, i, i+1)
	g.e.spawn(func(ctx context.Context) {
		err := st.RestoreValidation(ctx, step.objectID, step.prev)
		g.e.runOnUI(func() {
			if err != nil {
				g.e.showError("Could not undo the label", err)
				return
			}
			g.e.setStatus(fmt.Sprintf("Undone: cell %s of sample %s is no longer labelled %s.", objectRef(step.seq, step.run), step.sample, g.taxonomy().Name(step.label)))
			if g.e.reviewed != nil {
				g.e.reviewed(step.sample)
			}
			g.category = step.from
			g.selectAfterLoad = step.objectID
			g.loadCategories()
		})
	})
}

// BackToReview returns to the review queue of unidentified cells.
func (g *galleryView) BackToReview() {
	g.category = reviewKey
	g.loadCategories()
}

// Step selects the next (d = 1) or previous (d = -1) crop (arrow keys).
func (g *galleryView) Step(d int) {
	if len(g.items) == 0 {
		return
	}
	i := g.selected + d
	if g.selected < 0 {
		i = 0
	}
	g.grid.Select(max(0, min(i, len(g.items)-1)))
}

// AcceptModel validates the selected crop as the model labelled it (Enter).
func (g *galleryView) AcceptModel() {
	if g.selected >= 0 && g.selected < len(g.items) && g.items[g.selected].Row.Label != "" {
		g.Relabel(g.items[g.selected].Row.Label)
	}
}

// Relabel stores label as the validated label of the selected crop, then moves on to
// the next crop (in the review queue the relabelled cell leaves the queue).
func (g *galleryView) Relabel(label string) {
	if g.selected < 0 || g.selected >= len(g.items) || label == "" {
		return
	}
	st := g.e.svc.Store
	if st == nil {
		return
	}
	idx := g.selected
	it := g.items[idx]
	by := strings.TrimSpace(g.reviewer.Text)
	if by == "" {
		g.e.showError("Who is reviewing?", errors.New("type your name in the Reviewer field above the crops: it is stored with every label you set"))
		return
	}
	from, sample := g.category, g.sampleID
	g.e.spawn(func(ctx context.Context) {
		prev, err := st.Relabel(ctx, it.Row.ID, label, by)
		g.e.runOnUI(func() {
			if err != nil {
				g.e.showError("Could not store the label", err)
				return
			}
			g.undo = append(g.undo, undoStep{sample: sample, objectID: it.Row.ID, seq: it.Row.Seq, run: it.Row.Run.ID, from: from, label: label, prev: prev})
			if !isPackLabel(g.taxonomy(), label) && !slices.Contains(g.labTaxa, label) {
				g.labTaxa = append(g.labTaxa, label)
			}
			// The label is not kept armed for the next crop: each is chosen anew. An empty
			// filter set empty again fires nothing, so the choice is dropped here too.
			g.filter.SetText("")
			g.labelList.UnselectAll()
			g.chosen = ""
			g.updateButtons()
			uses := "exports and History use it"
			if g.e.reviewed != nil && g.e.reviewed(g.sampleID) {
				uses = "the Live tab, exports and History use it"
			}
			g.e.setStatus(fmt.Sprintf("Cell %s of sample %s labelled %s (validated; %s).", objectRef(it.Row.Seq, it.Row.Run.ID), g.sampleID, g.taxonomy().Name(label), uses))
			if idx >= len(g.items) || g.items[idx].Row.ID != it.Row.ID {
				return // the list changed meanwhile
			}
			row := &g.items[idx].Row
			row.Validated, row.ValidatedBy, row.Status, row.Category = label, by, store.StatusValidated, label
			leaves := g.category == reviewKey || g.category != label
			if leaves {
				g.items = slices.Delete(g.items, idx, idx+1)
				g.adjustCount(g.category, -1)
				if g.category == reviewKey {
					g.adjustCount(screening.Unidentified, -1)
				}
				g.adjustCount(label, +1)
				g.total--
				g.showInfo()
				g.rebuildGrid()
				if len(g.items) > 0 {
					g.grid.Select(min(idx, len(g.items)-1))
				} else {
					g.show(-1)
					if g.category == reviewKey {
						g.emptyLabel.SetText("Review queue done: every unidentified cell of this sample has a label.")
					}
				}
			} else {
				g.grid.RefreshItem(idx)
				g.show(idx)
			}
		})
	})
}

// isPackLabel reports whether the pack has label.
func isPackLabel(tx *screening.Taxonomy, label string) bool {
	_, ok := tx.Lookup(label)
	return ok
}

// withScaleBar draws a scale bar in the crop's corner when the camera is calibrated: a
// round length (1, 2, 5, 10 ... µm) near a quarter of the crop's width.
func withScaleBar(img image.Image, umPerPx float64) image.Image {
	b := img.Bounds()
	if umPerPx <= 0 || b.Dx() < 24 || b.Dy() < 16 {
		return img
	}
	um := scaleBarMicrons(b.Dx(), umPerPx)
	px := int(math.Round(um / umPerPx))
	if px < 2 {
		return img
	}
	out := image.NewRGBA(b)
	draw.Draw(out, b, img, b.Min, draw.Src)
	y := b.Max.Y - 4
	x0 := b.Max.X - 4 - px
	bar := image.Rect(x0, y-2, x0+px, y)
	draw.Draw(out, bar.Inset(-1), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.Draw(out, bar, image.NewUniform(color.Black), image.Point{}, draw.Src)
	return out
}

// scaleBarMicrons is the bar's length for a crop, for the detail line.
func scaleBarMicrons(width int, umPerPx float64) float64 {
	want := float64(width) / 4 * umPerPx
	um := 1.0
	for _, step := range []float64{1, 2, 5} {
		for p := 1.0; p <= 1e4; p *= 10 {
			if v := step * p; v <= want && v > um {
				um = v
			}
		}
	}
	return um
}

// adjustCount changes a category's count in the list after a relabel.
func (g *galleryView) adjustCount(key string, d int) {
	for i := range g.catItems {
		if g.catItems[i].Key == key {
			g.catItems[i].Count += d
			g.cats.RefreshItem(i)
			return
		}
	}
	if d > 0 {
		g.catItems = append(g.catItems, galleryCat{Key: key, Name: g.taxonomy().Name(key), Count: d})
		g.cats.Refresh()
	}
}
