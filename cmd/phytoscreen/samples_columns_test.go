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

// The list says a concentration factor other than 1 (PA-2 "1 mL" concentrated tenfold
// said nothing of it), the TSV adds factor, threshold, rules and the level raised after
// its old columns, a site is found whatever its spelling's case and spaces, and a
// companion sample follows its main sample, which it sat above (helper-91).
func TestSamplesFactorColumnsSitesAndCompanions(t *testing.T) {
	s, err := store.Open(filepath.Join(t.TempDir(), "sessions.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	tx := defaultTaxonomy(t)
	ctx := context.Background()
	taken := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	add := func(id, site string, factor float64, at time.Time, rules string) {
		t.Helper()
		sm := screening.NewSample(id)
		sm.Site, sm.Factor, sm.Taken = site, factor, at
		r, err := s.StartRun(ctx, screening.RunInfo{Sample: sm, Spec: capture.MustParseSpec(id + ".avi"), Model: inference.Optimised, Threshold: 0.4, Taxonomy: tx, Rules: rules})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Finish(ctx, screening.Snapshot{Frames: screening.FrameStats{Seen: 1}, Threshold: 0.4, Variant: inference.Optimised}, nil); err != nil {
			t.Fatal(err)
		}
	}
	add("PA-2", "Pond A", 0.1, taken, "preset who-cyanobacteria")
	add("PA-2~ndsb", "Pond A", 0.1, taken, "preset default") // entered after: listed first by the sort
	add("LN-2", "Lagoon north", 1, taken.Add(-time.Hour), "preset default")
	add("LN-4", " Lagoon North", 1, taken.Add(-2*time.Hour), "preset default")

	code, stdout, stderr := run(t, "samples", "--db", s.Path())
	if code != exitOK {
		t.Fatalf("samples: exit %d, %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[1], "PA-2 ") || !strings.HasPrefix(lines[2], "PA-2~ndsb ") {
		t.Fatalf("the list, want PA-2 then its companion:\n%s", stdout)
	}
	if !strings.Contains(lines[1], "alert levels not checked") {
		t.Errorf("the list does not say PA-2's levels were not checked:\n%s", stdout)
	}
	if !strings.Contains(lines[1], "factor 0.1 (concentrated 10x)") || strings.Contains(lines[3], "factor") {
		t.Errorf("the list says the factor of PA-2, and none for a factor of 1:\n%s", stdout)
	}

	code, stdout, _ = run(t, "samples", "--db", s.Path(), "--tsv")
	rows := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	want := "sample\tsite\ttaken\truns\texamined_ml\tgiven_ml\tpartial\tmarked\tpack\tmodel\tfactor\tthreshold\trules\tlevel_raised\tstanding"
	if code != exitOK || len(rows) != 5 || rows[0] != want {
		t.Fatalf("--tsv: exit %d\n%s", code, stdout)
	}
	f := strings.Split(rows[1], "\t")
	// No rule of the cyanobacteria preset applies to the NDSB pack: it raised nothing,
	// and it stands not checked, not "none" (helper-93: RI-2 read all clear in the TSV).
	if len(f) != 15 || f[0] != "PA-2" || f[4] != "1" || f[10] != "0.1" || f[11] != "0.4" || f[12] != "preset who-cyanobacteria" || f[13] != "none" || f[14] != "not checked" {
		t.Errorf("--tsv row %q; want PA-2, 1 mL, factor 0.1, threshold 0.4, its rules, level raised none, standing not checked", rows[1])
	}
	if !strings.HasPrefix(rows[2], "PA-2~ndsb\t") {
		t.Errorf("--tsv: the companion not after its main sample:\n%s", stdout)
	}

	code, stdout, _ = run(t, "samples", "--db", s.Path(), "--site", "lagoon north ", "--tsv")
	rows = strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if code != exitOK || len(rows) != 3 || !strings.HasPrefix(rows[1], "LN-2\t") || !strings.HasPrefix(rows[2], "LN-4\t") {
		t.Errorf("--site 'lagoon north ': exit %d, want LN-2 and LN-4 (' Lagoon North'):\n%s", code, stdout)
	}
}
