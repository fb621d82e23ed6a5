package ui

import (
	"context"
	"fmt"

	"fyne.io/fyne/v2/dialog"

	"github.com/phytoscreen/phytoscreen/internal/app"
)

// cutTitle heads the notice of runs cut short.
const cutTitle = "The last run was cut short"

// noteCutRuns ends the runs a phytoscreen that was killed, crashed or lost its power
// left unended, and says what was kept: after a kill -9 mid-run the app reopened on
// "Ready." under a green banner and nothing said the last run was cut short
// (helper-41). A folder's run that can be taken up is offered at once (Continue the
// run). It reports whether it found any (the demo then does not start over the
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
		return a.noteStoppedAtQuit(ctx)
	}
	// The last one a run can take up is offered; any other stays in History.
	offer := ""
	for _, c := range cut {
		if _, err := st.Continuable(ctx, c.Sample); err == nil {
			offer = c.Sample
		}
	}
	how := "" // the notice names only a button the dialog has
	if offer != "" {
		how = "press Continue the run below, or Continue run in History"
	}
	text := app.CutRunsText(ctx, st, cut, how)
	a.runOnUI(func() {
		a.setStatus(firstLine(text))
		a.history.Reload()
		if offer == "" {
			a.showMessage(cutTitle, text)
			return
		}
		a.askContinueCut(offer, text)
	})
	return true
}

// quitTitle heads the notice of a run stopped as the app quit.
const quitTitle = "The last run stopped when phytoscreen closed"

// noteStoppedAtQuit offers, once, to continue the run the app stopped as it quit
// (app.PrefStoppedAtQuit) while the sample can still be continued; it reports whether
// it offered.
func (a *mainWindow) noteStoppedAtQuit(ctx context.Context) bool {
	prefs := a.fy.Preferences()
	id := prefs.String(app.PrefStoppedAtQuit)
	if id == "" {
		return false
	}
	prefs.RemoveValue(app.PrefStoppedAtQuit)
	if _, err := a.svc.Store.Continuable(ctx, id); err != nil {
		return false // whole, continued since, or gone: nothing to offer
	}
	text := fmt.Sprintf("Sample %s was being screened when phytoscreen closed: its run stopped part way, and its counts are stored as a partial sample. Continue the run reads the rest of its folder into the same sample, each image once; or later, History › Continue run.", id)
	a.runOnUI(func() {
		a.setStatus(firstLine(text))
		a.askContinue(quitTitle, id, text)
	})
	return true
}

// askContinueCut shows the notice of runs cut short with the choice to take up sample
// id's run at once.
func (a *mainWindow) askContinueCut(id, text string) { a.askContinue(cutTitle, id, text) }

// askContinue shows a notice titled title with the choice to take up sample id's run at
// once.
func (a *mainWindow) askContinue(title, id, text string) {
	a.lastMessage = title + "\n" + text
	a.log.Warn(title, "detail", text)
	answer := func(yes bool) {
		if yes {
			a.ContinueRun(id)
		}
	}
	yes, no := "Continue the run", "Later"
	if a.confirm != nil {
		a.confirm(title, text, yes, no, answer)
		return
	}
	d := dialog.NewCustomConfirm(title, yes, no, messageBox(text), answer, a.win)
	d.Show()
}
