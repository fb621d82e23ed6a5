package vision

import (
	"math"
	"slices"
)

// The background of a single frame is estimated on a coarse mesh, the way astronomical
// source extractors (SExtractor) do it: in each mesh cell, the median of the pixels after
// clipping those more than clipSigmas robust deviations from it (cells and debris are
// the outliers, on either side). A cell where the clipping removed much (an object fills
// a good part of it) is not trusted: a smooth polynomial surface fitted to the trusted
// cells gives its value, and also a ring of nodes just outside the frame, so that the
// corners, where vignetting falls fastest, are interpolated rather than held flat. The
// mesh is then interpolated bilinearly to the full frame (bicubic overshoots near the
// edges). The mesh is much larger than a cell and much smaller than the vignetting, so
// neither becomes part of the other.
const (
	clipSigmas    = 2.5
	clipRounds    = 3
	meshSubsample = 4    // every 4th pixel of every 4th row is enough for a median (over 1000 per cell)
	maxClipped    = 0.30 // a mesh cell that lost more than this share to clipping is filled from its neighbours
)

// meshSize picks the mesh cell size in pixels for a frame: an eighth of the shorter side,
// at least 24 px.
func meshSize(w, h, want int) int {
	if want > 0 {
		return want
	}
	return max(24, min(w, h)/8)
}

// mesh holds the coarse background grid of one frame: gw x gh cells of about cell x cell
// pixels, sized to divide the frame evenly.
type mesh struct {
	gw, gh int
	cw, ch float64   // cell width and height, px
	val    []float32 // gh*gw background levels at the cell centres
	ok     []bool
	ext    []uint8   // (gh+2)*(gw+2) levels with the extrapolated ring, for upsampling
	coef   []float64 // fitted surface, nil when none
	deg    int
	hist   [256]int
}

// estimate fills m from the 8-bit image pix (w x h, stride w).
func (m *mesh) estimate(pix []uint8, w, h, cell int) {
	m.gw, m.gh = max(1, int(math.Round(float64(w)/float64(cell)))), max(1, int(math.Round(float64(h)/float64(cell))))
	m.cw, m.ch = float64(w)/float64(m.gw), float64(h)/float64(m.gh)
	n := m.gw * m.gh
	m.val = slices.Grow(m.val[:0], n)[:n]
	m.ok = slices.Grow(m.ok[:0], n)[:n]
	for j := 0; j < m.gh; j++ {
		y0, y1 := j*h/m.gh, (j+1)*h/m.gh
		for i := 0; i < m.gw; i++ {
			x0, x1 := i*w/m.gw, (i+1)*w/m.gw
			clear(m.hist[:])
			for y := y0; y < y1; y += meshSubsample {
				row := pix[y*w+x0 : y*w+x1]
				for x := 0; x < len(row); x += meshSubsample {
					m.hist[row[x]]++
				}
			}
			v, kept := clippedMedian(&m.hist)
			m.val[j*m.gw+i], m.ok[j*m.gw+i] = v, kept >= 1-maxClipped
		}
	}
	m.flagOutliers()
	m.fill()
	m.extend()
}

// flagOutliers distrusts a cell whose level departs from what its neighbours predict: an
// object that fills most of a cell and has little texture passes the clipping test (its
// pixels agree with each other) but not this one. Each pair of opposite neighbours
// predicts their mean, which is exact for a gentle slope and close for curved
// vignetting; a cell on the border of the mesh uses the pairs it has (the one along the
// edge), a corner cell has none and keeps its trust. The median of the predictions
// stands, so one object-filled neighbour does not spoil it.
func (m *mesh) flagOutliers() {
	at := func(i, j int) (float64, bool) {
		if i < 0 || j < 0 || i >= m.gw || j >= m.gh || !m.ok[j*m.gw+i] {
			return 0, false
		}
		return float64(m.val[j*m.gw+i]), true
	}
	var bad []int
	var preds []float64
	for j := 0; j < m.gh; j++ {
		for i := 0; i < m.gw; i++ {
			v, ok := at(i, j)
			if !ok {
				continue
			}
			preds = preds[:0]
			for _, d := range [][2]int{{1, 0}, {0, 1}, {1, 1}, {1, -1}} {
				a, okA := at(i-d[0], j-d[1])
				b, okB := at(i+d[0], j+d[1])
				if okA && okB {
					preds = append(preds, (a+b)/2)
				}
			}
			if len(preds) == 0 {
				continue // a corner: extrapolating into the steepest vignetting proves nothing
			}
			slices.Sort(preds)
			p := preds[len(preds)/2]
			if len(preds)%2 == 0 {
				p = (preds[len(preds)/2-1] + p) / 2
			}
			if math.Abs(v-p) > math.Max(outlierLevels, outlierShare*p) {
				bad = append(bad, j*m.gw+i)
			}
		}
	}
	for _, c := range bad {
		m.ok[c] = false
	}
}

// A mesh cell more than outlierShare of the level, and at least outlierLevels gray
// levels, away from its neighbours' prediction is not trusted. Vignetting bends the
// light by at most a few percent between neighbouring cells; an object filling a cell
// changes it by far more.
const (
	outlierShare  = 0.08
	outlierLevels = 6
)

// clippedMedian returns the median of a histogram after clipping, clipRounds times, the
// values more than clipSigmas robust standard deviations (1.4826 MAD) from the median,
// and the share of values kept.
func clippedMedian(hist *[256]int) (float32, float64) {
	lo, hi := 0, 255
	med := histQuantile(hist, lo, hi, 0.5)
	for range clipRounds {
		mad := histMAD(hist, lo, hi, med)
		sd := math.Max(1.4826*mad, 1)
		nlo, nhi := max(0, int(math.Floor(med-clipSigmas*sd))), min(255, int(math.Ceil(med+clipSigmas*sd)))
		if nlo == lo && nhi == hi {
			break
		}
		lo, hi = nlo, nhi
		med = histQuantile(hist, lo, hi, 0.5)
	}
	all, kept := 0, 0
	for v, c := range hist {
		all += c
		if v >= lo && v <= hi {
			kept += c
		}
	}
	return float32(med), float64(kept) / float64(max(all, 1))
}

// histQuantile returns the q-quantile of the histogram values in [lo, hi], linearly
// interpolated inside the bin so that a median is not stuck on whole gray levels.
func histQuantile(hist *[256]int, lo, hi int, q float64) float64 {
	n := 0
	for v := lo; v <= hi; v++ {
		n += hist[v]
	}
	if n == 0 {
		return float64(lo+hi) / 2
	}
	target := q * float64(n)
	acc := 0
	for v := lo; v <= hi; v++ {
		c := hist[v]
		if c > 0 && float64(acc+c) >= target {
			return float64(v) - 0.5 + (target-float64(acc))/float64(c)
		}
		acc += c
	}
	return float64(hi)
}

// histMAD returns the median absolute deviation from med of the values in [lo, hi].
// The deviations are binned at half levels, since med falls between whole levels.
func histMAD(hist *[256]int, lo, hi int, med float64) float64 {
	var dev [512]int
	for v := lo; v <= hi; v++ {
		d := int(math.Round(2 * math.Abs(float64(v)-med)))
		dev[min(d, 511)] += hist[v]
	}
	n := 0
	for _, c := range dev {
		n += c
	}
	if n == 0 {
		return 0
	}
	target, acc := float64(n)/2, 0
	for d, c := range dev {
		if c > 0 && float64(acc+c) >= target {
			return math.Max((float64(d)-0.5+(target-float64(acc))/float64(c))/2, 0)
		}
		acc += c
	}
	return 255
}

// fill gives every untrusted cell a value: the smooth surface fitted to the trusted
// cells where there are enough of them, else the mean of its trusted neighbours
// (8-connected), growing inward. With no trusted cell at all (an object fills the frame)
// the cells keep their own medians.
func (m *mesh) fill() {
	trusted := 0
	for _, ok := range m.ok {
		if ok {
			trusted++
		}
	}
	if trusted == 0 || trusted == len(m.ok) {
		m.fitSurface()
		return
	}
	if m.fitSurface() {
		for c, ok := range m.ok {
			if !ok {
				m.val[c] = float32(m.surface(float64(c%m.gw), float64(c/m.gw)))
				m.ok[c] = true
			}
		}
		return
	}
	var next []int
	for slices.Contains(m.ok, false) {
		next = next[:0]
		for j := 0; j < m.gh; j++ {
			for i := 0; i < m.gw; i++ {
				if m.ok[j*m.gw+i] {
					continue
				}
				var s float32
				k := 0
				for dj := -1; dj <= 1; dj++ {
					for di := -1; di <= 1; di++ {
						jj, ii := j+dj, i+di
						if jj >= 0 && jj < m.gh && ii >= 0 && ii < m.gw && m.ok[jj*m.gw+ii] {
							s += m.val[jj*m.gw+ii]
							k++
						}
					}
				}
				if k > 0 {
					m.val[j*m.gw+i] = s / float32(k)
					next = append(next, j*m.gw+i)
				}
			}
		}
		for _, c := range next {
			m.ok[c] = true
		}
	}
}

// fitSurface fits a polynomial surface in the mesh coordinates to the trusted cells, by
// least squares: degree 4 with enough cells (vignetting and a tilted lamp are well within
// it), else degree 2. It reports whether a surface was fitted.
func (m *mesh) fitSurface() bool {
	var xs, ys, vs []float64
	for c, ok := range m.ok {
		if ok {
			xs, ys, vs = append(xs, float64(c%m.gw)), append(ys, float64(c/m.gw)), append(vs, float64(m.val[c]))
		}
	}
	m.coef = nil
	for _, deg := range []int{4, 2} {
		if n := (deg + 1) * (deg + 2) / 2; len(vs) >= 2*n && m.gw > deg && m.gh > deg {
			if coef, ok := polyFit(xs, ys, vs, deg, m.norm); ok {
				m.coef, m.deg = coef, deg
				return true
			}
		}
	}
	return false
}

// norm maps mesh coordinates to about [-1, 1], which keeps the fit well conditioned.
func (m *mesh) norm(x, y float64) (float64, float64) {
	return 2*(x+0.5)/float64(m.gw) - 1, 2*(y+0.5)/float64(m.gh) - 1
}

// surface evaluates the fitted surface at mesh coordinates (x, y).
func (m *mesh) surface(x, y float64) float64 {
	u, v := m.norm(x, y)
	return polyEval(m.coef, m.deg, u, v)
}

// extend writes the levels into m.ext with a ring of nodes outside the frame, so that
// interpolation follows the vignetting into the corners instead of holding it flat: each
// ring node continues the slope of the two nodes inside it (the corners take the slope
// along both axes). Untrusted cells were filled before, so the slope is the light's.
// A global polynomial would do worse here: real vignetting falls off faster in the
// corners than any gentle polynomial, and a polynomial's ends wander.
func (m *mesh) extend() {
	ew, eh := m.gw+2, m.gh+2
	ext := make([]float64, ew*eh)
	for j := 0; j < m.gh; j++ {
		for i := 0; i < m.gw; i++ {
			ext[(j+1)*ew+i+1] = float64(m.val[j*m.gw+i])
		}
	}
	out := func(near, inner float64, n int) float64 {
		if n < 2 {
			return near
		}
		return near + ringSlope*(near-inner)
	}
	for j := 1; j < eh-1; j++ { // left and right columns
		r := ext[j*ew : (j+1)*ew]
		r[0] = out(r[1], r[2], m.gw)
		r[ew-1] = out(r[ew-2], r[ew-3], m.gw)
	}
	for i := 0; i < ew; i++ { // top and bottom rows, corners included
		ext[i] = out(ext[ew+i], ext[2*ew+i], m.gh)
		ext[(eh-1)*ew+i] = out(ext[(eh-2)*ew+i], ext[(eh-3)*ew+i], m.gh)
	}
	m.ext = slices.Grow(m.ext[:0], ew*eh)[:ew*eh]
	for i, v := range ext {
		m.ext[i] = uint8(min(255, math.Max(1, math.Round(v))))
	}
}

// ringSlope is the share of the edge slope the ring continues.
const ringSlope = 1.0

// polyFit fits sum c_k u^a v^b (a+b <= deg) to the points by least squares (normal
// equations, Gaussian elimination with partial pivoting). It fails on a singular system.
func polyFit(xs, ys, vs []float64, deg int, norm func(x, y float64) (float64, float64)) ([]float64, bool) {
	n := (deg + 1) * (deg + 2) / 2
	a := make([]float64, n*(n+1)) // augmented normal matrix, n rows of n+1
	row := make([]float64, n)
	for p := range vs {
		u, v := norm(xs[p], ys[p])
		monomials(row, deg, u, v)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				a[i*(n+1)+j] += row[i] * row[j]
			}
			a[i*(n+1)+n] += row[i] * vs[p]
		}
	}
	for col := 0; col < n; col++ {
		piv := col
		for r := col + 1; r < n; r++ {
			if math.Abs(a[r*(n+1)+col]) > math.Abs(a[piv*(n+1)+col]) {
				piv = r
			}
		}
		if math.Abs(a[piv*(n+1)+col]) < 1e-9 {
			return nil, false
		}
		for k := 0; k <= n; k++ {
			a[col*(n+1)+k], a[piv*(n+1)+k] = a[piv*(n+1)+k], a[col*(n+1)+k]
		}
		for r := 0; r < n; r++ {
			if r == col {
				continue
			}
			f := a[r*(n+1)+col] / a[col*(n+1)+col]
			for k := col; k <= n; k++ {
				a[r*(n+1)+k] -= f * a[col*(n+1)+k]
			}
		}
	}
	coef := make([]float64, n)
	for i := range coef {
		coef[i] = a[i*(n+1)+n] / a[i*(n+1)+i]
	}
	return coef, true
}

// monomials writes u^a v^b for a+b <= deg into row, in a fixed order.
func monomials(row []float64, deg int, u, v float64) {
	k := 0
	for d := 0; d <= deg; d++ {
		for b := 0; b <= d; b++ {
			row[k] = math.Pow(u, float64(d-b)) * math.Pow(v, float64(b))
			k++
		}
	}
}

func polyEval(coef []float64, deg int, u, v float64) float64 {
	row := make([]float64, len(coef))
	monomials(row, deg, u, v)
	var s float64
	for i, c := range coef {
		s += c * row[i]
	}
	return s
}

// noiseSigma estimates the noise of the smoothed frame around its background from every
// 8th row of (frame - background): the standard deviation of the values within three
// standard deviations of the median, clipped twice, with Sheppard's correction for whole
// gray levels. Objects, a minority of the pixels beyond the clip, do not count; nor does
// a slight offset of the background. (A median absolute deviation would be simpler, but
// smoothed 8-bit noise often has a sigma under one gray level, where it rounds to 0.)
func noiseSigma(smooth, bg []uint8, w, h int) float64 {
	var hist [256]int
	for y := 0; y < h; y += 8 {
		s, b := smooth[y*w:(y+1)*w], bg[y*w:(y+1)*w]
		for x, v := range s {
			d := int(v) - int(b[x]) + 128
			hist[min(max(d, 0), 255)]++
		}
	}
	centre := histQuantile(&hist, 0, 255, 0.5)
	sd := math.Max(1.4826*histMAD(&hist, 0, 255, centre), 1)
	for range 2 {
		lo, hi := int(math.Floor(centre-3*sd)), int(math.Ceil(centre+3*sd))
		var n, sum, sum2 float64
		for v := max(lo, 0); v <= min(hi, 255); v++ {
			c := float64(hist[v])
			n += c
			sum += c * float64(v)
			sum2 += c * float64(v) * float64(v)
		}
		if n < 2 {
			break
		}
		mean := sum / n
		// A Gaussian clipped at 3 sigma keeps 97.3% of its variance.
		sd = math.Sqrt(math.Max(sum2/n-mean*mean-1.0/12, 0) / 0.973)
		sd = math.Max(sd, 0.5)
		centre = mean
	}
	return sd
}

// approachMedian moves the running background bg one step toward frame at every pixel:
// McFarlane and Schofield's approximate median, which converges on the temporal median of
// the frames at a cost of one comparison per pixel. Moving cells, present at a pixel less
// than half the time, do not pull it; the lamp and still dust on the optics do.
func approachMedian(bg, frame []uint8, step int) {
	s := uint8(step)
	for i, f := range frame {
		b := bg[i]
		switch {
		case f > b:
			if f-b < s {
				bg[i] = f
			} else {
				bg[i] = b + s
			}
		case f < b:
			if b-f < s {
				bg[i] = f
			} else {
				bg[i] = b - s
			}
		}
	}
}
