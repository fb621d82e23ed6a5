package store

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A store file deleted, or another file moved over it, while phytoscreen runs is told
// from the file opened: writes went on into the file opened, gone or no longer at the
// path, and "stored in" it said nothing of it (helper-86).
func TestReplacedTellsTheFileOpened(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sessions.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Replaced(); err != nil {
		t.Fatalf("the file opened, untouched: %v", err)
	}
	backup := filepath.Join(dir, "backup.db")
	other, err := Open(backup)
	if err != nil {
		t.Fatal(err)
	}
	other.Close()
	if err := os.Rename(backup, path); err != nil {
		t.Fatal(err)
	}
	if err := s.Replaced(); err == nil || !strings.Contains(err.Error(), "was replaced by another file while phytoscreen ran") {
		t.Errorf("another file moved over it: %v", err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := s.Replaced(); err == nil || !strings.Contains(err.Error(), "was deleted while phytoscreen ran") {
		t.Errorf("deleted: %v", err)
	}
}
