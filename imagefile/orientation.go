package imagefile

import (
	"bytes"
	"encoding/binary"
	"image"

	"github.com/disintegration/imaging"
)

// Orientation returns the EXIF orientation (1 to 8) of a JPEG's data, 1 when it has none
// or the tag cannot be read. OpenCV applies it when it decodes (a camera held sideways
// gives an upright picture); boxes drawn on the stored pixels must be mapped the same
// way (truth.Frame.Oriented).
func Orientation(data []byte) int {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return 1
	}
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xFF {
			return 1
		}
		marker := data[i+1]
		if marker == 0xDA || marker == 0xD9 { // start of scan, end of image: no EXIF before
			return 1
		}
		size := int(binary.BigEndian.Uint16(data[i+2:]))
		if size < 2 || i+2+size > len(data) {
			return 1
		}
		seg := data[i+4 : i+2+size]
		if marker == 0xE1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return tiffOrientation(seg[6:])
		}
		i += 2 + size
	}
	return 1
}

// tiffOrientation reads tag 0x0112 of the first IFD of a TIFF header.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	off := int(bo.Uint32(t[4:]))
	if off < 8 || off+2 > len(t) {
		return 1
	}
	n := int(bo.Uint16(t[off:]))
	for k := 0; k < n; k++ {
		e := off + 2 + 12*k
		if e+12 > len(t) {
			return 1
		}
		if bo.Uint16(t[e:]) == 0x0112 {
			if v := int(bo.Uint16(t[e+8:])); v >= 1 && v <= 8 {
				return v
			}
			return 1
		}
	}
	return 1
}

// tagOrientation is the TIFF (and EXIF) Orientation tag.
const tagOrientation = 274

// fileOrientation is the orientation a decoded file asks for: a JPEG's EXIF tag, a
// TIFF's Orientation tag; 1 for other formats or when there is none.
func fileOrientation(format string, data []byte) int {
	switch format {
	case "jpeg":
		return Orientation(data)
	case "tiff":
		if v := tiffTags(data)[tagOrientation]; len(v) == 1 && v[0] >= 1 && v[0] <= 8 {
			return int(v[0])
		}
	}
	return 1
}

// orient turns a decoded image upright as its orientation o (1 to 8) asks, as OpenCV's
// decoder does for the JPEGs it decodes: Go's decoders ignore the tag, so a frame taken
// with the camera sideways would stay sideways on the Go paths only. A gray image stays
// gray.
func orient(img image.Image, o int) image.Image {
	var out *image.NRGBA
	switch o {
	case 2:
		out = imaging.FlipH(img)
	case 3:
		out = imaging.Rotate180(img)
	case 4:
		out = imaging.FlipV(img)
	case 5:
		out = imaging.Transpose(img)
	case 6:
		out = imaging.Rotate270(img) // 90° clockwise
	case 7:
		out = imaging.Transverse(img)
	case 8:
		out = imaging.Rotate90(img)
	default:
		return img
	}
	switch img.(type) {
	case *image.Gray, *image.Gray16:
		return ToGray(out)
	}
	return out
}
