package power

import (
	"math"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Latency histogram layout: an HDR histogram (github.com/HdrHistogram/hdrhistogram-go) of
// whole microseconds from 1 µs to 1 hour at 3 significant figures. A recorded value
// shares its bucket with values less than 1/1024 (0.1%) of it away, so a quantile read
// from it is within 0.1% of the exact value, plus the half microsecond a duration is
// rounded by when recorded. Its counts take a fixed 184 KiB whatever the run's length,
// allocated on the first Add.
const (
	histUnit    = time.Microsecond
	histHighest = time.Hour // longer durations count as an hour
	histDigits  = 3
)

// Histogram counts durations in an HDR histogram and answers quantiles from it, so a long
// session keeps constant memory (no growing slice of samples). Count, Mean, Min and Max
// are exact. The zero value is ready to use. It is not safe for concurrent use, and must
// not be copied once used (a copy shares the counts).
type Histogram struct {
	h        *hdrhistogram.Histogram // nil until the first Add
	n        uint64
	sum      time.Duration
	min, max time.Duration
}

// Add counts one duration.
func (h *Histogram) Add(d time.Duration) {
	if d < 0 {
		d = 0
	}
	if h.h == nil {
		h.h = hdrhistogram.New(1, int64(histHighest/histUnit), histDigits)
	}
	us := (min(d, histHighest) + histUnit/2) / histUnit
	_ = h.h.RecordValue(int64(min(us, histHighest/histUnit))) // in range: cannot fail
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

// Quantile returns the q-quantile (0 < q <= 1) by the nearest-rank definition (the
// ceil(q*n)-th smallest duration): the highest value of the HDR bucket holding that rank
// (ValueAtQuantile), so at most 0.1% + 0.5 µs above the exact value, clamped to the exact
// minimum and maximum; 0 when nothing was added.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	// ValueAtQuantile takes a percentile and rounds percentile/100*n to the nearest rank
	// (half up); asking for rank-0.25 lands on rank whatever the float rounding.
	pct := 100 * (float64(rank) - 0.25) / float64(h.n)
	v := time.Duration(h.h.ValueAtQuantile(pct)) * histUnit
	return min(max(v, h.min), h.max)
}

// Reset empties the histogram (keeping its counts' memory).
func (h *Histogram) Reset() {
	if h.h != nil {
		h.h.Reset()
	}
	h.n, h.sum, h.min, h.max = 0, 0, 0, 0
}
