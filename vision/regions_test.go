package vision

import (
	"image"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gocv.io/x/gocv"
)

// blobField is a w x h difference image of overlapping soft blobs over a faint haze,
// with its low mask (diff > lo), its cores (diff > hi, labelled) and their areas: the
// kind of input the flood and the split cut.
func blobField(t *testing.T, seed uint64, w, h int, lo, hi uint8) (diff, loMask []uint8, cores, area []int32) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	d := make([]float64, w*h)
	for i := range d {
		d[i] = 4 + 3*rng.Float64() // haze just over the low threshold in places
	}
	for range 12 {
		cx, cy := rng.Float64()*float64(w), rng.Float64()*float64(h)
		rad, peak := 3+rng.Float64()*12, 20+rng.Float64()*100
		for y := range h {
			for x := range w {
				r2 := ((float64(x)-cx)*(float64(x)-cx) + (float64(y)-cy)*(float64(y)-cy)) / (rad * rad)
				d[y*w+x] += peak * math.Exp(-r2)
			}
		}
	}
	diff, loMask = make([]uint8, w*h), make([]uint8, w*h)
	hiMask := make([]uint8, w*h)
	for i, v := range d {
		diff[i] = uint8(min(v, 255))
		if diff[i] > lo {
			loMask[i] = 255
		}
		if diff[i] > hi {
			hiMask[i], loMask[i] = 255, 255
		}
	}
	m, err := gocv.NewMatFromBytes(h, w, gocv.MatTypeCV8U, hiMask)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	labels, stats, cents := gocv.NewMat(), gocv.NewMat(), gocv.NewMat()
	defer labels.Close()
	defer stats.Close()
	defer cents.Close()
	n := gocv.ConnectedComponentsWithStats(m, &labels, &stats, &cents)
	px, err := int32Pixels(labels, w*h)
	if err != nil {
		t.Fatal(err)
	}
	cores = slices.Clone(px)
	area = make([]int32, n)
	for l := 1; l < n; l++ {
		area[l] = stats.GetIntAt(l, int(gocv.CC_STAT_AREA))
	}
	return diff, loMask, cores, area
}

// growUnder stops the flood early when a region passes the limit (split.go): it must
// refuse exactly the cuts that grow would have given a part over the limit, and give
// grow's regions and labels for the others.
func TestGrowUnderAgreesWithGrow(t *testing.T) {
	const w, h = 120, 90
	refused, kept := 0, 0
	for seed := range uint64(12) {
		diff, lo, cores, area := blobField(t, seed, w, h, 6, 30)
		var full regionGrower
		regions, labels := full.grow(diff, lo, cores, area, w, h)
		regions, labels = slices.Clone(regions), slices.Clone(labels)
		largest := 0
		for _, r := range regions {
			largest = max(largest, r.n)
		}
		for _, limit := range []float64{float64(largest) / 3, float64(largest) - 1, float64(largest), float64(largest) + 0.5} {
			var under regionGrower
			got, gotLabels, ok := under.growUnder(diff, lo, cores, area, w, h, limit)
			want := float64(largest) <= limit
			if ok != want {
				t.Fatalf("seed %d, limit %.1f (largest region %d px): growUnder ok=%v, want %v", seed, limit, largest, ok, want)
			}
			if !ok {
				refused++
				continue
			}
			kept++
			if !slices.Equal(got, regions) || !slices.Equal(gotLabels, labels) {
				t.Fatalf("seed %d, limit %.1f: growUnder's regions differ from grow's:\n%v\n%v", seed, limit, got, regions)
			}
		}
	}
	if refused == 0 || kept == 0 {
		t.Fatalf("the fields tested only one side: %d refused, %d kept", refused, kept)
	}
}

// laplacianVariance sums in integers; it must give the variance a plain float
// computation gives, on a whole frame and on boxes at its edges.
func TestLaplacianVarianceExact(t *testing.T) {
	const w, h = 97, 61
	rng := rand.New(rand.NewPCG(3, 4))
	gray := make([]uint8, w*h)
	for i := range gray {
		gray[i] = uint8(rng.IntN(256))
	}
	for _, r := range []image.Rectangle{image.Rect(0, 0, w, h), image.Rect(10, 5, 40, 33), image.Rect(90, 50, 97, 61), image.Rect(3, 3, 4, 4), image.Rect(0, 0, 1, 1)} {
		var n, s, ss float64
		for y := max(r.Min.Y, 1); y < min(r.Max.Y, h-1); y++ {
			for x := max(r.Min.X, 1); x < min(r.Max.X, w-1); x++ {
				i := y*w + x
				l := float64(gray[i-1]) + float64(gray[i+1]) + float64(gray[i-w]) + float64(gray[i+w]) - 4*float64(gray[i])
				n, s, ss = n+1, s+l, ss+l*l
			}
		}
		want := 0.0
		if n > 0 {
			want = ss/n - (s/n)*(s/n)
		}
		if got := laplacianVariance(gray, w, r); got != want {
			t.Errorf("box %v: laplacianVariance %v, want %v", r, got, want)
		}
	}
}

// flatCrop divides the full-size frame by the working-size background it lies on; the
// column table must pick the same background pixel as the plain division, at every
// shrink factor and at the frame's right and bottom edges.
func TestFlatCropFollowsTheBackground(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, k := range []int{1, 2, 3} {
		fw, fh := 50, 38
		w, h := fw/k, fh/k
		fr := frameData{full: make([]uint8, fw*fh), bg: make([]uint8, w*h), w: w, h: h, fw: fw, fh: fh, k: k}
		for i := range fr.full {
			fr.full[i] = uint8(rng.IntN(256))
		}
		for i := range fr.bg {
			fr.bg[i] = uint8(1 + rng.IntN(255))
		}
		for _, r := range []image.Rectangle{image.Rect(0, 0, fw, fh), image.Rect(7, 3, 30, 21), image.Rect(fw-5, fh-4, fw, fh)} {
			img := flatCrop(fr, r)
			for y := r.Min.Y; y < r.Max.Y; y++ {
				for x := r.Min.X; x < r.Max.X; x++ {
					b := float64(fr.bg[min(y/k, h-1)*w+min(x/k, w-1)])
					want := uint8(min(math.Round(float64(fr.full[y*fw+x])*255/b), 255))
					got := img.GrayAt(x-r.Min.X, y-r.Min.Y).Y
					if d := int(got) - int(want); d < -1 || d > 1 {
						t.Fatalf("k %d, box %v, pixel (%d,%d): %d, want %d (frame %d over background %.0f)", k, r, x, y, got, want, fr.full[y*fw+x], b)
					}
				}
			}
		}
	}
}
