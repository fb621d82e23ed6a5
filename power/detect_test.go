package power

import (
	"context"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// copyTree copies a fake sysfs tree from testdata into a temporary folder that the test
// may change.
func copyTree(t *testing.T, name string) string {
	t.Helper()
	dst := t.TempDir()
	src := filepath.Join("testdata", name)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func writeAttr(t *testing.T, root, rel, val string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(root, rel), []byte(val+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func detectTree(root string) Detection {
	return Detect(Options{Sysfs: Sysfs{Root: root}, NoPMIC: true, NVMLLibrary: "-"})
}

func ids(ss []Sensor) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Info().ID)
	}
	sort.Strings(out)
	return out
}

func find(t *testing.T, d Detection, id string) Sensor {
	t.Helper()
	for _, s := range d.Sensors {
		if s.Info().ID == id {
			return s
		}
	}
	t.Fatalf("no sensor %s among %v", id, ids(d.Sensors))
	return nil
}

func TestDetectTrees(t *testing.T) {
	tests := []struct {
		tree     string
		sensors  []string
		total    string
		estimate bool
		scopes   map[string]Scope
		problems int
	}{
		{tree: "intel-laptop", sensors: []string{"battery:BAT0", "rapl:package-0", "rapl:package-0/core", "rapl:package-0/uncore", "rapl:psys"},
			total: "rapl:psys", scopes: map[string]Scope{"rapl:package-0": ScopeCPU, "rapl:package-0/core": ScopePart, "rapl:psys": ScopeBoard}},
		// package-1's dram zone has no energy_uj (a missing zone): it is skipped, the rest summed;
		// the ACPI power meter covers the whole board and is the total.
		{tree: "xeon-server", sensors: []string{"hwmon:power_meter:power1", "rapl:package-0", "rapl:package-0/dram", "rapl:package-1"},
			total: "hwmon:power_meter:power1", scopes: map[string]Scope{"rapl:package-0/dram": ScopeDRAM, "hwmon:power_meter:power1": ScopeBoard}},
		{tree: "jetson-orin-nano", sensors: []string{"ina3221:VDD_CPU_GPU_CV", "ina3221:VDD_IN", "ina3221:VDD_SOC"},
			total: "ina3221:VDD_IN", scopes: map[string]Scope{"ina3221:VDD_IN": ScopeBoard, "ina3221:VDD_SOC": ScopePart}},
		{tree: "jetson-nano-jp4", sensors: []string{"ina3221:POM_5V_CPU", "ina3221:POM_5V_GPU", "ina3221:POM_5V_IN"},
			total: "ina3221:POM_5V_IN"},
		// Socket and GPU are disjoint and summed; the per-core counters are inside the socket.
		{tree: "amd-workstation", sensors: []string{"hwmon:amd_energy:Ecore000", "hwmon:amd_energy:Ecore001", "hwmon:amd_energy:Ecore002",
			"hwmon:amd_energy:Ecore003", "hwmon:amd_energy:Esocket0", "hwmon:amdgpu:power1"},
			total: "hwmon:amd_energy:Esocket0 + hwmon:amdgpu:power1"},
		{tree: "laptop-discharging", sensors: []string{"battery:BAT1"}, total: "battery:BAT1"},
		{tree: "bare-vm", sensors: []string{"estimate:cpu-time"}, total: "estimate:cpu-time", estimate: true},
	}
	for _, tc := range tests {
		t.Run(tc.tree, func(t *testing.T) {
			d := detectTree(filepath.Join("testdata", tc.tree))
			if got := ids(d.Sensors); strings.Join(got, ",") != strings.Join(tc.sensors, ",") {
				t.Errorf("sensors %v, want %v", got, tc.sensors)
			}
			if got := d.Total.Name(); got != tc.total {
				t.Errorf("total %q, want %q (%s)", got, tc.total, d.Total.Why)
			}
			if d.Total.Estimated() != tc.estimate {
				t.Errorf("total estimated = %v, want %v", d.Total.Estimated(), tc.estimate)
			}
			for id, sc := range tc.scopes {
				if got := find(t, d, id).Info().Scope; got != sc {
					t.Errorf("%s scope %v, want %v", id, got, sc)
				}
			}
			if len(d.Problems) != tc.problems {
				t.Errorf("problems %v, want %d", d.Problems, tc.problems)
			}
			for _, s := range d.Sensors {
				if s.Info().Source == SourceBattery && !strings.Contains(tc.tree, "discharging") {
					continue // a charging battery reads an error; tested below
				}
				if _, err := s.Read(); err != nil {
					t.Errorf("%s: %v", s.Info().ID, err)
				}
			}
		})
	}
}

// TestReadUnits checks each source's units against the raw files: the figures a user sees
// must be the watts the hardware reported.
func TestReadUnits(t *testing.T) {
	tests := []struct {
		tree, id string
		watts    float64
		uj       uint64
	}{
		{"jetson-orin-nano", "ina3221:VDD_IN", 5.072 * 1.256, 0}, // mV x mA
		{"jetson-orin-nano", "ina3221:VDD_SOC", 5.064 * 0.584, 0},
		{"jetson-nano-jp4", "ina3221:POM_5V_IN", 3.548, 0},      // mW
		{"laptop-discharging", "battery:BAT1", 1.234 * 11.4, 0}, // µA x µV
		{"xeon-server", "hwmon:power_meter:power1", 212, 0},     // µW, attribute in device/
		{"amd-workstation", "hwmon:amdgpu:power1", 18, 0},
		{"amd-workstation", "hwmon:amd_energy:Esocket0", 0, 9834110000},
		{"intel-laptop", "rapl:package-0/core", 0, 17390229131},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			s := find(t, detectTree(filepath.Join("testdata", tc.tree)), tc.id)
			r, err := s.Read()
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(r.Watts-tc.watts) > 1e-9 || r.EnergyUJ != tc.uj {
				t.Errorf("read %+v, want %g W %d µJ", r, tc.watts, tc.uj)
			}
		})
	}
}

func TestChargingBatteryIsNotTheTotal(t *testing.T) {
	d := detectTree(filepath.Join("testdata", "intel-laptop"))
	_, err := find(t, d, "battery:BAT0").Read()
	if !errors.Is(err, ErrNotDischarging) || !strings.Contains(err.Error(), "Charging") {
		t.Errorf("charging battery read: %v, want ErrNotDischarging naming the status", err)
	}
	// With RAPL gone, a charging battery still must not become the total.
	root := copyTree(t, "intel-laptop")
	if err := os.RemoveAll(filepath.Join(root, "class", "powercap")); err != nil {
		t.Fatal(err)
	}
	if d := detectTree(root); !d.Total.Estimated() {
		t.Errorf("total %s, want the estimate while the battery charges", d.Total.Name())
	}
}

// TestRAPLRootOnly simulates Linux >= 5.10, where energy_uj is mode 0400 root: the read
// fails with EACCES. Tests run as root here, where chmod 000 would not stop a read, so the
// denial is injected through Sysfs.ReadFile.
func TestRAPLRootOnly(t *testing.T) {
	root := filepath.Join("testdata", "intel-laptop")
	deny := func(name string) ([]byte, error) {
		if filepath.Base(name) == "energy_uj" {
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
		}
		return os.ReadFile(name)
	}
	d := Detect(Options{Sysfs: Sysfs{Root: root, ReadFile: deny}, NoPMIC: true, NVMLLibrary: "-"})
	if !d.Total.Estimated() {
		t.Errorf("total %s, want the estimate when RAPL is unreadable", d.Total.Name())
	}
	if len(d.Problems) != 1 {
		t.Fatalf("problems %v, want one (reported once, not per zone)", d.Problems)
	}
	msg := d.Problems[0].Error()
	for _, want := range []string{"/sys/class/powercap/intel-rapl:0/energy_uj", "sudo chmod o+r", "udev", "Linux 5.10"} {
		if !strings.Contains(msg, want) {
			t.Errorf("problem %q lacks %q", msg, want)
		}
	}
}

// TestRAPLRootOnlyOnDisk does the same with a real chmod 000 file where the test user is
// not root; as root the file stays readable and the test says so.
func TestRAPLRootOnlyOnDisk(t *testing.T) {
	root := copyTree(t, "intel-laptop")
	f := filepath.Join(root, "class/powercap/intel-rapl:0/energy_uj")
	if err := os.Chmod(f, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := os.ReadFile(f); err == nil {
		t.Skip("running as root: a mode 000 file is still readable, so the denial is tested by injection (TestRAPLRootOnly)")
	}
	d := detectTree(root)
	if len(d.Problems) == 0 || !strings.Contains(d.Problems[0].Error(), "chmod o+r") {
		t.Errorf("problems %v, want the RAPL fix", d.Problems)
	}
}

func TestZoneVanishes(t *testing.T) {
	root := copyTree(t, "intel-laptop")
	s := find(t, detectTree(root), "rapl:psys")
	if err := os.Remove(filepath.Join(root, "class/powercap/intel-rapl:1/energy_uj")); err != nil {
		t.Fatal(err)
	}
	_, err := s.Read()
	if err == nil || !strings.Contains(err.Error(), "/sys/class/powercap/intel-rapl:1/energy_uj has gone") {
		t.Errorf("read of a removed zone: %v", err)
	}
}

func TestCounterDelta(t *testing.T) {
	const max = 262143328850 // max_energy_range_uj of the testdata packages
	tests := []struct {
		prev, cur, max, want uint64
		ok                   bool
	}{
		{1000, 2500, max, 1500, true},
		{max - 850, 1150, max, 2000, true}, // a wrap: 850 µJ to the top, 1150 after
		{max, 0, max, 0, true},
		{5, 5, max, 0, true},
		{2000, 1000, 0, 0, false},    // no range known: backwards is a reset, not a wrap
		{max + 10, 3, max, 0, false}, // above the range: not this counter
	}
	for _, tc := range tests {
		got, ok := CounterDelta(tc.prev, tc.cur, tc.max)
		if got != tc.want || ok != tc.ok {
			t.Errorf("CounterDelta(%d, %d, %d) = %d, %v; want %d, %v", tc.prev, tc.cur, tc.max, got, ok, tc.want, tc.ok)
		}
	}
}

func TestPMIC(t *testing.T) {
	rec, err := os.ReadFile("testdata/vcgencmd/pmic_read_adc-pi5.txt")
	if err != nil {
		t.Fatal(err)
	}
	rails, err := ParsePMIC(rec)
	if err != nil {
		t.Fatal(err)
	}
	if len(rails) != 12 {
		t.Errorf("%d rails, want 12 (EXT5V_V and BATT_V have no current)", len(rails))
	}
	var calls [][]string
	run := func(ctx context.Context, name string, args ...string) ([]byte, error) {
		calls = append(calls, append([]string{name}, args...))
		return rec, nil
	}
	d := Detect(Options{Sysfs: Sysfs{Root: "testdata/bare-vm"}, Runner: run, NVMLLibrary: "-"})
	if d.Total.Name() != "pmic:rails" {
		t.Fatalf("total %s, want pmic:rails", d.Total.Name())
	}
	r, err := d.Total.Sensors[0].Read()
	if err != nil {
		t.Fatal(err)
	}
	// The sum of V x I over the 12 paired rails, worked out separately from the recording
	// (VDD_CORE alone: 0.74944980 V x 1.11625000 A = 0.836573 W).
	if math.Abs(r.Watts-2.2822104316) > 1e-9 {
		t.Errorf("PMIC total %.10f W, want 2.2822104316", r.Watts)
	}
	for _, rl := range rails {
		if rl.Name == "VDD_CORE" && math.Abs(rl.Watts()-0.836573) > 1e-6 {
			t.Errorf("VDD_CORE %.6f W, want 0.836573", rl.Watts())
		}
	}
	if len(calls) == 0 || strings.Join(calls[0], " ") != "vcgencmd pmic_read_adc" {
		t.Errorf("ran %v", calls)
	}
	pi4, _ := os.ReadFile("testdata/vcgencmd/pmic_read_adc-pi4.txt")
	d = Detect(Options{Sysfs: Sysfs{Root: "testdata/bare-vm"}, NVMLLibrary: "-",
		Runner: func(context.Context, string, ...string) ([]byte, error) { return pi4, nil }})
	if !d.Total.Estimated() || len(d.Problems) != 1 || !strings.Contains(d.Problems[0].Error(), "not a Raspberry Pi 5") {
		t.Errorf("Pi 4 output: total %s, problems %v", d.Total.Name(), d.Problems)
	}
}

func removeAll(p string) error { return os.RemoveAll(p) }

// fixed is a sensor with a given Info, for choosing totals.
type fixed struct{ in Info }

func (f fixed) Info() Info             { return f.in }
func (f fixed) Read() (Reading, error) { return Reading{}, nil }

func TestChooseTotal(t *testing.T) {
	s := func(id string, src Source, sc Scope) Sensor {
		return fixed{Info{ID: id, Label: id, Source: src, Scope: sc}}
	}
	est := NewEstimate(0, nil)
	tests := []struct {
		name string
		in   []Sensor
		want string
	}{
		{"psys before battery", []Sensor{s("battery:BAT0", SourceBattery, ScopeBoard), s("rapl:psys", SourceRAPL, ScopeBoard), s("rapl:package-0", SourceRAPL, ScopeCPU)}, "rapl:psys"},
		{"board rail alone, sub-rails never added", []Sensor{s("ina3221:VDD_SOC", SourceINA3221, ScopePart), s("ina3221:VDD_IN", SourceINA3221, ScopeBoard)}, "ina3221:VDD_IN"},
		{"sub-rails alone are no total", []Sensor{s("ina3221:VDD_SOC", SourceINA3221, ScopePart), est}, "estimate:cpu-time"},
		{"RAPL package over amd_energy socket", []Sensor{s("hwmon:amd_energy:Esocket0", SourceHwmon, ScopeCPU), s("rapl:package-0", SourceRAPL, ScopeCPU), s("nvml:gpu0", SourceNVML, ScopeGPU)}, "rapl:package-0 + nvml:gpu0"},
		{"one unknown sensor", []Sensor{s("hwmon:ina226:power1", SourceHwmon, ScopeOther), est}, "hwmon:ina226:power1"},
		{"two unknown sensors: estimate", []Sensor{s("hwmon:a:power1", SourceHwmon, ScopeOther), s("hwmon:b:power1", SourceHwmon, ScopeOther), est}, "estimate:cpu-time"},
		{"readings before the estimate", []Sensor{est, s("rapl:package-0", SourceRAPL, ScopeCPU)}, "rapl:package-0"},
		{"nothing", nil, "none"},
	}
	for _, tc := range tests {
		if got := ChooseTotal(tc.in); got.Name() != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got.Name(), tc.want)
		}
	}
}
