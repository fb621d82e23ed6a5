package quantise

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"

	"github.com/phytoscreen/phytoscreen/inference"
)

// CalibrationList names calibration images by a labelled list (path,label[,split], as
// `phytoscreen eval` reads it) instead of a folder: the rows of one split of a dataset's
// list, so that a twin is calibrated on training images and measured on the val split.
type CalibrationList struct {
	List string // the CSV
	Root string // the folder its relative paths start from ("": the list's own folder)
	// Split keeps only the rows whose split column equals it ("": every row; the list
	// needs no split column then).
	Split string
}

// CalibrationSeed seeds the sample of a list's rows when it has more than MaxImages: the
// same list gives the same calibration images on every machine.
const CalibrationSeed = 2024

// String names the list on the card.
func (c *CalibrationList) String() string {
	s := c.List
	if c.Split != "" {
		s += " (split " + c.Split + ")"
	}
	return s
}

// listImages reads the rows of the list (of its split) and samples up to limit of them,
// seeded by CalibrationSeed, kept in the list's order. Every row's label must be one of
// packLabels: a list of another pack's classes is another kind of image.
func listImages(c *CalibrationList, limit int, pack string, packLabels []string) ([]calibImage, error) {
	root := c.Root
	if root == "" {
		root = filepath.Dir(c.List)
	}
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("calibration list %s: its image folder %s is not a folder: give the folder its paths start from (--calibration-root)", c.List, root)
	}
	items, err := inference.ReadLabelListFrom(c.List, root, c.Split)
	if err != nil {
		return nil, fmt.Errorf("calibration list: %w: give a CSV with a header row path,label[,split], paths relative to --calibration-root, and --calibration-split naming one of its splits (or empty for every row)", err)
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("%w: calibration list %s has no rows of split %q: check --calibration-split (the training split, never the one the twin is measured on)", ErrNoImages, c.List, c.Split)
	}
	index := make(map[string]int, len(packLabels))
	for i, l := range packLabels {
		index[l] = i
	}
	for _, it := range items {
		if _, ok := index[it.Label]; !ok {
			return nil, fmt.Errorf("calibration list %s line %d: label %q is not one of pack %s's labels: calibrate on the pack's own kind of images (its training list)", c.List, it.Line, it.Label, pack)
		}
	}
	if limit > 0 && len(items) > limit {
		keep := rand.New(rand.NewPCG(CalibrationSeed, 0)).Perm(len(items))[:limit]
		slices.Sort(keep)
		picked := make([]inference.LabelledImage, limit)
		for i, k := range keep {
			picked[i] = items[k]
		}
		items = picked
	}
	out := make([]calibImage, len(items))
	for i, it := range items {
		name, err := filepath.Rel(root, it.Path)
		if err != nil {
			name = it.Path
		}
		where := fmt.Sprintf("%s (%s line %d)", it.Path, c.List, it.Line)
		out[i] = calibImage{name: filepath.ToSlash(name), where: where, read: func() ([]byte, error) { return os.ReadFile(it.Path) }, label: index[it.Label]}
	}
	return out, nil
}

// sameRows says whether the calibration list's rows are the ones the twin is measured on
// (the same file, and the same split or no split filter on either side).
func (c *CalibrationList) sameRows(labels, split string) bool {
	if labels == "" {
		return false
	}
	a, errA := os.Stat(c.List)
	b, errB := os.Stat(labels)
	if errors.Join(errA, errB) != nil || !os.SameFile(a, b) {
		return false
	}
	return c.Split == split || c.Split == "" || split == ""
}
