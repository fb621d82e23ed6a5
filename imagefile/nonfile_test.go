package imagefile

import (
	"errors"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/inputfile"
)

// A FIFO or a device named as an image is refused unread by every reader, naming the
// file and what it is: the FIFO would block the read for ever, /dev/zero would fill the
// memory.
func TestReadRefusesFIFOAndDevice(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "frame.png")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	readers := map[string]func(string) error{
		"ReadGray":    func(p string) error { _, err := ReadGray(p); return err },
		"ReadColor":   func(p string) error { _, err := ReadColor(p); return err },
		"ReadMat":     func(p string) error { m, err := ReadMat(p); m.Close(); return err },
		"ReadMatGray": func(p string) error { m, err := ReadMatGray(p); m.Close(); return err },
	}
	for _, c := range []struct{ path, want string }{
		{fifo, fifo + " is a named pipe (FIFO), not a file: give a regular file"},
		{"/dev/zero", "/dev/zero is a character device, not a file: give a regular file"},
	} {
		for name, read := range readers {
			done := make(chan error, 1)
			go func() { done <- read(c.path) }()
			select {
			case err := <-done:
				if !errors.Is(err, inputfile.ErrNotRegular) || err.Error() != c.want {
					t.Errorf("%s(%s): %v, want %q", name, c.path, err, c.want)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("%s(%s) still reading after 5 s", name, c.path)
			}
		}
	}
}
