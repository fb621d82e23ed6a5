package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/screening"
)

// holdChildEnv names the store a re-run test binary opens and holds until killed.
const holdChildEnv = "PHYTOSCREEN_STORE_HOLD_CHILD"

// TestHoldChild is the child side of TestSecondProcessToldStoreInUse: it opens the store
// for writing, records a sample, says so, and holds the store until it is killed.
func TestHoldChild(t *testing.T) {
	path := os.Getenv(holdChildEnv)
	if path == "" {
		t.Skip("child process of TestSecondProcessToldStoreInUse")
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.StartRun(context.Background(), screening.RunInfo{Sample: testSample(), Spec: capture.Camera("0"), Model: inference.Optimised, Threshold: 0.5, Taxonomy: testTaxonomy(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Finish(context.Background(), screening.Snapshot{}, nil); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("HELD %d\n", os.Getpid())
	time.Sleep(30 * time.Second) // never outlive a parent that died
}

// A second process that would write a store another phytoscreen holds is told so at
// Open, with the holder's process ID and command and what to do; it can still read the
// store, and a run asked of it read-only says why it is refused. Once the holder is
// killed (SIGKILL: nothing released by hand), the next Open takes the store at once.
func TestSecondProcessToldStoreInUse(t *testing.T) {
	if os.Getenv(holdChildEnv) != "" {
		t.Skip("in the child")
	}
	db := filepath.Join(t.TempDir(), "sessions.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHoldChild$", "-test.v")
	cmd.Env = append(os.Environ(), holdChildEnv+"="+db)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill() //nolint:errcheck // killed below; this is for a failure before
	held := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if pid, ok := strings.CutPrefix(sc.Text(), "HELD "); ok {
				n, _ := strconv.Atoi(pid)
				held <- n
			}
		}
		close(held)
	}()
	var pid int
	select {
	case p, ok := <-held:
		if !ok {
			t.Fatal("the child ended before it held the store")
		}
		pid = p
	case <-time.After(60 * time.Second):
		t.Fatal("the child did not open the store in 60 s")
	}

	_, err = Open(db)
	if !errors.Is(err, ErrInUse) || !errors.Is(err, ErrReadOnly) {
		t.Fatalf("Open of a store another process holds: %v, want ErrInUse (and ErrReadOnly)", err)
	}
	for _, want := range []string{
		"session store " + db + " is in use by another phytoscreen (process " + strconv.Itoa(pid) + ",",
		"-test.run=^TestHoldChild$",
		"Close the other phytoscreen", "pass another --db FILE", "can still read this store",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal does not say %q:\n%v", want, err)
		}
	}

	// Reading is safe beside the writer, and a run asked of the store so opened is
	// refused with why.
	ro, err := OpenReadOnlyBecause(db, err)
	if err != nil {
		t.Fatalf("read beside the writer: %v", err)
	}
	ids, err := ro.SampleIDs(context.Background())
	if err != nil || len(ids) != 1 || ids[0] != testSample().ID {
		t.Errorf("samples read beside the writer: %v, %v", ids, err)
	}
	_, err = ro.StartRun(context.Background(), screening.RunInfo{Sample: testSample(), Spec: capture.Camera("1"), Model: inference.Optimised, Threshold: 0.5, Taxonomy: testTaxonomy(t)})
	if err == nil || !strings.HasPrefix(err.Error(), "a run cannot be recorded: session store "+db+" is in use by another phytoscreen (process "+strconv.Itoa(pid)) {
		t.Errorf("a run in the store read beside the writer: %v", err)
	}
	ro.Close()

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait() //nolint:errcheck // killed
	if _, err := os.Stat(db + LockSuffix); err != nil {
		t.Fatalf("the killed holder's lock file is gone (%v): the test does not test a lock left behind", err)
	}
	s, err := Open(db)
	if err != nil {
		t.Fatalf("Open after the holder was killed: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(db + LockSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the lock file is left after Close: %v", err)
	}
}

// holdLock takes the flock another process would hold on path's lock file, through a
// file opened apart from the store (flock is per open file: this process's Open meets it
// as it would another process's), saying what text says of its holder.
func holdLock(t *testing.T, path, text string) (release func()) {
	t.Helper()
	f, err := os.OpenFile(path+LockSuffix, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	return func() { f.Close() }
}

// Open refuses a store whose lock another holds, whichever path names the store (its
// own or a link to it), without making the store; once the lock is let go it opens.
func TestOpenRefusedWhileLockHeld(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "sessions.db")
	link := filepath.Join(dir, "link.db")
	if err := os.Symlink(db, link); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	holder := fmt.Sprintf("pid 4242\nhost %s\nsince 2026-03-04T05:06:07Z\ncommand phytoscreen gui --db %s\n", host, db)
	refused := func(path string) {
		t.Helper()
		s, err := Open(path)
		if err == nil {
			s.Close()
			t.Fatalf("Open(%s) while another holds its lock: opened", path)
		}
		want := fmt.Sprintf("session store %s is in use by another phytoscreen (process 4242, %q, since %s): one phytoscreen at a time records into a store.",
			path, "phytoscreen gui --db "+db, time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC).Local().Format("2006-01-02 15:04"))
		if !errors.Is(err, ErrInUse) || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Open(%s):\n%v\nwant ErrInUse beginning\n%s", path, err, want)
		}
	}
	release := holdLock(t, db, holder)
	refused(db)
	if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused Open made the store: %v", err)
	}
	release()
	s, err := Open(db)
	if err != nil {
		t.Fatalf("Open once the lock was let go: %v", err)
	}
	s.Close()
	release = holdLock(t, db, holder)
	refused(link)
	release()
	s, err = Open(link)
	if err != nil {
		t.Fatalf("Open through the link once the lock was let go: %v", err)
	}
	s.Close()
}

// Opens of one store in one process share its lock (the app opens it for the session and
// again to bring it up to date for a report): each opens, and the lock holds until the
// last is closed, then its file is removed.
func TestOpensInOneProcessShareTheLock(t *testing.T) {
	db := filepath.Join(t.TempDir(), "sessions.db")
	a, err := Open(db)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(db)
	if err != nil {
		t.Fatalf("a second Open in the process holding the store: %v", err)
	}
	tryLock := func() error {
		f, err := os.OpenFile(db+LockSuffix, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil { // a second Close lets go of nothing more
		t.Logf("second Close: %v", err)
	}
	if err := tryLock(); !errors.Is(err, syscall.EWOULDBLOCK) {
		t.Errorf("with one Open still open, another file's flock: %v, want EWOULDBLOCK", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(db + LockSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the lock file is left after the last Close: %v", err)
	}
}
