package power

import (
	"fmt"
	"time"
)

// DefaultWattsPerCore is the declared figure behind the estimate: what one fully busy core
// of a desk machine draws above idle. A 65 W desktop processor with 6 cores is about 10 W a
// core under load. It is a declaration, not a measurement, and every figure derived from it
// is labelled as an estimate.
const DefaultWattsPerCore = 10.0

// estimate turns this process's CPU time into energy: joules = CPU seconds x watts per core.
// It counts only this process's work (the classifier, and any load it runs itself), never
// the rest of the machine, and nothing for idle.
type estimate struct {
	info         Info
	wattsPerCore float64
	cpu          func() (time.Duration, error)
}

// NewEstimate returns the fallback sensor used when the machine has no readable energy
// source. cpu returns the process's CPU time (nil: ProcessCPU).
func NewEstimate(wattsPerCore float64, cpu func() (time.Duration, error)) Sensor {
	if wattsPerCore <= 0 {
		wattsPerCore = DefaultWattsPerCore
	}
	if cpu == nil {
		cpu = ProcessCPU
	}
	return &estimate{wattsPerCore: wattsPerCore, cpu: cpu, info: Info{
		ID: "estimate:cpu-time", Label: fmt.Sprintf("estimate: CPU time x %g W/core", wattsPerCore),
		Source: SourceEstimate, Scope: ScopeOther, Kind: Counter, Path: "getrusage(RUSAGE_SELF)",
		Note: fmt.Sprintf("estimate from this process's CPU time x a declared %g W per busy core; not a reading", wattsPerCore),
	}}
}

// Info implements Sensor.
func (e *estimate) Info() Info { return e.info }

// Read implements Sensor.
func (e *estimate) Read() (Reading, error) {
	d, err := e.cpu()
	if err != nil {
		return Reading{}, err
	}
	// CPU nanoseconds x W = nanojoules; /1000 = microjoules.
	return Reading{EnergyUJ: uint64(float64(d.Nanoseconds()) * e.wattsPerCore / 1e3)}, nil
}
