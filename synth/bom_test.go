package synth

import (
	"testing"
	"testing/fstest"

	"io/fs"

	"github.com/phytoscreen/phytoscreen/assets"
)

// A library whose labels.csv a spreadsheet saved with a UTF-8 byte order mark loads like
// the bundled one: the mark does not stick to the "path" header.
func TestLoadLibraryWithBOM(t *testing.T) {
	labels, err := fs.ReadFile(assets.Samples(), "labels.csv")
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{"labels.csv": {Data: append([]byte("\xEF\xBB\xBF"), labels...)}}
	err = fs.WalkDir(assets.Samples(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == "labels.csv" {
			return err
		}
		data, err := fs.ReadFile(assets.Samples(), p)
		fsys[p] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want, err := LoadLibrary(assets.Samples())
	if err != nil {
		t.Fatal(err)
	}
	got, err := LoadLibrary(fsys)
	if err != nil {
		t.Fatalf("with a BOM: %v", err)
	}
	if got.Len() != want.Len() || got.Len() == 0 {
		t.Errorf("with a BOM: %d samples, want %d", got.Len(), want.Len())
	}
}
