package imagefile

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
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

// A folder walk leaves out what is not a regular file (a FIFO, a socket, a device, a
// link to one), named as an image or not, without opening it, and lists it among the
// files left out, which LeftOutError says what it is of: it was dropped without a word
// (helper-87). A regular file of another format is left out with no such reason (the
// caller says which images it reads), and the images are collected. A regression that
// opens the FIFO fails on the timeout instead of hanging.
func TestCollectAllNamesNonFiles(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.jpg", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"b.jpg", "pipe"} {
		if err := syscall.Mkfifo(filepath.Join(dir, name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sock, err := net.Listen("unix", filepath.Join(dir, "c.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	for link, target := range map[string]string{"d.jpg": filepath.Join(dir, "b.jpg"), "e.tif": "/dev/null"} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	type result struct{ files, others []string }
	done := make(chan result, 1)
	go func() {
		files, others, problems := CollectAll([]string{dir})
		for _, p := range problems {
			t.Errorf("problem %v", p)
		}
		done <- result{files, others}
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("CollectAll still walking after 10 s: it opened a FIFO")
	}
	rel := func(paths []string) string {
		var names []string
		for _, p := range paths {
			names = append(names, filepath.Base(p))
		}
		return strings.Join(names, " ")
	}
	if got := rel(r.files); got != "a.jpg" {
		t.Errorf("images %q, want a.jpg", got)
	}
	if got := rel(r.others); got != "b.jpg c.png d.jpg e.tif notes.txt pipe" {
		t.Errorf("left out %q, want b.jpg c.png d.jpg e.tif notes.txt pipe", got)
	}
	want := map[string]string{"b.jpg": "a named pipe (FIFO)", "c.png": "a socket", "d.jpg": "a named pipe (FIFO)", "e.tif": "a character device", "pipe": "a named pipe (FIFO)"}
	for _, p := range r.others {
		err := LeftOutError(p)
		w, ok := want[filepath.Base(p)]
		switch {
		case !ok && err != nil:
			t.Errorf("%s: %v, want no reason (a file of another format)", p, err)
		case ok && (!errors.Is(err, inputfile.ErrNotRegular) || !strings.HasPrefix(fmt.Sprint(err), w+", not a regular file: left unread")):
			t.Errorf("%s: %v, want ErrNotRegular saying %q", p, err, w)
		}
	}
}
