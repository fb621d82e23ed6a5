// Package store keeps screening sessions in one SQLite file (WAL): samples, the runs
// (sources) that screened them, every object with its crop and classification, the
// alerts raised, and performance and power samples. A run's writes go through one
// goroutine that commits them in transactions at least every FlushInterval, so a killed
// process loses at most that much work and the file always reopens cleanly. It also
// writes the exports: per-sample counts, per-object tables and EcoTaxa archives.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/phytoscreen/phytoscreen/inputfile"
	"github.com/phytoscreen/phytoscreen/screening"
	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go)
)

// FileName is the session store's file name in the data folder.
const FileName = "sessions.db"

// SchemaVersion is the version of the tables below; a file from a newer phytoscreen is
// refused rather than damaged, one from an older one is brought up to date when opened.
// Version 2 added source_events (a camera lost and reconnected during a run) and the
// energy source of power readings (perf.energy_source, perf.estimated). Version 3 added
// frames (each frame's focus, field change and oversize objects) and the objects' kind,
// length, width, parts, estimated cells and oversize mark.
const SchemaVersion = 3

// addedColumns are the columns later versions added to existing tables. CREATE TABLE IF
// NOT EXISTS does not add them to an older file's tables, so opening adds those missing.
var addedColumns = []struct{ table, column, decl string }{
	{"perf", "energy_source", "TEXT NOT NULL DEFAULT ''"},
	{"perf", "estimated", "INTEGER NOT NULL DEFAULT 0"},
	{"objects", "kind", "TEXT NOT NULL DEFAULT ''"},
	{"objects", "length", "REAL"},
	{"objects", "width", "REAL"},
	{"objects", "parts", "INTEGER"},
	{"objects", "cells_estimate", "REAL"},
	{"objects", "oversize", "INTEGER NOT NULL DEFAULT 0"},
}

// DefaultPath is $XDG_DATA_HOME/phytoscreen/sessions.db, or
// ~/.local/share/phytoscreen/sessions.db when XDG_DATA_HOME is unset.
func DefaultPath() (string, error) {
	base := os.Getenv("XDG_DATA_HOME")
	if base == "" || !filepath.IsAbs(base) { // the XDG spec says to ignore relative paths
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find the data folder: %w: set XDG_DATA_HOME or pass --db FILE", err)
		}
		base = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(base, "phytoscreen", FileName), nil
}

// Store is an open session store. Its methods are safe for concurrent use.
type Store struct {
	db   *sql.DB
	path string
}

const schema = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS samples (
	id TEXT PRIMARY KEY,
	site TEXT NOT NULL DEFAULT '',
	taken TEXT NOT NULL,
	notes TEXT NOT NULL DEFAULT '',
	factor REAL NOT NULL,
	lat REAL,
	lon REAL,
	created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sources (
	id INTEGER PRIMARY KEY,
	sample_id TEXT NOT NULL REFERENCES samples(id),
	spec TEXT NOT NULL,
	pack TEXT NOT NULL,
	model TEXT NOT NULL,
	threshold REAL NOT NULL,
	volume_ml REAL NOT NULL,
	rules TEXT NOT NULL DEFAULT '',
	started TEXT NOT NULL,
	ended TEXT,
	frames_seen INTEGER NOT NULL DEFAULT 0,
	frames_dropped INTEGER NOT NULL DEFAULT 0,
	frames_failed INTEGER NOT NULL DEFAULT 0,
	status TEXT NOT NULL DEFAULT 'running',
	error TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS taxa (
	pack TEXT NOT NULL,
	label TEXT NOT NULL,
	idx INTEGER NOT NULL,
	name TEXT NOT NULL,
	grp TEXT NOT NULL DEFAULT '',
	grp_name TEXT NOT NULL DEFAULT '',
	unit TEXT NOT NULL DEFAULT 'cell',
	PRIMARY KEY (pack, label)
);
CREATE TABLE IF NOT EXISTS objects (
	id INTEGER PRIMARY KEY,
	source_id INTEGER NOT NULL REFERENCES sources(id),
	seq INTEGER NOT NULL,
	time TEXT NOT NULL,
	frame INTEGER NOT NULL,
	track INTEGER NOT NULL,
	x INTEGER NOT NULL, y INTEGER NOT NULL, w INTEGER NOT NULL, h INTEGER NOT NULL,
	area REAL, perimeter REAL, esd REAL, major REAL, minor REAL, aspect REAL,
	solidity REAL, mean_gray REAL, focus REAL, on_border INTEGER, um_per_px REAL,
	contrast REAL, centroid_x REAL, centroid_y REAL,
	area_um2 REAL, esd_um REAL, major_um REAL, minor_um REAL, perimeter_um REAL,
	crop BLOB,
	label TEXT NOT NULL DEFAULT '',
	prob REAL NOT NULL DEFAULT 0,
	top TEXT NOT NULL DEFAULT '',
	variant TEXT NOT NULL DEFAULT '',
	error TEXT NOT NULL DEFAULT '',
	validated_label TEXT,
	validated_by TEXT,
	validated_at TEXT,
	kind TEXT NOT NULL DEFAULT '',
	length REAL, width REAL, parts INTEGER, cells_estimate REAL,
	oversize INTEGER NOT NULL DEFAULT 0,
	UNIQUE (source_id, seq)
);
CREATE TABLE IF NOT EXISTS alerts (
	id INTEGER PRIMARY KEY,
	source_id INTEGER NOT NULL REFERENCES sources(id),
	time TEXT NOT NULL,
	rule TEXT NOT NULL,
	taxon TEXT NOT NULL,
	from_level TEXT NOT NULL,
	to_level TEXT NOT NULL,
	count INTEGER NOT NULL,
	cells_per_l REAL NOT NULL,
	ci_low REAL NOT NULL,
	ci_high REAL NOT NULL,
	threshold TEXT NOT NULL,
	threshold_per_l REAL NOT NULL,
	threshold_source TEXT NOT NULL,
	verified INTEGER NOT NULL,
	note TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS perf (
	id INTEGER PRIMARY KEY,
	source_id INTEGER NOT NULL REFERENCES sources(id),
	time TEXT NOT NULL,
	variant TEXT NOT NULL,
	cells INTEGER NOT NULL,
	duration_ms REAL NOT NULL,
	failed INTEGER NOT NULL DEFAULT 0,
	watts REAL,
	joules REAL,
	energy_source TEXT NOT NULL DEFAULT '',
	estimated INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS source_events (
	id INTEGER PRIMARY KEY,
	source_id INTEGER NOT NULL REFERENCES sources(id),
	time TEXT NOT NULL,
	kind TEXT NOT NULL,
	frame INTEGER NOT NULL,
	attempt INTEGER NOT NULL DEFAULT 0,
	detail TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS frames (
	id INTEGER PRIMARY KEY,
	source_id INTEGER NOT NULL REFERENCES sources(id),
	frame INTEGER NOT NULL,
	time TEXT NOT NULL,
	file TEXT NOT NULL DEFAULT '',
	focus REAL NOT NULL,
	out_of_focus INTEGER NOT NULL DEFAULT 0,
	held INTEGER NOT NULL DEFAULT 0,
	new_field INTEGER NOT NULL DEFAULT 0,
	objects INTEGER NOT NULL DEFAULT 0,
	oversize INTEGER NOT NULL DEFAULT 0,
	crowded INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS objects_source ON objects(source_id);
CREATE INDEX IF NOT EXISTS frames_source ON frames(source_id);
CREATE INDEX IF NOT EXISTS sources_sample ON sources(sample_id);
`

// Open opens (creating when needed) the store at path and its folder.
func Open(path string) (*Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("session store %s: create its folder: %w", path, err)
		}
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("session store %s is a folder: give a file name, e.g. %s", path, filepath.Join(path, FileName))
	} else if err == nil {
		// A FIFO or device gave SQLite's bare "disk I/O error"; say what it is.
		if err := inputfile.CheckInfo(path, fi, 0); err != nil {
			return nil, fmt.Errorf("session store: %w", err)
		}
	}
	dsn := "file:" + uriPath(path) + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("session store %s: %w", path, err)
	}
	s := &Store{db: db, path: path}
	if err := s.init(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// uriPath escapes the characters an SQLite URI file name treats specially.
func uriPath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}

func (s *Store) init() error {
	ctx := context.Background()
	var mode string
	if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return s.openErr(err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("session store %s: journal mode is %q, not WAL: the file system may not support it (use a local disk)", s.path, mode)
	}
	if _, err := s.db.ExecContext(ctx, schema); err != nil {
		return s.openErr(err)
	}
	if err := s.addMissingColumns(ctx); err != nil {
		return s.openErr(err)
	}
	var v string
	err := s.db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'schema'").Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = s.db.ExecContext(ctx, "INSERT INTO meta(key, value) VALUES ('schema', ?)", fmt.Sprint(SchemaVersion))
		if err != nil {
			return s.openErr(err)
		}
	case err != nil:
		return s.openErr(err)
	case v != fmt.Sprint(SchemaVersion):
		n, perr := strconv.Atoi(v)
		switch {
		case perr != nil || n < 1:
			return fmt.Errorf("session store %s has schema version %s, which no phytoscreen wrote: the file is damaged; pass another --db file", s.path, v)
		case n > SchemaVersion:
			return fmt.Errorf("session store %s has schema version %s; this phytoscreen reads version %d: use a newer phytoscreen or another --db file", s.path, v, SchemaVersion)
		}
		// An older file: the schema above has just created the new tables and
		// addMissingColumns the new columns (empty: the older phytoscreen did not
		// record them).
		if _, err := s.db.ExecContext(ctx, "UPDATE meta SET value = ? WHERE key = 'schema'", fmt.Sprint(SchemaVersion)); err != nil {
			return s.openErr(err)
		}
	}
	return nil
}

// addMissingColumns adds to an older file's tables the columns later versions added.
func (s *Store) addMissingColumns(ctx context.Context) error {
	for _, c := range addedColumns {
		var n int
		err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?", c.table, c.column).Scan(&n)
		if err != nil {
			return fmt.Errorf("check column %s.%s: %w", c.table, c.column, err)
		}
		if n == 0 {
			if _, err := s.db.ExecContext(ctx, "ALTER TABLE "+c.table+" ADD COLUMN "+c.column+" "+c.decl); err != nil {
				return fmt.Errorf("add column %s.%s: %w", c.table, c.column, err)
			}
		}
	}
	return nil
}

func (s *Store) openErr(err error) error {
	return fmt.Errorf("session store %s: %w (is it an SQLite file written by phytoscreen? pass another --db FILE)", s.path, err)
}

// Path is the store's file.
func (s *Store) Path() string { return s.path }

// Close closes the store (runs must be finished first).
func (s *Store) Close() error { return s.db.Close() }

// Check runs SQLite's integrity check and returns its complaints, if any.
func (s *Store) Check(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("session store %s: integrity check: %w", s.path, err)
	}
	defer rows.Close()
	var msgs []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return err
		}
		if m != "ok" {
			msgs = append(msgs, m)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(msgs) > 0 {
		return fmt.Errorf("session store %s is damaged: %s", s.path, strings.Join(msgs, "; "))
	}
	return nil
}

// timeText formats times as stored: RFC 3339 with nanoseconds, UTC.
func timeText(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// Runs is the store as the place screening sessions record their runs.
func (s *Store) Runs() screening.RunStore { return runStore{s} }

type runStore struct{ s *Store }

func (r runStore) StartRun(ctx context.Context, info screening.RunInfo) (screening.RunRecorder, error) {
	return r.s.StartRun(ctx, info)
}
