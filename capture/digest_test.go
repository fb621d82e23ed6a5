package capture

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

// A folder holding one frame twice, once with an EXIF orientation tag and once without
// (as the real microscope-frames folders do: the same pixels), or as a plain copy, gives
// it once: the second is skipped, named with the first, and is not counted as a frame
// the folder holds (it is not more water examined).
func TestFolderSkipsDuplicateFrames(t *testing.T) {
	real := filepath.Join("..", "..", "shared", "data", "microscope-frames", "microcystis")
	pair := []string{"20230608145509(1).jpg", "20230608145509(2).jpg"} // tagged RightTop, and untagged
	other := "20230608220602(1).jpg"
	dir := t.TempDir()
	for i, name := range append(pair, other) {
		data, err := os.ReadFile(filepath.Join(real, name))
		if err != nil {
			t.Fatalf("%v: the test needs the real frames in ../shared/data/microscope-frames", err)
		}
		if err := os.WriteFile(filepath.Join(dir, []string{"a.jpg", "b.jpg", "c.jpg"}[i]), data, 0o644); err != nil {
			t.Fatal(err)
		}
		if i == 2 { // and a plain copy of the third
			if err := os.WriteFile(filepath.Join(dir, "d.jpg"), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	var log statusLog
	src, err := OpenFolder(dir, log.add)
	if err != nil {
		t.Fatal(err)
	}
	// The app asks Len (for its progress bar) while the pipeline reads: under -race this
	// fails if the duplicates' count is not safe to read across goroutines.
	done := make(chan struct{})
	asked := make(chan int)
	first := make(chan struct{}) // the reading starts once Len was asked: a drain over before the goroutine ran made the test flaky
	go func() {
		n := 0
		for {
			select {
			case <-done:
				asked <- n
				return
			default:
				if src.Len() > 0 {
					if n++; n == 1 {
						close(first)
					}
				}
			}
		}
	}()
	select {
	case <-first:
	case <-time.After(10 * time.Second):
		t.Fatal("Len never counted a frame before the reading")
	}
	names, _, err := drain(t, src)
	close(done)
	if n := <-asked; n == 0 {
		t.Error("Len was never asked while the frames were read")
	}
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(names, " "); got != "a.jpg c.jpg" || src.Len() != 2 {
		t.Errorf("frames %q of %d, want a.jpg c.jpg of 2", got, src.Len())
	}
	var skipped []string
	for _, e := range log.events {
		if e.Kind == StatusSkipped {
			skipped = append(skipped, filepath.Base(e.Path)+": "+e.Err.Error())
		}
	}
	if len(skipped) != 2 || !strings.Contains(skipped[0], "b.jpg: the same image as "+filepath.Join(dir, "a.jpg")) || !strings.Contains(skipped[1], "d.jpg: the same image as") {
		t.Errorf("skipped %q", skipped)
	}
	// Their fingerprints agree too: a re-tagged copy elsewhere is the same frames.
	ds, err := FrameDigests(context.Background(), Spec{Kind: KindFolder, Path: dir})
	if err != nil || len(ds) != 4 || ds[0].Digest != ds[1].Digest || ds[2].Digest != ds[3].Digest || ds[0].Digest == ds[2].Digest {
		t.Errorf("digests %+v (%v)", ds, err)
	}

	// Prescanned, the folder knows its two frames before reading one (a run's progress
	// and the share of its volume read rest on that), has said which files it leaves
	// out, and gives the kept files' fingerprints, the store's, so they are read once.
	var plog statusLog
	src, err = OpenFolder(dir, plog.add)
	if err != nil {
		t.Fatal(err)
	}
	kept, err := src.Prescan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if src.Len() != 2 || len(plog.events) != 2 || len(kept) != 2 || kept[0] != ds[0] || kept[1] != ds[2] {
		t.Errorf("prescanned: Len %d, %d statuses, kept %+v; want 2, 2, a.jpg and c.jpg as FrameDigests gives them", src.Len(), len(plog.events), kept)
	}
	names, _, err = drain(t, src)
	if err != nil || strings.Join(names, " ") != "a.jpg c.jpg" || src.Len() != 2 || len(plog.events) != 2 {
		t.Errorf("read after the prescan: %q (%v), Len %d, %d statuses", names, err, src.Len(), len(plog.events))
	}
	if _, err := src.Prescan(context.Background()); err == nil {
		t.Error("a prescan after reading began was accepted")
	}
}
