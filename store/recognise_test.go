package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/testutil"
	"github.com/phytoscreen/phytoscreen/outfile"
	"github.com/phytoscreen/phytoscreen/screening"
)

// fileState is what "left as it was" compares: a file's bytes and modification time.
type fileState struct {
	data  []byte
	mtime time.Time
}

// freeze sets path's modification time in the past (so that any write shows) and
// returns its state.
func freeze(t testing.TB, path string) fileState {
	t.Helper()
	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	return stateOf(t, path)
}

func stateOf(t testing.TB, path string) fileState {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fileState{data, fi.ModTime()}
}

// checkUntouched fails unless path has the bytes and time it had, and no -wal or -shm
// file was left beside it.
func checkUntouched(t testing.TB, path string, before fileState) {
	t.Helper()
	after := stateOf(t, path)
	if !bytes.Equal(after.data, before.data) {
		t.Errorf("%s changed: %d bytes before, %d after", filepath.Base(path), len(before.data), len(after.data))
	}
	if !after.mtime.Equal(before.mtime) {
		t.Errorf("%s modified at %v, was %v", filepath.Base(path), after.mtime, before.mtime)
	}
	for _, ext := range []string{"-wal", "-shm", "-journal"} {
		if exists(path + ext) {
			t.Errorf("%s%s was created beside it", filepath.Base(path), ext)
		}
	}
}

// header reads a file's application_id and user_version from its SQLite header.
func header(t testing.TB, path string) (appID, userVersion uint32) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || len(b) < headerSize {
		t.Fatalf("read the header of %s: %v (%d bytes)", path, err, len(b))
	}
	return binary.BigEndian.Uint32(b[applicationIDOffset:]), binary.BigEndian.Uint32(b[userVersionOffset:])
}

// foreignDB writes an SQLite file of another program, with the driver the store uses:
// its own table and rows, then the statements given (journal mode, application_id).
func foreignDB(t testing.TB, path string, tables []string, pragmas ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, p := range pragmas {
		if _, err := db.Exec(p); err != nil {
			t.Fatal(err)
		}
	}
	for _, tb := range tables {
		if _, err := db.Exec("CREATE TABLE " + tb + " (key TEXT, value TEXT); INSERT INTO " + tb + " VALUES ('station', 'Limfjord A'), ('chl', '4.2')"); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// A file that is not a phytoscreen store is refused by Open and OpenReadOnly with a
// message naming it, what it is and the fix, and left as it was: same bytes, same time,
// no -wal or -shm beside it.
func TestOpenRefusesOtherFilesUntouched(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, want string
		make       func(path string)
	}{
		{"text.db", "is not an SQLite database (it begins \"temperature,chlo\")", func(p string) {
			os.WriteFile(p, []byte("temperature,chlorophyll\n12.5,4.2\n"), 0o644)
		}},
		{"short.db", "is not an SQLite database", func(p string) { os.WriteFile(p, []byte("SQLite format 3\x00\x10\x00"), 0o644) }},
		{"readings.db", "an SQLite database of another program (tables readings)", func(p string) { foreignDB(t, p, []string{"readings"}) }},
		{"readings-wal.db", "an SQLite database of another program (tables readings)", func(p string) {
			foreignDB(t, p, []string{"readings"}, "PRAGMA journal_mode=WAL")
		}},
		{"geo.gpkg", "an SQLite database of another program (application_id 0x47504b47)", func(p string) {
			foreignDB(t, p, []string{"features"}, "PRAGMA application_id=0x47504B47")
		}},
		{"lookalike.db", "a meta table without phytoscreen's schema row", func(p string) {
			foreignDB(t, p, []string{"meta", "samples", "sources", "objects"})
		}},
		{"versioned.db", "an SQLite database of another program (no tables)", func(p string) { foreignDB(t, p, nil, "PRAGMA user_version=7") }},
	}
	for _, c := range cases {
		path := filepath.Join(dir, c.name)
		c.make(path)
		before := freeze(t, path)
		for name, open := range map[string]func(string) (*Store, error){"Open": Open, "OpenReadOnly": OpenReadOnly} {
			s, err := open(path)
			if err == nil {
				s.Close()
				t.Errorf("%s %s: opened", name, c.name)
				continue
			}
			t.Logf("%s %s: %v", name, c.name, err)
			if !errors.Is(err, ErrNotStore) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), c.want) ||
				!strings.Contains(err.Error(), "choose another --db path") {
				t.Errorf("%s %s: %v; want ErrNotStore naming the file, %q and the fix", name, c.name, err, c.want)
			}
			checkUntouched(t, path, before)
		}
	}
}

// A new store carries phytoscreen's application_id and its schema version in its
// header, so the next open recognises it from the header alone.
func TestNewStoreIsMarked(t *testing.T) {
	s := openTemp(t)
	fillRun(t, s, testSample()).Finish(context.Background(), screening.Snapshot{}, nil)
	s.Close()
	if id, v := header(t, s.Path()); id != ApplicationID || v != SchemaVersion {
		t.Errorf("header application_id 0x%08x, user_version %d; want 0x%08x, %d", id, v, ApplicationID, SchemaVersion)
	}
	before := freeze(t, s.Path())
	s2, err := Open(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
	checkUntouched(t, s.Path(), before) // a current store: opening writes nothing
}

// A store made before application_id was set (0 in its header, phytoscreen's tables)
// still opens: read-only as it is, and a writable open marks it, keeping its samples.
func TestOpenMarksStoreMadeBeforeApplicationID(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	if err := fillRun(t, s, testSample()).Finish(ctx, screening.Snapshot{Frames: screening.FrameStats{Seen: 30}}, nil); err != nil {
		t.Fatal(err)
	}
	// As the previous release left it: no mark in the header.
	if _, err := s.db.Exec("PRAGMA application_id = 0; PRAGMA user_version = 0"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	path := s.Path()
	if id, v := header(t, path); id != 0 || v != 0 {
		t.Fatalf("unmarking failed: application_id 0x%08x, user_version %d", id, v)
	}
	before := freeze(t, path)
	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatalf("read-only: %v", err)
	}
	if c, err := ro.Counts(ctx, testSample().ID); err != nil || c.Objects != 10 {
		t.Errorf("read-only counts: %d objects, %v; want 10", c.Objects, err)
	}
	ro.Close()
	checkUntouched(t, path, before)

	s, err = Open(path)
	if err != nil {
		t.Fatalf("writable: %v", err)
	}
	if c, err := s.Counts(ctx, testSample().ID); err != nil || c.Objects != 10 {
		t.Errorf("counts after marking: %d objects, %v; want 10", c.Objects, err)
	}
	s.Close()
	if id, v := header(t, path); id != ApplicationID || v != SchemaVersion {
		t.Errorf("after a writable open: application_id 0x%08x, user_version %d; want 0x%08x, %d", id, v, ApplicationID, SchemaVersion)
	}
}

// OpenReadOnly reads a store and writes nothing: the file keeps its bytes and time and
// no -wal or -shm is left; it sees a run another connection records meanwhile; runs and
// validations are refused with the fix.
func TestOpenReadOnlyWritesNothing(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	if err := fillRun(t, s, testSample()).Finish(ctx, screening.Snapshot{}, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	path := s.Path()
	before := freeze(t, path)
	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	if !ro.ReadOnly() {
		t.Error("ReadOnly() is false")
	}
	if err := ro.Export(ctx, testSample().ID, FormatEcoTaxa, filepath.Join(t.TempDir(), "x.zip")); err != nil {
		t.Errorf("export: %v", err)
	}
	_, err = ro.StartRun(ctx, screening.RunInfo{Sample: testSample(), Spec: capture.Camera("0"), Model: inference.Optimised, Threshold: 0.5, Taxonomy: testTaxonomy(t)})
	t.Logf("run: %v", err)
	if err == nil || !strings.Contains(err.Error(), path+" is open read-only") || !strings.Contains(err.Error(), "--db FILE") {
		t.Errorf("a run on a read-only store: %v", err)
	}
	if err := ro.Validate(ctx, 1, "copepod_calanoid", "ana"); err == nil || !strings.Contains(err.Error(), "is open read-only") {
		t.Errorf("a validation on a read-only store: %v", err)
	}
	ro.Close()
	checkUntouched(t, path, before)

	// While a writer records a second sample, a read-only store opened beside it sees it.
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ro, err = OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	second := testSample()
	second.ID = "LIM-2025-06-04"
	if err := fillRun(t, w, second).Finish(ctx, screening.Snapshot{}, nil); err != nil {
		t.Fatal(err)
	}
	if ids, err := ro.SampleIDs(ctx); err != nil || len(ids) != 2 {
		t.Errorf("read-only store beside a writer sees samples %v (%v), want 2", ids, err)
	}
}

// readOnlyEnv names the read-only folder TestOpenReadOnlyFolder's check runs in.
const readOnlyEnv = "PHYTOSCREEN_STORE_READONLY_DIR"

// A store in a read-only folder (an archive): Open refuses it with ErrReadOnly before
// writing anything; OpenReadOnly reads and exports it. Root writes everywhere, so under
// root the check runs as user nobody.
func TestOpenReadOnlyFolder(t *testing.T) {
	if dir := os.Getenv(readOnlyEnv); dir != "" {
		checkReadOnlyFolder(t, dir)
		return
	}
	dir := testutil.TempDirForAll(t)
	if err := os.Mkdir(filepath.Join(dir, "archive"), 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := Open(filepath.Join(dir, "archive", FileName))
	if err != nil {
		t.Fatal(err)
	}
	if err := fillRun(t, s, testSample()).Finish(context.Background(), screening.Snapshot{}, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := os.Chmod(s.Path(), 0o444); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Dir(s.Path()), 0o555); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil { // the export goes beside the archive
		t.Fatal(err)
	}
	if !testutil.IsRoot() {
		checkReadOnlyFolder(t, dir)
		return
	}
	out, err := testutil.RunAsNobody(t, "TestOpenReadOnlyFolder", readOnlyEnv+"="+dir)
	t.Log(out)
	if err != nil || !strings.Contains(out, "--- PASS: TestOpenReadOnlyFolder") {
		t.Fatalf("check as nobody did not pass (%v)", err)
	}
}

func checkReadOnlyFolder(t *testing.T, dir string) {
	path := filepath.Join(dir, "archive", FileName)
	before := stateOf(t, path)
	_, err := Open(path)
	t.Logf("Open: %v", err)
	if !errors.Is(err, ErrReadOnly) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "(export and History can still read") {
		t.Errorf("Open of a store in a read-only folder: %v; want ErrReadOnly naming it", err)
	}
	s, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if c, err := s.Counts(ctx, testSample().ID); err != nil || c.Objects != 10 {
		t.Errorf("counts: %d objects, %v; want 10", c.Objects, err)
	}
	if err := s.Export(ctx, testSample().ID, FormatCounts, filepath.Join(dir, "counts.csv")); err != nil {
		t.Errorf("export: %v", err)
	}
	checkUntouched(t, path, before)
}

// An export never replaces a session store: not this store's file or its -wal or -shm,
// under any spelling, nor another store; each refusal names the path and the fix, and
// the store keeps its bytes and samples.
func TestExportRefusesToReplaceAStore(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	if err := fillRun(t, s, testSample()).Finish(ctx, screening.Snapshot{}, nil); err != nil {
		t.Fatal(err)
	}
	other := openTemp(t)
	other.Close()
	otherState := freeze(t, other.Path())
	id := testSample().ID
	dir := filepath.Dir(s.Path())
	link := filepath.Join(t.TempDir(), "link.db")
	if err := os.Symlink(s.Path(), link); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{s.Path(), dir + "/./../" + filepath.Base(dir) + "/" + FileName, link, s.Path() + "-wal", s.Path() + "-shm", other.Path()} {
		before := stateOf(t, s.Path())
		err := s.Export(ctx, id, FormatCounts, path)
		t.Logf("export to %s: %v", path, err)
		if !errors.Is(err, outfile.ErrIsInput) || !strings.Contains(err.Error(), path+" is ") || !strings.Contains(err.Error(), "another") {
			t.Errorf("export to %s: %v; want it refused, naming the path and the fix", path, err)
		}
		if after := stateOf(t, s.Path()); !bytes.Equal(after.data, before.data) {
			t.Errorf("export to %s changed the store", path)
		}
	}
	checkUntouched(t, other.Path(), otherState)
	if c, err := s.Counts(ctx, id); err != nil || c.Objects != 10 {
		t.Errorf("the store after the refusals: %d objects, %v", c.Objects, err)
	}
	// Beside it, any other file is an export's to write.
	if err := s.Export(ctx, id, FormatCounts, filepath.Join(dir, "counts.csv")); err != nil {
		t.Errorf("export beside the store: %v", err)
	}
}

// A store of an older schema opened read-only is refused with the fix, unchanged: only
// a writable open brings it up to date.
func TestOpenReadOnlyRefusesOlderSchema(t *testing.T) {
	s := openTemp(t)
	if _, err := s.db.Exec("UPDATE meta SET value = '2' WHERE key = 'schema'"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	before := freeze(t, s.Path())
	_, err := OpenReadOnly(s.Path())
	t.Logf("read-only: %v", err)
	if err == nil || !strings.Contains(err.Error(), s.Path()+" has schema version 2 from an older phytoscreen") || !strings.Contains(err.Error(), "copy it to a writable folder") {
		t.Errorf("read-only open of a version 2 store: %v", err)
	}
	checkUntouched(t, s.Path(), before)
	if s, err = Open(s.Path()); err != nil {
		t.Fatalf("writable open of a version 2 store: %v", err)
	}
	s.Close()
	if ro, err := OpenReadOnly(s.Path()); err != nil {
		t.Errorf("read-only open after the upgrade: %v", err)
	} else {
		ro.Close()
	}
	// OpenToRead (export, report, samples) brings a writable older store up to date
	// first, then reads it (helper-74: refused after every upgrade of phytoscreen); on a
	// read-only medium it refuses as OpenReadOnly does.
	s, err = Open(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec("UPDATE meta SET value = '6' WHERE key = 'schema'; PRAGMA user_version = 6"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if ro, err := OpenToRead(s.Path()); err != nil {
		t.Errorf("OpenToRead of a version 6 store: %v", err)
	} else {
		var v string
		ro.db.QueryRow("SELECT value FROM meta WHERE key = 'schema'").Scan(&v)
		if v != fmt.Sprint(SchemaVersion) || !ro.ReadOnly() {
			t.Errorf("OpenToRead: schema %s, read-only %v; want %d, read-only", v, ro.ReadOnly(), SchemaVersion)
		}
		ro.Close()
	}
}

// TestOpenMakesNoFolders: a store path in a folder that does not exist (a mistyped --db)
// is refused with the fix, and no folder is made.
func TestOpenMakesNoFolders(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "typo", "deeper")
	st, err := Open(filepath.Join(dir, "s.db"))
	if err == nil {
		st.Close()
		t.Fatal("opened a store in a folder that does not exist")
	}
	if !strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), "mkdir -p "+dir) {
		t.Errorf("error %q: want it to say the folder does not exist and how to make it", err)
	}
	if _, err := os.Stat(filepath.Dir(dir)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("folder %s: %v, want none made", filepath.Dir(dir), err)
	}
}

// A file marked with the current schema version but lacking a column that a later
// version added (frames_blank, added by 7) is refused at open, writable and read-only,
// naming the column and the fix, and left as it was: it used to open and then fail at
// its first list of runs ("no such column").
func TestOpenRefusesCurrentStoreLackingAnAddedColumn(t *testing.T) {
	s := openTemp(t)
	if _, err := s.db.Exec("ALTER TABLE sources DROP COLUMN frames_blank"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	before := freeze(t, s.Path())
	for name, open := range map[string]func(string) (*Store, error){"Open": Open, "OpenReadOnly": OpenReadOnly} {
		got, err := open(s.Path())
		if err == nil {
			got.Close()
		}
		if err == nil || !strings.Contains(err.Error(), "its table sources lacks the column frames_blank") || !strings.Contains(err.Error(), "--db FILE") {
			t.Errorf("%s of a version %d store without sources.frames_blank: %v", name, SchemaVersion, err)
		}
	}
	checkUntouched(t, s.Path(), before)
}
