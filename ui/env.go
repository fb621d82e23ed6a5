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

	ctx context.Context // the app's lifetime
	wg  *sync.WaitGroup // goroutines started by the app
}

// spawn runs f on a goroutine with the app's context; the app waits for it when it
// closes.
func (e *env) spawn(f func(ctx context.Context)) {
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		f(e.ctx)
	}()
}
