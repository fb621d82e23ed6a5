package capture

import (
	"fmt"
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
	st, err := os.Stat(spec.Path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("source %s: no such file or folder (a camera is written camera:0)", spec.Path)
		}
		return nil, fmt.Errorf("source %s: %w", spec.Path, err)
	}
	if !st.IsDir() {
		if err := inputfile.CheckInfo(spec.Path, st, 0); err != nil {
			return nil, fmt.Errorf("source: %w", err) // a FIFO or device would hold the open
		}
	}
	switch {
	case st.IsDir() && (spec.Kind == KindFolder || spec.Kind == KindCells):
		f, err := OpenFolder(spec.Path, opt.OnStatus)
		if err != nil {
			return nil, err
		}
		f.gray = opt.Gray
		return f, nil
	case spec.Kind == KindVideo:
		return OpenVideo(spec.Path)
	case spec.Kind == KindImage:
		f, err := OpenImage(spec.Path)
		if err != nil {
			return nil, err
		}
		f.gray = opt.Gray
		return f, nil
	}
	return nil, fmt.Errorf("source %s: not a folder, an image (%s) or a video (%s)",
		spec.Path, strings.Join(imagefile.Extensions, " "), strings.Join(VideoExtensions, " "))
}
