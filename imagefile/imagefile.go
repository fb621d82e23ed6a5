// Package imagefile decodes the image files a technician brings (JPEG, PNG, TIFF, BMP)
// safely: it reads the header first and refuses absurd dimensions before any pixel is
// decoded, and every error says which file failed and why.
package imagefile

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/draw"
	_ "image/jpeg" // registers the JPEG decoder
	_ "image/png"  // registers the PNG decoder
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/phytoscreen/phytoscreen/inputfile"
	_ "golang.org/x/image/bmp" // registers the BMP decoder
	"golang.org/x/image/tiff"
)

// MaxPixels is the largest image (width x height) that is decoded. A 2592x1944 camera
// frame has 5 Mpx; a header claiming more than 100 Mpx is a corrupt or hostile file.
const MaxPixels = 100_000_000

// Extensions are the file name extensions (lower case) treated as images when a folder is
// walked.
var Extensions = []string{".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp"}

// formats are the image.RegisterFormat names of the formats read: those of Extensions.
var formats = []string{"jpeg", "png", "tiff", "bmp"}

// Errors a caller can test with errors.Is.
var (
	ErrEmpty    = errors.New("empty file (0 bytes)")
	ErrNotImage = errors.New("not a JPEG, PNG, TIFF or BMP image")
	ErrTooLarge = errors.New("image dimensions over the limit")
)

// ListFS returns the image files of fsys (by IsImageName, in every folder), in natural
// path order.
func ListFS(fsys fs.FS) ([]string, error) {
	var names []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && IsImageName(p) {
			names = append(names, p)
		}
		return err
	})
	slices.SortFunc(names, NaturalCompare)
	return names, err
}

// IsImageName reports whether a file name has one of the image Extensions.
func IsImageName(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	for _, e := range Extensions {
		if ext == e {
			return true
		}
	}
	return false
}

// Read decodes the image file at path.
func Read(path string) (image.Image, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	img, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	return img, nil
}

// readFile reads an image file whole, with the fix when it is not readable. A FIFO,
// socket or device named as an image is refused unread (a FIFO would hold the read until
// something wrote to it), and so is a file over inputfile.MaxImage.
func readFile(path string) ([]byte, error) {
	data, err := inputfile.ReadFile(path, inputfile.MaxImage)
	if errors.Is(err, inputfile.ErrNotRegular) || errors.Is(err, inputfile.ErrTooLarge) {
		return nil, err // names the file and the fix
	}
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return nil, fmt.Errorf("read %s: %w: give this user read access (chmod +r) or move the file out of the folder", path, fs.ErrPermission)
		}
		return nil, ReadError(path, err)
	}
	return data, nil
}

// ReadError words why path could not be read: a symbolic link that leads nowhere (its
// target missing, or a loop) is named as a link, with the fix, not as a file missing
// from a folder that lists it.
func ReadError(path string, err error) error {
	if li, lerr := os.Lstat(path); lerr == nil && li.Mode()&fs.ModeSymlink != 0 {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is said once
		}
		return fmt.Errorf("read %s: a symbolic link that leads to no readable image (%w): fix or remove the link", path, friendly(err))
	}
	return fmt.Errorf("read %s: %w", path, err)
}

// ReadGray decodes the image file at path to 8-bit grayscale.
func ReadGray(path string) (*image.Gray, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	img, err := DecodeGray(data)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	return img, nil
}

// Decode checks the header of an encoded image, refuses it if it is empty, of an unknown
// format or larger than MaxPixels, then decodes it.
func Decode(data []byte) (image.Image, error) {
	format, decode, err := checkHeader(data)
	if err != nil {
		return nil, err
	}
	return decodeChecked(format, decode, data)
}

// decodeChecked decodes data whose header checkHeader passed. A variant the decoder lacks
// is named with the fix (not called corrupt); the image is turned upright as its
// orientation tag asks and transparent pixels are composited onto white (Flatten), so
// that every decode path sees the cell as it looks on the slide.
func decodeChecked(format string, decode decodeFunc, data []byte) (image.Image, error) {
	img, _, err := decode(bytes.NewReader(data))
	if err != nil {
		if u := unsupported(format, data, err); u != nil {
			return nil, u
		}
		return nil, fmt.Errorf("corrupt or truncated %s (%w): export or copy the image again", format, err)
	}
	return Flatten(orient(img, fileOrientation(format, data))), nil
}

// decodeFunc is the signature of image.Decode.
type decodeFunc = func(io.Reader) (image.Image, string, error)

// DecodeGray is Decode to 8-bit grayscale. A JPEG, by far the commonest crop, goes
// through OpenCV's libjpeg-turbo, about five times faster than Go's decoder: in
// `classify`, decoding was most of what the pipeline adds to the model's own time.
func DecodeGray(data []byte) (*image.Gray, error) {
	format, decode, err := checkHeader(data)
	if err != nil {
		return nil, err
	}
	if format == "jpeg" {
		return decodeJPEGGray(data)
	}
	img, err := decodeChecked(format, decode, data)
	if err != nil {
		return nil, err
	}
	return ToGray(img), nil
}

// checkHeader refuses empty files, unknown formats and absurd sizes from the header
// alone, and returns the format and the decoder to use.
func checkHeader(data []byte) (string, decodeFunc, error) {
	if len(data) == 0 {
		return "", nil, fmt.Errorf("%w: the copy was probably interrupted; copy it again or remove it", ErrEmpty)
	}
	decodeConfig, decode := image.DecodeConfig, image.Decode
	if isTIFF(data) {
		// image.DecodeConfig hands TIFF a bufio.Reader, and x/image/tiff then buffers
		// up to whatever offset the header names: a 100-byte file claiming an IFD at
		// 4 GB allocates 4 GB (found by FuzzDecode). Given an io.ReaderAt it reads in
		// place and fails cleanly.
		decodeConfig = func(r io.Reader) (image.Config, string, error) {
			c, err := tiff.DecodeConfig(r)
			return c, "tiff", err
		}
		decode = func(r io.Reader) (image.Image, string, error) {
			img, err := tiff.Decode(r)
			return img, "tiff", err
		}
	}
	cfg, format, err := decodeConfig(bytes.NewReader(data))
	if err != nil {
		if errors.Is(err, image.ErrFormat) {
			if isBigTIFF(data) {
				return "", nil, unsupportedErr("BigTIFF", "save it as ordinary TIFF or as PNG")
			}
			return "", nil, fmt.Errorf("%w: convert it or move it out of the folder", ErrNotImage)
		}
		if u := unsupported(format, data, err); u != nil {
			return "", nil, u
		}
		return "", nil, fmt.Errorf("corrupt image header (%v): export or copy the image again", err)
	}
	if !slices.Contains(formats, format) {
		// A decoder registered by a library linked in for other ends (imaging
		// registers GIF): such a file was read when named alone and skipped as "not an
		// image" in a folder (helper-83). One set, the one Extensions and every message
		// name, is read on every path.
		return "", nil, fmt.Errorf("a %s file: %w: convert it (PNG keeps every pixel) or move it out of the folder", strings.ToUpper(format), ErrNotImage)
	}
	if err := checkSize(cfg.Width, cfg.Height); err != nil {
		return "", nil, err
	}
	if format == "tiff" {
		// The TIFF decoder ignores some tags (PlanarConfiguration: a planar file is read
		// as interleaved, scrambled or "not enough pixel data"): such variants are
		// named from the tags before decoding.
		if u := tiffUnsupported(data); u != nil {
			return "", nil, u
		}
	}
	return format, decode, nil
}

// isTIFF reports whether data starts with a TIFF byte-order mark and magic number.
func isTIFF(data []byte) bool {
	return bytes.HasPrefix(data, []byte("II*\x00")) || bytes.HasPrefix(data, []byte("MM\x00*"))
}

func checkSize(w, h int) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("corrupt image header: it claims %dx%d pixels; export or copy the image again", w, h)
	}
	if int64(w)*int64(h) > MaxPixels {
		// A real stitched scan of that size had no way forward (helper-68).
		return fmt.Errorf("%w: header claims %dx%d pixels, more than %d Mpx; refused before decoding (a corrupt header, or not a camera frame): a real image of that size is shrunk or cut into tiles of at most %d Mpx first (ImageMagick: convert IN -crop 50%%x50%% +repage TILE-%%d.png)",
			ErrTooLarge, w, h, MaxPixels/1_000_000, MaxPixels/1_000_000)
	}
	return nil
}

// ToGray converts any decoded image to 8-bit grayscale. A JPEG's luma plane is taken as
// it is (what libjpeg and OpenCV's IMREAD_GRAYSCALE give); other images go through the
// ITU-R 601 luma weights of color.GrayModel, 16-bit samples keeping their high byte, after
// transparent pixels are composited onto white (Flatten).
func ToGray(img image.Image) *image.Gray {
	b := img.Bounds()
	switch src := img.(type) {
	case *image.Gray:
		if b.Min == (image.Point{}) {
			return src
		}
	case *image.YCbCr:
		dst := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
		for y := 0; y < b.Dy(); y++ {
			row := src.Y[src.YOffset(b.Min.X, b.Min.Y+y):]
			copy(dst.Pix[y*dst.Stride:y*dst.Stride+b.Dx()], row[:b.Dx()])
		}
		return dst
	}
	img = Flatten(img) // else draw.Src would put transparent pixels on black
	b = img.Bounds()
	dst := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Src)
	return dst
}
