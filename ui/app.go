package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/outfile"
	"github.com/phytoscreen/phytoscreen/store"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/screening"
)

// mainWindow is the desktop app: the main window and everything it shows. Its fields are
// touched on the UI goroutine only; the goroutines it starts reach them through runOnUI.
type mainWindow struct {
	// confirm asks a yes/no question; nil shows a dialog (hooks.confirm in tests).
	confirm func(title, msg, yes, no string, answer func(bool))
	fy      fyne.App
	win     fyne.Window
	svc     *app.Services
	set     app.Settings
	log     *slog.Logger
	e       *env // what the screens use of the app

	// runOnUI runs f on the UI goroutine (fyne.Do); tests replace it with a queue they
	// drain on their own goroutine, which then plays the UI goroutine.
	runOnUI func(f func())
	// notify sends a desktop notification (the app's SendNotification).
	notify func(*fyne.Notification)

	ctx    context.Context // the app's lifetime
	cancel context.CancelFunc
	wg     goroutines // goroutines started by the app

	// Widgets.
	live        *liveView
	liveStatus  *statusLine
	counts      *countsTable
	banner      *alertBanner
	lastMessage string // the last showMessage, for tests
	// folderSample is the open folder dialog's sample fields; nil when none is open.
	folderSample *folderSample
	// sites are the sites screened before, offered in the Site fields (refreshSites).
	sites []string
	// startPackDir is the pack setting of the pack in use: the one phytoscreen started
	// with, or the last one loadChosenPack put in use.
	startPackDir string
	perf         *perfPanel
	sample       *samplePanel
	model        *widget.RadioGroup
	modelNote    *fitText
	modelHead    *canvas.Text // "Pack … · model:"
	// packLoading is true while a pack chosen opens (loadChosenPack); packFailed holds a
	// pack setting that did not load (the default pack's is ""), not tried again until
	// chosen again; nil: none.
	packLoading bool
	packFailed  *string
	// presetWithPack is true when the alert preset was chosen in the Save that chose the
	// pack being loaded: kept even when none of its rules fits the pack (usePack).
	presetWithPack bool
	// startWhenLoaded is a source whose Start was pressed while a pack loaded.
	startWhenLoaded *capture.Spec
	status          *statusLine
	progress        *widget.ProgressBar
	progressBox     *fyne.Container
	runState        *widget.Label
	tabs            *container.AppTabs
	gallery         *galleryView
	history         *historyView
	settingsWin     *settingsView

	// Sources offered in the sample panel: display text -> spec.
	sourceSpecs map[string]capture.Spec
	// prevSource is the source list's last real choice, put back when an "open"
	// entry's dialog is cancelled (unpickOpenEntry).
	prevSource string

	// State of the UI goroutine.
	sess     *session
	notifier *alertNotifier
	rules    alerts.Binding
	lastSnap screening.Snapshot
	// lastRules are the rules the last run was screened with (bound to its pack), and
	// lastTaxonomy that pack's taxonomy.
	lastRules    alerts.Binding
	lastTaxonomy *screening.Taxonomy
	// packLimits holds the limits of each pack put in use since launch, by name
	// (packLimitsOf).
	packLimits map[string]string
	// prefsPath, when set (tests), is the preferences file checked at Save (prefsFile).
	prefsPath string
	// liveReviewed is the sample the Live tab shows as reviewed (showReviewed): its
	// counts are the store's, with the Gallery's labels; "" when they are lastSnap's.
	liveReviewed string
	// liveCountsGen counts liveSampleCounts' calls: an answer shows only if no later
	// call was made (UI goroutine only).
	liveCountsGen uint64
	// autoID is the sample ID the app last proposed from the time (proposeID): the
	// panel still showing it means the technician chose none.
	autoID string
	// addTo is the sample the technician agreed to add the next run to ("" when none).
	addTo string
	// screenAgain is a source the technician said to screen as a new sample though
	// other samples hold its frames (askScreenedBefore); zero when none.
	screenAgain capture.Spec
	// proposedID is the companion sample ID the app last proposed (askNewSampleForSameFrames):
	// an ID holding screening.CompanionMark that Start takes though no one typed it.
	proposedID string
	// volumeChecked is the volume examined the technician confirmed though it is more
	// than a microscope examines at once (askVolume); 0: none.
	volumeChecked float64
	// confirmAgain, when set, answers askScreenedBefore's question in confirm's stead
	// (the tests' runs screen one fake source as many samples).
	confirmAgain func(title, msg, yes, no string, answer func(bool))
	lastError    error
	closing      bool
	// stopped is set once the driver has stopped (markStopped): a Close asked after it,
	// by the terminal's Ctrl+C, runs off the UI goroutine and must touch nothing.
	stopped atomic.Bool
	// ownPrefs: the preferences are the app's file (Run), not a test's: Shutdown writes
	// there what a Close dropped by the driver's own stop would have kept (quitPrefs).
	ownPrefs bool
	// prefsChanged is when a preference last changed (UnixNano), by the app or by Fyne's
	// dialogs: Fyne writes the file again 100 ms after a burst of changes.
	prefsChanged atomic.Int64
	// switching is true while a model switch opens the other model's session.
	switching bool
	// perfState is the meter's history, fed by the run's bridge or the idle loop.
	perfState perfState
	// activeRuns counts runs whose bridge is feeding the UI (read by the idle loop).
	activeRuns atomic.Int32
	// onRunEnd, when set, is called (UI goroutine) after a run has ended and been shown.
	onRunEnd func(screening.Snapshot, error)
	// settingsNotes are the saved settings ignored at launch, and why.
	settingsNotes []string
}

// title is the main window's title.
const title = "phytoscreen"

// hooks replace how the app reaches the UI goroutine and the desktop (tests).
type hooks struct {
	runOnUI func(func())
	notify  func(*fyne.Notification)
	// confirm asks a yes/no question (tests answer it); nil: a dialog.
	confirm func(title, msg, yes, no string, answer func(bool))
	// lab is the link to the programme's lab server (Options.Lab); nil: none.
	lab LabServer
}

// newApp builds the app on fy (a real app or test.NewApp()) with the services, reading
// the settings from fy's preferences. Show its window to run it, Close to end it.
func newApp(fy fyne.App, svc *app.Services, h hooks) (*mainWindow, error) {
	if err := svc.Check(); err != nil {
		return nil, err
	}
	if err := keepFilesUntilWritten(); err != nil {
		return nil, err
	}
	a := &mainWindow{fy: fy, svc: svc, log: slog.Default().With("component", "ui"), notify: fy.SendNotification}
	// Run leaves the UI goroutine to Fyne; the tests queue its calls and keep their
	// preferences in memory.
	a.ownPrefs = h.runOnUI == nil
	if h.notify != nil {
		a.notify = h.notify
	} else if runtime.GOOS == "linux" && os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		// Linux notifications go through the session D-Bus; without one (a virtual
		// display, a bare window manager) Fyne would log an error per notification.
		a.notify = func(n *fyne.Notification) {
			a.log.Info("alert notification (no session D-Bus to show it on the desktop)", "title", n.Title, "body", n.Content)
		}
	}
	a.confirm = h.confirm
	a.runOnUI = fyne.Do
	if h.runOnUI != nil {
		a.runOnUI = h.runOnUI
	}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	a.e = &env{prefs: fy.Preferences(), svc: svc, runOnUI: func(f func()) { a.runOnUI(f) }, setStatus: a.setStatus,
		showError: a.showError, rules: func() alerts.Binding { return a.rules }, ctx: a.ctx, wg: &a.wg, lab: h.lab}
	a.set, a.settingsNotes = app.LoadSettingsChecked(fy.Preferences())
	a.startPackDir = a.set.PackDir // the pack loaded for this session
	// The reviewer goes through the settings, which saveSettings writes whole: kept in
	// the preferences alone, it was written back to its old value at the next save, and
	// a restart asked "Who is reviewing?" again (helper-38).
	a.e.setReviewer = func(name string) {
		if a.set.Reviewer != name {
			a.set.Reviewer = name
			a.saveSettings()
		}
	}
	a.e.reviewed = a.showReviewed
	a.e.ask = a.ask
	a.e.usePack = func(dir string) string {
		a.set.PackDir = dir
		a.saveSettings()
		if a.settingsWin != nil {
			a.settingsWin.PackDir.SetText(dir)
		}
		a.packFailed = nil
		a.loadChosenPack()
		return a.packWhen()
	}
	a.perfState.hist = newPerfHistory()
	a.notifier = newAlertNotifier(func(n *fyne.Notification) { a.notify(n) })
	fy.Settings().SetTheme(newLabTheme())
	fy.SetIcon(appIcon())

	a.win = fy.NewWindow(title)
	a.e.win = a.win
	a.win.SetIcon(appIcon())
	// A cut line's whole text shows over the content (statusLine, fitText).
	a.win.SetContent(newTipLayer().over(a.win.Canvas(), a.build()))
	a.win.Resize(fyne.NewSize(a.set.WindowW, a.set.WindowH))
	a.win.SetMaster()
	a.win.SetCloseIntercept(a.Quit)
	fy.Lifecycle().SetOnStopped(a.markStopped)
	fy.Preferences().AddChangeListener(func() { a.prefsChanged.Store(time.Now().UnixNano()) })
	a.addShortcuts()
	a.win.SetMainMenu(a.menu())

	a.reloadRules()
	a.refreshSources()
	a.sample.Fill(a.newSample(), a.set.UmPerPx)
	a.refreshSites()
	a.emptyOldTrash()
	a.applyModelUI()
	if svc.PrefsUnreadable != nil {
		// Every setting back to its default without a word, and the file that held
		// them written over at the next save (helper-87): said, and where it was kept.
		a.showError("The saved settings could not be read", svc.PrefsUnreadable)
	}
	if len(a.settingsNotes) > 0 {
		// Damaged or stale preferences: the app opens on defaults and says which.
		for _, n := range a.settingsNotes {
			a.log.Warn("saved setting ignored", "setting", n)
		}
		a.saveSettings()
		a.showError("Some saved settings were ignored", fmt.Errorf("%s\nThe app uses the values named after each; change them in Settings", strings.Join(a.settingsNotes, "\n")))
	}
	if svc.SetupError != nil {
		a.showError("The classifier could not be loaded", svc.SetupError)
	}
	if svc.StoreError != nil {
		// Titled as the classifier's failure, it left Start on: runs were counted and
		// alerted on and recorded nowhere (helper-86).
		a.live.SetHint("No session store: runs cannot be recorded",
			"Free space on its disk or fix the file, or start phytoscreen with --db FILE on a writable disk.")
		a.showError("The session store could not be opened", svc.StoreError)
	}
	switch {
	case errors.Is(svc.StoreReadOnly, store.ErrInUse):
		// A second window on the same store, or the app beside a screen command:
		// nothing said so, and both recorded into it (helper-87).
		a.live.SetHint("Another phytoscreen is using this store",
			"Close the other phytoscreen and restart this one, or use --db FILE.")
		a.showError("Another phytoscreen is using the session store", svc.StoreReadOnly)
	case svc.StoreReadOnly != nil:
		// Said at launch: a technician set up a sample and pressed Start before learning
		// that nothing could be recorded (helper-54).
		a.live.SetHint("The session store is read-only: runs cannot be recorded",
			"Make it writable, or start phytoscreen with --db FILE on a writable disk.")
		a.showError("Runs cannot be recorded", svc.StoreReadOnly)
	}
	a.wg.Go(a.idleLoop)
	return a, nil
}

// prefsFile is the file Fyne keeps the preferences in (its storage root's
// preferences.json on a desktop), or the one a test names.
func (a *mainWindow) prefsFile() string {
	if a.prefsPath != "" {
		return a.prefsPath
	}
	return prefsFileOf(a.fy)
}

// notePackLimits keeps what pack name, put in use, says it was not shown to do. UI
// goroutine only.
func (a *mainWindow) notePackLimits(name, limits string) {
	if a.packLimits == nil {
		a.packLimits = map[string]string{}
	}
	a.packLimits[name] = limits
}

// packLimitsOf is what pack name was not shown to do: as the pack said when put in use
// since launch, else as the built-in pack of that name says (History's samples of a
// pack not used since); "" for a pack folder not used since launch. UI goroutine only.
func (a *mainWindow) packLimitsOf(name string) string {
	if l, ok := a.packLimits[name]; ok {
		return l
	}
	l := app.BuiltinPackLimits(name)
	a.notePackLimits(name, l) // read once: the banner asks at every redraw
	return l
}

// appIcon is the application icon as a Fyne resource.
func appIcon() fyne.Resource { return fyne.NewStaticResource("phytoscreen.png", assets.AppIcon()) }

// build lays out the main window: toolbar and alert banner on top; tabs for the live
// view, the gallery and history; a status bar at the bottom.
func (a *mainWindow) build() fyne.CanvasObject {
	a.live = newLiveView("No source running", "Choose a source in the sample panel and press Start (Ctrl+Space), or open a folder (Ctrl+O).")
	a.liveStatus = newStatusLine("")
	a.counts = newCountsTable(true)
	a.banner = newAlertBanner()
	if p := a.svc.Pack; p != nil {
		a.notePackLimits(p.Name, p.Limits)
	}
	a.banner.SetPackLimits(a.packLimitsOf)
	a.perf = newPerfPanel()
	a.sample = newSamplePanel(a.Start, a.TogglePause, a.Stop)
	a.sample.showMore = func(form fyne.CanvasObject) {
		d := dialog.NewCustom("About the sample", "Done", container.NewGridWrap(fyne.NewSize(460, form.MinSize().Height), form), a.win)
		// Typed into at once, and Enter in a field is Done: text typed after opening
		// it was lost, and Enter did nothing (helper-67).
		for _, e := range a.sample.detailEntries() {
			e.OnSubmitted = func(string) { d.Hide() }
			e.onEscape = d.Hide
		}
		d.Show()
		a.win.Canvas().Focus(a.sample.Taken)
	}
	a.sample.Source.OnChanged = a.onSourceChosen

	a.status = newStatusLine("Ready.")
	a.progress = widget.NewProgressBar()
	cancel := widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), a.Stop)
	a.progressBox = container.NewHBox(container.NewGridWrap(fyne.NewSize(260, a.progress.MinSize().Height), a.progress), cancel)
	a.progressBox.Hide()
	a.runState = widget.NewLabel("Idle")
	a.runState.TextStyle.Bold = true

	// Toolbar.
	icon := canvas.NewImageFromResource(appIcon())
	icon.FillMode = canvas.ImageFillContain
	icon.SetMinSize(fyne.NewSize(30, 30))
	brand := widget.NewLabelWithStyle("phytoscreen", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	a.model = widget.NewRadioGroup(nil, nil)
	a.model.Horizontal = true
	a.model.Required = true
	// The model's cost on this machine goes under the heading, at its width: beside the
	// model buttons it had what the toolbar left, "22.5 ms/c…" at 1440 px (helper-56).
	a.modelNote = newFitText(theme.CaptionTextSize(), false, fyne.TextAlignLeading)
	a.modelNote.SetColor(theme.Color(theme.ColorNameForeground))
	// Its whole width when the toolbar has it: under a short pack's heading "41.0 ms,
	// 451 mJ est. per cell here" had the heading's width alone (helper-98).
	a.modelNote.wholeUpTo = 240
	heading := canvas.NewText(a.modelHeading(), theme.Color(theme.ColorNameForeground))
	heading.TextStyle.Bold = true
	a.modelHead = heading
	openFolder := widget.NewButtonWithIcon("Open folder…", theme.FolderOpenIcon(), a.OpenFolder)
	export := widget.NewButtonWithIcon("Export…", theme.DocumentSaveIcon(), a.ExportDialog)
	settings := widget.NewButtonWithIcon("Settings", theme.SettingsIcon(), a.ShowSettings)
	// The note shortens itself rather than widen the window (fitText).
	headed := container.NewCenter(container.New(layout.NewCustomPaddedVBoxLayout(0), heading, a.modelNote))
	toolbar := container.NewBorder(nil, nil,
		container.NewHBox(icon, brand, widget.NewSeparator(), openFolder, widget.NewSeparator(), headed, a.model),
		container.NewHBox(fixedWidth(a.runState, "Starting…", "Stopping…", "Running", "Paused", "Idle"), export, settings))

	// Live tab: the view and the cost strip on the left, the sample and counts on the right.
	liveHeader := container.NewBorder(nil, nil, widget.NewIcon(theme.MediaVideoIcon()), nil, a.liveStatus)
	left := container.NewBorder(liveHeader, card("Power and performance", a.perf), nil, nil, a.live)
	right := container.NewBorder(card("Sample", a.sample), nil, nil, nil, card("Counts", a.counts))
	split := container.NewHSplit(left, right)
	// The frame is height-bound (4:3 under the performance panel): the counts pane
	// takes the width it leaves, for whole taxon names (helper-54).
	split.Offset = 0.52

	a.gallery = newGallery(a.e, a.runningSample)
	a.history = newHistory(a.e, a.exportTo, func(id string) {
		a.tabs.SelectIndex(1)
		a.gallery.ShowSample(id)
	}, func(id string) {
		a.tabs.SelectIndex(0) // the run is followed live
		a.ContinueRun(id)
	})
	a.history.saveText = a.saveTextAs
	a.tabs = container.NewAppTabs(
		container.NewTabItemWithIcon("Live", theme.MediaVideoIcon(), split),
		container.NewTabItemWithIcon("Gallery and review", theme.GridIcon(), a.gallery.content),
		container.NewTabItemWithIcon("History", theme.HistoryIcon(), a.history.content),
	)
	a.tabs.OnSelected = func(t *container.TabItem) {
		switch t.Content {
		case a.gallery.content:
			if id := a.history.GiveGallery(); id != "" {
				a.gallery.Follow(id)
			}
			a.gallery.Reload()
		case a.history.content:
			a.history.Reload()
		}
	}
	statusBar := container.NewBorder(nil, nil, nil, a.progressBox, a.status)
	top := container.NewVBox(container.NewPadded(toolbar), a.banner)
	root := container.NewBorder(top, container.NewPadded(statusBar), nil, nil, a.tabs)
	// The note's width and its showing change the toolbar's size: the window lays out
	// again (a pack loaded or a model measured, not often).
	a.modelNote.relayout = root.Refresh
	return root
}

// card frames a panel with a bold title. The title is text with a thin margin, not a
// label's padded line: the three cards' titles took 110 px of a window that must fit a
// 1366x768 laptop under its panel and title bar (helper-69).
func card(title string, content fyne.CanvasObject) fyne.CanvasObject {
	text := canvas.NewText(title, theme.Color(theme.ColorNameForeground))
	text.TextStyle.Bold = true
	t := container.New(layout.NewCustomPaddedLayout(4, 2, 8, 8), text)
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameHeaderBackground))
	bg.CornerRadius = 6
	return container.NewStack(bg, container.NewBorder(t, nil, nil, nil, content))
}

// menu is the window's menu bar, listing every action with its shortcut.
func (a *mainWindow) menu() *fyne.MainMenu {
	return fyne.NewMainMenu(
		fyne.NewMenu("File",
			&fyne.MenuItem{Label: "Open folder…", Action: a.OpenFolder, Shortcut: shortcutOpen},
			&fyne.MenuItem{Label: "Open video…", Action: a.OpenVideo},
			&fyne.MenuItem{Label: "Export…", Action: a.ExportDialog, Shortcut: shortcutExport},
			fyne.NewMenuItemSeparator(),
			&fyne.MenuItem{Label: "Settings…", Action: a.ShowSettings, Shortcut: shortcutSettings},
			fyne.NewMenuItemSeparator(),
			// Fyne's own Quit item (added when a menu has none) had no shortcut: Ctrl+Q
			// did nothing (helper-52). This one closes as the window's close button
			// does: the run stopped and its counts stored, the settings saved.
			&fyne.MenuItem{Label: "Quit", Action: a.Quit, Shortcut: shortcutQuit, IsQuit: true},
		),
		fyne.NewMenu("Run",
			&fyne.MenuItem{Label: "Start / pause", Action: a.StartOrPause, Shortcut: shortcutStartPause},
			&fyne.MenuItem{Label: "Stop", Action: a.Stop, Shortcut: shortcutStop},
		),
		fyne.NewMenu("Help",
			&fyne.MenuItem{Label: "How to screen a sample", Action: a.ShowHelp},
			&fyne.MenuItem{Label: "About phytoscreen", Action: a.ShowAbout},
		),
	)
}

// helpText is the Help dialog: the day's work in a few steps.
const helpText = `1. Describe the sample on the right: its ID (a new one is proposed), site, the volume you will examine (1 mL for a full Sedgewick-Rafter chamber) and the dilution factor. Details… holds the time, position, depth, analyst and notes.
2. Choose the source: the camera, a video, or File › Open folder… for saved images (whole frames, or single-cell images).
3. Start (Ctrl+Space). The counts, concentrations with their 95% intervals and the alert banner follow live; Pause and Stop keep what was counted. A run stopped before its source's end is stored as partial, on the volume its frames cover.
4. Gallery and review: check the crops, and label the unidentified ones (type a name; arrows move, Enter accepts the model, Ctrl+Z undoes). Labels carry your name.
5. History: every sample, its alerts and trend at its site; export CSV or EcoTaxa, or the PDF report for the farm manager.
Settings › Model compares the base and optimised models on this machine: speed, watts and joules per cell.`

// ShowHelp shows how to screen a sample.
func (a *mainWindow) ShowHelp() {
	l := widget.NewLabel(helpText)
	l.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustom("How to screen a sample", "Close", container.NewGridWrap(fyne.NewSize(620, 330), l), a.win)
	d.Show()
}

// ShowAbout names the version, the pack in use and where the data is kept.
func (a *mainWindow) ShowAbout() {
	lines := []string{"phytoscreen " + app.Version + ": harmful algal bloom screening at the bench microscope."}
	if p := a.svc.Pack; p != nil {
		lines = append(lines, fmt.Sprintf("Classifier pack: %s (%d taxa); see its card in Settings › Model.", p.Name, len(p.Labels)))
	}
	if a.svc.Store != nil {
		lines = append(lines, "Session store: "+a.svc.Store.Path())
	}
	lines = append(lines, "ONNX Runtime "+inference.LoadedRuntimeVersion()+", OpenCV through GoCV, Fyne. Screening results: confirm any alert by an accredited count before regulatory action.")
	l := widget.NewLabel(strings.Join(lines, "\n\n"))
	l.Wrapping = fyne.TextWrapWord
	dialog.NewCustom("About phytoscreen", "Close", container.NewGridWrap(fyne.NewSize(560, 220), l), a.win).Show()
}

// closeTopDialog hides the dialog or pop-up in front (Esc).
func (a *mainWindow) closeTopDialog() bool {
	top := a.win.Canvas().Overlays().Top()
	if top == nil {
		return false
	}
	top.Hide()
	a.win.Canvas().Overlays().Remove(top)
	return true
}

// pressDialogDefault presses the main button (the one of high importance) of the dialog
// on top, as Enter does in a desktop dialog: Export and Screen a folder took the mouse
// (helper-67). False when no dialog is open or it has no such button enabled.
func (a *mainWindow) pressDialogDefault() bool {
	top := a.win.Canvas().Overlays().Top()
	if top == nil {
		return false
	}
	var main *widget.Button
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if main != nil || o == nil || !o.Visible() {
			return
		}
		switch v := o.(type) {
		case *widget.Button:
			if v.Importance == widget.HighImportance && !v.Disabled() && v.OnTapped != nil {
				main = v
			}
			return
		case *widget.PopUp: // a dialog's overlay
			walk(v.Content)
		case *fyne.Container:
			for _, c := range v.Objects {
				walk(c)
			}
		}
	}
	walk(top)
	if main == nil {
		return false
	}
	main.OnTapped()
	return true
}

// Keyboard shortcuts.
var (
	shortcutStartPause = &desktop.CustomShortcut{KeyName: fyne.KeySpace, Modifier: fyne.KeyModifierShortcutDefault}
	shortcutStop       = &desktop.CustomShortcut{KeyName: fyne.KeyPeriod, Modifier: fyne.KeyModifierShortcutDefault}
	shortcutOpen       = &desktop.CustomShortcut{KeyName: fyne.KeyO, Modifier: fyne.KeyModifierShortcutDefault}
	shortcutExport     = &desktop.CustomShortcut{KeyName: fyne.KeyE, Modifier: fyne.KeyModifierShortcutDefault}
	shortcutSettings   = &desktop.CustomShortcut{KeyName: fyne.KeyComma, Modifier: fyne.KeyModifierShortcutDefault}
	shortcutQuit       = &desktop.CustomShortcut{KeyName: fyne.KeyQ, Modifier: fyne.KeyModifierShortcutDefault}
)

func (a *mainWindow) addShortcuts() {
	c := a.win.Canvas()
	c.AddShortcut(shortcutStartPause, func(fyne.Shortcut) { a.StartOrPause() })
	c.AddShortcut(shortcutStop, func(fyne.Shortcut) { a.Stop() })
	c.AddShortcut(shortcutOpen, func(fyne.Shortcut) { a.OpenFolder() })
	c.AddShortcut(shortcutExport, func(fyne.Shortcut) { a.ExportDialog() })
	c.AddShortcut(shortcutSettings, func(fyne.Shortcut) { a.ShowSettings() })
	c.AddShortcut(shortcutQuit, func(fyne.Shortcut) { a.Quit() })
	c.AddShortcut(shortcutUndo, a.galleryKeys)
	// Review by keyboard on the gallery (keys no focused field took): arrows move,
	// Enter accepts the model's label.
	c.SetOnTypedKey(func(ev *fyne.KeyEvent) { a.reviewKey(ev.Name) })
}

// ask asks a yes/no question: through confirm in the tests, else a dialog.
func (a *mainWindow) ask(title, msg, yes, no string, answer func(bool)) {
	if a.confirm != nil {
		a.confirm(title, msg, yes, no, answer)
		return
	}
	dialog.NewCustomConfirm(title, yes, no, messageBox(msg), answer, a.win).Show()
}

// shortcutUndo undoes the last label set in the gallery: Ctrl+Z, which Fyne's desktop
// driver hands over as its own ShortcutUndo (a custom Ctrl+Z shortcut never fired:
// helper-65).
var shortcutUndo = &fyne.ShortcutUndo{}

// galleryKeys handles the gallery's shortcuts (Ctrl+Z: undo the last label).
func (a *mainWindow) galleryKeys(s fyne.Shortcut) {
	if a.galleryShown() && s.ShortcutName() == shortcutUndo.ShortcutName() {
		a.gallery.Undo()
	}
}

// historyShown reports whether the History tab is in front.
func (a *mainWindow) historyShown() bool {
	return a.tabs != nil && a.tabs.Selected() != nil && a.tabs.Selected().Content == a.history.content
}

// galleryShown reports whether the gallery tab is in front.
func (a *mainWindow) galleryShown() bool {
	return a.tabs != nil && a.tabs.Selected() != nil && a.tabs.Selected().Content == a.gallery.content
}

// reviewKey handles a key typed on the gallery: → and ↓ the next crop, ← and ↑ the
// previous, Enter or Return "the model is right".
func (a *mainWindow) reviewKey(k fyne.KeyName) {
	if k == fyne.KeyEscape && a.closeTopDialog() {
		return
	}
	if a.win.Canvas().Overlays().Top() != nil {
		// The keys are the dialog's, not the Gallery's behind it: each Enter on "Who is
		// reviewing?" accepted a crop again and stacked another copy (helper-71). Enter
		// presses the dialog's main button, or closes a message.
		if k == fyne.KeyReturn || k == fyne.KeyEnter {
			if !a.pressDialogDefault() {
				a.closeTopDialog()
			}
		}
		return
	}
	if a.galleryShown() {
		a.gallery.reviewKey(k)
	}
}

// setStatus shows a message in the status bar and logs it.
func (a *mainWindow) setStatus(msg string) {
	a.status.SetText(msg)
	a.log.Info(msg)
}

// showError shows err in a dialog titled title, and in the status bar. Errors from the
// rest of phytoscreen name the file and the fix; the dialog shows them whole.
func (a *mainWindow) showError(title string, err error) {
	a.lastError = err
	a.log.Error(title, "err", err)
	sep := ": "
	if strings.HasSuffix(title, "?") || strings.HasSuffix(title, ".") {
		sep = " " // "Who is reviewing? Type…", not "?: type" (helper-71)
	}
	a.status.SetText(title + sep + firstLine(err.Error()))
	d := dialog.NewCustom(title, "Close", errorBox(err.Error()), a.win)
	d.Show()
}

// errorBox holds an error's text in a dialog: 520 px wide and as tall as the text wraps
// to, up to 320 px, scrolled beyond. Three lines' height was given whatever the text,
// and a longer one ran under the Close button (helper-86).
func errorBox(text string) fyne.CanvasObject {
	msg := widget.NewLabel(text)
	msg.Wrapping = fyne.TextWrapWord
	const width = 520
	msg.Resize(fyne.NewSize(width, msg.MinSize().Height))
	height := min(max(msg.MinSize().Height, 60), 320)
	scroll := container.NewVScroll(msg)
	scroll.SetMinSize(fyne.NewSize(width, height))
	return scroll
}

// showMessage shows what a person must read that is not an error (the files a run
// skipped), in a dialog that scrolls, and logs it.
func (a *mainWindow) showMessage(title, text string) {
	a.lastMessage = title + "\n" + text
	a.log.Warn(title, "detail", text)
	dialog.NewCustom(title, "Close", messageBox(text), a.win).Show()
}

// messageBox holds a long message in a dialog: wrapped, and scrolled past its height.
func messageBox(text string) fyne.CanvasObject {
	msg := widget.NewLabel(text)
	msg.Wrapping = fyne.TextWrapWord
	scroll := container.NewVScroll(msg)
	scroll.SetMinSize(fyne.NewSize(620, 260))
	return scroll
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// fillDemoSample describes the demo's sample in the panel: a quarter of a
// Sedgewick-Rafter chamber examined (250 of its 1,000 squares, 0.25 mL). The demo's
// Noctiluca cells then pass the default preset's alert level (10,000 cells/L), so the
// first launch shows an alert, with the wide interval of so small a count.
// The demo is stored as a demo: its own ID prefix and site, never the technician's
// remembered site, so it never shows in a real site's trend.
func (a *mainWindow) fillDemoSample() {
	s := screening.NewSample(newSampleID(time.Now(), demoIDPrefix, a.sampleTaken))
	s.Site, s.VolumeML, s.Factor = demoSite, 0.25, 1
	a.sample.Fill(s, a.set.UmPerPx)
}

// The demo's sample: its ID prefix and its site.
const (
	demoIDPrefix = "DEMO-"
	demoSite     = "Demo slide (generated)"
)

// sampleTaken reports whether the store holds a sample id.
func (a *mainWindow) sampleTaken(id string) bool {
	if a.svc.Store == nil {
		return false
	}
	ok, err := a.svc.Store.HasSample(a.ctx, id)
	if err != nil {
		a.log.Warn("checking a sample ID", "id", id, "err", err)
	}
	return ok
}

// newSample proposes the next sample: a new ID, the remembered site, volume, factor and
// analyst.
func (a *mainWindow) newSample() screening.Sample {
	s := screening.NewSample(a.proposeID())
	s.Site, s.VolumeML, s.Factor, s.Analyst = a.set.Site, a.set.VolumeML, a.set.Factor, a.rememberedAnalyst()
	return s
}

// prefAnalyst keeps the analyst of the last sample screened (Details… › Analyst), the
// next sample's as the site is. It is not one of app.Settings: saveSettings writes those
// whole and never this key, so nothing writes it back to an old value.
const prefAnalyst = "sample.analyst"

// rememberedAnalyst is the analyst typed for the last sample screened, "" before any.
// Not the gallery's reviewer: new samples took the reviewer as their analyst, empty
// where $USER was unset, and a first-time user could not tell where the name came from
// nor why the one typed in Details… was gone after a restart (helper-98).
func (a *mainWindow) rememberedAnalyst() string {
	return a.fy.Preferences().String(prefAnalyst)
}

// rememberAnalyst keeps the analyst of a sample being screened for the next sample.
func (a *mainWindow) rememberAnalyst(name string) {
	a.fy.Preferences().SetString(prefAnalyst, strings.TrimSpace(name))
}

// proposeID is a new sample ID made from the time (newSampleID), kept as the one the app
// proposed: an ID left as proposed names no sample the technician chose (autoID).
func (a *mainWindow) proposeID() string {
	a.autoID = newSampleID(time.Now(), "S-", a.sampleTaken)
	return a.autoID
}

// emptyOldTrash removes for good the samples deleted over store.TrashKeep ago.
func (a *mainWindow) emptyOldTrash() {
	st := a.svc.Store
	if st == nil || st.ReadOnly() {
		return
	}
	a.e.spawn(func(ctx context.Context) {
		n, err := st.EmptyTrash(ctx, time.Now())
		switch {
		case err != nil:
			a.log.Warn("emptying the trash", "err", err)
		case n > 0:
			a.log.Info("emptied the trash", "samples", n, "deleted over", store.TrashKeep)
		}
	})
}

// refreshSites offers the sites screened before in the Site field (demo samples aside).
func (a *mainWindow) refreshSites() {
	st := a.svc.Store
	if st == nil {
		return
	}
	a.e.spawn(func(ctx context.Context) {
		sites, err := st.Sites(ctx)
		if err != nil {
			a.log.Warn("listing the sites", "err", err)
			return
		}
		sites = slices.DeleteFunc(sites, func(s string) bool { return s == demoSite })
		a.runOnUI(func() {
			a.sites = sites
			a.sample.Site.SetOptions(sites)
		})
	})
}

// saveSettings stores the settings in the preferences, with the model's variant (the
// model owns it).
func (a *mainWindow) saveSettings() {
	if a.svc.Model != nil {
		a.set.Model = a.svc.Model.Variant()
	}
	a.set.Save(a.fy.Preferences())
}

// reloadRules reads the alert rules of the settings. A rules file that cannot be read is
// shown with its error and the preset watches instead; only when that fails too does a
// run go on without rules (rather than not at all).
func (a *mainWindow) reloadRules() {
	r, err := app.LoadRules(a.set, a.svc.Taxonomy)
	if err != nil && a.set.RulesFile != "" {
		// A site's rules file that no longer reads: the preset watches meanwhile.
		preset := a.set
		preset.RulesFile = ""
		if pr, perr := app.LoadRules(preset, a.svc.Taxonomy); perr == nil {
			a.showError("Alert rules file not used", fmt.Errorf("%w\nUsing %s until it is fixed", err, pr.Name))
			r, err = pr, nil
		}
	}
	if err != nil {
		a.rules = alerts.Binding{Name: "none (the rules could not be read)"}
		a.showError("Alert rules not loaded", err)
	} else {
		a.rules = r
		for _, n := range r.Notices {
			if n.Kind == alerts.NoticeMissingTaxon {
				a.log.Warn("alert rule cannot fire fully with this pack", "notice", n.String())
			}
		}
	}
	if a.sess == nil {
		a.showUnderRules()
	}
}

// showUnderRules measures the last run's counts, still on the Live tab, against the
// rules now in use: the banner and the table's Alert column. After the preset changed
// the banner said NOT CHECKED under the new rules while the table kept the old ones'
// Alert and Watch (helper-56). Between runs only; with no run yet the banner says what is
// watched.
func (a *mainWindow) showUnderRules() {
	s := a.lastSnap
	if s.Sample.ID == "" || s.Examined.Frames == 0 {
		a.banner.NothingScreened(a.watching(a.rules), a.rules.CannotSee())
		return
	}
	if s.Pack != "" && a.svc.Taxonomy != nil && s.Pack != a.svc.Taxonomy.Pack {
		// Counted by the pack in use before: the rules now in use are bound to the new
		// pack's taxa and would read none of them. The sample is measured as History
		// measures a sample of another pack: under the rules in use bound to its own
		// pack when they cover it, else under the rules it was screened with (a banner of
		// what the new rules watch went green over the table's Watch: helper-65).
		r := a.lastRules
		if b, ok := rulesOnPack(a.rules, a.lastTaxonomy); ok {
			r = b
		}
		if a.liveReviewed == s.Sample.ID && a.svc.Store != nil {
			// As reviewed, measured again from the store under those rules: skipping
			// it left the banner drawn while the new pack loaded, "in use until the
			// pack chosen has loaded", for good (helper-75).
			a.showStored(s.Sample.ID, r, a.lastTaxonomy, fmt.Sprintf(", under %s on pack %s", r.Name, s.Pack))
			return
		}
		states := evaluateSnapshot(r, s)
		rows := slices.Clone(a.counts.Rows())
		levelRows(rows, states, a.lastTaxonomy)
		a.counts.SetRows(rows)
		if a.counts.Scope() != "" {
			// A continuation's rows are its own share; the banner is the whole sample's,
			// under those rules: with a pack chosen during the continuation it showed
			// the share alone (43.3 M cells/L where History read 46.1 M, helper-86).
			a.bannerWholeSample(s.Sample.ID, r)
			return
		}
		end, _ := endedContext(s.Examined)
		a.banner.Set(states, s.Pack, r.Watching(), fmt.Sprintf("sample %s%s, under %s on pack %s", s.Sample.ID, end, r.Name, s.Pack), r.CannotSee())
		return
	}
	if a.liveReviewed == s.Sample.ID && a.showReviewed(s.Sample.ID) {
		return // measured again from the store, under these rules
	}
	states := evaluateSnapshot(a.rules, s)
	rows := slices.Clone(a.counts.Rows())
	levelRows(rows, states, a.svc.Taxonomy)
	a.counts.SetRows(rows)
	if a.counts.Scope() != "" {
		// A continuation's rows are its own share; the banner is the whole sample's.
		a.bannerWholeSample(s.Sample.ID, a.rules)
		return
	}
	end, _ := endedContext(s.Examined)
	pack := s.Pack
	if pack == "" && a.svc.Taxonomy != nil {
		pack = a.svc.Taxonomy.Pack
	}
	a.banner.Set(states, pack, a.watching(a.rules), "sample "+s.Sample.ID+end+", under "+a.rules.Name, a.rules.CannotSee())
}

// watching is the banner's line when nothing is raised. When a new pack is chosen but
// not yet loaded, rules that cannot fire with the pack in use are the pack's doing, not
// the preset's: the line says when the pack chosen takes over rather than send the
// technician back to a preset for the old pack.
func (a *mainWindow) watching(r alerts.Binding) string {
	if len(r.Bound) == 0 && a.set.PackDir != a.startPackDir {
		chosen := packName(a.set.PackDir)
		if a.failedToLoad(a.set.PackDir) {
			return fmt.Sprintf("No rule of %s can fire with pack %s: the pack chosen in Settings (%s) could not be loaded.", r.Name, a.svc.Pack.Name, chosen)
		}
		return fmt.Sprintf("No rule of %s can fire with pack %s, in use %s: the pack chosen in Settings (%s) is loaded then.",
			r.Name, a.svc.Pack.Name, a.untilChosen(), chosen)
	}
	return r.Watching()
}

// Quit is what the user asks with Ctrl+Q, the menu or the window's close button: while a
// run goes it asks first, saying what is kept (Ctrl+Q quit mid-run without a word,
// helper-69); otherwise it closes (Close).
func (a *mainWindow) Quit() {
	sess := a.sess
	if sess == nil || a.closing {
		a.Close()
		return
	}
	msg := fmt.Sprintf("Sample %s is being screened. Quit now? Its counts so far are stored as a partial sample", sess.sample.ID)
	if sess.spec.Kind == capture.KindFolder {
		msg += "; History › Continue run takes the folder up where it stopped."
	} else {
		msg += "."
	}
	a.ask("Quit phytoscreen?", msg, "Quit", "Keep screening", func(quit bool) {
		if quit {
			a.Close()
		}
	})
}

// Close ends the app: it saves the window size, stops the run (its counts are stored),
// waits for the goroutines and closes the window.
func (a *mainWindow) Close() {
	if a.closing || a.stopped.Load() {
		return
	}
	a.closing = true
	a.keepWindowSize()
	a.saveSettings()
	sess := a.sess
	a.rememberStoppedAtQuit(sess)
	a.Stop()
	if a.settingsWin != nil {
		a.settingsWin.win.Close()
	}
	// Wait for the run to finish storing, without blocking the UI goroutine: the bridge
	// and the run call runOnUI, which needs it.
	go func() {
		if sess != nil {
			select {
			case <-sess.done:
			case <-time.After(10 * time.Second):
				a.log.Warn("the run did not stop within 10 s; closing anyway")
			}
		}
		a.cancel()
		a.wg.CloseAndWait()
		// The driver's Quit, not a.win.Close nor the app's Quit (which closes the windows):
		// on SIGINT or SIGTERM Fyne quits by itself too and ends the graphics library at
		// once, and a window closed after that panicked (helper-73: "GLFW library is not
		// initialized", the store left unclosed). The driver's second Quit does nothing;
		// closing the master window quits alike.
		a.runOnUI(a.fy.Driver().Quit)
	}()
}

// keepWindowSize keeps the window's size for the next launch.
func (a *mainWindow) keepWindowSize() {
	if sz := a.win.Canvas().Size(); sz.Width >= 640 && sz.Height >= 480 {
		a.set.WindowW, a.set.WindowH = sz.Width, sz.Height
	}
}

// markStopped notes that the driver has stopped: a Close asked after it (the terminal's
// Ctrl+C, queued as Fyne stopped by itself) runs off the UI goroutine, racing Shutdown,
// and must do nothing.
func (a *mainWindow) markStopped() { a.stopped.Store(true) }

// rememberStoppedAtQuit keeps the sample of the run going (sess, nil: none) as the app
// quits, to be offered at the next launch (noteStoppedAtQuit) as a run cut off is: after
// a quit mid-run the next launch said nothing of it (helper-86). Only a run of files
// can be taken up where it stopped.
func (a *mainWindow) rememberStoppedAtQuit(sess *session) {
	if sess != nil && sess.spec.Files() {
		a.fy.Preferences().SetString(app.PrefStoppedAtQuit, sess.sample.ID)
	}
}

// Shutdown stops everything and waits, for tests and for Run after the window closed.
// When the app's own driver stopped with no Close, it keeps what Close keeps
// (quitPrefs).
func (a *mainWindow) Shutdown() {
	// The driver stopped with no Close (SIGTERM, SIGINT): what Close keeps is written
	// here. After a Close, Fyne's own last write has it.
	dropped := a.ownPrefs && !a.closing
	cut := "" // the run going then
	if s := a.sess; dropped && s != nil && s.spec.Files() {
		cut = s.sample.ID // as rememberStoppedAtQuit keeps it
	}
	a.stopped.Store(true)
	a.closing = true
	if s := a.sess; s != nil && s.run != nil {
		s.run.Stop()
	}
	a.cancel()
	a.wg.CloseAndWait()
	if dropped {
		a.quitPrefs(cut)
	}
}

// quitPrefs writes to the preferences file the window's size, the settings and cut (the
// sample of a run stopped by the quit, "" for none) where the file does not hold them
// (flushPrefs), once Fyne has written it a last time. On SIGTERM or SIGINT Fyne stops
// by itself and drops the Close the terminal's signal had queued: the window's size was
// lost (six quits in eight after a resize), and the write Fyne makes as it stops is
// dropped at times too (helper-98). The values go to the file alone: set in Fyne's
// preferences now, Fyne would write them on a goroutine of its own, racing the exit
// (a write cut short left the file empty, the next launch on the default settings).
func (a *mainWindow) quitPrefs(cut string) {
	a.keepWindowSize()
	if a.svc.Model != nil {
		a.set.Model = a.svc.Model.Variant()
	}
	a.settlePrefs()
	a.flushPrefs(func(p app.Prefs) {
		a.set.Save(p)
		if cut != "" {
			p.SetString(app.PrefStoppedAtQuit, cut)
		}
	})
}

// prefsSettle is how long after a preference changed Fyne may still write the file: it
// writes again 100 ms after the first save of a burst of changes, on a goroutine of its
// own once the driver has stopped.
const prefsSettle = 300 * time.Millisecond

// flushPrefs writes the preferences to Fyne's file when the file does not hold them, as
// Fyne writes it (one JSON object), through a file beside it renamed over it: nothing
// reads it half written. Fyne writes it a last time as its driver stops, but drops that
// write, and the one it keeps for 100 ms after a burst of changes, when the stop races
// them: the window's size set by Close was lost (one quit in eight with SIGTERM), and a
// write cut short by the exit left the file empty (helper-98).
func (a *mainWindow) flushPrefs(apply func(app.Prefs)) {
	rv, ok := a.fy.Preferences().(interface{ ReadValues(func(map[string]any)) })
	if !ok || a.fy.Storage() == nil || a.fy.Storage().RootURI() == nil {
		return
	}
	path := filepath.Join(a.fy.Storage().RootURI().Path(), "preferences.json")
	var values app.MapPrefs
	rv.ReadValues(func(v map[string]any) { values = maps.Clone(v) })
	if values == nil {
		values = app.MapPrefs{}
	}
	apply(values)
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(map[string]any(values)); err != nil {
		a.log.Warn("preferences not written at quit", "file", path, "err", err)
		return
	}
	if old, rerr := os.ReadFile(path); rerr == nil && bytes.Equal(old, buf.Bytes()) {
		return
	}
	// Through a new file renamed over it, keeping its permissions: nothing reads it
	// half written.
	if err := outfile.Write(path, func(w io.Writer) error { _, err := w.Write(buf.Bytes()); return err }); err != nil {
		a.log.Warn("preferences not written at quit", "file", path, "err", err)
	}
}

// settlePrefs waits until Fyne has written the preferences a last time after the latest
// change (Fyne, with its driver stopped, writes on a goroutine of its own).
func (a *mainWindow) settlePrefs() {
	last := time.Unix(0, a.prefsChanged.Load())
	if wait := time.Until(last.Add(prefsSettle)); wait > 0 {
		time.Sleep(min(wait, prefsSettle))
	}
}

// packName names a pack setting: the built-in default when empty, else as chosen (a
// built-in pack's name or a folder).
func packName(setting string) string {
	if setting == "" {
		return assets.DefaultPackName
	}
	return setting
}

// fixedWidth holds a label at the width of the longest of the texts it will show, so
// that a change of text ("Running" to "Stopping…") neither moves the buttons beside it
// nor widens the window.
func fixedWidth(l *widget.Label, texts ...string) fyne.CanvasObject {
	probe := widget.NewLabelWithStyle("", l.Alignment, l.TextStyle)
	size := l.MinSize()
	for _, t := range texts {
		probe.SetText(t)
		size = size.Max(probe.MinSize())
	}
	return container.NewGridWrap(size, l)
}

// modelHeading names the loaded pack before the model choice: which taxa the counts can
// name is the pack's, and the main window never said which was in use (helper-47 went
// through Settings to find out).
func (a *mainWindow) modelHeading() string {
	if a.svc.Taxonomy == nil || a.svc.Taxonomy.Pack == "" {
		return "Model:"
	}
	return "Pack " + packTitle(a.svc.Taxonomy.Pack, a.startPackDir) + " · model:"
}
