package main

import (
	"encoding/json"
	"fmt"
	"image"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/imagefile"
	"github.com/phytoscreen/phytoscreen/internal/testutil"
	"github.com/phytoscreen/phytoscreen/synth"
	"github.com/phytoscreen/phytoscreen/vision"
)

// A video recorded while the camera switched resolution (640x480, 800x600, then 640x480
// again: three fields of NDSB cells, three frames each) is screened field by field:
// `screen` counts the cells the segmenter finds in the frames themselves, decoded one by
// one from their JPEGs, and reports both size changes. Before, the 800x600 frames came
// back as repeats of the last 640x480 one: that field's cells were never counted.
func TestScreenVideoFramesChangeSize(t *testing.T) {
	sizes := []image.Point{{640, 480}, {800, 600}, {640, 480}}
	const per = 3
	lib, err := synth.DefaultLibrary()
	if err != nil {
		t.Fatal(err)
	}
	frames, err := synth.JPEGFields(lib, sizes, per, 21)
	if err != nil {
		t.Fatal(err)
	}
	video := filepath.Join(t.TempDir(), "resolution switch.avi")
	if err := testutil.WriteMJPGAVI(video, frames, 640, 480, 10); err != nil {
		t.Fatal(err)
	}

	// What the segmenter finds in the frames as they are, field by field.
	seg, err := vision.NewSegmenter(vision.Options{OnStatus: func(capture.Status) {}})
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	perField := make([]int, len(sizes))
	for i, data := range frames {
		m, err := imagefile.DecodeMat(data)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := seg.Process(capture.Frame{Index: i, Source: "frames", Mat: m})
		m.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			if o.New {
				perField[i/per]++
			}
		}
	}
	want := 0
	for k, n := range perField {
		if n == 0 {
			t.Fatalf("field %d (%v): the segmenter finds no cell: the test would prove nothing", k, sizes[k])
		}
		want += n
	}

	code, stdout, stderr := run(t, "screen", "--source", video, "--db", filepath.Join(t.TempDir(), "s.db"), "--format", "json")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	var res screenJSON
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	t.Logf("%d frames, %d cells counted; in the frames themselves: %v per field", res.Frames.Seen, res.Cells.Found, perField)
	if res.Frames.Seen != len(frames) || res.Cells.Found != want {
		t.Errorf("%d frames, %d cells counted; want %d frames and the %d cells of the frames (%v per field)", res.Frames.Seen, res.Cells.Found, len(frames), want, perField)
	}
	for _, f := range []int{per, 2 * per} {
		line := fmt.Sprintf("size changed at frame %d: frame is %dx%d, the stream so far was %dx%d", f, sizes[f/per].X, sizes[f/per].Y, sizes[f/per-1].X, sizes[f/per-1].Y)
		if !strings.Contains(stderr, line) {
			t.Errorf("stderr does not say %q:\n%s", line, stderr)
		}
	}
	for _, l := range strings.Split(stderr, "\n") {
		if strings.Contains(l, "size changed") {
			t.Log(l)
		}
	}
}
