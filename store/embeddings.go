package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// Embedding is what a pack's model made of one crop: its features (the embedding the
// classifier head reads) and its class probabilities, as teaching needs them.
type Embedding struct {
	Features, Probs []float32
}

// CachedEmbeddings returns the cached embeddings of model (a pack, variant and model
// hash, as the caller names it) for those of keys the cache holds. Keys name a crop
// independently of where it was read: an object of this store, or an image's content
// hash.
func (s *Store) CachedEmbeddings(ctx context.Context, model string, keys []string) (map[string]Embedding, error) {
	out := map[string]Embedding{}
	stmt, err := s.db.PrepareContext(ctx, "SELECT features, probs FROM embeddings WHERE model = ? AND key = ?")
	if err != nil {
		return nil, fmt.Errorf("session store %s: read the embeddings cache: %w", s.path, err)
	}
	defer stmt.Close()
	for _, k := range keys {
		var f, p []byte
		err := stmt.QueryRowContext(ctx, model, k).Scan(&f, &p)
		if err != nil {
			continue // not cached (sql.ErrNoRows), or unreadable: computed again
		}
		e := Embedding{Features: floatsOf(f), Probs: floatsOf(p)}
		if e.Features != nil && e.Probs != nil {
			out[k] = e
		}
	}
	return out, ctx.Err()
}

// CacheEmbeddings stores embeddings of model by key, replacing those already there.
func (s *Store) CacheEmbeddings(ctx context.Context, model string, items map[string]Embedding) error {
	if err := s.writable("the embeddings cache"); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("session store %s: cache embeddings: %w", s.path, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	now := timeText(time.Now())
	for k, e := range items {
		if _, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO embeddings(model, key, features, probs, created) VALUES (?,?,?,?,?)",
			model, k, floatBytes(e.Features), floatBytes(e.Probs), now); err != nil {
			return fmt.Errorf("session store %s: cache embeddings: %w", s.path, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("session store %s: cache embeddings: %w", s.path, err)
	}
	return nil
}

// floatBytes is v as little-endian float32s.
func floatBytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// floatsOf reads floatBytes back; nil for a damaged blob.
func floatsOf(b []byte) []float32 {
	if len(b) == 0 || len(b)%4 != 0 {
		return nil
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// ValidatedCrop is an object a person labelled, with its crop: what teaching learns from.
type ValidatedCrop struct {
	ID        int64
	Sample    string
	Pack      string // the pack its run classified it with
	Label     string // the model's label
	Validated string // the person's label
	Crop      []byte // PNG
}

// ValidatedCrops calls fn for every object with a validated label and a crop, oldest
// first; samples in the trash are left out.
func (s *Store) ValidatedCrops(ctx context.Context, fn func(ValidatedCrop) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT o.id, s.sample_id, s.pack, o.label, o.validated_label, o.crop
		FROM objects o JOIN sources s ON s.id = o.source_id JOIN samples sa ON sa.id = s.sample_id
		WHERE COALESCE(o.validated_label, '') != '' AND o.crop IS NOT NULL AND sa.deleted_at IS NULL ORDER BY o.id`)
	if err != nil {
		return fmt.Errorf("session store %s: read the validated crops: %w", s.path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var c ValidatedCrop
		if err := rows.Scan(&c.ID, &c.Sample, &c.Pack, &c.Label, &c.Validated, &c.Crop); err != nil {
			return fmt.Errorf("session store %s: read the validated crops: %w", s.path, err)
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	return rows.Err()
}
