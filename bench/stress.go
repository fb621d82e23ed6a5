package bench

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// stressPeriod is the duty cycle's period: each worker is busy for percent of it, then
// sleeps. 10 ms is long enough for the sleep to be honoured and short enough that the load
// looks continuous to a 100 ms power sample.
const stressPeriod = 10 * time.Millisecond

// StressWorkers is the number of cores a stress load occupies: every core but one, the one
// that drives the classifier (at least one on a single-core machine). With as many ONNX
// Runtime threads as cores, the load competes with the classifier's own threads, as a busy
// machine would.
func StressWorkers() int { return max(1, runtime.NumCPU()-1) }

// Stress is a synthetic CPU load: workers that each keep one OS thread busy for a share of
// every period.
type Stress struct {
	Percent int
	Workers int
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	cpuNs   []atomic.Int64 // each worker's thread CPU time since it started
}

// StartStress starts workers goroutines, each locked to its own OS thread, busy percent% of
// the time until Stop or ctx ends. Percent 0 starts nothing.
func StartStress(ctx context.Context, percent, workers int) *Stress {
	s := &Stress{Percent: min(max(percent, 0), 100), Workers: workers}
	if s.Percent == 0 || workers <= 0 {
		s.Workers = 0
		return s
	}
	ctx, s.cancel = context.WithCancel(ctx)
	s.cpuNs = make([]atomic.Int64, workers)
	busy := stressPeriod * time.Duration(s.Percent) / 100
	for i := range workers {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			runtime.LockOSThread() // the thread, not just the goroutine, is the load
			defer runtime.UnlockOSThread()
			start := threadCPU()
			x := 1.0
			for ctx.Err() == nil {
				t0 := time.Now()
				for time.Since(t0) < busy {
					for range 2000 {
						x = x*1.0000001 + 1e-9
					}
				}
				if busy < stressPeriod {
					time.Sleep(stressPeriod - busy)
				}
				s.cpuNs[i].Store(int64(threadCPU() - start))
			}
			sink.Store(x > 0)
		}()
	}
	return s
}

// sink keeps the busy loop's result alive so the compiler cannot drop the loop.
var sink atomic.Bool

// CPU returns the CPU time the workers have used so far.
func (s *Stress) CPU() time.Duration {
	var n int64
	for i := range s.cpuNs {
		n += s.cpuNs[i].Load()
	}
	return time.Duration(n)
}

// Stop ends the load and waits for the workers.
func (s *Stress) Stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.wg.Wait()
	s.cancel = nil
}

// threadCPU is the calling OS thread's CPU time (getrusage RUSAGE_THREAD).
func threadCPU() time.Duration {
	const rusageThread = 1 // RUSAGE_THREAD, Linux
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
