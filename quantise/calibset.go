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

// loadCalibration decodes up to limit images of fsys (every image file, recursively, in
// natural order, evenly spaced when there are more) and preprocesses them exactly as the
// classifier does for pack p. A labels.csv beside them adds their labels.
func loadCalibration(ctx context.Context, p *inference.Pack, fsys fs.FS, source string, limit int) (*calibSet, error) {
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
	s := &calibSet{source: source, size: p.InputSize(), shape: []int64{int64(p.Channels()), int64(p.Height()), int64(p.Width())}}
	s.data = make([]float32, 0, len(names)*s.size)
	decode := func(b []byte) (image.Image, error) { return imagefile.DecodeGray(b) }
	if p.Format >= 2 {
		decode = imagefile.DecodeColor
	}
	for _, n := range names {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("calibration image %s: %w", path.Join(source, n), err)
		}
		img, err := decode(b)
		if err != nil {
			return nil, fmt.Errorf("calibration image %s: %w: remove it from the folder", path.Join(source, n), err)
		}
		s.data = append(s.data, make([]float32, s.size)...)
		if err := p.Preprocess(s.data[len(s.data)-s.size:], img); err != nil {
			return nil, fmt.Errorf("calibration image %s: %w", path.Join(source, n), err)
		}
		s.names = append(s.names, n)
		if len(s.gray) < speedCrops {
			s.gray = append(s.gray, imagefile.ToGray(img))
		}
	}
	labels, err := readCalibLabels(fsys, source, p.Labels)
	if err != nil {
		return nil, err
	}
	if labels != nil {
		s.labels = make([]int, len(s.names))
		for i, n := range s.names {
			l, ok := labels[n]
			if !ok {
				l = -1
			}
			s.labels[i] = l
		}
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
