package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/testutil"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
)

// archiveEnv names the read-only store TestAppStoreOnReadOnlyFolder's check opens.
const archiveEnv = "PHYTOSCREEN_APP_ARCHIVE"

// The app's store in a read-only folder (an archive): it opens read-only, so History,
// reports and exports read its samples, and a run is refused saying why. Root writes
// everywhere, so under root the check runs as user nobody.
func TestAppStoreOnReadOnlyFolder(t *testing.T) {
	if path := os.Getenv(archiveEnv); path != "" {
		checkAppStoreReadOnly(t, path)
		return
	}
	dir := filepath.Join(testutil.TempDirForAll(t), "archive")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(filepath.Join(dir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r, err := s.StartRun(ctx, runInfo(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Finish(ctx, screening.Snapshot{}, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	if !testutil.IsRoot() {
		checkAppStoreReadOnly(t, s.Path())
		return
	}
	out, err := testutil.RunAsNobody(t, "TestAppStoreOnReadOnlyFolder", archiveEnv+"="+s.Path())
	t.Log(out)
	if err != nil || !strings.Contains(out, "--- PASS: TestAppStoreOnReadOnlyFolder") {
		t.Fatalf("check as nobody did not pass (%v)", err)
	}
}

func runInfo(t *testing.T) screening.RunInfo {
	p, err := inference.LoadPack(assets.DefaultPack(), "built-in")
	if err != nil {
		t.Fatal(err)
	}
	return screening.RunInfo{Sample: screening.NewSample("ARCH-1"), Spec: capture.Camera("0"), Model: inference.Optimised,
		Threshold: 0.5, Taxonomy: screening.DefaultTaxonomy(p.Name, p.Labels)}
}

func checkAppStoreReadOnly(t *testing.T, path string) {
	st, readOnly, err := openAppStore(path)
	if err != nil {
		t.Fatalf("the app's store in a read-only folder: %v", err)
	}
	defer st.Close()
	if !errors.Is(readOnly, store.ErrReadOnly) || !st.ReadOnly() {
		t.Errorf("opened read-only %v, said why: %v", st.ReadOnly(), readOnly)
	}
	ctx := context.Background()
	if ids, err := st.SampleIDs(ctx); err != nil || len(ids) != 1 || ids[0] != "ARCH-1" {
		t.Errorf("History lists %v (%v), want ARCH-1", ids, err)
	}
	_, err = st.StartRun(ctx, runInfo(t))
	t.Logf("run: %v", err)
	if err == nil || !strings.Contains(err.Error(), "is open read-only") {
		t.Errorf("a run into the archive: %v, want it refused", err)
	}
}

// The app's store held by another phytoscreen (a second window on it, or the app beside
// a screen command): it opens read-only, says who holds it, History reads its samples,
// and Start is refused naming the holder, not as a read-only disk. The other process's
// hold is a flock on the store's lock file through a file of its own (flock is per open
// file, so this process meets it as it would another's).
func TestAppStoreInUseByAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), store.FileName)
	s, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r, err := s.StartRun(ctx, runInfo(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Finish(ctx, screening.Snapshot{}, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	lock, err := os.OpenFile(path+store.LockSuffix, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	if _, err := lock.WriteString("pid 31337\ncommand phytoscreen gui\n"); err != nil {
		t.Fatal(err)
	}

	st, readOnly, err := openAppStore(path)
	if err != nil {
		t.Fatalf("the app's store held by another phytoscreen: %v", err)
	}
	defer st.Close()
	if !errors.Is(readOnly, store.ErrInUse) || !st.ReadOnly() || !strings.Contains(readOnly.Error(), "process 31337") {
		t.Errorf("opened read-only %v, said why: %v; want ErrInUse naming process 31337", st.ReadOnly(), readOnly)
	}
	if ids, err := st.SampleIDs(ctx); err != nil || len(ids) != 1 || ids[0] != "ARCH-1" {
		t.Errorf("History lists %v (%v), want ARCH-1", ids, err)
	}
	_, err = st.StartRun(ctx, runInfo(t))
	if err == nil || !strings.HasPrefix(err.Error(), "a run cannot be recorded: session store "+path+" is in use by another phytoscreen (process 31337") {
		t.Errorf("a run into the store another phytoscreen holds: %v", err)
	}
}
