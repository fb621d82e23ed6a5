package power

import (
	"fmt"
	"strings"
)

// Source names the kind of instrument a figure came from.
type Source string

// The sources phytoscreen reads. SourceEstimate is not an instrument: it is computed from
// the process's CPU time and a declared watts-per-core figure.
const (
	SourceRAPL     Source = "rapl"
	SourceHwmon    Source = "hwmon"
	SourceINA3221  Source = "ina3221"
	SourceBattery  Source = "battery"
	SourcePMIC     Source = "pmic"
	SourceNVML     Source = "nvml"
	SourceEstimate Source = "estimate"
)

// Scope says what part of the machine a sensor covers, which decides how sensors combine
// into a machine total: a board sensor is the total on its own; CPU package, DRAM and GPU
// sensors cover disjoint parts and add up; a part (a RAPL sub-zone such as "core", an
// INA3221 sub-rail) is inside another figure and is never added to anything.
type Scope int

// Scopes, from the widest.
const (
	ScopeBoard Scope = iota // the whole board or platform: RAPL psys, VDD_IN, a battery, the Pi PMIC
	ScopeCPU                // a CPU package or socket
	ScopeDRAM               // memory (RAPL dram: outside the package domain)
	ScopeGPU                // a discrete GPU
	ScopePart               // inside another sensor's figure: shown, never summed
	ScopeOther              // a power sensor of unknown coverage (generic hwmon)
)

// String names the scope for reports.
func (s Scope) String() string {
	switch s {
	case ScopeBoard:
		return "board"
	case ScopeCPU:
		return "cpu"
	case ScopeDRAM:
		return "dram"
	case ScopeGPU:
		return "gpu"
	case ScopePart:
		return "part"
	}
	return "other"
}

// MarshalText writes the scope's name (JSON reports).
func (s Scope) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a scope's name.
func (s *Scope) UnmarshalText(b []byte) error {
	for c := ScopeBoard; c <= ScopeOther; c++ {
		if c.String() == string(b) {
			*s = c
			return nil
		}
	}
	return fmt.Errorf("unknown sensor scope %q", b)
}

// Kind says how a sensor reports: a cumulative energy counter or an instantaneous power.
type Kind int

// Sensor kinds.
const (
	// Counter sensors report cumulative microjoules; the meter takes differences, handling
	// a wrap at Info.MaxUJ.
	Counter Kind = iota
	// Gauge sensors report watts at the moment of reading; the meter integrates them over
	// time (trapezoids between samples).
	Gauge
)

// String names the kind.
func (k Kind) String() string {
	if k == Gauge {
		return "gauge"
	}
	return "counter"
}

// MarshalText writes the kind's name (JSON reports).
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a kind's name.
func (k *Kind) UnmarshalText(b []byte) error {
	switch string(b) {
	case "counter":
		*k = Counter
	case "gauge":
		*k = Gauge
	default:
		return fmt.Errorf("unknown sensor kind %q", b)
	}
	return nil
}

// Info describes a sensor.
type Info struct {
	ID     string // unique and stable, e.g. "rapl:package-0", "ina3221:VDD_IN"
	Label  string // for people, e.g. "RAPL package-0 (CPU package)"
	Source Source
	Scope  Scope
	Kind   Kind
	Path   string // the file or command read, for messages
	// MaxUJ is the value at which a Counter wraps back to 0 (RAPL max_energy_range_uj);
	// 0 means the counter does not wrap within the machine's lifetime.
	MaxUJ uint64
	// Note qualifies the figure (an under-estimate, an assumption) in reports.
	Note string
}

// Estimated reports whether the sensor's figures are an estimate rather than a reading.
func (i Info) Estimated() bool { return i.Source == SourceEstimate }

// Reading is one sample of a sensor: EnergyUJ for Counter sensors, Watts for Gauge sensors.
type Reading struct {
	EnergyUJ uint64
	Watts    float64
}

// Sensor reads one source of energy or power. Read is called from the meter's sampling
// goroutine only; implementations need not be safe for concurrent use.
type Sensor interface {
	Info() Info
	Read() (Reading, error)
}

// CounterDelta returns the energy between two readings of a cumulative counter that wraps
// to 0 after reaching max (RAPL's max_energy_range_uj), in microjoules. A reading lower than
// the previous one is a wrap when max is known, giving (max - prev) + cur, the convention of
// the Linux powercap tools. ok is false when the counter went backwards and cannot have
// wrapped, so the interval must be dropped rather than guessed: max unknown, prev above max,
// or a "wrap" that would mean more than half the range in one interval (a reset or a
// glitch: RAPL's range is 262 kJ, minutes at full load, while samples are 100 ms apart).
func CounterDelta(prev, cur, max uint64) (delta uint64, ok bool) {
	if cur >= prev {
		return cur - prev, true
	}
	if max == 0 || prev > max {
		return 0, false
	}
	d := (max - prev) + cur
	if d > max/2 {
		return 0, false
	}
	return d, true
}

// Total is the set of sensors whose sum is the machine's energy, chosen by ChooseTotal.
type Total struct {
	Sensors []Sensor
	// Why explains the choice for reports ("RAPL psys covers the platform", ...).
	Why string
}

// Estimated reports whether the total is an estimate.
func (t Total) Estimated() bool {
	for _, s := range t.Sensors {
		if s.Info().Estimated() {
			return true
		}
	}
	return false
}

// Name lists the sensors summed, e.g. "rapl:package-0 + rapl:dram".
func (t Total) Name() string {
	ids := make([]string, len(t.Sensors))
	for i, s := range t.Sensors {
		ids[i] = s.Info().ID
	}
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, " + ")
}

// ChooseTotal picks the sensors whose sum is the machine's energy without counting any
// joule twice: one board sensor when there is one (RAPL psys before an INA3221 input rail,
// before a battery, before the Pi PMIC); otherwise every CPU package, DRAM and GPU sensor,
// which cover disjoint hardware; otherwise a single sensor of unknown coverage; otherwise
// the estimate. Parts (RAPL core/uncore, INA3221 sub-rails) are never chosen.
func ChooseTotal(sensors []Sensor) Total {
	var board, sum, other, est []Sensor
	for _, s := range sensors {
		in := s.Info()
		switch {
		case in.Estimated():
			est = append(est, s)
		case in.Scope == ScopeBoard:
			board = append(board, s)
		case in.Scope == ScopeCPU || in.Scope == ScopeDRAM || in.Scope == ScopeGPU:
			sum = append(sum, s)
		case in.Scope == ScopeOther:
			other = append(other, s)
		}
	}
	if len(board) > 0 {
		best := board[0]
		for _, s := range board[1:] {
			if boardRank(s.Info()) < boardRank(best.Info()) {
				best = s
			}
		}
		return Total{[]Sensor{best}, fmt.Sprintf("%s covers the whole board; other sensors are parts of it and are not added", best.Info().Label)}
	}
	sum = preferRAPL(sum)
	if len(sum) > 0 {
		return Total{sum, "CPU packages, DRAM and GPUs cover disjoint hardware and are summed; the rest of the board (disks, fans, power supply losses) is not measured"}
	}
	if len(other) == 1 {
		return Total{other, fmt.Sprintf("%s is the only power sensor; what it covers is not known", other[0].Info().Label)}
	}
	if len(est) > 0 {
		return Total{est[:1], "no energy sensor is readable on this machine: " + est[0].Info().Note}
	}
	return Total{Why: "no energy sensor and no estimate configured"}
}

// preferRAPL drops hwmon CPU sensors (amd_energy sockets) when RAPL packages measure the
// same processors, so no socket is counted twice.
func preferRAPL(sum []Sensor) []Sensor {
	rapl := false
	for _, s := range sum {
		if in := s.Info(); in.Scope == ScopeCPU && in.Source == SourceRAPL {
			rapl = true
		}
	}
	if !rapl {
		return sum
	}
	out := sum[:0:0]
	for _, s := range sum {
		if in := s.Info(); in.Scope == ScopeCPU && in.Source != SourceRAPL {
			continue
		}
		out = append(out, s)
	}
	return out
}

func boardRank(in Info) int {
	switch in.Source {
	case SourceRAPL:
		return 0
	case SourceINA3221, SourceHwmon:
		return 1
	case SourceBattery:
		return 2
	}
	return 3
}
