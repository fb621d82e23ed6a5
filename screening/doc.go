// Package screening joins capture and inference into the screening workflow shared by
// the desktop app and the headless "screen" command: frames in, cells segmented,
// classified in batches and counted per taxon, concentrations in cells per litre with
// exact Poisson confidence intervals, and HAB alert levels out. It also holds the
// vocabulary of a screening session: the taxonomy that maps a pack's labels to display
// names and HAB groups, and the sample's metadata (volume examined, dilution factor).
package screening
