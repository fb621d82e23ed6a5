package power

import (
	"fmt"
	"path/filepath"
	"strings"
)

// RAPLFix is what to tell a user whose RAPL counters are root-only (Linux 5.10 and later
// made energy_uj readable by root only, after the PLATYPUS side channel).
const RAPLFix = "RAPL energy counters are readable by root only since Linux 5.10. To let phytoscreen read them, run " +
	"`sudo chmod o+r /sys/class/powercap/intel-rapl:*/energy_uj /sys/class/powercap/intel-rapl:*:*/energy_uj` (until the next reboot), " +
	"or make it permanent with a udev rule: " +
	"`echo 'SUBSYSTEM==\"powercap\", ACTION==\"add\", RUN+=\"/bin/chmod o+r /sys%p/energy_uj\"' | sudo tee /etc/udev/rules.d/60-phytoscreen-rapl.rules` then reboot"

// detectRAPL finds the powercap RAPL zones (/sys/class/powercap/intel-rapl:N and their
// sub-zones intel-rapl:N:M; AMD Zen processors appear under the same name). The MMIO
// duplicate (intel-rapl-mmio) measures the same package and is left out. A zone without an
// energy counter is skipped; a counter this user may not read is a Problem carrying the fix.
func detectRAPL(s Sysfs) ([]Sensor, []Problem) {
	var sensors []Sensor
	var problems []Problem
	denied := 0
	for _, dir := range s.Glob("class/powercap/intel-rapl:*") {
		base := filepath.Base(dir)
		depth := strings.Count(base, ":")
		name, err := s.String(filepath.Join(dir, "name"))
		if err != nil {
			name = base
		}
		energy := filepath.Join(dir, "energy_uj")
		if !s.Exists(energy) {
			continue
		}
		id := "rapl:" + name
		scope, what := raplScope(name, depth)
		if depth > 1 {
			parent := filepath.Join(filepath.Dir(dir), base[:strings.LastIndex(base, ":")])
			pname, err := s.String(filepath.Join(parent, "name"))
			if err != nil {
				pname = filepath.Base(parent)
			}
			id = "rapl:" + pname + "/" + name
		}
		if _, err := s.Uint(energy); err != nil {
			if IsPermission(err) {
				denied++
				if denied == 1 {
					problems = append(problems, Problem{Source: SourceRAPL, Path: s.Rel(energy), Err: fmt.Errorf("%s is not readable by this user: %s", s.Rel(energy), RAPLFix)})
				}
				continue
			}
			problems = append(problems, Problem{Source: SourceRAPL, Path: s.Rel(energy), Err: describeReadError(s, energy, err)})
			continue
		}
		max, err := s.Uint(filepath.Join(dir, "max_energy_range_uj"))
		if err != nil {
			problems = append(problems, Problem{Source: SourceRAPL, Path: s.Rel(filepath.Join(dir, "max_energy_range_uj")),
				Err: fmt.Errorf("%s: %v; the zone is used but a counter wrap will drop one interval", s.Rel(dir), err)})
			max = 0
		}
		sensors = append(sensors, &fileCounter{
			info: Info{ID: id, Label: fmt.Sprintf("RAPL %s (%s)", strings.TrimPrefix(id, "rapl:"), what), Source: SourceRAPL,
				Scope: scope, Kind: Counter, Path: s.Rel(energy), MaxUJ: max},
			fs: s, file: energy,
		})
	}
	return sensors, problems
}

// raplScope classifies a zone by name and depth. core and uncore (PP0, PP1) are inside the
// package; the DRAM domain is outside it (Intel SDM vol. 3B, 15.10.1) wherever sysfs lists
// it; psys covers the platform (package, DRAM and more) on the machines that have it.
func raplScope(name string, depth int) (Scope, string) {
	switch {
	case name == "psys":
		return ScopeBoard, "platform"
	case name == "dram":
		return ScopeDRAM, "memory"
	case depth == 1 && strings.HasPrefix(name, "package"):
		return ScopeCPU, "CPU package"
	case depth > 1:
		return ScopePart, "part of the package"
	}
	return ScopeOther, "unknown zone"
}
