package testutil

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phytoscreen/phytoscreen/assets"
)

// CellFolder copies n real NDSB cell images from the bundled samples into a new folder,
// with a text file and an empty .png beside them (both must be skipped, not fatal).
func CellFolder(t testing.TB, n int) string {
	t.Helper()
	dir := t.TempDir()
	copied := 0
	err := fs.WalkDir(assets.Samples(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".jpg") && !strings.HasSuffix(p, ".png") || copied == n {
			return err
		}
		b, err := fs.ReadFile(assets.Samples(), p)
		if err != nil {
			return err
		}
		copied++
		return os.WriteFile(filepath.Join(dir, filepath.Base(p)), b, 0o644)
	})
	if err != nil || copied != n {
		t.Fatalf("copied %d of %d sample images: %v", copied, n, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("field notes"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "zz-broken.png"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}
