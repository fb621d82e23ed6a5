package app

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/screening"
)

// The default preset has no rule for the cyanobacteria pack: the binding offers the WHO
// cyanobacteria preset, which has; the NDSB pack keeps the default and is offered nothing.
func TestLoadRulesOffersPresetsThatApply(t *testing.T) {
	for _, c := range []struct {
		pack     string
		bound    bool
		apply    string
		notApply string
	}{
		{assets.CyanoPackName, false, "who-cyanobacteria", "default"},
		{assets.DefaultPackName, true, "", ""},
	} {
		p, err := LoadPack(c.pack)
		if err != nil {
			t.Fatal(err)
		}
		tx, err := screening.ForPack(p)
		if err != nil {
			t.Fatal(err)
		}
		b, err := LoadRules(Settings{}, tx)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(b.Bound) > 0; got != c.bound {
			t.Errorf("%s: default preset bound %d rules", c.pack, len(b.Bound))
		}
		if c.apply != "" && (!slices.Contains(b.Apply, c.apply) || slices.Contains(b.Apply, c.notApply)) {
			t.Errorf("%s: presets offered %v: want %s, not %s", c.pack, b.Apply, c.apply, c.notApply)
		}
		if c.bound && len(b.Apply) > 0 {
			t.Errorf("%s: presets offered %v though the default applies", c.pack, b.Apply)
		}
	}
}

// A pack setting is a built-in pack's name or a folder; a bare name that is neither says
// which names exist.
func TestLoadPackNames(t *testing.T) {
	for _, name := range append(assets.BuiltinPacks(), "") {
		p, err := LoadPack(name)
		if err != nil {
			t.Fatalf("LoadPack(%q): %v", name, err)
		}
		want := name
		if name == "" {
			want = assets.DefaultPackName
		}
		if p.Name != want || p.Source != "built-in:"+want {
			t.Errorf("LoadPack(%q) = pack %s from %s", name, p.Name, p.Source)
		}
	}
	_, err := LoadPack("cyano")
	if err == nil || !strings.Contains(err.Error(), `pack "cyano": no such folder, and no built-in pack has that name: use one of ndsb-plankton-121, cyano-tcb-10`) {
		t.Errorf("LoadPack(cyano): %v", err)
	}
	missing := filepath.Join(t.TempDir(), "no-pack")
	if _, err := LoadPack(missing); err == nil || !strings.Contains(err.Error(), "pack folder "+missing+" does not exist: give a pack folder (one holding pack.json) or a built-in pack: ndsb-plankton-121") {
		t.Errorf("LoadPack(a missing folder): %v", err)
	}
}

// A pack chosen under a preset with no rule for it is watched by one that has: the
// marine pack under the WHO cyanobacteria preset by the default preset, the cyanobacteria
// pack under the default by the WHO one; a preset that fits, and the lab's own rules
// file, are kept.
func TestPresetToFit(t *testing.T) {
	taxonomy := func(name string) *screening.Taxonomy {
		tx, err := packTaxonomy(name)
		if err != nil {
			t.Fatal(err)
		}
		return tx
	}
	marine, cyano := taxonomy(assets.DefaultPackName), taxonomy(assets.CyanoPackName)
	for _, c := range []struct {
		what string
		s    Settings
		tx   *screening.Taxonomy
		want string
	}{
		{"marine under WHO", Settings{Preset: "who-cyanobacteria"}, marine, assets.DefaultPreset},
		{"cyano under default", Settings{Preset: assets.DefaultPreset}, cyano, "who-cyanobacteria"},
		{"marine under default", Settings{Preset: assets.DefaultPreset}, marine, ""},
		{"cyano under WHO", Settings{Preset: "who-cyanobacteria"}, cyano, ""},
		{"cyano under a rules file", Settings{Preset: assets.DefaultPreset, RulesFile: filepath.Join("..", "..", "assets", "presets", "default.toml")}, cyano, ""},
	} {
		if got := PresetToFit(c.s, c.tx); got != c.want {
			t.Errorf("%s: preset to fit %q, want %q", c.what, got, c.want)
		}
	}
}
