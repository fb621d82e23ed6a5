package app

import (
	"slices"
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
