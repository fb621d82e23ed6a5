package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
)

// phytoscreen samples lists the stored samples (the IDs export, report and compare ask
// for, which only History showed), and moves them to the trash and back or marks them,
// as History does: an ID the store lacks is named with the fix and the others still
// change; a sample already so is said, not changed again.
func TestSamplesListTrashRestoreMark(t *testing.T) {
	s := storedSample(t, "POND-1", 2)
	db := s.Path()
	listed := func(args ...string) (string, string) {
		t.Helper()
		code, stdout, stderr := run(t, append([]string{"samples", "--db", db}, args...)...)
		if code != exitOK {
			t.Fatalf("samples %v: exit %d, %s", args, code, stderr)
		}
		return stdout, stderr
	}
	out, _ := listed()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	// What counted it, beside it (helper-84: the list named no pack or model).
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "sample") || !strings.HasPrefix(lines[1], "POND-1 ") || !strings.Contains(lines[1], " 1 mL") ||
		!strings.Contains(lines[0], "counted by") || !strings.Contains(lines[1], " ndsb-plankton-121 optimised") {
		t.Fatalf("the list:\n%s", out)
	}
	// --tsv for scripts: a header and a row a sample, tab-separated, volumes as numbers
	// (helper-66: the padded list split a site's name and "1 mL" at their spaces).
	out, _ = listed("--tsv")
	rows := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(rows) != 2 || !strings.HasPrefix(rows[0], "sample\tsite\ttaken\truns\texamined_ml\tgiven_ml\tpartial\tmarked\tpack\tmodel\t") {
		t.Fatalf("--tsv:\n%s", out)
	}
	if f := strings.Split(rows[1], "\t"); len(f) != 15 || f[0] != "POND-1" || f[3] != "1" || f[4] != "1" || f[6] != "false" || f[8] != "ndsb-plankton-121" || f[9] != "optimised" {
		t.Errorf("--tsv row %q", rows[1])
	}
	code, stdout, stderr := run(t, "samples", "delete", "--db", db, "POND-1", "NOPE")
	if code != exitFailed || !strings.Contains(stdout, "sample POND-1 moved to the trash (phytoscreen samples restore POND-1 brings it back within 30 days)") ||
		!strings.Contains(stderr, `sample "NOPE" is not in`) || !strings.Contains(stderr, "check the ID (phytoscreen samples --db "+shellQuote(db)+" lists them, --trash those in the trash)") {
		t.Errorf("delete POND-1 NOPE: exit %d\n%s%s", code, stdout, stderr)
	}
	if out, errOut := listed(); out != "" || !strings.Contains(errOut, "no samples in "+db+"; the trash holds 1 sample (phytoscreen samples --trash lists them)") {
		t.Errorf("the list after the delete: %q, %q", out, errOut)
	}
	if out, _ := listed("--trash"); !strings.Contains(out, "POND-1") || !strings.Contains(out, "removed for good after") {
		t.Errorf("the trash:\n%s", out)
	}
	if code, stdout, _ := run(t, "samples", "delete", "--db", db, "POND-1"); code != exitOK || !strings.Contains(stdout, "is already in the trash") {
		t.Errorf("a second delete: exit %d, %s", code, stdout)
	}
	if code, stdout, _ := run(t, "samples", "restore", "--db", db, "POND-1"); code != exitOK || !strings.Contains(stdout, "sample POND-1 restored from the trash") {
		t.Errorf("restore: exit %d, %s", code, stdout)
	}
	if out, _ := listed("--trash"); !strings.Contains(out, "The trash is empty.") {
		t.Errorf("the trash after the restore:\n%s", out)
	}
	if code, stdout, _ := run(t, "samples", "restore", "--db", db, "POND-1"); code != exitOK || !strings.Contains(stdout, "is not in the trash") {
		t.Errorf("a second restore: exit %d, %s", code, stdout)
	}
	if code, _, stderr := run(t, "samples", "mark", "--db", db, "POND-1"); code != exitOK {
		t.Fatalf("mark: exit %d, %s", code, stderr)
	}
	if out, _ := listed(); !strings.Contains(out, "marked") {
		t.Errorf("the list after the mark:\n%s", out)
	}
	if out, errOut := listed("--site", "Bay A"); out != "" || !strings.Contains(errOut, `at site "Bay A"`) {
		t.Errorf("another site: %q, %q", out, errOut)
	}
	if code, _, stderr := run(t, "samples", "mark", "--db", db); code != exitUsage || !strings.Contains(stderr, "name the sample IDs") {
		t.Errorf("mark without an ID: exit %d, %s", code, stderr)
	}
	// Flags before the subcommand, as scripts write them (helper-66: "takes flags only").
	if code, stdout, stderr := run(t, "samples", "--db", db, "unmark", "POND-1"); code != exitOK || !strings.Contains(stdout, "sample POND-1 unmarked") {
		t.Errorf("samples --db F unmark ID: exit %d, %s%s", code, stdout, stderr)
	}
	if code, stdout, stderr := run(t, "samples", "--db", db, "list"); code != exitOK || !strings.Contains(stdout, "POND-1") {
		t.Errorf("samples --db F list: exit %d, %s%s", code, stdout, stderr)
	}
	if code, _, stderr := run(t, "samples", "--db", db, "frobnicate"); code != exitUsage || !strings.Contains(stderr, "samples frobnicate: no such command: use list, delete, restore, mark or unmark") {
		t.Errorf("an unknown subcommand: exit %d, %s", code, stderr)
	}
}

// The list is by the date the water was taken, the last first, as History's: a sample
// taken last week and screened after today's sat above it (helper-67).
func TestSamplesListedByDateTaken(t *testing.T) {
	s, r := recordingSample(t, "TODAY", 1)
	if err := r.Finish(context.Background(), screening.Snapshot{Frames: screening.FrameStats{Seen: 1}, Threshold: 0.5, Variant: inference.Optimised}, nil); err != nil {
		t.Fatal(err)
	}
	tx := defaultTaxonomy(t)
	old := screening.NewSample("LAST-WEEK")
	old.Taken = time.Now().Add(-7 * 24 * time.Hour)
	r2, err := s.StartRun(context.Background(), screening.RunInfo{Sample: old, Spec: capture.MustParseSpec("old.avi"), Model: inference.Optimised, Threshold: 0.5, Taxonomy: tx, Rules: "preset default"})
	if err != nil {
		t.Fatal(err)
	}
	if err := r2.Finish(context.Background(), screening.Snapshot{Frames: screening.FrameStats{Seen: 1}, Threshold: 0.5, Variant: inference.Optimised}, nil); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run(t, "samples", "--db", s.Path(), "--tsv")
	rows := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != exitOK || len(rows) != 3 || !strings.HasPrefix(rows[1], "TODAY\t") || !strings.HasPrefix(rows[2], "LAST-WEEK\t") {
		t.Errorf("samples --tsv: exit %d\n%s%s", code, stdout, stderr)
	}
}

// inZone makes the commands read and show local times in zone for the test: the
// machine's own may be UTC, where a time shown in UTC reads the same (helper-89).
func inZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	was := localZone
	localZone = loc
	t.Cleanup(func() { localZone = was })
	return loc
}

// The list shows the time taken in local time with its zone, --tsv in RFC 3339 with the
// local offset: a sample taken Monday 30 November 00:30 in Berlin read as Monday in the
// list and as 2026-11-29T23:30:00Z in --tsv (helper-89).
func TestSamplesInLocalTime(t *testing.T) {
	berlin := inZone(t, "Europe/Berlin")
	s, err := store.Open(filepath.Join(t.TempDir(), "sessions.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	sm := screening.NewSample("K-1")
	sm.Taken = time.Date(2026, 11, 30, 0, 30, 0, 0, berlin)
	r, err := s.StartRun(ctx, screening.RunInfo{Sample: sm, Spec: capture.MustParseSpec("k.avi"), Model: inference.Optimised, Threshold: 0.5, Taxonomy: defaultTaxonomy(t), Rules: "preset default"})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Finish(ctx, screening.Snapshot{Frames: screening.FrameStats{Seen: 1}, Threshold: 0.5, Variant: inference.Optimised}, nil); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run(t, "samples", "--db", s.Path())
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != exitOK || len(lines) != 2 || !strings.Contains(lines[0], "taken (CET)") || !strings.Contains(lines[1], " 2026-11-30 00:30 ") {
		t.Errorf("samples: exit %d, want the time taken in CET, named in the heading:\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = run(t, "samples", "--db", s.Path(), "--tsv")
	rows := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != exitOK || len(rows) != 2 || strings.Split(rows[1], "\t")[2] != "2026-11-30T00:30:00+01:00" {
		t.Errorf("samples --tsv: exit %d, want taken 2026-11-30T00:30:00+01:00:\n%s%s", code, stdout, stderr)
	}
	if code, _, stderr := run(t, "samples", "delete", "--db", s.Path(), "K-1"); code != exitOK {
		t.Fatalf("delete: exit %d, %s", code, stderr)
	}
	// Deleted now: in CET or CEST, as the day falls.
	now := time.Now().In(berlin)
	abbr, _ := now.Zone()
	if _, stdout, _ := run(t, "samples", "--db", s.Path(), "--trash"); !strings.Contains(stdout, "deleted ("+abbr) {
		t.Errorf("the trash does not name its zone (%s):\n%s", abbr, stdout)
	}
	if _, stdout, _ := run(t, "samples", "--db", s.Path(), "--trash", "--tsv"); !strings.Contains(stdout, now.Format("-07:00")+"\t") {
		t.Errorf("the trash's --tsv is not in local time:\n%s", stdout)
	}
}
