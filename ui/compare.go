package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/outfile"
)

// compareCandidates lists the samples the shown one can be compared with, the likeliest
// first: those holding the same frames (sameFrames, app.SamplesSharingFrames: the same
// water, compared object by object), then its companions by name (S-1 and S-1~base),
// then the others in History's order. A sample screened again under the other model
// with an ID of its own was offered after a sample of other water (helper-56).
func (h *historyView) compareCandidates(id string, sameFrames []string) []string {
	base, _, _ := strings.Cut(id, "~")
	var same, twins, others, demos []string
	for _, e := range h.all {
		switch {
		case e.ID == id:
		case slices.Contains(sameFrames, e.ID):
			same = append(same, e.ID)
		case e.ID == base || strings.HasPrefix(e.ID, base+"~"):
			twins = append(twins, e.ID)
		case strings.HasPrefix(e.ID, demoIDPrefix):
			demos = append(demos, e.ID)
		default:
			others = append(others, e.ID)
		}
	}
	slices.SortStableFunc(same, func(a, b string) int { return slices.Index(sameFrames, a) - slices.Index(sameFrames, b) })
	// The demo's samples last: offered first, the demo was set beside real water
	// (helper-67).
	return slices.Concat(same, twins, others, demos)
}

// compareChoice is how a sample reads in the compare list: its ID with its site and
// when it was taken (bare IDs said nothing of which water, helper-67).
func (h *historyView) compareChoice(id string) string {
	i := slices.IndexFunc(h.all, func(e sampleEntry) bool { return e.ID == id })
	if i < 0 {
		return id
	}
	e := h.all[i]
	return fmt.Sprintf("%s · %s · %s", id, siteName(e.Site), e.Taken.Local().Format("2006-01-02 15:04"))
}

// Compare asks which sample to set beside the shown one, then shows them side by side.
// The samples of the same frames are looked up first (a store query), off the UI
// goroutine.
func (h *historyView) Compare() {
	id := h.selected
	st := h.e.svc.Store
	if id == "" || st == nil {
		return
	}
	h.e.spawn(func(ctx context.Context) {
		same, err := app.SamplesSharingFrames(ctx, st, id)
		if err != nil {
			// Still comparable by counts: the order is then History's alone.
			slog.Warn("compare: the samples of the same frames", "component", "ui", "sample", id, "err", err)
		}
		h.e.runOnUI(func() { h.askCompare(id, same) })
	})
}

// askCompare asks which sample to set beside sample id, those of the same frames
// (sameFrames) first.
func (h *historyView) askCompare(id string, sameFrames []string) {
	cands := h.compareCandidates(id, sameFrames)
	if len(cands) == 0 {
		h.e.showError("Nothing to compare with", errors.New("sample "+id+" is the only one stored: screen another first, or the same frames with the other model (phytoscreen screen --keep-apart --model base)"))
		return
	}
	choices := make([]string, len(cands))
	idOf := map[string]string{}
	for i, c := range cands {
		choices[i] = h.compareChoice(c)
		idOf[choices[i]] = c
	}
	other := widget.NewSelect(choices, nil)
	other.SetSelected(choices[0])
	note := widget.NewLabel(compareNote(cands, sameFrames))
	note.Wrapping = fyne.TextWrapWord
	h.compareNote = note.Text
	form := container.NewVBox(widget.NewLabel("Set sample "+id+" beside:"), other, note)
	d := dialog.NewCustomConfirm("Compare "+id, "Compare", "Cancel", form, func(ok bool) {
		if ok && other.Selected != "" {
			h.CompareWith(id, idOf[other.Selected])
		}
	}, h.e.win)
	d.Resize(fyne.NewSize(520, 260))
	d.Show()
}

// compareNote says how the samples offered (cands) are compared, naming only those that
// hold the same frames: it named a companion "S-1~base" that did not exist (helper-56).
func compareNote(cands, sameFrames []string) string {
	var same []string
	for _, c := range cands {
		if slices.Contains(sameFrames, c) {
			same = append(same, c)
		}
	}
	if len(same) == 0 {
		return "No other sample holds these frames: the comparison sets the counts side by side. A sample of the same frames (the same water screened under the other model) is compared object by object."
	}
	return fmt.Sprintf("%s: the same frames, the same water; compared object by object. Others by their counts alone.", joinSome(same, 3))
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
			d := dialog.NewCustom(a+" beside "+b, "Close", scroll, h.e.win)
			// Filed with the samples' reports: the dialog could only be closed, the
			// decision between the models left on screen (helper-84).
			saved := h.lastComparison
			d.SetButtons([]fyne.CanvasObject{
				widget.NewButtonWithIcon("Save as text…", theme.DocumentSaveIcon(), func() { h.saveText("the comparison", compareFileName(a, b), saved) }),
				widget.NewButton("Close", d.Hide),
			})
			d.Show()
		})
	})
}

// compareFileName is the file a comparison of a with b is first offered as: the IDs
// made safe for a file name ("S-1~base" keeps its tilde).
func compareFileName(a, b string) string {
	return exportName(a+"_vs_"+b, formatComparison)
}

// saveTextAs asks where to save text, what (e.g. "the comparison") first offered as
// file name, and writes it there whole or not at all, saying where it went.
func (a *mainWindow) saveTextAs(what, name, text string) {
	a.askSavePath("Saving "+what, name, func(path string) {
		if err := outfile.Write(path, func(w io.Writer) error { _, err := io.WriteString(w, text); return err }); err != nil {
			a.showError("Saving "+what+" failed", fmt.Errorf("%s: %w", path, err))
			return
		}
		a.setStatus("Saved " + what + " to " + path + ".")
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
