package power

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fakeProc is a process whose CPU time and memory the test sets.
type fakeProc struct {
	mu sync.Mutex
	st ProcStats
}

func (p *fakeProc) read() (ProcStats, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.st, nil
}

func (p *fakeProc) set(cpu time.Duration, rss uint64) {
	p.mu.Lock()
	p.st.CPU, p.st.RSS = cpu, rss
	p.mu.Unlock()
}

// manualMeter is a meter over one fake tree's chosen total, sampled by hand on a fake clock.
func manualMeter(t *testing.T, root string) (*Meter, *fakeClock, *fakeProc, Detection) {
	t.Helper()
	d := detectTree(root)
	clk := &fakeClock{t: time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)}
	proc := &fakeProc{st: ProcStats{CPU: time.Second, RSS: 100 << 20}}
	m := NewMeter(Config{Sensors: d.Sensors, Total: d.Total, Interval: -1, Window: 2 * time.Second,
		Now: clk.Now, Proc: proc.read,
		Sleep: func(_ context.Context, d time.Duration) error { clk.Advance(d); return nil }})
	return m, clk, proc, d
}

func micro(j float64) int64 { return int64(math.Round(j * 1e6)) }

// TestMeterCounterWrap runs the meter over a RAPL package counter that wraps between two
// samples: the energy must be right to the microjoule.
func TestMeterCounterWrap(t *testing.T) {
	root := copyTree(t, "xeon-server")
	// Make the package counters the total: remove the board-level power meter.
	must(t, removeAll(filepath.Join(root, "class/hwmon")))
	const max = 262143328850
	pkg0 := "class/powercap/intel-rapl:0/energy_uj"
	writeAttr(t, root, pkg0, strconv.FormatUint(max-850, 10))
	m, clk, _, d := manualMeter(t, root)
	if d.Total.Name() != "rapl:package-0 + rapl:package-0/dram + rapl:package-1" {
		t.Fatalf("total %s", d.Total.Name())
	}
	m.Start(context.Background())
	m.Begin()
	steps := []struct{ pkg0, pkg1, dram uint64 }{
		{1150, 139001233207 + 700, 20937112904 + 300}, // package-0 wraps: 850 + 1150 = 2000 µJ
		{1150 + 4_000_001, 139001233207 + 900, 20937112904 + 300},
	}
	for _, s := range steps {
		clk.Advance(100 * time.Millisecond)
		writeAttr(t, root, pkg0, strconv.FormatUint(s.pkg0, 10))
		writeAttr(t, root, "class/powercap/intel-rapl:1/energy_uj", strconv.FormatUint(s.pkg1, 10))
		writeAttr(t, root, "class/powercap/intel-rapl:0:0/energy_uj", strconv.FormatUint(s.dram, 10))
		m.Sample()
	}
	snap := m.End()
	per := map[string]int64{}
	for _, s := range snap.Sensors {
		per[s.ID] = micro(s.Joules)
	}
	if per["rapl:package-0"] != 2000+4_000_001 || per["rapl:package-1"] != 900 || per["rapl:package-0/dram"] != 300 {
		t.Errorf("per-sensor µJ %v, want package-0 4002001, package-1 900, dram 300", per)
	}
	if got := micro(snap.Energy.Joules); got != 4002001+900+300 {
		t.Errorf("total %d µJ, want 4003201", got)
	}
	if snap.Energy.Estimated {
		t.Error("RAPL total marked as an estimate")
	}
	if len(snap.Problems) != 0 {
		t.Errorf("problems %v", snap.Problems)
	}
}

// TestMeterGaugeBaselineMarginal integrates an INA3221 input rail while the load changes,
// with a baseline measured at rest: total and marginal joules per cell follow.
func TestMeterGaugeBaselineMarginal(t *testing.T) {
	root := copyTree(t, "jetson-orin-nano")
	m, clk, proc, _ := manualMeter(t, root)
	setW := func(mA int) { writeAttr(t, root, "class/hwmon/hwmon1/curr1_input", strconv.Itoa(mA)) }
	// At rest: 5000 mV x 1000 mA = 5 W.
	writeAttr(t, root, "class/hwmon/hwmon1/in1_input", "5000")
	setW(1000)
	m.Start(context.Background())
	if err := m.MeasureBaseline(context.Background(), time.Second); err != nil {
		t.Fatal(err)
	}
	m.Begin()
	// Working: 8 W for 2 s in 100 ms steps, 10 cells per step, CPU 1.5 cores.
	setW(1600)
	m.Sample() // the step from 5 W to 8 W happens at the start: re-anchor
	for i := 1; i <= 20; i++ {
		clk.Advance(100 * time.Millisecond)
		m.Observe(Batch{Cells: 10, Latency: time.Millisecond + time.Duration(i)*time.Millisecond})
		proc.set(time.Second+time.Duration(i)*150*time.Millisecond, 120<<20)
		m.Sample()
	}
	s := m.End()
	if s.Cells != 200 || s.Batches != 20 {
		t.Errorf("cells %d batches %d, want 200 and 20", s.Cells, s.Batches)
	}
	near := func(name string, got, want, tol float64) {
		t.Helper()
		if math.IsNaN(got) || math.Abs(got-want) > tol {
			t.Errorf("%s = %.6f, want %.6f", name, got, want)
		}
	}
	near("baseline W", s.Energy.BaselineWatts, 5, 1e-9)
	// The step from 5 W to 8 W fell between Begin and the re-anchoring sample, which took no
	// time on the fake clock: 2 s at 8 W.
	near("joules", s.Energy.Joules, 16, 1e-9)
	near("mean W", s.Energy.MeanWatts, 8, 1e-9)
	near("J/cell", s.Energy.JoulesPerCell, 16.0/200, 1e-12)
	near("marginal J/cell", s.Energy.MarginalJoulesPerCell, (16-5*2)/200.0, 1e-12)
	near("marginal W", s.Energy.MarginalWatts, 3, 1e-9)
	near("cells/s", s.CellsPerSec, 100, 1e-9)
	near("window cells/s", s.WindowCellsPerSec, 100, 1e-9)
	near("window J/cell", s.Energy.WindowJoulesPerCell, 0.08, 1e-12)
	near("CPU %", s.CPUPercent, 150, 1e-9)
	near("coverage", s.Energy.Coverage, 1, 1e-9)
	if s.PeakRSS != 120<<20 {
		t.Errorf("peak RSS %d, want %d", s.PeakRSS, 120<<20)
	}
	if s.Latency.N != 20 || s.Latency.Max != 21*time.Millisecond {
		t.Errorf("latency %+v", s.Latency)
	}
	// Latencies 2..21 ms: nearest-rank p50 is 11 ms, p90 19 ms, p99 21 ms, within the
	// histogram's bound (0.1% + 1 µs).
	for _, q := range []struct {
		got, want time.Duration
	}{{s.Latency.P50, 11 * time.Millisecond}, {s.Latency.P90, 19 * time.Millisecond}, {s.Latency.P99, 21 * time.Millisecond}} {
		if !withinHDRBound(q.got, q.want) {
			t.Errorf("quantile %v, want %v within 0.1%% + 1µs", q.got, q.want)
		}
	}
	if line := s.Line(); !strings.Contains(line, "200 cells, 100.0 cells/s") || !strings.Contains(line, "8.00 W, 0.0800 J/cell (marginal 0.0300) [INA3221 VDD_IN (board input)]") {
		t.Errorf("status line %q", line)
	}
	// After End, the window is closed.
	m.Observe(Batch{Cells: 5})
	if got := m.Snapshot().Cells; got != 200 {
		t.Errorf("cells after End %d, want 200", got)
	}
}

// TestMeterSlidingWindow: the window figures follow the last Window only.
func TestMeterSlidingWindow(t *testing.T) {
	root := copyTree(t, "jetson-orin-nano")
	m, clk, _, _ := manualMeter(t, root) // Window 2 s
	writeAttr(t, root, "class/hwmon/hwmon1/in1_input", "5000")
	writeAttr(t, root, "class/hwmon/hwmon1/curr1_input", "1000")
	m.Start(context.Background())
	m.Begin()
	// 3 s at 10 cells per 100 ms, then 2 s at 40 cells per 100 ms.
	for i := 0; i < 50; i++ {
		clk.Advance(100 * time.Millisecond)
		n := 10
		if i >= 30 {
			n = 40
		}
		m.Observe(Batch{Cells: n})
		m.Sample()
	}
	s := m.Snapshot()
	if math.Abs(s.WindowCellsPerSec-400) > 1e-9 {
		t.Errorf("window cells/s %.3f, want 400", s.WindowCellsPerSec)
	}
	if want := (300.0 + 800) / 5; math.Abs(s.CellsPerSec-want) > 1e-9 {
		t.Errorf("cells/s %.3f, want %.3f", s.CellsPerSec, want)
	}
	if math.Abs(s.Energy.WindowJoulesPerCell-5.0/400) > 1e-12 {
		t.Errorf("window J/cell %.6f, want %.6f", s.Energy.WindowJoulesPerCell, 5.0/400)
	}
	if !math.IsNaN(s.Energy.MarginalJoulesPerCell) {
		t.Errorf("marginal J/cell %v without a baseline, want NaN", s.Energy.MarginalJoulesPerCell)
	}
}

// TestMeterGaugeGap: failed reads of a gauge leave a gap that is not integrated, and the
// snapshot says how much of the window was covered.
func TestMeterGaugeGap(t *testing.T) {
	root := copyTree(t, "jetson-orin-nano")
	m, clk, _, _ := manualMeter(t, root)
	m.Start(context.Background())
	m.Begin()
	for i := 0; i < 10; i++ {
		clk.Advance(100 * time.Millisecond)
		if i == 4 {
			must(t, removeAll(filepath.Join(root, "class/hwmon/hwmon1/curr1_input")))
		}
		if i == 7 {
			writeAttr(t, root, "class/hwmon/hwmon1/curr1_input", "1256")
		}
		m.Sample()
	}
	s := m.End()
	// Samples at 0.1..1.0 s; reads at 0.5, 0.6, 0.7 s fail, so 0.4->0.8 is lost: 60% covered.
	if math.Abs(s.Energy.Coverage-0.6) > 1e-9 {
		t.Errorf("coverage %.3f, want 0.6", s.Energy.Coverage)
	}
	if len(s.Problems) < 2 {
		t.Errorf("problems %v, want the failed reads and the low coverage", s.Problems)
	}
}

// TestMeterEstimateLabelled: on a machine without sensors every energy figure is marked as
// an estimate, and it follows CPU time x the declared watts.
func TestMeterEstimateLabelled(t *testing.T) {
	clk := &fakeClock{t: time.Unix(0, 0)}
	proc := &fakeProc{}
	cpu := time.Duration(0)
	var mu sync.Mutex
	d := Detect(Options{Sysfs: Sysfs{Root: "testdata/bare-vm"}, NoPMIC: true, NVMLLibrary: "-", WattsPerCore: 12,
		CPUTime: func() (time.Duration, error) { mu.Lock(); defer mu.Unlock(); return cpu, nil }})
	m := NewMeter(Config{Sensors: d.Sensors, Total: d.Total, Interval: -1, Now: clk.Now, Proc: proc.read})
	m.Start(context.Background())
	m.Begin()
	for i := 0; i < 10; i++ {
		clk.Advance(100 * time.Millisecond)
		mu.Lock()
		cpu += 150 * time.Millisecond // 1.5 cores busy
		mu.Unlock()
		m.Observe(Batch{Cells: 4})
		m.Sample()
	}
	s := m.End()
	if line := s.Line(); !strings.Contains(line, "18.00 W (estimate), 0.4500 J/cell") || !strings.Contains(line, "[estimate: CPU time x 12 W/core]") {
		t.Errorf("status line %q does not label the estimate", line)
	}
	if !s.Energy.Estimated || s.Energy.Unit() != " (estimate)" || s.Energy.Label != "estimate: CPU time x 12 W/core" {
		t.Errorf("energy %+v is not labelled as an estimate", s.Energy)
	}
	if math.Abs(s.Energy.Joules-1.5*12) > 1e-6 || math.Abs(s.Energy.MeanWatts-18) > 1e-6 {
		t.Errorf("estimate %.6f J %.6f W, want 18 J and 18 W", s.Energy.Joules, s.Energy.MeanWatts)
	}
}

func TestMeterBackgroundSampling(t *testing.T) {
	d := detectTree("testdata/jetson-orin-nano")
	m := NewMeter(Config{Sensors: d.Sensors, Total: d.Total, Interval: 5 * time.Millisecond})
	m.Start(context.Background())
	m.Begin()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				m.Observe(Batch{Cells: 1, Latency: time.Millisecond})
				m.ObserveFrame()
				_ = m.Snapshot()
				time.Sleep(time.Millisecond)
			}
		}()
	}
	wg.Wait()
	s := m.End()
	m.Stop()
	if s.Cells != 200 || s.Frames != 200 {
		t.Errorf("cells %d frames %d, want 200 each", s.Cells, s.Frames)
	}
	// VDD_IN in the tree is a constant 5072 mV x 1256 mA.
	if math.Abs(s.Energy.MeanWatts-6.370432) > 1e-6 {
		t.Errorf("mean W %.6f, want 6.370432", s.Energy.MeanWatts)
	}
	if s.RSS == 0 || s.PeakRSS < s.RSS/2 || s.GoHeap == 0 {
		t.Errorf("process figures RSS %d peak %d heap %d", s.RSS, s.PeakRSS, s.GoHeap)
	}
}

func TestHistogramQuantiles(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name string
		gen  func() time.Duration
		n    int
	}{
		{"lognormal around 8 ms", func() time.Duration { return time.Duration(8e6 * math.Exp(0.6*r.NormFloat64())) }, 20000},
		{"bimodal 2 ms and 40 ms", func() time.Duration {
			if r.IntN(10) == 0 {
				return time.Duration(40e6 + r.Float64()*5e6)
			}
			return time.Duration(2e6 + r.Float64()*1e5)
		}, 5000},
		{"one value", func() time.Duration { return 3 * time.Millisecond }, 1},
		{"sub-microsecond", func() time.Duration { return time.Duration(r.IntN(900)) }, 1000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h Histogram
			xs := make([]time.Duration, tc.n)
			for i := range xs {
				xs[i] = tc.gen()
				h.Add(xs[i])
			}
			sort.Slice(xs, func(i, j int) bool { return xs[i] < xs[j] })
			for _, q := range []float64{0.5, 0.9, 0.99} {
				exact := xs[int(math.Ceil(q*float64(len(xs))))-1]
				if got := h.Quantile(q); !withinHDRBound(got, exact) {
					t.Errorf("q%.2f = %v, exact %v", q, got, exact)
				}
			}
			if h.Min() != xs[0] || h.Max() != xs[len(xs)-1] || h.Count() != uint64(tc.n) {
				t.Errorf("min %v max %v n %d", h.Min(), h.Max(), h.Count())
			}
		})
	}
}

// withinHDRBound is the histogram's stated error: at 3 significant figures a value shares
// its HDR bucket only with values within 1/1024 (< 0.1%) of it, Quantile reports the
// bucket's highest value, and durations are recorded in whole microseconds (rounded, so
// off by up to 0.5 µs).
func withinHDRBound(got, exact time.Duration) bool {
	return math.Abs(float64(got-exact)) <= float64(exact)/1024+float64(time.Microsecond)
}

// 1..1000 ms, one each: the nearest-rank quantiles are exactly 500, 900 and 990 ms.
func TestHistogramUniformMilliseconds(t *testing.T) {
	var h Histogram
	for i := 1000; i >= 1; i-- { // order does not matter
		h.Add(time.Duration(i) * time.Millisecond)
	}
	for _, c := range []struct {
		q     float64
		exact time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.9, 900 * time.Millisecond}, {0.99, 990 * time.Millisecond},
		{0.001, time.Millisecond}, {0.0015, 2 * time.Millisecond}, {1, time.Second}} {
		got := h.Quantile(c.q)
		if !withinHDRBound(got, c.exact) || got < c.exact {
			t.Errorf("q%v = %v, want %v to %v above", c.q, got, c.exact, c.exact/1024+time.Microsecond)
		}
	}
	if h.Mean() != 500500*time.Microsecond || h.Count() != 1000 {
		t.Errorf("mean %v n %d, want 500.5ms 1000", h.Mean(), h.Count())
	}
}

// Nearest rank for every n and q, not just where q*n is whole: n = 7 values 1..7 ms.
func TestHistogramNearestRank(t *testing.T) {
	var h Histogram
	for i := 1; i <= 7; i++ {
		h.Add(time.Duration(i) * time.Millisecond)
	}
	for _, q := range []float64{0.01, 0.1, 1.0 / 7, 0.15, 0.3, 0.5, 4.0 / 7, 0.58, 0.9, 0.99, 1} {
		exact := time.Duration(math.Ceil(q*7)) * time.Millisecond
		if got := h.Quantile(q); !withinHDRBound(got, exact) {
			t.Errorf("q%.4f = %v, want %v", q, got, exact)
		}
	}
}

func TestHistogramEdges(t *testing.T) {
	var h Histogram
	if h.Quantile(0.5) != 0 || h.Mean() != 0 || h.Count() != 0 || h.Max() != 0 {
		t.Fatal("empty histogram must report zeros")
	}
	h.Add(-time.Millisecond) // counts as 0
	h.Add(2 * time.Hour)     // beyond the range: counted as an hour, exact in Max and Mean
	if h.Min() != 0 || h.Max() != 2*time.Hour || h.Mean() != time.Hour {
		t.Errorf("min %v max %v mean %v", h.Min(), h.Max(), h.Mean())
	}
	if got := h.Quantile(1); !withinHDRBound(got, time.Hour) {
		t.Errorf("p100 of an over-range value %v, want an hour", got)
	}
	if got := h.Quantile(0.5); got != 0 {
		t.Errorf("p50 %v, want 0", got)
	}
	h.Reset()
	if h.Count() != 0 || h.Quantile(0.5) != 0 || h.Max() != 0 {
		t.Fatal("Reset left values")
	}
	h.Add(7 * time.Millisecond)
	if h.Quantile(0.5) != 7*time.Millisecond || h.Min() != 7*time.Millisecond {
		t.Errorf("after Reset: p50 %v min %v, want 7ms", h.Quantile(0.5), h.Min())
	}
}

// The meter adds one duration per inference run: after the first Add allocates the
// counts, Add must not allocate.
func TestHistogramAddDoesNotAllocate(t *testing.T) {
	var h Histogram
	h.Add(time.Millisecond)
	d := time.Duration(0)
	if n := testing.AllocsPerRun(1000, func() { d += 37 * time.Microsecond; h.Add(d) }); n != 0 {
		t.Errorf("Add allocates %v times per call", n)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestMeterGaugeRamp: a linear ramp of power is integrated exactly (trapezoids), not by
// rectangles at either end.
func TestMeterGaugeRamp(t *testing.T) {
	root := copyTree(t, "jetson-orin-nano")
	m, clk, _, _ := manualMeter(t, root)
	writeAttr(t, root, "class/hwmon/hwmon1/in1_input", "5000")
	writeAttr(t, root, "class/hwmon/hwmon1/curr1_input", "1000")
	m.Start(context.Background())
	m.Begin()
	for i := 1; i <= 10; i++ { // 5 W to 10 W over 1 s
		clk.Advance(100 * time.Millisecond)
		writeAttr(t, root, "class/hwmon/hwmon1/curr1_input", strconv.Itoa(1000+100*i))
		m.Sample()
	}
	if got := m.End().Energy.Joules; math.Abs(got-7.5) > 1e-9 {
		t.Errorf("energy over the ramp %.6f J, want 7.5", got)
	}
}

// TestMeterFrozenWhilePausedAndAfterEnd: a run's figures stand still while it is paused
// (the machine's energy meanwhile is not the model's) and after it ended, however long
// the app idles; a resumed run counts on from where it paused. (The panel once showed
// the last run's average climbing from 103 to 1,152 W while idle.)
func TestMeterFrozenWhilePausedAndAfterEnd(t *testing.T) {
	root := copyTree(t, "jetson-orin-nano")
	m, clk, _, _ := manualMeter(t, root) // Window 2 s
	setW := func(mA int) { writeAttr(t, root, "class/hwmon/hwmon1/curr1_input", strconv.Itoa(mA)) }
	writeAttr(t, root, "class/hwmon/hwmon1/in1_input", "5000")
	setW(2000) // 10 W
	m.Start(context.Background())
	m.Begin()
	work := func(steps int) {
		for range steps {
			clk.Advance(100 * time.Millisecond)
			m.Observe(Batch{Cells: 10, Latency: time.Millisecond})
			m.Sample()
		}
	}
	work(20) // 2 s at 10 W, 200 cells
	before := m.Snapshot()
	m.SetPaused(true)
	setW(1000) // 5 W idle while paused, for 30 s
	for range 300 {
		clk.Advance(100 * time.Millisecond)
		m.Sample()
	}
	paused := m.Snapshot()
	if !paused.Paused {
		t.Error("snapshot not marked paused")
	}
	same := func(what string, a, b float64) {
		t.Helper()
		if math.IsNaN(a) || math.Abs(a-b) > 1e-9 {
			t.Errorf("%s moved: %.6f -> %.6f", what, a, b)
		}
	}
	same("J/cell while paused", before.Energy.JoulesPerCell, paused.Energy.JoulesPerCell)
	same("mean W while paused", before.Energy.MeanWatts, paused.Energy.MeanWatts)
	same("cells/s while paused", before.CellsPerSec, paused.CellsPerSec)
	same("window cells/s while paused", before.WindowCellsPerSec, paused.WindowCellsPerSec)
	same("window J/cell while paused", before.Energy.WindowJoulesPerCell, paused.Energy.WindowJoulesPerCell)
	if paused.Elapsed != before.Elapsed {
		t.Errorf("elapsed %v while paused, was %v", paused.Elapsed, before.Elapsed)
	}
	setW(2000) // back at work as the run resumes
	m.SetPaused(false)
	work(20) // 2 s more at 10 W
	end := m.End()
	if end.Cells != 400 || end.Elapsed != 4*time.Second {
		t.Errorf("after resuming: %d cells in %v, want 400 in 4s", end.Cells, end.Elapsed)
	}
	same("run mean W (10 W worked, pause left out)", 10, end.Energy.MeanWatts)
	same("run J/cell", 40.0/400, end.Energy.JoulesPerCell)
	same("window cells/s across the pause", 100, end.WindowCellsPerSec)
	setW(1000)
	for range 300 { // 30 s idle after the run
		clk.Advance(100 * time.Millisecond)
		m.Sample()
	}
	idle := m.Snapshot()
	same("the ended run's mean W while idle", end.Energy.MeanWatts, idle.Energy.MeanWatts)
	same("the ended run's J/cell while idle", end.Energy.JoulesPerCell, idle.Energy.JoulesPerCell)
	same("the ended run's cells/s while idle", end.CellsPerSec, idle.CellsPerSec)
	if idle.Running || idle.Energy.WattsNow > 5.0001 {
		t.Errorf("idle: running %v, watts now %.3f, want 5 W now", idle.Running, idle.Energy.WattsNow)
	}
}

// The baseline is the quietest slice of its time: work in its first slice (the app's
// window drawing for the first time) does not count as rest (helper-52: 1.6 to 2 W of
// baseline for an app at 0.1 to 0.3 W between runs).
func TestBaselineKeepsTheQuietestSlice(t *testing.T) {
	root := copyTree(t, "jetson-orin-nano")
	writeAttr(t, root, "class/hwmon/hwmon1/in1_input", "5000")
	setMA := func(mA int) { writeAttr(t, root, "class/hwmon/hwmon1/curr1_input", strconv.Itoa(mA)) }
	setMA(2000) // 10 W while the window draws
	m, clk, _, _ := manualMeter(t, root)
	slices := 0
	m.cfg.Sleep = func(_ context.Context, d time.Duration) error {
		clk.Advance(d)
		slices++
		if slices == 1 {
			m.Sample()  // the busy slice read at 10 W
			setMA(1000) // then at rest: 5 W
		}
		return nil
	}
	m.Start(context.Background())
	if err := m.MeasureBaseline(context.Background(), 3*time.Second); err != nil {
		t.Fatal(err)
	}
	m.Begin()
	s := m.End()
	if slices != 3 || math.Abs(s.Energy.BaselineWatts-5) > 0.01 || s.Energy.BaselineDuration != 3*time.Second {
		t.Errorf("%d slices, baseline %g W over %v; want 3, 5 W (the rest, not the 10 W slice), 3 s", slices, s.Energy.BaselineWatts, s.Energy.BaselineDuration)
	}
}

// Measured again between runs, the baseline keeps the lower draw: a launch measured while
// the app was still busy gives way to the rest between runs, a busier moment between runs
// does not raise it, and a run that begins while it measures makes it keep nothing. An
// ended run keeps the baseline it was measured against.
func TestLowerBaselineBetweenRuns(t *testing.T) {
	root := copyTree(t, "jetson-orin-nano")
	writeAttr(t, root, "class/hwmon/hwmon1/in1_input", "5000")
	setMA := func(mA int) { writeAttr(t, root, "class/hwmon/hwmon1/curr1_input", strconv.Itoa(mA)) }
	m, clk, _, _ := manualMeter(t, root)
	var during func()
	m.cfg.Sleep = func(_ context.Context, d time.Duration) error {
		clk.Advance(d)
		if during != nil {
			during()
		}
		return nil
	}
	baselineW := func() float64 {
		t.Helper()
		m.Begin()
		return m.End().Energy.BaselineWatts
	}
	m.Start(context.Background())
	setMA(1600) // 8 W: the app loading at launch
	if err := m.MeasureBaseline(context.Background(), 3*time.Second); err != nil {
		t.Fatal(err)
	}
	if w := baselineW(); math.Abs(w-8) > 0.01 {
		t.Fatalf("launch baseline %g W, want 8", w)
	}
	setMA(1000) // 5 W: at rest between runs
	if lowered, err := m.LowerBaseline(context.Background(), 3*time.Second); err != nil || !lowered {
		t.Fatalf("at rest after a run: lowered %v, %v; want lowered", lowered, err)
	}
	if w := m.Snapshot().Energy.BaselineWatts; math.Abs(w-8) > 0.01 {
		t.Errorf("the ended run reads a baseline of %g W after the lowering, want the 8 W it was measured against", w)
	}
	if w := baselineW(); math.Abs(w-5) > 0.01 {
		t.Errorf("baseline %g W after rest between runs, want 5", w)
	}
	setMA(1400) // 7 W: something else busy between runs
	if lowered, err := m.LowerBaseline(context.Background(), 3*time.Second); err != nil || lowered {
		t.Errorf("busier moment: lowered %v, %v; want kept", lowered, err)
	}
	setMA(600) // 3 W, but a run begins while it measures
	during = func() { m.Begin(); during = nil }
	if lowered, err := m.LowerBaseline(context.Background(), 3*time.Second); err != nil || lowered {
		t.Errorf("a run began while measuring: lowered %v, %v; want nothing kept", lowered, err)
	}
	m.End()
	during = nil
	if w := baselineW(); math.Abs(w-5) > 0.01 {
		t.Errorf("baseline %g W, want 5 still", w)
	}
	m.Begin() // a run under way: nothing measured
	if lowered, err := m.LowerBaseline(context.Background(), 3*time.Second); err != nil || lowered {
		t.Errorf("during a run: lowered %v, %v; want nothing", lowered, err)
	}
	m.End()
}

// The CPU share now is measured over a span long enough that the kernel's steps in a
// process's CPU time do not read as more cores than the machine has: a sample taken 2 ms
// after the last one, when a 12 ms step landed, read 600% "of one core" on a 2-core
// machine (helper-95: 631% on the Live tab at a model switch).
func TestMeterCPUNowOverAShortSpan(t *testing.T) {
	m, clk, proc, _ := manualMeter(t, "testdata/bare-vm")
	cpu := time.Second
	step := func(wall, used time.Duration) float64 {
		t.Helper()
		clk.Advance(wall)
		cpu += used
		proc.set(cpu, 100<<20)
		m.Sample()
		return m.Snapshot().CPUPercentNow
	}
	m.Sample()
	m.Begin()
	for i, c := range []struct {
		wall, used time.Duration
		want       float64
	}{
		{300 * time.Millisecond, 150 * time.Millisecond, 50}, // half a core busy
		{2 * time.Millisecond, 12 * time.Millisecond, 50},    // a step of the kernel's accounting
		{98 * time.Millisecond, 38 * time.Millisecond, 50},
		{150 * time.Millisecond, 150 * time.Millisecond, 80}, // 200 ms of 250 ms
	} {
		if got := step(c.wall, c.used); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("sample %d (%v later, %v of CPU): CPU now %.4g%%, want %.4g%%", i, c.wall, c.used, got, c.want)
		}
	}
}
