package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phytoscreen/phytoscreen/assets"
)

// TestBenchCommand runs a tiny bench on a machine whose sysfs has no sensor (an empty
// tree): it must write every output, and label every energy figure as an estimate.
func TestBenchCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "bench")
	code, stdout, stderr := run(t, "bench", "--models", "optimised", "--threads", "1", "--batch", "4", "--scenario", "single,offline",
		"--stress", "0", "--duration", "300ms", "--warmup", "50ms", "--idle", "100ms", "--sysfs", t.TempDir(), "--out", out)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	for _, f := range []string{"results.csv", "report.md", "latency_vs_threads.png", "throughput_vs_batch.png", "energy_per_cell.png", "accuracy_vs_energy.png"} {
		if fi, err := os.Stat(filepath.Join(out, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	f, err := os.Open(filepath.Join(out, "results.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+4 { // single, offline b4, bare b1, bare b4
		t.Errorf("%d rows, want a header and 4", len(rows))
	}
	kind := -1
	for i, h := range rows[0] {
		if h == "energy_kind" {
			kind = i
		}
	}
	for _, r := range rows[1:] {
		if kind < 0 || r[kind] != "estimate" {
			t.Errorf("row %v is not labelled estimate", r)
		}
	}
	md, _ := os.ReadFile(filepath.Join(out, "report.md"))
	if !strings.Contains(string(md), "Every energy figure in this report is an ESTIMATE") {
		t.Error("report.md does not say its energy figures are estimates")
	}
	if !strings.Contains(stderr, "energy: ESTIMATE") || !strings.Contains(stdout, "wrote ") {
		t.Errorf("stderr %q stdout %q", stderr, stdout)
	}
	// --redraw draws the same report again from results.csv and run.json.
	if err := os.Remove(filepath.Join(out, "report.md")); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := run(t, "bench", "--redraw", out); code != exitOK {
		t.Fatalf("--redraw: exit %d: %s", code, stderr)
	}
	if again, _ := os.ReadFile(filepath.Join(out, "report.md")); !bytes.Equal(again, md) {
		t.Error("--redraw drew a different report.md")
	}
	if code, _, stderr := run(t, "bench", "--redraw", t.TempDir()); code != exitRuntime || !strings.Contains(stderr, "has no run.json") {
		t.Errorf("--redraw of an empty folder: exit %d: %s", code, stderr)
	}
}

func TestBenchUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--stress", "0,150"}, "--stress 150"},
		{[]string{"--threads", "one"}, `--threads "one"`},
		{[]string{"--scenario", "batchy"}, `--scenario "batchy"`},
		{[]string{"--models", "huge"}, "--models"},
		{[]string{"--duration", "0s"}, "--duration"},
		{[]string{"--watts-per-core", "-3"}, "--watts-per-core"},
		{[]string{"stray"}, "unexpected argument"},
	}
	for _, tc := range tests {
		code, _, stderr := run(t, append([]string{"bench", "--sysfs", t.TempDir(), "--out", t.TempDir()}, tc.args...)...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("bench %v: exit %d, stderr %q; want exit 2 naming %q", tc.args, code, stderr, tc.want)
		}
	}
	// An --out that cannot hold the results is said before the benchmark runs (it was
	// said after the whole run: helper-39).
	file := filepath.Join(t.TempDir(), "results.jpg")
	os.WriteFile(file, []byte("x"), 0o644)
	if code, _, stderr := run(t, "bench", "--sysfs", t.TempDir(), "--out", file); code != exitUsage || !strings.Contains(stderr, "is a file, not a folder: give a folder for the results") {
		t.Errorf("bench --out a file: exit %d, %s", code, stderr)
	}
	// A device is said as one, not as a file (helper-83); synth says it alike.
	if code, _, stderr := run(t, "bench", "--sysfs", t.TempDir(), "--out", os.DevNull); code != exitUsage || !strings.Contains(stderr, "--out /dev/null is a device, not a folder: give a folder for the results") {
		t.Errorf("bench --out /dev/null: exit %d, %s", code, stderr)
	}
	if code, _, stderr := run(t, "synth", "--out", os.DevNull); code != exitUsage || !strings.Contains(stderr, "--out /dev/null is a device, not a folder: give the folder the frames are written into") {
		t.Errorf("synth --out /dev/null: exit %d, %s", code, stderr)
	}
}

// TestOutFolderThatCannotBeMade: every command whose output folder the machine will not
// make (here, under a file) exits 3, the status of a setup failure, and names the folder;
// bench and synth said 2, as for a mistake in the flags, where the others said 3.
func TestOutFolderThatCannotBeMade(t *testing.T) {
	file := filepath.Join(t.TempDir(), "afile")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"bench", "--sysfs", t.TempDir(), "--out", filepath.Join(file, "bench")},
		{"synth", "--out", filepath.Join(file, "synth")},
		{"segment", "--out", filepath.Join(file, "segment"), "../../testdata/microscope"},
	} {
		code, _, stderr := run(t, args...)
		if code != exitRuntime || !strings.Contains(stderr, filepath.Join(file, "")) {
			t.Errorf("%s: exit %d (want %d), %s", strings.Join(args, " "), code, exitRuntime, stderr)
		}
	}
}

// bench on an --images folder with unreadable files measures the readable ones, names
// the others and exits 1, as classify does (helper-60: exit 0).
func TestBenchUnreadableImagesFail(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile("../../testdata/mixed-images/good acantharia.jpg")
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"a.jpg": good, "b.jpg": good[:len(good)/3], "c.png": []byte("not a png")} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "bench")
	code, stdout, stderr := run(t, "bench", "--images", dir, "--models", "optimised", "--threads", "1", "--batch", "1", "--scenario", "single",
		"--stress", "0", "--duration", "100ms", "--warmup", "20ms", "--idle", "50ms", "--sysfs", t.TempDir(), "--out", out)
	if code != exitFailed || !strings.Contains(stderr, "2 files of --images") || !strings.Contains(stderr, "c.png") {
		t.Errorf("exit %d, want 1 naming the unreadable files\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "results.csv")); err != nil {
		t.Errorf("the readable image was not measured: %v", err)
	}
}

// A colour pack timed on the bundled grey marine crops says so, and why its speed and
// energy still hold (helper-84 read it as a mistake); a grey pack's report does not.
func TestBenchColourPackOnBundledCropsSaysSo(t *testing.T) {
	const note = "grey marine plankton, each given to the colour pack in its three channels"
	for _, c := range []struct {
		pack string
		want bool
	}{{assets.CyanoPackName, true}, {assets.DefaultPackName, false}} {
		out := filepath.Join(t.TempDir(), "bench")
		code, stdout, stderr := run(t, "bench", "--pack", c.pack, "--models", "optimised", "--threads", "1", "--batch", "1", "--scenario", "single",
			"--stress", "0", "--duration", "100ms", "--warmup", "20ms", "--idle", "50ms", "--sysfs", t.TempDir(), "--out", out)
		if code != exitOK {
			t.Fatalf("bench --pack %s: exit %d\n%s%s", c.pack, code, stdout, stderr)
		}
		report, err := os.ReadFile(filepath.Join(out, "report.md"))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(string(report), note); got != c.want {
			t.Errorf("bench --pack %s: the report says the crops are grey for a colour pack: %v, want %v\n%s", c.pack, got, c.want, report)
		}
	}
}
