package vision

import (
	"image"
	"image/png"
	"math"
	"os"
	"testing"

	"github.com/phytoscreen/phytoscreen/capture"

	"github.com/phytoscreen/phytoscreen/synth"
	"gocv.io/x/gocv"
)

// grayMat copies a gray image into a new Mat owned by OpenCV.
func grayMat(t testing.TB, g *image.Gray) gocv.Mat {
	t.Helper()
	m, err := capture.ImageToMat(g)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	return m.Clone()
}

// rgbaMat copies a rendered RGBA frame into a new BGR Mat owned by OpenCV.
func rgbaMat(t testing.TB, img *image.RGBA) gocv.Mat {
	t.Helper()
	bgr := make([]byte, 3*img.Rect.Dx()*img.Rect.Dy())
	synth.RGBAToBGR(bgr, img)
	m, err := gocv.NewMatFromBytes(img.Rect.Dy(), img.Rect.Dx(), gocv.MatTypeCV8UC3, bgr)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	return m.Clone()
}

// scene draws a test frame: a background level with optional radial vignetting (the
// share of light lost in the corners), and shapes painted on it at given levels.
type scene struct {
	w, h     int
	level    float64
	vignette float64
	shapes   []shape
}

// shape is a filled region given by an inside test, painted as a multiple of the local
// background (0.5: half as bright, 1.6: brighter).
type shape struct {
	box    image.Rectangle
	inside func(x, y float64) bool
	factor float64
}

func disk(cx, cy, r, factor float64) shape {
	return shape{
		box:    image.Rect(int(cx-r)-1, int(cy-r)-1, int(cx+r)+2, int(cy+r)+2),
		inside: func(x, y float64) bool { return (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r },
		factor: factor,
	}
}

func ellipse(cx, cy, a, b, angle, factor float64) shape {
	ca, sa := math.Cos(angle), math.Sin(angle)
	r := math.Max(a, b)
	return shape{
		box: image.Rect(int(cx-r)-1, int(cy-r)-1, int(cx+r)+2, int(cy+r)+2),
		inside: func(x, y float64) bool {
			u, v := (x-cx)*ca+(y-cy)*sa, -(x-cx)*sa+(y-cy)*ca
			return u*u/(a*a)+v*v/(b*b) <= 1
		},
		factor: factor,
	}
}

func rect(x0, y0, x1, y1 int, factor float64) shape {
	return shape{
		box: image.Rect(x0, y0, x1, y1),
		inside: func(x, y float64) bool {
			return x >= float64(x0) && x < float64(x1) && y >= float64(y0) && y < float64(y1)
		},
		factor: factor,
	}
}

func (s scene) gray() *image.Gray {
	g := image.NewGray(image.Rect(0, 0, s.w, s.h))
	cx, cy := float64(s.w)/2, float64(s.h)/2
	r2 := cx*cx + cy*cy
	for y := 0; y < s.h; y++ {
		for x := 0; x < s.w; x++ {
			fx, fy := float64(x)+0.5, float64(y)+0.5
			v := s.level * (1 - s.vignette*((fx-cx)*(fx-cx)+(fy-cy)*(fy-cy))/r2)
			for _, sh := range s.shapes {
				if (image.Point{x, y}).In(sh.box) && sh.inside(fx, fy) {
					v *= sh.factor
				}
			}
			g.Pix[y*g.Stride+x] = uint8(math.Max(0, math.Min(255, math.Round(v))))
		}
	}
	return g
}

// addNoise adds deterministic Gaussian-like noise (sum of uniforms) of the given sigma.
func addNoise(g *image.Gray, sigma float64, seed uint32) {
	s := seed | 1
	next := func() float64 {
		s ^= s << 13
		s ^= s >> 17
		s ^= s << 5
		return float64(s) / float64(math.MaxUint32)
	}
	for i, v := range g.Pix {
		n := (next() + next() + next() + next() - 2) * math.Sqrt(3) * sigma
		g.Pix[i] = uint8(math.Max(0, math.Min(255, math.Round(float64(v)+n))))
	}
}

// detect runs Detect on a gray image with the given options.
func detect(t testing.TB, g *image.Gray, opt Options) []Object {
	t.Helper()
	seg, err := NewSegmenter(opt)
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	m := grayMat(t, g)
	defer m.Close()
	objs, err := seg.Detect(m, "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// quietStatus collects statuses instead of logging them.
type statusLog struct{ events []capture.Status }

func (l *statusLog) add(s capture.Status) { l.events = append(l.events, s) }

func (l *statusLog) count(k capture.StatusKind) int {
	n := 0
	for _, e := range l.events {
		if e.Kind == k {
			n++
		}
	}
	return n
}

// writeScenePNG writes a gray scene as a PNG file.
func writeScenePNG(t *testing.T, path string, sc scene) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, sc.gray()); err != nil {
		t.Fatal(err)
	}
}
