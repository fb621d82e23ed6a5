package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/vision"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
	"github.com/phytoscreen/phytoscreen/synth"
)

// synthVideo writes (once per test binary) a generated video of known composition: 6
// fields of 11 cells (3 Noctiluca, 2 Trichodesmium puffs, 6 others), 4 frames each.
type videoFixture struct {
	path  string
	truth *synth.VideoTruth
}

// synthVideoDir is the folder synthVideo wrote into, removed by TestMain once every
// test that shares the video has run (each run of the package left one in /tmp).
var synthVideoDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if synthVideoDir != "" {
		if err := os.RemoveAll(synthVideoDir); err != nil {
			fmt.Fprintln(os.Stderr, "remove the shared video's folder:", err)
		}
	}
	os.Exit(code)
}

var synthVideo = sync.OnceValues(func() (videoFixture, error) {
	lib, err := synth.DefaultLibrary()
	if err != nil {
		return videoFixture{}, err
	}
	g, err := synth.New(lib, synth.Options{Width: 960, Height: 720, Cells: 6, Seed: 7,
		Mix: []synth.Count{{Label: "protist_noctiluca", N: 3}, {Label: "trichodesmium_puff", N: 2}}})
	if err != nil {
		return videoFixture{}, err
	}
	dir, err := os.MkdirTemp("", "phytoscreen-screen-test-")
	if err != nil {
		return videoFixture{}, err
	}
	synthVideoDir = dir
	path := filepath.Join(dir, "field.avi")
	vt, err := g.WriteVideo(context.Background(), path, 24, 6, 10)
	return videoFixture{path, vt}, err
})

func videoPath(t *testing.T) (string, *synth.VideoTruth) {
	t.Helper()
	v, err := synthVideo()
	if err != nil {
		t.Fatal(err)
	}
	return v.path, v.truth
}

// screenJSON is the part of screen's JSON summary the tests read.
type screenJSON struct {
	Sample struct {
		ID       string  `json:"id"`
		VolumeML float64 `json:"volume_ml"`
	} `json:"sample"`
	Taxa []struct {
		Label string  `json:"label"`
		Group string  `json:"group"`
		Count int     `json:"count"`
		PerL  float64 `json:"cells_per_l"`
		Low   float64 `json:"ci_low"`
		High  float64 `json:"ci_high"`
	} `json:"taxa"`
	Groups []struct {
		ID    string `json:"id"`
		Count int    `json:"count"`
	} `json:"groups"`
	Unidentified struct {
		Count int `json:"count"`
	} `json:"unidentified"`
	Alerts []struct {
		Rule   string `json:"rule"`
		Taxon  string `json:"taxon"`
		Peak   string `json:"peak"`
		Source string `json:"source"`
		Value  struct {
			Count int     `json:"count"`
			PerL  float64 `json:"cells_per_l"`
		} `json:"value"`
		Threshold struct {
			Value float64 `json:"value"`
			Unit  string  `json:"unit"`
		} `json:"threshold"`
	} `json:"alerts"`
	Events []json.RawMessage `json:"events"`
	Rules  struct {
		Rules   int `json:"rules"`
		Active  int `json:"active"`
		Notices []struct {
			Kind  string `json:"kind"`
			Taxon string `json:"taxon"`
		} `json:"notices"`
	} `json:"rules"`
	Frames struct {
		Seen, Segmented, Dropped int
	} `json:"frames"`
	Cells struct {
		Found, Identified, Unidentified, Failed, Pending int
	} `json:"cells"`
	Run int64 `json:"run"`
}

// The headless screen on a generated video of known composition: every cell counted
// once, concentrations by the hand formula, exactly one Noctiluca alert with its source,
// the missing taxon reported; then the exports of the stored sample.
func TestScreenGeneratedVideo(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs the real model on a generated video")
	}
	video, truth := videoPath(t)
	db := filepath.Join(t.TempDir(), "sessions.db")
	code, stdout, stderr := run(t, "screen", "--source", video, "--sample", "SYN-7", "--site", "bench", "--volume-ml", "0.5",
		"--rules", "testdata/noctiluca-alert.toml", "--db", db, "--format", "json")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var res screenJSON
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
	}
	var top map[string]json.RawMessage
	json.Unmarshal([]byte(stdout), &top)
	for _, k := range []string{"taxa", "alerts", "frames", "cells"} {
		if _, ok := top[k]; !ok {
			t.Errorf("JSON lacks the %q key", k)
		}
	}
	trueCount := map[string]int{}
	for _, c := range truth.Cells {
		trueCount[c.Label]++
	}
	t.Logf("%d true cells (%d Noctiluca, %d Trichodesmium puffs); counted %d: %d identified, %d unidentified, %d failed",
		len(truth.Cells), trueCount["protist_noctiluca"], trueCount["trichodesmium_puff"], res.Cells.Found, res.Cells.Identified, res.Cells.Unidentified, res.Cells.Failed)
	if res.Frames.Seen != 24 || res.Frames.Segmented != 24 || res.Frames.Dropped != 0 {
		t.Errorf("frames %+v, want 24 seen and segmented, none dropped (a file is never dropped)", res.Frames)
	}
	// The command counts exactly the cells the segmenter reports as first sightings; how
	// well those match the true cells is the capture package's measure (over- and
	// under-count), logged here.
	if n := segmenterNewObjects(t, video); res.Cells.Found != n {
		t.Errorf("%d cells counted; the segmenter reports %d first sightings on this video", res.Cells.Found, n)
	}
	t.Logf("segmentation: %d counted for %d true cells (%+d)", res.Cells.Found, len(truth.Cells), res.Cells.Found-len(truth.Cells))
	if res.Cells.Pending != 0 || res.Cells.Found != res.Cells.Identified+res.Cells.Unidentified+res.Cells.Failed {
		t.Errorf("incomplete tallies %+v", res.Cells)
	}
	sum := res.Unidentified.Count
	for _, x := range res.Taxa {
		sum += x.Count
		if want := float64(x.Count) / 0.0005; math.Abs(x.PerL-want) > 1e-9*want || !(x.Low < x.PerL && x.PerL < x.High) {
			t.Errorf("%s: %d cells in 0.5 mL -> %v cells/L [%v, %v], hand computation %v", x.Label, x.Count, x.PerL, x.Low, x.High, want)
		}
	}
	if sum != res.Cells.Identified+res.Cells.Unidentified {
		t.Errorf("taxa and unidentified sum to %d, cells identified+unidentified %d", sum, res.Cells.Identified+res.Cells.Unidentified)
	}
	if len(res.Alerts) != 1 {
		t.Fatalf("alerts %+v, want exactly one", res.Alerts)
	}
	a := res.Alerts[0]
	if a.Rule != "noctiluca" || a.Peak != "alert" || a.Source != "screen_test: Noctiluca at 4,000 cells/L" || a.Threshold.Value != 4000 || a.Value.PerL < 4000 {
		t.Errorf("alert %+v", a)
	}
	if len(res.Events) != 1 {
		t.Errorf("%d level changes, want the one alert", len(res.Events))
	}
	if res.Rules.Rules != 2 || res.Rules.Active != 1 || len(res.Rules.Notices) != 1 || res.Rules.Notices[0].Taxon != "Dinophysis acuminata" {
		t.Errorf("rules %+v", res.Rules)
	}
	if !strings.Contains(stderr, "1 of 2 rules cannot fire with pack ndsb-plankton-121") || !strings.Contains(stderr, "noctiluca-alert.toml line 11: Dinophysis acuminata") {
		t.Errorf("stderr does not report the rule that cannot fire:\n%s", stderr)
	}

	// What the run cost: measured and labelled with its energy source, in the summary and
	// in the store's power record.
	var cost struct {
		CellsPerSec   *float64 `json:"cells_per_s"`
		LatencyP90ms  *float64 `json:"latency_p90_ms"`
		LatencyPer    string   `json:"latency_per"`
		CropsPerRun   *float64 `json:"crops_per_run"`
		JoulesPerCell *float64 `json:"joules_per_cell"`
		EnergySource  string   `json:"energy_source"`
		Estimated     bool     `json:"energy_estimated"`
	}
	if err := json.Unmarshal(top["cost"], &cost); err != nil {
		t.Fatalf("cost: %v", err)
	}
	// The latencies time an inference run of a batch of crops, not a cell (helper-84).
	if cost.LatencyPer != "inference run" || cost.CropsPerRun == nil || *cost.CropsPerRun < 1 {
		t.Errorf("cost: latency per %q, %v crops per run", cost.LatencyPer, cost.CropsPerRun)
	}
	if cost.CellsPerSec == nil || *cost.CellsPerSec <= 0 || cost.LatencyP90ms == nil || cost.JoulesPerCell == nil || *cost.JoulesPerCell <= 0 ||
		cost.EnergySource == "" || cost.Estimated != strings.HasPrefix(cost.EnergySource, "estimate") {
		t.Errorf("cost %+v", cost)
	}
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	en, err := st.Energy(context.Background(), "SYN-7")
	st.Close()
	if err != nil || len(en) != 1 || en[0].Cells != res.Cells.Found || en[0].Joules <= 0 || en[0].Estimated != cost.Estimated {
		t.Errorf("stored power record %+v (%v): want one run's energy over its %d cells", en, err, res.Cells.Found)
	}

	// The exports of the stored sample agree with the run.
	dir := t.TempDir()
	counts := filepath.Join(dir, "counts.csv")
	if code, out, errOut := run(t, "export", "--db", db, "--sample", "SYN-7", "--format", "csv", "--out", counts); code != exitOK {
		t.Fatalf("export csv: exit %d %s %s", code, out, errOut)
	}
	rows := readCSV(t, counts)
	head := rows[0]
	stored := map[string]int{}
	for _, r := range rows[1:] {
		if r[slices.Index(head, "kind")] == "taxon" {
			stored[r[slices.Index(head, "label")]], _ = strconv.Atoi(r[slices.Index(head, "count")])
		}
	}
	for _, x := range res.Taxa {
		if stored[x.Label] != x.Count {
			t.Errorf("%s: run counted %d, export says %d", x.Label, x.Count, stored[x.Label])
		}
	}
	objects := filepath.Join(dir, "objects.csv")
	if code, _, errOut := run(t, "export", "--db", db, "--sample", "SYN-7", "--format", "objects", "--out", objects); code != exitOK {
		t.Fatalf("export objects: %s", errOut)
	}
	if n := len(readCSV(t, objects)) - 1; n != res.Cells.Found {
		t.Errorf("objects CSV has %d rows, %d cells were counted", n, res.Cells.Found)
	}
	zipPath := filepath.Join(dir, "syn7.zip")
	if code, _, errOut := run(t, "export", "--db", db, "--sample", "SYN-7", "--format", "ecotaxa", "--out", zipPath); code != exitOK {
		t.Fatalf("export ecotaxa: %s", errOut)
	}
	checkEcoTaxaZip(t, zipPath, res.Cells.Found)
	// Named .csv, the zip opened as garbage: the name is refused, nothing written.
	csvPath := filepath.Join(dir, "syn7.csv")
	if code, _, errOut := run(t, "export", "--db", db, "--sample", "SYN-7", "--format", "ecotaxa", "--out", csvPath); code != exitUsage || !strings.Contains(errOut, "the EcoTaxa export is a zip (its TSV and crops); name it .zip") {
		t.Errorf("export ecotaxa to .csv: exit %d, %s", code, errOut)
	}
	if _, err := os.Stat(csvPath); err == nil {
		t.Error("the EcoTaxa zip was written under a .csv name")
	}
}

// segmenterNewObjects runs the segmenter alone over a video and counts the objects it
// marks New.
func segmenterNewObjects(t *testing.T, video string) int {
	t.Helper()
	src, err := capture.Open(capture.MustParseSpec(video), capture.OpenOptions{OnStatus: func(capture.Status) {}})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	seg, err := vision.NewSegmenter(vision.Options{OnStatus: func(capture.Status) {}})
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	n := 0
	for {
		f, err := src.Next(context.Background())
		if err != nil {
			break
		}
		objs, err := seg.Process(f)
		f.Mat.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			if o.New {
				n++
			}
		}
	}
	return n
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatalf("%s is not valid CSV: %v", path, err)
	}
	return rows
}

// checkEcoTaxaZip opens an EcoTaxa export: one ecotaxa_*.tsv whose second row holds a
// type code ([t] or [f]) for every column, the required columns, one row per object, and
// every img_file_name present in the zip.
func checkEcoTaxaZip(t *testing.T, path string, objects int) {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer zr.Close()
	inZip := map[string]bool{}
	var tsv []byte
	for _, f := range zr.File {
		inZip[f.Name] = true
		if strings.HasPrefix(f.Name, "ecotaxa_") && strings.HasSuffix(f.Name, ".tsv") {
			rc, _ := f.Open()
			tsv, _ = io.ReadAll(rc)
			rc.Close()
		}
	}
	if tsv == nil {
		t.Fatal("no ecotaxa_*.tsv in the zip")
	}
	r := csv.NewReader(bytes.NewReader(tsv))
	r.Comma = '\t'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("the TSV is not valid: %v", err)
	}
	head := rows[0]
	for i, ty := range rows[1] {
		if ty != "[t]" && ty != "[f]" {
			t.Errorf("column %s: type %q", head[i], ty)
		}
	}
	for _, c := range []string{"object_id", "img_file_name", "object_annotation_category", "object_annotation_status", "sample_id", "acq_id"} {
		if !slices.Contains(head, c) {
			t.Errorf("no %s column", c)
		}
	}
	if len(rows)-2 != objects {
		t.Errorf("%d object rows, want %d", len(rows)-2, objects)
	}
	img := slices.Index(head, "img_file_name")
	status := slices.Index(head, "object_annotation_status")
	for _, row := range rows[2:] {
		if !inZip[row[img]] {
			t.Errorf("img_file_name %q is not in the zip", row[img])
		}
		if s := row[status]; s != "predicted" && s != "validated" && s != "" {
			t.Errorf("status %q", s)
		}
	}
}

func TestScreenUsageAndSetupErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no source", []string{"screen"}, exitUsage, "--source is required"},
		{"bad format", []string{"screen", "--source", "x.avi", "--format", "xml"}, exitUsage, `--format "xml": use text or json`},
		{"zero volume", []string{"screen", "--source", "x.avi", "--volume-ml", "0"}, exitUsage, "--volume-ml 0: give a volume in mL from 1e-06 to 1e+06"},
		{"lat alone", []string{"screen", "--source", "x.avi", "--lat", "56"}, exitUsage, "--lat and --lon go together"},
		{"lat not a number", []string{"screen", "--source", "x.avi", "--lat", "abc", "--lon", "9"}, exitUsage, "--lat abc --lon 9: give decimal degrees, e.g. --lat 56.95 --lon 9.05"},
		{"bad time", []string{"screen", "--source", "x.avi", "--taken", "yesterday"}, exitUsage, `--taken "yesterday"`},
		{"future time", []string{"screen", "--source", "x.avi", "--taken", "2999-01-01"}, exitUsage, `--taken "2999-01-01" is in the future`},
		{"ancient time", []string{"screen", "--source", "x.avi", "--taken", "1900-01-01"}, exitUsage, `--taken "1900-01-01" is before 1990`},
		{"bad mode", []string{"screen", "--source", "x.avi", "--mode", "spin"}, exitUsage, "--mode"},
		// The site's line break, not an ID made from it that no one gave (helper-68).
		{"site over two lines", []string{"screen", "--source", "x.avi", "--site", "Loch\nNess"}, exitUsage, `site "Loch\nNess" contains a tab or a line break: write it on one line`},
		{"unknown rules", []string{"screen", "--source", "x.avi", "--rules", "atlantis"}, exitUsage, "no alert preset \"atlantis\" (presets: chile, default, denmark"},
		{"negative baseline", []string{"screen", "--source", "x.avi", "--baseline", "-1s"}, exitUsage, "--baseline -1s: give how long to measure the idle power, from 0 (skip) to 10m0s"},
		{"baseline of hours", []string{"screen", "--source", "x.avi", "--baseline", "100h"}, exitUsage, "--baseline 100h0m0s"},
		{"depth NaN", []string{"screen", "--source", "x.avi", "--depth", "NaN"}, exitUsage, "--depth \"NaN\": give metres below the surface"},
		{"broken rules", []string{"screen", "--source", "x.avi", "--rules", "testdata/broken-rules.toml"}, exitRuntime, "broken-rules.toml line 5: unit \"cells/ul\""},
		{"missing source", []string{"screen", "--source", "/no/such/video.avi", "--db", "DB"}, exitRuntime, "/no/such/video.avi: no such file"},
		{"bad threshold", []string{"screen", "--source", "x.avi", "--threshold", "2"}, exitUsage, "--threshold 2"},
		{"export without sample", []string{"export", "--db", "DB", "--out", "x.csv"}, exitUsage, "--sample and --out are required"},
		{"export bad format", []string{"export", "--db", "DB", "--sample", "S", "--out", "x", "--format", "xlsx"}, exitUsage, `--format "xlsx"`},
		{"export no db", []string{"export", "--db", "/no/such.db", "--sample", "S", "--out", "x.csv"}, exitRuntime, "screen a sample first"},
	}
	dir := t.TempDir()
	for _, c := range cases {
		args := slices.Clone(c.args)
		for i, a := range args {
			if a == "DB" {
				args[i] = filepath.Join(dir, "s.db")
			}
		}
		code, stdout, stderr := run(t, args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d, want %d with %q in stderr:\n%s%s", c.name, code, c.code, c.want, stdout, stderr)
		}
	}
}

// A source that is not there is the one thing said: the notes on the rules (and the
// presets for the pack) came first, then "no such file or folder".
func TestScreenMissingSourceSaidFirst(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing-folder")
	for _, pack := range []string{assets.DefaultPackName, assets.CyanoPackName} {
		code, stdout, stderr := run(t, "screen", "--source", missing, "--pack", pack, "--db", filepath.Join(t.TempDir(), "s.db"))
		want := "phytoscreen screen: source " + missing + ": no such file or folder (a camera is written camera:0)\n"
		if code != exitRuntime || stdout != "" || stderr != want {
			t.Errorf("pack %s: exit %d, stderr\n%s\nwant exit 3 and only\n%s", pack, code, stderr, want)
		}
	}
}

// Presets naming taxa the pack lacks say so, plainly, before the run.
func TestScreenPresetWarnings(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	video, _ := videoPath(t)
	code, stdout, stderr := run(t, "screen", "--source", video, "--rules", "denmark", "--db", filepath.Join(t.TempDir(), "s.db"), "--format", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// No rule applies: the JSON says the alerts were not checked, so that its empty
	// alert list is not read as an all-clear.
	var doc struct {
		Checked *bool `json:"alerts_checked"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || doc.Checked == nil || *doc.Checked {
		t.Errorf("alerts_checked %v (%v), want false", doc.Checked, err)
	}
	for _, want := range []string{
		"rules preset denmark: 16 of 16 rules cannot fire with pack ndsb-plankton-121",
		"preset denmark line 9: Dinophysis acuminata",
		"preset denmark line 69: Pseudo-nitzschia spp.",
		"no rule applies to pack ndsb-plankton-121: no alert can be raised in this run",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

// screenWrapped runs the screen command with args as its flags, on the real classifier
// wrapped by wrap, and returns the exit status.
func screenWrapped(t *testing.T, m *Main, args []string, wrap func(screening.Classifier) screening.Classifier) int {
	t.Helper()
	return screenOn(t, context.Background(), m, args, wrap)
}

// screenOn runs the screen command on ctx with args as its flags, on the real
// classifier wrapped by wrap (nil: as is), and returns the exit status.
func screenOn(t *testing.T, ctx context.Context, m *Main, args []string, wrap func(screening.Classifier) screening.Classifier) int {
	t.Helper()
	fs := newFlags("screen", "", m.Stderr)
	var f screenFlags
	f.register(fs)
	if _, err := parseArgs(fs, args); err != nil {
		t.Fatal(err)
	}
	plan, err := f.plan(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	clf, err := f.model.open(5)
	if err != nil {
		t.Fatal(err)
	}
	defer clf.Close()
	closeDetector, err := f.addDetector(&plan)
	if err != nil {
		t.Fatal(err)
	}
	defer closeDetector()
	var c screening.Classifier = clf
	if wrap != nil {
		c = wrap(clf)
	}
	err = m.screenWith(ctx, f, plan, clf.Pack(), c)
	m.report("screen", err)
	return exitCode(err)
}

// failingBatch is a classifier whose batch number fail (from 1) fails as ONNX Runtime
// fails when it runs out of memory; the other batches go to the real classifier.
type failingBatch struct {
	screening.Classifier
	fail    int32
	batches atomic.Int32
	crops   atomic.Int32 // crops of the failed batch
}

func (c *failingBatch) Classify(ctx context.Context, crops []*image.Gray) ([]inference.Result, error) {
	if c.batches.Add(1) == c.fail {
		c.crops.Store(int32(len(crops)))
		return nil, fmt.Errorf("run optimised model on %d crops: onnxruntime: out of memory (injected)", len(crops))
	}
	return c.Classifier.Classify(ctx, crops)
}

// The classifier fails on one batch of a screen: the run goes on to the end, the summary
// is printed with the failed cells counted as such, the failed cells are stored with the
// reason, and the command exits 1 (the work ran, part of it failed).
func TestScreenClassifierBatchFails(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs the real model on a generated video")
	}
	video, _ := videoPath(t)
	db := filepath.Join(t.TempDir(), "sessions.db")
	clf := &failingBatch{fail: 2}
	for _, format := range []string{"json", "text"} {
		clf.batches.Store(0)
		var out, errOut bytes.Buffer
		m := &Main{Stdout: &out, Stderr: &errOut, Stdin: strings.NewReader("")}
		sample := "FAIL-" + format
		code := screenWrapped(t, m, []string{"--source", video, "--sample", sample, "--db", db, "--format", format, "--baseline", "0"},
			func(c screening.Classifier) screening.Classifier { clf.Classifier = c; return clf })
		failed := int(clf.crops.Load())
		t.Logf("%s: exit %d, %d batches, batch 2 failed with %d crops\n%s", format, code, clf.batches.Load(), failed, out.String())
		if code != exitFailed {
			t.Errorf("%s: exit %d, want 1\n%s", format, code, errOut.String())
		}
		if failed == 0 || clf.batches.Load() < 3 {
			t.Fatalf("%s: %d batches, the failed one had %d crops: the run did not go on past a failed batch", format, clf.batches.Load(), failed)
		}
		var found int
		if format == "json" {
			var res screenJSON
			if err := json.Unmarshal(out.Bytes(), &res); err != nil {
				t.Fatalf("stdout is not the JSON summary: %v\n%s", err, out.String())
			}
			if res.Cells.Failed != failed || res.Cells.Identified+res.Cells.Unidentified+res.Cells.Failed != res.Cells.Found || res.Cells.Identified == 0 {
				t.Errorf("summary cells %+v: want %d failed, the rest classified", res.Cells, failed)
			}
			found = res.Cells.Found
		} else {
			for _, want := range []string{fmt.Sprintf(", %d failed) in ", failed), fmt.Sprintf("Note: %d cells could not be classified", failed), "Stored in " + db} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("text summary lacks %q", want)
				}
			}
		}
		s, err := store.Open(db)
		if err != nil {
			t.Fatal(err)
		}
		c, err := s.Counts(context.Background(), sample)
		if err != nil {
			t.Fatal(err)
		}
		var reasons []string
		if err := s.Objects(context.Background(), c.Sample, false, func(o store.ObjectRow) error {
			if o.Err != "" {
				reasons = append(reasons, o.Err)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		s.Close()
		if c.Failed != failed || len(reasons) != failed || !strings.Contains(reasons[0], "out of memory (injected)") || (found > 0 && c.Objects != found) {
			t.Errorf("stored: %d failed of %d objects, reasons %q; want %d failed with the reason", c.Failed, c.Objects, reasons, failed)
		}
		if st := c.Sample.Runs[0].Status; st != "done" {
			t.Errorf("stored run status %q, want done (it ran to the end)", st)
		}
	}
}

// A frame that cannot be segmented (1x1 pixels) is said apart from those segmented: the
// summary's frames add up (helper-60: "7 seen, 7 segmented, 0 dropped, 1 failed").
func TestScreenSummaryFramesAddUp(t *testing.T) {
	dir := t.TempDir()
	frames, _ := filepath.Glob("../../testdata/microscope/*.jpg")
	if len(frames) < 2 {
		t.Fatal("want two frames in testdata/microscope")
	}
	for i, f := range frames[:2] {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d.jpg", i+1)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tiny := image.NewGray(image.Rect(0, 0, 1, 1))
	fh, err := os.Create(filepath.Join(dir, "f3.png"))
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(fh, tiny); err != nil {
		t.Fatal(err)
	}
	fh.Close()
	_, stdout, stderr := run(t, "screen", "--source", dir, "--sample", "ADD-1", "--volume-ml", "0.05", "--baseline", "0", "--db", filepath.Join(t.TempDir(), "s.db"))
	if !strings.Contains(stdout, "Frames: 3 seen, 2 segmented, 0 dropped, 1 failed.") {
		t.Errorf("the frames do not add up:\n%s%s", stdout, stderr)
	}
}
