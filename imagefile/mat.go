package imagefile

import (
	"fmt"
	"image"
	"image/draw"

	"gocv.io/x/gocv"
)

// ReadMat decodes the image file at path into an 8-bit Mat for the frame path: gray for
// gray images, BGR otherwise, EXIF orientation applied. A JPEG goes through OpenCV's
// libjpeg-turbo straight into the Mat (jpegdec.go: OpenCV's pixels, several times faster
// than Go's decoder, and the decoder the classifier's image files use); other formats through Go's decoders. The
// header is checked first, as Read does; a JPEG with damaged image data is an error
// (jpegdec.go). The caller closes the Mat.
func ReadMat(path string) (gocv.Mat, error) {
	data, err := readFile(path)
	if err != nil {
		return gocv.Mat{}, err
	}
	m, err := DecodeMat(data)
	if err != nil {
		return gocv.Mat{}, fmt.Errorf("decode %s: %w", path, err)
	}
	return m, nil
}

// ReadMatGray is ReadMat into an 8-bit gray Mat whatever the file holds: for a frame
// path that uses no colour. A JPEG's luma is decoded alone (libjpeg-turbo skips the
// chroma planes and the colour conversion): twice as fast as ReadMat on a colour JPEG.
func ReadMatGray(path string) (gocv.Mat, error) {
	data, err := readFile(path)
	if err != nil {
		return gocv.Mat{}, err
	}
	m, err := decodeMat(data, true)
	if err != nil {
		return gocv.Mat{}, fmt.Errorf("decode %s: %w", path, err)
	}
	return m, nil
}

// DecodeMat is ReadMat on encoded bytes.
func DecodeMat(data []byte) (gocv.Mat, error) { return decodeMat(data, false) }

// decodeMat decodes to gray, or to gray or BGR as the image is.
func decodeMat(data []byte, gray bool) (gocv.Mat, error) {
	format, decode, err := checkHeader(data)
	if err != nil {
		return gocv.Mat{}, err
	}
	if format == "jpeg" {
		return decodeJPEGMat(data, gray)
	}
	img, err := decodeChecked(format, decode, data)
	if err != nil {
		return gocv.Mat{}, err
	}
	if gray {
		return ToMat(ToGray(img))
	}
	return ToMat(img)
}

// ToMat converts a decoded image to a Mat: 8-bit gray for gray images, 8-bit BGR
// otherwise, transparent pixels composited onto white (Flatten). The caller closes it.
func ToMat(img image.Image) (gocv.Mat, error) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	switch img.(type) {
	case *image.Gray, *image.Gray16:
		g := ToGray(img)
		buf := make([]byte, w*h)
		for y := 0; y < h; y++ {
			copy(buf[y*w:(y+1)*w], g.Pix[g.PixOffset(g.Rect.Min.X, g.Rect.Min.Y+y):])
		}
		return gocv.NewMatFromBytes(h, w, gocv.MatTypeCV8UC1, buf)
	}
	img = Flatten(img) // else draw.Src and the BGR copy would put transparent pixels on black
	b = img.Bounds()
	rgba, ok := img.(*image.RGBA)
	if !ok || b.Min != (image.Point{}) {
		rgba = image.NewRGBA(image.Rect(0, 0, w, h))
		draw.Draw(rgba, rgba.Rect, img, b.Min, draw.Src) // fast paths for JPEG's YCbCr and PNG's NRGBA
	}
	bgr := make([]byte, 3*w*h)
	for y := 0; y < h; y++ {
		src := rgba.Pix[y*rgba.Stride : y*rgba.Stride+4*w]
		dst := bgr[3*w*y : 3*w*(y+1)]
		for x := 0; x < w; x++ {
			dst[3*x], dst[3*x+1], dst[3*x+2] = src[4*x+2], src[4*x+1], src[4*x]
		}
	}
	return gocv.NewMatFromBytes(h, w, gocv.MatTypeCV8UC3, bgr)
}
