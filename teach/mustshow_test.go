package teach

import (
	"bytes"
	"context"
	"encoding/csv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/testpack"
	"github.com/phytoscreen/phytoscreen/store"
)

// sharedData is the project's data folder beside the checkout (../shared/data).
const sharedData = "../../shared/data"

// splitRows reads a pack's split.csv (path,label,group,split).
func splitRows(t testing.TB, p *inference.Pack) [][]string {
	t.Helper()
	b, err := p.ReadFile("split.csv")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(rows) < 2 || !slices.Equal(rows[0][:2], []string{"path", "label"}) || rows[0][3] != "split" {
		t.Fatalf("%s split.csv: %v", p.Name, err)
	}
	return rows[1:]
}

// The test: a pack taught five new taxa from 20 crops each, of classes it was not
// trained on, calls held-out crops of them right at least 80% of the time and loses at most
// two points of top-1 on its own classes.
//
// The pack is cyano-tcb-10 (ten cyanobacteria genera, never shown an NDSB image); the new
// taxa are the five most numerous NDSB classes that name a taxon (catch-all classes,
// *_other, detritus, artifacts and unknown, are no taxa), 20 images each from NDSB's
// train split (a fixed shuffle). The pack has no bundled reference sample, so the crops of
// its own taxa that a lab would give with the new ones are its training tiles (the
// 1,657 CTCB tiles of its split.csv's train split: the only ones not held out). Held out: every NDSB val image of the five classes, and the
// pack's own val split (grouped by photograph) for what its classes lose, taught against
// the pack as shipped. Both models are checked.
func TestTaughtTaxaReachHeldOut(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: teaches and classifies about 4,000 crops (two minutes); run without -short")
	}
	testpack.RequireRuntime(t)
	ndsbDir, ctcbDir := filepath.Join(sharedData, "ndsb"), filepath.Join(sharedData, "ctcb")
	for _, d := range []string{ndsbDir, ctcbDir} {
		if _, err := os.Stat(d); err != nil {
			t.Fatalf("%v: the test needs the NDSB images and CTCB tiles in ../shared/data", err)
		}
	}
	ctx := context.Background()
	cyano := builtin(t, assets.CyanoPackName)

	// The five classes and their crops.
	ndsb := splitRows(t, builtin(t, assets.NDSBv2PackName))
	count := map[string]int{}
	for _, r := range ndsb {
		count[r[1]]++
	}
	labels := sortedKeys(count)
	slices.SortStableFunc(labels, func(a, b string) int { return count[b] - count[a] })
	var taxa []string
	for _, l := range labels {
		if !strings.HasSuffix(l, "_other") && !strings.HasPrefix(l, "detritus") && !strings.HasPrefix(l, "artifacts") && !strings.HasPrefix(l, "unknown") {
			taxa = append(taxa, l)
		}
	}
	taxa = taxa[:5]
	var examples []Example
	var heldOut []string
	truth := map[string]string{}
	for _, taxon := range taxa {
		var train []string
		for _, r := range ndsb {
			if r[1] != taxon {
				continue
			}
			path := filepath.Join(ndsbDir, r[0])
			if r[3] == "train" {
				train = append(train, path)
			} else {
				heldOut, truth[path] = append(heldOut, path), taxon
			}
		}
		rand.New(rand.NewPCG(2026, 15)).Shuffle(len(train), func(i, j int) { train[i], train[j] = train[j], train[i] })
		for _, f := range train[:20] {
			examples = append(examples, FileExample(f, taxon))
		}
	}
	var ownVal []string
	for _, r := range splitRows(t, cyano) {
		path := filepath.Join(ctcbDir, r[0])
		switch {
		case r[3] == "val":
			ownVal, truth[path] = append(ownVal, path), r[1]
		default:
			examples = append(examples, FileExample(path, r[1]))
		}
	}

	st, err := store.Open(filepath.Join(t.TempDir(), "sessions.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	taught, err := Teach(ctx, cyano, examples, Options{Cache: st}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var card strings.Builder
	taught.Report.Write(&card, false)
	t.Logf("taught %s %v from %d crops:\n%s", cyano.Name, taught.New, len(taught.Examples), card.String())
	saved, err := taught.Save(filepath.Join(t.TempDir(), "taught"))
	if err != nil {
		t.Fatal(err)
	}
	top1 := func(p *inference.Pack, v inference.Variant, files []string) float64 {
		clf, err := inference.NewClassifier(p, inference.Options{Variant: v, Batch: 32})
		if err != nil {
			t.Fatal(err)
		}
		defer clf.Close()
		right := 0
		err = inference.ClassifyFiles(ctx, clf, files, func(fr inference.FileResult) error {
			if fr.Err != nil {
				return fr.Err
			}
			if fr.Result.Best().Label == truth[fr.Path] {
				right++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return float64(right) / float64(len(files))
	}
	for _, v := range cyano.Variants() {
		newTop1 := top1(saved, v, heldOut)
		before, after := top1(cyano, v, ownVal), top1(saved, v, ownVal)
		t.Logf("%s: new taxa top-1 %.4f on %d held-out NDSB val images; the pack's own val split (%d tiles): top-1 %.4f untaught, %.4f taught (%+.1f points)",
			v, newTop1, len(heldOut), len(ownVal), before, after, 100*(after-before))
		if newTop1 < 0.80 {
			t.Errorf("%s: new taxa top-1 %.4f on held-out crops, want at least 0.80", v, newTop1)
		}
		if before-after > 0.02 {
			t.Errorf("%s: the pack's own classes lose %.1f points of top-1, want at most 2", v, 100*(before-after))
		}
	}
}
