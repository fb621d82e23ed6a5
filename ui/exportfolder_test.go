package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An export into a folder that does not exist is refused with how the dialog reads a
// path typed into its name box; an existing folder passes. Before the first export the
// dialog opens in the user's documents, else the home folder.
func TestExportFolderChecked(t *testing.T) {
	dir := t.TempDir()
	if err := checkExportFolder(filepath.Join(dir, "LAKE-02_counts.csv")); err != nil {
		t.Errorf("an existing folder refused: %v", err)
	}
	typed := filepath.Join(dir, "nitzschia", "tmp", "exports", "LAKE-02_counts.csv")
	err := checkExportFolder(typed)
	if err == nil {
		t.Fatal("an export into a missing folder was accepted")
	}
	for _, want := range []string{filepath.Dir(typed) + " does not exist", "type a file name alone in the dialog's name box"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	if got := documentsDir(); got != home {
		t.Errorf("without a Documents folder: %q, want the home %q", got, home)
	}
	if err := os.Mkdir(filepath.Join(home, "Documents"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := documentsDir(); got != filepath.Join(home, "Documents") {
		t.Errorf("with a Documents folder: %q", got)
	}
}
