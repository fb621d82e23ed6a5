package imagefile

import (
	"image"
	"image/draw"
)

// Flatten returns img composited onto white when it has transparent or semi-transparent
// pixels, else img itself. White is the background every pack is trained on (brightfield
// crops, letterboxed with pad 1.0): a cut-out cell saved with a transparent background
// must look like the same cell on the slide. Converting such an image to gray or BGR
// without this puts it on black (Go's colour conversions use premultiplied values;
// OpenCV's IMREAD_COLOR drops alpha and keeps whatever colour the transparent pixels
// hold, usually black), which changes the class.
//
// A pixel of straight colour c and alpha a (8-bit) becomes (c·a + 255·(255−a) + 127) / 255
// in integers, the input contract's rule (docs/pack-format.md), which the Python recipe
// applies the same way; 16-bit images are taken at 8 bits first.
func Flatten(img image.Image) image.Image {
	if o, ok := img.(interface{ Opaque() bool }); ok && o.Opaque() {
		return img
	}
	b := img.Bounds()
	n, ok := img.(*image.NRGBA)
	if !ok || b.Min != (image.Point{}) {
		n = image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
		draw.Draw(n, n.Rect, img, b.Min, draw.Src) // straight (not premultiplied) 8-bit colour
	}
	dst := image.NewRGBA(n.Rect)
	for y := 0; y < n.Rect.Dy(); y++ {
		src := n.Pix[y*n.Stride : y*n.Stride+4*n.Rect.Dx()]
		out := dst.Pix[y*dst.Stride : y*dst.Stride+4*n.Rect.Dx()]
		for i := 0; i < len(src); i += 4 {
			a := uint32(src[i+3])
			for c := 0; c < 3; c++ {
				out[i+c] = uint8((uint32(src[i+c])*a + 255*(255-a) + 127) / 255)
			}
			out[i+3] = 255
		}
	}
	return dst
}
