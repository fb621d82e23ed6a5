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
	// Through a link too: the output is written into what it leads to (a link named
	// x.pdf to a frame had the frame replaced by the report, helper-77).
	for _, p := range outfile.Names(path) {
		ext := strings.ToLower(filepath.Ext(p))
		what := ""
		switch {
		case imagefile.IsImageName(p):
			what = "a frame"
		case slices.Contains(VideoExtensions, ext):
			what = "a video"
		default:
			continue
		}
		if p != path {
			return fmt.Errorf("%s links to %s, named as %s: %w; give the output a path of its own", path, p, what, outfile.ErrIsInput)
		}
		return fmt.Errorf("%s is named as %s (%s): %w; give the output its own name", path, what, ext, outfile.ErrIsInput)
	}
	return nil
}
