package teach

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/imagefile"
	"github.com/phytoscreen/phytoscreen/internal/testpack"
	"github.com/phytoscreen/phytoscreen/store"
)

// The speed goal: teaching 1,000 crops (embedding with both models, the
// cross-validation and both fits) in under 30 s on 2 cores, and faster again with the
// embeddings cached in the store. The crops are 1,000 distinct real bench-camera frames
// spread over the five folders of ../shared/data/microscope-frames (about 80 to 420 each), taught to ndsb-plankton-121-v2
// (with its 387-crop reference sample). Run with
//
//	go test -run '^$' -bench Teach1000 -benchtime 1x -cpu 2 ./teach/
//
// "cold" starts from an empty store each time; "cached" from one holding the embeddings.
func BenchmarkTeach1000(b *testing.B) {
	testpack.RequireRuntime(b)
	dir := filepath.Join(sharedData, "microscope-frames")
	var all []Example
	for _, label := range []string{"closterium", "microcystis", "nitzschia", "non-algae", "oscillatoria"} {
		files, problems := imagefile.Collect([]string{filepath.Join(dir, label)})
		if len(problems) > 0 || len(files) < 100 {
			b.Fatalf("%s: %d frames, %v: the benchmark needs ../shared/data/microscope-frames", label, len(files), problems)
		}
		slices.SortFunc(files, imagefile.NaturalCompare)
		for _, f := range files {
			all = append(all, FileExample(f, label))
		}
	}
	var ex []Example // 1,000 distinct frames spread over all of them
	for i := range 1000 {
		ex = append(ex, all[i*len(all)/1000])
	}
	p := builtin(b, assets.NDSBv2PackName)
	ctx := context.Background()
	teach := func(b *testing.B, st *store.Store) {
		t, err := Teach(ctx, p, ex, Options{Cache: st, Threads: 2}, nil)
		if err != nil {
			b.Fatal(err)
		}
		if len(t.Examples) != 1000 {
			b.Fatalf("taught %d crops", len(t.Examples))
		}
	}
	open := func(b *testing.B) *store.Store {
		path := filepath.Join(b.TempDir(), "sessions.db")
		os.Remove(path)
		st, err := store.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		return st
	}
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			st := open(b)
			b.StartTimer()
			teach(b, st)
			b.StopTimer()
			st.Close()
			b.StartTimer()
		}
	})
	b.Run("cached", func(b *testing.B) {
		st := open(b)
		defer st.Close()
		teach(b, st)
		for b.Loop() {
			teach(b, st)
		}
	})
}
