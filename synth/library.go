package synth

import (
	"encoding/csv"
	"errors"
	"fmt"
	"image"
	"io"
	"io/fs"
	"math"
	"slices"
	"strings"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/imagefile"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// VisibleContrast is how much darker than the white surround a sample pixel must be to
// count as part of the object: 10%, about ten times the sensor noise of a generated frame
// at its darkest corner. The ground-truth box of a cell is the box of these pixels.
const VisibleContrast = 0.10

// MinVisiblePixels is how many visible pixels a sample needs to be placed at all. A few
// NDSB crops (faint diatom chain strings) have almost nothing darker than 10% below
// white: a person would not see them on a microscope frame either, so a generator that
// placed them would be writing ground truth nobody could meet.
const MinVisiblePixels = 16

// Sample is one real single-cell image that the generator places on frames.
type Sample struct {
	Path   string          // path within the sample set, e.g. "protist_noctiluca/4909.jpg"
	Label  string          // its class
	Img    *image.Gray     // the crop: dark object on a white surround
	Object image.Rectangle // tight box of the visible object within Img
}

// Library is a set of real single-cell images grouped by class.
type Library struct {
	samples []Sample
	byLabel map[string][]int
	skipped []string
}

// DefaultLibrary loads the sample images built into phytoscreen (assets.Samples: 387
// NDSB val images in 121 classes).
func DefaultLibrary() (*Library, error) { return LoadLibrary(assets.Samples()) }

// LoadLibrary reads labels.csv (path,label[,split]) from fsys and decodes every image it
// lists. Samples too faint to see (fewer than MinVisiblePixels visible pixels) are left
// out and listed by Skipped.
func LoadLibrary(fsys fs.FS) (*Library, error) {
	f, err := fsys.Open("labels.csv")
	if err != nil {
		return nil, fmt.Errorf("sample library: %w (a library folder needs labels.csv with path,label columns)", err)
	}
	defer f.Close()
	r := csv.NewReader(transform.NewReader(f, unicode.BOMOverride(transform.Nop))) // a spreadsheet's UTF-8 BOM
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("sample library: read labels.csv header: %w", err)
	}
	pathCol, labelCol := slices.Index(head, "path"), slices.Index(head, "label")
	if pathCol < 0 || labelCol < 0 {
		return nil, fmt.Errorf("sample library: labels.csv header %q lacks the path and label columns", strings.Join(head, ","))
	}
	lib := &Library{byLabel: map[string][]int{}}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("sample library: labels.csv line %d: %w", line, err)
		}
		if len(rec) <= max(pathCol, labelCol) {
			return nil, fmt.Errorf("sample library: labels.csv line %d has %d fields, want at least %d", line, len(rec), max(pathCol, labelCol)+1)
		}
		path, label := rec[pathCol], rec[labelCol]
		data, err := fs.ReadFile(fsys, path)
		if err != nil {
			return nil, fmt.Errorf("sample library: labels.csv line %d: %w", line, err)
		}
		img, err := imagefile.Decode(data)
		if err != nil {
			return nil, fmt.Errorf("sample library: decode %s: %w", path, err)
		}
		gray := imagefile.ToGray(img)
		obj, n := visibleBox(gray)
		if n < MinVisiblePixels {
			lib.skipped = append(lib.skipped, fmt.Sprintf("%s: only %d pixels at least %.0f%% darker than white", path, n, 100*VisibleContrast))
			continue
		}
		lib.byLabel[label] = append(lib.byLabel[label], len(lib.samples))
		lib.samples = append(lib.samples, Sample{Path: path, Label: label, Img: gray, Object: obj})
	}
	if len(lib.samples) == 0 {
		return nil, fmt.Errorf("sample library: labels.csv lists no usable image")
	}
	return lib, nil
}

// visibleBox returns the bounding box of the pixels at least VisibleContrast darker than
// white, and how many there are.
func visibleBox(g *image.Gray) (image.Rectangle, int) {
	limit := uint8(math.Floor(255 * (1 - VisibleContrast))) // 229
	b := g.Rect
	box := image.Rectangle{}
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := g.Pix[g.PixOffset(b.Min.X, y):g.PixOffset(b.Max.X, y)]
		for i, v := range row {
			if v > limit {
				continue
			}
			n++
			p := image.Rect(b.Min.X+i, y, b.Min.X+i+1, y+1)
			if box.Empty() {
				box = p
			} else {
				box = box.Union(p)
			}
		}
	}
	return box, n
}

// Len returns the number of usable samples.
func (l *Library) Len() int { return len(l.samples) }

// Sample returns sample i (0 <= i < Len).
func (l *Library) Sample(i int) Sample { return l.samples[i] }

// Labels returns the classes in the library, sorted.
func (l *Library) Labels() []string {
	ls := make([]string, 0, len(l.byLabel))
	for k := range l.byLabel {
		ls = append(ls, k)
	}
	slices.Sort(ls)
	return ls
}

// Count returns how many usable samples a class has.
func (l *Library) Count(label string) int { return len(l.byLabel[label]) }

// Skipped lists the samples left out as too faint to see, with the reason.
func (l *Library) Skipped() []string { return slices.Clone(l.skipped) }
