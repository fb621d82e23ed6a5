package capture

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// Fingerprints follow the content, not the name: a copy has its original's digest, a
// file differing in one byte (or one byte longer) another; a camera has none.
func TestFrameDigests(t *testing.T) {
	dir := t.TempDir()
	data := make([]byte, 300<<10)
	for i := range data {
		data[i] = byte(i * 13)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := write("a.png", data)
	write("copy of a.png", data)
	other := append([]byte(nil), data...)
	other[150<<10] ^= 1
	write("b.png", other)
	write("c.png", append(append([]byte(nil), data...), 0))
	write("notes.txt", data) // not a frame
	got, err := FrameDigests(context.Background(), Spec{Kind: KindFolder, Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]string{}
	for _, d := range got {
		by[filepath.Base(d.Path)] = d.Digest
	}
	if len(got) != 4 || by["a.png"] == "" || by["a.png"] != by["copy of a.png"] || by["a.png"] == by["b.png"] || by["a.png"] == by["c.png"] {
		t.Errorf("digests %v: want a.png's copy alike, b.png and c.png other, notes.txt left out", by)
	}
	one, err := FrameDigests(context.Background(), Spec{Kind: KindImage, Path: a})
	if err != nil || len(one) != 1 || one[0].Digest != by["a.png"] {
		t.Errorf("one image: %v %v", one, err)
	}
	if cam, err := FrameDigests(context.Background(), Camera("0")); err != nil || cam != nil {
		t.Errorf("a camera's frames fingerprinted: %v %v", cam, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := FrameDigests(ctx, Spec{Kind: KindFolder, Path: dir}); err == nil {
		t.Error("a cancelled fingerprinting went on")
	}
}
