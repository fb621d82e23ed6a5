package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/internal/testutil"
	"github.com/phytoscreen/phytoscreen/screening"
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
	// The folder's files that are not images are said, as screen says them (helper-68:
	// a .webp was left out without a word).
	if !strings.Contains(stderr, "skipped ../../testdata/mixed-images/readme.txt: not an image file (images must be .jpg") {
		t.Errorf("the folder's text files not said:\n%s", stderr)
	}
}

// A GIF is refused alike named alone and in a folder, with the formats read; a link to a
// folder inside a folder is said as one, with the fix, not as "not an image file"
// (helper-83: a GIF named alone was classified, and skipped in a folder).
func TestClassifyGIFAndLinkToFolder(t *testing.T) {
	dir := t.TempDir()
	img := image.NewPaletted(image.Rect(0, 0, 48, 48), color.Palette{color.White, color.Black})
	var buf bytes.Buffer
	if err := gif.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	cell, other := filepath.Join(dir, "cell.gif"), filepath.Join(dir, "other")
	if err := os.WriteFile(cell, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(other, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(other, filepath.Join(dir, "day2")); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run(t, "classify", cell)
	if code != exitFailed || !strings.Contains(stdout, "a GIF file: not a JPEG, PNG, TIFF or BMP image: convert it") {
		t.Errorf("a GIF named alone: exit %d, want 1 and the formats read\n%s%s", code, stdout, stderr)
	}
	_, _, stderr = run(t, "classify", dir)
	for _, want := range []string{
		"skipped " + cell + ": not an image file (images must be .jpg",
		"skipped " + filepath.Join(dir, "day2") + ": a link to the folder " + other + ", not an image: links to folders are not followed",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("the folder's run does not say %q:\n%s", want, stderr)
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

// The summary names each class as the app does (its taxonomy's display name: the
// cyanobacteria pack's Other is "Not a cyanobacterium"; classify printed "Other"), while
// the rows and the JSON keep the pack's labels.
func TestClassifyNamesClassesAsTheApp(t *testing.T) {
	pack, err := app.LoadPack(assets.CyanoPackName)
	if err != nil {
		t.Fatal(err)
	}
	tax, err := screening.ForPack(pack)
	if err != nil {
		t.Fatal(err)
	}
	frames := "../../testdata/microscope" // holds frames of no cyanobacterium
	code, stdout, stderr := run(t, "classify", "--pack", assets.CyanoPackName, "--format", "json", frames)
	var doc struct {
		Results []struct{ Label string } `json:"results"`
		Summary struct {
			Classes []struct{ Label, Name string } `json:"classes"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); code != exitOK || err != nil {
		t.Fatalf("exit %d, %v\n%s", code, err, stderr)
	}
	for _, r := range doc.Results {
		if !slices.Contains(pack.Labels, r.Label) {
			t.Errorf("row label %q is not one of the pack's labels", r.Label)
		}
	}
	renamed := 0
	code, stdout, stderr = run(t, "classify", "--pack", assets.CyanoPackName, "--out", filepath.Join(t.TempDir(), "c.csv"), frames)
	for _, c := range doc.Summary.Classes {
		name := tax.Name(c.Label)
		if name != c.Label {
			renamed++
		}
		if c.Name != name || !regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(name)+` +\d`).MatchString(stdout) {
			t.Errorf("class %q: JSON name %q, want %q, and the table's row named so:\n%s", c.Label, c.Name, name, stdout)
		}
	}
	if code != exitOK || renamed == 0 {
		t.Errorf("exit %d; %d classes with a display name other than their label, want some (the frames show no cyanobacterium: Other)\n%s", code, renamed, stderr)
	}
}

// Flags without a command belong to the default command (the app): "phytoscreen --db F".
func TestFlagsWithoutCommandGoToTheDefault(t *testing.T) {
	code, _, stderr := run(t, "--no-such-flag")
	if code != exitUsage || !strings.Contains(stderr, "flag provided but not defined: -no-such-flag\nrun 'phytoscreen "+commands[0].name+" -h' for its flags") {
		t.Errorf("exit %d, stderr %q: want the %s command's word on the flag and where its usage is", code, stderr, commands[0].name)
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
	// Each says what was wrong, not the usage alone (helper-39).
	if code, _, stderr := run(t, "classify", "--top", "0", "x.png"); code != exitUsage || !strings.Contains(stderr, "--top 0: give how many labels to list per image") {
		t.Errorf("--top 0: exit %d, %s", code, stderr)
	}
	// A folder without an image is an error, not "classified 0 of 0 files" and done.
	empty := t.TempDir()
	if code, stdout, stderr := run(t, "classify", empty); code != exitRuntime || !strings.Contains(stderr, "no image files in "+empty) || strings.Contains(stdout, "0 of 0") {
		t.Errorf("an empty folder: exit %d, %s%s", code, stdout, stderr)
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

// Eval on images the pack was trained on says so: the cyano pack's split.csv names its
// training tiles, found here by file name and label in a copy of their own.
func TestEvalNotesTrainingImages(t *testing.T) {
	data, err := filepath.Abs("../../../shared/data/ctcb")
	if err != nil {
		t.Fatal(err)
	}
	split, err := os.ReadFile("../../assets/models/cyano-tcb-10/split.csv")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	list := "path,label\n"
	gone := "" // a training tile's row whose image is not there
	want := map[string]int{}
	for _, line := range strings.Split(string(split), "\n")[1:] {
		f := strings.Split(strings.TrimSpace(line), ",") // the file has CRLF line ends
		if len(f) != 4 || want[f[3]] == 2 {
			if len(f) == 4 && f[3] == "train" && gone == "" {
				gone = filepath.Join(dir, "gone", filepath.Base(f[0])) + "," + f[1] + "\n"
			}
			continue
		}
		want[f[3]]++
		img, err := os.ReadFile(filepath.Join(data, f[0]))
		if err != nil {
			t.Fatalf("%v: the test needs the CTCB tiles in ../shared/data/ctcb", err)
		}
		copyPath := filepath.Join(dir, filepath.Base(f[0])) // a copy elsewhere, as a user makes one
		if err := os.WriteFile(copyPath, img, 0o644); err != nil {
			t.Fatal(err)
		}
		list += copyPath + "," + f[1] + "\n"
	}
	if want["train"] != 2 || want["val"] != 2 {
		t.Fatalf("split.csv gave %v rows, want 2 train and 2 val", want)
	}
	listFile := filepath.Join(dir, "list.csv")
	if err := os.WriteFile(listFile, []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run(t, "eval", "--pack", "cyano-tcb-10", listFile)
	if code != exitOK || !strings.Contains(stdout, "Note: 2 of the 4 images are in pack cyano-tcb-10's training split") {
		t.Errorf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, _ = run(t, "eval", "--pack", "cyano-tcb-10", "--format", "json", listFile)
	var m map[string]any
	if err := json.Unmarshal([]byte(stdout), &m); code != exitOK || err != nil || m["in_training_split"] != 2.0 {
		t.Errorf("JSON: exit %d, %v, in_training_split %v", code, err, m["in_training_split"])
	}
	// A training row whose image is missing is skipped, and not counted in the note: it
	// said "3 of the 5 images" of 4 scored.
	if err := os.WriteFile(listFile, []byte(list+gone), 0o644); gone == "" || err != nil {
		t.Fatalf("no further training row in split.csv (%v)", err)
	}
	code, stdout, stderr = run(t, "eval", "--pack", "cyano-tcb-10", listFile)
	if code != exitFailed || !strings.Contains(stdout, "on 4 images (1 skipped)") || !strings.Contains(stdout, "Note: 2 of the 4 images are in pack cyano-tcb-10's training split") {
		t.Errorf("a training row skipped: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// The default pack ships no split.csv: nothing to note.
	if _, stdout, _ := run(t, "eval", "--model", "base", "--split", "val", "../../assets/samples/ndsb-val/labels.csv"); strings.Contains(stdout, "training split") {
		t.Errorf("a note without a split.csv:\n%s", stdout)
	}
}

// Images not found get the hint that fits how the list gives their paths: --root for
// relative ones, and for absolute ones (which --root cannot move; the hint said to give
// it) that the images were moved or the list made elsewhere.
func TestEvalMissingImagesHint(t *testing.T) {
	dir := t.TempDir()
	good, _ := filepath.Abs("../../testdata/mixed-images/good acantharia.jpg")
	gone := filepath.Join(dir, "moved", "a.jpg")
	for _, c := range []struct {
		name, rows string
		want, not  []string
	}{
		{"absolute", gone + ",acantharia_protist\n", []string{"1 image not found at the absolute paths " + filepath.Join(dir, "list.csv") + " gives (--root applies to relative paths only)"}, []string{"--root FOLDER"}},
		{"relative", "b.jpg,acantharia_protist\n", []string{"1 image not found: the list's relative paths start from its own folder"}, []string{"absolute paths"}},
		{"both", gone + ",acantharia_protist\nb.jpg,acantharia_protist\nc.jpg,acantharia_protist\n", []string{"1 image not found at the absolute paths", "2 images not found: the list's relative paths"}, nil},
	} {
		list := filepath.Join(dir, "list.csv")
		if err := os.WriteFile(list, []byte("path,label\n"+good+",acantharia_protist\n"+c.rows), 0o644); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := run(t, "eval", list)
		bad := code != exitFailed || !strings.Contains(stdout, "on 1 images")
		for _, w := range c.want {
			bad = bad || !strings.Contains(stderr, w)
		}
		for _, w := range c.not {
			bad = bad || strings.Contains(stderr, w)
		}
		if bad {
			t.Errorf("%s: exit %d, want 1, %q and not %q:\n%s%s", c.name, code, c.want, c.not, stdout, stderr)
		}
	}
}

// failingWriter is a standard output that takes nothing: a full disk, a closed pipe.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// eval --confusion exits 0 when all went, and not 0 on every failure, saying it: a
// matrix named as a PDF was written, exit 0, and results lost on a full standard output
// gave exit 0 (text) or exit 1 without a word (JSON) (helper-83).
func TestEvalConfusionExitCodes(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile("../../assets/samples/ndsb-val/labels.csv")
	if err != nil {
		t.Fatal(err)
	}
	list := filepath.Join(dir, "list.csv")
	if err := os.WriteFile(list, []byte(strings.Join(strings.SplitAfter(string(data), "\n")[:6], "")), 0o644); err != nil {
		t.Fatal(err)
	}
	root, _ := filepath.Abs("../../assets/samples/ndsb-val")
	pdf := filepath.Join(dir, "counts.pdf")
	for _, c := range []struct {
		name, conf string
		code       int
		stderr     string
		written    bool
	}{
		{"written", filepath.Join(dir, "confusion.csv"), exitOK, "", true},
		{"named as a PDF", pdf, exitUsage, "--confusion " + pdf + " is named as a PDF (.pdf), but this writes a CSV table: name it .csv", false},
		{"a folder", dir, exitUsage, "it is a folder: give a file name", false},
		{"its folder missing", filepath.Join(dir, "no", "c.csv"), exitRuntime, "folder " + filepath.Join(dir, "no") + " does not exist", false},
	} {
		code, _, stderr := run(t, "eval", "--root", root, "--confusion", c.conf, list)
		_, statErr := os.Stat(c.conf)
		if code != c.code || !strings.Contains(stderr, c.stderr) || (statErr == nil) != (c.written || c.conf == dir) {
			t.Errorf("%s: exit %d (want %d), written %v (want %v):\n%s", c.name, code, c.code, statErr == nil, c.written, stderr)
		}
	}
	for _, format := range []string{"text", "json"} {
		var errOut bytes.Buffer
		m := &Main{Stdout: failingWriter{}, Stderr: &errOut, Stdin: strings.NewReader("")}
		code := exitCode(m.Run(context.Background(), []string{"eval", "--root", root, "--format", format, list}))
		if code != exitFailed || !strings.Contains(errOut.String(), "phytoscreen eval: write the results to standard output: no space left on device") {
			t.Errorf("--format %s onto a full standard output: exit %d, want 1 and why:\n%s", format, code, errOut.String())
		}
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
	// --confusion naming the list itself is refused and the list kept.
	code, _, stderr = run(t, "eval", list, "--confusion", list)
	if code != exitUsage || !strings.Contains(stderr, "is the label list") {
		t.Errorf("--confusion onto the list: exit %d, %s", code, stderr)
	}
	if got, _ := os.ReadFile(list); string(got) != content {
		t.Errorf("the list changed to %q", got)
	}
	// Lists that cannot be scored say why, in one line, and print no table of zeros.
	for _, c := range []struct{ name, content, want string }{
		{"empty", "", "is empty: a label list needs a header line (path,label)"},
		{"another pack's", "path,label\na.jpg,Microcystis\nb.jpg,Nostoc\n", `none of its 2 labels ("Microcystis", ...) is in pack ndsb-plankton-121 (acantharia_protist, acantharia_protist_big_center, acantharia_protist_halo, ... (121)): the list is for another pack; give it with --pack`},
		{"no image readable", "path,label\nnope.jpg,acantharia_protist\n", "no image could be scored (1 row skipped, listed above)"},
		{"images elsewhere", "path,label\nnope.jpg,acantharia_protist\n", "1 image not found: the list's relative paths start from its own folder (" + dir + "); give --root FOLDER"},
		{"an image given as the list", "\xff\xd8\xff\xe0\x00\x10JFIF\x00", "bad.csv is not a label list (it holds binary data: an image?)"},
		{"a header alone", "path,label\n", "no rows to evaluate: the list holds a header and no path,label rows"},
	} {
		bad := filepath.Join(dir, "bad.csv")
		if err := os.WriteFile(bad, []byte(c.content), 0o644); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := run(t, "eval", bad)
		if code == exitOK || !strings.Contains(stderr, c.want) || strings.Contains(stdout, "top-1") {
			t.Errorf("%s list: exit %d, %s%s", c.name, code, stdout, stderr)
		}
	}
	// An image listed twice is scored once; under another label, the later row is left
	// out, named (helper-39: 70 images scored from 60).
	twice := filepath.Join(dir, "twice.csv")
	good := filepath.Join(abs, "good acantharia.jpg")
	if err := os.WriteFile(twice, []byte("path,label\n"+good+",acantharia_protist\n"+good+",acantharia_protist\n"+good+",detritus_other\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = run(t, "eval", twice)
	if !strings.Contains(stdout, "on 1 images (2 skipped)") || !strings.Contains(stderr, "line 3: repeats line 2") ||
		!strings.Contains(stderr, `line 4: `+good+` is listed as "detritus_other" here and as "acantharia_protist" on line 2`) {
		t.Errorf("an image listed twice: exit %d\n%s%s", code, stdout, stderr)
	}
	// --confusion into a missing folder is said before any image is classified, naming
	// the folder, as a setup failure (exit 3, the README's output folder; it was 2).
	code, stdout, stderr = run(t, "eval", list, "--confusion", filepath.Join(dir, "nope", "c.csv"))
	if code != exitRuntime || !strings.Contains(stderr, "--confusion: write "+filepath.Join(dir, "nope", "c.csv")+": folder "+filepath.Join(dir, "nope")+" does not exist") || strings.Contains(stdout, "top-1") {
		t.Errorf("--confusion into a missing folder: exit %d\n%s%s", code, stdout, stderr)
	}
	// Spaces after the commas are the list's, not the file's.
	spaced := filepath.Join(dir, "spaced.csv")
	if err := os.WriteFile(spaced, []byte("path , label\n"+filepath.Join(abs, "good acantharia.jpg")+" , acantharia_protist\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := run(t, "eval", spaced); code != exitOK || !strings.Contains(stdout, "on 1 images (0 skipped)") {
		t.Errorf("a list with spaces after its commas: exit %d, %s%s", code, stdout, stderr)
	}
	// A row too short or with an empty path is skipped, named with its line, and the
	// rest is scored: one short row stopped the whole evaluation (helper-82).
	ragged := filepath.Join(dir, "ragged.csv")
	if err := os.WriteFile(ragged, []byte("path,label\n"+good+"\n,acantharia_protist\n"+good+",acantharia_protist\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = run(t, "eval", ragged)
	if code != exitFailed || !strings.Contains(stdout, "on 1 images (2 skipped)") ||
		!strings.Contains(stderr, "ragged.csv line 2: 1 fields, need path and label; row skipped: fix the list") ||
		!strings.Contains(stderr, "ragged.csv line 3: the path is empty; row skipped: give the image's path") {
		t.Errorf("a list with a short row and an empty path: exit %d\n%s%s", code, stdout, stderr)
	}
}

// A small pack's labels are all named, once each: a pack of three read "a, b, c, ... c"
// (helper-94).
func TestLabelsShort(t *testing.T) {
	for _, c := range []struct {
		labels []string
		want   string
	}{
		{[]string{"Copepod, cyclopoid", "Diatomée", "chaetognath_sagitta"}, "Copepod, cyclopoid, Diatomée, chaetognath_sagitta"},
		{[]string{"a", "b", "c", "d", "e"}, "a, b, c, d, e"},
		{[]string{"a", "b", "c", "d", "e", "f"}, "a, b, c, ... f"},
		{[]string{"only"}, "only"},
	} {
		if got := labelsShort(c.labels); got != c.want {
			t.Errorf("labelsShort(%q) = %q, want %q", c.labels, got, c.want)
		}
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
	// The architecture in full: the cyano base's last clause says it looks twice.
	code, stdout, _ = run(t, "pack", "inspect", "../../assets/models/cyano-tcb-10")
	if code != exitOK || !strings.Contains(stdout, "their features averaged (test_views 2)") {
		t.Errorf("cyano pack inspect: exit %d, the views clause of its architecture missing:\n%s", code, stdout)
	}
	// By name with --pack, as the other commands take a pack.
	code, stdout, _ = run(t, "pack", "inspect", "--pack", "cyano-tcb-10")
	if code != exitOK || !strings.Contains(stdout, "cyano-tcb-10") || !strings.Contains(stdout, "check optimised ok") {
		t.Errorf("pack inspect --pack cyano-tcb-10: exit %d\n%s", code, stdout)
	}
	if code, _, _ := run(t, "pack", "inspect", "--pack", "cyano-tcb-10", "../../assets/models/cyano-tcb-10"); code != exitUsage {
		t.Errorf("both --pack and DIR: exit %d, want the usage error", code)
	}
	if code, _, stderr := run(t, "pack", "inspect", "../../testdata"); code != exitRuntime || !strings.Contains(stderr, "no pack.json") {
		t.Errorf("a folder without pack.json: exit %d, %q", code, stderr)
	}
	// The taxonomy is checked as screen reads it: one naming a label the pack lacks fails.
	if !strings.Contains(stdout, "check taxonomy  ok: 11 taxa") {
		t.Errorf("cyano pack: the taxonomy check is missing:\n%s", stdout)
	}
	broken := t.TempDir()
	if err := os.CopyFS(broken, os.DirFS("../../assets/models/cyano-tcb-10")); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(broken, "taxonomy.toml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("\n[[taxon]]\nlabel = \"Nodularia\"\nunit = \"filament\"\n")
	f.Close()
	code, stdout, _ = run(t, "pack", "inspect", broken)
	if code != exitFailed || !strings.Contains(stdout, `check taxonomy  FAILED: `+broken+`/taxonomy.toml: taxon 12 names label "Nodularia", which pack cyano-tcb-10 does not have`) {
		t.Errorf("a taxonomy naming a label the pack lacks: exit %d\n%s", code, stdout)
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

// classify --out naming one of its input images (directly or through a folder or a
// symlink) is refused before anything is written; the image keeps its bytes.
func TestClassifyOutNeverAnInput(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "cell.jpg")
	data, err := os.ReadFile("../../testdata/mixed-images/good acantharia.jpg")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(img, data, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "results.csv")
	if err := os.Symlink(img, link); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{img, "--out", img}, {dir, "--out", img}, {img, "--out", link}} {
		code, _, stderr := run(t, append([]string{"classify"}, args...)...)
		if code != exitUsage || !strings.Contains(stderr, "is an input image") {
			t.Errorf("classify %v: exit %d, %s", args, code, stderr)
		}
		t.Logf("classify %v: %s", args, strings.TrimSpace(stderr))
	}
	if got, _ := os.ReadFile(img); !bytes.Equal(got, data) {
		t.Fatalf("the input image changed: %d bytes, was %d", len(got), len(data))
	}
}

// An interrupted classify leaves an earlier --out file as it was, puts the rows so far
// beside it as .partial with "complete": false, and exits non-zero.
func TestClassifyInterruptedKeepsEarlierOut(t *testing.T) {
	dir := t.TempDir()
	src := "../../testdata/mixed-images/good acantharia.jpg"
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	first := filepath.Join(dir, "img", "cell00000.jpg")
	os.MkdirAll(filepath.Dir(first), 0o755)
	if err := os.WriteFile(first, data, 0o644); err != nil {
		t.Fatal(err)
	}
	const n = 20000 // hard links: enough for seconds of work, cheap to make
	for i := 1; i < n; i++ {
		if err := os.Link(first, filepath.Join(dir, "img", fmt.Sprintf("cell%05d.jpg", i))); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "results.json")
	if err := os.WriteFile(out, []byte("earlier results\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // interrupt once the output is being written, i.e. mid-run
		for ctx.Err() == nil {
			if m, _ := filepath.Glob(filepath.Join(dir, ".results.json.tmp-*")); len(m) > 0 {
				time.Sleep(300 * time.Millisecond)
				cancel()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	var stdout, stderr bytes.Buffer
	m := &Main{Stdout: &stdout, Stderr: &stderr, Stdin: strings.NewReader("")}
	code := exitCode(m.Run(ctx, []string{"classify", "--format", "json", "--out", out, filepath.Join(dir, "img")}))
	if code == 0 {
		t.Fatalf("interrupted classify exited 0: %s", stderr.String())
	}
	if got, _ := os.ReadFile(out); string(got) != "earlier results\n" {
		t.Fatalf("the earlier --out file was replaced (%d bytes)", len(got))
	}
	var doc struct {
		Summary struct {
			Complete bool `json:"complete"`
			Expected int  `json:"files_expected"`
			Files    int  `json:"files"`
		} `json:"summary"`
	}
	partial, err := os.ReadFile(out + ".partial")
	if err != nil {
		t.Fatalf("no partial results: %v", err)
	}
	if err := json.Unmarshal(partial, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Summary.Complete || doc.Summary.Expected != n || doc.Summary.Files >= n {
		t.Errorf("partial summary %+v, want complete false, %d expected, fewer done", doc.Summary, n)
	}
	if !strings.Contains(stderr.String(), fmt.Sprintf("interrupted after %d of %d files", doc.Summary.Files, n)) {
		t.Errorf("stderr: %s", stderr.String())
	}
	t.Logf("exit %d; %s", code, strings.TrimSpace(stderr.String()))
}

// An unknown --format is named with the formats there are, not answered with the usage
// alone.
func TestUnknownFormatNamed(t *testing.T) {
	for _, args := range [][]string{
		{"classify", "--format", "xml", "x.jpg"},
		{"eval", "--format", "xml", "list.csv"},
		{"screen", "--format", "xml", "--source", "x"},
		{"pack", "optimise", "--format", "xml", "--out", "o"},
	} {
		code, _, stderr := run(t, args...)
		if code != exitUsage || !strings.Contains(stderr, `--format "xml": use `) {
			t.Errorf("%v: exit %d, %s", args, code, stderr)
		}
	}
}

// A list written from what the app shows (display names: "Not a cyanobacterium" for
// Other) or from a dataset's folder names in another case ("microcystis") is read as the
// pack's labels, and says so (helper-56: "none of its 10 labels ... is in pack
// cyano-tcb-10" for a list of 2 labels meant for it).
func TestEvalReadsDisplayNamesAndCase(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs the cyano model")
	}
	dir := t.TempDir()
	list := filepath.Join(dir, "list.csv")
	rows := "path,label\n"
	for _, r := range []struct{ file, label string }{
		{"microcystis-20230608220813.jpg", "microcystis"},
		{"non-algae-20230608144035.jpg", "Not a cyanobacterium"},
	} {
		abs, err := filepath.Abs(filepath.Join("../../testdata/real-frames", r.file))
		if err != nil {
			t.Fatal(err)
		}
		rows += abs + "," + r.label + "\n"
	}
	if err := os.WriteFile(list, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run(t, "eval", "--pack", "cyano-tcb-10", list)
	if code != exitOK || !strings.Contains(stdout, "on 2 images (0 skipped)") ||
		!strings.Contains(stderr, `labels read by the pack's display names or in another case: "Not a cyanobacterium" as Other, "microcystis" as Microcystis`) {
		t.Errorf("exit %d\n%s%s", code, stdout, stderr)
	}
}

// classify on paths that all fail to open writes nothing: an earlier --out file is kept
// and every path is named (helper-60: old.csv was replaced by one error row).
func TestClassifyNothingReadKeepsTheOutput(t *testing.T) {
	out := filepath.Join(t.TempDir(), "old.csv")
	if err := os.WriteFile(out, []byte("earlier results\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "no-such-folder")
	code, stdout, stderr := run(t, "classify", "--out", out, missing)
	if code != exitRuntime {
		t.Errorf("exit %d, want %d\n%s%s", code, exitRuntime, stdout, stderr)
	}
	if !strings.Contains(stderr, missing) || !strings.Contains(stderr, "was not written") {
		t.Errorf("stderr does not name the path and the kept output:\n%s", stderr)
	}
	if got, _ := os.ReadFile(out); string(got) != "earlier results\n" {
		t.Errorf("the earlier output was changed: %q", got)
	}
}
