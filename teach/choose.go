package teach

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/inference"
)

// TransferLambda is the L2 strength of ChoosePack's heads.
const TransferLambda = 1e-2

// Installed lists the built-in packs that have a features output.
func Installed() ([]*inference.Pack, error) {
	var out []*inference.Pack
	for _, n := range assets.BuiltinPacks() {
		fsys, _ := assets.BuiltinPack(n)
		p, err := inference.LoadPack(fsys, "built-in:"+n)
		if err != nil {
			return nil, err
		}
		if p.HasFeatures() {
			out = append(out, p)
		}
	}
	return out, nil
}

// Transfer is how well a pack's embedding separates the crops at hand.
type Transfer struct {
	Pack    *inference.Pack
	MacroF1 float64 // cross-validated, of a plain head on the base model's features
	Top1    float64
}

// ChoosePack scores each pack by the cross-validated macro-F1 of a plain L2 logistic
// regression on its base model's features over the examples' labels (every label a
// class, the pack's own probabilities left out: this measures the embedding), best
// first.
func ChoosePack(ctx context.Context, packs []*inference.Pack, examples []Example, o Options, progress func(Progress)) ([]Transfer, error) {
	if progress == nil {
		progress = func(Progress) {}
	}
	// Only the packs the crops can teach are candidates: a label with too few crops that
	// one pack knows and another does not would pass here and fail in Teach, after
	// every pack's embedding work.
	var fit []*inference.Pack
	var firstErr error
	leftOut := map[string]bool{} // by any pack fit: the embeddings are measured on one set
	for _, p := range packs {
		ex, left := o.usable(examples, p.Labels)
		if err := CheckCounts(ex, p.Labels); err != nil {
			firstErr = cmp.Or(firstErr, err)
			continue
		}
		for l := range left {
			leftOut[l] = true
		}
		fit = append(fit, p)
	}
	if len(fit) == 0 {
		return nil, firstErr
	}
	packs = fit
	examples = slices.DeleteFunc(slices.Clone(examples), func(e Example) bool { return leftOut[e.Label] })
	ex, data, failed := readCrops(slices.Clone(examples))
	if len(failed) > 0 {
		return nil, fmt.Errorf("%d crops could not be read: %w", len(failed), errors.Join(failed...))
	}
	var labels []string
	for _, e := range ex {
		if !slices.Contains(labels, e.Label) {
			labels = append(labels, e.Label)
		}
	}
	slices.Sort(labels)
	d := newDataset(ex, len(ex), nil, labels)
	k := o.Folds
	if k <= 0 {
		k = MinPerClass
	}
	fold := d.folds(k, nil)
	var out []Transfer
	for _, p := range packs {
		if err := CheckPack(p); err != nil {
			return nil, err
		}
		v := inference.Base
		if !p.Has(v) {
			v = p.Variants()[0]
		}
		es, err := embed(ctx, p, []inference.Variant{v}, ex, data, &o, progress)
		if err != nil {
			return nil, err
		}
		e := es[0]
		pred := make([]int, len(ex))
		for f := range k {
			var tf [][]float32
			var ty []int
			for i := range ex {
				if fold[i] != f {
					tf, ty = append(tf, e.feats[i]), append(ty, d.y[i])
				}
			}
			h, err := fitHead(tf, ty, nil, len(labels), false, TransferLambda, nil)
			if err != nil {
				return nil, err
			}
			for i := range ex {
				if fold[i] == f {
					pred[i] = argmax(h.scores(e.feats[i]))
				}
			}
		}
		out = append(out, Transfer{Pack: p, MacroF1: macroF1(d.y, pred, len(labels)), Top1: top1(d.y, pred)})
	}
	slices.SortStableFunc(out, func(a, b Transfer) int {
		switch {
		case a.MacroF1 > b.MacroF1:
			return -1
		case a.MacroF1 < b.MacroF1:
			return 1
		}
		return 0
	})
	return out, nil
}

// WriteTransfer prints ChoosePack's scores as a table.
func WriteTransfer(w io.Writer, ts []Transfer) {
	rows := [][]string{{"pack", "macro-F1", "top-1"}}
	for _, t := range ts {
		rows = append(rows, []string{t.Pack.Name, fmt.Sprintf("%.3f", t.MacroF1), fmt.Sprintf("%.3f", t.Top1)})
	}
	table(w, rows, false)
	fmt.Fprintln(w)
}

func top1(y, pred []int) float64 {
	n := 0
	for i := range y {
		if y[i] == pred[i] {
			n++
		}
	}
	return float64(n) / float64(len(y))
}

// macroF1 is the mean F1 over k classes.
func macroF1(y, pred []int, k int) float64 {
	tp, fp, fn := make([]float64, k), make([]float64, k), make([]float64, k)
	for i := range y {
		if y[i] == pred[i] {
			tp[y[i]]++
		} else {
			fn[y[i]]++
			fp[pred[i]]++
		}
	}
	sum := 0.0
	for c := range k {
		if tp[c] > 0 {
			sum += 2 * tp[c] / (2*tp[c] + fp[c] + fn[c])
		}
	}
	return sum / float64(k)
}
