package store

// The bench's side of the lab server sync (labsync.Outbox): the bench's identity, the
// outbox of what waits to be pushed (filled by the triggers in the schema, so nothing
// the bench records can miss it), the records pushed (labrec), and the labels pulled
// back. Nothing here talks to a server: the sync loop (labsync) reads from here and
// writes there, so a bench with no server configured records exactly as before.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/phytoscreen/phytoscreen/labrec"
	"github.com/phytoscreen/phytoscreen/screening"
)

// ErrNoRun is the error (errors.Is) of SyncRun and SyncObjects for a run the store does
// not hold (discarded, or its sample's trash emptied, since the outbox was read).
var ErrNoRun = fmt.Errorf("no such run: %w", labrec.ErrGone)

// ErrNoObject is the error (errors.Is) of SyncLabel for an object the store does not hold.
var ErrNoObject = fmt.Errorf("no such object: %w", labrec.ErrGone)

// nowSQL is the time SQLite writes into the outbox, in the fixed-width form the
// triggers use (so that text order is time order).
const nowSQL = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"

// initOutbox gives a store its bench identity, once, when it is made or first brought
// to version 6; an existing store (existing) also queues every sample and run it holds,
// so a bench joining a programme pushes its history.
func initOutbox(ctx context.Context, tx *sql.Tx, existing bool) error {
	// OR IGNORE: an identity already there is kept (a bench is one bench for good).
	if _, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO meta(key, value) VALUES ('bench_id', ?)", uuid.NewString()); err != nil {
		return fmt.Errorf("record the bench's identity: %w", err)
	}
	if !existing {
		return nil
	}
	for _, q := range []string{
		"INSERT OR REPLACE INTO outbox(kind, ref, queued) SELECT 'sample', id, " + nowSQL + " FROM samples ORDER BY created, id",
		"INSERT OR REPLACE INTO outbox(kind, ref, queued) SELECT 'run', CAST(id AS TEXT), " + nowSQL + " FROM sources ORDER BY id",
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("queue the store's history for a lab server: %w", err)
		}
	}
	return nil
}

// BenchID is this bench's global identity: a UUID made once when the store was made
// (or brought to version 6) and kept in it.
func (s *Store) BenchID(ctx context.Context) (string, error) {
	s.idMu.Lock()
	defer s.idMu.Unlock()
	if s.benchID != "" {
		return s.benchID, nil
	}
	var id string
	err := s.db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'bench_id'").Scan(&id)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && id == "") {
		return "", fmt.Errorf("session store %s has no bench identity: open it once writable (phytoscreen screen --db FILE, or the app) to bring it up to date", s.path)
	}
	if err != nil {
		return "", fmt.Errorf("session store %s: read the bench identity: %w", s.path, err)
	}
	s.benchID = id
	return id, nil
}

// BenchName is the bench's name as the programme shows it: the one set with
// SetBenchName, else this machine's host name.
func (s *Store) BenchName(ctx context.Context) (string, error) {
	var name string
	err := s.db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'bench_name'").Scan(&name)
	switch {
	case err == nil && name != "":
		return name, nil
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return "", fmt.Errorf("session store %s: read the bench name: %w", s.path, err)
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		return "bench", nil //nolint:nilerr // a name is needed, and the host's is only a default
	}
	if labrec.CheckBenchName(host) != nil {
		return "bench", nil // a host name the rule refuses (too long): the server would refuse it too
	}
	return host, nil
}

// SetBenchName names the bench (Settings > Lab server); "" goes back to the host name.
func (s *Store) SetBenchName(ctx context.Context, name string) error {
	if err := s.writable("a bench name"); err != nil {
		return err
	}
	name = strings.TrimSpace(name)
	if err := labrec.CheckBenchName(name); err != nil {
		return err
	}
	var err error
	if name == "" {
		_, err = s.db.ExecContext(ctx, "DELETE FROM meta WHERE key = 'bench_name'")
	} else {
		_, err = s.db.ExecContext(ctx, "INSERT OR REPLACE INTO meta(key, value) VALUES ('bench_name', ?)", name)
	}
	if err != nil {
		return fmt.Errorf("session store %s: record the bench name: %w", s.path, err)
	}
	return nil
}

// SetSyncMark keeps a value of the sync's own (the last pulled revision, the last
// successful sync) under key.
func (s *Store) SetSyncMark(ctx context.Context, key, value string) error {
	if err := s.writable("a sync mark"); err != nil {
		return err
	}
	if key == "" {
		return errors.New("store: a sync mark needs a key")
	}
	if _, err := s.db.ExecContext(ctx, "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", "sync:"+key, value); err != nil {
		return fmt.Errorf("session store %s: record sync mark %s: %w", s.path, key, err)
	}
	return nil
}

// SyncMark reads what SetSyncMark kept under key ("" when nothing).
func (s *Store) SyncMark(ctx context.Context, key string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", "sync:"+key).Scan(&v)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("session store %s: read sync mark %s: %w", s.path, key, err)
	}
	return v, nil
}

// setActive adds a run this process records to the active set, or takes it out.
func (s *Store) setActive(id int64, on bool) {
	s.activeMu.Lock()
	defer s.activeMu.Unlock()
	if on {
		if s.active == nil {
			s.active = map[int64]bool{}
		}
		s.active[id] = true
	} else {
		delete(s.active, id)
	}
}

// Recording reports whether this process is recording a run into the store now: the
// lab server sync paces itself while it is, so screening keeps its throughput.
func (s *Store) Recording() bool {
	s.activeMu.RLock()
	defer s.activeMu.RUnlock()
	return len(s.active) > 0
}

// readWaiting runs a read of the outbox with the active runs as two JSON arrays for
// json_each: their IDs as text (outbox refs) and as numbers (objects.source_id), so the
// filter stays a parameter. The set cannot change during the read: a run started
// meanwhile is active before its commit (startRun), so a read that sees its entry sees
// it active too.
func (s *Store) readWaiting(read func(refs, ids string) error) error {
	s.activeMu.RLock()
	defer s.activeMu.RUnlock()
	r := []string{}
	n := []int64{}
	for id := range s.active {
		r = append(r, strconv.FormatInt(id, 10))
		n = append(n, id)
	}
	a, _ := json.Marshal(r)
	b, _ := json.Marshal(n)
	return read(string(a), string(b))
}

// waiting is the outbox less the runs this process is still recording and the labels
// of their objects (their run's push carries those labels once it is finished), and
// less the bundled demo: its runs, their objects' labels and the samples that hold
// only demo runs stay on the bench. A demo is the app showing itself, not a sample
// of the programme: pushed, it headed the weekly report with generated Noctiluca
// alerts, one more each launch (helper-40).
const waiting = `FROM outbox WHERE NOT (kind = 'run' AND ref IN (SELECT value FROM json_each(?)))
	AND NOT (kind = 'label' AND CAST(ref AS INTEGER) IN (SELECT id FROM objects WHERE source_id IN (SELECT value FROM json_each(?))))
	AND NOT (kind = 'run' AND ref IN (SELECT CAST(id AS TEXT) FROM sources WHERE spec = '` + demoSpec + `'))
	AND NOT (kind = 'label' AND CAST(ref AS INTEGER) IN (SELECT o.id FROM objects o JOIN sources d ON d.id = o.source_id WHERE d.spec = '` + demoSpec + `'))
	AND NOT (kind = 'sample' AND ref IN (SELECT sample_id FROM sources GROUP BY sample_id HAVING min(spec = '` + demoSpec + `') = 1))`

// demoSpec is how a run of the bundled demo records its source.
const demoSpec = labrec.DemoSpec

// PendingSync lists up to limit outbox entries (all when limit <= 0), oldest first.
// Runs this process is still recording are left out until they finish; a run a dead
// process left unfinished is listed, and pushed as it is.
func (s *Store) PendingSync(ctx context.Context, limit int) ([]labrec.Pending, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	var out []labrec.Pending
	err := s.readWaiting(func(refs, ids string) error {
		rows, err := s.db.QueryContext(ctx, "SELECT seq, kind, ref, queued "+waiting+" ORDER BY seq LIMIT ?", refs, ids, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var p labrec.Pending
			var queued string
			if err := rows.Scan(&p.Seq, &p.Kind, &p.Ref, &queued); err != nil {
				return err
			}
			p.Queued = parseTime(queued)
			out = append(out, p)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("session store %s: read the outbox: %w", s.path, err)
	}
	return out, nil
}

// OutboxState counts what waits (as PendingSync lists it) and when the oldest was queued.
func (s *Store) OutboxState(ctx context.Context) (labrec.OutboxState, error) {
	var st labrec.OutboxState
	var oldest string
	err := s.readWaiting(func(refs, ids string) error {
		return s.db.QueryRowContext(ctx, "SELECT COUNT(*), COALESCE(MIN(queued), '') "+waiting, refs, ids).Scan(&st.Pending, &oldest)
	})
	if err != nil {
		return st, fmt.Errorf("session store %s: count the outbox: %w", s.path, err)
	}
	if oldest != "" {
		st.Oldest = parseTime(oldest)
	}
	return st, nil
}

// DoneSync removes pushed entries by seq. An entry queued again since it was read has a
// new seq and stays.
func (s *Store) DoneSync(ctx context.Context, seqs []int64) error {
	if len(seqs) == 0 {
		return nil
	}
	if err := s.writable("a sync"); err != nil {
		return err
	}
	b, _ := json.Marshal(seqs)
	if _, err := s.db.ExecContext(ctx, "DELETE FROM outbox WHERE seq IN (SELECT value FROM json_each(?))", string(b)); err != nil {
		return fmt.Errorf("session store %s: mark %d outbox entries pushed: %w", s.path, len(seqs), err)
	}
	return nil
}

// ptr is v as an optional number: nil for NaN (not recorded).
func ptr(v float64) *float64 {
	if math.IsNaN(v) {
		return nil
	}
	return &v
}

// SyncSample reads a sample and the bench's tally of it, as History shows it. A sample
// the store no longer holds (its trash emptied, or discarded) is Gone, with no tally; a
// sample with no runs has an empty one.
func (s *Store) SyncSample(ctx context.Context, sampleID string) (labrec.SampleTally, error) {
	bench, err := s.BenchID(ctx)
	if err != nil {
		return labrec.SampleTally{}, err
	}
	t := labrec.SampleTally{Sample: labrec.Sample{Bench: bench, ID: sampleID}}
	var taken, created string
	var deleted sql.NullString
	var runs int
	err = s.db.QueryRowContext(ctx, `SELECT site, taken, notes, factor, lat, lon, depth_m, analyst, created, marked, deleted_at,
		(SELECT COUNT(*) FROM sources WHERE sample_id = samples.id) FROM samples WHERE id = ?`, sampleID).
		Scan(&t.Site, &taken, &t.Notes, &t.Factor, &t.Lat, &t.Lon, &t.DepthM, &t.Analyst, &created, &t.Marked, &deleted, &runs)
	if errors.Is(err, sql.ErrNoRows) {
		t.Gone = true
		return t, nil
	}
	if err != nil {
		return t, fmt.Errorf("session store %s: read sample %s for the lab server: %w", s.path, sampleID, err)
	}
	t.Taken, t.Created = parseTime(taken), parseTime(created)
	if deleted.Valid {
		d := parseTime(deleted.String)
		t.Deleted = &d
	}
	if runs == 0 {
		return t, nil
	}
	c, err := s.CountsCells(ctx, sampleID, s.tallyCells())
	if errors.Is(err, ErrNoSample) { // removed between the two reads
		return labrec.SampleTally{Sample: labrec.Sample{Bench: bench, ID: sampleID, Gone: true}}, nil
	}
	if err != nil {
		return t, err
	}
	t.VolumeML, t.Objects, t.Failed = c.Sample.VolumeML, c.Objects, c.Failed
	count := func(x TaxonCount, kind string) labrec.Count {
		return labrec.Count{Label: x.Label, Kind: kind, Name: x.Name, Group: x.Group, GroupName: x.GroupName, Unit: x.Unit,
			Count: x.Count, Validated: x.Validated, PerL: x.PerL, CILow: x.Low, CIHigh: x.High, Cells: x.Cells}
	}
	for _, x := range c.Taxa {
		t.Counts = append(t.Counts, count(x, "taxon"))
	}
	for _, x := range c.Groups {
		t.Counts = append(t.Counts, count(x, "group"))
	}
	u := c.Unidentified
	t.Counts = append(t.Counts, labrec.Count{Label: screening.Unidentified, Kind: "unidentified", Name: "Unidentified", Unit: "cell",
		Count: u.Count, PerL: u.PerL, CILow: u.Low, CIHigh: u.High, Cells: float64(u.Count)})
	t.Standing = s.tallyStanding(c)
	return t, nil
}

// SyncRun reads a run with its sample and tally, its pack's taxa, alerts and perf
// records. A run whose sample is in the trash is read all the same (Deleted is set).
func (s *Store) SyncRun(ctx context.Context, runID int64) (labrec.RunBatch, error) {
	var b labrec.RunBatch
	bench, err := s.BenchID(ctx)
	if err != nil {
		return b, err
	}
	r := &b.Run
	r.Bench, r.ID = bench, runID
	var started string
	var ended sql.NullString
	err = s.db.QueryRowContext(ctx, `SELECT sample_id, spec, pack, model, threshold, volume_ml, volume_examined_ml, rules, started, ended,
		frames_seen, frames_dropped, frames_failed, frames_expected, files_skipped, interrupted, status, error FROM sources WHERE id = ?`, runID).
		Scan(&r.SampleID, &r.Spec, &r.Pack, &r.Model, &r.Threshold, &r.VolumeML, &r.VolumeExaminedML, &r.Rules, &started, &ended,
			&r.FramesSeen, &r.FramesDropped, &r.FramesFailed, &r.FramesExpected, &r.FilesSkipped, &r.Interrupted, &r.Status, &r.Error)
	if errors.Is(err, sql.ErrNoRows) {
		return b, fmt.Errorf("session store %s: run %d: %w (it was discarded or its sample's trash emptied): read the outbox again", s.path, runID, ErrNoRun)
	}
	if err != nil {
		return b, fmt.Errorf("session store %s: read run %d for the lab server: %w", s.path, runID, err)
	}
	r.Started = parseTime(started)
	if ended.Valid {
		e := parseTime(ended.String)
		r.Ended = &e
	}
	if b.Tally, err = s.SyncSample(ctx, r.SampleID); err != nil {
		return b, err
	}
	if b.Taxa, err = s.syncTaxa(ctx, r.Pack); err != nil {
		return b, err
	}
	if b.Alerts, err = s.syncAlerts(ctx, runID); err != nil {
		return b, err
	}
	b.Perf, err = s.syncPerf(ctx, runID)
	return b, err
}

func (s *Store) syncTaxa(ctx context.Context, pack string) ([]labrec.Taxon, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT label, idx, name, grp, grp_name, unit FROM taxa WHERE pack = ? ORDER BY idx, label", pack)
	if err != nil {
		return nil, fmt.Errorf("session store %s: read taxonomy of %s: %w", s.path, pack, err)
	}
	defer rows.Close()
	var out []labrec.Taxon
	for rows.Next() {
		x := labrec.Taxon{Pack: pack}
		if err := rows.Scan(&x.Label, &x.Idx, &x.Name, &x.Group, &x.GroupName, &x.Unit); err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

func (s *Store) syncAlerts(ctx context.Context, runID int64) ([]labrec.Alert, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, time, rule, taxon, from_level, to_level, count, cells_per_l, ci_low, ci_high,
		threshold, threshold_per_l, threshold_source, verified, note FROM alerts WHERE source_id = ? ORDER BY id`, runID)
	if err != nil {
		return nil, fmt.Errorf("session store %s: read alerts of run %d: %w", s.path, runID, err)
	}
	defer rows.Close()
	var out []labrec.Alert
	for rows.Next() {
		a := labrec.Alert{RunID: runID}
		var t string
		if err := rows.Scan(&a.ID, &t, &a.Rule, &a.Taxon, &a.FromLevel, &a.ToLevel, &a.Count, &a.CellsPerL, &a.CILow, &a.CIHigh,
			&a.Threshold, &a.ThresholdPerL, &a.ThresholdSource, &a.Verified, &a.Note); err != nil {
			return nil, err
		}
		a.Time = parseTime(t)
		out = append(out, a)
	}
	return out, rows.Err()
}

func (s *Store) syncPerf(ctx context.Context, runID int64) ([]labrec.Perf, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, time, variant, cells, duration_ms, failed, watts, joules, energy_source, estimated
		FROM perf WHERE source_id = ? ORDER BY id`, runID)
	if err != nil {
		return nil, fmt.Errorf("session store %s: read performance records of run %d: %w", s.path, runID, err)
	}
	defer rows.Close()
	var out []labrec.Perf
	for rows.Next() {
		p := labrec.Perf{RunID: runID}
		var t string
		if err := rows.Scan(&p.ID, &t, &p.Variant, &p.Cells, &p.DurationMS, &p.Failed, &p.Watts, &p.Joules, &p.EnergySource, &p.Estimated); err != nil {
			return nil, err
		}
		p.Time = parseTime(t)
		out = append(out, p)
	}
	return out, rows.Err()
}

// syncBatch is how many objects SyncObjects reads at a time: each batch is its own short
// read, so a slow push never holds a read open on the store while a run records.
const syncBatch = 128

// SyncObjects calls fn for each object of a run, in ID order, with its crop, every
// measurement (nil where not recorded) and its validation.
func (s *Store) SyncObjects(ctx context.Context, runID int64, fn func(labrec.Object) error) error {
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM sources WHERE id = ?", runID).Scan(&n); err != nil {
		return fmt.Errorf("session store %s: read run %d for the lab server: %w", s.path, runID, err)
	}
	if n == 0 {
		return fmt.Errorf("session store %s: run %d: %w (it was discarded or its sample's trash emptied): read the outbox again", s.path, runID, ErrNoRun)
	}
	after := int64(0)
	for {
		batch, err := s.objectBatch(ctx, runID, after)
		if err != nil {
			return err
		}
		for _, o := range batch {
			if err := fn(o); err != nil {
				return err
			}
		}
		if len(batch) < syncBatch {
			return nil
		}
		after = batch[len(batch)-1].ID
	}
}

func (s *Store) objectBatch(ctx context.Context, runID, after int64) ([]labrec.Object, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, seq, time, frame, track, x, y, w, h, area, perimeter, esd, major, minor, aspect, solidity,
		mean_gray, focus, on_border, um_per_px, contrast, centroid_x, centroid_y, area_um2, esd_um, major_um, minor_um, perimeter_um,
		kind, length, width, parts, cells_estimate, oversize, file, crop, label, prob, top, variant, error,
		validated_label, validated_by, validated_at FROM objects WHERE source_id = ? AND id > ? ORDER BY id LIMIT ?`, runID, after, syncBatch)
	if err != nil {
		return nil, fmt.Errorf("session store %s: read objects of run %d for the lab server: %w", s.path, runID, err)
	}
	defer rows.Close()
	var out []labrec.Object
	for rows.Next() {
		o := labrec.Object{RunID: runID}
		var t string
		var border sql.NullBool
		var vl, vb, va sql.NullString
		if err := rows.Scan(&o.ID, &o.Seq, &t, &o.Frame, &o.Track, &o.X, &o.Y, &o.W, &o.H, &o.Area, &o.Perimeter, &o.ESD, &o.Major, &o.Minor, &o.Aspect, &o.Solidity,
			&o.MeanGray, &o.Focus, &border, &o.UmPerPx, &o.Contrast, &o.CentroidX, &o.CentroidY, &o.AreaUm2, &o.ESDUm, &o.MajorUm, &o.MinorUm, &o.PerimeterUm,
			&o.Kind, &o.Length, &o.Width, &o.Parts, &o.CellsEstimate, &o.Oversize, &o.File, &o.Crop, &o.Label, &o.Prob, &o.Top, &o.Variant, &o.Error,
			&vl, &vb, &va); err != nil {
			return nil, fmt.Errorf("session store %s: read objects of run %d for the lab server: %w", s.path, runID, err)
		}
		o.Time, o.OnBorder = parseTime(t), border.Bool
		if vl.Valid && vl.String != "" {
			o.Validation = &labrec.Validation{Label: vl.String, By: vb.String, At: parseTime(va.String)}
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// SyncLabel reads an object's validation with its sample. A validation cleared (an Undo
// back to the model's label) has an empty Label and By, and At the time it was cleared,
// so that the clearing wins over the label it undid wherever that label went.
func (s *Store) SyncLabel(ctx context.Context, objectID int64) (labrec.Label, error) {
	l := labrec.Label{ObjectID: objectID}
	var err error
	if l.Bench, err = s.BenchID(ctx); err != nil {
		return l, err
	}
	var vl, vb, va sql.NullString
	err = s.db.QueryRowContext(ctx, `SELECT s.sample_id, o.validated_label, o.validated_by, o.validated_at
		FROM objects o JOIN sources s ON s.id = o.source_id WHERE o.id = ?`, objectID).Scan(&l.SampleID, &vl, &vb, &va)
	if errors.Is(err, sql.ErrNoRows) {
		return l, fmt.Errorf("session store %s: object %d: %w (its sample's trash was emptied): read the outbox again", s.path, objectID, ErrNoObject)
	}
	if err != nil {
		return l, fmt.Errorf("session store %s: read the label of object %d for the lab server: %w", s.path, objectID, err)
	}
	if vl.Valid && vl.String != "" {
		l.Label, l.By = vl.String, vb.String
	}
	if va.Valid {
		l.At = parseTime(va.String)
	}
	return l, nil
}

// RequeueAll queues every sample and run of the store for pushing again, beside what
// already waits, and returns how many entries it added. A new lab server, or one
// restored from an older backup, lacks what was pushed before; the outbox only holds
// what changed since (helper-63: a bench pointed at a new server pushed nothing). The
// server takes a run it holds as the same run again.
func (s *Store) RequeueAll(ctx context.Context) (int, error) {
	if err := s.writable("a full push to the lab server"); err != nil {
		return 0, err
	}
	now := timeText(time.Now())
	res, err := s.db.ExecContext(ctx, `INSERT OR IGNORE INTO outbox(kind, ref, queued)
		SELECT ?, id, ? FROM samples
		UNION ALL SELECT ?, CAST(id AS TEXT), ? FROM sources`, labrec.KindSample, now, labrec.KindRun, now)
	if err != nil {
		return 0, fmt.Errorf("session store %s: queue everything for the lab server: %w", s.path, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("session store %s: queue everything for the lab server: %w", s.path, err)
	}
	return int(n), nil
}

// ApplyLabels takes validations made elsewhere (pulled from the lab server). Each label
// of one of this bench's objects replaces the local validation only when it is later
// than it (or there is none here): last writer wins, and the reviewer and time are kept
// as given. Labels of other benches' objects are ignored, and so are those of objects
// this store no longer holds. The change is not queued back to the server (no echo), but
// the samples whose tallies it changed are; it returns those, sorted, and how many labels
// it applied (helper-63: three labels were said as "1", the one sample they changed).
func (s *Store) ApplyLabels(ctx context.Context, labels []labrec.Label) ([]string, int, error) {
	if err := s.writable("labels from the lab server"); err != nil {
		return nil, 0, err
	}
	bench, err := s.BenchID(ctx)
	if err != nil {
		return nil, 0, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("session store %s: %w", s.path, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	changed := map[string]bool{}
	applied := 0
	for _, l := range labels {
		if l.Bench != bench {
			continue
		}
		var pack, sampleID string
		var at sql.NullString
		err := tx.QueryRowContext(ctx, "SELECT s.pack, s.sample_id, o.validated_at FROM objects o JOIN sources s ON s.id = o.source_id WHERE o.id = ?", l.ObjectID).
			Scan(&pack, &sampleID, &at)
		if errors.Is(err, sql.ErrNoRows) {
			slog.Debug("label from the lab server for an object this bench no longer holds: ignored", "db", s.path, "object", l.ObjectID, "sample", l.SampleID)
			continue
		}
		if err != nil {
			return nil, 0, fmt.Errorf("session store %s: read object %d: %w", s.path, l.ObjectID, err)
		}
		if l.SampleID != "" && l.SampleID != sampleID {
			// Not the object the label was given to: an older store of this bench gave
			// its ID to an object of another sample before IDs were kept from reuse.
			slog.Warn("label from the lab server for another sample's object: ignored", "db", s.path, "object", l.ObjectID, "label_sample", l.SampleID, "object_sample", sampleID)
			continue
		}
		if at.Valid && !l.At.After(parseTime(at.String)) {
			continue // the local one is as late or later: it stays (and is pushed)
		}
		var label, by any // NULL: cleared elsewhere
		if l.Label != "" {
			if err := CheckLabel(l.Label); err != nil {
				slog.Warn("label from the lab server refused", "db", s.path, "object", l.ObjectID, "by", l.By, "err", err)
				continue
			}
			// Spaces around a label are a typing slip, as for a local Relabel: kept, they
			// made a second "Microcystis" beside the first (helper-40).
			l.Label = strings.TrimSpace(l.Label)
			label, by = l.Label, l.By
			// A label the pack lacks is the lab's own taxon, as for a local Relabel.
			if _, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO taxa(pack, label, idx, name, grp, grp_name, unit) VALUES (?,?,?,?,?,?,?)",
				pack, l.Label, -1, l.Label, "", "", "cell"); err != nil {
				return nil, 0, fmt.Errorf("session store %s: record new taxon %q: %w", s.path, l.Label, err)
			}
		} else if !at.Valid {
			continue // cleared there, never set here
		}
		if _, err := tx.ExecContext(ctx, "UPDATE objects SET validated_label = ?, validated_by = ?, validated_at = ? WHERE id = ?",
			label, by, timeText(l.At), l.ObjectID); err != nil {
			return nil, 0, fmt.Errorf("session store %s: apply the lab server's label of object %d: %w", s.path, l.ObjectID, err)
		}
		// The trigger queued the label (and the sample); the server already has the label.
		if _, err := tx.ExecContext(ctx, "DELETE FROM outbox WHERE kind = ? AND ref = ?", labrec.KindLabel, strconv.FormatInt(l.ObjectID, 10)); err != nil {
			return nil, 0, fmt.Errorf("session store %s: apply the lab server's label of object %d: %w", s.path, l.ObjectID, err)
		}
		changed[sampleID] = true
		applied++
	}
	if err := tx.Commit(); err != nil {
		return nil, 0, fmt.Errorf("session store %s: apply labels from the lab server: %w", s.path, err)
	}
	out := make([]string, 0, len(changed))
	for id := range changed {
		out = append(out, id)
	}
	slices.Sort(out)
	return out, applied, nil
}
