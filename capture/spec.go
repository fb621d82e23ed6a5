package capture

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/phytoscreen/phytoscreen/imagefile"
)

// Kind says what a source is, which decides how it is read (live or at its own pace),
// how its frames are segmented and whether a run has a known length.
type Kind int

// Kinds of source.
const (
	KindDemo   Kind = iota + 1 // the bundled demo video, played at its recorded rate (0 is no source)
	KindCamera                 // a live camera
	KindVideo                  // a video file
	KindFolder                 // a folder of whole frames, each with many cells
	KindCells                  // a folder of single-cell images: each image is one cell
	KindImage                  // one image file: one frame
)

// Spec names a source as the user wrote it: "demo", "camera:0", "camera:/dev/video2",
// "cells:DIR" (a folder of single-cell images), or the path of a video, an image or a
// folder of frames. ParseSpec reads it; String writes it back.
type Spec struct {
	Kind Kind
	// Path is the file or folder, or the camera's index or device path ("0",
	// "/dev/video2"); empty for the demo.
	Path string
}

// Prefixes of the spec forms that are not plain paths.
const (
	demoSpec     = "demo"
	cameraPrefix = "camera:"
	cellsPrefix  = "cells:"
)

// Demo is the spec of the bundled demo video.
var Demo = Spec{Kind: KindDemo}

// Camera returns the spec of a camera by index ("0") or device path ("/dev/video2").
func Camera(dev string) Spec { return Spec{Kind: KindCamera, Path: dev} }

// Cells returns the spec of a folder of single-cell images.
func Cells(dir string) Spec { return Spec{Kind: KindCells, Path: dir} }

// ParseSpec reads a source spec. It looks at the text only (a path is classed by its
// extension: a video, an image, else a folder); Open finds out whether it exists.
func ParseSpec(s string) (Spec, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return Spec{}, fmt.Errorf("no source: name a camera (camera:0), a video, a folder of frames or an image")
	case s == demoSpec:
		return Demo, nil
	case strings.HasPrefix(s, cameraPrefix):
		dev := strings.TrimPrefix(s, cameraPrefix)
		if dev == "" {
			return Spec{}, fmt.Errorf("source %q: name the camera, e.g. camera:0 or camera:/dev/video2", s)
		}
		return Camera(dev), nil
	case strings.HasPrefix(s, cellsPrefix):
		dir := strings.TrimPrefix(s, cellsPrefix)
		if dir == "" {
			return Spec{}, fmt.Errorf("source %q: name the folder of single-cell images, e.g. cells:/data/crops", s)
		}
		return Cells(dir), nil
	case strings.HasPrefix(s, "/dev/video"):
		return Camera(s), nil
	}
	switch ext := strings.ToLower(filepath.Ext(s)); {
	case slices.Contains(VideoExtensions, ext):
		return Spec{Kind: KindVideo, Path: s}, nil
	case imagefile.IsImageName(s):
		return Spec{Kind: KindImage, Path: s}, nil
	}
	return Spec{Kind: KindFolder, Path: s}, nil
}

// MustParseSpec is ParseSpec for specs known to be valid (tests, constants).
func MustParseSpec(s string) Spec {
	sp, err := ParseSpec(s)
	if err != nil {
		panic(err)
	}
	return sp
}

// String writes the spec as ParseSpec reads it.
func (s Spec) String() string {
	switch s.Kind {
	case KindDemo:
		return demoSpec
	case KindCamera:
		return cameraPrefix + s.Path
	case KindCells:
		return cellsPrefix + s.Path
	}
	return s.Path
}

// Describe names the source for people: "the bundled demo video", "camera 0",
// "frames-0612" (a file or folder's base name).
func (s Spec) Describe() string {
	switch s.Kind {
	case KindDemo:
		return "the bundled demo video"
	case KindCamera:
		return "camera " + s.Path
	}
	return filepath.Base(s.Path)
}

// Absolute is the spec with its file or folder made absolute and its links resolved,
// so that the runs stored from it name their frames whatever folder the command ran in
// (two "frames" folders of two days are not taken for one, and a link to a folder is
// that folder: its images are listed, and a run of it is known as a run of the folder).
// A path that does not exist is only made absolute: opening it says what is wrong. A
// camera and the demo are returned as they are.
func (s Spec) Absolute() (Spec, error) {
	switch s.Kind {
	case KindVideo, KindFolder, KindImage, KindCells:
		p, err := filepath.Abs(s.Path)
		if err != nil {
			return s, fmt.Errorf("source %s: %w", s.Path, err)
		}
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		s.Path = p
	}
	return s, nil
}

// SharesFrames reports whether two sources share frames: the same spec, or files and
// folders one of which holds the other (a folder is read with its subfolders). Paths are
// compared as given: make them Absolute first.
func (s Spec) SharesFrames(o Spec) bool {
	if s == o {
		return true
	}
	files := func(k Kind) bool { return k == KindFolder || k == KindImage || k == KindCells }
	if !files(s.Kind) || !files(o.Kind) {
		return false // a camera, the demo, a video: only the same one
	}
	inside := func(p, dir string) bool {
		return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, string(filepath.Separator))+string(filepath.Separator))
	}
	return inside(s.Path, o.Path) || inside(o.Path, s.Path)
}

// IsZero reports whether the spec names nothing.
func (s Spec) IsZero() bool { return s == Spec{} }

// Live reports whether frames come at the source's own pace whether or not they are read
// (a camera): a run that falls behind drops them rather than queueing them.
func (s Spec) Live() bool { return s.Kind == KindCamera }

// Stream reports whether the frames are a sequence of one scene (a camera or a video),
// in which a cell is seen in several frames and tracked, rather than separate images.
func (s Spec) Stream() bool {
	return s.Kind == KindDemo || s.Kind == KindCamera || s.Kind == KindVideo
}

// Files reports whether the source is a folder of image files with a known count (the
// run can show progress).
func (s Spec) Files() bool { return s.Kind == KindFolder || s.Kind == KindCells }
