package labrec

import (
	"testing"
	"time"
)

// ISO weeks: week 1 holds 4 January, weeks start on Monday, some years have 53 weeks,
// and text that is not a week is refused with the form to use.
func TestWeeks(t *testing.T) {
	for _, c := range []struct {
		in    string
		start string
	}{
		{"2026-W48", "2026-11-23"}, {"2026W01", "2025-12-29"}, {"2020-W53", "2020-12-28"}, {"2021-W01", "2021-01-04"},
	} {
		w, err := ParseWeek(c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if got := w.Start().Format("2006-01-02"); got != c.start {
			t.Errorf("%s starts %s, want %s", c.in, got, c.start)
		}
		if WeekOf(w.Start()) != w || WeekOf(w.End().Add(-time.Nanosecond)) != w || WeekOf(w.End()) == w {
			t.Errorf("%s: its bounds are not its own (%v .. %v)", c.in, w.Start(), w.End())
		}
	}
	for _, bad := range []string{"", "48", "2026-48", "2026-W0", "2026-W54", "2025-W53", "W48-2026", "2026-W01-3", "2026-W48x", "02026-W48"} { // a day, or more, after the week (helper-63)
		if _, err := ParseWeek(bad); err == nil {
			t.Errorf("week %q was accepted", bad)
		}
	}
}
