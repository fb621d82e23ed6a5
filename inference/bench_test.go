package inference

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/phytoscreen/phytoscreen/assets"
)

// sampleFiles writes the bundled sample images to a folder once, so the end-to-end
// benchmark reads and decodes real files as `phytoscreen classify` does.
func sampleFiles(b *testing.B) []string {
	b.Helper()
	dir := filepath.Join(os.TempDir(), "phytoscreen-bench-samples")
	var files []string
	err := fs.WalkDir(assets.Samples(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".jpg" {
			return err
		}
		dst := filepath.Join(dir, p)
		if _, err := os.Stat(dst); err != nil {
			data, err := fs.ReadFile(assets.Samples(), p)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(dst, data, 0o644); err != nil {
				return err
			}
		}
		files = append(files, dst)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return files
}

// BenchmarkClassify compares end-to-end classification of image files (read, decode,
// letterbox, infer) with a bare ONNX Runtime loop on ready tensors, for both models,
// batch 1 and 16, threads 1 and 2. One op is one image; compare the img/s metrics of
// "files" and "bare" at the same settings (goal: files >= 0.9 x bare), and base against
// optimised (goal: optimised >= 2 x base).
func BenchmarkClassify(b *testing.B) {
	files := sampleFiles(b)
	samples := loadSamples(b)
	for _, v := range []Variant{Base, Optimised} {
		for _, batch := range []int{1, 16} {
			for _, threads := range []int{1, 2} {
				c := openDefault(b, Options{Variant: v, Batch: batch, Threads: threads, TopK: 1})
				name := fmt.Sprintf("%s/batch=%d/threads=%d", v, batch, threads)
				b.Run(name+"/files", func(b *testing.B) {
					list := make([]string, b.N)
					for i := range list {
						list[i] = files[i%len(files)]
					}
					b.ResetTimer()
					err := ClassifyFiles(context.Background(), c, list, func(fr FileResult) error { return fr.Err })
					if err != nil {
						b.Fatal(err)
					}
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "img/s")
				})
				b.Run(name+"/bare", func(b *testing.B) {
					bt, err := c.NewBatch(batch)
					if err != nil {
						b.Fatal(err)
					}
					defer bt.Close()
					hw := c.Pack().Height() * c.Pack().Width()
					for i := range batch {
						Letterbox(bt.Input[i*hw:(i+1)*hw], samples[i].img, c.Pack().Height(), c.Pack().Width(), 1, nil)
					}
					b.ResetTimer()
					for done := 0; done < b.N; done += batch {
						if _, err := c.Run(bt); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "img/s")
				})
				c.Close()
			}
		}
	}
}
