package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/phytoscreen/phytoscreen/report"
	"github.com/phytoscreen/phytoscreen/store"
)

// A volume examined of a million millilitres (a typo for 1) is allowed but questioned,
// and the concentrations it gives are written as they are, not rounded to zero: the
// first-time user's summary read "Anabaena filament 14 | 0 | [0 – 0]" and the export
// "0.0,0.0,0.0" for 0.014 cells/L, which reads as none found (helper-56).
func TestHugeVolumeQuestionedAndNotRoundedToZero(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs the cyano model on real frames")
	}
	src := t.TempDir()
	for _, name := range oscillatoriaFrames {
		copyRealFrame(t, src, name, name, 0)
	}
	db := filepath.Join(t.TempDir(), "s.db")
	code, stdout, stderr := run(t, "screen", "--source", src, "--pack", "cyano-tcb-10", "--rules", "who-cyanobacteria",
		"--sample", "HUGE-1", "--volume-ml", "1000000", "--db", db)
	if code != exitOK {
		t.Fatalf("exit %d: %s%s", code, stdout, stderr)
	}
	for _, out := range []string{stderr, stdout} {
		if !strings.Contains(out, "1000000 mL examined is more than a microscope examines at once") {
			t.Errorf("the volume is not questioned:\n%s", out)
		}
	}
	if strings.Contains(stdout, "[0 – 0]") {
		t.Errorf("a counted taxon's concentration reads 0:\n%s", stdout)
	}

	out := filepath.Join(t.TempDir(), "huge.csv")
	if code, o, e := run(t, "export", "--db", db, "--sample", "HUGE-1", "--out", out); code != exitOK {
		t.Fatalf("export: exit %d: %s%s", code, o, e)
	}
	rows := readCSV(t, out)
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	checked := 0
	for _, r := range rows[1:] {
		n, _ := strconv.Atoi(r[col["count"]])
		if n == 0 || r[col["kind"]] == "failed" {
			continue
		}
		checked++
		perL, err := strconv.ParseFloat(r[col["cells_per_l"]], 64)
		// n objects in a litre: n/1000 per litre, to three figures.
		if want := float64(n) / 1000; err != nil || perL < want*0.99 || perL > want*1.01 {
			t.Errorf("%s: %d counted in 1000 L read %q cells/L, want %.3g", r[col["label"]], n, r[col["cells_per_l"]], want)
		}
		if low, high := r[col["ci95_low"]], r[col["ci95_high"]]; high == "0.0" || high == "0" || low == high {
			t.Errorf("%s: interval [%s, %s] for %d counted", r[col["label"]], low, high, n)
		}
	}
	if checked == 0 {
		t.Fatalf("nothing counted in the export:\n%v", rows)
	}
}

// A folder with a duplicate frame and a truncated JPEG: the run is partial (a frame
// could not be read) and its summary still accounts for every file, the duplicate
// included; the first-time user's partial summary had lost the "Skipped:" line, so the
// duplicates were counted nowhere (helper-56).
func TestPartialScreenAccountsForSkippedFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs the cyano model on real frames")
	}
	src := t.TempDir()
	for _, name := range oscillatoriaFrames {
		copyRealFrame(t, src, name, name, 0)
	}
	copyRealFrame(t, src, oscillatoriaFrames[0], "copy-"+oscillatoriaFrames[0], 0) // a copy of the first frame under another name
	copyRealFrame(t, src, oscillatoriaFrames[1], "cut-"+oscillatoriaFrames[1], 2)  // the second frame cut in half
	db := filepath.Join(t.TempDir(), "s.db")
	code, stdout, stderr := run(t, "screen", "--source", src, "--pack", "cyano-tcb-10", "--sample", "SKIP-1", "--volume-ml", "0.1", "--db", db)
	if code != exitFailed && code != exitOK {
		t.Fatalf("exit %d: %s%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"PARTIAL: 3 of 4 frames examined (75.0%, 1 frame unreadable or skipped)",
		"Skipped: 2 files were skipped (1 held a frame read before, counted once; 1 not a readable frame",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the summary lacks %q:\n%s\n%s", want, stdout, stderr)
		}
	}
	// The store keeps the file that could not be read, not the duplicate: History and
	// the report said "2 files could not be read" where the run said one repeated a
	// frame, nothing to fix (helper-65).
	st, err := store.OpenReadOnly(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	si, err := st.Sample(context.Background(), "SKIP-1")
	if err != nil {
		t.Fatal(err)
	}
	if why := report.PartialRuns(si); len(si.Runs) != 1 || si.Runs[0].FilesSkipped != 1 || !strings.Contains(why, "1 file could not be read") {
		t.Errorf("stored: %d files skipped; the report says %q", si.Runs[0].FilesSkipped, why)
	}
}

// oscillatoriaFrames are three real bench-camera frames of testdata/real-frames.
var oscillatoriaFrames = []string{"oscillatoria-20230608155404.jpg", "oscillatoria-20230608155433.jpg", "oscillatoria-20230609101047.jpg"}

// copyRealFrame copies frame name of testdata/real-frames into dir as as; cut > 0 keeps
// only the first 1/cut of its bytes (a truncated file).
func copyRealFrame(t *testing.T, dir, name, as string, cut int) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("../../testdata/real-frames", name))
	if err != nil {
		t.Fatal(err)
	}
	if cut > 0 {
		data = data[:len(data)/cut]
	}
	if err := os.WriteFile(filepath.Join(dir, as), data, 0o644); err != nil {
		t.Fatal(err)
	}
}
