package ui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/phytoscreen/phytoscreen/internal/app"
)

// compareCandidates lists the samples the shown one can be compared with, the likeliest
// first: its companions under other settings (S-1 and S-1~base: the same water under the
// other model), then the others in History's order.
func (h *historyView) compareCandidates(id string) []string {
	base, _, _ := strings.Cut(id, "~")
	var twins, others []string
	for _, e := range h.all {
		switch {
		case e.ID == id:
		case e.ID == base || strings.HasPrefix(e.ID, base+"~"):
			twins = append(twins, e.ID)
		default:
			others = append(others, e.ID)
		}
	}
	return append(twins, others...)
}

// Compare asks which sample to set beside the shown one, then shows them side by side.
func (h *historyView) Compare() {
	id := h.selected
	if id == "" || h.e.svc.Store == nil {
		return
	}
	cands := h.compareCandidates(id)
	if len(cands) == 0 {
		h.e.showError("Nothing to compare with", errors.New("sample "+id+" is the only one stored: screen another first, or the same frames with the other model (phytoscreen screen --keep-apart --model base)"))
		return
	}
	other := widget.NewSelect(cands, nil)
	other.SetSelected(cands[0])
	base, _, _ := strings.Cut(id, "~")
	note := widget.NewLabel(fmt.Sprintf("Samples of the same frames (%s and %s~base: the same water under the other model) are compared object by object; others by their counts alone.", base, base))
	note.Wrapping = fyne.TextWrapWord
	form := container.NewVBox(widget.NewLabel("Set sample "+id+" beside:"), other, note)
	d := dialog.NewCustomConfirm("Compare "+id, "Compare", "Cancel", form, func(ok bool) {
		if ok && other.Selected != "" {
			h.CompareWith(id, other.Selected)
		}
	}, h.e.win)
	d.Resize(fyne.NewSize(520, 260))
	d.Show()
}

// CompareWith sets samples a and b side by side (app.CompareSamples) and shows the
// comparison; lastComparison keeps its text.
func (h *historyView) CompareWith(a, b string) {
	st := h.e.svc.Store
	if st == nil {
		return
	}
	h.e.setStatus("Comparing " + a + " with " + b + "…")
	h.e.spawn(func(ctx context.Context) {
		c, err := app.CompareSamples(ctx, st, a, b)
		h.e.runOnUI(func() {
			if err != nil {
				h.e.showError("Could not compare "+a+" with "+b, err)
				return
			}
			h.lastComparison = c.Text()
			h.e.setStatus(firstLine(strings.TrimPrefix(comparisonSummary(c), "\n")))
			text := widget.NewLabel(h.lastComparison)
			text.TextStyle = fyne.TextStyle{Monospace: true}
			scroll := container.NewScroll(text)
			scroll.SetMinSize(fyne.NewSize(1180, 600))
			dialog.NewCustom(a+" beside "+b, "Close", scroll, h.e.win).Show()
		})
	})
}

// comparisonSummary is the comparison's line for the status bar.
func comparisonSummary(c app.Comparison) string {
	lines := strings.Split(c.Text(), "\n")
	i := slices.IndexFunc(lines, func(l string) bool {
		return strings.HasPrefix(l, "Same frames:") || strings.HasPrefix(l, "Different frames:")
	})
	if i < 0 {
		return ""
	}
	return lines[i]
}
