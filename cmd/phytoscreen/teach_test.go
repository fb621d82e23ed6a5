package main

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/internal/testpack"
	"github.com/phytoscreen/phytoscreen/store"
)

// pack teach refuses a pack without a features output, saying which packs have one, and
// a class with one crop, saying how many more it needs.
func TestPackTeachRefusesBadInput(t *testing.T) {
	testpack.RequireRuntime(t)
	dir := t.TempDir()
	list := filepath.Join(dir, "list.csv")
	files, err := filepath.Glob(mustAbs(t, "../../assets/samples/ndsb-val/protist_noctiluca") + "/*.jpg")
	if err != nil || len(files) < 6 {
		t.Fatalf("sample images: %d, %v", len(files), err)
	}
	rows := "path,label\n"
	for _, f := range files[:5] {
		rows += f + ",lab_round\n"
	}
	rows += files[5] + ",lab_single\n"
	if err := os.WriteFile(list, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "taught")
	code, _, stderr := run(t, "pack", "teach", "--pack", "ndsb-plankton-121", "--labels", list, "--out", out, "--no-cache")
	if code != exitRuntime || !strings.Contains(stderr, "pack ndsb-plankton-121 has no features output (format 1)") ||
		!strings.Contains(stderr, "choose cyano-tcb-10 or ndsb-plankton-121-v2, which have a features output") {
		t.Errorf("format-1 pack: exit %d, %s", code, stderr)
	}
	code, _, stderr = run(t, "pack", "teach", "--pack", "ndsb-plankton-121-v2", "--labels", list, "--out", out, "--no-cache")
	if code != exitFailed || !strings.Contains(stderr, "class lab_single has 1 crop; teaching needs at least 5 (4 more): add crops of it, or leave out the taxa with too few crops (--leave-out-few)") {
		t.Errorf("one crop: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a refused teaching wrote %s", out)
	}
	// --leave-out-few teaches the rest and says what it left out.
	code, stdout, stderr := run(t, "pack", "teach", "--pack", "ndsb-plankton-121-v2", "--labels", list, "--dry-run", "--no-cache", "--leave-out-few")
	if code != exitOK || !strings.Contains(stdout, "taught ndsb-plankton-121-v2 1 new taxon (lab_round) from 5 crops") ||
		!strings.Contains(stdout, "Left out, with fewer than 5 crops: lab_single (1 crop).") {
		t.Errorf("--leave-out-few: exit %d, %s%s", code, stdout, stderr)
	}
	// Five of the pack's own reference Noctiluca crops taught as a new taxon: the head
	// cannot tell them from the pack's Noctiluca, and a script is warned (the app asks
	// before it saves such a pack).
	if !strings.Contains(stderr, "phytoscreen pack teach: warning: the ") || !strings.Contains(stderr, "names the new taxa right") {
		t.Errorf("no weak-teaching warning: %s", stderr)
	}
	// Every crop that cannot be taught from is named at once, with its fix: three bad
	// crops took three runs to find (helper-68).
	bad := t.TempDir()
	for name, data := range map[string]string{"empty.jpg": "", "text.jpg": "hello\n"} {
		os.WriteFile(filepath.Join(bad, name), []byte(data), 0o644)
	}
	tiny := image.NewGray(image.Rect(0, 0, 1, 1))
	var tinyPNG bytes.Buffer
	png.Encode(&tinyPNG, tiny)
	os.WriteFile(filepath.Join(bad, "tiny.png"), tinyPNG.Bytes(), 0o644)
	badRows := rows
	for _, name := range []string{"empty.jpg", "text.jpg", "tiny.png"} {
		badRows += filepath.Join(bad, name) + ",lab_round\n"
	}
	badList := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(badList, []byte(badRows), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = run(t, "pack", "teach", "--pack", "ndsb-plankton-121-v2", "--labels", badList, "--dry-run", "--no-cache", "--leave-out-few")
	for _, want := range []string{"empty.jpg: empty file (0 bytes)", "text.jpg: not a JPEG, PNG, TIFF or BMP image", "tiny.png is 1x1 pixels: too small to hold a cell"} {
		if code == exitOK || !strings.Contains(stderr, want) {
			t.Errorf("three bad crops: exit %d, want %q in\n%s%s", code, want, stdout, stderr)
		}
	}
	// A folder that is not empty is refused before any crop is embedded (it was refused
	// after the embedding and the training: helper-39).
	full := t.TempDir()
	os.WriteFile(filepath.Join(full, "notes.txt"), []byte("x"), 0o644)
	code, stdout, stderr = run(t, "pack", "teach", "--pack", "ndsb-plankton-121-v2", "--labels", list, "--out", full, "--no-cache")
	if code != exitUsage || !strings.Contains(stderr, "exists and is not empty") || strings.Contains(stdout+stderr, "embed") {
		t.Errorf("--out a folder with files: exit %d, %s%s", code, stdout, stderr)
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// pack teach --db teaches the store's validated crops (the Gallery's relabels), caches
// their embeddings in that store, prints the report and saves a pack that loads, its
// examples named by object.
func TestPackTeachFromStore(t *testing.T) {
	testpack.RequireRuntime(t)
	ctx := context.Background()
	st := storedSample(t, "TEACH-1", 7)
	for id := int64(1); id <= 6; id++ {
		if _, err := st.Relabel(ctx, id, "lab_taxon", "Ana"); err != nil {
			t.Fatal(err)
		}
	}
	db := st.Path()
	st.Close()
	out := filepath.Join(t.TempDir(), "taught")
	code, stdout, stderr := run(t, "pack", "teach", "--pack", "ndsb-plankton-121-v2", "--db", db, "--out", out, "--threads", "1", "--compare")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"taught ndsb-plankton-121-v2 1 new taxon (lab_taxon) from 6 crops", "lab_taxon (new)", "saved pack ndsb-plankton-121-v2-taught (122 labels)", "top-1 on 6 reviewed crops"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	p, err := inference.LoadPackDir(out)
	if err != nil || p.Labels[len(p.Labels)-1] != "lab_taxon" {
		t.Fatalf("saved pack: %v", err)
	}
	ex, _ := os.ReadFile(filepath.Join(out, "examples.csv"))
	if !strings.Contains(string(ex), "object 1 of sessions.db (sample TEACH-1),lab_taxon") {
		t.Errorf("examples.csv:\n%s", ex)
	}
	// The output may not be an input: the store itself is refused.
	code, _, stderr = run(t, "pack", "teach", "--pack", "ndsb-plankton-121-v2", "--db", db, "--out", db)
	if code != exitUsage || !strings.Contains(stderr, "--out") {
		t.Errorf("--out the store: exit %d, %s", code, stderr)
	}
}

// pack inspect on a taught pack (no validation figures recorded) says so, not 0.000.
func TestPrintPackWithoutFigures(t *testing.T) {
	p, err := app.LoadPack("ndsb-plankton-121-v2")
	if err != nil {
		t.Fatal(err)
	}
	for v, m := range p.Models {
		m.ValTop1, m.ValTop5, m.ValLogLoss = 0, 0, 0
		p.Models[v] = m
	}
	var b strings.Builder
	printPack(&b, p)
	if strings.Contains(b.String(), "0.000") || !strings.Contains(b.String(), "no validation figures recorded") {
		t.Fatalf("inspect of a pack without figures:\n%s", b.String())
	}
}

// TestTeachCacheMakesTheDefaultStoresFolder: without --db, teach caches its embeddings
// in the default store, whose folder a new install does not have yet (a given --db must
// be in a folder that exists; the default one is made).
func TestTeachCacheMakesTheDefaultStoresFolder(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", filepath.Join(t.TempDir(), "data"))
	c, done, err := teachCache(nil, "")
	if err != nil {
		t.Fatalf("teach cache on a new install: %v", err)
	}
	defer done()
	if c == nil {
		t.Fatal("no cache")
	}
	want, err := store.DefaultPath()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(want); err != nil {
		t.Errorf("default store %s: %v", want, err)
	}
}

// --bias LABEL=LOGODDS: read, repeated for several labels, refused with the form to use.
func TestParseBias(t *testing.T) {
	bias := map[string]float64{}
	for _, s := range []string{"Other=-2.197", " rings = 1.5"} {
		if err := parseBias(bias, s); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
	}
	if len(bias) != 2 || bias["Other"] != -2.197 || bias["rings"] != 1.5 {
		t.Errorf("bias %v", bias)
	}
	for s, want := range map[string]string{
		"Other":      "want LABEL=LOGODDS",
		"=1":         "want LABEL=LOGODDS",
		"Other=much": `"much" is not a number of log-odds`,
		"Other=NaN":  "is not a number of log-odds",
		"Other=-Inf": "is not a number of log-odds",
		"Other=-1.0": "Other has a bias already",
	} {
		if err := parseBias(bias, s); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", s, err, want)
		}
	}
}
