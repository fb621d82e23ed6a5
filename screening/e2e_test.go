package screening

import (
	"bytes"
	"context"
	"encoding/csv"
	"image"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/internal/testpack"

	"github.com/phytoscreen/phytoscreen/vision"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/synth"
	"gocv.io/x/gocv"
)

// synthSource renders the synth generator's fields as a still-field video: each field
// for perField frames, then the next. It keeps the ground truth of every field.
type synthSource struct {
	gen      *synth.Generator
	fields   int
	perField int
	i        int
	field    *synth.Field
	truth    [][]synth.Cell // per field
}

// newSynthSource renders fields of the generator with options opt from the built-in
// sample library.
func newSynthSource(t *testing.T, opt synth.Options, fields, perField int) *synthSource {
	t.Helper()
	lib, err := synth.DefaultLibrary()
	if err != nil {
		t.Fatal(err)
	}
	gen, err := synth.New(lib, opt)
	if err != nil {
		t.Fatal(err)
	}
	return &synthSource{gen: gen, fields: fields, perField: perField}
}

func (s *synthSource) Name() string { return "synth" }
func (s *synthSource) Close() error { return nil }
func (s *synthSource) Next(ctx context.Context) (capture.Frame, error) {
	if err := ctx.Err(); err != nil {
		return capture.Frame{}, err
	}
	if s.i >= s.fields*s.perField {
		return capture.Frame{}, io.EOF
	}
	if s.i%s.perField == 0 {
		f, err := s.gen.NewField()
		if err != nil {
			return capture.Frame{}, err
		}
		s.field = f
		s.truth = append(s.truth, f.Cells)
	}
	g := synth.Gray(s.gen.Render(s.field))
	m, err := gocv.NewMatFromBytes(g.Rect.Dy(), g.Rect.Dx(), gocv.MatTypeCV8U, g.Pix)
	if err != nil {
		return capture.Frame{}, err
	}
	f := capture.Frame{Index: s.i, Time: time.Unix(1750000000+int64(s.i), 0), Source: "synth", Mat: m}
	s.i++
	return f, nil
}

// confusion reads the pack's validation confusion matrix (rows true, columns predicted)
// as row-normalised probabilities P(pred | true).
func confusion(t *testing.T, p *inference.Pack) map[string]map[string]float64 {
	data, err := p.ReadFile("confusion-val.csv")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]float64{}
	for _, r := range rows[1:] {
		total := 0.0
		vals := make([]float64, len(r)-1)
		for j, v := range r[1:] {
			vals[j], _ = strconv.ParseFloat(v, 64)
			total += vals[j]
		}
		m := map[string]float64{}
		for j, v := range vals {
			if v > 0 {
				m[rows[0][j+1]] = v / total
			}
		}
		out[r[0]] = m
	}
	return out
}

// detectOnly segments every frame on its own (no tracking): each frame is a field and
// each object a cell, so the counts measure detection and classification only.
type detectOnly struct{ seg *vision.Segmenter }

func (d detectOnly) Process(f capture.Frame) ([]vision.Object, error) {
	return d.seg.Detect(f.Mat, f.Source, f.Index)
}

// screenSynth runs the pipeline with the real segmenter (detection only) and classifier
// on generated fields, one frame each, and returns the final snapshot, the stored records
// and the truth per field.
func screenSynth(t *testing.T, clf *inference.Classifier, tx *Taxonomy, opt synth.Options, fields, perField int, sample Sample, rules []alerts.Bound) (Snapshot, *memSink, *synthSource) {
	t.Helper()
	src := newSynthSource(t, opt, fields, perField)
	seg, err := vision.NewSegmenter(vision.Options{OnStatus: func(capture.Status) {}})
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	sink := &memSink{}
	p, err := New(Config{Source: src, Segmenter: detectOnly{seg}, Classifier: clf, Taxonomy: tx, Sample: sample, Rules: rules, Sink: sink, Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := p.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	checkComplete(t, snap, sink)
	return snap, sink, src
}

// missed is the outcome of a true cell that was not counted at all.
const missed = "(missed)"

// systemError is the measured error of segmentation and classification together on
// generated frames: for each true class, the share of its cells counted under each label
// (or missed), and the spurious counts (objects matching no true cell, such as a cell
// split in two) per true cell.
type systemError struct {
	rows     map[string]map[string]float64 // true -> counted label (or missed) -> share
	n        map[string]int                // true cells per class in the measurement
	spurious map[string]float64            // counted label -> spurious objects per true cell
	cells    int
}

// measureSystem measures detection and classification directly, without the pipeline
// under test: it renders fields, detects their objects, classifies the crops, matches
// each object to the true cell it covers (IoU >= 0.5, one to one) and tallies the
// outcomes.
func measureSystem(t *testing.T, clf *inference.Classifier, opt synth.Options, fields int) systemError {
	t.Helper()
	src := newSynthSource(t, opt, fields, 1)
	seg, err := vision.NewSegmenter(vision.Options{OnStatus: func(capture.Status) {}})
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	e := systemError{rows: map[string]map[string]float64{}, n: map[string]int{}, spurious: map[string]float64{}}
	counts := map[string]map[string]int{}
	spur := map[string]int{}
	add := func(tl, out string) {
		if counts[tl] == nil {
			counts[tl] = map[string]int{}
		}
		counts[tl][out]++
		e.n[tl]++
		e.cells++
	}
	for {
		f, err := src.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		objs, err := seg.Detect(f.Mat, f.Source, f.Index)
		f.Mat.Close()
		if err != nil {
			t.Fatal(err)
		}
		crops := make([]*image.Gray, len(objs))
		boxes := make([]image.Rectangle, len(objs))
		for i, o := range objs {
			crops[i], boxes[i] = o.Crop, o.Box
		}
		res, err := clf.Classify(context.Background(), crops)
		if err != nil {
			t.Fatal(err)
		}
		truth := src.truth[len(src.truth)-1]
		sc := synth.Evaluate(truth, boxes, 0.5)
		for _, m := range sc.Matches {
			add(truth[m.Truth].Label, res[m.Found].Best().Label)
		}
		for _, i := range sc.Missed {
			add(truth[i].Label, missed)
		}
		for _, i := range sc.Spurious {
			spur[res[i].Best().Label]++
		}
	}
	for tl, row := range counts {
		e.rows[tl] = map[string]float64{}
		for out, c := range row {
			e.rows[tl][out] = float64(c) / float64(e.n[tl])
		}
	}
	for l, c := range spur {
		e.spurious[l] = float64(c) / float64(e.cells)
	}
	return e
}

// prior is how many pseudo-observations of the pack's validation confusion matrix are
// blended into each measured row: a class measured on a few cells still gets a little
// probability for the outcomes those few cells did not happen to show.
const prior = 2.0

// expect returns, per counted label, the count the measured error predicts for a true
// composition and its variance: the binomial spread of the outcomes, Poisson spurious
// counts, and the uncertainty of the measured shares themselves. Each measured row is
// blended with the validation row (prior pseudo-observations); classes the measurement
// never drew take the validation row alone.
func (e systemError) expect(truth map[string]int, val map[string]map[string]float64) (mean, variance map[string]float64) {
	mean, variance = map[string]float64{}, map[string]float64{}
	total := 0
	for s, n := range truth {
		total += n
		measuredN := float64(e.n[s])
		row := map[string]float64{}
		for out, q := range e.rows[s] {
			row[out] += q * measuredN / (measuredN + prior)
		}
		for out, q := range val[s] {
			row[out] += q * prior / (measuredN + prior)
		}
		for out, q := range row {
			mean[out] += float64(n) * q
			variance[out] += float64(n) * q * (1 - q)
			variance[out] += float64(n*n) * q * (1 - q) / (measuredN + prior)
		}
	}
	for l, r := range e.spurious {
		m := float64(total) * r
		mean[l] += m
		variance[l] += m + m*m/(r*float64(e.cells)) // Poisson, plus the rate's own uncertainty
	}
	return mean, variance
}

// plausible reports whether a count k is within the 99.7% band of its expectation e:
// |k-e| <= tol (three standard deviations, normal approximation), or, where counts are
// small (e < 5) and the normal approximation fails, within the central 99.73% of a
// Poisson count of mean e.
func plausible(k int, e, tol float64) bool {
	if math.Abs(float64(k)-e) <= tol {
		return true
	}
	if e >= 5 {
		return false
	}
	const tail = 0.00135 // each side of three standard deviations
	below := poissonCDF(k, e)
	above := 1.0
	if k > 0 {
		above = 1 - poissonCDF(k-1, e)
	}
	return e > 0 && below >= tail && above >= tail
}

// End to end on generated frames of known composition: real detection, the real model,
// tallies. The error of detection and classification is measured first, by calling
// them directly on other generated frames (another seed: other cells, positions,
// orientations, noise); the pipeline's counts on the test frames must then lie within
// three standard deviations of what that error predicts for the true composition, in
// total and per taxon. The concentrations follow the hand
// formula, and a Noctiluca rule crossed raises exactly one alert, with its source.
func TestScreenGeneratedFieldsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: end-to-end run with the real model")
	}
	if raceEnabled {
		t.Skip("-race: the model runs ten times slower; the pipeline's concurrency is covered by the tests on fakes")
	}
	pack := defaultPack(t)
	testpack.RequireRuntime(t)
	clf, err := inference.NewClassifier(pack, inference.Options{Variant: inference.Optimised, Batch: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer clf.Close()
	tx, err := ForPack(pack)
	if err != nil {
		t.Fatal(err)
	}
	mix := []synth.Count{{Label: "protist_noctiluca", N: 3}, {Label: "trichodesmium_puff", N: 2}}

	// The measured error on other generated frames: 30 fields of 16 cells.
	measured := measureSystem(t, clf, synth.Options{Width: 960, Height: 720, Cells: 11, Mix: mix, Seed: 1001}, 30)
	val := confusion(t, pack)
	t.Logf("measured detection and classification on %d true cells of generated frames (%d classes): Noctiluca counted as such %.0f%%, missed %.0f%%",
		measured.cells, len(measured.rows), 100*measured.rows["protist_noctiluca"]["protist_noctiluca"], 100*measured.rows["protist_noctiluca"][missed])

	// The test: 8 fields of 11 cells, 0.5 mL examined.
	sample := NewSample("SYN-1")
	sample.VolumeML = 0.5
	rules, err := alerts.Parse([]byte(`
source = "test rule: Noctiluca above 10,000 cells/L"
[[rule]]
id = "noctiluca"
taxon = "Noctiluca"
alert = 10000
`), "noctiluca.toml")
	if err != nil {
		t.Fatal(err)
	}
	bound, _ := rules.Bind(tx, pack.Name)
	snap, _, src := screenSynth(t, clf, tx, synth.Options{Width: 960, Height: 720, Cells: 6, Mix: mix, Seed: 7}, 8, 1, sample, bound)
	truth := map[string]int{}
	total := 0
	for _, cells := range src.truth {
		for _, c := range cells {
			truth[c.Label]++
			total++
		}
	}
	t.Logf("%d true cells in %d fields, %d frames; %d cells counted (%d objects seen), %d failed", total, len(src.truth), snap.Frames.Seen, snap.Cells.Found, snap.Cells.Objects, snap.Cells.Failed)
	expect, variance := measured.expect(truth, val)
	valExpect := map[string]float64{}
	for s, n := range truth {
		for pred, q := range val[s] {
			valExpect[pred] += float64(n) * q
		}
	}
	// Every cell is counted once: the number counted must match what the measured
	// detection error predicts (true cells, less the missed, plus the spurious).
	foundMean, foundVar := float64(total)-expect[missed], variance[missed]
	for _, r := range measured.spurious {
		m := float64(total) * r
		foundMean += m
		foundVar += m
	}
	if math.Abs(float64(snap.Cells.Found)-foundMean) > max(3*math.Sqrt(foundVar), 1) {
		t.Errorf("%d cells counted; the measured detection error predicts %.1f ± %.1f", snap.Cells.Found, foundMean, 3*math.Sqrt(foundVar))
	}
	got := map[string]int{}
	for _, x := range snap.Taxa {
		got[x.Label] = x.Count
	}
	keys := map[string]bool{}
	for l := range expect {
		if l != missed {
			keys[l] = true
		}
	}
	for l := range got {
		keys[l] = true
	}
	for _, l := range slices.Sorted(maps.Keys(keys)) {
		e := expect[l]
		tol := max(3*math.Sqrt(variance[l]), 1) // three standard deviations, at least one cell
		status := "ok"
		if !plausible(got[l], e, tol) {
			status = "OUT"
			t.Errorf("%s: counted %d, true %d, the measured error predicts %.1f ± %.1f", l, got[l], truth[l], e, tol)
		}
		if truth[l] > 0 || got[l] > 0 {
			t.Logf("%-42s true %3d  counted %3d  expected %5.1f ± %4.1f %-3s (val matrix: %5.1f)", l, truth[l], got[l], e, tol, status, valExpect[l])
		}
	}
	// Against the ground truth itself. No true cell is missed, and the count is at most a
	// fifth over: the faint gelatinous organisms of the mix (medusae, ctenophores,
	// siphonophores) come out in pieces, which the segmenter built on real frames does
	// not join in a cell's first frame (vision.TestGeneratedVideosCount: 28 of 144 over;
	// joining them cost the real frames 0.63 -> 0.45 recall). Measured: 102 of 88.
	if d := snap.Cells.Found - total; d < -(total/50+1) || 5*d > total {
		t.Errorf("%d cells counted of %d true cells: want from 2%% under to a fifth over", snap.Cells.Found, total)
	}
	// At least 45% of the true cells are counted under their own taxon (the frames are
	// generated from fixed seeds: the figure is the same at every run; measured 49%, 60%
	// with the first segmenter, whose closing kept those organisms whole). The classifier
	// is weaker on these blurred, noisy frames than on the pack card's clean val images,
	// but a collapse must fail here.
	agree := 0
	for l, n := range truth {
		agree += min(n, got[l])
	}
	t.Logf("count agreement with the truth: %d of %d cells (%.0f%%) counted under their true taxon", agree, total, 100*float64(agree)/float64(total))
	if 100*agree < 45*total {
		t.Errorf("only %d of %d true cells counted under their true taxon", agree, total)
	}
	// The alert the truth calls for: the true Noctiluca in 0.5 mL cross 10,000 cells/L.
	if trueC := sample.Concentration(truth["protist_noctiluca"]); trueC.PerL < 10000 {
		t.Fatalf("the test frames hold %v Noctiluca cells/L: they must cross the rule's 10,000 for the alert check to mean anything", trueC.PerL)
	}
	// Concentration by hand: count / 0.0005 L.
	for _, x := range snap.Taxa {
		if want := float64(x.Count) / 0.0005; math.Abs(x.PerL-want) > 1e-6*want {
			t.Errorf("%s: %v cells/L, hand computation %v", x.Label, x.PerL, want)
		}
	}
	var raised []alerts.Event
	for _, e := range snap.Events {
		if e.Raised() {
			raised = append(raised, e)
		}
	}
	if len(raised) != 1 || raised[0].Rule != "noctiluca" || raised[0].To != alerts.Alert || raised[0].Source != "test rule: Noctiluca above 10,000 cells/L" {
		t.Fatalf("alerts raised: %+v, want exactly one Noctiluca alert with its source", raised)
	}
	t.Logf("alert: %s at %.0f cells/L (count %d) >= %s; source %q", raised[0].Taxon, raised[0].Value.PerL, raised[0].Value.Count, raised[0].Threshold, raised[0].Source)
}
