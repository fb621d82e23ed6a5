package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
)

// CutRunsText says, for each run a phytoscreen that was killed, crashed or lost its
// power left unended (store.EndCutRuns), what it kept, what it examined and the alert
// levels the sample stands at on that volume, and what to do: the app shows it at
// launch, screen prints it. The levels are said because no one was told: the run that
// would have raised them was gone (helper-42: a killed sample at ALERT in History whose
// alert never fired). continueHow is how the caller takes a folder's run up where it
// stopped: the command, or the app's button ("" when none of the runs can be).
func CutRunsText(ctx context.Context, st *store.Store, cut []store.CutRun, continueHow string) string {
	vol := func(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }
	var b strings.Builder
	for i, c := range cut {
		if i > 0 {
			b.WriteString("\n\n")
		}
		if c.Removed {
			fmt.Fprintf(&b, "Sample %s: its run started at %s was cut off (killed, crashed or the power lost) before it recorded a frame, and was removed",
				c.Sample, c.Started.Local().Format("2006-01-02 15:04"))
			if c.SampleKept {
				b.WriteString("; the sample keeps its earlier runs (a run taking up one that stopped can be started again).")
			} else {
				b.WriteString(": screen it again.")
			}
			continue
		}
		fmt.Fprintf(&b, "Sample %s: its run started at %s was cut off when phytoscreen stopped without ending it (killed, crashed or the power lost)",
			c.Sample, c.Started.Local().Format("2006-01-02 15:04"))
		if !c.LastWork.IsZero() {
			fmt.Fprintf(&b, "; it last classified cells at %s", c.LastWork.Local().Format("15:04:05"))
		}
		fmt.Fprintf(&b, ".\nKept: %d frames and %d objects, ", c.Frames, c.Objects)
		if c.Partial() {
			fmt.Fprintf(&b, "%s of the %s mL given examined; the sample is marked partial and its concentrations are on the volume examined.", vol(c.VolumeML), vol(c.VolumeGiven))
		} else {
			fmt.Fprintf(&b, "on the %s mL given (a source of unknown length): check the volume before trusting the concentrations.", vol(c.VolumeGiven))
		}
		if levels := cutLevels(ctx, st, c); len(levels) > 0 {
			fmt.Fprintf(&b, "\nOn what it examined, the sample stands at: %s.", strings.Join(levels, "; "))
		}
	}
	if !slices.ContainsFunc(cut, func(c store.CutRun) bool { return !c.Removed }) {
		return b.String() // nothing kept to say more of
	}
	b.WriteString("\n\nHistory shows what was counted; export or report it as any sample.")
	if continueHow != "" {
		b.WriteString(" To count the rest of a folder, take the run up where it stopped: " + continueHow + ".")
	}
	b.WriteString(" A video's sample is counted whole by screening it again as a new sample and moving this one to the trash.")
	return b.String()
}

// cutLevels is the levels above none that the rules a cut run was screened with give its
// sample now, on its own pack; nothing when they cannot be read again.
func cutLevels(ctx context.Context, st *store.Store, c store.CutRun) []string {
	levels, _ := sampleLevels(ctx, st, c.Sample, c.Rules) // none said when they cannot be worked out
	var out []string
	for _, l := range levels {
		out = append(out, l.String())
	}
	return out
}

// ruleLevel is a rule's level above none on a sample.
type ruleLevel struct {
	Level alerts.Level
	Rule  string
	PerL  float64
}

func (l ruleLevel) String() string {
	return message.NewPrinter(language.English).Sprintf("%s %s, %.0f cells/L", strings.ToUpper(l.Level.String()), l.Rule, l.PerL)
}

// sampleLevels is the levels above none that rules (as the store keeps them: "preset
// default" or a file's path) give a stored sample, on its own pack; an error when they
// cannot be worked out (the rules or the pack not at hand).
func sampleLevels(ctx context.Context, st *store.Store, sampleID, rules string) ([]ruleLevel, error) {
	ss, _, _, err := sampleStandings(ctx, st, sampleID, rules)
	if err != nil {
		return nil, err
	}
	return levelsAboveNone(ss), nil
}

// sampleStandings is each rule's standing on a stored sample under rules (as the store
// keeps them), bound to its own pack tx, and the rules' name: what its report says of it.
func sampleStandings(ctx context.Context, st *store.Store, sampleID, rules string) (ss []ruleStanding, name string, tx *screening.Taxonomy, err error) {
	if rules == "" {
		return nil, "", nil, errors.New("its rules were not recorded")
	}
	counts, tx, packErr, err := SampleCounts(ctx, st, sampleID)
	switch {
	case err != nil:
		return nil, "", nil, err
	case packErr != nil:
		return nil, "", nil, packErr
	case tx == nil:
		return nil, "", nil, errors.New("it holds no run")
	}
	bound, name, err := storedRulesBound(rules, tx)
	if err != nil {
		return nil, "", nil, err
	}
	return ruleStandings(counts, bound), name, tx, nil
}

// levelsAboveNone is the standings at a level above none.
func levelsAboveNone(ss []ruleStanding) []ruleLevel {
	var out []ruleLevel
	for _, s := range ss {
		if s.Level > alerts.None {
			out = append(out, ruleLevel{Level: s.Level, Rule: s.Bound.Rule.Name(), PerL: s.Measure.PerL})
		}
	}
	return out
}
