package alerts

import (
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phytoscreen/phytoscreen/assets"
)

// FuzzParse feeds arbitrary text to the rules file parser: it must return a ruleset or
// an error, never panic or hang, and an error must name the file. A ruleset it accepts
// is one the evaluator can use: every rule names a taxon, has a level with a positive,
// finite threshold (or presence), a watch level below its alert level, a source and a
// unique id, and the hysteresis is a fraction. The seeds are the presets, the tests'
// site file and broken variants; crashers found are kept in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	presets, err := fs.Glob(assets.Presets(), "*.toml")
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range presets {
		data, err := fs.ReadFile(assets.Presets(), p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	site, err := os.ReadFile(filepath.Join("testdata", "site.toml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(site)
	for _, s := range []string{
		"",
		"[[rule]\n",
		"source = 's'\n[[rule]]\ntaxon = ['a', 1]\nalert = 5\n",
		"source = 's'\n[[rule]]\ntaxon = 'a'\nalert = nan\nwatch = -inf\n",
		"source = 's'\nhysteresis = 1e309\n[[rule]]\ntaxon = 'a'\nalert = 'presence'\n",
		"source = 's'\n[[rule]]\ngroup = 'g'\nwatch = 1\nalert = 1\nunit = 'cells/mL'\n",
		"[rule]\ntaxon = 'a'\n",
		"name = \"\xff\xfe\"\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := Parse(data, "fuzz.toml")
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.toml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if !(rs.Hysteresis > 0 && rs.Hysteresis < 1) {
			t.Fatalf("accepted hysteresis %v", rs.Hysteresis)
		}
		if len(rs.Rules) == 0 {
			t.Fatal("accepted a ruleset without rules")
		}
		ids := map[string]bool{}
		for _, r := range rs.Rules {
			if ids[r.ID] {
				t.Fatalf("accepted duplicate id %q", r.ID)
			}
			ids[r.ID] = true
			if len(r.Taxa) == 0 || r.Source == "" || (r.Watch == nil && r.Alert == nil) {
				t.Fatalf("accepted an unusable rule %+v", r)
			}
			for _, th := range []*Threshold{r.Watch, r.Alert} {
				if th == nil || th.Presence {
					continue
				}
				if v := th.CellsPerL(); !(v > 0) || math.IsInf(v, 0) {
					t.Fatalf("accepted threshold %v in rule %s", th, r.ID)
				}
			}
			if r.Watch != nil && r.Alert != nil {
				if r.Alert.Presence || (!r.Watch.Presence && r.Watch.CellsPerL() >= r.Alert.CellsPerL()) {
					t.Fatalf("accepted watch %v with alert %v in rule %s", r.Watch, r.Alert, r.ID)
				}
			}
		}
	})
}
