package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A folder holding a side file beside each frame (the microscope's notes, metadata):
// three are named on stderr, then a word that the rest are not, and the summary counts
// them all. Every one had its own line, a screenful for a folder of a few hundred.
func TestScreenNamesAFewFilesThatAreNotImages(t *testing.T) {
	dir := t.TempDir()
	frames, err := filepath.Glob("../../testdata/microscope/*.jpg")
	if err != nil || len(frames) < 3 {
		t.Fatalf("%d frames in testdata/microscope (%v)", len(frames), err)
	}
	for i, f := range frames[:3] {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for name, data := range map[string][]byte{fmt.Sprintf("f%d.jpg", i): b, fmt.Sprintf("f%d.txt", i): []byte("stage 12.1 4.3"), fmt.Sprintf("f%d.xml", i): []byte("<meta/>")} {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	code, stdout, stderr := run(t, "screen", "--source", dir, "--baseline", "0", "--db", filepath.Join(t.TempDir(), "s.db"))
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if n := strings.Count(stderr, ": not an image file"); n != 3 || !strings.Contains(stderr, "further files that are not images are not listed: the summary counts them") {
		t.Errorf("%d files that are not images named on stderr, want 3 then a word that the rest are not:\n%s", n, stderr)
	}
	if !strings.Contains(stdout, "Skipped: 6 files were skipped (the first listed above with why") {
		t.Errorf("the summary does not count the 6 files:\n%s", stdout)
	}
}
