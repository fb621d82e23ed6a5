package inference

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/phytoscreen/phytoscreen/inputfile"
)

// A pack whose pack.json or model is a FIFO, or whose pack.json is over 4 MiB, is refused
// naming the pack and the file; the FIFO would hold the read for ever.
func TestLoadPackRefusesNonFiles(t *testing.T) {
	good := manifestJSON(t, func(m map[string]any) {})
	model := &fstest.MapFile{Data: []byte("onnx bytes")}
	cases := []struct {
		name  string
		files fstest.MapFS
		want  string
		kind  error
	}{
		{"manifest FIFO", fstest.MapFS{"pack.json": {Mode: fs.ModeNamedPipe}}, "pack lab: lab/pack.json is a named pipe (FIFO), not a file: give a regular file", inputfile.ErrNotRegular},
		{"manifest too large", fstest.MapFS{"pack.json": {Data: make([]byte, inputfile.MaxText+1)}}, "pack lab: lab/pack.json is 4194305 bytes, over the 4.0 MiB", inputfile.ErrTooLarge},
		{"model FIFO", fstest.MapFS{"pack.json": {Data: good}, "base.onnx": model, "optimised.onnx": {Mode: fs.ModeNamedPipe}},
			"pack lab: optimised model file optimised.onnx is a named pipe (FIFO), not a file", inputfile.ErrNotRegular},
	}
	for _, c := range cases {
		_, err := LoadPack(c.files, "lab")
		if !errors.Is(err, c.kind) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}

	// The same on disk, where a FIFO really blocks.
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, ManifestFile), 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := LoadPackDir(dir); done <- err }()
	select {
	case err := <-done:
		if want := filepath.Join(dir, ManifestFile) + " is a named pipe (FIFO)"; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("pack folder with a FIFO pack.json: %v, want %q", err, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("LoadPackDir on a FIFO pack.json still reading after 5 s")
	}
}

// A label list that is a FIFO, a device or over 64 MiB is refused at once naming it.
func TestReadLabelListRefusesNonFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "labels.csv")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.csv")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(inputfile.MaxList + 1); err != nil { // sparse: no 64 MiB written
		t.Fatal(err)
	}
	f.Close()
	for _, c := range []struct {
		path, want string
		kind       error
	}{
		{fifo, "label list " + fifo + " is a named pipe (FIFO), not a file: give a regular file", inputfile.ErrNotRegular},
		{"/dev/urandom", "label list /dev/urandom is a character device, not a file", inputfile.ErrNotRegular},
		{big, "label list " + big + " is 67108865 bytes, over the 64.0 MiB", inputfile.ErrTooLarge},
	} {
		done := make(chan error, 1)
		go func() { _, err := ReadLabelList(c.path, ""); done <- err }()
		select {
		case err := <-done:
			if !errors.Is(err, c.kind) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: %v, want %q", c.path, err, c.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: still reading after 5 s", c.path)
		}
	}
}
