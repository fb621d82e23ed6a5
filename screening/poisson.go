package screening

import (
	"fmt"
	"math"
	"sync"

	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/gonum/stat/distuv"
)

// PoissonCI returns the exact (Garwood 1936) two-sided confidence interval for the mean
// of a Poisson variable observed as k, at confidence level conf (0.95 for 95%):
//
//	lower = chi2(alpha/2; 2k)/2     (0 when k = 0)
//	upper = chi2(1-alpha/2; 2k+2)/2
//
// with the chi-square quantiles from gonum (distuv.ChiSquared, which inverts the
// regularised incomplete gamma function). It is exact for small counts, where the normal
// approximation k +- 1.96 sqrt(k) is badly wrong (it gives [0, 0] for k = 0). It panics
// when k < 0 or conf is not in (0, 1).
func PoissonCI(k int, conf float64) (lo, hi float64) {
	if k < 0 || !(conf > 0 && conf < 1) {
		panic(fmt.Sprintf("PoissonCI(%d, %v): need k >= 0 and 0 < conf < 1", k, conf))
	}
	key := ciKey{k, conf}
	if v, ok := ciCache.Load(key); ok {
		iv := v.([2]float64)
		return iv[0], iv[1]
	}
	alpha := 1 - conf
	if k > 0 {
		lo = distuv.ChiSquared{K: float64(2 * k)}.Quantile(alpha/2) / 2
	}
	hi = distuv.ChiSquared{K: float64(2*k + 2)}.Quantile(1-alpha/2) / 2
	if k < ciCacheMax {
		ciCache.Store(key, [2]float64{lo, hi})
	}
	return lo, hi
}

type ciKey struct {
	k    int
	conf float64
}

// ciCache memoises intervals: a live tally asks for the same small counts many times a
// second. Bounded by ciCacheMax counts per confidence level.
var ciCache sync.Map

const ciCacheMax = 1 << 16

// GammaQuantile returns x such that P(shape, x) = p, where P is the regularised lower
// incomplete gamma function (the CDF of a unit-scale gamma distribution): gonum's
// mathext.GammaIncRegInv. The chi-square quantile with n degrees of freedom is
// 2*GammaQuantile(p, n/2). It returns NaN when p is outside [0, 1] or shape <= 0, and
// where gonum fails: its root finder can step below 0 and panic for lower-tail p far
// below anything a confidence level asks for (under about 1e-20; PoissonCI never does).
func GammaQuantile(p, shape float64) (x float64) {
	if !(p >= 0 && p <= 1) || !(shape > 0) {
		return math.NaN()
	}
	if p == 0 {
		return 0
	}
	if p == 1 {
		return math.Inf(1)
	}
	defer func() {
		if recover() != nil {
			x = math.NaN()
		}
	}()
	return mathext.GammaIncRegInv(shape, p)
}

// GammaP is the regularised lower incomplete gamma function P(a, x) for a > 0, x >= 0:
// gonum's mathext.GammaIncReg. It returns 0 for x <= 0, 1 for x = +Inf, and NaN when
// a <= 0 or either argument is NaN.
func GammaP(a, x float64) float64 {
	switch {
	case !(a > 0) || math.IsNaN(x):
		return math.NaN()
	case x <= 0:
		return 0
	case math.IsInf(x, 1):
		return 1
	}
	return mathext.GammaIncReg(a, x)
}
