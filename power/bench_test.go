package power

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/inference"
)

// BenchmarkObserve is the meter's cost on the classification path: one call per inference
// run, from the classifier's observer.
func BenchmarkObserve(b *testing.B) {
	m := NewMeter(Config{Interval: -1})
	m.Begin()
	bt := inference.BatchTiming{N: 8, Preprocess: time.Millisecond, Infer: 9 * time.Millisecond}
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
		m.Observe(inference.BatchTiming{N: 8, Infer: 9 * time.Millisecond})
		m.Sample()
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = m.Snapshot()
	}
}
