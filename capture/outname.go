package capture

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/phytoscreen/phytoscreen/imagefile"
	"github.com/phytoscreen/phytoscreen/outfile"
)

// CheckOutputName refuses an output path (a report, an export) named as an image or a
// video: it is most likely a frame picked by mistake, which the output would replace,
// and a folder run would take a new one for a frame.
func CheckOutputName(path string) error {
	ext := strings.ToLower(filepath.Ext(path))
	if imagefile.IsImageName(path) || slices.Contains(VideoExtensions, ext) {
		return fmt.Errorf("%s is named as a frame (%s): %w; give the output its own name (a .pdf, .csv or .zip)", path, ext, outfile.ErrIsInput)
	}
	return nil
}
