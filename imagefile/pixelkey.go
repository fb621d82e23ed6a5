package imagefile

import "gocv.io/x/gocv"

// PixelBytes returns the parts of an encoded image that decide its pixels, for telling
// two files that hold the same image apart from two that hold different ones whatever
// their metadata: of a JPEG, every segment but the application ones (EXIF, with its
// orientation tag; JFIF; ICC) and comments, then the scans; of any other file, all of
// it. A camera folder can hold one frame twice, once with an orientation tag and once
// without: the same pixels, counted twice if read as two frames. Damaged markers give
// the whole file back.
func PixelBytes(data []byte) [][]byte {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return [][]byte{data}
	}
	var parts [][]byte
	i := 2
	for i+4 <= len(data) {
		if data[i] != 0xFF {
			return [][]byte{data}
		}
		m := data[i+1]
		switch {
		case m == 0xFF: // fill byte
			i++
			continue
		case m == 0xDA: // start of scan: from here on, the image data
			return append(parts, data[i:])
		case m == 0x01 || (m >= 0xD0 && m <= 0xD7):
			i += 2
			continue
		}
		n := int(data[i+2])<<8 | int(data[i+3])
		if n < 2 || i+2+n > len(data) {
			return [][]byte{data}
		}
		if !(m >= 0xE0 && m <= 0xEF) && m != 0xFE { // not APPn, not a comment
			parts = append(parts, data[i:i+2+n])
		}
		i += 2 + n
	}
	return [][]byte{data}
}

// ReadFile reads an image file whole, with the checks every decoder here makes (a
// regular file, not too large; a readable one, or the fix said).
func ReadFile(path string) ([]byte, error) { return readFile(path) }

// DecodeMatGray is ReadMatGray on encoded bytes.
func DecodeMatGray(data []byte) (gocv.Mat, error) { return decodeMat(data, true) }
