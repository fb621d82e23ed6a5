package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"image"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/internal/unaccent"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/vision"
)

// SampleInfo is a stored sample: its metadata, with VolumeML the total examined over
// all its runs, and the runs.
type SampleInfo struct {
	screening.Sample
	Runs    []RunRow
	Marked  bool      // flagged by the technician in History
	Deleted time.Time // in the trash since; zero when not deleted
}

// RunRow is a stored run.
type RunRow struct {
	ID            int64
	Spec          string
	Pack          string
	Model         string
	Threshold     float64
	Finder        string  // how objects were found (screening.RunInfo.Finder); "" before it was kept
	VolumeML      float64 // the volume examined: VolumeGiven, or its share a partial run examined
	VolumeGiven   float64 // the volume the user gave for the whole source
	Rules         string
	Started       time.Time
	Ended         time.Time // zero when the run never finished (the process died)
	FramesSeen    int
	FramesDropped int
	FramesFailed  int
	FramesBlank   int  // of FramesFailed, frames that showed nothing (the lamp off, saturated)
	FramesCrowded int  // of FramesFailed, frames too crowded to segment (dilute the sample)
	FramesExpect  int  // frames the source held (0: unknown, a camera)
	FilesSkipped  int  // files the source could not read
	Interrupted   bool // stopped before the source's end
	Status        string
	Error         string
	// Continues is the run this one went on from (screen --continue, the app's
	// continuation of a cut run), 0 for none: that run's volume given is then its share
	// of the source, the part it read.
	Continues int64
}

// ErrNoSample is returned for a sample ID the store does not hold.
var ErrNoSample = errors.New("no such sample")

// Sample reads a sample and its runs.
func (s *Store) Sample(ctx context.Context, id string) (SampleInfo, error) {
	var si SampleInfo
	var taken string
	var lat, lon, depth sql.NullFloat64
	var deleted sql.NullString
	err := s.db.QueryRowContext(ctx, "SELECT id, site, taken, notes, factor, lat, lon, depth_m, analyst, marked, deleted_at FROM samples WHERE id = ?", id).
		Scan(&si.ID, &si.Site, &taken, &si.Notes, &si.Factor, &lat, &lon, &depth, &si.Analyst, &si.Marked, &deleted)
	if errors.Is(err, sql.ErrNoRows) {
		ids, _ := s.SampleIDs(ctx)
		hint := "it holds no samples yet"
		if len(ids) > 0 {
			hint = "it holds " + strings.Join(ids[:min(len(ids), 10)], ", ")
			if len(ids) > 10 {
				hint += fmt.Sprintf(" and %d more", len(ids)-10)
			}
		}
		return si, fmt.Errorf("sample %q is not in %s (%s): %w", id, s.path, hint, ErrNoSample)
	}
	if err != nil {
		return si, fmt.Errorf("session store %s: read sample %s: %w", s.path, id, err)
	}
	si.Taken = parseTime(taken)
	if deleted.Valid {
		si.Deleted = parseTime(deleted.String)
	}
	si.Lat, si.Lon, si.DepthM = math.NaN(), math.NaN(), math.NaN()
	if lat.Valid && lon.Valid {
		si.Lat, si.Lon = lat.Float64, lon.Float64
	}
	if depth.Valid {
		si.DepthM = depth.Float64
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, spec, pack, model, threshold, finder, COALESCE(volume_examined_ml, volume_ml), volume_ml, rules,
		started, COALESCE(ended, ''), frames_seen, frames_dropped, frames_failed, frames_blank, frames_crowded, frames_expected, files_skipped, interrupted, status, error,
		(SELECT COUNT(*) FROM frames WHERE frames.source_id = sources.id), owner, COALESCE(continues, 0)
		FROM sources WHERE sample_id = ? ORDER BY id`, id)
	if err != nil {
		return si, fmt.Errorf("session store %s: read runs of %s: %w", s.path, id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var r RunRow
		var started, ended, owner string
		var recorded int
		if err := rows.Scan(&r.ID, &r.Spec, &r.Pack, &r.Model, &r.Threshold, &r.Finder, &r.VolumeML, &r.VolumeGiven, &r.Rules, &started, &ended,
			&r.FramesSeen, &r.FramesDropped, &r.FramesFailed, &r.FramesBlank, &r.FramesCrowded, &r.FramesExpect, &r.FilesSkipped, &r.Interrupted, &r.Status, &r.Error, &recorded, &owner, &r.Continues); err != nil {
			return si, err
		}
		r.Started, r.Ended = parseTime(started), parseTime(ended)
		if ended == "" {
			unended(&r, recorded, owner)
		}
		si.VolumeML += r.VolumeML
		si.Runs = append(si.Runs, r)
	}
	return si, rows.Err()
}

// RunStillRunning is the status of a run whose recording process still runs: its sample
// read (exported, reported) while it records. It was said interrupted (helper-68).
const RunStillRunning = "still running"

// unended fills in a run that has not recorded its end: one still running (its owner's
// process alive, as EndCutRuns judges it), or one whose program was killed or lost its
// power before it could. Its objects are those committed so far, and so is its volume:
// the share of the source's frames recorded (recorded frames of the frames the source
// held when it started), never the whole volume given. A source of unknown length (a
// camera) keeps the volume given, said interrupted or still running.
func unended(r *RunRow, recorded int, owner string) {
	r.Status, r.Interrupted = "interrupted", true
	if ownerRecording(owner) {
		r.Status, r.Interrupted = RunStillRunning, false
	}
	examinedSoFar(r, recorded)
}

// examinedSoFar is an unended run's frames and volume: those of its recorded frames.
func examinedSoFar(r *RunRow, recorded int) {
	r.FramesSeen = max(r.FramesSeen, recorded)
	if r.FramesExpect > 0 {
		r.VolumeML = r.VolumeGiven * min(1, float64(recorded)/float64(r.FramesExpect))
	}
}

// HasSample reports whether the store holds sample id.
func (s *Store) HasSample(ctx context.Context, id string) (bool, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM samples WHERE id = ?", id).Scan(&n); err != nil {
		return false, fmt.Errorf("session store %s: look up sample %s: %w", s.path, id, err)
	}
	return n > 0, nil
}

// SampleIDs lists the stored samples, newest first; samples in the trash are left out.
func (s *Store) SampleIDs(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT id FROM samples WHERE deleted_at IS NULL ORDER BY created DESC, id")
	if err != nil {
		return nil, fmt.Errorf("session store %s: list samples: %w", s.path, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// Object statuses, as EcoTaxa names them where it has a name.
const (
	StatusPredicted = "predicted" // classified by the model, not checked by a person
	StatusValidated = "validated" // a person set the label
	StatusFailed    = "failed"    // could not be classified
)

// ObjectRow is a stored object with what the exports need.
type ObjectRow struct {
	ID                                                                               int64
	Run                                                                              RunRow
	Seq                                                                              int
	Time                                                                             time.Time
	Frame                                                                            int
	Track                                                                            int
	Box                                                                              image.Rectangle
	AreaPx, Perimeter, ESD, Major, Minor, Aspect, Solidity, MeanGray, Focus, UmPerPx float64
	Contrast, CentroidX, CentroidY                                                   float64
	// Calibrated sizes, 0 when uncalibrated.
	AreaUm2, ESDUm, MajorUm, MinorUm, PerimeterUm float64
	OnBorder                                      bool
	// Kind is what the object is made of (cell, colony, filament, chain); Length and
	// Width its size along and across, px; Parts its separate dark cores; Cells the
	// estimated number of cells in it (its taxon's estimate once classified, as the
	// screen counted it; from its shape alone otherwise); Oversize marks an object over
	// a tenth of its frame, kept whole.
	Kind                   string
	Length, Width          float64
	Parts                  int
	Cells                  float64
	Oversize               bool
	File                   string // the image file the object was cut from ("" for a video or camera)
	Crop                   []byte // PNG
	Label                  string // model's top label
	Prob                   float64
	Top                    string // JSON of the top-k predictions
	Variant                string
	Err                    string
	Validated, ValidatedBy string
	ValidatedAt            time.Time
	// Category is what the object is counted as: the validated label, else the model's
	// label when its probability reaches the run's threshold, else Unidentified; ""
	// when it failed.
	Category string
	Status   string
	Name     string // display name of Category
	Group    string // group of Category
}

// Source is where the object was seen: its image file in a folder, else the run's
// source (a video, a camera).
func (o ObjectRow) Source() string {
	if o.File != "" {
		return o.File
	}
	return o.Run.Spec
}

// ObjectKey is the object's ID in exports: sample, run and sequence number.
func (o ObjectRow) ObjectKey(sampleID string) string {
	return fmt.Sprintf("%s_r%d_%06d", safeName(sampleID), o.Run.ID, o.Seq)
}

// safeName keeps ASCII letters, digits, '.', '-' and '_' for file names and IDs: an
// accented letter loses its accent ("Étang" -> "Etang", not "_tang", helper-56), any
// other character becomes '_'.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 128 && (r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return r
		}
		return '_'
	}, unaccent.String(s))
}

type taxonRow struct {
	name, group, groupName, unit string
	idx                          int // in the pack's label order
}

// taxa reads the names and groups of a pack's labels.
func (s *Store) taxa(ctx context.Context, pack string) (map[string]taxonRow, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT label, name, grp, grp_name, unit, idx FROM taxa WHERE pack = ?", pack)
	if err != nil {
		return nil, fmt.Errorf("session store %s: read taxonomy of %s: %w", s.path, pack, err)
	}
	defer rows.Close()
	m := map[string]taxonRow{}
	for rows.Next() {
		var l string
		var t taxonRow
		if err := rows.Scan(&l, &t.name, &t.group, &t.groupName, &t.unit, &t.idx); err != nil {
			return nil, err
		}
		m[l] = t
	}
	return m, rows.Err()
}

// Objects calls fn for every object of a sample, in run and sequence order. withCrops
// says whether to read the crop images.
func (s *Store) Objects(ctx context.Context, si SampleInfo, withCrops bool, fn func(ObjectRow) error) error {
	for _, run := range si.Runs {
		tax, err := s.taxa(ctx, run.Pack)
		if err != nil {
			return err
		}
		crop := "NULL"
		if withCrops {
			crop = "crop"
		}
		rows, err := s.db.QueryContext(ctx, `SELECT id, seq, time, frame, track, x, y, w, h, area, perimeter, esd, major, minor, aspect, solidity,
			mean_gray, focus, on_border, um_per_px, contrast, centroid_x, centroid_y, area_um2, esd_um, major_um, minor_um, perimeter_um, `+crop+`, label, prob, top, variant, error, COALESCE(validated_label, ''), COALESCE(validated_by, ''),
			COALESCE(validated_at, ''), kind, length, width, parts, cells_estimate, oversize, file FROM objects WHERE source_id = ? ORDER BY seq`, run.ID)
		if err != nil {
			return fmt.Errorf("session store %s: read objects of run %d: %w", s.path, run.ID, err)
		}
		err = scanObjects(rows, run, tax, fn)
		rows.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func scanObjects(rows *sql.Rows, run RunRow, tax map[string]taxonRow, fn func(ObjectRow) error) error {
	for rows.Next() {
		o := ObjectRow{Run: run}
		var t, vat string
		var x, y, w, h int
		var nums [10]sql.NullFloat64
		var more [8]sql.NullFloat64
		var border sql.NullBool
		var length, width, cells sql.NullFloat64
		var parts sql.NullInt64
		if err := rows.Scan(&o.ID, &o.Seq, &t, &o.Frame, &o.Track, &x, &y, &w, &h, &nums[0], &nums[1], &nums[2], &nums[3], &nums[4], &nums[5], &nums[6],
			&nums[7], &nums[8], &border, &nums[9], &more[0], &more[1], &more[2], &more[3], &more[4], &more[5], &more[6], &more[7], &o.Crop, &o.Label, &o.Prob, &o.Top, &o.Variant, &o.Err, &o.Validated, &o.ValidatedBy, &vat,
			&o.Kind, &length, &width, &parts, &cells, &o.Oversize, &o.File); err != nil {
			return err
		}
		o.Time = parseTime(t)
		if o.Validated != "" { // with no label, validated_at is when it was cleared
			o.ValidatedAt = parseTime(vat)
		}
		o.Box = image.Rect(x, y, x+w, y+h)
		o.AreaPx, o.Perimeter, o.ESD, o.Major, o.Minor, o.Aspect = nums[0].Float64, nums[1].Float64, nums[2].Float64, nums[3].Float64, nums[4].Float64, nums[5].Float64
		o.Solidity, o.MeanGray, o.Focus, o.UmPerPx = nums[6].Float64, nums[7].Float64, nums[8].Float64, nums[9].Float64
		o.OnBorder = border.Bool
		o.Length, o.Width, o.Parts, o.Cells = length.Float64, width.Float64, int(parts.Int64), cells.Float64
		o.Contrast, o.CentroidX, o.CentroidY = more[0].Float64, more[1].Float64, more[2].Float64
		o.AreaUm2, o.ESDUm, o.MajorUm, o.MinorUm, o.PerimeterUm = more[3].Float64, more[4].Float64, more[5].Float64, more[6].Float64, more[7].Float64
		o.categorise(tax)
		if err := fn(o); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (o *ObjectRow) categorise(tax map[string]taxonRow) {
	switch {
	case o.Err != "":
		o.Status = StatusFailed
	case o.Validated != "":
		o.Category, o.Status = o.Validated, StatusValidated
	case o.Prob < o.Run.Threshold:
		o.Category, o.Status = screening.Unidentified, StatusPredicted
	default:
		o.Category, o.Status = o.Label, StatusPredicted
	}
	if t, ok := tax[o.Category]; ok {
		o.Name, o.Group = t.name, t.group
	} else if o.Category == screening.Unidentified {
		o.Name = "Unidentified"
	}
}

// Validate records a person's label for an object (a pack label; it then counts under
// that label whatever the model said).
func (s *Store) Validate(ctx context.Context, objectID int64, label, by string) error {
	_, err := s.validate(ctx, objectID, label, by)
	return err
}

// Validation is an object's validated label as stored: empty Label when none.
type Validation struct {
	Label, By string
	At        time.Time
}

// MaxLabelLen bounds a label a person types.
const MaxLabelLen = 80

// CheckLabel refuses a label no export can carry: empty, too long, or with a tab,
// newline or control character.
func CheckLabel(label string) error {
	switch {
	case strings.TrimSpace(label) == "":
		return errors.New("the label is empty: type a taxon name")
	case len(label) > MaxLabelLen:
		return fmt.Errorf("the label is %d bytes: keep it under %d", len(label), MaxLabelLen)
	case strings.IndexFunc(label, unicode.IsControl) >= 0:
		return fmt.Errorf("the label %q holds a tab, newline or control character: remove it", label)
	}
	return nil
}

// Relabel stores label as an object's validated label, by the person by, and returns
// the validation it replaces (for Undo). A label the pack lacks is a new taxon of the
// lab's: it joins the pack's taxa in this store, named as typed, so counts, exports and
// the teach step carry it.
func (s *Store) Relabel(ctx context.Context, objectID int64, label, by string) (Validation, error) {
	return s.validate(ctx, objectID, label, by)
}

func (s *Store) validate(ctx context.Context, objectID int64, label, by string) (Validation, error) {
	var prev Validation
	if err := s.writable("a validation"); err != nil {
		return prev, err
	}
	label = strings.TrimSpace(label)
	if err := CheckLabel(label); err != nil {
		return prev, err
	}
	if strings.TrimSpace(by) == "" {
		return prev, errors.New("no reviewer: say who validates (Gallery › Reviewer)")
	}
	var pack, at string
	err := s.db.QueryRowContext(ctx, `SELECT s.pack, COALESCE(o.validated_label, ''), COALESCE(o.validated_by, ''), COALESCE(o.validated_at, '')
		FROM objects o JOIN sources s ON s.id = o.source_id WHERE o.id = ?`, objectID).Scan(&pack, &prev.Label, &prev.By, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return prev, fmt.Errorf("session store %s has no object %d", s.path, objectID)
	}
	if err != nil {
		return prev, fmt.Errorf("session store %s: %w", s.path, err)
	}
	if prev.Label != "" { // with no label, validated_at is when it was cleared (RestoreValidation)
		prev.At = parseTime(at)
	}
	tax, err := s.taxa(ctx, pack)
	if err != nil {
		return prev, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return prev, fmt.Errorf("session store %s: %w", s.path, err)
	}
	defer tx.Rollback()           //nolint:errcheck // a no-op after Commit
	if _, ok := tax[label]; !ok { // the lab's own taxon: recorded beside the pack's
		if _, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO taxa(pack, label, idx, name, grp, grp_name, unit) VALUES (?,?,?,?,?,?,?)",
			pack, label, -1, label, "", "", "cell"); err != nil {
			return prev, fmt.Errorf("session store %s: record new taxon %q: %w", s.path, label, err)
		}
	}
	if _, err := tx.ExecContext(ctx, "UPDATE objects SET validated_label = ?, validated_by = ?, validated_at = ? WHERE id = ?",
		label, by, timeText(labelTime()), objectID); err != nil {
		return prev, fmt.Errorf("session store %s: validate object %d: %w", s.path, objectID, err)
	}
	if err := tx.Commit(); err != nil {
		return prev, fmt.Errorf("session store %s: validate object %d: %w", s.path, objectID, err)
	}
	return prev, nil
}

// Sites lists the sites of the stored samples, most recently used first.
func (s *Store) Sites(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT site FROM samples WHERE site != '' GROUP BY site ORDER BY MAX(created) DESC LIMIT 200")
	if err != nil {
		return nil, fmt.Errorf("session store %s: list sites: %w", s.path, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// LabTaxa lists the taxa people added by labelling (labels no pack has), sorted.
func (s *Store) LabTaxa(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT DISTINCT label FROM taxa WHERE idx < 0 ORDER BY label")
	if err != nil {
		return nil, fmt.Errorf("session store %s: list the lab's taxa: %w", s.path, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// labelTime is the time a validation is made, to the microsecond: a lab server
// (PostgreSQL) keeps microseconds, so the time it sends back is the bench's own, not a
// different (rounded) one that would look like a later change.
func labelTime() time.Time { return time.Now().Truncate(time.Microsecond) }

// RestoreValidation puts back what Relabel replaced: an Undo.
func (s *Store) RestoreValidation(ctx context.Context, objectID int64, v Validation) error {
	if err := s.writable("an undo"); err != nil {
		return err
	}
	// No label: NULL label and reviewer, and the time it was cleared, so that between
	// bench and lab server the clearing is a change like any other, later than the label
	// it undoes (last writer wins), and the server's copy does not come back.
	var label, by, at any = nil, nil, timeText(labelTime())
	if v.Label != "" {
		label, by, at = v.Label, v.By, timeText(v.At)
	}
	if _, err := s.db.ExecContext(ctx, "UPDATE objects SET validated_label = ?, validated_by = ?, validated_at = ? WHERE id = ?", label, by, at, objectID); err != nil {
		return fmt.Errorf("session store %s: undo the label of object %d: %w", s.path, objectID, err)
	}
	return nil
}

// ReviewQueue returns up to limit objects of a sample that wait for a person: below
// their run's confidence threshold and not validated, oldest first, with crops.
func (s *Store) ReviewQueue(ctx context.Context, sampleID string, limit int) ([]ObjectRow, error) {
	si, err := s.Sample(ctx, sampleID)
	if err != nil {
		return nil, err
	}
	var out []ObjectRow
	errEnough := errors.New("enough")
	err = s.Objects(ctx, si, true, func(o ObjectRow) error {
		if o.Category == screening.Unidentified {
			out = append(out, o)
			if len(out) >= limit {
				return errEnough
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return nil, err
	}
	return out, nil
}

// Crops returns the stored crops (PNG) of the objects ids, by id; an object without
// one is absent. The gallery lists a category's objects without their crops and asks
// here for the few it shows: reading every crop of a sample of many thousands of
// objects to show 600 took seconds and hundreds of megabytes.
func (s *Store) Crops(ctx context.Context, ids []int64) (map[int64][]byte, error) {
	out := make(map[int64][]byte, len(ids))
	const chunk = 500 // within SQLite's limit on a statement's parameters
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		rows, err := s.db.QueryContext(ctx, `SELECT id, crop FROM objects WHERE crop IS NOT NULL AND id IN (?`+strings.Repeat(",?", len(part)-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("session store %s: read crops: %w", s.path, err)
		}
		for rows.Next() {
			var id int64
			var crop []byte
			if err := rows.Scan(&id, &crop); err != nil {
				rows.Close()
				return nil, fmt.Errorf("session store %s: read crops: %w", s.path, err)
			}
			out[id] = crop
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("session store %s: read crops: %w", s.path, err)
		}
	}
	return out, nil
}

// TaxonCount is a stored sample's count of one category.
type TaxonCount struct {
	Label, Name, Group, GroupName, Unit string
	Validated                           int // how many of them a person validated
	screening.Concentration
	// Cells is the cells estimated in the objects counted (CountsCells' cellsOf of
	// each): the count for a taxon counted in cells, more for colonies, filaments and
	// chains. Alert rules, whose thresholds are in cells, measure it
	// (screening.RuleMeasure).
	Cells float64
	// OversizeCells is the part of Cells in objects over a tenth of their frame that
	// could not be split; Uncalibrated counts the objects of colonies, chains or
	// filaments whose cells were estimated on uncalibrated frames (from their shape
	// alone), as screening.CellsEstimated does.
	OversizeCells float64
	Uncalibrated  int
	// CellsUnknown counts the objects of a multi-cell unit whose cells nothing estimated
	// (single-cell images of colonies or filaments, no size, no cells per unit): one cell
	// each, a lower bound (screening.CellsUnknownOf, alerts.Measure.CellsUnknown).
	CellsUnknown int
}

// StoredCells is the cells an object was stored with (the estimate of the taxon it
// was classified as when screened), at least one.
func StoredCells(o ObjectRow) float64 { return max(o.Cells, 1) }

// Counts is a stored sample's tally over all its runs.
type Counts struct {
	Sample SampleInfo
	Taxa   []TaxonCount // counted labels, most numerous first
	Groups []TaxonCount // every group of the packs used (Label is the group id)
	// Known is the labels the packs of the sample's runs name: a taxon outside it was
	// not looked for, and its count of 0 says nothing (a trend leaves the sample out).
	Known        map[string]bool
	Unidentified screening.Concentration
	// Guessed is, by the model's label, the unidentified objects (under their run's
	// threshold, not reviewed) and the cells estimated in them: what the review could
	// add to each taxon were they what the model guessed (screening.WithGuessed).
	Guessed map[string]screening.Guess
	Failed  int
	Objects int
	// UmPerPx is the calibrations (µm per pixel) the sample's objects were measured
	// with, each once in the order first met; none when every frame was uncalibrated.
	// The cells estimated in colonies and filaments rest on it (the counts CSV says it).
	UmPerPx []float64
}

// Counts tallies a sample's objects per category and converts them to concentrations
// with the sample's total examined volume; the cells in them are those each object was
// stored with (StoredCells).
func (s *Store) Counts(ctx context.Context, sampleID string) (Counts, error) {
	return s.CountsCells(ctx, sampleID, StoredCells)
}

// CountsCells is Counts with the cells in each object given by cellsOf: the caller
// that holds the sample's pack re-estimates an object a reviewer moved to another
// taxon by that taxon's rule.
func (s *Store) CountsCells(ctx context.Context, sampleID string, cellsOf func(ObjectRow) float64) (Counts, error) {
	si, err := s.Sample(ctx, sampleID)
	if err != nil {
		return Counts{}, err
	}
	c := Counts{Sample: si}
	if si.VolumeML <= 0 {
		if last := si.Runs[len(si.Runs)-1:]; len(last) == 1 && last[0].Status == RunStillRunning {
			return c, fmt.Errorf("sample %s in %s: its run %d is still running and has recorded no frame yet; wait for its first frames", sampleID, s.path, last[0].ID)
		}
		if len(si.Runs) > 0 {
			// A run that never recorded its end or a frame: the program closed or
			// crashed before its first frames were stored.
			return c, fmt.Errorf("sample %s in %s: its %d run%s recorded no frame examined (%s: the program stopped before the first frames were stored); screen the frames again, or move the sample to the trash",
				sampleID, s.path, len(si.Runs), map[bool]string{true: "", false: "s"}[len(si.Runs) == 1], si.Runs[len(si.Runs)-1].Status)
		}
		return c, fmt.Errorf("sample %s has no runs in %s: nothing was examined", sampleID, s.path)
	}
	byLabel := map[string]*TaxonCount{}
	groups := map[string]*TaxonCount{}
	groupUnits := map[string]map[string]int{} // a group's units, at the first member's index
	for _, run := range si.Runs {
		tax, err := s.taxa(ctx, run.Pack)
		if err != nil {
			return c, err
		}
		for l, t := range tax {
			if t.group != "" && groups[t.group] == nil {
				groups[t.group] = &TaxonCount{Label: t.group, Name: t.groupName, Group: t.group, GroupName: t.groupName}
			}
			if t.group != "" {
				if groupUnits[t.group] == nil {
					groupUnits[t.group] = map[string]int{}
				}
				if i, ok := groupUnits[t.group][t.unit]; !ok || t.idx < i {
					groupUnits[t.group][t.unit] = t.idx
				}
			}
			if byLabel[l] == nil {
				byLabel[l] = &TaxonCount{Label: l, Name: t.name, Group: t.group, GroupName: t.groupName, Unit: t.unit}
			}
			if c.Known == nil {
				c.Known = map[string]bool{}
			}
			c.Known[l] = true
		}
	}
	unident := 0
	err = s.Objects(ctx, si, false, func(o ObjectRow) error {
		c.Objects++
		if o.UmPerPx > 0 && !slices.Contains(c.UmPerPx, o.UmPerPx) {
			c.UmPerPx = append(c.UmPerPx, o.UmPerPx)
		}
		switch o.Category {
		case "":
			c.Failed++
			return nil
		case screening.Unidentified:
			unident++
			if o.Label != "" {
				if c.Guessed == nil {
					c.Guessed = map[string]screening.Guess{}
				}
				g := c.Guessed[o.Label]
				g.Count++
				if t := byLabel[o.Label]; t != nil && t.Unit != "" && t.Unit != "cell" {
					// Estimated as the guessed taxon's would be, as an identified
					// object's are by its category (the caller may re-estimate by it).
					guess := o
					guess.Category = o.Label
					g.Cells += cellsOf(guess)
				} else {
					g.Cells++
				}
				c.Guessed[o.Label] = g
			}
			return nil
		}
		t := byLabel[o.Category]
		if t == nil { // a label no stored taxonomy names
			t = &TaxonCount{Label: o.Category, Name: o.Category, Unit: "cell"}
			byLabel[o.Category] = t
		}
		n := cellsOf(o)
		if t.Unit == "" || t.Unit == "cell" {
			// Counted in cells, one each (as the live run counts them): an object a
			// reviewer moved from a colony's taxon to a cell's, or to a taxon of the lab's
			// own, kept the colony's estimate (helper-38: Detritus, 1 cell, 14 estimated).
			n = 1
		}
		var over float64
		if o.Oversize {
			over = n
		}
		unknown := 0
		if t.Unit != "" && t.Unit != "cell" && n <= 1 && o.Run.Finder == vision.FinderCellImages && o.AreaUm2 <= 0 {
			unknown = 1 // no shape to guess from, no size: as the live run (screening.CellsUnknownOf)
		}
		// Every object of a colony, chain or filament whose cells were guessed from its
		// shape, also those guessed at one, as screen counts them
		// (screening.CellsEstimated): the report said 36 where screen said 99 for the
		// same sample, counting only those guessed at more than one (helper-52).
		uncal := 0
		if t.Unit != "" && t.Unit != "cell" && o.UmPerPx == 0 && unknown == 0 {
			uncal = 1
		}
		t.Count++
		t.Cells += n
		t.OversizeCells += over
		t.Uncalibrated += uncal
		t.CellsUnknown += unknown
		if o.Status == StatusValidated {
			t.Validated++
		}
		if g := groups[t.Group]; g != nil {
			g.Count++
			g.Cells += n
			g.OversizeCells += over
			g.Uncalibrated += uncal
			g.CellsUnknown += unknown
			if o.Status == StatusValidated {
				g.Validated++
			}
		}
		return nil
	})
	if err != nil {
		return c, err
	}
	for _, t := range byLabel {
		if t.Count > 0 {
			t.Concentration = si.Concentration(t.Count)
			c.Taxa = append(c.Taxa, *t)
		}
	}
	slices.SortFunc(c.Taxa, func(a, b TaxonCount) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Label, b.Label)
	})
	for id, g := range groups {
		// A group of colonies and filaments is "filament/colony", in the pack's label
		// order, as the live run and screen's JSON name it.
		units := slices.Collect(maps.Keys(groupUnits[id]))
		slices.SortFunc(units, func(a, b string) int { return groupUnits[id][a] - groupUnits[id][b] })
		g.Unit = strings.Join(units, "/")
		if g.Unit == "" {
			g.Unit = "cell"
		}
		g.Concentration = si.Concentration(g.Count)
		c.Groups = append(c.Groups, *g)
	}
	slices.SortFunc(c.Groups, func(a, b TaxonCount) int { return strings.Compare(a.Label, b.Label) })
	c.Unidentified = si.Concentration(unident)
	return c, nil
}

// RunRef names a stored run and its sample.
type RunRef struct {
	Sample, Site string
	Run          int64
	Started      time.Time
	// Copy, from RunsHoldingFrames, says which file of the frames asked about is a copy
	// of which file of the run ("" from RunsSharing, which compares paths).
	Copy string
	// Shared, from RunsHoldingFrames, is how many of the frames asked about the run holds
	// (0 from RunsSharing): one frame shared by two folders is not the same water
	// (helper-59: "these frames were screened before" over one copy in 778 frames).
	Shared int
}

// RunsSharing lists the runs of samples other than except, not in the trash, whose
// source shares frames with spec (capture.Spec.SharesFrames: the same video or camera,
// or a folder holding or held by the other). Screened as a new sample, such frames put
// the same water twice into the site's trend: long.avi went into three samples at Bay A
// without a word (helper-41).
func (s *Store) RunsSharing(ctx context.Context, spec capture.Spec, except string) ([]RunRef, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT r.sample_id, m.site, r.id, r.started, r.spec FROM sources r JOIN samples m ON m.id = r.sample_id
		WHERE m.deleted_at IS NULL AND r.sample_id != ? ORDER BY r.id`, except)
	if err != nil {
		return nil, fmt.Errorf("session store %s: look for runs of %s: %w", s.path, spec.Describe(), err)
	}
	defer rows.Close()
	var out []RunRef
	for rows.Next() {
		var r RunRef
		var started, text string
		if err := rows.Scan(&r.Sample, &r.Site, &r.Run, &started, &text); err != nil {
			return nil, fmt.Errorf("session store %s: look for runs of %s: %w", s.path, spec.Describe(), err)
		}
		if other, err := capture.ParseSpec(text); err == nil && other.SharesFrames(spec) {
			r.Started = parseTime(started)
			out = append(out, r)
		}
	}
	return out, rows.Err()
}

// RunsHoldingFrames lists the runs of samples other than except, not in the trash, that
// hold any of the frames fingerprinted in digests (capture.FrameDigests), wherever they
// were read from: a folder copied elsewhere, or renamed, is the same water, which
// RunsSharing's paths cannot tell (helper-54). Copy, on each, names one of the files and
// the file elsewhere it is a copy of ("" when the run read them where they are now). Files that could not be read have no fingerprint to match,
// and a run holds only the files it examined (its frames table names them): a file it
// could not decode, or did not reach, was never screened (helper-56: a truncated JPEG
// was said to be "screened before").
func (s *Store) RunsHoldingFrames(ctx context.Context, digests []capture.FileDigest, except string) ([]RunRef, error) {
	mine := make(map[string]string, len(digests))
	var keys []any
	for _, d := range digests {
		if _, ok := mine[d.Digest]; ok || strings.HasPrefix(d.Digest, capture.UnreadableDigest) {
			continue
		}
		mine[d.Digest] = d.Path
		keys = append(keys, d.Digest)
	}
	var out []RunRef
	at := map[int64]int{}                  // run -> its index in out
	counted := map[int64]map[string]bool{} // run -> the digests found in it
	const chunk = 500                      // well under SQLite's limit of bound variables
	for len(keys) > 0 {
		part := keys[:min(chunk, len(keys))]
		keys = keys[len(part):]
		rows, err := s.db.QueryContext(ctx, `SELECT r.sample_id, m.site, r.id, r.started, f.digest, f.path
			FROM source_files f JOIN sources r ON r.id = f.source_id JOIN samples m ON m.id = r.sample_id
			WHERE m.deleted_at IS NULL AND r.sample_id != ? AND f.digest IN (?`+strings.Repeat(",?", len(part)-1)+`)
			AND EXISTS (SELECT 1 FROM frames fr WHERE fr.source_id = f.source_id AND fr.file = f.path) ORDER BY r.id`,
			append([]any{except}, part...)...)
		if err != nil {
			return nil, fmt.Errorf("session store %s: look for runs holding these frames: %w", s.path, err)
		}
		for rows.Next() {
			var r RunRef
			var started, digest, path string
			if err := rows.Scan(&r.Sample, &r.Site, &r.Run, &started, &digest, &path); err != nil {
				rows.Close()
				return nil, fmt.Errorf("session store %s: look for runs holding these frames: %w", s.path, err)
			}
			if _, ok := at[r.Run]; !ok {
				r.Started = parseTime(started)
				at[r.Run], counted[r.Run] = len(out), map[string]bool{}
				out = append(out, r)
			}
			if ref := &out[at[r.Run]]; ref.Copy == "" && mine[digest] != path {
				// The same file read again is no copy: "x.jpg is a copy of x.jpg" (helper-95).
				ref.Copy = fmt.Sprintf("%s is a copy of %s", mine[digest], path)
			}
			if !counted[r.Run][digest] {
				counted[r.Run][digest] = true
				out[at[r.Run]].Shared++
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("session store %s: look for runs holding these frames: %w", s.path, err)
		}
	}
	slices.SortFunc(out, func(a, b RunRef) int { return cmp.Compare(a.Run, b.Run) })
	return out, nil
}
