package power

import (
	"math"
	"time"
)

// Latency histogram layout: log-spaced buckets from 1 µs to 100 s, 40 to a decade, so a
// bucket spans 5.9% and a quantile read from it is within that of the exact value, in a
// fixed 2.6 KB whatever the run's length.
const (
	histLow       = time.Microsecond
	histPerDecade = 40
	histDecades   = 8
	histBuckets   = histPerDecade*histDecades + 2 // + under and over
)

// Histogram counts durations in log-spaced buckets and answers quantiles from them, so a
// long session keeps constant memory (no growing slice of samples). The zero value is
// ready to use. It is not safe for concurrent use.
type Histogram struct {
	counts   [histBuckets]uint64
	n        uint64
	sum      time.Duration
	min, max time.Duration
}

func bucketOf(d time.Duration) int {
	if d < histLow {
		return 0
	}
	i := int(math.Floor(math.Log10(float64(d)/float64(histLow))*histPerDecade)) + 1
	return min(i, histBuckets-1)
}

// bucketBounds returns the durations bucket i spans.
func bucketBounds(i int) (lo, hi float64) {
	if i == 0 {
		return 0, float64(histLow)
	}
	lo = float64(histLow) * math.Pow(10, float64(i-1)/histPerDecade)
	hi = float64(histLow) * math.Pow(10, float64(i)/histPerDecade)
	return lo, hi
}

// Add counts one duration.
func (h *Histogram) Add(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(d)]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.n++
	h.sum += d
}

// Count is the number of durations added.
func (h *Histogram) Count() uint64 { return h.n }

// Mean is the exact mean of the durations added.
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}

// Max is the largest duration added.
func (h *Histogram) Max() time.Duration { return h.max }

// Min is the smallest duration added.
func (h *Histogram) Min() time.Duration { return h.min }

// Quantile returns the q-quantile (0 < q <= 1) by the nearest-rank definition, read from
// the bucket holding that rank with geometric interpolation inside it and clamped to the
// exact minimum and maximum; 0 when nothing was added.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var cum uint64
	for i, c := range h.counts {
		if c == 0 || cum+c < rank {
			cum += c
			continue
		}
		lo, hi := bucketBounds(i)
		lo, hi = math.Max(lo, float64(h.min)), math.Min(hi, float64(h.max))
		frac := (float64(rank-cum) - 0.5) / float64(c)
		v := lo
		if hi > lo && lo > 0 {
			v = lo * math.Pow(hi/lo, frac)
		} else if hi > lo {
			v = lo + (hi-lo)*frac
		}
		return time.Duration(math.Round(v))
	}
	return h.max
}

// Reset empties the histogram.
func (h *Histogram) Reset() { *h = Histogram{} }
