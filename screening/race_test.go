//go:build race

package screening

// raceEnabled reports a -race build (slow end-to-end tests skip themselves).
const raceEnabled = true
