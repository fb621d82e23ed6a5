package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/outfile"
	"github.com/phytoscreen/phytoscreen/store"
	"github.com/phytoscreen/phytoscreen/teach"
)

const teachUsage = `Teaches a pack new taxa from labelled crops and saves it as a new pack folder:
a head on the pack's features output beside its own probabilities, for both models.
Before saving it prints the cross-validated recall and precision per class, what the
pack's own taxa lose, and the labels the pack gave the crops before. Without --pack,
every installed pack with a features output is scored on the crops (cross-validated
macro-F1) and the best is taught.`

// packTeach is `phytoscreen pack teach`.
func (m *Main) packTeach(ctx context.Context, args []string) error {
	fs := newFlags("pack teach", "--labels LIST.csv|--db FILE|--folder DIR|--ecotaxa FILE --out DIR", m.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(m.Stderr, "usage: phytoscreen pack teach [--pack NAME|DIR] --labels LIST.csv|--db FILE|--folder DIR|--ecotaxa FILE --out DIR\n\n%s\n\nflags:\n", teachUsage)
		fs.PrintDefaults()
	}
	packDir := fs.String("pack", "", "pack to teach: a built-in `name` or a pack folder (default: the installed pack that transfers best to the crops)")
	labels := fs.String("labels", "", "`LIST.csv` of path,label (as eval reads; paths relative to the list)")
	db := fs.String("db", "", "session store `FILE` whose validated crops teach (also the embeddings cache)")
	folder := fs.String("folder", "", "`folder` of labelled crops: one subfolder per label")
	ecotaxa := fs.String("ecotaxa", "", "EcoTaxa export `FILE` (.tsv, or the .zip export writes): its validated objects teach")
	out := fs.String("out", "", "new pack `folder` to write (must not exist, or be empty)")
	name := fs.String("name", "", "the taught pack's `name` (default: the pack's name + -taught)")
	cache := fs.String("cache", "", "session store `FILE` to cache embeddings in (default: --db, else the app's session store)")
	noCache := fs.Bool("no-cache", false, "do not read or write the embeddings cache")
	dryRun := fs.Bool("dry-run", false, "print the report and save nothing")
	leaveOut := fs.Bool("leave-out-few", false, fmt.Sprintf("leave out the taxa with fewer than %d crops (named in the report) instead of refusing to teach", teach.MinPerClass))
	compare := fs.Bool("compare", false, "after saving, compare the taught pack with the pack taught on the crops (optimised model)")
	ortLib := fs.String("ort-lib", "", "`path` to libonnxruntime.so.1")
	bias := map[string]float64{}
	fs.Func("bias", "`LABEL=LOGODDS` added to a new taxon's score once fitted (repeatable): negative to name it only when surer, e.g. Other=-2.197 (9 to 1) for a reject class", func(s string) error {
		return parseBias(bias, s)
	})
	var threads int
	intVar(fs, &threads, "threads", 0, 0, maxThreads(), "a thread count (0: one per core)", "ONNX Runtime intra-op threads (default: number of CPUs)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := flagsOnly(pos); err != nil {
		return err
	}
	if (*labels == "" && *db == "" && *folder == "" && *ecotaxa == "") || (*out == "" && !*dryRun) {
		return showUsage(fs)
	}
	var packs []*inference.Pack
	if *packDir != "" {
		p, err := app.LoadPack(*packDir)
		if err != nil {
			return setupError(err)
		}
		if err := teach.CheckPack(p); err != nil {
			return setupError(err)
		}
		packs = append(packs, p)
	} else if packs, err = teach.Installed(); err != nil {
		return setupError(err)
	}
	if *out != "" {
		inputs := []outfile.Input{{Path: *labels, What: "the label list"}, {Path: *db, What: outfile.StoreWhat}, {Path: *folder, What: "the crops' folder"}}
		for _, p := range packs {
			inputs = append(inputs, outfile.Input{Path: p.Source, What: "the pack taught"})
		}
		if err := outfile.CheckNotInput(*out, inputs...); err != nil {
			return usageError("--out %v", err)
		}
		if !*dryRun {
			if err := teach.CheckOut(*out); err != nil {
				return usageError("--out: %v", err)
			}
		}
	}
	if _, err := inference.InitRuntime(*ortLib); err != nil {
		return setupError(err)
	}

	var st *store.Store
	if *db != "" {
		if st, err = store.Open(*db); errors.Is(err, store.ErrReadOnly) {
			st, err = store.OpenReadOnly(*db) // teaches, caches nothing
		}
		if err != nil {
			return setupError(err)
		}
		defer st.Close()
	}
	examples, err := teachExamples(ctx, st, *labels, *folder, *ecotaxa)
	if err != nil {
		return err
	}
	opt := teach.Options{Threads: threads, Name: *name, Bias: bias, LeaveOutFew: *leaveOut}
	if !*noCache {
		c, closeCache, err := teachCache(st, *cache)
		if err != nil {
			return setupError(err)
		}
		defer closeCache()
		opt.Cache = c
	}
	progress := progressLines(m.Stderr)
	start := time.Now()
	p := packs[0]
	if len(packs) > 1 {
		scores, err := teach.ChoosePack(ctx, packs, examples, opt, progress)
		if err != nil {
			return leaveOutHint(err)
		}
		fmt.Fprintf(m.Stdout, "which pack's embedding transfers best to these %d crops (cross-validated macro-F1 of a head on its features):\n", len(examples))
		teach.WriteTransfer(m.Stdout, scores)
		p = scores[0].Pack
		fmt.Fprintf(m.Stdout, "teaching %s\n\n", p.Name)
	}
	t, err := teach.Teach(ctx, p, examples, opt, progress)
	if err != nil {
		return leaveOutHint(err)
	}
	fmt.Fprintf(m.Stdout, "taught %s %s (%s) from %d crops in %.1f s\n\n", p.Name, count(len(t.New), "new taxon", "new taxa"), strings.Join(t.New, ", "), len(t.Examples), time.Since(start).Seconds())
	t.Report.Write(m.Stdout, false)
	if wm, weak := t.Report.Weak(); weak {
		// The app asks before it saves such a pack; a script is told (helper-66).
		fmt.Fprintf(m.Stderr, "phytoscreen pack teach: warning: the %s model names the new taxa right %.0f%% of the time (cross-validated, macro-F1 %.2f): counts of them would be mostly wrong; more crops of each new taxon, or another --pack, teach them better\n",
			wm.Variant, 100*wm.Top1New, wm.MacroF1)
	}
	if *dryRun {
		fmt.Fprintln(m.Stdout, "dry run: nothing saved")
		return nil
	}
	saved, err := t.Save(*out)
	if err != nil {
		return setupError(err)
	}
	fmt.Fprintf(m.Stdout, "saved pack %s (%d labels) in %s\n", saved.Name, len(saved.Labels), *out)
	if *compare {
		v := inference.Optimised
		if !p.Has(v) {
			v = inference.Base
		}
		cmp, err := teach.Compare(ctx, p, saved, v, t.Examples, opt, progress)
		if err != nil {
			return err
		}
		fmt.Fprintln(m.Stdout)
		cmp.Write(m.Stdout)
	}
	return nil
}

// teachExamples gathers the labelled crops from every source given.
func teachExamples(ctx context.Context, st *store.Store, labels, folder, ecotaxa string) ([]teach.Example, error) {
	var all []teach.Example
	add := func(ex []teach.Example, err error) error {
		all = append(all, ex...)
		return err
	}
	if st != nil {
		if err := add(teach.FromStore(ctx, st)); err != nil {
			return nil, err
		}
	}
	if labels != "" {
		if err := add(teach.FromList(labels)); err != nil {
			return nil, setupError(err)
		}
	}
	if folder != "" {
		if err := add(teach.FromFolder(folder)); err != nil {
			return nil, setupError(err)
		}
	}
	if ecotaxa != "" {
		if err := add(teach.FromEcoTaxa(ecotaxa)); err != nil {
			return nil, setupError(err)
		}
	}
	return all, nil
}

// teachCache opens the embeddings cache: the store taught from, else the one named, else
// the app's session store. A store that cannot be written caches nothing.
func teachCache(st *store.Store, path string) (teach.Cache, func(), error) {
	if path == "" && st != nil {
		if st.ReadOnly() {
			slog.Info("the session store is read-only: embeddings are not cached", "store", st.Path())
			return nil, func() {}, nil
		}
		return st, func() {}, nil
	}
	var c *store.Store
	var err error
	if path == "" {
		c, err = app.OpenStore("") // the default store, its folder made on a new install
	} else {
		c, err = store.Open(path)
	}
	if errors.Is(err, store.ErrReadOnly) {
		slog.Info("the cache store is read-only: embeddings are not cached", "store", path)
		return nil, func() {}, nil
	}
	if err != nil {
		return nil, func() {}, err
	}
	return c, func() { c.Close() }, nil
}

// progressLines prints a line when a stage of teaching ends, with the time since the
// stage began.
func progressLines(w io.Writer) func(teach.Progress) {
	stage, start := "", time.Now()
	return func(p teach.Progress) {
		if p.Stage != stage {
			stage, start = p.Stage, time.Now()
		}
		if p.Done == p.Total && p.Total > 0 {
			fmt.Fprintf(w, "%s: %d/%d in %.1f s\n", p.Stage, p.Done, p.Total, time.Since(start).Seconds())
		}
	}
}

// parseBias reads one --bias LABEL=LOGODDS into bias.
func parseBias(bias map[string]float64, s string) error {
	label, v, ok := strings.Cut(s, "=")
	label = strings.TrimSpace(label)
	if !ok || label == "" {
		return fmt.Errorf("%q: want LABEL=LOGODDS, e.g. Other=-2.197", s)
	}
	b, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsNaN(b) || math.IsInf(b, 0) {
		return fmt.Errorf("%q: %q is not a number of log-odds (e.g. Other=-2.197)", s, v)
	}
	if _, dup := bias[label]; dup {
		return fmt.Errorf("%q: %s has a bias already", s, label)
	}
	bias[label] = b
	return nil
}

// leaveOutHint names --leave-out-few after a refusal of taxa with too few crops.
func leaveOutHint(err error) error {
	if errors.Is(err, teach.ErrTooFewCrops) {
		return fmt.Errorf("%w (--leave-out-few)", err)
	}
	return err
}
