package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"os"
	"slices"
	"strings"

	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
)

// show puts crop id in the detail panel (-1: none).
func (g *galleryView) show(id int) {
	g.selected = id
	if id < 0 || id >= len(g.items) {
		g.big.Image = image.NewGray(image.Rect(0, 0, 1, 1))
		g.big.Refresh()
		g.detail.SetText("Select a crop.")
		g.preds.SetText("")
		g.updateButtons()
		return
	}
	it := g.items[id]
	o := it.Row
	g.big.Image = it.Img
	g.big.Refresh()
	b := it.Img.Bounds()
	lines := []string{fmt.Sprintf("Cell #%d of run %d, frame %d · %dx%d px", o.Seq, o.Run.ID, o.Frame+1, b.Dx(), b.Dy())}
	if o.ESD > 0 {
		d := fmt.Sprintf("ESD %.1f px", o.ESD)
		if o.UmPerPx > 0 {
			d = fmt.Sprintf("ESD %.1f µm", o.ESD*o.UmPerPx)
		}
		lines = append(lines, d+fmt.Sprintf(" · focus %.0f", o.Focus))
	}
	model := fmt.Sprintf("Model (%s): %s, %.0f%%", o.Variant, g.e.svc.Taxonomy.Name(o.Label), 100*o.Prob)
	lines = append(lines, model)
	if o.Status == store.StatusValidated {
		lines = append(lines, "Validated as "+g.e.svc.Taxonomy.Name(o.Validated)+" by "+o.ValidatedBy)
	}
	g.detail.SetText(strings.Join(lines, "\n"))
	g.preds.SetText(topText(o.Top, g.e.svc.Taxonomy))
	g.updateButtons()
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
		fmt.Fprintf(&b, "%s %.0f%%", tx.Name(p.Label), 100*p.Prob)
	}
	return b.String()
}

// filterLabels lists the pack's labels matching the filter (by label or name).
func (g *galleryView) filterLabels() {
	q := strings.ToLower(strings.TrimSpace(g.filter.Text))
	g.labels = g.labels[:0]
	for _, t := range g.e.svc.Taxonomy.Taxa {
		if q == "" || strings.Contains(strings.ToLower(t.Label), q) || strings.Contains(strings.ToLower(t.Name), q) {
			g.labels = append(g.labels, t.Label)
		}
	}
	g.labelList.UnselectAll()
	g.chosen = ""
	if len(g.labels) == 1 {
		g.chosen = g.labels[0]
	}
	g.labelList.Refresh()
	g.updateButtons()
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
		g.setLabel.SetText("Set label: " + shortName(g.e.svc.Taxonomy.Name(g.chosen), 24))
	} else {
		g.setLabel.Disable()
		g.setLabel.SetText("Set label")
	}
	if ok && g.items[g.selected].Row.Label != "" {
		g.confirm.Enable()
	} else {
		g.confirm.Disable()
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
	by := os.Getenv("USER")
	if by == "" {
		by = "phytoscreen user"
	}
	g.e.spawn(func(ctx context.Context) {
		err := st.Validate(ctx, it.Row.ID, label, by)
		g.e.runOnUI(func() {
			if err != nil {
				g.e.showError("Could not store the label", err)
				return
			}
			g.e.setStatus(fmt.Sprintf("Cell #%d of sample %s labelled %s (validated; exports use it).", it.Row.Seq, g.sampleID, g.e.svc.Taxonomy.Name(label)))
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
		g.catItems = append(g.catItems, galleryCat{Key: key, Name: g.e.svc.Taxonomy.Name(key), Count: d})
		g.cats.Refresh()
	}
}
