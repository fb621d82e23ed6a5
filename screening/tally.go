package screening

import (
	"encoding/json"
	"fmt"
	"image"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/inference"
)

// Snapshot is the state of a screening run at one moment: what a GUI draws once per
// frame and what the headless command prints. It is a copy: reading it needs no lock.
type Snapshot struct {
	// Version increases with every change; a poller can skip redrawing when it is unchanged.
	Version   uint64            `json:"-"`
	Sample    Sample            `json:"sample"`
	Pack      string            `json:"pack"`
	Variant   inference.Variant `json:"model"`
	Threads   int               `json:"threads,omitempty"`
	Threshold float64           `json:"threshold"`
	// Finder is how objects were found: "thresholds", or with a learned detector
	// (vision.Options.Finder); empty when the segmenter does not say.
	Finder  string        `json:"objects_found_by,omitempty"`
	Started time.Time     `json:"started"`
	Elapsed time.Duration `json:"-"`
	Running bool          `json:"-"`

	Frames FrameStats `json:"frames"`
	// Examined says how much of the source was examined, once the run has ended: the
	// concentrations are on Sample.VolumeML, the volume actually examined.
	Examined Examined `json:"examined"`
	// SoFar is true while a run of a source of known length (a folder, a video) reads
	// it: Sample.VolumeML is then the share of the volume read so far, the
	// concentrations are on it, and a level is entered only once the interval's lower
	// bound reaches its threshold (Pipeline Config.Expected).
	SoFar bool      `json:"volume_so_far,omitempty"`
	Cells CellStats `json:"cells"`
	// Taxa holds every taxon counted at least once, most numerous first.
	Taxa []TaxonCount `json:"taxa"`
	// Groups holds every group of the taxonomy, counted or not.
	Groups []GroupCount `json:"groups"`
	// Unidentified is the count of cells below the confidence threshold, as a
	// concentration; they wait for review.
	Unidentified Concentration `json:"unidentified"`
	// Alerts is the standing of every rule; Events every level change so far.
	Alerts []alerts.State `json:"alerts"`
	Events []alerts.Event `json:"events"`
	// Guessed is, by the model's label, the unidentified objects and the cells in
	// them, for measuring what their review could make of the sample under other rules
	// (WithGuessed); nil when none is unidentified.
	Guessed map[string]Guess `json:"-"`
	// Gaps are the times the source gave no frames (a camera lost and reconnected),
	// oldest first; the last one has no End while it lasts.
	Gaps []Gap `json:"gaps"`
	// LastFrame is the latest segmented frame's objects, for overlays.
	LastFrame FrameView `json:"-"`
	// Err is why the run ended early ("" when it ran to the end or was stopped).
	Err string `json:"error,omitempty"`
}

// FrameStats counts frames. Seen = Segmented + Dropped + (queued while running).
type FrameStats struct {
	Seen      int `json:"seen"`
	Segmented int `json:"segmented"`
	// Dropped frames were skipped before segmentation because classification fell
	// behind a live source.
	Dropped int `json:"dropped"`
	// Failed frames could not be segmented (their reason is logged); Blank counts those
	// of them that showed nothing (vision.ErrBlankFrame: all black, all white). Neither
	// counts as examined.
	Failed int `json:"failed"`
	Blank  int `json:"blank"`
	// Fields counts the fields of the slide seen (1 + the stage moves found).
	Fields int `json:"fields"`
	// Focus is the last frame's sharpness (vision.FrameInfo.Focus); OutOfFocus counts
	// the frames well under the sharpest of their field, Held those whose new cells
	// waited for a sharper frame.
	Focus      float64 `json:"focus"`
	OutOfFocus int     `json:"out_of_focus"`
	Held       int     `json:"held_for_focus"`
	// Oversize counts the objects over vision.MaxShare of their frame that could not
	// be split (a debris cloud, a mat of cells): reported here, and counted as one
	// object each unless their frame was Crowded.
	Oversize int `json:"oversize_objects"`
	// Crowded counts the frames mostly covered by objects (vision.ErrCrowdedFrame: too
	// dense to segment, dilute the sample): of Failed, like Blank; neither their objects
	// nor their volume were counted.
	Crowded int `json:"crowded"`
}

// NoneExaminedWhy says why a run that examined no frame examined none, with the fix,
// when its frames were all refused as crowded or blank ("" otherwise): a folder of a
// bloom's mats is no sample without cells.
func (f FrameStats) NoneExaminedWhy() string {
	frames := func(n int) string {
		if n == 1 {
			return "1 frame was"
		}
		return fmt.Sprintf("%d frames were", n)
	}
	switch {
	case f.Seen == 0 || f.Crowded+f.Blank != f.Seen:
		return ""
	case f.Blank == 0:
		return "every frame was too crowded to segment; dilute the sample (1+9, factor 10) and screen it again"
	case f.Crowded == 0:
		return "every frame was blank; check the lamp, the shutter and the exposure"
	}
	return frames(f.Crowded) + " too crowded to segment (dilute the sample) and " + frames(f.Blank) + " blank (check the lamp)"
}

// Examined is how much of a source a run examined. A file source (a folder, a video)
// knows how many frames it holds; when some were not examined (the run was interrupted,
// files were skipped or unreadable) the cells seen stand for that share of the volume
// only, and the concentrations are computed on it. A camera has no count: the volume
// the technician gave stands.
type Examined struct {
	Expected    int     `json:"frames_expected,omitempty"` // 0: unknown (a camera)
	Frames      int     `json:"frames_examined"`           // read and segmented
	Skipped     int     `json:"files_skipped,omitempty"`   // files the source left out: could not read, or Duplicates
	Duplicates  int     `json:"files_duplicate,omitempty"` // of Skipped, those holding a frame read before (counted once)
	Interrupted bool    `json:"interrupted"`               // stopped before the source's end
	Fraction    float64 `json:"fraction"`                  // Frames / Expected, 1 without Expected
	DeclaredML  float64 `json:"volume_declared_ml"`        // the volume the user gave
}

// Partial reports whether less than the whole source was examined.
func (e Examined) Partial() bool { return e.Fraction < 1 }

// CellStats counts cells (first sightings of tracked objects). When a run has ended,
// Found = Identified + Unidentified + Failed.
type CellStats struct {
	Found        int `json:"found"`
	Identified   int `json:"identified"`
	Unidentified int `json:"unidentified"`
	// Failed cells could not be classified (their reason is in the store).
	Failed int `json:"failed"`
	// Pending cells are found but not yet classified.
	Pending   int     `json:"pending"`
	PerSecond float64 `json:"per_second"`
	// Objects counts every object segmented, including re-sightings of tracked cells.
	Objects int `json:"objects"`
}

// TaxonCount is one taxon's tally.
type TaxonCount struct {
	Taxon
	Concentration
	MeanProb float64      `json:"mean_probability"`
	Level    alerts.Level `json:"level"` // highest level of the rules that watch it alone (RowLevels)
	// CellsEstimate is the number of cells in the objects counted: for a taxon whose
	// unit is a colony, chain or filament, estimated from each object's shape (a
	// colony's cores, a filament's length over its width: vision.Object.Cells); for a
	// taxon counted in cells, the count. An estimate, beside the count of objects, which
	// is what the concentration and the rules use.
	CellsEstimate float64 `json:"cells_estimate"`
	// CellsPerL is the estimated cells per litre, what the alert rules compare
	// (RuleMeasure): cells_per_l of the JSON, the Concentration's, is of objects, one a
	// colony or filament, a name read as cells (helper-72).
	CellsPerL float64 `json:"cells_estimate_per_l"`
	// OversizeCells is the part of CellsEstimate in objects over a tenth of their frame
	// that could not be split (a mat, a debris cloud taken for a colony): an alert in
	// cells that rests on them needs those frames looked at.
	OversizeCells float64 `json:"cells_in_oversize_objects,omitempty"`
	// CellsUnknown counts the objects whose cells nothing estimated (CellsUnknownOf:
	// colonies in single-cell images), each counted one cell.
	CellsUnknown int `json:"objects_cells_unknown,omitempty"`
	// Unchecked: below its levels, and a rule watching it alone could not be checked
	// (UncheckedRows: its cells unknown, or none counted in too little volume): its Alert
	// column reads "unchecked", not blank.
	Unchecked bool `json:"unchecked,omitempty"`
}

// CellsEstimated counts the objects of taxa counted in colonies, chains or filaments
// whose cells were estimated: from their size on a calibrated run, else from their
// shape; all of them but those of unknown cells (single-cell images, which have no
// shape: a note on an uncalibrated run said their cells were "guessed from their shape"
// beside a banner saying they were not estimated at all, helper-50).
func CellsEstimated(taxa []TaxonCount) int {
	n := 0
	for _, x := range taxa {
		if x.Unit != "" && x.Unit != "cell" {
			n += x.Count - x.CellsUnknown
		}
	}
	return n
}

// GroupCount is one group's tally.
type GroupCount struct {
	Group
	Unit string `json:"unit"` // what one object of the group is: cell, chain, colony, filament, or several joined by "/"
	Concentration
	// CellsEstimate is the cells estimated in the group's objects (TaxonCount's).
	CellsEstimate float64 `json:"cells_estimate"`
	// CellsPerL is the estimated cells per litre (TaxonCount's).
	CellsPerL float64      `json:"cells_estimate_per_l"`
	Level     alerts.Level `json:"level"`
	// Unchecked: below its levels, and a rule counting its taxa could not be checked
	// (UncheckedRows).
	Unchecked bool `json:"unchecked,omitempty"`
}

// jsonLevel is a row's "level" in JSON: "unchecked" where no level is reached and a rule
// on the row could not be checked, as the counts CSV and the app's table say it. The
// JSON read "level": "none" beside "unchecked": true, and a script that read the level
// alone took the row for clear.
func jsonLevel(l alerts.Level, unchecked bool) string {
	if unchecked && l == alerts.None {
		return "unchecked"
	}
	return l.String()
}

// MarshalJSON writes the count with its level as jsonLevel says it.
func (x TaxonCount) MarshalJSON() ([]byte, error) {
	type plain TaxonCount // without this method
	return json.Marshal(struct {
		plain
		Level string `json:"level"`
	}{plain(x), jsonLevel(x.Level, x.Unchecked)})
}

// MarshalJSON writes the count with its level as jsonLevel says it.
func (g GroupCount) MarshalJSON() ([]byte, error) {
	type plain GroupCount
	return json.Marshal(struct {
		plain
		Level string `json:"level"`
	}{plain(g), jsonLevel(g.Level, g.Unchecked)})
}

// FrameView is one frame's objects as a GUI overlays them.
type FrameView struct {
	Index   int
	Source  string
	Time    time.Time
	Size    image.Point
	Objects []Overlay
	// Focus is the frame's sharpness; OutOfFocus and Held as in FrameStats.
	Focus      float64
	OutOfFocus bool
	Held       bool
}

// Overlay is one object of a frame with what is known about its track.
type Overlay struct {
	Box   image.Rectangle
	Track int
	New   bool   // first sighting: the object that is counted
	State string // "pending", "identified", "unidentified" or "failed"
	Label string // category once classified: a pack label or Unidentified
	Name  string
	Prob  float32
	key   trackKey
}

// Overlay states.
const (
	StatePending      = "pending"
	StateIdentified   = "identified"
	StateUnidentified = "unidentified"
	StateFailed       = "failed"
)

// cellRec is what the tally keeps of each cell: enough to recount under a new threshold.
type cellRec struct {
	label int32 // index into the pack's labels; -1 failed, -2 pending
	prob  float32
	cells float32 // the cells estimated in the object: its shape's guess (vision.Object.Cells) until classified, then its taxon's estimate (Taxon.Cells)
	// lenUm and areaUm2 are the object's calibrated length and area (0 uncalibrated),
	// from which its taxon's cell size estimates its cells once it is classified.
	lenUm, areaUm2 float32
	// oversize marks an object over vision.MaxShare of its frame that could not be
	// split: its cells are counted, and said to rest on such an object.
	oversize bool
	// noShape marks an object with no shape to guess its cells from (a single-cell image,
	// whole: the pipeline's Finder is vision.FinderCellImages); unknown, once classified,
	// one of a multi-cell unit whose cells nothing estimated (CellsUnknownOf): it counts
	// one cell, a lower bound.
	noShape, unknown bool
}

const (
	recFailed  = -1
	recPending = -2
)

// tally counts cells per label under a confidence threshold. Not safe for concurrent use.
type tally struct {
	threshold   float64
	cells       []cellRec
	counts      []int
	probSum     []float64
	cellsSum    []float64 // estimated cells per label
	unknownSum  []int     // of those objects, the ones whose cells are unknown (cellRec.unknown)
	oversizeSum []float64 // of those, the cells in oversize objects
	taxa        []Taxon   // the pack's taxa, for their cells per unit (nil: the shape's guess)
	// guessCount and guessCells are, per label, the unidentified objects the model
	// guessed as it and the cells estimated in them (guessed).
	guessCount   []int
	guessCells   []float64
	unidentified int
	failed       int
	pending      int
}

func newTally(taxa []Taxon, threshold float64) *tally {
	n := len(taxa)
	return &tally{threshold: threshold, taxa: taxa, counts: make([]int, n), probSum: make([]float64, n), cellsSum: make([]float64, n),
		oversizeSum: make([]float64, n), unknownSum: make([]int, n), guessCount: make([]int, n), guessCells: make([]float64, n)}
}

// add registers a new object, pending classification, with the number of cells its
// shape suggests (1 when unknown), its calibrated length and area, whether it is
// oversize and whether it had no shape at all (a whole single-cell image), and returns
// its index. Only a whole image has no shape: a frame's colony showing no cells is
// guessed at one, a guess the store cannot tell from others afterwards, so History and
// the report would judge it otherwise than the live run.
func (t *tally) add(cells, lengthUm, areaUm2 float64, oversize, noShape bool) int {
	if !(cells >= 1) {
		cells = 1
	}
	t.cells = append(t.cells, cellRec{label: recPending, cells: float32(cells), lenUm: float32(lengthUm), areaUm2: float32(areaUm2), oversize: oversize, noShape: noShape})
	t.pending++
	return len(t.cells) - 1
}

// set records a cell's classification (label < 0: failed).
func (t *tally) set(i int, label int, prob float32) {
	if t.cells[i].label == recPending {
		t.pending--
	}
	if label < 0 {
		t.cells[i] = cellRec{label: recFailed}
		t.failed++
		return
	}
	c := t.cells[i]
	if t.taxa != nil {
		x := t.taxa[label]
		c.cells = float32(x.Cells(float64(c.cells), float64(c.lenUm), float64(c.areaUm2)))
		c.unknown = CellsUnknownOf(x, c.noShape, float64(c.lenUm), float64(c.areaUm2))
	}
	c.label, c.prob = int32(label), prob
	t.cells[i] = c
	t.count(t.cells[i], 1)
}

func (t *tally) count(c cellRec, sign int) {
	if float64(c.prob) < t.threshold {
		t.unidentified += sign
		t.guessCount[c.label] += sign
		t.guessCells[c.label] += float64(sign) * float64(c.cells)
		return
	}
	t.counts[c.label] += sign
	t.probSum[c.label] += float64(sign) * float64(c.prob)
	t.cellsSum[c.label] += float64(sign) * float64(c.cells)
	if c.unknown {
		t.unknownSum[c.label] += sign
	}
	if c.oversize {
		t.oversizeSum[c.label] += float64(sign) * float64(c.cells)
	}
}

// identified reports whether a classification is counted under its label.
func (t *tally) identified(prob float32) bool { return float64(prob) >= t.threshold }

// setThreshold recounts every classified cell under a new threshold.
func (t *tally) setThreshold(th float64) {
	t.threshold = th
	clear(t.counts)
	clear(t.probSum)
	clear(t.cellsSum)
	clear(t.oversizeSum)
	clear(t.unknownSum)
	clear(t.guessCount)
	clear(t.guessCells)
	t.unidentified = 0
	for _, c := range t.cells {
		if c.label >= 0 {
			t.count(c, 1)
		}
	}
}

func (t *tally) identifiedTotal() int { return len(t.cells) - t.unidentified - t.failed - t.pending }

// sum counts the objects of a set of labels, and estimates the cells in them: the
// count for taxa counted in cells, the taxon's estimate (Taxon.Cells) for colonies,
// filaments and chains; unknown, the objects whose cells could not be estimated
// (CellsUnknownOf).
func (t *tally) sum(tx *Taxonomy, labels []string) (objects int, cells, oversize float64, unknown int) {
	for _, l := range labels {
		if x, ok := tx.Lookup(l); ok {
			objects += t.counts[x.Index]
			cells += t.cellsOf(x)
			if x.Unit != "" && x.Unit != "cell" {
				oversize += math.Round(t.oversizeSum[x.Index])
			}
			unknown += t.unknownSum[x.Index]
		}
	}
	return objects, cells, oversize, unknown
}

// Guess is the unidentified objects the model guessed as one label, and the cells
// estimated in them (one each for a taxon counted in cells).
type Guess struct {
	Count int
	Cells float64
}

// guessed is the unidentified objects (classified under the threshold) by the model's
// label, with the cells estimated in them as its label's taxon estimates them: what the
// review could add to each taxon; nil when none is unidentified.
func (t *tally) guessed(tx *Taxonomy) map[string]Guess {
	if t.unidentified == 0 {
		return nil
	}
	out := map[string]Guess{}
	for i, n := range t.guessCount {
		if n == 0 || i >= len(tx.Taxa) {
			continue
		}
		x := tx.Taxa[i]
		g := Guess{Count: n, Cells: float64(n)}
		if x.Unit != "" && x.Unit != "cell" {
			g.Cells = math.Round(t.guessCells[i])
		}
		out[x.Label] = g
	}
	return out
}

// WithGuessed adds to m, a rule's measure of the n objects of its taxa holding cells
// cells, what counting the unidentified objects the model guessed as those taxa (gn
// objects, gc cells) as guessed would make of it (alerts.Measure.IfGuessed), on sample
// sm. The live run, History and the report measure the review's stake alike.
func WithGuessed(m alerts.Measure, sm Sample, n int, cells float64, gn int, gc float64) alerts.Measure {
	if gn == 0 {
		return m
	}
	gc = math.Round(gc)
	g := RuleMeasure(sm.Concentration(n+gn), cells+gc)
	m.Guessed, m.GuessedCells, m.IfGuessed = gn, gc, &g
	return m
}

// GuessedOf sums guessed over labels.
func GuessedOf(guessed map[string]Guess, labels []string) (objects int, cells float64) {
	for _, l := range labels {
		objects += guessed[l].Count
		cells += guessed[l].Cells
	}
	return objects, cells
}

// CellsUnknownOf reports whether an object of taxon x had its cells estimated by nothing:
// x counts a multi-cell unit (colony, filament, chain) without a cells-per-unit, and the
// object had no shape (a single-cell image, whole) and no calibrated size. It then
// counts one cell, a lower bound (alerts.Measure.CellsUnknown). The live run and the
// stored counts (store.TaxonCount.CellsUnknown) judge it alike.
func CellsUnknownOf(x Taxon, noShape bool, lengthUm, areaUm2 float64) bool {
	return noShape && x.Unit != "" && x.Unit != "cell" && x.CellsPerUnit <= 0 && lengthUm <= 0 && areaUm2 <= 0
}

// cellsOf is the estimated cells in the objects counted under taxon x.
func (t *tally) cellsOf(x Taxon) float64 {
	if x.Unit == "" || x.Unit == "cell" {
		return float64(t.counts[x.Index])
	}
	return math.Round(t.cellsSum[x.Index])
}

// fill writes the counts into a snapshot.
func (t *tally) fill(s *Snapshot, tx *Taxonomy, levels func(label string) alerts.Level, groupLevel func(id string) alerts.Level) {
	s.Threshold = t.threshold
	s.Cells.Found = len(t.cells)
	s.Cells.Unidentified = t.unidentified
	s.Cells.Failed = t.failed
	s.Cells.Pending = t.pending
	s.Cells.Identified = t.identifiedTotal()
	s.Unidentified = s.Sample.Concentration(t.unidentified)
	s.Taxa = s.Taxa[:0]
	for i, n := range t.counts {
		if n == 0 {
			continue
		}
		x := tx.Taxa[i]
		cells := t.cellsOf(x)
		c := s.Sample.Concentration(n)
		s.Taxa = append(s.Taxa, TaxonCount{Taxon: x, Concentration: c, MeanProb: t.probSum[i] / float64(n), Level: levels(x.Label),
			CellsEstimate: cells, CellsPerL: RuleMeasure(c, cells).PerL, OversizeCells: math.Round(t.oversizeSum[i]), CellsUnknown: t.unknownSum[i]})
	}
	slices.SortStableFunc(s.Taxa, func(a, b TaxonCount) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Label, b.Label)
	})
	s.Groups = s.Groups[:0]
	for _, g := range tx.Groups {
		members := tx.Members(g.ID)
		var units []string
		for _, l := range members {
			if x, _ := tx.Lookup(l); !slices.Contains(units, x.Unit) {
				units = append(units, x.Unit)
			}
		}
		unit := "cell"
		if len(units) > 0 {
			unit = strings.Join(units, "/")
		}
		n, cells, _, _ := t.sum(tx, members)
		c := s.Sample.Concentration(n)
		s.Groups = append(s.Groups, GroupCount{Group: g, Unit: unit, Concentration: c, CellsEstimate: cells, CellsPerL: RuleMeasure(c, cells).PerL, Level: groupLevel(g.ID)})
	}
}
