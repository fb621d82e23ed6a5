package main

import (
	"bytes"
	"context"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/capture"

	"github.com/phytoscreen/phytoscreen/vision"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/imagefile"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/testutil"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
)

// storedSample writes a finished run of n objects (real crops of the mixed-images
// fixture) for sample id into a new session store and returns it, open.
func storedSample(t *testing.T, id string, n int) *store.Store {
	t.Helper()
	s, r := recordingSample(t, id, n)
	if err := r.Finish(context.Background(), screening.Snapshot{Frames: screening.FrameStats{Seen: n}, Threshold: 0.5, Variant: inference.Optimised}, nil); err != nil {
		t.Fatal(err)
	}
	return s
}

// recordingSample is storedSample's store with its run still recording: its n objects
// written, the run not finished.
func recordingSample(t *testing.T, id string, n int) (*store.Store, *store.Run) {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "sessions.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	tx := defaultTaxonomy(t)
	crop, err := imagefile.ReadGray("../../testdata/mixed-images/good acantharia.jpg")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sample := screening.NewSample(id)
	r, err := s.StartRun(ctx, screening.RunInfo{Sample: sample, Spec: capture.MustParseSpec("field.avi"), Model: inference.Optimised, Threshold: 0.5, Taxonomy: tx,
		Rules: "preset default"})
	if err != nil {
		t.Fatal(err)
	}
	recs := make([]screening.ObjectRecord, n)
	for i := range recs {
		box := image.Rect(10*i, 10, 10*i+crop.Rect.Dx(), 10+crop.Rect.Dy())
		recs[i] = screening.ObjectRecord{Seq: i + 1, Time: time.Now(), Object: vision.Object{Source: "field.avi", Frame: i, Track: i, New: true,
			Box: box, CropBox: box, AreaPx: 900, Crop: crop}, Label: "acantharia_protist", Prob: 0.9, Category: "acantharia_protist", Variant: inference.Optimised,
			Top: []inference.Prediction{{Label: "acantharia_protist", Prob: 0.9}}}
	}
	if err := r.Objects(recs); err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	return s, r
}

// A sample read while its run records is said to be still being screened, by export and
// report alike: the export read as a finished partial sample, and the report called
// the run interrupted (helper-68).
func TestExportAndReportOfARunStillRecording(t *testing.T) {
	s, r := recordingSample(t, "LIVE-1", 3)
	dir := t.TempDir()
	for _, args := range [][]string{
		{"export", "--db", s.Path(), "--sample", "LIVE-1", "--out", filepath.Join(dir, "live.csv")},
		{"report", "--db", s.Path(), "--sample", "LIVE-1", "--out", filepath.Join(dir, "live.pdf")},
	} {
		code, stdout, stderr := run(t, args...)
		if code != exitOK || !strings.Contains(stderr, "note: sample LIVE-1 is still being screened (run 1): this holds what it recorded so far") {
			t.Errorf("%s: exit %d\n%s\n%s", args[0], code, stdout, stderr)
		}
	}
	text, err := exec.Command("pdftotext", filepath.Join(dir, "live.pdf"), "-").Output()
	if err != nil {
		t.Fatalf("pdftotext (poppler-utils, installed by scripts/deps.sh): %v", err)
	}
	if strings.Contains(string(text), "interrupted") || !strings.Contains(string(text), store.RunStillRunning) {
		t.Errorf("the report of a run still recording:\n%s", text)
	}
	// Ended, nothing is said.
	if err := r.Finish(context.Background(), screening.Snapshot{Frames: screening.FrameStats{Seen: 3}, Threshold: 0.5, Variant: inference.Optimised}, nil); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := run(t, "export", "--db", s.Path(), "--sample", "LIVE-1", "--out", filepath.Join(dir, "live.csv")); code != exitOK || strings.Contains(stderr, "still being screened") {
		t.Errorf("export after the run ended: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// defaultTaxonomy is the taxonomy of the built-in default pack.
func defaultTaxonomy(t *testing.T) *screening.Taxonomy {
	t.Helper()
	pack, err := inference.LoadPack(assets.DefaultPack(), "built-in")
	if err != nil {
		t.Fatal(err)
	}
	tx, err := screening.ForPack(pack)
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

// exportNames are the disk-full tests' output names, by format (an EcoTaxa export is a
// .zip).
var exportNames = map[string]string{store.FormatCounts: "export.csv", store.FormatObjects: "export-objects.csv", store.FormatEcoTaxa: "export.zip"}

// exportDiskFullEnv names the store and folder of TestExportCommandDiskFullChild: "DB|DIR".
const exportDiskFullEnv = "PHYTOSCREEN_EXPORT_DISKFULL"

// TestExportCommandDiskFullChild is the child side of TestExportCommandDiskFull: the
// export command in a process whose writes fail past 300 bytes, as on a full disk.
func TestExportCommandDiskFullChild(t *testing.T) {
	args := strings.Split(os.Getenv(exportDiskFullEnv), "|")
	if len(args) != 2 {
		t.Skip("child process of TestExportCommandDiskFull")
	}
	testutil.LimitFileSize(t)
	for format, name := range exportNames {
		out := filepath.Join(args[1], name)
		code, stdout, stderr := run(t, "export", "--db", args[0], "--sample", "FULL-1", "--format", format, "--out", out)
		t.Logf("%s: exit %d: %s%s", format, code, stdout, stderr)
		if code != exitFailed || stdout != "" {
			t.Errorf("%s: exit %d, stdout %q: want 1 and no report of an export", format, code, stdout)
		}
		for _, want := range []string{"phytoscreen export: write " + out + ": ", "the disk is full", "nothing was written to " + name} {
			if !strings.Contains(stderr, want) {
				t.Errorf("%s: stderr lacks %q", format, want)
			}
		}
	}
}

// The disk fills while 'phytoscreen export' writes: for every format it exits 1 with a
// message naming the file and saying the disk is full, and leaves no partial or
// temporary file. This process holds the store open, so the child only reads it.
func TestExportCommandDiskFull(t *testing.T) {
	if testutil.IsChild() {
		t.Skip("in the child")
	}
	s := storedSample(t, "FULL-1", 12)
	dir := t.TempDir()
	out, err := testutil.RunWithFileSizeLimit(t, "TestExportCommandDiskFullChild", 300, exportDiskFullEnv+"="+s.Path()+"|"+dir)
	t.Log(out)
	if err != nil || !strings.Contains(out, "--- PASS: TestExportCommandDiskFullChild") {
		t.Fatalf("child failed (%v)", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("%d files left after the failed exports, want none", len(entries))
	}
	// With room on the disk the same command writes each file, larger than the limit.
	for format, name := range exportNames {
		path := filepath.Join(dir, name)
		if code, _, stderr := run(t, "export", "--db", s.Path(), "--sample", "FULL-1", "--format", format, "--out", path); code != exitOK {
			t.Errorf("%s with room: exit %d: %s", format, code, stderr)
		}
		if fi, err := os.Stat(path); err != nil || fi.Size() <= 300 {
			t.Errorf("%s export is not over the 300-byte limit (%v): the child's failure proves nothing", format, err)
		}
	}
}

// export never destroys: --out naming the store is refused (exit 2) and the store still
// holds the sample; /dev/null stays a device; a symlink stays a link and its target
// gets the export.
func TestExportOutputsNeverDestroy(t *testing.T) {
	s := storedSample(t, "SAFE-1", 3)
	db := s.Path()
	s.Close()
	code, _, stderr := run(t, "export", "--db", db, "--sample", "SAFE-1", "--out", db)
	if code != exitUsage || !strings.Contains(stderr, "is the session store") {
		t.Fatalf("export onto the store: exit %d, %s", code, stderr)
	}
	t.Logf("export onto the store: %s", strings.TrimSpace(stderr))
	if code, stdout, stderr := run(t, "export", "--db", db, "--sample", "SAFE-1", "--out", "/dev/null"); code != 0 || !strings.Contains(stdout, "3 objects") {
		t.Fatalf("the store lost its sample, or /dev/null failed: exit %d, %s%s", code, stdout, stderr)
	}
	if fi, err := os.Stat("/dev/null"); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("/dev/null is now %v (%v)", fi.Mode(), err)
	}
	dir := t.TempDir()
	target := filepath.Join(dir, "counts-latest.csv")
	link := filepath.Join(dir, "counts.csv")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := run(t, "export", "--db", db, "--sample", "SAFE-1", "--out", link); code != 0 {
		t.Fatalf("export onto a symlink: exit %d, %s", code, stderr)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the symlink was replaced: %v %v", fi.Mode(), err)
	}
	if data, err := os.ReadFile(target); err != nil || !strings.Contains(string(data), "SAFE-1") {
		t.Fatalf("the link's target holds %q (%v)", data, err)
	}
	// A frame picked as the output by mistake: refused by export and report alike, and
	// left as it was.
	frame := filepath.Join(dir, "20230608145509(1).jpg")
	if err := os.WriteFile(frame, []byte("a frame"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"export", "--format", "objects"}, {"report"}} {
		code, _, stderr := run(t, append(args, "--db", db, "--sample", "SAFE-1", "--out", frame)...)
		if data, _ := os.ReadFile(frame); code != exitUsage || !strings.Contains(stderr, "is named as a frame (.jpg)") || string(data) != "a frame" {
			t.Errorf("%s onto a frame: exit %d, %s; the frame holds %q", args[0], code, stderr, data)
		}
	}
	// Nor through a link of the output's own name to it: the frame became a PDF, a CSV
	// or a zip (helper-77).
	for _, c := range []struct {
		args []string
		link string
	}{{[]string{"report"}, "sym.pdf"}, {[]string{"export", "--format", "csv"}, "sym.csv"}, {[]string{"export", "--format", "ecotaxa"}, "sym.zip"}} {
		link := filepath.Join(dir, c.link)
		if err := os.Symlink(frame, link); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := run(t, append(c.args, "--db", db, "--sample", "SAFE-1", "--out", link)...)
		if data, _ := os.ReadFile(frame); code != exitUsage || !strings.Contains(stderr, link+" links to "+frame+", named as a frame") || string(data) != "a frame" {
			t.Errorf("%s through %s to a frame: exit %d, %s; the frame holds %q", c.args[0], c.link, code, stderr, data)
		}
	}
}

// The objects export of a folder of single-cell images names each object's file (not
// the folder), and leaves the outline measurements of an image classified whole empty
// (not 0.00, which reads as measured).
func TestExportObjectsNameTheirFile(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"good acantharia.jpg", "nöctiluca ünïcode.jpg"} {
		data, err := os.ReadFile(filepath.Join("../../testdata/mixed-images", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db := filepath.Join(t.TempDir(), "s.db")
	if code, stdout, stderr := run(t, "screen", "--source", "cells:"+dir, "--sample", "FILES-1", "--db", db, "--baseline", "0"); code != exitOK {
		t.Fatalf("screen: exit %d\n%s\n%s", code, stdout, stderr)
	}
	out := filepath.Join(t.TempDir(), "objects.csv")
	if code, _, stderr := run(t, "export", "--db", db, "--sample", "FILES-1", "--format", "objects", "--out", out); code != exitOK {
		t.Fatalf("export: exit %d, %s", code, stderr)
	}
	rows := readCSV(t, out)
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	var files []string
	for _, r := range rows[1:] {
		files = append(files, filepath.Base(r[col["source"]]))
		if r[col["perimeter_px"]] != "" || r[col["esd_px"]] != "" || r[col["solidity"]] != "" {
			t.Errorf("unmeasured outline written as %q %q %q", r[col["perimeter_px"]], r[col["esd_px"]], r[col["solidity"]])
		}
		if r[col["area_px"]] == "" {
			t.Error("the crop's area is missing")
		}
	}
	if strings.Join(files, "|") != "good acantharia.jpg|nöctiluca ünïcode.jpg" {
		t.Errorf("sources %q, want each object's file", files)
	}
}

// A sample in the trash is exported as asked, with a note that it was set aside (it
// said nothing: helper-41); one not in the trash gets no note.
func TestExportOfTrashedSampleSaysSo(t *testing.T) {
	s := storedSample(t, "TRASHED-1", 2)
	db := s.Path()
	out := filepath.Join(t.TempDir(), "c.csv")
	if code, _, stderr := run(t, "export", "--db", db, "--sample", "TRASHED-1", "--format", "csv", "--out", out); code != exitOK || strings.Contains(stderr, "in the trash") {
		t.Fatalf("export before the trash: exit %d, %s", code, stderr)
	}
	if err := s.DeleteSample(context.Background(), "TRASHED-1"); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run(t, "export", "--db", db, "--sample", "TRASHED-1", "--format", "csv", "--out", out)
	if code != exitOK || !strings.Contains(stdout, "exported sample TRASHED-1") || !strings.Contains(stderr, "note: sample TRASHED-1 is in the trash (deleted ") {
		t.Errorf("export of a sample in the trash: exit %d\n%s%s", code, stdout, stderr)
	}
}

// --out in a folder that does not exist is a setup failure, exit 3 as the README says
// of an output folder (export and report gave exit 1, as if the sample had failed), and
// the message names the folder and the fix; nothing is made.
func TestExportIntoMissingFolder(t *testing.T) {
	s := storedSample(t, "NODIR-1", 2)
	missing := filepath.Join(t.TempDir(), "nodir")
	outs := map[string]string{"report --rules default": "report.pdf"}
	for format, name := range exportNames {
		outs["export --format "+format] = name
	}
	for command, name := range outs {
		out := filepath.Join(missing, name)
		args := append(strings.Fields(command), "--db", s.Path(), "--sample", "NODIR-1", "--out", out)
		code, stdout, stderr := run(t, args...)
		if code != exitRuntime || stdout != "" || !strings.Contains(stderr, "write "+out+": folder "+missing+" does not exist: make it (mkdir -p "+missing+")") {
			t.Errorf("%s into a missing folder: exit %d, want 3\n%s%s", command, code, stdout, stderr)
		}
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("the missing folder was made")
	}
}

// --out - writes the export to standard output (a file named "-" was written in the
// current folder, helper-56), the EcoTaxa zip excepted; a folder named as the output is
// the arguments' mistake, exit 2, not a failed run's 1 (helper-56), for classify too.
func TestExportToStdoutAndFolderAsOutput(t *testing.T) {
	s := storedSample(t, "PIPE-1", 2)
	dir := t.TempDir()
	code, stdout, stderr := run(t, "export", "--db", s.Path(), "--sample", "PIPE-1", "--out", "-")
	if code != exitOK || !strings.HasPrefix(stdout, strings.Join(store.CountsHeader, ",")+"\n") || !strings.Contains(stdout, "PIPE-1,") {
		t.Errorf("--out -: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat("-"); err == nil { // in the current folder
		os.Remove("-")
		t.Error(`--out - wrote a file named "-"`)
	}
	if code, _, stderr := run(t, "export", "--db", s.Path(), "--sample", "PIPE-1", "--format", "ecotaxa", "--out", "-"); code != exitUsage || !strings.Contains(stderr, "give a .zip file name") {
		t.Errorf("ecotaxa to -: exit %d: %s", code, stderr)
	}
	for _, args := range [][]string{
		{"export", "--db", s.Path(), "--sample", "PIPE-1", "--out", dir},
		{"report", "--rules", "default", "--db", s.Path(), "--sample", "PIPE-1", "--out", dir},
		{"classify", "--out", dir, "../../testdata/mixed-images"},
	} {
		if code, _, stderr := run(t, args...); code != exitUsage || !strings.Contains(stderr, "write "+dir+": it is a folder: give a file name") {
			t.Errorf("%s --out a folder: exit %d, want 2: %s", args[0], code, stderr)
		}
	}
}

// A store damaged past its first page opens, then fails where a query reaches the damage:
// every command says so as damage, with the fix, exits 3 and leaves the file as it was,
// whichever page is hit (helper-60: SQLite's bare "database disk image is malformed",
// exit 1 from export and compare).
func TestDamagedStorePagesAreSaidAsDamage(t *testing.T) {
	s := storedSample(t, "DMG-1", 40)
	src := s.Path()
	s.Close()
	good, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	const page = 4096
	damagedSeen := 0
	for off := page; off+page <= len(good); off += page {
		db := filepath.Join(t.TempDir(), "sessions.db")
		bad := bytes.Clone(good)
		for i := off + 8; i < off+page; i++ { // the page's body, not its header: pages still chain
			bad[i] = 0xA5
		}
		if err := os.WriteFile(db, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{
			{"export", "--db", db, "--sample", "DMG-1", "--format", "objects", "--out", filepath.Join(t.TempDir(), "o.csv")},
			{"compare", "--db", db, "DMG-1", "DMG-1~base"},
		} {
			code, stdout, stderr := run(t, args...)
			if strings.Contains(stderr, "malformed") || strings.Contains(stderr, "not a database") {
				damagedSeen++
				if code != exitRuntime || !strings.Contains(stderr, "damaged") || !strings.Contains(stderr, "restore it from a backup") {
					t.Errorf("page at %d, %s: exit %d, want 3 and the damage said with its fix\n%s%s", off, args[0], code, stdout, stderr)
				}
			}
		}
		if after, _ := os.ReadFile(db); !bytes.Equal(after, bad) {
			t.Errorf("page at %d: the damaged store was changed", off)
		}
	}
	if damagedSeen == 0 {
		t.Fatalf("no damaged page of %d bytes was met by a command: the test damages nothing read", len(good))
	}
	t.Logf("%d command runs met a damaged page", damagedSeen)
}
