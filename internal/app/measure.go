package app

import (
	"context"
	"time"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/bench"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/power"
)

// MeasureModels runs the quick benchmark: each model of the pack, single-stream (one
// cell at a time, as a live run classifies a trickle of cells), on the bundled sample
// images, with an idle baseline, with the thread count of the settings.
func MeasureModels(ctx context.Context, pack *inference.Pack, s Settings, dur time.Duration, progress func(done, total int)) ([]ModelCost, error) {
	crops, err := bench.LoadFS(assets.Samples(), "built-in samples")
	if err != nil {
		return nil, err
	}
	cfg := bench.Config{
		Pack: pack, Models: pack.Variants(), Threads: []int{ThreadsFor(s.Threads)}, Batches: []int{1},
		Scenarios: []bench.Scenario{bench.Single}, Stress: []int{0},
		Warmup: dur / 4, Idle: dur / 4, Duration: dur, Repeat: 1,
		Crops: crops, Accuracy: bench.CardAccuracy(pack), Power: power.Detect(power.Options{}),
		Progress: func(p bench.Progress) {
			done := p.Index
			if p.Result != nil {
				done++
			}
			if progress != nil {
				progress(done, p.Total)
			}
		},
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	results, err := bench.Run(ctx, cfg)
	if err != nil {
		return nil, err
	}
	var out []ModelCost
	for _, r := range results {
		out = append(out, ModelCost{Variant: inference.Variant(r.Model), Threads: r.Threads, P50Ms: r.P50, P90Ms: r.P90,
			CellsPerSec: r.CellsPerSec, JPerCell: r.JPerCell, EnergySource: r.EnergySource, Estimated: r.Estimated(), Measured: time.Now(),
			OtherCPUPercent: r.OtherCPUPercent})
	}
	return out, nil
}
