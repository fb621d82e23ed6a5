package app

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/quantise"
	"github.com/phytoscreen/phytoscreen/store"
)

// Teaching from a store with nothing reviewed says what to do; a pack without a features
// output is refused with the packs that have one.
func TestTeachReviewedRefuses(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "sessions.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, err = TeachReviewed(context.Background(), st, BestPack, 1, nil)
	if err == nil || !strings.Contains(err.Error(), "no validated crops") || !strings.Contains(err.Error(), "Gallery") {
		t.Fatalf("empty store: %v", err)
	}
}

func TestDefaultOutFolders(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", "/data")
	p, err := LoadPack("")
	if err != nil {
		t.Fatal(err)
	}
	if got := DefaultOptimiseOut(p, quantiseZero, testNow); !strings.HasPrefix(got, "/data/phytoscreen/packs/ndsb-plankton-121-int8-percentile-2026") {
		t.Fatalf("optimise out %q", got)
	}
	if got := DefaultTaughtOut("cyano-tcb-10", testNow); got != "/data/phytoscreen/packs/cyano-tcb-10-taught-20261201-0930" {
		t.Fatalf("taught out %q", got)
	}
}

var (
	quantiseZero = quantise.Method{}
	testNow      = time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
)
