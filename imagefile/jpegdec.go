package imagefile

// #cgo pkg-config: libjpeg
// #include "jpegdec.h"
import "C"

import (
	"errors"
	"fmt"
	"unsafe"

	"gocv.io/x/gocv"
)

// decodeJPEGMat decodes a JPEG with libjpeg-turbo straight into a new Mat (jpegdec.c):
// the pixels OpenCV's decoder gives, at its speed, EXIF orientation applied as OpenCV
// applies it, gray (the luma alone) when gray is asked or the file is gray, BGR
// otherwise. Unlike OpenCV, a JPEG whose image data is corrupt (libjpeg decodes it with
// a warning and garbled rows) is an error, so a damaged file is named and skipped rather
// than counted. The caller closes the Mat.
func decodeJPEGMat(data []byte, gray bool) (gocv.Mat, error) {
	if err := checkJPEGEnd(data); err != nil {
		return gocv.Mat{}, err
	}
	// libjpeg reads data in place during each call and keeps no pointer to it after:
	// cgo's rules let a Go byte slice be passed so, with no copy of a frame's bytes.
	src := unsafe.Pointer(&data[0])
	var info C.pj_info
	// The frame's size from its SOF marker, read here (a header pass of libjpeg's own
	// costs as much again as a small frame's decode). A file whose SOF cannot be found
	// so, and an Adobe CMYK or YCCK one (OpenCV inverts Adobe's CMYK), go to OpenCV.
	w, h, components, ok := frameHeader(data)
	if !ok || components == 4 {
		return decodeJPEGOpenCV(data, gray)
	}
	info.width, info.height = C.int(w), C.int(h)
	channels, typ := 3, gocv.MatTypeCV8UC3
	if gray || components == 1 {
		channels, typ = 1, gocv.MatTypeCV8UC1
	}
	m := gocv.NewMatWithSize(h, w, typ)
	pix, err := m.DataPtrUint8()
	if err != nil || len(pix) < w*h*channels {
		m.Close()
		return gocv.Mat{}, fmt.Errorf("jpeg of %dx%d: no Mat for its pixels: %v", w, h, err)
	}
	// pix is the Mat's own memory (OpenCV's, not Go's), so C may write into it.
	switch C.pj_decode((*C.uchar)(src), C.ulong(len(data)), C.int(channels), (*C.uchar)(unsafe.Pointer(&pix[0])), C.int(w*channels), &info) {
	case 0:
	case 1:
		m.Close()
		return gocv.Mat{}, fmt.Errorf("corrupt jpeg: its image data is damaged (libjpeg: %s), so part of the picture would be garbage: export or copy the image again", C.GoString(&info.msg[0]))
	default:
		m.Close()
		return gocv.Mat{}, fmt.Errorf("corrupt jpeg (%s): export or copy the image again", C.GoString(&info.msg[0]))
	}
	return orientMat(m, Orientation(data))
}

// frameHeader reads the width, height and component count of a JPEG from its start-of-
// frame marker (SOF0 to SOF15, less DHT, JPG and DAC), walking the markers before the
// first scan. ok is false when it finds none.
func frameHeader(data []byte) (w, h, components int, ok bool) {
	i := 2 // after SOI
	for i+4 <= len(data) {
		if data[i] != 0xFF {
			return 0, 0, 0, false
		}
		marker := data[i+1]
		switch {
		case marker == 0xFF: // fill byte
			i++
			continue
		case marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7): // no length
			i += 2
			continue
		case marker == 0xDA || marker == 0xD9: // a scan or the end before any frame
			return 0, 0, 0, false
		}
		size := int(data[i+2])<<8 | int(data[i+3])
		if size < 2 || i+2+size > len(data) {
			return 0, 0, 0, false
		}
		if marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC {
			if size < 8 {
				return 0, 0, 0, false
			}
			seg := data[i+4:]
			h, w, components = int(seg[1])<<8|int(seg[2]), int(seg[3])<<8|int(seg[4]), int(seg[5])
			return w, h, components, w > 0 && h > 0 && components > 0
		}
		i += 2 + size
	}
	return 0, 0, 0, false
}

// decodeJPEGOpenCV decodes with OpenCV's imdecode, for the colour spaces jpegdec leaves
// to it.
func decodeJPEGOpenCV(data []byte, gray bool) (gocv.Mat, error) {
	flag := gocv.IMReadAnyColor // gray stays gray; orientation applied
	if gray {
		flag = gocv.IMReadGrayScale
	}
	m, err := gocv.IMDecode(data, flag)
	if err != nil {
		return gocv.Mat{}, fmt.Errorf("corrupt jpeg (%w): export or copy the image again", err)
	}
	if m.Empty() || (m.Type() != gocv.MatTypeCV8UC1 && m.Type() != gocv.MatTypeCV8UC3) {
		m.Close()
		return gocv.Mat{}, errors.New("corrupt jpeg (OpenCV could not decode it): export or copy the image again")
	}
	return m, nil
}

// orientMat applies EXIF orientation o to m as OpenCV's decoder does (its
// ApplyExifOrientation), closing m when it makes a new Mat.
func orientMat(m gocv.Mat, o int) (gocv.Mat, error) {
	if o < 2 || o > 8 {
		return m, nil
	}
	out := gocv.NewMat()
	src := m
	if o >= 5 { // 5 to 8 start with a transpose
		gocv.Transpose(m, &out)
		src = out
	}
	flip := map[int]int{2: 1, 3: -1, 4: 0, 6: 1, 7: -1, 8: 0}
	if code, ok := flip[o]; ok {
		dst := gocv.NewMat()
		gocv.Flip(src, &dst, code)
		out.Close()
		out = dst
	}
	m.Close()
	return out, nil
}
