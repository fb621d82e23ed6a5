package inference

import (
	"encoding/json"
	"image"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/imagefile"
)

// BenchmarkPackVariants measures a pack's models single-stream: batch 1, one ONNX Runtime
// thread, on a real crop preprocessed by the pack's contract. Base and optimised run
// alternately, one inference each per op, so both see the same machine load; it reports
// the median milliseconds per image of each and the speed-up (base / optimised).
//
//	go test -run '^$' -bench PackVariants -benchtime 300x ./inference/
//
// PHYTOSCREEN_BENCH_PACKS lists pack folders (comma-separated; default: the built-in pack
// and every pack folder under assets/models); PHYTOSCREEN_BENCH_OUT names a JSON file to
// write the figures to (the recipe puts them in the pack card).
func BenchmarkPackVariants(b *testing.B) {
	if _, err := InitRuntime(""); err != nil {
		b.Fatal(err)
	}
	dirs := strings.Split(os.Getenv("PHYTOSCREEN_BENCH_PACKS"), ",")
	if dirs[0] == "" {
		dirs, _ = filepath.Glob("../assets/models/*")
	}
	type row struct {
		Pack        string  `json:"pack"`
		BaseMs      float64 `json:"base_ms"`
		OptimisedMs float64 `json:"optimised_ms"`
		Speedup     float64 `json:"speedup"`
		Runs        int     `json:"runs"`
		Runtime     string  `json:"onnxruntime"`
		Threads     int     `json:"threads"`
		Batch       int     `json:"batch"`
	}
	var rows []row
	for _, dir := range dirs {
		p, err := LoadPackDir(dir)
		if err != nil {
			b.Fatal(err)
		}
		if !p.Has(Base) || !p.Has(Optimised) {
			continue
		}
		crop := benchCrop(b, p)
		b.Run(p.Name, func(b *testing.B) {
			var cs [2]*Classifier
			var bs [2]*Batch
			for i, v := range []Variant{Base, Optimised} {
				c, err := NewClassifier(p, Options{Variant: v, Threads: 1, Batch: 1})
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				bt, err := c.NewBatch(1)
				if err != nil {
					b.Fatal(err)
				}
				defer bt.Close()
				if err := p.Preprocess(bt.Input, crop); err != nil {
					b.Fatal(err)
				}
				for range 10 { // warm-up
					if _, err := c.Run(bt); err != nil {
						b.Fatal(err)
					}
				}
				cs[i], bs[i] = c, bt
			}
			times := [2][]float64{}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for j := range 2 {
					k := (i + j) % 2 // alternate which goes first
					t0 := time.Now()
					if _, err := cs[k].Run(bs[k]); err != nil {
						b.Fatal(err)
					}
					times[k] = append(times[k], float64(time.Since(t0).Microseconds())/1000)
				}
			}
			base, opt := median(times[0]), median(times[1])
			b.ReportMetric(base, "base-ms")
			b.ReportMetric(opt, "optimised-ms")
			b.ReportMetric(base/opt, "speedup")
			rows = slices.DeleteFunc(rows, func(r row) bool { return r.Pack == p.Name })
			rows = append(rows, row{p.Name, base, opt, base / opt, b.N, LoadedRuntimeVersion(), 1, 1})
		})
	}
	if out := os.Getenv("PHYTOSCREEN_BENCH_OUT"); out != "" && len(rows) > 0 {
		data, _ := json.MarshalIndent(rows, "", " ")
		if err := os.WriteFile(out, append(data, '\n'), 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// benchCrop is a real crop for the pack: its first golden image when it has one, else a
// bundled NDSB sample.
func benchCrop(b *testing.B, p *Pack) image.Image {
	b.Helper()
	if data, err := p.ReadFile("golden.json"); err == nil {
		var g goldenFile
		if err := json.Unmarshal(data, &g); err != nil {
			b.Fatal(err)
		}
		img, err := imagefile.ReadColor(filepath.Join("..", g.Copy, g.Items[0].Path))
		if err != nil {
			b.Fatal(err)
		}
		return img
	}
	return loadSamples(b)[0].img
}
