package app

import (
	"slices"
	"strings"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
)

// ruleStanding is a rule's standing on a stored sample's final figures: what History,
// the report, the counts CSV and a cut run's message say of it alike.
type ruleStanding struct {
	Bound   alerts.Bound
	Objects screening.Concentration // the objects of its labels
	Units   string                  // their units as counted ("colony", "filament/colony"), "" when none was
	// Measure is what the rule compares, in cells as the live run measures it
	// (screening.RuleMeasure), with the objects of unknown cells.
	Measure alerts.Measure
	// Oversize and Uncalibrated are the cells in objects over a tenth of their frame
	// and the objects estimated on uncalibrated frames, among the rule's taxa.
	Oversize     float64
	Uncalibrated int
	Level        alerts.Level // the level the final figures reach, no hysteresis
}

// ruleStandings measures each bound rule on a stored sample's counts.
func ruleStandings(c store.Counts, bound []alerts.Bound) []ruleStanding {
	out := make([]ruleStanding, 0, len(bound))
	for _, bd := range bound {
		var n, uncal, unknown int
		var cells, over float64
		var units []string
		for _, x := range c.Taxa {
			if slices.Contains(bd.Labels, x.Label) {
				if x.Count > 0 && !slices.Contains(units, x.Unit) {
					units = append(units, x.Unit)
				}
				n += x.Count
				cells += x.Cells
				over += x.OversizeCells
				uncal += x.Uncalibrated
				unknown += x.CellsUnknown
			}
		}
		objects := c.Sample.Concentration(n)
		m := screening.RuleMeasure(objects, cells)
		m.CellsUnknown = unknown
		out = append(out, ruleStanding{Bound: bd, Objects: objects, Units: strings.Join(units, "/"), Measure: m, Oversize: over, Uncalibrated: uncal, Level: bd.Rule.LevelOf(m)})
	}
	return out
}

// unchecked reports whether the rule cannot say the sample is below its levels
// (alerts.State.Unchecked).
func (s ruleStanding) unchecked() bool {
	return alerts.State{Level: s.Level, Value: s.Measure}.Unchecked()
}

// ruleRows is the standings as the counts CSV writes them, under the ruleset name.
func ruleRows(ss []ruleStanding, name string) []store.RuleRow {
	var out []store.RuleRow
	for _, s := range ss {
		r := s.Bound.Rule
		out = append(out, store.RuleRow{ID: r.ID, Name: r.Name(), Rules: name, Objects: s.Objects, Units: s.Units, Measure: s.Measure, Level: s.Level,
			Unchecked: s.unchecked(), Watch: r.Watch, Alert: r.Alert})
	}
	return out
}
