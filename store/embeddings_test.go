package store

import (
	"context"
	"slices"
	"testing"
)

// A store of schema 4 (the release before the embeddings cache) opens writable and gains
// the cache with its samples kept; read-only it is refused with the fix.
func TestOpenUpgradesSchema4(t *testing.T) {
	s2 := upgradedStore(t, 4, "DROP TABLE embeddings")
	if err := s2.CacheEmbeddings(context.Background(), "m", map[string]Embedding{"k": {Features: []float32{1}, Probs: []float32{1}}}); err != nil {
		t.Errorf("cache after the upgrade: %v", err)
	}
}

// Cached embeddings come back as stored, per model; a key or model not cached is absent;
// a read-only store refuses to cache.
func TestEmbeddingsCache(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	a := Embedding{Features: []float32{0.5, -1, 3e-8}, Probs: []float32{0.25, 0.75}}
	if err := s.CacheEmbeddings(ctx, "pack/base@1", map[string]Embedding{"sha256:a": a}); err != nil {
		t.Fatal(err)
	}
	got, err := s.CachedEmbeddings(ctx, "pack/base@1", []string{"sha256:a", "sha256:b"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !slices.Equal(got["sha256:a"].Features, a.Features) || !slices.Equal(got["sha256:a"].Probs, a.Probs) {
		t.Errorf("cache read %+v, want only sha256:a as stored", got)
	}
	if other, _ := s.CachedEmbeddings(ctx, "pack/base@2", []string{"sha256:a"}); len(other) != 0 {
		t.Errorf("another model's cache returned %+v", other)
	}
	path := s.Path()
	s.Close()
	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if err := ro.CacheEmbeddings(ctx, "m", map[string]Embedding{"k": a}); err == nil {
		t.Error("a read-only store cached embeddings")
	}
}

// The validated crops are the objects a person labelled, with their crops and the
// model's label beside the person's.
func TestValidatedCrops(t *testing.T) {
	s := finishedStore(t)
	ctx := context.Background()
	queue, err := s.ReviewQueue(ctx, "LIM-2025-06-03", 10)
	if err != nil || len(queue) == 0 {
		t.Fatalf("review queue: %d objects, %v", len(queue), err)
	}
	if _, err := s.Relabel(ctx, queue[0].ID, "Closterium", "Ana"); err != nil {
		t.Fatal(err)
	}
	var got []ValidatedCrop
	if err := s.ValidatedCrops(ctx, func(c ValidatedCrop) error { got = append(got, c); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != queue[0].ID || got[0].Validated != "Closterium" || got[0].Label != queue[0].Label || len(got[0].Crop) == 0 || got[0].Sample != "LIM-2025-06-03" {
		t.Fatalf("validated crops %+v, want object %d relabelled Closterium with its crop", got, queue[0].ID)
	}
	if err := s.DeleteSample(ctx, "LIM-2025-06-03"); err != nil {
		t.Fatal(err)
	}
	got = nil
	s.ValidatedCrops(ctx, func(c ValidatedCrop) error { got = append(got, c); return nil })
	if len(got) != 0 {
		t.Errorf("a sample in the trash still teaches: %d crops", len(got))
	}
}
