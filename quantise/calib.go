package quantise

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Method is how a tensor's range is chosen from its calibration values.
type Method struct {
	Name string // "minmax", "percentile" or "entropy"
	// Percentile is the share of |x| kept, in percent, for "percentile" (default 99.999).
	Percentile float64
}

// DefaultPercentile is the percentile the shipped twin of the default pack was made with.
const DefaultPercentile = 99.999

// ParseMethod reads "minmax", "entropy", "percentile" or "percentile:99.99".
func ParseMethod(s string) (Method, error) {
	name, arg, hasArg := strings.Cut(strings.ToLower(strings.TrimSpace(s)), ":")
	switch name {
	case "minmax", "entropy":
		if hasArg {
			return Method{}, fmt.Errorf("calibration method %q takes no value", s)
		}
		return Method{Name: name}, nil
	case "percentile":
		m := Method{Name: name, Percentile: DefaultPercentile}
		if hasArg {
			v, err := strconv.ParseFloat(arg, 64)
			if err != nil || !(v > 50 && v <= 100) { // NaN fails every comparison: it passed "v <= 50 || v > 100" (helper-39)
				return Method{}, fmt.Errorf("calibration method %q: the percentile must be a number above 50 and at most 100, e.g. percentile:99.999", s)
			}
			m.Percentile = v
		}
		return m, nil
	}
	return Method{}, fmt.Errorf("unknown calibration method %q: use percentile[:P], entropy or minmax", s)
}

func (m Method) String() string {
	if m.Name == "percentile" {
		return "percentile:" + strconv.FormatFloat(m.Percentile, 'f', -1, 64)
	}
	return m.Name
}

// HistogramBins is the resolution of the |x| histograms calibration keeps per tensor.
const HistogramBins = 2048

// Stats are one tensor's calibration statistics: its extremes (first pass), then a
// histogram of |x| over [0, AbsMax] (second pass). Memory is the histogram's, whatever
// the number of images.
type Stats struct {
	Min, Max float64
	Count    int64
	// Hist has HistogramBins bins of |x| over [0, AbsMax()], exact zeros left out (they
	// are counted in Zeros); nil before the second pass.
	Hist  []float64
	Zeros float64
}

// NewStats returns empty statistics.
func NewStats() *Stats { return &Stats{Min: math.Inf(1), Max: math.Inf(-1)} }

// AbsMax is the largest |x| seen.
func (s *Stats) AbsMax() float64 { return max(math.Abs(s.Min), math.Abs(s.Max)) }

// AddExtremes folds values into the extremes (first pass).
func (s *Stats) AddExtremes(v []float32) {
	lo, hi := s.Min, s.Max
	for _, x := range v {
		f := float64(x)
		if f < lo {
			lo = f
		}
		if f > hi {
			hi = f
		}
	}
	s.Min, s.Max = lo, hi
	s.Count += int64(len(v))
}

// AddHistogram folds values into the |x| histogram (second pass, after every
// AddExtremes).
func (s *Stats) AddHistogram(v []float32) {
	if s.Hist == nil {
		s.Hist = make([]float64, HistogramBins)
	}
	am := s.AbsMax()
	if !(am > 0) {
		s.Zeros += float64(len(v))
		return
	}
	k := float64(HistogramBins) / am
	for _, x := range v {
		if x == 0 {
			s.Zeros++
			continue
		}
		b := int(math.Abs(float64(x)) * k)
		if b >= HistogramBins {
			b = HistogramBins - 1
		}
		s.Hist[b]++
	}
}

// Range picks the tensor's range with method m. A tensor that never goes below zero
// keeps [Min, t]; one that does gets [max(Min, -t), min(Max, t)], t being the method's
// threshold on |x| (the extremes for minmax).
func (s *Stats) Range(m Method) Range {
	if m.Name == "minmax" || s.Hist == nil || !(s.AbsMax() > 0) {
		return Range{s.Min, s.Max}
	}
	var t float64
	switch m.Name {
	case "percentile":
		// The share is of all values, zeros included (as ONNX Runtime's calibrator counts).
		h := slices.Clone(s.Hist)
		h[0] += s.Zeros
		t = PercentileThreshold(h, s.AbsMax(), m.Percentile)
	case "entropy":
		// Zeros are left out: any range holds 0 exactly, and the spike a Relu leaves
		// there would otherwise pull the threshold down to where the spike's bin stays
		// alone (no quantisation error on it), clipping most of the signal.
		levels := 128 // a signed tensor spends half of uint8's levels on each side
		if s.Min >= 0 {
			levels = 256
		}
		t = EntropyThreshold(s.Hist, s.AbsMax(), levels)
	default:
		return Range{s.Min, s.Max}
	}
	return Range{max(s.Min, -t), min(s.Max, t)}
}

// PercentileThreshold returns the |x| below which p percent of a histogram's mass lies
// (the upper edge of the bin where the cumulative share reaches p), the histogram
// spanning [0, absMax].
func PercentileThreshold(hist []float64, absMax, p float64) float64 {
	total := 0.0
	for _, h := range hist {
		total += h
	}
	if total == 0 {
		return absMax
	}
	width := absMax / float64(len(hist))
	want := total * p / 100
	cum := 0.0
	for i, h := range hist {
		cum += h
		if cum >= want*(1-1e-12) {
			return float64(i+1) * width
		}
	}
	return absMax
}

// EntropyThreshold returns the clipping threshold on |x| that minimises the
// Kullback-Leibler divergence between the histogram clipped there (the clipped mass
// folded into its last bin) and the same distribution quantised to levels levels, the
// TensorRT calibration method. The histogram spans [0, absMax].
func EntropyThreshold(hist []float64, absMax float64, levels int) float64 {
	n := len(hist)
	if n <= levels {
		return absMax
	}
	width := absMax / float64(n)
	// suffix[i] is the mass at and beyond bin i.
	suffix := make([]float64, n+1)
	for i := n - 1; i >= 0; i-- {
		suffix[i] = suffix[i+1] + hist[i]
	}
	best, bestKL := n, math.Inf(1)
	p := make([]float64, n)
	q := make([]float64, n)
	for i := levels; i <= n; i++ {
		copy(p, hist[:i])
		p[i-1] += suffix[i]
		// Quantise the i bins into levels groups; each group's mass is spread evenly over
		// its non-empty bins (an empty bin stays empty, as it would after quantising).
		for j := range levels {
			start := j * i / levels
			end := (j + 1) * i / levels
			sum, nonzero := 0.0, 0
			for k := start; k < end; k++ {
				sum += hist[k]
				if hist[k] != 0 {
					nonzero++
				}
			}
			for k := start; k < end; k++ {
				q[k] = 0
				if hist[k] != 0 {
					q[k] = sum / float64(nonzero)
				}
			}
		}
		if kl := klDivergence(p[:i], q[:i]); kl < bestKL {
			best, bestKL = i, kl
		}
	}
	return float64(best) * width
}

// klDivergence is KL(p || q) of two unnormalised histograms; a bin where p has mass and
// q none costs as if q held a tiny share there.
func klDivergence(p, q []float64) float64 {
	sp, sq := 0.0, 0.0
	for i := range p {
		sp += p[i]
		sq += q[i]
	}
	if sp == 0 || sq == 0 {
		return math.Inf(1)
	}
	const eps = 1e-10
	kl := 0.0
	for i := range p {
		if p[i] == 0 {
			continue
		}
		pi := p[i] / sp
		qi := max(q[i]/sq, eps)
		kl += pi * math.Log(pi/qi)
	}
	return kl
}
