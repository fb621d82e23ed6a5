package vision

import (
	"context"
	"errors"
	"io"

	"github.com/phytoscreen/phytoscreen/capture"
)

// Run reads src to its end, segments every frame with seg and hands the frame and its
// objects to fn; the frame's Mat is closed when fn returns, so fn must copy what it keeps
// (Object.Crop is already Go memory). A frame that cannot be segmented (empty, an
// unsupported pixel format) is reported as StatusSkipped and the run goes on. Run returns
// nil when the source ends normally, and otherwise the reason it ended: the source's
// error (ErrTruncated, ErrCameraLost), the context's, fn's, or a frame the Ignore
// regions cover whole (ErrAllIgnored).
func Run(ctx context.Context, src capture.Source, seg *Segmenter, fn func(capture.Frame, []Object) error) error {
	for {
		f, err := src.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		objs, err := seg.Process(f)
		if errors.Is(err, ErrAllIgnored) {
			f.Mat.Close() // every frame of this size would be refused alike
			return err
		}
		if err != nil {
			capture.Report(seg.opt.OnStatus, capture.Status{Source: src.Name(), Kind: capture.StatusSkipped, Frame: f.Index, Path: pathOf(f, src), Err: err})
			f.Mat.Close()
			continue
		}
		err = fn(f, objs)
		f.Mat.Close()
		if err != nil {
			return err
		}
	}
}

// pathOf names a frame's file when it has its own (a folder's frames), else "".
func pathOf(f capture.Frame, src capture.Source) string {
	if f.Source != src.Name() {
		return f.Source
	}
	return ""
}
