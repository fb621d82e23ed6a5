package store

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/screening"
)

// frameFolder writes n distinct small PNG frames and returns the folder (absolute, as
// runs record it) and its files as a folder source lists them after its prescan.
func frameFolder(t *testing.T, n int) (capture.Spec, []string) {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		img := image.NewGray(image.Rect(0, 0, 8, 8))
		img.Set(i%8, i/8, color.Gray{255})
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("frame%d.png", i+1)))
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	spec := capture.Spec{Kind: capture.KindFolder, Path: dir}
	src, err := capture.OpenFolder(dir, func(capture.Status) {})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Prescan(context.Background()); err != nil {
		t.Fatal(err)
	}
	return spec, src.Files()
}

// screenFiles records a run of spec that reads files (one object each) and ends
// interrupted when it read fewer than expected, as a stopped session would.
func screenFiles(t *testing.T, s *Store, info screening.RunInfo, files []string) *Run {
	t.Helper()
	info.Model, info.Threshold, info.Taxonomy, info.Rules = inference.Optimised, 0.5, testTaxonomy(t), "preset default"
	r, err := s.startRun(context.Background(), info, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	crops := realCrops(t)
	for i, f := range files {
		o := record(crops, i+1, "protist_noctiluca", 0.9, "")
		o.Source, o.Frame = f, i
		if err := r.Objects([]screening.ObjectRecord{o}); err != nil {
			t.Fatal(err)
		}
		if err := r.Frames([]screening.FrameRecord{{Time: t0, Index: i, Source: f, Focus: 0.9, Objects: 1}}); err != nil {
			t.Fatal(err)
		}
	}
	ex := screening.Examined{Expected: info.Expected, Frames: len(files), Fraction: 1, DeclaredML: info.Sample.VolumeML}
	if len(files) < info.Expected {
		ex.Interrupted, ex.Fraction = true, float64(len(files))/float64(info.Expected)
	}
	if err := r.Finish(context.Background(), screening.Snapshot{Examined: ex, Threshold: 0.5, Variant: inference.Optimised}, nil); err != nil {
		t.Fatal(err)
	}
	return r
}

// A folder's run stopped after 4 of its 10 frames is taken up from the fifth, twice over
// (the continuation stopped too): the volume given is split by files, and once every
// file is read the sample is whole, its objects each counted once. A run read to its
// end, a run already taken up, a video's run and a folder changed since are refused,
// each saying why.
func TestContinueAFolderRun(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	spec, files := frameFolder(t, 10)
	sm := testSample() // 2 mL
	first := screenFiles(t, s, screening.RunInfo{Sample: sm, Spec: spec, Expected: 10}, files[:4])

	c, err := s.Continuable(ctx, sm.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Run != first.ID || c.Last != files[3] || c.Frames != 4 || c.Skip != 0 || c.Files != 10 {
		t.Fatalf("continuation %+v; want run %d after %s, 4 frames, skip 0 of 10", c, first.ID, files[3])
	}
	if err := c.Locate(files); err != nil {
		t.Fatal(err)
	}
	if c.Skip != 4 || c.VolumeML != 2*0.6 {
		t.Fatalf("placed at %d with %g mL; want 4 and %g", c.Skip, c.VolumeML, 2*0.6)
	}
	if !strings.Contains(c.Describe(), "read 4 of its 10 frames") {
		t.Errorf("described as %q", c.Describe())
	}
	// The second run stops after 3 more frames, the third reads the rest.
	second := screenFiles(t, s, screening.RunInfo{Sample: sm, Spec: spec, Expected: 6, Continues: first.ID}, files[4:7])
	c2, err := s.Continuable(ctx, sm.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := c2.Locate(files); err != nil {
		t.Fatal(err)
	}
	if c2.Run != second.ID || c2.Skip != 7 || math.Abs(c2.VolumeML-2*0.3) > 1e-12 {
		t.Fatalf("second continuation: run %d, skip %d, %g mL; want run %d, 7, %g", c2.Run, c2.Skip, c2.VolumeML, second.ID, 2*0.3)
	}
	screenFiles(t, s, screening.RunInfo{Sample: sm, Spec: spec, Expected: 3, Continues: second.ID}, files[7:])

	si, err := s.Sample(ctx, sm.ID)
	if err != nil {
		t.Fatal(err)
	}
	given := 0.0
	for _, r := range si.Runs {
		given += r.VolumeGiven
	}
	if len(si.Runs) != 3 || math.Abs(si.VolumeML-2) > 1e-12 || math.Abs(given-2) > 1e-12 {
		t.Fatalf("%d runs, %g mL examined of %g given; want 3 runs, 2 of 2", len(si.Runs), si.VolumeML, given)
	}
	// Each run says the run it went on from (report.PartialRuns words a continued run's
	// volume by it).
	if si.Runs[0].Continues != 0 || si.Runs[1].Continues != si.Runs[0].ID || si.Runs[2].Continues != second.ID {
		t.Errorf("runs continue %d, %d, %d; want 0, %d, %d", si.Runs[0].Continues, si.Runs[1].Continues, si.Runs[2].Continues, si.Runs[0].ID, second.ID)
	}
	for i, want := range []float64{0.8, 0.6, 0.6} {
		if r := si.Runs[i]; math.Abs(r.VolumeML-want) > 1e-12 || math.Abs(r.VolumeGiven-want) > 1e-12 {
			t.Errorf("run %d: %g of %g mL; want %g of %g (its files' share, read whole)", i+1, r.VolumeML, r.VolumeGiven, want, want)
		}
	}
	var objects, distinct int
	if err := s.db.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT o.file) FROM objects o JOIN sources r ON r.id = o.source_id WHERE r.sample_id = ?`, sm.ID).Scan(&objects, &distinct); err != nil {
		t.Fatal(err)
	}
	if objects != 10 || distinct != 10 {
		t.Errorf("%d objects from %d files; want each of the 10 frames' once", objects, distinct)
	}

	// Read to the end: nothing to take up.
	if _, err := s.Continuable(ctx, sm.ID); !errors.Is(err, ErrNotContinuable) || !strings.Contains(err.Error(), "read its folder to the end") {
		t.Errorf("a sample read whole: %v", err)
	}
	// A run taken up already is not taken up again.
	info := screening.RunInfo{Sample: sm, Spec: spec, Expected: 6, Continues: first.ID, Model: inference.Optimised, Threshold: 0.5, Taxonomy: testTaxonomy(t), Rules: "preset default"}
	if _, err := s.StartRun(ctx, info); !errors.Is(err, ErrNotContinuable) || !strings.Contains(err.Error(), "was continued already") {
		t.Errorf("run %d taken up twice: %v", first.ID, err)
	}
	// Without Continues, the same folder is refused as before.
	info.Continues = 0
	if _, err := s.StartRun(ctx, info); !errors.Is(err, ErrSameFrames) {
		t.Errorf("the folder again without continuing: %v", err)
	}

	// A video's run is not taken up: its cells in view would be counted again.
	video := testSample()
	video.ID = "VIDEO"
	r := recordRun(t, s, video, 3)
	if err := r.Finish(ctx, screening.Snapshot{Examined: screening.Examined{Expected: 300, Frames: 3, Interrupted: true, Fraction: 0.01, DeclaredML: 2}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Continuable(ctx, "VIDEO"); !errors.Is(err, ErrNotContinuable) || !strings.Contains(err.Error(), "only a folder's run") {
		t.Errorf("a video's run: %v", err)
	}

	// A folder that changed since is not taken up: the split of the volume would not hold.
	other := testSample()
	other.ID = "CHANGED"
	spec2, files2 := frameFolder(t, 6)
	screenFiles(t, s, screening.RunInfo{Sample: other, Spec: spec2, Expected: 6}, files2[:2])
	c3, err := s.Continuable(ctx, "CHANGED")
	if err != nil {
		t.Fatal(err)
	}
	if err := c3.Locate(files2[:5]); err == nil || !strings.Contains(err.Error(), "held 6 frames when sample CHANGED was screened and holds 5 now") {
		t.Errorf("a frame gone: %v", err)
	}
	moved := append([]string{files2[1]}, files2[0])
	moved = append(moved, files2[2:]...)
	moved[0] = files2[0] + ".renamed"
	if err := c3.Locate(moved); err == nil || !strings.Contains(err.Error(), "holds "+filepath.Base(moved[0])+", which it did not hold") {
		t.Errorf("the last frame read renamed: %v", err)
	}
}

// A continuation removed before its first frame (stopped at once, or killed) gives the
// volume it was handed back to the run it took up: that run stays partial on its share,
// and the next continuation gets the files left their whole share (the stopped run read
// whole on its share, and a second continuation split the share again: 40 objects in
// 1.35 of 2 mL, helper-45).
func TestRemovedContinuationGivesBackItsVolume(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	spec, files := frameFolder(t, 10)
	sm := testSample() // 2 mL
	first := screenFiles(t, s, screening.RunInfo{Sample: sm, Spec: spec, Expected: 10}, files[:4])
	info := screening.RunInfo{Sample: sm, Spec: spec, Expected: 6, Continues: first.ID, Model: inference.Optimised, Threshold: 0.5, Taxonomy: testTaxonomy(t), Rules: "preset default"}
	check := func(when string) {
		t.Helper()
		si, err := s.Sample(ctx, sm.ID)
		if err != nil {
			t.Fatal(err)
		}
		if r := si.Runs[0]; len(si.Runs) != 1 || math.Abs(r.VolumeGiven-2) > 1e-12 || math.Abs(r.VolumeML-0.8) > 1e-12 || !si.Partial() {
			t.Errorf("%s: %d runs, the first %g of %g mL, partial %v; want 1 run, 0.8 of 2 mL, partial", when, len(si.Runs), r.VolumeML, r.VolumeGiven, si.Partial())
		}
	}
	// Stopped before its first frame.
	r, err := s.StartRun(ctx, info)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Discard(ctx); err != nil {
		t.Fatal(err)
	}
	check("a continuation stopped before its first frame")
	// Killed before its first frame: its process is gone.
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	r, err = s.StartRun(ctx, info)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec("UPDATE sources SET owner = ? WHERE id = ?", host+" "+strconv.Itoa(gone.Process.Pid), r.ID); err != nil {
		t.Fatal(err)
	}
	if cut, err := s.EndCutRuns(ctx); err != nil || len(cut) != 1 || !cut[0].Removed || cut[0].Run != r.ID || !cut[0].SampleKept {
		t.Fatalf("cut runs %+v (%v): want the empty continuation %d said as removed, its sample kept", cut, err, r.ID)
	}
	check("a continuation killed before its first frame")
	// Taken up to the end: whole.
	screenFiles(t, s, screening.RunInfo{Sample: sm, Spec: spec, Expected: 6, Continues: first.ID}, files[4:])
	si, err := s.Sample(ctx, sm.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(si.Runs) != 2 || math.Abs(si.VolumeML-2) > 1e-12 || si.Partial() {
		t.Errorf("continued to the end: %d runs, %g of %g mL, partial %v; want 2 of 2 mL, whole", len(si.Runs), si.VolumeML, si.VolumeGiven(), si.Partial())
	}
}

// A run of cell images recorded before their frames were (objects and no frame rows) is
// not taken up: where it stopped cannot be told, and read from the start its cells
// would count twice (helper-45: 67 objects of a folder of 40).
func TestContinueRefusesARunWithoutFrames(t *testing.T) {
	s := openTemp(t)
	spec, files := frameFolder(t, 10)
	sm := testSample()
	first := screenFiles(t, s, screening.RunInfo{Sample: sm, Spec: spec, Expected: 10}, files[:4])
	if _, err := s.db.Exec("DELETE FROM frames WHERE source_id = ?", first.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Continuable(context.Background(), sm.ID); !errors.Is(err, ErrNotContinuable) || !strings.Contains(err.Error(), "where it stopped cannot be told") {
		t.Errorf("a run with objects and no frames: %v", err)
	}
}

// A frame renamed since the folder was screened keeps the count and the last frame
// read in place, yet moves across where the run stopped: refused (helper-44: a frame
// renamed to the folder's end was read twice, 298 frames of a folder of 297).
func TestContinueRefusesARenamedFrame(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	spec, files := frameFolder(t, 10)
	sm := testSample()
	digests := make([]capture.FileDigest, len(files))
	for i, f := range files {
		digests[i] = capture.FileDigest{Path: f, Digest: fmt.Sprint("d", i)}
	}
	screenFiles(t, s, screening.RunInfo{Sample: sm, Spec: spec, Expected: 10, Digests: digests}, files[:4])
	c, err := s.Continuable(ctx, sm.ID)
	if err != nil {
		t.Fatal(err)
	}
	renamed := append(append(append([]string{}, files[:1]...), files[2:]...), filepath.Join(filepath.Dir(files[1]), "zz-moved.png"))
	if err := c.Locate(renamed); err == nil || !strings.Contains(err.Error(), "holds zz-moved.png, which it did not hold when sample "+sm.ID+" was screened") {
		t.Errorf("a frame renamed past where the run stopped: %v", err)
	}
	if err := c.Locate(files); err != nil || c.Skip != 4 {
		t.Errorf("the folder as it was: skip %d, %v", c.Skip, err)
	}
}

// A run cut off between two writes of one frame's cells keeps cells of a frame it did
// not record: the continuation reads that frame again, so those cells leave the cut run
// as it starts, and the folder's objects are each counted once. Reviewed ones are not
// removed: the continuation is refused, saying why (helper-46).
func TestContinueTakesBackCellsOfUnrecordedFrames(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	spec, files := frameFolder(t, 10)
	sm := testSample()
	first := screenFilesThenOrphan(t, s, screening.RunInfo{Sample: sm, Spec: spec, Expected: 10}, files[:4], files[4])
	c, err := s.Continuable(ctx, sm.ID)
	if err != nil || c.orphans != 1 {
		t.Fatalf("continuation %+v (%v): want 1 object of a frame not recorded", c, err)
	}
	screenFiles(t, s, screening.RunInfo{Sample: sm, Spec: spec, Expected: 6, Continues: first.ID}, files[4:])
	var objects, distinct int
	if err := s.db.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT o.file) FROM objects o JOIN sources r ON r.id = o.source_id WHERE r.sample_id = ?`, sm.ID).Scan(&objects, &distinct); err != nil {
		t.Fatal(err)
	}
	if objects != 10 || distinct != 10 {
		t.Errorf("%d objects from %d files; want each of the 10 frames' once", objects, distinct)
	}

	other := testSample()
	other.ID = "REVIEWED"
	spec2, files2 := frameFolder(t, 6)
	r := screenFilesThenOrphan(t, s, screening.RunInfo{Sample: other, Spec: spec2, Expected: 6}, files2[:2], files2[2])
	var orphan int64
	if err := s.db.QueryRow("SELECT MAX(id) FROM objects WHERE source_id = ?", r.ID).Scan(&orphan); err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(ctx, orphan, "copepod_calanoid", "Reviewer"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Continuable(ctx, "REVIEWED"); !errors.Is(err, ErrNotContinuable) || !strings.Contains(err.Error(), "1 of them reviewed") {
		t.Errorf("a reviewed object of a frame not recorded: %v", err)
	}
}

// screenFilesThenOrphan is screenFiles, stopped after files, with one more object of
// the file next whose frame record was never written.
func screenFilesThenOrphan(t *testing.T, s *Store, info screening.RunInfo, files []string, next string) *Run {
	t.Helper()
	r := screenFiles(t, s, info, files)
	o := record(realCrops(t), len(files)+1, "protist_noctiluca", 0.9, "")
	o.Source, o.Frame = next, len(files)
	if _, err := s.db.Exec(`INSERT INTO objects(source_id, seq, time, frame, track, x, y, w, h, area, file, label, prob) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		r.ID, o.Seq, timeText(o.Time), o.Frame, o.Track, 0, 0, 8, 8, 40, next, o.Label, o.Prob); err != nil {
		t.Fatal(err)
	}
	return r
}

// The continuation of a continuation knows the folder's whole volume, as the first run
// was given it: screen --continue compares --volume-ml with it (helper-74: the second of
// a chain refused the volume given, comparing it with the first continuation's share).
func TestContinuationKnowsTheWholeVolume(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	spec, files := frameFolder(t, 10)
	sm := testSample()
	first := screenFiles(t, s, screening.RunInfo{Sample: sm, Spec: spec, Expected: 10}, files[:4])
	screenFiles(t, s, screening.RunInfo{Sample: sm, Spec: spec, Expected: 6, Continues: first.ID}, files[4:7])
	c, err := s.Continuable(ctx, sm.ID)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(c.WholeML-sm.VolumeML) > 1e-12 || c.VolumeML >= sm.VolumeML {
		t.Errorf("the second continuation: whole %g mL (want %g), its own run's %g", c.WholeML, sm.VolumeML, c.VolumeML)
	}
}

// A folder's run stopped, then another folder screened into the same sample (a second
// chamber): the stopped run is still taken up, not hidden behind the newer run
// (helper-75: "continue" said only that the newest run read its folder to the end).
// While the sample's newest run is still running, nothing is taken up.
func TestContinueAStoppedRunBehindANewerOne(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	specA, filesA := frameFolder(t, 10)
	repaint := func(files []string, shade uint8) { // other frames than folder A's
		for i, f := range files {
			img := image.NewGray(image.Rect(0, 0, 8, 8))
			img.Set(i, 7, color.Gray{shade})
			out, err := os.Create(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := png.Encode(out, img); err != nil {
				t.Fatal(err)
			}
			out.Close()
		}
	}
	specB, filesB := frameFolder(t, 5)
	repaint(filesB, 128)
	sm := testSample()
	stopped := screenFiles(t, s, screening.RunInfo{Sample: sm, Spec: specA, Expected: 10}, filesA[:4])
	screenFiles(t, s, screening.RunInfo{Sample: sm, Spec: specB, Expected: 5}, filesB)
	c, err := s.Continuable(ctx, sm.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Run != stopped.ID || c.Spec != specA || c.Frames != 4 {
		t.Fatalf("continuation of run %d (%s, %d frames); want run %d of %s after 4 frames", c.Run, c.Spec, c.Frames, stopped.ID, specA)
	}
	// Taken up, nothing is left to continue: the newest run's reason is given.
	screenFiles(t, s, screening.RunInfo{Sample: sm, Spec: specA, Expected: 6, Continues: stopped.ID}, filesA[4:])
	if _, err := s.Continuable(ctx, sm.ID); !errors.Is(err, ErrNotContinuable) || !strings.Contains(err.Error(), "read its folder to the end") {
		t.Errorf("all read: %v", err)
	}
	// A stopped run behind one still running waits for it.
	other := testSample()
	other.ID = "OTHER"
	cut := screenFiles(t, s, screening.RunInfo{Sample: other, Spec: specA, Expected: 10}, filesA[:3])
	info := screening.RunInfo{Sample: other, Spec: specB, Expected: 5, Model: inference.Optimised, Threshold: 0.5, Taxonomy: testTaxonomy(t), Rules: "preset default"}
	if _, err := s.startRun(ctx, info, 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Continuable(ctx, other.ID); !errors.Is(err, ErrNotContinuable) || !strings.Contains(err.Error(), "is still running") {
		t.Errorf("behind a running run: run %d, %v (the stopped one is %d)", c.Run, err, cut.ID)
	}
	// A run still going, though a newer one has ended, holds the stopped one too.
	specC, filesC := frameFolder(t, 4)
	repaint(filesC, 64)
	screenFiles(t, s, screening.RunInfo{Sample: other, Spec: specC, Expected: 4}, filesC)
	if _, err := s.Continuable(ctx, other.ID); !errors.Is(err, ErrNotContinuable) || !strings.Contains(err.Error(), "is still running") {
		t.Errorf("a stopped run, one going, a newer one ended: %v", err)
	}
	// Where the stopped run cannot be taken up, its reason is given, not the newer run's.
	third := testSample()
	third.ID = "THIRD"
	specD, filesD := frameFolder(t, 6)
	repaint(filesD, 200)
	gone := screenFiles(t, s, screening.RunInfo{Sample: third, Spec: specD, Expected: 6}, filesD[:2])
	if _, err := s.db.Exec("DELETE FROM frames WHERE source_id = ?", gone.ID); err != nil {
		t.Fatal(err)
	}
	specE, filesE := frameFolder(t, 3)
	repaint(filesE, 32)
	screenFiles(t, s, screening.RunInfo{Sample: third, Spec: specE, Expected: 3}, filesE)
	if _, err := s.Continuable(ctx, third.ID); !errors.Is(err, ErrNotContinuable) || !strings.Contains(err.Error(), "where it stopped cannot be told") {
		t.Errorf("the stopped run's reason: %v", err)
	}
}
