package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/phytoscreen/phytoscreen/internal/testutil"
)

// A folder of single-cell images given to screen as a plain folder is still screened as
// frames (a folder's meaning does not change with its images' sizes), but the run says,
// before and in its summary, that they look like the crops the app's Open folder takes
// as cells, with the command that reads them so; that command, run as said, counts one
// cell per image (helper-84: 62 crops gave 64 objects, the app 62 cells).
func TestScreenFolderOfCellImagesSaysCells(t *testing.T) {
	dir := testutil.CellFolder(t, 8)
	db := filepath.Join(t.TempDir(), "s.db")
	_, stdout, stderr := run(t, "screen", "--source", dir, "--sample", "CROPS-1", "--volume-ml", "0.5", "--baseline", "0", "--db", db)
	if !strings.Contains(stdout, "Objects found by the threshold segmenter") {
		t.Errorf("a plain folder was not screened as frames:\n%s", stdout)
	}
	before := "phytoscreen: note: the images of " + dir + " (9 image files, typically "
	want := "phytoscreen screen --source cells:" + dir + " --sample CROPS-1 --volume-ml 0.5 --baseline 0 --db " + db
	if !strings.Contains(stderr, before) || !strings.Contains(stderr, "If each image is one cell, screen them as single-cell images instead, as the app's Open folder offers for such a folder: "+want+"\n") {
		t.Errorf("stderr does not say the folder looks like single-cell images, with the command:\n%s", stderr)
	}
	// After the run, CROPS-1 holds it (and takes no run of cell images, in the trash
	// too): the summary's command names a new sample, and says to trash this one.
	_, after, ok := strings.Cut(stdout, "Note: the images of "+dir)
	if !ok {
		t.Fatalf("the summary does not say the folder looks like single-cell images:\n%s", stdout)
	}
	trash := "phytoscreen samples delete --db " + db + " CROPS-1"
	cmd := "phytoscreen screen --source cells:" + dir + " --sample CROPS-1-2 --volume-ml 0.5 --baseline 0 --db " + db
	if !strings.Contains(after, "("+trash+")") || !strings.Contains(after, "\n  "+cmd+"\n") {
		t.Fatalf("the summary's note lacks %q or %q:\n%s", trash, cmd, after)
	}

	// Done as said: each image is one cell, and nothing more is said about the folder.
	if code, out, errOut := run(t, strings.Fields(trash)[1:]...); code != exitOK {
		t.Fatalf("%s: exit %d\n%s%s", trash, code, out, errOut)
	}
	code, stdout, stderr := run(t, strings.Fields(cmd)[1:]...)
	if code != exitFailed { // the empty zz-broken.png is skipped: the run is partial
		t.Errorf("%s: exit %d, want %d (a file skipped)\n%s%s", cmd, code, exitFailed, stdout, stderr)
	}
	if !strings.Contains(stdout, "Objects (cells, colonies, filaments, one each): 8 counted") || !strings.Contains(stdout, " | latency per inference run (") {
		t.Errorf("the cells: run did not count one cell per image:\n%s", stdout)
	}
	if strings.Contains(stdout+stderr, "look like single-cell crops") {
		t.Errorf("a cells: source was told to be given as cells:\n%s%s", stdout, stderr)
	}
}

// segment says it too, with the commands that take each image whole; a folder of
// frames is said nothing about.
func TestSegmentFolderOfCellImagesSaysCells(t *testing.T) {
	dir := testutil.CellFolder(t, 6)
	_, _, stderr := run(t, "segment", "--crops", "none", dir)
	want := "phytoscreen segment: note: the images of " + dir + " (7 image files, typically "
	if !strings.Contains(stderr, want) || !strings.Contains(stderr, "phytoscreen classify "+dir+", or count them as a sample: phytoscreen screen --source cells:"+dir+"\n") {
		t.Errorf("segment does not say the folder looks like single-cell images:\n%s", stderr)
	}
	_, _, stderr = run(t, "segment", "--crops", "none", "--max-frames", "2", "../../testdata/microscope")
	if strings.Contains(stderr, "single-cell") {
		t.Errorf("a folder of frames was taken for single-cell images:\n%s", stderr)
	}
}

// The command to run instead keeps every argument but the flags replaced, in each of
// the forms the flag package reads, quoted for a shell.
func TestWithFlags(t *testing.T) {
	with := map[string]string{"source": "cells:/data/my crops", "sample": "S-2"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--source", "/data/my crops", "--sample", "S", "--site", "Pond 3"}, "--source 'cells:/data/my crops' --sample S-2 --site 'Pond 3'"},
		{[]string{"-source=/data/x", "--volume-ml=2", "-sample", "S"}, "--source 'cells:/data/my crops' --volume-ml=2 --sample S-2"},
		{[]string{"--site", "A", "--source=/x"}, "--site A --source 'cells:/data/my crops'"}, // no --sample: none added
		{[]string{"--notes", "it's", "--source", "/x", "--", "-source"}, `--notes 'it'\''s' --source 'cells:/data/my crops' -- -source`},
	} {
		if got := withFlags(c.args, with); got != c.want {
			t.Errorf("withFlags(%q) =\n  %s\nwant\n  %s", c.args, got, c.want)
		}
	}
}
