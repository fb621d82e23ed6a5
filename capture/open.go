package capture

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/phytoscreen/phytoscreen/imagefile"
	"github.com/phytoscreen/phytoscreen/inputfile"
)

// VideoExtensions are the file name extensions (lower case) opened as videos.
var VideoExtensions = []string{".avi", ".mp4", ".mkv", ".mov", ".m4v", ".mjpg", ".mjpeg", ".webm", ".wmv", ".mpg", ".mpeg"}

// OpenOptions are the settings Open passes to the source it makes.
type OpenOptions struct {
	Camera   CameraOptions // for cameras
	OnStatus func(Status)  // events of every source; default LogStatus
	// DemoPath is the demo video's file (KindDemo); the app writes the bundled one there.
	DemoPath string
	// Gray decodes image files to gray only, for a frame path that uses no colour: a
	// JPEG's luma alone is decoded, twice as fast (imagefile.ReadMatGray).
	Gray bool
}

// Open makes the source a spec names:
//
//	demo                           the demo video (OpenOptions.DemoPath), at its frame rate
//	camera:0, camera:/dev/video2   a live camera, by index or device path
//	a folder, cells:FOLDER         its image files, in natural order
//	a video file (.avi, .mp4, ...)  its frames
//	an image file (.jpg, .png, ...) one frame
func Open(spec Spec, opt OpenOptions) (Source, error) {
	switch spec.Kind {
	case KindDemo:
		if opt.DemoPath == "" {
			return nil, fmt.Errorf("source demo: no demo video to play")
		}
		v, err := OpenVideo(opt.DemoPath)
		if err != nil {
			return nil, err
		}
		return NewPaced(v, v.FPS()), nil
	case KindCamera:
		co := opt.Camera
		if co.OnStatus == nil {
			co.OnStatus = opt.OnStatus
		}
		return OpenCameraDevice(spec.Path, co)
	}
	if err := statSource(spec); err != nil {
		return nil, err
	}
	switch spec.Kind {
	case KindFolder, KindCells:
		f, err := OpenFolder(spec.Path, opt.OnStatus)
		if err != nil {
			return nil, err
		}
		f.gray = opt.Gray
		return f, nil
	case KindVideo:
		return OpenVideo(spec.Path)
	case KindImage:
		f, err := OpenImage(spec.Path)
		if err != nil {
			return nil, err
		}
		f.gray = opt.Gray
		return f, nil
	}
	return nil, fmt.Errorf("source %s: unknown kind of source %d", spec.Path, spec.Kind)
}

// Check says what Open would refuse about the file or folder spec names, and whether
// this user may open it, without reading or listing it: a command checks its source
// first, so that a source it cannot screen is said before anything else (the notes on
// its rules came first, then "no such file or folder"), and the real open, once, comes
// later. The demo and cameras pass: opening them is their check.
func Check(spec Spec) error {
	if spec.Kind == KindDemo || spec.Kind == KindCamera {
		return nil
	}
	if err := statSource(spec); err != nil {
		return err
	}
	f, err := os.Open(spec.Path) // open(2) alone: a folder closed to this user fails here
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is said once
		}
		return fmt.Errorf("source %s: %w: give this user read access to it, or copy it where it can be read", spec.Path, err)
	}
	return f.Close()
}

// statSource checks that the file or folder of spec is there and is what its kind
// reads: a folder for a folder source, and not a FIFO or device (which would hold the
// open).
func statSource(spec Spec) error {
	st, err := os.Stat(spec.Path)
	if err != nil {
		if os.IsNotExist(err) {
			return fmt.Errorf("source %s: no such file or folder (a camera is written camera:0)", spec.Path)
		}
		return fmt.Errorf("source %s: %w", spec.Path, err)
	}
	if !st.IsDir() {
		if err := inputfile.CheckInfo(spec.Path, st, 0); err != nil {
			return fmt.Errorf("source: %w", err)
		}
	}
	if !st.IsDir() && (spec.Kind == KindFolder || spec.Kind == KindCells) {
		return fmt.Errorf("source %s: not a folder, an image (%s) or a video (%s)",
			spec.Path, strings.Join(imagefile.Extensions, " "), strings.Join(VideoExtensions, " "))
	}
	return nil
}
