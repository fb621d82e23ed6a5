package main

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/internal/testutil"
	_ "modernc.org/sqlite" // the driver the store uses, to write another program's file
)

// frozenFile is a file's bytes and modification time, set in the past so any write shows.
type frozenFile struct {
	path  string
	data  []byte
	mtime time.Time
}

func freezeFile(t *testing.T, path string) frozenFile {
	t.Helper()
	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return frozenFile{path, data, old}
}

// check fails unless the file has its bytes and time, and no -wal or -shm beside it.
func (f frozenFile) check(t *testing.T, after string) {
	t.Helper()
	data, err := os.ReadFile(f.path)
	fi, serr := os.Stat(f.path)
	if err != nil || serr != nil || !bytes.Equal(data, f.data) || !fi.ModTime().Equal(f.mtime) {
		t.Errorf("after %s, %s changed (%v %v)", after, filepath.Base(f.path), err, serr)
	}
	for _, ext := range []string{"-wal", "-shm", "-journal"} {
		if _, err := os.Lstat(f.path + ext); err == nil {
			t.Errorf("after %s, %s%s was left beside it", after, filepath.Base(f.path), ext)
		}
	}
}

// otherProgramDB writes an SQLite file of another program (its own table), in WAL mode
// or not, with the driver the store uses.
func otherProgramDB(t *testing.T, path string, wal bool) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stmts := "CREATE TABLE readings (station TEXT, chl REAL); INSERT INTO readings VALUES ('Limfjord A', 4.2)"
	if wal {
		stmts = "PRAGMA journal_mode=WAL; " + stmts
	}
	if _, err := db.Exec(stmts); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// 'screen' and 'export' given, as their store, a file phytoscreen did not make (another
// program's SQLite database, a text file) refuse it, naming it and the fix, and leave it
// as it was: same bytes, same time, no -wal or -shm; screen screens nothing.
func TestStoreOtherFilesUntouched(t *testing.T) {
	dir := t.TempDir()
	frames := filepath.Join(dir, "frames")
	good, err := os.ReadFile("../../testdata/mixed-images/good acantharia.jpg")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(frames, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(frames, "f1.jpg"), good, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, want string }{
		{"readings.db", "is an SQLite database of another program (tables readings)"},
		{"readings-wal.db", "is an SQLite database of another program (tables readings)"},
		{"notes.txt", "is not an SQLite database (it begins \"sample LIM-1 wat\")"},
	}
	for _, c := range cases {
		path := filepath.Join(dir, c.name)
		switch c.name {
		case "notes.txt":
			os.WriteFile(path, []byte("sample LIM-1 water 2 L, Lugol\n"), 0o644)
		default:
			otherProgramDB(t, path, strings.Contains(c.name, "wal"))
		}
		f := freezeFile(t, path)
		out := filepath.Join(dir, c.name+".csv")
		for _, args := range [][]string{
			{"screen", "--source", frames, "--sample", "LIM-1", "--baseline", "0", "--db", path},
			{"export", "--db", path, "--sample", "LIM-1", "--out", out},
		} {
			code, stdout, stderr := run(t, args...)
			t.Logf("%s %s: exit %d: %s", args[0], c.name, code, stderr)
			if code != exitRuntime || stdout != "" || !strings.Contains(stderr, path+" "+c.want) ||
				!strings.Contains(stderr, "phytoscreen will not write into it and left it as it was: choose another --db path") {
				t.Errorf("%s %s: exit %d, stdout %q: want 3, nothing screened, and the file named with the fix", args[0], c.name, code, stdout)
			}
			f.check(t, args[0])
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("export of %s wrote %s", c.name, out)
		}
	}
}

// archiveEnv names the store in a read-only folder and the output folder of
// TestExportFromReadOnlyFolder's check: "DB|OUTDIR".
const archiveEnv = "PHYTOSCREEN_EXPORT_ARCHIVE"

// 'export' reads a store in a read-only folder (an archive) and writes nothing beside
// it. Root writes everywhere, so under root the check runs as user nobody, who owns the
// store file: only the folder is read-only.
func TestExportFromReadOnlyFolder(t *testing.T) {
	if env := os.Getenv(archiveEnv); env != "" {
		args := strings.Split(env, "|")
		checkExportArchive(t, args[0], args[1])
		return
	}
	s := storedSample(t, "ARCH-1", 5)
	s.Close() // everything in the file itself, as an archived store is
	root := testutil.TempDirForAll(t)
	archive, outDir := filepath.Join(root, "archive"), filepath.Join(root, "out")
	for _, d := range []string{archive, outDir} {
		if err := os.Mkdir(d, 0o777); err != nil {
			t.Fatal(err)
		}
		os.Chmod(d, 0o777) // whatever the umask
	}
	data, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(archive, "sessions.db")
	if err := os.WriteFile(db, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if testutil.IsRoot() {
		if err := os.Chown(db, testutil.NobodyUID, testutil.NobodyUID); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(archive, 0o555); err != nil {
		t.Fatal(err)
	}
	if !testutil.IsRoot() {
		checkExportArchive(t, db, outDir)
		return
	}
	out, err := testutil.RunAsNobody(t, "TestExportFromReadOnlyFolder", archiveEnv+"="+db+"|"+outDir)
	t.Log(out)
	if err != nil || !strings.Contains(out, "--- PASS: TestExportFromReadOnlyFolder") {
		t.Fatalf("check as nobody did not pass (%v)", err)
	}
}

func checkExportArchive(t *testing.T, db, outDir string) {
	f := freezeFile(t, db)
	out := filepath.Join(outDir, "counts.csv")
	code, stdout, stderr := run(t, "export", "--db", db, "--sample", "ARCH-1", "--out", out)
	t.Logf("exit %d: %s%s", code, stdout, stderr)
	if code != exitOK || !strings.Contains(stdout, "exported sample ARCH-1 (5 objects from 1 run") {
		t.Errorf("export from a read-only folder: exit %d, %q", code, stdout)
	}
	if rows := readCSV(t, out); len(rows) < 2 {
		t.Errorf("counts.csv has %d rows, want a header and the sample's taxa", len(rows))
	}
	f.check(t, "export")
}
