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
	"github.com/phytoscreen/phytoscreen/quantise"
)

// optimiseMethods are the calibration choices offered, first the recommended one.
var optimiseMethods = []struct{ label, method string }{
	{"Percentile 99.999 (recommended)", "percentile"},
	{"Entropy (KL divergence)", "entropy"},
	{"Min-max (fast, often loses accuracy)", "minmax"},
}

// optimiseDialog makes the int8 twin of the pack in use, as `phytoscreen pack optimise`
// does: calibration images, method and output folder, then a cancellable run with its
// stage and progress, then what it measured and the choice to use the new pack.
type optimiseDialog struct {
	v   *settingsView
	dlg dialog.Dialog

	Calibration *widget.Entry
	Method      *widget.Select
	Out         *widget.Entry
	Use         *widget.Button
	Result      *widget.Label
	*jobPanel

	report *quantise.Report
}

// ShowOptimise opens the optimise dialog (Settings › Model › Make an optimised twin…).
func (v *settingsView) ShowOptimise() {
	a := v.a
	if a.svc.Optimise == nil {
		a.showError("Cannot make an optimised twin", errors.New("the ONNX Runtime library is not loaded: see the message shown at launch"))
		return
	}
	d := &optimiseDialog{v: v}
	v.optimise = d
	d.Calibration = widget.NewEntry()
	if quantise.HasBundledCalibration(a.svc.Pack) {
		d.Calibration.SetPlaceHolder("the pack's bundled sample")
	} else {
		d.Calibration.SetPlaceHolder("required: a folder of this pack's kind of cell images")
	}
	browseCal := widget.NewButtonWithIcon("", theme.FolderOpenIcon(), func() { v.chooseFolder(d.Calibration) })
	labels := make([]string, len(optimiseMethods))
	for i, m := range optimiseMethods {
		labels[i] = m.label
	}
	d.Method = widget.NewSelect(labels, func(string) {
		d.Out.SetText(app.DefaultOptimiseOut(a.svc.Pack, d.method(), time.Now()))
	})
	d.Out = widget.NewEntry()
	d.Out.SetPlaceHolder("a new folder for the optimised pack")
	d.Method.SetSelectedIndex(0)
	browseOut := widget.NewButtonWithIcon("", theme.FolderOpenIcon(), func() { v.chooseFolder(d.Out) })
	form := widget.NewForm(
		widget.NewFormItem("Calibration images", container.NewBorder(nil, nil, nil, browseCal, d.Calibration)),
		widget.NewFormItem("Activation ranges", d.Method),
		widget.NewFormItem("New pack folder", container.NewBorder(nil, nil, nil, browseOut, d.Out)),
	)
	form.Items[0].HintText = "a few hundred images like the ones you screen; a labels.csv (path,label) in it adds top-1 to each layer's figures"
	form.Items[2].HintText = "a complete pack: use it from Settings › Model pack or with --pack"
	intro := widget.NewLabel(fmt.Sprintf("Makes the int8 twin of %s's base model on this machine: per-channel int8 weights, activation ranges from a calibration pass over real images, each layer's cost measured and the costly ones kept in fp32. Then both models are timed here. It takes a few minutes.", a.svc.Pack.Name))
	intro.Wrapping = fyne.TextWrapWord
	d.Result = widget.NewLabel("")
	d.Result.Wrapping = fyne.TextWrapWord
	d.jobPanel = newJobPanel("Make the twin", theme.MediaPlayIcon(), d.run)
	// It chooses the pack in Settings, which Save puts in use with the other settings:
	// "Use this pack" read as in use at once (helper-69).
	d.Use = widget.NewButtonWithIcon("Choose this pack", theme.ConfirmIcon(), d.use)
	d.Use.Hide()
	body := container.NewBorder(container.NewVBox(intro, form, container.NewHBox(d.Start, d.Cancel, d.Use), d.stage, d.progress), nil, nil, nil,
		container.NewVScroll(d.Result))
	d.dlg = dialog.NewCustom("Make an optimised twin", "Close", body, v.win)
	d.dlg.SetOnClosed(func() {
		d.stop()
		v.optimise = nil
	})
	d.dlg.Resize(fyne.NewSize(860, 620))
	d.dlg.Show()
}

func (d *optimiseDialog) method() quantise.Method {
	i := d.Method.SelectedIndex()
	if i < 0 {
		i = 0
	}
	m, _ := quantise.ParseMethod(optimiseMethods[i].method)
	return m
}

// run makes the twin on a goroutine; the dialog shows its stages and can cancel it.
func (d *optimiseDialog) run() {
	a := d.v.a
	if a.sess != nil {
		d.stage.SetText("Stop the run first: the twin is timed on this machine, and a run beside it would be timed too.")
		return
	}
	out := strings.TrimSpace(d.Out.Text)
	if out == "" {
		d.stage.SetText("Choose a folder for the new pack.")
		return
	}
	req := app.OptimiseRequest{Calibration: strings.TrimSpace(d.Calibration.Text), Method: d.method(), Out: out, Threads: a.set.Threads}
	d.Use.Hide()
	d.Result.SetText("")
	var rep *quantise.Report
	pack := a.svc.Pack
	d.jobPanel.run(a.e, func(ctx context.Context, progress func(string, int, int)) (err error) {
		rep, err = a.svc.Optimise(ctx, pack, req, progress)
		return err
	}, func(err error, took time.Duration) {
		switch {
		case errors.Is(err, context.Canceled):
			d.stage.SetText("Cancelled: no pack was written.")
		case err != nil:
			d.stage.SetText("Not made: " + err.Error())
		default:
			d.report = rep
			d.stage.SetText(fmt.Sprintf("Done in %s: the pack is in %s.", took, rep.Out))
			d.Result.SetText(optimiseSummary(rep))
			d.Use.Show()
		}
	})
}

// use puts the new pack in Settings › Model pack; Save puts it in use.
func (d *optimiseDialog) use() {
	if d.report == nil {
		return
	}
	d.v.PackDir.SetText(d.report.Out)
	when := "from the next launch"
	if d.v.a.packLoadsLive() {
		when = "now"
		if d.v.a.sess != nil {
			when = "when this run ends"
		}
	}
	d.v.message.SetText("The new pack is chosen in Model pack: press Save to use it " + when + ".")
	d.dlg.Hide()
}

// optimiseSummary is what the technician reads after a twin is made: how close it stays
// to the base model, which layers stayed fp32 and why, and what it costs here.
func optimiseSummary(r *quantise.Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Calibrated on %s: %d images, method %s.\n", r.Calibration, r.CalibrationImages, r.Method)
	fmt.Fprintf(&b, "The twin names the same taxon as the base model on %.1f%% of those images", 100*r.Final.Agreement)
	if r.Final.Top1 >= 0 {
		fmt.Fprintf(&b, "; top-1 against their labels %.1f%%", 100*r.Final.Top1)
	}
	b.WriteString(".\n")
	if few := r.FewImages(); few != "" {
		b.WriteString("Warning: " + few + ".\n")
	}
	if len(r.KeptFP32) == 0 {
		b.WriteString("Every quantisable layer is int8.\n")
	} else {
		fmt.Fprintf(&b, "Kept in fp32 (%d): %s.\n", len(r.KeptFP32), strings.Join(r.KeptFP32, ", "))
	}
	// Nodes left fp32 for one reason are listed together (a taught head adds several).
	var reasons []string
	byReason := map[string][]string{}
	for _, u := range r.Unquantised {
		if _, ok := byReason[u.Reason]; !ok {
			reasons = append(reasons, u.Reason)
		}
		byReason[u.Reason] = append(byReason[u.Reason], fmt.Sprintf("%s (%s)", u.Name, u.Op))
	}
	for _, why := range reasons {
		fmt.Fprintf(&b, "Stay fp32: %s: %s.\n", strings.Join(byReason[why], ", "), why)
	}
	for _, m := range r.Methods {
		fmt.Fprintf(&b, "All layers int8 with %s: agreement %.1f%%.\n", m.Method, 100*m.Score.Agreement)
	}
	if ms := r.Measured; ms != nil && len(ms.Speed) > 0 {
		fmt.Fprintf(&b, "\nMeasured here (%s):\n", ms.SpeedNote)
		for _, s := range ms.Speed {
			fmt.Fprintf(&b, "  %s, %s, batch %d: %.0f cells/s, median %.2f ms, %.4f J/cell\n", s.Model, s.Scenario, s.Batch, s.CellsPerSec, s.P50Ms, s.JPerCell)
		}
	}
	b.WriteString("\nThe pack's README.md holds each layer's measured effect.")
	return b.String()
}
