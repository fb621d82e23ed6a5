package alerts

import (
	"reflect"
	"testing"

	"github.com/phytoscreen/phytoscreen/assets"
)

// Every preset, encoded and parsed again, gives the same rules: the editor saves files
// the CLI reads as they were meant.
func TestEncodeRoundTrips(t *testing.T) {
	for _, name := range assets.PresetNames() {
		rs, err := LoadPreset(assets.Presets(), name)
		if err != nil {
			t.Fatal(err)
		}
		data, err := Encode(rs)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse(data, name+".toml")
		if err != nil {
			t.Fatalf("%s: encoded rules do not parse: %v\n%s", name, err, data)
		}
		if back.Name != rs.Name || back.Description != rs.Description || back.Hysteresis != rs.Hysteresis || len(back.Rules) != len(rs.Rules) {
			t.Fatalf("%s: header or rule count changed", name)
		}
		for i := range rs.Rules {
			a, b := rs.Rules[i], back.Rules[i]
			a.File, a.Line, b.File, b.Line = "", 0, "", 0
			if !reflect.DeepEqual(a, b) {
				t.Errorf("%s rule %d:\n was %+v\n now %+v", name, i+1, a, b)
			}
		}
	}
	// A rule in cells/mL with a watch level, two taxa, an id and an unverified source.
	rs := &Ruleset{Name: "site", Hysteresis: 0.3, Rules: []Rule{{ID: "dino", Taxa: []string{"Dinophysis acuminata", "Dinophysis acuta"},
		Watch: &Threshold{Value: 0.2, Unit: PerML}, Alert: &Threshold{Value: 1, Unit: PerML}, Source: `farm's "own" level`, Verified: true, Note: "quotes; ñ"}}}
	data, err := Encode(rs)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(data, "site.toml")
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	r := back.Rules[0]
	if r.ID != "dino" || len(r.Taxa) != 2 || r.Watch.CellsPerL() != 200 || r.Alert.CellsPerL() != 1000 || r.Source != `farm's "own" level` || back.Hysteresis != 0.3 || r.Verified != true {
		t.Errorf("read back %+v (hysteresis %v)\n%s", r, back.Hysteresis, data)
	}
}
