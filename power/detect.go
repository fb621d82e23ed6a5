package power

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"
)

// Problem is a source that exists on this machine but cannot be used, with the reason and
// the fix where there is one (a root-only RAPL counter, a battery driver without power).
type Problem struct {
	Source Source
	Path   string
	Err    error
}

// Error says which source and why.
func (p Problem) Error() string { return fmt.Sprintf("%s: %v", p.Source, p.Err) }

// Options configure Detect. The zero value reads the real machine.
type Options struct {
	Sysfs Sysfs // where sysfs is (tests: a fake tree) and how files are read
	// Runner runs vcgencmd for the Raspberry Pi 5 PMIC; nil looks for vcgencmd on PATH.
	Runner CommandRunner
	// NoPMIC skips the PMIC (tests of other sources on a machine that has vcgencmd).
	NoPMIC bool
	// NVMLLibrary is the NVML library to open ("" means libnvidia-ml.so.1; "-" skips NVML).
	NVMLLibrary string
	// WattsPerCore is the declared figure of the estimate (0: DefaultWattsPerCore).
	WattsPerCore float64
	// CPUTime feeds the estimate (nil: this process's CPU time).
	CPUTime func() (time.Duration, error)
}

// Detection is what Detect found: every usable sensor, the total to report, and the
// sources that exist but cannot be read.
type Detection struct {
	Sensors  []Sensor
	Total    Total
	Problems []Problem
}

// Detect finds every energy and power source of the machine: RAPL, hwmon (with INA3221
// rails), the JetPack 4 INA3221 IIO rails, batteries, the Raspberry Pi 5 PMIC and NVIDIA
// GPUs. When none of them gives a machine total, it adds the CPU-time estimate, labelled
// as such, and Total is that estimate.
func Detect(o Options) Detection {
	var d Detection
	add := func(s []Sensor, p []Problem) {
		d.Sensors = append(d.Sensors, s...)
		d.Problems = append(d.Problems, p...)
	}
	add(detectRAPL(o.Sysfs))
	add(detectHwmon(o.Sysfs))
	add(detectINA3221IIO(o.Sysfs))
	add(detectBatteries(o.Sysfs))
	if !o.NoPMIC {
		add(detectPMIC(o.Runner))
	}
	if o.NVMLLibrary != "-" {
		add(detectNVML(o.NVMLLibrary))
	}
	d.Total = ChooseTotal(usableForTotal(d.Sensors))
	if len(d.Total.Sensors) == 0 {
		est := NewEstimate(o.WattsPerCore, o.CPUTime)
		d.Sensors = append(d.Sensors, est)
		d.Total = ChooseTotal([]Sensor{est})
	}
	for _, p := range d.Problems {
		slog.Debug("power source unusable", "source", p.Source, "path", p.Path, "err", p.Err)
	}
	return d
}

// usableForTotal leaves out batteries that are not discharging now: on mains power the
// battery says nothing about the machine's draw.
func usableForTotal(sensors []Sensor) []Sensor {
	var out []Sensor
	for _, s := range sensors {
		if s.Info().Source == SourceBattery {
			if _, err := s.Read(); err != nil {
				continue
			}
		}
		out = append(out, s)
	}
	return out
}

// describeReadError turns a failed read of a sysfs file into a message that names the file
// and what to do.
func describeReadError(s Sysfs, file string, err error) error {
	rel := s.Rel(file)
	switch {
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%s is not readable by this user (%w): run phytoscreen as a user who may read it, or `sudo chmod o+r %s`", rel, err, rel)
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s has gone (%w): the driver was unloaded or the device removed", rel, err)
	}
	if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
		return fmt.Errorf("read %s: %w", rel, pe.Err)
	}
	return err
}
