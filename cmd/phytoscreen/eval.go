package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/outfile"
	"github.com/phytoscreen/phytoscreen/screening"
)

func (m *Main) eval(ctx context.Context, args []string) error {
	fs := newFlags("eval", "LIST.csv", m.Stderr)
	var mf modelFlags
	mf.register(fs)
	split := fs.String("split", "", "keep only rows whose split column equals `NAME` (e.g. val)")
	format := fs.String("format", "text", "output format: text or json")
	confusion := fs.String("confusion", "", "write the confusion matrix (rows true, columns predicted) to `FILE` as CSV")
	root := fs.String("root", "", "`folder` the list's relative paths start from (default: the list's own folder)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return usageError("--format %q: use text or json", *format)
	}
	if len(pos) != 1 {
		return showUsage(fs)
	}
	from := *root
	if from == "" {
		from = filepath.Dir(pos[0])
	}
	items, badRows, err := inference.ReadLabelRows(pos[0], from, *split)
	if err != nil {
		return setupError(err)
	}
	if len(items) == 0 && len(badRows) > 0 {
		return setupError(fmt.Errorf("%s: no row could be read: %s", pos[0], strings.Join(badRows, "; ")))
	}
	if len(items) == 0 {
		// The split is named only when one was asked (helper-60: "check --split" under a
		// list of a header alone).
		if *split != "" {
			return setupError(fmt.Errorf("%s: no rows of split %q to evaluate: check --split against the list's split column", pos[0], *split))
		}
		return setupError(fmt.Errorf("%s: no rows to evaluate: the list holds a header and no path,label rows", pos[0]))
	}
	var confOut *outfile.File
	if *confusion != "" {
		inputs := []outfile.Input{{Path: pos[0], What: "the label list"}}
		for _, it := range items {
			inputs = append(inputs, outfile.Input{Path: it.Path, What: "an image of the list"})
		}
		if err := outfile.CheckNotInput(*confusion, inputs...); err != nil {
			return usageError("--confusion %v", err)
		}
		// counts.pdf took the matrix, exit 0, as classify's --out would not (helper-83).
		if err := outfile.CheckKind(*confusion, "a CSV table", ".csv"); err != nil {
			return usageError("--confusion %v", err)
		}
		// Opened now: a folder that is missing or not writable is said before the
		// images are classified, not after (helper-39: the metrics were never printed).
		if confOut, err = outfile.Create(*confusion); err != nil {
			if _, ok := errors.AsType[*outfile.CreateError](err); ok {
				return setupError(fmt.Errorf("--confusion: %w", err)) // its folder: exit 3, as outputError
			}
			return usageError("--confusion: %v", err) // a folder given as the file
		}
		defer confOut.Abort()
	}
	clf, err := mf.open(1)
	if err != nil {
		return setupError(err)
	}
	defer clf.Close()
	labels := clf.Pack().Labels
	clf.SetTopK(len(labels)) // log-loss needs the true label's probability
	scorer := inference.NewScorer(labels)

	trained, err := clf.Pack().TrainingSet()
	if err != nil {
		return setupError(err)
	}
	var files []string
	rows := map[string]inference.LabelledImage{} // by path: the row each file scores for
	failures := slices.Clone(badRows)            // said and counted as skipped with the rows scoring fails
	unknown := 0
	distinct, repeats := inference.DistinctRows(items)
	for _, r := range repeats {
		failures = append(failures, r.Describe(pos[0]))
	}
	read, err := labelReader(clf.Pack())
	if err != nil {
		return setupError(err)
	}
	readAs := map[string]string{} // a list's label read as the pack's other spelling of it
	for i, it := range distinct {
		if !scorer.Known(it.Label) {
			if l, ok := read[strings.ToLower(strings.TrimSpace(it.Label))]; ok {
				readAs[it.Label] = l
				distinct[i].Label, it.Label = l, l
			}
		}
		if !scorer.Known(it.Label) {
			unknown++
			failures = append(failures, fmt.Sprintf("%s line %d: label %q is not in pack %s; row skipped", pos[0], it.Line, it.Label, clf.Pack().Name))
			continue
		}
		files = append(files, it.Path)
		rows[it.Path] = it
	}
	if unknown == len(distinct) {
		// Not one label of the list is the pack's: the list is for another pack.
		listed := map[string]bool{}
		for _, it := range distinct {
			listed[it.Label] = true
		}
		return setupError(fmt.Errorf("%s: none of its %s (%q, ...) is in pack %s (%s): the list is for another pack; give it with --pack (built in: %s)",
			pos[0], countNoun(len(listed), "label", "labels"), items[0].Label, clf.Pack().Name, labelSample(labels), strings.Join(assets.BuiltinPacks(), ", ")))
	}
	if len(readAs) > 0 {
		var said []string
		for from, to := range readAs {
			said = append(said, fmt.Sprintf("%q as %s", from, to))
		}
		slices.Sort(said)
		fmt.Fprintf(m.Stderr, "phytoscreen eval: labels read by the pack's display names or in another case: %s\n", strings.Join(said, ", "))
	}
	start := time.Now()
	missingRel, missingAbs := 0, 0 // images not found, by how the list gave their path
	inTraining := 0                // of the images scored: a row skipped says nothing of the figures
	err = inference.ClassifyFiles(ctx, clf, files, func(fr inference.FileResult) error {
		row := rows[fr.Path]
		if fr.Err != nil {
			failures = append(failures, fr.Err.Error())
			switch {
			case !errors.Is(fr.Err, iofs.ErrNotExist):
			case row.Relative:
				missingRel++
			default:
				missingAbs++
			}
			return nil
		}
		if trained.Has(fr.Path, row.Label) {
			inTraining++
		}
		return scorer.Add(row.Label, fr.Result)
	})
	if err != nil {
		return err
	}
	met := scorer.Metrics()
	const listed = 10 // one line each, then a count: a list of thousands would bury the result
	for i, f := range failures {
		if i == listed {
			fmt.Fprintf(m.Stderr, "skipped: %d more rows\n", len(failures)-listed)
			break
		}
		fmt.Fprintf(m.Stderr, "skipped: %s\n", f)
	}
	if missingRel > 0 && *root == "" {
		// Relative paths start from the list's folder: a list kept apart from its images
		// (a pack's split.csv) needs --root, which nothing said (helper-39).
		fmt.Fprintf(m.Stderr, "%s not found: the list's relative paths start from its own folder (%s); give --root FOLDER when the images lie elsewhere\n", countNoun(missingRel, "image", "images"), from)
	}
	if missingAbs > 0 {
		// --root cannot help an absolute path: the hint for relative ones misled here.
		fmt.Fprintf(m.Stderr, "%s not found at the absolute paths %s gives (--root applies to relative paths only): the images were moved, or the list was made on another machine; correct those paths in the list\n", countNoun(missingAbs, "image", "images"), pos[0])
	}
	if met.N == 0 {
		// A table of zeros would read as a result (a log-loss of 0 as perfect).
		return setupError(fmt.Errorf("%s: no image could be scored (%s skipped, listed above)", pos[0], countNoun(len(failures), "row", "rows")))
	}
	if confOut != nil {
		if err := scorer.WriteConfusion(confOut); err != nil {
			return setupError(err)
		}
		if err := confOut.Commit(); err != nil {
			return setupError(err)
		}
	}
	card := clf.Pack().Models[clf.Variant()]
	// The results go out in one write whose failure is said: printed line by line, a
	// full disk or a closed pipe lost them with exit 0 (text) or exit 1 without a word
	// (JSON) (helper-83).
	var res bytes.Buffer
	if *format == "json" {
		doc := struct {
			inference.Metrics
			Pack   string  `json:"pack"`
			Model  string  `json:"model"`
			Failed int     `json:"failed"`
			CardT1 float64 `json:"card_top1"`
			// InTraining counts the images the pack was trained on (its split.csv).
			InTraining int `json:"in_training_split"`
		}{met, clf.Pack().Name, string(clf.Variant()), len(failures), card.ValTop1, inTraining}
		enc := json.NewEncoder(&res)
		enc.SetIndent("", "  ")
		if err := enc.Encode(doc); err != nil {
			return fmt.Errorf("write the results as JSON: %w", err)
		}
	} else {
		printEval(&res, clf, met, len(failures), card, time.Since(start))
		if inTraining > 0 {
			fmt.Fprintf(&res, "\nNote: %d of the %d images are in pack %s's training split (its split.csv): on images it learned from a model scores high, which says little of how it does on new ones. The card's figures are on its val split (--split val on the pack's split.csv).\n",
				inTraining, met.N, clf.Pack().Name)
		}
	}
	if _, err := m.Stdout.Write(res.Bytes()); err != nil {
		return fmt.Errorf("write the results to standard output: %w", err)
	}
	if len(failures) > 0 {
		return errSomeFailed
	}
	return nil
}

func printEval(w io.Writer, clf *inference.Classifier, m inference.Metrics, failed int, card inference.ModelSpec, took time.Duration) {
	fmt.Fprintf(w, "%s/%s on %d images (%d skipped) in %.1f s\n", clf.Pack().Name, clf.Variant(), m.N, failed, took.Seconds())
	fmt.Fprintf(w, "%-11s %8s %8s\n", "", "measured", "card")
	fmt.Fprintf(w, "%-11s %8.4f %8.4f\n", "top-1", m.Top1, card.ValTop1)
	fmt.Fprintf(w, "%-11s %8.4f %8.4f\n", "top-5", m.Top5, card.ValTop5)
	fmt.Fprintf(w, "%-11s %8.4f %8.4f\n", "log-loss", m.LogLoss, card.ValLogLoss)
	cardF1 := func(v float64) string { // format-1 cards have no F1 and no ECE
		if v == 0 {
			return "-"
		}
		return fmt.Sprintf("%.4f", v)
	}
	fmt.Fprintf(w, "%-11s %8.4f %8s\n", "macro-F1", m.MacroF1, cardF1(card.ValMacroF1))
	fmt.Fprintf(w, "%-11s %8.4f %8s\n", "weighted-F1", m.WeightedF1, cardF1(card.ValWeightedF1))
	fmt.Fprintf(w, "%-11s %8.4f %8s\n", "ECE", m.ECE, cardF1(card.ValECE))
	fmt.Fprintf(w, "\nper class (support): recall, precision, F1\n")
	for _, r := range m.Recall {
		fmt.Fprintf(w, "  %-46s %5.3f %5.3f %5.3f (%d)\n", r.Label, r.Recall, r.Precision, r.F1, r.Support)
	}
}

// labelReader maps the other spellings of a pack's labels, lower-cased, to the labels:
// each label in any case ("microcystis", a dataset's folder name) and its display name
// ("Not a cyanobacterium", as the app shows Other), so that a list written from what the
// app shows is read (helper-56). A spelling two labels share is left out: it is no one's.
func labelReader(p *inference.Pack) (map[string]string, error) {
	tx, err := screening.ForPack(p)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	shared := map[string]bool{}
	add := func(spelling, label string) {
		k := strings.ToLower(strings.TrimSpace(spelling))
		if prev, ok := out[k]; ok && prev != label {
			shared[k] = true
		}
		out[k] = label
	}
	for _, l := range p.Labels {
		add(l, l)
	}
	for _, x := range tx.Taxa {
		add(x.Name, x.Label)
	}
	for k := range shared {
		delete(out, k)
	}
	return out, nil
}

// labelSample names a pack's first labels, for an error: "Anabaena, Aphanizomenon,
// Chroococcus, ... (11)".
func labelSample(labels []string) string {
	if len(labels) <= 4 {
		return strings.Join(labels, ", ")
	}
	return fmt.Sprintf("%s, ... (%d)", strings.Join(labels[:3], ", "), len(labels))
}
