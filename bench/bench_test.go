package bench

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/internal/testpack"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/power"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fixture is a real results.csv: bench run on the 2-core development VM (estimate energy),
// two repetitions, models base and optimised, threads 1,2, batch 1,4, stress 0,50.
const fixture = "testdata/results-fixture.csv"

func readFixture(t *testing.T) []Result {
	t.Helper()
	f, err := os.Open(fixture)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rs, err := ReadCSV(f, fixture)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestCSVRoundTrip(t *testing.T) {
	want, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	rs := readFixture(t)
	if len(rs) != 64 {
		t.Fatalf("%d rows, want 64", len(rs))
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, rs); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("read then written results differ from %s", fixture)
	}
	if r := (Result{Model: "base", Scenario: Single, CPUPercent: 100.54, JPerCell: 0.1234567, P90: math.NaN()}).Rounded(); r.CPUPercent != 100.5 || r.JPerCell != 0.12346 || !math.IsNaN(r.P90) {
		t.Errorf("Rounded: %+v", r)
	}
	for _, r := range rs {
		if r.EnergyKind != KindEstimate || !strings.HasPrefix(r.EnergySource, "estimate:") {
			t.Errorf("row %s energy %q/%q: every row of a sensorless machine must say estimate", r.Key(), r.EnergyKind, r.EnergySource)
		}
	}
}

func TestReadCSVErrors(t *testing.T) {
	tests := []struct{ name, data, want string }{
		{"foreign header", "a,b\n1,2\n", "header is not phytoscreen bench's"},
		{"bad number", strings.Join(csvColumns, ",") + "\nbase,single,one" + strings.Repeat(",1", len(csvColumns)-3) + "\n", "line 2: column threads: \"one\""},
		{"short row", strings.Join(csvColumns, ",") + "\nbase,single\n", "wrong number of fields"},
	}
	for _, tc := range tests {
		_, err := ReadCSV(strings.NewReader(tc.data), "x.csv")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "x.csv") {
			t.Errorf("%s: %v, want an error naming x.csv and %q", tc.name, err, tc.want)
		}
	}
}

func TestSummarise(t *testing.T) {
	rows := []Result{
		{Model: "base", Scenario: Single, Threads: 1, Batch: 1, Rep: 1, CellsPerSec: 100, P90: 10, JPerCell: 0.1, Cells: 300},
		{Model: "base", Scenario: Single, Threads: 1, Batch: 1, Rep: 2, CellsPerSec: 80, P90: 14, JPerCell: 0.2, Cells: 240, Notes: "gap"},
		{Model: "base", Scenario: Single, Threads: 1, Batch: 1, Rep: 3, CellsPerSec: 120, P90: 12, JPerCell: math.NaN(), Cells: 360},
		{Model: "base", Scenario: Offline, Threads: 1, Batch: 8, Rep: 1, CellsPerSec: 50, P90: 90, JPerCell: 0.3},
	}
	s := Summarise(rows)
	if len(s) != 2 {
		t.Fatalf("%d summaries, want 2", len(s))
	}
	a := s[0]
	if a.Rep != 3 || a.CellsPerSec != 100 || a.P90 != 12 || a.Cells != 300 {
		t.Errorf("medians %+v", a.Result)
	}
	if math.Abs(a.JPerCell-0.15) > 1e-12 { // NaN left out: median of 0.1 and 0.2
		t.Errorf("J/cell median %v, want 0.15", a.JPerCell)
	}
	if math.Abs(a.ThroughputSpread-0.4) > 1e-12 || math.Abs(a.P90Spread-4.0/12) > 1e-12 {
		t.Errorf("spreads %v %v, want 0.4 and 0.333", a.ThroughputSpread, a.P90Spread)
	}
	if a.Notes != "rep 2: gap" {
		t.Errorf("notes %q", a.Notes)
	}
	if s[1].Rep != 1 || s[1].ThroughputSpread != 0 {
		t.Errorf("single repetition %+v", s[1])
	}
}

// TestFindings checks the headline ratios against the fixture's own rows.
func TestFindings(t *testing.T) {
	rows := Summarise(readFixture(t))
	tb := newTable(rows)
	f := findings(rows)
	b, o := tb.get("base", Single, 2, 1, 0), tb.get("optimised", Single, 2, 1, 0)
	if got, want := f.SingleSpeedup, b.P90/o.P90; math.Abs(got-want) > 1e-12 {
		t.Errorf("single-stream speed-up %v, want %v", got, want)
	}
	bo, oo := tb.bestOffline("base", 0), tb.bestOffline("optimised", 0)
	for _, r := range rows {
		if r.Scenario == Offline && r.Stress == 0 && (r.Model == "base" && r.CellsPerSec > bo.CellsPerSec || r.Model == "optimised" && r.CellsPerSec > oo.CellsPerSec) {
			t.Errorf("bestOffline missed %s", r.Key())
		}
	}
	if got, want := f.EnergySaving, 1-oo.JPerCell/bo.JPerCell; math.Abs(got-want) > 1e-12 {
		t.Errorf("energy saving %v, want %v", got, want)
	}
	if got := f.AccuracyCost; math.Abs(got-100*(0.7411-0.7309)) > 1e-9 {
		t.Errorf("accuracy cost %v points, want 1.02", got)
	}
	text := strings.Join(f.Lines, "\n")
	for _, want := range []string{"(estimate)", "Pipeline against bare ONNX Runtime", "Stress 50% (1 worker thread busy)", "Batching (base, 2 threads)", "; marginal (above the idle baseline) "} {
		if !strings.Contains(text, want) {
			t.Errorf("findings lack %q:\n%s", want, text)
		}
	}
	// Without an idle baseline (--idle 0) there is no marginal energy, and it is not said
	// as "– J against – J" (helper-60).
	for i := range rows {
		rows[i].MarginalJPerCell = math.NaN()
	}
	text = strings.Join(findings(rows).Lines, "\n")
	if strings.Contains(text, "marginal") || !strings.Contains(text, "**Energy per cell") {
		t.Errorf("without a baseline the findings say:\n%s", text)
	}
}

func fixtureReport(t *testing.T) *Report {
	t.Helper()
	est := power.NewEstimate(10, nil)
	p, err := inference.LoadPack(assets.DefaultPack(), "built-in")
	if err != nil {
		t.Fatal(err)
	}
	return &Report{
		Command: "phytoscreen bench --threads 1,2 --batch 1,4 --stress 0,50 --duration 400ms --warmup 100ms --idle 200ms --repeat 2",
		Started: time.Date(2025, 11, 26, 1, 58, 23, 0, time.UTC), Ended: time.Date(2025, 11, 26, 1, 59, 40, 0, time.UTC),
		Machine: Machine{CPUModel: "AMD EPYC", Cores: 2, Governor: "not readable", Kernel: "6.18", MemoryMB: 24105, GoVersion: "go1.26",
			ORTVersion: "1.24.1", LoadBefore: "2.14 3.29 2.23", LoadAfter: "2.50 3.10 2.20"},
		Energy: EnergySetupOf(power.Detection{Sensors: []power.Sensor{est}, Total: power.ChooseTotal([]power.Sensor{est})}),
		Settings: SettingsOf(Config{Pack: p, Models: []inference.Variant{inference.Base, inference.Optimised}, Threads: []int{1, 2}, Batches: []int{1, 4},
			Scenarios: []Scenario{Single, Offline}, Stress: []int{0, 50}, Bare: true, Warmup: 100 * time.Millisecond, Idle: 200 * time.Millisecond,
			Duration: 400 * time.Millisecond, Repeat: 2, Crops: &Crops{Source: "the bundled NDSB val sample", Images: make([]*image.Gray, 387)}}),
		Results: readFixture(t),
	}
}

// TestReportGolden renders report.md from the fixture and compares it with the golden file
// (go test ./bench -run ReportGolden -update rewrites it).
func TestReportGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := fixtureReport(t).Markdown(&buf, []string{"out/" + PlotLatency, "out/" + PlotThroughput, "out/" + PlotEnergy, "out/" + PlotAccuracy}); err != nil {
		t.Fatal(err)
	}
	golden := "testdata/report.golden.md"
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("report.md differs from %s (rerun with -update after checking the change)", golden)
	}
	md := buf.String()
	for _, want := range []string{"Every energy figure in this report is an ESTIMATE", "| J/cell (estimate) |", "marginal J/cell (estimate)",
		"![latency_vs_threads](latency_vs_threads.png)", "| CPU frequency governor | not readable |", "medians shown"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// No energy column header may go without the label.
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "| model |") && strings.Contains(line, "J/cell") && strings.Count(line, "(estimate)") != 4 {
			t.Errorf("header %q: W, idle W, J/cell and marginal J/cell must all say (estimate)", line)
		}
	}
}

// TestRedraw writes a report's files, reads them back and draws the same report.md.
func TestRedraw(t *testing.T) {
	dir := t.TempDir()
	rep := fixtureReport(t)
	files, err := rep.WriteAll(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 7 {
		t.Errorf("wrote %v, want results.csv, run.json, 4 plots and report.md", files)
	}
	for _, f := range files {
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: %v, mode %v; want a 0644 file", f, err, fi.Mode())
		}
	}
	first, err := os.ReadFile(filepath.Join(dir, ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	back, err := LoadReport(dir)
	if err != nil {
		t.Fatal(err)
	}
	if back.Energy.Sensors[0].Scope != power.ScopeOther || !back.Energy.Estimated || back.Settings.Warmup != Duration(100*time.Millisecond) {
		t.Errorf("run.json read back as %+v %+v", back.Energy, back.Settings)
	}
	if _, err := back.Draw(dir); err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadFile(filepath.Join(dir, ReportFile))
	if !bytes.Equal(first, again) {
		t.Error("report.md drawn from run.json and results.csv differs from the original")
	}
	if _, err := LoadReport(t.TempDir()); err == nil || !strings.Contains(err.Error(), "has no run.json") {
		t.Errorf("empty folder: %v", err)
	}
	// A results.csv replaced by a FIFO is refused at once, naming it: reading it would
	// wait for a writer for ever.
	results := filepath.Join(dir, ResultsFile)
	if err := os.Remove(results); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(results, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := LoadReport(dir); done <- err }()
	select {
	case err := <-done:
		if want := results + " is a named pipe (FIFO), not a file"; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("FIFO results.csv: %v, want %q", err, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("LoadReport on a FIFO results.csv still reading after 5 s")
	}
}

func TestWritePlots(t *testing.T) {
	dir := t.TempDir()
	files, err := WritePlots(dir, Summarise(readFixture(t)))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 4 {
		t.Fatalf("wrote %v, want 4 plots", files)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if cfg.Width != 960 || cfg.Height != 576 {
			t.Errorf("%s is %dx%d, want 960x576", f, cfg.Width, cfg.Height)
		}
		if len(b) < 20000 {
			t.Errorf("%s is only %d bytes: an empty plot?", f, len(b))
		}
	}
}

func TestPlanAndValidate(t *testing.T) {
	p, err := inference.LoadPack(assets.DefaultPack(), "built-in")
	if err != nil {
		t.Fatal(err)
	}
	crops := &Crops{Images: make([]*image.Gray, 1)}
	base := func() Config {
		return Config{Pack: p, Models: []inference.Variant{inference.Base, inference.Optimised}, Threads: []int{1, 2}, Batches: []int{1, 8, 32},
			Scenarios: []Scenario{Single, Offline}, Stress: []int{0, 100}, Bare: true, Duration: time.Second, Repeat: 1, Crops: crops}
	}
	c := base()
	plan := c.Plan()
	// Per model and thread count: 2 stress x (1 single + 3 offline) + 3 bare at stress 0.
	if len(plan) != 2*2*(2*4+3) {
		t.Errorf("plan has %d runs, want 44", len(plan))
	}
	if plan[0] != (Spec{inference.Base, Single, 1, 1, 0, 1}) || plan[4] != (Spec{inference.Base, Bare, 1, 1, 0, 1}) ||
		plan[7] != (Spec{inference.Base, Single, 1, 1, 100, 1}) {
		t.Errorf("plan order: %v %v %v", plan[0], plan[4], plan[7])
	}
	c.Scenarios, c.Bare = []Scenario{Single}, true
	if n := len(c.Plan()); n != 2*2*(2+1) {
		t.Errorf("single-only plan: %d runs, want 12 (bare at batch 1 only)", n)
	}
	if c := base(); c.Validate() != nil {
		err := c.Validate()
		t.Errorf("valid config: %v", err)
	}
	tests := []struct {
		change func(*Config)
		want   string
	}{
		{func(c *Config) { c.Stress = []int{0, 120} }, "--stress 120"},
		{func(c *Config) { c.Threads = []int{0} }, "--threads 0"},
		{func(c *Config) { c.Batches = nil }, "--batch is empty"},
		{func(c *Config) { c.Duration = 0 }, "--duration"},
		{func(c *Config) { c.Repeat = 0 }, "--repeat 0"},
		{func(c *Config) { c.Models = []inference.Variant{"tiny"} }, "no tiny model"},
		{func(c *Config) { c.Scenarios = []Scenario{Bare} }, "--scenario bare-ort"},
	}
	for _, tc := range tests {
		c := base()
		tc.change(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate: %v, want %q", err, tc.want)
		}
	}
}

func TestStress(t *testing.T) {
	if s := StartStress(context.Background(), 0, 1); s.Workers != 0 || s.CPU() != 0 {
		t.Errorf("stress 0 started %d workers", s.Workers)
	}
	s := StartStress(context.Background(), 100, 1)
	t0 := time.Now()
	time.Sleep(150 * time.Millisecond)
	s.Stop()
	wall := time.Since(t0)
	if cpu := s.CPU(); cpu <= 0 || cpu > wall+stressPeriod {
		t.Errorf("one worker used %v of CPU in %v of wall time", cpu, wall)
	}
	s.Stop() // a second Stop is harmless
}

// samples loads a few bundled images once.
var samples = sync.OnceValues(func() (*Crops, error) { return LoadFS(assets.Samples(), "samples") })

func TestLoad(t *testing.T) {
	c, err := samples()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Images) != 387 || c.Images[0] == nil {
		t.Errorf("%d images from the bundled sample, want 387", len(c.Images))
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "broken.png"), []byte("not a png"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, problems, err := LoadDir(dir); err == nil || len(problems) != 1 || !strings.Contains(err.Error(), "--images "+dir) {
		t.Errorf("folder of one broken image: %v, problems %v", err, problems)
	}
	raw, _ := fs.ReadFile(assets.Samples(), c.Names[0])
	if err := os.WriteFile(filepath.Join(dir, "ok.jpg"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, problems, err := LoadDir(dir); err != nil || len(got.Images) != 1 || len(problems) != 1 {
		t.Errorf("one good, one broken: %v images, %v problems, %v", got, problems, err)
	}
}

// TestRunSmall runs a short benchmark end to end on the real models and the bundled
// images, with the estimate as the energy source.
func TestRunSmall(t *testing.T) {
	testpack.RequireRuntime(t)
	c, err := samples()
	if err != nil {
		t.Fatal(err)
	}
	p, err := inference.LoadPack(assets.DefaultPack(), "built-in")
	if err != nil {
		t.Fatal(err)
	}
	acc := measuredAccuracy(t, p, c, 24)
	est := power.NewEstimate(10, nil)
	var progress []Progress
	cfg := Config{Pack: p, Models: []inference.Variant{inference.Optimised}, Threads: []int{1}, Batches: []int{4},
		Scenarios: []Scenario{Single, Offline}, Stress: []int{0, 100}, Bare: true, Repeat: 1,
		Warmup: 50 * time.Millisecond, Idle: 100 * time.Millisecond, Duration: 300 * time.Millisecond,
		Crops: &Crops{Source: "samples", Images: c.Images[:24]}, Accuracy: map[inference.Variant]Accuracy{inference.Optimised: acc},
		Power:    power.Detection{Sensors: []power.Sensor{est}, Total: power.ChooseTotal([]power.Sensor{est})},
		Progress: func(pr Progress) { progress = append(progress, pr) }}
	rs, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"optimised|single|1|1|0", "optimised|offline|1|4|0", "optimised|bare-ort|1|1|0", "optimised|bare-ort|1|4|0",
		"optimised|single|1|1|100", "optimised|offline|1|4|100"}
	if len(rs) != len(want) || len(progress) != 2*len(want) {
		t.Fatalf("%d results, %d progress calls; want %d and %d", len(rs), len(progress), len(want), 2*len(want))
	}
	for i, r := range rs {
		if r.Key() != want[i] {
			t.Errorf("run %d is %s, want %s", i, r.Key(), want[i])
		}
		if r.Cells == 0 || r.CellsPerSec <= 0 || r.P50 <= 0 || r.P90 < r.P50 || r.P99 < r.P90 {
			t.Errorf("%s: cells %d, %v cells/s, p50 %v p90 %v p99 %v", r.Key(), r.Cells, r.CellsPerSec, r.P50, r.P90, r.P99)
		}
		if r.Seconds < 0.3 || r.PeakRSSMB <= 0 || r.Joules <= 0 || math.IsNaN(r.MarginalJPerCell) || !r.Estimated() {
			t.Errorf("%s: %.3f s, peak %v MB, %v J, marginal %v, kind %s", r.Key(), r.Seconds, r.PeakRSSMB, r.Joules, r.MarginalJPerCell, r.EnergyKind)
		}
		if math.Abs(r.Top1-acc.Top1) > 5e-5 { // results.csv keeps 4 decimals
			t.Errorf("%s: top-1 %v, want the measured %v", r.Key(), r.Top1, acc.Top1)
		}
		if (r.Stress > 0) != (r.StressWorkers > 0) || (r.Stress > 0 && r.StressCPUPercent <= 0) {
			t.Errorf("%s: %d stress workers used %.0f%% CPU", r.Key(), r.StressWorkers, r.StressCPUPercent)
		}
		if r.Scenario == Offline && r.Cells%4 != 0 && r.Cells < 24 {
			t.Errorf("%s: %d cells", r.Key(), r.Cells)
		}
	}
	// The estimate follows CPU time: the stress load raises the idle baseline.
	if rs[4].IdleWatts <= rs[0].IdleWatts {
		t.Errorf("idle W %v under 100%% stress, %v without: the load's CPU is not in the baseline", rs[4].IdleWatts, rs[0].IdleWatts)
	}
}

// measuredAccuracy measures the optimised model's top-1 on the first n sample images
// with MeasureAccuracy (from their files, through a labelled list) and checks it against
// top-1 counted here from the decoded images, a path of its own.
func measuredAccuracy(t *testing.T, p *inference.Pack, c *Crops, n int) Accuracy {
	t.Helper()
	dir := t.TempDir()
	var list strings.Builder
	list.WriteString("path,label\n")
	labels := make([]string, n)
	for i, name := range c.Names[:n] {
		labels[i] = filepath.Base(filepath.Dir(name))
		data, err := fs.ReadFile(assets.Samples(), name)
		if err != nil {
			t.Fatal(err)
		}
		file := fmt.Sprintf("%02d-%s", i, filepath.Base(name))
		if err := os.WriteFile(filepath.Join(dir, file), data, 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&list, "%s,%s\n", file, labels[i])
	}
	csvPath := filepath.Join(dir, "list.csv")
	if err := os.WriteFile(csvPath, []byte(list.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	acc, skipped, err := MeasureAccuracy(context.Background(), p, inference.Optimised, 1, csvPath)
	if err != nil || skipped != 0 {
		t.Fatalf("MeasureAccuracy: %v, %d skipped", err, skipped)
	}
	clf, err := inference.NewClassifier(p, inference.Options{Variant: inference.Optimised, Threads: 1, Batch: 8, TopK: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer clf.Close()
	res, err := clf.Classify(context.Background(), c.Images[:n])
	if err != nil {
		t.Fatal(err)
	}
	right := 0
	for i, r := range res {
		if r.Best().Label == labels[i] {
			right++
		}
	}
	// The two paths decode the JPEGs with different decoders: a crop near a decision
	// boundary may go either way, but not more than one in n.
	if own := float64(right) / float64(n); math.Abs(acc.Top1-own) > 1.0/float64(n)+1e-9 || acc.Top1 < 0.5 {
		t.Fatalf("MeasureAccuracy top-1 %v, counted here %v (%d of %d): want them equal within one image, and at least 0.5", acc.Top1, own, right, n)
	}
	return acc
}

func TestRunNeedsPackAndImages(t *testing.T) {
	p, _ := inference.LoadPack(assets.DefaultPack(), "built-in")
	cfg := Config{Pack: p, Models: []inference.Variant{inference.Base}, Threads: []int{1}, Scenarios: []Scenario{Single},
		Stress: []int{0}, Duration: time.Second, Repeat: 1, Crops: &Crops{}}
	if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "no images") {
		t.Errorf("no crops: %v", err)
	}
	cfg.Pack = nil
	if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "no classifier pack") {
		t.Errorf("no pack: %v", err)
	}
}

func TestRunCancel(t *testing.T) {
	testpack.RequireRuntime(t)
	c, err := samples()
	if err != nil {
		t.Fatal(err)
	}
	p, _ := inference.LoadPack(assets.DefaultPack(), "built-in")
	est := power.NewEstimate(10, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cfg := Config{Pack: p, Models: []inference.Variant{inference.Optimised}, Threads: []int{1}, Batches: []int{8},
		Scenarios: []Scenario{Offline}, Stress: []int{0, 50}, Repeat: 1, Duration: 10 * time.Second,
		Crops: &Crops{Images: c.Images[:16]}, Power: power.Detection{Sensors: []power.Sensor{est}, Total: power.ChooseTotal([]power.Sensor{est})},
		Progress: func(pr Progress) {
			if pr.Result == nil {
				time.AfterFunc(200*time.Millisecond, cancel)
			}
		}}
	t0 := time.Now()
	rs, err := Run(ctx, cfg)
	if !errors.Is(err, context.Canceled) || len(rs) != 0 {
		t.Errorf("cancelled run: %d results, %v", len(rs), err)
	}
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("cancel took %v to stop a 10 s run", d)
	}
}

func TestParseProcStat(t *testing.T) {
	// A real first line of /proc/stat: user nice system idle iowait irq softirq steal guest guest_nice.
	d, err := parseProcStat([]byte("cpu  1046817 283 120361 51306281 5812 0 8151 2207 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Duration(1046817+283+120361+8151+2207) * 10 * time.Millisecond; d != want {
		t.Errorf("busy %v, want %v", d, want)
	}
	if _, err := parseProcStat([]byte("intr 1 2 3\n")); err == nil {
		t.Error("a line that is not the cpu total was accepted")
	}
}

// An image listed twice is scored once, and under a second label not again: it weighed
// double in the top-1 (helper-39).
func TestMeasureAccuracyScoresAnImageOnce(t *testing.T) {
	testpack.RequireRuntime(t)
	p, err := inference.LoadPack(assets.DefaultPack(), "built-in")
	if err != nil {
		t.Fatal(err)
	}
	good, err := filepath.Abs("../testdata/mixed-images/good acantharia.jpg")
	if err != nil {
		t.Fatal(err)
	}
	list := filepath.Join(t.TempDir(), "list.csv")
	rows := "path,label\n" + good + ",acantharia_protist\n" + good + ",acantharia_protist\n" + good + ",detritus_other\n"
	if err := os.WriteFile(list, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	acc, skipped, err := MeasureAccuracy(context.Background(), p, inference.Optimised, 1, list)
	if err != nil {
		t.Fatal(err)
	}
	if skipped != 2 || !strings.HasSuffix(acc.Source, "(1 images)") {
		t.Errorf("%s, skipped %d; want 1 image scored and the 2 repeats skipped", acc.Source, skipped)
	}
}
