package capture

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/phytoscreen/phytoscreen/imagefile"
)

// VideoExtensions are the file name extensions (lower case) opened as videos.
var VideoExtensions = []string{".avi", ".mp4", ".mkv", ".mov", ".m4v", ".mjpg", ".mjpeg", ".webm", ".wmv", ".mpg", ".mpeg"}

// OpenOptions are the settings Open passes to the source it makes.
type OpenOptions struct {
	Camera   CameraOptions // for camera specs
	OnStatus func(Status)  // events of every source; default LogStatus
}

// Open makes a source from a command-line spec:
//
//	camera:0, camera:/dev/video2   a live camera, by index or device path
//	a folder                       its image files, in natural order
//	a video file (.avi, .mp4, ...)  its frames
//	an image file (.jpg, .png, ...) one frame
func Open(spec string, opt OpenOptions) (Source, error) {
	if dev, ok := strings.CutPrefix(spec, "camera:"); ok {
		if dev == "" {
			return nil, fmt.Errorf("source %q: name the camera, e.g. camera:0 or camera:/dev/video2", spec)
		}
		co := opt.Camera
		if co.OnStatus == nil {
			co.OnStatus = opt.OnStatus
		}
		return OpenCameraDevice(dev, co)
	}
	st, err := os.Stat(spec)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("source %s: no such file or folder (a camera is written camera:0)", spec)
		}
		return nil, fmt.Errorf("source %s: %w", spec, err)
	}
	if st.IsDir() {
		return OpenFolder(spec, opt.OnStatus)
	}
	ext := strings.ToLower(filepath.Ext(spec))
	switch {
	case isVideoExt(ext):
		return OpenVideo(spec)
	case imagefile.IsImageName(spec):
		return OpenImage(spec)
	case strings.HasPrefix(spec, "/dev/video"):
		co := opt.Camera
		if co.OnStatus == nil {
			co.OnStatus = opt.OnStatus
		}
		return OpenCameraDevice(spec, co)
	}
	return nil, fmt.Errorf("source %s: not a folder, an image (%s) or a video (%s)",
		spec, strings.Join(imagefile.Extensions, " "), strings.Join(VideoExtensions, " "))
}

func isVideoExt(ext string) bool {
	for _, e := range VideoExtensions {
		if ext == e {
			return true
		}
	}
	return false
}
