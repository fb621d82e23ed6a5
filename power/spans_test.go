package power

import (
	"context"
	"math"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// The spans a run records add up to the window's energy and cells, to the microjoule, and
// carry the energy source.
func TestSpansAddUpToTheWindow(t *testing.T) {
	root := copyTree(t, "xeon-server")
	must(t, removeAll(filepath.Join(root, "class/hwmon")))
	pkg0 := "class/powercap/intel-rapl:0/energy_uj"
	writeAttr(t, root, pkg0, "1000")
	m, clk, _, _ := manualMeter(t, root)
	m.Start(context.Background())
	m.Begin()
	var spans []Span
	prev := m.Snapshot()
	for i, e := range []uint64{251_000, 1_000_003, 1_500_000} {
		clk.Advance(250 * time.Millisecond)
		writeAttr(t, root, pkg0, strconv.FormatUint(e, 10))
		for range i + 1 {
			m.Observe(batchOf(1))
		}
		m.Sample()
		s := m.Snapshot()
		sp, ok := spanBetween(prev, s)
		if !ok {
			t.Fatalf("step %d: no span", i)
		}
		spans = append(spans, sp)
		prev = s
	}
	end := m.End()
	var j float64
	var cells uint64
	for _, sp := range spans {
		j += sp.Joules
		cells += sp.Cells
		if sp.Source != end.Energy.Source || sp.Estimated || sp.Duration != 250*time.Millisecond {
			t.Errorf("span %+v", sp)
		}
		if math.Abs(sp.Watts-sp.Joules/0.25) > 1e-9 {
			t.Errorf("span watts %v for %v J over 250 ms", sp.Watts, sp.Joules)
		}
	}
	if micro(j) != micro(end.Energy.Joules) || micro(j) != 1_499_000 || cells != 6 || cells != end.Cells {
		t.Errorf("spans: %d µJ, %d cells; window: %d µJ, %d cells", micro(j), cells, micro(end.Energy.Joules), end.Cells)
	}
}

// RecordSpans emits on its interval and once more when its context ends.
func TestRecordSpansEmitsUntilCancelled(t *testing.T) {
	d := detectTree(t.TempDir()) // a machine with no sensor: the estimate is the total
	m := NewMeter(Config{Sensors: d.Sensors, Total: d.Total, Interval: time.Millisecond})
	m.Start(context.Background())
	defer m.Stop()
	m.Begin()
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var spans []Span
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.RecordSpans(ctx, 20*time.Millisecond, func(s Span) { mu.Lock(); spans = append(spans, s); mu.Unlock() })
	}()
	time.Sleep(120 * time.Millisecond)
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if len(spans) < 2 {
		t.Fatalf("%d spans over 120 ms at 20 ms", len(spans))
	}
	for _, s := range spans {
		if !s.Estimated || s.Source == "" {
			t.Errorf("span without a sensor must be an estimate with its source: %+v", s)
		}
	}
}

func batchOf(n int) Batch {
	return Batch{Cells: n, Latency: time.Millisecond}
}
