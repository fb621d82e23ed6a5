package inference

import (
	"fmt"
	"strings"
)

// ContractLines describes the pack's input contract for `pack inspect`, one key and value
// per line: for format 1 its pixels and letterbox rule; for format 2 the channels, resize
// rule, background normalisation, padding, normalisation and features output.
func (p *Pack) ContractLines() [][2]string {
	in := p.Input
	if p.Format < 2 {
		return [][2]string{
			{"pixels", in.Pixels},
			{"letterbox", fmt.Sprintf("%s (pad value %.1f)", in.Letterbox, p.PadValue())},
		}
	}
	rules := map[string]string{
		ResizeLetterbox:  "letterbox: shrink with INTER_AREA to fit if larger, never enlarge, centre",
		ResizeFit:        "fit: scale so the longer side fills the input (INTER_AREA down, INTER_LINEAR up), centre",
		ResizeCentreCrop: "centre-crop: scale so the shorter side fills the input, cut the centre",
	}
	ch := "rgb (R, G, B; a gray crop is replicated)"
	if in.Channels == "gray" {
		ch = "gray (a colour crop through OpenCV BGR2GRAY)"
	}
	bg := "none: value/255"
	if in.Background != nil && in.Background.Method == "percentile" {
		bg = fmt.Sprintf("percentile q=%g: each channel divided by its level (background to 1.0)", in.Background.Q)
	}
	pad := "1 (white)"
	if in.Pad != nil {
		parts := make([]string, len(*in.Pad))
		for i, v := range *in.Pad {
			parts[i] = fmt.Sprintf("%g", v)
		}
		pad = strings.Join(parts, ", ")
	}
	norm := "none (the graph normalises)"
	if in.Mean != nil {
		norm = fmt.Sprintf("(x - %v) / %v", in.Mean, in.Std)
	}
	lines := [][2]string{
		{"format", "2"},
		{"channels", ch},
		{"resize", rules[in.Resize]},
		{"background", bg},
		{"pad", pad},
		{"normalise", norm},
	}
	if p.HasFeatures() {
		d := ""
		if n := p.FeaturesDim(); n > 0 {
			d = fmt.Sprintf("%d values per crop", n)
		} else {
			var per []string
			for _, v := range p.Variants() {
				if n := p.Models[v].FeaturesDim; n > 0 {
					per = append(per, fmt.Sprintf("%s %d", v, n))
				}
			}
			d = "length per model"
			if len(per) > 0 {
				d += ": " + strings.Join(per, ", ")
			}
		}
		lines = append(lines, [2]string{"features", fmt.Sprintf("%q %v (%s)", p.Features.Name, p.Features.Shape, d)})
	}
	return lines
}

// MetricLines are the card figures `pack inspect` shows beyond top-1, top-5 and log-loss:
// macro and weighted F1 and the calibration error, per model, when the pack records them.
func (p *Pack) MetricLines() []string {
	var out []string
	for _, v := range p.Variants() {
		m := p.Models[v]
		if m.ValMacroF1 == 0 && m.ValWeightedF1 == 0 && m.ValECE == 0 {
			continue
		}
		out = append(out, fmt.Sprintf("%-10s macro-F1 %.3f  weighted-F1 %.3f  ECE %.3f", v, m.ValMacroF1, m.ValWeightedF1, m.ValECE))
	}
	return out
}
