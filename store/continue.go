package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/screening"
)

// Continuation is where a folder's run that stopped before the folder's end (Stop
// pressed, or cut off by a kill, a crash, a power loss) is taken up: a new run of the
// same sample reads the folder's files after the last one the run recorded. Without it
// the technician had to screen the whole folder again as a new sample, or leave the
// sample partial (helper-41).
//
// The volume given for the folder is split between the runs by files: the run keeps the
// share of the files it covered (those up to its last recorded frame's), the
// continuation gets the share of the files left. Each run's concentrations are then on
// its own share, and the sample adds up to the volume given, whole when every file was
// read.
type Continuation struct {
	Run    int64 // the run taken up
	Sample string
	Spec   capture.Spec
	// Last is the file of the run's last recorded frame ("" when it recorded none).
	Last string
	// Skip is the folder's files (in reading order, duplicates left out) that the run
	// and the runs it continued covered; the continuation reads the rest.
	Skip int
	// Files is the files the folder held when the first of the runs read it.
	Files int
	// Frames is the frames the run recorded.
	Frames int
	// VolumeML is the volume given for the files left: the continuation's own.
	VolumeML float64
	// WholeML is the volume given for the whole folder: the first run's, before the
	// runs that took it up split it (what --volume-ml said).
	WholeML float64
	given   float64 // the run's volume given, before the split
	own     int     // the run's own files: the folder's last ones
	chain   []int64 // the run and those it continued: their frames are the continuation's folder's
	// held is the folder's files as the first run fingerprinted them (nil for a run
	// recorded before fingerprints were kept): a file the folder holds now that is not
	// among them was renamed or added since.
	held map[string]bool
	// orphans is the objects of frames the run did not record (cut off between the
	// writes of a frame's cells): the continuation reads those frames again, so they
	// are removed as it starts (takeUp).
	orphans int
}

// ErrNotContinuable says a sample holds no run that can be taken up.
var ErrNotContinuable = errors.New("nothing to continue")

// Continuable finds the run of a sample that can be taken up: its newest run that is of
// a folder, has ended short of the folder's end and was not taken up already. A run
// added to the sample after the stop (another chamber's folder) does not hide the
// stopped one: "continue" said only why the newest run could not be, and the stopped
// folder could no longer be finished (helper-75). While a run of the sample has not
// ended, nothing is taken up. When nothing can be, the error says why the newest
// stopped run cannot (else why the newest run cannot).
func (s *Store) Continuable(ctx context.Context, sampleID string) (Continuation, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, COALESCE(ended, '') = '', interrupted != 0 AND NOT EXISTS (SELECT 1 FROM sources c WHERE c.continues = sources.id)
		FROM sources WHERE sample_id = ? ORDER BY id DESC`, sampleID)
	if err != nil {
		return Continuation{}, fmt.Errorf("session store %s: read the runs of sample %s: %w", s.path, sampleID, err)
	}
	type runState struct {
		id            int64
		open, stopped bool
	}
	var runs []runState
	for rows.Next() {
		var r runState
		if err := rows.Scan(&r.id, &r.open, &r.stopped); err != nil {
			rows.Close()
			return Continuation{}, fmt.Errorf("session store %s: read the runs of sample %s: %w", s.path, sampleID, err)
		}
		runs = append(runs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Continuation{}, fmt.Errorf("session store %s: read the runs of sample %s: %w", s.path, sampleID, err)
	}
	if len(runs) == 0 {
		return Continuation{}, fmt.Errorf("sample %s in %s holds no run: %w", sampleID, s.path, ErrNotContinuable)
	}
	for _, r := range runs {
		if r.open { // being screened, or cut off and not yet ended: it refuses, saying so
			return continuation(ctx, s.db, s.path, r.id)
		}
	}
	var why error
	for _, r := range runs {
		if !r.stopped {
			continue
		}
		c, err := continuation(ctx, s.db, s.path, r.id)
		if err == nil || !errors.Is(err, ErrNotContinuable) {
			return c, err
		}
		if why == nil {
			why = err
		}
	}
	if why != nil {
		return Continuation{}, why
	}
	return continuation(ctx, s.db, s.path, runs[0].id) // read to its end: it says so
}

// querier is what continuation and checkColumns read through: the store or a
// transaction.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// continuation works out where run can be taken up, or why it cannot.
func continuation(ctx context.Context, q querier, path string, run int64) (Continuation, error) {
	c := Continuation{Run: run}
	var spec, ended string
	var given float64
	var expected, interrupted, objects, validated int
	var status string
	// Objects past the last recorded frame are of frames whose record was not written:
	// a frame's cells split between two classification batches, the process killed
	// between their writes. The continuation reads those frames again.
	err := q.QueryRowContext(ctx, `SELECT sample_id, spec, volume_ml, frames_expected, COALESCE(ended, ''), interrupted, status,
		(SELECT COUNT(*) FROM frames WHERE frames.source_id = sources.id),
		COALESCE((SELECT file FROM frames WHERE frames.source_id = sources.id ORDER BY frame DESC LIMIT 1), ''),
		(SELECT COUNT(*) FROM objects o WHERE o.source_id = sources.id AND o.frame > COALESCE((SELECT MAX(frame) FROM frames f WHERE f.source_id = sources.id), -1)),
		(SELECT COUNT(*) FROM objects o WHERE o.source_id = sources.id AND o.frame > COALESCE((SELECT MAX(frame) FROM frames f WHERE f.source_id = sources.id), -1)
			AND COALESCE(o.validated_label, '') != '')
		FROM sources WHERE id = ?`, run).
		Scan(&c.Sample, &spec, &given, &expected, &ended, &interrupted, &status, &c.Frames, &c.Last, &objects, &validated)
	if err != nil {
		return c, fmt.Errorf("session store %s: read run %d: %w", path, run, err)
	}
	refuse := func(why string) (Continuation, error) {
		return c, fmt.Errorf("run %d of sample %s %s: %w", run, c.Sample, why, ErrNotContinuable)
	}
	if c.Spec, err = capture.ParseSpec(spec); err != nil {
		return refuse(fmt.Sprintf("has a source phytoscreen cannot read (%q)", spec))
	}
	switch {
	case c.Spec.Kind != capture.KindFolder && c.Spec.Kind != capture.KindCells:
		// A video's cells in view when it stopped would be counted again from its next
		// frame (a new run starts new tracks); a camera's frames are gone.
		return refuse(fmt.Sprintf("is of %s: only a folder's run is continued (a video's cells in view when it stopped would be counted again); to count it whole, screen it again as a new sample and move this one to the trash", c.Spec.Describe()))
	case ended == "":
		return refuse("is still running")
	case expected <= 0 || interrupted == 0 || c.Frames >= expected:
		return refuse(fmt.Sprintf("read its folder to the end (%s)", status))
	case c.Frames == 0 && objects > 0:
		// A run of cell images recorded before their frames were (December 2026), or
		// one cut off in its first frame: read from the start, its cells would count
		// twice, and they may have been reviewed.
		return refuse(fmt.Sprintf("recorded %d objects but none of their frames (a run of cell images made by an earlier phytoscreen, or one cut off in its first frame), so where it stopped cannot be told: screen the folder as a new sample and move this one to the trash", objects))
	case validated > 0:
		return refuse(fmt.Sprintf("holds %d objects of frames it had not recorded when it was cut off, %d of them reviewed: the continuation would count them again; screen the folder as a new sample and move this one to the trash", objects, validated))
	}
	c.orphans = objects
	var taken int
	if err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM sources WHERE continues = ?", run).Scan(&taken); err != nil {
		return c, fmt.Errorf("session store %s: read run %d: %w", path, run, err)
	}
	if taken > 0 {
		return refuse("was continued already")
	}
	// The first run of the chain read the whole folder: its frames_expected is the
	// folder's files then (a continued run keeps its own, only its volume is narrowed).
	c.chain = []int64{run}
	first := run
	for {
		var prev sql.NullInt64
		if err := q.QueryRowContext(ctx, "SELECT continues FROM sources WHERE id = ?", first).Scan(&prev); err != nil {
			return c, fmt.Errorf("session store %s: read run %d: %w", path, first, err)
		}
		if !prev.Valid {
			break
		}
		first = prev.Int64
		c.chain = append(c.chain, first)
	}
	held, err := fingerprinted(ctx, q, first)
	if err != nil {
		return c, fmt.Errorf("session store %s: read run %d: %w", path, first, err)
	}
	c.held = held
	c.Files = expected
	if first != run {
		if err := q.QueryRowContext(ctx, "SELECT frames_expected FROM sources WHERE id = ?", first).Scan(&c.Files); err != nil {
			return c, fmt.Errorf("session store %s: read run %d: %w", path, first, err)
		}
	}
	// The run's own files are the folder's last `expected` ones: those before were
	// covered by the runs it continued.
	c.own = expected
	c.Skip = c.Files - expected
	c.given, c.VolumeML = given, given // narrowed to the files left once the folder's listing is known (Locate)
	for _, id := range c.chain {       // each run of the chain was given its share of the folder's volume
		var ml float64
		if err := q.QueryRowContext(ctx, "SELECT volume_ml FROM sources WHERE id = ?", id).Scan(&ml); err != nil {
			return c, fmt.Errorf("session store %s: read the volume of run %d: %w", path, id, err)
		}
		c.WholeML += ml
	}
	return c, nil
}

// fingerprinted reads the paths of the files run fingerprinted as it started.
func fingerprinted(ctx context.Context, q querier, run int64) (map[string]bool, error) {
	rows, err := q.QueryContext(ctx, "SELECT path FROM source_files WHERE source_id = ?", run)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var held map[string]bool
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		if held == nil {
			held = map[string]bool{}
		}
		held[p] = true
	}
	return held, rows.Err()
}

// Locate places the continuation in the folder as it is now (files, in reading order,
// duplicates left out, as the source lists them after its prescan): Skip becomes the
// files to pass over (those up to the run's last recorded frame's file) and VolumeML
// the volume given for the rest. The folder must hold what it held when it was first
// read: the same number of files, the last recorded one where it was; otherwise the
// split of the volume would not hold, and the error says so.
func (c *Continuation) Locate(files []string) error {
	if len(files) != c.Files {
		return fmt.Errorf("folder %s held %d frames when sample %s was screened and holds %d now: continue only the folder as it was (or screen it as a new sample)",
			c.Spec.Path, c.Files, c.Sample, len(files))
	}
	// A file renamed keeps the count and can move across the place the run stopped:
	// read again, or passed over unread (helper-44: a frame renamed to the end was
	// counted twice).
	for _, f := range files {
		if c.held != nil && !c.held[f] {
			return fmt.Errorf("folder %s holds %s, which it did not hold when sample %s was screened (a frame renamed or added): continue only the folder as it was (or screen it as a new sample)",
				c.Spec.Path, filepath.Base(f), c.Sample)
		}
	}
	at := c.Skip - 1 // the last file covered before the run: none read yet
	if c.Last != "" {
		at = -1
		for i := c.Skip; i < len(files); i++ {
			if files[i] == c.Last {
				at = i
				break
			}
		}
		if at < 0 {
			return fmt.Errorf("folder %s no longer holds %s, the last frame run %d of sample %s read: continue only the folder as it was (or screen it as a new sample)",
				c.Spec.Path, c.Last, c.Run, c.Sample)
		}
	}
	left := len(files) - (at + 1)
	if left == 0 {
		return fmt.Errorf("run %d of sample %s read folder %s to its last file (the frames it lacks could not be read): %w", c.Run, c.Sample, c.Spec.Path, ErrNotContinuable)
	}
	_, c.VolumeML = c.split(left)
	c.Skip = at + 1
	return nil
}

// split divides the run's volume given between the files it covered and the left files
// a continuation reads.
func (c Continuation) split(left int) (kept, rest float64) {
	rest = c.given * float64(left) / float64(c.own)
	return c.given - rest, rest
}

// takeUp checks, in the new run's transaction, that the run info.Continues names can
// still be taken up by it (the same folder, into the same sample, not taken up by
// another meanwhile), narrows that run's volume given to the files it covered and sets
// the new run's to the files left (info.Expected, the files its source reads).
func (s *Store) takeUp(ctx context.Context, tx *sql.Tx, info *screening.RunInfo) (*Continuation, error) {
	c, err := continuation(ctx, tx, s.path, info.Continues)
	if err != nil {
		return nil, err
	}
	switch {
	case info.Spec != c.Spec:
		return nil, fmt.Errorf("run %d of sample %s read %s, not %s: a run takes up only its own folder", c.Run, c.Sample, c.Spec, info.Spec)
	case info.Sample.ID != c.Sample:
		return nil, fmt.Errorf("run %d is of sample %s, not %s: a run is taken up into its own sample", c.Run, c.Sample, info.Sample.ID)
	case info.Expected <= 0 || info.Expected > c.own:
		return nil, fmt.Errorf("run %d of sample %s had %d files of %s to read; the run taking it up reads %d", c.Run, c.Sample, c.own, c.Spec, info.Expected)
	}
	if c.orphans > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM objects WHERE source_id = ? AND frame > COALESCE((SELECT MAX(frame) FROM frames WHERE source_id = ?), -1)`, c.Run, c.Run); err != nil {
			return nil, fmt.Errorf("session store %s: remove the objects of frames run %d did not record: %w", s.path, c.Run, err)
		}
	}
	kept, rest := c.split(info.Expected)
	if _, err := tx.ExecContext(ctx, "UPDATE sources SET volume_ml = ?, volume_examined_ml = MIN(COALESCE(volume_examined_ml, volume_ml), ?) WHERE id = ?", kept, kept, c.Run); err != nil {
		return nil, fmt.Errorf("session store %s: narrow the volume of run %d to the files it read: %w", s.path, c.Run, err)
	}
	info.Sample.VolumeML, info.KeepApart = rest, false
	return &c, nil
}

// Describe says where the run stopped, for people.
func (c Continuation) Describe() string {
	if c.Last == "" {
		return fmt.Sprintf("it stopped before its first frame; its %d frames of %s are read", c.own, c.Spec.Describe())
	}
	return fmt.Sprintf("it read %d of its %d frames of %s, the last %s; the frames after it are read", c.Frames, c.own, c.Spec.Describe(), filepath.Base(c.Last))
}

// Continue is the continuation as a screening session takes it up (nil for none).
func (c *Continuation) Continue() *screening.Continue {
	if c == nil {
		return nil
	}
	c2 := *c // placed in the folder on its own copy
	return &screening.Continue{Run: c.Run, Locate: func(files []string) (int, float64, error) {
		c := c2
		if err := c.Locate(files); err != nil {
			return 0, 0, err
		}
		return c.Skip, c.VolumeML, nil
	}}
}
