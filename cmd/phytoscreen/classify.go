package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/phytoscreen/phytoscreen/imagefile"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/outfile"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/schollz/progressbar/v3"
)

// classifyRow is one output row: a classified file or a file that failed.
type classifyRow struct {
	Path  string                 `json:"path"`
	Label string                 `json:"label,omitempty"`
	Prob  float32                `json:"probability,omitempty"`
	TopK  []inference.Prediction `json:"top_k,omitempty"`
	Error string                 `json:"error,omitempty"`
}

func (m *Main) classify(ctx context.Context, args []string) error {
	fs := newFlags("classify", "PATH...", m.Stderr)
	var mf modelFlags
	mf.register(fs)
	top := fs.Int("top", 3, "labels per image in top_k")
	format := fs.String("format", "csv", "output format: csv or json")
	out := fs.String("out", "", "write results to `FILE` (default: standard output)")
	paths, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if *format != "csv" && *format != "json" {
		return usageError("--format %q: use csv or json", *format)
	}
	if len(paths) == 0 {
		return showUsage(fs)
	}
	if *top < 1 { // the usage alone did not say what was wrong (helper-39)
		return usageError("--top %d: give how many labels to list per image, 1 or more", *top)
	}
	clf, err := mf.open(*top)
	if err != nil {
		return setupError(err)
	}
	defer clf.Close()
	// The summary names classes as the app, the reports and the README do (the
	// cyanobacteria pack's label Other is "Not a cyanobacterium"); the CSV and JSON
	// rows keep the pack's labels, which programs match on.
	tax, err := screening.ForPack(clf.Pack())
	if err != nil {
		return setupError(err)
	}

	files, others, problems := imagefile.CollectAll(paths)
	// Files of a folder that are not images are left out, and said, as screen and
	// segment say them: a .webp or .jfif was left out without a word (helper-68).
	others = slices.DeleteFunc(others, func(f string) bool { return imagefile.IsSystemFile(filepath.Base(f)) })
	for i, f := range others {
		if i == 3 {
			fmt.Fprintf(m.Stderr, "phytoscreen classify: and %d more files that are not images, left out\n", len(others)-i)
			break
		}
		if why := imagefile.LeftOutError(f); why != nil {
			fmt.Fprintf(m.Stderr, "phytoscreen classify: skipped %s: %v\n", f, why)
			continue
		}
		fmt.Fprintf(m.Stderr, "phytoscreen classify: skipped %s: not an image file (images must be %s)\n", f, strings.Join(imagefile.Extensions, ", "))
	}
	if len(files) == 0 && len(problems) == 0 {
		// "classified 0 of 0 files", exit 0, read as done (helper-39).
		return setupError(fmt.Errorf("no image files in %s: give folders or files of images (JPEG, PNG, TIFF, BMP)", strings.Join(paths, ", ")))
	}
	if len(files) == 0 {
		// Nothing could be read (a wrong path): a table of errors alone would replace an
		// earlier --out file with nothing of worth (helper-60).
		for _, p := range problems {
			fmt.Fprintf(m.Stderr, "phytoscreen classify: %v\n", p)
		}
		kept := ""
		if *out != "" {
			kept = fmt.Sprintf("; %s was not written", *out)
		}
		return setupError(fmt.Errorf("no image file could be read%s: give folders or files of images that exist (JPEG, PNG, TIFF, BMP)", kept))
	}
	w, summaryW := io.Writer(m.Stdout), m.Stderr
	var outF *outfile.File
	if *out != "" {
		inputs := make([]outfile.Input, len(files))
		for i, f := range files {
			inputs[i] = outfile.Input{Path: f, What: "an input image"}
		}
		if err := outfile.CheckNotInput(*out, inputs...); err != nil {
			return usageError("--out %v", err)
		}
		if err := outfile.CheckKind(*out, "a "+strings.ToUpper(*format)+" document", "."+*format); err != nil {
			return usageError("--out %v", err)
		}
		if outF, err = outfile.Create(*out); err != nil {
			if errors.Is(err, outfile.ErrIsFolder) {
				return usageError("%v", err)
			}
			return setupError(err)
		}
		defer outF.Abort() // a failure before Commit leaves the earlier file as it was
		w, summaryW = outF, m.Stdout
	}
	sink := newRowSink(*format, w)
	sum := newClassSummary(tax)
	for _, p := range problems {
		row := classifyRow{Path: p.Path, Error: p.Err.Error()}
		sum.add(row)
		if err := sink.write(row); err != nil {
			return setupError(err)
		}
	}
	var bar *progressbar.ProgressBar
	if isTerminal(m.Stderr) && len(files) > 1 {
		bar = progressbar.NewOptions(len(files), progressbar.OptionSetWriter(m.Stderr),
			progressbar.OptionSetDescription("classifying"), progressbar.OptionShowCount(),
			progressbar.OptionShowIts(), progressbar.OptionSetItsString("img"), progressbar.OptionClearOnFinish())
	}
	start := time.Now()
	sum.expected = len(files) + len(problems)
	// Interrupted, the rows so far are written out as .partial at once: the batch under
	// way may outlast the grace the program has after a signal (a large batch of the
	// base model on one thread), and its end would come too late to save anything.
	var mu sync.Mutex
	saved := false // the partial output written: later rows are dropped
	var saveErr error
	savePartial := func() {
		mu.Lock()
		defer mu.Unlock()
		if saved {
			return
		}
		saved = true
		saveErr = sink.finish(sum, clf)
		if saveErr == nil && outF != nil {
			saveErr = commitOutput(outF, *out, true)
		}
	}
	stopWatch := context.AfterFunc(ctx, savePartial)
	err = inference.ClassifyFiles(ctx, clf, files, func(fr inference.FileResult) error {
		row := classifyRow{Path: fr.Path}
		if fr.Err != nil {
			row.Error = trimPathPrefix(fr.Err, fr.Path).Error()
		} else {
			row.Label, row.Prob, row.TopK = fr.Result.Best().Label, fr.Result.Best().Prob, fr.Result.Top
		}
		mu.Lock()
		defer mu.Unlock()
		if saved {
			return nil
		}
		sum.add(row)
		if bar != nil {
			_ = bar.Add(1)
		}
		return sink.write(row)
	})
	interrupted := !stopWatch() // the watch ran: the context was cancelled
	if bar != nil {
		_ = bar.Finish()
	}
	if interrupted {
		savePartial() // waits for the watch's save
		err = saveErr // the rows so far are still worth keeping, marked partial
	} else {
		if ferr := sink.finish(sum, clf); err == nil {
			err = ferr
		}
		if err == nil && outF != nil {
			err = commitOutput(outF, *out, false)
		}
	}
	if err != nil {
		return err
	}
	sum.print(summaryW, clf, time.Since(start))
	if interrupted {
		where := ""
		if outF != nil {
			where = fmt.Sprintf("; the rows so far are in %s.partial and %s was left as it was", *out, *out)
		}
		fmt.Fprintf(m.Stderr, "phytoscreen classify: interrupted after %d of %d files%s\n", sum.files, sum.expected, where)
		return fmt.Errorf("classify interrupted: %w", context.Cause(ctx))
	}
	if sum.failed > 0 {
		return errSomeFailed
	}
	return nil
}

// commitOutput puts a finished output at path, and an interrupted one beside it as
// path.partial: an interrupted run never replaces an earlier complete file.
func commitOutput(f *outfile.File, path string, interrupted bool) error {
	if interrupted {
		return f.CommitAs(f.Path() + ".partial")
	}
	return f.Commit()
}

// trimPathPrefix drops the "decode PATH: " prefix when the path is in its own column.
func trimPathPrefix(err error, path string) error {
	msg := err.Error()
	for _, p := range []string{"decode " + path + ": ", "read " + path + ": "} {
		if strings.HasPrefix(msg, p) {
			return fmt.Errorf("%s", strings.TrimPrefix(msg, p))
		}
	}
	return err
}

// rowSink writes rows as CSV (streamed) or JSON (one document at the end).
type rowSink struct {
	format string
	w      io.Writer
	csv    *csv.Writer
	rows   []classifyRow
}

func newRowSink(format string, w io.Writer) *rowSink {
	s := &rowSink{format: format, w: w}
	if format == "csv" {
		s.csv = csv.NewWriter(w)
		_ = s.csv.Write([]string{"path", "label", "probability", "top_k", "error"})
	}
	return s
}

func (s *rowSink) write(r classifyRow) error {
	if s.csv == nil {
		s.rows = append(s.rows, r)
		return nil
	}
	prob := ""
	if r.Error == "" {
		prob = strconv.FormatFloat(float64(r.Prob), 'f', 4, 32)
	}
	return s.csv.Write([]string{r.Path, r.Label, prob, formatTopK(r.TopK), r.Error})
}

func formatTopK(top []inference.Prediction) string {
	parts := make([]string, len(top))
	for i, p := range top {
		parts[i] = fmt.Sprintf("%s:%.4f", p.Label, p.Prob)
	}
	return strings.Join(parts, ";")
}

func (s *rowSink) finish(sum *classSummary, clf *inference.Classifier) error {
	if s.csv != nil {
		s.csv.Flush()
		return s.csv.Error()
	}
	doc := struct {
		Pack    string        `json:"pack"`
		Model   string        `json:"model"`
		Results []classifyRow `json:"results"`
		Summary jsonSummary   `json:"summary"`
	}{clf.Pack().Name, string(clf.Variant()), s.rows, sum.json()}
	if doc.Results == nil {
		doc.Results = []classifyRow{}
	}
	enc := json.NewEncoder(s.w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// classSummary counts results per predicted class.
type classSummary struct {
	files, failed int
	expected      int // files given; files < expected after an interruption
	count         map[string]int
	probSum       map[string]float64
	failures      []classifyRow
	tax           *screening.Taxonomy // the classes' display names
}

func newClassSummary(tax *screening.Taxonomy) *classSummary {
	return &classSummary{count: map[string]int{}, probSum: map[string]float64{}, tax: tax}
}

func (s *classSummary) add(r classifyRow) {
	s.files++
	if r.Error != "" {
		s.failed++
		s.failures = append(s.failures, r)
		return
	}
	s.count[r.Label]++
	s.probSum[r.Label] += float64(r.Prob)
}

type classCount struct {
	Label    string  `json:"label"` // the pack's label
	Name     string  `json:"name"`  // its display name, as the app shows it
	Count    int     `json:"count"`
	MeanProb float64 `json:"mean_probability"`
}

type jsonSummary struct {
	Complete   bool         `json:"complete"`       // false when the run was interrupted
	Expected   int          `json:"files_expected"` // files given, read or not
	Files      int          `json:"files"`
	Classified int          `json:"classified"`
	Failed     int          `json:"failed"`
	Classes    []classCount `json:"classes"`
}

func (s *classSummary) classes() []classCount {
	cs := make([]classCount, 0, len(s.count))
	for l, n := range s.count {
		cs = append(cs, classCount{l, s.tax.Name(l), n, s.probSum[l] / float64(n)})
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].Count != cs[j].Count {
			return cs[i].Count > cs[j].Count
		}
		return cs[i].Label < cs[j].Label
	})
	return cs
}

func (s *classSummary) json() jsonSummary {
	return jsonSummary{s.files == s.expected, s.expected, s.files, s.files - s.failed, s.failed, s.classes()}
}

func (s *classSummary) print(w io.Writer, clf *inference.Classifier, took time.Duration) {
	ok := s.files - s.failed
	of := ""
	if s.expected > s.files { // interrupted: say what was left
		of = fmt.Sprintf(" (of %d given)", s.expected)
	}
	fmt.Fprintf(w, "classified %d of %d files%s with %s/%s in %.1f s (%.0f images/s); %d failed\n",
		ok, s.files, of, clf.Pack().Name, clf.Variant(), took.Seconds(), float64(ok)/max(took.Seconds(), 1e-9), s.failed)
	if ok > 0 {
		fmt.Fprintf(w, "%-42s %6s %7s %7s\n", "class", "count", "share", "mean p")
		for _, c := range s.classes() {
			fmt.Fprintf(w, "%-42s %6d %7s %7.3f\n", clip(c.Name, 42), c.Count, pct(float64(c.Count)/float64(ok)), c.MeanProb)
		}
	}
	for _, f := range s.failures {
		fmt.Fprintf(w, "failed: %s: %s\n", f.Path, f.Error)
	}
}
