package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/power"

	"github.com/phytoscreen/phytoscreen/vision"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/imagefile"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/screening"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// realCrops are real NDSB images (from the built-in samples) used as object crops.
func realCrops(t testing.TB) []*image.Gray {
	t.Helper()
	var out []*image.Gray
	for _, p := range []string{"protist_noctiluca/4909.jpg", "copepod_calanoid", "trichodesmium_puff/106430.jpg"} {
		if !strings.HasSuffix(p, ".jpg") {
			entries, err := fs.ReadDir(assets.Samples(), p)
			if err != nil {
				t.Fatal(err)
			}
			p += "/" + entries[0].Name()
		}
		data, err := fs.ReadFile(assets.Samples(), p)
		if err != nil {
			t.Fatal(err)
		}
		img, err := imagefile.Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, imagefile.ToGray(img))
	}
	return out
}

func testTaxonomy(t testing.TB) *screening.Taxonomy {
	p, err := inference.LoadPack(assets.DefaultPack(), "built-in")
	if err != nil {
		t.Fatal(err)
	}
	return screening.DefaultTaxonomy(p.Name, p.Labels)
}

var t0 = time.Date(2025, 6, 3, 9, 30, 0, 0, time.UTC)

func testSample() screening.Sample {
	s := screening.NewSample("LIM-2025-06-03")
	s.Site, s.Taken, s.VolumeML, s.Factor, s.Lat, s.Lon = "Limfjord A", t0, 2, 1, 56.95, 9.05
	return s
}

// record makes the i-th object: label, probability and crop cycle through a pattern.
func record(crops []*image.Gray, seq int, label string, prob float32, err string) screening.ObjectRecord {
	c := crops[seq%len(crops)]
	r := screening.ObjectRecord{Seq: seq, Time: t0.Add(time.Duration(seq) * time.Second),
		Object: vision.Object{Source: "field.avi", Frame: seq * 3, Track: seq, New: true, Box: image.Rect(10*seq, 20, 10*seq+c.Rect.Dx(), 20+c.Rect.Dy()),
			AreaPx: 1200.5, Perimeter: 140.25, ESD: 39.1, Major: 50, Minor: 30, Aspect: 0.6, Solidity: 0.9, MeanGray: 120, Focus: 88.5, Crop: c,
			Contrast: -0.35, Centroid: [2]float64{10*float64(seq) + 20, 40}},
		Label: label, Prob: prob, Variant: inference.Optimised, Category: label, Err: err,
	}
	if label != "" {
		r.Top = []inference.Prediction{{Index: 0, Label: label, Prob: prob}}
	}
	if seq == 5 { // one calibrated object: 0.5 µm per pixel
		r.UmPerPx, r.AreaUm2, r.ESDUm, r.MajorUm, r.MinorUm, r.PerimeterUm = 0.5, 300.125, 19.55, 25, 15, 70.125
	}
	r.Kind, r.Length, r.Width, r.Cells = vision.KindCell, 39.1, 39.1, 1
	switch seq {
	case 8: // a colony of 12 cores, 14 cells estimated, seen in colour
		r.Kind, r.Parts, r.Cells = vision.KindColony, 12, 14
		r.ColourCrop = image.NewRGBA(c.Rect)
		for i := range r.ColourCrop.Pix {
			r.ColourCrop.Pix[i] = []uint8{40, 160, 60, 255}[i%4]
		}
	case 9: // a filament over a tenth of its frame, kept whole
		r.Kind, r.Length, r.Width, r.Cells, r.Oversize = vision.KindFilament, 180.5, 4.25, 42, true
	}
	return r
}

// fillRun stores 10 objects: 4 Noctiluca (one at p=0.4, below the 0.5 threshold), 3
// copepods, 2 Trichodesmium puffs and 1 failed; an alert; a perf sample.
func fillRun(t testing.TB, s *Store, sm screening.Sample) *Run {
	t.Helper()
	return fillRunOf(t, s, sm, "field.avi")
}

// fillRunOf is fillRun of the frames of source spec.
func fillRunOf(t testing.TB, s *Store, sm screening.Sample, spec string) *Run {
	t.Helper()
	tx := testTaxonomy(t)
	r, err := s.startRun(context.Background(), screening.RunInfo{Sample: sm, Spec: capture.MustParseSpec(spec), Model: inference.Optimised, Threshold: 0.5, Rules: "preset:default", Taxonomy: tx}, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	crops := realCrops(t)
	recs := []screening.ObjectRecord{
		record(crops, 1, "protist_noctiluca", 0.9, ""),
		record(crops, 2, "protist_noctiluca", 0.8, ""),
		record(crops, 3, "protist_noctiluca", 0.4, ""),
		record(crops, 4, "protist_noctiluca", 0.7, ""),
		record(crops, 5, "copepod_calanoid", 0.95, ""),
		record(crops, 6, "copepod_calanoid", 0.6, ""),
		record(crops, 7, "copepod_calanoid", 0.5, ""),
		record(crops, 8, "trichodesmium_puff", 0.99, ""),
		record(crops, 9, "trichodesmium_puff", 0.85, ""),
		record(crops, 10, "", 0, "run optimised model on 1 crops: out of memory"),
	}
	if err := r.Objects(recs[:5]); err != nil {
		t.Fatal(err)
	}
	if err := r.Objects(recs[5:]); err != nil {
		t.Fatal(err)
	}
	frames := []screening.FrameRecord{
		{Time: t0, Index: 3, Source: "field.avi", Focus: 0.91, Objects: 2, NewField: true},
		{Time: t0.Add(time.Second), Index: 4, Source: "field.avi", Focus: 0.31, OutOfFocus: true, Held: true, Objects: 2, Oversize: 1, Crowded: true},
	}
	if err := r.Frames(frames); err != nil {
		t.Fatal(err)
	}
	ev := alerts.Event{Time: t0, Rule: "noctiluca", Taxon: "noctiluca", From: alerts.None, To: alerts.Watch, Value: alerts.Measure{Count: 1, PerL: 500},
		Threshold: alerts.Threshold{Presence: true, Unit: alerts.Presence}, Source: "phytoscreen default"}
	if err := r.Event(ev); err != nil {
		t.Fatal(err)
	}
	if err := r.Perf(screening.PerfSample{Time: t0, Variant: inference.Optimised, Cells: 10, Duration: 35 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	return r
}

func openTemp(t testing.TB) *Store {
	s, err := Open(filepath.Join(t.TempDir(), "sessions.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestRunRoundTripAndCounts(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	r := fillRun(t, s, testSample())
	if err := r.Finish(ctx, screening.Snapshot{Frames: screening.FrameStats{Seen: 30, Dropped: 2}, Threshold: 0.5, Variant: inference.Optimised}, nil); err != nil {
		t.Fatal(err)
	}
	if err := r.Objects(nil); err == nil || !strings.Contains(err.Error(), "is finished") {
		t.Errorf("a write after Finish: %v", err)
	}
	if err := r.Finish(ctx, screening.Snapshot{}, nil); err == nil {
		t.Error("a second Finish was accepted")
	}
	c, err := s.Counts(ctx, "LIM-2025-06-03")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, x := range c.Taxa {
		got[x.Label] = x.Count
	}
	if got["protist_noctiluca"] != 3 || got["copepod_calanoid"] != 3 || got["trichodesmium_puff"] != 2 || len(got) != 3 {
		t.Errorf("counts %v", got)
	}
	if c.Unidentified.Count != 1 || c.Failed != 1 || c.Objects != 10 {
		t.Errorf("unidentified %d failed %d objects %d", c.Unidentified.Count, c.Failed, c.Objects)
	}
	// The unidentified one is kept by the model's guess, for what its review could make
	// of the Noctiluca rule (screening.WithGuessed).
	if g := c.Guessed; len(g) != 1 || g["protist_noctiluca"] != (screening.Guess{Count: 1, Cells: 1}) {
		t.Errorf("guessed %+v: want the one Noctiluca under the threshold", g)
	}
	// 3 cells in 2 mL = 1,500 cells/L, 95% CI [0.6187, 8.767] x 500.
	n := c.Taxa[0]
	if n.Label != "copepod_calanoid" && n.Label != "protist_noctiluca" || n.PerL != 1500 || math.Abs(n.Low-309.4) > 0.1 || math.Abs(n.High-4383.6) > 0.2 {
		t.Errorf("first taxon %+v", n)
	}
	var kinds []string
	err = s.Objects(ctx, c.Sample, true, func(o ObjectRow) error {
		kinds = append(kinds, fmt.Sprintf("%d %s %.1f %.2f %d %g %v", o.Seq, o.Kind, o.Length, o.Width, o.Parts, o.Cells, o.Oversize))
		img, err := png.Decode(bytes.NewReader(o.Crop))
		if err != nil {
			return fmt.Errorf("object %d: crop: %w", o.Seq, err)
		}
		r, g, b, _ := img.At(0, 0).RGBA()
		if colour := r != g || g != b; colour != (o.Seq == 8) {
			t.Errorf("object %d: stored crop in colour %v (%T): want colour for the one seen in colour only", o.Seq, colour, img)
		}
		return nil
	})
	if err != nil || kinds[7] != "8 colony 39.1 39.10 12 14 false" || kinds[8] != "9 filament 180.5 4.25 0 42 true" || kinds[0] != "1 cell 39.1 39.10 0 1 false" {
		t.Errorf("kinds read back: %q, %v", kinds, err)
	}
	var nf, out, held, fields, over, crowded int
	var focus float64
	if err := s.db.QueryRow(`SELECT COUNT(*), SUM(out_of_focus), SUM(held), SUM(new_field), SUM(oversize), SUM(crowded), MIN(focus) FROM frames WHERE source_id = ?`,
		c.Sample.Runs[0].ID).Scan(&nf, &out, &held, &fields, &over, &crowded, &focus); err != nil || nf != 2 || out != 1 || held != 1 || fields != 1 || over != 1 || crowded != 1 || focus != 0.31 {
		t.Errorf("frames stored: %d, out of focus %d, held %d, new fields %d, oversize %d, crowded %d, least focus %g (%v)", nf, out, held, fields, over, crowded, focus, err)
	}
	run := c.Sample.Runs[0]
	if run.Status != "done" || run.FramesSeen != 30 || run.FramesDropped != 2 || run.Ended.IsZero() || c.Sample.Site != "Limfjord A" || !c.Sample.Taken.Equal(t0) {
		t.Errorf("run %+v sample %+v", run, c.Sample)
	}

	// A person relabels the unidentified Noctiluca as a copepod: it counts as validated.
	queue, err := s.ReviewQueue(ctx, "LIM-2025-06-03", 10)
	if err != nil || len(queue) != 1 || queue[0].Seq != 3 || len(queue[0].Crop) == 0 {
		t.Fatalf("review queue %v %v", queue, err)
	}
	if err := s.Validate(ctx, queue[0].ID, "copepod_calanoid", "ana"); err != nil {
		t.Fatal(err)
	}
	c, _ = s.Counts(ctx, "LIM-2025-06-03")
	if c.Taxa[0].Label != "copepod_calanoid" || c.Taxa[0].Count != 4 || c.Taxa[0].Validated != 1 || c.Unidentified.Count != 0 || c.Guessed != nil {
		t.Errorf("after validation %+v unidentified %d, guessed %+v", c.Taxa[0], c.Unidentified.Count, c.Guessed)
	}

	// A second run of the same water adds its volume; other water under the same ID is refused.
	r2 := fillRunOf(t, s, testSample(), "field-2.avi")
	if err := r2.Finish(ctx, screening.Snapshot{Threshold: 0.5}, errors.New("camera unplugged")); err != nil {
		t.Fatal(err)
	}
	c, _ = s.Counts(ctx, "LIM-2025-06-03")
	if c.Sample.VolumeML != 4 || c.Objects != 20 || c.Sample.Runs[1].Status != "failed" || c.Sample.Runs[1].Error != "camera unplugged" {
		t.Errorf("two runs: volume %v objects %d runs %+v", c.Sample.VolumeML, c.Objects, c.Sample.Runs)
	}
	// The same frames again are refused (their cells would count twice); a camera's
	// frames are new each time.
	again := screening.RunInfo{Sample: testSample(), Spec: capture.MustParseSpec("field.avi"), Model: inference.Optimised, Threshold: 0.5, Taxonomy: testTaxonomy(t)}
	if _, err := s.StartRun(ctx, again); !errors.Is(err, ErrSameFrames) || !strings.Contains(err.Error(), "already holds run 1 of field.avi") {
		t.Errorf("the same frames again: %v", err)
	}
	for range 2 {
		again.Spec = capture.Camera("0")
		r, err := s.StartRun(ctx, again)
		if err != nil {
			t.Fatalf("a camera's second run refused: %v", err)
		}
		if err := r.Finish(ctx, screening.Snapshot{Threshold: 0.5, Variant: inference.Optimised}, nil); err != nil {
			t.Fatal(err)
		}
	}
	other := testSample()
	other.Factor = 10
	if _, err := s.StartRun(ctx, screening.RunInfo{Sample: other, Taxonomy: testTaxonomy(t)}); !errors.Is(err, ErrOtherWater) || !strings.Contains(err.Error(), "factor 1, and this run says site \"Limfjord A\", factor 10") {
		t.Errorf("conflicting sample accepted: %v", err)
	}
	if _, err := s.Counts(ctx, "nope"); !errors.Is(err, ErrNoSample) || !strings.Contains(err.Error(), "it holds LIM-2025-06-03") {
		t.Errorf("unknown sample: %v", err)
	}
	// Water taken at another time, at another depth or place is other water
	// (helper-68: a depth profile and a sample weeks later were added up as one); a
	// depth the stored sample lacks is not a difference (it may have been left out).
	camera := func(sm screening.Sample) error {
		r, err := s.StartRun(ctx, screening.RunInfo{Sample: sm, Spec: capture.Camera("0"), Model: inference.Optimised, Threshold: 0.5, Taxonomy: testTaxonomy(t)})
		if err == nil {
			err = r.Finish(ctx, screening.Snapshot{Threshold: 0.5, Variant: inference.Optimised}, nil)
		}
		return err
	}
	later, elsewhere, deeper := testSample(), testSample(), testSample()
	later.Taken = later.Taken.Add(24 * time.Hour)
	elsewhere.Lat += 0.01
	deeper.DepthM = 1
	if err := camera(later); !errors.Is(err, ErrOtherWater) || !strings.Contains(err.Error(), "and this run says taken") {
		t.Errorf("a run of water taken a day later: %v, want ErrOtherWater", err)
	}
	if err := camera(elsewhere); !errors.Is(err, ErrOtherWater) || !strings.Contains(err.Error(), "56.950000, 9.050000, and this run says 56.960000, 9.050000") {
		t.Errorf("a run of water taken elsewhere: %v, want ErrOtherWater", err)
	}
	if err := camera(deeper); err != nil {
		t.Errorf("a run giving a depth the sample lacks: %v", err)
	}
	profile := testSample()
	profile.ID, profile.DepthM = "PROFILE-1m", 1
	if err := camera(profile); err != nil {
		t.Fatal(err)
	}
	profile.DepthM = 5
	if err := camera(profile); !errors.Is(err, ErrOtherWater) || !strings.Contains(err.Error(), "at 1 m depth, and this run says 5 m") {
		t.Errorf("a run of water 5 m down into the sample of 1 m: %v, want ErrOtherWater", err)
	}
	if err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, []byte(strings.Repeat("not a database ", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(junk); err == nil || !strings.Contains(err.Error(), junk) || !strings.Contains(err.Error(), "--db") {
		t.Errorf("junk file: %v", err)
	}
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "is a folder") {
		t.Errorf("folder: %v", err)
	}
	fifo := filepath.Join(dir, "fifo.db")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(fifo); err == nil || !strings.Contains(err.Error(), fifo+" is a named pipe (FIFO), not a regular file") {
		t.Errorf("FIFO: %v", err)
	}
	s, err := Open(filepath.Join(dir, "new.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec("UPDATE meta SET value = '99' WHERE key = 'schema'"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(filepath.Join(dir, "new.db")); err == nil || !strings.Contains(err.Error(), "schema version 99") {
		t.Errorf("newer schema: %v", err)
	}
}

// A file written by the previous phytoscreen (schema version 1, without source_events)
// opens: it is brought to the current version, keeps its samples and objects, and
// records source events from then on. An unreadable version is refused, naming it.
func TestOpenUpgradesOlderSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	r := fillRun(t, s, testSample())
	if err := r.Finish(context.Background(), screening.Snapshot{Frames: screening.FrameStats{Seen: 30}, Threshold: 0.5, Variant: inference.Optimised}, nil); err != nil {
		t.Fatal(err)
	}
	// Make it a version 1 file, as the previous release wrote it.
	if _, err := s.db.Exec(`DROP TABLE source_events; UPDATE meta SET value = '1' WHERE key = 'schema';
		ALTER TABLE perf DROP COLUMN energy_source; ALTER TABLE perf DROP COLUMN estimated; DROP TABLE frames;
		ALTER TABLE objects DROP COLUMN kind; ALTER TABLE objects DROP COLUMN length; ALTER TABLE objects DROP COLUMN width;
		ALTER TABLE objects DROP COLUMN parts; ALTER TABLE objects DROP COLUMN cells_estimate; ALTER TABLE objects DROP COLUMN oversize`); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = Open(path)
	if err != nil {
		t.Fatalf("a version 1 file does not open: %v", err)
	}
	ctx := context.Background()
	var v string
	if err := s.db.QueryRow("SELECT value FROM meta WHERE key = 'schema'").Scan(&v); err != nil || v != fmt.Sprint(SchemaVersion) {
		t.Errorf("schema version %q (%v) after opening, want %d", v, err, SchemaVersion)
	}
	c, err := s.Counts(ctx, testSample().ID)
	if err != nil || c.Objects != 10 {
		t.Errorf("the old run's objects: %d, %v; want 10", c.Objects, err)
	}
	r2, err := s.StartRun(ctx, screening.RunInfo{Sample: testSample(), Spec: capture.Camera("0"), Model: inference.Optimised, Threshold: 0.5, Taxonomy: testTaxonomy(t)})
	if err != nil {
		t.Fatal(err)
	}
	// The new run's power record needs the columns version 2 added to perf.
	if err := r2.Power(inference.Optimised, power.Span{Start: t0, Cells: 3, Duration: time.Second, Watts: 2.5, Joules: 2.5, Source: "rapl:package-0"}); err != nil {
		t.Fatal(err)
	}
	lost := screening.SourceEvent{Time: t0, Source: "camera:0", Kind: screening.SourceLost, Frame: 12, Detail: "5 reads in a row gave no frame"}
	back := screening.SourceEvent{Time: t0.Add(3 * time.Second), Source: "camera:0", Kind: screening.SourceReconnected, Frame: 12, Attempt: 3}
	for _, e := range []screening.SourceEvent{lost, back} {
		if err := r2.SourceEvent(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := r2.Finish(ctx, screening.Snapshot{}, nil); err != nil {
		t.Fatal(err)
	}
	evs, err := s.SourceEvents(ctx, testSample().ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].Run != r2.ID || evs[0].Kind != "lost" || evs[0].Frame != 12 || evs[0].Detail != lost.Detail || !evs[0].Time.Equal(t0) ||
		evs[1].Kind != "reconnected" || evs[1].Attempt != 3 || evs[1].Spec != "camera:0" {
		t.Errorf("source events read back %+v", evs)
	}
	if en, err := s.Energy(ctx, testSample().ID); err != nil || len(en) != 1 || en[0].Source != "rapl:package-0" || en[0].Estimated || en[0].Joules != 2.5 {
		t.Errorf("the new run's power record in the upgraded file: %+v, %v", en, err)
	}
	// The old run's objects read back with the columns version 3 added empty.
	c, err = s.Counts(ctx, testSample().ID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = s.Objects(ctx, c.Sample, false, func(o ObjectRow) error {
		if o.Run.ID != r2.ID && (o.Kind != "" || o.Cells != 0 || o.Oversize) {
			t.Errorf("old object %d reads kind %q, cells %g, oversize %v", o.Seq, o.Kind, o.Cells, o.Oversize)
		}
		n++
		return nil
	})
	if err != nil || n != 10 {
		t.Errorf("objects after the upgrade: %d, %v", n, err)
	}
	s.Close()

	for _, bad := range []string{"0", "two"} {
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("UPDATE meta SET value = ? WHERE key = 'schema'", bad); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "schema version "+bad) || !strings.Contains(err.Error(), path) {
			t.Errorf("schema version %q: %v", bad, err)
		}
	}
}

func TestDefaultPath(t *testing.T) {
	cases := []struct{ xdg, home, want string }{
		{"/data", "/home/ana", "/data/phytoscreen/sessions.db"},
		{"", "/home/ana", "/home/ana/.local/share/phytoscreen/sessions.db"},
		{"relative/dir", "/home/ana", "/home/ana/.local/share/phytoscreen/sessions.db"},
	}
	for _, c := range cases {
		t.Setenv("XDG_DATA_HOME", c.xdg)
		t.Setenv("HOME", c.home)
		if got, err := DefaultPath(); err != nil || got != c.want {
			t.Errorf("XDG_DATA_HOME=%q HOME=%q: %q %v, want %q", c.xdg, c.home, got, err, c.want)
		}
	}
}

// A write that fails is reported to the caller (the pipeline then stops), with the file
// named; later writes return the same error instead of piling up.
func TestRunReportsWriteFailure(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	r, err := s.StartRun(ctx, screening.RunInfo{Sample: testSample(), Spec: capture.Camera("0"), Model: inference.Optimised, Threshold: 0.5, Taxonomy: testTaxonomy(t)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec("DROP TABLE objects"); err != nil { // the disk "fails" under the writer
		t.Fatal(err)
	}
	if err := r.Objects([]screening.ObjectRecord{record(realCrops(t), 1, "protist_noctiluca", 0.9, "")}); err != nil {
		t.Fatalf("queueing failed early: %v", err)
	}
	err = r.Flush()
	if err == nil || !strings.Contains(err.Error(), "session store "+s.Path()+": save 1 objects of run 1") || !strings.Contains(err.Error(), "no such table: objects") {
		t.Fatalf("flush after a failed write: %v", err)
	}
	if err2 := r.Objects(nil); err2 == nil || err2.Error() != err.Error() {
		t.Errorf("a later write returned %v, want the first error", err2)
	}
	if err := r.Finish(ctx, screening.Snapshot{}, nil); err == nil {
		t.Error("Finish hid the write failure")
	}
}

// finishedQueue is finishedStore's sample's review queue, not empty.
func finishedQueue(t *testing.T) (*Store, context.Context, []ObjectRow) {
	t.Helper()
	s := finishedStore(t)
	ctx := context.Background()
	queue, err := s.ReviewQueue(ctx, "LIM-2025-06-03", 10)
	if err != nil || len(queue) == 0 {
		t.Fatalf("review queue %v %v", queue, err)
	}
	return s, ctx, queue
}

// An object moved by a reviewer to a taxon counted in cells (a pack's, or the lab's own)
// is one cell, whatever its first taxon's estimate (helper-38: a colony relabelled
// Detritus kept its 14 cells in the counts CSV).
func TestRelabelledToCellsCountsOne(t *testing.T) {
	s, ctx, queue := finishedQueue(t)
	id := queue[0].ID
	if _, err := s.db.Exec("UPDATE objects SET cells_estimate = 14 WHERE id = ?", id); err != nil { // as a colony's
		t.Fatal(err)
	}
	if _, err := s.Relabel(ctx, id, "Detritus", "Ana"); err != nil {
		t.Fatal(err)
	}
	c, err := s.Counts(ctx, "LIM-2025-06-03")
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(c.Taxa, func(x TaxonCount) bool { return x.Label == "Detritus" })
	if i < 0 {
		t.Fatalf("Detritus not counted: %+v", c.Taxa)
	}
	if x := c.Taxa[i]; x.Count != 1 || x.Unit != "cell" || x.Cells != 1 {
		t.Errorf("Detritus: count %d, unit %q, cells %g; want 1 cell counted as 1", x.Count, x.Unit, x.Cells)
	}
}

// A label the pack lacks is the lab's own taxon: it is counted under its name and
// exported; Undo puts back what was there; bad labels and no reviewer are refused.
func TestRelabelNewTaxonAndUndo(t *testing.T) {
	s, ctx, queue := finishedQueue(t)
	id := queue[0].ID
	prev, err := s.Relabel(ctx, id, " Microcystis aeruginosa ", "Ana Reviewer")
	if err != nil || prev.Label != "" {
		t.Fatalf("relabel as a new taxon: %v, replaced %+v", err, prev)
	}
	c, err := s.Counts(ctx, "LIM-2025-06-03")
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, x := range c.Taxa {
		if x.Label == "Microcystis aeruginosa" {
			found = x.Count == 1 && x.Validated == 1 && x.Name == "Microcystis aeruginosa"
		}
	}
	if !found {
		t.Errorf("the new taxon is not counted: %+v", c.Taxa)
	}
	second, err := s.Relabel(ctx, id, "copepod_calanoid", "Bo")
	if err != nil || second.Label != "Microcystis aeruginosa" || second.By != "Ana Reviewer" || second.At.IsZero() {
		t.Fatalf("second relabel: %v, replaced %+v", err, second)
	}
	if err := s.RestoreValidation(ctx, id, second); err != nil { // undo the second
		t.Fatal(err)
	}
	q, _ := s.ReviewQueue(ctx, "LIM-2025-06-03", 10)
	for _, o := range q {
		if o.ID == id {
			t.Error("after undoing one of two labels the cell is back in the queue")
		}
	}
	if err := s.RestoreValidation(ctx, id, prev); err != nil { // undo the first: unvalidated
		t.Fatal(err)
	}
	q, _ = s.ReviewQueue(ctx, "LIM-2025-06-03", 10)
	if len(q) != len(queue) {
		t.Errorf("after undoing both the queue holds %d, want %d again", len(q), len(queue))
	}
	for _, bad := range []string{"", "  ", "a\tb", "line\nbreak", strings.Repeat("x", MaxLabelLen+1)} {
		if _, err := s.Relabel(ctx, id, bad, "Ana"); err == nil {
			t.Errorf("label %q accepted", bad)
		}
	}
	if _, err := s.Relabel(ctx, id, "copepod_calanoid", " "); err == nil || !strings.Contains(err.Error(), "no reviewer") {
		t.Errorf("no reviewer: %v", err)
	}
	// Labels with quotes, unicode and SQL metacharacters round-trip.
	odd := `Ceratium "fusus"; DROP TABLE objects; -- ñ`
	if _, err := s.Relabel(ctx, id, odd, "O'Brien"); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Counts(ctx, "LIM-2025-06-03"); err != nil || !slices.ContainsFunc(c.Taxa, func(x TaxonCount) bool { return x.Label == odd }) {
		t.Errorf("odd label not counted back: %v", err)
	}
}

// A deleted sample leaves the lists but keeps its rows: it can be restored until the
// trash is emptied of samples deleted over TrashKeep ago; a run cannot add to it while
// it is in the trash; marks are kept.
func TestTrashAndMarks(t *testing.T) {
	s := finishedStore(t)
	ctx := context.Background()
	const id = "LIM-2025-06-03"
	if err := s.MarkSample(ctx, id, true); err != nil {
		t.Fatal(err)
	}
	before, err := s.Counts(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSample(ctx, id); err != nil {
		t.Fatal(err)
	}
	if ids, _ := s.SampleIDs(ctx); slices.Contains(ids, id) {
		t.Errorf("a deleted sample is still listed: %v", ids)
	}
	tr, err := s.TrashedSamples(ctx)
	if err != nil || len(tr) != 1 || tr[0].ID != id || tr[0].Deleted.IsZero() {
		t.Fatalf("trash %+v %v", tr, err)
	}
	sm := testSample()
	if _, err := s.StartRun(ctx, screening.RunInfo{Sample: sm, Spec: capture.MustParseSpec("x.avi"), Model: inference.Optimised, Threshold: 0.5, Taxonomy: testTaxonomy(t)}); err == nil || !strings.Contains(err.Error(), "is in the trash") || !errors.Is(err, ErrInTrash) {
		t.Errorf("a run into a trashed sample: %v", err)
	}
	if n, err := s.EmptyTrash(ctx, time.Now()); err != nil || n != 0 {
		t.Errorf("emptying now removed %d (%v); a sample deleted today stays restorable", n, err)
	}
	if err := s.RestoreSample(ctx, id); err != nil {
		t.Fatal(err)
	}
	after, err := s.Counts(ctx, id)
	if err != nil || after.Objects != before.Objects || !after.Sample.Marked || !after.Sample.Deleted.IsZero() {
		t.Errorf("restored: %d objects (was %d), marked %v, deleted %v, %v", after.Objects, before.Objects, after.Sample.Marked, after.Sample.Deleted, err)
	}
	if err := s.DeleteSample(ctx, id); err != nil {
		t.Fatal(err)
	}
	n, err := s.EmptyTrash(ctx, time.Now().Add(TrashKeep+time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("emptying after %v removed %d (%v), want 1", TrashKeep, n, err)
	}
	if _, err := s.Sample(ctx, id); !errors.Is(err, ErrNoSample) {
		t.Errorf("after emptying: %v", err)
	}
	var objects int
	s.db.QueryRow("SELECT COUNT(*) FROM objects").Scan(&objects)
	if objects != 0 {
		t.Errorf("%d objects left after emptying the trash", objects)
	}
	if err := s.DeleteSample(ctx, "NOPE"); !errors.Is(err, ErrNoSample) {
		t.Errorf("deleting a missing sample: %v", err)
	}
}

// A store of schema 3 (the release before the trash, marks, depth and what a run
// examined) opens writable and gains the new columns with its samples kept; read-only it
// is refused with the fix, untouched (it cannot be brought up to date without writing).
func TestOpenUpgradesSchema3(t *testing.T) {
	var drop []string
	for _, c := range addedColumns[8:] { // the columns version 4 added
		drop = append(drop, "ALTER TABLE "+c.table+" DROP COLUMN "+c.column)
	}
	s2 := upgradedStore(t, 3, strings.Join(drop, "; "))
	if err := s2.MarkSample(context.Background(), "LIM-2025-06-03", true); err != nil {
		t.Errorf("mark after the upgrade: %v", err)
	}
}

// upgradedStore makes a finished store of an older schema version (downgrade undoes what
// came after it), checks that a read-only open refuses it with the fix and that a
// writable open brings it to SchemaVersion with its objects kept, and returns that.
func upgradedStore(t *testing.T, version int, downgrade string) *Store {
	t.Helper()
	s := finishedStore(t)
	path := s.Path()
	ctx := context.Background()
	if _, err := s.db.ExecContext(ctx, fmt.Sprintf("%s; UPDATE meta SET value = '%d' WHERE key = 'schema'; PRAGMA user_version = %d", downgrade, version, version)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := OpenReadOnly(path); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("schema version %d from an older phytoscreen", version)) {
		t.Errorf("read-only open of a schema-%d store: %v", version, err)
	}
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s2.Close() })
	c, err := s2.Counts(ctx, "LIM-2025-06-03")
	if err != nil || c.Objects == 0 {
		t.Fatalf("after the upgrade: %d objects, %v", c.Objects, err)
	}
	var v string
	s2.db.QueryRow("SELECT value FROM meta WHERE key = 'schema'").Scan(&v)
	if v != fmt.Sprint(SchemaVersion) {
		t.Errorf("schema %s after the upgrade, want %d", v, SchemaVersion)
	}
	return s2
}

// specRunner records an empty run of spec into the test sample, as a screening session
// starts and ends one, and returns StartRun's refusal.
func specRunner(t *testing.T, s *Store) func(capture.Spec) error {
	return specRunnerExamining(t, s, func(string) bool { return true })
}

// specRunnerExamining is specRunner whose runs examine (record a frame of) only the
// files of their source that examined says: the others could not be decoded, or the
// run stopped before them.
func specRunnerExamining(t *testing.T, s *Store, examined func(path string) bool) func(capture.Spec) error {
	ctx := context.Background()
	return func(spec capture.Spec) error {
		r, err := s.StartRun(ctx, screening.RunInfo{Sample: testSample(), Spec: spec, Model: inference.Optimised, Threshold: 0.5, Taxonomy: testTaxonomy(t)})
		if err != nil {
			return err
		}
		if files, err := capture.FrameDigests(ctx, spec); err == nil { // the folders of TestSameFramesRefused do not exist
			var recs []screening.FrameRecord
			for i, f := range files {
				if examined(f.Path) {
					recs = append(recs, screening.FrameRecord{Time: time.Now(), Index: i, Source: f.Path})
				}
			}
			if err := r.Frames(recs); err != nil {
				return err
			}
		}
		return r.Finish(ctx, screening.Snapshot{Threshold: 0.5, Variant: inference.Optimised}, nil)
	}
}

// Frames a sample already holds a run of are refused whichever way they come back: the
// folder again, a file of it, a folder holding it, its images as single cells; a folder
// whose name only starts the same, a video, a camera are other frames.
func TestSameFramesRefused(t *testing.T) {
	s := openTemp(t)
	run := specRunner(t, s)
	if err := run(capture.Spec{Kind: capture.KindFolder, Path: "/data/day1"}); err != nil {
		t.Fatal(err)
	}
	for _, spec := range []capture.Spec{
		{Kind: capture.KindFolder, Path: "/data/day1"},
		{Kind: capture.KindImage, Path: "/data/day1/f0001.jpg"},
		{Kind: capture.KindImage, Path: "/data/day1/sub/f0001.jpg"},
		{Kind: capture.KindFolder, Path: "/data"},
		capture.Cells("/data/day1"),
	} {
		if err := run(spec); !errors.Is(err, ErrSameFrames) || !strings.Contains(err.Error(), "already holds run 1 of /data/day1") ||
			!strings.Contains(err.Error(), "to the trash first (History, or phytoscreen samples delete LIM-2025-06-03)") {
			t.Errorf("%s: %v", spec, err)
		}
	}
	for _, spec := range []capture.Spec{
		{Kind: capture.KindFolder, Path: "/data/day10"},
		{Kind: capture.KindVideo, Path: "/data/day1.avi"},
		capture.Camera("0"),
	} {
		if err := run(spec); err != nil {
			t.Errorf("%s, other frames, refused: %v", spec, err)
		}
	}
}

// The same folder after its run stopped before the folder's end: the refusal says to
// take the run up where it stopped (helper-68: it said only "the trash").
func TestSameFramesAfterAStopSaysContinue(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	spec := capture.Spec{Kind: capture.KindFolder, Path: "/data/day1"}
	info := screening.RunInfo{Sample: testSample(), Spec: spec, Model: inference.Optimised, Threshold: 0.5, Taxonomy: testTaxonomy(t)}
	r, err := s.StartRun(ctx, info)
	if err != nil {
		t.Fatal(err)
	}
	stopped := screening.Snapshot{Threshold: 0.5, Variant: inference.Optimised, Examined: screening.Examined{Expected: 10, Frames: 4, Interrupted: true}}
	if err := r.Finish(ctx, stopped, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StartRun(ctx, info); !errors.Is(err, ErrSameFrames) || !strings.Contains(err.Error(), "That run stopped before the folder's end: take it up where it stopped (screen --continue LIM-2025-06-03, or Continue run in History)") {
		t.Errorf("the folder again after its run stopped: %v", err)
	}
}

// A copy of screened frames in another folder, or one of its files renamed, is the same
// frames: refused, naming the copy and its original. Other frames of the same names and
// sizes are not copies.
func TestCopiedFramesRefused(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	run := specRunner(t, s)
	frame := func(seed byte, size int) []byte { // a raw frame: the same size, other pixels
		b := make([]byte, size)
		for i := range b {
			b[i] = byte(i*7) ^ seed
		}
		return b
	}
	write := func(path string, data []byte) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	root := t.TempDir()
	day1 := filepath.Join(root, "day1")
	for i := range 3 {
		write(filepath.Join(day1, fmt.Sprintf("f%d.bmp", i)), frame(byte(i), 100<<10))
	}
	if err := run(capture.Spec{Kind: capture.KindFolder, Path: day1}); err != nil {
		t.Fatal(err)
	}
	// The camera card copied to the desktop, and one frame of it renamed.
	copyDir := filepath.Join(root, "desktop", "card")
	for i := range 3 {
		write(filepath.Join(copyDir, fmt.Sprintf("f%d.bmp", i)), frame(byte(i), 100<<10))
	}
	if err := run(capture.Spec{Kind: capture.KindFolder, Path: copyDir}); !errors.Is(err, ErrSameFrames) ||
		!strings.Contains(err.Error(), "is a copy of "+filepath.Join(day1, "f0.bmp")) {
		t.Errorf("a copy of the screened folder: %v", err)
	}
	renamed := filepath.Join(root, "renamed.bmp")
	write(renamed, frame(2, 100<<10))
	if err := run(capture.Spec{Kind: capture.KindImage, Path: renamed}); !errors.Is(err, ErrSameFrames) ||
		!strings.Contains(err.Error(), renamed+" is a copy of "+filepath.Join(day1, "f2.bmp")) {
		t.Errorf("a renamed copy of one frame: %v", err)
	}
	// New frames named and sized as the old (a raw format: sizes alone match), their
	// pixels other, some in one byte of the middle only (a clean generated slide).
	day2 := filepath.Join(root, "day2")
	for i := range 3 {
		write(filepath.Join(day2, fmt.Sprintf("f%d.bmp", i)), frame(byte(i+10), 100<<10))
		b := frame(byte(i), 100<<10)
		b[50<<10] ^= 0xff
		write(filepath.Join(day2, "mid", fmt.Sprintf("f%d.bmp", i)), b)
	}
	if err := run(capture.Spec{Kind: capture.KindFolder, Path: day2}); err != nil {
		t.Errorf("new frames of the same names and sizes refused: %v", err)
	}
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM source_files").Scan(&n); err != nil || n != 3+6 {
		t.Errorf("%d fingerprints kept (%v), want 9", n, err)
	}
	// Asked for a new sample, the copy is found by its fingerprints, whatever its path
	// (helper-54: "screened before" compared paths alone); the new frames are not.
	ask := func(dir, except string) []RunRef {
		d, err := capture.FrameDigests(ctx, capture.Spec{Kind: capture.KindFolder, Path: dir})
		if err != nil {
			t.Fatal(err)
		}
		refs, err := s.RunsHoldingFrames(ctx, d, except)
		if err != nil {
			t.Fatal(err)
		}
		return refs
	}
	id := testSample().ID
	if refs := ask(copyDir, "S-NEW"); len(refs) != 1 || refs[0].Sample != id || refs[0].Run != 1 ||
		!strings.HasSuffix(refs[0].Copy, " is a copy of "+filepath.Join(day1, "f0.bmp")) {
		t.Errorf("a copy of a screened folder, asked for a new sample: %+v", refs)
	}
	if refs := ask(copyDir, id); len(refs) != 0 {
		t.Errorf("the sample itself is not another: %+v", refs)
	}
	// The folder screened, asked again where it is, holds the same files, not copies
	// (helper-95: "f0.bmp is a copy of f0.bmp").
	if refs := ask(day1, "S-NEW"); len(refs) != 1 || refs[0].Sample != id || refs[0].Copy != "" {
		t.Errorf("the screened folder asked again in its place: %+v, want its run without a copy named", refs)
	}
	if refs := ask(copyDir, "S-NEW"); len(refs) != 1 || refs[0].Shared != 3 {
		t.Errorf("the whole copy of 3 frames: %+v, want 3 shared", refs)
	}
	// A folder of new frames with one copied frame among them shares that one alone
	// (helper-59: one frame in 778 read as "these frames were screened before").
	mixed := filepath.Join(root, "mixed")
	for i := range 4 {
		write(filepath.Join(mixed, fmt.Sprintf("n%d.bmp", i)), frame(byte(i+40), 100<<10))
	}
	write(filepath.Join(mixed, "copied.bmp"), frame(0, 100<<10))
	if refs := ask(mixed, "S-NEW"); len(refs) != 1 || refs[0].Shared != 1 {
		t.Errorf("one copied frame among 5: %+v, want 1 shared", refs)
	}
	day3 := filepath.Join(root, "day3")
	for i := range 3 {
		write(filepath.Join(day3, fmt.Sprintf("f%d.bmp", i)), frame(byte(i+20), 100<<10))
	}
	if refs := ask(day3, "S-NEW"); len(refs) != 0 {
		t.Errorf("new frames of the same names and sizes taken for copies: %+v", refs)
	}
	// A run holds only the files it examined: one it could not decode (or did not
	// reach) was never screened, and a copy of it alone is not "screened before"
	// (helper-56: a truncated JPEG was).
	day4 := filepath.Join(root, "day4")
	for i := range 2 {
		write(filepath.Join(day4, fmt.Sprintf("f%d.bmp", i)), frame(byte(i+30), 100<<10))
	}
	unread := filepath.Join(day4, "f1.bmp")
	if err := specRunnerExamining(t, s, func(p string) bool { return p != unread })(capture.Spec{Kind: capture.KindFolder, Path: day4}); err != nil {
		t.Fatal(err)
	}
	only := filepath.Join(root, "only")
	write(filepath.Join(only, "f1.bmp"), frame(31, 100<<10))
	if refs := ask(only, "S-NEW"); len(refs) != 0 {
		t.Errorf("a copy of a file the run never examined is said to be screened: %+v", refs)
	}
	write(filepath.Join(only, "f0.bmp"), frame(30, 100<<10))
	if refs := ask(only, "S-NEW"); len(refs) != 1 || !strings.HasSuffix(refs[0].Copy, " is a copy of "+filepath.Join(day4, "f0.bmp")) {
		t.Errorf("a copy of an examined file beside it: %+v", refs)
	}

	if err := s.DeleteSample(ctx, id); err != nil {
		t.Fatal(err)
	}
	if refs := ask(copyDir, "S-NEW"); len(refs) != 0 {
		t.Errorf("a sample in the trash still holds the frames: %+v", refs)
	}
}

// A run whose program died before it recorded its end (killed, the power cut) counts for
// the part of its frames it recorded, never for the whole volume given: its sample reads
// partial, on the volume of the frames examined.
func TestUnendedRunCountsWhatItRecorded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sm := testSample() // 2 mL
	r, err := s.StartRun(ctx, screening.RunInfo{Sample: sm, Spec: capture.MustParseSpec("field.avi"), Model: inference.Optimised, Threshold: 0.5,
		Taxonomy: testTaxonomy(t), Expected: 400})
	if err != nil {
		t.Fatal(err)
	}
	var frames []screening.FrameRecord
	for i := range 100 {
		frames = append(frames, screening.FrameRecord{Time: t0, Index: i, Focus: 0.5})
	}
	crops := realCrops(t)
	if err := r.Frames(frames); err != nil {
		t.Fatal(err)
	}
	if err := r.Objects([]screening.ObjectRecord{record(crops, 1, "protist_noctiluca", 0.9, "")}); err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	// Read while it records (an export, a report from another command): still running,
	// not interrupted (helper-68), its volume what its frames examined so far.
	other, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	si, err := other.Sample(ctx, sm.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(si.Runs) != 1 || si.Runs[0].Interrupted || si.Runs[0].Status != RunStillRunning || math.Abs(si.VolumeML-0.5) > 1e-9 {
		t.Fatalf("a run recording, 100 of its 400 frames done: %+v, %g mL; want still running, 0.5 mL so far", si.Runs, si.VolumeML)
	}
	// The program dies here (its process is of an earlier boot): another opens the store.
	host, _ := os.Hostname()
	if _, err := s.db.Exec("UPDATE sources SET owner = ? WHERE id = ?", host+" 1 00000000-0000-4000-8000-000000000000", r.ID); err != nil {
		t.Fatal(err)
	}
	if si, err = other.Sample(ctx, sm.ID); err != nil {
		t.Fatal(err)
	}
	if len(si.Runs) != 1 || !si.Runs[0].Interrupted || si.Runs[0].FramesSeen != 100 || math.Abs(si.VolumeML-0.5) > 1e-9 {
		t.Fatalf("a run killed after 100 of its 400 frames: %+v, %g mL; want interrupted, 100 frames, 0.5 mL of the 2 given", si.Runs, si.VolumeML)
	}
	c, err := other.Counts(ctx, sm.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := sm.Concentration(1).PerL * 4; len(c.Taxa) != 1 || math.Abs(c.Taxa[0].PerL-want) > 1e-6 {
		t.Errorf("one Noctiluca in 0.5 mL: %+v, want %g per L", c.Taxa, want)
	}
	_ = s.Close()

	// Killed before its first frames were stored: said so, not "no runs".
	r2, err := other.StartRun(ctx, screening.RunInfo{Sample: screening.NewSample("KILLED"), Spec: capture.MustParseSpec("field2.avi"), Model: inference.Optimised, Threshold: 0.5,
		Taxonomy: testTaxonomy(t), Expected: 400})
	if err != nil {
		t.Fatal(err)
	}
	if err := r2.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Counts(ctx, "KILLED"); err == nil || !strings.Contains(err.Error(), "is still running and has recorded no frame yet") {
		t.Errorf("a run recording, before its first frame: %v", err)
	}
	if _, err := other.db.Exec("UPDATE sources SET owner = ? WHERE id = ?", host+" 1 00000000-0000-4000-8000-000000000000", r2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Counts(ctx, "KILLED"); err == nil || !strings.Contains(err.Error(), "its 1 run recorded no frame examined (interrupted: the program stopped before the first frames were stored)") {
		t.Errorf("a run killed before its first frame: %v", err)
	}
}

// TestCropsByID: Crops gives each object its own crop, the same bytes Objects reads with
// the crops, across more ids than one statement takes; an id of no object is absent.
func TestCropsByID(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	ctx := context.Background()
	sm := testSample()
	r := recordRun(t, s, sm, 1100)
	if err := r.Finish(ctx, screening.Snapshot{Threshold: 0.5, Variant: inference.Optimised}, nil); err != nil {
		t.Fatal(err)
	}
	si, err := s.Sample(ctx, sm.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64][]byte{}
	var ids []int64
	if err := s.Objects(ctx, si, true, func(o ObjectRow) error {
		want[o.ID] = o.Crop
		ids = append(ids, o.ID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1100 {
		t.Fatalf("%d objects stored, want 1100", len(ids))
	}
	got, err := s.Crops(ctx, append(ids, -7))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d crops, want %d", len(got), len(want))
	}
	differ := 0
	for id, c := range want {
		if len(c) == 0 || !bytes.Equal(got[id], c) {
			t.Errorf("object %d: crop of %d bytes, want %d", id, len(got[id]), len(c))
		}
		if !bytes.Equal(c, want[ids[0]]) {
			differ++
		}
	}
	if differ == 0 {
		t.Error("every object has the same crop: the test cannot tell one from another")
	}
}

// A sample is not moved to the trash while a run records into it: the run went on
// storing into the trashed sample, to be purged with it (helper-68). Once the run's
// process is gone, or the run ended, it is.
func TestDeleteRefusedWhileRecording(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	ctx := context.Background()
	for _, end := range []string{"killed", "finished"} {
		sm := testSample()
		sm.ID = "REC-" + end
		r, err := s.StartRun(ctx, screening.RunInfo{Sample: sm, Spec: capture.Camera("0"), Model: inference.Optimised, Threshold: 0.5, Taxonomy: testTaxonomy(t)})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteSample(ctx, sm.ID); !errors.Is(err, ErrRecording) || !strings.Contains(err.Error(), "stop the run first") {
			t.Errorf("%s: deleted while its run records: %v", sm.ID, err)
		}
		if end == "killed" { // its process of an earlier boot
			host, _ := os.Hostname()
			if _, err := s.db.Exec("UPDATE sources SET owner = ? WHERE id = ?", host+" 1 00000000-0000-4000-8000-000000000000", r.ID); err != nil {
				t.Fatal(err)
			}
		} else if err := r.Finish(ctx, screening.Snapshot{Threshold: 0.5, Variant: inference.Optimised}, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteSample(ctx, sm.ID); err != nil {
			t.Errorf("%s: its run %s, the delete: %v", sm.ID, end, err)
		}
	}
}
