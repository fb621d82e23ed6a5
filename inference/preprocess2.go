package inference

import (
	"errors"
	"fmt"
	"image"
	"image/draw"
	"math"

	"github.com/phytoscreen/phytoscreen/imagefile"
	"gocv.io/x/gocv"
)

// Preprocess writes one crop into dst (InputSize() float32 values, channel-major) following
// the pack's input contract (docs/pack-format.md). The crop may be *image.Gray, *image.RGBA,
// *image.NRGBA or any other image (converted to NRGBA first); transparent pixels are
// composited onto white (imagefile.Flatten). A colour crop for a gray pack
// is converted with OpenCV's BGR2GRAY; a gray crop for an rgb pack is replicated into the
// three channels. Format 1 packs use Letterbox, exactly as Classify does.
func (p *Pack) Preprocess(dst []float32, crop image.Image) error {
	if len(dst) < p.InputSize() {
		return fmt.Errorf("preprocess: destination holds %d values, the input needs %d", len(dst), p.InputSize())
	}
	if crop == nil || crop.Bounds().Empty() {
		return errors.New("crop is empty")
	}
	if p.Format < 2 {
		g, err := grayOf(crop)
		if err != nil {
			return err
		}
		Letterbox(dst, g, p.Height(), p.Width(), p.PadValue(), nil)
		return nil
	}
	return p.preprocess2(dst, crop)
}

// grayOf returns crop as 8-bit gray: a *image.Gray as it is, any other image through
// OpenCV's BGR2GRAY (the contract's conversion).
func grayOf(crop image.Image) (*image.Gray, error) {
	if g, ok := crop.(*image.Gray); ok {
		return g, nil
	}
	buf, w, h, _ := crop8(crop, 3)
	return bgr2gray(buf, w, h)
}

// crop8 returns the crop's pixels as tightly packed 8-bit samples with c channels (1: gray,
// 3: R, G, B), whether the data had to be copied, and the size. A gray crop is replicated
// for c = 3; a colour crop for c = 1 is returned with 3 channels (convert it with
// bgr2gray: the caller asked for gray from colour).
func crop8(crop image.Image, c int) (buf []uint8, w, h int, colour bool) {
	// A crop with transparent pixels goes onto white, the packs' background: taking its
	// R, G, B alone would put a cut-out cell on black.
	crop = imagefile.Flatten(crop)
	b := crop.Bounds()
	w, h = b.Dx(), b.Dy()
	switch src := crop.(type) {
	case *image.Gray:
		if c == 1 {
			off := src.PixOffset(b.Min.X, b.Min.Y)
			if src.Stride == w {
				return src.Pix[off : off+w*h], w, h, false
			}
			buf = make([]uint8, w*h)
			for y := 0; y < h; y++ {
				copy(buf[y*w:(y+1)*w], src.Pix[off+y*src.Stride:])
			}
			return buf, w, h, false
		}
		buf = make([]uint8, 3*w*h)
		for y := 0; y < h; y++ {
			row := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):]
			out := buf[3*y*w : 3*(y+1)*w]
			for x := 0; x < w; x++ {
				v := row[x]
				out[3*x], out[3*x+1], out[3*x+2] = v, v, v
			}
		}
		return buf, w, h, false
	case *image.RGBA:
		return rgbaBytes(src.Pix, src.Stride, src.PixOffset(b.Min.X, b.Min.Y), w, h), w, h, true
	case *image.NRGBA:
		return rgbaBytes(src.Pix, src.Stride, src.PixOffset(b.Min.X, b.Min.Y), w, h), w, h, true
	}
	n := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.Draw(n, n.Rect, crop, b.Min, draw.Src)
	return rgbaBytes(n.Pix, n.Stride, 0, w, h), w, h, true
}

// rgbaBytes packs 4-byte pixels (R, G, B, A) of an opaque image into R, G, B.
func rgbaBytes(pix []uint8, stride, off, w, h int) []uint8 {
	buf := make([]uint8, 3*w*h)
	for y := 0; y < h; y++ {
		row := pix[off+y*stride : off+y*stride+4*w]
		out := buf[3*y*w : 3*(y+1)*w]
		for x := 0; x < w; x++ {
			out[3*x], out[3*x+1], out[3*x+2] = row[4*x], row[4*x+1], row[4*x+2]
		}
	}
	return buf
}

// bgr2gray converts packed R, G, B bytes to gray with OpenCV's cvtColor(BGR2GRAY) applied
// to the image in BGR order (the contract's rule for a colour crop and a gray pack).
func bgr2gray(rgb []uint8, w, h int) (*image.Gray, error) {
	m, err := gocv.NewMatFromBytes(h, w, gocv.MatTypeCV8UC3, rgb)
	if err != nil {
		return nil, fmt.Errorf("colour crop to gray: %w", err)
	}
	defer m.Close()
	// The bytes are R, G, B; RGB2GRAY on them is BGR2GRAY on the same image in BGR order.
	g := gocv.NewMat()
	defer g.Close()
	gocv.CvtColor(m, &g, gocv.ColorRGBToGray)
	data, err := g.DataPtrUint8()
	if err != nil {
		return nil, fmt.Errorf("colour crop to gray: %w", err)
	}
	out := image.NewGray(image.Rect(0, 0, w, h))
	copy(out.Pix, data)
	return out, nil
}

// ResizeSize is the size a w x h crop takes under a resize rule for a W x H input, and
// whether it is enlarged (INTER_LINEAR) rather than shrunk (INTER_AREA).
func ResizeSize(rule string, w, h, W, H int) (nw, nh int, enlarge bool) {
	fw, fh, fW, fH := float64(w), float64(h), float64(W), float64(H)
	switch rule {
	case ResizeFit:
		s := math.Min(fW/fw, fH/fh)
		return max(1, min(W, int(math.Round(fw*s)))), max(1, min(H, int(math.Round(fh*s)))), s > 1
	case ResizeCentreCrop:
		s := math.Max(fW/fw, fH/fh)
		return max(1, int(math.Round(fw*s))), max(1, int(math.Round(fh*s))), s > 1
	}
	nw, nh = FitSize(w, h, W, H)
	return nw, nh, false
}

// preprocess2 is the format-2 contract: channels, resize (OpenCV), background, scale,
// pad, normalise.
func (p *Pack) preprocess2(dst []float32, crop image.Image) error {
	in := &p.Input
	C, H, W := p.Channels(), p.Height(), p.Width()
	buf, w, h, colour := crop8(crop, C)
	if C == 1 && colour {
		g, err := bgr2gray(buf, w, h)
		if err != nil {
			return err
		}
		buf = g.Pix
	}
	nw, nh, enlarge := ResizeSize(in.Resize, w, h, W, H)
	fit := buf
	if nw != w || nh != h {
		mt := gocv.MatTypeCV8UC1
		if C == 3 {
			mt = gocv.MatTypeCV8UC3
		}
		src, err := gocv.NewMatFromBytes(h, w, mt, buf)
		if err != nil {
			return fmt.Errorf("resize crop: %w", err)
		}
		defer src.Close()
		r := gocv.NewMat()
		defer r.Close()
		interp := gocv.InterpolationArea
		if enlarge {
			interp = gocv.InterpolationLinear
		}
		gocv.Resize(src, &r, image.Pt(nw, nh), 0, 0, interp)
		if fit, err = r.DataPtrUint8(); err != nil {
			return fmt.Errorf("resize crop: %w", err)
		}
		if len(fit) != nw*nh*C {
			return fmt.Errorf("resize crop: OpenCV returned %d bytes for %dx%dx%d", len(fit), nw, nh, C)
		}
	}
	// The part of the resized crop that goes into the input (centre-crop cuts the centre).
	ox, oy, fw, fh := 0, 0, nw, nh
	if in.Resize == ResizeCentreCrop {
		ox, oy = max(0, (nw-W)/2), max(0, (nh-H)/2)
		fw, fh = min(nw, W), min(nh, H)
	}
	x0, y0 := (W-fw)/2, (H-fh)/2
	var levels [3]int
	if in.Background != nil && in.Background.Method == "percentile" {
		backgroundLevels(levels[:C], fit, nw, C, ox, oy, fw, fh, in.Background.Q)
	}
	plane := H * W
	for c := 0; c < C; c++ {
		out := dst[c*plane : (c+1)*plane]
		pad := p.padFor(c)
		for i := range out {
			out[i] = pad
		}
		lv := levels[c]
		div := float32(255)
		clampOne := false
		if lv >= 16 {
			div, clampOne = float32(lv), true
		}
		for y := 0; y < fh; y++ {
			row := fit[((oy+y)*nw+ox)*C:]
			o := out[(y0+y)*W+x0 : (y0+y)*W+x0+fw]
			for x := range o {
				v := float32(row[x*C+c]) / div
				if clampOne && v > 1 {
					v = 1
				}
				o[x] = v
			}
		}
		if in.Mean != nil {
			m, s := float32(in.Mean[c]), float32(in.Std[c])
			for i, v := range out {
				out[i] = (v - m) / s
			}
		}
	}
	return nil
}

func (p *Pack) padFor(c int) float32 {
	if p.Input.Pad == nil || len(*p.Input.Pad) == 0 {
		return 1
	}
	pad := *p.Input.Pad
	if c < len(pad) {
		return pad[c]
	}
	return pad[0]
}

// backgroundLevels sets, per channel, the smallest 8-bit value v such that at least
// ceil(q*n) of the n pixels of the fw x fh window are <= v.
func backgroundLevels(levels []int, pix []uint8, stride, C, ox, oy, fw, fh int, q float64) {
	n := fw * fh
	k := max(1, int(math.Ceil(q*float64(n))))
	for c := range levels {
		var hist [256]int
		for y := 0; y < fh; y++ {
			row := pix[((oy+y)*stride+ox)*C:]
			for x := 0; x < fw; x++ {
				hist[row[x*C+c]]++
			}
		}
		cum := 0
		for v, cnt := range hist {
			cum += cnt
			if cum >= k {
				levels[c] = v
				break
			}
		}
	}
}
