package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/screening"
)

// createChildEnv names the store a re-run test binary opens at the moment given by
// createAtEnv (Unix nanoseconds), so that several processes make it at once.
const (
	createChildEnv = "PHYTOSCREEN_STORE_CREATE_CHILD"
	createAtEnv    = "PHYTOSCREEN_STORE_CREATE_AT"
	createIndexEnv = "PHYTOSCREEN_STORE_CREATE_INDEX"
)

// TestCreateChild is the child side of TestProcessesCreatingOneStoreAtOnce: it waits for
// the agreed moment, opens the store and records one run in it, of a sample of its own;
// refused because another child holds the store, it prints the refusal after
// refusedMark and passes.
func TestCreateChild(t *testing.T) {
	path := os.Getenv(createChildEnv)
	if path == "" {
		t.Skip("child process of TestProcessesCreatingOneStoreAtOnce")
	}
	at, err := strconv.ParseInt(os.Getenv(createAtEnv), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(time.Unix(0, at)))
	s, err := Open(path)
	if errors.Is(err, ErrInUse) {
		fmt.Println(refusedMark + err.Error())
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sample := testSample()
	sample.ID += "-" + os.Getenv(createIndexEnv) // a sample each: a finished run's settings differ from a running one's
	r, err := s.StartRun(context.Background(), screening.RunInfo{Sample: sample, Spec: capture.Camera("0"), Model: inference.Optimised, Threshold: 0.5, Taxonomy: testTaxonomy(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Finish(context.Background(), screening.Snapshot{}, nil); err != nil {
		t.Fatal(err)
	}
}

// refusedMark begins the line a child prints when another child holds the store.
const refusedMark = "REFUSED: "

// Programs that make the same new store at the same moment (the app and a screen command
// started together on a new bench) each either open it and record their run, or are
// told that another phytoscreen holds it (ErrInUse, naming it): none fails on the
// schema another has just written, none meets "database is locked", and the store
// holds the run of each that opened it. Processes, not goroutines, since the locks
// between processes (SQLite's, the store's write lock) are what they meet on.
func TestProcessesCreatingOneStoreAtOnce(t *testing.T) {
	if os.Getenv(createChildEnv) != "" {
		t.Skip("in the child")
	}
	const procs = 4
	for round := range 3 { // the collision needs the processes to meet at the right instant
		db := filepath.Join(t.TempDir(), fmt.Sprintf("new-%d.db", round))
		at := time.Now().Add(1500 * time.Millisecond).UnixNano() // after every child has started
		var wg sync.WaitGroup
		errs := make([]string, procs)
		refused := make([]string, procs)
		for i := range procs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd := exec.Command(os.Args[0], "-test.run=^TestCreateChild$", "-test.v")
				cmd.Env = append(os.Environ(), createChildEnv+"="+db, createAtEnv+"="+strconv.FormatInt(at, 10), createIndexEnv+"="+strconv.Itoa(i))
				out, err := cmd.CombinedOutput()
				if err != nil {
					errs[i] = fmt.Sprintf("process %d: %v\n%s", i, err, out)
				}
				for line := range strings.Lines(string(out)) {
					if msg, ok := strings.CutPrefix(strings.TrimSpace(line), refusedMark); ok {
						refused[i] = msg
					}
				}
			}()
		}
		wg.Wait()
		if failed := strings.TrimSpace(strings.Join(errs, "")); failed != "" {
			t.Fatalf("round %d: %d processes made %s at once and some failed:\n%s", round, procs, db, failed)
		}
		opened := 0
		for _, msg := range refused {
			if msg == "" {
				opened++
			} else if !strings.Contains(msg, "is in use by another phytoscreen (process ") || !strings.Contains(msg, "pass another --db FILE") {
				t.Errorf("round %d: a refusal that names no process or fix: %s", round, msg)
			}
		}
		t.Logf("round %d: %d of %d processes opened the store, the others were told it was in use", round, opened, procs)
		if opened == 0 {
			t.Fatalf("round %d: every process was refused: %q", round, refused)
		}
		s, err := OpenReadOnly(db)
		if err != nil {
			t.Fatal(err)
		}
		ids, err := s.SampleIDs(context.Background())
		s.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) != opened {
			t.Fatalf("round %d: the store holds samples %v, want one from each of the %d processes that opened it", round, ids, opened)
		}
	}
}

// isBusy knows SQLite's "database is locked" (SQLITE_BUSY) through the error chain as
// Open and init wrap it, and nothing else.
func TestIsBusy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "locked.db")
	holder, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	tx, err := holder.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()                                     //nolint:errcheck
	if _, err := tx.Exec("CREATE TABLE t(x)"); err != nil { // holds the write lock
		t.Fatal(err)
	}
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	_, err = other.Exec("CREATE TABLE u(x)")
	if err == nil {
		t.Fatal("a second writer was not refused")
	}
	if wrapped := fmt.Errorf("session store %s: %w", path, err); !isBusy(wrapped) {
		t.Errorf("isBusy(%v) = false", wrapped)
	}
	if isBusy(fmt.Errorf("session store: %w", sql.ErrNoRows)) {
		t.Error("isBusy took another error for SQLITE_BUSY")
	}
}
