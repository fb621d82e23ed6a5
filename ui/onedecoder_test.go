package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/imagefile"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/internal/testpack"
	"github.com/phytoscreen/phytoscreen/internal/testutil"
	"github.com/phytoscreen/phytoscreen/store"
)

// oneDecoderFiles copies 50 real images into a folder: 25 gray NDSB crops and 25
// colour frames of an ESP32 camera (EXIF-rotated JPEGs), named so that their natural
// order is the order they were picked in.
func oneDecoderFiles(t *testing.T) string {
	t.Helper()
	shared := filepath.Join(testutil.RepoRoot(t), "..", "shared", "data")
	var picked []string
	seen := map[string]bool{}
	for _, glob := range []string{filepath.Join(shared, "ndsb", "images", "*", "*.jpg"), filepath.Join(shared, "microscope-frames", "*", "*.jpg")} {
		m, err := filepath.Glob(glob)
		if err != nil || len(m) < 25 {
			t.Fatalf("%s: %d files (%v): the test needs ../shared/data", glob, len(m), err)
		}
		sort.Strings(m)
		step := len(m) / 25
		for i := range 25 {
			// Another frame where the one at the step holds pixels already picked (the
			// real folders hold frames twice, with and without an orientation tag):
			// the folder sources read such a frame once.
			for j := i * step; j < len(m); j++ {
				data, err := os.ReadFile(m[j])
				if err != nil {
					t.Fatal(err)
				}
				key := string(bytes.Join(imagefile.PixelBytes(data), nil))
				if !seen[key] {
					seen[key] = true
					picked = append(picked, m[j])
					break
				}
			}
		}
	}
	dir := t.TempDir()
	for i, f := range picked {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("img%03d.jpg", i)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// One image gives one answer everywhere: the same 50 real files through `classify`, the
// screen command and the app's folder path (single-cell images, the real classifier)
// get the same label and bit-identical probabilities. (The app once gave a brightfield
// JPEG p = 0.34 where classify gave 0.56.)
func TestOneDecoderOneAnswer(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds the command and runs the real model three times")
	}
	testpack.RequireRuntime(t)
	dir := oneDecoderFiles(t)
	work := t.TempDir()
	bin := filepath.Join(work, "phytoscreen")
	build := exec.Command("go", "build", "-o", bin, "./cmd/phytoscreen")
	build.Dir = testutil.RepoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	run := func(args ...string) []byte {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "LANG=C.UTF-8")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("phytoscreen %v: %v", args, err)
		}
		return out
	}
	// classify: JSON keeps each probability's float32 exactly.
	var doc struct {
		Results []struct {
			Path  string  `json:"path"`
			Label string  `json:"label"`
			Prob  float32 `json:"probability"`
		} `json:"results"`
	}
	if err := json.Unmarshal(run("classify", "--format", "json", "--threads", "1", dir), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Results) != 50 {
		t.Fatalf("classify gave %d results", len(doc.Results))
	}
	cliDB := filepath.Join(work, "cli.db")
	run("screen", "--source", "cells:"+dir, "--sample", "S-ONE", "--threads", "1", "--baseline", "0", "--db", cliDB)

	p := defaultPack(t)
	clf, err := inference.NewClassifier(p, inference.Options{Variant: inference.Optimised, Threads: 1, Batch: 16, TopK: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer clf.Close()
	h := newHarness(t, nil, func(s *app.Services) {
		s.Model = app.NewModel(clf)
		s.Open = func(ctx context.Context, spec capture.Spec, set app.Settings, opt capture.OpenOptions) (capture.Source, error) {
			return app.OpenSource(spec, set, "", opt)
		}
		s.NewSegmenter = nil
	})
	h.a.sample.ID.SetText("S-ONE")
	h.a.chooseSource(capture.Spec{Kind: capture.KindCells, Path: dir}) // as Open folder… with single-cell images
	h.a.Start()
	h.pump("the run to start", 20*time.Second, func() bool { return h.a.sess != nil && h.a.sess.run != nil })
	h.pump("the run to end", 120*time.Second, func() bool { return h.a.sess == nil })

	probs := func(st *store.Store) []store.ObjectRow {
		si, err := st.Sample(context.Background(), "S-ONE")
		if err != nil {
			t.Fatal(err)
		}
		var rows []store.ObjectRow
		if err := st.Objects(context.Background(), si, false, func(o store.ObjectRow) error { rows = append(rows, o); return nil }); err != nil {
			t.Fatal(err)
		}
		sort.Slice(rows, func(i, j int) bool { return rows[i].Frame < rows[j].Frame })
		return rows
	}
	cli, err := store.Open(cliDB)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	screened, inApp := probs(cli), probs(h.st)
	if len(screened) != 50 || len(inApp) != 50 {
		t.Fatalf("screen stored %d objects, the app %d; want 50 each", len(screened), len(inApp))
	}
	for i, c := range doc.Results {
		s, a := screened[i], inApp[i]
		if c.Label != s.Label || c.Label != a.Label || float64(c.Prob) != s.Prob || s.Prob != a.Prob {
			t.Errorf("%s: classify %s %.9f, screen %s %.9f, app %s %.9f", filepath.Base(c.Path), c.Label, c.Prob, s.Label, s.Prob, a.Label, a.Prob)
		}
	}
	t.Logf("50 files (25 gray crops, 25 colour frames): the same label and probability through classify, screen and the app")
}
