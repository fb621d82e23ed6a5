// Package capture gets frames from what the microscope shows: a live camera (with
// reconnection), a video file, a folder of frame images or a single image, each behind
// the Source interface; a source spec type that parses and describes what the user
// names ("camera:0", a path); and the wrappers a run needs (pause, pacing at the
// recorded frame rate). What is in a frame is package vision's job.
package capture

import (
	"context"
	"time"

	"gocv.io/x/gocv"
)

// Frame is one image from a source. Mat is 8-bit BGR or grayscale; whoever receives a
// Frame owns its Mat and must Close it.
type Frame struct {
	Index  int       // 0-based position in the source
	Time   time.Time // when it was captured (or read)
	Source string    // the source's name, e.g. "camera:0" or a file path
	Mat    gocv.Mat
}

// Source yields frames until it ends. Next returns io.EOF when the source has ended
// normally; any other error ends it with that reason.
type Source interface {
	Name() string
	Next(ctx context.Context) (Frame, error)
	Close() error
}
