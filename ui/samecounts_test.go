package ui

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/internal/testpack"
	"github.com/phytoscreen/phytoscreen/internal/testutil"
	"github.com/phytoscreen/phytoscreen/store"
	"github.com/phytoscreen/phytoscreen/synth"
)

// The same sample screened from the app (its Start button, on the real classifier,
// segmenter and video source) and from the screen command (the built binary) stores
// the same counts per taxon, the same unidentified and the same number of objects: a
// run is assembled in one place, the screening session.
func TestAppAndScreenStoreTheSameCounts(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds the command and runs the real model twice")
	}
	testpack.RequireRuntime(t)
	dir := t.TempDir()
	lib, err := synth.DefaultLibrary()
	if err != nil {
		t.Fatal(err)
	}
	g, err := synth.New(lib, synth.Options{Width: 640, Height: 480, Cells: 7, Seed: 31,
		Mix: []synth.Count{{Label: "protist_noctiluca", N: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	video := filepath.Join(dir, "sample.avi")
	if _, err := g.WriteVideo(context.Background(), video, 12, 3, 10); err != nil {
		t.Fatal(err)
	}
	const sampleID, volume = "S-SAME", "0.5"

	// The screen command, built as users get it.
	bin := filepath.Join(dir, "phytoscreen")
	build := exec.Command("go", "build", "-o", bin, "./cmd/phytoscreen")
	build.Dir = testutil.RepoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cliDB := filepath.Join(dir, "cli.db")
	cmd := exec.Command(bin, "screen", "--source", video, "--sample", sampleID, "--site", "Bench", "--volume-ml", volume,
		"--threads", "1", "--batch", "16", "--baseline", "0", "--db", cliDB, "--format", "json")
	cmd.Env = append(os.Environ(), "LANG=C.UTF-8")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("phytoscreen screen: %v\n%s", err, out)
	}

	// The app, with the same settings: threshold 0.5, still mode, one thread.
	p := defaultPack(t)
	clf, err := inference.NewClassifier(p, inference.Options{Variant: inference.Optimised, Threads: 1, Batch: 16, TopK: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer clf.Close()
	h := newHarness(t, nil, func(s *app.Services) {
		s.Model = app.NewModel(clf)
		s.Open = func(ctx context.Context, spec capture.Spec, set app.Settings, opt capture.OpenOptions) (capture.Source, error) {
			return app.OpenSource(spec, set, dir, opt)
		}
		s.NewSegmenter = nil // the session's own, from the settings
	})
	h.a.sample.ID.SetText(sampleID)
	h.a.sample.Site.SetText("Bench")
	h.a.sample.Volume.SetText(volume)
	h.a.sample.Factor.SetText("1")
	h.a.chooseSource(capture.MustParseSpec(video))
	h.a.Start()
	h.pump("the run to start", 20*time.Second, func() bool { return h.a.sess != nil && h.a.sess.run != nil })
	h.pump("the run to end", 120*time.Second, func() bool { return h.a.sess == nil })

	cli, err := store.Open(cliDB)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	want, err := cli.Counts(context.Background(), sampleID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := h.st.Counts(context.Background(), sampleID)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("screen stored %d objects (%d unidentified); the app %d (%d)", want.Objects, want.Unidentified.Count, got.Objects, got.Unidentified.Count)
	if want.Objects == 0 || got.Objects != want.Objects || got.Unidentified.Count != want.Unidentified.Count || got.Failed != want.Failed ||
		got.Sample.VolumeML != want.Sample.VolumeML {
		t.Errorf("app: %d objects, %d unidentified, %d failed, %v mL; screen: %d, %d, %d, %v mL",
			got.Objects, got.Unidentified.Count, got.Failed, got.Sample.VolumeML, want.Objects, want.Unidentified.Count, want.Failed, want.Sample.VolumeML)
	}
	counts := func(c store.Counts) map[string]int {
		m := map[string]int{}
		for _, x := range c.Taxa {
			m[x.Label] = x.Count
		}
		return m
	}
	wm, gm := counts(want), counts(got)
	for l, n := range wm {
		if gm[l] != n {
			t.Errorf("%s: the app stored %d, screen %d", l, gm[l], n)
		}
	}
	for l, n := range gm {
		if _, ok := wm[l]; !ok {
			t.Errorf("%s: the app stored %d, screen none", l, n)
		}
	}
}
