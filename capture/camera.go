package capture

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"gocv.io/x/gocv"
)

// Device is what a camera source reads from: gocv's VideoCapture for a real camera, a
// fake in tests. Read fills m and reports whether a frame came.
type Device interface {
	Read(m *gocv.Mat) bool
	Close() error
}

// Opener opens the camera device; a camera source calls it at the start and on every
// reconnection.
type Opener func() (Device, error)

// CameraOptions tune a camera source. The zero value is a sensible default.
type CameraOptions struct {
	Width, Height int     // requested frame size (the camera may pick the nearest it has); 0 keeps its default
	FPS           float64 // requested frame rate; 0 keeps its default

	// LostAfter is how many reads in a row may fail (no frame, or an empty one) before
	// the camera counts as lost and is reopened (default 5).
	LostAfter int
	// Retry is the first delay before reopening a lost camera (default 250 ms); it
	// doubles at every failed attempt up to RetryMax (default 8 s).
	Retry, RetryMax time.Duration
	// Attempts is how many reopening attempts are made before the source ends with
	// ErrCameraLost (default 12, about a minute; -1 to try until the context ends).
	Attempts int

	OnStatus func(Status) // lost, retrying, reconnected; default LogStatus

	sleep func(ctx context.Context, d time.Duration) error // tests replace the clock
}

func (o CameraOptions) withDefaults() CameraOptions {
	if o.LostAfter <= 0 {
		o.LostAfter = 5
	}
	if o.Retry <= 0 {
		o.Retry = 250 * time.Millisecond
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 8 * time.Second
	}
	if o.Attempts == 0 {
		o.Attempts = 12
	}
	if o.sleep == nil {
		o.sleep = sleepCtx
	}
	return o
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Errors of camera sources, for errors.Is.
var (
	ErrNoCamera   = errors.New("no such camera")
	ErrCameraLost = errors.New("camera lost")
)

// CameraSource reads a live camera. When the camera stops delivering frames (unplugged,
// taken by another program, a driver hiccup) it reports StatusLost, then reopens it with
// exponential backoff, reporting each failed attempt (StatusRetrying) and the recovery
// (StatusReconnected); frame indexes go on from where they were, so nothing already
// counted is lost. Only when every attempt fails does Next return ErrCameraLost.
//
// OpenCV's Read blocks until the driver answers; Next checks the context between reads.
type CameraSource struct {
	name  string
	open  Opener
	opt   CameraOptions
	dev   Device
	fails int
	index int
}

// OpenCamera opens a camera through open. A camera that cannot be opened at the start is
// an error (the wrong index, say), not something to wait for.
func OpenCamera(name string, open Opener, opt CameraOptions) (*CameraSource, error) {
	opt = opt.withDefaults()
	dev, err := open()
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	return &CameraSource{name: name, open: open, opt: opt, dev: dev}, nil
}

// OpenCameraDevice opens a camera by index ("0") or device path ("/dev/video2") with
// OpenCV, asking for the options' frame size and rate.
func OpenCameraDevice(dev string, opt CameraOptions) (*CameraSource, error) {
	name := "camera:" + dev
	return OpenCamera(name, gocvOpener(dev, opt), opt)
}

// gocvOpener opens a V4L2 camera (any backend off Linux) with the requested settings.
func gocvOpener(dev string, opt CameraOptions) Opener {
	return func() (Device, error) {
		path, index := dev, -1
		if n, err := strconv.Atoi(dev); err == nil {
			if n < 0 {
				return nil, fmt.Errorf("%w: camera index %d is negative", ErrNoCamera, n)
			}
			index, path = n, fmt.Sprintf("/dev/video%d", n)
		}
		api := gocv.VideoCaptureAny
		if runtime.GOOS == "linux" {
			api = gocv.VideoCaptureV4L2
			if _, err := os.Stat(path); err != nil {
				return nil, fmt.Errorf("%w: %s does not exist; %s", ErrNoCamera, path, camerasPresent())
			}
		}
		var vc *gocv.VideoCapture
		var err error
		if index >= 0 {
			vc, err = gocv.VideoCaptureDeviceWithAPI(index, api)
		} else {
			vc, err = gocv.VideoCaptureFileWithAPI(path, api)
		}
		if err != nil || !vc.IsOpened() {
			if vc != nil {
				vc.Close()
			}
			return nil, fmt.Errorf("%w: OpenCV cannot open %s: busy (another program has it?) or not a capture device; %s", ErrNoCamera, path, camerasPresent())
		}
		if opt.Width > 0 && opt.Height > 0 {
			// Most USB cameras give large frames at full rate only as MJPG.
			vc.Set(gocv.VideoCaptureFOURCC, vc.ToCodec("MJPG"))
			vc.Set(gocv.VideoCaptureFrameWidth, float64(opt.Width))
			vc.Set(gocv.VideoCaptureFrameHeight, float64(opt.Height))
		}
		if opt.FPS > 0 {
			vc.Set(gocv.VideoCaptureFPS, opt.FPS)
		}
		return vc, nil
	}
}

// camerasPresent lists the video devices of this machine, for error messages.
func camerasPresent() string {
	devs, _ := filepath.Glob("/dev/video*")
	if len(devs) == 0 {
		return "this machine has no /dev/video* device: plug the camera in, or check it with 'v4l2-ctl --list-devices'"
	}
	return "video devices present: " + strings.Join(devs, ", ")
}

// Name returns the camera's name, e.g. "camera:0".
func (s *CameraSource) Name() string { return s.name }

// Live reports that a camera produces frames at its own pace: a pipeline that falls
// behind drops its frames rather than queue them (a file source waits instead).
func (s *CameraSource) Live() bool { return true }

// The screening pipeline drops a live source's frames when it falls behind.
var _ interface{ Live() bool } = (*CameraSource)(nil)

// Next returns the next frame, reconnecting the camera when it was lost.
func (s *CameraSource) Next(ctx context.Context) (Frame, error) {
	for {
		if err := ctx.Err(); err != nil {
			return Frame{}, err
		}
		if s.dev == nil {
			if err := s.reconnect(ctx); err != nil {
				return Frame{}, err
			}
		}
		m := gocv.NewMat()
		if s.dev.Read(&m) && !m.Empty() {
			s.fails = 0
			f := Frame{Index: s.index, Time: time.Now(), Source: s.name, Mat: m}
			s.index++
			return f, nil
		}
		m.Close()
		s.fails++
		if s.fails >= s.opt.LostAfter {
			Report(s.opt.OnStatus, Status{Source: s.name, Kind: StatusLost, Frame: s.index,
				Err: fmt.Errorf("%d reads in a row gave no frame", s.fails)})
			_ = s.dev.Close()
			s.dev, s.fails = nil, 0
		}
	}
}

// reconnect reopens the camera with exponential backoff.
func (s *CameraSource) reconnect(ctx context.Context) error {
	delay := s.opt.Retry
	start := time.Now()
	var last error
	for attempt := 1; s.opt.Attempts < 0 || attempt <= s.opt.Attempts; attempt++ {
		if err := s.opt.sleep(ctx, delay); err != nil {
			return err
		}
		dev, err := s.open()
		if err == nil {
			s.dev = dev
			Report(s.opt.OnStatus, Status{Source: s.name, Kind: StatusReconnected, Frame: s.index, Attempt: attempt})
			return nil
		}
		last = err
		delay = min(2*delay, s.opt.RetryMax)
		Report(s.opt.OnStatus, Status{Source: s.name, Kind: StatusRetrying, Frame: s.index, Attempt: attempt, Wait: delay, Err: err})
	}
	return fmt.Errorf("%s: %w: %d reconnection attempts over %s failed; last: %v", s.name, ErrCameraLost, s.opt.Attempts, time.Since(start).Round(time.Second), last)
}

// Close releases the camera.
func (s *CameraSource) Close() error {
	if s.dev == nil {
		return nil
	}
	err := s.dev.Close()
	s.dev = nil
	return err
}
