package outfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
}

func mustWrite(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func content(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A failing write leaves neither a partial file nor a temporary one and keeps the
// previous file; a good one replaces it with the permissions the user gave it.
func TestWriteAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "counts.csv")
	mustWrite(t, path, "previous export\n")
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	err := Write(path, func(w io.Writer) error {
		io.WriteString(w, strings.Repeat("half a file\n", 100000))
		return errors.New("disk full")
	})
	if err == nil || !strings.Contains(err.Error(), "write "+path+": disk full") {
		t.Fatalf("err %v", err)
	}
	if got := content(t, path); got != "previous export\n" {
		t.Errorf("previous file changed to %d bytes", len(got))
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("folder holds %d entries after a failed write, want only the previous file", len(entries))
	}
	if err := Write(path, writeString("new\n")); err != nil {
		t.Fatal(err)
	}
	if got := content(t, path); got != "new\n" {
		t.Errorf("file holds %q", got)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v after the write, want the earlier 0640", fi.Mode().Perm())
	}
	// An output that cannot be created at all says which folder and what to do, and is
	// a *CreateError (commands give it exit 3, not the exit of a failed write).
	for _, c := range []struct{ out, want string }{
		{filepath.Join(dir, "no", "such", "dir.csv"), "folder " + filepath.Join(dir, "no", "such") + " does not exist: make it (mkdir -p " + filepath.Join(dir, "no", "such") + ")"},
		{filepath.Join(path, "dir.csv"), path + " is not a folder: give a path in a folder"},
	} {
		err := Write(c.out, writeString("x"))
		if _, ok := errors.AsType[*CreateError](err); !ok || !strings.Contains(fmt.Sprint(err), "write "+c.out+": "+c.want) {
			t.Errorf("a write to %s: %v, want a CreateError saying %q", c.out, err, c.want)
		}
	}
	if err := Write(dir, writeString("x")); err == nil || !strings.Contains(err.Error(), "it is a folder") {
		t.Errorf("a folder as output: %v", err)
	}
}

// A symlink is written through: the link stays a link and its target gets the output,
// a dangling link creates its target.
func TestWriteThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real.csv")
	mustWrite(t, target, "old\n")
	link := filepath.Join(dir, "link.csv")
	if err := os.Symlink("real.csv", link); err != nil {
		t.Fatal(err)
	}
	if err := Write(link, writeString("new\n")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v %v", fi.Mode(), err)
	}
	if got := content(t, target); got != "new\n" {
		t.Errorf("target holds %q", got)
	}
	dangling := filepath.Join(dir, "dangling.csv")
	if err := os.Symlink(filepath.Join(dir, "sub-missing.csv"), dangling); err != nil {
		t.Fatal(err)
	}
	if err := Write(dangling, writeString("made\n")); err != nil {
		t.Fatal(err)
	}
	if got := content(t, filepath.Join(dir, "sub-missing.csv")); got != "made\n" {
		t.Errorf("dangling link's target holds %q", got)
	}
	loop := filepath.Join(dir, "loop")
	os.Symlink("loop", loop)
	if err := Write(loop, writeString("x")); err == nil || !strings.Contains(err.Error(), "too many levels") {
		t.Errorf("a link loop: %v", err)
	}
}

// A device node is written through, never replaced by a regular file; a full device's
// error says so.
func TestWriteThroughDevice(t *testing.T) {
	if err := Write("/dev/null", writeString("discarded\n")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat("/dev/null"); err != nil || fi.Mode()&fs.ModeCharDevice == 0 {
		t.Fatalf("/dev/null is now %v (%v)", fi.Mode(), err)
	}
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Fatalf("this machine has no /dev/full: %v", err)
	}
	err := Write("/dev/full", writeString(strings.Repeat("x", 1<<20)))
	t.Logf("/dev/full: %v", err)
	if err == nil || !strings.Contains(err.Error(), "the disk is full") {
		t.Errorf("/dev/full: %v", err)
	}
	if fi, _ := os.Stat("/dev/full"); fi.Mode()&fs.ModeCharDevice == 0 {
		t.Fatalf("/dev/full is now %v", fi.Mode())
	}
}

// An output that is an input, by any name (symlink, hard link, ./), is refused; a
// store's -wal and -shm files count as the store.
func TestCheckNotInput(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "cell.png")
	mustWrite(t, img, "pixels")
	hard := filepath.Join(dir, "hard.png")
	if err := os.Link(img, hard); err != nil {
		t.Fatal(err)
	}
	soft := filepath.Join(dir, "soft.png")
	os.Symlink(img, soft)
	in := Input{Path: img, What: "an input image"}
	for _, out := range []string{img, hard, soft, dir + "/./cell.png"} {
		err := CheckNotInput(out, in)
		if !errors.Is(err, ErrIsInput) || !strings.Contains(err.Error(), "is an input image") {
			t.Errorf("%s: %v", out, err)
		}
	}
	for _, out := range []string{filepath.Join(dir, "results.csv"), "/dev/null"} {
		if err := CheckNotInput(out, in); err != nil {
			t.Errorf("%s: %v", out, err)
		}
	}
	db := filepath.Join(dir, "sessions.db")
	mustWrite(t, db, "store")
	mustWrite(t, db+"-wal", "wal")
	if err := CheckNotInput(db+"-wal", Input{Path: db, What: StoreWhat}); !errors.Is(err, ErrIsInput) {
		t.Errorf("the store's -wal: %v", err)
	}
	if err := CheckNotInput(db+"-wal", in); err != nil {
		t.Errorf("a -wal beside an image is not the image: %v", err)
	}
}

// Abort keeps the earlier file; CommitAs puts the output beside it instead.
func TestAbortAndCommitAs(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "results.csv")
	mustWrite(t, path, "earlier\n")
	f, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(f, "partial\n")
	f.Abort()
	if got := content(t, path); got != "earlier\n" {
		t.Errorf("after Abort the file holds %q", got)
	}
	f, _ = Create(path)
	io.WriteString(f, "partial\n")
	if err := f.CommitAs(path + ".partial"); err != nil {
		t.Fatal(err)
	}
	if got := content(t, path); got != "earlier\n" {
		t.Errorf("after CommitAs the file holds %q", got)
	}
	if got := content(t, path+".partial"); got != "partial\n" {
		t.Errorf("the partial file holds %q", got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("%d entries, want the file and its partial", len(entries))
	}
}

// CheckKind refuses an extension that names another kind of file, and lets pass the
// wanted ones (any case) and those that name no kind.
func TestCheckKind(t *testing.T) {
	for path, ok := range map[string]bool{
		"r.pdf": true, "R.PDF": true, "r": true, "r.txt": true, "dir.d/r": true,
		"r.csv": false, "r.zip": false, "r.json": false, "r.db": false,
	} {
		err := CheckKind(path, "a PDF report", ".pdf")
		if (err == nil) != ok {
			t.Errorf("CheckKind(%q): %v, want ok %v", path, err, ok)
		}
		if err != nil && (!strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "name it .pdf") || !errors.Is(err, ErrWrongKind)) {
			t.Errorf("CheckKind(%q): %v does not name the file and the fix", path, err)
		}
	}
	// An SQLite file (a session store) is refused whatever its name, even .pdf; a file
	// of other bytes under a name that passes is the user's to replace.
	dir := t.TempDir()
	for name, data := range map[string]string{"bench": "SQLite format 3\x00" + strings.Repeat("x", 100), "week.pdf": "SQLite format 3\x00page", "old.pdf": "%PDF-1.3 old report"} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		err := CheckKind(path, "a PDF report", ".pdf")
		if want := strings.HasPrefix(data, "SQLite"); (err != nil) != want || err != nil && (!errors.Is(err, ErrWrongKind) || !strings.Contains(err.Error(), path+" is an SQLite database")) {
			t.Errorf("CheckKind(%s holding %.10q): %v; want refused %v", name, data, err, want)
		}
	}
}

// An output folder asked for that is something else is named as what it is, with
// ErrNotFolder; a folder, a link to one, or a path not there yet passes.
func TestCheckFolder(t *testing.T) {
	dir := t.TempDir()
	file, fifo, link, missing := filepath.Join(dir, "objects.csv"), filepath.Join(dir, "pipe"), filepath.Join(dir, "link"), filepath.Join(dir, "new")
	mustWrite(t, file, "x")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{dir, ""}, {link, ""}, {missing, ""},
		{file, file + " is a file, not a folder"},
		{"/dev/null", "/dev/null is a device, not a folder"},
		{fifo, fifo + " is a FIFO (named pipe), not a folder"},
	} {
		err := CheckFolder(c.path)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v, want it taken", c.path, err)
		case c.want != "" && (!errors.Is(err, ErrNotFolder) || err.Error() != c.want):
			t.Errorf("%s: %v, want %q (ErrNotFolder)", c.path, err, c.want)
		}
	}
}
