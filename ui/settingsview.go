package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
)

// SettingsView is the settings window: the model (base and optimised side by side, with
// their recorded accuracy and what they cost on this machine), the camera and
// segmentation, and the alert rules. Model choices take effect at once, during a run too;
// the rest is checked and stored with Save and used from the next run.
type SettingsView struct {
	a   *App
	win fyne.Window

	cards     map[inference.Variant]*modelCard
	measure   *widget.Button
	measureP  *widget.ProgressBar
	measureL  *widget.Label
	compare   *widget.Label
	measuring context.CancelFunc

	Threads   *widget.Select
	Batch     *widget.Select
	Threshold *widget.Slider
	threshL   *widget.Label
	PackDir   *widget.Entry

	Camera     *widget.SelectEntry
	Resolution *widget.SelectEntry
	Calib      *widget.Entry
	Mode       *widget.Select
	MinSize    *widget.Entry
	MaxSize    *widget.Entry
	Demo       *widget.Check

	Preset    *widget.Select
	RulesFile *widget.Entry
	rulesInfo *widget.Label

	Tabs    *container.AppTabs
	Save    *widget.Button
	message *widget.Label
}

// modelCard is one model's column in the side-by-side comparison.
type modelCard struct {
	v        inference.Variant
	title    *widget.Label
	badge    *canvas.Text
	accuracy *widget.Label
	cost     *widget.Label
	use      *widget.Button
	box      fyne.CanvasObject
}

// ShowSettings opens the settings window, or brings it forward (Ctrl+,).
func (a *App) ShowSettings() {
	if a.settingsWin != nil {
		a.settingsWin.win.RequestFocus()
		return
	}
	a.settingsWin = newSettingsView(a)
	a.settingsWin.win.Show()
	a.settingsWin.autoMeasure()
}

func newSettingsView(a *App) *SettingsView {
	v := &SettingsView{a: a, cards: map[inference.Variant]*modelCard{}}
	v.win = a.fy.NewWindow("phytoscreen settings")
	v.win.SetIcon(AppIcon())
	v.win.SetOnClosed(func() {
		if v.measuring != nil {
			v.measuring()
		}
		a.settingsWin = nil
	})
	v.message = widget.NewLabel("")
	v.message.Wrapping = fyne.TextWrapWord
	v.Tabs = container.NewAppTabs(
		container.NewTabItemWithIcon("Model", theme.ComputerIcon(), v.modelTab()),
		container.NewTabItemWithIcon("Camera and segmentation", theme.MediaVideoIcon(), v.cameraTab()),
		container.NewTabItemWithIcon("Alerts", theme.WarningIcon(), v.alertsTab()),
	)
	v.Save = widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), func() {
		if err := v.apply(); err != nil {
			v.message.SetText(err.Error())
			dialog.ShowError(err, v.win)
			return
		}
		v.message.SetText("Saved. Camera, segmentation and alert settings apply from the next run.")
	})
	v.Save.Importance = widget.HighImportance
	closeBtn := widget.NewButton("Close", func() { v.win.Close() })
	bottom := container.NewBorder(nil, nil, nil, container.NewHBox(closeBtn, v.Save), v.message)
	v.win.SetContent(container.NewBorder(nil, container.NewPadded(bottom), nil, nil, v.Tabs))
	v.win.Resize(fyne.NewSize(980, 720))
	v.fill(a.set)
	v.refreshModel()
	return v
}

// modelTab shows the two models side by side and the inference settings.
func (v *SettingsView) modelTab() fyne.CanvasObject {
	a := v.a
	var cols []fyne.CanvasObject
	for _, variant := range a.deps.Pack.Variants() {
		c := &modelCard{v: variant}
		c.title = widget.NewLabelWithStyle(modelTitle(a.deps.Pack, variant), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
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
				widget.NewLabelWithStyle("Measured on this machine", fyne.TextAlignLeading, fyne.TextStyle{Italic: true}), c.cost))))
		v.cards[variant] = c
		cols = append(cols, c.box)
	}
	v.compare = widget.NewLabel("")
	v.compare.Wrapping = fyne.TextWrapWord
	v.compare.TextStyle.Bold = true
	v.measureP = widget.NewProgressBar()
	v.measureP.Hide()
	v.measureL = widget.NewLabel("")
	v.measureL.Wrapping = fyne.TextWrapWord
	v.measure = widget.NewButtonWithIcon("Measure on this machine", theme.ViewRefreshIcon(), v.runMeasure)
	if a.deps.Measure == nil {
		v.measure.Disable()
	}

	n := runtime.NumCPU()
	threads := []string{fmt.Sprintf("Auto (%d)", n)}
	for i := 1; i <= n; i++ {
		threads = append(threads, strconv.Itoa(i))
	}
	v.Threads = widget.NewSelect(threads, func(s string) {
		t := threadsOf(s)
		if t == a.set.Threads {
			return
		}
		if err := a.SetThreads(t); err != nil {
			v.message.SetText(err.Error())
		}
	})
	v.Batch = widget.NewSelect([]string{"1", "4", "8", "16", "32", "64"}, func(s string) {
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
	browse := widget.NewButtonWithIcon("", theme.FolderOpenIcon(), func() {
		dialog.ShowFolderOpen(func(u fyne.ListableURI, err error) {
			if err == nil && u != nil {
				v.PackDir.SetText(u.Path())
			}
		}, v.win)
	})
	builtin := widget.NewButton("Built-in", func() { v.PackDir.SetText("") })
	form := widget.NewForm(
		widget.NewFormItem("Threads", v.Threads),
		widget.NewFormItem("Batch (cells per run)", v.Batch),
		widget.NewFormItem("Confidence threshold", container.NewBorder(nil, nil, nil, v.threshL, v.Threshold)),
		widget.NewFormItem("Model pack folder", container.NewBorder(nil, nil, nil, container.NewHBox(browse, builtin), v.PackDir)),
	)
	form.Items[2].HintText = "cells below it are counted as unidentified and queued for review; changing it recounts the run"
	form.Items[3].HintText = "a folder with pack.json and its ONNX models; used from the next launch"
	form.Items[0].HintText = "ONNX Runtime threads; takes effect at once"
	measureRow := container.NewBorder(nil, nil, v.measure, nil, container.NewVBox(v.measureL, v.measureP))
	return container.NewVScroll(container.NewVBox(
		container.NewGridWithColumns(len(cols), cols...),
		v.compare,
		measureRow,
		widget.NewSeparator(),
		form,
	))
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
func (v *SettingsView) refreshModel() {
	a := v.a
	cur := a.set.Model
	if a.deps.Classifier != nil {
		cur = a.deps.Classifier.Variant()
	}
	for variant, c := range v.cards {
		m := a.deps.Pack.Models[variant]
		acc := fmt.Sprintf("Top-1 accuracy %.1f%%, top-5 %.1f%%", 100*m.ValTop1, 100*m.ValTop5)
		if m.Agreement > 0 {
			acc += fmt.Sprintf("\nAgrees with the base model on %.1f%% of cells", 100*m.Agreement)
		}
		if size := modelSize(a.deps.Pack, variant); size > 0 {
			acc += fmt.Sprintf("\n%s, %s", m.Arch, fmtBytes(uint64(size)))
		}
		if a.deps.Pack.ValImages > 0 {
			acc += fmt.Sprintf(" · %d validation images", a.deps.Pack.ValImages)
		}
		c.accuracy.SetText(acc)
		if cost, ok := LoadCost(a.fy.Preferences(), a.deps.Pack.Name, variant); ok {
			t := fmt.Sprintf("Latency per cell: p50 %s ms, p90 %s ms\nThroughput: %s cells/s", fmtSig(cost.P50Ms), fmtSig(cost.P90Ms), fmtSig(cost.CellsPerSec))
			if cost.JPerCell > 0 {
				t += "\nEnergy: " + fmtJoules(cost.JPerCell) + " per cell"
				if cost.Estimated {
					t += " (estimate: no power sensor)"
				}
			}
			t += fmt.Sprintf("\n%d thread%s, measured %s", cost.Threads, plural(cost.Threads), cost.Measured.Local().Format("2006-01-02 15:04"))
			c.cost.SetText(t)
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
func tradeOff(a *App) string {
	p := a.deps.Pack
	if !p.Has(inference.Base) || !p.Has(inference.Optimised) {
		return ""
	}
	b, o := p.Models[inference.Base], p.Models[inference.Optimised]
	acc := fmt.Sprintf("%.1f points of top-1 accuracy", 100*(b.ValTop1-o.ValTop1))
	cb, okb := LoadCost(a.fy.Preferences(), p.Name, inference.Base)
	co, oko := LoadCost(a.fy.Preferences(), p.Name, inference.Optimised)
	if !okb || !oko || cb.P50Ms <= 0 || co.P50Ms <= 0 {
		return "The optimised model gives up " + acc + "; measure both to see what it saves on this machine."
	}
	var t string
	if r := cb.P50Ms / co.P50Ms; r >= 1 {
		t = fmt.Sprintf("On this machine the optimised model is %.1f× as fast as the base model", r)
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
	return t + ", for " + acc + "."
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
func (v *SettingsView) autoMeasure() {
	a := v.a
	if a.deps.Measure == nil || a.sess != nil {
		return
	}
	for _, variant := range a.deps.Pack.Variants() {
		if _, ok := LoadCost(a.fy.Preferences(), a.deps.Pack.Name, variant); !ok {
			v.runMeasure()
			return
		}
	}
}

// runMeasure runs the quick benchmark of both models on a goroutine and stores the costs.
func (v *SettingsView) runMeasure() {
	a := v.a
	if v.measuring != nil || a.deps.Measure == nil {
		return
	}
	if a.sess != nil {
		v.measureL.SetText("Stop the run first: measuring beside a run would measure both.")
		return
	}
	ctx, cancel := context.WithCancel(a.ctx)
	v.measuring = cancel
	v.measure.Disable()
	v.measureP.SetValue(0)
	v.measureP.Show()
	v.measureL.SetText("Measuring both models on this machine's bundled sample images…")
	set := a.set
	pack := a.deps.Pack.Name
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		costs, err := a.deps.Measure(ctx, set, func(done, total int) {
			a.runOnUI(func() {
				if total > 0 {
					v.measureP.SetValue(float64(done) / float64(total))
				}
			})
		})
		a.runOnUI(func() {
			v.measuring = nil
			cancel()
			v.measure.Enable()
			v.measureP.Hide()
			if err != nil {
				if errors.Is(err, context.Canceled) {
					v.measureL.SetText("Measurement cancelled.")
					return
				}
				v.measureL.SetText("Measurement failed: " + err.Error())
				return
			}
			for _, c := range costs {
				SaveCost(a.fy.Preferences(), pack, c)
			}
			v.measureL.SetText(fmt.Sprintf("Measured %s. Figures are kept; measure again after changing threads.", time.Now().Format("15:04")))
			a.applyModelUI()
		})
	}()
}

// cameraTab holds the camera, calibration and segmentation settings.
func (v *SettingsView) cameraTab() fyne.CanvasObject {
	a := v.a
	var cams []string
	if a.deps.Cameras != nil {
		cams = a.deps.Cameras()
	}
	if len(cams) == 0 {
		cams = []string{"camera:0"}
	}
	v.Camera = widget.NewSelectEntry(cams)
	v.Resolution = widget.NewSelectEntry([]string{"640x480", "1280x720", "1920x1080", "2592x1944"})
	v.Resolution.SetPlaceHolder("camera default")
	v.Calib = widget.NewEntry()
	v.Calib.SetPlaceHolder("uncalibrated")
	v.Mode = widget.NewSelect([]string{"still", "flow"}, nil)
	v.MinSize = widget.NewEntry()
	v.MinSize.SetPlaceHolder("6px (default)")
	v.MaxSize = widget.NewEntry()
	v.MaxSize.SetPlaceHolder("no limit")
	v.Demo = widget.NewCheck("Start the bundled demo when no camera is found", nil)
	form := widget.NewForm(
		widget.NewFormItem("Camera", v.Camera),
		widget.NewFormItem("Resolution", v.Resolution),
		widget.NewFormItem("Calibration (µm per pixel)", v.Calib),
		widget.NewFormItem("Mode", v.Mode),
		widget.NewFormItem("Smallest object", v.MinSize),
		widget.NewFormItem("Largest object", v.MaxSize),
		widget.NewFormItem("", v.Demo),
	)
	form.Items[0].HintText = "camera:0, or a device path such as camera:/dev/video2"
	form.Items[1].HintText = "WIDTHxHEIGHT; empty: the camera's default"
	form.Items[2].HintText = "from a stage micrometer; sizes and the objects table are then in µm"
	form.Items[3].HintText = "still: a slide on the stage (cells counted once while the field is still); flow: a flow-through cell"
	form.Items[4].HintText = "equivalent diameter: 8um, or 12px; a bare number is µm when calibrated"
	return container.NewVScroll(form)
}

// alertsTab holds the alert preset and rules file, and shows the rules in use.
func (v *SettingsView) alertsTab() fyne.CanvasObject {
	v.Preset = widget.NewSelect(assets.PresetNames(), func(string) { v.previewRules() })
	v.RulesFile = widget.NewEntry()
	v.RulesFile.SetPlaceHolder("none: use the preset")
	v.RulesFile.OnChanged = func(string) { v.previewRules() }
	browse := widget.NewButtonWithIcon("", theme.FolderOpenIcon(), func() {
		d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
			if err == nil && r != nil {
				v.RulesFile.SetText(r.URI().Path())
				_ = r.Close()
			}
		}, v.win)
		d.SetFilter(storage.NewExtensionFileFilter([]string{".toml"}))
		d.Show()
	})
	clear := widget.NewButton("Clear", func() { v.RulesFile.SetText("") })
	v.rulesInfo = widget.NewLabel("")
	v.rulesInfo.Wrapping = fyne.TextWrapWord
	form := widget.NewForm(
		widget.NewFormItem("Preset", v.Preset),
		widget.NewFormItem("Rules file", container.NewBorder(nil, nil, nil, container.NewHBox(browse, clear), v.RulesFile)),
	)
	form.Items[1].HintText = "a TOML file of your site's rules (see assets/presets for the format); it replaces the preset"
	return container.NewBorder(form, nil, nil, nil, container.NewVScroll(v.rulesInfo))
}

// previewRules shows the rules the alerts tab's choice would load, with its notices.
func (v *SettingsView) previewRules() {
	if v.rulesInfo == nil || v.Preset == nil || v.RulesFile == nil {
		return
	}
	s := v.a.set
	s.Preset, s.RulesFile = v.Preset.Selected, strings.TrimSpace(v.RulesFile.Text)
	r, err := LoadRules(s, v.a.deps.Taxonomy)
	if err != nil {
		v.rulesInfo.SetText(err.Error())
		return
	}
	var b strings.Builder
	if d := r.Ruleset.Description; d != "" {
		b.WriteString(d + "\n\n")
	}
	for _, bd := range r.Bound {
		rule := bd.Rule
		fmt.Fprintf(&b, "• %s: ", rule.Name())
		var lv []string
		if rule.Watch != nil {
			lv = append(lv, "watch "+fmtThreshold(*rule.Watch))
		}
		if rule.Alert != nil {
			lv = append(lv, "alert "+fmtThreshold(*rule.Alert))
		}
		b.WriteString(strings.Join(lv, ", "))
		b.WriteString(" — source: " + sourceText(rule.Source, rule.Verified))
		b.WriteString("\n")
	}
	if len(r.Bound) == 0 {
		b.WriteString("No rule of this set can fire with the classifier pack " + v.a.deps.Pack.Name + ".\n")
	}
	missing := 0
	for _, n := range r.Notices {
		if n.Kind == "missing-taxon" {
			missing++
		}
	}
	if missing > 0 {
		fmt.Fprintf(&b, "\n%d rule%s name taxa the pack %s does not recognise:\n", missing, plural(missing), v.a.deps.Pack.Name)
		for _, n := range r.Notices {
			if n.Kind == "missing-taxon" {
				b.WriteString("  – " + n.String() + "\n")
			}
		}
	}
	v.rulesInfo.SetText(b.String())
}

// fill puts the settings in the widgets.
func (v *SettingsView) fill(s Settings) {
	if s.Threads == 0 {
		v.Threads.SetSelected(v.Threads.Options[0])
	} else {
		v.Threads.SetSelected(strconv.Itoa(s.Threads))
	}
	v.Batch.SetSelected(strconv.Itoa(s.Batch))
	v.Threshold.SetValue(s.Threshold)
	v.threshL.SetText(fmt.Sprintf("%.0f%%", 100*s.Threshold))
	v.PackDir.SetText(s.PackDir)
	v.Camera.SetText(s.Camera)
	v.Resolution.SetText(s.Resolution)
	if s.UmPerPx > 0 {
		v.Calib.SetText(strconv.FormatFloat(s.UmPerPx, 'f', -1, 64))
	}
	mode := s.Mode
	if mode == "" {
		mode = "still"
	}
	v.Mode.SetSelected(mode)
	v.MinSize.SetText(s.MinSize)
	v.MaxSize.SetText(s.MaxSize)
	v.Demo.SetChecked(s.DemoWhenNoCamera)
	v.Preset.SetSelected(s.Preset)
	v.RulesFile.SetText(s.RulesFile)
	v.previewRules()
}

// apply checks the camera, segmentation and alert fields and stores them. Each problem
// names the field and the fix.
func (v *SettingsView) apply() error {
	a := v.a
	s := a.set
	var errs []error
	s.Camera = strings.TrimSpace(v.Camera.Text)
	if s.Camera != "" && !strings.HasPrefix(s.Camera, "camera:") {
		if _, err := strconv.Atoi(s.Camera); err == nil {
			s.Camera = "camera:" + s.Camera
		} else {
			errs = append(errs, fmt.Errorf("camera %q: write camera:0 for the first camera, or camera:/dev/video2", s.Camera))
		}
	}
	s.Resolution = strings.TrimSpace(v.Resolution.Text)
	if _, _, err := ParseResolution(s.Resolution); err != nil {
		errs = append(errs, err)
	}
	s.UmPerPx = 0
	if t := strings.TrimSpace(v.Calib.Text); t != "" {
		um, err := parsePositive("Calibration", t, "type micrometres per pixel from your stage micrometer, e.g. 0.65, or leave it empty")
		if err != nil {
			errs = append(errs, err)
		}
		s.UmPerPx = um
	}
	s.Mode = v.Mode.Selected
	s.MinSize, s.MaxSize = strings.TrimSpace(v.MinSize.Text), strings.TrimSpace(v.MaxSize.Text)
	for _, f := range []struct{ name, val string }{{"Smallest object", s.MinSize}, {"Largest object", s.MaxSize}} {
		if f.val == "" {
			continue
		}
		if _, err := capture.ParseSize(f.val); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.name, err))
		}
	}
	s.DemoWhenNoCamera = v.Demo.Checked
	s.Preset, s.RulesFile = v.Preset.Selected, strings.TrimSpace(v.RulesFile.Text)
	if _, err := LoadRules(s, a.deps.Taxonomy); err != nil {
		errs = append(errs, err)
	}
	s.PackDir = strings.TrimSpace(v.PackDir.Text)
	if s.PackDir != "" && s.PackDir != a.set.PackDir {
		if err := a.checkPackDir(s.PackDir); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	rulesChanged := s.Preset != a.set.Preset || s.RulesFile != a.set.RulesFile
	a.set = s
	a.saveSettings()
	if rulesChanged {
		a.reloadRules()
	}
	if a.sess == nil {
		a.sample.Fill(a.newSample(), s.UmPerPx)
	}
	return nil
}

// checkPackDir checks a pack folder chosen in Settings before it is kept: its manifest
// and model files, and (with Deps.CheckPack) its models against the manifest. The error
// is one line that names the file and the fix; the app goes on with its current pack.
func (a *App) checkPackDir(dir string) error {
	keep := fmt.Sprintf(" (the app keeps the pack %s)", a.deps.Pack.Name)
	if _, err := os.Stat(filepath.Join(dir, inference.ManifestFile)); err != nil {
		return fmt.Errorf("model pack folder %s has no %s: choose the folder that holds the pack's %s, or press Built-in%s",
			dir, inference.ManifestFile, inference.ManifestFile, keep)
	}
	check := a.deps.CheckPack
	if check == nil {
		check = func(dir string) error { _, err := inference.LoadPackDir(dir); return err }
	}
	if err := check(dir); err != nil {
		return fmt.Errorf("model pack folder not used: %s%s", strings.Join(strings.Fields(err.Error()), " "), keep)
	}
	return nil
}
