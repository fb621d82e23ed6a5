package app

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/labrec"
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
				n += x.Count
				cells += x.Cells
				over += x.OversizeCells
				uncal += x.Uncalibrated
				unknown += x.CellsUnknown
			}
		}
		// The units in the order the rule binds its labels (the pack's), not the
		// counts' (most numerous first): one rule's rows read "filament/colony" and
		// "colony/filament" (helper-70).
		for _, l := range bd.Labels {
			for _, x := range c.Taxa {
				if x.Label == l && x.Count > 0 && !slices.Contains(units, x.Unit) {
					units = append(units, x.Unit)
				}
			}
		}
		objects := c.Sample.Concentration(n)
		m := screening.RuleMeasure(objects, cells)
		m.CellsUnknown = unknown
		gn, gc := screening.GuessedOf(c.Guessed, bd.Labels)
		m = screening.WithGuessed(m, c.Sample.Sample, n, cells, gn, gc)
		out = append(out, ruleStanding{Bound: bd, Objects: objects, Units: strings.Join(units, "/"), Measure: m, Oversize: over, Uncalibrated: uncal, Level: bd.Rule.LevelOf(m)})
	}
	return out
}

// unchecked reports whether the rule cannot say the sample is below its levels
// (alerts.State.Unchecked).
func (s ruleStanding) unchecked() bool { return s.state().Unchecked() }

// state is the rule's standing as the alerts package judges it.
func (s ruleStanding) state() alerts.State { return s.Bound.Rule.StateAt(s.Level, s.Measure) }

// ruleRows is the standings as the counts CSV writes them, under the ruleset name, of
// the pack of tx; when none of its rules applies to the pack, the one row that says so.
// A rule of nothing counted has the units its taxa count in, as its group row has
// (helper-71: empty).
func ruleRows(ss []ruleStanding, name string, tx *screening.Taxonomy) []store.RuleRow {
	if len(ss) == 0 {
		return []store.RuleRow{{Rules: name, NotChecked: noRuleApplies(name, tx.Pack)}}
	}
	var out []store.RuleRow
	for _, s := range ss {
		r := s.Bound.Rule
		units := s.Units
		if units == "" {
			var us []string
			for _, l := range s.Bound.Labels {
				if x, ok := tx.Lookup(l); ok && !slices.Contains(us, x.Unit) {
					us = append(us, x.Unit)
				}
			}
			units = strings.Join(us, "/")
		}
		out = append(out, store.RuleRow{ID: r.ID, Name: r.Name(), Rules: name, Objects: s.Objects, Units: units, Measure: s.Measure, Level: s.Level,
			Unchecked: s.unchecked(), ReviewTo: s.state().ReviewTo, Watch: r.Watch, Alert: r.Alert})
	}
	return out
}

// PackStanding works out, for the lab server's tallies (Store.SetStandingOf), where a
// stored sample stands against the alert rules of its last run, bound to that run's
// pack, on the counts the tally holds: the weekly report gave the highest level raised
// while counting instead, and "all below trigger levels" for a sample no rule applied
// to (helper-70). Each pack's taxonomy is loaded once. nil when the pack or the rules
// are not at hand (the server then says the bench did not work it out).
func PackStanding() func(store.Counts) *labrec.Standing {
	var mu sync.Mutex
	taxa := map[string]*screening.Taxonomy{}
	return func(c store.Counts) *labrec.Standing {
		if len(c.Sample.Runs) == 0 {
			return nil
		}
		last := c.Sample.Runs[len(c.Sample.Runs)-1]
		if last.Rules == "" {
			return nil // recorded before runs kept their rules
		}
		mu.Lock()
		tx, ok := taxa[last.Pack]
		if !ok {
			var err error
			if tx, err = packTaxonomy(last.Pack); err != nil {
				tx = nil
			}
			taxa[last.Pack] = tx
		}
		mu.Unlock()
		if tx == nil {
			return nil
		}
		bound, name, err := storedRulesBound(last.Rules, tx)
		if err != nil {
			return nil
		}
		return standingOf(ruleStandings(c, bound), name, tx.Pack)
	}
}

// storedRulesBound opens rules as a run stored them ("preset default", a file's path)
// and binds them to tx, returning their name.
func storedRulesBound(rules string, tx *screening.Taxonomy) ([]alerts.Bound, string, error) {
	rs, name, err := alerts.Open(StoredRules(rules), assets.Presets())
	if err != nil {
		return nil, "", err
	}
	return rs.BindTo(tx, tx.Pack, name).Bound, name, nil
}

// noRuleApplies says that none of the rules named applies to pack.
func noRuleApplies(rules, pack string) string {
	return fmt.Sprintf("no rule of %s applies to pack %s", rules, pack)
}

// standingOf is the sample's standing from its rules' (rules, bound to pack): the
// highest level and the rule at it (below every level, the rule nearest its next level
// and its value), or NotChecked with why.
func standingOf(ss []ruleStanding, rules, pack string) *labrec.Standing {
	st := &labrec.Standing{Rules: rules, Level: alerts.None.String()}
	if len(ss) == 0 {
		st.Level, st.Why = labrec.NotChecked, noRuleApplies(rules, pack)
		return st
	}
	top, unknown := alerts.None, 0
	var few []string
	for _, s := range ss {
		if s.Level > top {
			top = s.Level
			st.Level, st.Rule, st.PerL = s.Level.String(), s.Bound.Rule.Name(), s.Measure.PerL
		}
		switch {
		case !s.unchecked():
		case s.Measure.CellsUnknown > 0:
			unknown = max(unknown, s.Measure.CellsUnknown) // rules may share taxa: not added up
		default:
			few = append(few, s.state().TooLittleText(perLitre))
		}
	}
	switch {
	case top != alerts.None:
	case unknown > 0:
		st.Level, st.Why = labrec.NotChecked, fmt.Sprintf("the cells of %d colonies, filaments or chains are unknown (single-cell images: no size)", unknown)
	case len(few) > 0:
		st.Level, st.Why = labrec.NotChecked, "too little examined: "+strings.Join(few, "; ")
	}
	if st.Level == alerts.None.String() {
		// Below every level: the rule nearest its next one, and its value, so that a
		// programme's database reads the figure under the level too (it read 0 cells/L
		// for every sample below its levels, helper-76). Not where it is not checked:
		// there the value is a lower bound, or nothing was counted.
		states := make([]alerts.State, len(ss))
		for i, s := range ss {
			states[i] = s.state()
		}
		if c, _, _, ok := alerts.Closest(states); ok {
			st.Rule, st.PerL = c.Taxon, c.Value.PerL
		}
	}
	if st.Level != labrec.NotChecked {
		// A level the review of the unidentified objects could raise, at none or above
		// one already raised: said, as the report and the app say it (helper-77: the
		// weekly report read "all below"; helper-78: WATCH that could be ALERT).
		var review []string
		for _, s := range ss {
			if text := s.state().ReviewText(perLitre); text != "" {
				review = append(review, text)
			}
		}
		if len(review) > 0 {
			st.Why = "review decides: " + strings.Join(review, "; ")
		}
	}
	return st
}
