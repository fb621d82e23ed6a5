package bench

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/phytoscreen/phytoscreen/inference"
)

// table indexes summaries by configuration.
type table struct {
	rows    []Summary
	threads []int // sorted
	batches []int // offline batches, sorted
	bare    []int // bare ONNX Runtime batches, sorted
	stress  []int // sorted
	models  []string
}

func newTable(rows []Summary) *table {
	t := &table{rows: rows}
	for _, r := range rows {
		t.threads = appendNew(t.threads, r.Threads)
		t.stress = appendNew(t.stress, r.Stress)
		switch r.Scenario {
		case Offline:
			t.batches = appendNew(t.batches, r.Batch)
		case Bare:
			t.bare = appendNew(t.bare, r.Batch)
		}
		if !slices.Contains(t.models, r.Model) {
			t.models = append(t.models, r.Model)
		}
	}
	slices.Sort(t.threads)
	slices.Sort(t.batches)
	slices.Sort(t.bare)
	slices.Sort(t.stress)
	slices.SortFunc(t.models, func(a, b string) int { return modelRank(a) - modelRank(b) })
	return t
}

func modelRank(m string) int {
	switch inference.Variant(m) {
	case inference.Base:
		return 0
	case inference.Optimised:
		return 1
	}
	return 2
}

func appendNew(s []int, v int) []int {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

func (t *table) get(model string, sc Scenario, threads, batch, stress int) *Summary {
	for i := range t.rows {
		r := &t.rows[i]
		if r.Model == model && r.Scenario == sc && r.Threads == threads && r.Batch == batch && r.Stress == stress {
			return r
		}
	}
	return nil
}

// bestOffline is the offline configuration with the highest throughput at a stress level.
func (t *table) bestOffline(model string, stress int) *Summary {
	var best *Summary
	for i := range t.rows {
		r := &t.rows[i]
		if r.Model == model && r.Scenario == Offline && r.Stress == stress && (best == nil || r.CellsPerSec > best.CellsPerSec) {
			best = r
		}
	}
	return best
}

func (t *table) maxThreads() int { return t.threads[len(t.threads)-1] }
func (t *table) calm() int       { return t.stress[0] }
func (t *table) busiest() int    { return t.stress[len(t.stress)-1] }

// Findings are the report's conclusions, computed from the rows: the optimised model's
// speed-up, its energy saving and its accuracy cost, the pipeline's overhead over bare ONNX
// Runtime, and what stress and batching do.
type Findings struct {
	Lines []string
	// The headline ratios (NaN when the runs needed were not made).
	SingleSpeedup  float64 // base p90 / optimised p90, single-stream, most threads, calmest stress
	OfflineSpeedup float64 // optimised / base best offline throughput
	EnergySaving   float64 // 1 - optimised / base J per cell at each one's best offline setting
	AccuracyCost   float64 // base - optimised top-1, in points
}

func findings(rows []Summary) Findings {
	t := newTable(rows)
	f := Findings{SingleSpeedup: math.NaN(), OfflineSpeedup: math.NaN(), EnergySaving: math.NaN(), AccuracyCost: math.NaN()}
	if len(rows) == 0 {
		return f
	}
	est := rows[0].Estimated()
	eu := ""
	if est {
		eu = " (estimate)"
	}
	base, opt := string(inference.Base), string(inference.Optimised)
	both := slices.Contains(t.models, base) && slices.Contains(t.models, opt)
	s0, tm := t.calm(), t.maxThreads()
	add := func(format string, a ...any) { f.Lines = append(f.Lines, fmt.Sprintf(format, a...)) }

	if both {
		for _, th := range t.threads {
			b, o := t.get(base, Single, th, 1, s0), t.get(opt, Single, th, 1, s0)
			if b == nil || o == nil {
				continue
			}
			sp := b.P90 / o.P90
			if th == tm {
				f.SingleSpeedup = sp
			}
			add("**Single-stream, %d thread%s, stress %d%%:** optimised p90 %s ms against base %s ms: **%.2f× faster** (p50 %s vs %s ms).",
				th, plural(th), s0, fmtF(o.P90, 2), fmtF(b.P90, 2), sp, fmtF(o.P50, 2), fmtF(b.P50, 2))
		}
		b, o := t.bestOffline(base, s0), t.bestOffline(opt, s0)
		if b != nil && o != nil {
			f.OfflineSpeedup = o.CellsPerSec / b.CellsPerSec
			add("**Offline, best setting of each, stress %d%%:** optimised %s cells/s (%d thread%s, batch %d) against base %s cells/s (%d thread%s, batch %d): **%.2f×**.",
				s0, fmtF(o.CellsPerSec, 1), o.Threads, plural(o.Threads), o.Batch, fmtF(b.CellsPerSec, 1), b.Threads, plural(b.Threads), b.Batch, f.OfflineSpeedup)
			f.EnergySaving = 1 - o.JPerCell/b.JPerCell
			// The marginal energy needs an idle baseline; without one (--idle 0) it is not
			// said, rather than "– J against – J" (helper-60).
			marginal := "."
			if !math.IsNaN(o.MarginalJPerCell) && !math.IsNaN(b.MarginalJPerCell) {
				marginal = fmt.Sprintf("; marginal (above the idle baseline) %s J against %s J.", fmtF(o.MarginalJPerCell, 4), fmtF(b.MarginalJPerCell, 4))
			}
			add("**Energy per cell%s at those settings:** optimised %s J against base %s J: **%s less**%s",
				eu, fmtF(o.JPerCell, 4), fmtF(b.JPerCell, 4), pctStr(f.EnergySaving), marginal)
			if !math.IsNaN(o.Top1) && !math.IsNaN(b.Top1) {
				f.AccuracyCost = 100 * (b.Top1 - o.Top1)
				add("**Accuracy cost:** top-1 %s%% (optimised) against %s%% (base): **%.1f points**, from the %s.",
					fmtF(100*o.Top1, 1), fmtF(100*b.Top1, 1), f.AccuracyCost, o.AccuracySource)
			}
		}
	}
	for _, m := range t.models {
		// The pipeline's overhead at every setting measured both ways.
		for _, th := range t.threads {
			var parts []string
			for _, bs := range t.bare {
				bare := t.get(m, Bare, th, bs, s0)
				p := t.get(m, Offline, th, bs, s0)
				if p == nil && bs == 1 {
					p = t.get(m, Single, th, 1, s0)
				}
				if p != nil && bare != nil {
					parts = append(parts, fmt.Sprintf("batch %d: %s", bs, pctStr(p.CellsPerSec/bare.CellsPerSec)))
				}
			}
			if len(parts) > 0 {
				add("**Pipeline against bare ONNX Runtime (%s, %d thread%s):** the full pipeline (letterboxing, top-k) reaches %s of the bare runtime's throughput.",
					m, th, plural(th), joinAnd(parts))
			}
		}
	}
	if sm := t.busiest(); sm != s0 {
		for _, m := range t.models {
			for _, th := range []int{t.threads[0], tm} {
				calm, busy := t.get(m, Single, th, 1, s0), t.get(m, Single, th, 1, sm)
				if calm == nil || busy == nil {
					continue
				}
				add("**Stress %d%% (%d worker thread%s busy), %s, %d thread%s:** single-stream p90 %s → %s ms (%s), J/cell%s %s → %s.",
					sm, busy.StressWorkers, plural(busy.StressWorkers), m, th, plural(th), fmtF(calm.P90, 2), fmtF(busy.P90, 2), ratioStr(busy.P90/calm.P90),
					eu, fmtF(calm.JPerCell, 4), fmtF(busy.JPerCell, 4))
				if th == tm {
					break
				}
			}
		}
	}
	disturbed := 0
	for _, r := range rows {
		if r.OtherCPUPercent > DisturbedPercent {
			disturbed++
		}
	}
	if disturbed > 0 {
		add("**Disturbed runs:** in %d of %d settings other processes took more than %d%% of a core while measuring (column others' CPU %%); treat their figures, and ratios built on them, with caution, or rerun on a quiet machine with --repeat 3.",
			disturbed, len(rows), DisturbedPercent)
	}
	if len(t.batches) > 1 {
		b0, bn := t.batches[0], t.batches[len(t.batches)-1]
		for _, m := range t.models {
			lo, hi := t.get(m, Offline, tm, b0, s0), t.get(m, Offline, tm, bn, s0)
			if lo != nil && hi != nil {
				add("**Batching (%s, %d threads):** batch %d gives %s cells/s, batch %d %s cells/s (%s).",
					m, tm, b0, fmtF(lo.CellsPerSec, 1), bn, fmtF(hi.CellsPerSec, 1), ratioStr(hi.CellsPerSec/lo.CellsPerSec))
			}
		}
	}
	return f
}

// DisturbedPercent is the share of a core other processes may take during a run before the
// report flags it.
const DisturbedPercent = 20

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func joinAnd(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	s := ""
	for i, p := range parts {
		switch {
		case i == 0:
			s = p
		case i == len(parts)-1:
			s += " and " + p
		default:
			s += ", " + p
		}
	}
	return s
}

// fmtF formats a figure, "–" when it was not measured.
func fmtF(v float64, prec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return fmt.Sprintf("%.*f", prec, v)
}

func pctStr(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "–"
	}
	return fmt.Sprintf("%.0f%%", 100*f)
}

func ratioStr(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "–"
	}
	return fmt.Sprintf("×%.2f", r)
}

// Conclusions returns the findings of results as plain text lines (no Markdown), for the
// terminal.
func Conclusions(results []Result) []string {
	f := findings(Summarise(results))
	out := make([]string, len(f.Lines))
	for i, l := range f.Lines {
		out[i] = strings.ReplaceAll(l, "**", "")
	}
	return out
}
