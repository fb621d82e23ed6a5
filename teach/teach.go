package teach

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/inference"
)

// MinPerClass is the fewest crops a taught label needs: stratified 5-fold
// cross-validation puts one in every fold.
const MinPerClass = 5

// MinNegatives is the fewest crops of the pack's own taxa (the reference sample and the
// old-label crops given) a head is fitted with: without them it learns to call everything
// new.
const MinNegatives = 20

// Lambdas are the L2 strengths tried, strongest first (each fit starts from the one
// before); the folds' log-loss chooses one.
var Lambdas = []float64{1e-1, 1e-2, 1e-3}

// Options are teaching's settings; the zero value is usable.
type Options struct {
	// Cache keeps the embeddings between teachings (a session store); nil: none.
	Cache Cache
	// Reference overrides the pack's reference sample of its own classes (Reference(p)).
	Reference   []Example
	NoReference bool // teach without the reference sample
	// Threads for ONNX Runtime (0: one per CPU); Folds for cross-validation (0: 5).
	Threads, Folds int
	// Name of the taught pack (default: the pack's name + "-taught").
	Name string
	// Lambda fixes the L2 strength (0: chosen from Lambdas by cross-validation).
	Lambda float64
	// Bias adds log-odds to a new taxon's score once its head is fitted (cross-validated
	// predictions included). A negative bias makes the taught pack name the taxon only
	// when surer: a reject class ("not a cyanobacterium") that should set aside only what
	// it is sure of, because what it takes is no longer counted. -ln 9 (about -2.2) sets a
	// crop aside only where the head gives it 9 to 1 against the pack's own taxa together.
	Bias map[string]float64
	// LeaveOutFew leaves out the crops of every new label (one the pack lacks) with fewer
	// than MinPerClass of them (Report.LeftOut names them) instead of refusing to teach:
	// a reviewer who labelled two crops of a rare taxon still gets the others taught.
	// Crops of the pack's own labels, any number, stay: they teach what is not new.
	LeaveOutFew bool
}

// usable is the examples teaching pack labels known uses: with LeaveOutFew, less those
// of new labels with fewer than MinPerClass crops, and those labels with their counts.
func (o Options) usable(ex []Example, known []string) ([]Example, map[string]int) {
	if !o.LeaveOutFew {
		return ex, nil
	}
	counts := map[string]int{}
	for _, e := range ex {
		counts[e.Label]++
	}
	left := map[string]int{}
	kept := make([]Example, 0, len(ex))
	for _, e := range ex {
		if n := counts[e.Label]; n < MinPerClass && !slices.Contains(known, e.Label) {
			left[e.Label] = n
			continue
		}
		kept = append(kept, e)
	}
	return kept, left
}

// LeftOutText says the labels left out and their crops: "Nostoc (2 crops), Other (1 crop)".
func LeftOutText(left map[string]int) string {
	var parts []string
	for _, l := range sortedKeys(left) {
		crops := "crops"
		if left[l] == 1 {
			crops = "crop"
		}
		parts = append(parts, fmt.Sprintf("%s (%d %s)", l, left[l], crops))
	}
	return strings.Join(parts, ", ")
}

// Progress is how far teaching got: a stage ("embed (base)", "cross-validate", "fit")
// and its count.
type Progress struct {
	Stage       string
	Done, Total int
}

// Taught is a pack taught new taxa, not yet saved: its cross-validated report, and Save.
type Taught struct {
	From     *inference.Pack // the pack taught
	Name     string
	Labels   []string  // the pack's labels, then the new ones
	New      []string  // the new taxa, sorted
	Examples []Example // the crops it learned from (the reference sample not included)
	// Reference is how many crops of the reference sample were negatives.
	Reference int
	Report    Report
	heads     map[inference.Variant]*head
}

// HasFeaturesFix is the fix for a pack without a features output: the installed packs
// that have one.
func HasFeaturesFix() string {
	var names []string
	for _, n := range assets.BuiltinPacks() {
		fsys, _ := assets.BuiltinPack(n)
		if p, err := inference.LoadPack(fsys, n); err == nil && p.HasFeatures() {
			names = append(names, n)
		}
	}
	return "choose " + strings.Join(names, " or ") + ", which have a features output (pack format 2)"
}

// CheckPack refuses a pack that cannot be taught: one without a features output.
func CheckPack(p *inference.Pack) error {
	if !p.HasFeatures() {
		return fmt.Errorf("pack %s has no features output (format %d): teaching learns on the embedding a format-2 pack's models output; %s",
			p.Name, max(1, p.Format), HasFeaturesFix())
	}
	return nil
}

// ErrTooFewCrops is the fix CheckCounts's refusal ends with; callers name their own way
// to leave the taxa out (Options.LeaveOutFew) after it.
var ErrTooFewCrops = errors.New("add crops of it, or leave out the taxa with too few crops")

// CheckCounts refuses new labels (not among known, the pack's own) with fewer than
// MinPerClass crops, saying how many more each needs; the error lists them all. Crops of
// the pack's own taxa only tell the head what is not new: any number will do.
func CheckCounts(ex []Example, known []string) error {
	counts := map[string]int{}
	for _, e := range ex {
		if !slices.Contains(known, e.Label) {
			counts[e.Label]++
		}
	}
	var errs []string
	for _, l := range sortedKeys(counts) {
		// A new label becomes a taxon's name in pack.json and taxonomy.toml: a control
		// character (a stray tab or escape from a TSV) would make the pack unreadable.
		if strings.TrimSpace(l) == "" || strings.IndexFunc(l, unicode.IsControl) >= 0 {
			errs = append(errs, fmt.Sprintf("label %q is empty or holds a control character: fix it in the labels", l))
			continue
		}
		if n := counts[l]; n < MinPerClass {
			crops := "crops"
			if n == 1 {
				crops = "crop"
			}
			errs = append(errs, fmt.Sprintf("class %s has %d %s; teaching needs at least %d (%d more)", l, n, crops, MinPerClass, MinPerClass-n))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s: %w", strings.Join(errs, "; "), ErrTooFewCrops)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Teachable checks, without embedding a crop, that pack p can be taught the examples:
// a pack with an embedding, enough crops of each new taxon, at least one new taxon, and
// enough crops the pack already knows (its reference sample and the examples of its own
// taxa). It returns the reference sample and the new taxa.
func Teachable(p *inference.Pack, examples []Example, o Options) ([]Example, map[string]bool, error) {
	if err := CheckPack(p); err != nil {
		return nil, nil, err
	}
	examples, left := o.usable(examples, p.Labels)
	if err := CheckCounts(examples, p.Labels); err != nil {
		return nil, nil, err
	}
	old := map[string]bool{}
	for _, l := range p.Labels {
		old[l] = true
	}
	newSet := map[string]bool{}
	for _, e := range examples {
		if !old[e.Label] {
			newSet[e.Label] = true
		}
	}
	if len(newSet) == 0 && len(left) > 0 {
		return nil, nil, fmt.Errorf("no new taxon has the %d crops teaching needs (left out: %s): add crops of them", MinPerClass, LeftOutText(left))
	}
	if len(newSet) == 0 {
		return nil, nil, fmt.Errorf("every label to teach is one pack %s already has: teaching adds new taxa (relabels among the pack's own taxa are not learned); label crops with the new taxa", p.Name)
	}
	ref := o.Reference
	if ref == nil && !o.NoReference {
		ref = Reference(p)
	}
	negatives := len(ref)
	for _, e := range examples {
		if old[e.Label] {
			negatives++
		}
	}
	if negatives < MinNegatives {
		return nil, nil, fmt.Errorf("pack %s has no reference sample of its own taxa, and %d of the crops are of them: teaching needs at least %d crops the pack already knows (%d more) so the new taxa do not take its crops; add crops labelled with the pack's taxa",
			p.Name, negatives, MinNegatives, MinNegatives-negatives)
	}
	return ref, newSet, nil
}

// Teach teaches pack p the labels of examples that it lacks: it embeds the crops with
// both models (reading the cache first), cross-validates a head, fits each model's head
// on every crop and returns them with the report. It stops when ctx is cancelled and
// reports progress as it goes (progress may be nil). Nothing is written but the cache:
// Save writes the pack.
func Teach(ctx context.Context, p *inference.Pack, examples []Example, o Options, progress func(Progress)) (*Taught, error) {
	if progress == nil {
		progress = func(Progress) {}
	}
	ref, newSet, err := Teachable(p, examples, o)
	if err != nil {
		return nil, err
	}
	examples, left := o.usable(examples, p.Labels) // as Teachable checked them
	t := &Taught{From: p, Name: o.Name, New: sortedKeys(newSet), heads: map[inference.Variant]*head{}}
	if t.Name == "" {
		t.Name = p.Name + "-taught"
	}
	t.Labels = append(slices.Clone(p.Labels), t.New...)
	bias, err := biasOf(o.Bias, t.New)
	if err != nil {
		return nil, err
	}
	all := append(slices.Clone(examples), ref...)
	all, data, failed := readCrops(all)
	if len(failed) > 0 {
		return nil, fmt.Errorf("%d crops could not be read: %w", len(failed), errors.Join(failed...))
	}
	d := newDataset(all, len(all)-len(ref), p.Labels, t.New)
	d.bias = bias
	t.Examples, t.Reference = all[:d.taught], len(ref)
	embs, err := embed(ctx, p, p.Variants(), all, data, &o, progress)
	if err != nil {
		return nil, err
	}
	t.Report = Report{Pack: p.Name, Taught: d.taught, Reference: t.Reference, New: t.New, Bias: o.Bias, LeftOut: left}
	for _, e := range embs {
		cv, err := d.crossValidate(ctx, e, &o, progress)
		if err != nil {
			return nil, err
		}
		t.Report.Models = append(t.Report.Models, cv)
		progress(Progress{Stage: fmt.Sprintf("fit (%s)", e.variant), Done: 0, Total: 1})
		h, err := fitHead(e.feats, d.y, d.offsets(e), len(t.New), true, cv.Lambda, nil)
		if err != nil {
			return nil, err
		}
		t.heads[e.variant] = h.shifted(d.bias)
		progress(Progress{Stage: fmt.Sprintf("fit (%s)", e.variant), Done: 1, Total: 1})
	}
	return t, nil
}

// dataset is the crops taught with what the fit needs of them.
type dataset struct {
	ex     []Example
	taught int      // ex[:taught] were given to teach; the rest is the reference sample
	y      []int    // index among the new labels, -1 for a label the pack has
	oldIdx []int    // index among the pack's labels, -1 for a new one
	labels []string // the pack's, then the new ones
	k0     int
	bias   []float64 // Options.Bias per new label, added to the fitted heads' scores (nil: none)
}

func newDataset(ex []Example, taught int, old, newLabels []string) *dataset {
	d := &dataset{ex: ex, taught: taught, labels: append(slices.Clone(old), newLabels...), k0: len(old)}
	for _, e := range ex {
		d.y = append(d.y, slices.Index(newLabels, e.Label))
		d.oldIdx = append(d.oldIdx, slices.Index(old, e.Label))
	}
	return d
}

// offsets are each crop's log of the old classes' summed probability.
func (d *dataset) offsets(e *embeddings) []float64 {
	s := make([]float64, len(e.probs))
	for i, p := range e.probs {
		s[i] = logSum(p)
	}
	return s
}

// predict is the taught pack's label index for a crop: the best of the old
// log-probabilities and the head's scores.
func predict(h *head, feats, probs []float32) (int, []float64) {
	best, bestV := 0, logProb(probs[0])
	for i, p := range probs {
		if v := logProb(p); v > bestV {
			best, bestV = i, v
		}
	}
	z := h.scores(feats)
	for j, v := range z {
		if v > bestV {
			best, bestV = len(probs)+j, v
		}
	}
	return best, z
}
