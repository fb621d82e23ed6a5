package ui

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/internal/app"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	// Imported first so that its init gives Fyne a parsable locale before Fyne's own.
	_ "github.com/phytoscreen/phytoscreen/internal/uilocale"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
)

// Application metadata; FyneApp.toml says the same for 'fyne package' (a test checks).
const (
	appID      = "org.phytoscreen.app"
	appName    = "phytoscreen"
	appVersion = "0.1.0"
	appBuild   = 1
)

// metadata is the app's metadata, set in code so that a binary built with 'go build'
// (which does not read FyneApp.toml) has its ID, icon and the fyneDo migration.
func metadata() fyne.AppMetadata {
	return fyne.AppMetadata{ID: appID, Name: appName, Version: appVersion, Build: appBuild, Icon: appIcon(),
		Release: true, Migrations: map[string]bool{"fyneDo": true}}
}

// baselineFor is how long the idle power is measured at launch.
const baselineFor = 1500 * time.Millisecond

// Options configure Run.
type Options struct {
	// Build says where the services are (runtime library, session store, ...).
	Build app.BuildOptions
	// Source, when set, is selected at launch instead of the saved one; Start starts it.
	Source string
	Start  bool
	// Pack, when set, is chosen as in Settings › Model pack before the window opens (a
	// built-in pack's name or a pack folder) and kept for later launches.
	Pack string
	// Screenshots, when set, makes the app screen the demo, save main.png (once an alert
	// shows), gallery.png, history.png, settings.png, settings-camera.png into this folder, and quit: the
	// documentation's pictures and the real-window test.
	Screenshots string
	// QuitAfter quits the app after this long (0: never).
	QuitAfter time.Duration
	// Lab, when set, makes the link to the programme's lab server once the services are
	// built: prefs keep its settings (app.LoadLabSettings), and close, called after the
	// window has closed, stops its sync. nil: the app has no lab server (Settings has no
	// Lab server tab, History shows this bench only).
	Lab func(prefs app.Prefs, svc *app.Services) (lab LabServer, close func())
}

// keepUnreadablePrefs moves the preferences file at path aside when Fyne could not read
// it (app.KeepUnreadablePrefs) and says so in the log (the terminal the app was started
// from); the error is for the window to say at launch. Call it before anything sets a
// preference: Fyne, which started on defaults, saves at once over the file.
func keepUnreadablePrefs(path string) error {
	err := app.KeepUnreadablePrefs(path, time.Now())
	if err != nil {
		slog.Warn(err.Error())
	}
	return err
}

// prefsFileOf is the file Fyne keeps fy's preferences in: its storage root's
// preferences.json on a desktop.
func prefsFileOf(fy fyne.App) string {
	return filepath.Join(fy.Storage().RootURI().Path(), "preferences.json")
}

// Run opens the desktop app and returns when its window is closed. It must be called
// from the main goroutine (the graphics driver needs the main thread).
func Run(ctx context.Context, o Options) error {
	if runtime.GOOS == "linux" && os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return errors.New("no display: the desktop app needs an X11 or Wayland session ($DISPLAY is empty); run 'phytoscreen screen --source ...' to screen without a window, or 'xvfb-run phytoscreen' for a virtual display")
	}
	fyneapp.SetMetadata(metadata())
	fy := fyneapp.NewWithID(appID)
	prefsErr := keepUnreadablePrefs(prefsFileOf(fy)) // before anything sets a preference
	if o.Pack != "" {
		if _, err := app.LoadPack(o.Pack); err != nil {
			return fmt.Errorf("--pack: %w", err)
		}
		if o.Pack == assets.DefaultPackName {
			o.Pack = "" // the default is the empty setting
		}
		fy.Preferences().SetString(app.PrefPackDir, o.Pack)
	}
	svc, closeServices := app.Build(ctx, app.LoadSettings(fy.Preferences()), o.Build)
	defer closeServices()
	svc.PrefsUnreadable = prefsErr
	var lab LabServer
	if o.Lab != nil {
		var closeLab func()
		lab, closeLab = o.Lab(fy.Preferences(), svc)
		if closeLab != nil {
			defer closeLab() // before closeServices: the sync reads the store
		}
	}
	a, err := newApp(fy, svc, hooks{lab: lab})
	if err != nil {
		return err
	}
	if o.Pack != "" && svc.Taxonomy != nil {
		a.fitPresetToLaunchPack()
	}
	if o.Source != "" {
		spec, err := capture.ParseSpec(o.Source)
		if err == nil {
			spec, err = spec.Absolute()
		}
		if err != nil {
			return fmt.Errorf("--source: %w", err)
		}
		a.chooseSource(spec)
	}
	go func() { // Ctrl-C in the terminal closes the window like its close button
		<-ctx.Done()
		fyne.Do(a.Close)
	}()
	a.win.Show()
	go func() {
		// The machine's draw at rest, before any run, so the panel can show the energy
		// per cell above idle beside the total.
		if m := svc.Meter; m != nil {
			if err := m.MeasureBaseline(ctx, baselineFor); err != nil {
				slog.Warn("idle power baseline not measured", "err", err)
			}
		}
		cut := a.noteCutRuns(ctx)
		switch {
		case o.Screenshots != "":
			a.screenshotTour(o.Screenshots)
		case o.Start: // asked for by name: the notice of a cut run stays up beside it
			fyne.Do(a.Start)
		case cut: // the message first, not a demo over it
		default:
			fyne.Do(a.autoStart)
		}
	}()
	if o.QuitAfter > 0 {
		time.AfterFunc(o.QuitAfter, func() { fyne.Do(a.Close) })
	}
	fy.Run()
	a.Shutdown()
	return nil
}

// grabWindow takes a picture of the X window titled title with ImageMagick's import, as
// the screen shows it.
func grabWindow(title string) (image.Image, error) {
	imp, err := exec.LookPath("import")
	if err != nil {
		return nil, fmt.Errorf("ImageMagick's import is not installed")
	}
	tmp, err := os.CreateTemp("", "phytoscreen-shot-*.png")
	if err != nil {
		return nil, err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	if out, err := exec.Command(imp, "-window", title, tmp.Name()).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("import -window %q: %v: %s", title, err, strings.TrimSpace(string(out)))
	}
	f, err := os.Open(tmp.Name())
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return png.Decode(f)
}

// autoStart starts the demo at launch when no camera is found (and the setting allows
// it), so the first launch shows the whole app working.
func (a *mainWindow) autoStart() {
	if !a.set.DemoWhenNoCamera || a.svc.Model == nil {
		return
	}
	if a.svc.StoreReadOnly != nil || a.svc.StoreError != nil {
		// Nothing can be recorded: started, the demo was refused at once, and "Could
		// not start screening" covered the launch's notice of why (helper-87).
		return
	}
	if a.svc.Cameras != nil && len(a.svc.Cameras()) > 0 {
		return
	}
	if spec, ok := a.selectedSource(); ok && spec.Kind == capture.KindDemo {
		if real, err := holdsRealSamples(a.ctx, a.svc.Store); real || err != nil {
			// A programme's store: played into it, the demo became its newest sample,
			// with an ALERT in History and a row in every list (helper-91). It plays
			// at the first launch, on a store of no samples but the demo's.
			if err != nil {
				slog.Warn("the demo was not started: could not list the stored samples", "err", err)
			}
			a.setStatus("No camera found. The bundled demo was not started: this session store holds samples, and the demo would add a made-up one beside them. Choose a camera or open a folder (Ctrl+O); the demo is in the Source list.")
			return
		}
		if unknown, all := demoUnknownTo(a.svc.Taxonomy); unknown > 0 {
			// The demo is marine plankton: a pack that does not know its taxa names those
			// cells one of its own (the cyanobacteria pack called them Microcystis and
			// Anabaena: helper-50), which shows nothing working.
			knows := fmt.Sprintf("knows %d of the demo's %d taxa", all-unknown, all)
			if unknown == all {
				knows = fmt.Sprintf("knows none of the demo's %d taxa", all)
			}
			a.setStatus(fmt.Sprintf("No camera found. The bundled demo is marine plankton for the NDSB packs; pack %s %s, so it was not started: open a folder of your images (Ctrl+O) or choose a camera.",
				a.svc.Taxonomy.Pack, knows))
			return
		}
		a.setStatus("No camera found: playing the bundled demo video. Choose a camera or open a folder to screen your own sample.")
		a.Start()
	}
}

// holdsRealSamples reports whether st holds samples other than the demo's (outside the
// trash); false for no store.
func holdsRealSamples(ctx context.Context, st *store.Store) (bool, error) {
	if st == nil {
		return false, nil
	}
	ids, err := st.SampleIDs(ctx)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(ids, func(id string) bool { return !strings.HasPrefix(id, demoIDPrefix) }), nil
}

// demoUnknownTo counts the demo's taxa that the pack of tax does not know, of all.
func demoUnknownTo(tax *screening.Taxonomy) (unknown, all int) {
	labels := assets.DemoLabels()
	for _, l := range labels {
		if _, ok := tax.Lookup(l); !ok {
			unknown++
		}
	}
	return unknown, len(labels)
}

// screenshotTour screens the demo, saves the documentation's screenshots and quits. It
// runs on its own goroutine and reaches the UI through fyne.DoAndWait.
func (a *mainWindow) screenshotTour(dir string) {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "phytoscreen: screenshots:", err)
		fyne.Do(func() { a.lastError = err; a.Close() })
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fail(err)
		return
	}
	shot := func(w fyne.Window, name string) error {
		path := filepath.Join(dir, name)
		var title string
		fyne.DoAndWait(func() { title = w.Title() })
		img, err := grabWindow(title)
		if err != nil {
			// No ImageMagick: Fyne's own capture (it reads the GL front buffer, which
			// some virtual displays leave blank).
			fmt.Fprintf(os.Stderr, "phytoscreen: %v; using Fyne's capture\n", err)
			fyne.DoAndWait(func() { img = w.Canvas().Capture() })
		}
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := png.Encode(f, img); err != nil {
			f.Close()
			return err
		}
		fmt.Fprintf(os.Stderr, "phytoscreen: saved %s (%dx%d)\n", path, img.Bounds().Dx(), img.Bounds().Dy())
		return f.Close()
	}
	fyne.DoAndWait(func() { a.win.Resize(fyne.NewSize(1600, 1000)) })
	// Demo sample: named so in the store and the pictures.
	fyne.DoAndWait(func() {
		a.sample.Source.SetSelected(choiceDemo)
		a.fillDemoSample()
		a.Start()
	})
	// Wait for an alert with cells on screen (at most a minute), then for the demo to
	// play to its end (at most 30 s more): the last frame stays on screen with its labels.
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(250 * time.Millisecond)
		var lv alerts.Level
		var snap screening.Snapshot
		fyne.DoAndWait(func() { lv, snap = a.banner.Level(), a.lastSnap })
		if lv == alerts.Alert && len(snap.LastFrame.Objects) > 0 {
			break
		}
	}
	for i := 0; i < 120; i++ {
		var running bool
		fyne.DoAndWait(func() { running = a.sess != nil })
		if !running {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond) // let the last update and the sparklines draw
	if err := shot(a.win, "main.png"); err != nil {
		fail(err)
		return
	}
	fyne.DoAndWait(func() { a.Stop() })
	fyne.DoAndWait(func() { a.tabs.SelectIndex(1) })
	time.Sleep(2500 * time.Millisecond)
	fyne.DoAndWait(func() {
		// Show a taxon with crops rather than an empty review queue.
		if len(a.gallery.catItems) > 1 {
			a.gallery.cats.Select(1)
		}
	})
	time.Sleep(2000 * time.Millisecond)
	if err := shot(a.win, "gallery.png"); err != nil {
		fail(err)
		return
	}
	fyne.DoAndWait(func() { a.tabs.SelectIndex(2) })
	time.Sleep(3000 * time.Millisecond)
	if err := shot(a.win, "history.png"); err != nil {
		fail(err)
		return
	}
	fyne.DoAndWait(func() { a.tabs.SelectIndex(0); a.ShowSettings() })
	// Let the first measurement finish (it is what the settings compare), at most 90 s.
	for i := 0; i < 360; i++ {
		time.Sleep(250 * time.Millisecond)
		var busy bool
		fyne.DoAndWait(func() { busy = a.settingsWin != nil && a.settingsWin.measuring != nil })
		if !busy {
			break
		}
	}
	time.Sleep(1000 * time.Millisecond)
	var sw fyne.Window
	fyne.DoAndWait(func() {
		if a.settingsWin != nil {
			sw = a.settingsWin.win
		}
	})
	if sw != nil {
		if err := shot(sw, "settings.png"); err != nil {
			fail(err)
			return
		}
		// The camera and segmentation tab, with the learned detector chosen.
		fyne.DoAndWait(func() {
			a.settingsWin.Tabs.SelectIndex(1)
			a.settingsWin.Finder.SetSelected(finderWith + assets.DetectorName)
		})
		time.Sleep(500 * time.Millisecond)
		if err := shot(sw, "settings-camera.png"); err != nil {
			fail(err)
			return
		}
		fyne.DoAndWait(func() { a.settingsWin.Tabs.SelectIndex(0) })
		// The rule editor, on the Alerts tab.
		fyne.DoAndWait(func() {
			sw.Resize(fyne.NewSize(1100, 700))
			a.settingsWin.EditRules()
		})
		time.Sleep(1500 * time.Millisecond)
		if err := shot(sw, "rule-editor.png"); err != nil {
			fail(err)
			return
		}
		// The optimised twin made on this machine (a few minutes: the tour waits).
		var opt *optimiseDialog
		fyne.DoAndWait(func() {
			a.settingsWin.editorDlg.Hide()
			a.settingsWin.Tabs.SelectIndex(0)
			if a.svc.Optimise != nil {
				a.settingsWin.ShowOptimise()
				opt = a.settingsWin.optimise
				opt.Start.OnTapped()
			}
		})
		if opt != nil {
			for i := 0; i < 1200; i++ { // at most 5 minutes
				time.Sleep(250 * time.Millisecond)
				var busy bool
				fyne.DoAndWait(func() { busy = opt.cancel != nil })
				if !busy {
					break
				}
			}
			time.Sleep(500 * time.Millisecond)
			if err := shot(sw, "optimise.png"); err != nil {
				fail(err)
				return
			}
		}
		fyne.DoAndWait(func() { sw.Close() })
	}
	// The sample's details, on the main window.
	fyne.DoAndWait(func() { a.sample.More.OnTapped() })
	time.Sleep(1000 * time.Millisecond)
	if err := shot(a.win, "sample-details.png"); err != nil {
		fail(err)
		return
	}
	fyne.Do(a.Close)
}
