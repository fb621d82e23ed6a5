package ui

import (
	"context"
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// jobPanel is the controls of a long job in a dialog (making a twin, teaching a pack):
// Start and Cancel, the stage with the time so far, and a progress bar. It runs the job
// on the app's goroutines with a cancellable context and hands its end back on the UI
// goroutine.
type jobPanel struct {
	Start, Cancel *widget.Button
	stage         *widget.Label
	progress      *widget.ProgressBar
	cancel        context.CancelFunc // set while the job runs
}

func newJobPanel(label string, icon fyne.Resource, start func()) *jobPanel {
	j := &jobPanel{stage: widget.NewLabel(""), progress: widget.NewProgressBar()}
	j.stage.Wrapping = fyne.TextWrapWord // errors are long; they must not widen the dialog
	j.progress.Hide()
	j.Start = widget.NewButtonWithIcon(label, icon, start)
	j.Start.Importance = widget.HighImportance
	j.Cancel = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), j.stop)
	j.Cancel.Disable()
	return j
}

// stop cancels the running job, if any.
func (j *jobPanel) stop() {
	if j.cancel != nil {
		j.cancel()
	}
}

// run starts work; its progress shows as it comes, and finish gets its error and how
// long it took, on the UI goroutine.
func (j *jobPanel) run(e *env, work func(ctx context.Context, progress func(stage string, done, total int)) error, finish func(err error, took time.Duration)) {
	ctx, cancel := context.WithCancel(e.ctx)
	j.cancel = cancel
	j.Start.Disable()
	j.Cancel.Enable()
	j.progress.SetValue(0)
	j.progress.Show()
	started := time.Now()
	e.spawn(func(context.Context) {
		err := work(ctx, func(stage string, done, total int) {
			e.runOnUI(func() {
				j.stage.SetText(fmt.Sprintf("%s… (%s)", stage, time.Since(started).Round(time.Second)))
				if total > 0 {
					j.progress.SetValue(float64(done) / float64(total))
				}
			})
		})
		e.runOnUI(func() {
			cancel()
			j.cancel = nil
			j.Start.Enable()
			j.Cancel.Disable()
			j.progress.Hide()
			finish(err, time.Since(started).Round(time.Second))
		})
	})
}
