package quantise

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"image"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/phytoscreen/phytoscreen/imagefile"
	"github.com/phytoscreen/phytoscreen/inference"
)

// LabelsFile is the optional list in a calibration folder that gives its images' true
// labels (columns path and label, paths relative to the folder), as the bundled sample has.
const LabelsFile = "labels.csv"

// calibSet is the calibration images as the pack's model takes them.
type calibSet struct {
	source string
	names  []string
	labels []int // index in the pack's labels, -1 when unknown; nil without a labels.csv
	data   []float32
	gray   []*image.Gray // the first speedCrops images, for the speed runs
	size   int           // values per image
	shape  []int64
}

// speedCrops is how many calibration images the speed runs cycle through.
const speedCrops = 64

// ErrNoImages is returned (wrapped) for a calibration folder without images.
var ErrNoImages = errors.New("no calibration images")

// calibImage is one calibration image: its name (for the speed runs), where it is (for
// messages), how to read its bytes, and its label's index in the pack's labels (-1 when
// unknown).
type calibImage struct {
	name, where string
	read        func() ([]byte, error)
	label       int
}

// folderImages lists up to limit images of fsys (every image file, recursively, in
// natural order, evenly spaced when there are more), labelled from a labels.csv beside
// them when there is one.
func folderImages(fsys fs.FS, source string, limit int, packLabels []string) ([]calibImage, error) {
	names, err := imagefile.ListFS(fsys)
	if err != nil {
		return nil, fmt.Errorf("calibration folder %s: %w", source, err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%w: calibration folder %s holds no image files (%s): give a folder of the pack's kind of cell crops, a few hundred of them, or leave --calibration out to use the pack's bundled sample",
			ErrNoImages, source, strings.Join(imagefile.Extensions, " "))
	}
	if limit > 0 && len(names) > limit {
		picked := make([]string, limit)
		for i := range picked {
			picked[i] = names[i*len(names)/limit]
		}
		names = picked
	}
	labels, err := readCalibLabels(fsys, source, packLabels)
	if err != nil {
		return nil, err
	}
	out := make([]calibImage, len(names))
	for i, n := range names {
		label, ok := labels[n]
		if !ok {
			label = -1
		}
		out[i] = calibImage{name: n, where: path.Join(source, n), read: func() ([]byte, error) { return fs.ReadFile(fsys, n) }, label: label}
	}
	return out, nil
}

// loadCalibration decodes the calibration images and preprocesses them exactly as the
// classifier does for pack p.
func loadCalibration(ctx context.Context, p *inference.Pack, images []calibImage, source string) (*calibSet, error) {
	s := &calibSet{source: source, size: p.InputSize(), shape: []int64{int64(p.Channels()), int64(p.Height()), int64(p.Width())}}
	s.data = make([]float32, 0, len(images)*s.size)
	decode := func(b []byte) (image.Image, error) { return imagefile.DecodeGray(b) }
	if p.Format >= 2 {
		decode = imagefile.DecodeColor
	}
	labelled := false
	// Every image that cannot be read is named at once: three bad images took three runs
	// to find (helper-68).
	var bad []error
	const listed = 10
	for _, im := range images {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b, err := im.read()
		if err != nil {
			bad = append(bad, fmt.Errorf("calibration image %s: %w", im.where, err))
			continue
		}
		img, err := decode(b)
		if err != nil {
			bad = append(bad, fmt.Errorf("calibration image %s: %w: remove it from the calibration images", im.where, err))
			continue
		}
		if len(bad) > 0 {
			continue // the set is refused: only the rest of the bad ones are looked for
		}
		s.data = append(s.data, make([]float32, s.size)...)
		if err := p.Preprocess(s.data[len(s.data)-s.size:], img); err != nil {
			return nil, fmt.Errorf("calibration image %s: %w", im.where, err)
		}
		s.names = append(s.names, im.name)
		s.labels = append(s.labels, im.label)
		labelled = labelled || im.label >= 0
		if len(s.gray) < speedCrops {
			s.gray = append(s.gray, imagefile.ToGray(img))
		}
	}
	if len(bad) > listed {
		bad = append(bad[:listed], fmt.Errorf("and %d more calibration images that cannot be read", len(bad)-listed))
	}
	if err := errors.Join(bad...); err != nil {
		return nil, err
	}
	if !labelled {
		s.labels = nil
	}
	return s, nil
}

// readCalibLabels reads labels.csv when the folder has one: image path -> label index.
func readCalibLabels(fsys fs.FS, source string, packLabels []string) (map[string]int, error) {
	f, err := fsys.Open(LabelsFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path.Join(source, LabelsFile), err)
	}
	defer f.Close()
	index := map[string]int{}
	for i, l := range packLabels {
		index[l] = i
	}
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: read header: %w", path.Join(source, LabelsFile), err)
	}
	pi, li := slices.Index(header, "path"), slices.Index(header, "label")
	if pi < 0 || li < 0 {
		return nil, fmt.Errorf("%s: header %v needs the columns path and label: fix it, or remove the file", path.Join(source, LabelsFile), header)
	}
	out := map[string]int{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path.Join(source, LabelsFile), err)
		}
		if len(rec) <= max(pi, li) {
			continue
		}
		if i, ok := index[strings.TrimSpace(rec[li])]; ok {
			out[path.Clean(rec[pi])] = i
		}
	}
}

// n is the number of images.
func (s *calibSet) n() int { return len(s.names) }

// batch returns images [from, to) and their tensor shape.
func (s *calibSet) batch(from, to int) ([]float32, []int64) {
	return s.data[from*s.size : to*s.size], append([]int64{int64(to - from)}, s.shape...)
}
