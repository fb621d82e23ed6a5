package power

import (
	"math"
	"strings"
	"testing"
	"time"
)

// Line says its latencies are per inference run, a batch of crops, with the
// crops per run and the time per cell: "p50 289.28 ms" alone read as per cell beside
// bench's and Settings' 7 to 11 ms per cell (helper-84).
func TestLineSaysLatencyPerRun(t *testing.T) {
	s := Snapshot{Cells: 62, Batches: 4, CellsPerSec: 150, CPUPercent: 110, RSS: 235 << 20,
		Latency: Latency{N: 4, P50: 289280 * time.Microsecond, P90: 479740 * time.Microsecond, P99: 500 * time.Millisecond, Mean: 310 * time.Millisecond},
		Energy:  Energy{Label: "estimate: CPU time x 10 W/core", Estimated: true, MeanWatts: 11, JoulesPerCell: 0.07, MarginalJoulesPerCell: math.NaN()}}
	line := s.Line()
	want := "62 cells, 150.0 cells/s | latency per inference run (4 runs, 15.5 crops each on average): p50 289.28 ms p90 479.74 ms p99 500.00 ms; 20.00 ms per cell on average | CPU 110% | RSS 235 MB"
	if !strings.HasPrefix(line, want) {
		t.Errorf("cost line\n  %s\nwant it to begin\n  %s", line, want)
	}
	if strings.Count(line, "p50") != 1 || !strings.HasSuffix(line, "[estimate: CPU time x 10 W/core]") {
		t.Errorf("cost line %q: want one latency, and the meter's line around it", line)
	}

	// Before any run is timed there is no latency to say, nor crops per run.
	s.Latency, s.Batches, s.Cells = Latency{}, 0, 0
	if line := s.Line(); strings.Contains(line, "latency") || strings.Contains(line, "p50") || !strings.Contains(line, "0 cells, 150.0 cells/s | CPU 110%") {
		t.Errorf("cost line with no run: %q", line)
	}
}
