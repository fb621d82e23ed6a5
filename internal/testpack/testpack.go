// Package testpack makes classifier pack folders for tests, from the built-in pack:
// whole, with an edited manifest, or with model files missing or replaced.
package testpack

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/testutil"
)

// Folder makes a pack folder from the built-in pack: pack.json edited by edit (nil: as
// it is; raw replaces it whole when set), each model a link to the built-in one unless
// models gives its bytes (nil bytes: the file is left out).
func Folder(t *testing.T, edit func(m map[string]any), raw string, models map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	data, err := fs.ReadFile(assets.DefaultPack(), inference.ManifestFile)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		edit(m)
		if data, err = json.MarshalIndent(m, "", "  "); err != nil {
			t.Fatal(err)
		}
	}
	if raw != "" {
		data = []byte(raw)
	}
	if err := os.WriteFile(filepath.Join(dir, inference.ManifestFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
	builtin := filepath.Join(testutil.RepoRoot(t), "assets", "models", assets.DefaultPackName)
	for _, f := range []string{"base.onnx", "optimised.onnx"} {
		b, given := models[f]
		switch {
		case !given:
			if err := os.Symlink(filepath.Join(builtin, f), filepath.Join(dir, f)); err != nil {
				t.Fatal(err)
			}
		case b != nil:
			if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

// RequireRuntime loads the ONNX Runtime library the way the program finds it, and fails
// the test when it is missing: a test that needs the model never passes by skipping.
// 'make deps' provisions the library.
func RequireRuntime(t testing.TB) {
	t.Helper()
	if _, err := inference.InitRuntime(""); err != nil {
		t.Fatalf("this test needs the ONNX Runtime library: %v (run 'make deps', or set $%s)", err, inference.LibraryEnv)
	}
}
