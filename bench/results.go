package bench

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Scenario is how crops reach the classifier during a run.
type Scenario string

// Scenarios. Single and Offline follow MLPerf Inference; Bare is the baseline with the
// pipeline taken away.
const (
	// Single is single-stream: one crop at a time, batch 1; its figure is the latency.
	Single Scenario = "single"
	// Offline has every crop available at once, in batches; its figure is the throughput.
	Offline Scenario = "offline"
	// Bare runs ONNX Runtime alone on ready tensors (no letterboxing, no top-k), so that
	// Offline's overhead shows as a ratio.
	Bare Scenario = "bare-ort"
)

// ParseScenario accepts single (single-stream), offline and bare (bare-ort).
func ParseScenario(s string) (Scenario, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "single", "single-stream", "singlestream":
		return Single, nil
	case "offline":
		return Offline, nil
	case "bare", "bare-ort":
		return Bare, nil
	}
	return "", fmt.Errorf("unknown scenario %q: use single or offline", s)
}

// EnergyKind says whether energy figures are a reading or an estimate.
const (
	KindReading  = "reading"
	KindEstimate = "estimate"
)

// Result is one measured run.
type Result struct {
	Model    string
	Scenario Scenario
	Threads  int
	Batch    int
	Stress   int // percent of each stress worker's time kept busy
	// StressWorkers is how many threads the stress load ran (StressWorkers() at stress > 0).
	StressWorkers int
	Rep           int // repetition, from 1

	Seconds       float64 // the measured window
	Cells         int
	CellsPerSec   float64
	P50, P90, P99 float64 // latency of one inference run (one crop in single-stream), ms
	MeanMs        float64

	CPUPercent       float64 // the classifier's share of this process (stress load excluded); 100 = one core
	StressCPUPercent float64 // the stress load's CPU over the same window
	// OtherCPUPercent is what other processes (and a hypervisor's steal) took over the
	// window: a figure above ~20% means the run was disturbed.
	OtherCPUPercent float64
	PeakRSSMB       float64
	GoHeapMB        float64

	MeanWatts        float64 // the machine total over the window (stress load included)
	IdleWatts        float64 // measured at rest just before (stress load running)
	MarginalWatts    float64
	Joules           float64
	JPerCell         float64
	MarginalJPerCell float64
	EnergyKind       string // KindReading or KindEstimate
	EnergySource     string // the sensors, e.g. "rapl:package-0" or "estimate: CPU time x 10 W/core"

	Top1           float64 // top-1 accuracy, 0..1
	AccuracySource string  // "pack card (val, 1516 images)" or "measured on LIST (N images)"
	Notes          string  // what made a figure incomplete
}

// Estimated reports whether the row's energy figures are an estimate.
func (r Result) Estimated() bool { return r.EnergyKind == KindEstimate }

// Key identifies a configuration, across repetitions.
func (r Result) Key() string {
	return fmt.Sprintf("%s|%s|%d|%d|%d", r.Model, r.Scenario, r.Threads, r.Batch, r.Stress)
}

// csvColumns are results.csv's header; units are in the names.
var csvColumns = []string{"model", "scenario", "threads", "batch", "stress_pct", "stress_workers", "rep",
	"seconds", "cells", "cells_per_s", "p50_ms", "p90_ms", "p99_ms", "mean_ms",
	"cpu_pct", "stress_cpu_pct", "other_cpu_pct", "peak_rss_mb", "go_heap_mb",
	"mean_w", "idle_w", "marginal_w", "joules", "j_per_cell", "marginal_j_per_cell", "energy_kind", "energy_source",
	"top1", "accuracy_source", "notes"}

func (r Result) fields() []string {
	return []string{r.Model, string(r.Scenario), itoa(r.Threads), itoa(r.Batch), itoa(r.Stress), itoa(r.StressWorkers), itoa(r.Rep),
		num(r.Seconds, 3), itoa(r.Cells), num(r.CellsPerSec, 2), num(r.P50, 3), num(r.P90, 3), num(r.P99, 3), num(r.MeanMs, 3),
		num(r.CPUPercent, 1), num(r.StressCPUPercent, 1), num(r.OtherCPUPercent, 1), num(r.PeakRSSMB, 1), num(r.GoHeapMB, 1),
		num(r.MeanWatts, 3), num(r.IdleWatts, 3), num(r.MarginalWatts, 3), num(r.Joules, 3), num(r.JPerCell, 5), num(r.MarginalJPerCell, 5),
		r.EnergyKind, r.EnergySource, num(r.Top1, 4), r.AccuracySource, r.Notes}
}

func itoa(n int) string { return strconv.Itoa(n) }

// num formats a figure; NaN (not measured) is an empty cell.
func num(v float64, prec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

// WriteCSV writes results as results.csv.
func WriteCSV(w io.Writer, results []Result) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvColumns); err != nil {
		return err
	}
	for _, r := range results {
		if err := cw.Write(r.fields()); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ReadCSV reads a results.csv written by WriteCSV (to redraw a report from it). name is
// used in messages.
func ReadCSV(rd io.Reader, name string) ([]Result, error) {
	cr := csv.NewReader(transform.NewReader(rd, unicode.BOMOverride(transform.Nop))) // a spreadsheet's UTF-8 BOM
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: read header: %w", name, err)
	}
	if strings.Join(header, ",") != strings.Join(csvColumns, ",") {
		return nil, fmt.Errorf("%s: header is not phytoscreen bench's (want %s): rerun phytoscreen bench", name, strings.Join(csvColumns, ","))
	}
	var out []Result
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		r, err := parseRecord(rec)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", name, line, err)
		}
		out = append(out, r)
	}
}

// parseRecord reads one row of results.csv.
func parseRecord(rec []string) (Result, error) {
	p := parser{rec: rec}
	r := Result{Model: rec[0], Scenario: Scenario(rec[1]), Threads: p.int(2), Batch: p.int(3), Stress: p.int(4), StressWorkers: p.int(5), Rep: p.int(6),
		Seconds: p.f(7), Cells: p.int(8), CellsPerSec: p.f(9), P50: p.f(10), P90: p.f(11), P99: p.f(12), MeanMs: p.f(13),
		CPUPercent: p.f(14), StressCPUPercent: p.f(15), OtherCPUPercent: p.f(16), PeakRSSMB: p.f(17), GoHeapMB: p.f(18),
		MeanWatts: p.f(19), IdleWatts: p.f(20), MarginalWatts: p.f(21), Joules: p.f(22), JPerCell: p.f(23), MarginalJPerCell: p.f(24),
		EnergyKind: rec[25], EnergySource: rec[26], Top1: p.f(27), AccuracySource: rec[28], Notes: rec[29]}
	return r, p.err
}

// Rounded returns the result with every figure at the precision results.csv keeps, so that
// a report drawn from memory and one drawn again from the file are the same.
func (r Result) Rounded() Result {
	out, err := parseRecord(r.fields())
	if err != nil {
		return r // cannot happen: fields writes what parseRecord reads
	}
	return out
}

type parser struct {
	rec []string
	err error
}

func (p *parser) f(i int) float64 {
	if p.rec[i] == "" {
		return math.NaN()
	}
	v, err := strconv.ParseFloat(p.rec[i], 64)
	if err != nil && p.err == nil {
		p.err = fmt.Errorf("column %s: %q is not a number", csvColumns[i], p.rec[i])
	}
	return v
}

func (p *parser) int(i int) int {
	v, err := strconv.Atoi(p.rec[i])
	if err != nil && p.err == nil {
		p.err = fmt.Errorf("column %s: %q is not a whole number", csvColumns[i], p.rec[i])
	}
	return v
}

// Summary is one configuration over its repetitions: the median of every figure, and the
// spread of the headline ones.
type Summary struct {
	Result                   // medians (Rep is the number of repetitions)
	ThroughputSpread float64 // (max - min) / median of cells/s; 0 with one repetition
	P90Spread        float64
	JPerCellSpread   float64
}

// Summarise groups results by configuration, in the order they first appear, and takes
// medians over the repetitions (MLPerf Power's convention: report medians and the spread).
func Summarise(results []Result) []Summary {
	var order []string
	groups := map[string][]Result{}
	for _, r := range results {
		k := r.Key()
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	out := make([]Summary, 0, len(order))
	for _, k := range order {
		g := groups[k]
		m := g[0]
		m.Rep = len(g)
		med := func(get func(Result) float64) float64 {
			v := make([]float64, 0, len(g))
			for _, r := range g {
				if x := get(r); !math.IsNaN(x) {
					v = append(v, x)
				}
			}
			return median(v)
		}
		m.Seconds = med(func(r Result) float64 { return r.Seconds })
		m.CellsPerSec = med(func(r Result) float64 { return r.CellsPerSec })
		m.P50, m.P90, m.P99 = med(func(r Result) float64 { return r.P50 }), med(func(r Result) float64 { return r.P90 }), med(func(r Result) float64 { return r.P99 })
		m.MeanMs = med(func(r Result) float64 { return r.MeanMs })
		m.CPUPercent, m.StressCPUPercent = med(func(r Result) float64 { return r.CPUPercent }), med(func(r Result) float64 { return r.StressCPUPercent })
		m.OtherCPUPercent = med(func(r Result) float64 { return r.OtherCPUPercent })
		m.PeakRSSMB, m.GoHeapMB = med(func(r Result) float64 { return r.PeakRSSMB }), med(func(r Result) float64 { return r.GoHeapMB })
		m.MeanWatts, m.IdleWatts = med(func(r Result) float64 { return r.MeanWatts }), med(func(r Result) float64 { return r.IdleWatts })
		m.MarginalWatts, m.Joules = med(func(r Result) float64 { return r.MarginalWatts }), med(func(r Result) float64 { return r.Joules })
		m.JPerCell, m.MarginalJPerCell = med(func(r Result) float64 { return r.JPerCell }), med(func(r Result) float64 { return r.MarginalJPerCell })
		cells := 0
		var notes []string
		for _, r := range g {
			cells += r.Cells
			if r.Notes != "" {
				notes = append(notes, fmt.Sprintf("rep %d: %s", r.Rep, r.Notes))
			}
		}
		m.Cells = cells / len(g)
		m.Notes = strings.Join(notes, "; ")
		out = append(out, Summary{Result: m,
			ThroughputSpread: spread(g, func(r Result) float64 { return r.CellsPerSec }),
			P90Spread:        spread(g, func(r Result) float64 { return r.P90 }),
			JPerCellSpread:   spread(g, func(r Result) float64 { return r.JPerCell })})
	}
	return out
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func spread(g []Result, get func(Result) float64) float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	var v []float64
	for _, r := range g {
		x := get(r)
		if math.IsNaN(x) {
			continue
		}
		v = append(v, x)
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	if len(v) < 2 {
		return 0
	}
	return (hi - lo) / median(v)
}
