package ui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/power"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
)

// App is the desktop app: the main window and everything it shows. Its fields are
// touched on the UI goroutine only; the goroutines it starts reach them through runOnUI.
type App struct {
	fy   fyne.App
	win  fyne.Window
	deps Deps
	set  Settings
	log  *slog.Logger

	// runOnUI runs f on the UI goroutine (fyne.Do); tests replace it with a queue they
	// drain on their own goroutine, which then plays the UI goroutine.
	runOnUI func(f func())
	// notify sends a desktop notification (the app's SendNotification).
	notify func(*fyne.Notification)

	ctx    context.Context // the app's lifetime
	cancel context.CancelFunc
	wg     sync.WaitGroup // goroutines started by the app

	// Widgets.
	live        *LiveView
	liveStatus  *widget.Label
	counts      *CountsTable
	banner      *AlertBanner
	perf        *PerfPanel
	sample      *SamplePanel
	model       *widget.RadioGroup
	modelNote   *widget.Label
	status      *widget.Label
	progress    *widget.ProgressBar
	progressBox *fyne.Container
	runState    *widget.Label
	tabs        *container.AppTabs
	gallery     *Gallery
	history     *HistoryView
	settingsWin *SettingsView

	// Sources offered in the sample panel: display text -> spec.
	sourceSpecs map[string]string
	sourceKinds map[string]SourceKind

	// State of the UI goroutine.
	sess      *session
	notifier  *Notifier
	rules     Rules
	lastSnap  screening.Snapshot
	lastError error
	closing   bool
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

// Title is the main window's title.
const Title = "phytoscreen"

// New builds the app on fy (a real app or test.NewApp()) with deps, reading the settings
// from fy's preferences. Call Window().ShowAndRun() to run it, Close to end it.
func New(fy fyne.App, deps Deps) (*App, error) { return newApp(fy, deps, hooks{}) }

// hooks replace how the app reaches the UI goroutine and the desktop (tests).
type hooks struct {
	runOnUI func(func())
	notify  func(*fyne.Notification)
}

func newApp(fy fyne.App, deps Deps, h hooks) (*App, error) {
	if err := deps.check(); err != nil {
		return nil, err
	}
	a := &App{fy: fy, deps: deps, log: slog.Default().With("component", "ui"), notify: fy.SendNotification}
	if h.notify != nil {
		a.notify = h.notify
	} else if runtime.GOOS == "linux" && os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		// Linux notifications go through the session D-Bus; without one (a virtual
		// display, a bare window manager) Fyne would log an error per notification.
		a.notify = func(n *fyne.Notification) {
			a.log.Info("alert notification (no session D-Bus to show it on the desktop)", "title", n.Title, "body", n.Content)
		}
	}
	a.runOnUI = fyne.Do
	if h.runOnUI != nil {
		a.runOnUI = h.runOnUI
	}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	a.set, a.settingsNotes = LoadSettingsChecked(fy.Preferences())
	a.perfState.hist = newPerfHistory()
	a.notifier = NewNotifier(func(n *fyne.Notification) { a.notify(n) })
	fy.Settings().SetTheme(newLabTheme())
	fy.SetIcon(AppIcon())

	a.win = fy.NewWindow(Title)
	a.win.SetIcon(AppIcon())
	a.win.SetContent(a.build())
	a.win.Resize(fyne.NewSize(a.set.WindowW, a.set.WindowH))
	a.win.SetMaster()
	a.win.SetCloseIntercept(a.Close)
	a.addShortcuts()
	a.win.SetMainMenu(a.menu())

	a.reloadRules()
	a.refreshSources()
	a.sample.Fill(a.newSample(), a.set.UmPerPx)
	a.applyModelUI()
	if len(a.settingsNotes) > 0 {
		// Damaged or stale preferences: the app opens on defaults and says which.
		for _, n := range a.settingsNotes {
			a.log.Warn("saved setting ignored", "setting", n)
		}
		a.saveSettings()
		a.showError("Some saved settings were ignored", fmt.Errorf("%s\nThe app uses the values named after each; change them in Settings", strings.Join(a.settingsNotes, "\n")))
	}
	if deps.SetupError != nil {
		a.showError("The classifier could not be loaded", deps.SetupError)
	}
	a.wg.Add(1)
	go a.idleLoop()
	return a, nil
}

// Window returns the main window.
func (a *App) Window() fyne.Window { return a.win }

// Settings returns the settings in use (UI goroutine).
func (a *App) Settings() Settings { return a.set }

// AppIcon is the application icon as a Fyne resource.
func AppIcon() fyne.Resource { return fyne.NewStaticResource("phytoscreen.png", assets.AppIcon()) }

// build lays out the main window: toolbar and alert banner on top; tabs for the live
// view, the gallery and history; a status bar at the bottom.
func (a *App) build() fyne.CanvasObject {
	a.live = NewLiveView("No source running", "Choose a source in the sample panel and press Start (Ctrl+Space), or open a folder (Ctrl+O).")
	a.liveStatus = widget.NewLabel("")
	a.liveStatus.Truncation = fyne.TextTruncateEllipsis
	a.counts = NewCountsTable(true)
	a.banner = NewAlertBanner()
	a.perf = NewPerfPanel()
	a.sample = NewSamplePanel(a.Start, a.TogglePause, a.Stop)
	a.sample.Source.OnChanged = a.onSourceChosen

	a.status = widget.NewLabel("Ready.")
	a.status.Truncation = fyne.TextTruncateEllipsis
	a.progress = widget.NewProgressBar()
	cancel := widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), a.Stop)
	a.progressBox = container.NewHBox(container.NewGridWrap(fyne.NewSize(260, a.progress.MinSize().Height), a.progress), cancel)
	a.progressBox.Hide()
	a.runState = widget.NewLabel("Idle")
	a.runState.TextStyle.Bold = true

	// Toolbar.
	icon := canvas.NewImageFromResource(AppIcon())
	icon.FillMode = canvas.ImageFillContain
	icon.SetMinSize(fyne.NewSize(30, 30))
	brand := widget.NewLabelWithStyle("phytoscreen", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	a.model = widget.NewRadioGroup(nil, nil)
	a.model.Horizontal = true
	a.model.Required = true
	a.modelNote = widget.NewLabel("")
	a.modelNote.SizeName = theme.SizeNameCaptionText
	openFolder := widget.NewButtonWithIcon("Open folder…", theme.FolderOpenIcon(), a.OpenFolder)
	export := widget.NewButtonWithIcon("Export…", theme.DocumentSaveIcon(), a.ExportDialog)
	settings := widget.NewButtonWithIcon("Settings", theme.SettingsIcon(), a.ShowSettings)
	a.modelNote.Truncation = fyne.TextTruncateEllipsis // never widens the window
	toolbar := container.NewBorder(nil, nil,
		container.NewHBox(icon, brand, widget.NewSeparator(), openFolder, widget.NewSeparator(),
			widget.NewLabelWithStyle("Model:", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), a.model),
		container.NewHBox(a.runState, export, settings),
		a.modelNote)

	// Live tab: the view and the cost strip on the left, the sample and counts on the right.
	liveHeader := container.NewBorder(nil, nil, widget.NewIcon(theme.MediaVideoIcon()), nil, a.liveStatus)
	left := container.NewBorder(liveHeader, card("Power and performance", a.perf), nil, nil, a.live)
	right := container.NewBorder(card("Sample", a.sample), nil, nil, nil, card("Counts", a.counts))
	split := container.NewHSplit(left, right)
	split.Offset = 0.58

	a.gallery = newGallery(a)
	a.history = newHistory(a)
	a.tabs = container.NewAppTabs(
		container.NewTabItemWithIcon("Live", theme.MediaVideoIcon(), split),
		container.NewTabItemWithIcon("Gallery and review", theme.GridIcon(), a.gallery.content),
		container.NewTabItemWithIcon("History", theme.HistoryIcon(), a.history.content),
	)
	a.tabs.OnSelected = func(t *container.TabItem) {
		switch t.Content {
		case a.gallery.content:
			a.gallery.Reload()
		case a.history.content:
			a.history.Reload()
		}
	}
	statusBar := container.NewBorder(nil, nil, nil, a.progressBox, a.status)
	top := container.NewVBox(container.NewPadded(toolbar), a.banner)
	return container.NewBorder(top, container.NewPadded(statusBar), nil, nil, a.tabs)
}

// card frames a panel with a bold title.
func card(title string, content fyne.CanvasObject) fyne.CanvasObject {
	t := widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameHeaderBackground))
	bg.CornerRadius = 6
	return container.NewStack(bg, container.NewBorder(t, nil, nil, nil, content))
}

// menu is the window's menu bar, listing every action with its shortcut.
func (a *App) menu() *fyne.MainMenu {
	return fyne.NewMainMenu(
		fyne.NewMenu("File",
			&fyne.MenuItem{Label: "Open folder…", Action: a.OpenFolder, Shortcut: shortcutOpen},
			&fyne.MenuItem{Label: "Open video…", Action: a.OpenVideo},
			&fyne.MenuItem{Label: "Export…", Action: a.ExportDialog, Shortcut: shortcutExport},
			fyne.NewMenuItemSeparator(),
			&fyne.MenuItem{Label: "Settings…", Action: a.ShowSettings, Shortcut: shortcutSettings},
		),
		fyne.NewMenu("Run",
			&fyne.MenuItem{Label: "Start / pause", Action: a.StartOrPause, Shortcut: shortcutStartPause},
			&fyne.MenuItem{Label: "Stop", Action: a.Stop, Shortcut: shortcutStop},
		),
	)
}

// Keyboard shortcuts.
var (
	shortcutStartPause = &desktop.CustomShortcut{KeyName: fyne.KeySpace, Modifier: fyne.KeyModifierShortcutDefault}
	shortcutStop       = &desktop.CustomShortcut{KeyName: fyne.KeyPeriod, Modifier: fyne.KeyModifierShortcutDefault}
	shortcutOpen       = &desktop.CustomShortcut{KeyName: fyne.KeyO, Modifier: fyne.KeyModifierShortcutDefault}
	shortcutExport     = &desktop.CustomShortcut{KeyName: fyne.KeyE, Modifier: fyne.KeyModifierShortcutDefault}
	shortcutSettings   = &desktop.CustomShortcut{KeyName: fyne.KeyComma, Modifier: fyne.KeyModifierShortcutDefault}
)

func (a *App) addShortcuts() {
	c := a.win.Canvas()
	c.AddShortcut(shortcutStartPause, func(fyne.Shortcut) { a.StartOrPause() })
	c.AddShortcut(shortcutStop, func(fyne.Shortcut) { a.Stop() })
	c.AddShortcut(shortcutOpen, func(fyne.Shortcut) { a.OpenFolder() })
	c.AddShortcut(shortcutExport, func(fyne.Shortcut) { a.ExportDialog() })
	c.AddShortcut(shortcutSettings, func(fyne.Shortcut) { a.ShowSettings() })
}

// setStatus shows a message in the status bar and logs it.
func (a *App) setStatus(msg string) {
	a.status.SetText(msg)
	a.log.Info(msg)
}

// showError shows err in a dialog titled title, and in the status bar. Errors from the
// rest of phytoscreen name the file and the fix; the dialog shows them whole.
func (a *App) showError(title string, err error) {
	a.lastError = err
	a.log.Error(title, "err", err)
	a.status.SetText(title + ": " + firstLine(err.Error()))
	msg := widget.NewLabel(err.Error())
	msg.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustom(title, "Close", container.NewGridWrap(fyne.NewSize(520, msg.MinSize().Height*3), msg), a.win)
	d.Show()
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
func (a *App) fillDemoSample() {
	s := screening.NewSample("DEMO-" + time.Now().Format("20060102-1504"))
	s.Site, s.VolumeML, s.Factor = "Demo slide (generated)", 0.25, 1
	a.sample.Fill(s, a.set.UmPerPx)
}

// newSample proposes the next sample: a new ID, the remembered site, volume and factor.
func (a *App) newSample() screening.Sample {
	s := screening.NewSample(newSampleID(time.Now()))
	s.Site, s.VolumeML, s.Factor = a.set.Site, a.set.VolumeML, a.set.Factor
	return s
}

// saveSettings stores the settings in the preferences.
func (a *App) saveSettings() { a.set.Save(a.fy.Preferences()) }

// reloadRules reads the alert rules of the settings. A rules file that cannot be read is
// shown with its error and the preset watches instead; only when that fails too does a
// run go on without rules (rather than not at all).
func (a *App) reloadRules() {
	r, err := LoadRules(a.set, a.deps.Taxonomy)
	if err != nil && a.set.RulesFile != "" {
		// A site's rules file that no longer reads: the preset watches meanwhile.
		preset := a.set
		preset.RulesFile = ""
		if pr, perr := LoadRules(preset, a.deps.Taxonomy); perr == nil {
			a.showError("Alert rules file not used", fmt.Errorf("%w\nUsing %s until it is fixed", err, pr.Name))
			r, err = pr, nil
		}
	}
	if err != nil {
		a.rules = Rules{Name: "none (the rules could not be read)"}
		a.showError("Alert rules not loaded", err)
	} else {
		a.rules = r
		for _, n := range r.Notices {
			if n.Kind == "missing-taxon" {
				a.log.Warn("alert rule cannot fire fully with this pack", "notice", n.String())
			}
		}
	}
	if a.sess == nil {
		a.banner.Set(nil, a.rules.Watching(), "")
	}
}

// Source choices.
const (
	choiceDemo   = "Demo video (bundled)"
	choiceVideo  = "Video file…"
	choiceFolder = "Folder of images…"
)

// refreshSources fills the source list: the demo, the cameras present, the last video
// or folder, and the two "open" choices. A camera, when one is present, is chosen over
// the demo; with none, the demo is.
func (a *App) refreshSources() {
	a.sourceSpecs = map[string]string{choiceDemo: SourceDemo}
	a.sourceKinds = map[string]SourceKind{choiceDemo: KindStream}
	var cams []string
	if a.deps.Cameras != nil {
		cams = a.deps.Cameras()
	}
	for _, c := range cams {
		a.addSourceChoice(c, KindStream)
	}
	selected := choiceDemo
	if len(cams) > 0 {
		selected = a.addSourceChoice(cams[0], KindStream)
	}
	if src := a.set.Source; src != "" && src != SourceDemo {
		if !strings.HasPrefix(src, "camera:") || slices.Contains(cams, src) {
			selected = a.addSourceChoice(src, kindOf(src))
		}
	}
	a.sample.Source.SetOptions(a.sourceOptions())
	a.sample.Source.SetSelected(selected)
}

// sourceOptions lists the choices: demo, cameras, files, then the two "open" entries.
func (a *App) sourceOptions() []string {
	opts := []string{choiceDemo}
	var rest []string
	for l, s := range a.sourceSpecs {
		if l == choiceDemo {
			continue
		}
		if strings.HasPrefix(s, "camera:") {
			opts = append(opts, l)
		} else {
			rest = append(rest, l)
		}
	}
	return append(append(opts, rest...), choiceVideo, choiceFolder)
}

// addSourceChoice adds a video or folder to the list and returns its label.
func (a *App) addSourceChoice(spec string, kind SourceKind) string {
	var label string
	switch kind {
	case KindFrames:
		label = "Frames: " + filepath.Base(spec)
	case KindCells:
		label = "Cell images: " + filepath.Base(specPath(spec))
	default:
		label = "Video: " + filepath.Base(spec)
	}
	if strings.HasPrefix(spec, "camera:") {
		label = "Camera " + strings.TrimPrefix(spec, "camera:")
	}
	a.sourceSpecs[label], a.sourceKinds[label] = spec, kind
	return label
}

// cellsPrefix marks the spec of a folder of single-cell images.
const cellsPrefix = "cells:"

// kindOf tells a spec's kind: "cells:" a folder of single-cell images, a folder of
// frames, else a camera or video.
func kindOf(spec string) SourceKind {
	if strings.HasPrefix(spec, cellsPrefix) {
		return KindCells
	}
	if fi, err := os.Stat(spec); err == nil && fi.IsDir() {
		return KindFrames
	}
	return KindStream
}

// specPath is the file or folder of a spec.
func specPath(spec string) string { return strings.TrimPrefix(spec, cellsPrefix) }

// onSourceChosen handles the source list: the "open" entries open a dialog.
func (a *App) onSourceChosen(choice string) {
	switch choice {
	case choiceVideo:
		a.OpenVideo()
	case choiceFolder:
		a.OpenFolder()
	}
}

// selectedSource returns the chosen source's spec and kind.
func (a *App) selectedSource() (string, SourceKind, bool) {
	c := a.sample.Source.Selected
	spec, ok := a.sourceSpecs[c]
	return spec, a.sourceKinds[c], ok
}

// StartOrPause starts a run when idle, else pauses or resumes it (Ctrl+Space).
func (a *App) StartOrPause() {
	if a.sess == nil {
		a.Start()
		return
	}
	a.TogglePause()
}

// Start screens the selected source with the sample described in the panel.
func (a *App) Start() {
	if a.sess != nil || a.closing {
		return
	}
	spec, kind, ok := a.selectedSource()
	if !ok {
		a.showError("Choose a source", errors.New("pick the demo, a camera, a video or a folder in the sample panel's Source list"))
		return
	}
	a.startSource(spec, kind)
}

// startSource starts a run on spec. Opening the source, the store run and the pipeline
// happen on a goroutine (a camera can take a second to open); the UI shows the run once
// it has started, or the error.
func (a *App) startSource(spec string, kind SourceKind) {
	if a.sess != nil || a.closing {
		return
	}
	if a.deps.Classifier == nil {
		err := a.deps.SetupError
		if err == nil {
			err = errors.New("no classifier")
		}
		a.showError("Cannot screen without the classifier", err)
		return
	}
	sample, um, err := a.sample.Sample()
	if err != nil {
		a.showError("Check the sample", err)
		return
	}
	set := a.set
	set.UmPerPx = um
	a.set.UmPerPx, a.set.Site, a.set.VolumeML, a.set.Factor, a.set.Source = um, sample.Site, sample.VolumeML, sample.Factor, spec
	a.saveSettings()
	rules := a.rules
	sess := &session{spec: spec, kind: kind, sample: sample, rules: rules, frames: NewFrameBuffer(0), done: make(chan struct{})}
	a.sess = sess
	a.notifier.Reset()
	a.sample.SetRunning(true, false)
	a.runState.SetText("Starting…")
	a.setStatus("Opening " + describeSpec(spec) + "…")
	a.live.SetHint("Opening "+describeSpec(spec)+"…", "")
	a.live.Clear()
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		err := a.launch(sess, set)
		if err != nil {
			close(sess.done)
			a.runOnUI(func() {
				if a.sess == sess {
					a.sess = nil
				}
				a.sample.SetRunning(false, false)
				a.runState.SetText("Idle")
				a.live.SetHint("Could not open "+describeSpec(spec), "See the message; then choose another source and press Start.")
				a.showError("Could not start screening", err)
			})
		}
	}()
}

// describeSpec names a source for people.
func describeSpec(spec string) string {
	switch {
	case spec == SourceDemo:
		return "the bundled demo video"
	case strings.HasPrefix(spec, "camera:"):
		return "camera " + strings.TrimPrefix(spec, "camera:")
	}
	return filepath.Base(specPath(spec))
}

// launch opens everything a run needs (not on the UI goroutine), then hands the run to
// the UI goroutine, which publishes it in the session and starts it: the session's
// fields are written on the UI goroutine only.
func (a *App) launch(sess *session, set Settings) (err error) {
	ctx, cancel := context.WithCancel(a.ctx)
	defer func() {
		if err != nil {
			cancel()
		}
	}()
	// The pipeline records a camera's gaps in the run; the source reports them from its
	// reading goroutine, and may report events while it opens, before the pipeline exists.
	var pipe atomic.Pointer[screening.Pipeline]
	onStatus := func(st capture.Status) {
		a.sourceStatus(st)
		if p := pipe.Load(); p != nil {
			p.SourceStatus(st)
		}
	}
	src, err := a.deps.OpenSource(ctx, sess.spec, sess.kind, set, onStatus)
	if err != nil {
		return err
	}
	newSeg := a.deps.NewSegmenter
	if newSeg == nil {
		newSeg = CaptureSegmenter
	}
	seg, closeSeg, err := newSeg(set, sess.kind)
	if err != nil {
		_ = src.Close()
		return err
	}
	psrc := newPausable(src)
	frames := sess.frames
	cfg := screening.Config{
		Source: psrc, Segmenter: seg, Classifier: a.deps.Classifier, Taxonomy: a.deps.Taxonomy,
		Sample: sess.sample, Threshold: set.Threshold, Rules: sess.rules.Bound, Hysteresis: sess.rules.Hysteresis,
		Logger: a.log,
		OnFrame: func(f capture.Frame, objs []capture.Object) {
			if err := frames.Put(f, objs); err != nil {
				a.log.Debug("live view skipped a frame", "err", err)
			}
			if m := a.deps.Meter; m != nil {
				m.ObserveFrame()
			}
		},
	}
	var rec *store.Run
	if a.deps.Store != nil {
		rec, err = a.deps.Store.StartRun(ctx, store.RunInfo{Sample: sess.sample, Spec: sess.spec, Model: a.deps.Classifier.Variant(),
			Threshold: set.Threshold, Rules: sess.rules.Name, Taxonomy: a.deps.Taxonomy})
		if err != nil {
			closeSeg()
			_ = src.Close()
			return fmt.Errorf("session store %s: %w", a.deps.Store.Path(), err)
		}
		cfg.Sink = rec
	}
	p, err := screening.New(cfg)
	if err != nil {
		closeSeg()
		_ = src.Close()
		if rec != nil {
			_ = rec.Finish(context.Background(), screening.Snapshot{}, err)
		}
		return err
	}
	pipe.Store(p)
	a.runOnUI(func() {
		total := 0 // a folder's file count drives the progress bar; a stream has none
		if n, ok := src.(interface{ Len() int }); ok && sess.kind != KindStream {
			total = n.Len()
		}
		sess.p, sess.src, sess.rec, sess.total, sess.cancel = p, psrc, rec, total, cancel
		a.startRun(ctx, sess, src, closeSeg)
	})
	return nil
}

// startRun starts a launched run and its bridge (UI goroutine). A Stop pressed while the
// run was opening stops it at once: it ends normally, with nothing counted.
func (a *App) startRun(ctx context.Context, sess *session, src capture.Source, closeSeg func()) {
	p := sess.p
	stopAtOnce := sess.stopRequested || a.closing
	if stopAtOnce {
		p.Stop() // before Run, so the pipeline reads nothing
	}
	spansDone := make(chan struct{})
	spansCtx, stopSpans := context.WithCancel(ctx)
	if m := a.deps.Meter; m != nil {
		m.Begin()
		// The run's power record in the store: the energy and cells of every second.
		go func() {
			defer close(spansDone)
			if sess.rec == nil {
				return
			}
			m.RecordSpans(spansCtx, time.Second, func(sp power.Span) {
				if err := sess.rec.Power(sp.Start, a.deps.Classifier.Variant(), int(sp.Cells), sp.Duration, sp.Watts, sp.Joules, sp.Source, sp.Estimated); err != nil {
					a.log.Warn("power record not stored", "err", err)
				}
			})
		}()
	} else {
		close(spansDone)
	}
	a.wg.Add(2)
	go func() {
		defer a.wg.Done()
		defer close(sess.done)
		final, runErr := p.Run(ctx)
		stopSpans()
		<-spansDone
		sess.cancel() // releases the run's context
		closeSeg()
		if cerr := src.Close(); cerr != nil {
			a.log.Warn("closing the source", "source", sess.spec, "err", cerr)
		}
		if m := a.deps.Meter; m != nil {
			m.End()
		}
		if sess.rec != nil {
			if ferr := sess.rec.Finish(context.Background(), final, runErr); ferr != nil {
				runErr = screening.JoinErrors(runErr, ferr)
			}
		}
		sess.mu.Lock()
		sess.final, sess.err, sess.ended = final, runErr, true
		sess.mu.Unlock()
	}()
	a.activeRuns.Add(1)
	go func() {
		defer a.wg.Done()
		defer a.activeRuns.Add(-1)
		a.bridge(sess)
	}()
	if stopAtOnce {
		return
	}
	a.runState.SetText("Running")
	a.setStatus(fmt.Sprintf("Screening %s: sample %s, model %s.", describeSpec(sess.spec), sess.sample.ID, a.deps.Classifier.Variant()))
	if sess.total > 0 {
		a.progress.Max = float64(sess.total)
		a.progress.SetValue(0)
		a.progressBox.Show()
	}
}

// sourceStatus shows a source's event (a skipped file, a camera lost and retried) in
// the status bar; the counts so far are kept whatever happens.
func (a *App) sourceStatus(st capture.Status) {
	capture.LogStatus(st)
	if st.Kind == capture.StatusFieldChanged {
		return // routine on a moving stage
	}
	msg := st.String()
	a.runOnUI(func() { a.status.SetText(msg) })
}

// TogglePause pauses or resumes the run.
func (a *App) TogglePause() {
	s := a.sess
	if s == nil || s.src == nil {
		return
	}
	paused := !s.src.Paused()
	s.src.SetPaused(paused)
	a.sample.SetRunning(true, paused)
	if paused {
		a.runState.SetText("Paused")
		a.setStatus("Paused: the counts so far are kept; press Resume (Ctrl+Space) to go on.")
	} else {
		a.runState.SetText("Running")
		a.setStatus("Resumed.")
	}
}

// Stop ends the run: reading stops, the cells already found are classified and counted,
// and the final counts are shown and stored.
func (a *App) Stop() {
	s := a.sess
	if s == nil {
		return
	}
	s.stopRequested = true // a run still opening stops as soon as it starts
	if s.src != nil {
		s.src.SetPaused(false)
	}
	if s.p != nil {
		s.p.Stop()
	}
	a.runState.SetText("Stopping…")
}

// runEnded shows a finished run (UI goroutine).
func (a *App) runEnded(sess *session) {
	final, err, _ := sess.result()
	if a.sess == sess {
		a.sess = nil
	}
	a.sample.SetRunning(false, false)
	a.progressBox.Hide()
	a.runState.SetText("Idle")
	msg := fmt.Sprintf("Sample %s: %s cells counted (%d unidentified) in %d frames", final.Sample.ID, fmtCount(final.Cells.Found),
		final.Cells.Unidentified, final.Frames.Segmented)
	if final.Frames.Dropped > 0 {
		msg += fmt.Sprintf(", %d frames dropped", final.Frames.Dropped)
	}
	if n := len(final.Gaps); n > 0 {
		var without time.Duration
		for _, g := range final.Gaps {
			without += g.Duration()
		}
		msg += fmt.Sprintf(", %d gap%s without frames (%s; the cells before are kept)", n, plural(n), without.Round(100*time.Millisecond))
	}
	if a.deps.Store != nil {
		msg += "; stored in " + a.deps.Store.Path()
	}
	a.setStatus(msg + ".")
	if err != nil {
		a.showError("The run ended with an error", err)
	}
	// The next sample gets a new ID; site, volume and factor stay.
	a.sample.ID.SetText(newSampleID(time.Now()))
	if a.onRunEnd != nil {
		a.onRunEnd(final, err)
	}
}

// SwitchModel switches the classifier to v, during a run too: the other model's session
// opens on a goroutine (the first time it takes a moment) and later batches use it.
func (a *App) SwitchModel(v inference.Variant) {
	if a.deps.Classifier == nil || a.switching {
		return
	}
	if a.deps.Classifier.Variant() == v {
		if a.set.Model != v {
			a.set.Model = v
			a.saveSettings()
		}
		return
	}
	a.switching = true
	a.modelNote.SetText("switching…")
	a.reconfigure(func(p *screening.Pipeline) error { return p.SetVariant(v) },
		func(c Classifier) error { return c.SetVariant(v) },
		func(err error) {
			a.switching = false
			if err != nil {
				a.applyModelUI()
				a.showError("Could not switch to the "+string(v)+" model", err)
				return
			}
			a.set.Model = v
			a.saveSettings()
			a.applyModelUI()
			a.setStatus("Model switched to " + modelTitle(a.deps.Pack, v) + "; cells from now on are classified with it.")
		})
}

// reconfigure changes the classifier on a goroutine, since opening or rebuilding a
// session takes a moment: through the running pipeline, which records the change, or
// directly between runs. done gets the outcome on the UI goroutine.
func (a *App) reconfigure(inRun func(*screening.Pipeline) error, idle func(Classifier) error, done func(error)) {
	var p *screening.Pipeline
	if a.sess != nil {
		p = a.sess.p
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		var err error
		if p != nil {
			err = inRun(p)
		} else {
			err = idle(a.deps.Classifier)
		}
		a.runOnUI(func() { done(err) })
	}()
}

// modelTitle names a variant for people: "Optimised (int8)", "Base (fp32)".
func modelTitle(p *inference.Pack, v inference.Variant) string {
	switch v {
	case inference.Base:
		return "Base (fp32)"
	case inference.Optimised:
		return "Optimised (int8)"
	}
	return string(v)
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
func (a *App) applyModelUI() {
	var opts []string
	for _, v := range a.deps.Pack.Variants() {
		opts = append(opts, modelChoice(a.deps.Pack, v))
	}
	a.model.OnChanged = nil
	a.model.Options = opts
	cur := a.set.Model
	if a.deps.Classifier != nil {
		cur = a.deps.Classifier.Variant()
	}
	a.model.Selected = modelChoice(a.deps.Pack, cur)
	a.model.Refresh()
	a.model.OnChanged = func(choice string) {
		for _, v := range a.deps.Pack.Variants() {
			if modelChoice(a.deps.Pack, v) == choice {
				a.SwitchModel(v)
			}
		}
	}
	note := ""
	if c, ok := LoadCost(a.fy.Preferences(), a.deps.Pack.Name, cur); ok && c.P50Ms > 0 {
		note = fmt.Sprintf("%s ms/cell here", fmtSig(c.P50Ms))
		if c.JPerCell > 0 {
			est := ""
			if c.Estimated {
				est = " est."
			}
			note += ", " + fmtJoules(c.JPerCell) + "/cell" + est
		}
	}
	a.modelNote.SetText(note)
	if a.settingsWin != nil {
		a.settingsWin.refreshModel()
	}
}

// SetThreshold changes the confidence threshold, during a run too (the counts are
// recounted under it).
func (a *App) SetThreshold(th float64) error {
	th = math.Round(th*1000) / 1000 // a slider's steps carry float noise (0.7000000000000001)
	if a.sess != nil && a.sess.p != nil {
		if err := a.sess.p.SetThreshold(th); err != nil {
			return err
		}
	}
	a.set.Threshold = th
	a.saveSettings()
	return nil
}

// SetThreads changes the ONNX Runtime thread count (0: one per CPU). The classifier
// rebuilds its sessions, which takes a moment, on a goroutine; a run goes on meanwhile.
func (a *App) SetThreads(n int) error {
	if n < 0 {
		return fmt.Errorf("threads %d: give 0 (automatic) or more", n)
	}
	a.set.Threads = n
	a.saveSettings()
	if a.deps.Classifier == nil {
		return nil
	}
	target := n
	if target == 0 {
		target = runtime.NumCPU()
	}
	a.reconfigure(func(p *screening.Pipeline) error { return p.SetThreads(target) },
		func(c Classifier) error { return c.SetThreads(target) },
		func(err error) {
			if err != nil {
				a.showError("Could not change the thread count", err)
				return
			}
			a.setStatus(fmt.Sprintf("The classifier now uses %d thread%s.", target, plural(target)))
		})
	return nil
}

// SetBatch changes how many cells go through the model at once.
func (a *App) SetBatch(n int) {
	if n < 1 {
		return
	}
	a.set.Batch = n
	a.saveSettings()
	if a.deps.Classifier != nil {
		a.deps.Classifier.SetBatch(n)
	}
}

// Close ends the app: it saves the window size, stops the run (its counts are stored),
// waits for the goroutines and closes the window.
func (a *App) Close() {
	if a.closing {
		return
	}
	a.closing = true
	if sz := a.win.Canvas().Size(); sz.Width >= 640 && sz.Height >= 480 {
		a.set.WindowW, a.set.WindowH = sz.Width, sz.Height
	}
	a.saveSettings()
	sess := a.sess
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
		a.wg.Wait()
		a.runOnUI(func() { a.win.Close() })
	}()
}

// Shutdown stops everything and waits, for tests and for Run after the window closed.
func (a *App) Shutdown() {
	a.closing = true
	if s := a.sess; s != nil && s.p != nil {
		s.p.Stop()
	}
	a.cancel()
	a.wg.Wait()
}
