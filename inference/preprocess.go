package inference

import (
	"image"
	"math"
)

// Letterbox writes crop into dst (h*w float32, row-major) following the input contract:
// a crop larger than the input on either side is shrunk to fit, keeping its aspect ratio,
// with OpenCV's INTER_AREA; a smaller crop keeps its native size, since size is a cue the
// network uses. The crop is centred and the rest is filled with pad; pixels are value/255.
// scratch, when big enough, is reused for the shrunk crop so the hot path does not allocate.
func Letterbox(dst []float32, crop *image.Gray, h, w int, pad float32, scratch *[]uint8) {
	cw, ch := crop.Rect.Dx(), crop.Rect.Dy()
	src, stride := crop.Pix[crop.PixOffset(crop.Rect.Min.X, crop.Rect.Min.Y):], crop.Stride
	nw, nh := FitSize(cw, ch, w, h)
	if nw != cw || nh != ch {
		var buf []uint8
		if scratch != nil && cap(*scratch) >= nw*nh {
			buf = (*scratch)[:nw*nh]
		} else {
			buf = make([]uint8, nw*nh)
			if scratch != nil {
				*scratch = buf
			}
		}
		ResizeArea(buf, nw, nh, src, stride, cw, ch)
		src, stride = buf, nw
	}
	for i := range dst[:h*w] {
		dst[i] = pad
	}
	x0, y0 := (w-nw)/2, (h-nh)/2
	for y := 0; y < nh; y++ {
		row := dst[(y0+y)*w+x0 : (y0+y)*w+x0+nw]
		s := src[y*stride : y*stride+nw]
		for x, v := range s {
			row[x] = float32(v) / 255
		}
	}
}

// FitSize returns the size a cw x ch crop takes inside a w x h input: unchanged when it
// fits, else shrunk by one factor on both sides so the longer side fits, rounded, at
// least one pixel.
func FitSize(cw, ch, w, h int) (int, int) {
	if cw <= w && ch <= h {
		return cw, ch
	}
	s := math.Min(float64(w)/float64(cw), float64(h)/float64(ch))
	nw := max(1, min(w, int(math.Round(float64(cw)*s))))
	nh := max(1, min(h, int(math.Round(float64(ch)*s))))
	return nw, nh
}

// areaTab is one entry of OpenCV's resize-area table: source index si contributes to
// destination index di with weight alpha.
type areaTab struct {
	di, si int
	alpha  float32
}

// computeAreaTab mirrors OpenCV's computeResizeAreaTab (imgproc/src/resize.cpp) for one
// channel, so shrinking gives the pixels the model was trained on.
func computeAreaTab(ssize, dsize int, scale float64) []areaTab {
	tab := make([]areaTab, 0, 2*ssize)
	for dx := 0; dx < dsize; dx++ {
		fsx1 := float64(dx) * scale
		fsx2 := fsx1 + scale
		cellWidth := math.Min(scale, float64(ssize)-fsx1)
		sx1, sx2 := int(math.Ceil(fsx1)), int(math.Floor(fsx2))
		sx2 = min(sx2, ssize-1)
		sx1 = min(sx1, sx2)
		if float64(sx1)-fsx1 > 1e-3 {
			tab = append(tab, areaTab{dx, sx1 - 1, float32((float64(sx1) - fsx1) / cellWidth)})
		}
		for sx := sx1; sx < sx2; sx++ {
			tab = append(tab, areaTab{dx, sx, float32(1.0 / cellWidth)})
		}
		if fsx2-float64(sx2) > 1e-3 {
			tab = append(tab, areaTab{dx, sx2, float32(math.Min(math.Min(fsx2-float64(sx2), 1), cellWidth) / cellWidth)})
		}
	}
	return tab
}

// ResizeArea shrinks a 8-bit single-channel image (src with stride, sw x sh) into dst
// (dw x dh, stride dw) the way OpenCV's cv::resize with INTER_AREA does: an exact box
// average for integer factors and area-weighted coverage otherwise, rounded to nearest.
func ResizeArea(dst []uint8, dw, dh int, src []uint8, stride, sw, sh int) {
	scaleX, scaleY := float64(sw)/float64(dw), float64(sh)/float64(dh)
	ix, iy := int(math.Round(scaleX)), int(math.Round(scaleY))
	if math.Abs(scaleX-float64(ix)) < 1e-12 && math.Abs(scaleY-float64(iy)) < 1e-12 {
		resizeAreaFast(dst, dw, dh, src, stride, ix, iy)
		return
	}
	xtab := computeAreaTab(sw, dw, scaleX)
	ytab := computeAreaTab(sh, dh, scaleY)
	buf := make([]float32, dw) // one source row, resampled horizontally
	sum := make([]float32, dw) // the destination row being accumulated
	dy := ytab[0].di
	for _, yt := range ytab {
		if yt.di != dy {
			storeRow(dst[dy*dw:(dy+1)*dw], sum)
			clear(sum)
			dy = yt.di
		}
		clear(buf)
		row := src[yt.si*stride:]
		for _, xt := range xtab {
			buf[xt.di] += float32(row[xt.si]) * xt.alpha
		}
		for i, v := range buf {
			sum[i] += v * yt.alpha
		}
	}
	storeRow(dst[dy*dw:(dy+1)*dw], sum)
}

func storeRow(dst []uint8, sum []float32) {
	for i, v := range sum {
		dst[i] = saturateU8(v)
	}
}

// saturateU8 is OpenCV's saturate_cast<uchar>(float): round half to even, then clamp.
func saturateU8(v float32) uint8 {
	r := math.RoundToEven(float64(v))
	if r < 0 {
		return 0
	}
	if r > 255 {
		return 255
	}
	return uint8(r)
}

// resizeAreaFast is OpenCV's path for integer factors: the mean of each block. For the
// 2x2 block OpenCV's vector code rounds half up with (sum+2)>>2; other blocks round
// sum*(1/area) half to even.
func resizeAreaFast(dst []uint8, dw, dh int, src []uint8, stride, fx, fy int) {
	area := fx * fy
	inv := float32(1) / float32(area)
	for dy := 0; dy < dh; dy++ {
		for dx := 0; dx < dw; dx++ {
			s := 0
			for k := 0; k < fy; k++ {
				row := src[(dy*fy+k)*stride+dx*fx:]
				for j := 0; j < fx; j++ {
					s += int(row[j])
				}
			}
			if area == 4 && fx == 2 {
				dst[dy*dw+dx] = uint8((s + 2) >> 2)
			} else {
				dst[dy*dw+dx] = saturateU8(float32(s) * inv)
			}
		}
	}
}
