package synth

import (
	"cmp"
	"image"
	"slices"
)

// Match pairs a ground-truth cell with a found box.
type Match struct {
	Truth, Found int // indexes into the truth and found lists
	IoU          float64
}

// Score is how well a list of found boxes matches a frame's ground truth.
type Score struct {
	Truth, Found, Hits int
	Matches            []Match
	Missed             []int // truth indexes with no match
	Spurious           []int // found indexes with no match
}

// Recall is the share of true cells found.
func (s Score) Recall() float64 { return ratio(s.Hits, s.Truth) }

// Precision is the share of found boxes that are true cells.
func (s Score) Precision() float64 { return ratio(s.Hits, s.Found) }

// Add sums two scores (for a total over frames); the index lists are not kept.
func (s Score) Add(o Score) Score {
	return Score{Truth: s.Truth + o.Truth, Found: s.Found + o.Found, Hits: s.Hits + o.Hits}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// Evaluate matches found boxes to true cells one to one, best overlap first (the usual
// rule of detection benchmarks): a pair counts when its intersection over union is at
// least minIoU.
func Evaluate(truth []Cell, found []image.Rectangle, minIoU float64) Score {
	var cand []Match
	for ti, c := range truth {
		tb := c.Box.Rect()
		for fi, f := range found {
			if v := iou(tb, f); v >= minIoU {
				cand = append(cand, Match{ti, fi, v})
			}
		}
	}
	slices.SortStableFunc(cand, func(a, b Match) int { return cmp.Compare(b.IoU, a.IoU) }) // best first
	s := Score{Truth: len(truth), Found: len(found)}
	tUsed, fUsed := make([]bool, len(truth)), make([]bool, len(found))
	for _, m := range cand {
		if tUsed[m.Truth] || fUsed[m.Found] {
			continue
		}
		tUsed[m.Truth], fUsed[m.Found] = true, true
		s.Matches = append(s.Matches, m)
	}
	s.Hits = len(s.Matches)
	for i, u := range tUsed {
		if !u {
			s.Missed = append(s.Missed, i)
		}
	}
	for i, u := range fUsed {
		if !u {
			s.Spurious = append(s.Spurious, i)
		}
	}
	return s
}

func iou(a, b image.Rectangle) float64 {
	in := a.Intersect(b)
	if in.Empty() {
		return 0
	}
	i := float64(in.Dx() * in.Dy())
	return i / (float64(a.Dx()*a.Dy()+b.Dx()*b.Dy()) - i)
}
