package teach

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
	"gonum.org/v1/gonum/stat"
)

// head is one model's fitted head: the new taxa's scores W f' + b on the features f'
// standardised by mu and sd.
type head struct {
	mu, sd []float64
	w      *mat.Dense // k x d
	b      []float64
}

// problem is a multinomial logistic regression on standardised features x (n x d) with
// k fitted classes. With offset, every row also has the old classes, whose scores are
// fixed and add up (in exp) to exp(s[i]); y[i] = -1 marks a row of an old class.
type problem struct {
	x      *mat.Dense
	y      []int
	s      []float64 // per row: log of the old classes' summed probability (offset only)
	k      int
	offset bool
	lambda float64
	start  []float64 // where the optimiser starts (nil: zero)
	// negWeight weighs the rows of old classes (y -1): the pack's own taxa count as much,
	// in all, as the new taxa's crops, however few of them there are.
	negWeight float64
}

// standardise returns the columns' means and standard deviations over rows (a constant
// column gets sd 1) and the standardised matrix.
func standardise(rows [][]float32) (mu, sd []float64, x *mat.Dense) {
	n, d := len(rows), len(rows[0])
	x = mat.NewDense(n, d, nil)
	for i, r := range rows {
		for j, v := range r {
			x.Set(i, j, float64(v))
		}
	}
	mu, sd = make([]float64, d), make([]float64, d)
	col := make([]float64, n)
	for j := range d {
		mat.Col(col, j, x)
		mu[j], sd[j] = stat.MeanStdDev(col, nil)
		if !(sd[j] > 1e-6) {
			sd[j] = 1
		}
	}
	applyStd(x, mu, sd)
	return mu, sd, x
}

// applyStd standardises x's columns in place.
func applyStd(x *mat.Dense, mu, sd []float64) {
	n, d := x.Dims()
	for i := range n {
		r := x.RawRowView(i)
		for j := range d {
			r[j] = (r[j] - mu[j]) / sd[j]
		}
	}
}

// loss is the weighted mean log-loss plus lambda/2 |W|^2 at theta (W row-major, then b)
// and, when grad is not nil, its gradient. z and dz are n x k scratch matrices.
func (p *problem) loss(theta, grad []float64, z, dz *mat.Dense) float64 {
	n, d := p.x.Dims()
	k := p.k
	w := mat.NewDense(k, d, theta[:k*d])
	b := theta[k*d:]
	z.Mul(p.x, w.T())
	loss := 0.0
	for i := range n {
		zi := z.RawRowView(i)
		floats.Add(zi, b)
		m := floats.Max(zi)
		if p.offset {
			m = max(m, p.s[i])
		}
		sum := 0.0
		for _, v := range zi {
			sum += math.Exp(v - m)
		}
		if p.offset {
			sum += math.Exp(p.s[i] - m)
		}
		lse := m + math.Log(sum)
		var target float64
		if p.y[i] >= 0 {
			target = zi[p.y[i]]
		} else {
			target = p.s[i]
		}
		wi := 1.0
		if p.y[i] < 0 && p.negWeight > 0 {
			wi = p.negWeight
		}
		loss += wi * (lse - target)
		if grad != nil {
			di := dz.RawRowView(i)
			for j, v := range zi {
				di[j] = wi * math.Exp(v-lse) / float64(n)
			}
			if p.y[i] >= 0 {
				di[p.y[i]] -= 1 / float64(n)
			}
		}
	}
	loss = loss/float64(n) + p.lambda/2*floats.Dot(theta[:k*d], theta[:k*d])
	if grad != nil {
		gw := mat.NewDense(k, d, grad[:k*d])
		gw.Mul(dz.T(), p.x)
		floats.AddScaled(grad[:k*d], p.lambda, theta[:k*d])
		for j := range k {
			grad[k*d+j] = floats.Sum(mat.Col(nil, j, dz))
		}
	}
	return loss
}

// fit minimises loss with L-BFGS.
func (p *problem) fit() (*mat.Dense, []float64, error) {
	n, d := p.x.Dims()
	k := p.k
	z := mat.NewDense(n, k, nil)
	dz := mat.NewDense(n, k, nil)
	value := func(theta, grad []float64) float64 { return p.loss(theta, grad, z, dz) }
	// gonum evaluates Func then Grad at the same point: compute both once.
	var lastX, lastG []float64
	lastF := 0.0
	eval := func(theta []float64) {
		if lastX != nil && floats.Equal(lastX, theta) {
			return
		}
		if lastX == nil {
			lastX, lastG = make([]float64, len(theta)), make([]float64, len(theta))
		}
		copy(lastX, theta)
		lastF = value(theta, lastG)
	}
	prob := optimize.Problem{
		Func: func(theta []float64) float64 { eval(theta); return lastF },
		Grad: func(grad, theta []float64) { eval(theta); copy(grad, lastG) },
	}
	theta0 := make([]float64, k*d+k)
	if p.start != nil {
		copy(theta0, p.start)
	}
	res, err := optimize.Minimize(prob, theta0, &optimize.Settings{GradientThreshold: 1e-4, MajorIterations: 300}, &optimize.LBFGS{})
	if err != nil && (res == nil || !acceptable(res.Status)) {
		return nil, nil, fmt.Errorf("fit the head: %w", err)
	}
	if res == nil || math.IsNaN(res.F) {
		return nil, nil, errors.New("fit the head: the optimiser diverged")
	}
	w := mat.NewDense(k, d, append([]float64(nil), res.X[:k*d]...))
	return w, append([]float64(nil), res.X[k*d:]...), nil
}

// acceptable reports whether an optimiser's stop is a usable fit (a limit reached, or no
// further progress at a point that is still a good one).
func acceptable(s optimize.Status) bool {
	switch s {
	case optimize.GradientThreshold, optimize.FunctionConvergence, optimize.IterationLimit, optimize.FunctionEvaluationLimit, optimize.Success:
		return true
	}
	return false
}

// fitHead fits a head on the rows' features (raw) and targets. The optimiser starts from
// start's weights when given (a fit of the same rows with another L2 strength).
func fitHead(feats [][]float32, y []int, s []float64, k int, offset bool, lambda float64, start *head) (*head, error) {
	mu, sd, x := standardise(feats)
	p := &problem{x: x, y: y, s: s, k: k, offset: offset, lambda: lambda}
	if offset {
		var pos, neg int
		for _, v := range y {
			if v < 0 {
				neg++
			} else {
				pos++
			}
		}
		if neg > 0 {
			p.negWeight = max(1, float64(pos)/float64(neg))
		}
	}
	if start != nil {
		p.start = append(slices.Clone(start.w.RawMatrix().Data), start.b...)
	}
	w, b, err := p.fit()
	if err != nil {
		return nil, err
	}
	return &head{mu: mu, sd: sd, w: w, b: b}, nil
}

// shifted is the head with bias added to its scores (h itself when bias is nil).
func (h *head) shifted(bias []float64) *head {
	if bias == nil {
		return h
	}
	c := *h
	c.b = slices.Clone(h.b)
	floats.Add(c.b, bias)
	return &c
}

// biasOf is Options.Bias as a vector over the new labels; a label it names must be one
// of them.
func biasOf(bias map[string]float64, newLabels []string) ([]float64, error) {
	if len(bias) == 0 {
		return nil, nil
	}
	v := make([]float64, len(newLabels))
	for l, b := range bias {
		i := slices.Index(newLabels, l)
		if i < 0 {
			return nil, fmt.Errorf("bias for %q: not a taxon taught here (new taxa: %s); a bias shifts a new taxon's score only", l, strings.Join(newLabels, ", "))
		}
		if math.IsNaN(b) || math.IsInf(b, 0) {
			return nil, fmt.Errorf("bias for %q: %v is not a finite number of log-odds", l, b)
		}
		v[i] = b
	}
	return v, nil
}

// scores are the head's new-class scores for raw features f.
func (h *head) scores(f []float32) []float64 {
	k, d := h.w.Dims()
	x := make([]float64, d)
	for j := range d {
		x[j] = (float64(f[j]) - h.mu[j]) / h.sd[j]
	}
	out := make([]float64, k)
	mat.NewVecDense(k, out).MulVec(h.w, mat.NewVecDense(d, x))
	floats.Add(out, h.b)
	return out
}

// folded is the head on raw features, as the ONNX graph computes it: W/sd and
// b - W (mu/sd), in float32, W row-major k x d.
func (h *head) folded() (w []float32, b []float32) {
	k, d := h.w.Dims()
	w, b = make([]float32, k*d), make([]float32, k)
	for i := range k {
		bi := h.b[i]
		for j := range d {
			wij := h.w.At(i, j) / h.sd[j]
			w[i*d+j] = float32(wij)
			bi -= wij * h.mu[j]
		}
		b[i] = float32(bi)
	}
	return w, b
}

// logSum is the log of the summed probabilities (the offsets' log-sum-exp).
func logSum(probs []float32) float64 {
	s := 0.0
	for _, p := range probs {
		s += float64(p)
	}
	return math.Log(max(s, 1e-30))
}

// logProb is the log of a probability as the graph computes it: Log(Max(p, 1e-30)).
func logProb(p float32) float64 { return math.Log(float64(max(p, 1e-30))) }
