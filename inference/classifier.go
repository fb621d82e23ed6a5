package inference

import (
	"context"
	"errors"
	"fmt"
	"image"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"

	ort "github.com/yalue/onnxruntime_go"
)

// Options are the classifier's settings.
type Options struct {
	Variant Variant // model to start with; default: optimised when the pack has it, else base
	Threads int     // ONNX Runtime intra-op threads; default: the number of CPUs
	Batch   int     // crops per inference run; default 16
	TopK    int     // labels returned per crop; default 5, at most the label count
	// Features asks for each crop's embedding (Result.Features) when the pack's models
	// have a features output (format 2); ignored otherwise.
	Features bool
}

// Prediction is one label with its probability.
type Prediction struct {
	Index int     `json:"index"`
	Label string  `json:"label"`
	Prob  float32 `json:"probability"`
}

// Result is a crop's classification: the best TopK labels, best first.
type Result struct {
	Top     []Prediction
	Variant Variant
	// Features is the crop's embedding (the pack's features output), when the classifier
	// was opened with Options.Features on a pack that has one; nil otherwise.
	Features []float32
}

// Best returns the top label.
func (r Result) Best() Prediction { return r.Top[0] }

// Classifier classifies cell crops (grayscale, or colour for a format-2 rgb pack) with a
// pack's models. It holds one ONNX Runtime session per variant, opened on first use and
// kept, and reuses its input and output tensors between calls. All methods are safe for concurrent use; the variant,
// thread count and batch size can change while other goroutines classify.
type Classifier struct {
	pack *Pack
	topK atomic.Int32
	bsz  atomic.Int32
	cur  atomic.Value // Variant

	mu       sync.RWMutex // guards sessions and threads; Run holds it for reading
	sessions map[Variant]*ort.DynamicAdvancedSession
	threads  int
	features bool // sessions also return the features output

	poolMu sync.Mutex
	pool   map[int][]*Batch // free tensor pairs by batch size

}

// NewClassifier opens the starting variant's session (checking the model against the
// pack) and returns a classifier. InitRuntime must have succeeded.
func NewClassifier(p *Pack, o Options) (*Classifier, error) {
	if !ort.IsInitialized() {
		return nil, errors.New("ONNX Runtime is not loaded: call InitRuntime first")
	}
	if o.Variant == "" {
		o.Variant = Base
		if p.Has(Optimised) {
			o.Variant = Optimised
		}
	}
	if o.Threads <= 0 {
		o.Threads = runtime.NumCPU()
	}
	if o.Batch <= 0 {
		o.Batch = 16
	}
	if o.TopK <= 0 {
		o.TopK = 5
	}
	c := &Classifier{pack: p, sessions: map[Variant]*ort.DynamicAdvancedSession{}, threads: o.Threads, pool: map[int][]*Batch{},
		features: o.Features && p.HasFeatures()}
	c.SetTopK(o.TopK)
	c.SetBatch(o.Batch)
	if err := c.SetVariant(o.Variant); err != nil {
		return nil, err
	}
	return c, nil
}

// Pack returns the classifier's pack.
func (c *Classifier) Pack() *Pack { return c.pack }

// ColourInput says whether the pack's models take colour (three-channel) crops, so the
// screening run cuts colour crops from the frames and hands them over as images.
func (c *Classifier) ColourInput() bool { return c.pack.Channels() == 3 }

// Variant returns the model in use.
func (c *Classifier) Variant() Variant { return c.cur.Load().(Variant) }

// SetVariant switches the model; the session is opened once, on first use, then kept.
// Runs already under way finish on the model they started with.
func (c *Classifier) SetVariant(v Variant) error {
	if !c.pack.Has(v) {
		return c.pack.errNoModel(v)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.sessions[v]; !ok {
		s, err := c.openSession(v, c.threads)
		if err != nil {
			return err
		}
		c.sessions[v] = s
	}
	c.cur.Store(v)
	return nil
}

// Threads returns the intra-op thread count.
func (c *Classifier) Threads() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.threads
}

// SetThreads changes the intra-op thread count. ONNX Runtime fixes it per session, so the
// open sessions are rebuilt; runs under way finish first.
func (c *Classifier) SetThreads(n int) error {
	if n <= 0 {
		return fmt.Errorf("threads must be at least 1, got %d", n)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if n == c.threads {
		return nil
	}
	fresh := make(map[Variant]*ort.DynamicAdvancedSession, len(c.sessions))
	for v := range c.sessions {
		s, err := c.openSession(v, n)
		if err != nil {
			for _, f := range fresh {
				_ = f.Destroy()
			}
			return err
		}
		fresh[v] = s
	}
	for _, s := range c.sessions {
		_ = s.Destroy()
	}
	c.sessions, c.threads = fresh, n
	return nil
}

// Batch size (crops per run).
func (c *Classifier) BatchSize() int { return int(c.bsz.Load()) }

// SetBatch sets the number of crops per run (at least 1).
func (c *Classifier) SetBatch(n int) { c.bsz.Store(int32(max(1, n))) }

// SetTopK sets how many labels each Result holds (1 to the label count).
func (c *Classifier) SetTopK(k int) { c.topK.Store(int32(min(max(1, k), len(c.pack.Labels)))) }

func (c *Classifier) openSession(v Variant, threads int) (*ort.DynamicAdvancedSession, error) {
	data, err := c.pack.ModelBytes(v)
	if err != nil {
		return nil, err
	}
	file := c.pack.Source + "/" + c.pack.Models[v].File
	if err := checkModel(c.pack, data, file); err != nil {
		return nil, err
	}
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	defer opts.Destroy()
	if err := opts.SetIntraOpNumThreads(threads); err != nil {
		return nil, fmt.Errorf("set %d threads: %w", threads, err)
	}
	if err := opts.SetInterOpNumThreads(1); err != nil {
		return nil, fmt.Errorf("set inter-op threads: %w", err)
	}
	outs := []string{c.pack.Output.Name}
	if c.features {
		outs = append(outs, c.pack.Features.Name)
	}
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(data, []string{c.pack.Input.Name}, outs, opts)
	if err != nil {
		return nil, fmt.Errorf("open %s model %s: %w", v, file, err)
	}
	return s, nil
}

// CheckModels checks every model of a pack against its manifest, as NewClassifier does
// when it opens them, without opening a session: each is a readable ONNX model whose
// input and output match pack.json. The app checks a pack folder with it before taking
// it. InitRuntime must have succeeded.
func CheckModels(p *Pack) error {
	if !ort.IsInitialized() {
		return errors.New("ONNX Runtime is not loaded: call InitRuntime first")
	}
	for _, v := range p.Variants() {
		data, err := p.ModelBytes(v)
		if err != nil {
			return err
		}
		if err := checkModel(p, data, p.Source+"/"+p.Models[v].File); err != nil {
			return err
		}
	}
	return nil
}

// checkModel compares a model's declared input and output with the pack's contract.
func checkModel(p *Pack, data []byte, file string) error {
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(data)
	if err != nil {
		return fmt.Errorf("model %s is not a readable ONNX model (%v): replace the file with the pack's ONNX export", file, err)
	}
	var in, out *ort.InputOutputInfo
	for i := range ins {
		if ins[i].Name == p.Input.Name {
			in = &ins[i]
		}
	}
	for i := range outs {
		if outs[i].Name == p.Output.Name {
			out = &outs[i]
		}
	}
	if in == nil {
		return fmt.Errorf("model %s has no input named %q (it has %s): fix \"input.name\" in %s", file, p.Input.Name, ioNames(ins), ManifestFile)
	}
	if out == nil {
		return fmt.Errorf("model %s has no output named %q (it has %s): fix \"output.name\" in %s", file, p.Output.Name, ioNames(outs), ManifestFile)
	}
	d := in.Dimensions
	ch := p.Input.Shape[1]
	if len(d) != 4 || !dimFits(d[1], ch) || !dimFits(d[2], p.Input.Shape[2]) || !dimFits(d[3], p.Input.Shape[3]) {
		return fmt.Errorf("model %s takes input %v, but %s declares %v: the preprocessing produces [N,%d,%d,%d]; fix \"input.shape\"",
			file, d, ManifestFile, p.Input.Shape, ch, p.Input.Shape[2], p.Input.Shape[3])
	}
	if in.DataType != ort.TensorElementDataTypeFloat {
		return fmt.Errorf("model %s takes %v input, phytoscreen feeds float32", file, in.DataType)
	}
	od := out.Dimensions
	if len(od) != 2 || !dimFits(od[1], int64(len(p.Labels))) {
		return fmt.Errorf("model %s outputs %v, but %s has %d labels: the label list must match the model's output size", file, od, ManifestFile, len(p.Labels))
	}
	if p.HasFeatures() {
		var f *ort.InputOutputInfo
		for i := range outs {
			if outs[i].Name == p.Features.Name {
				f = &outs[i]
			}
		}
		if f == nil {
			return fmt.Errorf("model %s has no output named %q (it has %s): fix \"features.name\" in %s, or remove \"features\"", file, p.Features.Name, ioNames(outs), ManifestFile)
		}
		if len(f.Dimensions) != 2 || (p.FeaturesDim() > 0 && !dimFits(f.Dimensions[1], p.FeaturesDim())) {
			return fmt.Errorf("model %s has features %v, but %s declares %v: fix \"features.shape\"", file, f.Dimensions, ManifestFile, p.Features.Shape)
		}
		if f.DataType != ort.TensorElementDataTypeFloat {
			return fmt.Errorf("model %s has %v features, phytoscreen reads float32", file, f.DataType)
		}
	}
	return nil
}

func dimFits(model, want int64) bool { return model <= 0 || model == want }

func ioNames(infos []ort.InputOutputInfo) string {
	s := ""
	for i, x := range infos {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%q %v", x.Name, x.Dimensions)
	}
	return s
}

// Batch is a reusable pair of tensors for N crops: fill Input (N*C*H*W float32 in the
// contract's form, crop i at i*Pack().InputSize(); Pack().Preprocess fills one) and Run;
// Output then holds N rows of class probabilities, and Features N rows of the embedding
// when the classifier returns features.
type Batch struct {
	N        int
	Input    []float32
	Output   []float32
	Features []float32 // N*FeatureDim, when the classifier returns features
	// FeatureDim is the length of one crop's embedding (0 without features).
	FeatureDim int
	in         *ort.Tensor[float32]
	out        *ort.Tensor[float32]
}

// NewBatch allocates a tensor pair for n crops. Close it when done.
func (c *Classifier) NewBatch(n int) (*Batch, error) {
	in, err := ort.NewEmptyTensor[float32](ort.NewShape(int64(n), int64(c.pack.Channels()), int64(c.pack.Height()), int64(c.pack.Width())))
	if err != nil {
		return nil, fmt.Errorf("input tensor for %d crops: %w", n, err)
	}
	out, err := ort.NewEmptyTensor[float32](ort.NewShape(int64(n), int64(len(c.pack.Labels))))
	if err != nil {
		_ = in.Destroy()
		return nil, fmt.Errorf("output tensor for %d crops: %w", n, err)
	}
	return &Batch{N: n, Input: in.GetData(), Output: out.GetData(), in: in, out: out}, nil
}

// Close frees the batch's tensors.
func (b *Batch) Close() {
	_ = b.in.Destroy()
	_ = b.out.Destroy()
}

// Run runs the current model on a filled batch and returns the variant that ran.
func (c *Classifier) Run(b *Batch) (Variant, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v := c.Variant()
	if !c.features {
		if err := c.sessions[v].Run([]ort.Value{b.in}, []ort.Value{b.out}); err != nil {
			return v, fmt.Errorf("run %s model on %d crops: %w", v, b.N, err)
		}
		return v, nil
	}
	// The features output is allocated by ONNX Runtime: its length may differ by model.
	outs := []ort.Value{b.out, nil}
	if err := c.sessions[v].Run([]ort.Value{b.in}, outs); err != nil {
		return v, fmt.Errorf("run %s model on %d crops: %w", v, b.N, err)
	}
	defer outs[1].Destroy()
	ft, ok := outs[1].(*ort.Tensor[float32])
	if !ok {
		return v, fmt.Errorf("run %s model: features output %q is not a float32 tensor", v, c.pack.Features.Name)
	}
	data := ft.GetData()
	if b.N == 0 || len(data)%b.N != 0 {
		return v, fmt.Errorf("run %s model: features output has %d values for %d crops", v, len(data), b.N)
	}
	b.FeatureDim = len(data) / b.N
	b.Features = append(b.Features[:0], data...)
	return v, nil
}

func (c *Classifier) getBatch(n int) (*Batch, error) {
	c.poolMu.Lock()
	if free := c.pool[n]; len(free) > 0 {
		b := free[len(free)-1]
		c.pool[n] = free[:len(free)-1]
		c.poolMu.Unlock()
		return b, nil
	}
	c.poolMu.Unlock()
	return c.NewBatch(n)
}

func (c *Classifier) putBatch(b *Batch) {
	c.poolMu.Lock()
	c.pool[b.N] = append(c.pool[b.N], b)
	c.poolMu.Unlock()
}

// Classify classifies grayscale crops in runs of the batch size and returns one Result per
// crop, in order. It stops between runs when ctx is cancelled. For a colour (rgb) pack each
// gray crop is replicated into the three channels; ClassifyImages takes colour crops.
func (c *Classifier) Classify(ctx context.Context, crops []*image.Gray) ([]Result, error) {
	if c.pack.Format >= 2 {
		imgs := make([]image.Image, len(crops))
		for i, g := range crops {
			if g != nil {
				imgs[i] = g
			}
		}
		return c.ClassifyImages(ctx, imgs)
	}
	h, w := c.pack.Height(), c.pack.Width()
	pad := c.pack.PadValue()
	var scratch []uint8
	return c.runBatches(ctx, len(crops), func(dst []float32, i int) error {
		crop := crops[i]
		if crop == nil || crop.Rect.Empty() {
			return fmt.Errorf("crop %d is empty", i)
		}
		Letterbox(dst, crop, h, w, pad, &scratch)
		return nil
	})
}

// runBatches classifies n crops in runs of the batch size: fill writes crop i's tensor
// into dst (one image's share of the batch input). It returns the results so far with
// the first error, and stops between runs when ctx is cancelled.
func (c *Classifier) runBatches(ctx context.Context, count int, fill func(dst []float32, i int) error) ([]Result, error) {
	results := make([]Result, 0, count)
	size := c.pack.InputSize()
	for start := 0; start < count; {
		if err := ctx.Err(); err != nil {
			return results, err
		}
		n := min(c.BatchSize(), count-start)
		b, err := c.getBatch(n)
		if err != nil {
			return results, err
		}
		for i := range n {
			if err := fill(b.Input[i*size:(i+1)*size], start+i); err != nil {
				c.putBatch(b)
				return results, err
			}
		}
		v, err := c.Run(b)
		if err != nil {
			c.putBatch(b)
			return results, err
		}
		results = append(results, c.decode(b, v)...)
		c.putBatch(b)
		start += n
	}
	return results, nil
}

// ClassifyImages classifies crops of any image type (*image.Gray, *image.RGBA,
// *image.NRGBA, or anything else through conversion) following the pack's input contract:
// a colour crop for a gray pack is converted with OpenCV's BGR2GRAY, a gray crop for an
// rgb pack replicated. It returns one Result per crop, in order, with Features filled when
// the classifier was opened with Options.Features on a pack that has them. It stops
// between runs when ctx is cancelled.
func (c *Classifier) ClassifyImages(ctx context.Context, crops []image.Image) ([]Result, error) {
	return c.runBatches(ctx, len(crops), func(dst []float32, i int) error {
		crop := crops[i]
		if crop == nil || crop.Bounds().Empty() {
			return fmt.Errorf("crop %d is empty", i)
		}
		if err := c.pack.Preprocess(dst, crop); err != nil {
			return fmt.Errorf("crop %d: %w", i, err)
		}
		return nil
	})
}

// decode turns a batch's output rows into top-k Results.
func (c *Classifier) decode(b *Batch, v Variant) []Result {
	k := int(c.topK.Load())
	nc := len(c.pack.Labels)
	out := make([]Result, b.N)
	idx := make([]int, nc)
	for i := range out {
		row := b.Output[i*nc : (i+1)*nc]
		for j := range idx {
			idx[j] = j
		}
		sort.SliceStable(idx, func(a, b int) bool { return row[idx[a]] > row[idx[b]] })
		top := make([]Prediction, k)
		for j := range top {
			top[j] = Prediction{Index: idx[j], Label: c.pack.Labels[idx[j]], Prob: row[idx[j]]}
		}
		out[i] = Result{Top: top, Variant: v}
		if c.features && b.FeatureDim > 0 {
			out[i].Features = append([]float32(nil), b.Features[i*b.FeatureDim:(i+1)*b.FeatureDim]...)
		}
	}
	return out
}

// Close frees the sessions and pooled tensors.
func (c *Classifier) Close() {
	c.mu.Lock()
	for _, s := range c.sessions {
		_ = s.Destroy()
	}
	c.sessions = map[Variant]*ort.DynamicAdvancedSession{}
	c.mu.Unlock()
	c.poolMu.Lock()
	for _, free := range c.pool {
		for _, b := range free {
			b.Close()
		}
	}
	c.pool = map[int][]*Batch{}
	c.poolMu.Unlock()
}
