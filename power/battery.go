package power

import (
	"errors"
	"fmt"
	"path/filepath"
)

// ErrNotDischarging is returned (wrapped) by a battery sensor while the machine runs on
// mains power: the battery's figures then say nothing about what the machine draws.
var ErrNotDischarging = errors.New("battery is not discharging")

// battery reads /sys/class/power_supply/<name>: power_now (µW) when the driver has it,
// else current_now (µA) x voltage_now (µV); only while its status is Discharging.
type battery struct {
	info Info
	fs   Sysfs
	dir  string
}

// Info implements Sensor.
func (b *battery) Info() Info { return b.info }

// Read implements Sensor.
func (b *battery) Read() (Reading, error) {
	st, err := b.fs.String(filepath.Join(b.dir, "status"))
	if err != nil {
		return Reading{}, describeReadError(b.fs, filepath.Join(b.dir, "status"), err)
	}
	if st != "Discharging" {
		return Reading{}, fmt.Errorf("%s: status %q: %w (unplug the charger to measure on battery)", b.fs.Rel(b.dir), st, ErrNotDischarging)
	}
	if pf := filepath.Join(b.dir, "power_now"); b.fs.Exists(pf) {
		p, err := b.fs.Int(pf)
		if err != nil {
			return Reading{}, describeReadError(b.fs, pf, err)
		}
		return Reading{Watts: float64(abs(p)) * 1e-6}, nil
	}
	i, err := b.fs.Int(filepath.Join(b.dir, "current_now"))
	if err != nil {
		return Reading{}, describeReadError(b.fs, filepath.Join(b.dir, "current_now"), err)
	}
	v, err := b.fs.Int(filepath.Join(b.dir, "voltage_now"))
	if err != nil {
		return Reading{}, describeReadError(b.fs, filepath.Join(b.dir, "voltage_now"), err)
	}
	// Some drivers report the discharge current as negative.
	return Reading{Watts: float64(abs(i)) * float64(abs(v)) * 1e-12}, nil
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// detectBatteries finds the system's batteries (type Battery, not a peripheral's: scope
// Device is a mouse or a headset). A battery is listed whatever its status; while it is not
// discharging its readings fail with ErrNotDischarging and it is not chosen as the total.
func detectBatteries(s Sysfs) ([]Sensor, []Problem) {
	var sensors []Sensor
	var problems []Problem
	for _, dir := range s.Glob("class/power_supply/*") {
		if t, err := s.String(filepath.Join(dir, "type")); err != nil || t != "Battery" {
			continue
		}
		if sc, err := s.String(filepath.Join(dir, "scope")); err == nil && sc == "Device" {
			continue
		}
		hasPower := s.Exists(filepath.Join(dir, "power_now"))
		hasVI := s.Exists(filepath.Join(dir, "current_now")) && s.Exists(filepath.Join(dir, "voltage_now"))
		if !hasPower && !hasVI {
			problems = append(problems, Problem{Source: SourceBattery, Path: s.Rel(dir),
				Err: fmt.Errorf("%s has neither power_now nor current_now and voltage_now: its driver reports no power", s.Rel(dir))})
			continue
		}
		name := filepath.Base(dir)
		path := s.Rel(filepath.Join(dir, "power_now"))
		if !hasPower {
			path = s.Rel(filepath.Join(dir, "current_now")) + " x voltage_now"
		}
		sensors = append(sensors, &battery{info: Info{ID: "battery:" + name, Label: "battery " + name + " (whole machine, while discharging)",
			Source: SourceBattery, Scope: ScopeBoard, Kind: Gauge, Path: path,
			Note: "only meaningful while discharging"}, fs: s, dir: dir})
	}
	return sensors, problems
}
