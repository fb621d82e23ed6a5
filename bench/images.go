package bench

import (
	"fmt"
	"image"
	"io/fs"

	"github.com/phytoscreen/phytoscreen/imagefile"
)

// Crops are the cell images a benchmark classifies, decoded before measuring: in the app
// crops reach the classifier in memory from segmentation, so file decoding is not part of
// the measured pipeline.
type Crops struct {
	Source string // where they came from, for the report
	Images []*image.Gray
	Names  []string
}

// LoadFS decodes every image file of fsys (the bundled samples: assets.Samples()), in
// natural path order. A file that cannot be decoded is an error naming it.
func LoadFS(fsys fs.FS, source string) (*Crops, error) {
	names, err := imagefile.ListFS(fsys)
	if err != nil {
		return nil, fmt.Errorf("list images in %s: %w", source, err)
	}
	c := &Crops{Source: source}
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("read %s/%s: %w", source, n, err)
		}
		img, err := imagefile.Decode(b)
		if err != nil {
			return nil, fmt.Errorf("decode %s/%s: %w", source, n, err)
		}
		c.Images = append(c.Images, imagefile.ToGray(img))
		c.Names = append(c.Names, n)
	}
	if len(c.Images) == 0 {
		return nil, fmt.Errorf("%s holds no images (%v)", source, imagefile.Extensions)
	}
	return c, nil
}

// LoadDir decodes the images of a folder (recursively). Files that cannot be decoded are
// returned as problems and left out; no image at all is an error.
func LoadDir(dir string) (*Crops, []imagefile.Problem, error) {
	files, problems := imagefile.Collect([]string{dir})
	c := &Crops{Source: dir}
	for _, f := range files {
		img, err := imagefile.ReadGray(f)
		if err != nil {
			problems = append(problems, imagefile.Problem{Path: f, Err: err})
			continue
		}
		c.Images = append(c.Images, img)
		c.Names = append(c.Names, f)
	}
	if len(c.Images) == 0 {
		return nil, problems, fmt.Errorf("--images %s: no readable image (%d problems): give a folder of cell crops (%v)", dir, len(problems), imagefile.Extensions)
	}
	return c, problems, nil
}
