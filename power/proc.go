package power

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime/metrics"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ProcStats is what this process uses: CPU time over all its threads (ONNX Runtime's
// included), resident memory and the Go heap.
type ProcStats struct {
	CPU     time.Duration // user + system time since the process started
	RSS     uint64        // resident set size, bytes
	PeakRSS uint64        // high-water mark of RSS (VmHWM), bytes; since the last ResetPeakRSS
	GoHeap  uint64        // bytes in live and not yet swept Go heap objects
}

// ProcReader reads ProcStats; the meter takes one so tests can feed it.
type ProcReader func() (ProcStats, error)

// ProcessCPU returns the CPU time of every thread of this process.
func ProcessCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

var heapSample = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}

// ReadProc reads this process's figures from getrusage, /proc/self/status and the Go
// runtime (runtime/metrics, which does not stop the world as ReadMemStats does).
func ReadProc() (ProcStats, error) {
	var st ProcStats
	cpu, err := ProcessCPU()
	if err != nil {
		return st, err
	}
	st.CPU = cpu
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return st, fmt.Errorf("read /proc/self/status: %w", err)
	}
	st.RSS, st.PeakRSS = parseStatusKB(b, "VmRSS:"), parseStatusKB(b, "VmHWM:")
	s := make([]metrics.Sample, 1)
	copy(s, heapSample)
	metrics.Read(s)
	if s[0].Value.Kind() == metrics.KindUint64 {
		st.GoHeap = s[0].Value.Uint64()
	}
	return st, nil
}

// parseStatusKB returns a "Key:   1234 kB" line of /proc/self/status in bytes (0 if absent).
func parseStatusKB(status []byte, key string) uint64 {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, key) {
			continue
		}
		f := strings.Fields(strings.TrimPrefix(line, key))
		if len(f) == 0 {
			return 0
		}
		n, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return 0
		}
		return n * 1024
	}
	return 0
}

// ResetPeakRSS resets the kernel's high-water mark of this process's RSS (VmHWM) to the
// current RSS, so that the peak of one benchmark run is not the peak of an earlier one.
// It needs Linux 4.0 or later.
func ResetPeakRSS() error {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return fmt.Errorf("reset peak RSS through /proc/self/clear_refs: %w", err)
	}
	return nil
}
