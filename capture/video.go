package capture

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/phytoscreen/phytoscreen/inputfile"
	"gocv.io/x/gocv"
)

// ErrTruncated ends a video that stops before the number of frames its header declares:
// the file was cut short (a copy interrupted, a recording that crashed). The frames read
// until then are good and stay counted.
var ErrTruncated = errors.New("video ends early: the file is truncated or damaged")

// VideoSource reads the frames of a video file through OpenCV (MJPG AVI, and whatever
// codecs the system's FFmpeg brings). Each frame comes at its own size, also in an MJPG
// AVI whose frames change size mid-stream (mjpegSizesVary); the segmenter reports the
// change (StatusSizeChanged).
type VideoSource struct {
	name  string
	vc    *gocv.VideoCapture
	total int     // frames the header declares, 0 when unknown
	fps   float64 // 0 when unknown
	index int
	start time.Time
}

// OpenVideo opens a video file. It fails with a reason a user can act on when the file
// is missing, empty or not a video OpenCV can decode.
func OpenVideo(path string) (*VideoSource, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("open video %s: %w", path, err)
	}
	// A FIFO or device would hold OpenCV's open until something wrote to it.
	if err := inputfile.CheckInfo(path, st, 0); err != nil {
		return nil, fmt.Errorf("open video: %w", err)
	}
	if st.Size() == 0 {
		return nil, fmt.Errorf("open video %s: empty file (0 bytes)", path)
	}
	// FFmpeg first, then OpenCV's own MJPEG reader; not OpenCV's "any backend", which
	// would also try GStreamer and image sequences and print their complaints.
	apis := []gocv.VideoCaptureAPI{gocv.VideoCaptureFFmpeg, gocv.VideoCaptureOpencvMjpeg}
	if mjpegSizesVary(path) {
		// FFmpeg would repeat an older frame in place of each frame of another size.
		slog.Info("video frames change size: decoded with OpenCV's MJPEG reader, each at its own size", "video", path)
		apis = []gocv.VideoCaptureAPI{gocv.VideoCaptureOpencvMjpeg, gocv.VideoCaptureFFmpeg}
	}
	var vc *gocv.VideoCapture
	for _, api := range apis {
		v, err := gocv.VideoCaptureFileWithAPI(path, api)
		if err == nil && v.IsOpened() {
			vc = v
			break
		}
		if v != nil {
			v.Close()
		}
	}
	if vc == nil {
		if codec := aviCodec(path); codec != "" {
			return nil, fmt.Errorf("open video %s: its codec %q (FourCC in the AVI header) is not one this system's OpenCV can decode: convert it to MJPG AVI, e.g. ffmpeg -i %q -c:v mjpeg -q:v 3 out.avi", path, codec, path)
		}
		return nil, fmt.Errorf("open video %s: OpenCV cannot decode it: not a video, damaged, or a codec this system lacks (MJPG AVI always works)", path)
	}
	s := &VideoSource{name: path, vc: vc, start: st.ModTime()}
	if n := vc.Get(gocv.VideoCaptureFrameCount); n > 0 && n < 1e9 {
		s.total = int(n)
	}
	if fps := vc.Get(gocv.VideoCaptureFPS); fps > 0 && fps < 1000 {
		s.fps = fps
	}
	return s, nil
}

// Name returns the file path.
func (s *VideoSource) Name() string { return s.name }

// Frames returns the number of frames the header declares (0 when it does not say).
func (s *VideoSource) Frames() int { return s.total }

// FPS returns the frame rate the header declares (0 when it does not say).
func (s *VideoSource) FPS() float64 { return s.fps }

// Next reads the next frame. At the end of the file it returns io.EOF, or an error
// wrapping ErrTruncated when fewer frames were read than the header declares. A frame's
// time is the file's modification time plus its position in the video.
func (s *VideoSource) Next(ctx context.Context) (Frame, error) {
	if err := ctx.Err(); err != nil {
		return Frame{}, err
	}
	if s.vc == nil {
		return Frame{}, io.EOF
	}
	m := gocv.NewMat()
	if !s.vc.Read(&m) || m.Empty() {
		m.Close()
		if s.total > 0 && s.index < s.total {
			return Frame{}, fmt.Errorf("%s: %w: %d of the %d frames its header declares could be read", s.name, ErrTruncated, s.index, s.total)
		}
		return Frame{}, io.EOF
	}
	t := s.start
	if s.fps > 0 {
		t = t.Add(time.Duration(float64(s.index) / s.fps * float64(time.Second)))
	}
	f := Frame{Index: s.index, Time: t, Source: s.name, Mat: m}
	s.index++
	return f, nil
}

// Close releases the decoder.
func (s *VideoSource) Close() error {
	if s.vc == nil {
		return nil
	}
	err := s.vc.Close()
	s.vc = nil
	return err
}

// aviCodec returns the video stream's FourCC from an AVI file's header ("MJPG", "H264"),
// or "" when the file is not an AVI or has no video stream header: it lets the error for
// a video OpenCV cannot open name the codec, so the user knows what to convert.
func aviCodec(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	head := make([]byte, 64<<10) // the header list comes first and is small
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if len(head) < 12 || string(head[0:4]) != "RIFF" || string(head[8:12]) != "AVI " {
		return ""
	}
	// A stream header is "strh", its size (4 bytes), then fccType ("vids" for video) and
	// fccHandler, the codec.
	for off := 0; ; {
		j := bytes.Index(head[off:], []byte("strh"))
		if j < 0 || off+j+16 > len(head) {
			return ""
		}
		j += off
		if string(head[j+8:j+12]) == "vids" {
			fcc := head[j+12 : j+16]
			for _, b := range fcc {
				if b < 0x20 || b > 0x7e {
					return fmt.Sprintf("0x%x", fcc)
				}
			}
			return strings.TrimRight(string(fcc), " ")
		}
		off = j + 4
	}
}

// VideoFrame returns frame index of the video at path in its own colours (for showing a
// stored object as it was filmed). MJPG AVI seeks exactly; the frame is read whole.
func VideoFrame(path string, index int) (image.Image, error) {
	s, err := OpenVideo(path)
	if err != nil {
		return nil, err
	}
	defer func() { s.Close() }() // the one open at the end: reopened below without exact seeks
	if index > 0 {
		s.vc.Set(gocv.VideoCapturePosFrames, float64(index))
	}
	if pos := int(s.vc.Get(gocv.VideoCapturePosFrames)); pos != index { // no exact seek: read up to it
		s.Close()
		if s, err = OpenVideo(path); err != nil {
			return nil, err
		}
		for range index {
			f, err := s.Next(context.Background())
			if errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("%s has no frame %d", path, index)
			}
			if err != nil {
				return nil, fmt.Errorf("%s: frame %d: %w", path, index, err)
			}
			f.Mat.Close()
		}
	}
	f, err := s.Next(context.Background())
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s has no frame %d", path, index)
	}
	if err != nil {
		return nil, err
	}
	defer f.Mat.Close()
	img, err := f.Mat.ToImage()
	if err != nil {
		return nil, fmt.Errorf("%s: frame %d: %w", path, index, err)
	}
	return img, nil
}
