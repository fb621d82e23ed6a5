package screening

import (
	"testing"

	"github.com/phytoscreen/phytoscreen/alerts"
)

// A rule that sums taxa marks the group's row (counted), not each member's (own); a
// rule on one taxon marks its own row.
func TestRowLevels(t *testing.T) {
	own, counted := RowLevels([]alerts.State{
		{Rule: "who", Level: alerts.Alert, Labels: []string{"Microcystis", "Cylindrospermopsis", "Nostoc"}},
		{Rule: "microcystis", Level: alerts.Watch, Labels: []string{"Microcystis"}},
		{Rule: "nostoc", Level: alerts.None, Labels: []string{"Nostoc"}},
	})
	for l, want := range map[string]alerts.Level{"Microcystis": alerts.Watch, "Cylindrospermopsis": alerts.None, "Nostoc": alerts.None} {
		if own[l] != want {
			t.Errorf("own level of %s: %v, want %v", l, own[l], want)
		}
	}
	for _, l := range []string{"Microcystis", "Cylindrospermopsis", "Nostoc"} {
		if counted[l] != alerts.Alert {
			t.Errorf("counted level of %s: %v, want alert (the sum rule counts it)", l, counted[l])
		}
	}
}
