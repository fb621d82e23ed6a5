package teach

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/imagefile"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/testpack"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
)

func builtin(t testing.TB, name string) *inference.Pack {
	t.Helper()
	fsys, ok := assets.BuiltinPack(name)
	if !ok {
		t.Fatalf("no built-in pack %s", name)
	}
	p, err := inference.LoadPack(fsys, "built-in:"+name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A pack without a features output (format 1) is refused with the packs that have one.
func TestRefusesPackWithoutFeatures(t *testing.T) {
	ex := drawn(t, map[string]int{"discs": 5})
	_, err := Teach(context.Background(), builtin(t, assets.DefaultPackName), ex, Options{}, nil)
	want := "pack ndsb-plankton-121 has no features output (format 1): teaching learns on the embedding a format-2 pack's models output; choose cyano-tcb-10 or ndsb-plankton-121-v2, which have a features output (pack format 2)"
	if err == nil || err.Error() != want {
		t.Errorf("teaching a format-1 pack: %v\nwant %s", err, want)
	}
}

// A new class with one crop is refused with how many more it needs; the pack's own
// labels need no minimum; a list of only the pack's labels teaches nothing.
func TestRefusesTooFewCrops(t *testing.T) {
	p := builtin(t, assets.NDSBv2PackName)
	ex := drawn(t, map[string]int{"discs": 1, "bars": 6})
	ex = append(ex, FileExample("x.png", "copepod_calanoid"))
	_, err := Teach(context.Background(), p, ex, Options{}, nil)
	want := "class discs has 1 crop; teaching needs at least 5 (4 more): add crops of it, or leave out the taxa with too few crops"
	if err == nil || err.Error() != want {
		t.Errorf("one crop: %v\nwant %s", err, want)
	}
	// Left out: the new taxon with too few crops, not the pack's own one (any number
	// teaches what is not new).
	kept, left := Options{LeaveOutFew: true}.usable(ex, p.Labels)
	if !maps.Equal(left, map[string]int{"discs": 1}) || len(kept) != 7 || !slices.ContainsFunc(kept, func(e Example) bool { return e.Label == "copepod_calanoid" }) {
		t.Errorf("left out %v, %d kept; want discs alone left out", left, len(kept))
	}
	ex = drawn(t, map[string]int{"discs": 3, "bars": 2})
	if err := CheckCounts(ex, p.Labels); err == nil || !strings.Contains(err.Error(), "class bars has 2 crops; teaching needs at least 5 (3 more); class discs has 3 crops; teaching needs at least 5 (2 more)") {
		t.Errorf("two short classes: %v", err)
	}
	// Left out when asked; when that leaves no new taxon, said so with what was left out.
	if _, _, err := Teachable(p, ex, Options{LeaveOutFew: true}); err == nil || !strings.Contains(err.Error(), "no new taxon has the 5 crops teaching needs (left out: bars (2 crops), discs (3 crops)): add crops of them") {
		t.Errorf("every new taxon too few, left out: %v", err)
	}
	bad := []Example{FileExample("a.png", "Kar\x1benia"), FileExample("b.png", " ")}
	if err := CheckCounts(bad, p.Labels); err == nil || !strings.Contains(err.Error(), `label "Kar\x1benia" is empty or holds a control character`) || !strings.Contains(err.Error(), `label " "`) {
		t.Errorf("control character and blank labels: %v", err)
	}
	old := []Example{FileExample("a.png", "copepod_calanoid")}
	if _, err := Teach(context.Background(), p, old, Options{}, nil); err == nil || !strings.Contains(err.Error(), "every label to teach is one pack ndsb-plankton-121-v2 already has") {
		t.Errorf("only old labels: %v", err)
	}
	// A pack without a reference sample needs crops of its own taxa.
	if _, err := Teach(context.Background(), builtin(t, assets.CyanoPackName), drawn(t, map[string]int{"discs": 5}), Options{}, nil); err == nil ||
		!strings.Contains(err.Error(), "pack cyano-tcb-10 has no reference sample of its own taxa, and 0 of the crops are of them: teaching needs at least 20 crops the pack already knows (20 more)") {
		t.Errorf("no negatives: %v", err)
	}
}

// Stratified folds: each label's crops, and the reference sample, spread evenly.
func TestFoldsStratified(t *testing.T) {
	var ex []Example
	for i := range 23 {
		ex = append(ex, Example{Label: []string{"a", "b", "c"}[i%3]})
	}
	for range 10 {
		ex = append(ex, Example{Label: "ref"})
	}
	d := newDataset(ex, 23, []string{"ref"}, []string{"a", "b", "c"})
	fold := d.folds(5, nil)
	count := map[string][]int{}
	for i, f := range fold {
		key := ex[i].Label
		if count[key] == nil {
			count[key] = make([]int, 5)
		}
		count[key][f]++
	}
	for label, c := range count {
		if slices.Max(c)-slices.Min(c) > 1 {
			t.Errorf("label %s spread over the folds as %v", label, c)
		}
	}
}

// drawn makes labelled crops: "discs" are dark round cells, "bars" dark rods, "rings"
// hollow circles, on a light background with noise, at random sizes and places.
func drawn(t testing.TB, n map[string]int) []Example {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, uint64(len(n))))
	var out []Example
	for _, label := range sortedKeys(n) {
		for i := range n[label] {
			img := image.NewGray(image.Rect(0, 0, 64, 64))
			cx, cy := 32+rng.Float64()*8-4, 32+rng.Float64()*8-4
			r := 10 + rng.Float64()*8
			angle := rng.Float64() * math.Pi
			for y := range 64 {
				for x := range 64 {
					dx, dy := float64(x)-cx, float64(y)-cy
					v := 220 + rng.NormFloat64()*6
					inside := false
					switch label {
					case "discs":
						inside = dx*dx+dy*dy < r*r
					case "rings":
						dd := math.Sqrt(dx*dx + dy*dy)
						inside = dd < r && dd > r-4
					default: // bars
						u := dx*math.Cos(angle) + dy*math.Sin(angle)
						w := -dx*math.Sin(angle) + dy*math.Cos(angle)
						inside = math.Abs(u) < 2*r && math.Abs(w) < 4
					}
					if inside {
						v = 60 + rng.NormFloat64()*6
					}
					img.SetGray(x, y, color.Gray{uint8(max(0, min(255, v)))})
				}
			}
			var b bytes.Buffer
			if err := png.Encode(&b, img); err != nil {
				t.Fatal(err)
			}
			out = append(out, BytesExample(fmt.Sprintf("drawn/%s/%d.png", label, i), label, "", b.Bytes()))
		}
	}
	return out
}

// countingCache is a store's cache that counts what it was asked to store.
type countingCache struct {
	*store.Store
	stored int
}

func (c *countingCache) CacheEmbeddings(ctx context.Context, model string, items map[string]store.Embedding) error {
	c.stored += len(items)
	return c.Store.CacheEmbeddings(ctx, model, items)
}

// A taught pack saved and loaded back: its models' probabilities are the head's (the
// ONNX nodes compute what the fit found) for both models, its labels are the pack's and
// the new ones, its card and examples list name the crops; a second teaching reads every
// embedding from the store's cache and fits the same head.
func TestTaughtPackComputesTheHead(t *testing.T) {
	testpack.RequireRuntime(t)
	ctx := context.Background()
	p := builtin(t, assets.NDSBv2PackName)
	ex := drawn(t, map[string]int{"discs": 6, "bars": 6, "rings": 6})
	st, err := store.Open(filepath.Join(t.TempDir(), "sessions.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cache := &countingCache{Store: st}
	var stages []string
	taught, err := Teach(ctx, p, ex, Options{Cache: cache, Threads: 2, Lambda: 1e-2}, func(pr Progress) {
		if pr.Done == pr.Total {
			stages = append(stages, pr.Stage)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	nRef := len(Reference(p))
	if nRef < 300 || taught.Reference != nRef || cache.stored != 2*(len(ex)+nRef) {
		t.Errorf("reference %d of %d, %d embeddings cached: want the bundled sample and every crop once per model", taught.Reference, nRef, cache.stored)
	}
	for _, s := range []string{"embed (base, optimised)", "cross-validate (base)", "cross-validate (optimised)", "fit (optimised)"} {
		if !slices.Contains(stages, s) {
			t.Errorf("progress never finished %q (stages %q)", s, stages)
		}
	}
	if !slices.Equal(taught.New, []string{"bars", "discs", "rings"}) || len(taught.Labels) != len(p.Labels)+3 {
		t.Fatalf("new taxa %q, %d labels", taught.New, len(taught.Labels))
	}
	dir := filepath.Join(t.TempDir(), "taught")
	saved, err := taught.Save(dir)
	if err != nil {
		t.Fatal(err)
	}
	if saved.Name != "ndsb-plankton-121-v2-taught" || !slices.Equal(saved.Labels, taught.Labels) || !saved.HasFeatures() {
		t.Errorf("saved pack %s with %d labels", saved.Name, len(saved.Labels))
	}
	if _, err := screening.ForPack(saved); err != nil {
		t.Errorf("taxonomy of the taught pack: %v", err)
	}
	if _, err := taught.Save(dir); err == nil || !strings.Contains(err.Error(), "exists and is not empty") {
		t.Errorf("saving over a pack: %v", err)
	}
	card, _ := os.ReadFile(filepath.Join(dir, "README.md"))
	if !strings.Contains(string(card), "| discs |     6 | drawn/discs |") || !strings.Contains(string(card), "cross-validation") {
		t.Errorf("card does not name the crops or the figures:\n%s", card)
	}
	f, _ := os.Open(filepath.Join(dir, ExamplesFile))
	rows, _ := csv.NewReader(f).ReadAll()
	f.Close()
	if len(rows) != len(ex)+1 {
		t.Errorf("%s has %d rows, want %d crops and a header", ExamplesFile, len(rows), len(ex))
	}

	// The saved models' probabilities against the head's, on the taught crops.
	_, data, _ := readCrops(slices.Clone(ex))
	var imgs []image.Image
	for _, b := range data.data {
		img, err := imagefile.DecodeColor(b)
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	embs, err := embed(ctx, p, p.Variants(), ex, data, &Options{Threads: 2}, func(Progress) {})
	if err != nil {
		t.Fatal(err)
	}
	for m, v := range p.Variants() {
		emb := embs[m]
		clf, err := inference.NewClassifier(saved, inference.Options{Variant: v, Threads: 2, TopK: len(saved.Labels)})
		if err != nil {
			t.Fatal(err)
		}
		res, err := clf.ClassifyImages(ctx, imgs)
		clf.Close()
		if err != nil {
			t.Fatal(err)
		}
		worst := 0.0
		for i, r := range res {
			want := headProbs(taught.heads[v], emb.feats[i], emb.probs[i])
			for _, pr := range r.Top {
				worst = max(worst, math.Abs(float64(pr.Prob)-want[pr.Index]))
			}
		}
		if worst > 1e-4 {
			t.Errorf("%s: the saved model's probabilities differ from the head's by up to %g", v, worst)
		}
	}

	// The comparison on the crops: the current pack knows none of their labels.
	cmp, err := Compare(ctx, p, saved, inference.Optimised, ex, Options{Threads: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cmp.N != len(ex) || cmp.CurrentTop1 != 0 || cmp.TaughtTop1 < 0.9 || len(cmp.Labels) != 3 {
		t.Errorf("comparison %+v: want every crop, none right with the current pack, nearly all with the taught one", cmp)
	}

	// Teaching again reads every embedding from the cache and fits the same head; two
	// crops of a fourth taxon, too few, are left out when asked (not embedded, named in
	// the report) instead of refusing the rest.
	cache.stored = 0
	few := append(slices.Clone(ex), drawn(t, map[string]int{"specks": 2})...)
	if _, err := Teach(ctx, p, few, Options{Cache: cache, Threads: 2, Lambda: 1e-2}, nil); err == nil || !strings.Contains(err.Error(), "class specks has 2 crops") {
		t.Fatalf("two crops of a new taxon, not left out: %v", err)
	}
	again, err := Teach(ctx, p, few, Options{Cache: cache, Threads: 2, Lambda: 1e-2, LeaveOutFew: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cache.stored != 0 {
		t.Errorf("the second teaching computed %d embeddings again", cache.stored)
	}
	var report strings.Builder
	again.Report.Write(&report, false)
	if !maps.Equal(again.Report.LeftOut, map[string]int{"specks": 2}) || !slices.Equal(again.New, taught.New) || len(again.Examples) != len(ex) ||
		!strings.Contains(report.String(), "Left out, with fewer than 5 crops: specks (2 crops).") {
		t.Errorf("left out %v, new %v, %d crops taught; report:\n%s", again.Report.LeftOut, again.New, len(again.Examples), report.String())
	}
	for _, v := range p.Variants() {
		w1, _ := taught.heads[v].folded()
		w2, _ := again.heads[v].folded()
		if !slices.Equal(w1, w2) {
			t.Errorf("%s: a second teaching on cached embeddings fitted another head", v)
		}
	}
}

// headProbs is the taught model's output computed from the head in float64.
func headProbs(h *head, feats, probs []float32) []float64 {
	var s []float64
	for _, p := range probs {
		s = append(s, logProb(p))
	}
	s = append(s, h.scores(feats)...)
	m := slices.Max(s)
	sum := 0.0
	for i := range s {
		s[i] = math.Exp(s[i] - m)
		sum += s[i]
	}
	for i := range s {
		s[i] /= sum
	}
	return s
}

// A folder of labelled crops and an EcoTaxa table (its validated rows only) read as
// examples with their labels.
func TestReadFolderAndEcoTaxa(t *testing.T) {
	dir := t.TempDir()
	ex := drawn(t, map[string]int{"discs": 2, "bars": 1})
	var tsv strings.Builder
	tsv.WriteString("img_file_name\tobject_annotation_category\tobject_annotation_status\n[t]\t[t]\t[t]\n")
	for i, e := range ex {
		b, _ := e.load()
		name := fmt.Sprintf("%d.png", i)
		os.MkdirAll(filepath.Join(dir, "crops", e.Label), 0o755)
		os.WriteFile(filepath.Join(dir, "crops", e.Label, name), b, 0o644)
		os.WriteFile(filepath.Join(dir, name), b, 0o644)
		status := "validated"
		if i == 2 {
			status = "predicted"
		}
		fmt.Fprintf(&tsv, "%s\t%s\t%s\n", name, e.Label, status)
	}
	// A copy from a Mac: its trash folder is no taxon, its AppleDouble twins no crops.
	os.MkdirAll(filepath.Join(dir, "crops", ".Trashes"), 0o755)
	os.WriteFile(filepath.Join(dir, "crops", ".Trashes", "old.png"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, "crops", "._0.png"), []byte("x"), 0o644)
	got, err := FromFolder(filepath.Join(dir, "crops"))
	if err != nil || len(got) != 3 || got[0].Label != "bars" || got[1].Label != "discs" {
		t.Errorf("folder: %d examples (%v)", len(got), err)
	}
	os.WriteFile(filepath.Join(dir, "ecotaxa_x.tsv"), []byte(tsv.String()), 0o644)
	got, err = FromEcoTaxa(filepath.Join(dir, "ecotaxa_x.tsv"))
	if err != nil || len(got) != 2 {
		t.Fatalf("EcoTaxa: %d examples (%v), want the 2 validated", len(got), err)
	}
	if b, err := got[0].load(); err != nil || len(b) == 0 || got[0].Label != ex[0].Label {
		t.Errorf("EcoTaxa example %+v: %v", got[0], err)
	}
	os.WriteFile(filepath.Join(dir, "crops", "stray.png"), []byte("x"), 0o644)
	if _, err := FromFolder(filepath.Join(dir, "crops")); err == nil || !strings.Contains(err.Error(), "stray.png is not in a subfolder") {
		t.Errorf("a crop with no label folder: %v", err)
	}
}

// The taxonomy of a taught pack that had one names the new taxa and parses for the new
// labels.
func TestTaughtTaxonomy(t *testing.T) {
	p := builtin(t, assets.CyanoPackName)
	taught := &Taught{From: p, New: []string{"Closterium", "non-algae"}}
	taught.Labels = append(slices.Clone(p.Labels), taught.New...)
	data, err := taught.taxonomy()
	if err != nil || data == nil {
		t.Fatalf("taxonomy: %v", err)
	}
	tx, err := screening.ParseTaxonomy(data, "taxonomy.toml", "taught", taught.Labels)
	if err != nil {
		t.Fatalf("the taught taxonomy does not parse: %v\n%s", err, data)
	}
	if tx.Name("non-algae") != "non-algae" {
		t.Errorf("new taxon named %q", tx.Name("non-algae"))
	}
	if m, _ := tx.Lookup("Microcystis"); m.Group != "cyanobacteria" {
		t.Errorf("the pack's own taxa lost their group: %+v", m)
	}
}

// ChoosePack ranks the packs with features by the macro-F1 of a head on their features,
// best first, and says it for each; a cancelled teaching stops with the context's error.
func TestChoosePackAndCancel(t *testing.T) {
	testpack.RequireRuntime(t)
	packs, err := Installed()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range packs {
		names = append(names, p.Name)
	}
	if !slices.Equal(names, []string{assets.CyanoPackName, assets.NDSBv2PackName}) {
		t.Fatalf("installed packs with features: %q", names)
	}
	ex := drawn(t, map[string]int{"discs": 5, "bars": 5, "rings": 5})
	scores, err := ChoosePack(context.Background(), packs, ex, Options{Threads: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(scores) != 2 || scores[0].MacroF1 < scores[1].MacroF1 || scores[0].MacroF1 <= 0 || scores[0].MacroF1 > 1 {
		t.Fatalf("scores %+v: want both packs, best first", scores)
	}
	var b strings.Builder
	WriteTransfer(&b, scores)
	if !strings.Contains(b.String(), scores[0].Pack.Name) || !strings.Contains(b.String(), "macro-F1") {
		t.Errorf("transfer table:\n%s", b.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Teach(ctx, packs[1], ex, Options{Threads: 2}, nil); err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("a cancelled teaching: %v", err)
	}
}

// Near copies among the crops given (the same cell from a frame saved twice) are kept in
// one fold, so a copy never tests its twin; distinct crops, and the reference sample,
// are not grouped (helper-40: re-saved frames promised 91%).
func TestNearCopiesShareAFold(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	vec := func() []float32 {
		v := make([]float32, 64)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	var feats [][]float32
	for range 12 {
		feats = append(feats, vec())
	}
	twin := slices.Clone(feats[2]) // crop 2 saved again: a few JPEG levels apart
	for i := range twin {
		twin[i] += 0.01 * float32(rng.NormFloat64())
	}
	feats[9] = twin
	ref := slices.Clone(feats[4]) // the reference sample is not grouped with the crops
	feats = append(feats, ref)
	groups, copies := nearCopies(feats, 12)
	if copies != 1 || groups[9] != 2 || groups[2] != 2 || groups[12] != 12 || groups[4] != 4 {
		t.Fatalf("groups %v, %d copies; want crop 9 grouped with crop 2 alone", groups, copies)
	}
	if g, n := nearCopies(feats[:9], 9); g != nil || n != 0 {
		t.Errorf("distinct crops grouped: %v, %d", g, n)
	}
	var ex []Example
	for i := range 13 {
		ex = append(ex, Example{Label: []string{"a", "b"}[i%2]})
	}
	ex[12].Label = "ref"
	d := newDataset(ex, 12, []string{"ref"}, []string{"a", "b"})
	fold := d.folds(5, groups)
	if fold[9] != fold[2] {
		t.Errorf("crop 9 in fold %d, its twin in fold %d", fold[9], fold[2])
	}
}

// A pack taught once is taught again (its head's ONNX names must not clash with the
// first head's), and a bias on a new taxon's score changes what the taught pack calls:
// far negative, the taxon is never named, in the cross-validated report and in the
// saved models alike.
func TestTeachAgainWithBias(t *testing.T) {
	testpack.RequireRuntime(t)
	ctx := context.Background()
	p := builtin(t, assets.NDSBv2PackName)
	st, err := store.Open(filepath.Join(t.TempDir(), "sessions.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ref := Reference(p)
	first, err := Teach(ctx, p, drawn(t, map[string]int{"discs": 6, "bars": 6}), Options{Cache: st, Threads: 2, Lambda: 1e-2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	once, err := first.Save(filepath.Join(t.TempDir(), "once"))
	if err != nil {
		t.Fatal(err)
	}
	rings := drawn(t, map[string]int{"rings": 6})
	if _, err := Teach(ctx, once, rings, Options{Reference: ref, Threads: 2, Bias: map[string]float64{"discs": -1}}, nil); err == nil || !strings.Contains(err.Error(), `bias for "discs": not a taxon taught here (new taxa: rings)`) {
		t.Errorf("a bias on a taxon taught before: %v", err)
	}
	called := func(o Options) (*Taught, int) {
		o.Reference, o.Threads, o.Lambda = ref, 2, 1e-2
		tt, err := Teach(ctx, once, rings, o, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range tt.Report.Models[0].Classes {
			if c.Label == "rings" {
				return tt, c.Predicted
			}
		}
		t.Fatalf("no figures for rings in %+v", tt.Report.Models[0].Classes)
		return nil, 0
	}
	_, plain := called(Options{})
	biased, none := called(Options{Bias: map[string]float64{"rings": -40}})
	if plain < 4 || none != 0 {
		t.Errorf("held-out crops called rings: %d without a bias (want most of 6), %d with -40 (want none)", plain, none)
	}
	var card strings.Builder
	biased.Report.Write(&card, false)
	if !strings.Contains(card.String(), "scores shifted by log-odds: rings -40") {
		t.Errorf("the report does not say the bias:\n%s", card.String())
	}
	twice, err := biased.Save(filepath.Join(t.TempDir(), "twice"))
	if err != nil {
		t.Fatal(err)
	}
	var imgs []image.Image
	_, data, _ := readCrops(slices.Clone(rings))
	for _, b := range data.data {
		img, err := imagefile.DecodeColor(b)
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	for _, v := range twice.Variants() {
		clf, err := inference.NewClassifier(twice, inference.Options{Variant: v, Threads: 2})
		if err != nil {
			t.Fatalf("%s model of a pack taught twice: %v", v, err)
		}
		res, err := clf.ClassifyImages(ctx, imgs)
		clf.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(twice.Labels) != len(p.Labels)+3 {
			t.Fatalf("labels %d, want the pack's %d and discs, bars, rings", len(twice.Labels), len(p.Labels))
		}
		for i, r := range res {
			if best := r.Best(); best.Label == "rings" {
				t.Errorf("%s: crop %d called rings with a bias of -40 (%.3f)", v, i, best.Prob)
			}
		}
	}
}
