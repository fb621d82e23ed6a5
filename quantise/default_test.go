package quantise

import (
	"context"
	"image"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/imagefile"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/testpack"
)

// splitSample splits the bundled sample in two by alternate images (natural order): the
// first half, with labels.csv, to calibrate on; the second half held out.
func splitSample(t testing.TB) (fs.FS, []string, []string) {
	t.Helper()
	sample := assets.Samples()
	names, err := imagefile.ListFS(sample)
	if err != nil {
		t.Fatal(err)
	}
	labels, err := readCalibLabels(sample, "sample", nil)
	if err != nil || labels == nil {
		t.Fatalf("bundled sample labels: %v", err)
	}
	raw, _ := fs.ReadFile(sample, LabelsFile)
	calib := fstest.MapFS{LabelsFile: {Data: raw}}
	var held, truth []string
	for i, n := range names {
		if i%2 == 0 {
			b, _ := fs.ReadFile(sample, n)
			calib[n] = &fstest.MapFile{Data: b}
			continue
		}
		held = append(held, n)
	}
	// The labels of the held-out images, from labels.csv's label column.
	for _, line := range strings.Split(string(raw), "\n")[1:] {
		f := strings.Split(line, ",")
		if len(f) >= 2 && slices.Contains(held, f[0]) {
			truth = append(truth, f[0]+"\x00"+f[1])
		}
	}
	return calib, held, truth
}

func classifyNames(t testing.TB, p *inference.Pack, v inference.Variant, names []string) []string {
	t.Helper()
	c, err := inference.NewClassifier(p, inference.Options{Variant: v, Threads: 2, Batch: 16, TopK: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	crops := make([]*image.Gray, len(names))
	for i, n := range names {
		b, err := fs.ReadFile(assets.Samples(), n)
		if err != nil {
			t.Fatal(err)
		}
		if crops[i], err = imagefile.DecodeGray(b); err != nil {
			t.Fatal(err)
		}
	}
	res, err := c.Classify(context.Background(), crops)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(res))
	for i, r := range res {
		out[i] = r.Best().Label
	}
	return out
}

// The default pack optimised with half the bundled sample: on the other half, held out,
// the twin keeps the fp32 model's top-1 within two points and agrees with it on 93% of
// images (the shipped twin: one point and 95.5% on the val split), and ONNX Runtime runs
// its convolutions as QLinearConv.
func TestOptimiseDefaultPackHeldOut(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: optimising the default pack takes about a minute")
	}
	testpack.RequireRuntime(t)
	p, err := inference.LoadPack(assets.DefaultPack(), "built-in:"+assets.DefaultPackName)
	if err != nil {
		t.Fatal(err)
	}
	calib, held, truth := splitSample(t)
	out := filepath.Join(t.TempDir(), "twin")
	rep, err := Optimise(context.Background(), Options{Pack: p, Calibration: calib, CalibrationName: "half the bundled sample", Out: out, SpeedDuration: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.RuntimeOps["QLinearConv"] < 16 {
		t.Errorf("runtime graph %v: want the convolutions fused into QLinearConv", rep.RuntimeOps)
	}
	twinPack, err := inference.LoadPackDir(out)
	if err != nil {
		t.Fatal(err)
	}
	base := classifyNames(t, p, inference.Base, held)
	twin := classifyNames(t, twinPack, inference.Optimised, held)
	shipped := classifyNames(t, p, inference.Optimised, held)
	top1 := func(pred []string) float64 {
		right := 0
		for i, n := range held {
			if slices.Contains(truth, n+"\x00"+pred[i]) {
				right++
			}
		}
		return float64(right) / float64(len(held))
	}
	agree := inference.Agreement(base, twin)
	t.Logf("held out %d images: top-1 base %.4f twin %.4f shipped %.4f; agreement with base twin %.4f shipped %.4f; kept fp32 %v",
		len(held), top1(base), top1(twin), top1(shipped), agree, inference.Agreement(base, shipped), rep.KeptFP32)
	if top1(twin) < top1(base)-0.02 {
		t.Errorf("twin top-1 %.4f, more than 2 points below the fp32 model's %.4f", top1(twin), top1(base))
	}
	if agree < 0.93 {
		t.Errorf("twin agrees with the fp32 model on %.4f of held-out images, want at least 0.93", agree)
	}
}

// BenchmarkTwinVsShipped alternates the twin pack optimise makes (the default pack, the
// bundled sample as calibration) and the shipped optimised model, one crop at a time on one
// thread, and reports both per-crop times and their ratio from the same run. Set
// PHYTOSCREEN_TWIN_PACK to an optimised pack folder to skip making one.
func BenchmarkTwinVsShipped(b *testing.B) {
	testpack.RequireRuntime(b)
	p, err := inference.LoadPack(assets.DefaultPack(), "built-in:"+assets.DefaultPackName)
	if err != nil {
		b.Fatal(err)
	}
	dir := os.Getenv("PHYTOSCREEN_TWIN_PACK")
	if dir == "" {
		dir = filepath.Join(b.TempDir(), "twin")
		if _, err := Optimise(context.Background(), Options{Pack: p, Calibration: assets.Samples(), CalibrationName: "bundled sample", Out: dir, SpeedDuration: -1}, nil); err != nil {
			b.Fatal(err)
		}
	}
	tp, err := inference.LoadPackDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	open := func(p *inference.Pack) *inference.Classifier {
		c, err := inference.NewClassifier(p, inference.Options{Variant: inference.Optimised, Threads: 1, Batch: 1, TopK: 1})
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	shipped, twin := open(p), open(tp)
	defer shipped.Close()
	defer twin.Close()
	crops, err := loadGray(assets.Samples(), 32)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	one := func(c *inference.Classifier, i int) time.Duration {
		start := time.Now()
		if _, err := c.Classify(ctx, crops[i%len(crops):i%len(crops)+1]); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	for i := range 8 { // warm both sessions
		one(shipped, i)
		one(twin, i)
	}
	var ts, tt time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 { // alternate which goes first
			ts += one(shipped, i)
			tt += one(twin, i)
		} else {
			tt += one(twin, i)
			ts += one(shipped, i)
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(ts.Microseconds())/1000/n, "shipped-ms/crop")
	b.ReportMetric(float64(tt.Microseconds())/1000/n, "twin-ms/crop")
	b.ReportMetric(float64(tt)/float64(ts), "twin/shipped")
}

func loadGray(fsys fs.FS, n int) ([]*image.Gray, error) {
	names, err := imagefile.ListFS(fsys)
	if err != nil {
		return nil, err
	}
	crops := make([]*image.Gray, min(n, len(names)))
	for i := range crops {
		b, err := fs.ReadFile(fsys, names[i])
		if err != nil {
			return nil, err
		}
		if crops[i], err = imagefile.DecodeGray(b); err != nil {
			return nil, err
		}
	}
	return crops, nil
}
