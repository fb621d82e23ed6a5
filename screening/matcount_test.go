//go:build !matprofile

package screening_test

// matProfile says whether gocv counts the Mats alive: build with -tags matprofile.
const matProfile = false

func matCount() int    { return 0 }
func matLeaks() string { return "" }
