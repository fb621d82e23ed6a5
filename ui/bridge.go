package ui

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/phytoscreen/phytoscreen/screening"
)

// The bridge is the only code between the pipeline and the widgets. It runs on its own
// goroutine, wakes on the pipeline's update signal and on a frame-rate ticker, prepares
// everything off the UI goroutine (overlays, table rows, figures), and hands the result
// to the UI in one call per displayed frame. While the UI has not applied the last
// update it sends no other: updates coalesce, they never queue up.

// frameRate is the most updates per second the bridge sends to the UI.
const frameRate = 30

// perfEvery is how often the performance figures are read.
const perfEvery = 500 * time.Millisecond

// trendEvery is how often the counts' trends take a point (two minutes of them shown).
const (
	trendEvery  = 2 * time.Second
	trendPoints = 60
)

// uiUpdate is one hand-over from the bridge to the UI.
type uiUpdate struct {
	snap     *screening.Snapshot
	rows     []countRow
	frame    *viewFrame
	overlays []overlayBox
	// relabel is new overlays for the frame already on screen, when its cells were
	// classified after it was shown and no newer frame came (a still field, a gated
	// source): grey boxes must not wait for the next frame to get their labels.
	relabel []overlayBox
	perf    *perfFigures
	status  string
	ended   bool
}

// perfState holds the meter's history for the sparklines, shared by the run's bridge and
// the idle loop (one of them at a time feeds it).
type perfState struct {
	mu   sync.Mutex
	hist *perfHistory
	last time.Time
}

// readPerf reads the meter and adds to the history when perfEvery has passed (or force).
func (a *mainWindow) readPerf(now time.Time, force bool) *perfFigures {
	m := a.svc.Meter
	if m == nil {
		return nil
	}
	a.perfState.mu.Lock()
	defer a.perfState.mu.Unlock()
	if !force && now.Sub(a.perfState.last) < perfEvery {
		return nil
	}
	a.perfState.last = now
	s := m.Snapshot()
	a.perfState.hist.add(s, now)
	f := a.perfState.hist.figures(s)
	return &f
}

// bridge feeds the UI from a run until it ends, then shows the final state.
func (a *mainWindow) bridge(sess *session) {
	tick := time.NewTicker(time.Second / frameRate)
	defer tick.Stop()
	updates := sess.run.Updates()
	var pending atomic.Bool
	trends := map[string]*series{}
	var lastTrend time.Time
	var lastVersion uint64
	dirty := true
	fps := newRateMeter()
	var overlays []overlayBox
	var shown *viewFrame // the frame taken last: on screen, or about to be

	send := func(u uiUpdate) {
		pending.Store(true)
		a.runOnUI(func() {
			defer pending.Store(false)
			a.apply(sess, u)
		})
	}
	for {
		select {
		case _, ok := <-updates:
			if ok {
				dirty = true
				continue
			}
			// Run returned: wait for the store to finish, then show the final state, with
			// the run's last frame labelled as the final tallies label it (a fast folder
			// run once ended on an older frame with grey, unlabelled boxes).
			<-sess.done
			final, _, _ := sess.run.Result()
			addTrends(trends, final, true)
			u := uiUpdate{snap: &final, rows: countRows(final, trends), ended: true,
				perf: a.readPerf(time.Now(), true), status: liveStatus(sess, final, 0)}
			for wait := 0; pending.Load() && wait < 200; wait++ { // the frame sent last reaches the screen first
				time.Sleep(5 * time.Millisecond)
			}
			if f := sess.frames.Take(); f != nil {
				u.frame = f
			} else if f := sess.frames.OnScreen(); f != nil {
				u.frame = f
			}
			if u.frame != nil {
				u.overlays = overlaysFor(u.frame, final.LastFrame, a.svc.Taxonomy, nil)
			}
			send(u)
			return
		case <-tick.C:
		}
		if pending.Load() {
			continue // the UI has not drawn the last update yet: skip this frame
		}
		now := time.Now()
		u := uiUpdate{perf: a.readPerf(now, false)}
		if f := sess.frames.Take(); f != nil {
			u.frame = f
			shown = f
		}
		var snap screening.Snapshot
		if dirty || u.frame != nil {
			snap = sess.run.Snapshot()
			dirty = false
			switch {
			case u.frame != nil:
				overlays = overlaysFor(u.frame, snap.LastFrame, a.svc.Taxonomy, overlays)
				u.overlays = append([]overlayBox(nil), overlays...)
			case shown != nil:
				if again := overlaysFor(shown, snap.LastFrame, a.svc.Taxonomy, nil); !slices.Equal(again, overlays) {
					overlays = again
					u.relabel = append([]overlayBox(nil), again...)
				}
			}
			if snap.Version != lastVersion {
				lastVersion = snap.Version
				trendDue := now.Sub(lastTrend) >= trendEvery
				if trendDue {
					lastTrend = now
				}
				addTrends(trends, snap, trendDue)
				u.snap = &snap
				u.rows = countRows(snap, trends)
			}
			u.status = liveStatus(sess, snap, fps.rate(now, sess.frames.Written()))
		}
		if u.snap == nil && u.frame == nil && u.relabel == nil && u.perf == nil {
			continue
		}
		send(u)
	}
}

// addTrends adds a point to every taxon's trend when due; a taxon seen for the first time
// gets its series at once.
func addTrends(trends map[string]*series, s screening.Snapshot, due bool) {
	counts := map[string]int{screening.Unidentified: s.Unidentified.Count}
	for _, t := range s.Taxa {
		counts[t.Label] = t.Count
	}
	for label, n := range counts {
		tr := trends[label]
		if tr == nil {
			tr = newSeries(trendPoints)
			trends[label] = tr
			tr.Add(float64(n))
			continue
		}
		if due {
			tr.Add(float64(n))
		}
	}
	if due {
		for label, tr := range trends {
			if _, ok := counts[label]; !ok {
				tr.Add(0) // recounted under a higher threshold: gone
			}
		}
	}
}

// liveStatus is the line above the live view.
func liveStatus(sess *session, s screening.Snapshot, fps float64) string {
	parts := []string{sess.spec.Describe()}
	if s.LastFrame.Source != "" || s.Frames.Segmented > 0 {
		parts = append(parts, fmt.Sprintf("frame %d", s.LastFrame.Index+1))
	}
	if sess.run != nil {
		if n := sess.run.Files(); n > 0 {
			parts[len(parts)-1] += fmt.Sprintf(" of %d", n)
		}
	}
	if s.SoFar {
		// The counts are per litre of what was read, not of the volume still unread;
		// levels wait for the interval's lower bound (screening Config.Expected). Said
		// early in the line: its end is cut off in a narrow window.
		parts = append(parts, fmt.Sprintf("counts per litre of the %s of %s mL read so far", fmtVolume(s.Sample.VolumeML), fmtVolume(s.Examined.DeclaredML)))
	}
	if fps > 0 {
		parts = append(parts, fmt.Sprintf("%.1f fps", fps))
	}
	parts = append(parts, fmt.Sprintf("%d dropped", s.Frames.Dropped))
	if n := s.Frames.Failed - s.Frames.Blank - s.Frames.Crowded; n > 0 {
		parts = append(parts, fmt.Sprintf("%d unreadable", n))
	}
	if n := s.Frames.Blank; n > 0 {
		// A camera with its lamp off streams black frames: said live, where it is fixed.
		parts = append(parts, fmt.Sprintf("%d blank (lamp off or saturated: not examined)", n))
	}
	if n := s.Frames.Crowded; n > 0 {
		// Said early in the line, with the fix: a narrow window cuts its end off.
		parts = append(parts, fmt.Sprintf("%d too crowded (not examined: dilute the sample)", n))
	}
	parts = append(parts, fmt.Sprintf("%d object%s in view", len(s.LastFrame.Objects), plural(len(s.LastFrame.Objects))))
	if f := focusStatus(s); f != "" {
		parts = append(parts, f)
	}
	parts = append(parts, fmt.Sprintf("%s %s counted", fmtCount(s.Cells.Found), countedNoun(s.Taxa)))
	if s.Cells.Pending > 0 {
		parts = append(parts, fmt.Sprintf("%d waiting for the model", s.Cells.Pending))
	}
	parts = append(parts, fmtDuration(s.Elapsed))
	return strings.Join(parts, " · ")
}

// focusStatus says how sharp the frame in view is and how many frames were out of
// focus; "" before the segmenter has judged a frame with objects.
func focusStatus(s screening.Snapshot) string {
	if s.LastFrame.Focus == 0 && s.Frames.OutOfFocus == 0 {
		return ""
	}
	st := fmt.Sprintf("focus %.2f", s.LastFrame.Focus)
	switch {
	case s.LastFrame.Focus == 0 && s.LastFrame.OutOfFocus:
		st = "focus: nothing found in a field that had cells"
	case s.LastFrame.Focus == 0:
		st = "focus: no object in view to judge it by"
	}
	switch {
	case s.LastFrame.Held:
		st += " (out of focus: waiting for a sharper frame)"
	case s.LastFrame.OutOfFocus:
		st += " (out of focus)"
	}
	if n := s.Frames.OutOfFocus; n > 0 {
		st += fmt.Sprintf(", %d frames out of focus", n)
	}
	if n := s.Frames.Oversize; n > 0 {
		st += fmt.Sprintf(" · %d objects over a tenth of the frame", n)
	}
	return st
}

// rateMeter turns a growing counter into a rate over about the last second.
type rateMeter struct {
	t    time.Time
	n    int
	last float64
}

func newRateMeter() *rateMeter { return &rateMeter{} }

func (r *rateMeter) rate(now time.Time, n int) float64 {
	if r.t.IsZero() {
		r.t, r.n = now, n
		return 0
	}
	if dt := now.Sub(r.t); dt >= time.Second {
		r.last = float64(n-r.n) / dt.Seconds()
		r.t, r.n = now, n
	}
	return r.last
}

// apply shows an update (UI goroutine). Updates of a run that is no longer the app's are
// dropped, except the final one, which ends it.
func (a *mainWindow) apply(sess *session, u uiUpdate) {
	if u.frame != nil {
		if a.sess == sess {
			a.live.SetFrame(u.frame.Img, u.frame.Size, u.overlays)
		}
		sess.frames.Shown(u.frame)
	} else if u.relabel != nil && a.sess == sess {
		a.live.SetOverlays(u.relabel)
	}
	if a.sess != sess {
		return
	}
	if u.status != "" {
		a.liveStatus.SetText(u.status)
	}
	if u.snap != nil {
		a.lastSnap = *u.snap
		a.counts.SetRows(u.rows)
		ctx := "sample " + u.snap.Sample.ID
		states := u.snap.Alerts
		switch {
		case sess.earlier != nil && !u.ended:
			// The whole sample so far, its earlier runs with this one's live counts.
			states = evaluateWithEarlier(sess.rules, sess.earlier, *u.snap)
			ctx += fmt.Sprintf(", all %d runs so far", sess.earlier.runs+1)
		case sess.scope != "":
			ctx += ", this run only"
		}
		partial := false
		if u.ended {
			var end string
			end, partial = endedContext(u.snap.Examined)
			ctx += end
		}
		a.banner.Set(states, u.snap.Pack, a.watching(sess.rules), ctx, sess.rules.CannotSee())
		a.banner.SetPartial(partial)
		a.notifier.Events(u.snap.Events)
		if n := sess.run.Files(); n > 0 {
			done, pending := u.snap.Frames.Segmented, u.snap.Cells.Pending
			// The bar follows the frames read; the cells still to classify are said on
			// it, or it stood at 100% while the counts went on rising (helper-40).
			a.progress.TextFormatter = func() string { return progressText(done, n, pending) }
			a.progress.SetValue(float64(done))
		}
	}
	if u.ended && u.snap != nil {
		a.perf.SetLastRunModel(string(u.snap.Variant))
	}
	if u.perf != nil {
		a.perf.Set(*u.perf)
	}
	if u.ended {
		a.runEnded(sess)
	}
}

// endedContext is what the banner says after the sample's name once its run has ended
// (" (run ended)", or " (stopped: partial)" for a run stopped part way), and whether
// the figures are of part of the sample.
func endedContext(ex screening.Examined) (string, bool) {
	partial := ex.Frames > 0 && ex.Partial()
	switch {
	case partial && ex.Interrupted:
		return " (stopped: partial)", true
	case partial:
		return " (run ended: partial)", true
	}
	return " (run ended)", false
}

// idleLoop keeps the performance panel alive between runs (power at rest, memory).
func (a *mainWindow) idleLoop() {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var pending atomic.Bool
	for {
		select {
		case <-a.ctx.Done():
			return
		case <-tick.C:
		}
		if pending.Load() || a.activeRuns.Load() > 0 {
			continue // a run's bridge feeds the panel meanwhile
		}
		f := a.readPerf(time.Now(), false)
		if f == nil {
			continue
		}
		pending.Store(true)
		a.runOnUI(func() {
			defer pending.Store(false)
			if a.sess == nil {
				a.perf.Set(*f)
			}
		})
	}
}

// progressText is the run's progress bar text: the frames read of the folder's, and the
// cells found still to classify.
func progressText(done, files, pending int) string {
	if pending > 0 {
		return fmt.Sprintf("%d/%d frames · %d to classify", done, files, pending)
	}
	return fmt.Sprintf("%d/%d frames", done, files)
}
