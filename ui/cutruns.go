package ui

import (
	"context"

	"fyne.io/fyne/v2"

	"github.com/phytoscreen/phytoscreen/internal/app"
)

// noteCutRuns ends the runs a phytoscreen that was killed, crashed or lost its power
// left unended, and says what was kept: after a kill -9 mid-run the app reopened on
// "Ready." under a green banner and nothing said the last run was cut short
// (helper-41). It reports whether it found any (the demo then does not start over the
// message). Called from a goroutine at launch.
func (a *mainWindow) noteCutRuns(ctx context.Context) bool {
	st := a.svc.Store
	if st == nil {
		return false
	}
	cut, err := st.EndCutRuns(ctx)
	if err != nil {
		a.log.Warn("runs cut off could not all be ended", "err", err)
	}
	if len(cut) == 0 {
		return false
	}
	text := app.CutRunsText(ctx, st, cut)
	fyne.Do(func() {
		a.setStatus(firstLine(text))
		a.showMessage("The last run was cut short", text)
		a.history.Reload()
	})
	return true
}
