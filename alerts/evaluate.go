package alerts

import (
	"fmt"
	"strings"
	"time"

	"github.com/phytoscreen/phytoscreen/internal/sigfig"
)

// Measure is the value a rule is evaluated on: a count and its concentration.
type Measure struct {
	Count int     `json:"count"`
	PerL  float64 `json:"cells_per_l"`
	Low   float64 `json:"ci_low"`
	High  float64 `json:"ci_high"`
	// Cells, when above 0, is the number of cells estimated in the Count objects
	// because some are colonies, filaments or chains: PerL, Low and High are then
	// cells per litre from that estimate, not objects per litre.
	Cells float64 `json:"cells_estimate,omitempty"`
	// Oversize is the part of Cells in objects over a tenth of their frame that could
	// not be split (a mat of cells, or debris taken for a colony): the level rests on
	// them as much, and those frames need a look before the alert is acted on.
	Oversize float64 `json:"cells_in_oversize_objects,omitempty"`
	// Provisional says the volume is a share of the sample still being read (a folder
	// run under way): a level is then entered only when Low, the interval's lower bound,
	// reaches its threshold, so that a few cells in the first frames' small volume
	// raise nothing; a level entered is kept, as ever, while PerL stays above its
	// clearing point.
	Provisional bool `json:"provisional,omitempty"`
	// Early says the share read is still too small to enter a level on counts at all
	// (screening.MinProvisionalShare): frames are not independent draws from the
	// sample, since a colony, a clump or what settled first lands in one frame, so the
	// Poisson interval of the first frames' cells is far too narrow. A lone cell in the
	// first frame of 1,200 read as 1.2 M cells/L and raised ALERT on a sample whose
	// whole volume gave 5,000 (helper-41). Presence levels are not held back.
	Early bool `json:"early,omitempty"`
	// CellsUnknown counts the objects of a multi-cell unit (colonies, filaments, chains)
	// whose cells could not be estimated, counted one cell each: single-cell images carry
	// no size, and such a taxon has no cells per unit. A level reached is then reached on
	// a lower bound and stands; below every level the rule is not checked, not clear: a
	// folder of 39 Microcystis tiles read 390,000 cells/L against 20 M and said "no alert"
	// (helper-47).
	CellsUnknown int `json:"cells_unknown,omitempty"`
	// Limit is what one object counted stands for, per litre (the volume examined and
	// the factor's): the least concentration the sample can show, its detection limit.
	// 0 when unknown.
	Limit float64 `json:"detection_limit_per_l,omitempty"`
	// Guessed counts the unidentified objects (under the confidence threshold, not
	// reviewed) that the model guessed as the rule's taxa, GuessedCells the cells
	// estimated in them; IfGuessed is the measure with them counted as guessed: what the
	// review could make of the sample (State.ReviewTo). nil when none is.
	Guessed      int      `json:"unidentified_guessed,omitempty"`
	GuessedCells float64  `json:"unidentified_guessed_cells,omitempty"`
	IfGuessed    *Measure `json:"if_reviewed_as_guessed,omitempty"`
}

// reviewTo is the level measure m would reach with its unidentified objects counted as
// the model guessed (Measure.IfGuessed), when higher than level; None otherwise.
func reviewTo(r *Rule, level Level, m Measure) Level {
	if m.IfGuessed == nil {
		return None
	}
	if to := r.LevelOf(*m.IfGuessed); to > level {
		return to
	}
	return None
}

// ReviewText says the review's stake in one phrase, "" when there is none (ReviewTo
// None): "Cyanobacteria would reach WATCH (about 25,900,000 cells/L) were its 14
// unidentified objects (about 288 cells) what the model guessed"; fmtPerL writes the
// numbers as its caller does.
func (s State) ReviewText(fmtPerL func(float64) string) string {
	g := s.Value.IfGuessed
	if s.ReviewTo == None || g == nil {
		return ""
	}
	return fmt.Sprintf("%s would reach %s (about %s cells/L) were its %s what the model guessed",
		s.Taxon, strings.ToUpper(s.ReviewTo.String()), fmtPerL(sigfig.Round(g.PerL, 3)), s.Value.GuessedText(fmtPerL))
}

// GuessedText names the unidentified objects guessed as the rule's taxa: "14
// unidentified objects (about 288 cells)", the cells said where they are not one each.
func (m Measure) GuessedText(fmtPerL func(float64) string) string {
	objects := fmt.Sprintf("%d unidentified objects", m.Guessed)
	if m.Guessed == 1 {
		objects = "1 unidentified object"
	}
	if m.GuessedCells != float64(m.Guessed) {
		objects += fmt.Sprintf(" (about %s cells)", fmtPerL(m.GuessedCells))
	}
	return objects
}

// Unchecked reports whether the measure cannot say the rule is below its levels: its
// cells are not known (CellsUnknown) and no level was reached on the lower bound, or
// too little was examined to tell (TooLittleExamined).
func (s State) Unchecked() bool {
	return s.Level == None && (s.Value.CellsUnknown > 0 || s.TooLittleExamined())
}

// TooLittleExamined reports whether nothing of the rule's taxa was counted in a volume
// so small that one object would reach its first level in numbers (Counted): none
// counted there does not show the water below that level. One Noctiluca in 0.1 mL is
// 10,000 cells/L, the alert level, and a sample with none read "No alert: every watched
// HAB group below its trigger levels" (helper-72); one Alexandrium in a 1 mL chamber is
// 1,000 cells/L, over a 40 cells/L level. A presence level is what was seen in the
// volume examined. While a folder is read, Limit is the whole volume's (the pipeline's
// provisional measure), so the want of volume is said from the start.
func (s State) TooLittleExamined() bool {
	m := s.Value
	return s.Level == None && m.Count == 0 && m.Limit > 0 &&
		s.Counted != nil && s.Counted.ReachedBy(m.Limit)
}

// UncheckedText says which of states are Unchecked and why, with what to do; "" when
// none is. fmtPerL writes a concentration as its caller does. The command line,
// History and the report say it alike.
func UncheckedText(states []State, fmtPerL func(float64) string) string {
	var cells, volume []string
	for _, s := range states {
		switch {
		case !s.Unchecked():
		case s.Value.CellsUnknown > 0:
			cells = append(cells, fmt.Sprintf("%s (%d objects of unknown cells: %s cells/L counting one cell each)", s.Taxon, s.Value.CellsUnknown, fmtPerL(s.Value.PerL)))
		default:
			volume = append(volume, s.TooLittleText(fmtPerL))
		}
	}
	var out []string
	if len(cells) > 0 {
		out = append(out, strings.Join(cells, "; ")+". The levels are in cells, and these colonies, filaments or chains had no size to estimate their cells from (single-cell images): counted one cell each, they are a lower bound. Screen whole frames, with the µm per pixel, to check them.")
	}
	if len(volume) > 0 {
		out = append(out, strings.Join(volume, "; ")+". None counted in so little does not show the water below the level: examine more volume (a larger chamber, more fields, or the sample concentrated) to check it.")
	}
	return strings.Join(out, " ")
}

// UncheckedWhy says why the rule is not checked (Unchecked), for one rule alone: its
// objects of unknown cells, or the want of volume; "" when it is checked.
func (s State) UncheckedWhy(fmtPerL func(float64) string) string {
	switch {
	case !s.Unchecked():
		return ""
	case s.Value.CellsUnknown > 0:
		return fmt.Sprintf("%d objects of unknown cells (single-cell images: no size), counted one cell each: %s cells/L is a lower bound", s.Value.CellsUnknown, fmtPerL(s.Value.PerL))
	}
	rel := "at or over"
	if s.Counted.Above {
		rel = "over"
	}
	return fmt.Sprintf("none counted, and one cell in the volume examined is %s cells/L, %s its %s level %s: examine more volume",
		fmtPerL(s.Value.Limit), rel, strings.ToUpper(s.CountedLevel.String()), s.countedText(fmtPerL))
}

// countedText is the first level in numbers in cells/L: "1,000 cells/L", or "> 1,000
// cells/L" for one reached only above it.
func (s State) countedText(fmtPerL func(float64) string) string {
	return s.Counted.Marked(fmtPerL(s.Counted.CellsPerL()) + " cells/L")
}

// TooLittleText says why a rule that TooLittleExamined is not checked: "Noctiluca (none
// counted; one cell in the volume examined is 10,000 cells/L, its ALERT level 10,000
// cells/L)".
func (s State) TooLittleText(fmtPerL func(float64) string) string {
	return fmt.Sprintf("%s (none counted; one cell in the volume examined is %s cells/L, its %s level %s)",
		s.Taxon, fmtPerL(s.Value.Limit), strings.ToUpper(s.CountedLevel.String()), s.countedText(fmtPerL))
}

// State is a rule's current standing.
type State struct {
	Rule  string    `json:"rule"`
	Taxon string    `json:"taxon"`
	Level Level     `json:"level"`
	Peak  Level     `json:"peak"`  // highest level reached
	Since time.Time `json:"since"` // when Level was entered
	Value Measure   `json:"value"`
	// Threshold is the threshold of Level (nil at None).
	Threshold *Threshold `json:"threshold,omitempty"`
	// Next is the lowest threshold above Level, of level NextLevel: the next the rule can
	// reach (nil at its highest level), to say how close the sample is (Closeness).
	Next      *Threshold `json:"next,omitempty"`
	NextLevel Level      `json:"next_level,omitempty"`
	// Counted is the rule's lowest threshold in numbers, of level CountedLevel
	// (Rule.FirstCounted): what a count of none is weighed against (TooLittleExamined).
	Counted      *Threshold `json:"first_counted,omitempty"`
	CountedLevel Level      `json:"first_counted_level,omitempty"`
	Source       string     `json:"source"`
	Verified     bool       `json:"verified"`
	Labels       []string   `json:"labels"`
	// ReviewTo is the level the rule would reach were the unidentified objects the
	// model guessed as its taxa what it guessed (Value.IfGuessed), when higher than
	// Level; None otherwise. The sample stands below that level only because those
	// objects wait for review: the review decides (the summary said "18 unidentified
	// objects wait for review" beside "no alert", and which way it could go was left
	// to the reader).
	ReviewTo Level `json:"review_may_raise_to,omitempty"`
}

// Event is a change of a rule's level: an alert raised or escalated (To > From) or
// lowered or cleared (To < From). It says which rule, which value, which level, and the
// threshold with its source.
type Event struct {
	Time      time.Time `json:"time"`
	Rule      string    `json:"rule"`
	Taxon     string    `json:"taxon"`
	From      Level     `json:"from"`
	To        Level     `json:"to"`
	Value     Measure   `json:"value"`
	Threshold Threshold `json:"threshold"` // of To when raised, of From when lowered
	Source    string    `json:"source"`
	Verified  bool      `json:"verified"`
	Note      string    `json:"note,omitempty"`
}

// Raised reports whether the event raises the level.
func (e Event) Raised() bool { return e.To > e.From }

// Evaluator applies bound rules to successive measures. A level is entered as soon as
// its threshold is reached and left only when the value falls below the threshold by the
// hysteresis fraction (presence levels clear when the count returns to 0). It is not
// safe for concurrent use; the pipeline owns it.
type Evaluator struct {
	rules  []Bound
	margin float64
	states []State
}

// NewEvaluator starts every rule at None.
func NewEvaluator(rules []Bound, hysteresis float64) *Evaluator {
	e := &Evaluator{rules: rules, margin: hysteresis, states: make([]State, len(rules))}
	for i, b := range rules {
		e.states[i] = b.Rule.StateAt(None, Measure{})
		e.states[i].Labels = b.Labels
	}
	return e
}

// Rules returns the rules being evaluated.
func (e *Evaluator) Rules() []Bound { return e.rules }

// Update evaluates every rule on the measure of its labels and returns the level
// changes, in rule order.
func (e *Evaluator) Update(now time.Time, measure func(labels []string) Measure) []Event {
	return e.update(now, measure, e.margin)
}

// Settle evaluates every rule on the final measure of an ended run, without the
// hysteresis: the margin keeps a level from flapping while counts come in, but once
// they are all in, the sample's level is the one its final figures reach, as History
// and the report compute it (Rule.LevelOf). A run held at ALERT by the margin, its
// whole sample at 99.1 M cells/L against 100 M, ended saying ALERT on the terminal and
// WATCH in its report (helper-52). Peak keeps the highest level reached during the run.
func (e *Evaluator) Settle(now time.Time, measure func(labels []string) Measure) []Event {
	return e.update(now, measure, 0)
}

func (e *Evaluator) update(now time.Time, measure func(labels []string) Measure, margin float64) []Event {
	var events []Event
	for i := range e.rules {
		r := &e.rules[i].Rule
		st := &e.states[i]
		m := measure(e.rules[i].Labels)
		st.Value = m
		next := levelFor(r, st.Level, m, margin)
		st.NextLevel, st.Next = r.NextLevel(next)
		st.ReviewTo = reviewTo(r, next, m)
		if next == st.Level {
			continue
		}
		th := r.Threshold(max(next, st.Level))
		events = append(events, Event{Time: now, Rule: r.ID, Taxon: r.Name(), From: st.Level, To: next, Value: m,
			Threshold: *th, Source: r.Source, Verified: r.Verified, Note: r.Note})
		st.Level, st.Since = next, now
		st.Peak = max(st.Peak, next)
		st.Threshold = r.Threshold(next)
	}
	return events
}

// levelFor is the rule's level for measure m, coming from level cur: the highest level
// whose threshold m reaches, or, for levels up to cur, whose clearing point (the
// threshold lowered by margin) m still reaches.
func levelFor(r *Rule, cur Level, m Measure, margin float64) Level {
	out := None
	for _, l := range levels {
		th := r.Threshold(l)
		if th == nil {
			continue
		}
		if reaches(th, m, 0) || (l <= cur && reaches(th, m, margin)) {
			out = l
		}
	}
	return out
}

// reaches reports whether m reaches threshold th lowered by the fraction margin.
func reaches(th *Threshold, m Measure, margin float64) bool {
	if th.Presence {
		return m.Count > 0
	}
	if margin > 0 { // a level's clearing point: its threshold lowered by margin
		return m.PerL >= th.CellsPerL()*(1-margin)
	}
	if m.Provisional {
		return !m.Early && th.ReachedBy(m.Low)
	}
	return th.ReachedBy(m.PerL)
}

// Closeness is how far the state's value has come to its next level (State.Next): the
// value as a share of that threshold, and the level's name; ok is false where there is
// no next level or it is presence (a count either is there or not).
func (s State) Closeness() (share float64, next Level, ok bool) {
	if s.Next == nil || s.Next.Presence || s.Next.CellsPerL() <= 0 {
		return 0, None, false
	}
	return s.Value.PerL / s.Next.CellsPerL(), s.NextLevel, true
}

// Closest is the state nearest its next level (the largest Closeness share), with that
// share and the value in the level's own unit (cells/mL for a level in cells/mL); ok is
// false when no state has a next level in numbers. Below every level, a sample just
// under one must not read like an empty one.
func Closest(states []State) (s State, share, inUnit float64, ok bool) {
	best := -1
	for i := range states {
		sh, _, has := states[i].Closeness()
		if has && (best < 0 || sh > share) {
			best, share = i, sh
		}
	}
	if best < 0 {
		return State{}, 0, 0, false
	}
	s = states[best]
	inUnit = s.Value.PerL
	if s.Next.Unit == PerML {
		inUnit /= 1000
	}
	return s, share, inUnit, true
}

// Pending is the state whose concentration so far is past its next level while that
// level is held back because the sample is still being read (Measure.Provisional: too
// early to enter a level at all, or the interval's lower bound not yet there), the one
// furthest past; ok is false when none is. Below the levels such a state is not "below
// its thresholds": a banner said so at 486% of a watch level while the first tenth of
// a continued run was read (helper-54).
func Pending(states []State) (s State, share float64, ok bool) {
	for _, st := range states {
		sh, _, has := st.Closeness()
		// Past the level, not at it: a level reached only above its number ("> 1000")
		// is not held back at exactly 1,000, which no more frames would raise.
		if has && st.Value.Provisional && st.Next.ReachedBy(st.Value.PerL) && (!ok || sh > share) {
			s, share, ok = st, sh, true
		}
	}
	return s, share, ok
}

// States returns a copy of every rule's state, in rule order.
func (e *Evaluator) States() []State {
	out := make([]State, len(e.states))
	copy(out, e.states)
	return out
}

// ClosestText is Closest as one phrase, "Cyanobacteria at 18,600 of 20,000 cells/mL (93%
// of its watch level)", numbers formatted by num; "" when there is nothing to say.
func ClosestText(states []State, num func(float64) string) string {
	s, share, v, ok := Closest(states)
	if !ok || v == 0 {
		// Nothing counted under any rule: "Nearest: Noctiluca at 0 (0%)" said nothing
		// (helper-69).
		return ""
	}
	if s.Next.Above {
		// "100% of its watch level" beside "no alert" read as a contradiction where the
		// level is reached only above its number, and the sample stands at it (helper-79).
		of := "of its " + s.NextLevel.String() + " level, reached only above it"
		if share >= 1 {
			of = "at its " + s.NextLevel.String() + " level, which is reached only above it"
		} else {
			of = ShareText(share) + " " + of
		}
		return fmt.Sprintf("%s at %s of > %s %s (%s)", s.Taxon, num(v), num(s.Next.Value), s.Next.Unit, of)
	}
	return fmt.Sprintf("%s at %s of %s %s (%s of its %s level)", s.Taxon, num(v), num(s.Next.Value), s.Next.Unit, ShareText(share), s.NextLevel)
}

// ShareText reads a share of a level as a whole percentage, "under 1%" for a trace
// (0% would read as nothing found).
func ShareText(share float64) string {
	if share > 0 && share < 0.005 {
		return "under 1%"
	}
	return fmt.Sprintf("%.0f%%", 100*share)
}
