package imagefile

import (
	"fmt"
	"image"
)

// ReadColor decodes the image file at path keeping its colour, for colour classifier
// packs: a JPEG through OpenCV (libjpeg-turbo, as cv2.imread(IMREAD_COLOR) does, so the
// pixels are the ones a pack's Python recipe trained on) into *image.RGBA; a gray image as
// *image.Gray; other formats through Go's decoders (lossless, so the same pixels as
// OpenCV's, except that a 16-bit image keeps its high byte where OpenCV rounds v/256: a
// level at most). The header is checked first, as Read does. Transparent pixels are
// composited onto white (Flatten): OpenCV's IMREAD_COLOR would drop alpha instead.
func ReadColor(path string) (image.Image, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	img, err := DecodeColor(data)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	return img, nil
}

// DecodeColor is ReadColor on encoded bytes.
func DecodeColor(data []byte) (image.Image, error) {
	format, decode, err := checkHeader(data)
	if err != nil {
		return nil, err
	}
	if format == "jpeg" {
		return decodeJPEGColor(data)
	}
	img, err := decodeChecked(format, decode, data)
	if err != nil {
		return nil, err
	}
	switch img.(type) {
	case *image.Gray, *image.Gray16:
		return ToGray(img), nil
	}
	return img, nil
}

// decodeJPEGColor decodes a JPEG whose header was checked to RGBA (jpegdec.go); a gray
// JPEG gives equal channels.
func decodeJPEGColor(data []byte) (image.Image, error) {
	m, err := decodeJPEGMat(data, false)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	pix, err := m.DataPtrUint8()
	if err != nil {
		return nil, fmt.Errorf("corrupt jpeg: %w", err)
	}
	w, h := m.Cols(), m.Rows()
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	if m.Channels() == 1 {
		for i, j := 0, 0; i < len(pix); i, j = i+1, j+4 {
			out.Pix[j], out.Pix[j+1], out.Pix[j+2], out.Pix[j+3] = pix[i], pix[i], pix[i], 255
		}
		return out, nil
	}
	for i, j := 0, 0; i < len(pix); i, j = i+3, j+4 {
		out.Pix[j], out.Pix[j+1], out.Pix[j+2], out.Pix[j+3] = pix[i+2], pix[i+1], pix[i], 255
	}
	return out, nil
}
