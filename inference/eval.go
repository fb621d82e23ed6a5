package inference

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"path"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/phytoscreen/phytoscreen/inputfile"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// LabelledImage is one row of an evaluation list.
type LabelledImage struct {
	Path  string // resolved against the list's folder
	Label string
	Line  int // line in the list, for messages
	// Relative says the list gave the path relative: resolved against the root, so a
	// missing image may be a wrong root; an absolute one is where the list says.
	Relative bool
}

// ReadLabelList reads a CSV with at least the columns path and label (a header row is
// required; other columns are allowed). Paths are relative to the CSV's folder. When split
// is not empty, only rows whose split column equals it are kept.
func ReadLabelList(file, split string) ([]LabelledImage, error) {
	return ReadLabelListFrom(file, filepath.Dir(file), split)
}

// withoutBOM drops the byte order mark a spreadsheet (Excel's "CSV UTF-8") writes at the
// start of a file: left in, it sticks to the first header and the list "has no path
// column". A UTF-16 file with its BOM is decoded to UTF-8.
func withoutBOM(r io.Reader) io.Reader {
	return transform.NewReader(r, unicode.BOMOverride(transform.Nop))
}

// trimPartialRune drops an incomplete UTF-8 sequence at the end of b (a peek may cut a
// character in two).
func trimPartialRune(b []byte) []byte {
	for i := 1; i <= utf8.UTFMax && i <= len(b); i++ {
		if utf8.RuneStart(b[len(b)-i]) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return b[:len(b)-i]
			}
			break
		}
	}
	return b
}

// ReadLabelListFrom is ReadLabelList with relative paths starting from root, for a list
// kept apart from its images (a pack's split.csv and the dataset's folder).
func ReadLabelListFrom(file, root, split string) ([]LabelledImage, error) {
	items, bad, err := ReadLabelRows(file, root, split)
	if err == nil && len(bad) > 0 {
		err = errors.New(bad[0])
	}
	return items, err
}

// ReadLabelRows is ReadLabelListFrom that passes over a row it cannot read (too few
// fields, an empty path) and says why in bad, one line each naming the list and the
// line, for a caller that scores the rest (eval): one short row stopped a whole
// evaluation, while a row with an unknown label or a missing image skipped that row
// alone (helper-82).
func ReadLabelRows(file, root, split string) (items []LabelledImage, bad []string, err error) {
	// A FIFO would hold the read, a device or a list of gigabytes would fill the memory.
	f, err := inputfile.Open(file, inputfile.MaxList)
	if errors.Is(err, inputfile.ErrNotRegular) || errors.Is(err, inputfile.ErrTooLarge) {
		return nil, nil, fmt.Errorf("label list %w", err)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("open label list: %w", err)
	}
	defer f.Close()
	// An image or another binary file given as the list: its bytes were quoted back in
	// the message (helper-39: 4.7 kB of a JPEG's header in the terminal).
	br := bufio.NewReader(f)
	// A UTF-16 list (its BOM first) holds zero bytes, and is read through its BOM.
	utf16 := func(b []byte) bool {
		return bytes.HasPrefix(b, []byte{0xff, 0xfe}) || bytes.HasPrefix(b, []byte{0xfe, 0xff})
	}
	if head, _ := br.Peek(512); !utf16(head) && (bytes.IndexByte(head, 0) >= 0 || !utf8.Valid(trimPartialRune(head))) {
		return nil, nil, fmt.Errorf("%s is not a label list (it holds binary data: an image?): give a CSV file with a header line path,label and a line per image", file)
	}
	r := csv.NewReader(withoutBOM(br))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("%s is empty: a label list needs a header line (path,label) and a line per image", file)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: read header: %w", file, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	pi, okP := col["path"]
	li, okL := col["label"]
	if !okP || !okL {
		return nil, nil, fmt.Errorf("%s: header %v needs the columns path and label", file, header)
	}
	si, okS := col["split"]
	if split != "" && !okS {
		return nil, nil, fmt.Errorf("%s: --split %s given but the list has no split column", file, split)
	}
	dir := root
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", file, err)
		}
		if len(rec) <= max(pi, li) {
			bad = append(bad, fmt.Sprintf("%s line %d: %d fields, need path and label; row skipped: fix the list", file, line, len(rec)))
			continue
		}
		if split != "" && (len(rec) <= si || rec[si] != split) {
			continue
		}
		p := strings.TrimSpace(rec[pi]) // "a.jpg, Noctiluca": the space is the list's, not the name's
		if p == "" {
			// Joined to the list's folder, it read as "… is a folder, not a file".
			bad = append(bad, fmt.Sprintf("%s line %d: the path is empty; row skipped: give the image's path", file, line))
			continue
		}
		rel := !filepath.IsAbs(p)
		if rel {
			p = filepath.Join(dir, p)
		}
		items = append(items, LabelledImage{Path: p, Label: strings.TrimSpace(rec[li]), Line: line, Relative: rel})
	}
	return items, bad, nil
}

// Scorer accumulates accuracy figures: top-1, top-5, log-loss, per-class recall, the
// expected calibration error and the confusion matrix (rows true, columns predicted). Add
// needs a Result holding every label's probability (TopK set to the label count) for
// log-loss.
type Scorer struct {
	Labels    []string
	index     map[string]int
	n         int
	top1      int
	top5      int
	logLoss   float64
	ece       [ECEBins]eceBin
	Confusion [][]int
}

// ECEBins is the number of equal-width bins of the top probability over which the
// expected calibration error is computed (as the training recipe's card computes it).
const ECEBins = 15

// eceBin is one bin of the top probability: the predictions that fell in it, how many
// were right, and the sum of their top probabilities.
type eceBin struct {
	n, right int
	conf     float64
}

// NewScorer returns a scorer over labels (a pack's labels, in output order).
func NewScorer(labels []string) *Scorer {
	s := &Scorer{Labels: labels, index: make(map[string]int, len(labels)), Confusion: make([][]int, len(labels))}
	for i, l := range labels {
		s.index[l] = i
		s.Confusion[i] = make([]int, len(labels))
	}
	return s
}

// Known reports whether label is one the classifier can predict.
func (s *Scorer) Known(label string) bool { _, ok := s.index[label]; return ok }

// probFloor keeps log-loss finite when a model gives the true class zero probability.
const probFloor = 1e-15

// Add scores one prediction against its true label.
func (s *Scorer) Add(trueLabel string, r Result) error {
	t, ok := s.index[trueLabel]
	if !ok {
		return fmt.Errorf("label %q is not one of the pack's labels", trueLabel)
	}
	s.n++
	best := r.Top[0].Index
	s.Confusion[t][best]++
	if best == t {
		s.top1++
	}
	p := 0.0
	for i, pr := range r.Top {
		if pr.Index == t {
			if i < 5 {
				s.top5++
			}
			p = float64(pr.Prob)
			break
		}
	}
	s.logLoss += -math.Log(math.Max(p, probFloor))
	// Bin b holds top probabilities in (b/ECEBins, (b+1)/ECEBins]; a zero one in none.
	if top := float64(r.Top[0].Prob); top > 0 {
		b := min(max(int(math.Ceil(top*ECEBins))-1, 0), ECEBins-1)
		s.ece[b].n++
		s.ece[b].conf += top
		if best == t {
			s.ece[b].right++
		}
	}
	return nil
}

// ClassRecall is one class's recall over its support, with its precision (of the images
// predicted as the class, the share that are) and F1.
type ClassRecall struct {
	Label     string  `json:"label"`
	Support   int     `json:"support"`
	Recall    float64 `json:"recall"`
	Precision float64 `json:"precision"`
	F1        float64 `json:"f1"`
}

// Metrics are the accuracy figures of a Scorer.
type Metrics struct {
	N       int     `json:"n"`
	Top1    float64 `json:"top1"`
	Top5    float64 `json:"top5"`
	LogLoss float64 `json:"logloss"`
	// MacroF1 is the mean F1 of the classes with support, WeightedF1 the mean weighted
	// by support (as the training recipe's pack card computes them).
	MacroF1    float64 `json:"macro_f1"`
	WeightedF1 float64 `json:"weighted_f1"`
	// ECE is the expected calibration error of the top probability: over ECEBins
	// equal-width bins, the share of images in the bin times the gap between its accuracy
	// and its mean top probability.
	ECE    float64       `json:"ece"`
	Recall []ClassRecall `json:"per_class_recall,omitempty"`
}

// Metrics returns the figures so far.
func (s *Scorer) Metrics() Metrics {
	m := Metrics{N: s.n}
	if s.n > 0 {
		m.Top1 = float64(s.top1) / float64(s.n)
		m.Top5 = float64(s.top5) / float64(s.n)
		m.LogLoss = s.logLoss / float64(s.n)
		for _, b := range s.ece {
			if b.n > 0 {
				m.ECE += float64(b.n) / float64(s.n) * math.Abs(float64(b.right)/float64(b.n)-b.conf/float64(b.n))
			}
		}
	}
	for i, l := range s.Labels {
		sup, pred := 0, 0
		for j, c := range s.Confusion[i] {
			sup += c
			pred += s.Confusion[j][i]
		}
		if sup == 0 {
			continue
		}
		tp := float64(s.Confusion[i][i])
		r := ClassRecall{Label: l, Support: sup, Recall: tp / float64(sup)}
		if pred > 0 {
			r.Precision = tp / float64(pred)
		}
		if r.Precision+r.Recall > 0 {
			r.F1 = 2 * r.Precision * r.Recall / (r.Precision + r.Recall)
		}
		m.Recall = append(m.Recall, r)
		m.MacroF1 += r.F1
		m.WeightedF1 += r.F1 * float64(sup)
	}
	if len(m.Recall) > 0 {
		m.MacroF1 /= float64(len(m.Recall))
		m.WeightedF1 /= float64(s.n)
	}
	return m
}

// WriteConfusion writes the confusion matrix as CSV in the pack card's layout: a header
// "true\pred,label...", then one row per true label.
func (s *Scorer) WriteConfusion(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(append([]string{`true\pred`}, s.Labels...))
	row := make([]string, len(s.Labels)+1)
	for i, l := range s.Labels {
		row[0] = l
		for j, c := range s.Confusion[i] {
			row[j+1] = fmt.Sprint(c)
		}
		_ = cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}

// Agreement is the fraction of items where two label sequences agree.
func Agreement(a, b []string) float64 {
	if len(a) == 0 || len(a) != len(b) {
		return 0
	}
	same := 0
	for i := range a {
		if a[i] == b[i] {
			same++
		}
	}
	return float64(same) / float64(len(a))
}

// TrainingSet tells the images a pack was trained on: the rows of its split.csv (the
// recipe's grouped split, shipped with the pack) whose split is "train". An image is
// recognised by its file name and label together, so a copy of a training tile in
// another folder is still known; a pack without split.csv knows none. Measuring a pack
// on images it learned from says little of how it does on new ones, and eval says so.
type TrainingSet struct {
	seen map[[2]string]bool // file name, label
}

// TrainingSet reads the pack's split.csv, when it ships one.
func (p *Pack) TrainingSet() (TrainingSet, error) {
	data, err := p.ReadFile("split.csv")
	if errors.Is(err, fs.ErrNotExist) {
		return TrainingSet{}, nil
	}
	if err != nil {
		return TrainingSet{}, fmt.Errorf("pack %s: split.csv: %w", p.Name, err)
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil || len(rows) == 0 {
		return TrainingSet{}, fmt.Errorf("pack %s (%s): split.csv does not read as a CSV with a header: %v", p.Name, p.Source, err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	pi, okP := col["path"]
	li, okL := col["label"]
	si, okS := col["split"]
	if !okP || !okL || !okS {
		return TrainingSet{}, fmt.Errorf("pack %s (%s): split.csv needs the columns path, label and split; it has %v", p.Name, p.Source, rows[0])
	}
	t := TrainingSet{seen: map[[2]string]bool{}}
	for _, rec := range rows[1:] {
		if len(rec) > max(pi, li, si) && rec[si] == "train" {
			t.seen[[2]string{path.Base(rec[pi]), rec[li]}] = true
		}
	}
	return t, nil
}

// Has reports whether the image at file with label was one the pack trained on.
func (t TrainingSet) Has(file, label string) bool {
	return t.seen[[2]string{filepath.Base(file), label}]
}

// RepeatedRow is a row of a labelled list whose image an earlier row already listed.
type RepeatedRow struct {
	Row, First LabelledImage
}

// Conflicting says the two rows give the image different labels: it cannot be scored
// right under both, so neither eval nor bench scores the later one.
func (r RepeatedRow) Conflicting() bool { return r.Row.Label != r.First.Label }

// Describe says what was done with the row, for the list named list.
func (r RepeatedRow) Describe(list string) string {
	if r.Conflicting() {
		return fmt.Sprintf("%s line %d: %s is listed as %q here and as %q on line %d; this row skipped: fix the list", list, r.Row.Line, r.Row.Path, r.Row.Label, r.First.Label, r.First.Line)
	}
	return fmt.Sprintf("%s line %d: repeats line %d (%s); scored once", list, r.Row.Line, r.First.Line, r.Row.Path)
}

// DistinctRows keeps the first row of each image and returns the later ones apart. An
// image listed twice weighed double in every figure (helper-39: 70 images scored from
// 60); eval and bench both score a list through it, so their figures agree.
func DistinctRows(items []LabelledImage) (kept []LabelledImage, repeats []RepeatedRow) {
	first := make(map[string]LabelledImage, len(items))
	for _, it := range items {
		if f, ok := first[it.Path]; ok {
			repeats = append(repeats, RepeatedRow{Row: it, First: f})
			continue
		}
		first[it.Path] = it
		kept = append(kept, it)
	}
	return kept, repeats
}
