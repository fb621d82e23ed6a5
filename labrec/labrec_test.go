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

// A week runs from its Monday's midnight in the programme's zone: in Berlin week 49 of
// 2026 from 30 November 00:00 CET (29 November 23:00 UTC); a week across the change to
// summer time is 167 hours long, not 168. WeekOf reads t's own calendar: Monday 00:30
// in Berlin is week 49, though Sunday in UTC (helper-89).
func TestWeekInAZone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	w := Week{Year: 2026, Week: 49}
	if got, want := w.StartIn(berlin), time.Date(2026, 11, 29, 23, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("week 49 starts %v in Berlin, want %v", got, want)
	}
	if got, want := w.EndIn(berlin), time.Date(2026, 12, 6, 23, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("week 49 ends %v in Berlin, want %v", got, want)
	}
	if got := w.StartIn(nil); !got.Equal(w.Start()) {
		t.Errorf("week 49 starts %v with no zone, want %v (UTC)", got, w.Start())
	}
	// 29 March 2026: clocks go forward in Berlin.
	if d := (Week{2026, 13}).EndIn(berlin).Sub((Week{2026, 13}).StartIn(berlin)); d != 167*time.Hour {
		t.Errorf("week 13 of 2026 in Berlin lasts %v, want 167h", d)
	}
	taken := time.Date(2026, 11, 30, 0, 30, 0, 0, berlin)
	if got := WeekOf(taken); got != w {
		t.Errorf("WeekOf(Monday 00:30 CET) = %v, want %v", got, w)
	}
	if got := WeekOf(taken.UTC()); got != (Week{2026, 48}) {
		t.Errorf("WeekOf(Sunday 23:30 UTC) = %v, want 2026-W48", got)
	}
}
