package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Absurd and non-finite numbers are refused before anything is opened, each with one
// line naming the flag, the value and the range (--factor 1e308 gave +Inf in the exports
// and broke the JSON summary after the whole run; --volume-ml 1e-300 printed a 300-digit
// concentration; NaN passed checks written as "x < lo"; --threads 100000 made ONNX
// Runtime start 100,000 threads).
func TestFlagRangesRefused(t *testing.T) {
	cores := runtime.NumCPU()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"screen", "--source", "x.avi", "--factor", "1e308"}, "--factor 1e+308: give a dilution or concentration factor from 1e-06 to 1e+06"},
		{[]string{"screen", "--source", "x.avi", "--volume-ml", "1e-300"}, "--volume-ml 1e-300: give a volume in mL from 1e-06 to 1e+06"},
		{[]string{"screen", "--source", "x.avi", "--threads", "100000"}, fmt.Sprintf("--threads 100000: give a thread count (0: one per core) from 0 to %d", cores)},
		{[]string{"classify", "--threads", "100000", "x.png"}, fmt.Sprintf("--threads 100000: give a thread count (0: one per core) from 0 to %d", cores)},
		{[]string{"classify", "--batch", "100000", "x.png"}, "--batch 100000: give a batch size from 1 to 1024"},
		{[]string{"eval", "--threads", "-1", "x.csv"}, "--threads -1: give a thread count"},
		{[]string{"bench", "--threads", "1,100000"}, fmt.Sprintf("--threads 100000: give thread counts from 1 to %d", cores)},
		{[]string{"bench", "--batch", "0"}, "--batch 0: give batch sizes from 1 to 1024"},
		{[]string{"screen", "--source", "x.avi", "--threshold", "NaN"}, "--threshold NaN: give a probability from 0 to 1"},
		{[]string{"screen", "--source", "x.avi", "--factor", "NaN"}, "--factor NaN: give a dilution or concentration factor"},
		{[]string{"screen", "--source", "x.avi", "--volume-ml", "Inf"}, "--volume-ml +Inf: give a volume in mL"},
		{[]string{"screen", "--source", "x.avi", "--calibration", "-Inf"}, "--calibration -Inf: give micrometres per pixel from 0 to 1000"},
		{[]string{"segment", "--sigmas", "NaN", "x.png"}, "--sigmas NaN: give a finite number"},
		{[]string{"segment", "--min-contrast", "Inf", "x.png"}, "--min-contrast +Inf: give a finite number"},
		{[]string{"segment", "--low-share", "nan", "x.png"}, "--low-share NaN: give a finite number"},
		{[]string{"segment", "--fps", "NaN", "x.png"}, "--fps NaN: give frames per second from 0 to 1000"},
		{[]string{"segment", "--calibration", "1e300", "x.png"}, "--calibration 1e+300: give micrometres per pixel from 0 to 1000"},
		{[]string{"synth", "--out", "d", "--scale", "NaN"}, "--scale NaN: give a finite number"},
		{[]string{"synth", "--out", "d", "--noise", "+Inf"}, "--noise +Inf: give a finite number"},
		{[]string{"synth", "--out", "d", "--overlap", "NaN"}, "--overlap NaN: give a finite number"},
		{[]string{"bench", "--watts-per-core", "NaN"}, "--watts-per-core NaN: give watts from 0.01 to 1000"},
	}
	for _, c := range cases {
		var stderr strings.Builder
		fs, err := flagsOf(c.args, &stderr)
		if fs != nil || exitCode(err) != exitUsage || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%v: %v (exit %d), want exit 2 with %q:\n%s", c.args, err, exitCode(err), c.want, stderr.String())
			continue
		}
		t.Logf("%s", strings.TrimSpace(stderr.String()))
	}
	// A typed 0 is not the default the library reads it as (helper-68: --sigmas 0 ran
	// with 8, --scale 0 drew at 1, unsaid).
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"segment", "--sigmas", "0", "x.png"}, "--sigmas 0: give 1 to 1000 noise standard deviations (8 by default)"},
		{[]string{"segment", "--low-share", "0", "x.png"}, "--low-share 0: give a share of the high threshold above 0 and at most 1"},
		{[]string{"synth", "--out", t.TempDir(), "--scale", "0"}, "--scale 0: want 0.1 to 10"},
	} {
		if code, _, stderr := run(t, c.args...); code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, want 2 with %q:\n%s", c.args, code, c.want, stderr)
		}
	}
	// --lat and --lon are text, read as numbers with the sample: NaN is its "no position".
	if code, _, stderr := run(t, "screen", "--source", "x.avi", "--lat", "NaN", "--lon", "9"); code != exitUsage || !strings.Contains(stderr, "--lat NaN --lon 9: give decimal degrees") {
		t.Errorf("--lat NaN: exit %d, want 2 naming the flags:\n%s", code, stderr)
	}
}

// Values at the ends of each range are taken: the checks refuse only what is out.
func TestFlagRangeEndsAccepted(t *testing.T) {
	cores := fmt.Sprint(runtime.NumCPU())
	for _, args := range [][]string{
		{"screen", "--source", "x.avi", "--volume-ml", "1e-6", "--factor", "1e6", "--threads", cores, "--threshold", "1", "--calibration", "1000"},
		{"screen", "--source", "x.avi", "--volume-ml", "1e6", "--factor", "1e-6", "--threads", "0", "--threshold", "0", "--batch", "1024"},
		{"segment", "--fps", "1000", "--sigmas", "1e300", "x.png"},
		{"bench", "--threads", "1," + cores, "--watts-per-core", "0.01"},
	} {
		if _, err := flagsOf(args, io.Discard); err != nil {
			t.Errorf("%v: %v, want accepted", args, err)
		}
	}
}

// errFlagsOnly stops a command once its flags are parsed and checked.
var errFlagsOnly = errors.New("flags checked; command not run")

// flagsOf runs the command of args only as far as its flags, whatever they are (nothing
// is opened or run), its messages to stderr: the parsed flag set, or nil and the error
// when they are refused.
func flagsOf(args []string, stderr io.Writer) (*flag.FlagSet, error) {
	var got *flag.FlagSet
	flagsChecked = func(fs *flag.FlagSet, _ []string) error { got = fs; return errFlagsOnly }
	defer func() { flagsChecked = nil }()
	m := &Main{Stdout: io.Discard, Stderr: stderr, Stdin: strings.NewReader("")}
	err := m.Run(context.Background(), args)
	if got == nil {
		return nil, err
	}
	if !errors.Is(err, errFlagsOnly) {
		return got, fmt.Errorf("flags accepted, but the command returned %v", err)
	}
	return got, nil
}

// documented is each ranged number flag's range as the usage text gives it, by
// "command flag" (the bench command's --threads and --batch are lists, checked apart).
var documented = map[string][2]float64{
	"screen volume-ml": {1e-6, 1e6}, "screen factor": {1e-6, 1e6}, "screen threshold": {0, 1},
	"screen calibration": {0, 1000}, "segment calibration": {0, 1000}, "segment fps": {0, 1000},
	"bench watts-per-core": {0.01, 1000},
}

// threadsBatch are the model flags' ranges, for every command that classifies.
func threadsBatch(name string) ([2]float64, bool) {
	switch name {
	case "threads":
		return [2]float64{0, float64(runtime.NumCPU())}, true
	case "batch":
		return [2]float64{1, 1024}, true
	}
	return [2]float64{}, false
}

// FuzzFlags feeds arbitrary argument lists (one argument a line) to the command line
// and stops each command once its flags are parsed and checked: nothing may panic, and
// every number a command accepts is finite and within the range its usage documents.
func FuzzFlags(f *testing.F) {
	for _, s := range []string{
		"screen\n--source\nx.avi\n--factor\n1e308", "screen\n--volume-ml=1e-300\n--source\nx", "screen\n--threads\n100000",
		"screen\n--threshold\nNaN\n--source\nx", "screen\n--lat\n56.9\n--lon\n9\n--source\nx", "screen\n--calibration=0.5\n--source=x",
		"classify\n--top\n3\nx.png", "classify\n--batch\n0\nx", "eval\n--threads\n2\nlist.csv", "segment\n--sigmas\nInf\nx.png",
		"segment\n--fps\n30\n--ignore\n1,2,3,4\nx", "synth\n--out\nd\n--scale\n2\n--noise\n-1", "bench\n--threads\n1,2\n--watts-per-core\n5",
		"bench\n--batch\n1,8\n--stress\n0,100", "gui\n--quit-after\n1s", "export\n--sample\nS\n--out\nx.csv", "pack\ninspect\n--ort-lib\nx",
		"--threads=1", "help", "classify\n--\n--threads\n9", "screen\n--factor\n0x1p-30\n--source\nx",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, argv string) {
		fs, err := flagsOf(strings.Split(argv, "\n"), io.Discard)
		if fs == nil {
			return // refused, or help
		}
		if err != nil {
			t.Fatal(err)
		}
		fs.VisitAll(func(fl *flag.Flag) {
			g, ok := fl.Value.(flag.Getter)
			if !ok {
				return
			}
			var v float64
			switch x := g.Get().(type) {
			case float64:
				v = x
			case int:
				v = float64(x)
			case string:
				checkList(t, argv, fs.Name(), fl.Name, x)
				return
			default:
				return
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("%q: %s --%s accepted %v", argv, fs.Name(), fl.Name, v)
			}
			r, ok := documented[fs.Name()+" "+fl.Name]
			if !ok {
				r, ok = threadsBatch(fl.Name)
			}
			if ok && !(v >= r[0] && v <= r[1]) {
				t.Fatalf("%q: %s --%s accepted %v, outside %v", argv, fs.Name(), fl.Name, v, r)
			}
		})
	})
}

// benchLists are the ranges of the bench command's list flags.
var benchLists = map[string][2]int{"threads": {1, runtime.NumCPU()}, "batch": {1, 1024}, "stress": {0, 100}}

// checkList fails when a bench list flag that was accepted holds a number out of range.
func checkList(t *testing.T, argv, cmd, name, list string) {
	r, ok := benchLists[name]
	if cmd != "bench" || !ok {
		return
	}
	ns, err := parseInts("--"+name, list)
	if err != nil {
		t.Fatalf("%q: bench --%s %q accepted but not a list of numbers: %v", argv, name, list, err)
	}
	for _, n := range ns {
		if n < r[0] || n > r[1] {
			t.Fatalf("%q: bench --%s accepted %d, outside %v", argv, name, n, r)
		}
	}
}

// A decimal comma gets the fix, and a mistake in one flag is said in two lines, not
// above the usage of every flag (helper-52: "parse error" and sixty lines of usage);
// -h still lists them.
func TestBadNumberSaidInTwoLines(t *testing.T) {
	code, _, stderr := run(t, "screen", "--volume-ml", "0,5", "--source", "x")
	want := "invalid value \"0,5\" for flag -volume-ml: not a number: write the decimal with a point, 0.5\nrun 'phytoscreen screen -h' for its flags\n"
	if code != exitUsage || stderr != want {
		t.Errorf("--volume-ml 0,5: exit %d, stderr\n%s\nwant exit %d and\n%s", code, stderr, exitUsage, want)
	}
	// "1,000" is neither read as 1 nor told to be written 1.000 (which is 1); a word is
	// told what the flag wants, not "parse error".
	for argv, says := range map[[3]string]string{
		{"screen", "--volume-ml", "1,000"}: `invalid value "1,000" for flag -volume-ml: "1,000" could be 1000 or 1.000: type 1000, or 1.000 with a point`,
		{"screen", "--volume-ml", "abc"}:   `invalid value "abc" for flag -volume-ml: not a number: give a volume in mL from 1e-06 to 1e+06`,
		{"screen", "--batch", "ten"}:       `invalid value "ten" for flag -batch: not a whole number: give`,
	} {
		code, _, stderr := run(t, argv[0], argv[1], argv[2], "--source", "x")
		if code != exitUsage || !strings.HasPrefix(stderr, says) {
			t.Errorf("%v: exit %d, stderr\n%s\nwant exit %d and a line starting\n%s", argv, code, stderr, exitUsage, says)
		}
	}
	if code, _, stderr := run(t, "screen", "-h"); code != exitUsage && code != exitOK || !strings.Contains(stderr, "-volume-ml") {
		t.Errorf("screen -h: exit %d, no usage of --volume-ml:\n%s", code, stderr)
	}
}

// A stray word on the command line of a command that takes flags only (most often a
// value with a space left unquoted) is named, exit 2, before anything is opened or
// written (helper-60: the usage alone, or "--sample and --out are required" when both
// were given).
func TestStrayArgumentIsNamed(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "day.db")
	for _, args := range [][]string{
		{"screen", "--source", "frames", "--site", "Pond", "3", "--db", db},
		{"export", "--db", db, "--sample", "S1", "--out", filepath.Join(dir, "a.csv"), "extra"},
		{"report", "--db", db, "--sample", "S1", "--out", filepath.Join(dir, "a.pdf"), "extra"},
		{"sync", "--db", db, "--status", "extra"},
		{"pack", "teach", "--db", db, "--out", filepath.Join(dir, "pack"), "extra"},
		{"synth", "--out", filepath.Join(dir, "synth"), "extra"},
	} {
		code, stdout, stderr := run(t, args...)
		stray := args[len(args)-1]
		if args[0] == "screen" {
			stray = "3"
		}
		if code != exitUsage || !strings.Contains(stderr, fmt.Sprintf("unexpected argument %q", stray)) {
			t.Errorf("%s: exit %d, want 2 naming %q\n%s%s", strings.Join(args, " "), code, stray, stdout, stderr)
		}
	}
	if _, err := os.Stat(db); err == nil {
		t.Errorf("a refused command created %s", db)
	}
	code, stdout, stderr := run(t, "pack", "inspect", "a", "b")
	if code != exitUsage || !strings.Contains(stderr, `not both "a" and "b"`) {
		t.Errorf("pack inspect a b: exit %d\n%s%s", code, stdout, stderr)
	}
}

// synth refuses a frame count, size or format it cannot write before anything is
// written (helper-60: --width 0 became 1280 unsaid; --frames 0 and --format gif exit 1).
func TestSynthRefusesWhatItCannotWrite(t *testing.T) {
	out := filepath.Join(t.TempDir(), "synth")
	for _, bad := range [][]string{{"--frames", "0"}, {"--width", "0"}, {"--height", "-3"}, {"--format", "gif"}} {
		code, stdout, stderr := run(t, append([]string{"synth", "--out", out}, bad...)...)
		if code != exitUsage || !strings.Contains(stderr, bad[0]) {
			t.Errorf("synth %s: exit %d, want 2 naming the flag\n%s%s", strings.Join(bad, " "), code, stdout, stderr)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a refused synth wrote %s", out)
	}
}

// A site typed with spaces around it is the site without them, as the app trims it:
// "Lake A " split one site into two on the lab server (helper-76).
func TestScreenSiteTrimmed(t *testing.T) {
	f := screenFlags{site: "  Lake A ", volumeML: 1, factor: 1}
	s, err := f.sampleOf(time.Date(2026, 6, 4, 9, 0, 0, 0, time.UTC))
	if err != nil || s.Site != "Lake A" || !strings.HasPrefix(s.ID, "Lake-A-2026") {
		t.Errorf("site %q, ID %q (%v); want \"Lake A\", Lake-A-…", s.Site, s.ID, err)
	}
	// The sample ID too ("B " was another sample than "B", helper-77); one holding the
	// companions' mark is refused (A~2 was taken for A's companion), not when a stopped
	// run, a companion's maybe, is taken up.
	f = screenFlags{sample: " B ", volumeML: 1, factor: 1}
	if s, err = f.sampleOf(time.Now()); err != nil || s.ID != "B" {
		t.Errorf("--sample \" B \": ID %q (%v), want \"B\"", s.ID, err)
	}
}

// A new sample ID holding the companions' mark is refused, saying how a companion is
// made (A~2 was taken for A's companion, helper-77); a stored companion's ID adds to it.
func TestScreenCompanionMarkInID(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	frame := func(name string) string { return filepath.Join("..", "..", "testdata", "microscope", name) }
	code, _, stderr := run(t, "screen", "--source", frame("closterium-20230609124213.jpg"), "--sample", "A~2", "--db", db, "--baseline", "0")
	if code != exitUsage || !strings.Contains(stderr, `sample ID "A~2" contains "~", which phytoscreen keeps for a sample's companion`) ||
		!strings.Contains(stderr, "give --sample A with them and --keep-apart") {
		t.Errorf("--sample A~2: exit %d, %s", code, stderr)
	}
	if code, _, stderr := run(t, "screen", "--source", frame("closterium-20230609124213.jpg"), "--sample", "A", "--db", db, "--baseline", "0"); code != exitOK {
		t.Fatalf("screen A: exit %d, %s", code, stderr)
	}
	if code, _, stderr := run(t, "screen", "--source", frame("closterium-20230609125554.jpg"), "--sample", "A", "--model", "base", "--keep-apart", "--db", db, "--baseline", "0"); code != exitOK {
		t.Fatalf("screen A --keep-apart: exit %d, %s", code, stderr)
	}
	if code, stdout, stderr := run(t, "screen", "--source", frame("microcystis-20230608145509_1.jpg"), "--sample", "A~base", "--model", "base", "--db", db, "--baseline", "0"); code != exitOK || !strings.Contains(stdout, "as sample A~base") {
		t.Errorf("screen into the stored companion A~base: exit %d\n%s\n%s", code, stdout, stderr)
	}
}
