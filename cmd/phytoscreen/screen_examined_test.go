package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
	"github.com/phytoscreen/phytoscreen/synth"
	"github.com/phytoscreen/phytoscreen/vision"
)

// screenCtx runs the screen command on ctx with args, the real classifier wrapped by
// wrap (nil: as is); it returns the exit status, stdout and stderr.
func screenCtx(t *testing.T, ctx context.Context, args []string, wrap func(screening.Classifier) screening.Classifier) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	m := &Main{Stdout: &stdout, Stderr: &stderr, Stdin: strings.NewReader("")}
	code := screenOn(t, ctx, m, args, wrap)
	return code, stdout.String(), stderr.String()
}

// interruptOnClassify cancels the run's context (as Ctrl+C does) when the first batch
// of cells reaches the classifier: mid-video.
type interruptOnClassify struct {
	screening.Classifier
	once   sync.Once
	cancel context.CancelFunc
}

func (c *interruptOnClassify) Classify(ctx context.Context, crops []*image.Gray) ([]inference.Result, error) {
	c.once.Do(c.cancel)
	return c.Classifier.Classify(ctx, crops)
}

func openStore(t *testing.T, path string) *store.Store {
	t.Helper()
	s, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Ctrl+C mid-video: exit non-zero, the summary says how much was examined, and the
// concentrations (printed and stored) are on the volume examined, not the volume given.
func TestScreenInterruptedIsPartial(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs the real model on a generated video")
	}
	video, _ := videoPath(t)
	db := filepath.Join(t.TempDir(), "s.db")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	code, stdout, stderr := screenCtx(t, ctx, []string{"--source", video, "--db", db, "--sample", "CUT-1", "--volume-ml", "2", "--baseline", "0"},
		func(c screening.Classifier) screening.Classifier {
			return &interruptOnClassify{Classifier: c, cancel: cancel}
		})
	if code == exitOK {
		t.Fatalf("an interrupted screen exited 0:\n%s\n%s", stdout, stderr)
	}
	var frames, expected int
	var pctText string
	line := ""
	for _, l := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(l, "PARTIAL: ") {
			line = l
		}
	}
	if _, err := fmt.Sscanf(line, "PARTIAL: %d of %d frames examined (%s", &frames, &expected, &pctText); err != nil || !strings.Contains(line, "interrupted") {
		t.Fatalf("summary does not say what was examined (%v):\n%s", err, stdout)
	}
	if frames < 1 || frames >= expected || expected != 24 { // 6 fields of 4 frames
		t.Fatalf("%d of %d frames examined, want some of the video's 24", frames, expected)
	}
	t.Logf("exit %d; %s", code, line)
	s := openStore(t, db)
	c, err := s.Counts(context.Background(), "CUT-1")
	if err != nil {
		t.Fatal(err)
	}
	wantML := 2 * float64(frames) / float64(expected)
	if math.Abs(c.Sample.VolumeML-wantML) > 1e-9 {
		t.Errorf("stored volume %v mL, want the %v mL examined", c.Sample.VolumeML, wantML)
	}
	if r := c.Sample.Runs[0]; !r.Interrupted || r.FramesExpect != 24 || r.VolumeGiven != 2 || r.Status != "stopped" {
		t.Errorf("stored run %+v", r)
	}
	for _, x := range c.Taxa {
		if want := float64(x.Count) / (wantML / 1000); math.Abs(x.PerL-want) > 1e-6*want {
			t.Errorf("%s: %v cells/L stored, want %v (count %d on %v mL)", x.Label, x.PerL, want, x.Count, wantML)
		}
	}
	if !strings.Contains(stdout, strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.4g", wantML), "0"), ".")+" mL examined") {
		t.Errorf("the summary's volume is not the %v mL examined:\n%s", wantML, stdout)
	}
	// The stored power record covers every cell stored, those classified after the
	// interrupt too: it stopped at the interrupt, and the report's joules per cell were
	// of 211 cells where the run stored 294 (helper-54).
	energy, err := s.Energy(context.Background(), "CUT-1")
	if err != nil {
		t.Fatal(err)
	}
	objects, measured := c.Unidentified.Count, 0
	for _, x := range c.Taxa {
		objects += x.Count
	}
	for _, e := range energy {
		measured += e.Cells
	}
	if measured != objects || objects == 0 {
		t.Errorf("the power record counts %d cells, the run stored %d", measured, objects)
	}
}

// A folder whose frames are partly unreadable: the run says so, exits 1 and the
// concentration is on the frames examined ("0 failed" once hid 110 missing frames).
func TestScreenFolderSkippedIsPartial(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs the real model")
	}
	dir := t.TempDir()
	frames, _ := filepath.Glob("../../testdata/microscope/*.jpg")
	if len(frames) < 4 {
		t.Fatalf("%d frames in testdata/microscope", len(frames))
	}
	for i, f := range frames[:4] {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if i == 3 {
			data = data[:len(data)/3] // truncated: unreadable
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d.jpg", i)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db := filepath.Join(t.TempDir(), "s.db")
	code, stdout, stderr := screenCtx(t, context.Background(), []string{"--source", dir, "--db", db, "--sample", "SKIP-1", "--baseline", "0"}, nil)
	if code != exitFailed || !strings.Contains(stdout, "PARTIAL: 3 of 4 frames examined (75.0%, 1 frame unreadable or skipped)") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	c, err := openStore(t, db).Counts(context.Background(), "SKIP-1")
	if err != nil {
		t.Fatal(err)
	}
	if c.Sample.VolumeML != 0.75 || c.Sample.Runs[0].Interrupted {
		t.Errorf("stored %v mL, interrupted %v; want 0.75 mL, not interrupted", c.Sample.VolumeML, c.Sample.Runs[0].Interrupted)
	}
}

// A source that yields no frame, or a run interrupted before its first frame (during
// the idle baseline), stores nothing: no 0 cells/L sample.
func TestScreenNothingExaminedStoresNothing(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile("../../testdata/microscope/closterium-20230609124213.jpg")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d.jpg", i)), data[:len(data)/4], 0o644)
	}
	db := filepath.Join(t.TempDir(), "s.db")
	code, stdout, stderr := screenCtx(t, context.Background(), []string{"--source", dir, "--db", db, "--sample", "EMPTY-1", "--baseline", "0"}, nil)
	if code == exitOK || !strings.Contains(stderr, "no frame was examined, so nothing was stored") {
		t.Errorf("all frames unreadable: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if strings.Contains(stdout, "Stored in") || strings.Contains(stdout, "cells/L") {
		t.Errorf("all frames unreadable, yet a summary of a stored result:\n%s", stdout)
	}
	code, stdout, _ = screenCtx(t, context.Background(), []string{"--source", dir, "--db", db, "--sample", "EMPTY-2", "--baseline", "0", "--format", "json"}, nil)
	if code == exitOK || strings.TrimSpace(stdout) != "" {
		t.Errorf("all frames unreadable, JSON: exit %d, a document a script would read as a stored result:\n%s", code, stdout)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel) // Ctrl+C during the 5 s baseline
	video, _ := videoPath(t)
	start := time.Now()
	code, stdout, stderr = screenCtx(t, ctx, []string{"--source", video, "--db", db, "--sample", "BASE-1", "--baseline", "5s"}, nil)
	if code == exitOK || !strings.Contains(stderr, "interrupted before the first frame: nothing was screened or stored") {
		t.Errorf("interrupted baseline: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("the interrupted baseline took %v to stop", took)
	}
	ids, err := openStore(t, db).SampleIDs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 0 {
		t.Errorf("the store holds samples %v, want none", ids)
	}
}

// A second run with another threshold, model or object finder is refused for the same
// sample (its counts would add up with the first's); --keep-apart stores it as a
// companion sample. Each run records how its objects were found.
func TestScreenRefusesOtherSettings(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs the real model")
	}
	frames, _ := filepath.Abs("../../testdata/microscope")
	db := filepath.Join(t.TempDir(), "s.db")
	base := []string{"--source", frames, "--db", db, "--sample", "MIX-1", "--baseline", "0"}
	if code, stdout, stderr := screenCtx(t, context.Background(), base, nil); code != exitOK {
		t.Fatalf("first run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	s := openStore(t, db)
	first, err := s.Sample(context.Background(), "MIX-1")
	if err != nil {
		t.Fatal(err)
	}
	code, _, stderr := screenCtx(t, context.Background(), append(base, "--threshold", "0.7"), nil)
	if code != exitUsage || !strings.Contains(stderr, "was screened with pack ndsb-plankton-121, model optimised, threshold 0.5, objects found by thresholds; this run uses pack ndsb-plankton-121, model optimised, threshold 0.7, objects found by thresholds") ||
		!strings.Contains(stderr, "sample MIX-1~t0.7 (--keep-apart)") {
		t.Fatalf("another threshold: exit %d\n%s", code, stderr)
	}
	t.Logf("refused: %s", strings.TrimSpace(stderr))
	// The same frames with the same settings: their cells would count twice.
	code, _, stderr = screenCtx(t, context.Background(), base, nil)
	if code != exitUsage || !strings.Contains(stderr, "sample MIX-1 in "+db+" already holds run 1 of "+frames+": screening them again would count every cell twice") {
		t.Fatalf("the same frames again: exit %d\n%s", code, stderr)
	}
	// Other alert rules: the sample is checked against one set, so refused, naming it.
	code, _, stderr = screenCtx(t, context.Background(), append(base, "--rules", "who-cyanobacteria"), nil)
	if code != exitUsage || !strings.Contains(stderr, "was screened with the alert rules preset default; this run uses preset who-cyanobacteria") ||
		!strings.Contains(stderr, "screen it with preset default") {
		t.Fatalf("other rules: exit %d\n%s", code, stderr)
	}
	// A copy of the frames in another folder, as a new sample: screened, with a note
	// naming the sample that holds them and the copy (helper-54: paths alone missed it).
	copyDir := filepath.Join(t.TempDir(), "copy")
	if err := os.CopyFS(copyDir, os.DirFS(frames)); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = screenCtx(t, context.Background(), []string{"--source", copyDir, "--db", db, "--sample", "COPY-1", "--baseline", "0"}, nil)
	if code != exitOK || !strings.Contains(stderr, "these frames were screened before as sample MIX-1 (on ") || !strings.Contains(stderr, " is a copy of "+frames) {
		t.Fatalf("a copy of the frames as a new sample: exit %d\n%s", code, stderr)
	}
	// Another site under the same ID is other water: refused as a usage error too.
	code, _, stderr = screenCtx(t, context.Background(), append(base, "--site", "Elsewhere"), nil)
	if code != exitUsage || !strings.Contains(stderr, `this run says site "Elsewhere"`) {
		t.Fatalf("another site: exit %d\n%s", code, stderr)
	}
	code, stdout, stderr := screenCtx(t, context.Background(), append(base, "--model", "base", "--keep-apart"), nil)
	if code != exitOK || !strings.Contains(stdout, "Sample MIX-1~base") {
		t.Fatalf("--keep-apart: exit %d\n%s\n%s", code, stdout, stderr)
	}
	after, err := s.Sample(context.Background(), "MIX-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Runs) != len(first.Runs) || after.VolumeML != first.VolumeML {
		t.Errorf("MIX-1 changed: %d runs, %v mL; was %d, %v", len(after.Runs), after.VolumeML, len(first.Runs), first.VolumeML)
	}
	apart, err := s.Sample(context.Background(), "MIX-1~base")
	if err != nil || len(apart.Runs) != 1 || apart.Runs[0].Model != "base" {
		t.Errorf("companion sample: %+v, %v", apart, err)
	}
	if _, err := s.Sample(context.Background(), "MIX-1~t0.7"); !errors.Is(err, store.ErrNoSample) {
		t.Errorf("the refused run left a sample: %v", err)
	}
	if len(first.Runs) != 1 || first.Runs[0].Finder != vision.FinderThresholds {
		t.Errorf("the first run's finder: %+v, want %q", first.Runs, vision.FinderThresholds)
	}

	// The learned detector finds more objects: its counts are kept apart too.
	const withDetector = "thresholds + detector " + assets.DetectorName
	code, stdout, stderr = screenCtx(t, context.Background(), append(base, "--detector", assets.DetectorName), nil)
	if code != exitUsage || !strings.Contains(stderr, "this run uses pack ndsb-plankton-121, model optimised, threshold 0.5, objects found by "+withDetector) {
		t.Fatalf("with the detector: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = screenCtx(t, context.Background(), append(base, "--detector", assets.DetectorName, "--keep-apart"), nil)
	if code != exitOK || !strings.Contains(stdout, "Sample MIX-1~"+assets.DetectorName) || !strings.Contains(stdout, "Objects found by "+withDetector) {
		t.Fatalf("with the detector, --keep-apart: exit %d\n%s\n%s", code, stdout, stderr)
	}
	det, err := s.Sample(context.Background(), "MIX-1~"+assets.DetectorName)
	if err != nil || len(det.Runs) != 1 || det.Runs[0].Finder != withDetector {
		t.Errorf("the detector's companion sample: %+v, %v", det, err)
	}
	// The companions hold the same water: taken when the sample was, not when their run
	// started.
	if !apart.Taken.Equal(first.Taken) || !det.Taken.Equal(first.Taken) {
		t.Errorf("companions taken %v and %v, the sample %v", apart.Taken, det.Taken, first.Taken)
	}

	// Other frames of the same water, added without --taken: the summary is the run's,
	// taken when the sample was, and says the sample's runs and volume.
	more := t.TempDir()
	real, _ := filepath.Glob("../../testdata/real-frames/*.jpg")
	for _, f := range real[:2] {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(more, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, stderr = screenCtx(t, context.Background(), []string{"--source", more, "--db", db, "--sample", "MIX-1", "--baseline", "0"}, nil)
	if code != exitOK || !strings.Contains(stdout, "Sample MIX-1, taken "+first.Taken.Format("2006-01-02 15:04")) ||
		!strings.Contains(stdout, "Sample MIX-1 now holds 2 runs, 2 mL examined: the counts above are this run's") {
		t.Errorf("a run added to MIX-1: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// The same ID given to water taken a week before is other water: refused, the sample
	// left as it was (helper-68: added, the stored time standing for both).
	week := first.Taken.Add(-7 * 24 * time.Hour).Format("2006-01-02T15:04")
	code, stdout, stderr = screenCtx(t, context.Background(), []string{"--source", real[2], "--db", db, "--sample", "MIX-1", "--taken", week, "--baseline", "0"}, nil)
	if code != exitUsage || !strings.Contains(stderr, "and this run says taken") || !strings.Contains(stderr, "use another sample ID for other water") {
		t.Errorf("water taken a week before into MIX-1: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if si, err := s.Sample(context.Background(), "MIX-1"); err != nil || len(si.Runs) != 2 {
		t.Errorf("MIX-1 after the refusal: %d runs, %v", len(si.Runs), err)
	}
}

// Without --sample, each run is a sample of its own: two folders screened in a loop
// within one second, or two depths taken at one time, were one sample of two runs
// (helper-68).
func TestScreenGeneratedIDsNeverJoin(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	real, _ := filepath.Glob("../../testdata/real-frames/*.jpg")
	if len(real) < 2 {
		t.Fatal("testdata/real-frames holds fewer than 2 frames")
	}
	const taken = "2025-06-03T09:30"
	for i, depth := range []string{"1", "5"} {
		code, stdout, stderr := screenCtx(t, context.Background(), []string{"--source", real[i], "--db", db, "--site", "Loch A", "--taken", taken, "--depth", depth, "--baseline", "0"}, nil)
		if code != exitOK {
			t.Fatalf("run %d: exit %d\n%s\n%s", i+1, code, stdout, stderr)
		}
	}
	s, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ids, err := s.SampleIDs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	if want := []string{"Loch-A-20250603-093000", "Loch-A-20250603-093000-2"}; !slices.Equal(ids, want) {
		t.Fatalf("samples %q, want %q", ids, want)
	}
	for i, id := range ids {
		si, err := s.Sample(context.Background(), id)
		if err != nil || len(si.Runs) != 1 || si.DepthM != []float64{1, 5}[i] {
			t.Errorf("sample %s: %d runs at %v m (%v), want one run at %v m", id, len(si.Runs), si.DepthM, err, []float64{1, 5}[i])
		}
	}
}

// A frame too crowded to segment examined no water it could count: neither its objects
// nor its volume count, said with the fix (helper-72: its volume counted while its mats
// were withheld, a folder of a bloom's mats read "No alert").
func TestScreenCrowdedFrameNotExamined(t *testing.T) {
	dir := fieldAndFrame(t, "b-mat.png", synth.DebrisFrame(320, 240, 4))
	db := filepath.Join(t.TempDir(), "s.db")
	code, stdout, stderr := screenCtx(t, context.Background(), []string{"--source", dir, "--db", db, "--sample", "MAT-1", "--volume-ml", "2", "--baseline", "0"}, nil)
	if code == exitOK || !strings.Contains(stdout, "Note: 1 frame was too crowded to segment") || !strings.Contains(stdout, "not counted as examined, nor their objects") ||
		!strings.Contains(stdout, "PARTIAL: 1 of 2 frames examined (50.0%, 1 frame too crowded)") || !strings.Contains(stdout, "1 mL examined") {
		t.Errorf("a folder of a field and a crowded frame: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// The JSON summary says it too: a partial run read as a whole one there.
	_, stdout, _ = screenCtx(t, context.Background(), []string{"--source", dir, "--db", db, "--sample", "MAT-J", "--volume-ml", "2", "--baseline", "0", "--format", "json"}, nil)
	var doc struct {
		Sample struct {
			VolumeML float64 `json:"volume_ml"`
		} `json:"sample"`
		Partial  bool                 `json:"partial"`
		Examined screening.Examined   `json:"examined"`
		Frames   screening.FrameStats `json:"frames"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || !doc.Partial || doc.Examined.Frames != 1 || doc.Examined.Expected != 2 ||
		doc.Examined.DeclaredML != 2 || doc.Sample.VolumeML != 1 || doc.Frames.Crowded != 1 {
		t.Errorf("JSON of a folder with a crowded frame (%v): %+v\n%s", err, doc, stdout)
	}
	// Every frame crowded: nothing examined, nothing stored, and the fix said (helper-72:
	// a folder of Oscillatoria mats read "No alert").
	mats := t.TempDir()
	for i, name := range []string{"a.png", "b.png"} {
		writeTestPNG(t, filepath.Join(mats, name), synth.DebrisFrame(320, 240, uint64(4+i)))
	}
	code, stdout, stderr = screenCtx(t, context.Background(), []string{"--source", mats, "--db", db, "--sample", "MAT-2", "--baseline", "0"}, nil)
	if code == exitOK || strings.Contains(stdout, "No alert") || !strings.Contains(stderr, "no frame was examined, so nothing was stored: every frame was too crowded to segment; dilute the sample (1+9, --factor 10) and screen it again") {
		t.Errorf("a folder of crowded frames: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// The store says why the run is partial, as the report and History give it.
	s, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	si, err := s.Sample(context.Background(), "MAT-1")
	if err != nil || len(si.Runs) != 1 || si.Runs[0].FramesCrowded != 1 || si.Runs[0].FramesBlank != 0 || si.Runs[0].FramesFailed != 1 {
		t.Errorf("stored runs %+v (%v): want one run with 1 frame failed, crowded", si.Runs, err)
	}
}

// A frame that showed nothing (the lamp off) examined no water: not counted as examined,
// and said with the fix (helper-68: counted, it lowered the concentrations unseen).
func TestScreenBlankFrameNotExamined(t *testing.T) {
	dir := fieldAndFrame(t, "b-lamp-off.png", synth.BlackFrame(320, 240))
	code, stdout, stderr := screenCtx(t, context.Background(), []string{"--source", dir, "--db", filepath.Join(t.TempDir(), "s.db"), "--volume-ml", "2", "--baseline", "0"}, nil)
	if code == exitOK || !strings.Contains(stdout, "Note: 1 frame showed nothing (all black") ||
		!strings.Contains(stdout, "PARTIAL: 1 of 2 frames examined (50.0%, 1 frame blank)") || !strings.Contains(stdout, "1 mL examined") {
		t.Errorf("a folder of a field and a lamp-off frame: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// fieldAndFrame makes a folder of a real bench frame (a-field.jpg) and img beside it as
// name (a PNG).
func fieldAndFrame(t *testing.T, name string, img image.Image) string {
	t.Helper()
	dir := t.TempDir()
	real, _ := filepath.Glob("../../testdata/real-frames/*.jpg")
	if len(real) == 0 {
		t.Fatal("no real frames in testdata/real-frames")
	}
	data, err := os.ReadFile(real[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a-field.jpg"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	writeTestPNG(t, filepath.Join(dir, name), img)
	return dir
}

// writeTestPNG writes img to path as a PNG.
func writeTestPNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}

// None counted in a volume where one cell would reach a level does not show the water
// below it: not checked, saying why and the fix, in the summary, the report and the CSV;
// ten times the volume shows it (helper-72: "No alert: every watched HAB group below its
// trigger levels" of 0.1 mL, where one Noctiluca is the alert level).
func TestScreenTooLittleExaminedIsNotChecked(t *testing.T) {
	dir := t.TempDir()
	field := image.NewRGBA(image.Rect(0, 0, 320, 240)) // an empty field: nothing counted
	for i := range field.Pix {
		field.Pix[i] = 216
		if i%4 == 3 {
			field.Pix[i] = 255 // opaque
		}
	}
	writeTestPNG(t, filepath.Join(dir, "empty.png"), field)
	db := filepath.Join(t.TempDir(), "s.db")
	for _, c := range []struct {
		ml, want string
	}{
		{"0.1", "NOT CHECKED: Noctiluca (none counted; one cell in the volume examined is 10,000 cells/L, its ALERT level 10,000 cells/L)"},
		{"1", "Alerts raised:\n  none"},
	} {
		code, stdout, stderr := screenCtx(t, context.Background(), []string{"--source", dir, "--db", db, "--sample", "EMPTY-" + c.ml, "--volume-ml", c.ml, "--baseline", "0"}, nil)
		if code != exitOK || !strings.Contains(stdout, c.want) {
			t.Errorf("%s mL of an empty field: exit %d, want %q\n%s\n%s", c.ml, code, c.want, stdout, stderr)
		}
	}
	// JSON: "alerts": [] is no all-clear; not_checked says which rules and why (helper-74).
	_, out, _ := screenCtx(t, context.Background(), []string{"--source", dir, "--db", db, "--sample", "EMPTY-J", "--volume-ml", "0.1", "--baseline", "0", "--format", "json"}, nil)
	var doc struct {
		NotChecked []struct {
			Rule, Why string
			Limit     float64 `json:"detection_limit_per_l"`
		} `json:"not_checked"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.NotChecked) != 2 || doc.NotChecked[0].Rule != "noctiluca" || doc.NotChecked[0].Limit != 10000 ||
		!strings.HasPrefix(doc.NotChecked[0].Why, "none counted, and one cell in the volume examined is 10,000 cells/L, at or over its ALERT level") {
		t.Errorf("JSON of 0.1 mL (%v): not checked %+v", err, doc.NotChecked)
	}
	pdf := filepath.Join(t.TempDir(), "r.pdf")
	code, stdout, stderr := run(t, "report", "--db", db, "--sample", "EMPTY-0.1", "--out", pdf)
	text := strings.Join(strings.Fields(pdfText(t, pdf)), " ")
	if code != exitOK || !strings.Contains(stdout, "(not checked: Noctiluca, Trichodesmium;") ||
		!strings.Contains(text, "Not checked where too little was examined: Noctiluca (none counted;") || strings.Contains(text, "No alert") {
		t.Errorf("report of 0.1 mL: exit %d\n%s%s\n%.600s", code, stdout, stderr, text)
	}
	csv := filepath.Join(t.TempDir(), "c.csv")
	if code, _, stderr := run(t, "export", "--db", db, "--sample", "EMPTY-0.1", "--format", "csv", "--out", csv); code != exitOK {
		t.Fatalf("export: exit %d\n%s", code, stderr)
	}
	rows, _ := os.ReadFile(csv)
	if !strings.Contains(string(rows), ",rule,noctiluca,Noctiluca,preset default,cell,0,,0.0,0.0,36888.8,0,0.0,0.1,false,unchecked,") {
		t.Errorf("counts CSV of 0.1 mL: want the Noctiluca rule unchecked\n%s", rows)
	}
}
