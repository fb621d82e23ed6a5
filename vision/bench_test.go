package vision

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/capture"

	"github.com/phytoscreen/phytoscreen/synth"
	"gocv.io/x/gocv"
)

// BenchmarkSegment measures Segmenter.Process (background, threshold, contours, features,
// crops, motion and tracking) per frame on generated brightfield frames at two camera
// sizes, on one core: run it with GOMAXPROCS=1; it sets OpenCV to one thread itself. It
// reports the median as ms/frame-median besides Go's mean ns/op. Goal: 15 ms at
// 1920x1080 and 40 ms at 2592x1944, so a 30 fps camera is segmented as it streams.
func BenchmarkSegment(b *testing.B) {
	SetOpenCVThreads(1)
	defer SetOpenCVThreads(0)
	for _, c := range []struct {
		w, h  int
		scale float64
	}{{1920, 1080, 1}, {2592, 1944, 1.5}} {
		b.Run(fmt.Sprintf("%dx%d", c.w, c.h), func(b *testing.B) {
			frames := benchFrames(b, c.w, c.h, c.scale, 4)
			defer func() {
				for _, f := range frames {
					f.Mat.Close()
				}
			}()
			seg, err := NewSegmenter(Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer seg.Close()
			times := make([]time.Duration, 0, b.N)
			objects := 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				f := frames[i%len(frames)]
				f.Index = i
				start := time.Now()
				objs, err := seg.Process(f)
				times = append(times, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				objects += len(objs)
			}
			b.StopTimer()
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "ms/frame-median")
			b.ReportMetric(float64(objects)/float64(b.N), "objects/frame")
		})
	}
}

// benchFrames renders n frames of one generated field (a still slide: the same cells,
// fresh sensor noise) as BGR Mats.
func benchFrames(tb testing.TB, w, h int, scale float64, n int) []capture.Frame {
	tb.Helper()
	lib, err := synth.DefaultLibrary()
	if err != nil {
		tb.Fatal(err)
	}
	g, err := synth.New(lib, synth.Options{Width: w, Height: h, Scale: scale, Cells: 20, Seed: 11})
	if err != nil {
		tb.Fatal(err)
	}
	field, err := g.NewField()
	if err != nil {
		tb.Fatal(err)
	}
	frames := make([]capture.Frame, n)
	bgr := make([]byte, 3*w*h)
	for i := range frames {
		synth.RGBAToBGR(bgr, g.Render(field))
		m, err := gocv.NewMatFromBytes(h, w, gocv.MatTypeCV8UC3, bgr)
		if err != nil {
			tb.Fatal(err)
		}
		frames[i] = capture.Frame{Index: i, Source: "synth", Mat: m.Clone()}
		m.Close()
	}
	return frames
}
