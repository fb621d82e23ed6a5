package store

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/testutil"
	"github.com/phytoscreen/phytoscreen/outfile"
	"github.com/phytoscreen/phytoscreen/screening"
)

// finishedStore holds one finished run of fillRun's 10 objects.
func finishedStore(t *testing.T) *Store {
	s := openTemp(t)
	r := fillRun(t, s, testSample())
	if err := r.Finish(context.Background(), screening.Snapshot{Frames: screening.FrameStats{Seen: 30}, Threshold: 0.5, Variant: inference.Optimised}, nil); err != nil {
		t.Fatal(err)
	}
	return s
}

// golden compares a file with testdata/name, or rewrites it with -update. Volatile
// columns (run start and end times) are not in these exports.
func golden(t *testing.T, got []byte, name string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./store -run Export -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from its golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestExportCSVGolden(t *testing.T) {
	s := finishedStore(t)
	dir := t.TempDir()
	for _, c := range []struct{ format, golden string }{
		{FormatCounts, "counts.csv"},
		{FormatObjects, "objects.csv"},
	} {
		out := filepath.Join(dir, c.golden)
		// In UTC, for the golden files to hold on any machine (TestExportInLocalTime).
		if err := s.ExportWith(context.Background(), "LIM-2025-06-03", c.format, out, ExportOptions{Zone: time.UTC}); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, data, c.golden)
		rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil {
			t.Fatalf("%s is not valid CSV: %v", c.golden, err)
		}
		if c.format == FormatObjects && len(rows) != 11 {
			t.Errorf("objects CSV has %d rows, want header + 10", len(rows))
		}
	}
}

// The EcoTaxa export is a zip holding ecotaxa_<sample>.tsv: a valid TSV whose second
// row gives every column's type, with every img_file_name present in the zip as a PNG.
func TestExportEcoTaxa(t *testing.T) {
	s := finishedStore(t)
	out := filepath.Join(t.TempDir(), "lim.zip")
	if err := s.Export(context.Background(), "LIM-2025-06-03", FormatEcoTaxa, out); err != nil {
		t.Fatal(err)
	}
	rows, files := readEcoTaxa(t, out)
	head, types := rows[0], rows[1]
	for _, col := range []string{"img_file_name", "object_id", "object_annotation_category", "object_annotation_status", "sample_id", "acq_id", "object_lat", "object_date"} {
		if !slices.Contains(head, col) {
			t.Errorf("column %s missing", col)
		}
	}
	for i, ty := range types {
		if ty != "[t]" && ty != "[f]" {
			t.Errorf("column %s has type %q, want [t] or [f]", head[i], ty)
		}
	}
	col := func(name string) int { return slices.Index(head, name) }
	if len(rows) != 12 {
		t.Fatalf("%d rows, want header, types and 10 objects", len(rows))
	}
	statuses := map[string]int{}
	for _, r := range rows[2:] {
		if len(r) != len(head) {
			t.Fatalf("row %v has %d cells for %d columns", r[:3], len(r), len(head))
		}
		img := r[col("img_file_name")]
		data, ok := files[img]
		if !ok {
			t.Errorf("img_file_name %q is not in the zip", img)
			continue
		}
		if _, err := png.Decode(bytes.NewReader(data)); err != nil {
			t.Errorf("%s is not a PNG: %v", img, err)
		}
		if !strings.HasPrefix(r[col("object_id")], "LIM-2025-06-03_r1_") || r[col("sample_id")] != "LIM-2025-06-03" || r[col("object_date")] != "20250603" || r[col("object_lat")] != "56.950000" {
			t.Errorf("row %v", r[:8])
		}
		statuses[r[col("object_annotation_status")]]++
	}
	if statuses["predicted"] != 9 || statuses[""] != 1 {
		t.Errorf("statuses %v, want 9 predicted and 1 without (the failed object)", statuses)
	}
}

// readEcoTaxa opens an EcoTaxa zip: the rows of its TSV and the other files' contents.
func readEcoTaxa(t *testing.T, path string) ([][]string, map[string][]byte) {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatalf("%s is not a zip: %v", path, err)
	}
	defer zr.Close()
	files := map[string][]byte{}
	var tsv []byte
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(f.Name, "ecotaxa_") && strings.HasSuffix(f.Name, ".tsv") {
			tsv = data
		} else {
			files[f.Name] = data
		}
	}
	if tsv == nil {
		t.Fatal("no ecotaxa_*.tsv in the zip")
	}
	r := csv.NewReader(bytes.NewReader(tsv))
	r.Comma, r.LazyQuotes = '\t', false
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("the TSV does not parse: %v", err)
	}
	return rows, files
}

func TestExportValidatedStatus(t *testing.T) {
	s := finishedStore(t)
	ctx := context.Background()
	q, _ := s.ReviewQueue(ctx, "LIM-2025-06-03", 1)
	if err := s.Validate(ctx, q[0].ID, "protist_noctiluca", "ana"); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "v.zip")
	if err := s.Export(ctx, "LIM-2025-06-03", FormatEcoTaxa, out); err != nil {
		t.Fatal(err)
	}
	rows, _ := readEcoTaxa(t, out)
	head := rows[0]
	n := 0
	for _, r := range rows[2:] {
		if r[slices.Index(head, "object_annotation_status")] == "validated" {
			n++
			if r[slices.Index(head, "object_annotation_category")] != "protist_noctiluca" || r[slices.Index(head, "object_annotation_person_name")] != "ana" {
				t.Errorf("validated row %v", r)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d validated rows, want 1", n)
	}
}

// An unknown format and a missing folder are refused; see outfile for the atomic write.
func TestExportRefusesBadTargets(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "counts.csv")
	s := finishedStore(t)
	if err := s.Export(context.Background(), "LIM-2025-06-03", "xlsx", path); err == nil || !strings.Contains(err.Error(), "use csv (counts), objects or ecotaxa") {
		t.Errorf("unknown format: %v", err)
	}
	if err := s.Export(context.Background(), "LIM-2025-06-03", FormatCounts, filepath.Join(dir, "no", "such", "dir.csv")); err == nil {
		t.Error("export into a missing folder succeeded")
	}
}

// diskFullEnv names the database and folder a re-run test binary exports into with its
// file size limited: "DB|DIR|SAMPLE".
const diskFullEnv = "PHYTOSCREEN_STORE_DISKFULL"

// TestExportDiskFullChild is the child side of TestExportDiskFull: its writes fail past
// a few hundred bytes, as on a full disk, and it exports every format.
func TestExportDiskFullChild(t *testing.T) {
	args := strings.Split(os.Getenv(diskFullEnv), "|")
	if len(args) != 3 {
		t.Skip("child process of TestExportDiskFull")
	}
	db, dir, sample := args[0], args[1], args[2]
	s, err := OpenReadOnly(db) // the parent holds it for writing, as the app beside 'phytoscreen export'
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if _, err := s.Sample(ctx, sample); err != nil { // reads the store before the disk "fills"
		t.Fatal(err)
	}
	testutil.LimitFileSize(t)
	for _, format := range []string{FormatCounts, FormatObjects, FormatEcoTaxa} {
		out := filepath.Join(dir, "export."+format)
		err := s.Export(ctx, sample, format, out)
		t.Logf("%s: %v", format, err)
		if err == nil {
			t.Errorf("%s: the export succeeded on a full disk", format)
			continue
		}
		for _, want := range []string{"write " + out + ": ", "file too large", "the disk is full", "free some space or write to another disk"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q does not say %q", format, err, want)
			}
		}
	}
}

// The disk fills during an export: each format (counts CSV, objects CSV, EcoTaxa zip)
// fails with an error that names the file and says the disk is full, and leaves no
// partial or temporary file; an earlier export at the same path is kept intact. The
// export runs in a child process whose writes fail past 200 bytes (RLIMIT_FSIZE); this
// process keeps the store open meanwhile, so the child only reads it.
func TestExportDiskFull(t *testing.T) {
	if testutil.IsChild() {
		t.Skip("in the child")
	}
	s := finishedStore(t)
	dir := t.TempDir()
	kept := filepath.Join(dir, "export."+FormatCounts) // an earlier export, to be kept
	if err := os.WriteFile(kept, []byte("earlier export\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := testutil.RunWithFileSizeLimit(t, "TestExportDiskFullChild", 200, diskFullEnv+"="+s.Path()+"|"+dir+"|"+testSample().ID)
	t.Log(out)
	if err != nil || !strings.Contains(out, "--- PASS: TestExportDiskFullChild") {
		t.Fatalf("child failed (%v)", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != filepath.Base(kept) {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("folder holds %v after the failed exports, want only the earlier export", names)
	}
	if data, _ := os.ReadFile(kept); string(data) != "earlier export\n" {
		t.Errorf("the earlier export now holds %d bytes: %q", len(data), data)
	}
	// The same exports succeed with room on the disk: the limit is what failed them.
	for _, format := range []string{FormatCounts, FormatObjects, FormatEcoTaxa} {
		if err := s.Export(context.Background(), testSample().ID, format, filepath.Join(dir, "export."+format)); err != nil {
			t.Errorf("%s with room on the disk: %v", format, err)
		}
		if fi, err := os.Stat(filepath.Join(dir, "export."+format)); err != nil || fi.Size() <= 200 {
			t.Errorf("%s export is not over the 200-byte limit (%v): the child's failure proves nothing", format, err)
		}
	}
}

// An export naming the store itself, or its -wal file, is refused and the store is left
// whole (it once replaced the whole store with a CSV).
func TestExportOntoStoreRefused(t *testing.T) {
	s := finishedStore(t)
	ctx := context.Background()
	for _, out := range []string{s.path, s.path + "-wal"} {
		err := s.Export(ctx, "LIM-2025-06-03", FormatCounts, out)
		if !errors.Is(err, outfile.ErrIsInput) || !strings.Contains(err.Error(), "is the session store") {
			t.Errorf("export onto %s: %v", out, err)
		}
	}
	if _, err := s.Counts(ctx, "LIM-2025-06-03"); err != nil {
		t.Fatalf("store unreadable after the refused exports: %v", err)
	}
	link := filepath.Join(t.TempDir(), "alias.db")
	if err := os.Symlink(s.path, link); err != nil {
		t.Fatal(err)
	}
	if err := s.Export(ctx, "LIM-2025-06-03", FormatObjects, link); !errors.Is(err, outfile.ErrIsInput) {
		t.Errorf("export onto a symlink to the store: %v", err)
	}
}

// A partial run's volume (the share of the volume given) is written to 6 significant
// digits, in plain decimals across the volumes a sample may have.
func TestVolumeText(t *testing.T) {
	for v, want := range map[float64]string{0.05 * 79 / 104: "0.0379808", 1: "1", 0.05: "0.05", 1e6: "1000000", 1e-6: "0.000001", 2.5: "2.5"} {
		if got := volumeText(v); got != want {
			t.Errorf("volumeText(%v) = %q, want %q", v, got, want)
		}
	}
}

// A sample whose run examined half its frames says so on every row of its counts CSV:
// the volume examined (the concentrations' volume), the volume given, and partial.
func TestCountsCSVSaysPartial(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	sm := testSample()
	r := fillRun(t, s, sm)
	ex := screening.Examined{Expected: 60, Frames: 30, Fraction: 0.5, DeclaredML: sm.VolumeML, Interrupted: true}
	if err := r.Finish(context.Background(), screening.Snapshot{Threshold: 0.5, Variant: inference.Optimised, Examined: ex}, nil); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "counts.csv")
	if err := s.Export(context.Background(), sm.ID, FormatCounts, out); err != nil {
		t.Fatal(err)
	}
	rows := testutil.ReadCSV(t, out)
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, row := range rows[1:] {
		if row[col["volume_ml"]] != "1" || row[col["volume_given_ml"]] != "2" || row[col["partial"]] != "true" {
			t.Fatalf("row %v: volume %s of %s mL, partial %s; want 1 of 2, true", row, row[col["volume_ml"]], row[col["volume_given_ml"]], row[col["partial"]])
		}
	}
}

// Exported IDs and file names keep an accented letter's letter: "Étang 3 AM" gave
// "_tang_3_AM" (helper-56).
func TestSafeNameKeepsAccentedLetters(t *testing.T) {
	for in, want := range map[string]string{"Étang 3 AM": "Etang_3_AM", "Núñez/ø": "Nunez__", "LIM-2025.06_a": "LIM-2025.06_a", "池塘": "__"} {
		if got := safeName(in); got != want {
			t.Errorf("safeName(%q) = %q, want %q", in, got, want)
		}
	}
}

// A rule's row says the level its review could raise it to, and the figure it would
// compare, were the unidentified objects what the model guessed; the others leave both
// empty (helper-78: a database read "none" where the summary said the review decides).
func TestCountsCSVReviewColumns(t *testing.T) {
	s := finishedStore(t)
	guessed := alerts.Measure{Count: 4, PerL: 2000}
	opt := ExportOptions{Rules: func(c Counts) []RuleRow {
		return []RuleRow{
			{ID: "noct", Name: "Noctiluca", Rules: "r.toml", Level: alerts.None, ReviewTo: alerts.Alert, Measure: alerts.Measure{Count: 3, PerL: 1500, IfGuessed: &guessed}},
			{ID: "tricho", Name: "Trichodesmium", Rules: "r.toml", Level: alerts.Watch, Measure: alerts.Measure{Count: 2, PerL: 28000}},
		}
	}}
	var b bytes.Buffer
	if err := s.ExportTo(context.Background(), "LIM-2025-06-03", FormatCounts, &b, opt); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	got := map[string][2]string{}
	for _, r := range rows[1:] {
		if len(r) != len(CountsHeader) {
			t.Fatalf("a row of %d columns under a header of %d: %v", len(r), len(CountsHeader), r)
		}
		got[r[col["label"]]] = [2]string{r[col["review_may_raise_to"]], r[col["cells_per_l_if_reviewed_as_guessed"]]}
	}
	if got["noct"] != [2]string{"alert", "2000.0"} || got["tricho"] != [2]string{"", ""} || got["copepod_calanoid"] != [2]string{"", ""} {
		t.Errorf("review columns %v; want noct alert at 2000.0, the others empty", got)
	}
}

// The objects CSV says who reviewed an object and when, as the EcoTaxa export does: a
// lab reading the table alone could tell by whom, not when, a label was set (helper-97).
// An Undo that clears the label clears both.
func TestExportObjectsSayWhenReviewed(t *testing.T) {
	s := finishedStore(t)
	ctx := context.Background()
	si, err := s.Sample(ctx, "LIM-2025-06-03")
	if err != nil {
		t.Fatal(err)
	}
	var q []ObjectRow
	if err := s.Objects(ctx, si, false, func(o ObjectRow) error { q = append(q, o); return nil }); err != nil || len(q) < 2 {
		t.Fatalf("objects: %d, %v; want 2 or more", len(q), err)
	}
	before := time.Now().Add(-time.Second)
	if err := s.Validate(ctx, q[0].ID, "protist_noctiluca", "ana"); err != nil {
		t.Fatal(err)
	}
	prev, err := s.Relabel(ctx, q[1].ID, "detritus", "ben")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RestoreValidation(ctx, q[1].ID, prev); err != nil { // undone: no label, no time
		t.Fatal(err)
	}
	after := time.Now().Add(time.Second)
	out := filepath.Join(t.TempDir(), "objects.csv")
	if err := s.Export(ctx, "LIM-2025-06-03", FormatObjects, out); err != nil {
		t.Fatal(err)
	}
	rows := testutil.ReadCSV(t, out)
	head := rows[0]
	at, by, label, seq := slices.Index(head, "validated_at"), slices.Index(head, "validated_by"), slices.Index(head, "validated_label"), slices.Index(head, "seq")
	if at < 0 {
		t.Fatalf("objects CSV has no validated_at column: %v", head)
	}
	if at != len(head)-1 {
		t.Errorf("validated_at is column %d of %d: add it last, so that scripts reading the columns before it by position still read them", at+1, len(head))
	}
	n := 0
	for _, r := range rows[1:] {
		switch r[seq] {
		case strconv.Itoa(q[0].Seq):
			n++
			when, err := time.Parse(time.RFC3339Nano, r[at])
			if err != nil || when.Before(before) || when.After(after) || r[by] != "ana" || r[label] != "protist_noctiluca" {
				t.Errorf("reviewed object: label %q by %q at %q (%v), want protist_noctiluca by ana between %v and %v", r[label], r[by], r[at], err, before, after)
			}
		default:
			if r[at] != "" || r[by] != "" || r[label] != "" {
				t.Errorf("object %s, not reviewed (or its label undone): label %q by %q at %q, want all empty", r[seq], r[label], r[by], r[at])
			}
		}
	}
	if n != 1 {
		t.Errorf("%d rows of the reviewed object, want 1", n)
	}
}
