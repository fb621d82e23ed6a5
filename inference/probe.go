package inference

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	ort "github.com/yalue/onnxruntime_go"
)

// Probe runs an ONNX model held in memory on float32 batches and returns the float32
// tensors it names, intermediate ones included when the model lists them as outputs.
// It serves tools that look inside a model (the quantiser's calibration pass, its
// per-layer measurements) rather than classify crops. It is not safe for concurrent use.
type Probe struct {
	s       *ort.DynamicAdvancedSession
	outputs []string
}

// NewProbe opens a session over model (ONNX bytes; name says which in errors) that
// feeds the input named input and returns the outputs named outputs, with threads
// intra-op threads. InitRuntime must have succeeded.
func NewProbe(model []byte, name, input string, outputs []string, threads int) (*Probe, error) {
	if !ort.IsInitialized() {
		return nil, errors.New("ONNX Runtime is not loaded: call InitRuntime first")
	}
	opts, err := probeOptions(threads)
	if err != nil {
		return nil, err
	}
	defer opts.Destroy()
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(model, []string{input}, outputs, opts)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	return &Probe{s: s, outputs: outputs}, nil
}

func probeOptions(threads int) (*ort.SessionOptions, error) {
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	if err := opts.SetIntraOpNumThreads(max(1, threads)); err != nil {
		opts.Destroy()
		return nil, fmt.Errorf("set %d threads: %w", threads, err)
	}
	if err := opts.SetInterOpNumThreads(1); err != nil {
		opts.Destroy()
		return nil, fmt.Errorf("set inter-op threads: %w", err)
	}
	return opts, nil
}

// Run feeds input (shape [N, C, H, W], or whatever the model takes) and returns one
// slice per output, in the order given to NewProbe. The slices are the caller's.
func (p *Probe) Run(input []float32, shape []int64) ([][]float32, error) {
	in, err := ort.NewTensor(ort.NewShape(shape...), input)
	if err != nil {
		return nil, fmt.Errorf("input tensor %v: %w", shape, err)
	}
	defer in.Destroy()
	outs := make([]ort.Value, len(p.outputs))
	if err := p.s.Run([]ort.Value{in}, outs); err != nil {
		return nil, fmt.Errorf("run on %v: %w", shape, err)
	}
	res := make([][]float32, len(outs))
	var bad error
	for i, o := range outs {
		if t, ok := o.(*ort.Tensor[float32]); ok {
			res[i] = append([]float32(nil), t.GetData()...)
		} else if bad == nil {
			bad = fmt.Errorf("output %q is not a float32 tensor", p.outputs[i])
		}
		if o != nil {
			_ = o.Destroy()
		}
	}
	return res, bad
}

// Close frees the session.
func (p *Probe) Close() { _ = p.s.Destroy() }

// OptimisedGraph returns the graph ONNX Runtime actually runs for model on this machine's
// CPU (every graph optimisation on: the fusions of QuantizeLinear/DequantizeLinear pairs
// into QLinearConv and the like), as ONNX bytes, so a tool can check which fusions
// happened. InitRuntime must have succeeded.
func OptimisedGraph(model []byte) ([]byte, error) {
	if !ort.IsInitialized() {
		return nil, errors.New("ONNX Runtime is not loaded: call InitRuntime first")
	}
	dir, err := os.MkdirTemp("", "phytoscreen-graph-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "optimised.onnx")
	opts, err := probeOptions(1)
	if err != nil {
		return nil, err
	}
	defer opts.Destroy()
	// Layout transformations (NCHWc) cannot be saved; the level below them keeps the
	// quantisation fusions, which is what the caller looks for.
	if err := opts.SetGraphOptimizationLevel(ort.GraphOptimizationLevelEnableExtended); err != nil {
		return nil, fmt.Errorf("optimisation level: %w", err)
	}
	if err := opts.SetOptimizedModelFilePath(path); err != nil {
		return nil, fmt.Errorf("optimised model path: %w", err)
	}
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(model)
	if err != nil {
		return nil, fmt.Errorf("read model: %w", err)
	}
	if len(ins) == 0 || len(outs) == 0 {
		return nil, errors.New("model has no input or no output")
	}
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(model, []string{ins[0].Name}, []string{outs[0].Name}, opts)
	if err != nil {
		return nil, fmt.Errorf("open model: %w", err)
	}
	_ = s.Destroy()
	return os.ReadFile(path)
}
