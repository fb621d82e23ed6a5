package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phytoscreen/phytoscreen/screening"
)

// A run stopped and taken up with --continue shows the time taken as the first run did:
// in local time, with its zone, and in the JSON with the local offset. The store gives
// the time back in UTC, and the continuation printed "taken 2026-12-05 10:00" (JSON
// 10:00:00Z) after the first run's 11:00 (+01:00) in Berlin (helper-89).
func TestContinuationKeepsLocalTaken(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs the real model")
	}
	inZone(t, "Europe/Berlin")
	dir := t.TempDir()
	real, _ := filepath.Glob("../../testdata/real-frames/*.jpg")
	if len(real) < 6 {
		t.Fatalf("testdata/real-frames holds %d frames", len(real))
	}
	for _, f := range real[:6] {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db := filepath.Join(t.TempDir(), "s.db")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const want = "taken 2026-12-05 11:00 CET"
	code, stdout, stderr := screenCtx(t, ctx, []string{"--source", dir, "--db", db, "--sample", "C1", "--taken", "2026-12-05 11:00", "--baseline", "0", "--threads", "1"},
		func(c screening.Classifier) screening.Classifier {
			return &interruptOnClassify{Classifier: c, cancel: cancel}
		})
	if code == exitOK || !strings.Contains(stdout, "Sample C1, "+want) {
		t.Fatalf("the first run, stopped: exit %d, want %q:\n%s\n%s", code, want, stdout, stderr)
	}
	code, stdout, stderr = run(t, "screen", "--continue", "C1", "--db", db, "--baseline", "0", "--threads", "1", "--format", "json")
	if code != exitOK {
		t.Fatalf("--continue C1: exit %d:\n%s\n%s", code, stdout, stderr)
	}
	var out struct {
		Sample struct {
			Taken string `json:"taken"`
		} `json:"sample"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil || out.Sample.Taken != "2026-12-05T11:00:00+01:00" {
		t.Errorf("--continue C1 --format json: taken %q (%v), want 2026-12-05T11:00:00+01:00:\n%s", out.Sample.Taken, err, stdout)
	}
	// Another folder of the same water, added to the sample: its summary as the first's.
	code, stdout, stderr = run(t, "screen", "--source", real[6], "--db", db, "--sample", "C1", "--baseline", "0", "--threads", "1")
	if code != exitOK || !strings.Contains(stdout, "Sample C1, "+want) {
		t.Errorf("a run added to C1: exit %d, want %q:\n%s\n%s", code, want, stdout, stderr)
	}
}
