package store

import (
	"archive/zip"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/internal/sigfig"
	"github.com/phytoscreen/phytoscreen/outfile"
	"github.com/phytoscreen/phytoscreen/screening"
)

// Export formats.
const (
	FormatCounts  = "csv"     // per-sample counts and concentrations
	FormatObjects = "objects" // one row per object
	FormatEcoTaxa = "ecotaxa" // EcoTaxa TSV zipped with the crops
)

// Export writes sample sampleID in format to path, through a temporary file in the same
// folder renamed over path at the end (outfile): a failure leaves no partial file, an
// existing file is replaced only by a complete one, a symlink or a device node is
// written through, and a path that is this store itself is refused before anything is
// written.
func (s *Store) Export(ctx context.Context, sampleID, format, path string) error {
	return s.ExportWith(ctx, sampleID, format, path, ExportOptions{})
}

// ExportOptions is what the store cannot work out for an export on its own, given by
// the caller that holds the sample's pack and rules.
type ExportOptions struct {
	// Cells gives the cells in each object, as CountsCells takes them (nil: the stored
	// estimates): the caller re-estimates an object a reviewer moved to another taxon,
	// as History and the report do. The export kept its stored one cell where History
	// said 41 (helper-62).
	Cells func(ObjectRow) float64
	// Rules gives the alert rules' standings on the sample's counts (as Cells counts
	// them), written to the counts CSV as rows of kind "rule" (none when nil).
	Rules func(Counts) []RuleRow
	// Zone is the offset the CSVs write their times with, in RFC 3339 (nil: this
	// machine's zone): 2026-11-30T00:30:00+01:00, the instant and the date a person
	// read beside it. In UTC a sample taken Monday 00:30 in Berlin read as Sunday's
	// (helper-89).
	Zone *time.Location
}

// zone is the zone the CSVs write their times in.
func (o ExportOptions) zone() *time.Location {
	if o.Zone == nil {
		return time.Local
	}
	return o.Zone
}

// RuleRow is an alert rule's standing on a sample's final figures, as the counts CSV
// writes it: a programme's database reads the level beside the counts it rests on,
// rather than working the rules out again.
type RuleRow struct {
	ID    string // the rule's id in its ruleset
	Name  string // its taxa as it reads: "Microcystis + Planktothrix"
	Rules string // the ruleset: "preset who-cyanobacteria" or a file's path
	// Objects is the count of the objects of the rule's labels and their
	// concentration, as a taxon row's; Measure is what the rule compares: their
	// concentration in cells per litre (from the cells estimated in them when they are
	// colonies, filaments or chains, Cells above 0).
	Objects screening.Concentration
	Units   string // the units the objects were counted in ("filament/colony"), "" for none
	Measure alerts.Measure
	// Level is the level the figures reach; Unchecked says the rule could not be
	// checked below its levels (cells of colonies or filaments unknown).
	Level     alerts.Level
	Unchecked bool
	// ReviewTo is the higher level the rule would reach were its unidentified objects
	// what the model guessed (alerts.State.ReviewTo, Measure.IfGuessed its measure);
	// None when the review could raise none.
	ReviewTo alerts.Level
	// Watch and Alert are the thresholds (nil when the rule has no such level).
	Watch, Alert *alerts.Threshold
	// NotChecked, when set, says why no rule of the ruleset could be checked (none
	// applies to the pack): the one row of such a sample, level NotCheckedLevel, so that
	// a database tells it from a sample with no rules recorded (helper-70).
	NotChecked string
}

// NotCheckedLevel is the level column of a rule row that no rule could be checked for.
const NotCheckedLevel = "not checked"

// ExportWith is Export with what the caller adds (ExportOptions).
func (s *Store) ExportWith(ctx context.Context, sampleID, format, path string, opt ExportOptions) error {
	if err := s.checkExportTarget(path); err != nil {
		return err
	}
	if format == FormatCounts || format == FormatObjects {
		// A table named report.pdf replaced the report (helper-60).
		if err := outfile.CheckKind(path, "a CSV table", ".csv"); err != nil {
			return err
		}
	}
	write, err := s.exporter(ctx, sampleID, format, opt)
	if err != nil {
		return err
	}
	return outfile.Write(path, write)
}

// ExportTo writes a sample's export to w (standard output: `export --out -`), in the
// format Export writes to a file, with what opt adds as for ExportWith.
func (s *Store) ExportTo(ctx context.Context, sampleID, format string, w io.Writer, opt ExportOptions) error {
	write, err := s.exporter(ctx, sampleID, format, opt)
	if err != nil {
		return err
	}
	return write(w)
}

// exporter is the writer of a sample's export in format.
func (s *Store) exporter(ctx context.Context, sampleID, format string, opt ExportOptions) (func(io.Writer) error, error) {
	si, err := s.Sample(ctx, sampleID)
	if err != nil {
		return nil, err
	}
	si.Taken = si.Taken.In(opt.zone()) // the objects CSV's times are in its zone
	switch format {
	case FormatCounts:
		return func(w io.Writer) error { return s.writeCounts(ctx, sampleID, w, opt) }, nil
	case FormatObjects:
		return func(w io.Writer) error { return s.writeObjects(ctx, si, w, opt.Cells) }, nil
	case FormatEcoTaxa:
		return func(w io.Writer) error { return s.writeEcoTaxa(ctx, si, w) }, nil
	}
	return nil, fmt.Errorf("export format %q: use csv (counts), objects or ecotaxa", format)
}

// checkExportTarget refuses an export path that would replace a session store: this
// store's file or its -wal, -shm or -journal under any name (the rename would put a
// CSV in its place), or any other file recognised as a store.
func (s *Store) checkExportTarget(path string) error {
	if err := capture.CheckOutputName(path); err != nil {
		return err
	}
	if err := outfile.CheckNotInput(path, outfile.Input{Path: s.path, What: outfile.StoreWhat}); err != nil {
		return err
	}
	if rec, err := recognise(path); err == nil && (rec.kind == fileStore || rec.kind == fileLegacy) {
		return fmt.Errorf("%s is a phytoscreen session store: %w; choose another --out file", path, outfile.ErrIsInput)
	}
	return nil
}

// volumeText writes a volume to 6 significant digits: a partial run's share of the
// volume given (0.05 x 79/104) is not written to 17 (0.037980769230769235).
func volumeText(ml float64) string {
	if math.IsNaN(ml) {
		return ""
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(ml, 'g', 6, 64), 64)
	return strconv.FormatFloat(r, 'f', -1, 64) // plain decimals: 1000000, not 1e+06
}

// concText writes a concentration to one decimal, or to three significant figures
// under ten (0.014 cells/L, not 0.0: a rounded zero reads as none found).
func concText(v float64) string {
	if a := math.Abs(v); a > 0 && a < sigfig.Below {
		return sigfig.Plain(v, 3)
	}
	return ftoa(v, 1)
}

func ftoa(v float64, prec int) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

// CountsHeader is the header of the counts CSV.
// cells_per_l is the count's concentration: of objects (colonies, filaments, chains
// for a taxon counted in them, as unit says). cells_estimate and cells_estimate_per_l are
// the cells estimated in them and their concentration, as the alert rules measure it.
// volume_ml is the volume examined, which the concentrations are on; volume_given_ml the
// volume the runs were given, and partial says the first is less (a run stopped or cut
// off): a partial sample read as a whole one (helper-41). level, watch_threshold and
// alert_threshold are filled on the rows of kind "rule" alone (RuleRow), added last so
// that the columns before keep their places. cells_unknown counts the colonies,
// filaments or chains whose cells nothing estimated (single-cell images: no size),
// counted one cell each: cells_estimate is then a lower bound, as the report's "–" and
// the app's NOT CHECKED say (helper-67 read 9 cells for 9 colonies as an estimate).
// cells_ci95_low and cells_ci95_high are the interval of cells_estimate_per_l, the
// objects' interval scaled alike: ci95_low and ci95_high are cells_per_l's (a database
// that checked the cells' figure against them found it outside: helper-70).
// detection_limit_per_l is what one object counted stands for, per litre (the volume
// examined and the factor's): the least the sample can show, on every row (helper-76:
// said only in the JSON summary). review_may_raise_to and cells_per_l_if_reviewed_as_guessed,
// on a rule's row, are the level its review could raise it to and the figure it would
// compare, were the unidentified objects what the model guessed (empty when the review
// could raise none): a database read "none" where the summary said the review decides
// (helper-78). pack, model and threshold say what counted the sample, on every row: its
// runs' pack, model variant and confidence threshold, joined by "+" when the runs differ
// (a file of counts did not say which model made them, helper-84). um_per_px is the
// calibration the objects were measured with, which the cells estimated in colonies and
// filaments rest on (empty when uncalibrated; "+" between values when the runs differ),
// and rules the alert rules the runs were screened against, on every row (helper-91:
// the rules were named only in the group field of the rule rows).
var CountsHeader = []string{"sample_id", "site", "taken", "volume_ml", "factor", "kind", "label", "name", "group", "unit",
	"count", "validated", "cells_per_l", "ci95_low", "ci95_high", "cells_estimate", "cells_estimate_per_l", "volume_given_ml", "partial",
	"level", "watch_threshold", "alert_threshold", "cells_unknown", "cells_ci95_low", "cells_ci95_high", "detection_limit_per_l",
	"review_may_raise_to", "cells_per_l_if_reviewed_as_guessed", "pack", "model", "threshold", "um_per_px", "rules"}

// RunsSetting is what runs hold of one setting (f of each): the distinct values in run
// order joined by "+" ("base+optimised" when the runs differ).
func RunsSetting(runs []RunRow, f func(RunRow) string) string {
	var vs []string
	for _, r := range runs {
		if v := f(r); v != "" && !slices.Contains(vs, v) {
			vs = append(vs, v)
		}
	}
	return strings.Join(vs, "+")
}

func (s *Store) writeCounts(ctx context.Context, sampleID string, w io.Writer, opt ExportOptions) error {
	cellsOf := opt.Cells
	if cellsOf == nil {
		cellsOf = StoredCells
	}
	c, err := s.CountsCells(ctx, sampleID, cellsOf)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	si := c.Sample
	head := []string{textCell(si.ID), textCell(si.Site), si.Taken.In(opt.zone()).Format(time.RFC3339), volumeText(si.VolumeML), ftoa(si.Factor, -1)}
	tail := []string{volumeText(si.VolumeGiven()), strconv.FormatBool(si.Partial())}
	limit := concText(si.PerLFactor())
	countedBy := []string{
		textCell(RunsSetting(si.Runs, func(r RunRow) string { return r.Pack })),
		textCell(RunsSetting(si.Runs, func(r RunRow) string { return r.Model })),
		RunsSetting(si.Runs, func(r RunRow) string { return ftoa(r.Threshold, -1) }),
		calibText(c.UmPerPx),
		textCell(RunsSetting(si.Runs, func(r RunRow) string { return r.Rules })),
	}
	row := func(kind string, t TaxonCount, withConc bool) error {
		r := append(append([]string{}, head...), kind, textCell(t.Label), textCell(t.Name), textCell(t.Group), t.Unit, strconv.Itoa(t.Count), strconv.Itoa(t.Validated))
		cellsCI := []string{"", ""}
		if withConc {
			m := screening.RuleMeasure(t.Concentration, t.Cells)
			r = append(r, concText(t.PerL), concText(t.Low), concText(t.High), ftoa(math.Max(t.Cells, float64(t.Count)), 0), concText(m.PerL))
			cellsCI = []string{concText(m.Low), concText(m.High)}
		} else {
			r = append(r, "", "", "", "", "")
		}
		return cw.Write(append(append(append(append(append(r, tail...), "", "", "", strconv.Itoa(t.CellsUnknown)), cellsCI...), limit, "", ""), countedBy...))
	}
	if err := cw.Write(CountsHeader); err != nil {
		return err
	}
	for _, t := range c.Taxa {
		if err := row("taxon", t, true); err != nil {
			return err
		}
	}
	for _, g := range c.Groups {
		if err := row("group", g, true); err != nil {
			return err
		}
	}
	if err := row("unidentified", TaxonCount{Label: "unidentified", Name: "Unidentified (below the confidence threshold)", Unit: "cell", Concentration: c.Unidentified}, true); err != nil {
		return err
	}
	if err := row("failed", TaxonCount{Label: "failed", Name: "Not classified (error)", Unit: "cell", Concentration: screening.Concentration{Count: c.Failed}}, false); err != nil {
		return err
	}
	if opt.Rules != nil {
		for _, rr := range opt.Rules(c) {
			review := []string{"", ""}
			if rr.ReviewTo != alerts.None && rr.Measure.IfGuessed != nil {
				review = []string{rr.ReviewTo.String(), concText(rr.Measure.IfGuessed.PerL)}
			}
			if err := cw.Write(append(append(append(ruleRecord(head, tail, rr), limit), review...), countedBy...)); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// calibText is the calibrations µm per pixel joined by "+", "" for none (uncalibrated).
func calibText(ums []float64) string {
	var vs []string
	for _, v := range ums {
		if t := sigfig.Plain(v, 6); v > 0 && !slices.Contains(vs, t) {
			vs = append(vs, t)
		}
	}
	return strings.Join(vs, "+")
}

// textCell is a CSV cell of text that came from a person, a file name or a pack: valid
// UTF-8 (a frame named in Latin-1 wrote its raw bytes, helper-82), and not read as a
// formula by a spreadsheet: a cell opening with =, +, -, @ or a control character is
// written after an apostrophe, unless it is a number (a frame named "=cmd|calc.jpg" went
// into the source column as it was, helper-82; OWASP's CSV injection advice).
func textCell(v string) string {
	v = strings.ToValidUTF8(v, "\uFFFD") // exports are UTF-8: EcoTaxa and spreadsheets garble what is not
	if v == "" || !strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return v
	}
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		return v
	}
	return "'" + v
}

// ruleRecord is a rule's row of the counts CSV: label its id, name its taxa, group the
// ruleset; the columns of the counts as on a taxon row (cells_estimate_per_l is what
// the rule compares), then the level and the thresholds.
func ruleRecord(head, tail []string, rr RuleRow) []string {
	r := append([]string{}, head...)
	if rr.NotChecked != "" {
		r = append(r, "rule", "", rr.NotChecked, rr.Rules, "", "", "", "", "", "", "", "")
		return append(append(r, tail...), NotCheckedLevel, "", "", "", "", "")
	}
	m, c := rr.Measure, rr.Objects
	level := rr.Level.String()
	if rr.Unchecked {
		level = "unchecked" // below every level only as a lower bound: not clear
	}
	th := func(t *alerts.Threshold) string {
		if t == nil {
			return ""
		}
		return t.String()
	}
	r = append(r, "rule", rr.ID, rr.Name, rr.Rules, rr.Units, strconv.Itoa(c.Count), "",
		concText(c.PerL), concText(c.Low), concText(c.High), ftoa(math.Max(m.Cells, float64(c.Count)), 0), concText(m.PerL))
	return append(append(r, tail...), level, th(rr.Watch), th(rr.Alert), strconv.Itoa(m.CellsUnknown), concText(m.Low), concText(m.High))
}

// ObjectsHeader is the objects CSV's header: time is when the object was seen (a
// camera's frame, or a file's modification time), sample_taken when the water was taken,
// validated_at when a person set validated_label (empty when none; added last, so that
// scripts reading the columns before it by position read them still).
var ObjectsHeader = []string{"object_id", "sample_id", "run", "seq", "time", "sample_taken", "source", "frame", "track", "x", "y", "width", "height",
	"area_px", "perimeter_px", "esd_px", "major_px", "minor_px", "aspect", "solidity", "mean_gray", "focus", "contrast", "on_border", "um_per_px",
	"area_um2", "esd_um", "major_um", "minor_um", "perimeter_um",
	"kind", "length_px", "width_px", "parts", "cells_estimate", "oversize",
	"label", "probability", "model", "category", "name", "group", "status", "validated_label", "validated_by", "error", "top_k", "validated_at"}

// validatedAt is when a person set an object's label, in the zone of the export's other
// times; empty when no label is set (never set, or undone).
func validatedAt(o ObjectRow, zone *time.Location) string {
	if o.Validated == "" || o.ValidatedAt.IsZero() {
		return ""
	}
	return o.ValidatedAt.In(zone).Format(time.RFC3339Nano)
}

func (s *Store) writeObjects(ctx context.Context, si SampleInfo, w io.Writer, cellsOf func(ObjectRow) float64) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(ObjectsHeader); err != nil {
		return err
	}
	err := s.Objects(ctx, si, false, func(o ObjectRow) error {
		b := o.Box
		m := measured(o)
		if cellsOf != nil {
			o.Cells = cellsOf(o)
		}
		return cw.Write([]string{textCell(o.ObjectKey(si.ID)), textCell(si.ID), strconv.FormatInt(o.Run.ID, 10), strconv.Itoa(o.Seq), o.Time.In(si.Taken.Location()).Format(time.RFC3339Nano),
			si.Taken.Format(time.RFC3339), textCell(o.Source()), strconv.Itoa(o.Frame), strconv.Itoa(o.Track), strconv.Itoa(b.Min.X), strconv.Itoa(b.Min.Y), strconv.Itoa(b.Dx()), strconv.Itoa(b.Dy()),
			ftoa(o.AreaPx, 1), m(o.Perimeter, 2), m(o.ESD, 2), m(o.Major, 2), m(o.Minor, 2), m(o.Aspect, 4), m(o.Solidity, 4),
			m(o.MeanGray, 2), m(o.Focus, 2), m(o.Contrast, 4), strconv.FormatBool(o.OnBorder), calib(o.UmPerPx),
			calib(o.AreaUm2), calib(o.ESDUm), calib(o.MajorUm), calib(o.MinorUm), calib(o.PerimeterUm),
			o.Kind, ftoa(o.Length, 1), ftoa(o.Width, 1), strconv.Itoa(o.Parts), ftoa(o.Cells, 0), strconv.FormatBool(o.Oversize),
			textCell(o.Label), probText(o), o.Variant, textCell(o.Category), textCell(o.Name), textCell(o.Group), o.Status, textCell(o.Validated), textCell(o.ValidatedBy), textCell(o.Err), textCell(o.Top),
			validatedAt(o, si.Taken.Location())})
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// measured formats an object's shape measurement, empty when the shape was not
// measured (an image of one cell is classified whole; its outline is not traced): 0.00
// would read as a measured zero.
func measured(o ObjectRow) func(v float64, prec int) string {
	return func(v float64, prec int) string {
		if o.Perimeter == 0 && o.ESD == 0 && o.Major == 0 {
			return ""
		}
		return ftoa(v, prec)
	}
}

// calib writes a calibrated value (a calibration or a size in micrometres), empty when
// uncalibrated (0).
func calib(v float64) string {
	if v <= 0 {
		return ""
	}
	return ftoa(v, 4)
}

func probText(o ObjectRow) string {
	if o.Err != "" {
		return ""
	}
	return ftoa(o.Prob, 4)
}

// ecoTaxaColumns are the EcoTaxa TSV columns with their type codes ([t] text, [f]
// number). Names follow EcoTaxa's import conventions: img_*, object_*, sample_*, acq_*,
// process_*.
var ecoTaxaColumns = []struct{ name, typ string }{
	{"img_file_name", "[t]"}, {"img_rank", "[f]"},
	{"object_id", "[t]"}, {"object_lat", "[f]"}, {"object_lon", "[f]"}, {"object_date", "[t]"}, {"object_time", "[t]"},
	{"object_annotation_category", "[t]"}, {"object_annotation_status", "[t]"}, {"object_annotation_person_name", "[t]"},
	{"object_annotation_date", "[t]"}, {"object_annotation_time", "[t]"},
	{"object_probability", "[f]"}, {"object_phytoscreen_category", "[t]"},
	{"object_x", "[f]"}, {"object_y", "[f]"}, {"object_width", "[f]"}, {"object_height", "[f]"},
	{"object_area", "[f]"}, {"object_perim", "[f]"}, {"object_esd", "[f]"}, {"object_major", "[f]"}, {"object_minor", "[f]"},
	{"object_aspect", "[f]"}, {"object_solidity", "[f]"}, {"object_mean", "[f]"}, {"object_focus", "[f]"},
	{"object_contrast", "[f]"}, {"object_area_um2", "[f]"}, {"object_esd_um", "[f]"}, {"object_major_um", "[f]"}, {"object_minor_um", "[f]"},
	{"object_frame", "[f]"}, {"object_track", "[f]"},
	{"object_depth_min", "[f]"}, {"object_depth_max", "[f]"},
	{"sample_id", "[t]"}, {"sample_site", "[t]"}, {"sample_operator", "[t]"}, {"sample_volume_ml", "[f]"}, {"sample_factor", "[f]"},
	{"acq_id", "[t]"}, {"acq_instrument", "[t]"}, {"acq_source", "[t]"}, {"acq_pack", "[t]"}, {"acq_model", "[t]"},
	{"acq_threshold", "[f]"}, {"acq_um_per_px", "[f]"},
	{"process_id", "[t]"}, {"process_soft", "[t]"},
}

// EcoTaxaTable is the name of the TSV inside an EcoTaxa export (EcoTaxa imports files
// named ecotaxa_*.tsv).
func EcoTaxaTable(sampleID string) string { return "ecotaxa_" + safeName(sampleID) + ".tsv" }

// writeEcoTaxa writes a zip with the TSV and one PNG per object next to it.
func (s *Store) writeEcoTaxa(ctx context.Context, si SampleInfo, w io.Writer) error {
	zw := zip.NewWriter(w)
	var tsv strings.Builder
	cell := func(v string) string { // TSV cells cannot hold tabs or newlines
		return strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(strings.ToValidUTF8(v, "\uFFFD"))
	}
	names := make([]string, len(ecoTaxaColumns))
	types := make([]string, len(ecoTaxaColumns))
	for i, c := range ecoTaxaColumns {
		names[i], types[i] = c.name, c.typ
	}
	tsv.WriteString(strings.Join(names, "\t") + "\n" + strings.Join(types, "\t") + "\n")
	lat, lon := "", ""
	if si.HasPosition() {
		lat, lon = ftoa(si.Lat, 6), ftoa(si.Lon, 6)
	}
	taken := si.Taken.UTC()
	err := s.Objects(ctx, si, true, func(o ObjectRow) error {
		key := o.ObjectKey(si.ID)
		img := ""
		if len(o.Crop) > 0 {
			img = key + ".png"
			fw, err := zw.CreateHeader(&zip.FileHeader{Name: img, Method: zip.Store, Modified: o.Time})
			if err != nil {
				return err
			}
			if _, err := fw.Write(o.Crop); err != nil {
				return err
			}
		}
		category, status, person, adate, atime := "", "", "", "", ""
		switch o.Status {
		case StatusValidated:
			category, status, person = o.Validated, StatusValidated, o.ValidatedBy
			adate, atime = o.ValidatedAt.UTC().Format("20060102"), o.ValidatedAt.UTC().Format("150405")
		case StatusPredicted:
			category, status = o.Label, StatusPredicted
		}
		b := o.Box
		m := measured(o)
		row := []string{img, "0", key, lat, lon, taken.Format("20060102"), taken.Format("150405"),
			category, status, person, adate, atime, probText(o), o.Category,
			strconv.Itoa(b.Min.X), strconv.Itoa(b.Min.Y), strconv.Itoa(b.Dx()), strconv.Itoa(b.Dy()),
			ftoa(o.AreaPx, 1), m(o.Perimeter, 2), m(o.ESD, 2), m(o.Major, 2), m(o.Minor, 2),
			m(o.Aspect, 4), m(o.Solidity, 4), m(o.MeanGray, 2), m(o.Focus, 2),
			m(o.Contrast, 4), calib(o.AreaUm2), calib(o.ESDUm), calib(o.MajorUm), calib(o.MinorUm),
			strconv.Itoa(o.Frame), strconv.Itoa(o.Track),
			ftoa(si.DepthM, -1), ftoa(si.DepthM, -1),
			si.ID, si.Site, si.Analyst, volumeText(si.VolumeML), ftoa(si.Factor, -1),
			fmt.Sprintf("%s_r%d", safeName(si.ID), o.Run.ID), "phytoscreen", o.Source(), o.Run.Pack, o.Variant,
			ftoa(o.Run.Threshold, -1), calib(o.UmPerPx),
			fmt.Sprintf("%s_r%d", safeName(si.ID), o.Run.ID), "phytoscreen"}
		for i := range row {
			row[i] = cell(row[i])
		}
		tsv.WriteString(strings.Join(row, "\t") + "\n")
		return nil
	})
	if err != nil {
		return err
	}
	fw, err := zw.CreateHeader(&zip.FileHeader{Name: EcoTaxaTable(si.ID), Method: zip.Deflate, Modified: time.Now()})
	if err != nil {
		return err
	}
	if _, err := io.WriteString(fw, tsv.String()); err != nil {
		return err
	}
	return zw.Close()
}
