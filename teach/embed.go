package teach

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"log/slog"
	"runtime"
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

// embed runs model v of p over the crops (those the cache lacks) and returns every crop's
// features and probabilities, in order. A crop that does not decode is an error naming
// its example: the caller read the bytes, so a bad image is bad input.
func embed(ctx context.Context, p *inference.Pack, v inference.Variant, ex []Example, c crops, o *Options, progress func(Progress)) (*embeddings, error) {
	n := len(c.keys)
	e := &embeddings{variant: v, feats: make([][]float32, n), probs: make([][]float32, n)}
	model, err := modelKey(p, v)
	if err != nil {
		return nil, err
	}
	var todo []int
	if o.Cache != nil {
		cached, err := o.Cache.CachedEmbeddings(ctx, model, c.keys)
		if err != nil {
			slog.Warn("embeddings cache not read", "err", err)
		}
		for i, k := range c.keys {
			if em, ok := cached[k]; ok && len(em.Probs) == len(p.Labels) {
				e.feats[i], e.probs[i] = em.Features, em.Probs
			} else {
				todo = append(todo, i)
			}
		}
	} else {
		for i := range n {
			todo = append(todo, i)
		}
	}
	stage := fmt.Sprintf("embed (%s)", v)
	progress(Progress{Stage: stage, Done: n - len(todo), Total: n})
	if len(todo) > 0 {
		if err := e.run(ctx, p, v, ex, c, todo, o, func(done int) { progress(Progress{Stage: stage, Done: n - len(todo) + done, Total: n}) }); err != nil {
			return nil, err
		}
		if o.Cache != nil {
			items := make(map[string]store.Embedding, len(todo))
			for _, i := range todo {
				items[c.keys[i]] = store.Embedding{Features: e.feats[i], Probs: e.probs[i]}
			}
			if err := o.Cache.CacheEmbeddings(ctx, model, items); err != nil {
				slog.Warn("embeddings not cached", "err", err)
			}
		}
	}
	slog.Debug("embedded", "model", model, "crops", n, "computed", len(todo))
	return e, nil
}

// run classifies the crops todo with features, decoding each chunk on all CPUs.
func (e *embeddings) run(ctx context.Context, p *inference.Pack, v inference.Variant, ex []Example, c crops, todo []int, o *Options, done func(int)) error {
	clf, err := inference.NewClassifier(p, inference.Options{Variant: v, Threads: o.Threads, Batch: 32, TopK: len(p.Labels), Features: true})
	if err != nil {
		return err
	}
	defer clf.Close()
	const chunk = 64
	imgs := make([]image.Image, chunk)
	errs := make([]error, chunk)
	for start := 0; start < len(todo); start += chunk {
		part := todo[start:min(start+chunk, len(todo))]
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
		for k, err := range errs[:len(part)] {
			if err != nil {
				return fmt.Errorf("%s: %w: fix or remove it from the crops to teach", ex[part[k]].Source, err)
			}
			if b := imgs[k].Bounds(); b.Dx() < inference.MinCropSide || b.Dy() < inference.MinCropSide {
				return fmt.Errorf("%s is %dx%d pixels: too small to hold a cell; remove it from the crops to teach", ex[part[k]].Source, b.Dx(), b.Dy())
			}
		}
		res, err := clf.ClassifyImages(ctx, imgs[:len(part)])
		if err != nil {
			return err
		}
		for k, r := range res {
			i := part[k]
			if len(r.Features) == 0 {
				return fmt.Errorf("pack %s: the %s model returned no features", p.Name, v)
			}
			e.feats[i] = r.Features
			probs := make([]float32, len(p.Labels))
			for _, t := range r.Top {
				probs[t.Index] = t.Prob
			}
			e.probs[i] = probs
		}
		done(start + len(part))
	}
	return nil
}
