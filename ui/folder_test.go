package ui

import (
	"context"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/phytoscreen/phytoscreen/internal/testutil"

	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/power"
	"github.com/phytoscreen/phytoscreen/screening"
)

// TestFolderOfCellImages screens a real folder through capture's folder source and the
// single-cell segmenter: every readable image is one cell, the broken one is skipped and
// said so, and the progress bar follows.
func TestFolderOfCellImages(t *testing.T) {
	dir := testutil.CellFolder(t, 12)
	h := newHarness(t, nil, realSources(t), func(d *app.Services) {
		d.NewSegmenter = nil // the session's own: one cell per image
	})
	h.clf.anyCrop = true
	h.a.sample.ID.SetText("S-FOLDER")
	h.a.startSource(capture.Cells(dir))
	h.pump("the progress bar", 10*time.Second, func() bool { return h.a.progressBox.Visible() || h.a.sess == nil })
	if h.a.progress.Max != 13 {
		t.Errorf("progress max %v, want 13 image files", h.a.progress.Max)
	}
	h.waitIdle()
	s := h.a.lastSnap
	if s.Cells.Found != 12 || s.Frames.Segmented != 12 {
		t.Errorf("found %d cells in %d frames, want 12 in 12", s.Cells.Found, s.Frames.Segmented)
	}
	// The bar says the frames read, and the cells still to classify (it stood at 100%
	// while the counts went on rising: helper-40).
	if got := h.a.progress.TextFormatter(); got != "12/13 frames" {
		t.Errorf("progress text at the end %q, want 12/13 frames", got)
	}
	if got := progressText(13, 13, 42); got != "13/13 frames · 42 to classify" {
		t.Errorf("progress text with cells to classify %q", got)
	}
	if h.a.progressBox.Visible() {
		t.Error("the progress bar stayed after the run")
	}
	if len(s.LastFrame.Objects) != 1 {
		t.Errorf("last frame shows %d objects, want the one cell", len(s.LastFrame.Objects))
	}
	c, err := h.st.Counts(h.a.ctx, "S-FOLDER")
	if err != nil {
		t.Fatal(err)
	}
	total := c.Unidentified.Count
	for _, x := range c.Taxa {
		total += x.Count
	}
	if total != 12 {
		t.Errorf("stored %d cells, want 12", total)
	}
	// The skipped file is listed at the end with why, not only flashed in the status bar.
	if !strings.Contains(h.a.lastMessage, "2 files skipped") || !strings.Contains(h.a.lastMessage, "zz-broken.png: empty file") || !strings.Contains(h.a.lastMessage, "notes.txt: not an image file") {
		t.Errorf("the end-of-run message does not list the skipped file:\n%s", h.a.lastMessage)
	}
}

// A folder none of whose files reads: the banner says nothing was checked (it said "no
// alert"), the live pane leaves "Opening", and the files are listed with why.
func TestFolderNothingReadable(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string][]byte{"a.png": nil, "b.jpg": []byte("\xff\xd8 not a jpeg"), "c.png": []byte("notes")} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h := newHarness(t, nil, realSources(t))
	h.a.sample.ID.SetText("S-NONE")
	h.a.startSource(capture.Spec{Kind: capture.KindFolder, Path: dir})
	h.waitIdle()
	if got := h.a.banner.Headline(); !strings.Contains(got, "Not checked") {
		t.Errorf("banner %q after a run that read nothing", got)
	}
	for _, want := range []string{"Nothing examined", "a.png: empty file", "b.jpg: corrupt image header", "c.png: not a JPEG"} {
		if !strings.Contains(h.a.lastMessage, want) {
			t.Errorf("the message lacks %q:\n%s", want, h.a.lastMessage)
		}
	}
	if ok, _ := h.st.HasSample(h.a.ctx, "S-NONE"); ok {
		t.Error("a run that read nothing stored a sample")
	}
}

// estimateMeter is a meter with no sensor but the CPU-time estimate (10 W a busy core),
// of the CPU time *cpu, sampled only when asked.
func estimateMeter(cpu *time.Duration) *power.Meter {
	est := power.NewEstimate(10, func() (time.Duration, error) { return *cpu, nil })
	return power.NewMeter(power.Config{Sensors: []power.Sensor{est}, Total: power.ChooseTotal([]power.Sensor{est}), Interval: -1})
}

func TestPerfPanelLabelsEstimates(t *testing.T) {
	var cpu time.Duration
	m := estimateMeter(&cpu)
	h := newHarness(t, nil, func(d *app.Services) { d.Meter = m })
	m.Start(context.Background())
	m.Begin()
	cpu += 500 * time.Millisecond
	time.Sleep(20 * time.Millisecond)
	m.Sample()
	f := h.a.readPerf(time.Now(), true)
	if f == nil {
		t.Fatal("no figures")
	}
	h.a.perf.Set(*f)
	if v := h.a.perf.Watts.Value(); !strings.HasSuffix(v, "W (estimate)") {
		t.Errorf("watts %q not labelled an estimate", v)
	}
	if !strings.Contains(h.a.perf.Source(), "estimated from CPU time, not measured") {
		t.Errorf("source line %q", h.a.perf.Source())
	}
	if d := h.a.perf.CPU.Detail(); !strings.Contains(d, "cores") {
		t.Errorf("cpu detail %q", d)
	}
}

func TestSparklineDraws(t *testing.T) {
	dst := image.NewRGBA(image.Rect(0, 0, 60, 20))
	drawSpark(dst, []float64{1, 2, math.NaN(), 4, 3}, color.NRGBA{0xff, 0, 0, 0xff})
	painted := 0
	for i := 3; i < len(dst.Pix); i += 4 {
		if dst.Pix[i] > 0 {
			painted++
		}
	}
	if painted < 60 {
		t.Errorf("only %d pixels painted", painted)
	}
	empty := image.NewRGBA(image.Rect(0, 0, 10, 10))
	drawSpark(empty, []float64{math.NaN()}, color.NRGBA{0xff, 0, 0, 0xff})
	for _, p := range empty.Pix {
		if p != 0 {
			t.Fatal("drew something for no data")
		}
	}
	_ = screening.Unidentified
}

// A folder holding one real frame twice (with and without its orientation tag, as the
// shared Microcystis folder does) and a broken file: the end-of-run message tells the
// duplicate (left out, nothing to fix) from the unreadable file (with its fix).
func TestFolderDuplicatesToldApart(t *testing.T) {
	dir := realMicrocystisFrames(t, map[string]string{"a.jpg": "20230608145509(1).jpg", "b.jpg": "20230608145509(2).jpg", "c.jpg": "20230608220602(1).jpg"})
	if err := os.WriteFile(filepath.Join(dir, "d.png"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("stage 12.1 4.3"), 0o644); err != nil { // not a frame: no water lost
		t.Fatal(err)
	}
	h := newHarness(t, nil, realSources(t))
	h.a.sample.ID.SetText("S-DUP")
	h.a.startSource(capture.Spec{Kind: capture.KindFolder, Path: dir})
	h.waitIdle()
	for _, want := range []string{"1 file of", "could not be read and was skipped", "1 other held the pixels of a frame read before", "left out, so their cells count once",
		"is not a frame (not an image file): left aside, no water lost.",
		"b.jpg: the same image as", "d.png: empty file", "Each line says how to fix its file"} {
		if !strings.Contains(h.a.lastMessage, want) {
			t.Errorf("the message lacks %q:\n%s", want, h.a.lastMessage)
		}
	}
}

// realSources has the harness open folders and files through the app's own sources
// (capture's folder source), not the test's scripted one.
func realSources(t *testing.T) harnessOpt {
	return func(d *app.Services) {
		d.Open = func(ctx context.Context, spec capture.Spec, s app.Settings, opt capture.OpenOptions) (capture.Source, error) {
			return app.OpenSource(spec, s, t.TempDir(), opt)
		}
	}
}

// A folder whose files left out need no fixing (a repeated frame, a notes file): the end
// of the run says so in the status line, with no message to close (helper-38 closed
// "87 files skipped … Nothing to fix" after every folder); a colony-counting pack's
// objects are not called cells there. The system's .DS_Store is not even counted.
func TestFolderLeftOutNeedsNoMessage(t *testing.T) {
	dir := realMicrocystisFrames(t, map[string]string{"a.jpg": "20230608145509(1).jpg", "b.jpg": "20230608145509(2).jpg", "c.jpg": "20230608220602(1).jpg"})
	for name, data := range map[string]string{"notes.txt": "stage 12.1 4.3", ".DS_Store": "finder"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h := newHarness(t, nil, realSources(t))
	h.a.sample.ID.SetText("S-LEFT")
	h.a.startSource(capture.Spec{Kind: capture.KindFolder, Path: dir})
	h.waitIdle()
	if h.a.lastMessage != "" {
		t.Errorf("a message to close for files that need no fixing:\n%s", h.a.lastMessage)
	}
	if want := "2 files left out, nothing to fix: 1 repeat another frame of the folder (the whole folder, checked before reading; counted once), 1 not a frame (listed in the log)"; !strings.Contains(h.a.status.Text, want) {
		t.Errorf("status %q lacks %q", h.a.status.Text, want)
	}
	if !strings.HasPrefix(h.a.status.Text, "Sample S-LEFT: ") || !strings.Contains(h.a.status.Text, " in 2 frames") {
		t.Errorf("status %q: want the sample's two distinct frames", h.a.status.Text)
	}
}

// A named pipe named as a frame in a folder (frame.jpg made by mkfifo) is never opened
// (the run would wait for a writer for ever), and is said at the end of the run as a file
// left out that is no frame: it was dropped without a word (helper-87), and it is not
// water lost, since the folder's frames never counted it.
func TestFolderFIFONamedAsFrame(t *testing.T) {
	dir := realMicrocystisFrames(t, map[string]string{"a.jpg": "20230608145509(1).jpg", "c.jpg": "20230608220602(1).jpg"})
	if err := syscall.Mkfifo(filepath.Join(dir, "b.jpg"), 0o644); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, nil, realSources(t))
	h.a.sample.ID.SetText("S-FIFO")
	h.a.startSource(capture.Spec{Kind: capture.KindFolder, Path: dir})
	h.waitIdle() // fails on its timeout should the run open the FIFO
	if want := "1 file left out, nothing to fix: 1 not a frame (listed in the log)"; !strings.Contains(h.a.status.Text, want) || h.a.lastMessage != "" {
		t.Errorf("status %q, message %q: want the status to say %q", h.a.status.Text, h.a.lastMessage, want)
	}
	if !strings.Contains(h.a.status.Text, " in 2 frames") {
		t.Errorf("status %q: want the two frames read", h.a.status.Text)
	}
}

// Colonies are objects: the end of a run that counted some does not call them cells.
func TestRunEndCallsColoniesObjects(t *testing.T) {
	h := newHarness(t, nil)
	h.screenOneCellFrames("trichodesmium_puff", 0.9, "S-COLONY", 2)
	if want := "Sample S-COLONY: 2 objects (cells, colonies, filaments) counted (0 unidentified) in 2 frames"; !strings.HasPrefix(h.a.status.Text, want) {
		t.Errorf("status %q, want it to start with %q", h.a.status.Text, want)
	}
}

// The folder dialog asks the sample's ID, site, volume and factor where they are read
// (it covers the sample panel), and the run takes them (the site was missing: a folder
// of another pond was stored under the last sample's site, helper-52).
func TestFolderDialogTakesTheSample(t *testing.T) {
	dir := realMicrocystisFrames(t, map[string]string{"a.jpg": "20230608145509(1).jpg", "c.jpg": "20230608220602(1).jpg"})
	h := newHarness(t, nil, realSources(t))
	h.a.sample.Volume.SetText("1")
	h.a.sample.Site.SetText("Pond 3")
	h.a.OpenFolderPath(dir)
	f := h.a.folderSample
	if f == nil {
		t.Fatal("the folder dialog did not open")
	}
	// Files, not frames: a repeated frame is left out when the run opens.
	if want := ": 2 image files, typically 320 x 240 pixels.\nA file that repeats an image read before is counted once"; !strings.Contains(f.info.Text, want) {
		t.Errorf("the dialog says %q, want %q", f.info.Text, want)
	}
	// The bench camera's colour frames and the gray default pack: said before Start.
	if want := "Note: a.jpg is in colour, and pack " + h.a.svc.Pack.Name + " reads gray images"; !strings.Contains(f.info.Text, want) {
		t.Errorf("the dialog says %q, want %q", f.info.Text, want)
	}
	// The body, note and form, fits the dialog at its width (or scrolls where the window
	// is lower): sized unwrapped, the buttons covered the form (helper-59).
	need := heightAt(f.view.Content, f.view.Size().Width)
	if got, room := f.view.Size().Height, h.a.win.Canvas().Size().Height-dialogChrome; got+1 < min(need, room) || f.view.Size().Width < sampleDialogWidth {
		t.Errorf("the dialog's body is %v, its content needs %.0f high (window leaves %.0f)", f.view.Size(), need, room)
	}
	if f.Volume.Text != "1" || f.ID.Text != h.a.sample.ID.Text || f.Site.Text != "Pond 3" {
		t.Errorf("the dialog starts from the panel's sample: volume %q, ID %q, site %q", f.Volume.Text, f.ID.Text, f.Site.Text)
	}
	f.ID.SetText("S-DIALOG")
	f.Site.SetText("Intake")
	f.Volume.SetText("0.05")
	f.Factor.SetText("10")
	f.dialog.Confirm()
	h.waitIdle()
	si, err := h.st.Sample(h.a.ctx, "S-DIALOG")
	if err != nil {
		t.Fatalf("the run did not store the sample named in the dialog: %v", err)
	}
	if si.VolumeML != 0.05 || si.Factor != 10 || si.Site != "Intake" {
		t.Errorf("stored volume %g mL, factor %g, site %q; want 0.05, 10 and Intake from the dialog", si.VolumeML, si.Factor, si.Site)
	}
	if h.a.sample.Volume.Text != "0.05" {
		t.Errorf("the sample panel's volume %q, want the dialog's 0.05", h.a.sample.Volume.Text)
	}
}

// A run stopping (its cells still being classified) cannot be paused: Ctrl+Space then
// said "Paused" over a run that was ending (helper-38).
func TestStoppingRunIsNotPaused(t *testing.T) {
	h := newHarness(t, nil)
	cop := labelIndex(t, h.a.svc.Pack, "copepod_calanoid")
	src := newGatedSource(5, func(int) []fakeCell { return []fakeCell{{cop, 0.9}} })
	h.startRun(src, "S-STOPPING", 1)
	src.release(1)
	h.a.Stop()
	h.a.StartOrPause()
	if h.a.runState.Text != "Stopping…" || (h.a.sess != nil && h.a.sess.run.Paused()) {
		t.Errorf("after Stop, Ctrl+Space: state %q, paused %v", h.a.runState.Text, h.a.sess != nil && h.a.sess.run.Paused())
	}
	if !h.a.sample.Pause.Disabled() {
		t.Error("Pause stays enabled on a stopping run")
	}
	src.release(4)
	h.waitIdle()
}

// realMicrocystisFrames copies frames of ../shared's real Microcystis folder into a new
// folder under the names given (name -> the frame's file there).
func realMicrocystisFrames(t *testing.T, names map[string]string) string {
	t.Helper()
	real := filepath.Join(testutil.RepoRoot(t), "..", "shared", "data", "microscope-frames", "microcystis")
	dir := t.TempDir()
	for name, src := range names {
		data, err := os.ReadFile(filepath.Join(real, src))
		if err != nil {
			t.Fatalf("%v: the test needs ../shared/data/microscope-frames", err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// A video chosen asks the sample's ID, volume and factor before it starts, as a folder
// does: it started at once on the panel's defaults, and its concentrations stayed on the
// wrong volume (helper-41).
func TestVideoDialogTakesTheSample(t *testing.T) {
	video, err := filepath.Abs("../assets/demo/demo.avi")
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, nil, realSources(t))
	h.a.sample.Volume.SetText("1")
	h.a.OpenVideoPath(video)
	f := h.a.folderSample
	if f == nil {
		t.Fatal("choosing a video asked nothing")
	}
	if h.a.sess != nil {
		t.Fatal("the video started before its sample was confirmed")
	}
	if !strings.Contains(f.info.Text, "demo.avi") || f.Volume.Text != "1" {
		t.Errorf("the dialog says %q, volume %q", f.info.Text, f.Volume.Text)
	}
	f.ID.SetText("S-VIDEO")
	f.Volume.SetText("0.25")
	f.dialog.Confirm()
	// A wait, not a speed check: under -race on a loaded 2-core CI machine the 36 frames
	// took over a minute (22 read when a 60 s wait ran out, 2026-12-05).
	h.pump("the video's run to end", 3*time.Minute, func() bool { return h.a.sess == nil && h.a.lastSnap.Sample.ID == "S-VIDEO" })
	si, err := h.st.Sample(h.a.ctx, "S-VIDEO")
	if err != nil {
		t.Fatalf("the run did not store the sample named in the dialog: %v", err)
	}
	if si.VolumeML != 0.25 {
		t.Errorf("stored volume %g mL, want the dialog's 0.25", si.VolumeML)
	}
}

// The folder dialog counts the files it will skip for not being images, before Start.
func TestFolderDialogCountsOtherFiles(t *testing.T) {
	dir := realMicrocystisFrames(t, map[string]string{"a.jpg": "20230608145509(1).jpg"})
	for _, name := range []string{"notes.txt", "run.mp4.part"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("not a frame"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h := newHarness(t, nil, realSources(t))
	h.a.OpenFolderPath(dir)
	f := h.a.folderSample
	if f == nil {
		t.Fatal("the folder dialog did not open")
	}
	if want := ": 1 image file, typically 320 x 240 pixels; 2 other files, not images, skipped."; !strings.Contains(f.info.Text, want) {
		t.Errorf("the dialog says %q, want %q", f.info.Text, want)
	}
	f.dialog.Hide()
}

// An "open" entry of the source list whose dialog comes to nothing (cancelled, or a
// folder with nothing to screen) leaves the list on the source chosen before: "Folder
// of images…" stayed selected and Start then asked to pick a source (helper-52).
func TestCancelledFolderKeepsTheSource(t *testing.T) {
	h := newHarness(t, nil)
	before := h.a.sample.Source.Selected
	if _, ok := h.a.selectedSource(); !ok {
		t.Fatalf("the harness starts on no source (%q)", before)
	}
	h.a.sample.Source.SetSelected(choiceFolder) // opens the folder dialog
	h.a.OpenFolderPath(t.TempDir())             // an empty folder: nothing to screen
	if got := h.a.sample.Source.Selected; got != before {
		t.Errorf("after a folder with nothing to screen the source list shows %q, want %q as before", got, before)
	}
}

// A folder started from the source list, not through the folder dialog, gets the
// dialog's word on colour frames and a gray pack as its first status (helper-52: a
// folder given with --source started without a word).
func TestStartSaysThePackFitsNot(t *testing.T) {
	dir := realMicrocystisFrames(t, map[string]string{"a.jpg": "20230608145509(1).jpg"})
	h := newHarness(t, nil, realSources(t))
	got := h.a.packFitStatus(capture.Spec{Kind: capture.KindFolder, Path: dir}, "S-FIT")()
	if want := "Note: a.jpg is in colour, and pack " + h.a.svc.Pack.Name + " reads gray images"; !strings.Contains(got, want) || !strings.HasPrefix(got, "Screening ") {
		t.Errorf("the run's first status %q, want it to start the usual way and say %q", got, want)
	}
	if got := h.a.packFitStatus(capture.Spec{Kind: capture.KindDemo}, "S-DEMO")(); got != "" {
		t.Errorf("the demo's first status %q, want the usual one", got)
	}
}

// Once a run has ended, the draw at rest is measured again and kept where it is lower
// than the baseline held: a baseline read while the app was still loading (here declared
// far above any real draw) gives way before the next run.
func TestBaselineLoweredAtRestAfterRun(t *testing.T) {
	var cpu time.Duration
	m := estimateMeter(&cpu)
	h := newHarness(t, nil, func(d *app.Services) { d.Meter = m })
	m.Start(context.Background())
	m.SetBaseline(500, time.Second) // the launch's, read while busy
	h.runToEnd(3)
	h.pump("the baseline measured again at rest", restAfterRun+4*baselineFor+5*time.Second, func() bool {
		w, ok := m.Baseline()
		return ok && w < 500
	})
	if w, _ := m.Baseline(); w > 10+0.01 { // the estimate's 10 W at full load is its most
		t.Errorf("baseline %g W at rest, want at most the estimate's 10 W", w)
	}
}

// The folders screened lately are offered again after a restart, two folders of one
// name told apart, the last one chosen (the list kept only the last source).
func TestRecentFoldersAfterRestart(t *testing.T) {
	fy := test.NewTempApp(t)
	root := t.TempDir()
	day1, day2 := filepath.Join(root, "day1", "frames"), filepath.Join(root, "day2", "frames")
	for _, d := range []string{day1, day2} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	h := newHarness(t, fy)
	for _, d := range []string{day1, day2} {
		h.a.chooseSource(capture.Spec{Kind: capture.KindFolder, Path: d})
		h.runToEnd(1)
	}

	again := newHarness(t, fy) // the same preferences: a restart
	again.a.refreshSources()   // as the launch fills it (newApp), before the harness chose its test video
	labels := map[string]string{}
	for _, o := range again.a.sample.Source.Options {
		if spec, ok := again.a.sourceSpecs[o]; ok && spec.Kind == capture.KindFolder {
			labels[spec.Path] = o
		}
	}
	if len(labels) != 2 || labels[day1] == "" || labels[day2] == "" || labels[day1] == labels[day2] {
		t.Fatalf("after a restart the source list offers folders %v; want day1/frames and day2/frames, each under its own name (options %q)", labels, again.a.sample.Source.Options)
	}
	if sel := again.a.sample.Source.Selected; sel != labels[day2] {
		t.Errorf("chosen %q, want the last folder screened, %q", sel, labels[day2])
	}
}
