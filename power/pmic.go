package power

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"time"
)

// CommandRunner runs a program and returns its standard output. Tests inject one that
// returns a recorded output.
type CommandRunner func(ctx context.Context, name string, args ...string) ([]byte, error)

// ExecRunner runs the program with os/exec; it is the default CommandRunner.
func ExecRunner(ctx context.Context, name string, args ...string) ([]byte, error) {
	return exec.CommandContext(ctx, name, args...).Output()
}

// PMICRail is one Raspberry Pi 5 PMIC rail as vcgencmd pmic_read_adc reports it.
type PMICRail struct {
	Name  string
	Volts float64
	Amps  float64
}

// Watts is the rail's power.
func (r PMICRail) Watts() float64 { return r.Volts * r.Amps }

var pmicLine = regexp.MustCompile(`^\s*(\S+)_([AV])\s+(?:current|volt)\(\d+\)=([0-9.eE+-]+)[AV]\s*$`)

// ParsePMIC parses the output of `vcgencmd pmic_read_adc`: lines such as
// "VDD_CORE_A current(7)=1.11625000A" and "VDD_CORE_V volt(15)=0.74944980V". It returns the
// rails that have both a current and a voltage, sorted by name; a voltage without a
// current (EXT5V_V, BATT_V) measures no power and is left out.
func ParsePMIC(out []byte) ([]PMICRail, error) {
	volts, amps := map[string]float64{}, map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	lines := 0
	for sc.Scan() {
		m := pmicLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			return nil, fmt.Errorf("pmic_read_adc line %q: %v", sc.Text(), err)
		}
		lines++
		if m[2] == "A" {
			amps[m[1]] = v
		} else {
			volts[m[1]] = v
		}
	}
	var rails []PMICRail
	for name, a := range amps {
		if v, ok := volts[name]; ok {
			rails = append(rails, PMICRail{Name: name, Volts: v, Amps: a})
		}
	}
	if len(rails) == 0 {
		return nil, fmt.Errorf("pmic_read_adc printed %d readings but no rail with both current and voltage: this is not a Raspberry Pi 5 PMIC (output starts %q)", lines, head(out, 80))
	}
	sort.Slice(rails, func(i, j int) bool { return rails[i].Name < rails[j].Name })
	return rails, nil
}

func head(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	return string(b)
}

// pmicSensor sums V x I over the Raspberry Pi 5's PMIC rails.
type pmicSensor struct {
	info Info
	run  CommandRunner
}

const pmicTimeout = 2 * time.Second

// Info implements Sensor.
func (p *pmicSensor) Info() Info { return p.info }

// Read implements Sensor.
func (p *pmicSensor) Read() (Reading, error) {
	ctx, cancel := context.WithTimeout(context.Background(), pmicTimeout)
	defer cancel()
	out, err := p.run(ctx, "vcgencmd", "pmic_read_adc")
	if err != nil {
		return Reading{}, fmt.Errorf("vcgencmd pmic_read_adc: %w", err)
	}
	rails, err := ParsePMIC(out)
	if err != nil {
		return Reading{}, err
	}
	w := 0.0
	for _, r := range rails {
		w += r.Watts()
	}
	return Reading{Watts: w}, nil
}

// detectPMIC asks vcgencmd for the PMIC rails; it is a sensor only when the output parses
// (a Raspberry Pi 4 has vcgencmd but no pmic_read_adc).
func detectPMIC(run CommandRunner) ([]Sensor, []Problem) {
	if run == nil {
		if _, err := exec.LookPath("vcgencmd"); err != nil {
			return nil, nil
		}
		run = ExecRunner
	}
	s := &pmicSensor{run: run, info: Info{ID: "pmic:rails", Label: "Raspberry Pi 5 PMIC (sum of rails)", Source: SourcePMIC,
		Scope: ScopeBoard, Kind: Gauge, Path: "vcgencmd pmic_read_adc",
		Note: "sum of V x I over the PMIC rails: an under-estimate of the wall power (no 5 V input conversion losses, no USB devices)"}}
	if _, err := s.Read(); err != nil {
		return nil, []Problem{{Source: SourcePMIC, Path: "vcgencmd pmic_read_adc", Err: err}}
	}
	return []Sensor{s}, nil
}
