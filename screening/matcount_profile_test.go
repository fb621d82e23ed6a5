//go:build matprofile

package screening_test

import (
	"bytes"

	"gocv.io/x/gocv"
)

// matProfile says whether gocv counts the Mats alive (the matprofile build tag).
const matProfile = true

// matCount is the number of Mats created and not yet closed.
func matCount() int { return gocv.MatProfile.Count() }

// matLeaks describes where the Mats alive were created.
func matLeaks() string {
	var b bytes.Buffer
	gocv.MatProfile.WriteTo(&b, 1)
	return b.String()
}
