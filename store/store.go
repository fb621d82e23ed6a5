// Package store keeps screening sessions in one SQLite file (WAL): samples, the runs
// (sources) that screened them, every object with its crop and classification, the
// alerts raised, and performance and power samples. A run's writes go through one
// goroutine that commits them in transactions at least every FlushInterval, so a killed
// process loses at most that much work and the file always reopens cleanly. It also
// writes the exports: per-sample counts, per-object tables and EcoTaxa archives. It
// writes only into files it recognises as its own (ApplicationID in the SQLite header),
// and reads archives on read-only media without writing (OpenReadOnly). One process at a
// time writes a store (lock.go): a second is told which holds it; any may read.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/phytoscreen/phytoscreen/labrec"
	"github.com/phytoscreen/phytoscreen/screening"
	"modernc.org/sqlite" // the "sqlite" driver (pure Go), and its errors' result codes
)

// FileName is the session store's file name in the data folder.
const FileName = "sessions.db"

// SchemaVersion is the version of the tables below; a file from a newer phytoscreen is
// refused rather than damaged, one from an older one is brought up to date when opened.
// Version 2 added source_events (a camera lost and reconnected during a run) and the
// energy source of power readings (perf.energy_source, perf.estimated). Version 3 added
// frames (each frame's focus, field change and oversize objects) and the objects' kind,
// length, width, parts, estimated cells and oversize mark. Version 4 added what a run
// examined (sources.frames_expected, files_skipped, interrupted, volume_examined_ml),
// each object's image file, the sample's depth and analyst, and the trash and marks
// (samples.deleted_at, marked). Version 5 added embeddings, the cache of what a pack's
// model made of a crop (its features and probabilities), which teaching reads instead of
// running the model again. Version 6 added the bench's identity (meta bench_id, a UUID
// made once) and the outbox of what waits to be pushed to a lab server, which triggers
// fill (outbox.go); a file brought to 6 queues every run and sample it already holds.
// Version 7 added why a run's frames were not examined (sources.frames_blank,
// frames_crowded), which the report gives beside a partial run.
const SchemaVersion = 7

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
	// Version 4. What a run examined: NULL volume_examined_ml is the whole volume given.
	{"sources", "frames_expected", "INTEGER NOT NULL DEFAULT 0"},
	{"sources", "files_skipped", "INTEGER NOT NULL DEFAULT 0"},
	{"sources", "interrupted", "INTEGER NOT NULL DEFAULT 0"},
	{"sources", "volume_examined_ml", "REAL"},
	{"objects", "file", "TEXT NOT NULL DEFAULT ''"}, // the image file of a folder's object
	{"samples", "depth_m", "REAL"},
	{"samples", "analyst", "TEXT NOT NULL DEFAULT ''"},
	{"samples", "deleted_at", "TEXT"}, // in the trash since (NULL: not deleted)
	{"samples", "marked", "INTEGER NOT NULL DEFAULT 0"},
	// How the run found its objects (screening.RunInfo.Finder); '' in runs recorded
	// before it was kept, which used the thresholds unless a detector was chosen.
	{"sources", "finder", "TEXT NOT NULL DEFAULT ''"},
	// An alert raised while a folder or video was still being read: its value is on the
	// share of the volume read by then (alerts.Measure.Provisional).
	{"alerts", "while_reading", "INTEGER NOT NULL DEFAULT 0"},
	// The process recording a run ("HOST PID"; '' in runs recorded before it was kept):
	// a run left unended by a process that is gone was cut off (EndCutRuns).
	{"sources", "owner", "TEXT NOT NULL DEFAULT ''"},
	// The run a run takes up where it stopped (continue.go); NULL for every other run.
	{"sources", "continues", "INTEGER"},
	// Version 7. Of frames_failed, the frames that showed nothing (the lamp off) and
	// those too crowded to segment (screening.FrameStats.Blank, Crowded).
	{"sources", "frames_blank", "INTEGER NOT NULL DEFAULT 0"},
	{"sources", "frames_crowded", "INTEGER NOT NULL DEFAULT 0"},
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
	db       *sql.DB
	path     string
	readOnly bool // opened by OpenReadOnly: runs and validations are refused
	// readOnlyWhy is why a process that wanted to write opened the store read-only
	// (OpenReadOnlyBecause); nil: opened to read.
	readOnlyWhy error
	// lock is this process's write lock on the store (Open), released by Close.
	lock      *writeLock
	closeOnce sync.Once

	// active are the runs this process is recording: PendingSync leaves them (and their
	// objects' labels) out until Finish, so a half-written run is never pushed as done.
	activeMu sync.RWMutex
	active   map[int64]bool

	idMu    sync.Mutex
	benchID string // read once: a bench's identity never changes

	// opened is the file as Open found it (nil: not known): Replaced tells whether the
	// path still names it.
	opened fs.FileInfo

	// cellsOf, when set (SetCellsOf), counts the cells in each object of the tallies the
	// store makes for the lab server (SampleTally); nil: as stored.
	cellsMu sync.RWMutex
	cellsOf func(ObjectRow) float64
	// standingOf, when set (SetStandingOf), works out a tally's Standing against its
	// alert rules; nil: none is pushed.
	standingOf func(Counts) *labrec.Standing
}

// SetCellsOf sets how the tallies pushed to the lab server count the cells in each
// object, as CountsCells takes them: the app that holds the packs re-estimates an object
// a reviewer moved to another taxon, so the programme's weekly report says what the
// bench's History and report say (nil: the stored estimates).
func (s *Store) SetCellsOf(f func(ObjectRow) float64) {
	s.cellsMu.Lock()
	s.cellsOf = f
	s.cellsMu.Unlock()
}

// SetStandingOf sets how the tallies pushed to the lab server say where a sample stands
// against its alert rules, on the counts the tally holds (nil: nothing is said): the
// store knows no rules; the app that holds them and the packs works it out.
func (s *Store) SetStandingOf(f func(Counts) *labrec.Standing) {
	s.cellsMu.Lock()
	s.standingOf = f
	s.cellsMu.Unlock()
}

// tallyStanding is the standing of the lab server's tallies, nil when none is set.
func (s *Store) tallyStanding(c Counts) *labrec.Standing {
	s.cellsMu.RLock()
	f := s.standingOf
	s.cellsMu.RUnlock()
	if f == nil {
		return nil
	}
	return f(c)
}

// tallyCells is the cells counter of the lab server's tallies.
func (s *Store) tallyCells() func(ObjectRow) float64 {
	s.cellsMu.RLock()
	defer s.cellsMu.RUnlock()
	if s.cellsOf == nil {
		return StoredCells
	}
	return s.cellsOf
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
CREATE TABLE IF NOT EXISTS embeddings (
	model TEXT NOT NULL,
	key TEXT NOT NULL,
	features BLOB NOT NULL,
	probs BLOB NOT NULL,
	created TEXT NOT NULL,
	PRIMARY KEY (model, key)
) WITHOUT ROWID;
-- Version 6: the outbox (outbox.go). Triggers fill it so that no code path can forget
-- to: a run inserted or updated, a sample inserted, updated or deleted, an object's
-- validation changed. Queueing again deletes the entry and inserts it anew, so it gets a
-- new seq (AUTOINCREMENT never reuses one) and marking the old seq done keeps it. Object,
-- frame, alert and perf inserts queue nothing: the run's entry covers them, and Finish
-- updates the run, which queues it again once they are all written.
CREATE TABLE IF NOT EXISTS outbox (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	kind TEXT NOT NULL,
	ref TEXT NOT NULL,
	queued TEXT NOT NULL,
	UNIQUE (kind, ref)
);
CREATE TRIGGER IF NOT EXISTS outbox_run_insert AFTER INSERT ON sources BEGIN
	DELETE FROM outbox WHERE kind = 'run' AND ref = CAST(NEW.id AS TEXT);
	INSERT INTO outbox(kind, ref, queued) VALUES ('run', CAST(NEW.id AS TEXT), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;
CREATE TRIGGER IF NOT EXISTS outbox_run_update AFTER UPDATE ON sources BEGIN
	DELETE FROM outbox WHERE kind = 'run' AND ref = CAST(NEW.id AS TEXT);
	INSERT INTO outbox(kind, ref, queued) VALUES ('run', CAST(NEW.id AS TEXT), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;
-- A run removed (discarded, or its sample's trash emptied) has nothing left to push:
-- its sample's entry says the sample is gone.
CREATE TRIGGER IF NOT EXISTS outbox_run_delete AFTER DELETE ON sources BEGIN
	DELETE FROM outbox WHERE kind = 'run' AND ref = CAST(OLD.id AS TEXT);
END;
CREATE TRIGGER IF NOT EXISTS outbox_sample_insert AFTER INSERT ON samples BEGIN
	DELETE FROM outbox WHERE kind = 'sample' AND ref = NEW.id;
	INSERT INTO outbox(kind, ref, queued) VALUES ('sample', NEW.id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;
CREATE TRIGGER IF NOT EXISTS outbox_sample_update AFTER UPDATE ON samples BEGIN
	DELETE FROM outbox WHERE kind = 'sample' AND ref = NEW.id;
	INSERT INTO outbox(kind, ref, queued) VALUES ('sample', NEW.id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;
CREATE TRIGGER IF NOT EXISTS outbox_sample_delete AFTER DELETE ON samples BEGIN
	DELETE FROM outbox WHERE kind = 'sample' AND ref = OLD.id;
	INSERT INTO outbox(kind, ref, queued) VALUES ('sample', OLD.id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;
-- A validation changed: the label, and the object's sample, whose tally it changed.
CREATE TRIGGER IF NOT EXISTS outbox_label AFTER UPDATE OF validated_label, validated_by, validated_at ON objects
WHEN NEW.validated_label IS NOT OLD.validated_label OR NEW.validated_by IS NOT OLD.validated_by OR NEW.validated_at IS NOT OLD.validated_at BEGIN
	DELETE FROM outbox WHERE kind = 'label' AND ref = CAST(NEW.id AS TEXT);
	INSERT INTO outbox(kind, ref, queued) VALUES ('label', CAST(NEW.id AS TEXT), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
	DELETE FROM outbox WHERE kind = 'sample' AND ref = (SELECT sample_id FROM sources WHERE id = NEW.source_id);
	INSERT INTO outbox(kind, ref, queued) SELECT 'sample', sample_id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM sources WHERE id = NEW.source_id;
END;
CREATE TRIGGER IF NOT EXISTS outbox_object_delete AFTER DELETE ON objects BEGIN
	DELETE FROM outbox WHERE kind = 'label' AND ref = CAST(OLD.id AS TEXT);
END;
CREATE TABLE IF NOT EXISTS source_files (
	source_id INTEGER NOT NULL REFERENCES sources(id),
	digest TEXT NOT NULL,
	path TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS source_files_source ON source_files(source_id);
CREATE INDEX IF NOT EXISTS objects_source ON objects(source_id);
CREATE INDEX IF NOT EXISTS frames_source ON frames(source_id);
CREATE INDEX IF NOT EXISTS sources_sample ON sources(sample_id);
`

// Open opens (creating when needed) the store at path, for recording runs. Its folder
// must exist: a mistyped --db makes no folders (app.OpenStore makes the default one).
// It first recognises the file without writing to it (recognise): a file that is not a
// phytoscreen store is refused as it was, with ErrNotStore; a store this process cannot
// write is refused with ErrReadOnly (OpenReadOnly reads it).
func Open(path string) (*Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		fi, err := os.Stat(dir)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("session store %s: folder %s does not exist: make it (mkdir -p %s) or choose a file in a folder that exists", path, dir, dir)
		case err != nil:
			return nil, fmt.Errorf("session store %s: its folder: %w", path, err)
		case !fi.IsDir():
			return nil, fmt.Errorf("session store %s: %s is a file, not a folder: choose another path", path, dir)
		}
	}
	rec, err := recognise(path)
	if err != nil {
		return nil, err
	}
	if err := checkWritable(path); err != nil {
		return nil, err
	}
	// Taken once the file is known to be a store (or none yet), so that nothing is made
	// beside another program's file; held until Close (lock.go).
	lock, err := lockForWriting(path)
	if err != nil {
		return nil, err
	}
	st, err := openLocked(path, rec)
	if err != nil {
		lock.release()
		return nil, err
	}
	st.lock = lock
	return st, nil
}

// openLocked opens the recognised store at path for writing, under this process's write
// lock.
func openLocked(path string, rec recognised) (*Store, error) {
	// Every transaction here writes, so each takes the write lock when it begins
	// (BEGIN IMMEDIATE): a deferred one that read first and then wrote while another
	// connection (the lab server sync, a relabel) had written meanwhile would fail at
	// once with SQLITE_BUSY_SNAPSHOT, which busy_timeout cannot wait out.
	dsn := "file:" + uriPath(path) + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_txlock=immediate"
	// Another connection making or reading a new store at that moment (a reader, which
	// takes no write lock; before the write lock, a second phytoscreen) meets this one
	// where SQLite answers SQLITE_BUSY without waiting out busy_timeout: the switch to
	// WAL, which needs the file alone. This one opens again once the other is done,
	// recognising what it made.
	for deadline := time.Now().Add(10 * time.Second); ; {
		db, err := sql.Open("sqlite", dsn)
		if err != nil {
			return nil, fmt.Errorf("session store %s: %w", path, err)
		}
		s := &Store{db: db, path: path}
		err = s.init(rec)
		if err == nil {
			s.opened, _ = os.Stat(path) // made by init when it was new
			return s, nil
		}
		db.Close()
		if !isBusy(err) || time.Now().After(deadline) {
			return nil, err
		}
		time.Sleep(20 * time.Millisecond)
		if rec, err = recognise(path); err != nil {
			return nil, err
		}
	}
}

// isBusy tells SQLite's SQLITE_BUSY (primary result code 5) from other failures.
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == 5
}

// IsDamaged says whether err comes from a store file damaged past its header: SQLite's
// SQLITE_CORRUPT (primary result code 11) or SQLITE_NOTADB (26), met when a query reaches
// a damaged page (opening reads only the first).
func IsDamaged(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && (se.Code()&0xff == 11 || se.Code()&0xff == 26)
}

// OpenToRead is OpenReadOnly for a store an older phytoscreen wrote too: one that can be
// written is first brought up to date, as the app and screen bring it when they open it
// (the upgrade only adds tables and columns), then opened read-only; on a read-only
// medium it is refused as OpenReadOnly refuses it, saying what to do. The first report
// or export after an upgrade of phytoscreen was refused (helper-74).
func OpenToRead(path string) (*Store, error) {
	st, err := OpenReadOnly(path)
	if !errors.Is(err, ErrOlderSchema) {
		return st, err
	}
	w, werr := Open(path)
	if werr != nil {
		return nil, err
	}
	if werr = w.Close(); werr != nil {
		return nil, werr
	}
	return OpenReadOnly(path)
}

// ErrOlderSchema is OpenReadOnly's refusal of a store an older phytoscreen wrote: only
// a writable open (Open) brings it up to date.
var ErrOlderSchema = errors.New("older schema")

// OpenReadOnly opens an existing store for reading only (export, History, reports). It
// writes nothing: not the file, not its folder beyond SQLite's transient -wal and -shm
// where the folder is writable (readDSN), so it reads a store on a read-only medium (an
// archive). It refuses what Open refuses, and a store of an older schema version, which
// only a writable open brings up to date.
func OpenReadOnly(path string) (*Store, error) { return OpenReadOnlyBecause(path, nil) }

// OpenReadOnlyBecause is OpenReadOnly for a process that Open refused (why: ErrInUse,
// ErrReadOnly): a run or a validation asked of the store is refused with why, which says
// what to do, rather than as a store on a read-only medium is.
func OpenReadOnlyBecause(path string, why error) (*Store, error) {
	rec, err := recognise(path)
	switch {
	case err != nil:
		return nil, err
	case rec.kind == fileNew && !exists(path):
		return nil, fmt.Errorf("session store %s: no such file: screen a sample first, or pass --db FILE", path)
	case rec.kind == fileNew:
		return nil, fmt.Errorf("session store %s is empty: screen a sample first, or pass --db FILE", path)
	case rec.version < SchemaVersion:
		return nil, fmt.Errorf("session store %s has schema version %d from an older phytoscreen, and reading it read-only cannot bring it up to date: open it once where it can be written (phytoscreen screen --db FILE, or the app), or copy it to a writable folder first: %w",
			path, rec.version, ErrOlderSchema)
	}
	db, err := openReading(path, canWrite(path))
	if err != nil {
		return nil, fmt.Errorf("session store %s: %w: pass another --db FILE", path, err)
	}
	s := &Store{db: db, path: path, readOnly: true, readOnlyWhy: why}
	if err := s.checkColumns(db); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// schemaColumns are the columns of each table of a store made now: the schema and the
// columns later versions added laid out once in an in-memory database and read back.
// Without the added ones a file marked current but lacking one (frames_blank, say)
// opened, then failed at its first list.
var schemaColumns = sync.OnceValues(func() (map[string][]string, error) {
	db, err := sql.Open("sqlite", "file::memory:")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // every statement on the one in-memory database
	if _, err := db.Exec(schema); err != nil {
		return nil, err
	}
	if err := addMissingColumns(context.Background(), db); err != nil {
		return nil, err
	}
	return tableColumns(db)
})

// tableColumns reads the columns of every table of db.
func tableColumns(db querier) (map[string][]string, error) {
	rows, err := db.QueryContext(context.Background(), "SELECT m.name, p.name FROM sqlite_schema m JOIN pragma_table_info(m.name) p WHERE m.type = 'table'")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var table, column string
		if err := rows.Scan(&table, &column); err != nil {
			return nil, err
		}
		out[table] = append(out[table], column)
	}
	return out, rows.Err()
}

// checkColumns refuses a file marked as a store whose tables lack columns a store has: a
// damaged or hand-made file opened, then failed at its first list ("no such column:
// created", found by FuzzOpenStore).
func (s *Store) checkColumns(db querier) error {
	want, err := schemaColumns()
	if err != nil {
		return fmt.Errorf("session store schema: %w", err)
	}
	have, err := tableColumns(db)
	if err != nil {
		return s.openErr(err)
	}
	for table, cols := range want {
		for _, c := range cols {
			if !slices.Contains(have[table], c) {
				return fmt.Errorf("session store %s: its table %s lacks the column %s: the file is damaged or was not written by phytoscreen; pass another --db FILE (or restore the store from a backup)", s.path, table, c)
			}
		}
	}
	return nil
}

// uriPath escapes the characters an SQLite URI file name treats specially.
func uriPath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}

// init brings the recognised file to a current, marked store in one transaction: the
// tables (new or added since the file's version), the schema row, and the header's
// application_id and user_version. A process killed meanwhile leaves the file as it was.
func (s *Store) init(rec recognised) error {
	ctx := context.Background()
	var mode string
	if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return s.openErr(err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("session store %s: journal mode is %q, not WAL: the file system may not support it (use a local disk)", s.path, mode)
	}
	if rec.kind == fileStore && rec.version == SchemaVersion {
		return s.checkColumns(s.db) // current and marked: nothing to write
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.openErr(err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	// Another process (the app and a screen command started together) may have made or
	// updated the store between recognise and this transaction's write lock: what it
	// wrote decides, not what was recognised before.
	if rec, err = recheck(ctx, tx, s.path, rec); err != nil {
		return err
	}
	if rec.kind == fileStore && rec.version == SchemaVersion {
		return s.checkColumns(tx)
	}
	if _, err := tx.ExecContext(ctx, schema); err != nil {
		return s.openErr(err)
	}
	// An older file: the schema above has just created the new tables, and this adds
	// the new columns (empty: the older phytoscreen did not record them).
	if err := addMissingColumns(ctx, tx); err != nil {
		return s.openErr(err)
	}
	// Checked before anything is committed: a refused file is left as it was.
	if err := s.checkColumns(tx); err != nil {
		return err
	}
	meta := "UPDATE meta SET value = ? WHERE key = 'schema'"
	if rec.kind == fileNew {
		meta = "INSERT INTO meta(key, value) VALUES ('schema', ?)"
	}
	if _, err := tx.ExecContext(ctx, meta, fmt.Sprint(SchemaVersion)); err != nil {
		return s.openErr(err)
	}
	if rec.kind == fileNew || rec.version < 6 {
		if err := initOutbox(ctx, tx, rec.kind != fileNew); err != nil {
			return s.openErr(err)
		}
	}
	// The mark recognise reads (a store made before it existed gets it now).
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d; PRAGMA user_version = %d", ApplicationID, SchemaVersion)); err != nil {
		return s.openErr(err)
	}
	if err := tx.Commit(); err != nil {
		return s.openErr(err)
	}
	return nil
}

// recheck reads again, under the write lock of tx, the schema version recognise found:
// a store another process has made meanwhile is a store of the version it wrote.
func recheck(ctx context.Context, tx *sql.Tx, path string, rec recognised) (recognised, error) {
	var v string
	err := tx.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'schema'").Scan(&v)
	switch {
	case err != nil && (errors.Is(err, sql.ErrNoRows) || strings.Contains(err.Error(), "no such table")):
		return rec, nil // still new: no process has made it
	case err != nil:
		return rec, fmt.Errorf("session store %s: read its schema version: %w", path, err)
	}
	kind := rec.kind
	if kind == fileNew {
		kind = fileStore
	}
	return withVersion(path, kind, v)
}

// addMissingColumns adds to an older file's tables the columns later versions added.
func addMissingColumns(ctx context.Context, tx interface {
	querier
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}) error {
	for _, c := range addedColumns {
		var n int
		err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?", c.table, c.column).Scan(&n)
		if err != nil {
			return fmt.Errorf("check column %s.%s: %w", c.table, c.column, err)
		}
		if n == 0 {
			if _, err := tx.ExecContext(ctx, "ALTER TABLE "+c.table+" ADD COLUMN "+c.column+" "+c.decl); err != nil {
				return fmt.Errorf("add column %s.%s: %w", c.table, c.column, err)
			}
		}
	}
	return nil
}

func (s *Store) openErr(err error) error {
	if isDiskTrouble(err) {
		// A full disk read as "disk I/O error (is it an SQLite file written by
		// phytoscreen?)", which sent the technician to the file (helper-86).
		return fmt.Errorf("session store %s: %w (the disk holding it is full or failing: free some space there, or pass another --db FILE on another disk)", s.path, err)
	}
	return fmt.Errorf("session store %s: %w (is it an SQLite file written by phytoscreen? pass another --db FILE)", s.path, err)
}

// isDiskTrouble tells SQLite's SQLITE_IOERR (primary result code 10) and SQLITE_FULL
// (13), and the system's "no space left on device", from other failures: the file may
// be fine, the disk under it is not.
func isDiskTrouble(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) && (se.Code()&0xff == 10 || se.Code()&0xff == 13) {
		return true
	}
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EIO)
}

// Replaced says, when the store's path no longer names the file this Store opened (it
// was deleted, or another file copied over it while phytoscreen ran), what happened and
// the fix; nil while it does, or when not known. Writes went on into the file opened,
// gone or no longer at the path, and "stored in" it said nothing of it (helper-86).
func (s *Store) Replaced() error {
	if s.opened == nil {
		return nil
	}
	fi, err := os.Stat(s.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("session store %s was deleted while phytoscreen ran: what is recorded from now on is lost when phytoscreen closes; restart phytoscreen to start a new store there, or put the file back and restart", s.path)
	case err != nil:
		return nil // unreadable now: the next write says why
	case !os.SameFile(fi, s.opened):
		return fmt.Errorf("session store %s was replaced by another file while phytoscreen ran (a copy or a backup put over it): phytoscreen still writes into the file it opened, which is no longer there; restart phytoscreen to open the file now at that path", s.path)
	}
	return nil
}

// Path is the store's file.
func (s *Store) Path() string { return s.path }

// ReadOnly reports whether the store was opened by OpenReadOnly.
func (s *Store) ReadOnly() bool { return s.readOnly }

// writable refuses a write to a store opened read-only, saying how to get a writable one.
func (s *Store) writable(what string) error {
	if s.readOnly && s.readOnlyWhy != nil {
		return fmt.Errorf("%s cannot be recorded: %w", what, s.readOnlyWhy)
	}
	if s.readOnly {
		return fmt.Errorf("session store %s is open read-only (it or its folder cannot be written): %s cannot be recorded in it: make it writable, or start phytoscreen with --db FILE in a writable folder", s.path, what)
	}
	return nil
}

// Close closes the store (runs must be finished first) and lets go of its write lock.
func (s *Store) Close() error {
	err := s.db.Close()
	s.closeOnce.Do(s.lock.release)
	return err
}

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
