package main

import (
	"context"
	"strings"
	"time"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/ui"
)

// gui opens the desktop app. It runs on the main goroutine, as the graphics driver
// requires: main calls Run, which calls this directly.
func (m *Main) gui(ctx context.Context, args []string) error {
	fs := newFlags("gui", "", m.Stderr)
	var o ui.Options
	fs.StringVar(&o.Build.ORTLib, "ort-lib", "", "`path` to libonnxruntime.so.1 (default: $PHYTOSCREEN_ORT_LIB, beside the executable, the project cache, system paths)")
	fs.StringVar(&o.Build.DB, "db", "", "session store `FILE` (default: $XDG_DATA_HOME/phytoscreen/sessions.db)")
	fs.StringVar(&o.Source, "source", "", "select this source at launch: demo, camera:0, a video file or a folder")
	fs.BoolVar(&o.Start, "start", false, "start screening the source at once")
	fs.StringVar(&o.Pack, "pack", "", "choose this classifier pack, kept for later launches as in Settings › Model pack: a built-in `name` ("+strings.Join(assets.BuiltinPacks(), ", ")+") or a pack folder")
	fs.StringVar(&o.Screenshots, "screenshots", "", "screen the demo, save screenshots of each screen into `DIR` and quit (for the documentation)")
	fs.DurationVar(&o.QuitAfter, "quit-after", 0, "close the window after this `duration` (tests)")
	fs.DurationVar(&o.Build.MeasureFor, "measure-for", 4*time.Second, "how long the settings' quick benchmark measures each model")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := flagsOnly(pos); err != nil {
		return err
	}
	// The lab server link: with no server configured in Settings it starts nothing and
	// the bench works as it always has.
	o.Lab = func(prefs app.Prefs, svc *app.Services) (ui.LabServer, func()) {
		l := app.NewLab(ctx, prefs, svc.Store)
		return l, l.Close
	}
	if err := ui.Run(ctx, o); err != nil {
		return setupError(err)
	}
	return nil
}
