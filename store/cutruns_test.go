package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/screening"
)

// A run whose process is gone before recording its end is ended by EndCutRuns, once:
// interrupted, with the frames and objects it recorded and their share of the volume.
// A run of this process, of a live process or of another host is left recording.
func TestEndCutRuns(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	ctx := context.Background()
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	boot := bootID()
	if boot == "" {
		t.Fatal("no boot ID in /proc/sys/kernel/random/boot_id: the test needs Linux")
	}
	owners := map[string]string{
		"CUT":        host + " " + strconv.Itoa(gone.Process.Pid),
		"MINE":       thisProcess(),
		"ALIVE":      host + " 1", // init: alive, and another user's
		"THIS-BOOT":  host + " 1 " + boot,
		"OTHER-HOST": "elsewhere.example " + strconv.Itoa(gone.Process.Pid),
		// Its process ID runs now, but under another boot: it is not the run's process.
		"REBOOTED": host + " 1 00000000-0000-4000-8000-000000000000",
		// Killed before its first frame: removed, as a live run stopped there is.
		"EMPTY": host + " " + strconv.Itoa(gone.Process.Pid) + " " + boot,
		// A run of cell images recorded before their frames were: objects and no
		// frames. Kept.
		"CELLS": host + " " + strconv.Itoa(gone.Process.Pid) + " " + boot,
	}
	runs := map[string]*Run{}
	for id, owner := range owners {
		sm := testSample()
		sm.ID = id
		n := 40 // 3 frames of 16, 16 and 8 objects, said to be of a source of 300
		if id == "EMPTY" {
			n = 0 // its alert and power records only
		}
		r := recordRun(t, s, sm, n)
		runs[id] = r
		if _, err := s.db.Exec("UPDATE sources SET owner = ?, frames_expected = 300 WHERE id = ?", owner, r.ID); err != nil {
			t.Fatal(err)
		}
		if id == "CELLS" {
			if _, err := s.db.Exec("DELETE FROM frames WHERE source_id = ?", r.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	cut, err := s.EndCutRuns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// EMPTY is said as removed.
	if i := slices.IndexFunc(cut, func(c CutRun) bool { return c.Removed }); i < 0 || cut[i].Sample != "EMPTY" || cut[i].SampleKept {
		t.Errorf("cut off: %+v; want EMPTY's run said as removed", cut)
	} else {
		cut = slices.Delete(cut, i, i+1)
	}
	// The runs were made in the map's order; they are said in the order of their IDs.
	slices.SortFunc(cut, func(a, b CutRun) int { return strings.Compare(a.Sample, b.Sample) })
	if len(cut) != 3 || cut[1].Sample != "CUT" || cut[1].Run != runs["CUT"].ID || cut[1].Objects != 40 || cut[1].Frames != 3 ||
		cut[0].Sample != "CELLS" || cut[0].Objects != 40 || cut[2].Sample != "REBOOTED" {
		t.Fatalf("cut off: %+v; want CELLS's 40 objects, run %d of CUT, 3 frames and 40 objects, and REBOOTED's", cut, runs["CUT"].ID)
	}
	cut = cut[1:] // CUT's first
	if _, err := s.Sample(ctx, "EMPTY"); err == nil {
		t.Error("the run cut off before its first frame is kept as sample EMPTY")
	}
	for _, table := range append(runTables, "sources") {
		col := "source_id"
		if table == "sources" {
			col = "id"
		}
		var n int
		if err := s.db.QueryRow("SELECT COUNT(*) FROM "+table+" WHERE "+col+" = ?", runs["EMPTY"].ID).Scan(&n); err != nil || n != 0 {
			t.Errorf("%d rows of the empty run left in %s (%v)", n, table, err)
		}
	}
	// recordRun's perf sample is at t0; the run started now.
	if want := cut[0].VolumeGiven * 3 / 300; cut[0].VolumeML != want || !cut[0].LastWork.Equal(t0) || cut[0].Rules != "" {
		t.Errorf("cut run: %g mL examined (want %g), last work %v (want %v), rules %q", cut[0].VolumeML, want, cut[0].LastWork, t0, cut[0].Rules)
	}
	si, err := s.Sample(ctx, "CUT")
	if err != nil {
		t.Fatal(err)
	}
	if r := si.Runs[0]; r.Status != "interrupted" || !r.Interrupted || r.Ended.IsZero() || r.VolumeML != cut[0].VolumeML {
		t.Errorf("stored as %q, interrupted %v, ended %v, %g mL", r.Status, r.Interrupted, r.Ended, r.VolumeML)
	}
	if again, err := s.EndCutRuns(ctx); err != nil || len(again) != 0 {
		t.Errorf("a second look found %+v (%v): a cut run is said once", again, err)
	}
	for _, id := range []string{"MINE", "ALIVE", "THIS-BOOT", "OTHER-HOST"} {
		si, err := s.Sample(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var ended string
		if err := s.db.QueryRow("SELECT COALESCE(ended, '') FROM sources WHERE id = ?", si.Runs[0].ID).Scan(&ended); err != nil || ended != "" {
			t.Errorf("run of %s ended (%q): its process may still be recording", id, ended)
		}
	}
}

// A batch's cells and the records of the frames they complete are one write: both are
// stored by the one commit, or neither (the frames' insert failing here takes the cells
// with it).
func TestObjectsWithFramesOneWrite(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	for _, fail := range []bool{false, true} {
		sm := testSample()
		sm.ID = fmt.Sprint("ONE-WRITE-", fail)
		r := recordRun(t, s, sm, 0)
		if fail {
			if _, err := s.db.Exec("CREATE TRIGGER no_frames BEFORE INSERT ON frames BEGIN SELECT RAISE(ABORT, 'disk full (test)'); END"); err != nil {
				t.Fatal(err)
			}
		}
		o := record(realCrops(t), 1, "protist_noctiluca", 0.9, "")
		o.Source, o.Frame = "f0.png", 0
		if err := r.ObjectsWithFrames([]screening.ObjectRecord{o}, []screening.FrameRecord{{Time: t0, Index: 0, Source: "f0.png", Objects: 1}}); err != nil {
			t.Fatal(err)
		}
		if err := r.Flush(); (err != nil) != fail {
			t.Fatalf("failing frames %v: flush %v", fail, err)
		}
		want := 1
		if fail {
			want = 0
		}
		var objects, frames int
		if err := s.db.QueryRow("SELECT (SELECT COUNT(*) FROM objects WHERE source_id = ?), (SELECT COUNT(*) FROM frames WHERE source_id = ?)", r.ID, r.ID).Scan(&objects, &frames); err != nil || objects != want || frames != want {
			t.Errorf("failing frames %v: %d objects and %d frames stored (%v); want %d and %d", fail, objects, frames, err, want, want)
		}
	}
}

// A run killed between two writes of one frame's cells kept cells of a frame it did not
// record, over the volume of the frames it did: once it is found cut off they leave it,
// unless reviewed (helper-73: they counted until a continuation took them back, and for
// good where none would).
func TestEndCutRunsTakesBackCellsOfUnrecordedFrames(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	ctx := context.Background()
	gone := goneProcess(t)
	spec, files := frameFolder(t, 10)
	for _, reviewed := range []bool{false, true} {
		sm := testSample()
		sm.ID = "KILLED-" + strconv.FormatBool(reviewed)
		r := screenFilesThenOrphan(t, s, screening.RunInfo{Sample: sm, Spec: spec, Expected: 10}, files[:4], files[4])
		if reviewed {
			var orphan int64
			if err := s.db.QueryRow("SELECT MAX(id) FROM objects WHERE source_id = ?", r.ID).Scan(&orphan); err != nil {
				t.Fatal(err)
			}
			if err := s.Validate(ctx, orphan, "copepod_calanoid", "Reviewer"); err != nil {
				t.Fatal(err)
			}
		}
		// As the kill left it: no end recorded, its process gone.
		if _, err := s.db.Exec("UPDATE sources SET ended = NULL, owner = ? WHERE id = ?", gone, r.ID); err != nil {
			t.Fatal(err)
		}
		cut, err := s.EndCutRuns(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := 4 // the 4 frames' cells recorded
		if reviewed {
			want = 5 // a reviewed cell is the reviewer's: kept
		}
		var n int
		if err := s.db.QueryRow("SELECT COUNT(*) FROM objects WHERE source_id = ?", r.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if len(cut) != 1 || cut[0].Objects != want || n != want {
			t.Errorf("reviewed %v: cut %+v, %d objects stored; want %d", reviewed, cut, n, want)
		}
	}
}

// goneProcess is the owner of a run whose process has ended: this host and the ID of a
// process that ran and exited.
func goneProcess(t *testing.T) string {
	t.Helper()
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	return host + " " + strconv.Itoa(gone.Process.Pid)
}

// A run whose writes failed part way (a full disk) stands on the frames it stored: it
// was recorded over the volume of every frame examined, with the cells of the frames
// stored alone, a false 0 cells/L in the site's trend (helper-86); one that stored no
// frame is not kept.
func TestFailedWritesRunStandsOnWhatItStored(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	ctx := context.Background()
	crops := realCrops(t)
	for _, storedFirst := range []bool{true, false} {
		sm := testSample()
		sm.ID = fmt.Sprint("FULL-", storedFirst)
		r, err := s.StartRun(ctx, screening.RunInfo{Sample: sm, Spec: capture.MustParseSpec("field.avi"), Model: inference.Optimised, Threshold: 0.5, Taxonomy: testTaxonomy(t)})
		if err != nil {
			t.Fatal(err)
		}
		frame := func(i int) {
			t.Helper()
			o := record(crops, i+1, "protist_noctiluca", 0.9, "")
			o.Source, o.Frame = "field.avi", i
			if err := r.ObjectsWithFrames([]screening.ObjectRecord{o}, []screening.FrameRecord{{Time: t0, Index: i, Source: "field.avi", Objects: 1}}); err != nil {
				t.Fatal(err)
			}
		}
		if storedFirst {
			frame(0)
			if err := r.Flush(); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.db.Exec("CREATE TRIGGER full BEFORE INSERT ON frames BEGIN SELECT RAISE(ABORT, 'disk full (test)'); END"); err != nil {
			t.Fatal(err)
		}
		frame(1)
		var snap screening.Snapshot
		snap.Frames.Seen = 4
		snap.Examined = screening.Examined{Frames: 4, Fraction: 1, DeclaredML: sm.VolumeML}
		ferr := r.Finish(ctx, snap, nil)
		if _, err := s.db.Exec("DROP TRIGGER full"); err != nil {
			t.Fatal(err)
		}
		if !errors.Is(ferr, ErrWriteFailed) || !strings.Contains(ferr.Error(), "disk full (test)") {
			t.Errorf("stored first %v: Finish %v, want the failed write said", storedFirst, ferr)
		}
		si, err := s.Sample(ctx, sm.ID)
		if !storedFirst {
			if !errors.Is(err, ErrNoSample) || !strings.Contains(fmt.Sprint(ferr), "nothing of run") {
				t.Errorf("a run that stored nothing: sample %+v (%v), Finish %v; want it not kept, and said", si, err, ferr)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		run := si.Runs[0]
		if want := sm.VolumeML / 4; math.Abs(run.VolumeML-want) > 1e-12 || run.Status != "failed" || !run.Interrupted || !si.Partial() ||
			!strings.Contains(run.Error, "the objects of 3 of its 4 frames could not be stored") {
			t.Errorf("stored 1 of 4 frames: %g mL (want %g), status %q, interrupted %v, partial %v, error %q", run.VolumeML, want, run.Status, run.Interrupted, si.Partial(), run.Error)
		}
	}
}
