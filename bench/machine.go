package bench

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Machine describes where a benchmark ran, for the report.
type Machine struct {
	CPUModel   string
	Cores      int    // logical CPUs the process may use
	Governor   string // cpufreq scaling governor, or why it is not known
	Kernel     string
	MemoryMB   int
	GoVersion  string
	ORTVersion string
	Hostname   string
	LoadBefore string // /proc/loadavg's 1, 5 and 15 minute averages at the start
	LoadAfter  string
}

// DescribeMachine reads /proc and /sys (below sysRoot, normally "/sys").
func DescribeMachine(sysRoot, ortVersion string) Machine {
	m := Machine{Cores: runtime.NumCPU(), GoVersion: runtime.Version(), ORTVersion: ortVersion,
		CPUModel: cpuModel(), Kernel: firstLine("/proc/sys/kernel/osrelease"), LoadBefore: LoadAverage()}
	m.Hostname, _ = os.Hostname()
	if g := firstLine(sysRoot + "/devices/system/cpu/cpu0/cpufreq/scaling_governor"); g != "" {
		m.Governor = g
	} else {
		m.Governor = "not readable (no cpufreq in " + sysRoot + "/devices/system/cpu/cpu0: a virtual machine or a fixed-frequency CPU)"
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if fs := strings.Fields(sc.Text()); len(fs) >= 2 && fs[0] == "MemTotal:" {
				if kb, err := strconv.Atoi(fs[1]); err == nil {
					m.MemoryMB = kb / 1024
				}
			}
		}
		f.Close()
	}
	return m
}

// LoadAverage returns the 1, 5 and 15 minute load averages, e.g. "0.52 0.40 0.31".
func LoadAverage() string {
	f := strings.Fields(firstLine("/proc/loadavg"))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "model name", "Model", "Hardware":
			if v = strings.TrimSpace(v); v != "" {
				return v
			}
		}
	}
	return runtime.GOARCH
}

func firstLine(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimSpace(line)
}

// userHZ is the unit of /proc/stat's times (USER_HZ, 100 on every Linux architecture).
const userHZ = 100

// SystemCPU returns the CPU time every process of the machine has used since boot (user,
// nice, system, irq, softirq) plus the time a hypervisor took from this VM (steal), from
// /proc/stat. Less this process's CPU time over the same window, it is what other work
// took while a benchmark ran.
func SystemCPU() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	return parseProcStat(b)
}

func parseProcStat(b []byte) (time.Duration, error) {
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat: first line %q is not the cpu total", line)
	}
	var ticks uint64
	// user nice system idle iowait irq softirq steal: skip idle (4) and iowait (5).
	for i, v := range f[1:9] {
		if i == 3 || i == 4 {
			continue
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %q is not a number", v)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}
