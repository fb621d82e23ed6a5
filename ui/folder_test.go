package ui

import (
	"context"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/power"
	"github.com/phytoscreen/phytoscreen/screening"
)

// cellFolder copies n real NDSB cell images from the bundled samples into a new folder,
// with a text file and an empty .png beside them (both must be skipped, not fatal).
func cellFolder(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	copied := 0
	err := fs.WalkDir(assets.Samples(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".jpg") && !strings.HasSuffix(p, ".png") || copied == n {
			return err
		}
		b, err := fs.ReadFile(assets.Samples(), p)
		if err != nil {
			return err
		}
		copied++
		return os.WriteFile(filepath.Join(dir, filepath.Base(p)), b, 0o644)
	})
	if err != nil || copied != n {
		t.Fatalf("copied %d of %d sample images: %v", copied, n, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("field notes"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "zz-broken.png"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestSurveyFolder(t *testing.T) {
	cells := cellFolder(t, 8)
	s, err := SurveyFolder(cells)
	if err != nil {
		t.Fatal(err)
	}
	if s.Kind != KindCells || len(s.Files) != 9 || s.Median.X == 0 {
		t.Errorf("cell folder: kind %v, %d files, median %v", s.Kind, len(s.Files), s.Median)
	}
	frames := t.TempDir()
	for i := range 3 {
		img := image.NewGray(image.Rect(0, 0, 1280, 960))
		for j := range img.Pix {
			img.Pix[j] = 200
		}
		f, err := os.Create(filepath.Join(frames, "frame-"+string(rune('1'+i))+".png"))
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	s, err = SurveyFolder(frames)
	if err != nil || s.Kind != KindFrames || s.Median != image.Pt(1280, 960) {
		t.Errorf("frame folder: %+v, %v", s, err)
	}
	empty := t.TempDir()
	if _, err := SurveyFolder(empty); err == nil || !strings.Contains(err.Error(), "holds no images") || !strings.Contains(err.Error(), ".png") {
		t.Errorf("empty folder: %v", err)
	}
}

// TestFolderOfCellImages screens a real folder through capture's folder source and the
// single-cell segmenter: every readable image is one cell, the broken one is skipped and
// said so, and the progress bar follows.
func TestFolderOfCellImages(t *testing.T) {
	dir := cellFolder(t, 12)
	h := newHarness(t, nil, func(d *Deps) {
		d.OpenSource = func(ctx context.Context, spec string, kind SourceKind, s Settings, onStatus func(capture.Status)) (capture.Source, error) {
			return openSource(ctx, spec, kind, s, t.TempDir(), onStatus)
		}
		d.NewSegmenter = CaptureSegmenter
	})
	h.clf.anyCrop = true
	h.a.sample.ID.SetText("S-FOLDER")
	h.a.startSource(cellsPrefix+dir, KindCells)
	h.pump("the progress bar", 10*time.Second, func() bool { return h.a.progressBox.Visible() || h.a.sess == nil })
	if h.a.progress.Max != 13 {
		t.Errorf("progress max %v, want 13 image files", h.a.progress.Max)
	}
	h.waitIdle()
	s := h.a.lastSnap
	if s.Cells.Found != 12 || s.Frames.Segmented != 12 {
		t.Errorf("found %d cells in %d frames, want 12 in 12", s.Cells.Found, s.Frames.Segmented)
	}
	if h.a.progressBox.Visible() {
		t.Error("the progress bar stayed after the run")
	}
	if len(s.LastFrame.Objects) != 1 {
		t.Errorf("last frame shows %d objects, want the one cell", len(s.LastFrame.Objects))
	}
	c, err := h.st.Counts(h.a.ctx, "S-FOLDER")
	if err != nil {
		t.Fatal(err)
	}
	total := c.Unidentified.Count
	for _, x := range c.Taxa {
		total += x.Count
	}
	if total != 12 {
		t.Errorf("stored %d cells, want 12", total)
	}
}

func TestPerfPanelLabelsEstimates(t *testing.T) {
	var cpu time.Duration
	est := power.NewEstimate(10, func() (time.Duration, error) { return cpu, nil })
	m := power.NewMeter(power.Config{Sensors: []power.Sensor{est}, Total: power.ChooseTotal([]power.Sensor{est}), Interval: -1})
	h := newHarness(t, nil, func(d *Deps) { d.Meter = m })
	m.Start(context.Background())
	m.Begin()
	cpu += 500 * time.Millisecond
	time.Sleep(20 * time.Millisecond)
	m.Sample()
	f := h.a.readPerf(time.Now(), true)
	if f == nil {
		t.Fatal("no figures")
	}
	h.a.perf.Set(*f)
	if v := h.a.perf.Watts.Value(); !strings.HasSuffix(v, "W (estimate)") {
		t.Errorf("watts %q not labelled an estimate", v)
	}
	if !strings.Contains(h.a.perf.Source(), "estimated from CPU time, not measured") {
		t.Errorf("source line %q", h.a.perf.Source())
	}
	if d := h.a.perf.CPU.Detail(); !strings.Contains(d, "cores") {
		t.Errorf("cpu detail %q", d)
	}
}

func TestSparklineDraws(t *testing.T) {
	dst := image.NewRGBA(image.Rect(0, 0, 60, 20))
	drawSpark(dst, []float64{1, 2, math.NaN(), 4, 3}, color.NRGBA{0xff, 0, 0, 0xff})
	painted := 0
	for i := 3; i < len(dst.Pix); i += 4 {
		if dst.Pix[i] > 0 {
			painted++
		}
	}
	if painted < 60 {
		t.Errorf("only %d pixels painted", painted)
	}
	empty := image.NewRGBA(image.Rect(0, 0, 10, 10))
	drawSpark(empty, []float64{math.NaN()}, color.NRGBA{0xff, 0, 0, 0xff})
	for _, p := range empty.Pix {
		if p != 0 {
			t.Fatal("drew something for no data")
		}
	}
	_ = screening.Unidentified
}

func TestDemoVideoPlaysAtItsPace(t *testing.T) {
	dir := t.TempDir()
	path, err := DemoVideo(dir)
	if err != nil {
		t.Fatal(err)
	}
	again, err := DemoVideo(dir)
	if err != nil || again != path {
		t.Fatalf("second call: %s, %v", again, err)
	}
	src, err := openSource(context.Background(), SourceDemo, KindStream, DefaultSettings(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	start := time.Now()
	for i := range 4 {
		f, err := src.Next(context.Background())
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if f.Mat.Cols() != 960 || f.Mat.Rows() != 720 {
			t.Errorf("frame %d is %dx%d", i, f.Mat.Cols(), f.Mat.Rows())
		}
		f.Mat.Close()
	}
	// 4 frames at the video's 6 fps take about 2/3 s, not the few ms of a bare read.
	if el := time.Since(start); el < 500*time.Millisecond {
		t.Errorf("4 demo frames in %v: not paced", el)
	}
}
