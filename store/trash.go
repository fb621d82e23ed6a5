package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Deleting a sample in History moves it to the trash: it leaves the lists, counts and
// charts at once but keeps every row, so a mistaken delete can be undone until the
// trash is emptied of samples deleted more than TrashKeep ago.

// TrashKeep is how long a deleted sample can be restored.
const TrashKeep = 30 * 24 * time.Hour

// DeleteSample moves sample id to the trash.
func (s *Store) DeleteSample(ctx context.Context, id string) error {
	run, err := s.recordingRun(ctx, id)
	if err != nil {
		return err
	}
	if run != 0 {
		return fmt.Errorf("sample %s in %s: run %d %w; stop the run first (Stop in the app, Ctrl+C for screen), then move the sample to the trash", id, s.path, run, ErrRecording)
	}
	return s.setSampleField(ctx, id, "a delete", "deleted_at = ?", timeText(time.Now()))
}

// ErrRecording refuses to move a sample to the trash while a run records into it: the
// run went on storing into the trashed sample, to be purged with it (helper-68).
var ErrRecording = errors.New("is recording into it")

// recordingRun is the run recording into sample id now (its process alive, as
// EndCutRuns judges it), 0 when none is.
func (s *Store) recordingRun(ctx context.Context, id string) (int64, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT id, owner FROM sources WHERE sample_id = ? AND COALESCE(ended, '') = '' AND owner != ''", id)
	if err != nil {
		return 0, fmt.Errorf("session store %s: read the runs of sample %s: %w", s.path, id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var run int64
		var owner string
		if err := rows.Scan(&run, &owner); err != nil {
			return 0, err
		}
		if ownerRecording(owner) {
			return run, nil
		}
	}
	return 0, rows.Err()
}

// RestoreSample takes sample id out of the trash.
func (s *Store) RestoreSample(ctx context.Context, id string) error {
	return s.setSampleField(ctx, id, "a restore", "deleted_at = NULL")
}

// MarkSample marks or unmarks a sample (a technician's flag: to recount, to send, ...).
func (s *Store) MarkSample(ctx context.Context, id string, marked bool) error {
	return s.setSampleField(ctx, id, "a mark", "marked = ?", marked)
}

func (s *Store) setSampleField(ctx context.Context, id, what, set string, args ...any) error {
	if err := s.writable(what); err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, "UPDATE samples SET "+set+" WHERE id = ?", append(args, id)...)
	if err != nil {
		return fmt.Errorf("session store %s: %s of sample %s: %w", s.path, what, id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("sample %q is not in %s: %w", id, s.path, ErrNoSample)
	}
	return nil
}

// Trashed is a sample in the trash.
type Trashed struct {
	ID, Site string
	Deleted  time.Time
}

// TrashedSamples lists the samples in the trash, most recently deleted first.
func (s *Store) TrashedSamples(ctx context.Context) ([]Trashed, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT id, site, deleted_at FROM samples WHERE deleted_at IS NOT NULL ORDER BY deleted_at DESC")
	if err != nil {
		return nil, fmt.Errorf("session store %s: list the trash: %w", s.path, err)
	}
	defer rows.Close()
	var out []Trashed
	for rows.Next() {
		var t Trashed
		var at string
		if err := rows.Scan(&t.ID, &t.Site, &at); err != nil {
			return nil, err
		}
		t.Deleted = parseTime(at)
		out = append(out, t)
	}
	return out, rows.Err()
}

// EmptyTrash removes for good the samples deleted before now - TrashKeep, with their
// runs and objects; it returns how many went.
func (s *Store) EmptyTrash(ctx context.Context, now time.Time) (int, error) {
	if err := s.writable("emptying the trash"); err != nil {
		return 0, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("session store %s: %w", s.path, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := keepNextIDs(ctx, tx); err != nil {
		return 0, fmt.Errorf("session store %s: empty the trash: %w", s.path, err)
	}
	cut := timeText(now.Add(-TrashKeep))
	const old = "SELECT id FROM samples WHERE deleted_at IS NOT NULL AND deleted_at < ?"
	for _, table := range runTables {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+table+" WHERE source_id IN (SELECT id FROM sources WHERE sample_id IN ("+old+"))", cut); err != nil {
			return 0, fmt.Errorf("session store %s: empty the trash (%s): %w", s.path, table, err)
		}
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM sources WHERE sample_id IN ("+old+")", cut); err != nil {
		return 0, fmt.Errorf("session store %s: empty the trash: %w", s.path, err)
	}
	res, err := tx.ExecContext(ctx, "DELETE FROM samples WHERE deleted_at IS NOT NULL AND deleted_at < ?", cut)
	if err != nil {
		return 0, fmt.Errorf("session store %s: empty the trash: %w", s.path, err)
	}
	n, _ := res.RowsAffected()
	return int(n), tx.Commit()
}

// IsMarked reports whether sample id is marked.
func (s *Store) IsMarked(ctx context.Context, id string) (bool, error) {
	var m bool
	err := s.db.QueryRowContext(ctx, "SELECT marked FROM samples WHERE id = ?", id).Scan(&m)
	if errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("sample %q is not in %s: %w", id, s.path, ErrNoSample)
	}
	return m, err
}
