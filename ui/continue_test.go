package ui

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/internal/testutil"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
)

// cellFolder is a folder of n single-cell images and nothing else.
func cellFolder(t *testing.T, n int) string {
	t.Helper()
	dir := testutil.CellFolder(t, n)
	for _, extra := range []string{"notes.txt", "zz-broken.png"} {
		if err := os.Remove(filepath.Join(dir, extra)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// cellHarness is a harness on the session store at db ("" for a new one) that reads
// real folders, one cell per image, and classifies every crop.
func cellHarness(t *testing.T, db string) *harness {
	t.Helper()
	if db == "" {
		db = filepath.Join(t.TempDir(), "sessions.db")
	}
	h := newHarnessStore(t, nil, nil, db, realSources(t), func(d *app.Services) {
		d.NewSegmenter = nil // the session's own: one cell per image
	})
	h.clf.anyCrop = true
	return h
}

// storedObjects is what sample id holds, identified or not (0 before it is stored).
func (h *harness) storedObjects(id string) int {
	c, err := h.st.Counts(h.a.ctx, id)
	if err != nil {
		return 0
	}
	n := c.Unidentified.Count
	for _, x := range c.Taxa {
		n += x.Count
	}
	return n
}

// checkWhole checks that sample id holds two runs that together read the folder of n
// images once each and examined all of volumeML, under one threshold and one model.
func (h *harness) checkWhole(id string, n int, volumeML float64) {
	h.t.Helper()
	si, err := h.st.Sample(h.a.ctx, id)
	if err != nil {
		h.t.Fatal(err)
	}
	if len(si.Runs) != 2 {
		h.t.Fatalf("sample %s holds %d runs, want the stopped one and its continuation", id, len(si.Runs))
	}
	if si.Partial() || math.Abs(si.VolumeML-volumeML) > 1e-9 {
		h.t.Errorf("sample %s: %g of %g mL examined, partial %v; want the whole %g mL", id, si.VolumeML, si.VolumeGiven(), si.Partial(), volumeML)
	}
	if got := h.storedObjects(id); got != n {
		h.t.Errorf("sample %s holds %d objects, want the folder's %d images once each", id, got, n)
	}
	a, b := si.Runs[0], si.Runs[1]
	if b.Threshold != a.Threshold || b.Model != a.Model || b.Rules != a.Rules || b.Spec != a.Spec {
		h.t.Errorf("the continuation ran with threshold %g, model %s, rules %q of %s; the stopped run with %g, %s, %q of %s",
			b.Threshold, b.Model, b.Rules, b.Spec, a.Threshold, a.Model, a.Rules, a.Spec)
	}
	h.t.Logf("sample %s: run %d read %d frames, run %d the other %d; %g mL of %g; %d objects", id, a.ID, a.FramesSeen, b.ID, b.FramesSeen, si.VolumeML, si.VolumeGiven(), h.storedObjects(id))
}

// A folder's run stopped part way is taken up from History: the sample shows Continue
// run, which reads the rest of the folder into the same sample with the stopped run's
// threshold and model (the window's had changed since), and the sample ends whole, each
// image once. The app could only say the command to type (helper-43).
func TestContinueStoppedRunFromHistory(t *testing.T) {
	dir := cellFolder(t, 40)
	h := cellHarness(t, "")
	held, release := holdAtBatch(h, 3) // the run held at its third batch
	h.a.sample.ID.SetText("S-CONT")
	h.a.sample.Volume.SetText("2")
	h.a.sample.Factor.SetText("1")
	h.a.startSource(capture.Cells(dir))
	h.pump("the third batch held", 20*time.Second, func() bool { return isClosed(held) && h.a.sess != nil && h.a.sess.run != nil })
	if sc := h.a.counts.Scope(); sc != "" {
		t.Errorf("a run of a whole sample: the table says %q above its rows", sc)
	}
	h.a.Stop()
	close(release)
	h.waitIdle()
	si, err := h.st.Sample(h.a.ctx, "S-CONT")
	if err != nil {
		t.Fatal(err)
	}
	if !si.Partial() || len(si.Runs) != 1 {
		t.Fatalf("stopped after %g of 40 images: %d runs, partial %v; the test needs a partial run", h.a.progress.Value, len(si.Runs), si.Partial())
	}
	// The window's settings move on; the sample's runs must keep the first's.
	if err := h.a.SetThreshold(0.8); err != nil {
		t.Fatal(err)
	}
	h.a.SwitchModel(inference.Base)
	h.pump("the model switch", 5*time.Second, func() bool { return !h.a.switching })

	// The technician has typed the next sample: the panel shows the continued one
	// while it runs, then gives the typing back.
	h.a.sample.ID.SetText("S-NEXT")
	h.a.sample.Notes.SetText("bottle 7, Loch B")
	h.a.history.Select("S-CONT")
	h.pump("Continue run shown", 5*time.Second, func() bool { return h.a.history.cont.Visible() })
	// The continuation held at its first batch, so that what it shows while it runs is
	// seen: its 9 frames were read within one poll on a CI machine, and the run had ended.
	_, resume := holdAtBatch(h, int(h.clf.batches.Load())+1)
	test.Tap(h.a.history.cont)
	h.pump("the continuation to start", 10*time.Second, func() bool {
		return h.a.sess != nil && h.a.runState.Text == "Running" || h.a.lastError != nil
	})
	if !strings.HasPrefix(h.a.status.Text, "Continuing sample S-CONT, its run 1 of 1, begun ") || h.a.sample.ID.Text != "S-CONT" || h.a.sample.Volume.Text != "2" {
		t.Errorf("status %q, panel %s of %s mL: want it to say which run is continued, and show S-CONT of 2 mL", h.a.status.Text, h.a.sample.ID.Text, h.a.sample.Volume.Text)
	}
	// The live table counts this run only, and says so above its rows, where the status
	// line is soon replaced (helper-54).
	if sc := h.a.counts.Scope(); !strings.HasPrefix(sc, "This run only (continuing its run 1 of 1, begun ") || h.a.counts.scope.Hidden {
		t.Errorf("continuation: the table says %q above its rows (hidden %v)", sc, h.a.counts.scope.Hidden)
	}
	close(resume)
	h.waitIdle()
	if h.a.sample.ID.Text != "S-NEXT" || h.a.sample.Notes.Text != "bottle 7, Loch B" {
		t.Errorf("after the continuation the panel holds %q, notes %q: want the next sample as typed", h.a.sample.ID.Text, h.a.sample.Notes.Text)
	}
	if h.a.lastError != nil {
		t.Fatalf("the continuation failed: %v", h.a.lastError)
	}
	h.checkWhole("S-CONT", 40, 2)
	if want := "; sample S-CONT now holds 2 runs, 2 of 2 mL examined (whole): the counts shown are this run's, on its share; the banner and History the sample's"; !strings.Contains(h.a.status.Text, want) {
		t.Errorf("status at the end %q lacks %q", h.a.status.Text, want)
	}
	// The banner is the sample's, all runs together, as History measures it: it showed
	// the continuation's share under the sample's name (helper-52).
	h.pump("the banner on the whole sample", 5*time.Second, func() bool { return h.a.banner.more.Text() == "sample S-CONT, all 2 runs (run ended)" })
	if v := h.a.svc.Model.Variant(); v != inference.Optimised || h.a.set.Threshold != 0.8 {
		t.Errorf("after the continuation the window's model is %s (want the run's optimised, switched to) and threshold %g (want its own 0.8)", v, h.a.set.Threshold)
	}
	// Whole now: no Continue run, and asked anyway, the store says why not.
	h.a.history.Select("S-CONT")
	h.pump("Continue run hidden", 5*time.Second, func() bool { return !h.a.history.cont.Visible() })
	h.a.lastError = nil
	h.a.ContinueRun("S-CONT")
	h.pump("the refusal", 5*time.Second, func() bool { return h.a.lastError != nil })
	if !errors.Is(h.a.lastError, store.ErrNotContinuable) {
		t.Errorf("continuing a whole sample: %v", h.a.lastError)
	}
}

const cutChildEnv = "PHYTOSCREEN_UI_CUT_CHILD"

// A folder's run killed part way (kill -9: no end recorded) is offered to be taken up
// at the next launch: the notice of the run cut short has Continue the run, which reads
// the rest into the same sample, each image once, and the sample ends whole. The test
// runs itself as the child that is killed.
func TestContinueCutRunAtLaunch(t *testing.T) {
	if spec := os.Getenv(cutChildEnv); spec != "" {
		db, dir, _ := strings.Cut(spec, "\n")
		killedMidRun(t, db, dir)
		return
	}
	dir := cellFolder(t, 40)
	db := filepath.Join(t.TempDir(), "sessions.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestContinueCutRunAtLaunch$")
	// The child's own temporary folders go under one of the parent's: killed, it cannot
	// remove them, and each run of the test left one behind in /tmp.
	cmd.Env = append(os.Environ(), cutChildEnv+"="+db+"\n"+dir, "TMPDIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL || !strings.Contains(string(out), "killed after ") {
		t.Fatalf("the child was not killed mid-run (%v):\n%s", err, out)
	}
	t.Logf("child: %s", strings.TrimSpace(string(out)))

	h := cellHarness(t, db)
	var asked string
	h.a.confirm = func(title, msg, yes, no string, answer func(bool)) {
		asked = title + "\n" + msg + "\n[" + yes + "] [" + no + "]"
		answer(true)
	}
	if !h.a.noteCutRuns(h.a.ctx) {
		t.Fatal("the run killed was not found cut short")
	}
	h.pump("the continuation to start", 10*time.Second, func() bool { return h.a.sess != nil })
	h.waitIdle()
	for _, want := range []string{cutTitle, "Sample S-CUT: its run started at", "the sample is marked partial", "press Continue the run below", "[Continue the run] [Later]"} {
		if !strings.Contains(asked, want) {
			t.Errorf("the notice lacks %q:\n%s", want, asked)
		}
	}
	if h.a.lastError != nil {
		t.Fatalf("the continuation failed: %v", h.a.lastError)
	}
	h.checkWhole("S-CUT", 40, 2)
}

// killedMidRun is TestContinueCutRunAtLaunch's child: it screens the folder dir into
// sample S-CUT of the store at db, holds the run at its third batch, and kills itself
// once the first two batches are stored.
func killedMidRun(t *testing.T, db, dir string) {
	h := cellHarness(t, db)
	held, release := holdAtBatch(h, 3)   // held there until killed
	t.Cleanup(func() { close(release) }) // should the child fail, its app can close
	h.a.sample.ID.SetText("S-CUT")
	h.a.sample.Volume.SetText("2")
	h.a.sample.Factor.SetText("1")
	h.a.startSource(capture.Cells(dir))
	// The first two batches' objects stored (a batch holds what waits, 1 to 4 images).
	h.pump("2 batches stored", 20*time.Second, func() bool { return isClosed(held) && h.storedObjects("S-CUT") >= 2 })
	fmt.Printf("killed after %d objects stored\n", h.storedObjects("S-CUT"))
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // the kill takes effect
}

// holdAtBatch holds the harness's classifier at its batch n (4 images a batch): held is
// closed once it is reached, and the batch goes on once release is closed. The runs of
// these tests stop part way whatever the machine's speed (a run let go with a delay per
// batch ran to its end under the race detector on a loaded CI machine).
func holdAtBatch(h *harness, n int) (held, release chan struct{}) {
	held, release = make(chan struct{}), make(chan struct{})
	var once sync.Once
	h.clf.hold = func(batch int) {
		if batch == n {
			once.Do(func() { close(held) })
			<-release
		}
	}
	return held, release
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// A run stopped part way says so first, where the window shows it: the status bar
// opens with "Stopped: partial, N of M frames" (it came last, cut off at 1440 px), the
// banner carries PARTIAL and "stopped" beside the sample's name, and the folder's
// repeated files, found before reading, are said to be the whole folder's, not those
// of the frames read (helper-56: "63 files left out" after 32 frames).
func TestStoppedRunSaysPartialFirst(t *testing.T) {
	dir := cellFolder(t, 40)
	names, err := filepath.Glob(filepath.Join(dir, "*.jpg"))
	if err != nil || len(names) == 0 {
		t.Fatalf("the folder's images: %v %v", names, err)
	}
	data, err := os.ReadFile(names[len(names)-1])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "zz-copy.jpg"), data, 0o644); err != nil { // read last: after the stop
		t.Fatal(err)
	}
	h := cellHarness(t, "")
	h.stopPartWay("S-STOP", dir)
	ex := h.a.lastSnap.Examined
	if !ex.Partial() || ex.Frames == 0 {
		t.Fatalf("examined %+v: the test needs a partial run", ex)
	}
	if want := fmt.Sprintf("Stopped: partial, %d of %d frames", ex.Frames, ex.Expected); !strings.HasPrefix(h.a.status.Text, want) {
		t.Errorf("status %q: want it to open with %q", h.a.status.Text, want)
	}
	if want := "1 repeat another frame of the folder (the whole folder, checked before reading"; !strings.Contains(h.a.status.Text, want) {
		t.Errorf("status %q lacks %q", h.a.status.Text, want)
	}
	if more := h.a.banner.more.Text(); !h.a.banner.Partial() || !strings.Contains(more, "sample S-STOP (stopped: partial)") {
		t.Errorf("banner: PARTIAL tag %v, context %q; want the tag and the sample stopped", h.a.banner.Partial(), more)
	}
}

// A pack chosen while a continuation runs is loaded at its end; the banner stays the
// whole sample's, all runs together under the rules it was screened with: it showed the
// continuation's share alone (helper-86: 43.3 M cells/L where History read 46.1 M).
func TestContinuationBannerWholeAfterAPackSwitch(t *testing.T) {
	o := &packOpener{}
	dir := cellFolder(t, 40)
	h := newHarnessStore(t, nil, nil, filepath.Join(t.TempDir(), "sessions.db"), realSources(t), func(d *app.Services) {
		d.NewSegmenter = nil // the session's own: one cell per image
		d.OpenPack = o.open
	})
	h.clf.anyCrop = true
	h.stopPartWay("S-CONT", dir)
	_, resume := holdAtBatch(h, int(h.clf.batches.Load())+1)
	h.a.ContinueRun("S-CONT")
	h.pump("the continuation to start", 10*time.Second, func() bool { return h.a.sess != nil && h.a.runState.Text == "Running" || h.a.lastError != nil })
	h.a.ShowSettings()
	v := h.a.settingsWin
	v.PackDir.SetText("cyano-tcb-10")
	test.Tap(v.Save) // loaded when the run ends
	close(resume)
	h.waitIdle()
	h.pump("the cyanobacteria pack in use", 10*time.Second, func() bool { return h.a.svc.Pack.Name == "cyano-tcb-10" })
	if h.a.lastError != nil {
		t.Fatalf("the continuation failed: %v", h.a.lastError)
	}
	h.pump("the banner on the whole sample", 5*time.Second, func() bool { return h.a.banner.more.Text() == "sample S-CONT, all 2 runs (run ended)" })
}

// A capture folder emptied and filled with the next sample's frames is not "screened
// before" (helper-86: by its path it was, at every sample); its own frames again are,
// by their fingerprints.
func TestRefilledFolderIsNotScreenedBefore(t *testing.T) {
	dir := cellFolder(t, 6)
	h := cellHarness(t, "")
	var asked []string
	h.a.confirm = func(title, msg, yes, no string, answer func(bool)) {
		asked = append(asked, title)
		answer(false)
	}
	h.a.confirmAgain = h.a.confirm
	h.a.sample.ID.SetText("S-MON")
	h.a.startSource(capture.Cells(dir))
	h.waitIdle()
	if h.storedObjects("S-MON") == 0 {
		t.Fatalf("the first sample stored nothing (error %v)", h.a.lastError)
	}
	// The same frames again, as a new sample: asked.
	h.a.sample.ID.SetText("S-MON-AGAIN")
	h.a.startSource(capture.Cells(dir))
	h.waitIdle()
	if len(asked) != 1 || !strings.HasPrefix(asked[0], "Screened before as S-MON") {
		t.Fatalf("the same frames again: asked %q", asked)
	}
	// Emptied and filled with other frames: not asked.
	asked = nil
	old, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	had := map[string]bool{}
	for _, f := range old {
		had[filepath.Base(f)] = true
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	next := testutil.CellFolder(t, 12) // its first 6 are the ones removed
	files, _ := filepath.Glob(filepath.Join(next, "*.jpg"))
	for _, f := range files {
		if had[filepath.Base(f)] {
			continue
		}
		if err := os.Rename(f, filepath.Join(dir, filepath.Base(f))); err != nil {
			t.Fatal(err)
		}
	}
	h.a.sample.ID.SetText("S-TUE")
	h.a.startSource(capture.Cells(dir))
	h.waitIdle()
	if len(asked) != 0 || h.storedObjects("S-TUE") == 0 {
		t.Errorf("the folder filled with other frames: asked %q, %d objects stored (error %v)", asked, h.storedObjects("S-TUE"), h.a.lastError)
	}
}

// A run stopped as the app quits is offered to be continued at the next launch, once,
// as a run cut off is: the next launch said nothing of it (helper-86).
func TestRunStoppedAtQuitOfferedAtLaunch(t *testing.T) {
	dir := cellFolder(t, 40)
	h := cellHarness(t, "")
	h.stopPartWay("S-QUIT", dir)
	// As Close does with that run going.
	h.a.rememberStoppedAtQuit(&session{spec: capture.Cells(dir), sample: screening.NewSample("S-QUIT")})
	var asked string
	h.a.confirm = func(title, msg, yes, no string, answer func(bool)) {
		asked = title + "\n" + msg + "\n[" + yes + "] [" + no + "]"
		answer(true)
	}
	if !h.a.noteCutRuns(h.a.ctx) {
		t.Fatal("the run stopped at quit was not offered")
	}
	h.pump("the continuation to start", 10*time.Second, func() bool { return h.a.sess != nil || h.a.lastError != nil })
	h.waitIdle()
	for _, want := range []string{quitTitle, "Sample S-QUIT was being screened when phytoscreen closed", "[Continue the run] [Later]"} {
		if !strings.Contains(asked, want) {
			t.Errorf("the notice lacks %q:\n%s", want, asked)
		}
	}
	if h.a.lastError != nil {
		t.Fatalf("the continuation failed: %v", h.a.lastError)
	}
	h.checkWhole("S-QUIT", 40, 2)
	asked = ""
	if h.a.noteCutRuns(h.a.ctx) || asked != "" {
		t.Errorf("offered a second time: %q", asked)
	}
}

// stopPartWay screens the folder dir into sample id (2 mL) and stops the run at its third
// batch: a partial run, as a technician's Stop leaves one.
func (h *harness) stopPartWay(id, dir string) {
	h.t.Helper()
	held, release := holdAtBatch(h, 3)
	h.a.sample.ID.SetText(id)
	h.a.sample.Volume.SetText("2")
	h.a.startSource(capture.Cells(dir))
	h.pump("the third batch held", 20*time.Second, func() bool { return isClosed(held) && h.a.sess != nil && h.a.sess.run != nil })
	h.a.Stop()
	close(release)
	h.waitIdle()
}
