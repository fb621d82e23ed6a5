package power

import (
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Snapshot is the meter's view at one moment: what the GUI's cost panel, the headless
// screen command and the benchmark show. Ratios whose denominator is zero are NaN.
type Snapshot struct {
	Time    time.Time
	Elapsed time.Duration // since Begin (to End once the window is closed)
	Running bool          // the window is open
	Paused  bool          // the window is open but paused: its figures stand still

	Cells, Frames, Batches uint64
	CellsPerSec            float64 // over the whole window
	FramesPerSec           float64
	WindowCellsPerSec      float64 // over the sliding window
	WindowFramesPerSec     float64

	Latency Latency // per inference run (preprocessing + ONNX Runtime)

	CPUPercent    float64 // this process, mean over the window; 100 = one core busy
	CPUPercentNow float64 // over the last sampling interval
	Cores         int     // logical CPUs, to read CPUPercent against
	RSS           uint64  // resident memory now, bytes
	PeakRSS       uint64  // highest resident memory in the window, bytes
	GoHeap        uint64  // Go heap objects, bytes

	Energy  Energy
	Sensors []SensorStatus
	// Problems are what made a figure less than complete (failed reads, a gap in a gauge,
	// a counter that went backwards), in words.
	Problems []string
}

// Latency summarises the latency histogram.
type Latency struct {
	N             uint64
	P50, P90, P99 time.Duration
	Mean, Max     time.Duration
}

// Energy is the machine-total energy over the window, from the sensors Total chose.
type Energy struct {
	Source    string // the sensors summed, e.g. "rapl:package-0" or "estimate:cpu-time"
	Label     string // for people, e.g. "RAPL package-0 (CPU package)" or "estimate: CPU time x 10 W/core"
	Estimated bool   // an estimate, not a reading: say so wherever a figure is shown
	Why       string // why these sensors

	Joules    float64 // over the window
	MeanWatts float64
	WattsNow  float64 // over the last sampling interval

	BaselineWatts    float64 // the idle draw measured before work (NaN: not measured)
	BaselineDuration time.Duration
	MarginalWatts    float64 // MeanWatts - BaselineWatts

	JoulesPerCell         float64 // whole window
	MarginalJoulesPerCell float64 // (Joules - BaselineWatts x Elapsed) / Cells
	// No "model alone" share is derived from a run: the marginal energy times the share
	// of the wall time spent in inference runs read 0.96 to 0.99 of the marginal energy
	// (helper-84: "model alone 96.6 mJ" where the model measured alone took 32.7 mJ),
	// since decoding and segmenting run while the model does. The model's own cost is
	// measured alone, on crops in memory (phytoscreen bench, the app's Settings).
	WindowJoulesPerCell float64 // over the sliding window
	WindowWatts         float64
	// Coverage is the share of the window the total's gauges were integrated over (1 for
	// counters, which lose nothing across a failed read).
	Coverage float64
}

// SensorStatus is one sensor's figures over the window.
type SensorStatus struct {
	Info
	Joules    float64
	MeanWatts float64
	WattsNow  float64
	InTotal   bool
	Errors    int
	LastError string
}

// Unit returns " (estimate)" for an estimated total and "" for a reading: the suffix every
// energy label carries.
func (e Energy) Unit() string {
	if e.Estimated {
		return " (estimate)"
	}
	return ""
}

// Snapshot returns the figures now (or of the closed window after End).
func (m *Meter) Snapshot() Snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	end := m.lastT
	if !m.ended.IsZero() {
		end = m.ended
	}
	activeEnd := m.windowEndLocked() // on the window's clock, which stops while paused
	s := Snapshot{Time: end, Running: m.running, Paused: m.paused, Cores: runtime.NumCPU(),
		Cells: m.cellsAtSample, Frames: m.framesAtSample, Batches: m.batches,
		CPUPercentNow: m.cpuNow, RSS: m.lastProc.RSS, GoHeap: m.lastProc.GoHeap, PeakRSS: m.peakRSS}
	if m.running {
		// Live: cells up to now; energy ratios below use cells at the last sample.
		s.Cells = m.cells
	}
	if !m.began.IsZero() {
		s.Elapsed = activeEnd.Sub(m.began)
	}
	secs := s.Elapsed.Seconds()
	s.CellsPerSec = ratio(float64(m.cellsAtSample), secs)
	s.FramesPerSec = ratio(float64(m.framesAtSample), secs)
	if m.lastProc.CPU > 0 && m.beginProc.CPU > 0 {
		s.CPUPercent = 100 * ratio((m.lastProc.CPU-m.beginProc.CPU).Seconds(), secs)
	}
	s.Latency = Latency{N: m.hist.Count(), P50: m.hist.Quantile(0.50), P90: m.hist.Quantile(0.90), P99: m.hist.Quantile(0.99),
		Mean: m.hist.Mean(), Max: m.hist.Max()}

	e := Energy{Source: m.cfg.Total.Name(), Estimated: m.cfg.Total.Estimated(), Why: m.cfg.Total.Why,
		BaselineWatts: math.NaN(), Coverage: 1}
	if len(m.cfg.Total.Sensors) == 1 {
		e.Label = m.cfg.Total.Sensors[0].Info().Label
	} else {
		e.Label = e.Source
	}
	covered := time.Duration(0)
	gauges := 0
	for i, t := range m.tracks {
		st := SensorStatus{Info: t.info, WattsNow: t.nowW, InTotal: m.total[t.s], Errors: t.errs}
		if t.lastE != nil {
			st.LastError = t.lastE.Error()
		}
		if m.beginJ != nil {
			st.Joules = m.runJLocked(i)
			st.MeanWatts = ratio(st.Joules, secs)
			if st.InTotal && t.info.Kind == Gauge {
				gauges++
				covered += t.cov - m.beginCov[i]
			}
		}
		if st.InTotal {
			e.Joules += st.Joules
			e.WattsNow += t.nowW
			if t.errs > 0 {
				m.noteLocked(fmt.Sprintf("%s: %d failed reads in the window (last: %v)", t.info.ID, t.errs, t.lastE))
			}
			if t.dropped > 0 {
				m.noteLocked(fmt.Sprintf("%s: the counter went backwards %d times; those intervals are not counted", t.info.ID, t.dropped))
			}
		}
		s.Sensors = append(s.Sensors, st)
	}
	if gauges > 0 && s.Elapsed > 0 {
		e.Coverage = math.Min(1, covered.Seconds()/float64(gauges)/secs)
		if e.Coverage < 0.95 {
			m.noteLocked(fmt.Sprintf("power was integrated over %.0f%% of the window only: energy figures are low", 100*e.Coverage))
		}
	}
	e.MeanWatts = ratio(e.Joules, secs)
	e.JoulesPerCell = ratio(e.Joules, float64(m.cellsAtSample))
	e.MarginalWatts, e.MarginalJoulesPerCell = math.NaN(), math.NaN()
	base := m.windowBase
	if !base.measured { // a window begun before the baseline was measured
		base = m.baseline
	}
	if base.measured {
		e.BaselineWatts, e.BaselineDuration = base.watts, base.dur
		e.MarginalWatts = e.MeanWatts - e.BaselineWatts
		e.MarginalJoulesPerCell = ratio(e.Joules-e.BaselineWatts*secs, float64(m.cellsAtSample))
	}
	e.WindowJoulesPerCell, e.WindowWatts, s.WindowCellsPerSec, s.WindowFramesPerSec = math.NaN(), math.NaN(), math.NaN(), math.NaN()
	if w := m.windowLocked(activeEnd); w != nil {
		first, last := w[0], w[len(w)-1]
		dt := last.t.Sub(first.t).Seconds()
		e.WindowWatts = ratio(last.joules-first.joules, dt)
		e.WindowJoulesPerCell = ratio(last.joules-first.joules, float64(last.cells-first.cells))
		s.WindowCellsPerSec = ratio(float64(last.cells-first.cells), dt)
		s.WindowFramesPerSec = ratio(float64(last.frames-first.frames), dt)
	}
	s.Energy = e
	s.Problems = append([]string(nil), m.problems...)
	return s
}

// windowLocked returns the samples of the last Window before end (at least two), or nil.
func (m *Meter) windowLocked(end time.Time) []point {
	if len(m.ring) < 2 {
		return nil
	}
	from := end.Add(-m.cfg.Window)
	i := len(m.ring) - 2
	for i > 0 && !m.ring[i-1].t.Before(from) {
		i--
	}
	return m.ring[i:]
}

// ratio is a/b, NaN when b is not positive.
func ratio(a, b float64) float64 {
	if b <= 0 {
		return math.NaN()
	}
	return a / b
}

// CropsPerRun is the mean crops an inference run classified (cells over batches); ok
// is false before one.
func (s Snapshot) CropsPerRun() (float64, bool) {
	if s.Batches == 0 || s.Cells == 0 {
		return 0, false
	}
	return float64(s.Cells) / float64(s.Batches), true
}

// plural is "s" unless n is 1.
func plural(n uint64) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// Line is the snapshot on one line, for a terminal status line or a log: latency,
// throughput, CPU, memory and energy, with the energy labelled when it is an estimate.
func (s Snapshot) Line() string {
	e := s.Energy
	var b strings.Builder
	fmt.Fprintf(&b, "%d cells, %s cells/s", s.Cells, fmtNum(s.CellsPerSec, 1))
	if s.Frames > 0 {
		fmt.Fprintf(&b, ", %s frames/s", fmtNum(s.FramesPerSec, 1))
	}
	if s.Latency.N > 0 {
		// Per inference run, a batch of crops: "p50 289 ms" alone read as per cell
		// beside bench's and Settings' 7 to 11 ms per cell (helper-84).
		runs, per := fmt.Sprintf("%d run%s", s.Latency.N, plural(s.Latency.N)), ""
		if crops, ok := s.CropsPerRun(); ok {
			runs += fmt.Sprintf(", %s crops each on average", strconv.FormatFloat(crops, 'f', 1, 64))
			per = fmt.Sprintf("; %s per cell on average", fmtDur(time.Duration(float64(s.Latency.Mean)/crops)))
		}
		fmt.Fprintf(&b, " | latency per inference run (%s): p50 %s p90 %s p99 %s%s", runs, fmtDur(s.Latency.P50), fmtDur(s.Latency.P90), fmtDur(s.Latency.P99), per)
	}
	fmt.Fprintf(&b, " | CPU %s%% | RSS %d MB", fmtNum(s.CPUPercent, 0), s.RSS>>20)
	fmt.Fprintf(&b, " | %s W%s", fmtNum(e.MeanWatts, 2), e.Unit())
	if !math.IsNaN(e.JoulesPerCell) {
		fmt.Fprintf(&b, ", %s J/cell", fmtNum(e.JoulesPerCell, 4))
		if !math.IsNaN(e.MarginalJoulesPerCell) {
			fmt.Fprintf(&b, " (marginal %s)", fmtNum(e.MarginalJoulesPerCell, 4))
		}
	}
	fmt.Fprintf(&b, " [%s]", e.Label)
	return b.String()
}

func fmtNum(v float64, prec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

func fmtDur(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + " ms"
}
