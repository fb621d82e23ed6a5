package ui

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2/dialog"
	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/imagefile"
	"github.com/phytoscreen/phytoscreen/inputfile"
	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/internal/sigfig"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
	"github.com/phytoscreen/phytoscreen/vision"
)

// session is a screening run as the window follows it: the run (a screening.Session,
// shared with the screen command), what it was started with, and the frames waiting for
// the live view.
type session struct {
	spec   capture.Spec
	sample screening.Sample
	rules  alerts.Binding
	frames *frameBuffer

	// run is set on the UI goroutine once it has opened (nil while it opens); the run's
	// goroutines are started after, so they read it without a lock.
	run *screening.Session
	// stopRequested is set (UI goroutine) by Stop, also while the run still opens.
	stopRequested bool
	// done is closed once the run has ended and been recorded, or failed to open.
	done chan struct{}
	// skipped lists the files the source skipped, with why (UI goroutine).
	skipped []string
	// duplicates counts the skipped files that were duplicates of frames read, notFrames
	// those that were not images at all (a notes file, metadata): neither is a frame
	// lost, so neither makes the concentrations rest on a share of the volume.
	duplicates, notFrames int
	// sizeChanges counts the frames of another size (UI goroutine): in a folder of
	// mixed orientations nearly every frame is one, and the status bar says the first two.
	sizeChanges int
	// note is the status bar's line once the run runs ("": the usual "Screening …").
	note string
	// scope is "" for a run of a whole sample; for a continuation it says the live
	// counts and alerts are this run's alone.
	scope string
	// restore puts back the sample panel the run filled with another sample (a
	// continuation); nil for a run of the panel's own sample.
	restore func()
	// earlier is, for a continuation, what the sample's stored runs counted before it
	// (nil otherwise, or when the store could not say): the banner measures it with the
	// live counts, the whole sample so far (set before the run's first update).
	earlier *earlierCounts
}

// StartOrPause starts a run when idle, else pauses or resumes it (Ctrl+Space).
func (a *mainWindow) StartOrPause() {
	if a.sess == nil {
		a.Start()
		return
	}
	a.TogglePause()
}

// Start screens the selected source with the sample described in the panel.
func (a *mainWindow) Start() {
	if a.sess != nil || a.closing {
		return
	}
	spec, ok := a.selectedSource()
	if !ok {
		a.showError("Choose a source", errors.New("Pick the demo, a camera, a video or a folder in the sample panel's Source list."))
		return
	}
	a.startSource(spec)
}

// startSource starts a run on spec. The session opens on a goroutine (a camera can take
// a second to open); the UI shows the run once it has started, or the error.
func (a *mainWindow) startSource(spec capture.Spec) {
	if a.sess != nil || a.closing {
		return
	}
	if a.packLoading {
		// The run would classify with the pack being replaced: it starts once the pack
		// chosen is in use (loadPack).
		a.startWhenLoaded = &spec
		a.setStatus("Pack " + packName(a.set.PackDir) + " is loading: the run starts once it is in use.")
		return
	}
	if a.svc.Model == nil {
		err := a.svc.SetupError
		if err == nil {
			err = errors.New("no classifier")
		}
		a.showError("Cannot screen without the classifier", err)
		return
	}
	if err := a.svc.StoreError; err != nil {
		a.showError("Runs cannot be recorded", err)
		return
	}
	if st := a.svc.Store; st != nil {
		if err := st.Replaced(); err != nil {
			a.showError("Runs cannot be recorded", err)
			return
		}
	}
	if spec.Kind == capture.KindDemo && !strings.HasPrefix(a.sample.ID.Text, demoIDPrefix) {
		a.fillDemoSample() // the demo is a demo sample, never one of the remembered site
	}
	sample, um, err := a.sample.Sample()
	if err == nil && sample.ID != a.proposedID && !a.sampleTaken(sample.ID) {
		// A new ID typed with the companions' mark would be taken for one (helper-77);
		// a stored sample's, or the companion the app proposed, is what it names.
		err = screening.CheckGivenID(sample.ID)
	}
	if err != nil {
		a.showError("Check the sample", err)
		return
	}
	if doubts := sample.Doubts(); len(doubts) > 0 && a.volumeChecked != sample.VolumeML {
		a.askVolume(spec, sample.VolumeML, doubts)
		return
	}
	if !a.addConfirmed(sample.ID) && a.sampleTaken(sample.ID) {
		a.askAddToSample(spec, sample.ID)
		return
	}
	if strings.TrimSpace(a.sample.Taken.Text) == "" && a.svc.Store != nil {
		// A run added to a stored sample is of its water: taken when it was, not now (the
		// store refuses a run of water taken at another time), as the command line does.
		if si, err := a.svc.Store.Sample(a.ctx, sample.ID); err == nil {
			sample.Taken = si.Taken
		}
	}
	if a.addTo == "" && a.screenAgain != spec && a.askScreenedBefore(spec, sample.ID) {
		return
	}
	again := a.screenAgain == spec // the technician was told other samples hold them
	a.addTo, a.screenAgain = "", capture.Spec{}
	a.set.UmPerPx, a.set.Source = um, spec.String()
	a.set.Recent = app.AddRecent(a.set.Recent, spec)
	if spec.Kind != capture.KindDemo { // the demo's made-up site and volume are not remembered
		a.set.Site, a.set.VolumeML, a.set.Factor = sample.Site, sample.VolumeML, sample.Factor
		a.rememberAnalyst(sample.Analyst)
	}
	a.saveSettings()
	a.launch(app.RunRequest{Spec: spec, Sample: sample, Settings: a.set, Rules: a.rules, ScreenAgain: again}, a.packFitStatus(spec, sample.ID), nil, "")
}

// askVolume asks before a run of a volume examined that a microscope does not examine
// at once (screening.Sample.Doubts): 1,000,000 mL for 1 read 0.014 cells/L, under every
// level, with no word (helper-56). Answered yes, that volume is not asked about again.
func (a *mainWindow) askVolume(spec capture.Spec, ml float64, doubts []string) {
	msg := strings.Join(doubts, "\n\n") + "\n\nScreen with this volume?"
	answer := func(yes bool) {
		if yes {
			a.volumeChecked = ml
			a.startSource(spec)
		}
	}
	const title = "Check the volume examined"
	yes := "Screen with " + strconv.FormatFloat(ml, 'f', -1, 64) + " mL"
	if a.confirm != nil {
		a.confirm(title, msg, yes, "Cancel", answer)
		return
	}
	d := dialog.NewConfirm(title, msg, answer, a.win)
	d.SetConfirmText(yes)
	d.SetDismissText("Cancel")
	d.Show()
}

// packFitStatus is the run's first status when its frames and the pack differ in
// colour (app.PackFitNote), also logged; "" otherwise. The folder dialog says it before
// Start, but a folder chosen again in the source list, or given with --source, started
// without a word (helper-52). It returns the work, run off the UI goroutine by launch:
// it lists the folder and decodes its first frame (a 2592x1944 JPEG, of a folder of
// thousands). The pack and model are taken now, as Start found them.
func (a *mainWindow) packFitStatus(spec capture.Spec, id string) func() string {
	pack := a.svc.Pack
	if pack == nil {
		return nil
	}
	variant := a.svc.Model.Variant()
	return func() string {
		colour, file, ok := app.FirstFrameColour(spec)
		if !ok {
			return ""
		}
		note := app.PackFitNote(pack, colour, filepath.Base(file))
		if note == "" {
			return ""
		}
		a.log.Warn("frames and pack differ in colour", "source", spec.String(), "note", note)
		return fmt.Sprintf("Screening %s: sample %s, model %s. Note: %s.", spec.Describe(), id, variant, note)
	}
}

// launch opens the run req asks for (with the window's settings and rules, or a stopped
// run's when it takes that up) and shows it, the status bar saying what note returns once
// it runs (nil or "" for the usual line; note runs on the run's goroutine, before the
// source opens); restore, when not nil, puts the sample panel back as it was once the run
// has ended or failed to open; continuing names the run a continuation takes up ("its
// run 1 of 2, begun 14:05"). The checks of what is asked are the caller's.
func (a *mainWindow) launch(req app.RunRequest, note func() string, restore func(), continuing string) {
	spec, sample := req.Spec, req.Sample
	sess := &session{spec: spec, sample: sample, rules: req.Rules, frames: newFrameBuffer(0), done: make(chan struct{}), restore: restore}
	if req.Continue != nil {
		sess.scope = fmt.Sprintf("This run only (continuing %s): the banner measures the whole sample so far; its whole counts are in History", continuing)
	}
	a.sess = sess
	a.gallery.Follow(sample.ID) // also once the run has ended
	if a.history != nil {
		a.history.Follow(sample.ID)
	}
	a.notifier.Reset()
	a.sample.SetRunning(true, false)
	a.runState.SetText("Starting…")
	a.setStatus("Opening " + spec.Describe() + "…")
	a.live.SetHint("Opening "+spec.Describe()+"…", "")
	a.live.Clear()
	// The line above the view named the last run's source while this one opened
	// (helper-65).
	a.liveStatus.SetText("Opening " + spec.Describe() + "…")
	a.counts.SetRows(nil) // the new sample's table starts empty, at its top
	a.banner.Opening(sample.ID, spec.Describe(), a.watching(sess.rules))
	a.liveReviewed = ""
	a.counts.SetScope(sess.scope)
	a.counts.ScrollToTop()
	req.OnStatus = func(st capture.Status) { a.sourceStatus(sess, st) }
	req.OnFrame = func(f capture.Frame, objs []vision.Object) {
		if err := sess.frames.Put(f, objs); err != nil {
			a.log.Debug("live view skipped a frame", "err", err)
		}
	}
	a.e.spawn(func(ctx context.Context) {
		if note != nil {
			sess.note = note() // read by startRun, after runOnUI below
		}
		var earlier *earlierCounts
		if req.Continue != nil && a.svc.Store != nil {
			// Read before the run stores anything of its own, so nothing counts twice.
			if c, _, _, err := app.SampleCounts(ctx, a.svc.Store, sample.ID); err != nil {
				a.log.Warn("the sample's earlier counts for the banner", "sample", sample.ID, "err", err)
			} else {
				earlier = earlierOf(c)
			}
		}
		run, err := a.svc.OpenSession(ctx, req)
		if err != nil {
			close(sess.done)
			a.runOnUI(func() {
				if a.sess == sess {
					a.sess = nil
				}
				a.sample.SetRunning(false, false)
				if sess.restore != nil {
					sess.restore()
				}
				defer a.packAfterRun() // one chosen while it opened
				a.runState.SetText("Idle")
				a.showUnderRules() // the banner of the last sample run, as before this one
				var held *app.ScreenedBeforeError
				if errors.As(err, &held) {
					// Copies of frames another sample holds, found once fingerprinted:
					// asked as the same path is, before anything was recorded.
					a.live.SetHint("Screened before", "Answer the question to screen them as a new sample, or choose another source.")
					a.askHeldFrames(spec, sample.ID, held.Runs, held.Frames)
					return
				}
				a.live.SetHint("Could not open "+spec.Describe(), "See the message; then choose another source and press Start.")
				a.showError("Could not start screening", err)
			})
			return
		}
		a.runOnUI(func() {
			sess.run, sess.earlier = run, earlier
			if req.Continue != nil && earlier == nil { // the banner can only show this run's share
				sess.scope = fmt.Sprintf("This run only (continuing %s): the sample's whole counts are in History", continuing)
				if a.sess == sess {
					a.counts.SetScope(sess.scope)
				}
			}
			a.startRun(sess)
		})
	})
}

// addConfirmed reports whether the technician said to add the next run to sample id.
func (a *mainWindow) addConfirmed(id string) bool { return a.addTo != "" && a.addTo == id }

// askAddToSample asks before a run adds to a stored sample: its counts and volume would
// add up with what the sample holds. Yes starts the run into it; no proposes a new ID.
func (a *mainWindow) askAddToSample(spec capture.Spec, id string) {
	held := "it is already in the store"
	si, err := a.svc.Store.Sample(a.ctx, id)
	if err == nil && spec.Kind != capture.KindCamera {
		for _, r := range si.Runs {
			if old, err := capture.ParseSpec(r.Spec); err == nil && old.SharesFrames(spec) {
				a.askNewSampleForSameFrames(spec, id, r)
				return
			}
		}
	}
	if err == nil && len(si.Runs) > 0 {
		last := si.Runs[len(si.Runs)-1]
		held = fmt.Sprintf("it holds %d run%s (%s mL examined, the last on %s with pack %s, model %s)", len(si.Runs), plural(len(si.Runs)),
			strconv.FormatFloat(si.VolumeML, 'g', 4, 64), last.Started.Local().Format("2006-01-02 15:04"), last.Pack, last.Model)
	}
	msg := fmt.Sprintf("Sample %s exists: %s.\n\nAdd this run to it? Its cells and volume then add up with the sample's.\nOr start a new sample with a new ID.", id, held)
	answer := func(add bool) {
		if add {
			a.addTo = id
		} else {
			a.sample.ID.SetText(a.proposeID())
		}
		a.startSource(spec)
	}
	if a.confirm != nil {
		a.confirm("Add to sample "+id+"?", msg, "Add to "+id, "New sample", answer)
		return
	}
	d := dialog.NewConfirm("Add to sample "+id+"?", msg, answer, a.win)
	d.SetConfirmText("Add to " + id)
	d.SetDismissText("New sample")
	d.Show()
}

// askNewSampleForSameFrames: the sample already holds run r of these frames, and the
// store refuses them again (their cells would count twice), so adding is not offered:
// a new sample, or nothing. The new sample is the companion the store names for the
// same water under other settings (POND3-AM~base) when its model or pack differs: an
// automatic ID was given that nothing tied to POND3-AM, and Cancel lets the technician
// type another (helper-56).
func (a *mainWindow) askNewSampleForSameFrames(spec capture.Spec, id string, r store.RunRow) {
	newID, why := a.companionID(id, r)
	msg := fmt.Sprintf("Sample %s already holds run %d of these frames (%s).\n\nScreening them again into it would count every cell twice.\nScreen them as a new sample, %s%s?\nTo name it otherwise, Cancel and type its ID in the sample panel.",
		id, r.ID, spec.Describe(), newID, why)
	answer := func(yes bool) {
		if yes {
			a.sample.ID.SetText(newID)
			a.proposedID = newID
			a.screenAgain = spec // asked and answered: not asked again as screened before
			a.startSource(spec)
		}
	}
	if a.confirm != nil {
		a.confirm("Sample "+id+" holds these frames", msg, "Screen as "+newID, "Cancel", answer)
		return
	}
	d := dialog.NewConfirm("Sample "+id+" holds these frames", msg, answer, a.win)
	d.SetConfirmText("Screen as " + newID)
	d.SetDismissText("Cancel")
	d.Show()
}

// companionID is the ID proposed for a new sample of the frames that sample id holds
// under run r, with why: id~base (the store's companion name, as `screen --keep-apart`
// makes it) when the model in use differs from r's, id~pack when the pack does; a new
// automatic ID when the settings are r's, or the companion's ID is taken.
func (a *mainWindow) companionID(id string, r store.RunRow) (string, string) {
	if tags, what := a.differFrom(r); len(tags) > 0 {
		cand := id + "~" + strings.Join(tags, "~")
		if _, err := a.svc.Store.Sample(a.ctx, cand); errors.Is(err, store.ErrNoSample) {
			return cand, " (the same water under " + strings.Join(what, " and ") + ")"
		}
	}
	return a.proposeID(), ""
}

// differFrom says how the pack and model in use differ from run r's, in the store's
// order (its settings.differences): the pack, then the model; tags name them for a
// companion's ID (cyano-tcb-10, base), what for a person ("pack cyano-tcb-10", "the base
// model"). Both are empty when they are r's.
func (a *mainWindow) differFrom(r store.RunRow) (tags, what []string) {
	if p := a.svc.Pack; p != nil && r.Pack != "" && r.Pack != p.Name {
		tags, what = append(tags, p.Name), append(what, "pack "+p.Name)
	}
	if m := a.svc.Model; m != nil && r.Model != "" && r.Model != string(m.Variant()) {
		model := string(m.Variant())
		tags, what = append(tags, model), append(what, "the "+model+" model")
	}
	return tags, what
}

// startRun starts an opened run and its bridge (UI goroutine). A Stop pressed while the
// run was opening stops it at once: it ends normally, with nothing counted.
func (a *mainWindow) startRun(sess *session) {
	if v := a.settingsWin; v != nil && v.measuring != nil {
		// The speed test measures the models alone: beside a run it measured both, and
		// its slowed figures were kept as the models' cost (helper-38: 78.7 ms/cell).
		v.measureStopped = "Measurement stopped: a run started, and measuring beside it would measure both. Measure again when the run has ended."
		v.measuring()
	}
	stopAtOnce := sess.stopRequested || a.closing
	if stopAtOnce {
		sess.run.Stop() // before Run, so the session reads nothing
	}
	a.e.spawn(func(ctx context.Context) {
		defer close(sess.done)
		_, _ = sess.run.Run(ctx) // the bridge shows the outcome
	})
	a.activeRuns.Add(1)
	a.e.spawn(func(context.Context) {
		defer a.activeRuns.Add(-1)
		a.bridge(sess)
	})
	if stopAtOnce {
		return
	}
	a.runState.SetText("Running")
	if sess.note != "" {
		a.setStatus(sess.note)
	} else {
		a.setStatus(fmt.Sprintf("Screening %s: sample %s, model %s.", sess.spec.Describe(), sess.sample.ID, a.svc.Model.Variant()))
	}
	if n := sess.run.Files(); n > 0 {
		a.progress.Max = float64(n)
		a.progress.TextFormatter = func() string { return progressText(0, n, 0) }
		a.progress.SetValue(0)
		a.progressBox.Show()
	}
}

// sourceStatus shows a source's event (a skipped file, a camera lost and retried) in
// the status bar; the counts so far are kept whatever happens.
func (a *mainWindow) sourceStatus(sess *session, st capture.Status) {
	capture.LogStatus(st)
	if st.Kind == capture.StatusFieldChanged {
		return // routine on a moving stage
	}
	msg := st.String()
	a.runOnUI(func() {
		if st.Kind == capture.StatusSizeChanged {
			sess.sizeChanges++
			switch {
			case sess.sizeChanges > 2:
				return // logged above
			case sess.sizeChanges == 2:
				msg += " (further size changes are not shown: the frames differ in size)"
			}
		}
		a.status.SetText(msg)
		if st.Kind == capture.StatusSkipped {
			var dup *capture.DuplicateError
			if errors.As(st.Err, &dup) {
				sess.duplicates++ // read, and left out: nothing to fix
			} else if st.Path != "" && (!imagefile.IsImageName(st.Path) || errors.Is(st.Err, inputfile.ErrNotRegular)) {
				// A FIFO or socket named frame.jpg is no frame either: the folder's
				// frames (Len) never counted it, so no water is lost.
				sess.notFrames++
			}
			sess.skipped = append(sess.skipped, skippedLine(st))
		}
	})
}

// skippedLine is a skipped file for a list: its name and why, the path said once (the
// status says it three times: the source, the file, the decoder's error).
func skippedLine(st capture.Status) string {
	if st.Path == "" || st.Err == nil {
		return st.String()
	}
	why := strings.TrimPrefix(st.Err.Error(), "decode "+st.Path+": ")
	return filepath.Base(st.Path) + ": " + why
}

// maxSkippedShown is how many skipped files the end-of-run message lists.
const maxSkippedShown = 12

// leftOutNote is the end-of-run status's word on files left out when none of them needs
// fixing (repeated frames, files that are not frames); "" otherwise, when showSkipped
// says it in a message that lists them.
func leftOutNote(sess *session) string {
	n := len(sess.skipped)
	if n == 0 || n != sess.duplicates+sess.notFrames {
		return ""
	}
	var why []string
	if d := sess.duplicates; d > 0 {
		// The folder's repeats are found before its first frame is read: after a stop
		// the count is the whole folder's, not of the frames read, and says so (helper-56
		// read "63 files left out" after 32 frames as files of those 32).
		why = append(why, fmt.Sprintf("%d repeat another frame of the folder (the whole folder, checked before reading; counted once)", d))
	}
	if o := sess.notFrames; o > 0 {
		why = append(why, fmt.Sprintf("%d not a frame", o))
	}
	return fmt.Sprintf("%d file%s left out, nothing to fix: %s (listed in the log)", n, plural(n), strings.Join(why, ", "))
}

// showSkipped tells what the run could not read, at its end: the status bar showed
// each file for a moment only, and the volume examined was cut for them. Files left out
// that need no fixing (leftOutNote) are said in the status alone: a message to close
// after every folder of repeated frames said "Nothing to fix" (helper-38).
func (a *mainWindow) showSkipped(sess *session, examined int) {
	n := len(sess.skipped)
	if n == 0 || (examined > 0 && leftOutNote(sess) != "") {
		return
	}
	title := fmt.Sprintf("%d file%s skipped", n, plural(n))
	// Three kinds, each said apart: frames that could not be read (water lost: the
	// concentrations rest on the share read), files that are not frames, and duplicates.
	unread, other, dup := n-sess.duplicates-sess.notFrames, sess.notFrames, sess.duplicates
	var parts []string
	if unread > 0 {
		parts = append(parts, fmt.Sprintf("%d file%s of %s could not be read and %s skipped; the concentrations are on the share of the volume the %d frames read cover.",
			unread, plural(unread), sess.spec.Describe(), map[bool]string{true: "was", false: "were"}[unread == 1], examined))
	}
	if other > 0 {
		parts = append(parts, fmt.Sprintf("%d file%s of %s %s not a frame (not an image file): left aside, no water lost.",
			other, plural(other), sess.spec.Describe(), map[bool]string{true: "is", false: "are"}[other == 1]))
	}
	if dup > 0 {
		who := fmt.Sprintf("%d file%s of %s", dup, plural(dup), sess.spec.Describe())
		if len(parts) > 0 {
			who = fmt.Sprintf("%d other%s", dup, plural(dup))
		}
		parts = append(parts, who+" held the pixels of a frame read before (a copy, or the frame saved again with another orientation tag): left out, so their cells count once.")
	}
	head := strings.Join(parts, " ")
	tail := ""
	if unread > 0 {
		tail = "\n\nEach line says how to fix its file; screen the fixed frames as a new sample."
	}
	if examined == 0 {
		title = "Nothing examined"
		head = fmt.Sprintf("No frame of %s could be read, so nothing was counted or stored.", sess.spec.Describe())
	}
	lines := sess.skipped
	if n > maxSkippedShown {
		lines = append(lines[:maxSkippedShown:maxSkippedShown], fmt.Sprintf("… and %d more (all in the log)", n-maxSkippedShown))
	}
	a.showMessage(title, head+"\n\n"+strings.Join(lines, "\n")+tail)
}

// TogglePause pauses or resumes the run.
func (a *mainWindow) TogglePause() {
	s := a.sess
	if s == nil || s.run == nil || s.stopRequested {
		// Stopping: the cells read are being classified; a pause then said "Paused"
		// over a run that was ending (helper-38).
		return
	}
	paused := !s.run.Paused()
	s.run.SetPaused(paused)
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
func (a *mainWindow) Stop() {
	s := a.sess
	if s == nil {
		return
	}
	s.stopRequested = true // a run still opening stops as soon as it starts
	if s.run != nil {
		s.run.Stop()
	}
	a.runState.SetText("Stopping…")
	a.sample.Pause.Disable() // a stopping run is not paused (TogglePause)
}

// runningSample is the ID of the sample being screened, "" between runs.
func (a *mainWindow) runningSample() string {
	if a.sess == nil {
		return ""
	}
	return a.sess.sample.ID
}

// runEnded shows a finished run (UI goroutine).
func (a *mainWindow) runEnded(sess *session) {
	final, err, _ := sess.run.Result()
	a.lastRules, a.lastTaxonomy = sess.rules, a.svc.Taxonomy // the run's pack: packAfterRun loads another below
	if a.sess == sess {
		a.sess = nil
	}
	a.sample.SetRunning(false, false)
	a.progressBox.Hide()
	a.runState.SetText("Idle")
	a.lowerBaselineAtRest()
	noun := countedNoun(final.Taxa)
	// A partial run is said first: at the end of the line it was cut off by the window,
	// and a stopped run read as the whole sample's figures (helper-56).
	msg := partialLead(final.Examined, final.Sample.VolumeML)
	msg += fmt.Sprintf("Sample %s: %s %s counted (%d unidentified) in %d frames", final.Sample.ID, fmtCount(final.Cells.Found), noun,
		final.Cells.Unidentified, final.Frames.Segmented)
	if final.Frames.Dropped > 0 {
		msg += fmt.Sprintf(", %d frames dropped", final.Frames.Dropped)
	}
	if note := leftOutNote(sess); note != "" && final.Examined.Frames > 0 {
		msg += "; " + note
	}
	if final.Examined.Frames == 0 {
		msg += "; nothing was examined, so nothing was stored"
		if why := final.Frames.NoneExaminedWhy(); why != "" {
			msg += ": " + why
		}
	}
	if n := len(final.Gaps); n > 0 {
		var without time.Duration
		for _, g := range final.Gaps {
			without += g.Duration()
		}
		msg += fmt.Sprintf(", %d gap%s without frames (%s; the cells before are kept)", n, plural(n), without.Round(100*time.Millisecond))
	}
	var replaced error
	if a.svc.Store != nil {
		replaced = a.svc.Store.Replaced()
	}
	switch {
	case a.svc.Store == nil || final.Examined.Frames == 0:
	case errors.Is(err, store.ErrWriteFailed):
		// "stored in" closed the line of a run whose writes failed (helper-86).
		msg += "; not all stored in " + a.svc.Store.Path() + ": the sample stands on the frames stored before the failed write (see the error)"
	case replaced != nil:
		msg += "; stored in the file phytoscreen opened, which is no longer at " + a.svc.Store.Path() + " (see the error)"
		a.showError("The run went into a store file no longer there", replaced)
	default:
		msg += "; stored in " + a.svc.Store.Path()
	}
	if sess.restore != nil && a.svc.Store != nil && final.Examined.Frames > 0 {
		// A continuation counted its own share: the banner and the counts were its
		// figures alone, under the sample's name (helper-44: 1.14 M cells/L beside the
		// sample's 588,000 in History).
		if si, err := a.svc.Store.Sample(a.ctx, final.Sample.ID); err == nil {
			whole := "whole"
			if si.Partial() {
				whole = "partial"
			}
			msg += fmt.Sprintf("; sample %s now holds %d runs, %s of %s mL examined (%s): the counts shown are this run's, on its share; the banner and History the sample's",
				si.ID, len(si.Runs), strconv.FormatFloat(si.VolumeML, 'g', 4, 64), strconv.FormatFloat(si.VolumeGiven(), 'g', 4, 64), whole)
			a.bannerWholeSample(si.ID, sess.rules)
		}
	}
	if a.set.UmPerPx == 0 && screening.CellsEstimated(final.Taxa) > 0 {
		// As the command line says: rules in cells read a colony's cells, which
		// without a calibration are guessed from its shape alone.
		msg += "; uncalibrated: the cells in its colonies and filaments are guessed from their shape (give the µm per pixel for estimates from their size)"
	}
	a.setStatus(msg + ".")
	if final.Examined.Frames == 0 {
		a.banner.NothingExamined("sample " + final.Sample.ID)
		a.live.SetHint("Nothing read from "+sess.spec.Describe(), "See the message; then choose another source and press Start.")
	}
	if err != nil {
		a.showError("The run ended with an error", err)
	} else {
		a.showSkipped(sess, final.Examined.Frames)
	}
	// The next sample gets a new ID and no time, depth or notes; site, volume and
	// factor stay (the remembered ones after the demo, whose own are made up).
	a.refreshSites()
	if sess.restore != nil {
		sess.restore() // the technician's next sample, as typed before the continuation
	} else if sess.spec.Kind == capture.KindDemo {
		a.sample.Fill(a.newSample(), a.set.UmPerPx)
	} else {
		a.sample.NextSample(a.proposeID())
	}
	a.sample.AfterRun()
	a.packAfterRun() // one chosen during the run
	if a.onRunEnd != nil {
		a.onRunEnd(final, err)
	}
}

// partialLead opens the end-of-run status of a run that examined part of its source:
// "Stopped: partial, 32 of 63 frames" and the volume the concentrations rest on, as the
// command line's PARTIAL says it; "" for a whole run or one that examined nothing.
func partialLead(ex screening.Examined, examinedML float64) string {
	if ex.Frames == 0 || !ex.Partial() {
		return ""
	}
	how := "Partial"
	if ex.Interrupted {
		how = "Stopped: partial"
	}
	of := ""
	if ex.Expected > 0 {
		of = fmt.Sprintf(", %d of %d frames", ex.Frames, ex.Expected)
	}
	// Both to three figures, as the report: a continuation's share of the volume given read
	// "0.5496688741721855 mL" (helper-75).
	return fmt.Sprintf("%s%s (the concentrations are on the %s mL of the %s mL given). ", how, of, fmtVolume(sigfig.Round(examinedML, 3)), fmtVolume(sigfig.Round(ex.DeclaredML, 3)))
}

// bannerWholeSample puts the alerts of sample id, all its runs together as History
// measures them, into the banner once a continuation has ended: the banner showed the
// continuation's share alone under the sample's name, 219.5 M cells/L where History,
// the export and the report said 228.7 M (helper-52).
func (a *mainWindow) bannerWholeSample(id string, rules alerts.Binding) {
	a.liveSampleCounts(id, rules, "the sample's counts for the banner", func(c store.Counts, states []alerts.State) {
		a.banner.Set(states, lastRunPack(c.Sample), a.watching(rules), fmt.Sprintf("sample %s, all %d runs (run ended)", id, len(c.Sample.Runs)), rules.CannotSee())
		a.banner.SetPartial(c.Sample.Partial()) // the whole sample's, not the continuation's
	})
}

// lastRunPack is the pack that counted sample si's last run ("" with no run), the pack
// History measures the sample on.
func lastRunPack(si store.SampleInfo) string {
	if n := len(si.Runs); n > 0 {
		return si.Runs[n-1].Pack
	}
	return ""
}

// showReviewed shows on the Live tab a sample whose labels the Gallery has just changed,
// when the Live tab holds its last run and no run is going: its counts and banner as
// History, the exports and the report read them, with the review. The Live tab kept the
// counts as screened, so that after a review it and History told two stories of one
// sample. It reports whether the Live tab shows the sample.
func (a *mainWindow) showReviewed(id string) bool {
	if a.svc.Store == nil || a.sess != nil || a.lastSnap.Sample.ID != id || a.svc.Taxonomy == nil {
		return false
	}
	if a.lastSnap.Pack != "" && a.lastSnap.Pack != a.svc.Taxonomy.Pack {
		return false // counted by the pack in use before; the rules in use do not read it
	}
	a.showStored(id, a.rules, a.svc.Taxonomy, "")
	return true
}

// showStored shows stored sample id on the Live tab as reviewed, measured under rules
// (bound to tx, its pack's taxonomy); under, when not "", says which rules those are
// when they are not the rules in use (", under preset default on pack …").
func (a *mainWindow) showStored(id string, rules alerts.Binding, tx *screening.Taxonomy, under string) {
	a.liveSampleCounts(id, rules, "the reviewed sample's counts for the Live tab", func(c store.Counts, states []alerts.State) {
		a.liveReviewed = id
		rows := storedRows(c)
		levelRows(rows, states, tx)
		a.counts.SetRows(rows)
		runs := "its run"
		if n := len(c.Sample.Runs); n > 1 {
			runs = fmt.Sprintf("all %d runs", n)
		}
		a.counts.SetScope(fmt.Sprintf("Sample %s as reviewed (%s): the labels set in the Gallery count here, as in History and the exports", id, runs))
		watching := a.watching(rules)
		if under != "" {
			watching = rules.Watching()
		}
		a.banner.Set(states, tx.Pack, watching, fmt.Sprintf("sample %s, %s, as reviewed%s", id, runs, under), rules.CannotSee())
		a.banner.SetPartial(c.Sample.Partial())
	})
}

// liveSampleCounts reads stored sample id's counts as History does and measures them
// under rules on a goroutine, then shows them (UI goroutine) while the Live tab still
// holds that sample and no run has started; what reads them is said in a failure's log.
func (a *mainWindow) liveSampleCounts(id string, rules alerts.Binding, what string, show func(store.Counts, []alerts.State)) {
	st := a.svc.Store
	// The latest call alone shows: a save of a new preset measures the sample under it
	// while the new pack loads, then again under the rules fitting the sample's pack, and
	// the first answer arriving last put the banner back to "no rule can fire"
	// (helper-78's race run of TestReviewedSampleAfterPackSwitch).
	a.liveCountsGen++
	gen := a.liveCountsGen
	a.e.spawn(func(ctx context.Context) {
		c, _, _, err := app.SampleCounts(ctx, st, id)
		if err != nil {
			a.log.Warn(what, "sample", id, "err", err)
			return
		}
		states := evaluateStored(rules, c)
		a.runOnUI(func() {
			if a.sess != nil || a.lastSnap.Sample.ID != id || gen != a.liveCountsGen {
				return // another run has the Live tab now, or a later measure is on its way
			}
			show(c, states)
		})
	})
}

// together names the samples that count the same water once a new one is added to n
// earlier ones: "both samples" only when there were two in all (helper-52 read
// "both" under three).
func together(n int) string {
	if n == 1 {
		return "both samples"
	}
	return "all these samples and the new one"
}

// askScreenedBefore asks before frames that other samples hold are screened as sample
// id, a new one: it puts the same water twice into the site's trend (long.avi went into
// three samples at Bay A without a word: helper-41). It reports whether it asked (the
// answer starts the run or not). A camera and the demo are never asked about.
func (a *mainWindow) askScreenedBefore(spec capture.Spec, id string) bool {
	// A folder's frames are told by their fingerprints when the run opens
	// (app.ScreenedBeforeError): by its path, a capture folder emptied and filled with
	// the next sample's frames was "screened before" at every sample (helper-86).
	if a.svc.Store == nil || spec.Kind == capture.KindCamera || spec.Kind == capture.KindDemo || spec.Files() {
		return false
	}
	refs, err := a.svc.Store.RunsSharing(a.ctx, spec, id)
	if err != nil || len(refs) == 0 {
		return false
	}
	a.askHeldFrames(spec, id, refs, 0)
	return true
}

// askHeldFrames asks before frames that the runs refs of other samples hold are
// screened as the new sample id (frames: how many the source holds, when fingerprinted).
func (a *mainWindow) askHeldFrames(spec capture.Spec, id string, refs []store.RunRef, frames int) {
	if r, ok := a.otherSettingsRun(id, refs); ok && holdAll(refs, frames) {
		// The same frames, one sample, now under another model or pack, and no ID
		// chosen: the comparison of the two is what is asked, so its companion
		// (S-1~base, kept out of the site's trend, compared first) is proposed.
		// Proposed a new sample, the scientist was told to trash the first and lost
		// the comparison (helper-84).
		a.askNewSampleForSameFrames(spec, refs[0].Sample, r)
		return
	}
	a.askScreenedAgain(spec, id, refs, frames)
}

// holdAll reports whether the runs refs hold every one of the frames fingerprinted
// (frames: how many; 0 when the runs were found by path, which holds them all): only
// then is a new sample of them "the same water" as the sample of refs. A folder of 200
// frames, 15 of which a morning sample held, was proposed as that sample's companion
// "under pack cyano-tcb-10", a companion kept out of the site's trend (helper-95).
func holdAll(refs []store.RunRef, frames int) bool {
	if frames <= 0 {
		return true
	}
	held := 0
	for _, r := range refs { // a sample's runs never hold a frame twice: the store refuses it
		held += r.Shared
	}
	return held >= frames
}

// otherSettingsRun is the run of refs (the runs of other samples holding the frames
// about to be screened as id) to propose a companion of: when id is the one the app
// proposed, the runs are of one sample, and the last of them ran another pack or model
// than the one in use.
func (a *mainWindow) otherSettingsRun(id string, refs []store.RunRef) (store.RunRow, bool) {
	if id != a.autoID || slices.ContainsFunc(refs, func(r store.RunRef) bool { return r.Sample != refs[0].Sample }) {
		return store.RunRow{}, false
	}
	si, err := a.svc.Store.Sample(a.ctx, refs[0].Sample)
	if err != nil {
		return store.RunRow{}, false
	}
	last := refs[0].Run
	for _, r := range refs {
		last = max(last, r.Run)
	}
	i := slices.IndexFunc(si.Runs, func(r store.RunRow) bool { return r.ID == last })
	if i < 0 {
		return store.RunRow{}, false
	}
	tags, _ := a.differFrom(si.Runs[i])
	return si.Runs[i], len(tags) > 0
}

// askScreenedAgain asks whether the frames of spec, which the runs refs of other
// samples hold (by their paths, or copies by their fingerprints), are screened as the
// new sample id; yes starts the run.
func (a *mainWindow) askScreenedAgain(spec capture.Spec, id string, refs []store.RunRef, frames int) {
	msg := screenedAgainText(spec.Describe(), id, strings.TrimSpace(a.sample.Site.Text), refs, frames)
	answer := func(yes bool) {
		if yes {
			a.screenAgain = spec
			a.startSource(spec)
		}
	}
	title := "Screened before as " + refs[0].Sample
	var samples []string
	for _, r := range refs {
		if !slices.Contains(samples, r.Sample) {
			samples = append(samples, r.Sample)
		}
	}
	if len(samples) > 1 {
		// The title named the first while the question listed them all (helper-66).
		title = fmt.Sprintf("Screened before as %d samples", len(samples))
	}
	ask := a.confirm
	if a.confirmAgain != nil {
		ask = a.confirmAgain
	}
	if ask != nil {
		ask(title, msg, "Screen as "+id, "Cancel", answer)
		return
	}
	d := dialog.NewConfirm(title, msg, answer, a.win)
	d.SetConfirmText("Screen as " + id)
	d.SetDismissText("Cancel")
	d.Show()
}

// screenedAgainText is the question before screening as new sample id (at site) the
// frames of source that the runs refs hold, all of them or, found by fingerprint, some
// of the source's frames (Shared of frames, when frames > 0).
func screenedAgainText(source, id, site string, refs []store.RunRef, frames int) string {
	var held []string
	copied := ""
	samples, sameSite, most := 0, false, 0
	for i, r := range refs {
		if !slices.ContainsFunc(refs[:i], func(p store.RunRef) bool { return p.Sample == r.Sample }) {
			samples++
		}
		sameSite = sameSite || strings.EqualFold(strings.TrimSpace(r.Site), site)
		most = max(most, r.Shared)
		where := ""
		if r.Site != "" {
			where = " at " + r.Site
		}
		shared := ""
		if frames > 0 && r.Shared > 0 && r.Shared < frames {
			shared = fmt.Sprintf(", %d frame%s of them", r.Shared, plural(r.Shared))
		}
		// The store's run number is store-wide ("run 2" of a sample of one run): the
		// time says which run (helper-42).
		line := fmt.Sprintf("sample %s%s (on %s%s)", r.Sample, where, r.Started.Local().Format("2006-01-02 15:04"), shared)
		if !slices.Contains(held, line) {
			held = append(held, line)
		}
		if copied == "" && r.Copy != "" {
			copied = " (" + r.Copy + ")"
		}
	}
	if len(held) > 3 {
		held = append(held[:3], fmt.Sprintf("%d more", len(held)-3))
	}
	// How much: one copied frame among hundreds is not the same water (helper-59 read
	// "these frames were screened before" over 1 of 778 and nearly trashed a sample).
	what := fmt.Sprintf("These frames (%s) were screened before", source)
	again := "A new sample of them counts the same water again"
	if frames > 0 && most < frames {
		what = fmt.Sprintf("Some of these frames (%s) were screened before: at most %d of its %d", source, most, frames)
		again = "A new sample of them counts those frames' water again"
	}
	// The site's trend is the site's: samples elsewhere meet this one only in the
	// programme's reports (helper-59: told of "the site's trend" for Pond B and Pond C
	// when screening at Control tank).
	into := "the programme's reports"
	if sameSite {
		into = "the site's trend and the programme's reports"
	}
	return fmt.Sprintf("%s%s: %s.\n\n%s: %s go into %s. Move the earlier one to the trash (History) if this one replaces it.\n\nScreen them as sample %s?",
		what, copied, strings.Join(held, "; "), again, together(samples), into, id)
}

// lowerBaselineAtRest measures the machine's draw at rest again once a run has ended, a
// moment after (the run's last writes and redraws done), and keeps it where it is lower:
// the launch's baseline reads the app still loading (1.19 W against 0.24 W at rest on the
// reference machine), so later runs' energy above idle is measured against rest. A run
// started meanwhile makes it keep nothing; the ended run keeps the baseline it had.
func (a *mainWindow) lowerBaselineAtRest() {
	m := a.svc.Meter
	if m == nil {
		return
	}
	a.e.spawn(func(ctx context.Context) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(restAfterRun):
		}
		lowered, err := m.LowerBaseline(ctx, baselineFor)
		switch {
		case err != nil && ctx.Err() == nil:
			a.log.Warn("idle power baseline not measured again", "err", err)
		case lowered:
			a.log.Debug("idle power baseline lowered at rest between runs")
		}
	})
}

// restAfterRun is how long after a run ends the draw at rest is measured again.
const restAfterRun = 2 * time.Second

// countedNoun is what a run's count is of: objects, not cells, once a colony or a
// filament is among them: "296 cells" of a sample counted in colonies read as its cells
// (helper-38), and the live line said "40 cells counted" of 40 colonies (helper-67).
func countedNoun(taxa []screening.TaxonCount) string {
	if slices.ContainsFunc(taxa, func(x screening.TaxonCount) bool { return x.Unit != "" && x.Unit != "cell" && x.Count > 0 }) {
		return "objects (cells, colonies, filaments)"
	}
	return "cells"
}
