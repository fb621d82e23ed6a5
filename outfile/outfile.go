// Package outfile writes the files phytoscreen produces (exports, result tables,
// confusion matrices) so that an output never destroys anything: a path that is one of
// the command's inputs or its session store is refused (compared by file identity, not
// by name, so a symlink, a hard link or "./x" is caught too), a regular file is replaced
// atomically and only once the whole output was written (an interrupted or failed write
// leaves the earlier file as it was), and device nodes (/dev/null, /dev/stdout) and
// symlinks are written through instead of being replaced by a regular file.
package outfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// ErrIsInput is returned when an output path names one of the inputs.
var ErrIsInput = errors.New("the output would overwrite an input")

// Input is a file the command reads, with what it is (for the message).
type Input struct {
	Path string
	What string // "the session store", "an input image", "the label list", ...
}

// CheckNotInput refuses out when it is the same file as one of inputs (after following
// symlinks, by device and inode). An output that does not exist yet is never an input.
// SQLite's -wal and -shm files beside a store count as the store.
func CheckNotInput(out string, inputs ...Input) error {
	ofi, err := os.Stat(out)
	if err != nil {
		return nil // nothing there yet (or unreadable: the write itself will say why)
	}
	for _, in := range inputs {
		if in.Path == "" {
			continue
		}
		paths := []string{in.Path}
		if in.What == StoreWhat {
			paths = append(paths, in.Path+"-wal", in.Path+"-shm", in.Path+"-journal")
		}
		for _, p := range paths {
			if ifi, err := os.Stat(p); err == nil && os.SameFile(ofi, ifi) {
				alias := ""
				if filepath.Clean(out) != filepath.Clean(p) {
					alias = " (" + p + ")"
				}
				return fmt.Errorf("%s is %s%s: %w; give another output path", out, in.What, alias, ErrIsInput)
			}
		}
	}
	return nil
}

// StoreWhat names a session store in CheckNotInput's message; an input with this What
// also guards its SQLite -wal and -shm files.
const StoreWhat = "the session store"

// Write writes path whole or not at all through write (see Create).
func Write(path string, write func(io.Writer) error) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Abort()
		return wrap(path, err)
	}
	return f.Commit()
}

// File is an output being written. Commit makes it visible at its path; Abort drops it
// (the earlier file stays). For a device node or a FIFO the bytes go straight through:
// there is nothing to roll back, and Commit only flushes.
type File struct {
	path    string // where the output appears (a symlink's target, resolved)
	tmp     *os.File
	through *os.File
	bw      *bufio.Writer
	mode    fs.FileMode
	done    bool
}

// ErrNotFolder is an output folder asked for that is something else (CheckFolder).
var ErrNotFolder = errors.New("not a folder")

// CheckFolder refuses an output folder path that is there and is not a folder (after
// links), saying what it is: a regular file, a device (/dev/null), a FIFO or a socket.
// A path not there yet passes: the command makes the folder. "mkdir /dev/null: not a
// directory" said neither what was wrong nor the fix (helper-83); the caller adds the
// fix, which depends on what it writes there.
func CheckFolder(path string) error {
	fi, err := os.Stat(path)
	if err != nil || fi.IsDir() {
		return nil // missing (made by the caller), or unreadable: the mkdir says why
	}
	what := "a file"
	switch m := fi.Mode(); {
	case m&fs.ModeDevice != 0:
		what = "a device"
	case m&fs.ModeNamedPipe != 0:
		what = "a FIFO (named pipe)"
	case m&fs.ModeSocket != 0:
		what = "a socket"
	}
	return fmt.Errorf("%s is %s, %w", path, what, ErrNotFolder)
}

// ErrIsFolder is an output path that names a folder: the user's mistake in the
// arguments, which commands report as such (exit 2).
var ErrIsFolder = errors.New("it is a folder: give a file name")

// Create opens path for an output. A symlink is followed (its target is written, the
// link stays a link), a device node or FIFO is written through, a folder is refused, and
// a regular file (or a new one) is written to a temporary file beside it that Commit
// renames over it.
func Create(path string) (*File, error) {
	target, err := resolve(path)
	if err != nil {
		return nil, err
	}
	mode := fs.FileMode(0o644)
	if fi, err := os.Stat(target); err == nil {
		switch {
		case fi.IsDir():
			return nil, fmt.Errorf("write %s: %w", path, ErrIsFolder)
		case !fi.Mode().IsRegular():
			return openThrough(path, target, fi)
		default:
			mode = fi.Mode().Perm() // keep the permissions the user gave the earlier file
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".tmp-*")
	if err != nil {
		return nil, &CreateError{Path: path, Dir: filepath.Dir(target), Err: err}
	}
	return &File{path: target, tmp: tmp, bw: bufio.NewWriterSize(tmp, 256<<10), mode: mode}, nil
}

// resolve follows path's symlinks to the file an output must land in. A dangling link
// resolves to the file it points at (which the output then creates).
func resolve(path string) (string, error) {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return path, nil
	}
	if t, err := filepath.EvalSymlinks(path); err == nil {
		return t, nil
	}
	for hops, p := 0, path; hops < 40; hops++ { // dangling or looping: follow by hand
		t, err := os.Readlink(p)
		if err != nil {
			return "", wrap(path, err)
		}
		if !filepath.IsAbs(t) {
			t = filepath.Join(filepath.Dir(p), t)
		}
		fi, err := os.Lstat(t)
		if errors.Is(err, fs.ErrNotExist) {
			return t, nil
		}
		if err != nil {
			return "", wrap(path, err)
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return t, nil
		}
		p = t
	}
	return "", fmt.Errorf("write %s: too many levels of symbolic links: fix the link or give another path", path)
}

func openThrough(path, target string, fi fs.FileInfo) (*File, error) {
	if fi.Mode()&fs.ModeSocket != 0 {
		return nil, fmt.Errorf("write %s: it is a socket, not a file: give a file name", path)
	}
	f, err := os.OpenFile(target, os.O_WRONLY, 0)
	if err != nil {
		return nil, wrap(path, err)
	}
	return &File{path: target, through: f, bw: bufio.NewWriterSize(f, 64<<10)}, nil
}

// CreateError is an output that could not be created at all: its folder is missing, is
// a file, or refuses new files. Nothing was written, and the fix is the folder, not the
// command's inputs, so commands report it as a setup failure (exit 3), apart from a
// write that fails part way (a full disk).
type CreateError struct {
	Path string // the output asked for
	Dir  string // the folder it was to be created in
	Err  error
}

func (e *CreateError) Error() string {
	switch {
	case errors.Is(e.Err, fs.ErrNotExist):
		// Worded as the session store's missing folder (store.Open).
		return fmt.Sprintf("write %s: folder %s does not exist: make it (mkdir -p %s) or choose a file in a folder that exists", e.Path, e.Dir, e.Dir)
	case errors.Is(e.Err, syscall.ENOTDIR):
		return fmt.Sprintf("write %s: %s is not a folder: give a path in a folder", e.Path, e.Dir)
	case errors.Is(e.Err, fs.ErrPermission):
		return fmt.Sprintf("write %s: folder %s does not let this user create files: give a path in a folder you can write", e.Path, e.Dir)
	}
	return wrap(e.Path, e.Err).Error()
}

func (e *CreateError) Unwrap() error { return e.Err }

// Write buffers p for the output.
func (f *File) Write(p []byte) (int, error) { return f.bw.Write(p) }

// Path is where the output lands (a symlink's target when path was a link).
func (f *File) Path() string { return f.path }

// Commit flushes the output and, for a regular file, syncs it and renames it over the
// path: only now does the earlier file go.
func (f *File) Commit() error {
	if f.done {
		return nil
	}
	f.done = true
	if f.through != nil {
		err := f.bw.Flush()
		if cerr := f.through.Close(); err == nil {
			err = cerr
		}
		return wrap(f.path, err)
	}
	err := f.bw.Flush()
	if err == nil {
		err = f.tmp.Sync()
	}
	if err == nil {
		err = f.tmp.Chmod(f.mode)
	}
	if cerr := f.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.tmp.Name(), f.path)
	}
	if err != nil {
		os.Remove(f.tmp.Name())
	}
	return wrap(f.path, err)
}

// CommitAs is Commit to another path (a partial result beside the output, say), leaving
// the output's path untouched. For a device node it is Commit.
func (f *File) CommitAs(path string) error {
	if f.through != nil {
		return f.Commit()
	}
	f.path = path
	return f.Commit()
}

// Abort drops a regular file's output; the earlier file at its path is untouched. Safe
// after Commit.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	if f.through != nil {
		_ = f.bw.Flush()
		f.through.Close()
		return
	}
	f.tmp.Close()
	os.Remove(f.tmp.Name())
}

// wrap names the output that failed, and when the disk is full says so and what to do.
func wrap(path string, err error) error {
	if err == nil {
		return nil
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err // the path is said once, below; a temporary file's name tells the user nothing
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EFBIG) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("write %s: %w: the disk is full (or a file size limit was reached): free some space or write to another disk; nothing was written to %s", path, err, filepath.Base(path))
	}
	return fmt.Errorf("write %s: %w", path, err)
}

// namedKinds are the extensions that say what a file holds, for CheckKind.
var namedKinds = map[string]string{
	".pdf": "a PDF", ".csv": "a CSV table", ".tsv": "a TSV table", ".json": "a JSON document",
	".zip": "a zip archive", ".db": "a database", ".sqlite": "a database", ".onnx": "a model",
	".toml": "a settings file", ".md": "a text document",
}

// CheckKind refuses an output path whose extension names another kind of file than the
// one written (what, named by the extensions want): a report written to counts.csv
// replaced the table with a PDF under a table's name (helper-60). An extension that
// says nothing of its kind (none, .txt, .out) is the user's choice and passes.
func CheckKind(path, what string, want ...string) error {
	if isSQLite(path) {
		// Whatever its name: the programme's weekly report written over a bench's
		// session store destroyed it (helper-76).
		return kindError(fmt.Sprintf("%s is an SQLite database (a session store?), and this writes %s over it: name another file; nothing was written", path, what))
	}
	// The name the output lands in counts too: written through a link named x.pdf, a
	// report replaced the frame the link pointed at (helper-77).
	for _, p := range Names(path) {
		ext := strings.ToLower(filepath.Ext(p))
		if slices.Contains(want, ext) {
			continue
		}
		held, ok := namedKinds[ext]
		if !ok {
			continue
		}
		if p != path {
			return kindError(fmt.Sprintf("%s links to %s, named as %s (%s), but this writes %s: give another path; nothing was written", path, p, held, ext, what))
		}
		return kindError(fmt.Sprintf("%s is named as %s (%s), but this writes %s: name it %s; nothing was written", path, held, ext, what, strings.Join(want, " or ")))
	}
	return nil
}

// Names are the names an output path goes by: the path, and when it is a symbolic link
// the file it leads to, which the output is written into (Write writes through links).
func Names(path string) []string {
	if t, err := resolve(path); err == nil && t != path {
		return []string{path, t}
	}
	return []string{path}
}

// isSQLite reports whether path is an existing regular file that begins with SQLite's
// header (a session store, whatever it is named).
func isSQLite(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return false
	}
	head := make([]byte, 16)
	n, _ := io.ReadFull(f, head)
	return n == 16 && string(head) == "SQLite format 3\x00"
}

// ErrWrongKind is what CheckKind's refusals are (errors.Is).
var ErrWrongKind = errors.New("an output named as another kind of file")

// kindError is a CheckKind refusal: its own message, and ErrWrongKind to errors.Is.
type kindError string

func (e kindError) Error() string        { return string(e) }
func (e kindError) Is(target error) bool { return target == ErrWrongKind }
