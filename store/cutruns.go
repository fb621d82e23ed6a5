package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// CutRun is a run whose process ended without recording its end (killed, crashed, the
// power lost): what it recorded is kept, marked interrupted.
type CutRun struct {
	Sample  string
	Run     int64
	Started time.Time
	// LastWork is when it last classified cells (zero when it classified none): the
	// frames' and objects' own times are the files' modification times for a folder,
	// so they do not say when the run stopped.
	LastWork time.Time
	// Rules is the alert rules it was screened with, as the store keeps them.
	Rules string
	// Frames and Objects are what it recorded; VolumeML of VolumeGiven mL is what those
	// frames examined (the whole volume given for a source of unknown length).
	Frames, Objects       int
	VolumeML, VolumeGiven float64
	// Removed: it had recorded no frame and no object, and was removed as a run stopped
	// before its first frame is (frames are recorded with their cells, so a run of clean
	// water may have read a few hundred frames by then); its sample too, unless another
	// run holds it.
	Removed bool
	// SampleKept: the sample of a removed run keeps other runs (a continuation removed:
	// the run it took up can be taken up again).
	SampleKept bool
}

// end is when the run is recorded to have ended: its last work, or its start.
func (c CutRun) end() time.Time {
	if c.LastWork.After(c.Started) {
		return c.LastWork
	}
	return c.Started
}

// thisProcess names the process recording a run: the host, its process ID and the
// machine's boot (a process ID names one process only within one boot: after a power
// loss the next phytoscreen may be given the dead one's).
func thisProcess() string {
	host, _ := os.Hostname()
	owner := host + " " + strconv.Itoa(os.Getpid())
	if boot := bootID(); boot != "" {
		owner += " " + boot
	}
	return owner
}

// bootID is the kernel's ID of this boot ("" where the system has none to read).
func bootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// ownerRecording reports whether a run whose end is not recorded is still recording:
// its owner's process runs (a run of a store before owners were kept ended long ago).
func ownerRecording(owner string) bool { return owner != "" && !processGone(owner) }

// processGone reports whether owner ("HOST PID [BOOT]") is a process of this host that
// no longer runs. A process of another host (a store on a shared disk) or an owner not
// recorded is never taken for gone: its run may still be recording. A process of an
// earlier boot of this host is gone whatever runs under its ID now.
func processGone(owner string) bool {
	f := strings.Fields(owner)
	if len(f) < 2 || len(f) > 3 {
		return false
	}
	me, _ := os.Hostname()
	pid, err := strconv.Atoi(f[1])
	if err != nil || pid <= 0 || f[0] != me {
		return false
	}
	if len(f) == 3 {
		if boot := bootID(); boot != "" && f[2] != boot {
			return true
		}
	}
	if pid == os.Getpid() {
		return false
	}
	// Signal 0 checks the process exists: ESRCH is no such process; EPERM is one of
	// another user's, alive.
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// EndCutRuns records the end of every run whose recording process is gone, as the run
// itself would have when stopped: interrupted, with the frames and objects it recorded
// and the volume those frames examined. It returns them, so the app can say what was
// cut off: after a kill -9 mid-run the app reopened on "Ready." under a green banner,
// and nothing said the last run had been cut short (helper-41). History, exports and
// reports already read such a run as interrupted; this makes it final and says so once.
func (s *Store) EndCutRuns(ctx context.Context) ([]CutRun, error) {
	if s.readOnly {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, sample_id, owner, started, volume_ml, frames_expected, rules,
		(SELECT COUNT(*) FROM frames WHERE frames.source_id = sources.id),
		(SELECT COUNT(*) FROM objects WHERE objects.source_id = sources.id),
		COALESCE((SELECT MAX(time) FROM perf WHERE perf.source_id = sources.id AND perf.cells > 0), '')
		FROM sources WHERE COALESCE(ended, '') = '' AND owner != '' ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("session store %s: look for runs cut off: %w", s.path, err)
	}
	var cut []CutRun
	var expected []int
	for rows.Next() {
		var c CutRun
		var owner, started, lastWork string
		var exp int
		if err := rows.Scan(&c.Run, &c.Sample, &owner, &started, &c.VolumeGiven, &exp, &c.Rules, &c.Frames, &c.Objects, &lastWork); err != nil {
			rows.Close()
			return nil, fmt.Errorf("session store %s: look for runs cut off: %w", s.path, err)
		}
		if !processGone(owner) {
			continue
		}
		c.Started = parseTime(started)
		if lastWork != "" {
			c.LastWork = parseTime(lastWork)
		}
		cut = append(cut, c)
		expected = append(expected, exp)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, fmt.Errorf("session store %s: look for runs cut off: %w", s.path, err)
	}
	var ended []CutRun
	for i := range cut {
		c := &cut[i]
		if c.Frames == 0 && c.Objects == 0 {
			// Killed before its first frame: it examined nothing, and is removed as the
			// live run stopped there is (Discard), not kept as an empty sample. (A run of
			// cell images recorded before their frames were recorded has objects only:
			// it is kept.)
			removed, err := s.discardCut(ctx, c)
			if err != nil {
				return ended, err
			}
			if removed {
				c.Removed = true
				if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) > 0 FROM samples WHERE id = ?", c.Sample).Scan(&c.SampleKept); err != nil {
					return ended, fmt.Errorf("session store %s: read sample %s: %w", s.path, c.Sample, err)
				}
				ended = append(ended, *c)
			}
			continue
		}
		if c.Frames > 0 {
			// Cut off between two writes of one frame's cells, it kept cells of a frame
			// it did not record: its volume is that of the frames recorded, so they
			// counted over it until a continuation took them back, and for good where
			// none would (a video, a camera, a run not continued: helper-73, 21 of 1,765
			// objects). Reviewed ones stay (a continuation then refuses, saying why).
			res, err := s.db.ExecContext(ctx, `DELETE FROM objects WHERE source_id = ? AND COALESCE(validated_label, '') = ''
				AND frame > (SELECT MAX(frame) FROM frames WHERE source_id = ?)
				AND (SELECT COALESCE(ended, '') FROM sources WHERE id = ?) = ''`, c.Run, c.Run, c.Run)
			if err != nil {
				return ended, fmt.Errorf("session store %s: remove the objects of frames run %d did not record: %w", s.path, c.Run, err)
			}
			if n, err := res.RowsAffected(); err == nil {
				c.Objects -= int(n)
			}
		}
		// The volume as History reads an unended run (examinedSoFar): the share of the
		// source's frames recorded; a camera's keeps the volume given.
		r := RunRow{VolumeML: c.VolumeGiven, VolumeGiven: c.VolumeGiven, FramesExpect: expected[i]}
		examinedSoFar(&r, c.Frames)
		c.VolumeML = r.VolumeML
		res, err := s.db.ExecContext(ctx, `UPDATE sources SET ended = ?, frames_seen = MAX(frames_seen, ?), status = 'interrupted', interrupted = 1,
			volume_examined_ml = ?, error = ? WHERE id = ? AND COALESCE(ended, '') = ''`,
			timeText(c.end()), c.Frames, c.VolumeML, "phytoscreen stopped before the run could record its end (killed, crashed or the power lost)", c.Run)
		if err != nil {
			return ended, fmt.Errorf("session store %s: record the end of run %d, cut off: %w", s.path, c.Run, err)
		}
		// Another phytoscreen opening the store at the same moment may have ended it
		// first: it is said by the one that did, once.
		if n, err := res.RowsAffected(); err == nil && n == 1 {
			ended = append(ended, *c)
		}
	}
	return ended, nil
}

// discardCut removes cut run c, which recorded no frame, unless another phytoscreen
// opening the store at the same moment has already dealt with it; it reports whether
// this one removed it.
func (s *Store) discardCut(ctx context.Context, c *CutRun) (bool, error) {
	tx, err := s.db.BeginTx(ctx, nil) // immediate: the check below and the delete are one
	if err != nil {
		return false, fmt.Errorf("session store %s: discard run %d, cut off before its first frame: %w", s.path, c.Run, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var ended string
	switch err := tx.QueryRowContext(ctx, "SELECT COALESCE(ended, '') FROM sources WHERE id = ?", c.Run).Scan(&ended); {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("session store %s: discard run %d, cut off before its first frame: %w", s.path, c.Run, err)
	case ended != "":
		return false, nil
	}
	if err := discardRun(ctx, tx, c.Run, c.Sample); err != nil {
		return false, fmt.Errorf("session store %s: %w, cut off before its first frame", s.path, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("session store %s: discard run %d, cut off before its first frame: %w", s.path, c.Run, err)
	}
	return true, nil
}
