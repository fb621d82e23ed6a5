package power

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
)

// fileGauge is a power attribute file: watts = value x scale.
type fileGauge struct {
	info  Info
	fs    Sysfs
	file  string
	scale float64 // 1e-6 for hwmon microwatts, 1e-3 for the iio milliwatts
}

// Info implements Sensor.
func (g *fileGauge) Info() Info { return g.info }

// Read implements Sensor.
func (g *fileGauge) Read() (Reading, error) {
	v, err := g.fs.Uint(g.file)
	if err != nil {
		return Reading{}, describeReadError(g.fs, g.file, err)
	}
	return Reading{Watts: float64(v) * g.scale}, nil
}

// fileCounter is a cumulative energy attribute file in microjoules: a RAPL zone's
// energy_uj (which wraps at Info.MaxUJ) or an hwmon energy*_input (64-bit, no wrap).
type fileCounter struct {
	info Info
	fs   Sysfs
	file string
}

// Info implements Sensor.
func (c *fileCounter) Info() Info { return c.info }

// Read implements Sensor.
func (c *fileCounter) Read() (Reading, error) {
	v, err := c.fs.Uint(c.file)
	if err != nil {
		return Reading{}, describeReadError(c.fs, c.file, err)
	}
	return Reading{EnergyUJ: v}, nil
}

// voltAmpGauge multiplies a voltage file by a current file: INA3221 rails give millivolts
// and milliamps, so their product is microwatts.
type voltAmpGauge struct {
	info         Info
	fs           Sysfs
	vFile, iFile string
	scale        float64 // watts per unit of the product
}

// Info implements Sensor.
func (g *voltAmpGauge) Info() Info { return g.info }

// Read implements Sensor.
func (g *voltAmpGauge) Read() (Reading, error) {
	v, err := g.fs.Int(g.vFile)
	if err != nil {
		return Reading{}, describeReadError(g.fs, g.vFile, err)
	}
	i, err := g.fs.Int(g.iFile)
	if err != nil {
		return Reading{}, describeReadError(g.fs, g.iFile, err)
	}
	return Reading{Watts: float64(v) * float64(i) * g.scale}, nil
}

// boardInputRails are the INA3221 channel labels that measure the board's input: the total.
// VDD_IN on Jetson Orin and Xavier (JetPack 5 and 6), POM_5V_IN on Jetson Nano and TX2
// (JetPack 4). Every other rail (VDD_CPU_GPU_CV, VDD_SOC, POM_5V_GPU, ...) is inside it.
var boardInputRails = map[string]bool{"VDD_IN": true, "POM_5V_IN": true}

var (
	powerAttr  = regexp.MustCompile(`^power(\d+)_(input|average)$`)
	energyAttr = regexp.MustCompile(`^energy(\d+)_input$`)
	inAttr     = regexp.MustCompile(`^in(\d+)_label$`)
)

// detectHwmon finds hwmon power and energy sensors under /sys/class/hwmon: power*_input or
// power*_average (microwatts), energy*_input (microjoules), and INA3221 channels as the
// product of in*_input (mV) and curr*_input (mA) labelled by in*_label. Older kernels keep
// the attributes in the device/ subfolder; both places are read.
func detectHwmon(s Sysfs) ([]Sensor, []Problem) {
	var sensors []Sensor
	var problems []Problem
	for _, dir := range s.Glob("class/hwmon/hwmon*") {
		chip, err := s.String(filepath.Join(dir, "name"))
		if err != nil {
			chip, err = s.String(filepath.Join(dir, "device", "name"))
			if err != nil {
				continue
			}
		}
		for _, attrDir := range []string{dir, filepath.Join(dir, "device")} {
			found, probs := hwmonAttrs(s, chip, filepath.Base(dir), attrDir)
			sensors = append(sensors, found...)
			problems = append(problems, probs...)
			if len(found) > 0 || len(probs) > 0 {
				break
			}
		}
	}
	return sensors, problems
}

func hwmonAttrs(s Sysfs, chip, hw, dir string) ([]Sensor, []Problem) {
	var sensors []Sensor
	var problems []Problem
	names := globSorted(filepath.Join(dir, "*"))
	has := map[string]bool{}
	for _, n := range names {
		has[filepath.Base(n)] = true
	}
	check := func(file string) bool {
		if _, err := s.Uint(file); err != nil {
			problems = append(problems, Problem{Source: SourceHwmon, Path: s.Rel(file), Err: describeReadError(s, file, err)})
			return false
		}
		return true
	}
	label := func(prefix, idx string) string {
		if l, err := s.String(filepath.Join(dir, prefix+idx+"_label")); err == nil && l != "" {
			return l
		}
		return prefix + idx
	}
	if chip == "ina3221" {
		for _, n := range names {
			m := inAttr.FindStringSubmatch(filepath.Base(n))
			if m == nil {
				continue
			}
			rail, _ := s.String(n)
			vf, cf := filepath.Join(dir, "in"+m[1]+"_input"), filepath.Join(dir, "curr"+m[1]+"_input")
			if rail == "" || rail == "NC" || !has["curr"+m[1]+"_input"] || !has["in"+m[1]+"_input"] {
				continue
			}
			if en, err := s.String(filepath.Join(dir, "in"+m[1]+"_enable")); err == nil && en == "0" {
				continue
			}
			if !check(vf) || !check(cf) {
				continue
			}
			sensors = append(sensors, &voltAmpGauge{info: ina3221Info(rail, s.Rel(vf)+" x "+filepath.Base(cf)), fs: s, vFile: vf, iFile: cf, scale: 1e-6})
		}
		return sensors, problems
	}
	for _, n := range names {
		base := filepath.Base(n)
		if m := powerAttr.FindStringSubmatch(base); m != nil {
			if m[2] == "average" && has["power"+m[1]+"_input"] {
				continue // the instantaneous value is preferred
			}
			if !check(n) {
				continue
			}
			l := label("power", m[1])
			scope, note := hwmonScope(chip, l)
			sensors = append(sensors, &fileGauge{info: Info{ID: "hwmon:" + chip + ":" + l, Label: fmt.Sprintf("%s %s (%s)", chip, l, hw),
				Source: SourceHwmon, Scope: scope, Kind: Gauge, Path: s.Rel(n), Note: note}, fs: s, file: n, scale: 1e-6})
		}
		if m := energyAttr.FindStringSubmatch(base); m != nil {
			if !check(n) {
				continue
			}
			l := label("energy", m[1])
			scope, note := hwmonScope(chip, l)
			sensors = append(sensors, &fileCounter{info: Info{ID: "hwmon:" + chip + ":" + l, Label: fmt.Sprintf("%s %s (%s)", chip, l, hw),
				Source: SourceHwmon, Scope: scope, Kind: Counter, Path: s.Rel(n), Note: note}, fs: s, file: n})
		}
	}
	return sensors, problems
}

func ina3221Info(rail, path string) Info {
	in := Info{ID: "ina3221:" + rail, Source: SourceINA3221, Kind: Gauge, Path: path, Scope: ScopePart,
		Label: "INA3221 " + rail + " (sub-rail, inside the board input)"}
	if boardInputRails[rail] {
		in.Scope, in.Label = ScopeBoard, "INA3221 "+rail+" (board input)"
	}
	return in
}

// hwmonScope classifies an hwmon sensor by its driver and label.
func hwmonScope(chip, label string) (Scope, string) {
	switch {
	case chip == "power_meter":
		return ScopeBoard, "ACPI power meter: the whole system as the firmware measures it"
	case chip == "amdgpu" || chip == "nouveau" || chip == "radeon":
		return ScopeGPU, ""
	case chip == "amd_energy" || chip == "zenergy" || chip == "zenpower":
		if strings.HasPrefix(label, "Esocket") || strings.HasPrefix(label, "SVI2_P_SoC") || strings.HasPrefix(label, "socket") {
			return ScopeCPU, ""
		}
		return ScopePart, "per-core counter, inside the socket figure"
	}
	return ScopeOther, "generic hwmon sensor; what it covers depends on the board"
}

// detectINA3221IIO finds the INA3221 rails of JetPack 4 (Jetson Nano, TX1, TX2), which the
// ina3221x driver exposes through IIO: rail_name_N and in_powerN_input in milliwatts.
func detectINA3221IIO(s Sysfs) ([]Sensor, []Problem) {
	var sensors []Sensor
	var problems []Problem
	for _, dev := range s.Glob("bus/i2c/drivers/ina3221x/*/iio:device*") {
		for _, rn := range globSorted(filepath.Join(dev, "rail_name_*")) {
			idx := strings.TrimPrefix(filepath.Base(rn), "rail_name_")
			rail, err := s.String(rn)
			if err != nil || rail == "" || rail == "NC" {
				continue
			}
			pf := filepath.Join(dev, "in_power"+idx+"_input")
			if !s.Exists(pf) {
				continue
			}
			if _, err := s.Uint(pf); err != nil {
				problems = append(problems, Problem{Source: SourceINA3221, Path: s.Rel(pf), Err: describeReadError(s, pf, err)})
				continue
			}
			sensors = append(sensors, &fileGauge{info: ina3221Info(rail, s.Rel(pf)), fs: s, file: pf, scale: 1e-3})
		}
	}
	return sensors, problems
}
