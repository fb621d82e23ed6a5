package app

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/phytoscreen/phytoscreen/store"
)

// CutRunsText says, for each run a phytoscreen that was killed, crashed or lost its
// power left unended (store.EndCutRuns), what it kept and what it examined, and what to
// do: the app shows it at launch, screen prints it.
func CutRunsText(cut []store.CutRun) string {
	vol := func(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }
	var b strings.Builder
	for i, c := range cut {
		if i > 0 {
			b.WriteString("\n\n")
		}
		fmt.Fprintf(&b, "Sample %s: its run started at %s was cut off at %s, when phytoscreen stopped without ending it (killed, crashed or the power lost).\n",
			c.Sample, c.Started.Local().Format("2006-01-02 15:04"), c.Ended.Local().Format("15:04:05"))
		fmt.Fprintf(&b, "Kept: %d frames and %d objects, ", c.Frames, c.Objects)
		if c.VolumeML < c.VolumeGiven*(1-1e-9) {
			fmt.Fprintf(&b, "%s of the %s mL given examined; the sample is marked partial and its concentrations are on the volume examined.", vol(c.VolumeML), vol(c.VolumeGiven))
		} else {
			fmt.Fprintf(&b, "on the %s mL given (a source of unknown length): check the volume before trusting the concentrations.", vol(c.VolumeGiven))
		}
	}
	b.WriteString("\n\nHistory shows what was counted; export or report it as any sample. To count the whole sample, screen its frames again as a new sample and move this one to the trash.")
	return b.String()
}
