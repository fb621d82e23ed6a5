package quantise

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestPercentileThresholdOfUniform(t *testing.T) {
	hist := make([]float64, HistogramBins)
	for i := range hist {
		hist[i] = 10
	}
	for _, p := range []float64{50, 99, 99.999, 100} {
		got := PercentileThreshold(hist, 8, p)
		if want := 8 * p / 100; math.Abs(got-want) > 8.0/HistogramBins {
			t.Errorf("percentile %g of uniform [0, 8] = %g, want %g within a bin", p, got, want)
		}
	}
}

// gaussianStats feeds n samples of N(0, 1) (|x| above 4 kept rare) and a few far outliers
// through both passes.
func gaussianStats(n int, outlier float32, relu bool) *Stats {
	rng := rand.New(rand.NewPCG(7, 8))
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
		if relu && v[i] < 0 {
			v[i] = 0
		}
	}
	v[0], v[1] = outlier, outlier*0.9
	s := NewStats()
	s.AddExtremes(v[:n/2])
	s.AddExtremes(v[n/2:])
	s.AddHistogram(v[:n/2])
	s.AddHistogram(v[n/2:])
	return s
}

func TestStatsRanges(t *testing.T) {
	s := gaussianStats(200000, 40, false)
	if r := s.Range(Method{Name: "minmax"}); r.Hi != 40 || r.Lo != s.Min || r.Lo > -3 {
		t.Errorf("minmax range %+v, want the extremes (max 40)", r)
	}
	// 99.99% of |x| for N(0,1) lies below 3.89; the outliers must not move it.
	r := s.Range(Method{Name: "percentile", Percentile: 99.99})
	if r.Hi < 3.7 || r.Hi > 4.1 || r.Lo != -r.Hi {
		t.Errorf("percentile 99.99 range %+v, want about [-3.89, 3.89]", r)
	}
	// The entropy threshold clips the outliers and keeps the bulk: between 2 and 10 sigma.
	e := s.Range(Method{Name: "entropy"})
	if e.Hi < 2 || e.Hi > 10 {
		t.Errorf("entropy range %+v, want a threshold between 2 and 10", e)
	}
	// A Relu's output keeps 0 as its low end, and its spike of zeros does not drag the
	// entropy threshold down into the bulk.
	relu := gaussianStats(200000, 40, true)
	if r := relu.Range(Method{Name: "entropy"}); r.Lo != 0 || r.Hi < 2 || r.Hi > 10 {
		t.Errorf("entropy range of a Relu output %+v, want [0, 2..10]", r)
	}
	// Zeros count in the percentile's share: 99.99% of all values is the half-normal's
	// 99.98%, about 3.7.
	if r := relu.Range(Method{Name: "percentile", Percentile: 99.99}); r.Lo != 0 || r.Hi < 3.4 || r.Hi > 4 {
		t.Errorf("percentile range of a Relu output %+v, want [0, about 3.7]", r)
	}
}

func TestEntropyThresholdKeepsAnUnclippedUniform(t *testing.T) {
	// Without a tail there is nothing to gain by clipping: the threshold is the maximum.
	hist := make([]float64, HistogramBins)
	for i := range hist {
		hist[i] = 100
	}
	if got := EntropyThreshold(hist, 6, 128); got < 5.9 {
		t.Errorf("entropy threshold of uniform [0, 6] = %g, want about 6", got)
	}
}

func TestParamsOf(t *testing.T) {
	for _, c := range []struct {
		r    Range
		want Params
	}{
		{Range{0, 2.55}, Params{Scale: 0.01, Zero: 0}},
		{Range{-1.275, 1.275}, Params{Scale: 0.01, Zero: 128}}, // 127.5 rounds to even
		{Range{0.5, 2.55}, Params{Scale: 0.01, Zero: 0}},       // widened to hold 0
		{Range{-2.55, -1}, Params{Scale: 0.01, Zero: 255}},
		{Range{0, 0}, Params{Scale: 1, Zero: 0}},
	} {
		got := ParamsOf(c.r)
		if math.Abs(float64(got.Scale-c.want.Scale)) > 1e-7 || got.Zero != c.want.Zero {
			t.Errorf("ParamsOf(%+v) = %+v, want %+v", c.r, got, c.want)
		}
	}
}

func TestWeightScalesPerChannel(t *testing.T) {
	// Two output channels of three values on axis 0; then the same as columns (axis 1).
	// 7-bit weights (WeightLevels 64): -0.5 is -0.5/1.28*64 = -25, 0.01 is 0.01/0.04*64 = 16.
	w := []float32{1.28, -0.5, 0.3, 0, 0.01, -0.04}
	q, s := WeightScales(w, []int64{2, 3}, 0)
	if !slices.Equal(s, []float32{1.28 / 64, 0.04 / 64}) {
		t.Errorf("scales %v, want max|w|/64 per channel", s)
	}
	if !slices.Equal(q, []int8{64, -25, 15, 0, 16, -64}) {
		t.Errorf("quantised %v", q)
	}
	q, s = WeightScales([]float32{1.28, 0, -0.5, 0.01, 0.3, -0.04}, []int64{3, 2}, 1)
	if !slices.Equal(s, []float32{1.28 / 64, 0.04 / 64}) || !slices.Equal(q, []int8{64, 0, -25, 16, 15, -64}) {
		t.Errorf("axis 1: scales %v quantised %v", s, q)
	}
	_, s = WeightScales([]float32{0, 0}, []int64{2, 1}, 0)
	if s[0] != 1 {
		t.Errorf("an all-zero channel has scale %g, want 1", s[0])
	}
}

func TestParseMethod(t *testing.T) {
	for in, want := range map[string]string{"percentile": "percentile:99.999", "Percentile:99.99": "percentile:99.99", "entropy": "entropy", "minmax": "minmax"} {
		m, err := ParseMethod(in)
		if err != nil || m.String() != want {
			t.Errorf("ParseMethod(%q) = %v, %v; want %s", in, m, err, want)
		}
	}
	for _, bad := range []string{"", "kl", "percentile:x", "percentile:20", "entropy:3", "percentile:NaN", "percentile:inf"} {
		if _, err := ParseMethod(bad); err == nil {
			t.Errorf("ParseMethod(%q) accepted", bad)
		}
	}
}

func TestFlipsAndKeepReason(t *testing.T) {
	all := Score{agrees: []bool{true, false, false, true, false, true}}
	left := Score{agrees: []bool{true, true, true, false, false, true}}
	if g, l := all.Flips(left); g != 2 || l != 1 {
		t.Errorf("flips %d gained %d lost, want 2 and 1", g, l)
	}
	opt := Options{MaxLayerLoss: 1, Keep: []string{"forced"}}
	for _, c := range []struct {
		e    LayerEffect
		kept bool
	}{
		{LayerEffect{Name: "big and sure", Loss: 3, Gained: 12, Lost: 0, Z: 3.46}, true},
		{LayerEffect{Name: "big but chance", Loss: 1.5, Gained: 8, Lost: 2, Z: 1.9}, false},
		{LayerEffect{Name: "sure but small", Loss: 0.8, Gained: 9, Lost: 0, Z: 3}, false},
		{LayerEffect{Name: "forced", Loss: -1}, true},
	} {
		if got := keepReason(c.e, opt) != ""; got != c.kept {
			t.Errorf("%s: kept %v, want %v", c.e.Name, got, c.kept)
		}
	}
	if keepReason(LayerEffect{Name: "x", Loss: 50, Z: 9}, Options{MaxLayerLoss: -1}) != "" {
		t.Error("a negative threshold keeps nothing")
	}
}
