package inference

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindLibraryOrder(t *testing.T) {
	dir := t.TempDir()
	lib := filepath.Join(dir, "libonnxruntime.so.1")
	if err := os.WriteFile(lib, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("flag wins and is the only candidate", func(t *testing.T) {
		t.Setenv(LibraryEnv, lib)
		_, err := FindLibrary(filepath.Join(dir, "missing.so"))
		if !errors.Is(err, ErrLibraryNotFound) || !strings.Contains(err.Error(), "--ort-lib "+filepath.Join(dir, "missing.so")) {
			t.Errorf("error %v: want not found naming the flag path", err)
		}
	})
	t.Run("environment variable", func(t *testing.T) {
		t.Setenv(LibraryEnv, lib)
		got, err := FindLibrary("")
		if err != nil || got != lib {
			t.Errorf("FindLibrary = %q, %v; want %q", got, err, lib)
		}
	})
	t.Run("project cache found from the working folder", func(t *testing.T) {
		t.Setenv(LibraryEnv, "")
		got, err := FindLibrary("")
		if err != nil || !strings.HasSuffix(got, cacheRel()) {
			t.Errorf("FindLibrary = %q, %v; want the project cache (run make deps)", got, err)
		}
	})
	t.Run("nothing found says what was tried and the fix", func(t *testing.T) {
		t.Setenv(LibraryEnv, "")
		t.Setenv("LD_LIBRARY_PATH", "")
		t.Chdir(dir) // no go.mod above a temp folder
		cands := LibraryCandidates("")
		var present []string
		for _, c := range cands {
			if _, err := os.Stat(c); err == nil {
				present = append(present, c)
			}
		}
		if len(present) > 0 {
			t.Skipf("a library is installed on this machine (%v)", present)
		}
		_, err := FindLibrary("")
		msg := err.Error()
		if strings.Count(msg, "\n") != 0 || !strings.Contains(msg, "make deps") || !strings.Contains(msg, "$"+LibraryEnv+" (unset)") || !strings.Contains(msg, "system library paths") {
			t.Errorf("message %q: want one line naming what was tried and the fix", msg)
		}
	})
}

// A library that is not ONNX Runtime 1.24 is refused with the fix; it runs in a child
// process because a process loads one runtime.
func TestInitRuntimeWrongLibrary(t *testing.T) {
	if lib := os.Getenv("WRONG_ORT_LIB"); lib != "" {
		_, err := InitRuntime(lib)
		if err == nil {
			t.Fatal("loaded a library that is not ONNX Runtime")
		}
		t.Log(err)
		if !strings.Contains(err.Error(), lib) || !strings.Contains(err.Error(), "make deps") {
			t.Fatalf("error %q: want the path and the fix", err)
		}
		return
	}
	wrong := ""
	for _, c := range []string{"/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/libz.so.1", "/lib/aarch64-linux-gnu/libz.so.1", "/usr/lib/aarch64-linux-gnu/libz.so.1"} {
		if _, err := os.Stat(c); err == nil {
			wrong = c
			break
		}
	}
	if wrong == "" {
		t.Skip("no libz to stand in for a wrong library")
	}
	exe, _ := os.Executable()
	cmd := exec.Command(exe, "-test.run", "^TestInitRuntimeWrongLibrary$", "-test.v")
	cmd.Env = append(os.Environ(), "WRONG_ORT_LIB="+wrong)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}
