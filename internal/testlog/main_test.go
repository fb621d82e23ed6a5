package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestDeadBinaryShowsItsRunningTests: a test binary that dies mid-test gets no "fail"
// event for the running test, only one for the package; the running test's output (the
// panic, "signal: killed") is what says why, so it must be printed.
func TestDeadBinaryShowsItsRunningTests(t *testing.T) {
	in := strings.Join([]string{
		`{"Action":"run","Package":"p","Test":"TestA"}`,
		`{"Action":"output","Package":"p","Test":"TestA","Output":"=== RUN   TestA\n"}`,
		`{"Action":"pass","Package":"p","Test":"TestA"}`,
		`{"Action":"run","Package":"p","Test":"TestB"}`,
		`{"Action":"output","Package":"p","Test":"TestB","Output":"=== RUN   TestB\n"}`,
		`{"Action":"output","Package":"p","Test":"TestB","Output":"signal: killed\n"}`,
		`{"Action":"output","Package":"p","Output":"FAIL\tp\t0.003s\n"}`,
		`{"Action":"fail","Package":"p","Elapsed":0.003}`,
	}, "\n")
	var out strings.Builder
	err := follow(strings.NewReader(in), &out, "main", filepath.Join(t.TempDir(), "skips"))
	if err == nil {
		t.Fatal("a failed package passed")
	}
	got := out.String()
	if !strings.Contains(got, "--- DID NOT END: p TestB\n") || !strings.Contains(got, "signal: killed") {
		t.Fatalf("the dead test's output is missing:\n%s", got)
	}
	if strings.Contains(got, "TestA") {
		t.Fatalf("a passed test's output was printed:\n%s", got)
	}
}
