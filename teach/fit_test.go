package teach

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// The loss's gradient is its derivative: checked against central differences, with and
// without offsets and with weighted negatives.
func TestLossGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n, d, k := 12, 4, 3
	x := mat.NewDense(n, d, nil)
	for i := range n {
		for j := range d {
			x.Set(i, j, rng.NormFloat64())
		}
	}
	for _, offset := range []bool{false, true} {
		p := &problem{x: x, k: k, offset: offset, lambda: 0.05, negWeight: 2.5}
		for i := range n {
			y := i % k
			if offset && i%4 == 0 {
				y = -1
			}
			p.y = append(p.y, y)
			p.s = append(p.s, math.Log(0.9+0.1*rng.Float64()))
		}
		theta := make([]float64, k*d+k)
		for i := range theta {
			theta[i] = rng.NormFloat64()
		}
		z, dz := mat.NewDense(n, k, nil), mat.NewDense(n, k, nil)
		grad := make([]float64, len(theta))
		p.loss(theta, grad, z, dz)
		for i := range theta {
			const h = 1e-6
			up, down := append([]float64(nil), theta...), append([]float64(nil), theta...)
			up[i] += h
			down[i] -= h
			num := (p.loss(up, nil, z, dz) - p.loss(down, nil, z, dz)) / (2 * h)
			if math.Abs(num-grad[i]) > 1e-6*max(1, math.Abs(num)) {
				t.Fatalf("offset %v: d loss / d theta[%d] = %g, numerically %g", offset, i, grad[i], num)
			}
		}
	}
}

// synthetic makes crops of new classes (Gaussian clusters in feature space, the old
// model unsure of them) and of old classes (another region, the old model sure).
func synthetic(rng *rand.Rand, centres [][]float64, perNew, old, k0 int) (feats, probs [][]float32, y []int) {
	k1, d := len(centres)-1, len(centres[0])
	add := func(c, label int, sure bool) {
		f := make([]float32, d)
		for j := range d {
			f[j] = float32(centres[c][j] + rng.NormFloat64())
		}
		p := make([]float32, k0)
		for i := range p {
			p[i] = 1 / float32(k0)
		}
		if sure {
			for i := range p {
				p[i] = 0.02 / float32(k0-1)
			}
			p[rng.IntN(k0)] = 0.98
		}
		feats, probs, y = append(feats, f), append(probs, p), append(y, label)
	}
	for c := range k1 {
		for range perNew {
			add(c, c, false)
		}
	}
	for range old {
		add(k1, -1, true)
	}
	return feats, probs, y
}

// A head fitted on well-separated new classes calls held-out crops of them right and
// leaves the old classes' crops to the old model.
func TestHeadLearnsNewKeepsOld(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const k0, k1, d = 7, 3, 16
	centres := make([][]float64, k1+1)
	for c := range centres {
		centres[c] = make([]float64, d)
		for j := range d {
			centres[c][j] = 3 * rng.NormFloat64()
		}
	}
	feats, probs, y := synthetic(rng, centres, 20, 60, k0)
	s := make([]float64, len(probs))
	for i, p := range probs {
		s[i] = logSum(p)
	}
	h, err := fitHead(feats, y, s, k1, true, 1e-2, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Held-out crops: a new draw from the same classes.
	tf, tp, ty := synthetic(rng, centres, 20, 60, k0)
	rightNew, rightOld, nNew, nOld := 0, 0, 0, 0
	for i := range tf {
		got, _ := predict(h, tf[i], tp[i])
		if ty[i] >= 0 {
			nNew++
			if got == k0+ty[i] {
				rightNew++
			}
		} else {
			nOld++
			if got == argmax(tp[i]) {
				rightOld++
			}
		}
	}
	if float64(rightNew)/float64(nNew) < 0.95 || rightOld != nOld {
		t.Errorf("held out: %d/%d new crops right, %d/%d old crops kept their old label", rightNew, nNew, rightOld, nOld)
	}
	// The folded head (raw features) scores as the standardised one does.
	w, b := h.folded()
	for i := range 5 {
		z := h.scores(tf[i])
		for c := range k1 {
			v := float64(b[c])
			for j := range d {
				v += float64(w[c*d+j]) * float64(tf[i][j])
			}
			if math.Abs(v-z[c]) > 1e-3*max(1, math.Abs(z[c])) {
				t.Fatalf("folded head scores %g, the head %g", v, z[c])
			}
		}
	}
}
