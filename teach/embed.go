package teach

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/phytoscreen/phytoscreen/imagefile"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/store"
)

// Cache keeps what a model made of a crop between teachings (store.Store is one).
type Cache interface {
	CachedEmbeddings(ctx context.Context, model string, keys []string) (map[string]store.Embedding, error)
	CacheEmbeddings(ctx context.Context, model string, items map[string]store.Embedding) error
}

// embeddings are what one model made of the examples: row i is example i's.
type embeddings struct {
	variant inference.Variant
	feats   [][]float32
	probs   [][]float32
}

// dim is the features' length.
func (e *embeddings) dim() int { return len(e.feats[0]) }

// modelKey names a model in the cache: its pack, variant and the hash of its file, so a
// changed model never reads another's embeddings.
func modelKey(p *inference.Pack, v inference.Variant) (string, error) {
	b, err := p.ModelBytes(v)
	if err != nil {
		return "", err
	}
	h := sha256.Sum256(b)
	return fmt.Sprintf("%s/%s@%s", p.Name, v, hex.EncodeToString(h[:8])), nil
}

// crops are the examples' encoded images, read once, with their cache keys.
type crops struct {
	data [][]byte
	keys []string
}

// readCrops reads every example's bytes. An example that cannot be read is dropped and
// its error returned beside the others.
func readCrops(ex []Example) ([]Example, crops, []error) {
	var c crops
	var kept []Example
	var failed []error
	for i := range ex {
		b, err := ex[i].load()
		if err != nil {
			failed = append(failed, fmt.Errorf("%s: %w", ex[i].Source, err))
			continue
		}
		kept = append(kept, ex[i])
		c.data = append(c.data, b)
		c.keys = append(c.keys, ex[i].key)
	}
	return kept, c, failed
}

// embed runs the models vs of p over the crops (those the cache lacks; each crop is
// decoded once for all of them) and returns every crop's features and probabilities per
// model, in order. A crop that does not decode is an error naming its example: the
// caller read the bytes, so a bad image is bad input.
func embed(ctx context.Context, p *inference.Pack, vs []inference.Variant, ex []Example, c crops, o *Options, progress func(Progress)) ([]*embeddings, error) {
	n := len(c.keys)
	out := make([]*embeddings, len(vs))
	models := make([]string, len(vs))
	todo := make([][]int, len(vs)) // per model, the crops to compute
	need := make([]bool, n)        // crops some model computes
	total, done := 0, 0
	for m, v := range vs {
		e := &embeddings{variant: v, feats: make([][]float32, n), probs: make([][]float32, n)}
		out[m] = e
		var err error
		if models[m], err = modelKey(p, v); err != nil {
			return nil, err
		}
		var cached map[string]store.Embedding
		if o.Cache != nil {
			if cached, err = o.Cache.CachedEmbeddings(ctx, models[m], c.keys); err != nil {
				slog.Warn("embeddings cache not read", "err", err)
			}
		}
		for i, k := range c.keys {
			if em, ok := cached[k]; ok && len(em.Probs) == len(p.Labels) {
				e.feats[i], e.probs[i] = em.Features, em.Probs
				done++
			} else {
				todo[m] = append(todo[m], i)
				need[i] = true
			}
		}
		total += n
	}
	stage := "embed (" + variantList(vs) + ")"
	progress(Progress{Stage: stage, Done: done, Total: total})
	var idx []int
	for i, b := range need {
		if b {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return out, nil
	}
	clfs := make([]*inference.Classifier, len(vs))
	for m, v := range vs {
		if len(todo[m]) == 0 {
			continue
		}
		clf, err := inference.NewClassifier(p, inference.Options{Variant: v, Threads: o.Threads, Batch: 32, TopK: len(p.Labels), Features: true})
		if err != nil {
			return nil, err
		}
		defer clf.Close()
		clfs[m] = clf
	}
	const chunk = 64
	imgs := make([]image.Image, chunk)
	errs := make([]error, chunk)
	for start := 0; start < len(idx); start += chunk {
		part := idx[start:min(start+chunk, len(idx))]
		if err := decodeAll(ex, c, part, imgs, errs); err != nil {
			return nil, err
		}
		for m, clf := range clfs {
			if clf == nil {
				continue
			}
			var sub []image.Image
			var which []int
			for k, i := range part {
				if _, ok := slices.BinarySearch(todo[m], i); ok {
					sub, which = append(sub, imgs[k]), append(which, i)
				}
			}
			if len(sub) == 0 {
				continue
			}
			res, err := clf.ClassifyImages(ctx, sub)
			if err != nil {
				return nil, err
			}
			for k, r := range res {
				if len(r.Features) == 0 {
					return nil, fmt.Errorf("pack %s: the %s model returned no features", p.Name, vs[m])
				}
				probs := make([]float32, len(p.Labels))
				for _, t := range r.Top {
					probs[t.Index] = t.Prob
				}
				out[m].feats[which[k]], out[m].probs[which[k]] = r.Features, probs
			}
			done += len(sub)
			progress(Progress{Stage: stage, Done: done, Total: total})
		}
	}
	if o.Cache != nil {
		for m := range vs {
			items := make(map[string]store.Embedding, len(todo[m]))
			for _, i := range todo[m] {
				items[c.keys[i]] = store.Embedding{Features: out[m].feats[i], Probs: out[m].probs[i]}
			}
			if len(items) == 0 {
				continue
			}
			if err := o.Cache.CacheEmbeddings(ctx, models[m], items); err != nil {
				slog.Warn("embeddings not cached", "err", err)
			}
		}
	}
	slog.Debug("embedded", "pack", p.Name, "crops", n, "decoded", len(idx))
	return out, nil
}

// decodeAll decodes the crops part into imgs on all CPUs.
func decodeAll(ex []Example, c crops, part []int, imgs []image.Image, errs []error) error {
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for k := range next {
				imgs[k], errs[k] = imagefile.DecodeColor(c.data[part[k]])
			}
		})
	}
	for k := range part {
		next <- k
	}
	close(next)
	wg.Wait()
	// Every bad crop of the part is named at once: one a run took three runs to find
	// three (helper-68).
	var bad []error
	for k, err := range errs[:len(part)] {
		switch {
		case err != nil:
			bad = append(bad, fmt.Errorf("%s: %w: fix or remove it from the crops to teach", ex[part[k]].Source, err))
		case imgs[k].Bounds().Dx() < inference.MinCropSide || imgs[k].Bounds().Dy() < inference.MinCropSide:
			b := imgs[k].Bounds()
			bad = append(bad, fmt.Errorf("%s is %dx%d pixels: too small to hold a cell; remove it from the crops to teach", ex[part[k]].Source, b.Dx(), b.Dy()))
		}
	}
	const listed = 10
	if len(bad) > listed {
		bad = append(bad[:listed], fmt.Errorf("and %d more crops that cannot be read or are too small", len(bad)-listed))
	}
	return errors.Join(bad...)
}

func variantList(vs []inference.Variant) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}
