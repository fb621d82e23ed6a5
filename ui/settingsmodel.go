package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/screening"
)

// modelTab shows the two models side by side and the inference settings.
func (v *settingsView) modelTab() fyne.CanvasObject {
	a := v.a
	v.cardsBox = container.NewStack()
	v.cardsNote = widget.NewLabel("")
	v.cardsNote.Wrapping = fyne.TextWrapWord
	v.cardsNote.Importance = widget.WarningImportance
	v.cardsNote.Hide()
	v.showCards()
	v.compare = widget.NewLabel("")
	v.compare.Wrapping = fyne.TextWrapWord
	v.compare.TextStyle.Bold = true
	v.measureP = widget.NewProgressBar()
	v.measureP.Hide()
	v.measureL = widget.NewLabel("")
	v.measureL.Wrapping = fyne.TextWrapWord
	v.measure = widget.NewButtonWithIcon("Measure on this machine", theme.ViewRefreshIcon(), v.runMeasure)
	if a.svc.Measure == nil {
		v.measure.Disable()
	}

	n := runtime.NumCPU()
	threads := []string{fmt.Sprintf("Auto (%d)", n)}
	for i := 1; i <= n; i++ {
		threads = append(threads, strconv.Itoa(i))
	}
	v.Threads = newSafeSelect(v.win, threads, func(s string) {
		t := threadsOf(s)
		if t == a.set.Threads {
			return
		}
		if err := a.SetThreads(t); err != nil {
			v.message.SetText(err.Error())
		}
	})
	v.Batch = newSafeSelect(v.win, []string{"1", "4", "8", "16", "32", "64"}, func(s string) {
		b, _ := strconv.Atoi(s)
		if b > 0 && b != a.set.Batch {
			a.SetBatch(b)
		}
	})
	v.threshL = widget.NewLabel("")
	v.Threshold = widget.NewSlider(0, 0.95)
	v.Threshold.Step = 0.05
	v.Threshold.OnChanged = func(f float64) { v.threshL.SetText(fmt.Sprintf("%.0f%%", 100*f)) }
	v.Threshold.OnChangeEnded = func(f float64) {
		if err := a.SetThreshold(f); err != nil {
			v.message.SetText(err.Error())
		}
	}
	v.PackDir = widget.NewEntry()
	v.PackDir.SetPlaceHolder("built-in: " + assets.DefaultPackName)
	browse := widget.NewButtonWithIcon("", theme.FolderOpenIcon(), func() { v.chooseFolder(v.PackDir) })
	// The built-in packs by name; the default one is the empty setting.
	v.Builtin = newSafeSelect(v.win, assets.BuiltinPacks(), func(name string) {
		if name == assets.DefaultPackName {
			name = ""
		}
		v.PackDir.SetText(name)
	})
	v.Builtin.PlaceHolder = "Built-in"
	v.PackDir.OnChanged = func(text string) {
		v.previewRules() // the rules are checked against it too
		v.noteCards()
		// The list follows what is typed: it showed the pack chosen before beside
		// another typed in (helper-65).
		name := strings.TrimSpace(text)
		if name == "" {
			name = assets.DefaultPackName
		}
		if !slices.Contains(v.Builtin.Options, name) {
			name = ""
		}
		if v.Builtin.Selected != name {
			v.Builtin.Selected = name
			v.Builtin.Refresh()
		}
	}
	knows := widget.NewButtonWithIcon("What it recognises…", theme.InfoIcon(), v.ShowRecognises)
	form := widget.NewForm(
		widget.NewFormItem("Threads", v.Threads),
		widget.NewFormItem("Batch (cells per run)", v.Batch),
		widget.NewFormItem("Confidence threshold", container.NewBorder(nil, nil, nil, v.threshL, v.Threshold)),
		widget.NewFormItem("Model pack", container.NewBorder(nil, nil, nil, container.NewHBox(browse, wideSelect(v.Builtin), knows), v.PackDir)),
	)
	form.Items[2].HintText = "cells below it are counted as unidentified and queued for review; changing it recounts the run"
	form.Items[3].HintText = "a built-in pack (marine plankton, v2 for a real camera's blur and light; cyanobacteria) or a folder with pack.json and its models; "
	if a.packLoadsLive() {
		form.Items[3].HintText += "loaded on Save"
	} else {
		form.Items[3].HintText += "used from the next launch"
	}
	form.Items[0].HintText = "ONNX Runtime threads; takes effect at once"
	v.optimiseB = widget.NewButtonWithIcon("Make an optimised twin…", theme.UploadIcon(), v.ShowOptimise)
	if a.svc.Optimise == nil {
		v.optimiseB.Disable()
	}
	measureRow := container.NewBorder(nil, nil, container.NewVBox(v.measure, v.optimiseB), nil, container.NewVBox(v.measureL, v.measureP))
	// The choices first: the pack decides what the counts can name, and below the
	// measurements it was out of sight in the window's first view (helper-47).
	return container.NewVScroll(container.NewVBox(
		form,
		widget.NewSeparator(),
		v.cardsNote,
		v.cardsBox,
		v.compare,
		measureRow,
	))
}

// noteCards shows, while the pack typed or chosen is not the one in use, that the cards
// below are the pack in use's models.
func (v *settingsView) noteCards() {
	typed := strings.TrimSpace(v.PackDir.Text)
	chosen, inUse := packName(typed), v.a.svc.Pack.Name
	if typed == v.a.startPackDir || chosen == inUse {
		v.cardsNote.Hide()
		return
	}
	when := "on Save"
	if !v.a.packLoadsLive() {
		when = "at the next launch"
	}
	v.cardsNote.SetText(fmt.Sprintf("The models below are pack %s's, in use. Pack %s, chosen above, is loaded %s; its models show here then.", inUse, chosen, when))
	v.cardsNote.Show()
}

// showCards makes a card for each model of the pack in use (again when another pack is
// put in use: its variants and their titles are its own); refreshModel fills them.
func (v *settingsView) showCards() {
	a := v.a
	v.cards = map[inference.Variant]*modelCard{}
	var cols []fyne.CanvasObject
	for _, variant := range a.svc.Pack.Variants() {
		c := &modelCard{v: variant}
		c.title = widget.NewLabelWithStyle(modelTitle(a.svc.Pack, variant), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		c.title.SizeName = theme.SizeNameSubHeadingText
		c.badge = canvas.NewText("", colorNone)
		c.badge.TextStyle.Bold = true
		c.accuracy = widget.NewLabel("")
		c.accuracy.Wrapping = fyne.TextWrapWord
		c.cost = widget.NewLabel("")
		c.cost.Wrapping = fyne.TextWrapWord
		vv := variant
		c.use = widget.NewButton("Use this model", func() { a.SwitchModel(vv) })
		bg := canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
		bg.CornerRadius = 8
		c.box = container.NewStack(bg, container.NewPadded(container.NewBorder(
			container.NewBorder(nil, nil, nil, c.badge, c.title), c.use, nil, nil,
			container.NewVBox(
				widget.NewLabelWithStyle("Recorded on the validation set", fyne.TextAlignLeading, fyne.TextStyle{Italic: true}), c.accuracy,
				widget.NewLabelWithStyle("Measured on this machine: the model alone, on crops in memory", fyne.TextAlignLeading, fyne.TextStyle{Italic: true}), c.cost))))
		v.cards[variant] = c
		cols = append(cols, c.box)
	}
	v.cardsBox.Objects = []fyne.CanvasObject{container.NewGridWithColumns(len(cols), cols...)}
	v.cardsBox.Refresh()
}

// chooseFolder lets the user pick a folder into the entry.
func (v *settingsView) chooseFolder(e *widget.Entry) {
	dialog.ShowFolderOpen(func(u fyne.ListableURI, err error) {
		if err == nil && u != nil {
			e.SetText(u.Path())
		}
	}, v.win)
}

// threadsOf reads the threads choice ("Auto (4)" is 0).
func threadsOf(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0
	}
	return n
}

// refreshModel shows the model in use and the stored costs.
func (v *settingsView) refreshModel() {
	a := v.a
	cur := a.set.Model
	if a.svc.Model != nil {
		cur = a.svc.Model.Variant()
	}
	for variant, c := range v.cards {
		m := a.svc.Pack.Models[variant]
		acc := fmt.Sprintf("Top-1 accuracy %.1f%%, top-5 %.1f%%", 100*m.ValTop1, 100*m.ValTop5)
		recorded := m.ValTop1 > 0
		if !recorded { // a pack taught or made here: its figures are in its README
			acc = "No validation accuracy recorded in pack.json (a pack taught here: its README.md has the cross-validated figures)"
		}
		if m.Agreement > 0 {
			acc += fmt.Sprintf("\nAgrees with the base model on %.1f%% of cells", 100*m.Agreement)
		}
		if size := modelSize(a.svc.Pack, variant); size > 0 {
			acc += fmt.Sprintf("\n%s, %s", m.Arch, fmtBytes(uint64(size)))
		}
		if a.svc.Pack.ValImages > 0 && recorded {
			acc += fmt.Sprintf(" · %d validation images", a.svc.Pack.ValImages)
			if ds, _, _ := strings.Cut(a.svc.Pack.Dataset, ", "); ds != "" {
				acc += " of " + ds
			}
		}
		if _, why, ok := strings.Cut(a.svc.Pack.Limits, ": "); ok && recorded {
			// Beside the figures they qualify: the cyanobacteria pack's 86% stood alone,
			// its images photographs of cultures, not a bench camera's field water
			// (helper-84).
			acc += "\nLimits: " + why
		}
		c.accuracy.SetText(acc)
		if cost, ok := app.LoadCost(a.fy.Preferences(), app.PackCostID(a.svc.Pack), variant); ok {
			t := fmt.Sprintf("Latency per cell: p50 %s ms, p90 %s ms\nThroughput: %s cells/s", fmtSig(cost.P50Ms), fmtSig(cost.P90Ms), fmtSig(cost.CellsPerSec))
			if cost.JPerCell > 0 {
				t += "\nEnergy: " + fmtJoules(cost.JPerCell) + " per cell"
				if cost.Estimated {
					t += " (estimate: no power sensor)"
				}
			}
			t += fmt.Sprintf("\n%d thread%s, measured %s", cost.Threads, plural(cost.Threads), cost.Measured.Local().Format("2006-01-02 15:04"))
			if cost.Disturbed() {
				t += fmt.Sprintf("\nOther programs took %.0f%% of a core meanwhile: slower than on a quiet machine, and they vary; measure again when it is idle", cost.OtherCPUPercent)
			}
			c.cost.SetText(t)
		} else if v.measuring != nil {
			// The first opening measures at once: "press Measure" beside a running
			// measurement read as a step still to take (helper-52).
			c.cost.SetText("Being measured on this machine now (about 20 seconds)…")
		} else {
			c.cost.SetText("Not measured yet: press \"Measure on this machine\" (about 20 seconds).")
		}
		if variant == cur {
			c.badge.Text = "IN USE"
			c.use.Disable()
			c.use.SetText("In use")
		} else {
			c.badge.Text = ""
			c.use.Enable()
			c.use.SetText("Use this model")
		}
		c.badge.Refresh()
	}
	v.compare.SetText(tradeOff(a))
}

// tradeOff sums up the optimised model against the base one: speed-up, energy saving
// and accuracy cost, from the recorded accuracy and the costs measured here.
func tradeOff(a *mainWindow) string {
	p := a.svc.Pack
	if !p.Has(inference.Base) || !p.Has(inference.Optimised) {
		return ""
	}
	b, o := p.Models[inference.Base], p.Models[inference.Optimised]
	acc := pointsLess(b.ValTop1-o.ValTop1, "top-1 accuracy")
	if b.ValTop1 <= 0 || o.ValTop1 <= 0 {
		acc = taughtCost(p)
	}
	cb, okb := app.LoadCost(a.fy.Preferences(), app.PackCostID(p), inference.Base)
	co, oko := app.LoadCost(a.fy.Preferences(), app.PackCostID(p), inference.Optimised)
	if !okb || !oko || cb.P50Ms <= 0 || co.P50Ms <= 0 {
		return "Against the base model the optimised model has " + acc + "; measure both to see what it saves on this machine."
	}
	var t string
	if r := cb.P50Ms / co.P50Ms; r >= 1 {
		// Latency and throughput differ (fixed costs per call): say which is which.
		t = fmt.Sprintf("On this machine the optimised model answers a crop %.1f× as fast as the base model (median latency)", r)
		if cb.CellsPerSec > 0 && co.CellsPerSec > 0 {
			t += fmt.Sprintf(", classifies %.1f× as many cells a second", co.CellsPerSec/cb.CellsPerSec)
		}
	} else {
		t = fmt.Sprintf("On this machine the optimised model measured %.1f× slower than the base model (measure again on an idle machine)", 1/r)
	}
	if cb.JPerCell > 0 && co.JPerCell > 0 {
		est := ""
		if cb.Estimated || co.Estimated {
			est = " (estimated)"
		}
		if d := 1 - co.JPerCell/cb.JPerCell; d >= 0 {
			t += fmt.Sprintf(" and uses %.0f%% less energy per cell%s", 100*d, est)
		} else {
			t += fmt.Sprintf(" and uses %.0f%% more energy per cell%s", -100*d, est)
		}
	}
	t += ", with " + acc + "."
	if cb.Disturbed() || co.Disturbed() {
		// Measured while another program ran: the ratio swung from 7.0x to 2.5x within
		// minutes (helper-69).
		t += " Other programs ran while they were measured: the ratio is rough; measure again on an idle machine."
	}
	return t
}

// pointsLess says an accuracy difference (base minus optimised, as a fraction) as
// points less or more: "gives up -0.5 points" read as a double negative (helper-49).
func pointsLess(d float64, what string) string {
	switch pts := 100 * d; {
	case math.Abs(pts) < 0.05:
		return "the same " + what
	case pts > 0:
		return fmt.Sprintf("%.1f points less %s", pts, what)
	default:
		return fmt.Sprintf("%.1f points more %s", -pts, what)
	}
}

// modelSize is the size of a model file, 0 when unknown.
func modelSize(p *inference.Pack, v inference.Variant) int {
	b, err := p.ModelBytes(v)
	if err != nil {
		return 0
	}
	return len(b)
}

// autoMeasure measures the models the first time the settings open (when not screening).
func (v *settingsView) autoMeasure() {
	a := v.a
	if a.svc.Measure == nil || a.sess != nil {
		return
	}
	for _, variant := range a.svc.Pack.Variants() {
		if _, ok := app.LoadCost(a.fy.Preferences(), app.PackCostID(a.svc.Pack), variant); !ok {
			v.runMeasure()
			return
		}
	}
}

// runMeasure runs the quick benchmark of both models on a goroutine and stores the costs.
func (v *settingsView) runMeasure() {
	a := v.a
	if v.measuring != nil || a.svc.Measure == nil {
		return
	}
	if a.sess != nil {
		v.measureL.SetText("Stop the run first: measuring beside a run would measure both.")
		return
	}
	ctx, cancel := context.WithCancel(a.ctx)
	v.measuring = cancel
	v.refreshModel()
	v.measure.Disable()
	v.measureP.SetValue(0)
	v.measureP.Show()
	v.measureL.SetText("Measuring both models on this machine's bundled sample images…")
	set := a.set
	measured := a.svc.Pack
	pack := app.PackCostID(measured)
	a.wg.Go(func() {
		costs, err := a.svc.Measure(ctx, measured, set, func(done, total int) {
			a.runOnUI(func() {
				if total > 0 {
					v.measureP.SetValue(float64(done) / float64(total))
				}
			})
		})
		a.runOnUI(func() {
			v.measuring = nil
			cancel()
			if measured != a.svc.Pack && a.settingsWin == v {
				// Stopped as another pack was put in use: its models are measured now.
				defer v.autoMeasure()
			}
			v.refreshModel()
			v.measure.Enable()
			v.measureP.Hide()
			if err != nil {
				if errors.Is(err, context.Canceled) {
					msg := "Measurement cancelled."
					if v.measureStopped != "" {
						msg, v.measureStopped = v.measureStopped, ""
					}
					v.measureL.SetText(msg)
					return
				}
				v.measureL.SetText("Measurement failed: " + err.Error())
				return
			}
			if v.measureStopped != "" { // finished as a run started: its last figures shared the CPU
				v.measureL.SetText(v.measureStopped)
				v.measureStopped = ""
				return
			}
			for _, c := range costs {
				app.SaveCost(a.fy.Preferences(), pack, c)
			}
			v.measureL.SetText(fmt.Sprintf("Measured %s. Figures are kept; measure again after changing threads.", time.Now().Format("15:04")))
			a.applyModelUI()
		})
	})
}

// ShowRecognises lists what the pack in use recognises: each taxon with its group and
// unit, and the model's recall and precision on it where the card measured them,
// weakest first, with the data they were measured on.
func (v *settingsView) ShowRecognises() {
	a := v.a
	variant := inference.Optimised
	if a.svc.Model != nil {
		variant = a.svc.Model.Variant()
	}
	skills, on, err := app.Recognises(a.svc.Pack, a.svc.Taxonomy, variant)
	if err != nil {
		a.showError("Could not read the pack's card", err)
		return
	}
	v.recognises = make([]string, len(skills))
	for i, s := range skills {
		line := s.Name
		if g, ok := a.svc.Taxonomy.Group(s.Group); ok {
			line += " · group " + g.Name
		}
		if s.Unit != "" && s.Unit != "cell" {
			line += " · counted as " + screening.UnitPlural(s.Unit)
		}
		if s.Measured {
			line += fmt.Sprintf(" — recall %.0f%%, precision %.0f%%, on %d images", 100*s.Recall, 100*s.Precision, s.Support)
		}
		v.recognises[i] = line
	}
	if on != "" { // a sentence of its own
		on = strings.ToUpper(on[:1]) + on[1:]
	}
	head := widget.NewLabel(fmt.Sprintf("Pack %s, %s model: %d taxa. Recall is the share of a taxon's cells it names right; precision the share of its answers that are right. %s.",
		a.svc.Pack.Name, variant, len(skills), on))
	head.Wrapping = fyne.TextWrapWord
	list := widget.NewList(func() int { return len(v.recognises) }, func() fyne.CanvasObject {
		l := widget.NewLabel("")
		l.Truncation = fyne.TextTruncateEllipsis // a long name ends in "…", never cut mid-word at the edge
		return l
	}, func(id widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(v.recognises[id]) })
	d := dialog.NewCustom("What this pack recognises", "Close", container.NewBorder(head, nil, nil, nil, list), v.win)
	d.Resize(fyne.NewSize(900, 600))
	d.Show()
}

// taughtCost is the optimised model's accuracy cost of a taught pack, which records no
// validation top-1 but each model's cross-validated figures on the crops taught (it said
// "an accuracy cost this pack does not record": helper-40).
func taughtCost(p *inference.Pack) string {
	var m struct {
		Taught struct {
			CV []struct {
				Variant      inference.Variant
				Top1New      float64
				OldTop1After float64
				OldCrops     int
			} `json:"cross_validation"`
		} `json:"taught"`
	}
	if len(p.Metrics) == 0 || json.Unmarshal(p.Metrics, &m) != nil {
		return "an accuracy cost this pack does not record"
	}
	fig := map[inference.Variant][2]float64{}
	for _, r := range m.Taught.CV {
		fig[r.Variant] = [2]float64{r.Top1New, r.OldTop1After}
	}
	b, okb := fig[inference.Base]
	o, oko := fig[inference.Optimised]
	if !okb || !oko {
		return "an accuracy cost this pack does not record"
	}
	return fmt.Sprintf("%s on the taxa taught and %s on the pack's own (cross-validated on the crops taught)",
		pointsLess(b[0]-o[0], "top-1"), pointsLess(b[1]-o[1], "top-1"))
}
