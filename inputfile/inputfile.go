// Package inputfile opens the files a user names as input (images, videos, rules files,
// pack manifests, label lists) so that a wrong kind of file cannot hold the program: a
// named pipe, socket or device is refused before anything reads it (reading a FIFO
// blocks until someone writes to it, a device may never end), and every read is capped
// in size. Errors name the file, say what it is and what to give instead.
package inputfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Size caps for the kinds of input file, chosen far above any real file of that kind.
const (
	MaxText  = 4 << 20  // a TOML or JSON settings file: rules, pack.json, run.json
	MaxList  = 64 << 20 // a CSV list: labelled images, annotations, results
	MaxImage = 1 << 30  // one image file (a 100 Mpx 16-bit colour TIFF is 800 MB)
)

// Errors a caller can test with errors.Is.
var (
	ErrNotRegular = errors.New("not a regular file")
	ErrTooLarge   = errors.New("file over the size limit")
)

// refusal is an error whose message names the file and the fix, and which wraps one of
// the errors above.
type refusal struct {
	msg  string
	kind error
}

func (r *refusal) Error() string { return r.msg }
func (r *refusal) Unwrap() error { return r.kind }

// Kind says what a file of mode is, for messages: "a named pipe (FIFO)", "a socket",
// "a device", "a folder", "a regular file".
func Kind(mode fs.FileMode) string {
	switch {
	case mode.IsRegular():
		return "a regular file"
	case mode.IsDir():
		return "a folder"
	case mode&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case mode&fs.ModeSocket != 0:
		return "a socket"
	case mode&fs.ModeCharDevice != 0:
		return "a character device"
	case mode&fs.ModeDevice != 0:
		return "a block device"
	case mode&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "not a regular file (" + mode.Type().String() + ")"
}

// CheckInfo refuses what is not a regular file of at most limit bytes (no limit when
// limit <= 0); name is how the file is named in the error.
func CheckInfo(name string, fi fs.FileInfo, limit int64) error {
	if !fi.Mode().IsRegular() {
		return &refusal{fmt.Sprintf("%s is %s, not a file: give a regular file", name, Kind(fi.Mode())), ErrNotRegular}
	}
	if limit > 0 && fi.Size() > limit {
		return tooLarge(name, fi.Size(), limit)
	}
	return nil
}

// tooLarge is the error for a file over limit; size < 0 when only that is known.
func tooLarge(name string, size, limit int64) error {
	is := "is " + human(size) + ","
	if human(size) == human(limit) {
		is = fmt.Sprintf("is %d bytes,", size)
	}
	if size < 0 {
		is = "is"
	}
	return &refusal{fmt.Sprintf("%s %s over the %s this kind of file may have: check that it is the right file", name, is, human(limit)), ErrTooLarge}
}

// human writes a byte count as people read it: 5.2 MiB.
func human(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// Check returns path's information (symbolic links followed) when it is a regular file
// of at most limit bytes (no limit when limit <= 0), and an error saying what it is
// otherwise. Errors from the file system (missing, no permission) are returned as they
// are, for the caller to word.
func Check(path string, limit int64) (fs.FileInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	return fi, CheckInfo(path, fi, limit)
}

// Open opens path for reading when it is a regular file of at most limit bytes. The
// file is opened without blocking and checked again once open, so a path replaced by a
// FIFO between the check and the open cannot hold the program either.
func Open(path string, limit int64) (*os.File, error) {
	if _, err := Check(path, limit); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil {
		err = CheckInfo(path, fi, limit)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// ReadFile reads path whole when it is a regular file of at most limit bytes; a file
// that grows past limit while it is read is refused too.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := Open(path, limit)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readCapped(f, path, limit)
}

// ReadFS is ReadFile on a file system (a pack folder): display names the file in errors.
func ReadFS(fsys fs.FS, name, display string, limit int64) ([]byte, error) {
	fi, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, err
	}
	if err := CheckInfo(display, fi, limit); err != nil {
		return nil, err
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readCapped(f, display, limit)
}

// readCapped reads r to its end, refusing more than limit bytes.
func readCapped(r io.Reader, name string, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, tooLarge(name, -1, limit) // it grew after the check
	}
	return data, nil
}
