package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phytoscreen/phytoscreen/store"
)

// pdfText extracts a PDF's text with poppler's pdftotext (scripts/deps.sh installs it),
// keeping the layout so a table row reads as one line.
func pdfText(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("pdftotext", "-layout", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext %s: %v (install poppler-utils: make deps)", path, err)
	}
	return string(out)
}

// phytoscreen report on a screened demo sample with a reviewed object: the PDF says the
// alert with its level and source, compares each HAB group with its trigger levels,
// names the reviewer and the sample's position; a missing sample is refused (exit 2);
// --out naming the store is refused.
func TestReportPDF(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: screens the demo with the real model")
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "s.db")
	if code, stdout, stderr := run(t, "screen", "--source", "../../assets/demo/demo.avi", "--sample", "FARM-7", "--site", "Loch Creran",
		"--lat", "56.51", "--lon", "-5.39", "--volume-ml", "0.25", "--analyst", "J. Tech", "--db", db, "--baseline", "0"); code != exitOK {
		t.Fatalf("screen: exit %d\n%s\n%s", code, stdout, stderr)
	}
	s, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	q, err := s.ReviewQueue(context.Background(), "FARM-7", 1)
	if err != nil || len(q) == 0 {
		t.Fatalf("review queue: %v, %d", err, len(q))
	}
	if err := s.Validate(context.Background(), q[0].ID, "protist_noctiluca", "Ana Reviewer"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	pdf := filepath.Join(dir, "report.pdf")
	code, stdout, stderr := run(t, "report", "--db", db, "--sample", "FARM-7", "--out", pdf)
	if code != exitOK || !strings.Contains(stdout, "wrote the report of sample FARM-7 (ALERT;") {
		t.Fatalf("report: exit %d\n%s\n%s", code, stdout, stderr)
	}
	data, err := os.ReadFile(pdf)
	if err != nil || !bytes.HasPrefix(data, []byte("%PDF-")) {
		t.Fatalf("not a PDF (%v): %.20q", err, data)
	}
	text := pdfText(t, pdf)
	flat := strings.Join(strings.Fields(text), " ") // wrapped lines read as one
	for _, want := range []string{
		"Phytoplankton screening report", "Sample FARM-7 - Loch Creran", "ALERT: Noctiluca",
		"Position", "56.51000, -5.39000", "Volume examined", "0.25 mL", "Analyst J. Tech",
		"HAB groups against their trigger levels", "Watch at", "Alert at",
		"Reviewed by", "Ana Reviewer (1 object validated)",
		"ALERT Noctiluca at", "when raised:", "reached 10,000 cells/L. Source: phytoscreen default for the NDSB packs, ndsb-plankton-121 and its v2", "Examples", "What the screening cost on this machine",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	var row string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "Noctiluca") && strings.Contains(l, "presence") {
			row = l
		}
	}
	if f := strings.Fields(row); len(f) < 8 || f[len(f)-1] != "ALERT" || f[len(f)-2] != "10,000" {
		t.Errorf("Noctiluca's group row %q: want its count, concentration, interval, watch (presence), alert (10,000) and ALERT", row)
	}
	if t.Failed() {
		t.Logf("report text:\n%s", text)
	}
	// Compared with other rules, the levels are theirs on the sample's final figures,
	// and the alerts the runs raised are said to be under the rules screened with.
	other := filepath.Join(dir, "high.toml")
	if err := os.WriteFile(other, []byte("source = \"a test's own levels\"\n[[rule]]\nid = \"noctiluca\"\ntaxon = \"Noctiluca\"\nwatch = \"presence\"\nalert = 1000000000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = run(t, "report", "--db", db, "--sample", "FARM-7", "--rules", other, "--out", pdf)
	flat = strings.Join(strings.Fields(pdfText(t, pdf)), " ")
	if code != exitOK || !strings.Contains(stdout, "(WATCH;") || !strings.Contains(flat, "WATCH: Noctiluca") ||
		!strings.Contains(flat, "Under preset default, the rules the runs were screened with.") {
		t.Errorf("report --rules with a far higher alert level: exit %d, %s%s\n%s", code, stdout, stderr, flat)
	}
	if code, _, stderr := run(t, "report", "--db", db, "--sample", "NOPE", "--out", pdf); code != exitUsage || !strings.Contains(stderr, `sample "NOPE" is not in`) {
		t.Errorf("a missing sample: exit %d, %s", code, stderr)
	}
	if code, _, stderr := run(t, "report", "--db", db, "--sample", "FARM-7", "--out", db); code != exitUsage || !strings.Contains(stderr, "is the session store") {
		t.Errorf("--out onto the store: exit %d, %s", code, stderr)
	}
	// --out - streams the PDF, and says so on stderr (a file named "-" was written).
	code, stdout, stderr = run(t, "report", "--db", db, "--sample", "FARM-7", "--out", "-")
	if code != exitOK || !strings.HasPrefix(stdout, "%PDF-") || !strings.Contains(stderr, "to standard output") {
		t.Errorf("report --out -: exit %d, stdout %.20q, stderr %s", code, stdout, stderr)
	}
	if _, err := os.Stat("-"); err == nil {
		t.Errorf("report --out - wrote a file named -")
		os.Remove("-")
	}
	// An output named as another kind of file is refused and left as it was: the report
	// onto the counts table, the table onto the report (helper-60: each replaced the other).
	counts := filepath.Join(dir, "counts.csv")
	if code, stdout, stderr := run(t, "export", "--db", db, "--sample", "FARM-7", "--out", counts); code != exitOK {
		t.Fatalf("export: exit %d\n%s%s", code, stdout, stderr)
	}
	table, _ := os.ReadFile(counts)
	if code, _, stderr := run(t, "report", "--db", db, "--sample", "FARM-7", "--out", counts); code != exitUsage || !strings.Contains(stderr, "is named as a CSV table (.csv), but this writes a PDF report") {
		t.Errorf("report --out counts.csv: exit %d, %s", code, stderr)
	}
	if got, _ := os.ReadFile(counts); !bytes.Equal(got, table) {
		t.Errorf("report --out counts.csv changed the table")
	}
	before, _ := os.ReadFile(pdf)
	for _, format := range []string{"csv", "objects"} {
		if code, _, stderr := run(t, "export", "--db", db, "--sample", "FARM-7", "--format", format, "--out", pdf); code != exitUsage || !strings.Contains(stderr, "is named as a PDF (.pdf), but this writes a CSV table") {
			t.Errorf("export --format %s --out report.pdf: exit %d, %s", format, code, stderr)
		}
	}
	if got, _ := os.ReadFile(pdf); !bytes.Equal(got, before) {
		t.Errorf("export --out report.pdf changed the report")
	}
}

// --tz names the programme's zone for the weekly report: a name the time zone database
// lacks is refused before the server is asked, naming the flag with an example; --tz
// goes with --week (helper-89).
func TestWeekReportZoneFlag(t *testing.T) {
	out := filepath.Join(t.TempDir(), "week.pdf")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--server", "postgres://127.0.0.1:1/none", "--week", "2026-W49", "--tz", "Europe/Berlinn", "--out", out}, `--tz "Europe/Berlinn" is not a time zone of the time zone database: name one as Area/City, e.g. --tz Europe/Berlin`},
		{[]string{"--server", "postgres://127.0.0.1:1/none", "--week", "2026-W49", "--tz", "Local", "--out", out}, "e.g. --tz Europe/Berlin"},
		{[]string{"--sample", "S", "--tz", "Europe/Berlin", "--out", out}, "takes --server, --week and --out, and --tz"},
	} {
		code, _, stderr := run(t, append([]string{"report"}, c.args...)...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("report %v: exit %d, %s; want refused with %q", c.args, code, stderr, c.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a refused report wrote its file")
	}
	// The zone database is embedded (time/tzdata): --tz works where the machine has none.
	if _, err := programmeZone("Europe/Berlin"); err != nil {
		t.Errorf("--tz Europe/Berlin: %v", err)
	}
}
