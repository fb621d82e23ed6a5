// Package truth holds the ground truth of frames, the objects a person boxed by hand
// (docs/annotation-protocol.md) or a generator placed, and scores what a segmenter found
// against it: one-to-one matches by box overlap, with ignore regions that excuse a
// detection without ever counting as a miss.
package truth

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Object is one boxed thing of a frame.
type Object struct {
	Box    image.Rectangle
	Kind   string // cell, colony, filament, chain, debris ("" on ignore regions)
	Taxon  string
	Border bool // cut by the frame edge
	Ignore bool // a region that excuses detections and is never a miss
	Note   string
}

// Frame is the truth of one frame.
type Frame struct {
	File    string
	Split   string // tune or test: the segmenter is tuned on tune only
	Objects []Object
}

// Real returns the frame's objects that are not ignore regions.
func (f Frame) Real() []Object {
	return slices.DeleteFunc(slices.Clone(f.Objects), func(o Object) bool { return o.Ignore })
}

// ReadCSV reads annotations in the protocol's CSV form (header
// file,split,object,x,y,w,h,kind,taxon,border,ignore,note), frames in file order.
// Errors name the file, the line and the fix.
func ReadCSV(path string) ([]Frame, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(transform.NewReader(f, unicode.BOMOverride(transform.Nop))) // a spreadsheet's UTF-8 BOM
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	want := []string{"file", "split", "object", "x", "y", "w", "h", "kind", "taxon", "border", "ignore", "note"}
	if len(head) < len(want) || !slices.Equal(head[:len(want)], want) {
		return nil, fmt.Errorf("%s: header %q: want %s", path, strings.Join(head, ","), strings.Join(want, ","))
	}
	var frames []Frame
	index := map[string]int{}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return frames, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(rec) < len(want) {
			return nil, fmt.Errorf("%s line %d: %d fields, want %d", path, line, len(rec), len(want))
		}
		i, ok := index[rec[0]]
		if !ok {
			i = len(frames)
			index[rec[0]] = i
			frames = append(frames, Frame{File: rec[0], Split: rec[1]})
		}
		if rec[2] == "0" && rec[3] == "" { // a frame without objects
			continue
		}
		var n [4]int
		for j := range n {
			if n[j], err = strconv.Atoi(rec[3+j]); err != nil {
				return nil, fmt.Errorf("%s line %d: %s %q is not a whole number of pixels", path, line, want[3+j], rec[3+j])
			}
		}
		if n[2] <= 0 || n[3] <= 0 {
			return nil, fmt.Errorf("%s line %d: box %dx%d: width and height must be positive", path, line, n[2], n[3])
		}
		frames[i].Objects = append(frames[i].Objects, Object{
			Box: image.Rect(n[0], n[1], n[0]+n[2], n[1]+n[3]), Kind: rec[7], Taxon: rec[8],
			Border: rec[9] == "1", Ignore: rec[10] == "1", Note: rec[11]})
	}
}

// Oriented maps the frame's boxes, given in the stored pixel order of a w x h image,
// into the image as shown after an EXIF orientation (1 to 8) is applied, as decoders
// that honour the tag (OpenCV's) deliver it.
func (f Frame) Oriented(orientation, w, h int) Frame {
	out := f
	out.Objects = slices.Clone(f.Objects)
	for i := range out.Objects {
		out.Objects[i].Box = orient(out.Objects[i].Box, orientation, w, h)
	}
	return out
}

// orient maps a box of a w x h stored image through EXIF orientation o.
func orient(b image.Rectangle, o, w, h int) image.Rectangle {
	// Corners map to corners; the mapped box is their bounding box.
	pt := func(x, y int) image.Point {
		switch o {
		case 2: // mirrored horizontally
			return image.Pt(w-x, y)
		case 3: // rotated 180
			return image.Pt(w-x, h-y)
		case 4: // mirrored vertically
			return image.Pt(x, h-y)
		case 5: // transposed
			return image.Pt(y, x)
		case 6: // rotated 90 clockwise to display
			return image.Pt(h-y, x)
		case 7: // transversed
			return image.Pt(h-y, w-x)
		case 8: // rotated 90 counter-clockwise to display
			return image.Pt(y, w-x)
		}
		return image.Pt(x, y)
	}
	a, c := pt(b.Min.X, b.Min.Y), pt(b.Max.X, b.Max.Y)
	return image.Rect(a.X, a.Y, c.X, c.Y).Canon()
}

// Score is how well what a segmenter found matches a frame's truth.
type Score struct {
	Truth   int      // real objects
	Found   int      // detections, excused ones included
	Hits    int      // detections matched one to one with a real object
	Excused int      // unmatched detections lying mostly in an ignore region
	Missed  []int    // real objects not found (indexes into Frame.Real())
	Extra   []int    // unmatched, unexcused detections (indexes into found)
	Pairs   [][2]int // matches: index into Frame.Real(), index into found
}

// Recall is the share of real objects found.
func (s Score) Recall() float64 { return ratio(s.Hits, s.Truth) }

// Precision is the share of detections that are real objects, excused ones left out.
func (s Score) Precision() float64 { return ratio(s.Hits, s.Found-s.Excused) }

// CountError is how many more objects were counted than there are (negative: fewer),
// excused detections left out.
func (s Score) CountError() int { return s.Found - s.Excused - s.Truth }

// CountErrors sums up the count error of a set of frames: the mean absolute error per
// frame and how many frames were counted within one object. Both the segmenter's test
// and the annotators' agreement report it, so they must compute it alike.
type CountErrors struct {
	Frames, Within1 int
	absSum          int
}

// Add counts one frame's score.
func (c *CountErrors) Add(s Score) {
	e := s.CountError()
	c.Frames++
	c.absSum += max(e, -e)
	if e >= -1 && e <= 1 {
		c.Within1++
	}
}

// MeanAbs is the mean absolute count error per frame (0 with no frames).
func (c CountErrors) MeanAbs() float64 {
	if c.Frames == 0 {
		return 0
	}
	return float64(c.absSum) / float64(c.Frames)
}

// String reads "mean absolute 2.00 objects; 43 of 65 frames within one".
func (c CountErrors) String() string {
	return fmt.Sprintf("mean absolute %.2f objects; %d of %d frames within one", c.MeanAbs(), c.Within1, c.Frames)
}

// Add sums two scores, for a total over frames (the index lists are not kept).
func (s Score) Add(o Score) Score {
	return Score{Truth: s.Truth + o.Truth, Found: s.Found + o.Found, Hits: s.Hits + o.Hits, Excused: s.Excused + o.Excused}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// ExcuseShare is how much of a detection must lie in ignore regions to be excused.
const ExcuseShare = 0.5

// Match scores found boxes against the frame's truth: detections are matched one to one
// with real objects (MatchBoxes); a detection left unmatched is excused when at least
// ExcuseShare of its area lies in ignore regions.
func (f Frame) Match(found []image.Rectangle, minIoU float64) Score {
	real, ignore := f.Real(), []image.Rectangle{}
	for _, o := range f.Objects {
		if o.Ignore {
			ignore = append(ignore, o.Box)
		}
	}
	boxes := make([]image.Rectangle, len(real))
	for i, o := range real {
		boxes[i] = o.Box
	}
	s := Score{Truth: len(real), Found: len(found)}
	pairs, missed, extra := MatchBoxes(boxes, found, minIoU)
	s.Hits, s.Missed = len(pairs), missed
	for _, p := range pairs {
		s.Pairs = append(s.Pairs, [2]int{p.Truth, p.Found})
	}
	for _, di := range extra {
		if coveredShare(found[di], ignore) >= ExcuseShare {
			s.Excused++
		} else {
			s.Extra = append(s.Extra, di)
		}
	}
	return s
}

// BoxPair is a true box and a found box matched to it.
type BoxPair struct {
	Truth, Found int // indexes into the two lists
	IoU          float64
}

// MatchBoxes pairs found boxes with true ones one to one, best overlap first (the usual
// rule of detection benchmarks): a pair counts when its intersection over union is at
// least minIoU. It returns the pairs, the true boxes left (missed) and the found boxes
// left (extra), each in index order.
func MatchBoxes(truth, found []image.Rectangle, minIoU float64) (pairs []BoxPair, missed, extra []int) {
	var cand []BoxPair
	for ti, t := range truth {
		for fi, f := range found {
			if v := IoU(t, f); v >= minIoU {
				cand = append(cand, BoxPair{ti, fi, v})
			}
		}
	}
	slices.SortStableFunc(cand, func(a, b BoxPair) int { return cmp.Compare(b.IoU, a.IoU) })
	tUsed, fUsed := make([]bool, len(truth)), make([]bool, len(found))
	for _, p := range cand {
		if tUsed[p.Truth] || fUsed[p.Found] {
			continue
		}
		tUsed[p.Truth], fUsed[p.Found] = true, true
		pairs = append(pairs, p)
	}
	for i, u := range tUsed {
		if !u {
			missed = append(missed, i)
		}
	}
	for i, u := range fUsed {
		if !u {
			extra = append(extra, i)
		}
	}
	return pairs, missed, extra
}

// coveredShare is the share of b's pixels inside any of the regions.
func coveredShare(b image.Rectangle, regions []image.Rectangle) float64 {
	area := b.Dx() * b.Dy()
	if area == 0 {
		return 0
	}
	in := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			p := image.Pt(x, y)
			for _, r := range regions {
				if p.In(r) {
					in++
					break
				}
			}
		}
	}
	return float64(in) / float64(area)
}

// IoU is the intersection over union of two boxes (0 when either is empty).
func IoU(a, b image.Rectangle) float64 {
	in := a.Intersect(b)
	if in.Empty() {
		return 0
	}
	i := float64(in.Dx() * in.Dy())
	return i / (float64(a.Dx()*a.Dy()) + float64(b.Dx()*b.Dy()) - i)
}

// SizeClasses name the size classes of RecallBySize, by an object's longer side in
// pixels of the 320x240 frame: the specks just over the protocol's 6 px, small
// particles, and the rest. People boxing the same frames disagree most on the first two
// (TestAnnotatorAgreement), so a recall is read best beside its split by size.
var SizeClasses = [3]string{"6-9 px", "10-19 px", ">= 20 px"}

// sizeClass is the index in SizeClasses of a box.
func sizeClass(b image.Rectangle) int {
	switch side := max(b.Dx(), b.Dy()); {
	case side < 10:
		return 0
	case side < 20:
		return 1
	}
	return 2
}

// BySize counts real objects and those found, per size class.
type BySize struct{ Truth, Hits [3]int }

// Add counts the frame's real objects and the ones s found (s is f.Match's score).
func (b *BySize) Add(f Frame, s Score) {
	missed := map[int]bool{}
	for _, i := range s.Missed {
		missed[i] = true
	}
	for i, o := range f.Real() {
		c := sizeClass(o.Box)
		b.Truth[c]++
		if !missed[i] {
			b.Hits[c]++
		}
	}
}

// String is the recall per class: "6-9 px 0.200 (9 of 45), ...".
func (b BySize) String() string {
	var parts []string
	for c, name := range SizeClasses {
		parts = append(parts, fmt.Sprintf("%s %.3f (%d of %d)", name, ratio(b.Hits[c], b.Truth[c]), b.Hits[c], b.Truth[c]))
	}
	return strings.Join(parts, ", ")
}
