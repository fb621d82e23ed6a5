//go:build matprofile

package screening

import (
	"context"
	"testing"
	"time"

	"gocv.io/x/gocv"
)

// Every frame Mat the pipeline receives is closed on every path: segmented, dropped
// behind a live source, failed segmentation, and cancelled while queued. Run with
// `go test -tags matprofile ./screening/`.
func TestPipelineClosesEveryMat(t *testing.T) {
	base := gocv.MatProfile.Count()
	scenarios := map[string]func(f *fixture) context.Context{
		"file": func(f *fixture) context.Context { return context.Background() },
		"live drops": func(f *fixture) context.Context {
			f.src.live, f.src.every, f.seg.still, f.clf.delay = true, time.Millisecond, 1, 10*time.Millisecond
			return context.Background()
		},
		"segmentation fails": func(f *fixture) context.Context {
			f.seg.failAt = map[int]bool{0: true, 7: true}
			return context.Background()
		},
		"cancelled": func(f *fixture) context.Context {
			f.src.n, f.clf.delay = -1, 5*time.Millisecond
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			t.Cleanup(cancel)
			return ctx
		},
	}
	for name, setup := range scenarios {
		f := newFixture(t, 40)
		ctx := setup(f)
		f.run(t, ctx)
		if n := gocv.MatProfile.Count() - base; n != 0 {
			t.Errorf("%s: %d Mats left open", name, n)
		}
	}
}
