package inference

import (
	"context"
	"fmt"
	"image"
	"runtime"

	"github.com/phytoscreen/phytoscreen/imagefile"
)

// FileResult is the outcome for one image file: its classification, or why it failed.
type FileResult struct {
	Path   string
	Result Result
	Err    error
}

// ClassifyFiles decodes image files on all CPUs ahead of the classifier, classifies them
// in batches and calls emit once per file, in input order. A file that cannot be decoded
// is emitted with its error and the run goes on; an inference error or a cancelled ctx
// stops it. Files are decoded as the pack's contract says: to gray for a format-1 pack, in
// colour (OpenCV's decoder for JPEG, like the recipe's cv2.imread) for a format-2 pack.
func ClassifyFiles(ctx context.Context, clf *Classifier, files []string, emit func(FileResult) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	read := func(path string) (image.Image, error) { return imagefile.ReadGray(path) }
	if clf.Pack().Format >= 2 {
		read = imagefile.ReadColor
	}
	order := decodeAhead(ctx, files, 4*clf.BatchSize(), read)
	var pending []decodedFile
	var crops []image.Image
	flush := func() error {
		results, err := clf.classifyAny(ctx, crops)
		if err != nil {
			return err
		}
		k := 0
		for _, d := range pending {
			fr := FileResult{Path: d.path, Err: d.err}
			if d.err == nil {
				fr.Result = results[k]
				k++
			}
			if err := emit(fr); err != nil {
				return err
			}
		}
		pending, crops = pending[:0], crops[:0]
		return nil
	}
	for fut := range order {
		d := <-fut
		pending = append(pending, d)
		if d.err == nil {
			crops = append(crops, d.img)
		}
		if len(crops) >= clf.BatchSize() {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return flush()
}

type decodedFile struct {
	path string
	img  image.Image
	err  error
}

// classifyAny classifies decoded files: through Classify for a format-1 pack (gray
// crops, the Go letterbox), else ClassifyImages.
func (c *Classifier) classifyAny(ctx context.Context, crops []image.Image) ([]Result, error) {
	if c.pack.Format < 2 {
		gray := make([]*image.Gray, len(crops))
		for i, img := range crops {
			g, err := grayOf(img)
			if err != nil {
				return nil, err
			}
			gray[i] = g
		}
		return c.Classify(ctx, gray)
	}
	return c.ClassifyImages(ctx, crops)
}

// decodeAhead decodes files on a pool of goroutines and yields one future per file, in
// order; at most ahead files are decoded and not yet taken, which bounds memory.
func decodeAhead(ctx context.Context, files []string, ahead int, read func(string) (image.Image, error)) <-chan chan decodedFile {
	order := make(chan chan decodedFile, ahead)
	type job struct {
		path string
		fut  chan decodedFile
	}
	jobs := make(chan job, ahead)
	for range runtime.GOMAXPROCS(0) {
		go func() {
			for j := range jobs {
				img, err := read(j.path)
				if err == nil {
					err = checkCropSize(img)
				}
				j.fut <- decodedFile{path: j.path, img: img, err: err}
			}
		}()
	}
	go func() {
		defer close(order)
		defer close(jobs)
		for _, p := range files {
			fut := make(chan decodedFile, 1)
			select {
			case jobs <- job{p, fut}:
			case <-ctx.Done():
				return
			}
			select {
			case order <- fut:
			case <-ctx.Done():
				return
			}
		}
	}()
	return order
}

// MinCropSide is the smallest side, in pixels, of an image that can hold a cell. The
// default pack's training images are at least 21 px on their shorter side; a 1x1 or 2x2
// image is an icon or a mistake, and classifying it would only produce a confident-looking
// guess.
const MinCropSide = 4

func checkCropSize(img image.Image) error {
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	if w < MinCropSide || h < MinCropSide {
		return fmt.Errorf("image is %dx%d pixels: too small to hold a cell (each side must be at least %d px)", w, h, MinCropSide)
	}
	if flatShade(img) {
		// A fully transparent cut-out (composited onto white), a blank export or a
		// frame of the lamp alone: the models named one "diatom_chain_string, 0.73"
		// (helper-82), a label from nothing. screen refuses such a frame as blank.
		return fmt.Errorf("image is one flat shade (all white: fully transparent or overexposed; or all black): there is no cell in it to classify")
	}
	return nil
}

// rgbaPix is the pixels and stride of an *image.RGBA or *image.NRGBA (opaque here:
// transparent pixels were composited onto white, so straight and premultiplied agree).
func rgbaPix(img image.Image) ([]uint8, int) {
	if n, ok := img.(*image.NRGBA); ok {
		return n.Pix, n.Stride
	}
	m := img.(*image.RGBA)
	return m.Pix, m.Stride
}

// flatShade reports whether every pixel of img is within flatRange of every other, in
// every colour channel (alpha aside: transparent pixels were composited onto white).
func flatShade(img image.Image) bool {
	const flatRange = 2 // JPEG's noise on a blank export
	lo, hi := [3]uint8{255, 255, 255}, [3]uint8{}
	see := func(c int, v uint8) {
		lo[c], hi[c] = min(lo[c], v), max(hi[c], v)
	}
	b := img.Bounds()
	switch m := img.(type) {
	case *image.Gray:
		for y := 0; y < b.Dy(); y++ {
			for _, v := range m.Pix[y*m.Stride : y*m.Stride+b.Dx()] {
				see(0, v)
			}
		}
		return hi[0]-lo[0] <= flatRange
	case *image.RGBA, *image.NRGBA: // the decoders' colour images: At per pixel took long on large ones
		pix, stride := rgbaPix(m)
		for y := 0; y < b.Dy(); y++ {
			row := pix[y*stride : y*stride+4*b.Dx()]
			for i := 0; i < len(row); i += 4 {
				see(0, row[i])
				see(1, row[i+1])
				see(2, row[i+2])
			}
		}
	default:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				r, g, bl, _ := img.At(x, y).RGBA()
				see(0, uint8(r>>8))
				see(1, uint8(g>>8))
				see(2, uint8(bl>>8))
			}
		}
	}
	for c := range 3 {
		if hi[c]-lo[c] > flatRange {
			return false
		}
	}
	return true
}
