package alerts

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

func TestEvaluatorHysteresis(t *testing.T) {
	watch := &Threshold{Value: 1000, Unit: PerL}
	alert := &Threshold{Value: 5000, Unit: PerL}
	rule := Rule{ID: "k", Taxa: []string{"Karenia brevis"}, Watch: watch, Alert: alert, Source: "FWC", Verified: true}
	cases := []struct {
		name   string
		values []float64
		levels []Level // level after each value
		events int
	}{
		{"escalates at once", []float64{0, 999, 1000, 5000}, []Level{None, None, Watch, Alert}, 2},
		{"jumps two levels in one event", []float64{0, 6000}, []Level{None, Alert}, 1},
		{"no flapping at the alert boundary", []float64{5000, 4999, 5001, 4100, 5000, 4001}, []Level{Alert, Alert, Alert, Alert, Alert, Alert}, 1},
		{"clears below the margin", []float64{5000, 3999}, []Level{Alert, Watch}, 2},
		{"clears two levels", []float64{5000, 100}, []Level{Alert, None}, 2},
		{"watch holds above 80%", []float64{1000, 801, 800, 799}, []Level{Watch, Watch, Watch, None}, 2},
		{"re-escalates", []float64{5000, 3000, 5000}, []Level{Alert, Watch, Alert}, 3},
	}
	for _, c := range cases {
		e := NewEvaluator([]Bound{{Rule: rule, Labels: []string{"karenia"}}}, 0.2)
		events := 0
		for i, v := range c.values {
			evs := e.Update(time.Unix(int64(i), 0), func(labels []string) Measure {
				if len(labels) != 1 || labels[0] != "karenia" {
					t.Fatalf("measured %v", labels)
				}
				return Measure{Count: int(v / 100), PerL: v}
			})
			events += len(evs)
			if got := e.States()[0].Level; got != c.levels[i] {
				t.Errorf("%s: after %v cells/L level %v, want %v", c.name, v, got, c.levels[i])
			}
			for _, ev := range evs {
				if ev.Source != "FWC" || ev.Rule != "k" || ev.Value.PerL != v {
					t.Errorf("%s: event %+v lacks rule, value or source", c.name, ev)
				}
				want := watch
				if max(ev.From, ev.To) == Alert {
					want = alert
				}
				if ev.Threshold != *want {
					t.Errorf("%s: event %v->%v carries threshold %v, want %v", c.name, ev.From, ev.To, ev.Threshold, *want)
				}
			}
		}
		if events != c.events {
			t.Errorf("%s: %d events, want %d", c.name, events, c.events)
		}
	}
}

func TestEvaluatorPresence(t *testing.T) {
	rule := Rule{ID: "a", Taxa: []string{"Alexandrium spp."}, Alert: &Threshold{Presence: true, Unit: Presence}, Source: "FSS"}
	e := NewEvaluator([]Bound{{Rule: rule, Labels: []string{"alex"}}}, 0.2)
	seq := []struct {
		count int
		want  Level
	}{{0, None}, {1, Alert}, {3, Alert}, {0, None}}
	for _, s := range seq {
		e.Update(time.Now(), func([]string) Measure { return Measure{Count: s.count, PerL: float64(s.count) * 1000} })
		if got := e.States()[0]; got.Level != s.want || got.Peak != Alert && s.count > 0 {
			t.Errorf("count %d: state %+v, want %v", s.count, got, s.want)
		}
	}
}

// LevelOf is the level a measure reaches on its own, with no hysteresis.
func TestLevelOf(t *testing.T) {
	r := Rule{Watch: &Threshold{Value: 20000, Unit: "cells/mL"}, Alert: &Threshold{Value: 100000, Unit: "cells/mL"}}
	for _, c := range []struct {
		perL float64
		want Level
	}{{1e6, None}, {2e7, Watch}, {5.387e7, Watch}, {1e8, Alert}, {1.38e8, Alert}} {
		if got := r.LevelOf(Measure{Count: 10, PerL: c.perL}); got != c.want {
			t.Errorf("%g cells/L: %v, want %v", c.perL, got, c.want)
		}
	}
	presence := Rule{Watch: &Threshold{Presence: true}}
	if presence.LevelOf(Measure{Count: 1}) != Watch || presence.LevelOf(Measure{}) != None {
		t.Error("a presence rule: one cell is present, none is not")
	}
}

// While a sample is still being read (Provisional), a level is entered on the interval's
// lower bound, and kept on the point value down to its clearing point.
func TestProvisionalEntersOnLowerBound(t *testing.T) {
	rs, err := Parse([]byte("source = \"s\"\n[[rule]]\ntaxon = \"x\"\nalert = 1000\n"), "t.toml")
	if err != nil {
		t.Fatal(err)
	}
	e := NewEvaluator([]Bound{{Rule: rs.Rules[0], Labels: []string{"x"}}}, 0.1)
	now := time.Now()
	for i, c := range []struct {
		m    Measure
		want Level
	}{
		{Measure{Count: 2, PerL: 2000, Low: 240, High: 7200, Provisional: true}, None}, // the point over, the bound under
		{Measure{Count: 12, PerL: 1500, Low: 1010, High: 2600, Provisional: true}, Alert},
		{Measure{Count: 12, PerL: 950, Low: 500, High: 1700, Provisional: true}, Alert}, // above the clearing point 900
		{Measure{Count: 12, PerL: 850, Low: 450, High: 1500, Provisional: true}, None},
		{Measure{Count: 2, PerL: 1000, Low: 120, High: 3600}, Alert}, // the ended sample: its value decides
	} {
		e.Update(now, func([]string) Measure { return c.m })
		if got := e.States()[0].Level; got != c.want {
			t.Errorf("step %d, %+v: %v, want %v", i, c.m, got, c.want)
		}
	}
}

// Early in a sample (too small a share read to enter a level on counts), no count level
// is entered however high the first frames' cells read, even with the interval's lower
// bound over the threshold; presence is said at once; once the share is no longer
// early, the lower bound decides as for any provisional measure, and a level entered is
// kept by the clearing point while Early never applies to it (helper-41: a lone cell in
// the first frame of 1,200 raised ALERT at 1.2 M cells/L).
func TestEarlyEntersNoCountLevel(t *testing.T) {
	rs, err := Parse([]byte("source = \"s\"\n[[rule]]\ntaxon = \"x\"\nwatch = 1000\nalert = 100000\n[[rule]]\ntaxon = \"y\"\nalert = \"presence\"\n"), "t.toml")
	if err != nil {
		t.Fatal(err)
	}
	e := NewEvaluator([]Bound{{Rule: rs.Rules[0], Labels: []string{"x"}}, {Rule: rs.Rules[1], Labels: []string{"y"}}}, 0.1)
	now := time.Now()
	for i, c := range []struct {
		m           Measure
		count, pres Level
	}{
		{Measure{Count: 40, PerL: 2e6, Low: 1.4e6, High: 2.7e6, Provisional: true, Early: true}, None, Alert},
		{Measure{Count: 40, PerL: 2e6, Low: 1.4e6, High: 2.7e6, Provisional: true}, Alert, Alert},                 // no longer early
		{Measure{Count: 40, PerL: 95000, Low: 68000, High: 130000, Provisional: true, Early: true}, Alert, Alert}, // kept above its clearing point
		{Measure{Count: 3, PerL: 5000, Low: 1000, High: 14600, Provisional: true}, Watch, Alert},
	} {
		e.Update(now, func(labels []string) Measure {
			if labels[0] == "y" {
				return Measure{Count: 1, PerL: 100, Provisional: true, Early: true}
			}
			return c.m
		})
		st := e.States()
		if st[0].Level != c.count || st[1].Level != c.pres {
			t.Errorf("step %d, %+v: count rule %v (want %v), presence rule %v (want %v)", i, c.m, st[0].Level, c.count, st[1].Level, c.pres)
		}
	}
}

// Closest picks the rule nearest its next level in that level's unit; a trace reads
// "under 1%", not 0%; with no level in numbers there is nothing to say.
func TestClosest(t *testing.T) {
	mk := func(perL float64, th Threshold) State {
		return State{Taxon: th.Unit, Value: Measure{PerL: perL}, Next: &th, NextLevel: Watch}
	}
	states := []State{mk(4000, Threshold{Value: 5000, Unit: PerL}), mk(19e6, Threshold{Value: 20000, Unit: PerML}),
		{Taxon: "presence", Next: &Threshold{Presence: true, Unit: Presence}}}
	s, share, v, ok := Closest(states)
	if !ok || s.Taxon != PerML || share != 0.95 || v != 19000 {
		t.Errorf("closest %q at %v (%v in its unit), ok %v; want the cells/mL rule at 0.95, 19000", s.Taxon, share, v, ok)
	}
	if got := ShareText(0.001); got != "under 1%" {
		t.Errorf("a trace reads %q", got)
	}
	if got := ShareText(0); got != "0%" {
		t.Errorf("nothing reads %q", got)
	}
	if _, _, _, ok := Closest(states[2:]); ok {
		t.Error("a presence rule alone: want nothing to say")
	}
}

// Settle, at the end of a run, drops the margin that held a level while counting: the
// sample's level is then the one its final figures reach (Rule.LevelOf), the peak stays.
func TestSettleDropsTheMargin(t *testing.T) {
	watch := &Threshold{Value: 20000, Unit: PerML}
	alert := &Threshold{Value: 100000, Unit: PerML}
	rule := Rule{ID: "cyano", Taxa: []string{"Cyanobacteria"}, Watch: watch, Alert: alert, Source: "WHO"}
	at := func(perL float64) func([]string) Measure {
		return func([]string) Measure { return Measure{Count: 412, PerL: perL} }
	}
	e := NewEvaluator([]Bound{{Rule: rule, Labels: []string{"m"}}}, 0.2)
	e.Update(time.Unix(1, 0), at(110e6))
	if evs := e.Update(time.Unix(2, 0), at(99.11e6)); len(evs) != 0 || e.States()[0].Level != Alert {
		t.Fatalf("while counting, 99.11 M cells/L under 100 M: level %v, events %v; want ALERT held by the margin", e.States()[0].Level, evs)
	}
	evs := e.Settle(time.Unix(3, 0), at(99.11e6))
	st := e.States()[0]
	if st.Level != Watch || st.Peak != Alert || st.Level != rule.LevelOf(Measure{Count: 412, PerL: 99.11e6}) {
		t.Errorf("settled at 99.11 M cells/L: level %v peak %v, want WATCH (LevelOf's) and peak ALERT", st.Level, st.Peak)
	}
	if len(evs) != 1 || evs[0].From != Alert || evs[0].To != Watch || st.Threshold == nil || *st.Threshold != *watch {
		t.Errorf("settling: events %+v, threshold %v; want one ALERT -> WATCH and the watch threshold", evs, st.Threshold)
	}
	if evs := e.Settle(time.Unix(4, 0), at(20e6)); len(evs) != 0 || e.States()[0].Level != Watch {
		t.Errorf("settled again at the watch threshold: level %v, events %v; want WATCH, no event", e.States()[0].Level, evs)
	}
}

// Pending is the state past its next level on a share still being read whose level is
// held back; a settled measure, or one under the level, is not pending.
func TestPending(t *testing.T) {
	watch := &Threshold{Value: 20000, Unit: PerML}
	st := func(perL float64, provisional bool) State {
		return State{Taxon: "Cyanobacteria", Next: watch, NextLevel: Watch, Value: Measure{PerL: perL, Provisional: provisional}}
	}
	if s, share, ok := Pending([]State{st(10e6, true), st(97.2e6, true), st(50e6, true)}); !ok || s.Value.PerL != 97.2e6 || math.Abs(share-4.86) > 1e-9 {
		t.Errorf("Pending = %v, %v, %v; want the one at 486%%", s.Value.PerL, share, ok)
	}
	for _, states := range [][]State{{st(97.2e6, false)}, {st(10e6, true)}, nil} {
		if _, _, ok := Pending(states); ok {
			t.Errorf("Pending(%+v) found one", states)
		}
	}
}

// None counted where one object would reach the first level does not show the water
// below it: not checked, saying why (helper-72: one Noctiluca in 0.1 mL is the alert
// level, and a sample with none read "below its trigger levels").
func TestTooLittleExamined(t *testing.T) {
	alert := &Threshold{Value: 10000, Unit: PerL}
	at := func(count int, limit float64, counted *Threshold, provisional bool) State {
		return State{Taxon: "Noctiluca", Level: None, Value: Measure{Count: count, Limit: limit, Provisional: provisional}, Counted: counted, CountedLevel: Alert}
	}
	for _, c := range []struct {
		name string
		s    State
		want bool
	}{
		{"none in 0.1 mL, one is the alert level", at(0, 10000, alert, false), true},
		{"none in 0.2 mL, one is half the level", at(0, 5000, alert, false), false},
		{"one counted: its figure stands", at(1, 10000, alert, false), false},
		{"a folder still being read (Limit the whole volume's)", at(0, 10000, alert, true), true},
		{"presence levels alone: none seen is what they ask", at(0, 10000, nil, false), false},
		{"no volume known", at(0, 0, alert, false), false},
		{"at its highest level already", State{Level: Alert, Value: Measure{Limit: 1e9}}, false},
	} {
		if got := c.s.TooLittleExamined(); got != c.want || c.s.Unchecked() != c.want {
			t.Errorf("%s: too little %v, unchecked %v; want %v", c.name, got, c.s.Unchecked(), c.want)
		}
	}
	// The default rule for Noctiluca: watch at presence, alert at 10,000 cells/L. Its
	// first level in numbers is the alert.
	r := Rule{Taxa: []string{"Noctiluca"}, Watch: &Threshold{Presence: true, Unit: Presence}, Alert: alert}
	if l, th := r.FirstCounted(); l != Alert || th != alert {
		t.Errorf("first counted level %v %v, want the alert", l, th)
	}
	text := UncheckedText([]State{at(0, 10000, alert, false)}, func(v float64) string { return fmt.Sprintf("%.0f", v) })
	want := "Noctiluca (none counted; one cell in the volume examined is 10000 cells/L, its ALERT level 10000 cells/L). None counted in so little does not show the water below the level: examine more volume"
	if !strings.HasPrefix(text, want) {
		t.Errorf("unchecked text\n%q\nwant it to begin\n%q", text, want)
	}
}

// A rule below its levels whose unidentified objects, counted as the model guessed,
// would reach one says so (ReviewTo, ReviewText), in the evaluator and in StateAt alike;
// a guess that reaches no higher level, or one already reached, says nothing.
func TestReviewTo(t *testing.T) {
	r := Rule{ID: "cyanobacteria", Taxa: []string{"Microcystis"}, Watch: &Threshold{Value: 20000, Unit: PerML}, Alert: &Threshold{Value: 100000, Unit: PerML}}
	guessed := func(perL float64) Measure {
		g := Measure{Count: 48, PerL: perL, Cells: 1000}
		return Measure{Count: 34, PerL: 18.7e6, Cells: 749, Guessed: 14, GuessedCells: 288, IfGuessed: &g}
	}
	num := func(v float64) string { return fmt.Sprintf("%.0f", v) }
	for _, c := range []struct {
		name  string
		m     Measure
		want  Level
		level Level
	}{
		{"the guesses reach watch", guessed(25.9e6), Watch, None},
		{"the guesses reach alert", guessed(130e6), Alert, None},
		{"the guesses stay under watch", guessed(19e6), None, None},
		{"nothing unidentified", Measure{Count: 34, PerL: 18.7e6}, None, None},
	} {
		ev := NewEvaluator([]Bound{{Rule: r, Labels: []string{"Microcystis"}}}, 0.2)
		ev.Settle(time.Time{}, func([]string) Measure { return c.m })
		st := ev.States()[0]
		at := r.StateAt(r.LevelOf(c.m), c.m)
		if st.Level != c.level || st.ReviewTo != c.want || at.ReviewTo != c.want {
			t.Errorf("%s: level %v, review to %v (StateAt %v); want %v, %v", c.name, st.Level, st.ReviewTo, at.ReviewTo, c.level, c.want)
		}
		if text := st.ReviewText(num); (text != "") != (c.want != None) {
			t.Errorf("%s: review text %q", c.name, text)
		}
	}
	ev := NewEvaluator([]Bound{{Rule: r, Labels: []string{"Microcystis"}}}, 0.2)
	ev.Settle(time.Time{}, func([]string) Measure { return guessed(25.9e6) })
	want := "Cyanobacteria would reach WATCH (about 25900000 cells/L) were its 14 unidentified objects (about 288 cells) what the model guessed"
	if got := ev.States()[0].ReviewText(num); !strings.HasSuffix(got, want[len("Cyanobacteria"):]) {
		t.Errorf("review text\n%q\nwant it to end\n%q", got, want[len("Cyanobacteria"):])
	}
	// Already at watch, the guesses reaching watch again raise nothing.
	m := guessed(25.9e6)
	m.PerL = 21e6
	if st := r.StateAt(r.LevelOf(m), m); st.Level != Watch || st.ReviewTo != None {
		t.Errorf("at watch, guesses at watch: level %v, review to %v; want watch, none", st.Level, st.ReviewTo)
	}
}

// A level written "> 1000" is reached above 1,000 cells/L, not at it: Florida's "very
// low" starts above 1,000, and one Karenia in a 1 mL chamber, 1,000 cells/L exactly, is
// background. A level written as a number is reached at it, as before.
func TestAboveThreshold(t *testing.T) {
	rs, err := Parse([]byte("source = \"s\"\n[[rule]]\ntaxon = \"Karenia brevis\"\nwatch = \"> 1000\"\nalert = 5000\n"+
		"[[rule]]\ntaxon = \"Dinophysis\"\nunit = \"cells/mL\"\nwatch = \">0.2\"\nalert = \" > 1 \"\n"), "fl.toml")
	if err != nil {
		t.Fatal(err)
	}
	kb, dino := &rs.Rules[0], &rs.Rules[1]
	if !kb.Watch.Above || kb.Alert.Above || kb.Watch.String() != "> 1000 cells/L" || kb.Alert.String() != "5000 cells/L" {
		t.Fatalf("Karenia's levels read %q (above %v) and %q (above %v)", kb.Watch, kb.Watch.Above, kb.Alert, kb.Alert.Above)
	}
	if !dino.Watch.Above || !dino.Alert.Above || dino.Alert.CellsPerL() != 1000 || dino.Alert.String() != "> 1 cells/mL" {
		t.Fatalf("Dinophysis' levels read %q and %q", dino.Watch, dino.Alert)
	}
	for _, c := range []struct {
		rule *Rule
		perL float64
		want Level
	}{
		{kb, 999, None}, {kb, 1000, None}, {kb, 1000.5, Watch}, {kb, 4999, Watch}, {kb, 5000, Alert},
		{dino, 200, None}, {dino, 201, Watch}, {dino, 1000, Watch}, {dino, 1001, Alert},
	} {
		if got := c.rule.LevelOf(Measure{Count: 1, PerL: c.perL}); got != c.want {
			t.Errorf("%s at %v cells/L: %v, want %v", c.rule.Name(), c.perL, got, c.want)
		}
	}
	// While a folder is read, the interval's lower bound must pass it too.
	ev := NewEvaluator([]Bound{{Rule: *kb, Labels: []string{"kb"}}}, 0.2)
	at := func(m Measure) []Event { return ev.Update(time.Time{}, func([]string) Measure { return m }) }
	if e := at(Measure{Count: 3, PerL: 3000, Low: 1000, Provisional: true}); len(e) != 0 {
		t.Errorf("a lower bound at the level entered it: %+v", e)
	}
	if e := at(Measure{Count: 3, PerL: 3000, Low: 1001, Provisional: true}); len(e) != 1 || e[0].To != Watch {
		t.Errorf("a lower bound over the level: %+v", e)
	}
	// The clearing point is the threshold lowered by the margin, as for any level.
	if e := at(Measure{Count: 1, PerL: 800}); len(e) != 0 {
		t.Errorf("800 cells/L, within the margin, cleared the watch: %+v", e)
	}
	if e := at(Measure{Count: 1, PerL: 799}); len(e) != 1 || e[0].To != None {
		t.Errorf("799 cells/L, under the margin, kept the watch: %+v", e)
	}
	// None counted in 1 mL (one cell is 1,000 cells/L): the level, reached only above
	// 1,000, is checked; in 0.5 mL (one cell is 2,000) it is not.
	for _, c := range []struct {
		limit float64
		want  bool
	}{{1000, false}, {2000, true}} {
		st := kb.StateAt(None, Measure{Limit: c.limit})
		if got := st.TooLittleExamined(); got != c.want {
			t.Errorf("none counted, one cell = %v cells/L: too little examined %v, want %v", c.limit, got, c.want)
		}
	}
	// At the number the sample stands below the level: not "100% of its watch level",
	// nor held back while a folder is read (helper-79).
	num := func(v float64) string { return fmt.Sprintf("%.0f", v) }
	atNumber := kb.StateAt(None, Measure{Count: 1, PerL: 1000, Low: 25, Provisional: true})
	if got := ClosestText([]State{atNumber}, num); got != "Karenia brevis at 1000 of > 1000 cells/L (at its watch level, which is reached only above it)" {
		t.Errorf("nearest at the number: %q", got)
	}
	if _, _, ok := Pending([]State{atNumber}); ok {
		t.Error("a provisional value at the number of a level reached only above it is held back")
	}
	half := kb.StateAt(None, Measure{Count: 1, PerL: 500})
	if got := ClosestText([]State{half}, num); got != "Karenia brevis at 500 of > 1000 cells/L (50% of its watch level, reached only above it)" {
		t.Errorf("nearest at half the number: %q", got)
	}
	if over := kb.StateAt(None, Measure{Count: 2, PerL: 2000, Low: 1500, Provisional: true}); func() bool { _, _, ok := Pending([]State{over}); return !ok }() {
		t.Error("a provisional value over the level is not said held back")
	}
	thin := kb.StateAt(None, Measure{Limit: 2000})
	if got := thin.UncheckedWhy(num); !strings.Contains(got, "is 2000 cells/L, over its WATCH level > 1000 cells/L") {
		t.Errorf("unchecked: %q", got)
	}
	if got := thin.TooLittleText(num); !strings.Contains(got, "its WATCH level > 1000 cells/L)") {
		t.Errorf("too little examined: %q", got)
	}
	// Other comparisons are refused with the fix.
	for _, v := range []string{`">= 1000"`, `"> 1,000"`, `"> 0"`, `"> -5"`, `">"`, `"< 1000"`, `"> nan"`} {
		_, err := Parse([]byte("source = \"s\"\n[[rule]]\ntaxon = \"K\"\nwatch = "+v+"\n"), "bad.toml")
		if err == nil || !strings.Contains(err.Error(), "bad.toml line 4") {
			t.Errorf("watch = %s: %v", v, err)
		}
	}
}

// A level's text is read back as it was written: the session store and the lab server
// keep String's text, and the History and weekly report read "above" from it.
func TestLevelTextReadBack(t *testing.T) {
	for _, th := range []Threshold{
		{Value: 1000, Unit: PerL, Above: true}, {Value: 1000, Unit: PerL}, {Value: 0.2, Unit: PerML, Above: true},
		{Presence: true, Unit: Presence},
	} {
		for _, text := range []string{th.String(), th.Marked("1,000 cells/L"), LevelText(&th, false)} {
			if got := IsAboveText(text); got != th.Above {
				t.Errorf("%q read above %v, written from a threshold above %v", text, got, th.Above)
			}
		}
	}
	if got := (Threshold{Above: true}).Marked("1,000"); got != "> 1,000" {
		t.Errorf("an above level marked %q, want \"> 1,000\"", got)
	}
}
