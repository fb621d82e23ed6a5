package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/inference"
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

// Costs are kept per pack and per model files: a twin made under the same pack name is
// measured anew, never shown the replaced model's costs.
func TestPackCostIDFollowsModels(t *testing.T) {
	p, err := LoadPack("")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, p.FS()); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, p.Models[inference.Optimised].File), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{0}) // another model file under the same pack name
	f.Close()
	q, err := inference.LoadPackDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if q.Name != p.Name {
		t.Fatalf("copy named %s", q.Name)
	}
	if a, b := PackCostID(p), PackCostID(q); a == b || PackCostID(p) != a || !strings.HasPrefix(a, p.Name+"@") {
		t.Fatalf("cost IDs %s and %s", a, b)
	}
	prefs := newMemPrefs()
	SaveCost(prefs, PackCostID(p), ModelCost{Variant: inference.Optimised, P50Ms: 3})
	if _, ok := LoadCost(prefs, PackCostID(q), inference.Optimised); ok {
		t.Fatal("the other model's cost was shown")
	}
	if c, ok := LoadCost(prefs, PackCostID(p), inference.Optimised); !ok || c.P50Ms != 3 {
		t.Fatalf("own cost %+v %v", c, ok)
	}
}
