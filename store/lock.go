package store

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// One phytoscreen process at a time writes a store. SQLite would let two interleave
// their runs safely, but nothing told the second that the first was there: a second
// window on the same store, or `screen` beside the app, recorded into it in silence,
// each process's History missing the other's runs, and the two halving each other's
// speed and muddling each other's energy per cell on a 2-core bench. Open takes an
// exclusive flock on the lock file beside the store (its name and LockSuffix) and keeps
// it until Close; a second process's Open is refused with ErrInUse, naming the process
// that holds it. The kernel releases a flock when its process ends, however it ends, so
// a lock left by a killed phytoscreen never blocks the next one. Readers
// (OpenReadOnly: History, export, report, samples) take no lock.

// LockSuffix ends the name of the lock file beside a store being written.
const LockSuffix = ".lock"

// ErrInUse is the error (errors.Is) of Open for a store another phytoscreen process is
// writing. It matches ErrReadOnly too: for this process the store cannot be written
// now, and a caller that can read instead (the app's History, pack teach) does so.
var ErrInUse = errors.New("the session store is being written by another phytoscreen")

// inUseErr is Open's refusal of a store another process holds; it matches ErrInUse and
// ErrReadOnly.
type inUseErr struct{ msg string }

func (e *inUseErr) Error() string { return e.msg }
func (e *inUseErr) Is(target error) bool {
	return target == ErrInUse || target == ErrReadOnly
}

// writeLock is this process's hold on a store's lock file. Opens of one store within a
// process share it: the flock is the process's, and SQLite orders its connections.
type writeLock struct {
	path string // the lock file
	f    *os.File
	info os.FileInfo // the lock file as locked
	refs int
}

var (
	locksMu sync.Mutex
	locks   []*writeLock // held by this process
)

// lockPath is the lock file of the store at path: beside the file the path leads to, so
// that a store reached through a link and by its own name has one lock.
func lockPath(path string) string {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		return real + LockSuffix
	}
	if dir, err := filepath.EvalSymlinks(filepath.Dir(path)); err == nil {
		return filepath.Join(dir, filepath.Base(path)) + LockSuffix
	}
	return path + LockSuffix
}

// lockForWriting takes the write lock of the store at path for this process, or says
// which process holds it.
func lockForWriting(path string) (*writeLock, error) {
	lp := lockPath(path)
	locksMu.Lock()
	defer locksMu.Unlock()
	for range 10 {
		f, err := os.OpenFile(lp, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0o644)
		if err != nil {
			return nil, fmt.Errorf("session store %s: make its lock file %s: %w: remove what is at that path, or pass another --db FILE", path, lp, err)
		}
		fi, err := f.Stat()
		if err == nil && !fi.Mode().IsRegular() {
			err = errors.New("not a regular file")
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("session store %s: its lock file %s: %w: remove it, or pass another --db FILE", path, lp, err)
		}
		for _, l := range locks {
			if os.SameFile(l.info, fi) { // this process holds it already
				f.Close()
				l.refs++
				return l, nil
			}
		}
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if errors.Is(err, syscall.EWOULDBLOCK) {
			// The holder writes who it is just after it locks: met in between, wait a
			// moment for it.
			holder := readHolder(f)
			for wait := 0; holder.pid == 0 && wait < 20; wait++ {
				time.Sleep(10 * time.Millisecond)
				holder = readHolder(f)
			}
			f.Close()
			return nil, inUse(path, holder)
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("session store %s: lock %s: %w: put the store on a local disk, or pass another --db FILE", path, lp, err)
		}
		// The last holder removes the file as it lets go: one opened before that, and
		// locked after, is no longer the lock file. Try the one at the path now.
		if cur, err := os.Lstat(lp); err != nil || !os.SameFile(cur, fi) {
			f.Close()
			continue
		}
		if err := f.Truncate(0); err == nil {
			_, _ = f.WriteAt([]byte(holderText()), 0) // who holds it, for the refusal's message: the flock is the lock
		}
		l := &writeLock{path: lp, f: f, info: fi, refs: 1}
		locks = append(locks, l)
		return l, nil
	}
	return nil, fmt.Errorf("session store %s: its lock file %s keeps being replaced: check what else writes in that folder, or pass another --db FILE", path, lp)
}

// release lets go of one hold of l; the last one removes the lock file and unlocks it.
func (l *writeLock) release() {
	if l == nil {
		return
	}
	locksMu.Lock()
	defer locksMu.Unlock()
	l.refs--
	if l.refs > 0 {
		return
	}
	for i, h := range locks {
		if h == l {
			locks = append(locks[:i], locks[i+1:]...)
			break
		}
	}
	// Removed while still locked: another process's Open that opened it meanwhile finds
	// it gone once it has the flock, and makes a new one.
	if cur, err := os.Lstat(l.path); err == nil && os.SameFile(cur, l.info) {
		os.Remove(l.path)
	}
	l.f.Close()
}

// holder is what a lock file says of the process holding it.
type holder struct {
	pid     int
	host    string
	since   time.Time
	command string
}

// holderText is this process, as its lock file says it: one "key value" a line.
func holderText() string {
	host, _ := os.Hostname()
	cmd := filepath.Base(os.Args[0])
	if len(os.Args) > 1 {
		cmd += " " + strings.Join(os.Args[1:], " ")
	}
	cmd = strings.ToValidUTF8(strings.ReplaceAll(cmd, "\n", " "), "?")
	if len(cmd) > 200 {
		cmd = cmd[:200] + "…"
	}
	return fmt.Sprintf("pid %d\nhost %s\nsince %s\ncommand %s\n", os.Getpid(), host, time.Now().UTC().Format(time.RFC3339), cmd)
}

// readHolder reads who holds a lock file; what it cannot read stays zero.
func readHolder(f *os.File) holder {
	var h holder
	b, err := io.ReadAll(io.LimitReader(io.NewSectionReader(f, 0, 4096), 4096))
	if err != nil {
		return h
	}
	for line := range strings.Lines(string(b)) {
		key, val, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch key {
		case "pid":
			h.pid, _ = strconv.Atoi(val)
		case "host":
			h.host = val
		case "since":
			h.since, _ = time.Parse(time.RFC3339, val)
		case "command":
			h.command = val
		}
	}
	return h
}

// inUse is the refusal of the store at path, held by h: who holds it and what to do.
func inUse(path string, h holder) error {
	who := "another phytoscreen"
	var about []string
	if h.pid > 0 {
		p := fmt.Sprintf("process %d", h.pid)
		if me, _ := os.Hostname(); h.host != "" && h.host != me {
			p += " on " + h.host
		}
		about = append(about, p)
	}
	if h.command != "" {
		about = append(about, strconv.Quote(h.command))
	}
	if !h.since.IsZero() {
		about = append(about, "since "+h.since.Local().Format("2006-01-02 15:04"))
	}
	if len(about) > 0 {
		who += " (" + strings.Join(about, ", ") + ")"
	}
	return &inUseErr{fmt.Sprintf("session store %s is in use by %s: one phytoscreen at a time records into a store. "+
		"Close the other phytoscreen (or let its command finish) and try again, or pass another --db FILE; "+
		"History, export, report and samples can still read this store meanwhile", path, who)}
}
