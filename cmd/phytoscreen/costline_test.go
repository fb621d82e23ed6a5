package main

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/power"
)

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
