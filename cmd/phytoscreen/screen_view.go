package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/internal/sigfig"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/vision"
)

// liveView shows a run's counts while it runs: on a terminal a table redrawn in place a
// few times a second, otherwise a plain progress line every few seconds.
type liveView struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	lines int // lines of the table on screen
	last  time.Time
	every time.Duration
}

// liveRows is how many taxa the live table lists.
const liveRows = 10

func newLiveView(w io.Writer, tty bool) *liveView {
	every := 5 * time.Second
	if tty {
		every = 250 * time.Millisecond
	}
	v := &liveView{w: w, tty: tty, every: every}
	if !tty {
		v.last = time.Now() // plain lines start after the first interval
	}
	return v
}

// note prints a line (a source event) above the live table.
func (v *liveView) note(line string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.tty && v.lines > 0 {
		fmt.Fprintf(v.w, "\x1b[%dA\x1b[J", v.lines) // up to the table, clear to the end of the screen
		v.lines = 0
		v.last = time.Time{} // redraw on the next update
	}
	fmt.Fprintln(v.w, line)
}

// update draws s unless the last draw was too recent.
// cost, when not empty, is a line of what classifying costs (the power meter's).
func (v *liveView) update(s screening.Snapshot, cost string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if time.Since(v.last) < v.every {
		return
	}
	v.last = time.Now()
	if !v.tty {
		fmt.Fprintln(v.w, progressLine(s))
		if cost != "" {
			fmt.Fprintln(v.w, "  cost: "+cost)
		}
		return
	}
	var b strings.Builder
	if v.lines > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", v.lines) // back to the table's first line
	}
	rows := liveTable(s)
	if cost != "" {
		rows = append(rows[:1], append([]string{"  cost: " + cost}, rows[1:]...)...)
	}
	for _, r := range rows {
		b.WriteString("\x1b[2K" + r + "\n")
	}
	for i := len(rows); i < v.lines; i++ { // the table shrank: blank what is left
		b.WriteString("\x1b[2K\n")
	}
	if len(rows) < v.lines {
		fmt.Fprintf(&b, "\x1b[%dA", v.lines-len(rows))
	}
	v.lines = len(rows)
	io.WriteString(v.w, b.String())
}

// clear removes the live table (the final summary follows).
func (v *liveView) clear() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.tty || v.lines == 0 {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\x1b[%dA", v.lines)
	for range v.lines {
		b.WriteString("\x1b[2K\n")
	}
	fmt.Fprintf(&b, "\x1b[%dA", v.lines)
	io.WriteString(v.w, b.String())
	v.lines = 0
}

// progressLine is one plain line of progress.
func progressLine(s screening.Snapshot) string {
	var top []string
	for i, x := range s.Taxa {
		if i == 3 {
			break
		}
		top = append(top, fmt.Sprintf("%s %d", x.Name, x.Count))
	}
	line := fmt.Sprintf("%s %5.1f s: %d frames (%d dropped), %d objects (%d unidentified, %d failed), %.1f objects/s",
		s.Sample.ID, s.Elapsed.Seconds(), s.Frames.Seen, s.Frames.Dropped, s.Cells.Found, s.Cells.Unidentified, s.Cells.Failed, s.Cells.PerSecond)
	if len(top) > 0 {
		line += "; " + strings.Join(top, ", ")
	}
	if a := activeAlerts(s); a != "" {
		line += "; " + a
	}
	return line
}

func activeAlerts(s screening.Snapshot) string {
	var out []string
	for _, st := range s.Alerts {
		if st.Level > alerts.None {
			out = append(out, strings.ToUpper(st.Level.String())+" "+st.Taxon)
		}
	}
	return strings.Join(out, ", ")
}

// liveTable is the live display: a status line, the most numerous taxa and the HAB groups.
func liveTable(s screening.Snapshot) []string {
	rows := []string{
		fmt.Sprintf("%s  %.0f s  %d frames (%d dropped)  %d cells  %.1f cells/s  %s  threshold %s",
			s.Sample.ID, s.Elapsed.Seconds(), s.Frames.Seen, s.Frames.Dropped, s.Cells.Found, s.Cells.PerSecond, s.Variant, thresholdNum(s.Threshold)),
		fmt.Sprintf("  %-34s %6s %11s  %s", "taxon", "count", "cells/L", "alert"),
	}
	if s.SoFar { // the counts are per litre of the share read; levels wait for their lower bound
		rows[0] += fmt.Sprintf("  per litre of the %s of %s mL read so far", volumeText(s.Sample.VolumeML), volumeText(s.Examined.DeclaredML))
	}
	for i, x := range s.Taxa {
		if i == liveRows {
			rows = append(rows, fmt.Sprintf("  … %d more taxa", len(s.Taxa)-liveRows))
			break
		}
		rows = append(rows, fmt.Sprintf("  %-34s %6d %11s  %s", clip(x.Name, 34), x.Count, thousands(x.PerL), alertText(x.Level, x.Unchecked)))
	}
	rows = append(rows, fmt.Sprintf("  %-34s %6d %11s", "Unidentified (to review)", s.Unidentified.Count, thousands(s.Unidentified.PerL)))
	for _, g := range s.Groups {
		rows = append(rows, fmt.Sprintf("  HAB %-30s %6d %11s  %s", clip(g.Name, 30), g.Count, thousands(g.PerL), alertText(g.Level, g.Unchecked)))
	}
	return rows
}

// countNoun writes n with its noun: "1 frame", "2 frames".
func countNoun(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// alertText is the alert column of a row: its level, UNCHECKED where a rule on it could
// not be checked in cells (the app's table says Unchecked; the column was blank, read
// as below the levels, helper-50), blank below them.
func alertText(l alerts.Level, unchecked bool) string {
	if l == alerts.None && unchecked {
		return "UNCHECKED"
	}
	return levelText(l)
}

func levelText(l alerts.Level) string {
	if l == alerts.None {
		return ""
	}
	return strings.ToUpper(l.String())
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// english formats numbers with thousands separators (12,345).
var english = message.NewPrinter(language.English)

// thousands formats a concentration with thousands separators and no decimals.
func thousands(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	if a := math.Abs(v); a > 0 && a < sigfig.Below {
		return sigfig.Plain(v, 3) // 0.014 cells/L of a thousand-litre typo is not 0
	}
	return english.Sprintf("%.0f", v)
}

// writeText prints the final summary.
func (r screenResult) writeText(w io.Writer) {
	s := r.Snapshot
	site := ""
	if s.Sample.Site != "" {
		site = ", site " + s.Sample.Site
	}
	if s.Sample.Analyst != "" {
		site += ", analyst " + s.Sample.Analyst
	}
	fmt.Fprintf(w, "Sample %s%s, taken %s; %s mL examined, factor %s\n", s.Sample.ID, site, s.Sample.Taken.In(localZone).Format("2006-01-02 15:04 MST"),
		volumeText(s.Sample.VolumeML), strconv.FormatFloat(s.Sample.Factor, 'f', -1, 64))
	for _, d := range s.Sample.Doubts() {
		fmt.Fprintf(w, "CHECK: %s\n", d)
	}
	if ex := s.Examined; ex.Partial() {
		why := "interrupted"
		if !ex.Interrupted {
			// The frames read but refused (crowded, blank) are said by name, as the
			// report says them: "unreadable" sent a technician to the files (helper-72).
			var parts []string
			if n := s.Frames.Crowded; n > 0 {
				parts = append(parts, countNoun(n, "frame", "frames")+" too crowded")
			}
			if n := s.Frames.Blank; n > 0 {
				parts = append(parts, countNoun(n, "frame", "frames")+" blank")
			}
			if n := ex.Expected - ex.Frames - s.Frames.Crowded - s.Frames.Blank; n > 0 || len(parts) == 0 {
				parts = append(parts, countNoun(n, "frame", "frames")+" unreadable or skipped")
			}
			why = strings.Join(parts, ", ")
		}
		fmt.Fprintf(w, "PARTIAL: %d of %d frames examined (%s, %s): the concentrations are on the %s mL examined, not the %s mL given\n",
			ex.Frames, ex.Expected, pct(ex.Fraction), why, volumeText(s.Sample.VolumeML), volumeText(ex.DeclaredML))
	}
	fmt.Fprintf(w, "Pack %s, model %s, confidence threshold %s; rules %s (%d of %d apply to this pack)\n",
		s.Pack, s.Variant, thresholdNum(s.Threshold), r.Rules.File, len(r.Bound), len(r.Rules.Rules))
	switch s.Finder {
	case "":
	case vision.FinderThresholds: // "Objects found by thresholds" read as a stray line (helper-49)
		fmt.Fprintln(w, "Objects found by the threshold segmenter (each object against the frame's background)")
	case vision.FinderCellImages:
		fmt.Fprintln(w, "Objects: one cell per image (single-cell images, not segmented)")
	default:
		fmt.Fprintf(w, "Objects found by %s\n", s.Finder)
	}
	fmt.Fprintln(w)
	// The unit column fits the widest unit: a group of colonies and filaments is
	// "filament/colony", as the app and the exports name it (it read "mixed" here).
	unitW := 8
	for _, x := range s.Taxa {
		unitW = max(unitW, len(x.Unit))
	}
	for _, g := range s.Groups {
		unitW = max(unitW, len(g.Unit))
	}
	head := fmt.Sprintf("%-36s %-*s %6s %11s  %-23s %s", "taxon", unitW, "unit", "count", "per litre", "95% interval", "alert")
	fmt.Fprintln(w, head)
	row := func(name, unit string, c screening.Concentration, level alerts.Level, unchecked bool) {
		fmt.Fprintf(w, "%-36s %-*s %6d %11s  %-23s %s\n", clip(name, 36), unitW, unit, c.Count, thousands(c.PerL),
			"["+thousands(c.Low)+" – "+thousands(c.High)+"]", alertText(level, unchecked))
	}
	for _, x := range s.Taxa {
		row(x.Name, x.Unit, x.Concentration, x.Level, x.Unchecked)
	}
	if len(s.Taxa) == 0 {
		fmt.Fprintln(w, "(no cell identified)")
	}
	row(fmt.Sprintf("Unidentified (p < %s, to review)", thresholdNum(s.Threshold)), "cell", s.Unidentified, alerts.None, false)
	unknown := 0 // objects of unknown cells (single-cell images), each counted one cell
	for _, x := range s.Taxa {
		unknown += x.CellsUnknown
	}
	guessed := screening.CellsEstimated(s.Taxa)
	// Uncalibrated, a cell size means nothing in pixels: the cells are guessed from the
	// shape (helper-50 read "from their size" above a note saying "from their shape");
	// single-cell images have no shape either: one cell each, a lower bound.
	how, approx := "estimated from their size", "about"
	header := "Cells in the colonies, chains and filaments counted, %s (an estimate: the counts above are of objects; alert rules, whose thresholds are in cells, use these):"
	switch {
	case r.UmPerPx == 0 && guessed > 0:
		how = "guessed from their shape"
	case guessed == 0 && unknown > 0:
		how, approx = "not estimated", "at least"
		header = "Cells in the colonies, chains and filaments counted: %s, single-cell images carry no size, so each counts one cell, a lower bound (the counts above are of objects; a level in cells that this lower bound reaches stands, one it does not is not checked):"
	}
	var est []string
	estimate := func(name, unit string, count int, cells float64) {
		// Every taxon counted in colonies, chains or filaments is listed, also those whose
		// objects came to one cell each: the group's total must add up from the rows
		// (helper-49: 3 Microcystis colonies missing from the list, in the total).
		if cells > float64(count) || (count > 0 && unit != "" && unit != "cell") {
			units := screening.UnitPlural(unit)
			if count == 1 {
				units = unit // "1 filament"
			}
			noun := "cells"
			if cells == 1 {
				noun = "cell" // "about 1 cells" (helper-52)
			}
			est = append(est, fmt.Sprintf("  %-34s %6d %-19s %s %s %s, %s cells/L", clip(name, 34), count, units, approx,
				thousands(cells), noun, thousands(cells*s.Sample.PerLFactor())))
		}
	}
	for _, x := range s.Taxa {
		estimate(x.Name, x.Unit, x.Count, x.CellsEstimate)
	}
	for _, g := range s.Groups {
		estimate(g.Name, g.Unit, g.Count, g.CellsEstimate)
	}
	if len(est) > 0 {
		fmt.Fprintf(w, "\n"+header+"\n%s\n", how, strings.Join(est, "\n"))
	}
	for _, x := range s.Taxa {
		if x.OversizeCells > 0 && x.Group == "" {
			// In no HAB group (a reject class such as "Not a cyanobacterium"): no alert
			// rests on it (helper-49 read the note below on one).
			fmt.Fprintf(w, "\nNote: about %s of the %s cells in %s are in objects over a tenth of their frame that could not be split (a mat of cells, or debris taken for one); check those frames (the objects export: oversize).\n",
				thousands(x.OversizeCells), thousands(x.CellsEstimate), x.Name)
		} else if x.OversizeCells > 0 {
			// An unsplit blob can carry most of a taxon's cells, and so an alert.
			fmt.Fprintf(w, "\nNote: about %s of the %s cells estimated in %s are in objects over a tenth of their frame that could not be split (a mat of cells, or debris taken for one): the alerts in cells rest on them as much; check those frames (the objects export: oversize).\n",
				thousands(x.OversizeCells), thousands(x.CellsEstimate), x.Name)
		}
	}
	if guessed > 0 && r.UmPerPx == 0 {
		// Without a calibration a taxon's cell size means nothing in pixels: a colony's
		// cells are guessed from the cores seen in it, one when none are, and a rule in
		// cells is then read far too low for a dense colony.
		what := fmt.Sprintf("the %d colonies, chains or filaments counted are", guessed)
		if guessed == 1 {
			what = "the colony, chain or filament counted is"
		}
		fmt.Fprintf(w, "\nNote: uncalibrated (no --calibration): the cells in %s guessed from their shape alone, one a colony when no cells show in it; give the microscope's µm per pixel (--calibration) to estimate them from their size, as rules in cells need.\n", what)
	}
	if len(s.Groups) > 0 {
		fmt.Fprintf(w, "\n%-36s %-*s %6s %11s  %-23s %s\n", "HAB group", unitW, "unit", "count", "per litre", "95% interval", "alert")
		for _, g := range s.Groups {
			row(g.Name, g.Unit, g.Concentration, g.Level, g.Unchecked)
		}
	}
	fmt.Fprintln(w, "\nAlerts raised:")
	raised := r.raised()
	switch {
	case len(r.Bound) == 0:
		// "none" would read as a clean sample: nothing was checked.
		fix := "use a rules file or preset with rules for its taxa (--rules)"
		if len(r.Apply) > 0 {
			fix = "screen with --rules " + r.Apply[0]
		}
		fmt.Fprintf(w, "  NOT CHECKED: no rule of %s applies to pack %s, so no alert could be raised; %s\n", r.Rules.File, r.Pack, fix)
	case len(raised) == 0 && alerts.UncheckedText(r.Alerts, thousands) != "":
		// "none" would read as a clean sample: colonies counted one cell each, or none
		// counted in a volume where one would reach the level.
		fmt.Fprintf(w, "  NOT CHECKED: %s\n", alerts.UncheckedText(r.Alerts, thousands))
	case len(raised) == 0:
		if c := alerts.ClosestText(r.Alerts, thousands); c != "" {
			fmt.Fprintf(w, "  none; nearest: %s\n", c)
		} else {
			fmt.Fprintln(w, "  none")
		}
	}
	for _, a := range raised {
		counted := fmt.Sprintf("%d counted", a.Value.Count)
		if a.Value.Cells > 0 {
			units := "colonies, filaments or chains"
			if a.Value.Count == 1 {
				units = "colony, filament or chain"
			}
			counted = fmt.Sprintf("%d %s counted, %s %s cells %s", a.Value.Count, units, approx, thousands(a.Value.Cells), how)
		}
		value := fmt.Sprintf("%s cells/L (%s, 95%% interval %s – %s)", thousands(a.Value.PerL), counted,
			thousands(a.Value.Low), thousands(a.Value.High))
		if a.Value.Cells > 0 {
			// Cells guessed from the objects' shape or size are an estimate: to three
			// figures, and the interval is the count's alone (helper-72: "31,680,000
			// cells/L … 95% interval 25,506,760 – 38,896,020" read as a measurement).
			est := func(v float64) string { return thousands(sigfig.Round(v, 3)) }
			value = fmt.Sprintf("about %s cells/L (%s; 95%% interval of the count, scaled: %s – %s)", est(a.Value.PerL), counted,
				est(a.Value.Low), est(a.Value.High))
		}
		// The sample's level is the one its final figures reach (the report's); a higher
		// one reached while the counts came in is said as such, not as the result: a
		// line reading "ALERT … 99,110,000 cells/L reached 100,000 cells/mL" was the
		// margin that holds a level while counting (helper-52).
		lead, what := strings.ToUpper(a.Peak.String()), value+" "+reachedText(a.Threshold)
		switch {
		case a.Threshold.Presence:
			what = fmt.Sprintf("present, %d counted (%s cells/L, 95%% interval %s – %s)", a.Value.Count, thousands(a.Value.PerL),
				thousands(a.Value.Low), thousands(a.Value.High))
		case a.Level == a.Peak:
		case a.Now != nil:
			lead = strings.ToUpper(a.Level.String())
			what = fmt.Sprintf("%s %s; %s (%s) was reached while counting, not by the whole sample", value, reachedText(*a.Now),
				strings.ToUpper(a.Peak.String()), thresholdText(a.Threshold))
		default:
			lead = "NO LEVEL"
			what = fmt.Sprintf("%s is under every level; %s (%s) was reached while counting, not by the whole sample", value,
				strings.ToUpper(a.Peak.String()), thresholdText(a.Threshold))
		}
		fmt.Fprintf(w, "  %s %s: %s; rule %s, source: %s\n", lead, a.Taxon, what, a.Rule, a.Source)
		if o := a.Value.Oversize; o > 0 && a.Value.Cells > 0 && !a.Threshold.Presence {
			// The level may rest on one unsplit mat: what it is without those objects.
			without := a.Value
			k := (a.Value.Cells - o) / a.Value.Cells
			without.PerL, without.Low, without.High, without.Cells = k*a.Value.PerL, k*a.Value.Low, k*a.Value.High, a.Value.Cells-o
			level := "no level"
			if r := r.rule(a.Rule); r != nil {
				if l := r.LevelOf(without); l != alerts.None {
					level = strings.ToUpper(l.String())
				}
			}
			fmt.Fprintf(w, "    (about %s of these cells are in objects over a tenth of their frame that could not be split; without them %s cells/L: %s; check those frames before acting)\n",
				thousands(o), thousands(without.PerL), level)
		}
		if !a.Verified {
			note := "not a verified regulatory value"
			if a.Note != "" {
				note += ": " + a.Note
			}
			fmt.Fprintf(w, "    (%s)\n", note)
		}
	}
	if r.PackLimits != "" && len(raised) > 0 {
		// The level rests on the pack's calls: what they were not shown to do is said
		// beside it (helper-81: water without algae read near the WHO watch level).
		fmt.Fprintf(w, "  CHECK: pack %s: %s\n", r.Pack, r.PackLimits)
	}
	if text := alerts.UncheckedText(r.Alerts, thousands); len(raised) > 0 && text != "" {
		// A rule not checked beside one raised is said too: its table row read
		// "unchecked" with no reason anywhere (helper-74).
		fmt.Fprintf(w, "  NOT CHECKED: %s\n", text)
	}
	for _, a := range r.Alerts {
		if text := a.ReviewText(thousands); text != "" {
			// Below a level only because the objects that would reach it wait for
			// review: the review decides, and the summary says so beside the level.
			fmt.Fprintf(w, "  REVIEW DECIDES: %s; review them before reading the sample as below it (the app's Gallery and review tab, its review queue)\n", text)
		}
	}

	// Segmented counts the failed frames too (Seen = Segmented + Dropped); said apart here,
	// "7 seen, 7 segmented, 1 failed" read as 8 (helper-60).
	// Objects, not cells: a colony or a filament counts once here (its cells are
	// estimated above); "Cells: 429" beside "about 3,295 cells" read as a contradiction.
	fmt.Fprintf(w, "\nFrames: %d seen, %d segmented, %d dropped, %d failed. Objects (cells, colonies, filaments, one each): %d counted (%d identified, %d unidentified, %d failed) in %.1f s, %.1f objects/s.\n",
		s.Frames.Seen, s.Frames.Segmented-s.Frames.Failed, s.Frames.Dropped, s.Frames.Failed, s.Cells.Found, s.Cells.Identified, s.Cells.Unidentified, s.Cells.Failed,
		s.Elapsed.Seconds(), s.Cells.PerSecond)
	if ex := s.Examined; ex.Skipped > 0 {
		// Every file of the source is accounted for, partial or not: the duplicates
		// (no water of their own) and the unreadable files (a partial run's PARTIAL
		// line counts those too); the first of each were listed above as they were met.
		files := "files were"
		if ex.Skipped == 1 {
			files = "file was"
		}
		why := "the first listed above with why: a duplicate of a frame read, counted once, or not a readable frame"
		if d := ex.Duplicates; d > 0 {
			why = fmt.Sprintf("%d held a frame read before, counted once; %d not a readable frame; the first are listed above", d, ex.Skipped-d)
		}
		fmt.Fprintf(w, "Skipped: %d %s skipped (%s).\n", ex.Skipped, files, why)
	}
	fmt.Fprintf(w, "Cost: %s.\n", r.Cost.Line())
	if s.Frames.Fields > 0 {
		fmt.Fprintf(w, "Fields: %d; focus of the last frame %.2f; %s out of focus (%d of them held their new cells for a sharper frame).\n",
			s.Frames.Fields, s.Frames.Focus, countNoun(s.Frames.OutOfFocus, "frame", "frames"), s.Frames.Held)
	}
	if n := s.Frames.Oversize; n > 0 {
		fmt.Fprintf(w, "Note: %s covered more than a tenth of their frame and could not be split (a debris cloud, a mat of cells); check those frames (the objects export: oversize).\n", countNoun(n, "object", "objects"))
	}
	if c := r.CellImages; c != nil {
		fmt.Fprintf(w, "Note: %s\n", c.after(r.DB, s.Sample.ID, r.SampleRuns))
	}
	if s.Frames.Blank > 0 {
		fmt.Fprintf(w, "Note: %s showed nothing (all black: the lamp off or the light path shut; or all white: saturated): not counted as examined; check the lamp, the shutter and the exposure.\n", count(s.Frames.Blank, "frame", "frames"))
	}
	if s.Frames.Crowded > 0 {
		fmt.Fprintf(w, "Note: %s too crowded to segment (more than half of each differs from the background: a mat, a bloom, a debris cloud): not counted as examined, nor their objects, so the concentrations stand on the other frames; dilute the sample (--factor) and screen it again.\n", countNoun(s.Frames.Crowded, "frame was", "frames were"))
	}
	if s.Frames.Dropped > 0 {
		fmt.Fprintf(w, "Note: %d frames were dropped because classification fell behind the camera. On a still slide their cells are seen in the next frames; in a flow-through cell they were not counted and the concentrations are low: use the optimised model or slow the flow.\n", s.Frames.Dropped)
	}
	if s.Cells.Failed > 0 {
		fmt.Fprintf(w, "Note: %d cells could not be classified (the classifier failed on their batch): they are stored as failed with the reason, counted under no taxon; the run went on.\n", s.Cells.Failed)
	}
	for _, g := range s.Gaps {
		end := "it did not come back"
		if !g.End.IsZero() {
			end = fmt.Sprintf("back after %s (%d reconnection attempts)", g.Duration().Round(100*time.Millisecond), g.Attempts)
		}
		fmt.Fprintf(w, "Gap: %s gave no frames from %s, before frame %d: %s; the cells counted before it are kept.\n",
			g.Source, g.Start.Local().Format("15:04:05"), g.Frame, end)
	}
	if s.Cells.Unidentified > 0 {
		verb := "wait"
		if s.Cells.Unidentified == 1 {
			verb = "waits"
		}
		fmt.Fprintf(w, "%s %s for review.\n", countNoun(s.Cells.Unidentified, "unidentified object", "unidentified objects"), verb)
	}
	// The run's ID is the store's, not the sample's count: "run 2" on a new sample read
	// as a second run of it (helper-50).
	fmt.Fprintf(w, "Stored in %s as sample %s (run ID %d in the store). Export: phytoscreen export --db %s --sample %s --format csv --out %s.csv\n",
		r.DB, s.Sample.ID, r.Run, shellQuote(r.DB), shellQuote(s.Sample.ID), shellQuote(s.Sample.ID))
	if r.SampleRuns > 1 {
		// The figures above are this run's, on its own volume: the sample's add up.
		fmt.Fprintf(w, "Sample %s now holds %d runs, %s mL examined: the counts above are this run's; the sample's, all runs together, are in its report (phytoscreen report --db %s --sample %s --out %s.pdf) and export.\n",
			s.Sample.ID, r.SampleRuns, volumeText(r.SampleML), shellQuote(r.DB), shellQuote(s.Sample.ID), shellQuote(s.Sample.ID))
	}
}

// thresholdNum writes a confidence threshold as given, to two decimals at least (0.50,
// 0.999): at two always, 0.999 read "1.00" and 0.001 "0.00" (helper-77).
func thresholdNum(th float64) string {
	if s := strconv.FormatFloat(th, 'f', -1, 64); len(s) > 4 {
		return s
	}
	return strconv.FormatFloat(th, 'f', 2, 64)
}

// thresholdText reads "10,000 cells/L", "> 1,000 cells/L" (reached only above it),
// "96.5 cells/mL" (as written: a level is not rounded) or "presence".
func thresholdText(t alerts.Threshold) string {
	switch {
	case t.Presence:
		return "presence"
	}
	return t.Marked(thresholdValue(t.Value) + " " + t.Unit)
}

// thresholdValue writes a level's number as given, whole numbers with thousands
// separators: "> 96.5 cells/mL" read "exceeded 96 cells/mL" (helper-79).
func thresholdValue(v float64) string {
	if v != math.Round(v) {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return thousands(v)
}

// reachedText says a value reached the threshold: "reached 10,000 cells/L", or
// "exceeded 1,000 cells/L" for a level reached only above it.
func reachedText(t alerts.Threshold) string {
	if t.Above {
		return "exceeded " + thresholdValue(t.Value) + " " + t.Unit
	}
	return "reached " + thresholdText(t)
}

// shellQuote quotes s for a shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:+,=@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// volumeText writes a volume in mL to 4 significant digits: the volume examined of a
// partial run is a share of the one given (5 of 9 frames of 1 mL), and
// "0.5555555555555556 mL" or the "0.30000000000000004" of adding 0.1 three times is no
// measurement anyone made.
func volumeText(ml float64) string {
	if ml == 0 || math.IsNaN(ml) || math.IsInf(ml, 0) {
		return strconv.FormatFloat(ml, 'f', -1, 64)
	}
	digits := 4 - int(math.Ceil(math.Log10(math.Abs(ml))))
	if digits < 0 {
		digits = 0
	}
	return strconv.FormatFloat(roundTo(ml, digits), 'f', -1, 64)
}

// roundTo rounds v to digits decimals.
func roundTo(v float64, digits int) float64 {
	k := math.Pow(10, float64(digits))
	return math.Round(v*k) / k
}

// rule finds a bound rule by its ID.
func (r screenResult) rule(id string) *alerts.Rule {
	for i := range r.Bound {
		if r.Bound[i].Rule.ID == id {
			return &r.Bound[i].Rule
		}
	}
	return nil
}
