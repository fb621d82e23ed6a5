package power

import (
	"context"
	"math"
	"time"
)

// Span is the energy the machine used between two of the meter's snapshots in an open
// window, with the cells classified in it: one row of a run's power record.
type Span struct {
	Start     time.Time
	Duration  time.Duration
	Cells     uint64
	Joules    float64
	Watts     float64 // Joules / Duration
	Source    string  // the energy source, e.g. "rapl:package-0" or "estimate:cpu-time"
	Estimated bool    // an estimate, not a reading
}

// RecordSpans calls emit every interval while ctx lasts with the energy and cells since
// the previous call, and once more for the rest when ctx ends, so the spans add up to
// the window. It returns when ctx ends; call it on its own goroutine after Begin.
func (m *Meter) RecordSpans(ctx context.Context, interval time.Duration, emit func(Span)) {
	prev := m.Snapshot()
	t := time.NewTicker(interval)
	defer t.Stop()
	next := func() {
		s := m.Snapshot()
		if sp, ok := spanBetween(prev, s); ok {
			emit(sp)
		}
		prev = s
	}
	for {
		select {
		case <-ctx.Done():
			m.Sample()
			next()
			return
		case <-t.C:
			next()
		}
	}
}

// spanBetween is the span from snapshot a to b of the same window (false when nothing
// was measured between them).
func spanBetween(a, b Snapshot) (Span, bool) {
	d := b.Elapsed - a.Elapsed
	j := b.Energy.Joules - a.Energy.Joules
	if d <= 0 || math.IsNaN(j) || b.Cells < a.Cells {
		return Span{}, false
	}
	return Span{Start: b.Time.Add(-d), Duration: d, Cells: b.Cells - a.Cells, Joules: j, Watts: j / d.Seconds(),
		Source: b.Energy.Source, Estimated: b.Energy.Estimated}, true
}
