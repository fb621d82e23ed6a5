package quantise

import (
	"fmt"
	"io/fs"
	"os"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/inference"
)

// CalibrationSource picks the calibration images: the folder given, else the pack's
// bundled sample (its calibration/ subfolder, or the bundled NDSB val sample for the
// default pack). It returns the images and how to name them on the card.
func CalibrationSource(p *inference.Pack, dir string) (fs.FS, string, error) {
	if dir != "" {
		fi, err := os.Stat(dir)
		if err != nil {
			return nil, "", fmt.Errorf("calibration folder %s: %w", dir, err)
		}
		if !fi.IsDir() {
			return nil, "", fmt.Errorf("calibration %s is not a folder: give a folder of cell images", dir)
		}
		return os.DirFS(dir), dir, nil
	}
	if fi, err := fs.Stat(p.FS(), "calibration"); err == nil && fi.IsDir() {
		if sub, err := fs.Sub(p.FS(), "calibration"); err == nil {
			return sub, p.Source + "/calibration", nil
		}
	}
	if p.Name == assets.DefaultPackName {
		return assets.Samples(), "the bundled sample (387 NDSB val images)", nil
	}
	return nil, "", fmt.Errorf("pack %s has no bundled calibration sample: give a folder of its kind of cell images (--calibration, or the calibration folder in Settings)", p.Source)
}

// HasBundledCalibration says whether CalibrationSource finds images without a folder.
func HasBundledCalibration(p *inference.Pack) bool {
	_, _, err := CalibrationSource(p, "")
	return err == nil
}
