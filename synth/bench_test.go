package synth

import "testing"

// BenchmarkFrame draws a field and renders its frame in each look at its working size:
// go test ./synth/ -run '^$' -bench Frame -cpu 1.
func BenchmarkFrame(b *testing.B) {
	lib, err := DefaultLibrary()
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		opt  Options
	}{
		{"phase-2584x1936", Options{Look: LookPhase, Width: 2584, Height: 1936}},
		{"phase-1920x1080", Options{Look: LookPhase, Width: 1920, Height: 1080}},
		{"colour-1280x960", Options{Look: LookColour}},
		{"bright-1280x960", Options{}},
	} {
		b.Run(c.name, func(b *testing.B) {
			c.opt.Seed = 1
			g, err := New(lib, c.opt)
			if err != nil {
				b.Fatal(err)
			}
			objects := 0
			for b.Loop() {
				f, err := g.NewField()
				if err != nil {
					b.Fatal(err)
				}
				g.Render(f)
				objects += len(f.Cells)
			}
			b.ReportMetric(float64(objects)/float64(b.N), "objects/frame")
		})
	}
}

// BenchmarkPhaseRender renders another frame of a drawn 2584x1936 phase field (noise
// only): what a still field's second and later frames cost.
func BenchmarkPhaseRender(b *testing.B) {
	lib, err := DefaultLibrary()
	if err != nil {
		b.Fatal(err)
	}
	g, err := New(lib, Options{Look: LookPhase, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	f, err := g.NewField()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		g.Render(f)
	}
}
