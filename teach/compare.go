package teach

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"slices"

	"github.com/phytoscreen/phytoscreen/inference"
)

// Comparison is two packs' top-1 on the same labelled crops, per label.
type Comparison struct {
	Current, Taught string
	Variant         inference.Variant
	N               int
	// CurrentTop1 and TaughtTop1 are the shares of the crops each pack calls right.
	CurrentTop1, TaughtTop1 float64
	Labels                  []LabelComparison
}

// LabelComparison is one label's recall with each pack.
type LabelComparison struct {
	Label           string
	N               int
	Current, Taught float64
}

// Compare classifies the examples (a person's reviewed crops) with the current pack and
// the taught one, with the same model variant, and reports each one's top-1 per label.
// On the crops a pack was taught from the taught pack's figures are optimistic (it has
// seen them): the cross-validated Report is the fair estimate; this shows what changes
// on the crops a person knows.
func Compare(ctx context.Context, current, taught *inference.Pack, v inference.Variant, examples []Example, o Options, progress func(Progress)) (Comparison, error) {
	if progress == nil {
		progress = func(Progress) {}
	}
	cmp := Comparison{Current: current.Name, Taught: taught.Name, Variant: v}
	ex, data, failed := readCrops(slices.Clone(examples))
	if len(failed) > 0 {
		return cmp, fmt.Errorf("%d crops could not be read: %w", len(failed), errors.Join(failed...))
	}
	var clfs []*inference.Classifier
	for _, p := range []*inference.Pack{current, taught} {
		if !p.Has(v) {
			return cmp, fmt.Errorf("pack %s has no %s model", p.Name, v)
		}
		c, err := inference.NewClassifier(p, inference.Options{Variant: v, Threads: o.Threads, Batch: 32, TopK: 1})
		if err != nil {
			return cmp, err
		}
		defer c.Close()
		clfs = append(clfs, c)
	}
	right := [2]map[string]int{{}, {}}
	count := map[string]int{}
	const chunk = 64
	imgs := make([]image.Image, chunk)
	errs := make([]error, chunk)
	for start := 0; start < len(ex); start += chunk {
		part := make([]int, 0, chunk)
		for i := start; i < min(start+chunk, len(ex)); i++ {
			part = append(part, i)
		}
		if err := decodeAll(ex, data, part, imgs, errs); err != nil {
			return cmp, err
		}
		for m, c := range clfs {
			res, err := c.ClassifyImages(ctx, imgs[:len(part)])
			if err != nil {
				return cmp, err
			}
			for k, r := range res {
				if r.Best().Label == ex[part[k]].Label {
					right[m][ex[part[k]].Label]++
				}
			}
		}
		for _, i := range part {
			count[ex[i].Label]++
		}
		progress(Progress{Stage: "compare", Done: start + len(part), Total: len(ex)})
	}
	var r0, r1 int
	for _, l := range sortedKeys(count) {
		n := count[l]
		cmp.Labels = append(cmp.Labels, LabelComparison{Label: l, N: n, Current: float64(right[0][l]) / float64(n), Taught: float64(right[1][l]) / float64(n)})
		r0, r1, cmp.N = r0+right[0][l], r1+right[1][l], cmp.N+n
	}
	if cmp.N > 0 {
		cmp.CurrentTop1, cmp.TaughtTop1 = float64(r0)/float64(cmp.N), float64(r1)/float64(cmp.N)
	}
	return cmp, nil
}

// Write prints the comparison as a table.
func (c Comparison) Write(w io.Writer) {
	rows := [][]string{{"label", "crops", c.Current, c.Taught}}
	for _, l := range c.Labels {
		rows = append(rows, []string{l.Label, fmt.Sprint(l.N), fmt.Sprintf("%.3f", l.Current), fmt.Sprintf("%.3f", l.Taught)})
	}
	rows = append(rows, []string{"all", fmt.Sprint(c.N), fmt.Sprintf("%.3f", c.CurrentTop1), fmt.Sprintf("%.3f", c.TaughtTop1)})
	fmt.Fprintf(w, "top-1 on %d reviewed crops (%s model; the taught pack has seen those it learned from):\n", c.N, c.Variant)
	table(w, rows, false)
}
