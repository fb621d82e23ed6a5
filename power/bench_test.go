package power

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkObserve is the meter's cost on the classification path: one call per inference
// run, from the run's sink (screening passes each batch's cost to the meter).
func BenchmarkObserve(b *testing.B) {
	m := NewMeter(Config{Interval: -1})
	m.Begin()
	bt := Batch{Cells: 8, Latency: 10 * time.Millisecond}
	b.ReportAllocs()
	for b.Loop() {
		m.Observe(bt)
	}
}

// BenchmarkSample is one background sample of a Jetson's three INA3221 rails and the
// process, taken ten times a second.
func BenchmarkSample(b *testing.B) {
	d := Detect(Options{Sysfs: Sysfs{Root: filepath.Join("testdata", "jetson-orin-nano")}, NoPMIC: true, NVMLLibrary: "-"})
	m := NewMeter(Config{Sensors: d.Sensors, Total: d.Total, Interval: -1})
	m.Start(context.Background())
	m.Begin()
	b.ReportAllocs()
	for b.Loop() {
		m.Sample()
	}
}

// BenchmarkSnapshot is what a GUI refresh costs.
func BenchmarkSnapshot(b *testing.B) {
	d := Detect(Options{Sysfs: Sysfs{Root: filepath.Join("testdata", "jetson-orin-nano")}, NoPMIC: true, NVMLLibrary: "-"})
	m := NewMeter(Config{Sensors: d.Sensors, Total: d.Total, Interval: -1})
	m.Start(context.Background())
	m.Begin()
	for range 100 {
		m.Observe(Batch{Cells: 8, Latency: 9 * time.Millisecond})
		m.Sample()
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = m.Snapshot()
	}
}

// BenchmarkHistogramAdd is the histogram's share of Observe.
func BenchmarkHistogramAdd(b *testing.B) {
	var h Histogram
	d := time.Duration(0)
	b.ReportAllocs()
	for b.Loop() {
		d = (d + 7919*time.Nanosecond) % (50 * time.Millisecond)
		h.Add(d)
	}
}

// BenchmarkHistogramQuantile is one of the three quantiles a Snapshot reads.
func BenchmarkHistogramQuantile(b *testing.B) {
	var h Histogram
	for i := range 100000 {
		h.Add(time.Duration(1+i%5000) * 10 * time.Microsecond)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = h.Quantile(0.99)
	}
}
