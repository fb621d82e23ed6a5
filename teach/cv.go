package teach

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"

	"gonum.org/v1/gonum/floats"

	"github.com/phytoscreen/phytoscreen/inference"
)

// Report is the cross-validated account of a teaching, per model.
type Report struct {
	Pack      string
	Taught    int // crops given to teach
	Reference int // crops of the reference sample
	New       []string
	Bias      map[string]float64 // Options.Bias: log-odds added to new taxa's scores
	// LeftOut are the labels Options.LeaveOutFew left out, with their crops.
	LeftOut map[string]int
	Models  []ModelReport
}

// WeakNew is the share of the new taxa's crops under which a taught model names them
// poorly: fewer than half named right, each judged by a head that never saw it.
const WeakNew = 0.5

// Weak returns the first model that names the new taxa poorly (Top1New under WeakNew).
func (r Report) Weak() (ModelReport, bool) {
	for _, m := range r.Models {
		if m.Top1New < WeakNew {
			return m, true
		}
	}
	return ModelReport{}, false
}

// ModelReport is one model's cross-validated figures.
type ModelReport struct {
	Variant inference.Variant
	Folds   int
	// NearCopies counts the crops given that are near copies of another one (the same
	// cell cut from a frame and from a re-saved copy of it): kept in one fold with it,
	// so that a copy never tests its twin.
	NearCopies int
	Lambda     float64
	LogLoss    []LambdaLoss // mean held-out log-loss per L2 strength tried
	// Classes are the taught labels' figures (new taxa first, then the pack's own labels
	// that crops were given with), over every held-out crop.
	Classes []ClassFigures
	MacroF1 float64 // over the new taxa
	// Top1New is the share of held-out crops of the new taxa called right.
	Top1New float64
	// The held-out crops of the pack's own taxa (the reference sample and old-label crops):
	// how many, and the share the pack called right before and after teaching.
	OldCrops                    int
	OldTop1Before, OldTop1After float64
	// Confusion[i][j]: crops of New[i] called New[j]; the last column counts those called
	// one of the pack's own taxa.
	Confusion [][]int
	// OldLabels are, per new taxon, the labels the pack gave its crops before teaching,
	// most frequent first.
	OldLabels [][]LabelCount
}

// LambdaLoss is the held-out log-loss with an L2 strength.
type LambdaLoss struct {
	Lambda  float64 `json:"lambda"`
	LogLoss float64 `json:"logloss"`
}

// ClassFigures are one label's held-out recall and precision.
type ClassFigures struct {
	Label             string
	New               bool
	Support           int // crops of the label
	Predicted         int // crops the taught pack called it
	Recall, Precision float64
}

// LabelCount is a label and how many crops got it.
type LabelCount struct {
	Label string
	N     int
}

// folds assigns each crop a fold: the crops of each taught label, and the reference
// sample as one stratum, dealt round the folds in a fixed shuffled order. A crop of
// group g (groups[i] != i, nearCopies) follows the crop g into its fold.
func (d *dataset) folds(k int, groups []int) []int {
	strata := map[string][]int{}
	for i, e := range d.ex {
		if groups != nil && groups[i] != i {
			continue // dealt with its group
		}
		key := "label:" + e.Label
		if i >= d.taught {
			key = "reference"
		}
		strata[key] = append(strata[key], i)
	}
	rng := rand.New(rand.NewPCG(2026, 15))
	f := make([]int, len(d.ex))
	next := 0
	for _, key := range sortedKeys(strata) {
		idx := strata[key]
		rng.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
		for _, i := range idx {
			f[i] = next % k
			next++
		}
	}
	for i, g := range groups {
		f[i] = f[g]
	}
	return f
}

// nearCopyCos is the cosine similarity of two crops' embeddings above which they are
// taken for one cell seen twice. A copy of a frame saved again (x.jpg and "x (1).jpg")
// gives the same cells a second time, a few JPEG levels apart; put in two folds, each
// tested the other and the figures promised 91% where the pack then called debris the
// new taxon (helper-40). Two different cells of one taxon are much further apart.
const nearCopyCos = 0.985

// nearCopies groups the crops given to teach (ex[:taught]) whose embeddings are near
// copies: groups[i] is the first crop of i's group (i itself when alone or first);
// the reference sample stays apart (nil when nothing is copied). It also returns how
// many crops copy an earlier one.
func nearCopies(feats [][]float32, taught int) ([]int, int) {
	norm := make([]float64, taught)
	for i := range taught {
		var s float64
		for _, v := range feats[i] {
			s += float64(v) * float64(v)
		}
		norm[i] = math.Sqrt(s)
	}
	parent := make([]int, len(feats))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	copies := 0
	for i := range taught {
		for j := range i {
			if norm[i] == 0 || norm[j] == 0 {
				continue
			}
			var dot float64
			for c, v := range feats[i] {
				dot += float64(v) * float64(feats[j][c])
			}
			if dot/(norm[i]*norm[j]) >= nearCopyCos {
				a, b := find(i), find(j)
				if a != b {
					parent[max(a, b)] = min(a, b) // the earlier crop leads
				}
			}
		}
	}
	groups := make([]int, len(feats))
	for i := range groups {
		groups[i] = find(i)
		if groups[i] != i {
			copies++
		}
	}
	if copies == 0 {
		return nil, 0
	}
	return groups, copies
}

// crossValidate fits a head per fold for each L2 strength, keeps the strength with the
// lowest held-out log-loss, and reports that one's held-out predictions.
func (d *dataset) crossValidate(ctx context.Context, e *embeddings, o *Options, progress func(Progress)) (ModelReport, error) {
	k := o.Folds
	if k <= 0 {
		k = MinPerClass
	}
	groups, copies := nearCopies(e.feats, d.taught)
	fold := d.folds(k, groups)
	lambdas := Lambdas
	if o.Lambda > 0 {
		lambdas = []float64{o.Lambda}
	}
	s := d.offsets(e)
	stage := fmt.Sprintf("cross-validate (%s)", e.variant)
	mr := ModelReport{Variant: e.variant, Folds: k, NearCopies: copies}
	var best []int
	bestLoss := math.Inf(1)
	prev := make([]*head, k) // each fold's fit with the L2 strength before
	var mu sync.Mutex
	done := 0
	for _, lambda := range lambdas {
		pred := make([]int, len(d.ex))
		losses := make([]float64, len(d.ex))
		errs := make([]error, k)
		sem := make(chan struct{}, runtime.GOMAXPROCS(0))
		var wg sync.WaitGroup
		for f := range k {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				errs[f] = d.fitFold(ctx, e, fold, f, s, lambda, prev, pred, losses)
				mu.Lock()
				done++
				progress(Progress{Stage: stage, Done: done, Total: len(lambdas) * k})
				mu.Unlock()
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return mr, err
		}
		loss := floats.Sum(losses) / float64(len(d.ex))
		mr.LogLoss = append(mr.LogLoss, LambdaLoss{lambda, loss})
		if loss < bestLoss {
			bestLoss, best, mr.Lambda = loss, pred, lambda
		}
	}
	d.score(&mr, e, best)
	return mr, nil
}

// fitFold fits fold f's head (on the other folds, starting from prev[f]) and predicts
// the fold's crops into pred and losses.
func (d *dataset) fitFold(ctx context.Context, e *embeddings, fold []int, f int, s []float64, lambda float64, prev []*head, pred []int, losses []float64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var tf [][]float32
	var ty []int
	var ts []float64
	for i := range d.ex {
		if fold[i] != f {
			tf, ty, ts = append(tf, e.feats[i]), append(ty, d.y[i]), append(ts, s[i])
		}
	}
	h, err := fitHead(tf, ty, ts, len(d.labels)-d.k0, true, lambda, prev[f])
	if err != nil {
		return err
	}
	prev[f] = h // unshifted: the next L2 strength's fit starts from it
	shifted := h.shifted(d.bias)
	for i := range d.ex {
		if fold[i] == f {
			// The L2 strength is chosen by the fit's own loss, before the bias; the
			// figures are of the taught pack as it will call crops, with it.
			pred[i], _ = predict(shifted, e.feats[i], e.probs[i])
			losses[i] = heldOutLoss(h.scores(e.feats[i]), s[i], d.y[i])
		}
	}
	return nil
}

// heldOutLoss is a crop's log-loss as the fit counts it: the new taxon's probability, or
// for a crop of the pack's own taxa, the probability of its being one of them.
func heldOutLoss(z []float64, s float64, y int) float64 {
	m := s
	for _, v := range z {
		m = max(m, v)
	}
	sum := math.Exp(s - m)
	for _, v := range z {
		sum += math.Exp(v - m)
	}
	target := s
	if y >= 0 {
		target = z[y]
	}
	return m + math.Log(sum) - target
}

// score fills the report's figures from held-out predictions (label indices).
func (d *dataset) score(mr *ModelReport, e *embeddings, pred []int) {
	nNew := len(d.labels) - d.k0
	mr.Confusion = make([][]int, nNew)
	for i := range mr.Confusion {
		mr.Confusion[i] = make([]int, nNew+1)
	}
	oldCounts := make([]map[string]int, nNew)
	for i := range oldCounts {
		oldCounts[i] = map[string]int{}
	}
	// right counts the taught crops called right (recall's numerator); rightPred every
	// crop called right, the reference sample's too, since predicted counts them all
	// (precision's numerator).
	support, predicted, right, rightPred := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	var oldRight, oldBefore, newRight, newN int
	for i, ex := range d.ex {
		got := d.labels[pred[i]]
		predicted[got]++
		if got == ex.Label {
			rightPred[got]++
		}
		if i < d.taught {
			support[ex.Label]++
			if got == ex.Label {
				right[ex.Label]++
			}
		}
		if y := d.y[i]; y >= 0 {
			newN++
			if pred[i] == d.k0+y {
				newRight++
			}
			col := nNew
			if pred[i] >= d.k0 {
				col = pred[i] - d.k0
			}
			mr.Confusion[y][col]++
			oldCounts[y][d.labels[argmax(e.probs[i])]]++
			continue
		}
		if d.oldIdx[i] >= 0 {
			mr.OldCrops++
			if pred[i] == d.oldIdx[i] {
				oldRight++
			}
			if argmax(e.probs[i]) == d.oldIdx[i] {
				oldBefore++
			}
		}
	}
	ratio := func(a, b int) float64 {
		if b == 0 {
			return 0
		}
		return float64(a) / float64(b)
	}
	mr.Top1New = ratio(newRight, newN)
	mr.OldTop1After, mr.OldTop1Before = ratio(oldRight, mr.OldCrops), ratio(oldBefore, mr.OldCrops)
	newLabels := d.labels[d.k0:]
	order := append(slices.Clone(newLabels), sortedKeys(support)...)
	seen := map[string]bool{}
	f1 := 0.0
	for _, l := range order {
		if seen[l] || support[l] == 0 {
			continue
		}
		seen[l] = true
		c := ClassFigures{Label: l, New: slices.Contains(newLabels, l), Support: support[l], Predicted: predicted[l],
			Recall: ratio(right[l], support[l]), Precision: ratio(rightPred[l], predicted[l])}
		if c.New && c.Recall+c.Precision > 0 {
			f1 += 2 * c.Recall * c.Precision / (c.Recall + c.Precision)
		}
		mr.Classes = append(mr.Classes, c)
	}
	mr.MacroF1 = f1 / float64(len(newLabels))
	for _, m := range oldCounts {
		var lc []LabelCount
		for _, l := range sortedKeys(m) {
			lc = append(lc, LabelCount{l, m[l]})
		}
		slices.SortStableFunc(lc, func(a, b LabelCount) int { return b.N - a.N })
		mr.OldLabels = append(mr.OldLabels, lc)
	}
}

// argmax is the index of the largest value (the first, on a tie).
func argmax[T float32 | float64](p []T) int {
	best := 0
	for i, v := range p {
		if v > p[best] {
			best = i
		}
	}
	return best
}
