package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/quantise"
	"github.com/phytoscreen/phytoscreen/store"
	"github.com/phytoscreen/phytoscreen/teach"
)

// Teaching from a store with nothing reviewed says what to do; a pack without a features
// output is refused with the packs that have one.
func TestTeachReviewedRefuses(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "sessions.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, err = TeachReviewed(context.Background(), st, TeachRequest{Pack: BestPack}, 1, nil)
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

// With the best pack asked for, only the packs that can be taught the crops are
// compared: 11 crops of a new taxon and none of a pack's own leave out the packs without
// a reference sample of their own taxa (the cyanobacteria pack), saying why, and keep
// the NDSB v2 pack, whose built-in samples are its reference (helper-40: the
// cyanobacteria pack was chosen, then refused the crops).
func TestTeachBestPackOnlyAmongTeachable(t *testing.T) {
	packs, err := teach.Installed()
	if err != nil {
		t.Fatal(err)
	}
	var examples []teach.Example
	for i := range 11 {
		examples = append(examples, teach.Example{Label: "Closterium", Source: fmt.Sprintf("object %d of sessions.db", i+1)})
	}
	can, skipped, err := teachableOf(packs, examples, teach.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range can {
		names = append(names, p.Name)
	}
	if !slices.Contains(names, "ndsb-plankton-121-v2") || slices.Contains(names, "cyano-tcb-10") {
		t.Errorf("packs compared: %v; want ndsb-plankton-121-v2 and not cyano-tcb-10", names)
	}
	if len(skipped) != 1 || !strings.HasPrefix(skipped[0], "pack cyano-tcb-10: pack cyano-tcb-10 has no reference sample") {
		t.Errorf("left out: %q; want the cyanobacteria pack, with why", skipped)
	}
	// No pack can: the error says why for each, named (a label one pack knows is new
	// to another, so the reasons differ from pack to pack).
	_, _, err = teachableOf(packs, examples[:3], teach.Options{})
	if err == nil || !strings.Contains(err.Error(), "no built-in pack can be taught these crops") {
		t.Fatalf("3 crops: %v", err)
	}
	for _, p := range packs {
		if !strings.Contains(err.Error(), "pack "+p.Name+": ") {
			t.Errorf("3 crops: the reason of pack %s is not named: %v", p.Name, err)
		}
	}
	if !strings.Contains(err.Error(), "pack ndsb-plankton-121-v2: class Closterium has 3 crops") {
		t.Errorf("3 crops: %v", err)
	}
	// Left out when asked: 11 crops of Closterium and 3 of Nostoc teach Closterium.
	few := append(slices.Clone(examples), examples[:3]...)
	for i := range few[len(examples):] {
		few[len(examples)+i].Label = "Nostoc"
	}
	if _, _, err := teachableOf(packs, few, teach.Options{}); err == nil || !strings.Contains(err.Error(), "class Nostoc has 3 crops") {
		t.Errorf("3 crops of Nostoc, not left out: %v", err)
	}
	if can, _, err := teachableOf(packs, few, teach.Options{LeaveOutFew: true}); err != nil || !slices.ContainsFunc(can, func(p *inference.Pack) bool { return p.Name == "ndsb-plankton-121-v2" }) {
		t.Errorf("3 crops of Nostoc, left out: %v", err)
	}
}
