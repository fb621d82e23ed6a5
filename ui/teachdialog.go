package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/teach"
)

// bestPackChoice is the pack choice that lets teaching measure which pack transfers best.
const bestPackChoice = "The built-in pack that suits your crops best (measured)"

// leaveOutText is the Teach dialog's choice to leave out the taxa with too few crops.
var leaveOutText = fmt.Sprintf("Leave out the taxa with fewer than %d crops (teach the others)", teach.MinPerClass)

// teachDialog teaches a pack the crops reviewed in the Gallery: it runs the teaching
// cancellably with its stages, then shows the taught pack beside the pack in use on the
// reviewed crops, and only then offers to save it and use it.
type teachDialog struct {
	e   *env
	dlg dialog.Dialog

	Pack *widget.Select
	// LeaveOut leaves out the taxa with too few crops instead of refusing to teach.
	LeaveOut *widget.Check
	Out      *widget.Entry
	Save     *widget.Button
	*jobPanel
	// Compare is the side-by-side comparison; Details the cross-validated tables.
	Compare *widget.Label
	Details *widget.Label

	result *app.TeachResult
	// weakAccepted is the result the technician chose to save though it names its new
	// taxa poorly (weakTeaching).
	weakAccepted *app.TeachResult
}

// ShowTeach opens Gallery › Teach from reviewed crops.
func (g *galleryView) ShowTeach() {
	e := g.e
	if e.svc.Teach == nil {
		e.showError("Cannot teach", errors.New("teaching needs the session store and the ONNX Runtime library; see the message shown at launch"))
		return
	}
	d := &teachDialog{e: e}
	g.teach = d
	choices := []string{bestPackChoice}
	if e.svc.TeachPacks != nil {
		choices = append(choices, e.svc.TeachPacks()...)
	}
	if p := e.svc.Pack; p.HasFeatures() && !app.IsBuiltinPack(p.Source) {
		choices = append(choices, p.Source) // a folder pack in use, taught before
	}
	d.Pack = widget.NewSelect(choices, nil)
	d.Pack.SetSelectedIndex(0)
	d.Out = widget.NewEntry()
	d.Out.SetPlaceHolder("a new folder for the taught pack")
	d.Compare = widget.NewLabel("")
	d.Compare.Wrapping = fyne.TextWrapWord
	d.Details = widget.NewLabel("")
	d.Details.TextStyle.Monospace = true
	d.jobPanel = newJobPanel("Teach", theme.MediaPlayIcon(), d.run)
	d.Save = widget.NewButtonWithIcon("Save and use it", theme.DocumentSaveIcon(), d.save)
	d.Save.Disable()
	intro := widget.NewLabel("Teaches a pack the taxa of the crops you validated in the Gallery (a new taxon needs at least " +
		fmt.Sprint(teach.MinPerClass) + " crops). A new head is fitted on the pack's embedding, its figures are cross-validated on your crops, and nothing changes until you save it as a new pack.")
	intro.Wrapping = fyne.TextWrapWord
	d.LeaveOut = widget.NewCheck(leaveOutText, nil)
	form := widget.NewForm(widget.NewFormItem("Pack to teach", d.Pack), widget.NewFormItem("", d.LeaveOut))
	top := container.NewVBox(intro, form, container.NewHBox(d.Start, d.Cancel), d.stage, d.progress)
	bottom := container.NewBorder(nil, nil, widget.NewLabel("Save to"), d.Save, d.Out)
	body := container.NewBorder(top, bottom, nil, nil,
		container.NewScroll(container.NewVBox(d.Compare, widget.NewSeparator(), d.Details))) // the tables scroll sideways rather than widen the dialog
	d.dlg = dialog.NewCustom("Teach from reviewed crops", "Close", body, e.win)
	d.dlg.SetOnClosed(func() {
		d.stop()
		g.teach = nil
	})
	d.dlg.Resize(fyne.NewSize(980, 680))
	d.dlg.Show()
}

// run teaches on a goroutine; the stages show as they come and Cancel stops it.
func (d *teachDialog) run() {
	e := d.e
	pack := d.Pack.Selected
	if pack == bestPackChoice {
		pack = app.BestPack
	}
	d.Save.Disable()
	d.result = nil
	d.Compare.SetText("")
	d.Details.SetText("")
	var res *app.TeachResult
	req := app.TeachRequest{Pack: pack, LeaveOutFew: d.LeaveOut.Checked}
	d.jobPanel.run(e, func(ctx context.Context, progress func(string, int, int)) (err error) {
		res, err = e.svc.Teach(ctx, req, func(p teach.Progress) { progress(p.Stage, p.Done, p.Total) })
		return err
	}, func(err error, took time.Duration) {
		switch {
		case errors.Is(err, context.Canceled):
			d.stage.SetText("Cancelled: nothing was taught or saved.")
		case err != nil:
			msg := "Not taught: " + err.Error()
			if errors.Is(err, teach.ErrTooFewCrops) {
				// The refusal said "leave them out"; the way to is this dialog's box.
				msg += "\nTo teach the new taxa that have enough crops, tick \"" + leaveOutText + "\" and press Teach again."
			}
			d.stage.SetText(msg)
		default:
			d.result = res
			taught := res.Crops
			if res.Report.Taught > 0 {
				taught = res.Report.Taught // the crops left out taught nothing
			}
			msg := fmt.Sprintf("Taught %s %s from %d reviewed crops in %s. Compare, then save it if it is better.",
				res.Pack, map[bool]string{true: "1 new taxon", false: fmt.Sprint(len(res.New), " new taxa")}[len(res.New) == 1], taught, took)
			if left := res.Report.LeftOut; len(left) > 0 {
				msg += " Left out (too few crops): " + teach.LeftOutText(left) + "."
			}
			d.stage.SetText(msg)
			d.Compare.SetText(teachComparison(res, e.svc.Pack.Name))
			var b strings.Builder
			if len(res.Transfers) > 0 {
				b.WriteString("How well each pack's embedding separates your crops (cross-validated):\n")
				teach.WriteTransfer(&b, res.Transfers)
				b.WriteString("\n")
			}
			for _, why := range res.Skipped {
				b.WriteString("Not compared: " + why + "\n")
			}
			if len(res.Skipped) > 0 {
				b.WriteString("\n")
			}
			res.Report.Write(&b, false)
			d.Details.SetText(b.String())
			if d.Out.Text == "" {
				d.Out.SetText(app.DefaultTaughtOut(res.Pack, time.Now()))
			}
			d.Save.Enable()
		}
	})
}

// save writes the taught pack and makes it the pack in use.
func (d *teachDialog) save() {
	e := d.e
	res := d.result
	dir := strings.TrimSpace(d.Out.Text)
	if res == nil || dir == "" {
		d.stage.SetText("Choose a folder for the taught pack.")
		return
	}
	if weak := weakTeaching(res); weak != "" && d.weakAccepted != res {
		// It is put in use at once: a pack that names its new taxa no better than
		// chance was saved and switched to without a word (helper-65).
		e.ask("The taught pack names its new taxa poorly", weak+"\n\nSave it and put it in use anyway?", "Save and use it", "Cancel", func(yes bool) {
			if yes {
				d.weakAccepted = res
				d.save()
			}
		})
		return
	}
	// Saving rewrites both models and reloads the pack: seconds, off the UI goroutine.
	d.Save.Disable()
	d.stage.SetText("Saving the taught pack…")
	e.spawn(func(context.Context) {
		p, err := res.Save(dir)
		e.runOnUI(func() {
			if err != nil {
				d.Save.Enable()
				d.stage.SetText("Not saved: " + err.Error())
				return
			}
			when := "when phytoscreen starts again"
			if e.usePack != nil {
				when = e.usePack(dir)
			}
			d.stage.SetText(fmt.Sprintf("Saved pack %s (%d taxa) in %s. It is put in use %s; Settings › Model pack switches back.", p.Name, len(p.Labels), dir, when))
		})
	})
}

// weakTeaching says, when a model of the taught pack names fewer than half the new
// taxa's crops right (cross-validated, teach.Report.Weak), how poorly; "" otherwise.
func weakTeaching(r *app.TeachResult) string {
	m, weak := r.Report.Weak()
	if !weak {
		return ""
	}
	return fmt.Sprintf("Judged on your crops by heads that never saw them, the %s model of the taught pack names the new taxa (%s) right %.0f%% of the time (macro-F1 %.2f). Counts of them would be mostly wrong. More reviewed crops of each new taxon, or a pack whose embedding suits them better, teach it better.",
		m.Variant, strings.Join(r.New, ", "), 100*m.Top1New, m.MacroF1)
}

// teachComparison sets the packs that screened the reviewed crops beside the taught pack.
// Not "the pack in use": the crops were named by the packs of their runs, which need
// not be the one the app runs now (helper-62); inUse is the pack the app runs now,
// named when another was taught (helper-69: saving put it in use, said only in the
// status line).
func teachComparison(r *app.TeachResult, inUse string) string {
	var b strings.Builder
	if r.Pack != inUse {
		fmt.Fprintf(&b, "Taught pack %s, not %s, the pack in use: \"Save and use it\" puts the taught %s in its place.\n\n", r.Pack, inUse, r.Pack)
	}
	fmt.Fprintf(&b, "On your %s, the packs that screened them named %d as you did (%.0f%%).\n",
		countText(r.Crops, "reviewed crop", "reviewed crops"), r.AsScreened, pct(r.AsScreened, r.Crops))
	for _, m := range r.Report.Models {
		fmt.Fprintf(&b, "Taught %s, %s model (each crop judged by a head that never saw it): new taxa named right %.0f%% (macro-F1 %.2f);\n    the pack's own taxa, on %s of them: %.0f%% right before teaching, %.0f%% after (%+.1f points).\n",
			r.Pack, m.Variant, 100*m.Top1New, m.MacroF1, countText(m.OldCrops, "crop", "crops"), 100*m.OldTop1Before, 100*m.OldTop1After, 100*(m.OldTop1After-m.OldTop1Before))
	}
	if len(r.Report.Models) > 0 {
		m := r.Report.Models[0]
		b.WriteString("\nPer taxon (" + string(m.Variant) + " model). Recall: its crops named right; precision: the crops named it that are it.\n")
		for _, c := range m.Classes {
			tag := ""
			if c.New {
				tag = " (new)"
			}
			fmt.Fprintf(&b, "  %s%s: recall %.0f%%, precision %.0f%% (%s)\n", c.Label, tag, 100*c.Recall, 100*c.Precision, countText(c.Support, "crop", "crops"))
		}
	}
	return b.String()
}

// countText writes n with its noun, singular for one: "1 crop", "5 crops".
func countText(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func pct(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return 100 * float64(n) / float64(of)
}
