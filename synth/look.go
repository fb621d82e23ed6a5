package synth

import (
	"fmt"
	"strings"
)

// Look is the kind of microscopy a generator imitates.
type Look string

// The looks.
const (
	LookBright Look = ""       // brightfield, grey-ish: real NDSB crops on a vignetted field (the original generator)
	LookPhase  Look = "phase"  // phase contrast, monochrome: dense net sample, dark cores with bright halos
	LookColour Look = "colour" // brightfield in colour: chromatic vignette, grey crops and green cells and colonies
)

// String names the look as the command line does.
func (l Look) String() string {
	if l == LookBright {
		return "bright"
	}
	return string(l)
}

// ParseLook reads a look's name: bright, phase or colour (color too).
func ParseLook(s string) (Look, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "bright", "brightfield":
		return LookBright, nil
	case "phase", "phase-contrast":
		return LookPhase, nil
	case "colour", "color":
		return LookColour, nil
	}
	return LookBright, fmt.Errorf("look %q: want bright, phase or colour", s)
}

// setPhaseDefaults fills the phase look's own defaults (zero means default, as in
// setDefaults): a 2584x1936 frame (a 5 Mpx camera), a mid-grey background, mild
// vignetting and tilt, and slightly more noise than the brightfield look at its lower
// light.
func (o *Options) setPhaseDefaults() {
	if o.Width == 0 && o.Height == 0 {
		o.Width, o.Height = 2584, 1936
	}
	set := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	set(&o.Light, 125)
	set(&o.Vignette, 0.10)
	set(&o.Tilt, 0.04)
	set(&o.Noise, 3)
	set(&o.Blur, 0.9)
	set(&o.Halo, 2.5)
	set(&o.Density, 1)
	if o.Halo < 0 {
		o.Halo = 0
	}
	if o.Density < 0 {
		o.Density = 0
	}
}

// setColourDefaults fills the colour look's defaults: a brighter centre (the bench
// lamp's hot spot), the vignette fitted to the real frames (colour.go), and 8 green or
// olive procedural objects per field.
func (o *Options) setColourDefaults() {
	if o.Light == 0 {
		o.Light = 250
	}
	if o.Vignette == 0 {
		o.Vignette = 0.45
	}
	switch {
	case o.Green == 0:
		o.Green = 8
	case o.Green < 0:
		o.Green = 0
	}
}
