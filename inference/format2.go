package inference

import (
	"fmt"
	"math"
	"strings"
)

// Resize rules of format 2 (docs/pack-format.md, "The input contract").
const (
	ResizeLetterbox  = "letterbox"   // shrink to fit when larger, never enlarge (format 1's rule)
	ResizeFit        = "fit"         // scale so the longer side fills the input
	ResizeCentreCrop = "centre-crop" // scale so the shorter side fills it, cut the centre
)

// rejectFormat2Keys refuses a format-1 manifest that uses format 2's keys: without
// "format": 2 they would be silently ignored and the model fed the wrong tensor.
func (p *Pack) rejectFormat2Keys() error {
	in := p.Input
	var keys []string
	if in.Channels != "" {
		keys = append(keys, `"input.channels"`)
	}
	if in.Resize != "" {
		keys = append(keys, `"input.resize"`)
	}
	if in.Background != nil {
		keys = append(keys, `"input.background"`)
	}
	if in.Mean != nil || in.Std != nil {
		keys = append(keys, `"input.mean"/"input.std"`)
	}
	if p.Features != nil {
		keys = append(keys, `"features"`)
	}
	if len(keys) > 0 {
		return fmt.Errorf(`%s belong to pack format 2: add "format": 2 to %s (or remove them for a format 1 pack)`, strings.Join(keys, ", "), ManifestFile)
	}
	return nil
}

// validate2 checks a format-2 manifest.
func (p *Pack) validate2() error {
	if err := p.validateCommon(); err != nil {
		return err
	}
	in := &p.Input
	c := in.Shape[1]
	switch strings.ToLower(strings.TrimSpace(in.Channels)) {
	case "":
		switch c {
		case 1:
			in.Channels = "gray"
		case 3:
			in.Channels = "rgb"
		default:
			return fmt.Errorf(`"input.shape" %v has %d channels: format 2 takes 1 (gray) or 3 (rgb); export the model for one of them`, in.Shape, c)
		}
	case "gray", "grey", "grayscale":
		in.Channels = "gray"
	case "rgb":
		in.Channels = "rgb"
	case "bgr":
		return fmt.Errorf(`"input.channels" is %q: format 2 feeds "rgb" (channel order R, G, B) or "gray"; export the model for RGB input`, in.Channels)
	default:
		return fmt.Errorf(`"input.channels" is %q: use "gray" or "rgb"`, in.Channels)
	}
	if want := map[string]int64{"gray": 1, "rgb": 3}[in.Channels]; c != want {
		return fmt.Errorf(`"input.shape" %v has %d channels but "input.channels" is %q (%d): make them agree`, in.Shape, c, in.Channels, want)
	}
	switch strings.ToLower(strings.TrimSpace(in.Resize)) {
	case "", ResizeLetterbox:
		in.Resize = ResizeLetterbox
	case ResizeFit:
		in.Resize = ResizeFit
	case ResizeCentreCrop, "center-crop":
		in.Resize = ResizeCentreCrop
	default:
		return fmt.Errorf(`"input.resize" is %q: use "letterbox" (shrink to fit, never enlarge), "fit" (scale to fit) or "centre-crop"`, in.Resize)
	}
	if in.Pixels != "" || in.Letterbox != "" {
		return fmt.Errorf(`"input.pixels" and "input.letterbox" are format 1 keys: in format 2 the contract is "channels", "resize", "background", "pad", "mean" and "std"; remove them`)
	}
	if b := in.Background; b != nil {
		switch strings.ToLower(strings.TrimSpace(b.Method)) {
		case "", "none":
			b.Method = "none"
		case "percentile":
			b.Method = "percentile"
			if !(b.Q > 0 && b.Q <= 1) {
				return fmt.Errorf(`"input.background.q" is %v: the percentile must be in (0, 1], e.g. 0.95`, b.Q)
			}
		default:
			return fmt.Errorf(`"input.background.method" is %q: use "none" or "percentile"`, b.Method)
		}
	}
	if in.Pad != nil {
		pad := *in.Pad
		if len(pad) != 1 && int64(len(pad)) != c {
			return fmt.Errorf(`"input.pad" has %d values for %d channels: give one number or one per channel`, len(pad), c)
		}
		for i, v := range pad {
			if !(v >= 0 && v <= 1) {
				return fmt.Errorf(`"input.pad"[%d] is %v: padding is in the 0..1 scale (1.0 is white)`, i, v)
			}
		}
	}
	if (in.Mean == nil) != (in.Std == nil) {
		return fmt.Errorf(`"input.mean" and "input.std" go together: give both (one value per channel) or neither`)
	}
	if in.Mean != nil {
		if int64(len(in.Mean)) != c || int64(len(in.Std)) != c {
			return fmt.Errorf(`"input.mean" has %d and "input.std" %d values for %d channels: give one per channel`, len(in.Mean), len(in.Std), c)
		}
		for i := range in.Mean {
			if math.IsNaN(in.Mean[i]) || math.IsInf(in.Mean[i], 0) || math.Abs(in.Mean[i]) > 1e6 {
				return fmt.Errorf(`"input.mean"[%d] is %v: give a finite number`, i, in.Mean[i])
			}
			if !(in.Std[i] > 1e-9 && in.Std[i] < 1e6) {
				return fmt.Errorf(`"input.std"[%d] is %v: it divides, so it must be a positive number`, i, in.Std[i])
			}
		}
	}
	o := p.Output
	if a := strings.ToLower(o.Activation); a != "" && a != "softmax" {
		return fmt.Errorf(`"output.activation" is %q: phytoscreen reads probabilities; export the model with a softmax output`, o.Activation)
	}
	if len(o.Shape) == 2 && o.Shape[1] > 0 && o.Shape[1] != int64(len(p.Labels)) {
		return fmt.Errorf(`"output.shape" %v declares %d classes but "labels" has %d: they must match`, o.Shape, o.Shape[1], len(p.Labels))
	}
	if f := p.Features; f != nil {
		if f.Name == "" {
			return fmt.Errorf(`"features.name" is empty: name the model's embedding output, or remove "features"`)
		}
		if f.Name == o.Name {
			return fmt.Errorf(`"features.name" %q is the probabilities output: name the embedding output`, f.Name)
		}
		if len(f.Shape) != 0 && (len(f.Shape) != 2 || f.Shape[1] == 0 || f.Shape[1] < -1) {
			return fmt.Errorf(`"features.shape" %v: want [N, D] (D -1 when the models differ)`, f.Shape)
		}
	}
	return p.validateModels()
}

// FeaturesDim is the declared length of the features output (0 when unknown or free).
func (p *Pack) FeaturesDim() int64 {
	if p.Features == nil || len(p.Features.Shape) != 2 {
		return 0
	}
	return max(0, p.Features.Shape[1])
}
