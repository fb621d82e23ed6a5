package inference

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io/fs"
	"math"
	"os"
	"path"
	"slices"
	"sync"

	"github.com/phytoscreen/phytoscreen/truth"
	ort "github.com/yalue/onnxruntime_go"
	"gocv.io/x/gocv"
)

// DetectorMeta is a detector folder's detector.json (docs/detector.md), written by
// training/make_detector.py.
type DetectorMeta struct {
	Format int    `json:"format"`
	Name   string `json:"name"`
	Model  string `json:"model"`
	Input  struct {
		Name     string `json:"name"`
		Layout   string `json:"layout"`
		Channels string `json:"channels"`
		Multiple int    `json:"multiple"`
		Pad      string `json:"pad"`
	} `json:"input"`
	Outputs struct {
		Peaks    string `json:"peaks"`
		Geometry string `json:"geometry"`
	} `json:"outputs"`
	Stride    int     `json:"stride"`
	Threshold float64 `json:"threshold"`
	MinSide   int     `json:"min_side"`
	NMSIoU    float64 `json:"nms_iou"`
}

// Detector is a learned particle detector: a network that marks every object's centre
// on a heatmap and gives its box there (training/phytodetect). It finds particles the
// threshold segmenter joins or misses (touching cells, faint specks under JPEG noise) on
// the kind of frames it was trained on. Safe for use by one goroutine at a time.
type Detector struct {
	Meta DetectorMeta
	Dir  string

	mu      sync.Mutex
	session *ort.DynamicAdvancedSession
	rgb     gocv.Mat // the frame as RGB, reused
	// in is the input tensor, reused while frames keep their size: a camera's frames
	// all share one, and a fresh tensor per frame cost an allocation of the whole
	// padded frame in floats (0.9 MB at 320x240) every time.
	in *ort.Tensor[float32]
}

// LoadDetector opens the detector folder dir (detector.json beside its ONNX model).
// InitRuntime must have succeeded.
func LoadDetector(dir string) (*Detector, error) { return LoadDetectorFS(os.DirFS(dir), dir) }

// LoadDetectorFS opens a detector held in fsys (a folder, or one built into the binary:
// assets.BuiltinDetector); source names it in errors.
func LoadDetectorFS(fsys fs.FS, source string) (*Detector, error) {
	metaPath := path.Join(source, "detector.json")
	b, err := fs.ReadFile(fsys, "detector.json")
	if err != nil {
		return nil, fmt.Errorf("detector %s: %w (a detector folder holds detector.json and its model; see docs/detector.md)", source, err)
	}
	var m DetectorMeta
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w (fix the JSON)", metaPath, err)
	}
	switch {
	case m.Format != 1:
		return nil, fmt.Errorf("%s: format %d, this phytoscreen reads format 1 detectors", metaPath, m.Format)
	case m.Model == "" || m.Input.Name == "" || m.Outputs.Peaks == "" || m.Outputs.Geometry == "":
		return nil, fmt.Errorf("%s: model, input.name and outputs.peaks/geometry are required", metaPath)
	case m.Input.Layout != "NCHW" || m.Input.Channels != "RGB":
		return nil, fmt.Errorf("%s: input must be NCHW RGB, got %s %s", metaPath, m.Input.Layout, m.Input.Channels)
	case m.Stride < 1 || m.Input.Multiple < 1 || m.Input.Multiple%m.Stride != 0:
		return nil, fmt.Errorf("%s: stride %d and input.multiple %d must be positive, the multiple a multiple of the stride", metaPath, m.Stride, m.Input.Multiple)
	case m.Threshold <= 0 || m.Threshold >= 1:
		return nil, fmt.Errorf("%s: threshold %g must lie in (0, 1)", metaPath, m.Threshold)
	}
	if m.NMSIoU <= 0 {
		m.NMSIoU = 1 // no suppression asked
	}
	modelPath := path.Join(source, m.Model)
	data, err := fs.ReadFile(fsys, m.Model)
	if err != nil {
		return nil, fmt.Errorf("detector %s: %w", source, err)
	}
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	defer opts.Destroy()
	if err := opts.SetIntraOpNumThreads(1); err != nil {
		return nil, err
	}
	if err := opts.SetInterOpNumThreads(1); err != nil {
		return nil, err
	}
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(data, []string{m.Input.Name}, []string{m.Outputs.Peaks, m.Outputs.Geometry}, opts)
	if err != nil {
		return nil, fmt.Errorf("open detector model %s: %w", modelPath, err)
	}
	return &Detector{Meta: m, Dir: source, session: s, rgb: gocv.NewMat()}, nil
}

// String is the detector's name (detector.json), for summaries.
func (d *Detector) String() string { return d.Meta.Name }

// Close frees the session.
func (d *Detector) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var err error
	if d.session != nil {
		err = d.session.Destroy()
		d.session = nil
	}
	if d.in != nil {
		if err2 := d.in.Destroy(); err == nil {
			err = err2
		}
		d.in = nil
	}
	if err2 := d.rgb.Close(); err == nil {
		err = err2
	}
	return err
}

// Detection is one object found: its box in frame pixels and the heatmap's peak.
type Detection struct {
	Box   image.Rectangle
	Score float32
}

// Detect finds the objects of a frame (8-bit BGR or BGRA, or gray, which is repeated
// into the three channels: the detector was trained on colour frames, so a gray one is
// off its training), boxes in the frame's pixels, best first.
func (d *Detector) Detect(frame gocv.Mat) ([]Detection, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.session == nil {
		return nil, errors.New("detector is closed")
	}
	var code gocv.ColorConversionCode
	switch {
	case frame.Empty():
		return nil, errors.New("detector: empty frame")
	case frame.Type() == gocv.MatTypeCV8UC3:
		code = gocv.ColorBGRToRGB
	case frame.Type() == gocv.MatTypeCV8UC4:
		code = gocv.ColorRGBAToBGR // OpenCV's BGRA2RGB: the same swap, alpha dropped
	case frame.Type() == gocv.MatTypeCV8UC1:
		code = gocv.ColorGrayToBGR // the same three channels either way
	default:
		return nil, fmt.Errorf("detector: frame must be 8-bit BGR, BGRA or gray, got OpenCV type %v", frame.Type())
	}
	gocv.CvtColor(frame, &d.rgb, code)
	pix, err := d.rgb.DataPtrUint8()
	if err != nil {
		return nil, err
	}
	w, h := frame.Cols(), frame.Rows()
	mult := d.Meta.Input.Multiple
	pw, ph := (w+mult-1)/mult*mult, (h+mult-1)/mult*mult
	in, err := d.input(pw, ph)
	if err != nil {
		return nil, err
	}
	fillPadded(in.GetData(), pix, w, h, pw, ph)
	outs := []ort.Value{nil, nil}
	if err := d.session.Run([]ort.Value{in}, outs); err != nil {
		return nil, fmt.Errorf("detector %s: %w", d.Dir, err)
	}
	defer func() {
		for _, o := range outs {
			if o != nil {
				o.Destroy()
			}
		}
	}()
	peaks, ok1 := outs[0].(*ort.Tensor[float32])
	geom, ok2 := outs[1].(*ort.Tensor[float32])
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("detector %s: outputs must be float32 tensors", d.Dir)
	}
	ps, gs := peaks.GetShape(), geom.GetShape()
	if len(ps) != 4 || len(gs) != 4 || ps[1] != 1 || gs[1] != 4 || ps[2] != gs[2] || ps[3] != gs[3] {
		return nil, fmt.Errorf("detector %s: outputs of shape %v and %v, want 1x1xHxW and 1x4xHxW", d.Dir, ps, gs)
	}
	return decodePeaks(peaks.GetData(), geom.GetData(), int(ps[3]), int(ps[2]), w, h, d.Meta), nil
}

// input is the input tensor for a padded pw x ph frame: the last one when the size is
// unchanged, else a new one in its place. The caller holds d.mu.
func (d *Detector) input(pw, ph int) (*ort.Tensor[float32], error) {
	if d.in != nil {
		if s := d.in.GetShape(); s[2] == int64(ph) && s[3] == int64(pw) {
			return d.in, nil
		}
		if err := d.in.Destroy(); err != nil {
			return nil, fmt.Errorf("detector %s: free the input tensor: %w", d.Dir, err)
		}
		d.in = nil
	}
	in, err := ort.NewEmptyTensor[float32](ort.NewShape(1, 3, int64(ph), int64(pw)))
	if err != nil {
		return nil, fmt.Errorf("detector %s: input tensor %dx%d: %w", d.Dir, pw, ph, err)
	}
	d.in = in
	return in, nil
}

// fillPadded writes an RGB frame (w x h, interleaved bytes) into a planar pw x ph tensor
// in [0, 1], repeating the last column and row into the padding, as training does
// (make_detector.py: padded).
func fillPadded(dst []float32, rgb []uint8, w, h, pw, ph int) {
	plane := pw * ph
	for y := 0; y < ph; y++ {
		sy := min(y, h-1)
		for x := 0; x < pw; x++ {
			sx := min(x, w-1)
			i := (sy*w + sx) * 3
			j := y*pw + x
			dst[j] = float32(rgb[i]) / 255
			dst[plane+j] = float32(rgb[i+1]) / 255
			dst[2*plane+j] = float32(rgb[i+2]) / 255
		}
	}
}

// decodePeaks turns the heatmap's peaks over the threshold into boxes (the rule of
// training/phytodetect/train.py decode): centre = (cell + offset) x stride, size = exp of
// the log size; boxes clipped to the frame, those with a longer side under MinSide
// dropped, then greedy suppression of boxes overlapping a better one by NMSIoU.
func decodePeaks(peaks, geom []float32, ow, oh, fw, fh int, m DetectorMeta) []Detection {
	cells := ow * oh
	stride := float64(m.Stride)
	var found []Detection
	for y := 0; y < oh; y++ {
		for x := 0; x < ow; x++ {
			i := y*ow + x
			p := peaks[i]
			if float64(p) <= m.Threshold {
				continue
			}
			cx := (float64(x) + float64(geom[i])) * stride
			cy := (float64(y) + float64(geom[cells+i])) * stride
			bw, bh := math.Exp(float64(geom[2*cells+i])), math.Exp(float64(geom[3*cells+i]))
			b := image.Rect(max(0, roundHalfEven(cx-bw/2)), max(0, roundHalfEven(cy-bh/2)),
				min(fw, roundHalfEven(cx+bw/2)), min(fh, roundHalfEven(cy+bh/2)))
			if b.Empty() || max(b.Dx(), b.Dy()) < m.MinSide {
				continue
			}
			found = append(found, Detection{Box: b, Score: p})
		}
	}
	slices.SortStableFunc(found, func(a, b Detection) int { return cmp.Compare(b.Score, a.Score) })
	var kept []Detection
	for _, f := range found {
		if !slices.ContainsFunc(kept, func(k Detection) bool { return truth.IoU(f.Box, k.Box) >= m.NMSIoU }) {
			kept = append(kept, f)
		}
	}
	return kept
}

// roundHalfEven rounds as Python's round does, so the app's boxes are the recipe's.
func roundHalfEven(v float64) int { return int(math.RoundToEven(v)) }

// FindBoxes is Detect's boxes and scores (vision.BoxFinder).
func (d *Detector) FindBoxes(frame gocv.Mat) ([]image.Rectangle, []float32, error) {
	found, err := d.Detect(frame)
	if err != nil {
		return nil, nil, err
	}
	boxes, scores := make([]image.Rectangle, len(found)), make([]float32, len(found))
	for i, f := range found {
		boxes[i], scores[i] = f.Box, f.Score
	}
	return boxes, scores, nil
}
