package imagefile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

// ErrUnsupported marks a valid image in a variant the decoders lack (float TIFF, 12-bit
// JPEG, ...): the file is not damaged, it has to be exported differently.
var ErrUnsupported = errors.New("not supported")

// unsupportedErr says what the file is and how to export it instead.
func unsupportedErr(what, fix string) error {
	return fmt.Errorf("%s is %w: %s", what, ErrUnsupported, fix)
}

// Fixes shared by several variants.
const (
	fixDepth = "export it as 8- or 16-bit integer TIFF or PNG"
	fixTIFF  = "save it as uncompressed, LZW or Deflate RGB or grayscale TIFF, or as PNG"
)

// unsupported names the variant of a file the decoder failed on when it is one the
// decoders lack, with the fix; it returns nil when the file looks damaged instead (or the
// variant is unknown), so that the caller calls it corrupt. err is the decoder's error:
// the decoders' own "unsupported" errors say only "sample format" or "compression value
// 7", which a technician cannot act on.
func unsupported(format string, data []byte, err error) error {
	switch format {
	case "tiff":
		if u := tiffUnsupported(data); u != nil {
			return u
		}
		var ue tiff.UnsupportedError
		if errors.As(err, &ue) {
			return unsupportedErr(fmt.Sprintf("this TIFF (%s)", string(ue)), fixTIFF)
		}
	case "jpeg":
		if u := jpegUnsupported(data); u != nil {
			return u
		}
		var ue jpeg.UnsupportedError
		if errors.As(err, &ue) {
			return unsupportedErr(fmt.Sprintf("this JPEG (%s)", string(ue)), "re-save it as a standard 8-bit JPEG or as PNG")
		}
	case "png":
		var ue png.UnsupportedError
		if errors.As(err, &ue) {
			return unsupportedErr(fmt.Sprintf("this PNG (%s)", string(ue)), "re-save it as a standard PNG")
		}
	case "bmp":
		if errors.Is(err, bmp.ErrUnsupported) {
			return unsupportedErr("this BMP (compressed, or not 8, 24 or 32 bits per pixel)", "save it as PNG")
		}
	}
	return nil
}

// isBigTIFF reports whether data starts with a BigTIFF header (version 43), which the
// TIFF decoder does not read.
func isBigTIFF(data []byte) bool {
	return bytes.HasPrefix(data, []byte("II+\x00")) || bytes.HasPrefix(data, []byte("MM\x00+"))
}

// TIFF tags read by tiffUnsupported.
const (
	tagBitsPerSample   = 258
	tagCompression     = 259
	tagPhotometric     = 262
	tagSamplesPerPixel = 277
	tagPlanarConfig    = 284
	tagExtraSamples    = 338
	tagSampleFormat    = 339
)

// tiffUnsupported names what in a TIFF's first image the decoder (x/image/tiff) cannot
// read, from its tags, or returns nil. It is also asked before a TIFF is decoded: the
// decoder ignores PlanarConfiguration and would return scrambled pixels for a planar file.
func tiffUnsupported(data []byte) error {
	tags := tiffTags(data)
	if tags == nil {
		return nil
	}
	first := func(tag uint16, def uint32) uint32 {
		if v := tags[tag]; len(v) > 0 {
			return v[0]
		}
		return def
	}
	if n := tiffPages(data); n > 1 {
		// Its first page alone was read, the others lost without a word (helper-68): a
		// stack's pages are fields or focal planes, each the technician's to choose.
		return unsupportedErr(fmt.Sprintf("TIFF of %d pages (a stack)", n), "save each page as an image of its own (ImageJ: Image › Stacks › Stack to Images, then File › Save As › Image Sequence), one per field")
	}
	bits := first(tagBitsPerSample, 1)
	switch first(tagSampleFormat, 1) {
	case 1:
	case 2:
		return unsupportedErr(fmt.Sprintf("signed %d-bit integer TIFF", bits), fixDepth)
	case 3:
		return unsupportedErr(fmt.Sprintf("float%d TIFF", bits), fixDepth)
	default:
		return unsupportedErr("TIFF of complex or undefined samples", fixDepth)
	}
	if bits != 1 && bits != 8 && bits != 16 {
		return unsupportedErr(fmt.Sprintf("%d-bit TIFF", bits), fixDepth)
	}
	switch c := first(tagCompression, 1); c {
	case 1, 2, 3, 4, 5, 8, 32773, 32946: // none, CCITT, LZW, Deflate, PackBits
	default:
		return unsupportedErr(tiffCompressionName(c)+"-compressed TIFF", fixTIFF)
	}
	photometric := first(tagPhotometric, 1)
	samples := first(tagSamplesPerPixel, 1)
	switch photometric {
	case 0, 1, 3: // WhiteIsZero, BlackIsZero, palette
		if samples > 1 {
			return unsupportedErr("gray TIFF with an alpha or extra channel", "save it as PNG (which keeps transparency) or as TIFF without alpha")
		}
	case 2: // RGB
		if samples > 4 || samples == 4 && first(tagExtraSamples, 0) == 0 {
			return unsupportedErr(fmt.Sprintf("RGB TIFF with %d extra channels", samples-3), "save it as RGB or RGBA TIFF, or as PNG")
		}
	case 5:
		return unsupportedErr("CMYK TIFF", "save it as RGB TIFF or PNG")
	case 6:
		return unsupportedErr("YCbCr TIFF", "save it as RGB TIFF or PNG")
	default:
		return unsupportedErr(fmt.Sprintf("TIFF of photometric interpretation %d (CIELab, LogLuv, ...)", photometric), "save it as RGB or grayscale TIFF, or as PNG")
	}
	if samples > 1 && first(tagPlanarConfig, 1) == 2 {
		return unsupportedErr("TIFF with separate colour planes (planar configuration 2)", "save it as interleaved (contiguous) TIFF or as PNG")
	}
	return nil
}

// tiffCompressionName names the TIFF compression schemes met in practice.
func tiffCompressionName(c uint32) string {
	switch c {
	case 6, 7:
		return "JPEG"
	case 34712:
		return "JPEG 2000"
	case 34925:
		return "LZMA"
	case 50000:
		return "Zstandard"
	case 50001:
		return "WebP"
	}
	return fmt.Sprintf("compression-%d", c)
}

// tiffTags reads the SHORT and LONG tags of a classic TIFF's first image file directory,
// nil when the header or the directory cannot be read.
// tiffPages counts the images (IFDs) of a TIFF, following the chain of their offsets up
// to maxPages (a corrupt chain that loops stops there); 0 when the header is not read.
func tiffPages(t []byte) int {
	const maxPages = 10000
	if !isTIFF(t) || len(t) < 8 {
		return 0
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if t[0] == 'M' {
		bo = binary.BigEndian
	}
	pages := 0
	for off := int64(bo.Uint32(t[4:])); off >= 8 && off+2 <= int64(len(t)) && pages < maxPages; pages++ {
		next := off + 2 + 12*int64(bo.Uint16(t[off:]))
		if next+4 > int64(len(t)) {
			return pages + 1
		}
		off = int64(bo.Uint32(t[next:]))
	}
	return pages
}

func tiffTags(t []byte) map[uint16][]uint32 {
	if !isTIFF(t) || len(t) < 8 {
		return nil
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if t[0] == 'M' {
		bo = binary.BigEndian
	}
	off := int64(bo.Uint32(t[4:]))
	if off < 8 || off+2 > int64(len(t)) {
		return nil
	}
	n := int64(bo.Uint16(t[off:]))
	tags := map[uint16][]uint32{}
	for k := int64(0); k < n; k++ {
		e := off + 2 + 12*k
		if e+12 > int64(len(t)) {
			return nil
		}
		typ, count := bo.Uint16(t[e+2:]), int64(bo.Uint32(t[e+4:]))
		size := map[uint16]int64{3: 2, 4: 4}[typ] // SHORT, LONG
		if size == 0 || count == 0 || count > 16 {
			continue
		}
		val := t[e+8 : e+12]
		if size*count > 4 {
			p := int64(bo.Uint32(val))
			if p < 0 || p+size*count > int64(len(t)) {
				continue
			}
			val = t[p : p+size*count]
		}
		vs := make([]uint32, count)
		for i := range vs {
			if size == 2 {
				vs[i] = uint32(bo.Uint16(val[2*i:]))
			} else {
				vs[i] = bo.Uint32(val[4*i:])
			}
		}
		tags[bo.Uint16(t[e:])] = vs
	}
	return tags
}

// jpegUnsupported names a JPEG's coding process or sample precision from its
// start-of-frame marker when libjpeg-turbo and Go's decoder (both baseline and
// progressive 8-bit only) cannot decode it, or returns nil.
func jpegUnsupported(data []byte) error {
	marker, precision, ok := jpegSOF(data)
	if !ok {
		return nil
	}
	switch marker {
	case 0xC3, 0xC7, 0xCB, 0xCF:
		return unsupportedErr("lossless JPEG", "save it as PNG or TIFF")
	case 0xC5, 0xC6:
		return unsupportedErr("hierarchical JPEG", "re-save it as a standard (baseline) JPEG or as PNG")
	case 0xC9, 0xCA, 0xCD, 0xCE:
		return unsupportedErr("arithmetic-coded JPEG", "re-save it as a standard (Huffman-coded) JPEG or as PNG")
	}
	if precision != 8 {
		return unsupportedErr(fmt.Sprintf("%d-bit JPEG", precision), "export it as 8-bit JPEG, or as 16-bit PNG or TIFF to keep its levels")
	}
	return nil
}

// jpegSOF returns the first start-of-frame marker of a JPEG (0xC0 to 0xCF, less DHT, JPG
// and DAC) and its sample precision, walking the marker segments from the start.
func jpegSOF(data []byte) (marker, precision byte, ok bool) {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return 0, 0, false
	}
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xFF {
			return 0, 0, false
		}
		m := data[i+1]
		if m == 0xFF { // fill byte
			i++
			continue
		}
		if m == 0xDA || m == 0xD9 {
			return 0, 0, false
		}
		size := int(binary.BigEndian.Uint16(data[i+2:]))
		if m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC {
			if i+4 >= len(data) {
				return 0, 0, false
			}
			return m, data[i+4], true
		}
		if size < 2 {
			return 0, 0, false
		}
		i += 2 + size
	}
	return 0, 0, false
}
