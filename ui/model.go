package ui

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/app"
)

// SwitchModel switches the classifier to v, during a run too: the other model's session
// opens on a goroutine (the first time it takes a moment) and later batches use it. The
// model is the one owner of the variant: the toolbar, the settings window and the saved
// preferences read it there.
func (a *mainWindow) SwitchModel(v inference.Variant) { a.switchModel(v, nil) }

// switchModel is SwitchModel, calling then (UI goroutine) once the switch has succeeded.
func (a *mainWindow) switchModel(v inference.Variant, then func()) {
	m := a.svc.Model
	if m == nil || a.switching || m.Variant() == v {
		return
	}
	a.switching = true
	a.modelNote.SetText("switching…")
	a.modelNote.Show()
	a.reconfigure(func() error { return m.SetVariant(v) }, func(err error) {
		a.switching = false
		defer a.loadChosenPack() // one saved while the variant switched
		a.applyModelUI()
		if err != nil {
			a.showError("Could not switch to the "+string(v)+" model", err)
			return
		}
		a.saveSettings()
		a.setStatus("Model switched to " + modelTitle(a.svc.Pack, v) + "; cells from now on are classified with it.")
		if then != nil {
			then()
		}
	})
}

// reconfigure changes the classifier on a goroutine, since opening or rebuilding a
// model's session takes a moment; a running session reads the classifier for every
// batch and goes on meanwhile. done gets the outcome on the UI goroutine.
func (a *mainWindow) reconfigure(change func() error, done func(error)) {
	a.e.spawn(func(context.Context) {
		err := change()
		a.runOnUI(func() { done(err) })
	})
}

// modelTitle names a variant for people with what its pack card says it is: "Optimised
// (int8)" for a quantised twin, "Optimised (pruned)" for a smaller network, "Base (fp32)".
func modelTitle(p *inference.Pack, v inference.Variant) string {
	name := map[inference.Variant]string{inference.Base: "Base", inference.Optimised: "Optimised"}[v]
	if name == "" {
		return string(v)
	}
	arch := strings.ToLower(p.Models[v].Arch)
	switch {
	case strings.Contains(arch, "int8") && !strings.Contains(arch, "not quantised"):
		return name + " (int8)"
	case strings.Contains(arch, "prun"):
		return name + " (pruned)"
	case strings.Contains(arch, "fp32") || v == inference.Base:
		return name + " (fp32)"
	}
	return name
}

// modelChoice is the radio label of a variant, with its recorded accuracy.
func modelChoice(p *inference.Pack, v inference.Variant) string {
	t := modelTitle(p, v)
	if m, ok := p.Models[v]; ok && m.ValTop1 > 0 {
		t += fmt.Sprintf(" · top-1 %.1f%%", 100*m.ValTop1)
	}
	return t
}

// applyModelUI shows the classifier's variant in the toolbar and the settings.
func (a *mainWindow) applyModelUI() {
	var opts []string
	for _, v := range a.svc.Pack.Variants() {
		opts = append(opts, modelChoice(a.svc.Pack, v))
	}
	a.model.OnChanged = nil
	a.model.Options = opts
	cur := a.set.Model
	if a.svc.Model != nil {
		cur = a.svc.Model.Variant()
	}
	a.model.Selected = modelChoice(a.svc.Pack, cur)
	a.model.Refresh()
	a.model.OnChanged = func(choice string) {
		for _, v := range a.svc.Pack.Variants() {
			if modelChoice(a.svc.Pack, v) == choice {
				a.SwitchModel(v)
			}
		}
	}
	note, alone := "", ""
	if c, ok := app.LoadCost(a.fy.Preferences(), app.PackCostID(a.svc.Pack), cur); ok && c.JPerCell > 0 {
		alone = fmt.Sprintf("the %s model alone: %s, measured in Settings", cur, fmtJoules(c.JPerCell))
	}
	if a.perf != nil {
		a.perf.SetModelAlone(alone)
	}
	if c, ok := app.LoadCost(a.fy.Preferences(), app.PackCostID(a.svc.Pack), cur); ok && c.P50Ms > 0 {
		// Short: it has the width of the heading above it.
		note = fmt.Sprintf("%s ms", fmtSig(c.P50Ms))
		if c.JPerCell > 0 {
			note += ", " + fmtJoules(c.JPerCell)
			if c.Estimated {
				note += " est."
			}
		}
		note += " per cell here"
	}
	a.modelNote.SetText(note)
	// Hidden while empty, so the heading sits level with the model buttons.
	if note == "" {
		a.modelNote.Hide()
	} else {
		a.modelNote.Show()
	}
	if a.settingsWin != nil {
		a.settingsWin.refreshModel()
	}
}

// SetThreshold changes the confidence threshold, during a run too (the counts are
// recounted under it).
func (a *mainWindow) SetThreshold(th float64) error {
	th = math.Round(th*1000) / 1000 // a slider's steps carry float noise (0.7000000000000001)
	if a.sess != nil && a.sess.run != nil {
		if err := a.sess.run.SetThreshold(th); err != nil {
			return err
		}
	}
	a.set.Threshold = th
	a.saveSettings()
	return nil
}

// SetThreads changes the ONNX Runtime thread count (0: one per CPU). The classifier
// rebuilds its sessions, which takes a moment, on a goroutine; a run goes on meanwhile.
func (a *mainWindow) SetThreads(n int) error {
	if n < 0 {
		return fmt.Errorf("threads %d: give 0 (automatic) or more", n)
	}
	a.set.Threads = n
	a.saveSettings()
	m := a.svc.Model
	if m == nil {
		return nil
	}
	a.reconfigure(func() error { return m.SetThreads(n) }, func(err error) {
		if err != nil {
			a.showError("Could not change the thread count", err)
			return
		}
		a.setStatus(fmt.Sprintf("The classifier now uses %d thread%s.", m.Threads(), plural(m.Threads())))
	})
	return nil
}

// SetBatch changes how many cells go through the model at once.
func (a *mainWindow) SetBatch(n int) {
	if n < 1 {
		return
	}
	a.set.Batch = n
	a.saveSettings()
	if a.svc.Model != nil {
		a.svc.Model.SetBatch(n)
	}
}
