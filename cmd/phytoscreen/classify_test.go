package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite golden files")

// run runs the CLI in-process and returns its exit code, stdout and stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errOut, Stdin: strings.NewReader("")}
	code := exitCode(m.Run(context.Background(), args))
	return code, out.String(), errOut.String()
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update once to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// A folder of good and bad files: every file gets a row, bad ones with their error, the
// run goes on and exits 1. The golden file holds path, label and error (probabilities
// vary in the last digits between CPUs).
func TestClassifyMixedFolder(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out.csv")
	code, stdout, stderr := run(t, "classify", "--model", "optimised", "--top", "3", "../../testdata/mixed-images", "--out", out)
	if code != exitFailed {
		t.Fatalf("exit %d, want 1 (some files failed)\n%s%s", code, stdout, stderr)
	}
	rows := readCSV(t, out)
	var b strings.Builder
	for i, r := range rows {
		if i > 0 && r[4] == "" && len(strings.Split(r[3], ";")) != 3 {
			t.Errorf("row %d top_k %q: want 3 labels", i, r[3])
		}
		b.WriteString(strings.Join([]string{r[0], r[1], r[4]}, " | ") + "\n")
	}
	golden(t, "classify-mixed.golden", b.String())
	for _, want := range []string{"classified 4 of 10 files", "6 failed", "failed: ../../testdata/mixed-images/huge-header.png"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
}

func TestClassifyJSON(t *testing.T) {
	code, stdout, _ := run(t, "classify", "--format", "json", "--top", "2", "../../testdata/mixed-images/good acantharia.jpg", "../../testdata/mixed-images/empty.png")
	if code != exitFailed {
		t.Fatalf("exit %d, want 1", code)
	}
	var doc struct {
		Model   string `json:"model"`
		Results []struct {
			Path  string  `json:"path"`
			Label string  `json:"label"`
			Prob  float64 `json:"probability"`
			TopK  []struct {
				Label string  `json:"label"`
				Prob  float64 `json:"probability"`
			} `json:"top_k"`
			Error string `json:"error"`
		} `json:"results"`
		Summary struct {
			Files, Classified, Failed int
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if len(doc.Results) != 2 || doc.Results[0].Label != "acantharia_protist" || len(doc.Results[0].TopK) != 2 || doc.Results[0].Prob < 0.5 {
		t.Errorf("results %+v", doc.Results)
	}
	if !strings.Contains(doc.Results[1].Error, "empty file") || doc.Summary.Failed != 1 || doc.Summary.Classified != 1 {
		t.Errorf("failure not reported: %+v %+v", doc.Results[1], doc.Summary)
	}
}

// Flags without a command belong to the default command (the app): "phytoscreen --db F".
func TestFlagsWithoutCommandGoToTheDefault(t *testing.T) {
	code, _, stderr := run(t, "--no-such-flag")
	if code != exitUsage || !strings.Contains(stderr, "usage: phytoscreen "+commands[0].name) {
		t.Errorf("exit %d, stderr %q: want the %s command's usage", code, stderr, commands[0].name)
	}
	if code, stdout, _ := run(t, "--help"); code != exitOK || !strings.Contains(stdout, "commands:") {
		t.Errorf("--help: exit %d, %q", code, stdout)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := [][]string{
		{"classify"},                             // no path
		{"classify", "--format", "xml", "x.png"}, // bad format
		{"classify", "--model", "fp16", "x.png"}, // bad model
		{"classify", "--no-such-flag", "x.png"},  // unknown flag
		{"eval"},                                 // no list
		{"pack"},                                 // no verb
		{"no-such-command"},                      // unknown command
	}
	for _, args := range tests {
		if code, _, stderr := run(t, args...); code != exitUsage || stderr == "" {
			t.Errorf("%v: exit %d (stderr %q), want 2 with a message", args, code, stderr)
		}
	}
}

func TestEvalJSON(t *testing.T) {
	code, stdout, stderr := run(t, "eval", "--format", "json", "--model", "base", "--split", "val", "../../assets/samples/ndsb-val/labels.csv")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(stdout), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"top1", "top5", "logloss", "n"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	if m["n"].(float64) != 387 || m["top1"].(float64) < 0.65 || m["top5"].(float64) < m["top1"].(float64) {
		t.Errorf("n %v top1 %v top5 %v", m["n"], m["top1"], m["top5"])
	}
}

func TestEvalConfusionAndBadRows(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "list.csv")
	abs, _ := filepath.Abs("../../testdata/mixed-images")
	content := "path,label,site\n" +
		filepath.Join(abs, "good acantharia.jpg") + ",acantharia_protist,a\n" +
		filepath.Join(abs, "empty.png") + ",acantharia_protist,a\n" +
		filepath.Join(abs, "colour.tif") + ",not_a_label,a\n"
	if err := os.WriteFile(list, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "confusion.csv")
	code, stdout, stderr := run(t, "eval", list, "--confusion", conf)
	if code != exitFailed {
		t.Fatalf("exit %d, want 1 (rows skipped)\n%s", code, stderr)
	}
	if !strings.Contains(stderr, `label "not_a_label" is not in pack`) || !strings.Contains(stderr, "empty.png") {
		t.Errorf("skipped rows not reported:\n%s", stderr)
	}
	if !strings.Contains(stdout, "on 1 images (2 skipped)") {
		t.Errorf("summary:\n%s", stdout)
	}
	data, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 122 || !strings.HasPrefix(lines[0], `true\pred,acantharia_protist,`) || !strings.HasPrefix(lines[1], "acantharia_protist,1,0,") {
		t.Errorf("confusion matrix: %d lines, first %q, second %.40q", len(lines), lines[0], lines[1])
	}
}

func TestPackInspect(t *testing.T) {
	code, stdout, _ := run(t, "pack", "inspect")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"ndsb-plankton-121", "labels     121", `"image" float32 [-1 1 96 96]`, "base.onnx", "44.9 MB", "0.741", "check optimised ok"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if code, _, stderr := run(t, "pack", "inspect", "../../testdata"); code != exitRuntime || !strings.Contains(stderr, "no pack.json") {
		t.Errorf("a folder without pack.json: exit %d, %q", code, stderr)
	}
}

// An unreadable file in a folder being classified gets its row with the reason and the
// fix; the other files are classified and the command exits 1 (some files failed).
// Root reads every file, so under root the check runs as user nobody, with a copy of the
// ONNX Runtime library found here.
func TestClassifyUnreadableFile(t *testing.T) {
	if dir := os.Getenv("UNREADABLE_CELLS"); dir != "" {
		checkClassifyUnreadable(t, dir)
		return
	}
	dir := testutil.TempDirForAll(t)
	good, err := os.ReadFile("../../testdata/mixed-images/good acantharia.jpg")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"cell1.jpg", "cell2.jpg", "cell3.jpg"} {
		if err := os.WriteFile(filepath.Join(dir, name), good, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(dir, "cell2.jpg"), 0o000); err != nil {
		t.Fatal(err)
	}
	if !testutil.IsRoot() {
		checkClassifyUnreadable(t, dir)
		return
	}
	lib, err := inference.FindLibrary("")
	if err != nil {
		t.Fatal(err)
	}
	// Nobody may not reach the library where the checkout has it: it gets its own copy.
	out, err := testutil.RunAsNobody(t, "TestClassifyUnreadableFile", "UNREADABLE_CELLS="+dir, inference.LibraryEnv+"="+testutil.CopyForAll(t, lib))
	t.Log(out)
	if err != nil || !strings.Contains(out, "--- PASS: TestClassifyUnreadableFile") {
		t.Fatalf("check as nobody did not pass (%v)", err)
	}
}

func checkClassifyUnreadable(t *testing.T, dir string) {
	out := filepath.Join(t.TempDir(), "out.csv")
	code, stdout, stderr := run(t, "classify", dir, "--out", out)
	if code != exitFailed {
		t.Fatalf("exit %d, want 1 (one file failed)\n%s%s", code, stdout, stderr)
	}
	rows := readCSV(t, out)
	if len(rows) != 4 {
		t.Fatalf("%d rows, want header + 3:\n%v", len(rows), rows)
	}
	for _, r := range rows[1:] {
		t.Logf("%s | %s | %s", filepath.Base(r[0]), r[1], r[4])
		switch filepath.Base(r[0]) {
		case "cell2.jpg":
			if r[1] != "" || !strings.Contains(r[4], "permission denied") || !strings.Contains(r[4], "chmod +r") {
				t.Errorf("unreadable file's row %v: want no label, the reason and the fix", r)
			}
		default:
			if r[1] != "acantharia_protist" || r[4] != "" {
				t.Errorf("readable file's row %v: want it classified", r)
			}
		}
	}
	t.Logf("stdout:\n%s", stdout)
	for _, want := range []string{"classified 2 of 3 files", "failed: " + filepath.Join(dir, "cell2.jpg")} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q", want)
		}
	}
}
