package ui

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/internal/app"
)

// A pack chosen in Settings (or saved by Teach or the optimised twin) is put in use
// while the app runs: a technician switching from the marine pack to the cyanobacteria
// pack between two samples had to close and reopen phytoscreen (helper-59). A run
// classifies with the pack it started with to its end, so a pack chosen during a run
// is loaded when it ends. Without Services.OpenPack (the runtime not loaded) a pack
// chosen is loaded at the next start, as before.

// packLoadsLive reports whether a pack chosen is put in use without a restart.
func (a *mainWindow) packLoadsLive() bool { return a.svc.OpenPack != nil }

// packWhen says when the pack chosen in the settings takes over from the pack in use.
func (a *mainWindow) packWhen() string {
	switch {
	case !a.packLoadsLive():
		return "when phytoscreen starts again"
	case a.sess != nil:
		return "when this run ends"
	}
	return "now"
}

// untilChosen says until when the pack in use stays in use ("until …"), with a pack
// chosen in the settings or in the Model tab and not yet loaded.
func (a *mainWindow) untilChosen() string {
	switch {
	case !a.packLoadsLive():
		return "until phytoscreen starts again"
	case a.sess != nil && a.set.PackDir != a.startPackDir:
		return "until this run ends"
	case a.set.PackDir != a.startPackDir:
		return "until the pack chosen has loaded"
	}
	return "until you save the pack chosen"
}

// loadChosenPack puts the pack of the settings in use when it is not (UI goroutine). It
// opens on a goroutine (a classifier's sessions take a moment); a Start pressed
// meanwhile starts the run once it is in use. During a run it does nothing (runEnded
// calls packAfterRun), nor while the model's variant switches (the switch, done, calls
// it again): the classifier it replaces is closed.
func (a *mainWindow) loadChosenPack() { a.loadPack(false) }

// packAfterRun loads a pack chosen during the run that has just ended, leaving the
// status line to the run's outcome: the toolbar's heading names the pack once in use.
func (a *mainWindow) packAfterRun() { a.loadPack(true) }

// loadPack is loadChosenPack; quiet leaves the status line as it is unless it fails.
func (a *mainWindow) loadPack(quiet bool) {
	if !a.packLoadsLive() || a.packLoading || a.switching || a.closing || a.sess != nil ||
		a.set.PackDir == a.startPackDir || a.failedToLoad(a.set.PackDir) {
		return
	}
	dir, set := a.set.PackDir, a.set
	name := packName(dir)
	a.packLoading = true
	if !quiet {
		a.setStatus("Loading pack " + name + "…")
	}
	a.e.spawn(func(context.Context) {
		opened, err := a.svc.OpenPack(dir, set)
		a.runOnUI(func() {
			a.packLoading = false
			start := a.startWhenLoaded
			a.startWhenLoaded = nil
			fitted := ""
			switch {
			case err != nil:
				a.presetWithPack = false
				// The settings keep the choice (it was checked when saved): the
				// message says why it is not in use and that the old pack screens.
				a.packFailed = &dir
				a.showError("Pack "+name+" not loaded", fmt.Errorf("%w\nPack %s stays in use; choose another pack in Settings › Model", err, a.svc.Pack.Name))
				a.setStatus(fmt.Sprintf("Pack %s could not be loaded; pack %s stays in use.", name, a.svc.Pack.Name))
			case a.closing || a.sess != nil:
				closeOpened(opened)
			case a.set.PackDir != dir:
				// Chosen again while it loaded: the latest choice is loaded instead.
				closeOpened(opened)
				a.loadPack(quiet)
			default:
				fitted = a.usePack(opened, dir, quiet)
			}
			if a.settingsWin != nil {
				a.settingsWin.packLoaded(err, fitted)
			}
			switch {
			case start == nil:
			case err != nil:
				a.setStatus(fmt.Sprintf("Pack %s could not be loaded, so the run was not started: press Start to screen with pack %s.", name, a.svc.Pack.Name))
			case a.packLoading:
				a.startWhenLoaded = start // the pack chosen since is loading
			default:
				a.startSource(*start)
			}
		})
	})
}

// failedToLoad reports whether the pack setting dir is the one that last failed to load.
func (a *mainWindow) failedToLoad(dir string) bool {
	return a.packFailed != nil && *a.packFailed == dir
}

// closeOpened releases a pack opened and not put in use.
func closeOpened(p *app.OpenedPack) {
	if p.Close != nil {
		p.Close()
	}
}

// usePack puts an opened pack in use (UI goroutine, no run going): the classifier, the
// taxonomy the counts and alert rules name, and the model choice.
func (a *mainWindow) usePack(p *app.OpenedPack, dir string, quiet bool) (fitted string) {
	if v := a.settingsWin; v != nil && v.measuring != nil {
		// It measures the replaced pack's models; the new pack's are measured next.
		v.measureStopped = "The measurement of pack " + a.svc.Pack.Name + "'s models stopped: pack " + p.Pack.Name + " is in use."
		v.measuring()
	}
	old := packTitle(a.svc.Pack.Name, a.startPackDir)
	a.svc.Use(p)
	a.notePackLimits(p.Pack.Name, p.Pack.Limits)
	a.startPackDir = dir
	a.packFailed = nil
	a.set.Model = p.Model.Variant()
	fitted = a.fitPreset()
	a.saveSettings()
	a.reloadRules() // the Live tab keeps the last run, shown as measured (showUnderRules)
	a.modelHead.Text = a.modelHeading()
	a.modelHead.Refresh()
	a.applyModelUI()
	if a.history != nil {
		a.history.Reload() // its pane says which pack phytoscreen runs now
	}
	msg := fmt.Sprintf("Pack %s is in use (was %s): %d taxa.", packTitle(p.Pack.Name, dir), old, len(p.Pack.Labels)) + fitted
	if len(a.rules.Bound) == 0 {
		msg += " " + a.rules.Watching()
	}
	if quiet {
		a.log.Info(msg)
		return fitted
	}
	a.setStatus(msg)
	return fitted
}

// fitPreset moves the alert preset to one with rules for the pack now in use when the
// preset kept has none (app.PresetToFit), unless it was chosen with the pack in the same
// Save: a Noctiluca bloom screened with the marine pack under the WHO cyanobacteria
// preset, left from the cyanobacteria pack, read NOT CHECKED (helper-67). It returns
// what it did, to say ("" when nothing).
func (a *mainWindow) fitPreset() string {
	chosen := a.presetWithPack
	a.presetWithPack = false
	name := app.PresetToFit(a.set, a.svc.Taxonomy)
	if chosen || name == "" {
		return ""
	}
	was := a.set.Preset
	if was == "" {
		was = assets.DefaultPreset
	}
	a.set.Preset = name
	if v := a.settingsWin; v != nil {
		v.Preset.SetSelected(name)
	}
	return fmt.Sprintf(" Alert preset %s has no rule for it: preset %s watches now (Settings › Alerts).", was, name)
}

// fitPresetToLaunchPack fits the alert preset to the pack chosen with gui --pack, as a
// pack chosen in Settings is fitted (fitPreset): launched with --pack cyano-tcb-10 on the
// default preset, the banner read NOT CHECKED, "the pack cannot see Noctiluca", until
// the preset was changed by hand. UI goroutine, before any run.
func (a *mainWindow) fitPresetToLaunchPack() {
	fitted := a.fitPreset()
	if fitted == "" {
		return
	}
	a.saveSettings()
	a.reloadRules()
	a.setStatus(fmt.Sprintf("Pack %s chosen at launch (--pack).%s", packTitle(a.svc.Pack.Name, a.startPackDir), fitted))
}

// packTitle names a pack by its name, with its folder's name when it is not a built-in
// one: an optimised twin or a taught pack keeps its source's name, and "Pack
// cyano-tcb-10 is in use (was cyano-tcb-10)" told them apart by nothing (helper-69).
func packTitle(name, setting string) string {
	if setting == "" || app.IsBuiltinPack(setting) {
		return name
	}
	return fmt.Sprintf("%s (folder %s)", name, filepath.Base(filepath.Clean(setting)))
}
