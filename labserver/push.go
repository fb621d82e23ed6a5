package labserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/phytoscreen/phytoscreen/labrec"
)

// schemaVersion reads the version goose recorded.
func (s *Server) schemaVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.pool.QueryRow(ctx, "SELECT coalesce(max(version_id), 0) FROM "+pgx.Identifier{versionTable}.Sanitize()+" WHERE is_applied").Scan(&v)
	if err != nil {
		return 0, explain("lab server "+s.text+": reading its schema version", err)
	}
	return v, nil
}

// CheckSchema checks the server's schema is the version this phytoscreen writes (for
// Settings' "test connection": it registers nothing). Errors wrap ErrNoSchema and say
// the fix.
func (s *Server) CheckSchema(ctx context.Context) error {
	v, err := s.schemaVersion(ctx)
	if err != nil {
		return err
	}
	switch {
	case v < SchemaVersion:
		return fmt.Errorf("lab server %s: %w: it is at version %d, this phytoscreen writes version %d: %s", s.text, ErrNoSchema, v, SchemaVersion, migrateFix)
	case v > SchemaVersion:
		return fmt.Errorf("lab server %s: %w: it is at version %d, newer than this phytoscreen knows (%d): update phytoscreen on this bench", s.text, ErrNoSchema, v, SchemaVersion)
	}
	return nil
}

// Hello checks the server's schema is SchemaVersion and registers bench under the
// connected role the first time; it refuses a bench ID registered to another role.
func (s *Server) Hello(ctx context.Context, bench, name string) error {
	if bench == "" {
		return errors.New("lab server: the bench has no ID (its store makes one when opened)")
	}
	if err := labrec.CheckBenchName(name); err != nil {
		return fmt.Errorf("lab server: %w (Settings > Lab server, or phytoscreen sync --name)", err)
	}
	if err := s.CheckSchema(ctx); err != nil {
		return err
	}
	var me string
	if err := s.pool.QueryRow(ctx, "SELECT current_user").Scan(&me); err != nil {
		return explain("lab server "+s.text, err)
	}
	if name != "" {
		// A name is how people pick a bench (server relabel --bench): two benches of one
		// name, and a reviewer's label went to the other's object (helper-63).
		var other string
		// Whatever the case: "bench a" beside "Bench A" told two benches apart by case
		// alone (helper-71).
		err := s.pool.QueryRow(ctx, "SELECT bench_id FROM benches WHERE lower(name) = lower($1) AND bench_id <> $2 LIMIT 1", name, bench).Scan(&other)
		if err == nil {
			return fmt.Errorf("lab server %s: bench %s is already named %q: %w; give this bench another name (Settings > Lab server, or phytoscreen sync --name)", s.text, other, name, labrec.ErrNameTaken)
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return explain("lab server "+s.text+": reading the benches' names", err)
		}
	}
	_, err := s.pool.Exec(ctx, "INSERT INTO benches (bench_id, name) VALUES ($1, $2) ON CONFLICT (bench_id) DO NOTHING", bench, name)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == codeUniqueViolation {
		// role_name is unique: this role already pushes for another bench
		var other string
		_ = s.pool.QueryRow(ctx, "SELECT bench_id FROM benches WHERE role_name = current_user").Scan(&other)
		return fmt.Errorf("lab server %s: role %s already pushes for bench %s, not %s: each bench needs its own login role (docs/labserver.md)", s.text, me, other, bench)
	}
	if err != nil {
		return explain("lab server "+s.text+": registering bench "+bench, err)
	}
	var owner, known string
	if err := s.pool.QueryRow(ctx, "SELECT role_name, name FROM benches WHERE bench_id = $1", bench).Scan(&owner, &known); err != nil {
		return explain("lab server "+s.text+": reading bench "+bench, err)
	}
	if owner != me {
		return fmt.Errorf("lab server %s: bench ID %s is registered to role %s, not to %s: connect as %s, or give this bench its own login role (docs/labserver.md)", s.text, bench, owner, me, owner)
	}
	if name != "" && name != known {
		if _, err := s.pool.Exec(ctx, "UPDATE benches SET name = $2 WHERE bench_id = $1", bench, name); err != nil {
			return explain("lab server "+s.text+": naming bench "+bench, err)
		}
	}
	return nil
}

// objectCols are the objects columns a bench pushes, in objectRow's order.
var objectCols = []string{
	"bench_id", "object_id", "run_id", "seq", "time", "frame", "track", "x", "y", "w", "h",
	"area", "perimeter", "esd", "major", "minor", "aspect", "solidity", "mean_gray", "focus",
	"um_per_px", "contrast", "centroid_x", "centroid_y", "area_um2", "esd_um", "major_um",
	"minor_um", "perimeter_um", "on_border", "kind", "length", "width", "parts",
	"cells_estimate", "oversize", "file", "crop", "label", "prob", "top", "variant", "error",
	"validated_label", "validated_by", "validated_at",
}

// validationCols are the last three of objectCols: a person's label.
var validationCols = objectCols[len(objectCols)-3:]

// laterSQL is true where the incoming validation (excluded) is later than the server's
// (objects): last writer wins, ties keep the server's.
const laterSQL = `(excluded.validated_at IS NOT NULL AND (objects.validated_at IS NULL OR excluded.validated_at > objects.validated_at))`

// sameObjectSQL is true where the pushed row is the object the server holds under its
// ID: same run, place in the run and time. Benches keep IDs from reuse, but one whose
// store predates that may give a deleted object's ID to a new one.
const sameObjectSQL = `((objects.run_id, objects.seq, objects.time) IS NOT DISTINCT FROM (excluded.run_id, excluded.seq, excluded.time))`

// upsertObjectsSQL moves the pushed objects from the temporary table into objects. An
// object already there gets the pushed measurements, and the pushed validation only when
// later; a new object under a reused ID gets the pushed row whole, validation too (the
// old object's label is not its). An identical row is not written at all, so pushing
// twice changes nothing.
var upsertObjectsSQL = func() string {
	var cols, set, oldRow, newRow []string
	for _, c := range objectCols {
		q := pgx.Identifier{c}.Sanitize()
		cols = append(cols, q)
		if c == "bench_id" || c == "object_id" {
			continue
		}
		if isValidationCol(c) {
			set = append(set, fmt.Sprintf("%s = CASE WHEN %s OR NOT %s THEN excluded.%s ELSE objects.%s END", q, laterSQL, sameObjectSQL, q, q))
			continue
		}
		set = append(set, fmt.Sprintf("%s = excluded.%s", q, q))
		oldRow = append(oldRow, "objects."+q)
		newRow = append(newRow, "excluded."+q)
	}
	list := strings.Join(cols, ", ")
	return fmt.Sprintf(`INSERT INTO objects (%s) SELECT %s FROM push_objects
ON CONFLICT (bench_id, object_id) DO UPDATE SET %s
WHERE (%s) IS DISTINCT FROM (%s) OR %s`,
		list, list, strings.Join(set, ", "), strings.Join(oldRow, ", "), strings.Join(newRow, ", "), laterSQL)
}()

func isValidationCol(c string) bool {
	for _, v := range validationCols {
		if c == v {
			return true
		}
	}
	return false
}

// pushTempSQL makes the session's staging table for objects; its rows go at each commit.
const pushTempSQL = `CREATE TEMP TABLE IF NOT EXISTS push_objects (LIKE objects INCLUDING STORAGE) ON COMMIT DELETE ROWS`

// copyChunk is how many objects go to the server per COPY: enough to fill the socket,
// few enough that a run of many crops is never held in memory.
const copyChunk = 1000

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// validationArgs are the label, reviewer and time of a validation for SQL: a nil
// validation is all NULL; an empty label with a time is a validation cleared then.
func validationArgs(v *labrec.Validation) (label, by, at any) {
	if v == nil {
		return nil, nil, nil
	}
	return nullString(v.Label), nullString(v.By), nullTime(v.At)
}

func objectRow(bench string, o labrec.Object) []any {
	vl, vb, va := validationArgs(o.Validation)
	return []any{
		bench, o.ID, o.RunID, o.Seq, o.Time, o.Frame, o.Track, o.X, o.Y, o.W, o.H,
		o.Area, o.Perimeter, o.ESD, o.Major, o.Minor, o.Aspect, o.Solidity, o.MeanGray, o.Focus,
		o.UmPerPx, o.Contrast, o.CentroidX, o.CentroidY, o.AreaUm2, o.ESDUm, o.MajorUm,
		o.MinorUm, o.PerimeterUm, o.OnBorder, o.Kind, o.Length, o.Width, o.Parts,
		o.CellsEstimate, o.Oversize, o.File, o.Crop, o.Label, o.Prob, o.Top, o.Variant, o.Error,
		vl, vb, va,
	}
}

const upsertSampleSQL = `INSERT INTO samples (bench_id, sample_id, site, taken, notes, factor, lat, lon,
	depth_m, analyst, created, marked, deleted_at, gone, volume_ml, objects, failed,
	final_rules, final_level, final_rule, final_per_l, final_why, pushed_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, now())
ON CONFLICT (bench_id, sample_id) DO UPDATE SET site = excluded.site, taken = excluded.taken,
	notes = excluded.notes, factor = excluded.factor, lat = excluded.lat, lon = excluded.lon,
	depth_m = excluded.depth_m, analyst = excluded.analyst, created = excluded.created,
	marked = excluded.marked, deleted_at = excluded.deleted_at, gone = excluded.gone,
	volume_ml = excluded.volume_ml, objects = excluded.objects, failed = excluded.failed,
	final_rules = excluded.final_rules, final_level = excluded.final_level, final_rule = excluded.final_rule,
	final_per_l = excluded.final_per_l, final_why = excluded.final_why, pushed_at = now()`

// The tally is replaced whole: the bench's figures are the truth of its sample.
const (
	deleteCountsSQL = `DELETE FROM sample_counts WHERE bench_id = $1 AND sample_id = $2`
	insertCountsSQL = `INSERT INTO sample_counts (bench_id, sample_id, label, kind, pos, name, grp,
	grp_name, unit, count, validated, per_l, ci_low, ci_high, cells)
SELECT $1, $2, c.label, c.kind, c.pos - 1, c.name, c.grp, c.grp_name, c.unit, c.count,
	c.validated, c.per_l, c.ci_low, c.ci_high, c.cells
FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
	$9::int[], $10::int[], $11::float8[], $12::float8[], $13::float8[], $14::float8[])
	WITH ORDINALITY AS c(label, kind, name, grp, grp_name, unit, count, validated, per_l, ci_low, ci_high, cells, pos)`
)

// queueSample queues the upsert of a sample and the replacement of its tally. A sample
// the bench no longer holds is only marked gone (its data stays for the programme).
func queueSample(b *pgx.Batch, t labrec.SampleTally) {
	s := t.Sample
	if t.Gone && t.Created.IsZero() {
		b.Queue(`UPDATE samples SET gone = true, pushed_at = now() WHERE bench_id = $1 AND sample_id = $2`, s.Bench, s.ID)
		return
	}
	// NULLs when the bench did not work out the standing: the views say so.
	var stRules, stLevel, stRule, stWhy *string
	var stPerL *float64
	if st := t.Standing; st != nil {
		stRules, stLevel, stRule, stPerL, stWhy = &st.Rules, &st.Level, &st.Rule, &st.PerL, &st.Why
	}
	b.Queue(upsertSampleSQL, s.Bench, s.ID, s.Site, s.Taken, s.Notes, s.Factor, s.Lat, s.Lon,
		s.DepthM, s.Analyst, s.Created, s.Marked, s.Deleted, s.Gone, t.VolumeML, t.Objects, t.Failed,
		stRules, stLevel, stRule, stPerL, stWhy)
	b.Queue(deleteCountsSQL, s.Bench, s.ID)
	if len(t.Counts) == 0 {
		return
	}
	n := len(t.Counts)
	label, kind, name, grp, grpName, unit := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	count, validated := make([]int32, n), make([]int32, n)
	perL, lo, hi, cells := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for i, c := range t.Counts {
		label[i], kind[i], name[i], grp[i], grpName[i], unit[i] = c.Label, c.Kind, c.Name, c.Group, c.GroupName, c.Unit
		count[i], validated[i] = int32(c.Count), int32(c.Validated)
		perL[i], lo[i], hi[i], cells[i] = c.PerL, c.CILow, c.CIHigh, c.Cells
	}
	b.Queue(insertCountsSQL, s.Bench, s.ID, label, kind, name, grp, grpName, unit, count, validated, perL, lo, hi, cells)
}

const upsertTaxonSQL = `INSERT INTO taxa (bench_id, pack, label, idx, name, grp, grp_name, unit)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (bench_id, pack, label) DO UPDATE SET idx = excluded.idx, name = excluded.name,
	grp = excluded.grp, grp_name = excluded.grp_name, unit = excluded.unit
WHERE (taxa.idx, taxa.name, taxa.grp, taxa.grp_name, taxa.unit)
	IS DISTINCT FROM (excluded.idx, excluded.name, excluded.grp, excluded.grp_name, excluded.unit)`

const upsertRunSQL = `INSERT INTO runs (bench_id, run_id, sample_id, spec, pack, model, threshold,
	volume_ml, volume_examined_ml, rules, started, ended, frames_seen, frames_dropped,
	frames_failed, frames_expected, files_skipped, interrupted, status, error)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
ON CONFLICT (bench_id, run_id) DO UPDATE SET sample_id = excluded.sample_id, spec = excluded.spec,
	pack = excluded.pack, model = excluded.model, threshold = excluded.threshold,
	volume_ml = excluded.volume_ml, volume_examined_ml = excluded.volume_examined_ml,
	rules = excluded.rules, started = excluded.started, ended = excluded.ended,
	frames_seen = excluded.frames_seen, frames_dropped = excluded.frames_dropped,
	frames_failed = excluded.frames_failed, frames_expected = excluded.frames_expected,
	files_skipped = excluded.files_skipped, interrupted = excluded.interrupted,
	status = excluded.status, error = excluded.error`

const upsertAlertSQL = `INSERT INTO alerts (bench_id, alert_id, run_id, time, rule, taxon, from_level,
	to_level, count, cells_per_l, ci_low, ci_high, threshold, threshold_per_l, threshold_source,
	verified, note)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
ON CONFLICT (bench_id, alert_id) DO UPDATE SET run_id = excluded.run_id, time = excluded.time,
	rule = excluded.rule, taxon = excluded.taxon, from_level = excluded.from_level,
	to_level = excluded.to_level, count = excluded.count, cells_per_l = excluded.cells_per_l,
	ci_low = excluded.ci_low, ci_high = excluded.ci_high, threshold = excluded.threshold,
	threshold_per_l = excluded.threshold_per_l, threshold_source = excluded.threshold_source,
	verified = excluded.verified, note = excluded.note`

const upsertPerfSQL = `INSERT INTO perf (bench_id, perf_id, run_id, time, variant, cells, duration_ms,
	failed, watts, joules, energy_source, estimated)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (bench_id, perf_id) DO UPDATE SET run_id = excluded.run_id, time = excluded.time,
	variant = excluded.variant, cells = excluded.cells, duration_ms = excluded.duration_ms,
	failed = excluded.failed, watts = excluded.watts, joules = excluded.joules,
	energy_source = excluded.energy_source, estimated = excluded.estimated`

// checkBatch refuses a batch whose parts disagree on bench, sample or run.
func checkBatch(b *labrec.RunBatch) error {
	bench := b.Tally.Bench
	if bench == "" {
		return errors.New("lab server: the run's sample has no bench ID")
	}
	if b.Run.Bench == "" {
		b.Run.Bench = bench
	}
	switch {
	case b.Run.Bench != bench:
		return fmt.Errorf("lab server: run %d is of bench %s but its sample of bench %s", b.Run.ID, b.Run.Bench, bench)
	case b.Run.SampleID != b.Tally.ID:
		return fmt.Errorf("lab server: run %d is of sample %q but the batch carries sample %q", b.Run.ID, b.Run.SampleID, b.Tally.ID)
	}
	for _, a := range b.Alerts {
		if a.RunID != b.Run.ID {
			return fmt.Errorf("lab server: alert %d is of run %d, not of the pushed run %d", a.ID, a.RunID, b.Run.ID)
		}
	}
	for _, p := range b.Perf {
		if p.RunID != b.Run.ID {
			return fmt.Errorf("lab server: performance record %d is of run %d, not of the pushed run %d", p.ID, p.RunID, b.Run.ID)
		}
	}
	return nil
}

// PushRun writes a run with its sample and tally, taxa, alerts, performance records and
// objects in one transaction. The server's copy of the run becomes the bench's: objects,
// alerts and records of the run the bench no longer has are removed (objects nil: the
// run has none). Pushing it again changes nothing; a validation replaces the server's
// only when later.
func (s *Server) PushRun(ctx context.Context, b labrec.RunBatch, objects func(fn func(labrec.Object) error) error) error {
	if err := checkBatch(&b); err != nil {
		return err
	}
	bench, r := b.Tally.Bench, b.Run
	what := fmt.Sprintf("lab server %s: pushing run %d of sample %q", s.text, r.ID, r.SampleID)
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return explain(what, err)
	}
	defer rollback(ctx, tx)
	if err := checkSameRun(ctx, tx, bench, r); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}

	batch := &pgx.Batch{}
	queueSample(batch, b.Tally)
	seen := map[[2]string]bool{}
	for _, t := range b.Taxa {
		if k := [2]string{t.Pack, t.Label}; !seen[k] { // one row can be upserted once per statement batch
			seen[k] = true
			batch.Queue(upsertTaxonSQL, bench, t.Pack, t.Label, t.Idx, t.Name, t.Group, t.GroupName, t.Unit)
		}
	}
	batch.Queue(upsertRunSQL, bench, r.ID, r.SampleID, r.Spec, r.Pack, r.Model, r.Threshold,
		r.VolumeML, r.VolumeExaminedML, r.Rules, r.Started, r.Ended, r.FramesSeen, r.FramesDropped,
		r.FramesFailed, r.FramesExpected, r.FilesSkipped, r.Interrupted, r.Status, r.Error)
	alertIDs := make([]int64, 0, len(b.Alerts))
	for _, a := range b.Alerts {
		alertIDs = append(alertIDs, a.ID)
		batch.Queue(upsertAlertSQL, bench, a.ID, a.RunID, a.Time, a.Rule, a.Taxon, a.FromLevel,
			a.ToLevel, a.Count, a.CellsPerL, a.CILow, a.CIHigh, a.Threshold, a.ThresholdPerL,
			a.ThresholdSource, a.Verified, a.Note)
	}
	batch.Queue(`DELETE FROM alerts WHERE bench_id = $1 AND run_id = $2 AND alert_id <> ALL($3::bigint[])`, bench, r.ID, alertIDs)
	perfIDs := make([]int64, 0, len(b.Perf))
	for _, p := range b.Perf {
		perfIDs = append(perfIDs, p.ID)
		batch.Queue(upsertPerfSQL, bench, p.ID, p.RunID, p.Time, p.Variant, p.Cells, p.DurationMS,
			p.Failed, p.Watts, p.Joules, p.EnergySource, p.Estimated)
	}
	batch.Queue(`DELETE FROM perf WHERE bench_id = $1 AND run_id = $2 AND perf_id <> ALL($3::bigint[])`, bench, r.ID, perfIDs)
	batch.Queue(pushTempSQL)
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return explain(what, err)
	}

	// Objects stream through COPY into the session's staging table, a chunk at a time.
	n := 0
	rows := make([][]any, 0, copyChunk)
	flush := func() error {
		if len(rows) == 0 {
			return nil
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"push_objects"}, objectCols, pgx.CopyFromRows(rows))
		rows = rows[:0]
		return err
	}
	if objects != nil {
		err := objects(func(o labrec.Object) error {
			if o.RunID != r.ID {
				return fmt.Errorf("object %d is of run %d, not of the pushed run %d", o.ID, o.RunID, r.ID)
			}
			rows = append(rows, objectRow(bench, o))
			n++
			if len(rows) == copyChunk {
				return flush()
			}
			return nil
		})
		if err == nil {
			err = flush()
		}
		if err != nil {
			return explain(what+": objects", err)
		}
	}
	batch = &pgx.Batch{}
	batch.Queue(`DELETE FROM objects o WHERE o.bench_id = $1 AND o.run_id = $2
	AND NOT EXISTS (SELECT 1 FROM push_objects p WHERE p.object_id = o.object_id)`, bench, r.ID)
	batch.Queue(upsertObjectsSQL)
	batch.Queue(`UPDATE benches SET last_push = now() WHERE bench_id = $1`, bench)
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return explain(what, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return explain(what+": commit", err)
	}
	slog.Debug("lab server: run pushed", "bench", bench, "run", r.ID, "sample", r.SampleID, "objects", n)
	return nil
}

// PushSample writes a sample and replaces its tally (a sample the bench no longer holds
// is marked gone).
func (s *Server) PushSample(ctx context.Context, t labrec.SampleTally) error {
	if t.Bench == "" || t.ID == "" {
		return fmt.Errorf("lab server: sample %q of bench %q: bench and sample ID are needed", t.ID, t.Bench)
	}
	what := fmt.Sprintf("lab server %s: pushing sample %q", s.text, t.ID)
	batch := &pgx.Batch{}
	queueSample(batch, t)
	batch.Queue(`UPDATE benches SET last_push = now() WHERE bench_id = $1`, t.Bench)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return tx.SendBatch(ctx, batch).Close() })
	return explain(what, err)
}

// setLabelSQL sets a validation where it is later than the server's (last writer wins;
// ties and older ones leave the server's).
const setLabelSQL = `UPDATE objects SET validated_label = $3, validated_by = $4, validated_at = $5
WHERE bench_id = $1 AND object_id = $2 AND $5::timestamptz IS NOT NULL
	AND (validated_at IS NULL OR validated_at < $5::timestamptz)`

// PushLabels writes validations, each only where it is later than the server's. A label
// of an object the server does not hold yet is dropped: the object's run, when pushed,
// carries it.
func (s *Server) PushLabels(ctx context.Context, labels []labrec.Label) error {
	if len(labels) == 0 {
		return nil
	}
	what := fmt.Sprintf("lab server %s: pushing %d labels", s.text, len(labels))
	// Row level security filters another bench's rows out of an UPDATE silently; a bench
	// pushing labels of a bench not its own is refused out loud instead.
	var own string
	err := s.pool.QueryRow(ctx, `SELECT coalesce((SELECT bench_id FROM benches WHERE role_name = current_user), '')`).Scan(&own)
	if err != nil {
		return explain(what, err)
	}
	batch := &pgx.Batch{}
	for _, l := range labels {
		if l.Bench == "" {
			l.Bench = own // the bench's own labels need not name it
		}
		if l.Bench != own {
			return fmt.Errorf("%s: object %d is of bench %s, and this role may push only its own bench's labels (%s): a reviewer relabels with Relabel", what, l.ObjectID, l.Bench, orElse(own, "none registered: call Hello first"))
		}
		vl, vb, va := validationArgs(&l.Validation)
		batch.Queue(setLabelSQL, l.Bench, l.ObjectID, vl, vb, va)
	}
	batch.Queue(`UPDATE benches SET last_push = now() WHERE bench_id = $1`, own)
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return tx.SendBatch(ctx, batch).Close() })
	return explain(what, err)
}

// PullLabels lists validations of bench's objects changed on the server after revision
// since, oldest first, at most limit (0: all). Revisions become visible in their order
// (see the trigger), so resuming after the last one seen misses none.
func (s *Server) PullLabels(ctx context.Context, bench string, since int64, limit int) ([]labrec.Label, error) {
	var lim any
	if limit > 0 {
		lim = limit
	}
	rows, err := s.pool.Query(ctx, `SELECT o.object_id, r.sample_id, coalesce(o.validated_label, ''),
	coalesce(o.validated_by, ''), o.validated_at, o.label_rev
FROM objects o JOIN runs r ON r.bench_id = o.bench_id AND r.run_id = o.run_id
WHERE o.bench_id = $1 AND o.label_rev > $2
ORDER BY o.label_rev LIMIT $3`, bench, since, lim)
	if err != nil {
		return nil, explain("lab server "+s.text+": pulling labels", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (labrec.Label, error) {
		l := labrec.Label{Bench: bench}
		var at *time.Time
		err := row.Scan(&l.ObjectID, &l.SampleID, &l.Label, &l.By, &at, &l.Rev)
		if at != nil {
			l.At = *at
		}
		return l, err
	})
	return out, explain("lab server "+s.text+": pulling labels", err)
}

// ErrOtherRun is returned by PushRun when the server holds another run under the run's
// number: two stores push as one bench (a copied store, or one restored from a backup,
// kept the bench's ID and numbered new runs as the other did). Pushed, the run replaced
// the other's objects and alerts (helper-63); refused, it stays in the bench's outbox.
var ErrOtherRun = errors.New("the server holds another run of this bench under that number: two session stores push as one bench (a copy, or one restored from a backup); sync each bench from its own store, and give a copy a bench of its own (docs/labserver.md)")

// checkSameRun refuses run r of bench when the server holds a run of that number of
// another sample, or started at another time.
func checkSameRun(ctx context.Context, tx pgx.Tx, bench string, r labrec.Run) error {
	var sample string
	var started time.Time
	err := tx.QueryRow(ctx, `SELECT sample_id, started FROM runs WHERE bench_id = $1 AND run_id = $2`, bench, r.ID).Scan(&sample, &started)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	case err != nil:
		return err
	}
	// Within a millisecond: timestamptz keeps microseconds, and rounds.
	if d := started.Sub(r.Started); sample != r.SampleID || d > time.Millisecond || d < -time.Millisecond {
		return fmt.Errorf("%w (the server's run %d is of sample %q, started %s)", ErrOtherRun, r.ID, sample, started.UTC().Format(time.RFC3339))
	}
	return nil
}

// ErrSuperseded is returned by Relabel when the server holds a later validation.
var ErrSuperseded = errors.New("a later validation is already on the server")

// Relabel sets an object's validation as a reviewer (a role in phytoscreen_reviewer, any
// bench's object) or its bench; the later validation wins, so an older one returns
// ErrSuperseded. The bench pulls it back at its next sync.
func (s *Server) Relabel(ctx context.Context, bench string, objectID int64, v labrec.Validation) error {
	if v.At.IsZero() {
		return errors.New("lab server: a relabel needs its time")
	}
	if v.By == "" {
		return errors.New("lab server: a relabel needs the reviewer's name")
	}
	what := fmt.Sprintf("lab server %s: relabelling object %d of bench %s", s.text, objectID, bench)
	var gone bool
	err := s.pool.QueryRow(ctx, `SELECT m.gone FROM objects o JOIN runs r ON r.bench_id = o.bench_id AND r.run_id = o.run_id
	JOIN samples m ON m.bench_id = r.bench_id AND m.sample_id = r.sample_id WHERE o.bench_id = $1 AND o.object_id = $2`, bench, objectID).Scan(&gone)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return explain(what, err)
	}
	if gone {
		return fmt.Errorf("%s: %w", what, ErrSampleGone)
	}
	vl, vb, va := validationArgs(&v)
	tag, err := s.pool.Exec(ctx, setLabelSQL, bench, objectID, vl, vb, va)
	if err != nil {
		return explain(what, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var at *time.Time
	err = s.pool.QueryRow(ctx, `SELECT validated_at FROM objects WHERE bench_id = $1 AND object_id = $2`, bench, objectID).Scan(&at)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, ErrNoObject)
	}
	if err != nil {
		return explain(what, err)
	}
	if at == nil || at.Before(v.At) {
		// Nothing later on the server, yet nothing changed: row level security kept this
		// login from the bench's objects (helper-63: a nil time, a panic).
		return fmt.Errorf("%s: %w", what, ErrNotYours)
	}
	return fmt.Errorf("%s: %w (set %s)", what, ErrSuperseded, at.UTC().Format(time.RFC3339Nano))
}

// ErrNoObject is returned by Relabel for an object number the server holds none of
// for the bench: a mistyped --object, or a run not pushed yet.
var ErrNoObject = errors.New("the server has no such object (phytoscreen server objects lists a sample's; has the bench pushed its run?)")

// ErrSampleGone is returned by SampleObjects and Relabel for a sample its bench removed
// for good (its trash emptied): listed and relabelled, the label never reached the bench
// (helper-63).
var ErrSampleGone = errors.New("the bench removed this sample for good (its trash emptied): its objects stay on the server for the record, and a label set here would never reach the bench")

// ErrNotYours is returned by Relabel when the login may not change the bench's objects.
var ErrNotYours = errors.New("this login may not relabel that bench's objects: a reviewer (a role in phytoscreen_reviewer) relabels any bench's, a bench only its own")

func orElse(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}
