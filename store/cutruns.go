package store

import (
	"context"
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
}

// end is when the run is recorded to have ended: its last work, or its start.
func (c CutRun) end() time.Time {
	if c.LastWork.After(c.Started) {
		return c.LastWork
	}
	return c.Started
}

// thisProcess names the process recording a run: the host and its process ID.
func thisProcess() string {
	host, _ := os.Hostname()
	return host + " " + strconv.Itoa(os.Getpid())
}

// processGone reports whether owner ("HOST PID") is a process of this host that no
// longer runs. A process of another host (a store on a shared disk) or an owner not
// recorded is never taken for gone: its run may still be recording.
func processGone(owner string) bool {
	host, pidText, ok := strings.Cut(owner, " ")
	me, _ := os.Hostname()
	pid, err := strconv.Atoi(pidText)
	if !ok || err != nil || pid <= 0 || host != me {
		return false
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
		// The volume as History reads an unended run (unended): the share of the
		// source's frames recorded; a camera's keeps the volume given.
		r := RunRow{VolumeML: c.VolumeGiven, VolumeGiven: c.VolumeGiven, FramesExpect: expected[i]}
		unended(&r, c.Frames)
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
