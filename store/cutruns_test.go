package store

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"testing"
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
	owners := map[string]string{
		"CUT":        host + " " + strconv.Itoa(gone.Process.Pid),
		"MINE":       thisProcess(),
		"ALIVE":      host + " 1", // init: alive, and another user's
		"OTHER-HOST": "elsewhere.example " + strconv.Itoa(gone.Process.Pid),
	}
	runs := map[string]*Run{}
	for id, owner := range owners {
		sm := testSample()
		sm.ID = id
		r := recordRun(t, s, sm, 40) // 3 frames of 16, 16 and 8 objects, said to be of a source of 300
		runs[id] = r
		if _, err := s.db.Exec("UPDATE sources SET owner = ?, frames_expected = 300 WHERE id = ?", owner, r.ID); err != nil {
			t.Fatal(err)
		}
	}
	cut, err := s.EndCutRuns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cut) != 1 || cut[0].Sample != "CUT" || cut[0].Run != runs["CUT"].ID || cut[0].Objects != 40 || cut[0].Frames != 3 {
		t.Fatalf("cut off: %+v; want run %d of CUT, 3 frames and 40 objects", cut, runs["CUT"].ID)
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
	for _, id := range []string{"MINE", "ALIVE", "OTHER-HOST"} {
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
