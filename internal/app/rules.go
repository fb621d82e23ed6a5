package app

import (
	"fmt"
	"slices"
	"strings"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/screening"
)

// LoadRules reads the rules file of the settings, or its preset, and binds it to the
// taxonomy. An unreadable file is an error naming it and the fix.
func LoadRules(s Settings, tx *screening.Taxonomy) (alerts.Binding, error) {
	if s.RulesFile != "" {
		rs, err := alerts.LoadFile(s.RulesFile)
		if err != nil {
			return alerts.Binding{}, fmt.Errorf("%w\nFix the file, or clear \"Rules file\" in Settings › Alerts to use the preset", err)
		}
		return rs.BindTo(tx, tx.Pack, s.RulesFile), nil
	}
	preset := s.Preset
	if preset == "" {
		preset = assets.DefaultPreset
	}
	rs, err := alerts.LoadPreset(assets.Presets(), preset)
	if err != nil {
		return alerts.Binding{}, fmt.Errorf("%w: choose one in Settings › Alerts", err)
	}
	b := rs.BindTo(tx, tx.Pack, "preset "+preset)
	if len(b.Bound) == 0 {
		b.Apply = PresetsFor(tx)
	}
	return b, nil
}

// PresetToFit is the preset to watch a newly chosen pack with: when the rules of s are a
// built-in preset none of whose rules can fire with the pack (tx) and another preset's
// can, that preset (the default one first, else the first that can); "" when the rules
// fit, are the lab's own file, or no preset fits. A technician who moved from the
// cyanobacteria pack back to the marine one screened a Noctiluca bloom under the WHO
// cyanobacteria preset: NOT CHECKED, where the default preset raised ALERT (helper-67).
func PresetToFit(s Settings, tx *screening.Taxonomy) string {
	if s.RulesFile != "" {
		return ""
	}
	if b, err := LoadRules(s, tx); err == nil && len(b.Bound) > 0 {
		return ""
	}
	can := PresetsFor(tx)
	if slices.Contains(can, assets.DefaultPreset) {
		return assets.DefaultPreset
	}
	if len(can) > 0 {
		return can[0]
	}
	return ""
}

// PresetsFor lists the built-in presets with at least one rule that can fire with the
// taxonomy's pack (who-cyanobacteria for the cyanobacteria pack), to offer when the
// chosen rules have none.
func PresetsFor(tx *screening.Taxonomy) []string {
	var out []string
	for _, name := range assets.PresetNames() {
		rs, err := alerts.LoadPreset(assets.Presets(), name)
		if err != nil {
			continue // the presets are checked by their tests
		}
		if bound, _ := rs.Bind(tx, tx.Pack); len(bound) > 0 {
			out = append(out, name)
		}
	}
	return out
}

// StoredRules turns the rules a run was stored with ("preset who-cyanobacteria", or a
// rules file's path) back into what alerts.Open and --rules take.
func StoredRules(stored string) string { return strings.Replace(stored, "preset ", "preset:", 1) }
