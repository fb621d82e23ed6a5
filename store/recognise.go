package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/phytoscreen/phytoscreen/inputfile"
)

// ApplicationID is what phytoscreen writes in the SQLite header's application_id field
// ("PHYT"). It marks a file as a session store, so that a file can be recognised by
// reading its first 100 bytes, before anything is written into it.
const ApplicationID = 0x50485954

// ErrNotStore is the error (errors.Is) for a file that is not a phytoscreen session
// store: it is refused and left as it was.
var ErrNotStore = errors.New("not a phytoscreen session store")

// ErrReadOnly is the error (errors.Is) of Open for a store that this process cannot
// write (a read-only file, folder or medium): OpenReadOnly can still read it.
var ErrReadOnly = errors.New("the session store cannot be written")

// sqliteMagic begins every SQLite database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// Offsets of the SQLite header fields read here (https://sqlite.org/fileformat.html).
const (
	headerSize          = 100
	pageSizeOffset      = 16
	userVersionOffset   = 60
	applicationIDOffset = 68
)

// storeTables are tables every phytoscreen store has had since schema version 1: with
// the meta table's schema row they recognise a store made before ApplicationID was set.
var storeTables = []string{"meta", "samples", "sources", "objects"}

// fileKind is what recognise found at a store path.
type fileKind int

const (
	fileNew    fileKind = iota // no file, an empty one, or an SQLite file with nothing in it
	fileStore                  // application_id is phytoscreen's
	fileLegacy                 // application_id 0 and phytoscreen's tables: made before ApplicationID
)

// recognised is what recognise found: the kind of file and, for a store, the schema
// version its meta table records.
type recognised struct {
	kind    fileKind
	version int
}

// notStore is a refusal of a file that is not a store; it matches ErrNotStore.
type notStore struct{ msg string }

func (e *notStore) Error() string        { return e.msg }
func (e *notStore) Is(target error) bool { return target == ErrNotStore }

// refuse is the refusal of path, ending with the fix, for a file phytoscreen did not make.
func refuse(path, what string) error {
	return &notStore{fmt.Sprintf("session store file %s is %s; phytoscreen will not write into it and left it as it was: choose another --db path", path, what)}
}

// recognise tells whether path holds a phytoscreen store, without writing anything: not
// to the file, and no -wal or -shm beside it. Its SQLite header says whether it is an
// SQLite file and whose (application_id); a file with application_id 0 is a store made
// before ApplicationID was set only when it has phytoscreen's tables. A file that is not
// a store, or a store this phytoscreen cannot use, is an error naming the file and the fix.
func recognise(path string) (recognised, error) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return recognised{kind: fileNew}, nil
	case err != nil:
		return recognised{}, fmt.Errorf("session store %s: %w: pass another --db FILE", path, err)
	case fi.IsDir():
		return recognised{}, fmt.Errorf("session store %s is a folder: give a file name, e.g. %s", path, filepath.Join(path, FileName))
	case !fi.Mode().IsRegular():
		return recognised{}, refuse(path, inputfile.Kind(fi.Mode())+", not a regular file")
	case fi.Size() == 0:
		// SQLite itself takes an empty file for an empty database: nothing can be lost.
		return recognised{kind: fileNew}, nil
	}
	h, err := readHeader(path)
	if err != nil {
		return recognised{}, err
	}
	appID := binary.BigEndian.Uint32(h[applicationIDOffset:])
	if appID != ApplicationID && appID != 0 {
		return recognised{}, refuse(path, fmt.Sprintf("an SQLite database of another program (application_id 0x%08x)", appID))
	}
	tables, version, err := readSchema(path)
	if err == nil {
		err = wholePages(h, fi.Size())
	}
	if err != nil {
		if appID == ApplicationID {
			return recognised{}, fmt.Errorf("session store %s is damaged (%v); phytoscreen left it as it was: restore it from a backup or pass another --db FILE", path, err)
		}
		return recognised{}, refuse(path, fmt.Sprintf("not a readable SQLite database (%v)", err))
	}
	if appID == 0 {
		return recogniseUnmarked(path, h, tables, version)
	}
	if version == "" {
		return recognised{}, fmt.Errorf("session store %s is damaged: it has phytoscreen's mark but no schema version; phytoscreen left it as it was: restore it from a backup or pass another --db FILE", path)
	}
	return withVersion(path, fileStore, version)
}

// readHeader reads the 100-byte SQLite header of path, refusing a file that has none.
func readHeader(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("session store %s: %w: make it readable or pass another --db FILE", path, err)
	}
	defer f.Close()
	h := make([]byte, headerSize)
	n, err := io.ReadFull(f, h)
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || (err == nil && !bytes.HasPrefix(h, sqliteMagic)):
		return nil, refuse(path, fmt.Sprintf("not an SQLite database (it begins %q)", firstBytes(h[:n])))
	case err != nil:
		return nil, fmt.Errorf("session store %s: %w: pass another --db FILE", path, err)
	}
	return h, nil
}

// wholePages says why a file of size bytes with SQLite header h is not a whole database:
// SQLite writes whole pages, so a file shorter than a page, or not a whole number of
// them, was cut off. Read without locks, such a file shows no tables, and it was taken as
// a new store; SQLite then wrote its first page into it before finding it malformed,
// and the refused file was changed (FuzzOpenStore: 101 bytes in, 4,096 after).
func wholePages(h []byte, size int64) error {
	page := int64(binary.BigEndian.Uint16(h[pageSizeOffset:]))
	if page == 1 {
		page = 65536
	}
	if page < 512 || page&(page-1) != 0 {
		return fmt.Errorf("its header gives a page size of %d bytes, which SQLite never writes", page)
	}
	if size < page || size%page != 0 {
		return fmt.Errorf("%d bytes, not a whole number of its %d-byte pages: the file was cut off", size, page)
	}
	return nil
}

// firstBytes is the start of a file as a refusal quotes it.
func firstBytes(b []byte) string {
	if len(b) > 16 {
		b = b[:16]
	}
	return string(b)
}

// recogniseUnmarked tells a store made before ApplicationID was set (phytoscreen's
// tables and schema row) from another program's SQLite file. An SQLite file with no
// tables, user_version 0 and nothing else is taken as new: it holds nothing to lose, and
// it is what a phytoscreen killed between creating the file and its tables leaves.
func recogniseUnmarked(path string, h []byte, tables []string, version string) (recognised, error) {
	uv := binary.BigEndian.Uint32(h[userVersionOffset:])
	if len(tables) == 0 && uv == 0 {
		return recognised{kind: fileNew}, nil
	}
	for _, t := range storeTables {
		if !contains(tables, t) {
			return recognised{}, refuse(path, "an SQLite database of another program ("+describeTables(tables)+")")
		}
	}
	if version == "" {
		return recognised{}, refuse(path, "an SQLite database of another program (a meta table without phytoscreen's schema row)")
	}
	return withVersion(path, fileLegacy, version)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// describeTables names a foreign file's tables (the first few) so the user knows it.
func describeTables(tables []string) string {
	if len(tables) == 0 {
		return "no tables"
	}
	more := ""
	if len(tables) > 4 {
		tables, more = tables[:4], fmt.Sprintf(" and %d more", len(tables)-4)
	}
	return "tables " + strings.Join(tables, ", ") + more
}

// withVersion checks a store's recorded schema version: one no phytoscreen wrote, or
// one newer than this phytoscreen reads, is refused before anything is written.
func withVersion(path string, kind fileKind, version string) (recognised, error) {
	n, err := strconv.Atoi(version)
	switch {
	case err != nil || n < 1:
		return recognised{}, fmt.Errorf("session store %s has schema version %s, which no phytoscreen wrote: the file is damaged; pass another --db file", path, version)
	case n > SchemaVersion:
		return recognised{}, fmt.Errorf("session store %s has schema version %s; this phytoscreen reads version %d: use a newer phytoscreen or another --db file", path, version, SchemaVersion)
	}
	return recognised{kind: kind, version: n}, nil
}

// readSchema lists path's tables and the schema version in its meta table ("" when it
// has none), reading without writing anything (readDSN).
func readSchema(path string) (tables []string, version string, err error) {
	db, err := openReading(path, false)
	if err != nil {
		return nil, "", err
	}
	defer db.Close()
	ctx := context.Background()
	rows, err := db.QueryContext(ctx, "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, "", err
		}
		tables = append(tables, t)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	if contains(tables, "meta") {
		err = db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'schema'").Scan(&version)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, "", err
		}
	}
	return tables, version, nil
}

// readDSN is the SQLite URI that reads path and writes nothing to it. A WAL database
// needs its -shm (the WAL index) to be read with locking, so:
//   - writable (our own store, file and folder writable): a normal read-write connection
//     with query_only set. It locks as a writer would, so it sees a run another process
//     is writing, and as the last connection it removes the -wal and -shm it made on
//     close (mode=ro would leave them behind). It never writes the database file.
//   - -wal and -shm both there (a store in use, or left by a killed process): mode=ro
//     reads the WAL through the existing index and creates nothing.
//   - otherwise (a read-only folder or file, or a file not yet known to be ours):
//     immutable=1 reads the database file alone, with no lock and no -shm. Without a
//     -wal the file holds everything; and nothing can be writing a read-only medium.
func readDSN(path string, writable bool) string {
	base := "file:" + uriPath(path)
	switch {
	case writable:
		return base + "?mode=rw&_pragma=busy_timeout(10000)&_pragma=query_only(1)"
	case exists(path+"-wal") && exists(path+"-shm"):
		return base + "?mode=ro&_pragma=busy_timeout(10000)"
	}
	return base + "?mode=ro&immutable=1"
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// openReading opens path for reading (readDSN). Where mode=ro cannot use the -shm there
// (not writable by this user, needing recovery), it reads the database file alone and
// says that the -wal's last writes are not seen.
func openReading(path string, writable bool) (*sql.DB, error) {
	dsn := readDSN(path, writable)
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	if err = countSchema(db); err == nil {
		return db, nil
	}
	db.Close()
	if writable || strings.Contains(dsn, "immutable=1") {
		return nil, err
	}
	slog.Warn("session store: its -shm cannot be used here; reading the database file alone, without the last writes in its -wal",
		"path", path, "err", err)
	db, err = sql.Open("sqlite", "file:"+uriPath(path)+"?mode=ro&immutable=1")
	if err != nil {
		return nil, err
	}
	if err := countSchema(db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// countSchema reads the schema table: opening a connection reads nothing, this does.
func countSchema(db *sql.DB) error {
	var n int
	return db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM sqlite_schema").Scan(&n)
}

// readOnlyErr is a refusal to open a store for writing; it matches ErrReadOnly.
type readOnlyErr struct{ msg string }

func (e *readOnlyErr) Error() string        { return e.msg }
func (e *readOnlyErr) Is(target error) bool { return target == ErrReadOnly }

// checkWritable refuses, with ErrReadOnly, a store this process cannot write: the file,
// or its folder (where SQLite keeps the -wal and -shm files beside it). Asking first
// means nothing is half-written; access(2) also answers EROFS on a read-only mount.
func checkWritable(path string) error {
	if exists(path) {
		if err := syscall.Access(path, 2 /* W_OK */); err != nil {
			return &readOnlyErr{fmt.Sprintf("session store %s cannot be written (%v): phytoscreen records no run into it: make it writable, or pass another --db FILE (export and History can still read it)", path, err)}
		}
	}
	dir := filepath.Dir(path)
	if err := syscall.Access(dir, 3 /* W_OK|X_OK */); err != nil {
		return &readOnlyErr{fmt.Sprintf("session store %s: its folder cannot be written (%v), and SQLite keeps the store's -wal and -shm files there: make the folder writable, or pass another --db FILE (export and History can still read the store)", path, err)}
	}
	return nil
}

// canWrite reports whether checkWritable lets path be written.
func canWrite(path string) bool { return checkWritable(path) == nil }
