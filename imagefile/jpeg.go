package imagefile

import (
	"bytes"
	"errors"
	"fmt"
	"image"
)

// errTruncatedJPEG: libjpeg fills a cut-off JPEG with gray and only warns, so the cut is
// found before decoding.
var errTruncatedJPEG = errors.New("corrupt or truncated jpeg (the image data or its end marker is missing): export or copy the image again")

// decodeJPEGGray decodes a JPEG whose header was checked to 8-bit gray (jpegdec.go). Like
// Go's decoder and OpenCV's IMREAD_GRAYSCALE it keeps the luma plane.
func decodeJPEGGray(data []byte) (*image.Gray, error) {
	m, err := decodeJPEGMat(data, true)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	g := image.NewGray(image.Rect(0, 0, m.Cols(), m.Rows()))
	data8, err := m.DataPtrUint8()
	if err != nil {
		return nil, fmt.Errorf("corrupt jpeg: %w", err)
	}
	copy(g.Pix, data8)
	return g, nil
}

// checkJPEGEnd finds a cut-off JPEG before decoding: inside the entropy-coded data every
// 0xFF byte is stuffed (FF 00) or a restart marker, so the last start-of-scan and
// end-of-image markers are the image's own.
func checkJPEGEnd(data []byte) error {
	sos := bytes.LastIndex(data, []byte{0xFF, 0xDA})
	if sos < 0 || bytes.LastIndex(data, []byte{0xFF, 0xD9}) < sos {
		return errTruncatedJPEG
	}
	return nil
}
