package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/vision"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/inference"
)

// settingsView is the settings window: the model (base and optimised side by side, with
// their recorded accuracy and what they cost on this machine), the camera and
// segmentation, and the alert rules. Model choices take effect at once, during a run too;
// the rest is checked and stored with Save and used from the next run.
type settingsView struct {
	a   *mainWindow
	win fyne.Window

	cards    map[inference.Variant]*modelCard
	cardsBox *fyne.Container // holds the cards, made again for another pack
	// cardsNote says, while another pack is chosen than the one in use, that the cards
	// are the pack in use's: they read as the chosen pack's (helper-67).
	cardsNote *widget.Label
	Builtin   *safeSelect // the built-in packs, following the Model pack field
	measure   *widget.Button
	measureP  *widget.ProgressBar
	measureL  *widget.Label
	compare   *widget.Label
	measuring context.CancelFunc
	// measureStopped says why the measurement was cancelled, when a run stopped it.
	measureStopped string
	optimiseB      *widget.Button
	optimise       *optimiseDialog // the open optimise dialog (tests drive it)

	Threads   *safeSelect
	Batch     *safeSelect
	Threshold *widget.Slider
	threshL   *widget.Label
	PackDir   *widget.Entry

	Camera     *widget.SelectEntry
	Resolution *widget.SelectEntry
	Calib      *widget.Entry
	Mode       *safeSelect
	Finder     *safeSelect // the thresholds alone, or with a built-in learned detector
	MinSize    *widget.Entry
	MaxSize    *widget.Entry
	Demo       *widget.Check

	Preset    *safeSelect
	RulesFile *widget.Entry
	editor    *ruleEditor // the open rule editor (tests drive it)
	editorDlg dialog.Dialog
	// recognises holds the lines of "What this pack recognises" (tests read them).
	recognises []string
	rulesInfo  *widget.Label

	// lab is the Lab server tab; nil when the app has no lab server.
	lab *labPanel

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
func (a *mainWindow) ShowSettings() {
	if a.settingsWin != nil {
		a.settingsWin.win.RequestFocus()
		return
	}
	a.settingsWin = newSettingsView(a)
	a.settingsWin.win.CenterOnScreen() // it opened in the screen's top-left corner (helper-49)
	a.settingsWin.win.Show()
	a.settingsWin.autoMeasure()
}

func newSettingsView(a *mainWindow) *settingsView {
	v := &settingsView{a: a, cards: map[inference.Variant]*modelCard{}}
	v.win = a.fy.NewWindow("phytoscreen settings")
	v.win.SetIcon(appIcon())
	v.win.SetOnClosed(func() {
		if v.measuring != nil {
			v.measuring()
		}
		if v.optimise != nil {
			v.optimise.stop()
		}
		if v.lab != nil {
			v.lab.stop()
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
	if a.e.lab != nil {
		v.lab = newLabPanel(a.e, v.win)
		labTab := container.NewTabItemWithIcon("Lab server", theme.StorageIcon(), v.lab.content)
		v.Tabs.Append(labTab)
		// The status block reads the sync's state only while it shows.
		v.Tabs.OnSelected = func(t *container.TabItem) {
			if t == labTab {
				v.lab.shown()
			} else {
				v.lab.hidden()
			}
		}
	}
	v.Save = widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), func() {
		loaded := a.svc.Pack.Name
		wasPending := v.packPending()
		if err := v.apply(); err != nil {
			v.message.SetText(err.Error())
			dialog.ShowError(err, v.win)
			return
		}
		msg := "Saved. Camera, segmentation and alert settings apply from the next run."
		if a.sess == nil {
			// Between runs the last run is measured again under the rules at once
			// (showUnderRules): "from the next run" read as wrong (helper-65).
			msg = "Saved. The alert rules apply now (the last run is measured again under them); camera and segmentation settings from the next run."
		}
		if v.packPending() && a.packLoadsLive() {
			// Put in use now, or when the run going ends (it classifies to its end with
			// the pack it started with); packLoaded says the outcome.
			chosen := packName(a.set.PackDir)
			if a.sess != nil {
				msg = fmt.Sprintf("Saved. Pack %s is loaded when this run ends; pack %s screens this run to its end.", chosen, loaded)
				a.setStatus(fmt.Sprintf("Pack %s is loaded when this run ends; pack %s screens it.", chosen, loaded))
			} else {
				msg = fmt.Sprintf("Saved. Loading pack %s…", chosen)
			}
			a.packFailed = nil // chosen again: tried again
			a.loadChosenPack()
		} else if v.packPending() {
			// The pack is loaded at start: until then the alert notices and the banner
			// speak of the pack in use, and would send the technician back to a preset
			// for it.
			msg = fmt.Sprintf("Saved. The new classifier pack is loaded when phytoscreen starts again: close and reopen it to screen with it. Until then pack %s stays in use, and the alert notices are about it.", loaded)
			if hint := v.presetHint(); hint != "" {
				msg += " " + hint
			}
			a.setStatus("The new classifier pack takes effect when phytoscreen is started again; pack " + loaded + " is in use until then.")
		} else if wasPending {
			// Chosen back: the word of a restart would now be stale.
			a.setStatus("Pack " + loaded + " stays in use: no restart is needed.")
		}
		if err := app.CheckPrefsWritable(a.prefsFile()); err != nil {
			msg = strings.Replace(msg, "Saved.", "In use now, but not kept for the next launch:", 1)
			a.showError("Settings are not kept for the next launch", fmt.Errorf("%w\nThey apply until phytoscreen closes; make the file writable to keep them", err))
		}
		v.message.SetText(msg)
	})
	v.Save.Importance = widget.HighImportance
	closeBtn := widget.NewButton("Close", func() { v.win.Close() })
	bottom := container.NewBorder(nil, nil, nil, container.NewHBox(closeBtn, v.Save), v.message)
	v.win.SetContent(container.NewBorder(nil, container.NewPadded(bottom), nil, nil, v.Tabs))
	// 640 high: its tabs scroll, and at 720 it filled a 1366x768 laptop's screen to its
	// edges under a panel and a title bar (helper-69).
	v.win.Resize(fyne.NewSize(980, 640))
	v.fill(a.set)
	v.refreshModel()
	return v
}

// cameraTab holds the camera, calibration and segmentation settings.
func (v *settingsView) cameraTab() fyne.CanvasObject {
	a := v.a
	var cams []string
	if a.svc.Cameras != nil {
		for _, c := range a.svc.Cameras() {
			cams = append(cams, c.String())
		}
	}
	if len(cams) == 0 {
		cams = []string{capture.Camera("0").String()}
	}
	v.Camera = widget.NewSelectEntry(cams)
	v.Resolution = widget.NewSelectEntry([]string{"640x480", "1280x720", "1920x1080", "2592x1944"})
	v.Resolution.SetPlaceHolder("camera default")
	v.Calib = widget.NewEntry()
	v.Calib.SetPlaceHolder("uncalibrated")
	v.Mode = newSafeSelect(v.win, []string{"still", "flow"}, nil)
	finders := []string{finderThresholds}
	for _, n := range assets.BuiltinDetectors() {
		finders = append(finders, finderWith+n)
	}
	v.Finder = newSafeSelect(v.win, finders, nil)
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
		widget.NewFormItem("Objects found by", v.Finder),
		widget.NewFormItem("Smallest object", v.MinSize),
		widget.NewFormItem("Largest object", v.MaxSize),
		widget.NewFormItem("", v.Demo),
	)
	form.Items[0].HintText = "camera:0, or a device path such as camera:/dev/video2"
	form.Items[1].HintText = "WIDTHxHEIGHT; empty: the camera's default"
	form.Items[2].HintText = "from a stage micrometer; sizes and the objects table are then in µm"
	form.Items[3].HintText = "still: a slide on the stage (cells counted once while the field is still); flow: a flow-through cell"
	form.Items[4].HintText = "the detector adds faint specks and pale cells the thresholds miss; trained on 320x240 colour brightfield frames"
	form.Items[5].HintText = "equivalent diameter: 8um, or 12px; a bare number is µm when calibrated"
	return container.NewVScroll(form)
}

// The choices of Settings › Camera › Objects found by.
const (
	finderThresholds = "thresholds"
	finderWith       = "thresholds + learned detector "
)

// alertsTab holds the alert preset and rules file, and shows the rules in use.
func (v *settingsView) alertsTab() fyne.CanvasObject {
	v.Preset = newSafeSelect(v.win, assets.PresetNames(), func(string) { v.previewRules() })
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
	edit := widget.NewButtonWithIcon("Edit rules…", theme.DocumentCreateIcon(), v.EditRules)
	v.rulesInfo = widget.NewLabel("")
	v.rulesInfo.Wrapping = fyne.TextWrapWord
	form := widget.NewForm(
		widget.NewFormItem("Preset", v.Preset),
		widget.NewFormItem("Rules file", container.NewBorder(nil, nil, nil, container.NewHBox(browse, clear, edit), v.RulesFile)),
	)
	form.Items[1].HintText = "a TOML file of your site's rules (see assets/presets for the format); it replaces the preset"
	return container.NewBorder(form, nil, nil, nil, container.NewVScroll(v.rulesInfo))
}

// EditRules opens the rule editor on the rules chosen (the file, else the preset); Save
// writes the site's rules file and makes it the one in use.
func (v *settingsView) EditRules() {
	s := v.a.set
	s.Preset, s.RulesFile = v.Preset.Selected, strings.TrimSpace(v.RulesFile.Text)
	spec := s.RulesFile
	if spec == "" {
		spec = "preset:" + s.Preset
	}
	rs, _, err := alerts.Open(spec, assets.Presets())
	if err != nil {
		v.a.showError("Could not read the rules to edit", err)
		return
	}
	path := s.RulesFile
	if path == "" {
		rs.Name = strings.TrimSpace(v.a.set.Site)
		if rs.Name == "" {
			rs.Name = "my-site"
		}
		path = defaultRulesPath(rs.Name)
	}
	v.editor = newRuleEditor(rs, editorTaxa(v.a.svc.Taxonomy, v.a.rules), path)
	d := dialog.NewCustomConfirm("Alert rules", "Save", "Cancel", v.editor.content(), func(save bool) {
		if !save {
			return
		}
		saved, err := v.editor.Save()
		if err != nil {
			v.a.showError("The rules were not saved", err)
			return
		}
		v.RulesFile.SetText(saved) // previews them; Save in Settings puts them in use
		v.message.SetText("Rules saved to " + saved + ": press Save to use them.")
	}, v.win)
	d.Resize(fyne.NewSize(980, 560))
	v.editorDlg = d
	d.Show()
}

// previewRules shows the rules the alerts tab's choice would load, with its notices.
func (v *settingsView) previewRules() {
	if v.rulesInfo == nil || v.Preset == nil || v.RulesFile == nil {
		return
	}
	s := v.a.set
	s.Preset, s.RulesFile = v.Preset.Selected, strings.TrimSpace(v.RulesFile.Text)
	r, err := app.LoadRules(s, v.a.svc.Taxonomy)
	if err != nil {
		v.rulesInfo.SetText(err.Error())
		return
	}
	var b strings.Builder
	if d := r.Ruleset.Description; d != "" {
		b.WriteString(d + "\n\n")
	}
	writeRuleLevels(&b, r.Bound)
	chosen, chosenErr := v.chosenPack()
	if len(r.Bound) == 0 {
		b.WriteString("No rule of this set can fire with the classifier pack " + v.a.svc.Pack.Name)
		if chosen != nil || chosenErr != nil {
			// The rules are bound to the pack in use; the one chosen is not loaded yet.
			b.WriteString(", in use " + v.a.untilChosen())
		}
		b.WriteString(".\n")
	}
	// Checked now against the pack chosen, so the technician learns before it is put in
	// use whether the rules will fire with it, or that it will not load.
	chosenFor := "chosen here"
	if !v.a.packLoadsLive() {
		chosenFor = "chosen for the next start"
	}
	switch {
	case chosenErr != nil:
		fmt.Fprintf(&b, "The pack %s cannot be read, so these rules cannot be checked against it: %v\n", chosenFor, chosenErr)
	case chosen != nil:
		name := chosen.Name
		if name == v.a.svc.Pack.Name { // the same name from another folder
			name += " from " + chosen.Source
		}
		cr, err := rulesForPack(s, chosen)
		if err != nil {
			fmt.Fprintf(&b, "With pack %s, %s, these rules cannot be checked: %v\n", name, chosenFor, err)
			break
		}
		fmt.Fprintf(&b, "With pack %s, %s: %d of %d rule%s of this set can fire.\n",
			name, chosenFor, len(cr.Bound), len(cr.Ruleset.Rules), plural(len(cr.Ruleset.Rules)))
		if len(r.Bound) == 0 {
			// Their levels, before the pack is saved: the preset chosen for it showed
			// none until then (helper-81).
			writeRuleLevels(&b, cr.Bound)
		}
	}
	missing := 0
	for _, n := range r.Notices {
		if n.Kind == "missing-taxon" {
			missing++
		}
	}
	if missing > 0 {
		verb := "name"
		if missing == 1 {
			verb = "names"
		}
		fmt.Fprintf(&b, "\n%d rule%s %s taxa the pack %s does not recognise:\n", missing, plural(missing), verb, v.a.svc.Pack.Name)
		for _, n := range r.Notices {
			if n.Kind == "missing-taxon" {
				b.WriteString("  – " + n.String() + "\n")
			}
		}
	}
	v.rulesInfo.SetText(b.String())
}

// writeRuleLevels lists the rules bound, one a line: the name, the watch and alert
// levels, the source.
func writeRuleLevels(b *strings.Builder, bound []alerts.Bound) {
	for _, bd := range bound {
		rule := bd.Rule
		fmt.Fprintf(b, "• %s: ", rule.Name())
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
}

// chosenPack is the pack the Model tab names when it is not the one in use (it loads
// when saved, or at the next start): nil, nil when it is the same; the reason when it cannot be read.
func (v *settingsView) chosenPack() (*inference.Pack, error) {
	if v.PackDir == nil {
		return nil, nil
	}
	norm := func(dir string) string { // the default pack is named or left empty
		if dir = strings.TrimSpace(dir); dir == assets.DefaultPackName {
			return ""
		}
		return dir
	}
	dir := norm(v.PackDir.Text)
	if dir == norm(v.a.startPackDir) {
		return nil, nil
	}
	return app.LoadPack(dir)
}

// rulesForPack binds the alert rules of settings s to pack p, as they will be when p is
// the pack in use.
func rulesForPack(s app.Settings, p *inference.Pack) (alerts.Binding, error) {
	tx, err := screening.ForPack(p)
	if err != nil {
		return alerts.Binding{}, err
	}
	return app.LoadRules(s, tx)
}

// presetHint says, when no rule of the alert rules saved can fire with the pack chosen
// for the next start, which presets can: the rules do not follow a pack, and with the
// cyanobacteria pack the default preset left every sample "not checked" (helper-38).
// "" when the rules fire, when a rules file is in use (the lab's own), or when the pack
// cannot be read.
func (v *settingsView) presetHint() string {
	p, err := v.chosenPack()
	if err != nil {
		return ""
	}
	return v.presetHintFor(p)
}

// presetHintFor is presetHint for pack p ("" for nil).
func (v *settingsView) presetHintFor(p *inference.Pack) string {
	s := v.a.set
	if p == nil || s.RulesFile != "" {
		return ""
	}
	if b, err := rulesForPack(s, p); err != nil || len(b.Bound) > 0 {
		return ""
	}
	var can []string
	for _, name := range assets.PresetNames() {
		s.Preset = name
		if b, err := rulesForPack(s, p); err == nil && len(b.Bound) > 0 {
			can = append(can, name)
		}
	}
	if len(can) == 0 {
		return ""
	}
	return fmt.Sprintf("No rule of preset %s can fire with pack %s; preset %s can: choose it in the Alerts tab.", v.a.set.Preset, p.Name, strings.Join(can, " or "))
}

// fill puts the settings in the widgets.
func (v *settingsView) fill(s app.Settings) {
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
	if s.Detector == "" {
		v.Finder.SetSelected(finderThresholds)
	} else {
		v.Finder.SetSelected(finderWith + s.Detector)
	}
	v.MinSize.SetText(s.MinSize)
	v.MaxSize.SetText(s.MaxSize)
	v.Demo.SetChecked(s.DemoWhenNoCamera)
	v.Preset.SetSelected(s.Preset)
	v.RulesFile.SetText(s.RulesFile)
	v.previewRules()
}

// apply checks the camera, segmentation and alert fields and stores them. Each problem
// names the field and the fix.
func (v *settingsView) apply() error {
	a := v.a
	s := a.set
	var errs []error
	s.Camera = strings.TrimSpace(v.Camera.Text)
	if _, err := strconv.Atoi(s.Camera); err == nil {
		s.Camera = capture.Camera(s.Camera).String() // a bare index: camera:N
	}
	if sp, err := capture.ParseSpec(s.Camera); s.Camera != "" && (err != nil || sp.Kind != capture.KindCamera) {
		errs = append(errs, fmt.Errorf("camera %q: write camera:0 for the first camera, or camera:/dev/video2", s.Camera))
	}
	s.Resolution = strings.TrimSpace(v.Resolution.Text)
	if _, _, err := app.ParseResolution(s.Resolution); err != nil {
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
	s.Detector = strings.TrimPrefix(v.Finder.Selected, finderWith)
	if v.Finder.Selected == finderThresholds || v.Finder.Selected == "" {
		s.Detector = ""
	}
	s.MinSize, s.MaxSize = strings.TrimSpace(v.MinSize.Text), strings.TrimSpace(v.MaxSize.Text)
	for _, f := range []struct{ name, val string }{{"Smallest object", s.MinSize}, {"Largest object", s.MaxSize}} {
		if f.val == "" {
			continue
		}
		if _, err := vision.ParseSize(f.val); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.name, err))
		}
	}
	s.DemoWhenNoCamera = v.Demo.Checked
	s.Preset, s.RulesFile = v.Preset.Selected, strings.TrimSpace(v.RulesFile.Text)
	if _, err := app.LoadRules(s, a.svc.Taxonomy); err != nil {
		errs = append(errs, err)
	}
	s.PackDir = strings.TrimSpace(v.PackDir.Text)
	if s.PackDir != "" && s.PackDir != a.set.PackDir {
		if err := a.checkPackDir(s.PackDir); err != nil {
			errs = append(errs, err)
		}
	}
	var lab app.LabSettings
	if v.lab != nil {
		var err error
		if lab, err = v.lab.read(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if v.lab != nil && v.lab.changed(lab) {
		v.lab.apply(lab)
	}
	rulesChanged := s.Preset != a.set.Preset || s.RulesFile != a.set.RulesFile
	if s.PackDir != a.set.PackDir {
		a.presetWithPack = rulesChanged
	}
	old := a.set
	a.set = s
	a.saveSettings()
	if rulesChanged {
		a.reloadRules()
	}
	switch {
	case a.sess != nil:
	case strings.HasPrefix(a.sample.ID.Text, demoIDPrefix):
		a.sample.Fill(a.newSample(), s.UmPerPx) // the demo's made-up sample gives way to a real one
	default:
		// The sample being entered stays: only the defaults the save changed reach it
		// (helper-40: saving Settings replaced a typed Sample ID with a new one, and
		// cleared the time, position, depth and notes typed).
		a.sample.applyDefaults(old, s)
	}
	return nil
}

// packPending reports whether the pack setting differs from the pack in use: loaded
// when the run going ends (packLoadsLive), or at the next start.
func (v *settingsView) packPending() bool { return v.a.set.PackDir != v.a.startPackDir }

// checkPackDir checks a pack folder chosen in Settings before it is kept: its manifest
// and model files, and (with Services.CheckPack) its models against the manifest. The error
// is one line that names the file and the fix; the app goes on with its current pack.
func (a *mainWindow) checkPackDir(dir string) error {
	keep := fmt.Sprintf(" (the app keeps the pack %s)", a.svc.Pack.Name)
	if app.IsBuiltinPack(dir) {
		return nil // embedded and checked by the tests
	}
	if _, err := os.Stat(filepath.Join(dir, inference.ManifestFile)); err != nil {
		return fmt.Errorf("model pack folder %s has no %s: choose the folder that holds the pack's %s, or choose a built-in pack%s",
			dir, inference.ManifestFile, inference.ManifestFile, keep)
	}
	check := a.svc.CheckPack
	if check == nil {
		check = func(dir string) error { _, err := inference.LoadPackDir(dir); return err }
	}
	if err := check(dir); err != nil {
		return fmt.Errorf("model pack folder not used: %s%s", strings.Join(strings.Fields(err.Error()), " "), keep)
	}
	return nil
}

// packLoaded says the outcome of loading the pack saved (UI goroutine): the Model tab
// shows the pack now in use, its models and what they cost here; fitted says the preset
// moved to fit it (fitPreset), "" when it did not.
func (v *settingsView) packLoaded(err error, fitted string) {
	a := v.a
	if err != nil {
		v.message.SetText(fmt.Sprintf("Saved, but pack %s could not be loaded: %s. Pack %s stays in use.",
			packName(a.set.PackDir), strings.Join(strings.Fields(err.Error()), " "), a.svc.Pack.Name))
		return
	}
	if v.packPending() { // another pack was chosen meanwhile: it loads next
		return
	}
	v.showCards()
	v.noteCards()
	v.refreshModel()
	v.autoMeasure() // its models, as when the window first opened
	v.previewRules()
	msg := fmt.Sprintf("Saved. Pack %s is in use.", a.svc.Pack.Name) + fitted
	if hint := v.presetHintFor(a.svc.Pack); hint != "" {
		msg += " " + hint
	}
	v.message.SetText(msg)
}
