package screening

import (
	"fmt"
	"math"
	"sync"
)

// PoissonCI returns the exact (Garwood 1936) two-sided confidence interval for the mean
// of a Poisson variable observed as k, at confidence level conf (0.95 for 95%):
//
//	lower = chi2(alpha/2; 2k)/2     (0 when k = 0)
//	upper = chi2(1-alpha/2; 2k+2)/2
//
// computed as gamma quantiles, which is the same thing. It is exact for small counts,
// where the normal approximation k +- 1.96 sqrt(k) is badly wrong (it gives [0, 0] for
// k = 0). It panics when k < 0 or conf is not in (0, 1).
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
		lo = GammaQuantile(alpha/2, float64(k))
	}
	hi = GammaQuantile(1-alpha/2, float64(k)+1)
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
// incomplete gamma function (the CDF of a unit-scale gamma distribution). The chi-square
// quantile with n degrees of freedom is 2*GammaQuantile(p, n/2).
func GammaQuantile(p, shape float64) float64 {
	if !(p >= 0 && p <= 1) || !(shape > 0) {
		return math.NaN()
	}
	if p == 0 {
		return 0
	}
	if p == 1 {
		return math.Inf(1)
	}
	// Bracket the root, then polish with Newton steps that fall back to bisection
	// whenever a step leaves the bracket: robust for every shape and fast.
	lo, hi := 0.0, math.Max(1, shape)
	for GammaP(shape, hi) < p {
		lo, hi = hi, 2*hi
	}
	lg, _ := math.Lgamma(shape)
	x := (lo + hi) / 2
	for range 200 {
		f := GammaP(shape, x) - p
		if f < 0 {
			lo = x
		} else {
			hi = x
		}
		dens := math.Exp((shape-1)*math.Log(x) - x - lg)
		next := x - f/dens
		if !(next > lo && next < hi) || dens == 0 || math.IsNaN(next) {
			next = (lo + hi) / 2
		}
		if math.Abs(next-x) <= 1e-14*math.Max(1, x) {
			return next
		}
		x = next
	}
	return x
}

// GammaP is the regularised lower incomplete gamma function P(a, x) for a > 0, x >= 0:
// a power series below x = a+1 and Lentz's continued fraction for the complement above
// (Numerical Recipes, 3rd ed., 6.2), both to full double precision.
func GammaP(a, x float64) float64 {
	switch {
	case x <= 0:
		return 0
	case math.IsInf(x, 1):
		return 1
	case x < a+1:
		return gammaSeries(a, x)
	default:
		return 1 - gammaContinuedFraction(a, x)
	}
}

// logPrefix is log(x^a e^-x / Gamma(a)), the factor both expansions share.
func logPrefix(a, x float64) float64 {
	lg, _ := math.Lgamma(a)
	return a*math.Log(x) - x - lg
}

func gammaSeries(a, x float64) float64 {
	ap, del := a, 1/a
	sum := del
	for range 100000 {
		ap++
		del *= x / ap
		sum += del
		if math.Abs(del) < math.Abs(sum)*1e-16 {
			break
		}
	}
	return sum * math.Exp(logPrefix(a, x))
}

func gammaContinuedFraction(a, x float64) float64 {
	const tiny = 1e-300
	b := x + 1 - a
	c := 1 / tiny
	d := 1 / b
	h := d
	for i := 1; i < 100000; i++ {
		an := -float64(i) * (float64(i) - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = b + an/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < 1e-16 {
			break
		}
	}
	return math.Exp(logPrefix(a, x)) * h
}
