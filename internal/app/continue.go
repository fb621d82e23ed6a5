package app

import (
	"strings"

	"github.com/phytoscreen/phytoscreen/store"
	"github.com/phytoscreen/phytoscreen/vision"
)

// RunSettings are s with what run was screened with put back: its threshold, its alert
// rules (a preset or a rules file) and how it found objects (the thresholds, or with a
// learned detector), so a run taking it up (store.Continuation) adds to its sample
// under the same settings, which the store requires. The run's pack and model are the
// loaded classifier's: the caller checks or switches them.
func RunSettings(s Settings, run store.RunRow) Settings {
	s.Threshold = run.Threshold
	if run.Rules != "" {
		if preset, ok := strings.CutPrefix(run.Rules, "preset "); ok {
			s.Preset, s.RulesFile = preset, ""
		} else {
			s.RulesFile = run.Rules
		}
	}
	if _, name, ok := strings.Cut(run.Finder, " + detector "); ok {
		s.Detector = name
	} else if run.Finder == vision.FinderThresholds || run.Finder == vision.FinderCellImages {
		s.Detector = "" // one cell per image needs no detector either
	}
	return s
}
