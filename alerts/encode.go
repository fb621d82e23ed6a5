package alerts

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/BurntSushi/toml"
)

// Encode writes a ruleset as a rules file that Parse reads back to the same rules: what
// the app's rule editor saves, and the CLI's --rules reads.
func Encode(rs *Ruleset) ([]byte, error) {
	f := fileRuleset{Name: rs.Name, Description: rs.Description, Source: rs.Source}
	if rs.Hysteresis != DefaultHysteresis {
		h := rs.Hysteresis
		f.Hysteresis = &h
	}
	for i, r := range rs.Rules {
		fr := fileRule{Source: r.Source, Note: r.Note}
		if r.ID != fmt.Sprintf("%s:%d", rs.Name, i+1) { // an ID of its own, not the position's
			fr.ID = r.ID
		}
		if len(r.Taxa) == 1 {
			fr.Taxon = r.Taxa[0]
		} else {
			fr.Taxon = append([]string(nil), r.Taxa...)
		}
		// One unit for the rule's two levels: cells/mL only when both are in it.
		perML := (r.Watch == nil || r.Watch.Presence || r.Watch.Unit == PerML) && (r.Alert == nil || r.Alert.Presence || r.Alert.Unit == PerML) &&
			(r.Watch != nil && r.Watch.Unit == PerML || r.Alert != nil && r.Alert.Unit == PerML)
		if perML {
			fr.Unit = PerML
		}
		fr.Watch, fr.Alert = level(r.Watch, perML), level(r.Alert, perML)
		if !r.Verified {
			v := false
			fr.Verified = &v
		}
		f.Rule = append(f.Rule, fr)
	}
	var b bytes.Buffer
	b.WriteString("# Alert rules, as phytoscreen reads them (phytoscreen screen --rules FILE, or Settings › Alerts).\n")
	b.WriteString("# Levels are cells per litre unless unit = \"cells/mL\"; \"presence\" triggers on one cell.\n")
	enc := toml.NewEncoder(&b)
	enc.Indent = ""
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("write rules %s: %w", rs.Name, err)
	}
	return b.Bytes(), nil
}

// level is a threshold as a rules file writes it: a number in the rule's unit, or the
// text LevelText gives ("presence", "> NUMBER"); nil when the rule has no such level.
func level(t *Threshold, perML bool) any {
	switch {
	case t == nil:
		return nil
	case t.Presence || t.Above:
		return LevelText(t, perML)
	case perML:
		return t.CellsPerL() / 1000
	}
	return t.CellsPerL()
}

// LevelText writes a level as a rules file and the rule editor take it: "presence", a
// number in cells/L (or cells/mL when perML), or "> NUMBER" for one reached only above
// it; "" for no level.
func LevelText(t *Threshold, perML bool) string {
	switch {
	case t == nil:
		return ""
	case t.Presence:
		return Presence
	}
	v := t.CellsPerL()
	if perML {
		v /= 1000
	}
	return t.Marked(strconv.FormatFloat(v, 'f', -1, 64))
}
