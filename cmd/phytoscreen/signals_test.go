package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/store"
)

// programArgsEnv carries the arguments of TestProgramChild, one a line.
const programArgsEnv = "PHYTOSCREEN_PROGRAM_ARGS"

// TestProgramChild is the program itself, main and all (signal handling, exit status),
// run as a child process by the tests below: the test binary holds the same code as the
// built phytoscreen, without a second build.
func TestProgramChild(t *testing.T) {
	args, ok := os.LookupEnv(programArgsEnv)
	if !ok {
		t.Skip("child process of the signal tests (TestFIFOInputStopsAtOnce, TestSIGTERMDuringRun)")
	}
	os.Args = append([]string{"phytoscreen"}, strings.Split(args, "\n")...)
	main() // exits
}

// syncBuffer is a bytes.Buffer that a child's output and the test may use at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// program is a running phytoscreen child process.
type program struct {
	cmd            *exec.Cmd
	stdout, stderr syncBuffer
	done           chan struct{}
	code           int
}

// startProgram starts phytoscreen with args in a child process.
func startProgram(t *testing.T, args ...string) *program {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestProgramChild$")
	cmd.Env = append(os.Environ(), programArgsEnv+"="+strings.Join(args, "\n"), "LANG=C.UTF-8")
	return startCmd(t, cmd)
}

// startCmd starts cmd, its output kept, and kills it when the test ends.
func startCmd(t *testing.T, cmd *exec.Cmd) *program {
	t.Helper()
	p := &program{cmd: cmd, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.cmd.Wait()
		p.code = p.cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

// exited waits up to d for the program to end.
func (p *program) exited(d time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

// waitFor waits up to d for stderr to hold s.
func (p *program) waitFor(s string, d time.Duration) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(p.stderr.String(), s) {
			return true
		}
	}
	return false
}

// A FIFO named as an input: an image to classify, a rules file, a video, a label list.
// Reading one blocks until something writes to it, and neither Ctrl+C nor SIGTERM got
// the program out: now each is refused at once, naming the file, and should one still
// block, SIGINT must end the program within 2 s with a non-zero status.
func TestFIFOInputStopsAtOnce(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"cell.png", "rules.toml", "field.avi", "labels.csv"} {
		if err := syscall.Mkfifo(filepath.Join(dir, name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fifo := func(name string) string { return filepath.Join(dir, name) }
	db := filepath.Join(dir, "s.db")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"classify", []string{"classify", fifo("cell.png")}, fifo("cell.png") + " is a named pipe (FIFO), not a file: give a regular file"},
		{"screen rules", []string{"screen", "--source", "../../testdata/microscope", "--rules", fifo("rules.toml"), "--db", db, "--baseline", "0"},
			"rules file: " + fifo("rules.toml") + " is a named pipe (FIFO), not a file: give a regular file"},
		{"screen source", []string{"screen", "--source", fifo("field.avi"), "--db", db, "--baseline", "0"},
			"source: " + fifo("field.avi") + " is a named pipe (FIFO), not a file: give a regular file"},
		{"eval", []string{"eval", fifo("labels.csv")}, "label list " + fifo("labels.csv") + " is a named pipe (FIFO), not a file: give a regular file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := startProgram(t, c.args...)
			if !p.exited(10 * time.Second) {
				p.cmd.Process.Signal(os.Interrupt)
				if !p.exited(2 * time.Second) {
					t.Fatalf("still running 2 s after SIGINT (blocked on the FIFO):\n%s", p.stderr.String())
				}
			}
			stderr := p.stderr.String()
			if p.code == 0 || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, want non-zero with %q in stderr:\n%s", p.code, c.want, stderr)
			}
			t.Logf("exit %d: %s", p.code, lastLine(stderr))
		})
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// SIGTERM in the middle of a screening run (a folder of 3,000 frames), and SIGINT and
// SIGHUP while the idle baseline is measured: the program stops within a second, in
// order (the summary of what was done on stdout for the run), and exits with 128 + the
// signal's number.
func TestSIGTERMDuringRun(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: loads the model in three child processes")
	}
	frames := fieldFrames(t, 3000, 3000)
	cases := []struct {
		name     string
		sig      syscall.Signal
		baseline string
		code     int
	}{
		{"SIGTERM in the run", syscall.SIGTERM, "0", 143},
		{"SIGINT in the baseline", syscall.SIGINT, "10m", 130},
		{"SIGHUP in the baseline", syscall.SIGHUP, "10m", 129},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := startProgram(t, "screen", "--source", frames, "--db", filepath.Join(t.TempDir(), "s.db"), "--baseline", c.baseline, "--threads", "1")
			// The rules notes come once the model is loaded, just before the store opens
			// and the baseline or the run begins.
			if !p.waitFor("rules preset default", 60*time.Second) {
				t.Fatalf("the model did not load within 60 s:\n%s", p.stderr.String())
			}
			time.Sleep(1500 * time.Millisecond)
			if p.exited(0) {
				t.Fatalf("ended before the signal (exit %d): the run is not long enough for the test:\n%s", p.code, p.stderr.String())
			}
			sent := time.Now()
			if err := p.cmd.Process.Signal(c.sig); err != nil {
				t.Fatal(err)
			}
			if !p.exited(time.Second) {
				t.Fatalf("still running 1 s after %v:\n%s", c.sig, p.stderr.String())
			}
			took := time.Since(sent)
			stderr := p.stderr.String()
			if p.code != c.code || !strings.Contains(stderr, "phytoscreen screen: stopped by "+signalName(c.sig)) {
				t.Errorf("exit %d, want %d and 'stopped by %s':\n%s", p.code, c.code, signalName(c.sig), stderr)
			}
			if strings.Contains(stderr, "quitting now") {
				t.Errorf("quit without stopping in order:\n%s", stderr)
			}
			if c.baseline == "0" && !strings.Contains(p.stdout.String(), "frames") {
				t.Errorf("no summary of the frames screened on stdout:\n%s", p.stdout.String())
			}
			t.Logf("exit %d %v after the signal; stderr ends %q; stdout %d bytes", p.code, took.Round(time.Millisecond), lastLine(stderr), len(p.stdout.String()))
		})
	}
	// Killed mid-run (no signal to catch: kill -9, a crash, the power lost): the next
	// phytoscreen to open the store ends the run and says what was kept, once
	// (helper-41: the app reopened on "Ready." and nothing said the run was cut short).
	t.Run("SIGKILL in the run", func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "s.db")
		p := startProgram(t, "screen", "--source", frames, "--sample", "KILLED", "--db", db, "--baseline", "0", "--threads", "1")
		if !p.waitFor("rules preset default", 60*time.Second) {
			t.Fatalf("the model did not load within 60 s:\n%s", p.stderr.String())
		}
		time.Sleep(3 * time.Second)
		if err := p.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		p.exited(5 * time.Second)
		next := []string{"screen", "--source", "../../testdata/microscope", "--sample", "NEXT", "--db", db, "--baseline", "0"}
		code, _, stderr := run(t, next...)
		if code != exitOK || !strings.Contains(stderr, "Sample KILLED: its run started at") || !strings.Contains(stderr, "the sample is marked partial") {
			t.Fatalf("the next run (exit %d) does not say KILLED's run was cut off:\n%s", code, stderr)
		}
		t.Logf("%s", stderr[strings.Index(stderr, "Sample KILLED"):][:300])
		// The same frames as NEXT, a new sample: screened, with a note naming NEXT.
		if code, _, stderr := run(t, append(next[:3:3], "--sample", "NEXT-2", "--db", db, "--baseline", "0")...); code != exitOK || strings.Contains(stderr, "Sample KILLED") ||
			!strings.Contains(stderr, "these frames were screened before as sample NEXT (on ") {
			t.Errorf("the run after (exit %d) says the cut run again, or not that NEXT holds its frames:\n%s", code, stderr)
		}
	})
}

// fieldFrames writes n frames into a new folder, each its own (a folder reads a frame
// whose pixels it has read before once): two 8x8 corner blocks differ, by more than the
// JPEG quantisation hides. The frames show the fields of testdata/microscope images in
// turn, perField frames each (the stage moved between them), or one field throughout.
func fieldFrames(t *testing.T, n, perField int, images ...string) string {
	t.Helper()
	if len(images) == 0 {
		images = []string{"closterium-20230609124213.jpg"}
	}
	fields := make([]*image.RGBA, len(images))
	for i, name := range images {
		f, err := os.Open(filepath.Join("../../testdata/microscope", name))
		if err != nil {
			t.Fatal(err)
		}
		img, err := jpeg.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		fields[i] = image.NewRGBA(img.Bounds())
		draw.Draw(fields[i], fields[i].Bounds(), img, img.Bounds().Min, draw.Src)
	}
	frames := t.TempDir()
	for i := range n {
		rgba := fields[i/perField%len(fields)]
		draw.Draw(rgba, image.Rect(0, 0, 8, 8), image.NewUniform(color.Gray{uint8(i % 60 * 4)}), image.Point{}, draw.Src)
		draw.Draw(rgba, image.Rect(8, 0, 16, 8), image.NewUniform(color.Gray{uint8(i / 60 * 4)}), image.Point{}, draw.Src)
		var b bytes.Buffer
		if err := jpeg.Encode(&b, rgba, &jpeg.Options{Quality: 85}); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(frames, fmt.Sprintf("f%04d.jpg", i)), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return frames
}

// The signal handling itself, in this process: the first signal cancels the context
// with its cause; a program still busy stopGrace later is ended with the signal's
// status; a second signal ends it at once; a program that ends in time is not.
func TestStopOnSignal(t *testing.T) {
	type result struct {
		code int
		at   time.Time
	}
	start := func() (context.Context, func(), chan result, *syncBuffer) {
		exits := make(chan result, 2)
		var stderr syncBuffer
		ctx, stop := stopOnSignal(&stderr, func(code int) { exits <- result{code, time.Now()} })
		return ctx, stop, exits, &stderr
	}
	cause := func(ctx context.Context) os.Signal {
		var in *interrupted
		if errors.As(context.Cause(ctx), &in) {
			return in.sig
		}
		return nil
	}
	self := func(sig syscall.Signal) time.Time {
		if err := syscall.Kill(os.Getpid(), sig); err != nil {
			t.Fatal(err)
		}
		return time.Now()
	}

	// Busy past the grace: ended with 130.
	ctx, stop, exits, stderr := start()
	sent := self(syscall.SIGINT)
	select {
	case <-ctx.Done():
	case <-time.After(time.Second):
		t.Fatal("SIGINT did not cancel the context within 1 s")
	}
	if got := cause(ctx); got != os.Interrupt {
		t.Errorf("cause %v, want SIGINT", got)
	}
	select {
	case r := <-exits:
		if after := r.at.Sub(sent); r.code != 130 || after < stopGrace || after > stopGrace+500*time.Millisecond {
			t.Errorf("exit %d after %v, want 130 after %v", r.code, after, stopGrace)
		} else {
			t.Logf("busy after SIGINT: exit %d after %v", r.code, after.Round(time.Millisecond))
		}
	case <-time.After(stopGrace + 2*time.Second):
		t.Fatal("a program busy after SIGINT was not ended")
	}
	if !strings.Contains(stderr.String(), "SIGINT: stopping") || !strings.Contains(stderr.String(), "quitting now") {
		t.Errorf("stderr %q", stderr.String())
	}
	stop()

	// A second signal: ended at once, long before the grace.
	ctx, stop, exits, _ = start()
	self(syscall.SIGTERM)
	<-ctx.Done()
	sent = self(syscall.SIGTERM)
	select {
	case r := <-exits:
		if after := r.at.Sub(sent); r.code != 143 || after >= stopGrace {
			t.Errorf("second SIGTERM: exit %d after %v, want 143 at once", r.code, after)
		} else {
			t.Logf("second SIGTERM: exit %d after %v", r.code, after.Round(time.Microsecond))
		}
	case <-time.After(2 * time.Second):
		t.Fatal("a second SIGTERM did not end the program")
	}
	stop()

	// Stopping in time: no forced exit.
	ctx, stop, exits, _ = start()
	self(syscall.SIGHUP)
	<-ctx.Done()
	if got := cause(ctx); got != syscall.SIGHUP {
		t.Errorf("cause %v, want SIGHUP", got)
	}
	stop()
	select {
	case r := <-exits:
		t.Errorf("ended with %d although it stopped in time", r.code)
	case <-time.After(stopGrace + 200*time.Millisecond):
	}
	if code := exitCode(asInterrupted(ctx, nil)); code != 129 {
		t.Errorf("exit status after SIGHUP %d, want 129", code)
	}
}

// waitFramesRecorded waits until the store db, made before p started (two processes
// making one store at once collide), holds frames of sample's run, failing after d. It
// reads the store read-only: p holds it for writing (store.ErrInUse).
func waitFramesRecorded(t *testing.T, db, sample string, d time.Duration, p *program) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		st, err := store.OpenReadOnly(db)
		if err != nil {
			t.Fatalf("the store %s made before the run: %v", db, err)
		}
		c, _ := st.Continuable(context.Background(), sample) // "still running", with its frames so far
		st.Close()
		if c.Frames > 0 {
			return
		}
	}
	t.Fatalf("no frame of sample %s recorded in %s within %v:\n%s", sample, db, d, p.stderr.String())
}

// A folder's run stopped by a signal, or killed, is taken up with screen --continue from
// the frame after the last it recorded, with the run's settings. The sample then counts
// what one run of the whole folder counts: no frame's objects in two runs, the field in
// view when it stopped not counted again (the continuation's segmenter is shown the last
// frame read), and the sample whole (the volume given examined, not partial), its
// volume split between the runs by frames. The run is of the cyanobacteria pack, which
// --continue takes from it: without --pack it loaded the default pack and was refused
// for other settings (helper-52).
func TestContinueStoppedRun(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: loads the model in child processes")
	}
	// 40 fields of 50 frames: the stage moved among four slides' fields.
	frames := fieldFrames(t, 2000, 50, "closterium-20230609124213.jpg", "microcystis-20230608145509_1.jpg",
		"nitzschia-20230609092640.jpg", "non-algae-20230608153203.jpg")
	ctx := context.Background()
	objectsOf := func(db, sample string) (map[string]int64, int, store.SampleInfo) {
		t.Helper()
		st, err := store.Open(db)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		si, err := st.Sample(ctx, sample)
		if err != nil {
			t.Fatal(err)
		}
		runOf := map[string]int64{}
		n := 0
		err = st.Objects(ctx, si, false, func(o store.ObjectRow) error {
			if r, ok := runOf[o.File]; ok && r != o.Run.ID {
				return fmt.Errorf("frame %s has objects of runs %d and %d", o.File, r, o.Run.ID)
			}
			runOf[o.File] = o.Run.ID
			n++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return runOf, n, si
	}
	whole := filepath.Join(t.TempDir(), "whole.db")
	if code, _, stderr := run(t, "screen", "--source", frames, "--sample", "WHOLE", "--db", whole, "--baseline", "0", "--threads", "1", "--threshold", "0.4", "--pack", "cyano-tcb-10"); code != exitOK {
		t.Fatalf("the whole folder: exit %d:\n%s", code, stderr)
	}
	_, want, _ := objectsOf(whole, "WHOLE")
	for _, c := range []struct {
		name string
		stop func(*program) error
	}{
		{"after SIGTERM", func(p *program) error { return p.cmd.Process.Signal(syscall.SIGTERM) }},
		{"after SIGKILL", func(p *program) error { return p.cmd.Process.Kill() }},
	} {
		t.Run(c.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "s.db")
			st, err := store.Open(db) // made here, so the test can read it while the run writes
			if err != nil {
				t.Fatal(err)
			}
			st.Close()
			p := startProgram(t, "screen", "--source", frames, "--sample", "CUT", "--db", db, "--baseline", "0", "--threads", "1", "--threshold", "0.4", "--pack", "cyano-tcb-10")
			if !p.waitFor("rules preset default", 60*time.Second) {
				t.Fatalf("the model did not load within 60 s:\n%s", p.stderr.String())
			}
			// Stopped once it has recorded frames: a fixed 700 ms after the rules'
			// warnings stopped a loaded CI machine's run before its first frame was
			// stored (the cyanobacteria pack loads after them), leaving nothing to continue.
			waitFramesRecorded(t, db, "CUT", 60*time.Second, p)
			time.Sleep(200 * time.Millisecond)
			if p.exited(0) {
				t.Fatalf("ended before it was stopped (exit %d): the run is not long enough for the test:\n%s", p.code, p.stderr.String())
			}
			if err := c.stop(p); err != nil {
				t.Fatal(err)
			}
			if !p.exited(5 * time.Second) {
				t.Fatalf("still running 5 s after it was stopped:\n%s", p.stderr.String())
			}
			// The run's volume and factor are the sample's: others are refused, not
			// passed over (helper-72).
			for _, bad := range [][]string{{"--volume-ml", "2"}, {"--factor", "10"}} {
				code, _, stderr := run(t, append([]string{"screen", "--continue", "CUT", "--db", db, "--baseline", "0"}, bad...)...)
				if code != exitUsage || !strings.Contains(stderr, bad[0]+" "+bad[1]+" differs: leave "+bad[0]+" out") {
					t.Errorf("--continue with %v: exit %d\n%s", bad, code, stderr)
				}
			}
			// Another threshold is refused with the fix that goes with --continue, not
			// --keep-apart, which --continue refuses (helper-77).
			if code, _, stderr := run(t, "screen", "--continue", "CUT", "--db", db, "--baseline", "0", "--threshold", "0.5"); code != exitUsage ||
				!strings.Contains(stderr, "take it up with the run's own settings (leave --pack, --model and --threshold out") ||
				strings.Contains(stderr, "--keep-apart") || strings.Contains(stderr, "another sample ID") {
				t.Errorf("--continue with another --threshold: exit %d\n%s", code, stderr)
			}
			code, _, stderr := run(t, "screen", "--continue", "CUT", "--db", db, "--baseline", "0", "--threads", "1", "--volume-ml", "1")
			if code != exitOK || !strings.Contains(stderr, "continuing run 1 of sample CUT: it read ") {
				t.Fatalf("screen --continue: exit %d:\n%s", code, stderr)
			}
			t.Logf("%s", stderr[strings.Index(stderr, "continuing run"):][:160])
			runOf, got, si := objectsOf(db, "CUT")
			if len(si.Runs) != 2 {
				t.Fatalf("%d runs; want the stopped one and its continuation", len(si.Runs))
			}
			first, second := si.Runs[0], si.Runs[1]
			if second.Threshold != 0.4 || second.Spec != first.Spec || second.Pack != "cyano-tcb-10" {
				t.Errorf("the continuation ran at threshold %g on %s with pack %s; want the run's 0.4 on %s with cyano-tcb-10", second.Threshold, second.Spec, second.Pack, first.Spec)
			}
			given := first.VolumeGiven + second.VolumeGiven
			if math.Abs(given-1) > 1e-9 || math.Abs(si.VolumeML-1) > 1e-9 || second.FramesExpect+first.FramesSeen != 2000 {
				t.Errorf("%g of %g mL examined (%g + %g given), %d frames after %d; want 1 of 1, 2000 frames in all",
					si.VolumeML, given, first.VolumeGiven, second.VolumeGiven, second.FramesExpect, first.FramesSeen)
			}
			runs := map[int64]int{}
			for _, r := range runOf {
				runs[r]++
			}
			t.Logf("%d objects (one run of the whole folder: %d) from %d frames: %v by run", got, want, len(runOf), runs)
			if got != want {
				t.Errorf("the stopped run and its continuation counted %d objects; one run of the whole folder counts %d", got, want)
			}
		})
	}
}

// The stop is said once when the command's own error ends with it.
func TestInterruptedSaysTheStopOnce(t *testing.T) {
	stop := &interrupted{sig: os.Interrupt}
	e := &interrupted{sig: os.Interrupt, err: fmt.Errorf("screen interrupted after 33 of 131 frames: %w", stop)}
	if got, want := e.Error(), "stopped by SIGINT: screen interrupted after 33 of 131 frames"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	e = &interrupted{sig: os.Interrupt, err: errors.New("write objects.csv: disk full")}
	if got, want := e.Error(), "stopped by SIGINT: write objects.csv: disk full"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// SIGTERM or Ctrl+C to the app while a run screens: it stops the run, stores it and
// exits 143 or 130, as when idle. Fyne quits on those signals by itself and ends the
// graphics library at once, and the window phytoscreen closed after the run had stopped
// panicked ("GLFW library is not initialized", exit 2, the store left open: helper-73).
// The app runs as the built program: Fyne needs the process's main goroutine.
func TestGUISignalDuringRun(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds a Fyne program, opens the real window and loads the model")
	}
	if os.Getenv("DISPLAY") == "" {
		t.Skip("no $DISPLAY: run under xvfb-run -s \"-screen 0 1600x1000x24\" to open the real window")
	}
	frames, err := filepath.Abs("../../../shared/data/microscope-frames/non-algae") // 778 frames: still screening when signalled
	if err == nil {
		_, err = os.Stat(frames)
	}
	if err != nil {
		t.Fatalf("the real frames: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "phytoscreen")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, c := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGTERM, 143}, {syscall.SIGINT, 130}} {
		t.Run(c.sig.String(), func(t *testing.T) {
			home := t.TempDir()
			db := filepath.Join(t.TempDir(), "s.db")
			cmd := exec.Command(bin, "gui", "--db", db, "--source", frames, "--start")
			cmd.Env = append(os.Environ(), "LANG=C.UTF-8", "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, "config"), "XDG_DATA_HOME="+filepath.Join(home, "data"))
			p := startCmd(t, cmd)
			if !p.waitFor("event=field changed", 90*time.Second) {
				t.Fatalf("the run did not start within 90 s:\n%s", p.stderr.String())
			}
			// Well into the run, its cells queued for the model: the run then takes
			// longer to stop than Fyne takes to quit, as in a technician's day.
			time.Sleep(8 * time.Second)
			if err := p.cmd.Process.Signal(c.sig); err != nil {
				t.Fatal(err)
			}
			if !p.exited(20 * time.Second) {
				t.Fatalf("still running 20 s after %v:\n%s", c.sig, p.stderr.String())
			}
			if p.code != c.code || strings.Contains(p.stderr.String(), "panic") {
				t.Errorf("exit %d after %v, want %d and no panic:\n%s", p.code, c.sig, c.code, p.stderr.String())
			}
			if _, err := os.Stat(db + "-wal"); err == nil {
				t.Errorf("the store's write-ahead log was left: the store was not closed")
			}
			st, err := store.Open(db)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			ids, err := st.SampleIDs(context.Background())
			if err != nil || len(ids) != 1 {
				t.Fatalf("samples %v (%v): want the run stored", ids, err)
			}
			si, err := st.Sample(context.Background(), ids[0])
			if err != nil || len(si.Runs) != 1 || si.Runs[0].Status != "stopped" || !si.Partial() {
				t.Errorf("stored runs %+v (%v): want one run, stopped and partial", si.Runs, err)
			}
		})
	}
}
