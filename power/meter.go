package power

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"
)

// Meter defaults.
const (
	DefaultInterval = 100 * time.Millisecond // 10 Hz: RAPL updates every ~1 ms, sample at >= 100 ms
	DefaultWindow   = 10 * time.Second
)

// Config configures a Meter. Sensors and Total usually come from Detect.
type Config struct {
	Sensors []Sensor
	Total   Total
	// Interval is the background sampling period (0: DefaultInterval). Negative: no
	// background sampling; the caller calls Sample (tests).
	Interval time.Duration
	// Window is the length of the sliding window of the Window* figures (0: DefaultWindow).
	Window time.Duration
	Proc   ProcReader                                       // nil: ReadProc
	Now    func() time.Time                                 // nil: time.Now
	Sleep  func(ctx context.Context, d time.Duration) error // nil: a timer; tests advance a fake clock
}

// Meter measures the cost of classification as it runs: it samples the energy sensors and
// the process in the background, counts classified cells and frames, keeps a latency
// histogram of inference runs, and turns them into a Snapshot. Every method is safe for
// concurrent use.
//
// A measurement is: MeasureBaseline (the machine at rest, just before), Begin, the work,
// End (or Snapshot at any time for a live view).
type Meter struct {
	cfg    Config
	total  map[Sensor]bool
	cancel context.CancelFunc
	done   chan struct{}

	sampleMu sync.Mutex // one sample at a time: readings must be applied in the order taken

	mu       sync.Mutex
	tracks   []*track
	problems []string

	// the measured window
	began, ended time.Time
	running      bool
	beginJ       []float64 // each track's joules at Begin
	beginCov     []time.Duration
	// Pauses and the end are left out of the window: frozenJ holds each track's joules
	// when a pause began or the window closed (nil while it counts), excludedJ the
	// energy of the pauses that ended, excludedDur their time. The window's figures
	// therefore stay as they were while paused and after End, however long the app
	// idles.
	frozenJ     []float64
	excludedJ   []float64
	excludedDur time.Duration
	paused      bool
	pausedAt    time.Time
	beginProc   ProcStats
	hwmReset    bool
	peakRSS     uint64

	// work since Begin
	cells, frames, batches uint64
	hist                   Histogram

	// the latest sample
	lastT          time.Time
	lastProc       ProcStats
	cpuNow         float64
	cpuFrom        time.Time // the start of the span cpuNow is measured over
	cpuFromCPU     time.Duration
	cellsAtSample  uint64
	framesAtSample uint64

	ring []point // samples since Begin, for the sliding window

	baseline baseline
	// windowBase is the baseline as the window began: its energy above idle stays what
	// the run was measured against (and stored with), when LowerBaseline lowers the
	// baseline after it ended.
	windowBase baseline
}

type baseline struct {
	watts    float64
	dur      time.Duration
	measured bool
}

// point is the state at one sample, for the sliding window.
type point struct {
	t      time.Time
	joules float64
	cells  uint64
	frames uint64
}

// track accumulates one sensor's energy.
type track struct {
	s    Sensor
	info Info
	// Counter sensors: exact microjoules.
	prevUJ   uint64
	havePrev bool
	uj       uint64
	// Gauge sensors: trapezoids between valid readings.
	prevW   float64
	prevT   time.Time
	haveW   bool
	j       float64
	cov     time.Duration // time covered by integrated intervals (gauges)
	nowW    float64
	errs    int
	lastE   error
	dropped int // counter intervals dropped (the counter went backwards)
}

func (t *track) joules() float64 { return float64(t.uj)/1e6 + t.j }

// NewMeter returns a meter over cfg's sensors; Start begins the background sampling.
func NewMeter(cfg Config) *Meter {
	if cfg.Interval == 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.Proc == nil {
		cfg.Proc = ReadProc
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleepCtx
	}
	m := &Meter{cfg: cfg, total: map[Sensor]bool{}}
	for _, s := range cfg.Total.Sensors {
		m.total[s] = true
	}
	for _, s := range cfg.Sensors {
		m.tracks = append(m.tracks, &track{s: s, info: s.Info()})
	}
	for _, s := range cfg.Total.Sensors {
		if !m.has(s) {
			m.tracks = append(m.tracks, &track{s: s, info: s.Info()})
		}
	}
	return m
}

func (m *Meter) has(s Sensor) bool {
	for _, t := range m.tracks {
		if t.s == s {
			return true
		}
	}
	return false
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Start samples in the background every Interval until Stop or ctx ends. It takes a first
// sample before returning. With a negative Interval it only takes that sample.
func (m *Meter) Start(ctx context.Context) {
	m.Sample()
	if m.cfg.Interval < 0 || m.cancel != nil {
		return
	}
	ctx, m.cancel = context.WithCancel(ctx)
	m.done = make(chan struct{})
	go func() {
		defer close(m.done)
		tick := time.NewTicker(m.cfg.Interval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				m.Sample()
			}
		}
	}()
}

// Stop ends the background sampling and waits for it.
func (m *Meter) Stop() {
	if m.cancel == nil {
		return
	}
	m.cancel()
	<-m.done
	m.cancel = nil
}

// Batch is one classification run as the meter counts it: the crops it classified and
// how long it took (preparing the crops and running the model).
type Batch struct {
	Cells   int
	Latency time.Duration
}

// Observe counts one classification run. A screening run's batches reach it through
// the run's sink; a benchmark calls it after each run it times.
func (m *Meter) Observe(b Batch) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.ended.IsZero() {
		return // the window is closed
	}
	m.cells += uint64(b.Cells)
	m.batches++
	m.hist.Add(b.Latency)
}

// ObserveFrame counts one processed frame (a camera or folder frame whose cells were
// classified).
func (m *Meter) ObserveFrame() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ended.IsZero() {
		m.frames++
	}
}

// minCPUSpan is the shortest span the CPU share now (Snapshot.CPUPercentNow) is measured
// over. The kernel adds a running thread's time to the process's in steps (a scheduler
// tick, or a switch), so over the few milliseconds between a tick's sample and one a run's
// start or a model switch takes, a step read as 631% "of one core" on a 2-core machine
// (helper-95): a share over at least this span stays within what the cores can do.
const minCPUSpan = 250 * time.Millisecond

// Sample reads every sensor and the process once. The background goroutine calls it;
// tests with a negative Interval call it themselves.
func (m *Meter) Sample() { m.sample(false) }

// sample reads everything; with end it also closes the window in the same critical
// section, so no observation slips between the last sample and the close.
func (m *Meter) sample(end bool) {
	m.sampleMu.Lock()
	defer m.sampleMu.Unlock()
	readings := make([]Reading, len(m.tracks))
	errs := make([]error, len(m.tracks))
	for i, t := range m.tracks {
		readings[i], errs[i] = t.s.Read() // outside the lock: a sensor may be slow (vcgencmd)
	}
	proc, perr := m.cfg.Proc()
	now := m.cfg.Now()

	m.mu.Lock()
	defer m.mu.Unlock()
	for i, t := range m.tracks {
		m.apply(t, readings[i], errs[i], now)
	}
	if perr == nil {
		switch span := now.Sub(m.cpuFrom); {
		case m.cpuFrom.IsZero() || proc.CPU < m.cpuFromCPU:
			m.cpuFrom, m.cpuFromCPU = now, proc.CPU
		case span >= minCPUSpan:
			m.cpuNow = 100 * float64(proc.CPU-m.cpuFromCPU) / float64(span)
			m.cpuFrom, m.cpuFromCPU = now, proc.CPU
		}
		m.lastProc = proc
		m.peakRSS = max(m.peakRSS, proc.RSS)
		if m.hwmReset {
			m.peakRSS = max(m.peakRSS, proc.PeakRSS)
		}
	} else {
		m.noteLocked(fmt.Sprintf("process figures: %v", perr))
	}
	m.lastT = now
	if m.paused && m.running {
		return // the pause is not part of the window
	}
	m.cellsAtSample, m.framesAtSample = m.cells, m.frames
	if m.running {
		m.pushLocked(point{t: m.activeLocked(now), joules: m.runTotalJLocked(), cells: m.cells, frames: m.frames})
	}
	if end && m.running {
		m.ended, m.running = now, false
		m.freezeLocked()
	}
}

// freezeLocked keeps each track's joules now: the window counts nothing more until
// a resume (or the next Begin).
func (m *Meter) freezeLocked() {
	m.frozenJ = make([]float64, len(m.tracks))
	for i, t := range m.tracks {
		m.frozenJ[i] = t.joules()
	}
}

// runJLocked is track i's energy in the window: since Begin, less the pauses, up to
// the freeze.
func (m *Meter) runJLocked(i int) float64 {
	j := m.tracks[i].joules()
	if m.frozenJ != nil {
		j = m.frozenJ[i]
	}
	return j - m.beginJ[i] - m.excludedJ[i]
}

// runTotalJLocked is the window's energy over the sensors of the total.
func (m *Meter) runTotalJLocked() float64 {
	j := 0.0
	for i, t := range m.tracks {
		if m.total[t.s] && m.beginJ != nil {
			j += m.runJLocked(i)
		}
	}
	return j
}

// activeLocked maps a wall time to the window's own clock, which stands still while
// paused: the sliding window then spans work, not pauses.
func (m *Meter) activeLocked(t time.Time) time.Time { return t.Add(-m.excludedDur) }

// SetPaused pauses the window (the run is paused: nothing is classified, and the
// machine's energy meanwhile is not the model's) or resumes it. The figures keep their
// values while paused.
func (m *Meter) SetPaused(paused bool) {
	m.Sample()
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.running || paused == m.paused {
		return
	}
	m.paused = paused
	if paused {
		m.pausedAt = m.lastT
		m.freezeLocked()
		return
	}
	for i, t := range m.tracks {
		m.excludedJ[i] += t.joules() - m.frozenJ[i]
	}
	m.excludedDur += m.lastT.Sub(m.pausedAt)
	m.frozenJ = nil
}

// windowEndLocked is where the window ends now on its own clock: the last sample, the
// start of a pause, or the close.
func (m *Meter) windowEndLocked() time.Time {
	switch {
	case !m.ended.IsZero():
		return m.activeLocked(m.ended)
	case m.paused:
		return m.activeLocked(m.pausedAt)
	}
	return m.activeLocked(m.lastT)
}

func (m *Meter) apply(t *track, r Reading, err error, now time.Time) {
	if err != nil {
		t.errs++
		t.lastE = err
		t.haveW = false // a gauge's gap is not integrated
		return
	}
	switch t.info.Kind {
	case Counter:
		if t.havePrev {
			d, ok := CounterDelta(t.prevUJ, r.EnergyUJ, t.info.MaxUJ)
			if ok {
				t.uj += d
				if dt := now.Sub(t.prevT); dt > 0 {
					t.nowW = float64(d) / 1e6 / dt.Seconds()
				}
			} else {
				t.dropped++
			}
		}
		t.prevUJ, t.havePrev, t.prevT = r.EnergyUJ, true, now
	case Gauge:
		if t.haveW && now.After(t.prevT) {
			dt := now.Sub(t.prevT)
			t.j += (t.prevW + r.Watts) / 2 * dt.Seconds()
			t.cov += dt
		}
		t.prevW, t.prevT, t.haveW, t.nowW = r.Watts, now, true, r.Watts
	}
}

func (m *Meter) totalJLocked() float64 {
	j := 0.0
	for _, t := range m.tracks {
		if m.total[t.s] {
			j += t.joules()
		}
	}
	return j
}

func (m *Meter) pushLocked(p point) {
	capacity := 4096
	if m.cfg.Interval > 0 {
		capacity = int(m.cfg.Window/m.cfg.Interval) + 4
	}
	if len(m.ring) >= capacity {
		copy(m.ring, m.ring[1:])
		m.ring = m.ring[:len(m.ring)-1]
	}
	m.ring = append(m.ring, p)
}

func (m *Meter) noteLocked(msg string) {
	for _, p := range m.problems {
		if p == msg {
			return
		}
	}
	if len(m.problems) < 20 {
		m.problems = append(m.problems, msg)
	}
}

// MeasureBaseline measures the machine's draw at rest for d, before work starts, so that
// the marginal cost of classification (energy above that baseline) can be reported beside
// the total. Whatever else runs during it (a stress load of a benchmark) is part of the
// baseline. The draw at rest is that of the quietest of baselineSlices equal slices of
// d: the app measured its baseline as its window first drew, and read 1.6 to 2 W of an
// app that drew 0.1 to 0.3 W at rest between runs, so its joules per cell above idle
// came out low (helper-52). A steady load reads the same in every slice. It blocks for
// d unless ctx ends first.
func (m *Meter) MeasureBaseline(ctx context.Context, d time.Duration) error {
	watts, dur, err := m.quietest(ctx, d)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.baseline = baseline{watts: watts, dur: dur, measured: true}
	return nil
}

// LowerBaseline measures the draw at rest again, between runs, and keeps it where it is
// lower than the baseline held (or none is held): the baseline measured at launch reads
// the app still loading its pack and drawing its first window (1.19 W against 0.24 W at
// rest between runs on the reference machine), so the first runs' energy above idle came
// out low. A measured window that opens (Begin) while it measures makes it keep nothing:
// that was not rest. It reports whether the baseline was lowered.
func (m *Meter) LowerBaseline(ctx context.Context, d time.Duration) (bool, error) {
	m.mu.Lock()
	began, running := m.began, m.running
	m.mu.Unlock()
	if running {
		return false, nil
	}
	watts, dur, err := m.quietest(ctx, d)
	if err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.running || !m.began.Equal(began) || (m.baseline.measured && watts >= m.baseline.watts) {
		return false, nil
	}
	m.baseline = baseline{watts: watts, dur: dur, measured: true}
	return true, nil
}

// quietest is the mean draw of the quietest of baselineSlices equal slices of d, and the
// time they covered.
func (m *Meter) quietest(ctx context.Context, d time.Duration) (float64, time.Duration, error) {
	best, total := math.Inf(1), time.Duration(0)
	m.Sample()
	for range baselineSlices {
		m.mu.Lock()
		j0, t0 := m.totalJLocked(), m.lastT
		m.mu.Unlock()
		if err := m.cfg.Sleep(ctx, d/baselineSlices); err != nil {
			return 0, 0, fmt.Errorf("idle baseline: %w", err)
		}
		m.Sample()
		m.mu.Lock()
		dt, j := m.lastT.Sub(t0), m.totalJLocked()-j0
		m.mu.Unlock()
		if dt <= 0 {
			return 0, 0, fmt.Errorf("idle baseline: no time passed")
		}
		best, total = math.Min(best, j/dt.Seconds()), total+dt
	}
	return best, total, nil
}

// baselineSlices is how many slices MeasureBaseline cuts its time into, keeping the
// quietest.
const baselineSlices = 3

// Baseline is the draw at rest the next window will be measured against, and whether
// one is held.
func (m *Meter) Baseline() (watts float64, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.baseline.watts, m.baseline.measured
}

// SetBaseline declares the idle draw in watts instead of measuring it (a baseline measured
// earlier in the session, or a known figure).
func (m *Meter) SetBaseline(watts float64, measuredOver time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.baseline = baseline{watts: watts, dur: measuredOver, measured: true}
}

// Begin opens the measured window: it samples, then counts cells, latency, energy, CPU and
// the RSS peak from here. It resets what an earlier window counted (not the baseline).
func (m *Meter) Begin() {
	reset := ResetPeakRSS() == nil
	m.Sample()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.began, m.ended, m.running = m.lastT, time.Time{}, true
	m.windowBase = m.baseline
	m.frozenJ, m.excludedJ, m.excludedDur, m.paused = nil, make([]float64, len(m.tracks)), 0, false
	m.cells, m.frames, m.batches = 0, 0, 0
	m.cellsAtSample, m.framesAtSample = 0, 0
	m.hist.Reset()
	m.beginJ = make([]float64, len(m.tracks))
	m.beginCov = make([]time.Duration, len(m.tracks))
	for i, t := range m.tracks {
		m.beginJ[i], m.beginCov[i] = t.joules(), t.cov
		t.errs, t.lastE, t.dropped = 0, nil, 0
	}
	m.beginProc = m.lastProc
	m.hwmReset = reset
	m.peakRSS = m.lastProc.RSS
	m.ring = m.ring[:0]
	m.ring = append(m.ring, point{t: m.began, joules: 0})
	m.problems = nil
}

// End closes the measured window with a last sample and returns its snapshot; later
// observations are ignored until the next Begin.
func (m *Meter) End() Snapshot {
	m.mu.Lock()
	if m.paused && m.running { // ended while paused: the pause is not part of the window
		m.excludedDur += m.cfg.Now().Sub(m.pausedAt)
		m.paused = false
		m.mu.Unlock()
		m.sampleMu.Lock()
		m.mu.Lock()
		now := m.cfg.Now()
		m.lastT, m.ended, m.running = now, now, false // frozenJ stays the pause's
		m.mu.Unlock()
		m.sampleMu.Unlock()
		return m.Snapshot()
	}
	m.mu.Unlock()
	m.sample(true)
	return m.Snapshot()
}
