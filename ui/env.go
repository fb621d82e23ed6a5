package ui

import (
	"context"
	"sync"

	"fyne.io/fyne/v2"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/internal/app"
)

// env is what a screen may use of the app: the UI goroutine, work on goroutines for the
// app's lifetime, the status bar and error dialogs, the services and the rules in use.
// Screens get it instead of the app.
type env struct {
	win   fyne.Window
	prefs fyne.Preferences
	svc   *app.Services
	// runOnUI runs f on the UI goroutine (fyne.Do); tests replace it with a queue they
	// drain on their own goroutine, which then plays the UI goroutine.
	runOnUI   func(f func())
	setStatus func(msg string)
	showError func(title string, err error)
	rules     func() alerts.Binding
	// usePack makes a pack folder the pack in use (kept in the settings): it says when it
	// takes over ("now", "when this run ends", "when phytoscreen starts again").
	usePack func(dir string) (when string)
	// setReviewer keeps the gallery's reviewer in the settings (the next launch's
	// reviewer, and the analyst new samples start with).
	setReviewer func(name string)
	// ask asks a yes/no question (a dialog; the tests answer it).
	ask func(title, msg, yes, no string, answer func(bool))
	// reviewed is called (UI goroutine) once a sample's labels changed in the store; it
	// reports whether the Live tab shows that sample (and now shows it reviewed).
	reviewed func(sampleID string) bool
	// lab is the link to the programme's lab server; nil: the app has none.
	lab LabServer

	ctx context.Context // the app's lifetime
	wg  *goroutines     // goroutines started by the app
}

// spawn runs f on a goroutine with the app's context; the app waits for it when it
// closes. Once it closes nothing more starts (f does not run).
func (e *env) spawn(f func(ctx context.Context)) {
	e.wg.Go(func() { f(e.ctx) })
}

// goroutines tracks the app's goroutines. Once closed none starts, so waiting for them
// never races with a late start (a UI callback spawning work while the app closes).
type goroutines struct {
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// Go runs f on a goroutine unless closed; it reports whether f was started.
func (g *goroutines) Go(f func()) bool {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return false
	}
	g.wg.Add(1)
	g.mu.Unlock()
	go func() {
		defer g.wg.Done()
		f()
	}()
	return true
}

// CloseAndWait lets nothing more start and waits for what runs.
func (g *goroutines) CloseAndWait() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.wg.Wait()
}
