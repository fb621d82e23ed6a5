package app

import (
	"fmt"

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
	return rs.BindTo(tx, tx.Pack, "preset "+preset), nil
}
