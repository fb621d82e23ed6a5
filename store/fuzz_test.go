package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpenStore opens arbitrary bytes as a session store. It must never panic; it
// either refuses the file, leaving it byte for byte as it was with no -wal or -shm
// beside it, or opens a store: marked with phytoscreen's application_id and schema
// version, with its tables readable, and readable again read-only.
func FuzzOpenStore(f *testing.F) {
	seeds := map[string][]byte{"empty": nil, "text": []byte("temperature,chlorophyll\n12.5,4.2\n")}
	dir := f.TempDir()
	for name, make := range map[string]func(path string){
		"foreign": func(p string) { foreignDB(f, p, []string{"readings"}) },
		"store": func(p string) {
			s, err := Open(p)
			if err != nil {
				f.Fatal(err)
			}
			s.Close()
		},
		"unmarked store": func(p string) {
			s, err := Open(p)
			if err != nil {
				f.Fatal(err)
			}
			if _, err := s.db.Exec("PRAGMA application_id = 0; PRAGMA user_version = 0"); err != nil {
				f.Fatal(err)
			}
			s.Close()
		},
	} {
		path := filepath.Join(dir, name+".db")
		make(path)
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		seeds[name] = data
	}
	for _, data := range seeds {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "fuzz.db")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := Open(path)
		if err != nil {
			got, rerr := os.ReadFile(path)
			if rerr != nil || !bytes.Equal(got, data) {
				t.Fatalf("refused (%v) but changed: %d bytes in, %d after (%v)", err, len(data), len(got), rerr)
			}
			for _, ext := range []string{"-wal", "-shm", "-journal"} {
				if exists(path + ext) {
					t.Fatalf("refused (%v) but left %s", err, ext)
				}
			}
			return
		}
		if _, err := s.SampleIDs(context.Background()); err != nil {
			t.Fatalf("opened, but its samples do not read: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil || len(b) < headerSize {
			t.Fatalf("opened, then %d bytes (%v)", len(b), err)
		}
		if id, v := binary.BigEndian.Uint32(b[applicationIDOffset:]), binary.BigEndian.Uint32(b[userVersionOffset:]); id != ApplicationID || v != SchemaVersion {
			t.Fatalf("opened, but marked 0x%08x version %d", id, v)
		}
		ro, err := OpenReadOnly(path)
		if err != nil {
			t.Fatalf("opened, but does not reopen read-only: %v", err)
		}
		if _, err := ro.SampleIDs(context.Background()); err != nil && !errors.Is(err, ErrNotStore) {
			t.Fatalf("reopened read-only, but its samples do not read: %v", err)
		}
		ro.Close()
	})
}
