// Package testutil holds helpers shared by the project's tests: running a test as an
// unprivileged user (so permission errors can be tested where CI runs as root) or with
// a file size limit (so a full disk can be tested without one), and locating the
// repository root.
package testutil

import (
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// ChildEnv is set in the environment of a test re-run by RunAsNobody.
const ChildEnv = "PHYTOSCREEN_TEST_CHILD"

// IsChild reports whether this process is a test re-run by RunAsNobody.
func IsChild() bool { return os.Getenv(ChildEnv) != "" }

// NobodyUID is the conventional unprivileged user and group id.
const NobodyUID = 65534

// RunAsNobody re-runs the test named run (a -test.run pattern) in a copy of the test
// binary as user nobody, passing env, and returns its combined output and error. Root
// reads every file whatever its mode, so a permission-denied path can only be tested
// honestly by a process without that power. Only root can switch user: when the tests
// already run unprivileged, the caller runs the check in-process instead.
func RunAsNobody(t *testing.T, run string, env ...string) (string, error) {
	t.Helper()
	dir, err := os.MkdirTemp("", "phytoscreen-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, filepath.Base(exe))
	if err := copyFile(exe, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run", "^"+run+"$", "-test.v")
	cmd.Env = append(append(os.Environ(), ChildEnv+"=1"), env...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: NobodyUID, Gid: NobodyUID}}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TempDirForAll returns a fresh folder that every user can enter, under the system temp
// folder (t.TempDir's parents are private to the test's user).
func TempDirForAll(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "phytoscreen-shared-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		filepath.Walk(dir, func(p string, info os.FileInfo, err error) error { //nolint:errcheck // best-effort cleanup
			if err == nil && info.IsDir() {
				os.Chmod(p, 0o755)
			}
			return nil
		})
		os.RemoveAll(dir)
	})
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// CopyForAll copies a file into a folder every user can read and returns the copy's
// path: what a test runs as another user (RunAsNobody) must not depend on where the
// checkout lives, which may be a folder only its owner can enter.
func CopyForAll(t *testing.T, path string) string {
	t.Helper()
	dst := filepath.Join(TempDirForAll(t), filepath.Base(path))
	if err := copyFile(path, dst, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// FileSizeEnv carries the file size limit of a test re-run by RunWithFileSizeLimit.
const FileSizeEnv = "PHYTOSCREEN_TEST_FSIZE"

// RunWithFileSizeLimit re-runs the test named run (a -test.run pattern) in a child
// process of the test binary, passing env, and returns its combined output and error.
// The child calls LimitFileSize where its writes should start failing: from then on a
// write past limit bytes of any file fails with EFBIG ("file too large"), as a write on a
// full disk fails with ENOSPC, at whatever point of the file it happens. No root, no
// special file system: a full disk for one process, honestly, on any Linux machine.
func RunWithFileSizeLimit(t *testing.T, run string, limit int64, env ...string) (string, error) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run", "^"+run+"$", "-test.v")
	cmd.Env = append(append(os.Environ(), ChildEnv+"=1", FileSizeEnv+"="+strconv.FormatInt(limit, 10)), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// LimitFileSize, in a test re-run by RunWithFileSizeLimit, caps the size of the files
// this process writes at the limit the parent gave (RLIMIT_FSIZE) and ignores SIGXFSZ,
// so that a write past it returns EFBIG instead of killing the process. Anything that
// must be written before (a database's shared memory file) is opened first.
func LimitFileSize(t *testing.T) {
	t.Helper()
	limit, err := strconv.ParseInt(os.Getenv(FileSizeEnv), 10, 64)
	if err != nil || limit <= 0 {
		t.Fatalf("LimitFileSize outside a child of RunWithFileSizeLimit (%s=%q)", FileSizeEnv, os.Getenv(FileSizeEnv))
	}
	signal.Ignore(syscall.SIGXFSZ)
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: uint64(limit), Max: uint64(limit)}); err != nil {
		t.Fatalf("limit file size to %d bytes: %v", limit, err)
	}
}

// IsRoot reports whether the tests run as root.
func IsRoot() bool { return os.Geteuid() == 0 }

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// RepoRoot returns the repository root (the folder holding go.mod) above the working folder.
func RepoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/phytoscreen/phytoscreen") {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("repository root (go.mod) not found above the working folder")
		}
		dir = parent
	}
}
