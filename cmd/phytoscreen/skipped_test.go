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

// A folder copied from a Mac or a Windows machine holds the system's files beside the
// frames (.DS_Store, the AppleDouble "._" twin of each image, Thumbs.db, desktop.ini, a
// .Trashes folder): screen and classify pass over them without a word. They were named
// as skipped or unreadable, and an AppleDouble twin made the run PARTIAL, its
// concentrations on a share of the volume.
func TestScreenAndClassifyPassOverSystemFiles(t *testing.T) {
	dir := t.TempDir()
	frames, err := filepath.Glob("../../testdata/microscope/*.jpg")
	if err != nil || len(frames) < 2 {
		t.Fatalf("%d frames in testdata/microscope (%v)", len(frames), err)
	}
	first, err := os.ReadFile(frames[0])
	if err != nil {
		t.Fatal(err)
	}
	second, err := os.ReadFile(frames[1])
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"f1.jpg": first, "f2.jpg": second, ".Trashes/501/f1.jpg": first,
		"._f1.jpg": []byte("\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X"), ".DS_Store": []byte("\x00\x00\x00\x01Bud1"),
		"Thumbs.db": []byte("\xd0\xcf\x11\xe0"), "desktop.ini": []byte("[.ShellClassInfo]")} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, stderr := run(t, "screen", "--source", dir, "--baseline", "0", "--db", filepath.Join(t.TempDir(), "s.db"))
	if code != exitOK || strings.Contains(stderr, "skipped") || strings.Contains(stdout, "Skipped") || strings.Contains(stdout, "PARTIAL") ||
		!strings.Contains(stdout, "Frames: 2 seen") {
		t.Errorf("screen: exit %d, want 0 and 2 frames, nothing skipped:\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = run(t, "classify", dir)
	if code != exitOK || !strings.Contains(stderr+stdout, "classified 2 of 2 files") || strings.Contains(stderr+stdout, "failed:") {
		t.Errorf("classify: exit %d, want 0 and 2 files classified:\n%s%s", code, stdout, stderr)
	}
}
