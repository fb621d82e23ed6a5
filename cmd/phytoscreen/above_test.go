package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phytoscreen/phytoscreen/alerts"
)

// A level written "> N" is reached above N, not at it: a taxon counted once in 1 mL,
// 1,000 cells/L exactly, raises a watch level of 1,000 and not one of "> 1000"
// (Florida's "very low" starts above 1,000 cells/L; 1,000 or less is background).
func TestScreenAboveThreshold(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "s.db")
	frames := filepath.Join("..", "..", "testdata", "microscope")
	code, stdout, stderr := run(t, "screen", "--source", frames, "--volume-ml", "1", "--db", db, "--sample", "S1", "--baseline", "0", "--format", "json")
	if code != exitOK {
		t.Fatalf("screen: exit %d, %s", code, stderr)
	}
	var res struct {
		Taxa []struct {
			Name      string  `json:"name"`
			Count     int     `json:"count"`
			CellsPerL float64 `json:"cells_estimate_per_l"`
		} `json:"taxa"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	taxon := ""
	for _, tx := range res.Taxa {
		if tx.Count == 1 && tx.CellsPerL == 1000 {
			taxon = tx.Name
			break
		}
	}
	if taxon == "" {
		t.Fatalf("no taxon counted once at 1,000 cells/L in %+v", res.Taxa)
	}
	rules := filepath.Join(dir, "site.toml")
	err := os.WriteFile(rules, []byte(fmt.Sprintf("name = \"site\"\nsource = \"test levels\"\n"+
		"[[rule]]\nid = \"at\"\ntaxon = %q\nwatch = 1000\nalert = 50000\n"+
		"[[rule]]\nid = \"above\"\ntaxon = %q\nwatch = \"> 1000\"\nalert = 50000\n", taxon, taxon)), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = run(t, "screen", "--source", frames, "--volume-ml", "1", "--db", db, "--sample", "S2", "--baseline", "0", "--rules", rules)
	if code != exitOK {
		t.Fatalf("screen --rules: exit %d, %s", code, stderr)
	}
	if !strings.Contains(stdout, "WATCH "+taxon+": 1,000 cells/L (1 counted") || !strings.Contains(stdout, "reached 1,000 cells/L; rule at,") {
		t.Errorf("the level at 1,000 was not raised at 1,000 cells/L:\n%s", stdout)
	}
	if strings.Contains(stdout, "rule above,") {
		t.Errorf("the level above 1,000 was raised at 1,000 cells/L:\n%s", stdout)
	}
	// The counts CSV says which rule stands where, and the level as written.
	code, csv, stderr := run(t, "export", "--db", db, "--sample", "S2", "--format", "csv", "--out", "-")
	if code != exitOK {
		t.Fatalf("export: exit %d, %s", code, stderr)
	}
	for _, want := range []string{",rule,at," + taxon + ",", ",watch,1000 cells/L,50000 cells/L,", ",rule,above," + taxon + ",", ",none,> 1000 cells/L,50000 cells/L,"} {
		if !strings.Contains(csv, want) {
			t.Errorf("counts CSV lacks %q:\n%s", want, csv)
		}
	}
}

// A level's number is written as given: "> 96.5 cells/mL" read "exceeded 96 cells/mL"
// (helper-79).
func TestThresholdTextKeepsDecimals(t *testing.T) {
	for _, c := range []struct {
		th            alerts.Threshold
		text, reached string
	}{
		{alerts.Threshold{Value: 96.5, Unit: alerts.PerML, Above: true}, "> 96.5 cells/mL", "exceeded 96.5 cells/mL"},
		{alerts.Threshold{Value: 20000, Unit: alerts.PerML}, "20,000 cells/mL", "reached 20,000 cells/mL"},
		{alerts.Threshold{Value: 1000, Unit: alerts.PerL, Above: true}, "> 1,000 cells/L", "exceeded 1,000 cells/L"},
	} {
		if got, r := thresholdText(c.th), reachedText(c.th); got != c.text || r != c.reached {
			t.Errorf("%+v: %q and %q, want %q and %q", c.th, got, r, c.text, c.reached)
		}
	}
}
