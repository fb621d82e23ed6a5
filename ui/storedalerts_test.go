package ui

import (
	"encoding/json"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"bytes"
	"context"
	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/report"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
)

// History applies the rules to a stored sample as the live run did: in cells. 30
// Microcystis colonies in 1 mL are 30 objects per mL, far under the WHO watch level of
// 20,000 cells/mL; the 24,000 cells estimated in them reach it.
func TestHistoryMeasuresColoniesInCells(t *testing.T) {
	tx := cyanoTaxonomy(t)
	b := whoBinding(t, tx)
	if len(b.Bound) == 0 {
		t.Fatal("the WHO rule binds to nothing of the cyano pack")
	}
	sm := screening.NewSample("C1")
	sm.VolumeML = 1
	c := store.Counts{Sample: store.SampleInfo{Sample: sm}}
	c.Taxa = []store.TaxonCount{{Label: "Microcystis", Name: "Microcystis", Unit: "colony", Concentration: sm.Concentration(30), Cells: 24000}}
	states := evaluateStored(b, c)
	if len(states) != 1 || states[0].Level != alerts.Watch || states[0].Value.Cells != 24000 || states[0].Value.PerL != 24000*1000 {
		t.Errorf("30 colonies of 24,000 cells in 1 mL: %+v; want WATCH at 24,000,000 cells/L", states)
	}
	// Counted one cell each (as History did), the same colonies raise nothing.
	c.Taxa[0].Cells = 30
	if states := evaluateStored(b, c); len(states) != 1 || states[0].Level != alerts.None {
		t.Errorf("30 single cells in 1 mL: %+v; want no level", states)
	}
}

// History says which runs examined part of the volume given, as the PDF report does.
func TestHistorySaysPartial(t *testing.T) {
	si := store.SampleInfo{Runs: []store.RunRow{{ID: 4, VolumeML: 0.05, VolumeGiven: 0.05, Status: "done"}, {ID: 7, VolumeML: 0.048, VolumeGiven: 0.05, Status: "stopped"}}}
	if got := report.PartialRuns(si); !strings.HasPrefix(got, "Partial: run 2 of 2 examined 0.048 of the 0.05 mL given (stopped).") {
		t.Errorf("partial line %q", got)
	}
	si.Runs = si.Runs[:1]
	if got := report.PartialRuns(si); got != "" {
		t.Errorf("a whole run said partial: %q", got)
	}
	// A sample's only run is "the run": the store's number (7 of a sample with one run)
	// read as a seventh run.
	si.Runs = []store.RunRow{{ID: 7, VolumeML: 0.048, VolumeGiven: 0.05, Status: "stopped"}}
	if got := report.PartialRuns(si); !strings.HasPrefix(got, "Partial: the run examined 0.048 of the 0.05 mL given (stopped).") {
		t.Errorf("one run: %q", got)
	}
	// A run read to its end is partial for its unreadable files, and says so, not
	// "(done)" (helper-62).
	si.Runs = []store.RunRow{{ID: 7, VolumeML: 0.0833, VolumeGiven: 0.1, Status: "done", FilesSkipped: 1, FramesFailed: 1}}
	if got := report.PartialRuns(si); !strings.HasPrefix(got, "Partial: the run examined 0.0833 of the 0.1 mL given (1 file could not be read; 1 frame could not be segmented).") {
		t.Errorf("a whole read with a file unreadable: %q", got)
	}
}

// The trade-off line says latency and throughput apart: they differ (fixed costs per
// call), and one ratio for "as fast" read as the other.
func TestTradeOffSaysLatencyAndThroughput(t *testing.T) {
	h := newHarness(t, nil)
	p := h.a.svc.Pack
	id := app.PackCostID(p)
	app.SaveCost(h.fy.Preferences(), id, app.ModelCost{Variant: inference.Base, P50Ms: 20.6, CellsPerSec: 41.7, JPerCell: 0.2})
	app.SaveCost(h.fy.Preferences(), id, app.ModelCost{Variant: inference.Optimised, P50Ms: 2.98, CellsPerSec: 203, JPerCell: 0.05})
	got := tradeOff(h.a)
	for _, want := range []string{"answers a crop 6.9× as fast as the base model (median latency)", "classifies 4.9× as many cells a second", "75% less energy per cell"} {
		if !strings.Contains(got, want) {
			t.Errorf("trade-off %q lacks %q", got, want)
		}
	}
	if strings.Contains(got, "the ratio is rough") {
		t.Errorf("measured on a quiet machine, the trade-off says it is rough: %q", got)
	}
	// Measured while another program ran: said, on the card and in the trade-off
	// (helper-69: 7.0x became 2.5x within minutes, unsaid).
	app.SaveCost(h.fy.Preferences(), id, app.ModelCost{Variant: inference.Base, P50Ms: 20.6, CellsPerSec: 41.7, JPerCell: 0.2, OtherCPUPercent: 95})
	if got := tradeOff(h.a); !strings.Contains(got, "Other programs ran while they were measured: the ratio is rough") {
		t.Errorf("a disturbed measurement: trade-off %q", got)
	}
	h.a.ShowSettings()
	if c := h.a.settingsWin.cards[inference.Base].cost.Text; !strings.Contains(c, "Other programs took 95% of a core meanwhile") {
		t.Errorf("the base card of a disturbed measurement: %q", c)
	}
}

// An export named as a frame is refused, and the frame is left as it was (the save
// dialog no longer empties it: TestSaveDialogEmptiesNothing).
func TestExportRefusesFrameNames(t *testing.T) {
	dir := t.TempDir()
	if err := refuseFrameName(filepath.Join(dir, "report.jpg")); err == nil || !strings.Contains(err.Error(), "is named as a frame (.jpg)") {
		t.Errorf("report.jpg: %v", err)
	}
	frame := filepath.Join(dir, "frame.png")
	if err := os.WriteFile(frame, []byte("pixels"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := refuseFrameName(frame); err == nil {
		t.Error("frame.png accepted")
	}
	if data, _ := os.ReadFile(frame); string(data) != "pixels" {
		t.Errorf("the frame holds %q", data)
	}
	if err := refuseFrameName(filepath.Join(dir, "S-1_report.pdf")); err != nil {
		t.Errorf("a .pdf refused: %v", err)
	}
}

// Volumes are written to their significant digits: 0.005 mL is not "0.01".
func TestFmtVolume(t *testing.T) {
	for v, want := range map[float64]string{0.005: "0.005", 0.0437: "0.0437", 1: "1", 2.5: "2.5", 1000: "1000", 0.123456: "0.1235"} {
		if got := fmtVolume(v); got != want {
			t.Errorf("fmtVolume(%v) = %q, want %q", v, got, want)
		}
	}
}

// The trend chart draws the watch level beside the alert level: a sample at the watch
// level does not sit under the only line drawn.
func TestChartDrawsWatchAndAlertLevels(t *testing.T) {
	now := time.Now()
	pts := []chartPoint{{Sample: "A", Time: now.Add(-48 * time.Hour), PerL: 3e4, Low: 2e4, High: 4e4}, {Sample: "B", Time: now, PerL: 4.4e7, Low: 2.7e7, High: 6.8e7}}
	img := renderChart(pts, "Cyanobacteria", chartLevels{Watch: 2e7, Alert: 1e8}, colorBrand, 800, 500, 1)
	has := func(c color.NRGBA) bool {
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				r, g, bl, _ := img.At(x, y).RGBA()
				if uint8(r>>8) == c.R && uint8(g>>8) == c.G && uint8(bl>>8) == c.B {
					return true
				}
			}
		}
		return false
	}
	if !has(colorWatch) || !has(colorAlert) {
		t.Errorf("watch level drawn %v, alert level drawn %v: want both", has(colorWatch), has(colorAlert))
	}
	h := newHarness(t, nil)
	if l := h.a.history.chartLevels("protist_noctiluca"); l.Alert != 10000 || l.Watch != 0 {
		t.Errorf("Noctiluca under the default preset: %+v, want the alert level 10,000 and no line for presence", l)
	}
}

// A sampling time typed in the app is refused in the future and before 1990, as screen
// refuses it.
func TestParseWhenBounds(t *testing.T) {
	if _, err := parseWhen("2025-06-03 09:30"); err != nil {
		t.Errorf("a plain time refused: %v", err)
	}
	for _, s := range []string{"2999-01-01", "1900-01-01 09:30"} {
		if _, err := parseWhen(s); err == nil {
			t.Errorf("%s accepted", s)
		}
	}
}

// Samples minutes apart stand apart on the trend chart: its time axis spans the samples
// with a margin, not a whole day, and its ticks fall on the local clock's round times.
func TestChartClockWindow(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 10, 7, 0, 0, time.Local)
	for _, c := range []struct {
		span       time.Duration
		maxWindow  time.Duration
		wantStep   time.Duration
		wantLowest time.Duration // the first tick after lo, from lo, at most
	}{
		{0, 30 * time.Minute, 5 * time.Minute, 5 * time.Minute},
		{12 * time.Minute, 40 * time.Minute, 5 * time.Minute, 5 * time.Minute},
		{5 * time.Hour, 7 * time.Hour, time.Hour, time.Hour},
		{20 * time.Hour, 25 * time.Hour, 3 * time.Hour, 3 * time.Hour},
	} {
		lo, hi, step := clockWindow(t0, t0.Add(c.span))
		if !lo.Before(t0) || !hi.After(t0.Add(c.span)) || hi.Sub(lo) > c.maxWindow || step != c.wantStep {
			t.Errorf("span %v: axis %v to %v (%v), step %v; want within %v, step %v", c.span, lo, hi, hi.Sub(lo), step, c.maxWindow, c.wantStep)
		}
		ticks := clockTicks{step}.Ticks(float64(lo.Unix()), float64(hi.Unix()))
		if len(ticks) == 0 || len(ticks) > 9 {
			t.Errorf("span %v: %d ticks", c.span, len(ticks))
			continue
		}
		first := time.Unix(int64(ticks[0].Value), 0).Local()
		if first.Sub(lo) > c.wantLowest || first.Before(lo) || first.Second() != 0 || (first.Hour()*60+first.Minute())%int(step.Minutes()) != 0 {
			t.Errorf("span %v: first tick at %v (axis from %v), not a round %v of the clock", c.span, first, lo, step)
		}
	}
}

// Within a day the ticks give the clock and the axis the date, once: a date on every
// tick ran the labels into each other (helper-41).
func TestChartDateOnceUnderTheAxis(t *testing.T) {
	day := time.Date(2026, 12, 3, 20, 20, 0, 0, time.Local)
	if got := dayRange(day, day.Add(time.Hour)); got != "2026-12-03" {
		t.Errorf("one day: %q", got)
	}
	if got := dayRange(day, day.Add(5*time.Hour)); got != "2026-12-03 to 2026-12-04" {
		t.Errorf("across midnight: %q", got)
	}
	// Four samples of one evening: the chart's own axis.
	var pts []chartPoint
	for i := range 4 {
		pts = append(pts, chartPoint{Sample: fmt.Sprint(i), Time: day.Add(time.Duration(i) * 10 * time.Minute), PerL: 1000, Low: 500, High: 2000})
	}
	p := chartPlot(pts, "Noctiluca at Bay A", chartLevels{}, colorBrand)
	if p.X.Label.Text != "Sample taken, 2026-12-03" {
		t.Errorf("axis label %q", p.X.Label.Text)
	}
	ticks := p.X.Tick.Marker.Ticks(p.X.Min, p.X.Max)
	labelled := 0
	for _, tk := range ticks {
		if tk.Label == "" {
			continue
		}
		labelled++
		if strings.Contains(tk.Label, "2026") || len(tk.Label) != len("20:20") {
			t.Errorf("tick label %q: want the clock alone", tk.Label)
		}
	}
	if labelled < 2 {
		t.Errorf("%d labelled ticks", labelled)
	}
}

// An alert raised while a folder was still read says its figure is of the frames read by
// then: History's 72,000 cells/L for a sample that ends at 20,000 is not a contradiction.
func TestHistorySaysRaisedWhileReading(t *testing.T) {
	ev := alerts.Event{Time: time.Now(), Taxon: "Noctiluca", From: alerts.None, To: alerts.Watch, Value: alerts.Measure{Count: 1, PerL: 72000, Provisional: true},
		Threshold: alerts.Threshold{Presence: true, Unit: alerts.Presence}, Source: "s"}
	got := recorded{events: []alerts.Event{ev}}.lines()
	if len(got) != 1 || !strings.Contains(got[0], "72,000 cells/L (1 counted in the frames read by then)") {
		t.Errorf("while reading: %q", got)
	}
	ev.Value.Provisional = false
	if got := (recorded{events: []alerts.Event{ev}}).lines(); len(got) != 1 || !strings.Contains(got[0], "(1 counted),") {
		t.Errorf("on the whole sample: %q", got)
	}
}

// History puts a rule that sums several taxa on its group's row, not on each member's:
// a taxon far under the level showed Alert beside it (helper-38: Cylindrospermopsis at
// 900,000/L, "Alert", under a WHO level of 100 M cells/L summed over the cyanobacteria).
// A rule on one taxon alone still marks that taxon's row.
func TestHistoryPutsGroupLevelsOnGroupRows(t *testing.T) {
	h := newHarness(t, nil)
	sm := screening.NewSample("CHAINS")
	sm.VolumeML = 1
	chains := func(n int) screening.Concentration { return sm.Concentration(n) }
	// 150 + 100 chains in 1 mL: 250,000 per litre of the group, over the default
	// preset's alert level of 200,000; each taxon alone is under it.
	c := store.Counts{Sample: store.SampleInfo{Sample: sm}}
	c.Taxa = []store.TaxonCount{
		{Label: "diatom_chain_string", Name: "Diatom chain (string)", Group: "diatom_chains", Unit: "chain", Concentration: chains(150), Cells: 150},
		{Label: "diatom_chain_tube", Name: "Diatom chain (tube)", Group: "diatom_chains", Unit: "chain", Concentration: chains(100), Cells: 100},
		{Label: "protist_noctiluca", Name: "Noctiluca", Group: "noctiluca", Unit: "cell", Concentration: chains(20), Cells: 20},
	}
	c.Groups = []store.TaxonCount{
		{Label: "diatom_chains", Name: "Chain-forming diatoms", Unit: "chain", Concentration: chains(250), Cells: 250},
		{Label: "noctiluca", Name: "Noctiluca", Unit: "cell", Concentration: chains(20), Cells: 20},
	}
	h.a.history.show(c, recorded{})
	rows := h.a.history.counts.Rows()
	want := map[string]alerts.Level{
		groupKey + "diatom_chains": alerts.Alert, "diatom_chain_string": alerts.None, "diatom_chain_tube": alerts.None,
		groupKey + "noctiluca": alerts.Alert, "protist_noctiluca": alerts.Alert,
	}
	for key, lv := range want {
		r, ok := rowOf(rows, key)
		if !ok {
			t.Errorf("History has no row %s: %v", key, rows)
			continue
		}
		if r.Level != lv {
			t.Errorf("row %s (%s): level %v, want %v", key, r.Name, r.Level, lv)
		}
	}
	if g, _ := rowOf(rows, groupKey+"diatom_chains"); g.Name != "HAB group: Chain-forming diatoms" || !g.IsGroup || g.Count != 250 {
		t.Errorf("the group's row %+v, as the Live tab names it", g)
	}
	if !strings.Contains(h.a.history.alerts.Text, "ALERT Chain-forming diatoms") {
		t.Errorf("History's alerts %q do not name the group's alert", h.a.history.alerts.Text)
	}
}

// A taught pack records no validation top-1, but each model's cross-validated figures
// on the crops taught: the trade-off says those (it said the pack records no cost).
func TestTaughtPackCost(t *testing.T) {
	p := &inference.Pack{Manifest: inference.Manifest{Metrics: json.RawMessage(`{"taught": {"cross_validation": [
		{"Variant": "base", "Top1New": 0.9, "OldTop1After": 0.7},
		{"Variant": "optimised", "Top1New": 0.88, "OldTop1After": 0.69}]}}`)}}
	if got, want := taughtCost(p), "2.0 points less top-1 on the taxa taught and 1.0 points less top-1 on the pack's own (cross-validated on the crops taught)"; got != want {
		t.Errorf("taught cost %q, want %q", got, want)
	}
	for d, want := range map[float64]string{0.012: "1.2 points less top-1", -0.005: "0.5 points more top-1", 0.0004: "the same top-1"} {
		if got := pointsLess(d, "top-1"); got != want {
			t.Errorf("pointsLess(%v) = %q, want %q", d, got, want)
		}
	}
	if got := taughtCost(&inference.Pack{}); got != "an accuracy cost this pack does not record" {
		t.Errorf("a pack without figures: %q", got)
	}
}

// The History list marks a sample whose run examined less than the volume given; a
// whole one is not marked (helper-41: only the detail said so).
func TestHistoryListMarksPartial(t *testing.T) {
	h := newHarness(t, nil)
	for _, c := range []struct {
		id       string
		fraction float64
	}{{"S-HALF", 0.5}, {"S-WHOLE", 1}} {
		sm := h.a.newSample()
		sm.ID = c.id
		r, err := h.st.StartRun(h.a.ctx, screening.RunInfo{Sample: sm, Spec: capture.Spec{Kind: capture.KindFolder, Path: "/data/" + c.id}, Model: inference.Optimised,
			Threshold: 0.5, Taxonomy: h.a.svc.Taxonomy, Expected: 10})
		if err != nil {
			t.Fatal(err)
		}
		ex := screening.Examined{Expected: 10, Frames: int(10 * c.fraction), Fraction: c.fraction, DeclaredML: sm.VolumeML, Interrupted: c.fraction < 1}
		if err := r.Finish(h.a.ctx, screening.Snapshot{Threshold: 0.5, Variant: inference.Optimised, Examined: ex}, nil); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := listSamples(h.a.ctx, h.st)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range entries {
		got[e.ID] = e.Partial
	}
	if len(got) != 2 || !got["S-HALF"] || got["S-WHOLE"] {
		t.Errorf("partial marks %v, want S-HALF alone", got)
	}
}

// Samples days apart: the axis runs past the first and last by a margin, so their points
// and interval caps are drawn whole (the last sat half outside: helper-54).
func TestChartAxisPastTheLastPoint(t *testing.T) {
	day := time.Date(2026, 12, 1, 9, 0, 0, 0, time.Local)
	pts := []chartPoint{{Sample: "a", Time: day, PerL: 1000, Low: 500, High: 2000}, {Sample: "b", Time: day.Add(72 * time.Hour), PerL: 3000, Low: 2000, High: 4000}}
	p := chartPlot(pts, "Noctiluca at Bay A", chartLevels{}, colorBrand)
	first, last := float64(pts[0].Time.Unix()), float64(pts[1].Time.Unix())
	if margin := (last - first) / 40; p.X.Min > first-margin || p.X.Max < last+margin {
		t.Errorf("axis %v to %v; want a margin past the points at %v and %v", p.X.Min, p.X.Max, first, last)
	}
}

// While a continuation reads, the banner measures the sample's earlier runs with its
// live counts: earlier runs at ALERT on 240,000 cells in 1 mL stay at ALERT when the
// continuation has read 0.01 mL with nothing in it, where its share alone said no alert
// (helper-59: a green NO ALERT over a sample at ALERT). Counts and volumes add up, and
// the point figures decide, as in History: the lower bound put an ALERT sample at WATCH
// in the continuation's first seconds (helper-61).
func TestContinuationBannerMeasuresTheWholeSample(t *testing.T) {
	tx := cyanoTaxonomy(t)
	b := whoBinding(t, tx)
	sm := screening.NewSample("C2")
	sm.VolumeML = 1
	c := store.Counts{Sample: store.SampleInfo{Sample: sm, Runs: []store.RunRow{{ID: 1}}}}
	c.Taxa = []store.TaxonCount{{Label: "Microcystis", Unit: "colony", Concentration: sm.Concentration(300), Cells: 240000}}
	earlier := earlierOf(c)
	live := screening.Snapshot{Sample: sm, Running: true}
	live.Sample.VolumeML = 0.01
	if st := evaluateSnapshot(b, live); len(st) != 1 || st[0].Level != alerts.None {
		t.Fatalf("the continuation's empty share alone: %+v, want no level (the test's premise)", st)
	}
	st := evaluateWithEarlier(b, earlier, live)
	if len(st) != 1 || st[0].Level != alerts.Alert || st[0].Value.Cells != 240000 {
		t.Errorf("earlier runs at ALERT with an empty continuation: %+v, want ALERT on 240,000 cells", st)
	}
	// The continuation's own colonies add to the earlier ones, on the volumes added.
	live.Taxa = []screening.TaxonCount{{Taxon: screening.Taxon{Label: "Microcystis"}, Concentration: screening.Concentration{Count: 10}, CellsEstimate: 8000}}
	live.Sample.VolumeML = 0.01
	st = evaluateWithEarlier(b, earlier, live)
	if want := 248000 / 1.01 * 1000; len(st) != 1 || st[0].Value.Cells != 248000 || st[0].Value.Count != 310 || math.Abs(st[0].Value.PerL-want) > 1 {
		t.Errorf("with 10 more colonies of 8,000 cells: %+v, want 310 colonies, 248,000 cells at %.0f cells/L", st, want)
	}
	// Near a level, the point figure decides, as it decided the earlier runs: 30
	// colonies of 24,000 cells in 1 mL (24 M cells/L, its lower bound 16 M) stay WATCH.
	c.Taxa[0].Concentration, c.Taxa[0].Cells = sm.Concentration(30), 24000
	live.Taxa = nil
	if st := evaluateWithEarlier(b, earlierOf(c), live); len(st) != 1 || st[0].Level != alerts.Watch || st[0].Value.Provisional {
		t.Errorf("24 M cells/L, its lower bound under the watch level: %+v, want WATCH on the point figure", st)
	}
}

// Days apart, the ticks fall on days, labelled by the day: gonum's own fell at odd times
// of day ("2026-11-06 21:20", "2026-11-16 03:33", helper-62).
func TestChartDaysOnDays(t *testing.T) {
	var pts []chartPoint
	for i, at := range []time.Time{time.Date(2026, 11, 6, 21, 20, 0, 0, time.Local), time.Date(2026, 11, 16, 3, 33, 0, 0, time.Local), time.Date(2026, 11, 27, 3, 26, 0, 0, time.Local)} {
		pts = append(pts, chartPoint{Sample: fmt.Sprint(i), Time: at, PerL: 1000, Low: 500, High: 2000})
	}
	p := chartPlot(pts, "Noctiluca at Bay A", chartLevels{}, colorBrand)
	ticks := p.X.Tick.Marker.Ticks(p.X.Min, p.X.Max)
	labelled := 0
	for _, tk := range ticks {
		if tk.Label == "" {
			continue
		}
		labelled++
		at := time.Unix(int64(tk.Value), 0).Local()
		if at.Hour() != 0 || at.Minute() != 0 || tk.Label != at.Format("Jan 2") {
			t.Errorf("tick at %v labelled %q: want a midnight, labelled by its day", at, tk.Label)
		}
	}
	if labelled < 3 || labelled > 9 {
		t.Errorf("%d labelled ticks over three weeks", labelled)
	}
}

// cyanoTaxonomy is the built-in cyanobacteria pack's taxonomy.
func cyanoTaxonomy(t *testing.T) *screening.Taxonomy {
	t.Helper()
	return packTaxonomy(t, "cyano-tcb-10")
}

// packTaxonomy is the taxonomy of the built-in pack name.
func packTaxonomy(t testing.TB, name string) *screening.Taxonomy {
	t.Helper()
	p, err := app.LoadPack(name)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := screening.ForPack(p)
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

// whoBinding is the WHO cyanobacteria preset bound to taxonomy tx.
func whoBinding(t *testing.T, tx *screening.Taxonomy) alerts.Binding {
	t.Helper()
	rs, name, err := alerts.Open("preset:who-cyanobacteria", assets.Presets())
	if err != nil {
		t.Fatal(err)
	}
	return rs.BindTo(tx, tx.Pack, name)
}

// The app's PDF export refuses a file holding a session store, whatever its name, and
// the store in use, as the report command does (helper-78), leaving them as they were.
func TestExportReportRefusesStores(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "sessions.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	other, err := store.Open(filepath.Join(dir, "bench-b"))
	if err != nil {
		t.Fatal(err)
	}
	other.Close()
	for _, path := range []string{st.Path(), filepath.Join(dir, "bench-b")} {
		before, _ := os.ReadFile(path)
		err := writeExport(context.Background(), st, "S-1", formatReport, path)
		after, _ := os.ReadFile(path)
		if err == nil || !bytes.Equal(before, after) {
			t.Errorf("the report over %s: %v; want refused, the file as it was", path, err)
		}
	}
}
