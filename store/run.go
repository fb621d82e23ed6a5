package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/power"
	"github.com/phytoscreen/phytoscreen/screening"
)

// FlushInterval is the longest time a run's writes wait before their transaction is
// committed. The queue in front of the writer is short, so when the disk is slower than
// the pipeline the pipeline waits instead of the work piling up: a killed process loses
// about FlushInterval plus one commit of work, well under a second.
const FlushInterval = 250 * time.Millisecond

// Commits also happen early when many objects wait, so that one commit takes no longer
// than FlushInterval on this machine: the limit follows the measured commit rate, between
// minBatch and maxPending objects.
const (
	minBatch   = 8
	maxPending = 256
)

// queueLen is how many writes may wait for the writer goroutine.
const queueLen = 4

// Run records one run. It implements screening.Sink: its methods queue the writes for
// its writer goroutine and return the writer's first error, if any. Call Finish once
// at the end.
type Run struct {
	ID       int64
	spec     string // the run's source as stored
	files    bool   // the source is files (images, a video): each object has its file
	store    *Store
	sampleID string
	ch       chan op
	done     chan struct{}
	interval time.Duration

	mu  sync.Mutex
	err error // first write error; sticky

	closeMu  sync.RWMutex
	finished bool // Finish was called: the queue is closed
}

type op struct {
	objects []screening.ObjectRecord
	frames  []screening.FrameRecord
	event   *alerts.Event
	source  *screening.SourceEvent
	perf    *perfRow
	flush   chan error
}

type perfRow struct {
	time          time.Time
	variant       string
	cells         int
	duration      time.Duration
	failed        bool
	watts, joules float64 // NaN when not measured
	source        string  // energy source of watts and joules
	estimated     bool    // watts and joules are an estimate, not a reading
}

// StartRun records the sample (or checks it against the one already stored under its
// ID), the pack's taxonomy, and a new run, and starts the run's writer.
func (s *Store) StartRun(ctx context.Context, info screening.RunInfo) (*Run, error) {
	return s.startRun(ctx, info, FlushInterval)
}

func (s *Store) startRun(ctx context.Context, info screening.RunInfo, interval time.Duration) (*Run, error) {
	if err := s.writable("a run"); err != nil {
		return nil, err
	}
	sm := info.Sample
	if err := sm.Validate(); err != nil {
		return nil, err
	}
	if info.Taxonomy == nil {
		return nil, errors.New("store: a run needs the pack's taxonomy")
	}
	// The files' fingerprints, read before the transaction: a copy of frames the sample
	// already holds is refused like the same path.
	digests := info.Digests
	if digests == nil {
		var err error
		if digests, err = capture.FrameDigests(ctx, info.Spec); err != nil {
			return nil, err
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("session store %s: %w", s.path, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var cont *Continuation
	if info.Continues != 0 {
		if cont, err = s.takeUp(ctx, tx, &info); err != nil {
			return nil, err
		}
		sm = info.Sample
	}
	if sm.ID, err = s.sampleForRun(ctx, tx, info, digests, cont); err != nil {
		return nil, err
	}
	stmt, err := tx.PrepareContext(ctx, "INSERT OR REPLACE INTO taxa(pack, label, idx, name, grp, grp_name, unit) VALUES (?,?,?,?,?,?,?)")
	if err != nil {
		return nil, fmt.Errorf("session store %s: %w", s.path, err)
	}
	defer stmt.Close()
	tax := info.Taxonomy
	for _, x := range tax.Taxa {
		g, _ := tax.Group(x.Group)
		if _, err := stmt.ExecContext(ctx, tax.Pack, x.Label, x.Index, x.Name, x.Group, g.Name, x.Unit); err != nil {
			return nil, fmt.Errorf("session store %s: record taxonomy: %w", s.path, err)
		}
	}
	var continues any // NULL
	if cont != nil {
		continues = cont.Run
	}
	res, err := tx.ExecContext(ctx, "INSERT INTO sources(id, sample_id, spec, pack, model, threshold, volume_ml, rules, started, finder, frames_expected, owner, continues) VALUES ("+newIDSQL("sources")+",?,?,?,?,?,?,?,?,?,?,?,?)",
		sm.ID, info.Spec.String(), tax.Pack, string(info.Model), info.Threshold, sm.VolumeML, info.Rules, timeText(time.Now()), info.Finder, max(0, info.Expected), thisProcess(), continues)
	if err != nil {
		return nil, fmt.Errorf("session store %s: record run: %w", s.path, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return nil, err
	}
	if err := recordDigests(ctx, tx, id, digests); err != nil {
		return nil, fmt.Errorf("session store %s: %w", s.path, err)
	}
	// Active before the commit makes the run's outbox entry visible, so a sync between
	// the two cannot push the run as it starts.
	s.setActive(id, true)
	if err := tx.Commit(); err != nil {
		s.setActive(id, false)
		return nil, fmt.Errorf("session store %s: %w", s.path, err)
	}
	r := &Run{ID: id, store: s, sampleID: sm.ID, spec: info.Spec.String(), files: info.Spec.Kind != capture.KindCamera, ch: make(chan op, queueLen), done: make(chan struct{}), interval: interval}
	go r.loop()
	return r, nil
}

// ErrOtherWater refuses a run whose site, factor, time taken, depth or position differ
// from its sample's: a new run adds to the sample's counts and volume, so it must be of
// the same water.
var ErrOtherWater = errors.New("a new run adds to the sample's counts and volume, so it must be the same water")

// ErrOtherSettings refuses a run whose pack, model or threshold differ from its
// sample's earlier runs: the counts would add up to a concentration no one setting made.
var ErrOtherSettings = errors.New("the sample was screened with other settings")

// ErrInTrash refuses a run into a sample in the trash.
var ErrInTrash = errors.New("a sample in the trash takes no run")

// ErrOtherRules refuses a run whose alert rules are not those of the sample's runs.
var ErrOtherRules = errors.New("a sample is checked against one set of alert rules")

// sampleForRun makes or checks the sample a run goes into, and returns its ID: the one
// asked for, or with KeepApart its companion for the run's settings when they differ
// from the sample's first run (made like the sample, on first use).
func (s *Store) sampleForRun(ctx context.Context, tx *sql.Tx, info screening.RunInfo, digests []capture.FileDigest, cont *Continuation) (string, error) {
	sm := info.Sample
	var site, taken string
	var factor float64
	var deleted sql.NullString
	var lat, lon, depth sql.NullFloat64
	err := tx.QueryRowContext(ctx, "SELECT site, factor, deleted_at, taken, lat, lon, depth_m FROM samples WHERE id = ?", sm.ID).
		Scan(&site, &factor, &deleted, &taken, &lat, &lon, &depth)
	switch {
	case err == nil && deleted.Valid:
		return "", fmt.Errorf("sample %s in %s is in the trash (deleted %s): %w: restore it in History › Trash to add to it, or use another sample ID",
			sm.ID, s.path, parseTime(deleted.String).Local().Format("2006-01-02 15:04"), ErrInTrash)
	case errors.Is(err, sql.ErrNoRows):
		_, err = tx.ExecContext(ctx, "INSERT INTO samples(id, site, taken, notes, factor, lat, lon, created, depth_m, analyst) VALUES (?,?,?,?,?,?,?,?,?,?)",
			sm.ID, sm.Site, timeText(sm.Taken), sm.Notes, sm.Factor, nullFloat(sm.Lat), nullFloat(sm.Lon), timeText(time.Now()), nullFloat(sm.DepthM), sm.Analyst)
		if err != nil {
			return "", fmt.Errorf("session store %s: record sample %s: %w", s.path, sm.ID, err)
		}
		return sm.ID, nil
	case err != nil:
		return "", fmt.Errorf("session store %s: read sample %s: %w", s.path, sm.ID, err)
	case site != sm.Site || math.Abs(factor-sm.Factor) > 1e-12*math.Max(1, factor):
		return "", fmt.Errorf("sample %s is already in %s with site %q and factor %v, and this run says site %q, factor %v: %w; use another --sample ID or the stored site and factor",
			sm.ID, s.path, site, factor, sm.Site, sm.Factor, ErrOtherWater)
	}
	if diff := otherWater(sm, parseTime(taken), lat, lon, depth); diff != "" {
		return "", fmt.Errorf("sample %s is already in %s, %s: %w; use another sample ID for other water, or give the stored sample's values (leave the time taken out to add to it)",
			sm.ID, s.path, diff, ErrOtherWater)
	}
	var first settings
	var firstRules string
	err = tx.QueryRowContext(ctx, "SELECT pack, model, threshold, finder, rules FROM sources WHERE sample_id = ? ORDER BY id LIMIT 1", sm.ID).
		Scan(&first.pack, &first.model, &first.threshold, &first.finder, &firstRules)
	if errors.Is(err, sql.ErrNoRows) {
		return sm.ID, nil
	}
	if err != nil {
		return "", fmt.Errorf("session store %s: read the runs of sample %s: %w", s.path, sm.ID, err)
	}
	this := settings{info.Taxonomy.Pack, string(info.Model), info.Threshold, info.Finder}
	diff := first.differences(this)
	if len(diff) == 0 {
		// A sample is judged against one set of alert rules: a run under others would
		// have its report judge every run by the last one's (helper-39: a WATCH under
		// the WHO preset became "not checked" under default). The counts would add up,
		// so there is no companion: the fix is the sample's rules.
		if firstRules != "" && info.Rules != "" && firstRules != info.Rules {
			return "", fmt.Errorf("sample %s in %s was screened with the alert rules %s; this run uses %s: %w; screen it with %s (--rules, or Settings › Alerts), or use another sample ID",
				sm.ID, s.path, firstRules, info.Rules, ErrOtherRules, firstRules)
		}
		var chain []int64
		if cont != nil {
			chain = cont.chain
		}
		return sm.ID, s.sameFramesAgain(ctx, tx, sm.ID, info.Spec, digests, chain)
	}
	companion := sm.ID + "~" + strings.Join(diff, "~")
	if cont != nil {
		// Taking up a run, its settings are the run's: another sample ID or
		// --keep-apart, the fixes below, do not go with it (helper-77, helper-78).
		return "", fmt.Errorf("sample %s in %s was screened with %s; taking up its run with %s: %w; take it up with the run's own settings (leave --pack, --model and --threshold out, or give them as the run had them)",
			sm.ID, s.path, first, this, ErrOtherSettings)
	}
	if !info.KeepApart {
		return "", fmt.Errorf("sample %s in %s was screened with %s; this run uses %s: %w, and their counts must not add up; screen with the same settings, use another sample ID, or keep this run apart as sample %s (--keep-apart)",
			sm.ID, s.path, first, this, ErrOtherSettings, companion)
	}
	// The companion holds the same water: taken when the sample was.
	info.Sample.ID, info.Sample.Taken, info.KeepApart = companion, parseTime(taken), false
	return s.sampleForRun(ctx, tx, info, digests, nil)
}

// otherWater says how a run's sample differs from the stored one in when and where the
// water was taken ("" when it does not): a run adds to a sample only when it is of the
// same water. Two depths of one profile taken at one time, or the same ID given to
// water taken weeks later, were added up as one sample, the stored depth and time
// standing for both (helper-68). A depth or a position the run or the stored sample
// lacks is not a difference: it may have been left out.
func otherWater(sm screening.Sample, taken time.Time, lat, lon, depth sql.NullFloat64) string {
	var diff []string
	if d := sm.Taken.Sub(taken); d <= -time.Second || d >= time.Second {
		diff = append(diff, fmt.Sprintf("taken %s, and this run says taken %s", taken.Local().Format("2006-01-02 15:04:05"), sm.Taken.Local().Format("2006-01-02 15:04:05")))
	}
	if depth.Valid && sm.HasDepth() && math.Abs(depth.Float64-sm.DepthM) > 1e-9 {
		diff = append(diff, fmt.Sprintf("at %v m depth, and this run says %v m", depth.Float64, sm.DepthM))
	}
	if lat.Valid && lon.Valid && sm.HasPosition() && (math.Abs(lat.Float64-sm.Lat) > 1e-7 || math.Abs(lon.Float64-sm.Lon) > 1e-7) {
		diff = append(diff, fmt.Sprintf("at %.6f, %.6f, and this run says %.6f, %.6f", lat.Float64, lon.Float64, sm.Lat, sm.Lon))
	}
	return strings.Join(diff, "; ")
}

// ErrSameFrames refuses a run of frames the sample already holds a run of: every cell
// would be counted twice, and the interval would narrow on no new water.
var ErrSameFrames = errors.New("screening them again would count every cell twice")

// sameFramesAgain refuses a run whose frames the sample already holds a run of: the
// same folder, video or image, a file of a folder screened before, or a folder holding a
// file or folder screened before (a folder's images are read with its subfolders'), or
// a copy of any of them elsewhere (digests: the files' fingerprints, capture.FrameDigests).
// A camera's frames are new each time, so a camera is never refused. Frames screened
// again with other settings go to a companion sample (--keep-apart), where they are a
// run of their own. Paths are compared as recorded (absolute, links resolved, by screen
// and the app); runs recorded before fingerprints were kept are compared by path alone.
//
// The runs of chain (a continuation's: the run it takes up and those that run took up)
// read the same folder's other files, and are passed over.
func (s *Store) sameFramesAgain(ctx context.Context, tx *sql.Tx, sampleID string, spec capture.Spec, digests []capture.FileDigest, chain []int64) error {
	if spec.Kind == capture.KindCamera || spec.IsZero() {
		return nil
	}
	refuse := func(run int64, what string) error {
		// A folder's run that stopped before its end is taken up where it stopped:
		// screened again after an interruption, the refusal said only "the trash"
		// (helper-68).
		var stopped bool
		var kind string
		if err := tx.QueryRowContext(ctx, "SELECT interrupted OR COALESCE(ended, '') = '', spec FROM sources WHERE id = ?", run).Scan(&stopped, &kind); err == nil && stopped {
			if held, err := capture.ParseSpec(kind); err == nil && held.Kind == capture.KindFolder {
				return fmt.Errorf("sample %s in %s already holds run %d %s: %w. That run stopped before the folder's end: take it up where it stopped (screen --continue %s, or Continue run in History)",
					sampleID, s.path, run, what, ErrSameFrames, sampleID)
			}
		}
		return fmt.Errorf("sample %s in %s already holds run %d %s: %w. Use another sample ID for other water; to screen these frames anew, move sample %s to the trash first (History, or phytoscreen samples delete %s)",
			sampleID, s.path, run, what, ErrSameFrames, sampleID, sampleID)
	}
	rows, err := tx.QueryContext(ctx, "SELECT id, spec FROM sources WHERE sample_id = ? ORDER BY id", sampleID)
	if err != nil {
		return fmt.Errorf("session store %s: read the runs of sample %s: %w", s.path, sampleID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var run int64
		var text string
		if err := rows.Scan(&run, &text); err != nil {
			return fmt.Errorf("session store %s: read the runs of sample %s: %w", s.path, sampleID, err)
		}
		old, err := capture.ParseSpec(text)
		if err != nil || !old.SharesFrames(spec) || slices.Contains(chain, run) {
			continue
		}
		what := "of " + text
		if text != spec.String() {
			what = fmt.Sprintf("of %s, whose frames overlap those of %s", text, spec)
		}
		return refuse(run, what)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("session store %s: read the runs of sample %s: %w", s.path, sampleID, err)
	}
	rows.Close()
	if len(digests) == 0 {
		return nil
	}
	mine := make(map[string]string, len(digests))
	for _, d := range digests {
		mine[d.Digest] = d.Path
	}
	rows, err = tx.QueryContext(ctx, `SELECT f.source_id, s.spec, f.digest, f.path FROM source_files f JOIN sources s ON s.id = f.source_id
		WHERE s.sample_id = ? ORDER BY f.source_id, f.rowid`, sampleID)
	if err != nil {
		return fmt.Errorf("session store %s: read the frames of sample %s: %w", s.path, sampleID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var run int64
		var text, digest, path string
		if err := rows.Scan(&run, &text, &digest, &path); err != nil {
			return fmt.Errorf("session store %s: read the frames of sample %s: %w", s.path, sampleID, err)
		}
		if p, ok := mine[digest]; ok && !slices.Contains(chain, run) {
			return refuse(run, fmt.Sprintf("of %s, and %s holds the same frames: %s is a copy of %s", text, spec, p, path))
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("session store %s: read the frames of sample %s: %w", s.path, sampleID, err)
	}
	return nil
}

// recordDigests keeps the fingerprints of a run's files, for sameFramesAgain.
func recordDigests(ctx context.Context, tx *sql.Tx, run int64, digests []capture.FileDigest) error {
	if len(digests) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, "INSERT INTO source_files(source_id, digest, path) VALUES (?,?,?)")
	if err != nil {
		return fmt.Errorf("record the frames' fingerprints: %w", err)
	}
	defer stmt.Close()
	for _, d := range digests {
		if _, err := stmt.ExecContext(ctx, run, d.Digest, d.Path); err != nil {
			return fmt.Errorf("record the frames' fingerprints: %w", err)
		}
	}
	return nil
}

// settings are what a run's counts depend on beyond the water: the pack, the model, the
// confidence threshold and how objects were found.
type settings struct {
	pack, model string
	threshold   float64
	finder      string // "" for a run recorded before the finder was kept
}

func (s settings) String() string {
	t := fmt.Sprintf("pack %s, model %s, threshold %s", s.pack, s.model, strconv.FormatFloat(s.threshold, 'f', -1, 64))
	if s.finder != "" {
		t += ", objects found by " + s.finder
	}
	return t
}

// differences names what other changes, for a companion sample's ID: "base",
// "cyano-tcb-10", "t0.6".
func (s settings) differences(other settings) []string {
	var d []string
	if other.pack != s.pack {
		d = append(d, other.pack)
	}
	if other.model != s.model {
		d = append(d, other.model)
	}
	if math.Abs(other.threshold-s.threshold) > 1e-9 {
		d = append(d, "t"+strconv.FormatFloat(other.threshold, 'f', -1, 64))
	}
	// A run recorded before the finder was kept ("") is not told apart by it: most such
	// runs used the thresholds, and refusing every later run of their samples would
	// punish the technician for an upgrade.
	if s.finder != "" && other.finder != "" && other.finder != s.finder {
		d = append(d, finderTag(other.finder))
	}
	return d
}

// finderTag is a finder's short name for a companion sample's ID: "thresholds", or
// the detector's name ("brightfield-esp32-320").
func finderTag(finder string) string {
	if _, name, ok := strings.Cut(finder, " + detector "); ok {
		return name
	}
	return strings.ReplaceAll(finder, " ", "-")
}

func nullFloat(v float64) any {
	if math.IsNaN(v) {
		return nil
	}
	return v
}

func (r *Run) firstErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

func (r *Run) fail(err error) {
	r.mu.Lock()
	if r.err == nil {
		r.err = err
	}
	r.mu.Unlock()
}

func (r *Run) send(o op) error {
	if err := r.firstErr(); err != nil {
		return err
	}
	r.closeMu.RLock() // Finish cannot close the queue while a write is being queued
	defer r.closeMu.RUnlock()
	if r.finished {
		return fmt.Errorf("session store %s: run %d is finished: nothing more can be recorded", r.store.path, r.ID)
	}
	r.ch <- o
	return nil
}

// Objects queues classified objects. The records must not change afterwards.
func (r *Run) Objects(recs []screening.ObjectRecord) error {
	return r.send(op{objects: recs})
}

// Event queues an alert level change.
func (r *Run) Event(e alerts.Event) error { return r.send(op{event: &e}) }

// SourceEvent queues an event of the source: a camera lost, or reconnected.
func (r *Run) SourceEvent(e screening.SourceEvent) error { return r.send(op{source: &e}) }

// ObjectsWithFrames queues a batch's objects and the records of the frames they complete
// as one write (screening.FramesSink): both are committed in one transaction, or
// neither.
func (r *Run) ObjectsWithFrames(recs []screening.ObjectRecord, frames []screening.FrameRecord) error {
	return r.send(op{objects: recs, frames: slices.Clone(frames)})
}

// Frames queues what the segmenter found out about frames (their focus).
func (r *Run) Frames(recs []screening.FrameRecord) error {
	return r.send(op{frames: slices.Clone(recs)})
}

// Perf queues a classification batch's cost.
func (r *Run) Perf(p screening.PerfSample) error {
	return r.send(op{perf: &perfRow{time: p.Time, variant: string(p.Variant), cells: p.Cells, duration: p.Duration, failed: p.Failed, watts: math.NaN(), joules: math.NaN()}})
}

// Power records the energy the machine used in a span of the run and the cells
// classified in it with variant v, with the span's energy source.
func (r *Run) Power(v inference.Variant, sp power.Span) error {
	return r.send(op{perf: &perfRow{time: sp.Start, variant: string(v), cells: int(sp.Cells), duration: sp.Duration, watts: sp.Watts, joules: sp.Joules,
		source: sp.Source, estimated: sp.Estimated}})
}

// RunID is the run's number in the store.
func (r *Run) RunID() int64 { return r.ID }

// fileOf is the file an object was cut from: the image file of a folder, or the video
// (its frame is the object's frame); "" for a camera, whose frames are gone.
func (r *Run) fileOf(source string) string {
	if !r.files {
		return ""
	}
	return source
}

// SampleID is the sample the run went into (a companion with RunInfo.KeepApart).
func (r *Run) SampleID() string { return r.sampleID }

// Flush commits everything queued so far and returns the first write error.
func (r *Run) Flush() error {
	ch := make(chan error, 1)
	if err := r.send(op{flush: ch}); err != nil {
		return err
	}
	return <-ch
}

// Finish commits what is queued, stops the writer and records the run's end from its
// final snapshot (frames, the threshold and model in use at the end, and why it ended).
func (r *Run) Finish(ctx context.Context, s screening.Snapshot, runErr error) error {
	ferr := r.Flush()
	r.closeMu.Lock()
	if r.finished {
		r.closeMu.Unlock()
		return fmt.Errorf("session store %s: run %d is already finished", r.store.path, r.ID)
	}
	r.finished = true
	close(r.ch)
	r.closeMu.Unlock()
	<-r.done
	status, msg := "done", ""
	if runErr != nil {
		status, msg = "failed", runErr.Error()
	} else if ctx.Err() != nil {
		status = "stopped"
	}
	if status == "done" && s.Examined.Interrupted {
		status = "stopped"
	}
	ex := s.Examined
	// The share of the run's own volume given: the one it started with, or its share of
	// the folder when it takes up another run (takeUp).
	var examinedShare any // NULL: the whole volume given (runs that never said otherwise)
	if ex.Fraction > 0 && ex.Fraction < 1 && ex.DeclaredML > 0 {
		examinedShare = ex.Fraction
	}
	if ferr != nil {
		ferr = fmt.Errorf("%w: %w", ErrWriteFailed, ferr)
	}
	if werr := r.firstErr(); werr != nil && ex.Frames > 0 {
		// A write failed (a full disk): the frames after it were examined on screen and
		// stored nowhere. Recorded whole, the run read 0 cells over the volume of all
		// its frames, a false 0 in the site's trend (helper-86); it stands on the
		// frames whose objects were stored, and one that stored none is removed.
		stored, serr := r.storedFrames(ctx)
		switch {
		case serr != nil: // recorded as it is, the failure said
			ferr = errors.Join(ferr, serr)
		case stored == 0:
			if derr := r.discardFinished(ctx); derr != nil {
				return errors.Join(ferr, derr)
			}
			return errors.Join(ferr, fmt.Errorf("session store %s: nothing of run %d could be stored, so it is not kept (sample %s holds only what other runs stored)", r.store.path, r.ID, r.sampleID))
		case stored < ex.Frames:
			share := ex.Fraction
			if share <= 0 || share > 1 {
				share = 1
			}
			examinedShare = share * float64(stored) / float64(ex.Frames)
			status, msg = "failed", fmt.Sprintf("the objects of %d of its %d frames could not be stored (%v): it stands on the %d stored", ex.Frames-stored, ex.Frames, werr, stored)
			ex.Interrupted = true
		}
	}
	_, err := r.store.db.ExecContext(context.WithoutCancel(ctx),
		`UPDATE sources SET ended = ?, frames_seen = ?, frames_dropped = ?, frames_failed = ?, frames_blank = ?, frames_crowded = ?, status = ?, error = ?, threshold = ?, model = ?,
			frames_expected = ?, files_skipped = ?, interrupted = ?, volume_examined_ml = ? * volume_ml WHERE id = ?`,
		timeText(time.Now()), s.Frames.Seen, s.Frames.Dropped, s.Frames.Failed, s.Frames.Blank, s.Frames.Crowded, status, msg, s.Threshold, string(s.Variant),
		ex.Expected, ex.Skipped-ex.Duplicates, ex.Interrupted, examinedShare, r.ID) // files that could not be read: a repeated frame needs no fixing
	// The update above queued the run again (trigger), now with everything written: from
	// here it can be pushed. On a failed update it is pushed as it is, like a dead
	// process's run.
	r.store.setActive(r.ID, false)
	if err != nil {
		err = fmt.Errorf("session store %s: record the end of run %d: %w", r.store.path, r.ID, err)
	}
	return errors.Join(ferr, err)
}

// ErrWriteFailed is a run's end once one of its writes failed (a full disk): what came
// after it was counted on screen and is not in the store, and the run stands on what
// was stored (Finish).
var ErrWriteFailed = errors.New("not all of the run could be stored")

// storedFrames counts the run's frames whose records (and so their objects: one write)
// were committed.
func (r *Run) storedFrames(ctx context.Context) (int, error) {
	var n int
	err := r.store.db.QueryRowContext(context.WithoutCancel(ctx), "SELECT COUNT(*) FROM frames WHERE source_id = ?", r.ID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("session store %s: count the frames run %d stored: %w", r.store.path, r.ID, err)
	}
	return n, nil
}

// Discard ends the run and removes it with everything it recorded, and its sample when
// no other run holds it: a run that examined nothing stores nothing.
func (r *Run) Discard(ctx context.Context) error {
	_ = r.Flush()
	r.closeMu.Lock()
	if !r.finished {
		r.finished = true
		close(r.ch)
	}
	r.closeMu.Unlock()
	<-r.done
	return r.discardFinished(ctx)
}

// discardFinished removes the run, its writer stopped, as Discard does.
func (r *Run) discardFinished(ctx context.Context) error {
	// The delete triggers take the run's outbox entry with it (and queue its sample as
	// gone when it goes too); should the delete fail, the run is pushed as it is.
	defer r.store.setActive(r.ID, false)
	ctx = context.WithoutCancel(ctx)
	tx, err := r.store.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("session store %s: discard run %d: %w", r.store.path, r.ID, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := discardRun(ctx, tx, r.ID, r.sampleID); err != nil {
		return fmt.Errorf("session store %s: %w", r.store.path, err)
	}
	return tx.Commit()
}

// discardRun removes run id with everything it recorded, and its sample when no other
// run holds it, within tx: the live run stopped before its first frame (Discard) and the
// run cut off before it (EndCutRuns) alike.
func discardRun(ctx context.Context, tx *sql.Tx, id int64, sampleID string) error {
	if err := keepNextIDs(ctx, tx); err != nil {
		return fmt.Errorf("discard run %d: %w", id, err)
	}
	// A run that took up another (takeUp) was given the volume of the files left, taken
	// from that run: it goes back, or the stopped run would read whole on its files'
	// share alone and a later continuation split the share again.
	if _, err := tx.ExecContext(ctx, `UPDATE sources SET volume_ml = volume_ml + (SELECT c.volume_ml FROM sources c WHERE c.id = ?)
		WHERE id = (SELECT c.continues FROM sources c WHERE c.id = ?)`, id, id); err != nil {
		return fmt.Errorf("discard run %d: give back the volume of the run it took up: %w", id, err)
	}
	for _, table := range runTables {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+table+" WHERE source_id = ?", id); err != nil {
			return fmt.Errorf("discard run %d (%s): %w", id, table, err)
		}
	}
	stmts := []string{"DELETE FROM sources WHERE id = ?",
		"DELETE FROM samples WHERE id = ? AND NOT EXISTS (SELECT 1 FROM sources WHERE sample_id = samples.id)"}
	args := []any{id, sampleID}
	for i, q := range stmts {
		if _, err := tx.ExecContext(ctx, q, args[i]); err != nil {
			return fmt.Errorf("discard run %d: %w", id, err)
		}
	}
	return nil
}

// runTables are the tables whose rows belong to a run (source_id).
var runTables = []string{"objects", "alerts", "perf", "source_events", "frames", "source_files"}

// loop is the writer: it gathers queued writes and commits them in one transaction
// FlushInterval after the first of them (or sooner when many objects wait).
func (r *Run) loop() {
	defer close(r.done)
	var pending []op
	objects := 0
	limit := 4 * minBatch    // objects per commit, adapted to the measured commit rate
	var due <-chan time.Time // fires FlushInterval after the first pending write
	var timer *time.Timer
	commit := func() error {
		if timer != nil {
			timer.Stop()
			timer, due = nil, nil
		}
		if len(pending) == 0 {
			return r.firstErr()
		}
		start := time.Now()
		err := r.commit(pending)
		if err != nil {
			err = fmt.Errorf("session store %s: save %d objects of run %d: %w (is the disk full or the file removed? the counts on screen are complete; restart with another --db)", r.store.path, objects, r.ID, err)
		}
		if took := time.Since(start); objects >= minBatch && took > 0 {
			perSec := float64(objects) / took.Seconds()
			limit = min(maxPending, max(minBatch, int(perSec*r.interval.Seconds())))
		}
		if err != nil {
			slog.Error("session store write failed", "db", r.store.path, "run", r.ID, "err", err)
			r.fail(err)
		}
		pending, objects = pending[:0], 0
		return r.firstErr()
	}
	for {
		select {
		case o, ok := <-r.ch:
			if !ok {
				commit()
				return
			}
			if o.flush != nil {
				o.flush <- commit()
				continue
			}
			if r.firstErr() != nil {
				continue // the store failed: drop, the error is reported to the caller
			}
			pending = append(pending, o)
			objects += len(o.objects)
			if timer == nil {
				timer = time.NewTimer(r.interval)
				due = timer.C
			}
			if objects >= limit {
				commit()
			}
		case <-due:
			timer, due = nil, nil
			commit()
		}
	}
}

func (r *Run) commit(ops []op) error {
	ctx := context.Background()
	tx, err := r.store.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	objStmt, err := tx.PrepareContext(ctx, `INSERT INTO objects(id, source_id, seq, time, frame, track, x, y, w, h, area, perimeter, esd, major, minor, aspect,
		solidity, mean_gray, focus, on_border, um_per_px, contrast, centroid_x, centroid_y, area_um2, esd_um, major_um, minor_um, perimeter_um,
		crop, label, prob, top, variant, error, kind, length, width, parts, cells_estimate, oversize, file)
		VALUES (`+newIDSQL("objects")+`,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`)
	if err != nil {
		return err
	}
	defer objStmt.Close()
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	for _, o := range ops {
		for _, rec := range o.objects {
			var crop []byte
			var img image.Image // the colour crop when there is one: what a colour pack saw
			switch {
			case rec.ColourCrop != nil && !rec.ColourCrop.Rect.Empty():
				img = rec.ColourCrop
			case rec.Crop != nil && !rec.Crop.Rect.Empty():
				img = rec.Crop
			}
			if img != nil {
				buf.Reset()
				if err := enc.Encode(&buf, img); err != nil {
					return fmt.Errorf("encode crop of object %d: %w", rec.Seq, err)
				}
				crop = bytes.Clone(buf.Bytes())
			}
			top := ""
			if len(rec.Top) > 0 {
				b, _ := json.Marshal(rec.Top)
				top = string(b)
			}
			b := rec.Box
			_, err := objStmt.ExecContext(ctx, r.ID, rec.Seq, timeText(rec.Time), rec.Frame, rec.Track, b.Min.X, b.Min.Y, b.Dx(), b.Dy(),
				rec.AreaPx, rec.Perimeter, rec.ESD, rec.Major, rec.Minor, rec.Aspect, rec.Solidity, rec.MeanGray, rec.Focus, rec.OnBorder, rec.UmPerPx,
				rec.Contrast, rec.Centroid[0], rec.Centroid[1], rec.AreaUm2, rec.ESDUm, rec.MajorUm, rec.MinorUm, rec.PerimeterUm,
				crop, rec.Label, float64(rec.Prob), top, string(rec.Variant), rec.Err,
				string(rec.Kind), rec.Length, rec.Width, rec.Parts, rec.Cells, rec.Oversize, r.fileOf(rec.Source))
			if err != nil {
				return fmt.Errorf("write object %d: %w", rec.Seq, err)
			}
		}
		for _, f := range o.frames {
			_, err := tx.ExecContext(ctx, `INSERT INTO frames(source_id, frame, time, file, focus, out_of_focus, held, new_field, objects, oversize, crowded)
				VALUES (?,?,?,?,?,?,?,?,?,?,?)`, r.ID, f.Index, timeText(f.Time), f.Source, f.Focus, f.OutOfFocus, f.Held, f.NewField, f.Objects, f.Oversize, f.Crowded)
			if err != nil {
				return fmt.Errorf("write frame %d: %w", f.Index, err)
			}
		}
		if e := o.event; e != nil {
			_, err := tx.ExecContext(ctx, `INSERT INTO alerts(id, source_id, time, rule, taxon, from_level, to_level, count, cells_per_l, ci_low, ci_high,
				threshold, threshold_per_l, threshold_source, verified, note, while_reading) VALUES (`+newIDSQL("alerts")+`,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
				r.ID, timeText(e.Time), e.Rule, e.Taxon, e.From.String(), e.To.String(), e.Value.Count, e.Value.PerL, e.Value.Low, e.Value.High,
				e.Threshold.String(), e.Threshold.CellsPerL(), e.Source, e.Verified, e.Note, e.Value.Provisional)
			if err != nil {
				return fmt.Errorf("write alert: %w", err)
			}
		}
		if e := o.source; e != nil {
			_, err := tx.ExecContext(ctx, "INSERT INTO source_events(source_id, time, kind, frame, attempt, detail) VALUES (?,?,?,?,?,?)",
				r.ID, timeText(e.Time), e.Kind, e.Frame, e.Attempt, e.Detail)
			if err != nil {
				return fmt.Errorf("write source event: %w", err)
			}
		}
		if p := o.perf; p != nil {
			_, err := tx.ExecContext(ctx, "INSERT INTO perf(source_id, time, variant, cells, duration_ms, failed, watts, joules, energy_source, estimated) VALUES (?,?,?,?,?,?,?,?,?,?)",
				r.ID, timeText(p.time), p.variant, p.cells, float64(p.duration)/1e6, p.failed, nullFloat(p.watts), nullFloat(p.joules), p.source, p.estimated)
			if err != nil {
				return fmt.Errorf("write performance sample: %w", err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
