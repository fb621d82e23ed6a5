package synth

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strconv"

	"gocv.io/x/gocv"
)

// FrameTruth is the ground truth of one frame: which field it shows and every cell on it.
type FrameTruth struct {
	Frame  int    `json:"frame"`          // 0-based frame index
	File   string `json:"file,omitempty"` // the frame image, for still frames
	Field  int    `json:"field"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Cells  []Cell `json:"cells"`

	Look  string  `json:"look,omitempty"`  // phase or colour; absent for brightfield
	Stage *Point  `json:"stage,omitempty"` // slides: where the frame's top-left pixel lies on the slide
	Blur  float64 `json:"blur,omitempty"`  // slides with focus changes: this frame's blur sigma, px
}

// VideoTruth is the ground truth of a generated video: every frame's cells and the list of
// distinct cells, each of which a counter must count exactly once.
type VideoTruth struct {
	Video  string       `json:"video"`
	FPS    float64      `json:"fps"`
	Width  int          `json:"width"`
	Height int          `json:"height"`
	Seed   uint64       `json:"seed"`
	Fields int          `json:"fields"`
	Frames []FrameTruth `json:"frames"`
	Cells  []Cell       `json:"cells"` // distinct cells, by ID
}

// Plan spreads frames over fields: frames/fields frames per field, the first
// frames%fields fields one frame longer.
func Plan(frames, fields int) ([]int, error) {
	if frames < 1 || fields < 1 || fields > frames {
		return nil, fmt.Errorf("frames %d, fields %d: want at least one frame and one field, and no more fields than frames", frames, fields)
	}
	per := make([]int, fields)
	for i := range per {
		per[i] = frames / fields
		if i < frames%fields {
			per[i]++
		}
	}
	return per, nil
}

// WriteStills writes frames still images (PNG, or JPEG when format is "jpg") into dir,
// spread over fields, each with its ground truth beside it (frame-0001.json), and a
// truth.csv listing every cell of every frame.
func (g *Generator) WriteStills(ctx context.Context, dir string, frames, fields int, format string) ([]FrameTruth, error) {
	per, err := Plan(frames, fields)
	if err != nil {
		return nil, err
	}
	if format != "png" && format != "jpg" {
		return nil, fmt.Errorf("image format %q: want png or jpg", format)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create output folder: %w", err)
	}
	var truths []FrameTruth
	idx := 0
	for _, n := range per {
		f, err := g.NewField()
		if err != nil {
			return truths, err
		}
		for range n {
			if err := ctx.Err(); err != nil {
				return truths, err
			}
			name := fmt.Sprintf("frame-%04d.%s", idx+1, format)
			if err := writeImage(filepath.Join(dir, name), g.Render(f), format); err != nil {
				return truths, err
			}
			t := g.truth(f, idx)
			t.File = name
			if err := writeJSON(filepath.Join(dir, fmt.Sprintf("frame-%04d.json", idx+1)), t); err != nil {
				return truths, err
			}
			truths = append(truths, t)
			idx++
		}
	}
	return truths, writeTruthCSV(filepath.Join(dir, "truth.csv"), truths)
}

func (g *Generator) truth(f *Field, frame int) FrameTruth {
	t := FrameTruth{Frame: frame, Field: f.Index, Width: g.opt.Width, Height: g.opt.Height, Cells: f.Cells}
	if g.opt.Look != LookBright {
		t.Look = string(g.opt.Look)
	}
	return t
}

// frameSource returns the next frame of a sequence and its truth.
type frameSource func() (*image.RGBA, FrameTruth, error)

// writeStillsFrom writes n frames of a sequence into dir as WriteStills does: each image
// (png or jpg) with its truth beside it, and truth.csv.
func writeStillsFrom(ctx context.Context, dir, format string, n int, next frameSource) ([]FrameTruth, error) {
	if format != "png" && format != "jpg" {
		return nil, fmt.Errorf("image format %q: want png or jpg", format)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create output folder: %w", err)
	}
	var truths []FrameTruth
	for i := range n {
		if err := ctx.Err(); err != nil {
			return truths, err
		}
		img, t, err := next()
		if err != nil {
			return truths, err
		}
		t.Frame = i
		t.File = fmt.Sprintf("frame-%04d.%s", i+1, format)
		if err := writeImage(filepath.Join(dir, t.File), img, format); err != nil {
			return truths, err
		}
		if err := writeJSON(filepath.Join(dir, fmt.Sprintf("frame-%04d.json", i+1)), t); err != nil {
			return truths, err
		}
		truths = append(truths, t)
	}
	return truths, writeTruthCSV(filepath.Join(dir, "truth.csv"), truths)
}

// writeVideoFrom writes n frames of a sequence as an MJPG AVI at path and returns their
// truth; the caller writes the truth files.
func writeVideoFrom(ctx context.Context, path string, fps float64, w, h, n int, next frameSource) ([]FrameTruth, error) {
	if fps <= 0 || fps > 240 {
		return nil, fmt.Errorf("fps %g: want more than 0 and at most 240", fps)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create output folder: %w", err)
	}
	vw, err := gocv.VideoWriterFile(path, "MJPG", fps, w, h, true)
	if err != nil {
		return nil, fmt.Errorf("open video writer %s: %w", path, err)
	}
	if !vw.IsOpened() {
		vw.Close()
		return nil, fmt.Errorf("open video writer %s: OpenCV could not open it for MJPG (check the folder is writable and the name ends in .avi)", path)
	}
	bgr := make([]byte, 3*w*h)
	var truths []FrameTruth
	for i := range n {
		if err := ctx.Err(); err != nil {
			vw.Close()
			return nil, err
		}
		img, t, err := next()
		if err == nil {
			t.Frame = i
			err = writeVideoFrame(vw, img, bgr)
		}
		if err != nil {
			vw.Close()
			return nil, fmt.Errorf("write frame %d of %s: %w", i, path, err)
		}
		truths = append(truths, t)
	}
	if err := vw.Close(); err != nil {
		return nil, fmt.Errorf("close video %s: %w", path, err)
	}
	return truths, nil
}

// WriteVideo writes an MJPG AVI of frames frames at fps through OpenCV's VideoWriter: the
// field stays still for frames/fields frames, then the stage moves to a new field with new
// cells. Beside it go NAME.json (VideoTruth) and NAME.csv (one row per cell per frame).
func (g *Generator) WriteVideo(ctx context.Context, path string, frames, fields int, fps float64) (*VideoTruth, error) {
	per, err := Plan(frames, fields)
	if err != nil {
		return nil, err
	}
	if fps <= 0 || fps > 240 {
		return nil, fmt.Errorf("fps %g: want more than 0 and at most 240", fps)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create output folder: %w", err)
	}
	vw, err := gocv.VideoWriterFile(path, "MJPG", fps, g.opt.Width, g.opt.Height, true)
	if err != nil {
		return nil, fmt.Errorf("open video writer %s: %w", path, err)
	}
	if !vw.IsOpened() {
		vw.Close()
		return nil, fmt.Errorf("open video writer %s: OpenCV could not open it for MJPG (check the folder is writable and the name ends in .avi)", path)
	}
	vt := &VideoTruth{Video: filepath.Base(path), FPS: fps, Width: g.opt.Width, Height: g.opt.Height, Seed: g.opt.Seed, Fields: fields}
	bgr := make([]byte, 3*g.opt.Width*g.opt.Height)
	idx := 0
	for _, n := range per {
		f, err := g.NewField()
		if err != nil {
			vw.Close()
			return nil, err
		}
		vt.Cells = append(vt.Cells, f.Cells...)
		for range n {
			if err := ctx.Err(); err != nil {
				vw.Close()
				return nil, err
			}
			if err := writeVideoFrame(vw, g.Render(f), bgr); err != nil {
				vw.Close()
				return nil, fmt.Errorf("write frame %d of %s: %w", idx, path, err)
			}
			vt.Frames = append(vt.Frames, g.truth(f, idx))
			idx++
		}
	}
	if err := vw.Close(); err != nil {
		return nil, fmt.Errorf("close video %s: %w", path, err)
	}
	base := path[:len(path)-len(filepath.Ext(path))]
	if err := writeJSON(base+".json", vt); err != nil {
		return nil, err
	}
	return vt, writeTruthCSV(base+".csv", vt.Frames)
}

// writeVideoFrame hands one frame to the writer as an 8-bit BGR Mat.
func writeVideoFrame(vw *gocv.VideoWriter, img *image.RGBA, bgr []byte) error {
	RGBAToBGR(bgr, img)
	m, err := gocv.NewMatFromBytes(img.Rect.Dy(), img.Rect.Dx(), gocv.MatTypeCV8UC3, bgr)
	if err != nil {
		return err
	}
	defer m.Close()
	return vw.Write(m)
}

// RGBAToBGR packs an RGBA image into dst as 8-bit BGR (OpenCV's order); dst must hold
// 3 bytes per pixel.
func RGBAToBGR(dst []byte, img *image.RGBA) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	for y := 0; y < h; y++ {
		src := img.Pix[y*img.Stride : y*img.Stride+4*w]
		out := dst[3*w*y : 3*w*(y+1)]
		for x := 0; x < w; x++ {
			out[3*x], out[3*x+1], out[3*x+2] = src[4*x+2], src[4*x+1], src[4*x]
		}
	}
}

func writeImage(path string, img image.Image, format string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create frame: %w", err)
	}
	if format == "jpg" {
		err = jpeg.Encode(f, img, &jpeg.Options{Quality: 92})
	} else {
		err = (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(f, img)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write ground truth: %w", err)
	}
	return nil
}

// writeTruthCSV writes one row per cell per frame: frame,file,field,cell,label,x,y,w,h,sample;
// when any object has a kind, cell count, cloud, border or colour (the phase and colour
// looks, slides) the columns kind,ncells,group,border,colour follow (kind "cell" for an
// NDSB crop, border 0 or 1, empty colour outside the colour look).
func writeTruthCSV(path string, truths []FrameTruth) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write ground truth: %w", err)
	}
	extended := false
	for _, t := range truths {
		for _, c := range t.Cells {
			extended = extended || c.Kind != "" || c.NCells != 0 || c.Group != 0 || c.Border || c.Colour != ""
		}
	}
	w := csv.NewWriter(f)
	head := []string{"frame", "file", "field", "cell", "label", "x", "y", "w", "h", "sample"}
	if extended {
		head = append(head, "kind", "ncells", "group", "border", "colour")
	}
	_ = w.Write(head)
	for _, t := range truths {
		for _, c := range t.Cells {
			row := []string{strconv.Itoa(t.Frame), t.File, strconv.Itoa(t.Field), strconv.Itoa(c.ID), c.Label,
				strconv.Itoa(c.Box.X), strconv.Itoa(c.Box.Y), strconv.Itoa(c.Box.W), strconv.Itoa(c.Box.H), c.Sample}
			if extended {
				border := "0"
				if c.Border {
					border = "1"
				}
				row = append(row, string(c.KindOf()), strconv.Itoa(c.NCells), strconv.Itoa(c.Group), border, c.Colour)
			}
			_ = w.Write(row)
		}
	}
	w.Flush()
	err = w.Error()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// ReadFrameTruth reads a still frame's ground truth (frame-0001.json).
func ReadFrameTruth(path string) (FrameTruth, error) {
	var t FrameTruth
	return t, readJSON(path, &t)
}

// ReadVideoTruth reads a video's ground truth (NAME.json beside NAME.avi).
func ReadVideoTruth(path string) (*VideoTruth, error) {
	var t VideoTruth
	if err := readJSON(path, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read ground truth: %w", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("ground truth %s: %w (is it a file written by phytoscreen synth?)", path, err)
	}
	return nil
}

func mkdir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create output folder: %w", err)
	}
	return nil
}

// JPEGFields renders one field of cells per size (seeded from seed: the same call gives
// the same bytes), n frames of each, as encoded JPEG files: frames of several sizes for
// testing sources whose frame size changes.
func JPEGFields(lib *Library, sizes []image.Point, n int, seed uint64) ([][]byte, error) {
	var out [][]byte
	for i, s := range sizes {
		g, err := New(lib, Options{Width: s.X, Height: s.Y, Cells: 5, Seed: seed + uint64(i)})
		if err != nil {
			return nil, err
		}
		f, err := g.NewField()
		if err != nil {
			return nil, err
		}
		bgr := make([]byte, 3*s.X*s.Y)
		for range n {
			RGBAToBGR(bgr, g.Render(f))
			m, err := gocv.NewMatFromBytes(s.Y, s.X, gocv.MatTypeCV8UC3, bgr)
			if err != nil {
				return nil, err
			}
			buf, err := gocv.IMEncode(gocv.JPEGFileExt, m)
			m.Close()
			if err != nil {
				return nil, err
			}
			out = append(out, append([]byte(nil), buf.GetBytes()...))
			buf.Close()
		}
	}
	return out, nil
}
