package alerts

import (
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/phytoscreen/phytoscreen/assets"
)

func TestParseSiteFile(t *testing.T) {
	rs, err := LoadFile("testdata/site.toml")
	if err != nil {
		t.Fatal(err)
	}
	if rs.Name != "Site A" || rs.Hysteresis != 0.25 || len(rs.Rules) != 2 {
		t.Fatalf("ruleset %+v", rs)
	}
	n := rs.Rules[0]
	if n.ID != "noct" || n.Name() != "Noctiluca" || !n.Watch.Presence || n.Alert.CellsPerL() != 5000 || n.Source != "farm HAB plan 2024" || !n.Verified || n.Line != 6 {
		t.Errorf("rule 1 = %+v (watch %v alert %v)", n, n.Watch, n.Alert)
	}
	k := rs.Rules[1]
	if k.ID != "Site A:2" || k.Name() != "Karenia mikimotoi + Chrysochromulina spp." || k.Watch.CellsPerL() != 500000 || k.Alert.CellsPerL() != 16e6 || k.Verified || k.Source != "fish kill at 16 million cells/L" {
		t.Errorf("rule 2 = %+v", k)
	}
	if got := k.Alert.String(); got != "16000 cells/mL" {
		t.Errorf("threshold reads %q", got)
	}
}

func TestParseErrorsNameFileLineAndFix(t *testing.T) {
	head := "name = \"x\"\nsource = \"s\"\n"
	cases := []struct {
		name, text, want string
	}{
		{"syntax", head + "[[rule]\ntaxon = 'a'\n", "r.toml line 3: "},
		{"unknown key", head + "[[rule]]\ntaxon = 'a'\nalert = 5\nthreshold = 4\n", `r.toml line 6: unknown key "rule.threshold"`},
		{"no rules", head, "no [[rule]] tables"},
		{"no taxon", head + "[[rule]]\nalert = 5\n", "r.toml line 3: rule 1 names no taxon"},
		{"no level", head + "[[rule]]\ntaxon = 'a'\n", "r.toml line 3: rule for a has no level"},
		{"bad unit", head + "[[rule]]\ntaxon = 'a'\nalert = 5\nunit = 'cells/ul'\n", `r.toml line 6: unit "cells/ul"`},
		{"word threshold", head + "[[rule]]\ntaxon = 'a'\nalert = 'many'\n", `r.toml line 5: alert = "many": give a number`},
		{"thousands", head + "[[rule]]\ntaxon = 'a'\nalert = '5,000'\n", "no thousands separators"},
		{"negative", head + "[[rule]]\ntaxon = 'a'\nalert = -5\n", "r.toml line 5: alert = -5: a threshold must be a positive"},
		{"watch above alert", head + "[[rule]]\ntaxon = 'a'\nalert = 500\nwatch = 1000\n", "r.toml line 6: watch 1000 cells/L is not below alert 500 cells/L"},
		{"presence alert with watch", head + "[[rule]]\ntaxon = 'a'\nalert = 'presence'\nwatch = 10\n", "r.toml line 6: an alert on presence"},
		{"no source", "[[rule]]\ntaxon = 'a'\nalert = 1\n", "r.toml line 1: rule for a has no source"},
		{"duplicate id", head + "[[rule]]\nid = 'x'\ntaxon = 'a'\nalert = 1\n[[rule]]\nid = 'x'\ntaxon = 'b'\nalert = 1\n", `r.toml line 7: rule id "x" is already used at line 3`},
		{"hysteresis", "hysteresis = 1.5\n" + head + "[[rule]]\ntaxon = 'a'\nalert = 1\n", "r.toml line 1: hysteresis 1.5"},
		{"no hysteresis", head + "hysteresis = 0\n[[rule]]\ntaxon = 'a'\nalert = 1\n", "r.toml line 3: hysteresis 0: give a fraction above 0"},
		{"taxon number", head + "[[rule]]\ntaxon = 5\nalert = 1\n", "r.toml line 4: taxon = 5"},
		// Thresholds that are no concentration: zero, negative, not a number, infinite.
		{"zero", head + "[[rule]]\ntaxon = 'a'\nalert = 0\n", "r.toml line 5: alert = 0: a threshold must be a positive number of cells/L (for \"any cell\" write \"presence\")"},
		{"negative watch", head + "[[rule]]\ntaxon = 'a'\nwatch = -2.5\nalert = 10\nunit = 'cells/mL'\n", "r.toml line 5: watch = -2.5: a threshold must be a positive number of cells/mL"},
		{"nan", head + "[[rule]]\ntaxon = 'a'\nalert = nan\n", "r.toml line 5: alert = NaN: a threshold must be a positive"},
		{"absurd", head + "[[rule]]\ntaxon = 'a'\nwatch = 1e300\nunit = 'cells/mL'\n", "r.toml line 5: watch = 1e+300 cells/mL is over 1e+12 cells/L, more than any water holds"},
		{"infinite", head + "[[rule]]\ntaxon = 'a'\nwatch = inf\n", "r.toml line 5: watch = +Inf: a threshold must be a positive"},
		{"boolean", head + "[[rule]]\ntaxon = 'a'\nalert = true\n", "r.toml line 5: alert = true: give a number (in cells/L) or \"presence\""},
		{"empty threshold", head + "[[rule]]\ntaxon = 'a'\nalert = ''\n", `r.toml line 5: alert = "": give a number`},
		// Missing thresholds: a rule with a taxon but no level, and a level without a taxon.
		{"missing thresholds", head + "[[rule]]\ntaxon = 'a'\nunit = 'cells/mL'\nsource = 'x'\n", "r.toml line 3: rule for a has no level: add watch = NUMBER and/or alert = NUMBER (in cells/mL) or \"presence\""},
		{"empty taxon", head + "[[rule]]\ntaxon = ['', ' ']\nalert = 1\n", "r.toml line 3: rule 1 names no taxon: add taxon"},
		// Malformed files: empty, not TOML at all, a table where rules belong, bad UTF-8.
		{"empty file", "", "r.toml: no [[rule]] tables"},
		{"not toml", "\x00\x01\x02 binary junk", "r.toml line 1: "},
		{"rule as table", head + "[rule]\ntaxon = 'a'\nalert = 1\n", "r.toml line 3: [rule] is a single table: write each rule as [[rule]]"},
		{"name as table", "[name]\nx = 1\n" + head + "[[rule]]\ntaxon = 'a'\nalert = 1\n", `r.toml line 1: "name" has the wrong type`},
		{"bad utf-8", "name = \"\xff\"\n", "r.toml line 1: "},
		{"unquoted taxon", head + "[[rule]]\ntaxon = Noctiluca\nalert = 1\n", "r.toml line 4: "},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.text), "r.toml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %q is not one line", c.name, err)
		}
		t.Logf("%s: %v", c.name, err)
	}
}

// Every preset parses, cites a source on every rule, and carries the reference's values.
func TestPresets(t *testing.T) {
	names := assets.PresetNames()
	want := []string{"chile", "default", "denmark", "florida", "norway", "scotland", "who-cyanobacteria"}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Fatalf("presets %v, want %v", names, want)
	}
	sets := map[string]*Ruleset{}
	for _, n := range names {
		rs, err := LoadFS(assets.Presets(), n+".toml", "preset "+n)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs.Rules {
			if r.Source == "" {
				t.Errorf("preset %s rule %s has no source", n, r.ID)
			}
		}
		sets[n] = rs
	}
	type val struct {
		preset, taxon string
		level         Level
		perL          float64 // 0: presence
		verified      bool
	}
	for _, v := range []val{
		{"denmark", "Dinophysis acuminata", Alert, 500, true},
		{"denmark", "Azadinium spp.", Alert, 500000, true},
		{"denmark", "Pseudo-nitzschia spp.", Alert, 200000, true},
		{"norway", "Dinophysis norvegica", Alert, 4000, true},
		{"norway", "Pseudo-nitzschia spp.", Alert, 1e6, true},
		{"scotland", "Pseudo-nitzschia spp.", Alert, 50000, true},
		{"scotland", "Alexandrium spp.", Alert, 0, true},
		{"scotland", "Dinophysis spp.", Alert, 100, false},
		{"chile", "Alexandrium catenella", Alert, 300000, true},
		{"florida", "Karenia brevis", Watch, 1000, true}, // "> 1000": TestAboveThreshold
		{"florida", "Karenia brevis", Alert, 5000, true},
		{"who-cyanobacteria", "Cyanobacteria + Microcystis spp. + Oscillatoria spp.", Watch, 2e7, true},
		{"who-cyanobacteria", "Cyanobacteria + Microcystis spp. + Oscillatoria spp.", Alert, 1e8, true},
		{"default", "Noctiluca", Watch, 0, false},
		{"default", "Noctiluca", Alert, 10000, false},
		{"default", "Trichodesmium", Alert, 10000, false},
		{"default", "Chain-forming diatoms", Watch, 50000, false},
		{"default", "Chain-forming diatoms", Alert, 200000, false},
	} {
		var found bool
		for _, r := range sets[v.preset].Rules {
			if r.Name() != v.taxon {
				continue
			}
			found = true
			th := r.Threshold(v.level)
			if th == nil || th.CellsPerL() != v.perL || th.Presence != (v.perL == 0) || r.Verified != v.verified {
				t.Errorf("%s %s %s = %v (verified %v), want %v cells/L (verified %v)", v.preset, v.taxon, v.level, th, r.Verified, v.perL, v.verified)
			}
		}
		if !found {
			t.Errorf("%s has no rule for %s", v.preset, v.taxon)
		}
	}
	if _, err := fs.Stat(assets.Presets(), "README.md"); err == nil {
		t.Error("presets README is embedded: only .toml files should be")
	}
}

type mapResolver map[string][]string

func (m mapResolver) Resolve(name string) ([]string, bool) { l, ok := m[name]; return l, ok }

func TestBindReportsMissingTaxaAndUnverified(t *testing.T) {
	rs, err := LoadFile("testdata/site.toml")
	if err != nil {
		t.Fatal(err)
	}
	res := mapResolver{"Noctiluca": {"protist_noctiluca"}, "Chrysochromulina spp.": {"chryso_a", "chryso_b"}}
	bound, notices := rs.Bind(res, "lab")
	if len(bound) != 2 || bound[1].Labels[1] != "chryso_b" {
		t.Fatalf("bound %+v", bound)
	}
	if len(notices) != 2 || notices[0].Kind != NoticeMissingTaxon || notices[1].Kind != NoticeUnverified {
		t.Fatalf("notices %+v", notices)
	}
	if s := notices[0].String(); !strings.Contains(s, "testdata/site.toml line 12") || !strings.Contains(s, `"Karenia mikimotoi" is not in pack lab`) || !strings.Contains(s, "counts only chryso_a, chryso_b") {
		t.Errorf("missing-taxon notice reads %q", s)
	}
	if s := notices[1].String(); !strings.Contains(s, "not a verified regulatory value (site-defined)") {
		t.Errorf("unverified notice reads %q", s)
	}
	// A pack that has none of a rule's taxa: the rule is dropped and says it cannot fire.
	bound, notices = rs.Bind(mapResolver{}, "ndsb")
	if len(bound) != 0 || len(notices) != 2 || !strings.Contains(notices[0].Detail, "cannot fire") {
		t.Fatalf("bound %v notices %+v", bound, notices)
	}
	// Several taxa missing: each quoted, none with its quotes escaped.
	several := false
	for _, n := range notices {
		if strings.Contains(n.Detail, `\"`) {
			t.Errorf("a notice shows escaped quotes: %s", n.Detail)
		}
		several = several || strings.Contains(n.Detail, `taxa "`) && strings.Contains(n.Detail, `", "`)
	}
	if !several {
		t.Errorf("no notice names several missing taxa, each quoted: %+v", notices)
	}
}

// A rules file named that is not there is reported as the missing file, with the
// presets to choose from; a preset name still reads as a preset.
func TestOpenMissingRulesFile(t *testing.T) {
	presets := fstest.MapFS{"default.toml": {Data: []byte("source = \"s\"\n[[rule]]\ntaxon = \"Noctiluca\"\nalert = 5000\n")}}
	missing := filepath.Join(t.TempDir(), "site.toml")
	_, _, err := Open(missing, presets)
	if err == nil || !strings.Contains(err.Error(), "rules file "+missing+": stat "+missing+": no such file or directory") || !strings.Contains(err.Error(), "(default)") ||
		strings.Contains(err.Error(), ".toml.toml") {
		t.Errorf("a missing rules file: %v", err)
	}
	if _, name, err := Open("default", presets); err != nil || name != "preset default" {
		t.Errorf("the preset default: %q, %v", name, err)
	}
}

// A rule naming both a taxon and a group watches their sum: the classes of both, a class
// in both counted once (the group's own members among them), and it reads as both
// names. Encoded and read back, it is the same rule. Its meaning is what Format says.
func TestRuleWithTaxonAndGroupSumsBoth(t *testing.T) {
	src := "name = \"site\"\nsource = \"site plan\"\n[[rule]]\nid = \"dsp\"\ntaxon = \"Dinophysis acuminata\"\ngroup = \"Dinophysis\"\nalert = 7000\n"
	rs, err := Parse([]byte(src), "site.toml")
	if err != nil {
		t.Fatal(err)
	}
	r := rs.Rules[0]
	if r.Name() != "Dinophysis acuminata + Dinophysis" {
		t.Errorf("rule reads %q, want both names", r.Name())
	}
	res := mapResolver{"Dinophysis acuminata": {"dino_acu"}, "Dinophysis": {"dino_acu", "dino_nor"}}
	bound, _ := rs.Bind(res, "lab")
	if len(bound) != 1 || strings.Join(bound[0].Labels, " ") != "dino_acu dino_nor" {
		t.Fatalf("bound %+v, want the labels of both, dino_acu once", bound)
	}
	// 3,000 cells/L of each: the sum, 6,000, is under the alert level; dino_acu counted
	// twice (9,000) would raise it.
	e := NewEvaluator(bound, 0.2)
	e.Update(time.Unix(0, 0), func(labels []string) Measure {
		return Measure{Count: 3 * len(labels), PerL: 3000 * float64(len(labels))}
	})
	if st := e.States()[0]; st.Level != None || st.Value.PerL != 6000 {
		t.Errorf("level %v at %v cells/L, want none at 6000", st.Level, st.Value.PerL)
	}
	data, err := Encode(rs)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(data, "again.toml")
	if err != nil || back.Rules[0].Name() != r.Name() {
		t.Errorf("read back: %v, %v; want the same two names", back, err)
	}
	if !strings.Contains(Format, "and/or group (with both, the rule sums them, each class once)") {
		t.Errorf("Format does not say what a rule with both means: %s", Format)
	}
}
