package inputfile

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"
)

// Every kind of file that is not a regular one is refused at once, naming the file and
// what it is; a FIFO with no writer would otherwise block the read for ever.
func TestRefusesWhatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "in.toml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "s.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cases := []struct{ path, want string }{
		{fifo, "in.toml is a named pipe (FIFO), not a file: give a regular file"},
		{sock, "s.sock is a socket, not a file"},
		{"/dev/null", "/dev/null is a character device, not a file"},
		{dir, " is a folder, not a file"},
	}
	for _, c := range cases {
		done := make(chan error, 1)
		go func() { _, err := ReadFile(c.path, MaxText); done <- err }()
		select {
		case err := <-done:
			if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: %v, want ErrNotRegular with %q", c.path, err, c.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: ReadFile still blocked after 5 s", c.path)
		}
	}
}

func TestSizeCap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.json")
	if err := os.WriteFile(path, make([]byte, 2000), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFile(path, 1024)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "big.json is 2.0 KiB, over the 1.0 KiB") {
		t.Errorf("2000 bytes with a 1 KiB cap: %v", err)
	}
	data, err := ReadFile(path, 2000)
	if err != nil || len(data) != 2000 {
		t.Errorf("2000 bytes with a 2000-byte cap: %d bytes, %v", len(data), err)
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "none"), 10); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want ErrNotExist", err)
	}
}

func TestReadFS(t *testing.T) {
	fsys := fstest.MapFS{
		"pack.json": {Data: []byte(`{"a":1}`)},
		"big.json":  {Data: make([]byte, 100)},
		"sub":       {Mode: os.ModeDir},
		"pipe":      {Mode: os.ModeNamedPipe},
	}
	if data, err := ReadFS(fsys, "pack.json", "p/pack.json", 10); err != nil || string(data) != `{"a":1}` {
		t.Errorf("pack.json: %q, %v", data, err)
	}
	if _, err := ReadFS(fsys, "big.json", "p/big.json", 10); !errors.Is(err, ErrTooLarge) || !strings.HasPrefix(err.Error(), "p/big.json is 100 bytes") {
		t.Errorf("big.json: %v", err)
	}
	for _, name := range []string{"sub", "pipe"} {
		if _, err := ReadFS(fsys, name, "p/"+name, 10); !errors.Is(err, ErrNotRegular) || !strings.HasPrefix(err.Error(), "p/"+name+" is a") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
