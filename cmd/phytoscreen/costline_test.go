package main

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/power"
)

// The Cost line says its latencies are per inference run, a batch of crops, with the
// crops per run and the time per cell: "p50 289.28 ms" alone read as per cell beside
// bench's and Settings' 7 to 11 ms per cell (helper-84).
func TestCostLineSaysLatencyPerRun(t *testing.T) {
	s := power.Snapshot{Cells: 62, Batches: 4, CellsPerSec: 150, CPUPercent: 110, RSS: 235 << 20,
		Latency: power.Latency{N: 4, P50: 289280 * time.Microsecond, P90: 479740 * time.Microsecond, P99: 500 * time.Millisecond, Mean: 310 * time.Millisecond},
		Energy:  power.Energy{Label: "estimate: CPU time x 10 W/core", Estimated: true, MeanWatts: 11, JoulesPerCell: 0.07, MarginalJoulesPerCell: math.NaN()}}
	line := costLine(s)
	want := "62 cells, 150.0 cells/s | latency per inference run (4 runs, 15.5 crops each on average): p50 289.28 ms p90 479.74 ms p99 500.00 ms; 20.00 ms per cell on average | CPU 110% | RSS 235 MB"
	if !strings.HasPrefix(line, want) {
		t.Errorf("cost line\n  %s\nwant it to begin\n  %s", line, want)
	}
	if strings.Count(line, "p50") != 1 || !strings.HasSuffix(line, "[estimate: CPU time x 10 W/core]") {
		t.Errorf("cost line %q: want one latency, and the meter's line around it", line)
	}

	// Before any run is timed there is no latency to say, nor crops per run.
	s.Latency, s.Batches, s.Cells = power.Latency{}, 0, 0
	if line := costLine(s); strings.Contains(line, "latency") || strings.Contains(line, "p50") || !strings.Contains(line, "0 cells, 150.0 cells/s | CPU 110%") {
		t.Errorf("cost line with no run: %q", line)
	}
}

// The JSON summary keeps its latency keys (scripts read them) and says what they time,
// with the crops per run and the time per cell beside them.
func TestCostJSONSaysLatencyPerRun(t *testing.T) {
	s := power.Snapshot{Cells: 30, Batches: 3, Latency: power.Latency{N: 3, P50: 90 * time.Millisecond, P90: 120 * time.Millisecond, P99: 120 * time.Millisecond, Mean: 100 * time.Millisecond},
		Energy: power.Energy{MarginalJoulesPerCell: math.NaN()}}
	b, err := json.Marshal(costOf(s))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]any{"latency_p50_ms": 90.0, "latency_p90_ms": 120.0, "latency_p99_ms": 120.0, "latency_per": "inference run",
		"inference_runs": 3.0, "crops_per_run": 10.0, "inference_ms_per_cell": 10.0} {
		if got[key] != want {
			t.Errorf("%s: %v, want %v\n%s", key, got[key], want, b)
		}
	}
	// No run: the figures are null, what they would time is still said.
	b, _ = json.Marshal(costOf(power.Snapshot{Energy: power.Energy{MarginalJoulesPerCell: math.NaN()}}))
	if s := string(b); !strings.Contains(s, `"latency_p50_ms":null`) || !strings.Contains(s, `"latency_per":"inference run","inference_runs":0,"crops_per_run":null,"inference_ms_per_cell":null`) {
		t.Errorf("cost with no run: %s", s)
	}
}
