package assets

import (
	"embed"
	"io/fs"
	"slices"
	"strings"
)

//go:embed presets/*.toml
var presets embed.FS

// DefaultPreset names the alert preset for the built-in pack's HAB groups.
const DefaultPreset = "default"

// Presets returns the alert rule presets (one TOML file per preset, e.g. denmark.toml),
// built from ../shared/reference/hab-alert-thresholds.md; see presets/README.md.
func Presets() fs.FS { return mustSub(presets, "presets") }

// PresetNames lists the presets by name (the file name without .toml), sorted.
func PresetNames() []string {
	entries, _ := fs.ReadDir(presets, "presets") // embedded: cannot fail
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".toml"); ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}
