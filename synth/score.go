package synth

import (
	"image"

	"github.com/phytoscreen/phytoscreen/truth"
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

// Evaluate matches found boxes to true cells one to one, best overlap first
// (truth.MatchBoxes): a pair counts when its intersection over union is at least
// minIoU.
func Evaluate(cells []Cell, found []image.Rectangle, minIoU float64) Score {
	boxes := make([]image.Rectangle, len(cells))
	for i, c := range cells {
		boxes[i] = c.Box.Rect()
	}
	pairs, missed, extra := truth.MatchBoxes(boxes, found, minIoU)
	s := Score{Truth: len(cells), Found: len(found), Hits: len(pairs), Missed: missed, Spurious: extra}
	for _, p := range pairs {
		s.Matches = append(s.Matches, Match{p.Truth, p.Found, p.IoU})
	}
	return s
}
