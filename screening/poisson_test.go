package screening

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/mathext"
)

// Published exact (Garwood) 95% intervals for a Poisson count, e.g. Ulm (1990) Am J
// Epidemiol 131:373 table, and chi-square tables (lower = chi2(0.025;2k)/2, upper =
// chi2(0.975;2k+2)/2).
func TestPoissonCIPublished(t *testing.T) {
	cases := []struct {
		k      int
		lo, hi string // as printed: the value must round to these digits
	}{
		{0, "0", "3.689"},
		{1, "0.0253", "5.572"},
		{2, "0.2422", "7.225"},
		{3, "0.6187", "8.767"},
		{4, "1.090", "10.24"},
		{5, "1.623", "11.67"},
		{10, "4.795", "18.39"},
		{20, "12.22", "30.89"},
		{50, "37.11", "65.92"},
		{100, "81.36", "121.6"},
	}
	for _, c := range cases {
		lo, hi := PoissonCI(c.k, 0.95)
		if !roundsTo(lo, c.lo) || !roundsTo(hi, c.hi) {
			t.Errorf("PoissonCI(%d) = [%.6g, %.6g], published [%s, %s]", c.k, lo, hi, c.lo, c.hi)
		}
	}
}

// Five significant figures for two rows, each checked three ways: against the printed
// values, against bisection on gonum's regularised incomplete gamma (mathext.GammaIncReg
// and GammaIncRegComp, so independent of the inversion PoissonCI uses), and (when the
// values were chosen) against a 40-digit mpmath computation by two routes (bisection on
// the incomplete gamma, and on direct Poisson sums), which agree to 12 digits:
// k=5 [1.62348639012, 11.6683320793], k=100 [81.3639912509, 121.626793792].
//
// Sources: k=5 is chi2 lower 0.975 critical value for 10 df = 3.247 and upper 0.025 for
// 12 df = 23.337 (NIST/SEMATECH e-Handbook of Statistical Methods, 1.3.6.7.4), halved;
// k=100 lower is the 200 df row of standard chi-square tables (chi2(0.025; 200) =
// 162.728), halved; its upper bound (202 df) is not tabulated and rests on the
// computations above.
func TestPoissonCIFiveFigures(t *testing.T) {
	cases := []struct {
		k      int
		lo, hi string
	}{
		{5, "1.6235", "11.668"},
		{100, "81.364", "121.627"},
	}
	for _, c := range cases {
		lo, hi := PoissonCI(c.k, 0.95)
		if !roundsTo(lo, c.lo) || !roundsTo(hi, c.hi) {
			t.Errorf("PoissonCI(%d) = [%.8g, %.8g], published [%s, %s]", c.k, lo, hi, c.lo, c.hi)
		}
		// lower: P(k, x) = 0.025 (chi2(0.025; 2k)/2); upper: Q(k+1, x) = 0.025.
		bLo := bisect(func(x float64) float64 { return mathext.GammaIncReg(float64(c.k), x) - 0.025 }, 0, 1000)
		bHi := bisect(func(x float64) float64 { return 0.025 - mathext.GammaIncRegComp(float64(c.k+1), x) }, 0, 1000)
		if math.Abs(lo-bLo) > 1e-10*bLo || math.Abs(hi-bHi) > 1e-10*bHi {
			t.Errorf("PoissonCI(%d) = [%.12g, %.12g], bisection [%.12g, %.12g]", c.k, lo, hi, bLo, bHi)
		}
	}
}

// bisect finds the root of an increasing f in [lo, hi].
func bisect(f func(float64) float64, lo, hi float64) float64 {
	for range 200 {
		mid := (lo + hi) / 2
		if f(mid) < 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// roundsTo reports whether v rounds to the printed decimal s (same number of decimals).
func roundsTo(v float64, s string) bool {
	decimals := 0
	if i := strings.IndexByte(s, '.'); i >= 0 {
		decimals = len(s) - i - 1
	}
	return strconv.FormatFloat(v, 'f', decimals, 64) == s
}

// close4 compares to the 4 significant figures tables print.
func close4(got, want float64) bool {
	if want == 0 {
		return got == 0
	}
	return math.Abs(got-want) <= 6e-4*math.Abs(want)
}

// The interval's defining property, checked by direct Poisson summation (independent of
// the incomplete-gamma code): at the upper bound P(X <= k) = alpha/2, at the lower bound
// P(X >= k) = alpha/2.
func TestPoissonCIDefinition(t *testing.T) {
	for _, conf := range []float64{0.9, 0.95, 0.99} {
		a2 := (1 - conf) / 2
		for _, k := range []int{0, 1, 3, 7, 15, 40, 120, 400} {
			lo, hi := PoissonCI(k, conf)
			if got := poissonCDF(k, hi); math.Abs(got-a2) > 1e-9 {
				t.Errorf("conf %v k %d: P(X<=k | mu=%g) = %g, want %g", conf, k, hi, got, a2)
			}
			if k > 0 {
				if got := 1 - poissonCDF(k-1, lo); math.Abs(got-a2) > 1e-9 {
					t.Errorf("conf %v k %d: P(X>=k | mu=%g) = %g, want %g", conf, k, lo, got, a2)
				}
			}
			if !(lo <= float64(k) && float64(k) <= hi) {
				t.Errorf("conf %v k %d: interval [%g, %g] does not hold k", conf, k, lo, hi)
			}
		}
	}
}

func poissonCDF(k int, mu float64) float64 {
	sum, term := 0.0, math.Exp(-mu)
	for i := 0; i <= k; i++ {
		if i > 0 {
			term *= mu / float64(i)
		}
		sum += term
	}
	return sum
}

// Chi-square table values: 2*GammaQuantile(p, df/2).
func TestChiSquareQuantiles(t *testing.T) {
	cases := []struct{ p, df, want float64 }{
		{0.975, 1, 5.0239},
		{0.95, 2, 5.9915},
		{0.05, 10, 3.9403},
		{0.95, 10, 18.307},
		{0.5, 30, 29.336},
		{0.999, 100, 149.449},
	}
	for _, c := range cases {
		if got := 2 * GammaQuantile(c.p, c.df/2); math.Abs(got-c.want) > 2e-4*c.want {
			t.Errorf("chi2(%v; %v) = %.5f, want %.4f", c.p, c.df, got, c.want)
		}
	}
	if !math.IsNaN(GammaQuantile(1.5, 2)) || !math.IsNaN(GammaQuantile(0.5, 0)) {
		t.Error("GammaQuantile accepts p outside [0,1] or shape 0")
	}
	if GammaQuantile(0, 3) != 0 || !math.IsInf(GammaQuantile(1, 3), 1) {
		t.Error("GammaQuantile(0) != 0 or GammaQuantile(1) != +Inf")
	}
}

// GammaP against closed forms: P(1, x) = 1 - e^-x, P(1/2, x) = erf(sqrt x),
// P(2, x) = 1 - (1+x) e^-x.
func TestGammaP(t *testing.T) {
	for _, x := range []float64{1e-8, 0.01, 0.5, 1, 2.5, 7, 30} {
		for _, c := range []struct{ a, want float64 }{
			{1, -math.Expm1(-x)},
			{0.5, math.Erf(math.Sqrt(x))},
			{2, 1 - (1+x)*math.Exp(-x)},
		} {
			// (the a = 2 form loses digits to cancellation near 0: 1e-15 absolute)
			if got := GammaP(c.a, x); math.Abs(got-c.want) > 1e-13*c.want+1e-15 {
				t.Errorf("GammaP(%v, %v) = %.16g, want %.16g", c.a, x, got, c.want)
			}
		}
	}
	if GammaP(2, 0) != 0 || GammaP(2, -1) != 0 || GammaP(2, math.Inf(1)) != 1 {
		t.Error("GammaP edges: want 0 at x <= 0 and 1 at +Inf")
	}
	if !math.IsNaN(GammaP(0, 1)) || !math.IsNaN(GammaP(1, math.NaN())) {
		t.Error("GammaP accepts shape 0 or x NaN")
	}
}

// The normal approximation the issue forbids would fail this: for k = 0 it gives a zero
// width interval, and for k = 1 a negative lower bound.
func TestPoissonCINotNormalApproximation(t *testing.T) {
	if _, hi := PoissonCI(0, 0.95); hi < 3 {
		t.Fatalf("k=0 upper bound %g: a zero count still allows up to 3.69 cells", hi)
	}
	if lo, _ := PoissonCI(1, 0.95); lo <= 0 {
		t.Fatalf("k=1 lower bound %g must be positive", lo)
	}
}

func TestConcentration(t *testing.T) {
	// Hand computation: 7 cells in 0.5 mL of a sample diluted 1+1 (factor 2):
	// 7 / 0.0005 L x 2 = 28,000 cells/L; interval [2.814, 14.42] x 4,000.
	s := NewSample("S1")
	s.VolumeML, s.Factor = 0.5, 2
	c := s.Concentration(7)
	if c.PerL != 28000 {
		t.Fatalf("7 cells in 0.5 mL x2 = %v cells/L, want 28000", c.PerL)
	}
	if !close4(c.Low, 2.8143*4000) || !close4(c.High, 14.423*4000) {
		t.Fatalf("interval [%v, %v], want [11257, 57692]", c.Low, c.High)
	}
	// Concentrated tenfold (1 L settled to 100 mL), 1 mL counted: 40 cells -> 4,000 cells/L.
	s.VolumeML, s.Factor = 1, 0.1
	if c := s.Concentration(40); math.Abs(c.PerL-4000) > 1e-9 {
		t.Fatalf("40 cells in 1 mL of a tenfold concentrate = %v cells/L, want 4000", c.PerL)
	}
}

func TestSampleValidate(t *testing.T) {
	ok := NewSample("S1")
	cases := []struct {
		name string
		edit func(*Sample)
		want string // substring of the error, "" when valid
	}{
		{"defaults", func(*Sample) {}, ""},
		{"empty id", func(s *Sample) { s.ID = " " }, "sample ID is empty"},
		{"slash", func(s *Sample) { s.ID = "a/b" }, "slash"},
		{"zero volume", func(s *Sample) { s.VolumeML = 0 }, "volume examined 0 mL"},
		{"nan volume", func(s *Sample) { s.VolumeML = math.NaN() }, "volume examined NaN"},
		{"negative factor", func(s *Sample) { s.Factor = -1 }, "factor -1"},
		{"bad latitude", func(s *Sample) { s.Lat, s.Lon = 91, 3 }, "decimal degrees"},
		{"position", func(s *Sample) { s.Lat, s.Lon = 56.1, 10.2 }, ""},
		{"not utf-8", func(s *Sample) { s.ID = "x\xff" }, "not UTF-8"},
		{"site not utf-8", func(s *Sample) { s.Site = "Lac \xe9" }, "site \"Lac \\xe9\" is not UTF-8"},
		{"64 characters", func(s *Sample) { s.ID = strings.Repeat("湖", 64) }, ""},
		{"65 characters", func(s *Sample) { s.ID = strings.Repeat("S", 65) }, "65 characters (65 bytes) is too long"},
		{"a companion past 64", func(s *Sample) { s.ID = strings.Repeat("S", 64) + "~ndsb-plankton-121-v2~optimised" }, ""},
		{"5,000 characters", func(s *Sample) { s.ID = strings.Repeat("S", 5000) }, "give at most 64 characters"},
		{"site of 120 characters", func(s *Sample) { s.Site = strings.Repeat("é", 120) }, ""},
		{"site of 1,000 characters", func(s *Sample) { s.Site = strings.Repeat("Loch ", 200) }, "site of 1000 characters is too long: give at most 120"},
	}
	for _, c := range cases {
		s := ok
		c.edit(&s)
		err := s.Validate()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: unexpected error %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func BenchmarkPoissonCIUncached(b *testing.B) {
	for i := range b.N {
		PoissonCI(ciCacheMax+i%1000, 0.95)
	}
}

func TestSampleJSONLeavesOutUnknownPosition(t *testing.T) {
	s := NewSample("S1")
	s.Taken = time.Date(2025, 6, 3, 9, 30, 0, 0, time.UTC)
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); got != `{"id":"S1","taken":"2025-06-03T09:30:00Z","volume_ml":1,"factor":1}` {
		t.Errorf("JSON %s", got)
	}
	s.Lat, s.Lon = 56.95, 9.05
	b, _ = json.Marshal(s)
	if !strings.Contains(string(b), `"lat":56.95,"lon":9.05`) {
		t.Errorf("JSON %s lacks the position", b)
	}
}

// A rule counts cells: objects that are colonies or filaments are scaled to the cells
// estimated in them, interval included; objects of one cell each are left as counted.
func TestRuleMeasureScalesToCells(t *testing.T) {
	s := Sample{VolumeML: 0.1, Factor: 1}
	c := s.Concentration(40)
	m := RuleMeasure(s.Concentration(40), 400)
	if m.Count != 40 || m.Cells != 400 || math.Abs(m.PerL-10*c.PerL) > 1e-6 || math.Abs(m.Low-10*c.Low) > 1e-6 || math.Abs(m.High-10*c.High) > 1e-6 {
		t.Errorf("40 colonies of 400 cells: %+v; objects %+v", m, c)
	}
	if m := RuleMeasure(s.Concentration(40), 40); m.Cells != 0 || m.PerL != c.PerL {
		t.Errorf("40 single cells: %+v, want the objects' %+v", m, c)
	}
	if m := RuleMeasure(s.Concentration(0), 0); m.PerL != 0 || m.Cells != 0 {
		t.Errorf("nothing counted: %+v", m)
	}
}

// A volume a microscope cannot examine at once is allowed (a flow imager's bottle) but
// questioned; the usual volumes are not.
func TestSampleDoubts(t *testing.T) {
	for ml, doubted := range map[float64]bool{0.05: false, 1: false, 100: false, 100.5: true, 1e6: true} {
		s := NewSample("S")
		s.VolumeML = ml
		if err := s.Validate(); err != nil {
			t.Fatalf("%v mL: %v", ml, err)
		}
		if got := len(s.Doubts()) > 0; got != doubted {
			t.Errorf("%v mL: doubted %v, want %v (%q)", ml, got, doubted, s.Doubts())
		}
	}
	// A partial run's share of the volume is said to six figures.
	s := NewSample("S")
	s.VolumeML = 500 * 17 / 18.0
	if d := s.Doubts(); len(d) != 1 || !strings.HasPrefix(d[0], "472.222 mL examined is more than") {
		t.Errorf("%q", d)
	}
}
