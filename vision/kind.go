package vision

import (
	"fmt"
	"math"
)

// Kind is what an object is made of, told from its shape: one cell, a colony of many
// small cells, a filament (a trichome) or a chain of cells joined end to end. The
// classifier says what organism it is; the kind and the estimated cells say how many
// cells the object stands for.
type Kind string

// Kinds of object.
const (
	KindCell     Kind = "cell"
	KindColony   Kind = "colony"
	KindFilament Kind = "filament"
	KindChain    Kind = "chain"
)

// Shape rules (pixels of the detected region; checked on the real frames' tune split,
// whose boxes carry the annotator's kind):
//   - a filament is long and thin: its length at least filamentRatio times its width,
//     from the perimeter and area of a thin shape (a curved filament's length, not its
//     bounding box). Needle and crescent cells (Nitzschia, Closterium) are elongated
//     too, but less;
//   - a colony is compact (length under colonyRatio times the width) and holds at least
//     colonyParts dark cell centres;
//   - a chain cannot be told from a filament by shape at this resolution: the pack's
//     taxonomy says when a taxon's unit is a chain.
const (
	filamentRatio = 12.0
	colonyRatio   = 3.0
	colonyParts   = 8
)

// thinSize measures a thin shape's length and width from its area and perimeter: the sides
// of the rectangle with that area and perimeter (a filament's length along its curve);
// a compact shape gets a square's.
func thinSize(area, perimeter float64) (length, width float64) {
	if area <= 0 || perimeter <= 0 {
		return 0, 0
	}
	half := perimeter / 2 // length + width
	disc := half*half - 4*area
	if disc <= 0 {
		s := math.Sqrt(area)
		return s, s
	}
	length = (half + math.Sqrt(disc)) / 2
	return length, area / length
}

// kindOf tells the kind of an object from its length, width and dark cell centres.
func kindOf(length, width float64, parts int) Kind {
	switch {
	case width > 0 && length >= filamentRatio*width:
		return KindFilament
	case width > 0 && length < colonyRatio*width && parts >= colonyParts:
		return KindColony
	}
	return KindCell
}

// cellsGuess estimates how many cells an object holds from its shape alone (no taxon,
// no calibration): a colony's dark cell centres, each a cell, or its area over a
// cell's when the cells crowd each other (whichever is more); a chain's parts; a
// filament's length over its width (cells about as long as the trichome is wide). It
// is an estimate, and every output that carries it says so (cells_estimate); the
// counts and the alert rules count objects.
func cellsGuess(k Kind, area, length, width float64, parts int, medianCore float64) float64 {
	switch k {
	case KindColony:
		g := float64(parts)
		if medianCore > 0 {
			g = math.Max(g, 0.7*area/medianCore) // 0.7: round cells packed in a plane
		}
		return math.Round(g)
	case KindChain:
		return float64(parts)
	case KindFilament:
		if width > 0 {
			return math.Max(1, math.Round(length/width))
		}
	}
	return 1
}

// ParseKind reads a kind's name.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(s); k {
	case KindCell, KindColony, KindFilament, KindChain:
		return k, nil
	}
	return "", fmt.Errorf("kind %q: want cell, colony, filament or chain", s)
}
