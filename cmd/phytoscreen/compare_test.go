package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// A sample and its companion screened with the base model (--keep-apart) are set side
// by side: both models' counts, the objects found at the same place of the same frames
// and how many the two models counted alike, and the energy per cell of each.
func TestCompareASampleWithItsBaseCompanion(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: screens a folder twice with the real models")
	}
	db := filepath.Join(t.TempDir(), "s.db")
	for _, extra := range [][]string{nil, {"--model", "base", "--keep-apart"}} {
		args := append([]string{"screen", "--source", "../../testdata/microscope", "--sample", "CMP-1", "--db", db, "--baseline", "0"}, extra...)
		if code, _, stderr := run(t, args...); code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
	}
	code, stdout, stderr := run(t, "compare", "--db", db, "CMP-1", "CMP-1~base")
	if code != exitOK {
		t.Fatalf("compare: exit %d: %s", code, stderr)
	}
	same := regexp.MustCompile(`Same frames: (\d+) objects found at the same place in both, \d+ \(\d+\.\d%\) counted alike; 0 in A alone, 0 in B alone\.`)
	if m := same.FindStringSubmatch(stdout); m == nil || m[1] == "0" {
		t.Errorf("compare does not match the objects of the same frames:\n%s", stdout)
	}
	for _, want := range []string{"A: sample CMP-1, ", "model optimised", "B: sample CMP-1~base, ", "model base", "Not set side by side: the records cover ", "phytoscreen bench --pack ndsb-plankton-121"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("compare lacks %q:\n%s", want, stdout)
		}
	}
	t.Logf("\n%s", stdout)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"compare", "--db", db, "CMP-1"}, "give two sample IDs"},
		{[]string{"compare", "--db", db, "CMP-1", "NOPE"}, `sample "NOPE" is not in`},
		{[]string{"compare", "--db", db, "CMP-1", "CMP-1"}, "choose two different samples"},
	} {
		if code, _, stderr := run(t, c.args...); code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, want %d and %q:\n%s", c.args, code, exitUsage, c.want, stderr)
		}
	}
}
