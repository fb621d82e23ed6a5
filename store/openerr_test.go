package store

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
)

// A store that cannot be opened for a full or failing disk says so, not "is it an SQLite
// file written by phytoscreen?", which sent the technician to the file (helper-86).
func TestOpenErrNamesTheDisk(t *testing.T) {
	s := &Store{path: "/full/sessions.db"}
	full := s.openErr(fmt.Errorf("write: %w", syscall.ENOSPC))
	if !errors.Is(full, syscall.ENOSPC) || !strings.Contains(full.Error(), "the disk holding it is full or failing") || strings.Contains(full.Error(), "is it an SQLite file") {
		t.Errorf("a full disk: %v", full)
	}
	other := s.openErr(errors.New("file is not a database"))
	if !strings.Contains(other.Error(), "is it an SQLite file written by phytoscreen?") || strings.Contains(other.Error(), "disk holding it") {
		t.Errorf("a file that is not a store: %v", other)
	}
}
