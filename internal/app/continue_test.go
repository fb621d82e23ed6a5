package app

import (
	"testing"

	"github.com/phytoscreen/phytoscreen/store"
	"github.com/phytoscreen/phytoscreen/vision"
)

// A continuation screens with what its run was screened with: threshold, rules (a
// preset or a file) and finder; the window's other settings stay.
func TestRunSettingsAreTheRuns(t *testing.T) {
	win := Settings{Threshold: 0.8, Preset: "default", RulesFile: "/rules/mine.toml", Detector: "brightfield-esp32-320", UmPerPx: 0.5}
	for _, c := range []struct {
		run                  store.RunRow
		preset, file, detect string
	}{
		{store.RunRow{Threshold: 0.5, Rules: "preset who-cyanobacteria", Finder: vision.FinderThresholds}, "who-cyanobacteria", "", ""},
		{store.RunRow{Threshold: 0.5, Rules: "/lab/pond.toml", Finder: vision.FinderThresholds + " + detector brightfield-esp32-320"}, "default", "/lab/pond.toml", "brightfield-esp32-320"},
		{store.RunRow{Threshold: 0.5, Rules: "preset default", Finder: vision.FinderCellImages}, "default", "", ""},
		{store.RunRow{Threshold: 0.5}, "default", "/rules/mine.toml", "brightfield-esp32-320"}, // a run from before rules and finder were kept
	} {
		got := RunSettings(win, c.run)
		if got.Threshold != 0.5 || got.Preset != c.preset || got.RulesFile != c.file || got.Detector != c.detect || got.UmPerPx != 0.5 {
			t.Errorf("run %+v: threshold %g, preset %q, file %q, detector %q, µm/px %g; want 0.5, %q, %q, %q, 0.5",
				c.run, got.Threshold, got.Preset, got.RulesFile, got.Detector, got.UmPerPx, c.preset, c.file, c.detect)
		}
	}
}
