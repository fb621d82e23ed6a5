package quantise

import (
	"context"
	"fmt"
	"math"

	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/onnxpb"
)

// probeBatch is the number of images per calibration and measuring run.
const probeBatch = 16

// reference is what the fp32 model says of the calibration images.
type reference struct {
	probs [][]float32 // per image
	top1  []int
}

// calibrate runs the fp32 model over the calibration set twice, with every tensor of the
// plan as an output: the first pass records each tensor's extremes (and the model's own
// output, the reference the quantised models are compared with), the second fills the
// |x| histograms. The graph inputs' statistics come from the data fed.
func calibrate(ctx context.Context, plan *Plan, p *inference.Pack, set *calibSet, threads int, progress func(string, int, int)) (map[string]*Stats, *reference, error) {
	outs := append([]string{p.Output.Name}, plan.Tensors...)
	data, err := onnxpb.WriteModel(WithOutputs(plan.model, plan.Tensors))
	if err != nil {
		return nil, nil, fmt.Errorf("calibration model: %w", err)
	}
	probe, err := inference.NewProbe(data, "the calibration model (base model with its activations as outputs)", p.Input.Name, outs, threads)
	if err != nil {
		return nil, nil, err
	}
	defer probe.Close()
	stats := map[string]*Stats{}
	inputs := plan.Inputs()
	for _, t := range append(inputs, plan.Tensors...) {
		stats[t] = NewStats()
	}
	ref := &reference{}
	nc := len(p.Labels)
	for pass, stage := range []string{StageRanges, StageHistograms} {
		for from := 0; from < set.n(); from += probeBatch {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
			progress(stage, from, set.n())
			to := min(from+probeBatch, set.n())
			in, shape := set.batch(from, to)
			res, err := probe.Run(in, shape)
			if err != nil {
				return nil, nil, fmt.Errorf("calibration pass on images %d-%d: %w", from+1, to, err)
			}
			add := (*Stats).AddExtremes
			if pass == 1 {
				add = (*Stats).AddHistogram
			}
			for _, t := range inputs {
				add(stats[t], in)
			}
			for i, t := range plan.Tensors {
				add(stats[t], res[i+1])
			}
			if pass == 0 {
				for k := range to - from {
					row := res[0][k*nc : (k+1)*nc]
					ref.probs = append(ref.probs, row)
					ref.top1 = append(ref.top1, argmax(row))
				}
			}
		}
	}
	progress(StageHistograms, set.n(), set.n())
	return stats, ref, nil
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// Score is how a quantised model does on the calibration images against the fp32 model.
type Score struct {
	// Agreement is the share of images where its top-1 label is the fp32 model's.
	Agreement float64 `json:"agreement"`
	// Top1, Top5 and LogLoss are against the images' labels (-1 without labels).
	Top1    float64 `json:"top1"`
	Top5    float64 `json:"top5"`
	LogLoss float64 `json:"logloss"`
	// KL is the mean Kullback-Leibler divergence of its probabilities from the fp32
	// model's, in nats: a finer measure of the damage than agreement.
	KL float64 `json:"kl"`
	// agrees says, image by image, whether its top-1 label is the fp32 model's.
	agrees []bool
}

// Flips compares two scores of the same images image by image: gained counts the images
// where b agrees with the fp32 model and a does not, lost the reverse.
func (a Score) Flips(b Score) (gained, lost int) {
	for i := range min(len(a.agrees), len(b.agrees)) {
		switch {
		case b.agrees[i] && !a.agrees[i]:
			gained++
		case a.agrees[i] && !b.agrees[i]:
			lost++
		}
	}
	return gained, lost
}

// score runs model over the calibration set and compares it with the reference.
func score(ctx context.Context, model *onnxpb.ModelProto, name string, p *inference.Pack, set *calibSet, ref *reference, threads int) (Score, error) {
	data, err := onnxpb.WriteModel(model)
	if err != nil {
		return Score{}, fmt.Errorf("%s: %w", name, err)
	}
	probe, err := inference.NewProbe(data, name, p.Input.Name, []string{p.Output.Name}, threads)
	if err != nil {
		return Score{}, err
	}
	defer probe.Close()
	nc := len(p.Labels)
	agree, right, right5, labelled := 0, 0, 0, 0
	agrees := make([]bool, 0, set.n())
	kl, logLoss := 0.0, 0.0
	for from := 0; from < set.n(); from += probeBatch {
		if err := ctx.Err(); err != nil {
			return Score{}, err
		}
		to := min(from+probeBatch, set.n())
		in, shape := set.batch(from, to)
		res, err := probe.Run(in, shape)
		if err != nil {
			return Score{}, fmt.Errorf("%s on images %d-%d: %w", name, from+1, to, err)
		}
		for k := range to - from {
			i := from + k
			row := res[0][k*nc : (k+1)*nc]
			top := argmax(row)
			agrees = append(agrees, top == ref.top1[i])
			if top == ref.top1[i] {
				agree++
			}
			if set.labels != nil && set.labels[i] >= 0 {
				labelled++
				t := set.labels[i]
				if top == t {
					right++
				}
				above := 0
				for _, v := range row {
					if v > row[t] {
						above++
					}
				}
				if above < 5 {
					right5++
				}
				logLoss -= math.Log(max(float64(row[t]), 1e-15))
			}
			kl += divergence(ref.probs[i], row)
		}
	}
	s := Score{Agreement: float64(agree) / float64(set.n()), KL: kl / float64(set.n()), Top1: -1, Top5: -1, LogLoss: -1, agrees: agrees}
	if labelled > 0 {
		s.Top1 = float64(right) / float64(labelled)
		s.Top5 = float64(right5) / float64(labelled)
		s.LogLoss = logLoss / float64(labelled)
	}
	return s, nil
}

// divergence is KL(p || q) of two probability rows; q is floored so that a class the
// quantised model rules out costs a finite amount.
func divergence(p, q []float32) float64 {
	d := 0.0
	for i := range p {
		if p[i] <= 0 {
			continue
		}
		d += float64(p[i]) * math.Log(float64(p[i])/max(float64(q[i]), 1e-12))
	}
	return max(d, 0)
}
