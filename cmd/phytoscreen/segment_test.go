package main

import (
	"bytes"
	"context"
	"fmt"
	"image/color"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/synth"
)

// regexpFields10 matches the summary row of 10 frames in 10 fields.
var regexpFields10 = regexp.MustCompile(`microscope\s+10\s+\d+\s+\d+\s+10\s`)

// esp32Ignore are the ESP32 bench camera's fixed marks (see testdata/microscope/README.md).
var esp32Ignore = []string{"--ignore", "266,0,14,8", "--ignore", "0,131,9,11"}

// TestSegmentRealFrames runs the command on the real frames: a row and a crop per counted
// object, the summary on standard output, the folder's README and handcount.csv noted as
// skipped but not a failure, the frame of another size reported.
func TestSegmentRealFrames(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := run(t, append([]string{"segment", "--out", out, "--calibration", "1.5", "../../testdata/microscope"}, esp32Ignore...)...)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	rows := readCSV(t, filepath.Join(out, "objects.csv"))
	if !slices.Equal(rows[0], objectsHeader) {
		t.Errorf("header %v, want %v", rows[0], objectsHeader)
	}
	if len(rows) < 16 || len(rows) > 26 {
		t.Errorf("%d objects in 10 real frames; the hand count is 25 (see the capture tests)", len(rows)-1)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, r := range rows[1:] {
		crop := filepath.Join(out, r[col["crop"]])
		if _, err := os.Stat(crop); err != nil {
			t.Errorf("row %v: crop: %v", r[:3], err)
		}
		esd, _ := strconv.ParseFloat(r[col["esd_px"]], 64)
		esdUm, _ := strconv.ParseFloat(r[col["esd_um"]], 64)
		if esd < 6 || abs(esdUm-1.5*esd) > 0.02 {
			t.Errorf("row %v: ESD %v px, %v µm at 1.5 µm/px", r[:3], esd, esdUm)
		}
	}
	// The 10 frames are photos of different slides: 10 fields (a frame of another size
	// restarts the stream, which counts as a field too).
	if !regexpFields10.MatchString(stdout) {
		t.Errorf("summary does not give 10 frames in 10 fields:\n%s", stdout)
	}
	for _, want := range []string{"10 frames", "cells counted", "objects.csv and crops in"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
	for _, want := range []string{"README.md: not an image file", "size changed at frame 3"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("messages lack %q:\n%s", want, stderr)
		}
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// TestSegmentGeneratedVideo: on a generated video each distinct cell gives one row. The
// cells are compact ones: the faint gelatinous organisms of the sample set come out in
// pieces on their first frame, which the vision package's tests measure (what this test
// checks is the command's rows, summary and --all).
func TestSegmentGeneratedVideo(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := run(t, "synth", "--video", "--out", dir, "--name", "clip", "--width", "640", "--height", "480",
		"--frames", "12", "--fields", "3", "--cells", "-1", "--seed", "4",
		"--mix", "protist_noctiluca=2,copepod_cyclopoid_oithona=1,fecal_pellet=1,diatom_chain_tube=1")
	if code != exitOK {
		t.Fatalf("synth: exit %d\n%s%s", code, stdout, stderr)
	}
	// A second video of another --name goes beside the first, which stays (it was
	// refused: the folder "holds clip.avi, which synth did not write": helper-41).
	code, _, stderr = run(t, "synth", "--video", "--out", dir, "--name", "other", "--width", "320", "--height", "240", "--frames", "2", "--fields", "1", "--cells", "2")
	if code != exitOK {
		t.Fatalf("a second video beside the first: exit %d\n%s", code, stderr)
	}
	for _, f := range []string{"clip.avi", "clip.json", "other.avi", "other.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("after the second video: %v", err)
		}
	}
	vt, err := synth.ReadVideoTruth(filepath.Join(dir, "clip.json"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "seg")
	code, stdout, stderr = run(t, "segment", "--out", out, filepath.Join(dir, "clip.avi"))
	if code != exitOK {
		t.Fatalf("segment: exit %d\n%s%s", code, stdout, stderr)
	}
	rows := readCSV(t, filepath.Join(out, "objects.csv"))
	if len(rows)-1 != len(vt.Cells) {
		t.Errorf("%d objects counted, the video has %d distinct cells\n%s", len(rows)-1, len(vt.Cells), stdout)
	}
	if !strings.Contains(stdout, "new field (stage moved) at frames 4, 8\n") {
		t.Errorf("stage moves at frames 4 and 8 not reported in the summary:\n%s", stdout)
	}
	// --all writes every sighting: about one row per cell per frame.
	code, stdout, stderr = run(t, "segment", "--all", "--crops", "none", filepath.Join(dir, "clip.avi"))
	if code != exitOK {
		t.Fatalf("segment --all: exit %d\n%s", code, stderr)
	}
	sightings := strings.Count(stdout, "\n") - 1
	if sightings < 12*5*9/10 || sightings > 12*5*11/10 {
		t.Errorf("--all gave %d rows, want about %d (5 cells in each of 12 frames)", sightings, 12*5)
	}
}

// TestSegmentBadInput: every kind of bad input is reported and sets the exit code; what
// could be read is still written.
func TestSegmentBadInput(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "zero.jpg"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	outFile := filepath.Join(t.TempDir(), "objects.csv")
	if err := os.WriteFile(outFile, []byte("kept"), 0o644); err != nil {
		t.Fatal(err)
	}
	const frame = "../../testdata/microscope/closterium-20230609124213.jpg" // 320x240, upright 240x320
	cases := []struct {
		name     string
		args     []string
		code     int
		stderr   string
		wantRows int // -1: do not check
	}{
		{"missing source", []string{"segment", filepath.Join(dir, "nothing")}, exitFailed, "no such file or folder", 0},
		{"zero-byte frame beside good ones", []string{"segment", dir, "../../testdata/microscope/closterium-20230609124213.jpg"}, exitFailed, "empty file (0 bytes)", -1},
		{"absent camera", []string{"segment", "camera:42"}, exitFailed, "/dev/video42", 0},
		{"µm without calibration", []string{"segment", "--min-size", "5um", dir}, exitUsage, "no calibration", 0},
		{"bad mode", []string{"segment", "--mode", "pan", dir}, exitUsage, "want still", 0},
		{"bad ignore region", []string{"segment", "--ignore", "1,2,3", dir}, exitUsage, "X,Y,W,H", 0},
		{"min size NaN", []string{"segment", "--min-size", "NaN", dir}, exitUsage, `size "NaN": want a diameter`, 0},
		{"a folder and its frame", []string{"segment", dir, filepath.Join(dir, "zero.jpg")}, exitUsage, "share frames: their cells would be counted twice", 0},
		{"a frame twice", []string{"segment", filepath.Join(dir, "zero.jpg"), filepath.Join(dir, "zero.jpg")}, exitUsage, "share frames", 0},
		{"negative width", []string{"segment", "--width", "-5", dir}, exitUsage, "--width -5, --height 0: give the camera frame size", 0},
		{"no source", []string{"segment"}, exitUsage, "usage: phytoscreen segment", 0},
		// helper-83: "create output folder: mkdir /dev/null: not a directory", exit 3.
		{"--out a device", []string{"segment", "--out", "/dev/null", frame}, exitUsage, "--out /dev/null is a device, not a folder: --out names the folder that objects.csv and crops/ are written into", 0},
		{"--out a file", []string{"segment", "--out", outFile, frame}, exitUsage, "--out " + outFile + " is a file, not a folder", 0},
		// helper-83: the whole frame ignored counted 0 cells, exit 0: clean water.
		{"--ignore over the whole frame", []string{"segment", "--ignore", "0,0,120,320", "--ignore", "120,0,200,400", frame}, exitFailed,
			"--ignore 0,0,120,320 120,0,200,400: " + frame + " frame 0 (240x320): the regions to ignore cover the whole frame: nothing is left to detect in it: give --ignore only the regions of the camera's own marks", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := run(t, c.args...)
			if code != c.code || !strings.Contains(stderr, c.stderr) {
				t.Errorf("exit %d, want %d; stderr should say %q:\n%s", code, c.code, c.stderr, stderr)
			}
			if c.wantRows == -1 && !strings.Contains(stdout, "closterium-20230609124213.jpg") {
				t.Errorf("the good frame's objects are missing from the output:\n%s", stdout)
			}
		})
	}
}

// TestSynthCommand: still frames with truth beside them, the class list, bad options.
func TestSynthCommand(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := run(t, "synth", "--out", dir, "--frames", "3", "--width", "320", "--height", "240", "--cells", "2",
		"--mix", "protist_noctiluca=1", "--seed", "3")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, f := range []string{"frame-0001.png", "frame-0001.json", "frame-0003.png", "truth.csv"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	ft, err := synth.ReadFrameTruth(filepath.Join(dir, "frame-0002.json"))
	if err != nil || len(ft.Cells) != 3 {
		t.Fatalf("frame 2 truth %+v, %v: want 3 cells", ft, err)
	}
	if n := len(slices.DeleteFunc(ft.Cells, func(c synth.Cell) bool { return c.Label != "protist_noctiluca" })); n != 1 {
		t.Errorf("%d Noctiluca in frame 2, want 1", n)
	}
	code, stdout, _ = run(t, "synth", "--labels")
	if code != exitOK || !strings.Contains(stdout, "protist_noctiluca") || strings.Count(stdout, "\n") != 121 {
		t.Errorf("--labels: exit %d, %d lines", code, strings.Count(stdout, "\n"))
	}
	for _, bad := range [][]string{
		{"synth", "--out", dir, "--mix", "noctiluca=2"},
		{"synth", "--out", dir, "--mix", "protist_noctiluca"},
		{"synth", "--out", dir, "--width", "10"},
		{"synth", "--out", dir, "--gap", "-5"},
		{"synth"},
	} {
		if code, _, stderr := run(t, bad...); code != exitUsage {
			t.Errorf("%v: exit %d, want 2\n%s", bad, code, stderr)
		}
	}
	// Refused runs left the earlier output; a run again replaces it whole (its frames
	// stayed beside a truth.csv that no longer listed them: helper-39); a folder of
	// other files, and a name with a folder in it, are refused.
	if code, _, stderr := run(t, "synth", "--out", dir, "--frames", "1", "--width", "320", "--height", "240", "--cells", "2"); code != exitOK {
		t.Fatalf("synth again: exit %d\n%s", code, stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 3 { // frame-0001.png, frame-0001.json, truth.csv
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("after synth again with 1 frame the folder holds %v", names)
	}
	os.WriteFile(filepath.Join(dir, "real.jpg"), []byte("x"), 0o644)
	if code, _, stderr := run(t, "synth", "--out", dir, "--frames", "1"); code != exitUsage || !strings.Contains(stderr, "holds real.jpg, which synth did not write") {
		t.Errorf("a folder with other files: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := run(t, "synth", "--out", t.TempDir(), "--video", "--name", "../escape"); code != exitUsage || !strings.Contains(stderr, `--name "../escape": give a file name without a folder`) {
		t.Errorf("--name with a folder: exit %d\n%s", code, stderr)
	}
}

// --colour-crops writes each crop in the frame's colours, as a colour pack needs them, and
// classify then runs the cyanobacteria pack on them; without it the crops are gray.
func TestSegmentColourCrops(t *testing.T) {
	frame := "../../testdata/microscope/microcystis-20230609140533.jpg"
	for _, c := range []struct {
		flags []string
		model color.Model
	}{
		{[]string{"--colour-crops"}, color.RGBAModel},
		{nil, color.GrayModel},
	} {
		out := t.TempDir()
		code, stdout, stderr := run(t, append(append([]string{"segment", "--out", out}, c.flags...), frame)...)
		if code != exitOK {
			t.Fatalf("segment %v: exit %d\n%s%s", c.flags, code, stdout, stderr)
		}
		crops, _ := filepath.Glob(filepath.Join(out, "crops", "*", "*.png"))
		if len(crops) == 0 {
			t.Fatalf("segment %v: no crops written", c.flags)
		}
		for _, p := range crops {
			fh, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := png.DecodeConfig(fh)
			fh.Close()
			if err != nil || cfg.ColorModel != c.model {
				t.Errorf("segment %v: crop %s: colour model %v (%v), want %v", c.flags, p, cfg.ColorModel, err, c.model)
			}
		}
		if c.flags == nil {
			continue
		}
		code, stdout, stderr = run(t, "classify", "--pack", "cyano-tcb-10", filepath.Dir(crops[0]))
		if code != exitOK || !strings.Contains(stdout+stderr, fmt.Sprintf("classified %d of %d files with cyano-tcb-10", len(crops), len(crops))) {
			t.Errorf("classify the colour crops: exit %d\n%s%s", code, stdout, stderr)
		}
	}
}

// segment --out never writes over what it reads: crops/ being the input folder is
// refused with its frames untouched.
func TestSegmentOutNeverAnInput(t *testing.T) {
	out := t.TempDir()
	crops := filepath.Join(out, "crops")
	if err := os.MkdirAll(crops, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("../../testdata/microscope/closterium-20230609124213.jpg")
	if err != nil {
		t.Fatal(err)
	}
	frame := filepath.Join(crops, "frame.jpg")
	if err := os.WriteFile(frame, data, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := run(t, "segment", crops, "--out", out)
	if code != exitUsage || !strings.Contains(stderr, "which this run replaces with its own crops") {
		t.Fatalf("segment into its own input folder: exit %d, %s", code, stderr)
	}
	// A frame inside crops/ is refused too: the run replaces crops/ whole.
	code, _, stderr = run(t, "segment", frame, "--out", out)
	if code != exitUsage || !strings.Contains(stderr, frame+" is read from "+crops+", which this run replaces") {
		t.Fatalf("segment a frame inside crops/: exit %d, %s", code, stderr)
	}
	if entries, _ := os.ReadDir(crops); len(entries) != 1 {
		t.Errorf("the input folder now holds %d files", len(entries))
	}
	if _, err := os.Stat(filepath.Join(out, "objects.csv")); err == nil {
		t.Error("objects.csv written although the run was refused")
	}
	// An output folder inside the source folder: its crops would be the source's frames
	// at its next run.
	inside := filepath.Join(crops, "segmented")
	code, _, stderr = run(t, "segment", crops, "--out", inside)
	if code != exitUsage || !strings.Contains(stderr, "lies inside the source folder") {
		t.Errorf("segment into a folder inside its source: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(inside); err == nil {
		t.Error("the output folder was made inside the source although the run was refused")
	}
}

// TestSegmentWithDetector: --detector names a built-in learned detector (or a folder);
// the summary says it was used, it adds objects to the thresholds' (never fewer), and a
// name that is neither is a usage error listing the built-in ones.
func TestSegmentWithDetector(t *testing.T) {
	count := func(extra ...string) int {
		out := t.TempDir()
		args := append([]string{"segment", "--out", out, "--crops", "none", "../../testdata/microscope"}, esp32Ignore...)
		code, stdout, stderr := run(t, append(args, extra...)...)
		if code != exitOK {
			t.Fatalf("%v: exit %d\n%s%s", extra, code, stdout, stderr)
		}
		if len(extra) > 0 && !strings.Contains(stdout, "objects found by thresholds + detector "+assets.DetectorName) {
			t.Errorf("summary does not name the detector:\n%s", stdout)
		}
		return len(readCSV(t, filepath.Join(out, "objects.csv"))) - 1
	}
	plain, with := count(), count("--detector", assets.DetectorName)
	t.Logf("10 hand-counted frames (25 counted by hand): %d objects by the thresholds, %d with the detector", plain, with)
	if with < plain {
		t.Errorf("the detector took objects away: %d with it, %d without", with, plain)
	}
	code, _, stderr := run(t, "segment", "--detector", "yolo", "../../testdata/microscope")
	if code != exitUsage || !strings.Contains(stderr, `--detector "yolo": neither a built-in detector (`+assets.DetectorName+`) nor a detector folder`) {
		t.Errorf("unknown detector: exit %d\n%s", code, stderr)
	}
}

// A run into a folder an earlier run wrote replaces its crops with objects.csv: every
// row names a crop of this run, and no crop of the earlier one is left (helper-39: 407
// crop files for 111 rows, old ones included).
func TestSegmentAgainReplacesTheCrops(t *testing.T) {
	out := t.TempDir()
	crops := func() map[string]bool {
		files := map[string]bool{}
		filepath.WalkDir(filepath.Join(out, "crops"), func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(out, p)
				files[rel] = true
			}
			return nil
		})
		return files
	}
	for i, minSize := range []string{"6px", "30px"} {
		code, stdout, stderr := run(t, append([]string{"segment", "--out", out, "--min-size", minSize, "../../testdata/microscope"}, esp32Ignore...)...)
		if code != exitOK {
			t.Fatalf("run %d: exit %d\n%s%s", i+1, code, stdout, stderr)
		}
		rows := readCSV(t, filepath.Join(out, "objects.csv"))
		col := slices.Index(rows[0], "crop")
		files := crops()
		for _, r := range rows[1:] {
			if !files[r[col]] {
				t.Errorf("run %d: row names %s, which is not in crops/", i+1, r[col])
			}
		}
		if len(files) != len(rows)-1 {
			t.Errorf("run %d (--min-size %s): %d crop files for %d rows", i+1, minSize, len(files), len(rows)-1)
		}
		if _, err := os.Stat(filepath.Join(out, "crops.partial")); err == nil {
			t.Errorf("run %d left crops.partial behind", i+1)
		}
	}
}

// An interrupted segment leaves an earlier objects.csv as it was, puts its rows beside it
// as objects.csv.partial, and names that file.
func TestSegmentInterruptedNamesItsPartial(t *testing.T) {
	out := t.TempDir()
	csv := filepath.Join(out, "objects.csv")
	if err := os.WriteFile(csv, []byte("earlier\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // interrupted before its first frame
	var stdout, stderr bytes.Buffer
	m := &Main{Stdout: &stdout, Stderr: &stderr, Stdin: strings.NewReader("")}
	code := exitCode(m.Run(ctx, []string{"segment", "--out", out, "../../testdata/microscope"}))
	if got, _ := os.ReadFile(csv); code == exitOK || string(got) != "earlier\n" {
		t.Fatalf("exit %d, objects.csv holds %q", code, got)
	}
	if _, err := os.Stat(csv + ".partial"); err != nil || !strings.Contains(stderr.String(), "the objects so far are in "+csv+".partial;") {
		t.Errorf("the partial file (%v) or its name: %s", err, stderr.String())
	}
}

// A run that reads no frame at all (a wrong path, an empty folder, a folder of bad files)
// leaves an earlier run's objects.csv and crops/ as they were, says so and exits 1
// (helper-60: they were replaced by a header alone, with an error about crops.partial).
func TestSegmentThatReadsNothingKeepsTheEarlierOutput(t *testing.T) {
	out := t.TempDir()
	if code, stdout, stderr := run(t, append([]string{"segment", "--out", out, "../../testdata/microscope"}, esp32Ignore...)...); code != exitOK {
		t.Fatalf("first run: exit %d\n%s%s", code, stdout, stderr)
	}
	before, err := os.ReadFile(filepath.Join(out, "objects.csv"))
	if err != nil {
		t.Fatal(err)
	}
	crops, _ := filepath.Glob(filepath.Join(out, "crops", "*", "*.png"))
	if len(crops) == 0 || len(before) == 0 {
		t.Fatalf("the first run wrote %d crops", len(crops))
	}
	empty, bad := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "zero.jpg"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{filepath.Join(out, "no-such-folder"), empty, bad} {
		code, stdout, stderr := run(t, "segment", "--out", out, src)
		if code != exitFailed {
			t.Errorf("segment %s: exit %d, want 1\n%s%s", src, code, stdout, stderr)
		}
		if !strings.Contains(stderr, "no frame was read") || !strings.Contains(stderr, "left as they were") || strings.Contains(stderr, "crops.partial") {
			t.Errorf("segment %s: stderr does not say the earlier output was kept:\n%s", src, stderr)
		}
		after, err := os.ReadFile(filepath.Join(out, "objects.csv"))
		if err != nil || !bytes.Equal(after, before) {
			t.Errorf("segment %s changed objects.csv (%d bytes, was %d): %v", src, len(after), len(before), err)
		}
		for _, c := range crops {
			if _, err := os.Stat(c); err != nil {
				t.Errorf("segment %s removed an earlier crop: %v", src, err)
				break
			}
		}
		if _, err := os.Stat(filepath.Join(out, cropsPartial)); err == nil {
			t.Errorf("segment %s left %s behind", src, cropsPartial)
		}
	}
}

// A folder whose only problem is a duplicate frame is segmented whole: the duplicate is
// said, and it is no failure (exit 0), as screen counts it (helper-60: exit 1).
func TestSegmentDuplicateFrameIsNoFailure(t *testing.T) {
	dir := t.TempDir()
	frames, _ := filepath.Glob("../../testdata/microscope/*.jpg")
	if len(frames) == 0 {
		t.Fatal("no frames in testdata/microscope")
	}
	data, err := os.ReadFile(frames[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a.jpg", "b.jpg"} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, stderr := run(t, append([]string{"segment", "--out", t.TempDir(), dir}, esp32Ignore...)...)
	if code != exitOK {
		t.Errorf("exit %d, want 0\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "the same image as") {
		t.Errorf("the duplicate is not said:\n%s", stderr)
	}
}

// A frame too crowded to segment is said apart from the unreadable ones, with the fix,
// and none of its objects is written (vision.ErrCrowdedFrame; helper-72).
func TestSegmentCrowdedFrameSaidApart(t *testing.T) {
	dir := fieldAndFrame(t, "b-mat.png", synth.DebrisFrame(320, 240, 4))
	out := filepath.Join(t.TempDir(), "objects.csv")
	code, stdout, stderr := run(t, "segment", "--out", out, dir)
	all := stdout + stderr
	if code != exitOK || !strings.Contains(all, "1 frame too crowded to segment (more than half of each differs from the background): none of its objects written; dilute the sample") {
		t.Errorf("exit %d\n%s", code, all)
	}
	rows, err := os.ReadFile(filepath.Join(out, "objects.csv")) // --out is a folder
	if err != nil || strings.Contains(string(rows), "b-mat.png") || !strings.Contains(string(rows), "a-field.jpg") {
		t.Errorf("objects.csv (%v): want the field's objects and none of the crowded frame's:\n%.600s", err, rows)
	}
}
