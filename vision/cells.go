package vision

import (
	"errors"
	"fmt"
	"image"

	"gocv.io/x/gocv"

	"github.com/phytoscreen/phytoscreen/capture"
)

// CellImages is the segmenter of a folder of single-cell images: each image is one
// cell, counted once, its crop the whole image in gray (and in colour too, with
// ColourCrops, when the image has colour).
type CellImages struct {
	ColourCrops bool
}

// Process returns the frame as one object.
func (c CellImages) Process(f capture.Frame) ([]Object, error) {
	g, err := matToGray(f.Mat)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Source, err)
	}
	b := g.Rect
	o := Object{Source: f.Source, Frame: f.Index, Track: f.Index, New: true, Box: b, CropBox: b,
		AreaPx: float64(b.Dx() * b.Dy()), Crop: g}
	if c.ColourCrops && f.Mat.Channels() >= 3 {
		if o.ColourCrop, err = colourCrop(f.Mat, b); err != nil {
			return nil, fmt.Errorf("%s: %w", f.Source, err)
		}
	}
	return []Object{o}, nil
}

// matToGray copies an 8-bit gray, BGR or BGRA Mat into a Go gray image (luma weights as
// OpenCV's BGR2GRAY).
func matToGray(m gocv.Mat) (*image.Gray, error) {
	if m.Empty() {
		return nil, errors.New("empty image")
	}
	w, h, ch := m.Cols(), m.Rows(), m.Channels()
	if m.Type()&7 != 0 || (ch != 1 && ch != 3 && ch != 4) || !m.IsContinuous() {
		return nil, fmt.Errorf("image of type %v with %d channels: want 8-bit gray or colour", m.Type(), ch)
	}
	src, err := m.DataPtrUint8()
	if err != nil {
		return nil, err
	}
	g := image.NewGray(image.Rect(0, 0, w, h))
	if ch == 1 {
		copy(g.Pix, src[:w*h])
		return g, nil
	}
	for i := range w * h {
		p := src[i*ch : i*ch+3]
		// 0.114 B + 0.587 G + 0.299 R in 16-bit fixed point, rounded.
		g.Pix[i] = uint8((7471*uint32(p[0]) + 38470*uint32(p[1]) + 19595*uint32(p[2]) + 32768) >> 16)
	}
	return g, nil
}
