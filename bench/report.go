package bench

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Output file names in the --out folder.
const (
	ResultsFile = "results.csv"
	ReportFile  = "report.md"
)

// Report is everything report.md says: the runs and the context they ran in.
type Report struct {
	Command        string // the command line, to rerun it
	Started, Ended time.Time
	Machine        Machine
	Energy         EnergySetup
	Settings       Settings
	Results        []Result
}

// WriteAll writes results.csv, run.json, the plots and report.md into dir (created if
// needed) and returns the files written.
func (r *Report) WriteAll(dir string) ([]string, error) {
	files, err := r.writeData(dir)
	if err != nil {
		return files, err
	}
	more, err := r.Draw(dir)
	return append(files, more...), err
}

func (r *Report) writeData(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create output folder %s: %w", dir, err)
	}
	var written []string
	if err := writeFile(filepath.Join(dir, ResultsFile), func(w io.Writer) error { return WriteCSV(w, r.Results) }); err != nil {
		return written, err
	}
	written = append(written, filepath.Join(dir, ResultsFile))
	if err := writeFile(filepath.Join(dir, RunInfoFile), r.WriteRunInfo); err != nil {
		return written, err
	}
	return append(written, filepath.Join(dir, RunInfoFile)), nil
}

// Draw writes the plots and report.md into dir from the report's rows.
func (r *Report) Draw(dir string) ([]string, error) {
	plots, err := WritePlots(dir, Summarise(r.Results))
	if err != nil {
		return plots, err
	}
	if err := writeFile(filepath.Join(dir, ReportFile), func(w io.Writer) error { return r.Markdown(w, plots) }); err != nil {
		return plots, err
	}
	return append(plots, filepath.Join(dir, ReportFile)), nil
}

// writeFile writes through a temporary file and renames it, so a failure never leaves a
// half-written file.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".bench-*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	err = f.Chmod(0o644) // CreateTemp makes 0600; these files are for sharing
	if err == nil {
		err = write(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Markdown writes report.md; plots are the PNG files to embed (their base names are used).
func (r *Report) Markdown(w io.Writer, plots []string) error {
	rows := Summarise(r.Results)
	var b strings.Builder
	est := len(rows) > 0 && rows[0].Estimated()
	eu := ""
	if est {
		eu = " (estimate)"
	}
	fmt.Fprintf(&b, "# phytoscreen bench\n\n")
	fmt.Fprintf(&b, "`%s`\n\n", r.Command)
	fmt.Fprintf(&b, "Run %s, %s to %s (%s).\n\n", r.Started.Format("2006-01-02"), r.Started.Format("15:04:05"), r.Ended.Format("15:04:05 MST"),
		r.Ended.Sub(r.Started).Round(time.Second))
	if est {
		fmt.Fprintf(&b, "> **Every energy figure in this report is an ESTIMATE, not a reading.** This machine has no readable energy sensor, so watts and joules are this process's CPU time × a declared %s. They compare the models with each other on this machine; they are not what a wall meter would show.\n\n", r.estimateDeclaration())
	}

	b.WriteString("## Machine\n\n| | |\n| --- | --- |\n")
	m := r.Machine
	row := func(k, v string) { fmt.Fprintf(&b, "| %s | %s |\n", k, strings.ReplaceAll(v, "|", "/")) }
	row("CPU", m.CPUModel)
	row("logical cores", fmt.Sprint(m.Cores))
	row("CPU frequency governor", m.Governor)
	row("memory", fmt.Sprintf("%d MB", m.MemoryMB))
	row("kernel", m.Kernel)
	row("ONNX Runtime", m.ORTVersion)
	row("Go", m.GoVersion)
	row("load average before (1, 5, 15 min)", m.LoadBefore)
	row("load average after", m.LoadAfter)
	row("energy source", r.energySource())
	b.WriteString("\n")

	c := r.Settings
	b.WriteString("## Method\n\n")
	fmt.Fprintf(&b, "- Images: %d real cell crops from %s, decoded before measuring (in the app, crops reach the classifier in memory).\n", c.Images, c.ImagesSource)
	fmt.Fprintf(&b, "- Each run: %s warm-up (not measured), %s idle baseline (the machine at rest, stress load running, just before), then %s measured. Every combination of models %s, threads %s, scenarios %s, offline batch sizes %s and stress %s%%; %d repetition%s%s.\n",
		c.Warmup, c.Idle, c.Duration, joinList(c.Models), joinInts(c.Threads), joinList(c.Scenarios), joinInts(c.Batches), joinInts(c.Stress), c.Repeat, plural(c.Repeat), repeatNote(c.Repeat))
	b.WriteString("- **Single-stream** (MLPerf): one crop at a time, batch 1; the figure is the latency of classifying one crop (letterbox + ONNX Runtime), p50/p90/p99 from a log-bucket histogram.\n")
	b.WriteString("- **Offline** (MLPerf): all crops available, classified in batches; the figure is throughput in cells/s. Its latency columns are per batch.\n")
	b.WriteString("- **Bare ONNX Runtime**: the same session run in a loop on ready tensors (no letterboxing, no top-k), so the pipeline's overhead shows as a ratio.\n")
	fmt.Fprintf(&b, "- **Stress N%%**: %d worker thread%s (every core but the one driving the classifier) busy N%% of every %s; its CPU is reported apart and left out of the classifier's CPU %%. Energy is the whole machine's%s, so it includes the load; the marginal figures subtract the idle baseline measured with the load running, leaving what classification adds.\n",
		workers(rows), plural(workers(rows)), stressPeriod, eu)
	fmt.Fprintf(&b, "- **CPU %%** is this process's classifier work (100 = one core); **others' CPU %%** is what other processes and the hypervisor (steal) took from the machine during the run, from /proc/stat: above %d%% the run was disturbed.\n", DisturbedPercent)
	fmt.Fprintf(&b, "- Energy per cell = energy over the measured window / cells classified in it, both from the same window (sampled every %s).\n", c.SampleInterval)
	if len(rows) > 0 {
		fmt.Fprintf(&b, "- Accuracy: %s.\n", rows[0].AccuracySource)
	}
	b.WriteString("\n")

	f := findings(rows)
	if len(f.Lines) > 0 {
		b.WriteString("## What it says\n\n")
		for _, l := range f.Lines {
			fmt.Fprintf(&b, "- %s\n", l)
		}
		b.WriteString("\n")
	}

	t := newTable(rows)
	r.singleTable(&b, t, eu)
	r.offlineTable(&b, t, eu)
	r.bareTable(&b, t)

	if len(plots) > 0 {
		b.WriteString("## Plots\n\n")
		for _, p := range plots {
			name := filepath.Base(p)
			fmt.Fprintf(&b, "![%s](%s)\n\n", strings.TrimSuffix(name, filepath.Ext(name)), name)
		}
	}
	r.sensorSection(&b)
	b.WriteString("Raw rows (one per run and repetition): [results.csv](results.csv).\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Report) estimateDeclaration() string {
	for _, s := range r.Energy.Sensors {
		if s.Estimated() && r.Energy.inTotal(s.ID) {
			return strings.TrimSuffix(strings.TrimPrefix(s.Label, "estimate: CPU time x "), "/core") + " per busy core"
		}
	}
	return "watts-per-core figure"
}

func (r *Report) energySource() string {
	e := r.Energy
	if e.Estimated {
		return "ESTIMATE: " + e.Why
	}
	return strings.Join(e.Total, " + ") + " — " + e.Why
}

// workers is the stress load's thread count in the rows (every core but one).
func workers(rows []Summary) int {
	n := 0
	for _, r := range rows {
		n = max(n, r.StressWorkers)
	}
	return n
}

func repeatNote(rep int) string {
	if rep > 1 {
		return " (medians shown, ± the spread (max − min) / median)"
	}
	return " (one run per setting: rerun with --repeat 3 for medians and spreads)"
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}

func joinList[T ~string](v []T) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}

// withSpread appends "±N%" when the figure was repeated.
func withSpread(v float64, prec int, spread float64, rep int) string {
	s := fmtF(v, prec)
	if rep > 1 && !math.IsNaN(spread) {
		s += fmt.Sprintf(" ±%.0f%%", 100*spread)
	}
	return s
}

func (r *Report) singleTable(b *strings.Builder, t *table, eu string) {
	var lines []string
	for _, m := range t.models {
		for _, th := range t.threads {
			for _, s := range t.stress {
				x := t.get(m, Single, th, 1, s)
				if x == nil {
					continue
				}
				lines = append(lines, fmt.Sprintf("| %s | %d | %d%% | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |",
					m, th, s, fmtF(x.P50, 2), withSpread(x.P90, 2, x.P90Spread, x.Rep), fmtF(x.P99, 2), fmtF(x.CellsPerSec, 1),
					fmtF(x.CPUPercent, 0), fmtF(x.OtherCPUPercent, 0), fmtF(x.PeakRSSMB, 0), fmtF(x.MeanWatts, 2), fmtF(x.IdleWatts, 2),
					withSpread(x.JPerCell, 4, x.JPerCellSpread, x.Rep), fmtF(x.MarginalJPerCell, 4)))
			}
		}
	}
	if len(lines) == 0 {
		return
	}
	b.WriteString("## Single-stream (batch 1): latency per crop\n\n")
	fmt.Fprintf(b, "| model | threads | stress | p50 ms | p90 ms | p99 ms | cells/s | CPU %% | others' CPU %% | peak RSS MB | W%s | idle W%s | J/cell%s | marginal J/cell%s |\n", eu, eu, eu, eu)
	b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	b.WriteString(strings.Join(lines, "\n") + "\n\n")
}

func (r *Report) offlineTable(b *strings.Builder, t *table, eu string) {
	var lines []string
	for _, m := range t.models {
		for _, th := range t.threads {
			for _, s := range t.stress {
				for _, bs := range t.batches {
					x := t.get(m, Offline, th, bs, s)
					if x == nil {
						continue
					}
					lines = append(lines, fmt.Sprintf("| %s | %d | %d | %d%% | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |",
						m, th, bs, s, withSpread(x.CellsPerSec, 1, x.ThroughputSpread, x.Rep), fmtF(x.P50, 1), fmtF(x.P90, 1),
						fmtF(x.CPUPercent, 0), fmtF(x.OtherCPUPercent, 0), fmtF(x.PeakRSSMB, 0), fmtF(x.MeanWatts, 2), fmtF(x.IdleWatts, 2),
						withSpread(x.JPerCell, 4, x.JPerCellSpread, x.Rep), fmtF(x.MarginalJPerCell, 4)))
				}
			}
		}
	}
	if len(lines) == 0 {
		return
	}
	b.WriteString("## Offline: throughput\n\n")
	fmt.Fprintf(b, "| model | threads | batch | stress | cells/s | p50 ms/batch | p90 ms/batch | CPU %% | others' CPU %% | peak RSS MB | W%s | idle W%s | J/cell%s | marginal J/cell%s |\n", eu, eu, eu, eu)
	b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	b.WriteString(strings.Join(lines, "\n") + "\n\n")
}

func (r *Report) bareTable(b *strings.Builder, t *table) {
	var lines []string
	for _, m := range t.models {
		for _, th := range t.threads {
			for _, bs := range t.bare {
				x := t.get(m, Bare, th, bs, t.calm())
				if x == nil {
					continue
				}
				// The pipeline at the same settings: offline, or single-stream for batch 1.
				pipe := t.get(m, Offline, th, bs, t.calm())
				if pipe == nil && bs == 1 {
					pipe = t.get(m, Single, th, 1, t.calm())
				}
				pc, ratio := math.NaN(), math.NaN()
				if pipe != nil {
					pc, ratio = pipe.CellsPerSec, pipe.CellsPerSec/x.CellsPerSec
				}
				lines = append(lines, fmt.Sprintf("| %s | %d | %d | %s | %s | %s | %s |", m, th, bs, fmtF(x.CellsPerSec, 1), fmtF(x.P50, 2), fmtF(pc, 1), pctStr(ratio)))
			}
		}
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(b, "## Bare ONNX Runtime against the pipeline (stress %d%%)\n\n", t.calm())
	b.WriteString("| model | threads | batch | bare cells/s | bare p50 ms/run | pipeline cells/s | pipeline / bare |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	b.WriteString(strings.Join(lines, "\n") + "\n\n")
}

func (r *Report) sensorSection(b *strings.Builder) {
	b.WriteString("## Energy sensors found\n\n")
	for _, in := range r.Energy.Sensors {
		mark := ""
		if r.Energy.inTotal(in.ID) {
			mark = " **(used for the total)**"
		}
		if in.Estimated() {
			fmt.Fprintf(b, "- `%s`: %s, from `%s`%s", in.ID, in.Label, in.Path, mark)
		} else {
			fmt.Fprintf(b, "- `%s`: %s, scope %s, `%s`%s", in.ID, in.Label, in.Scope, in.Path, mark)
		}
		if in.Note != "" {
			fmt.Fprintf(b, " — %s", in.Note)
		}
		b.WriteString("\n")
	}
	for _, p := range r.Energy.Problems {
		fmt.Fprintf(b, "- not usable: %s\n", p)
	}
	fmt.Fprintf(b, "\nTotal: %s.\n\n", r.Energy.Why)
}
