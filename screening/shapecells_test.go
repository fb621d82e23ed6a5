package screening

import (
	"testing"

	"github.com/phytoscreen/phytoscreen/vision"
)

// A colony the segmenter took for one cell by its shape (a ragged outline measures long
// and thin) counts its cores once a taxon counted in colonies names it; a taxon counted
// in cells counts one whatever its cores, and a filament's length guess stands when it
// is more than its cores.
func TestShapeCellsCountsTheCores(t *testing.T) {
	colony := Taxon{Label: "Microcystis", Unit: "colony"}
	filament := Taxon{Label: "Oscillatoria", Unit: "filament"}
	cell := Taxon{Label: "Other", Unit: "cell"}
	ragged := vision.Object{Kind: vision.KindCell, Cells: 1, Parts: 116}
	long := vision.Object{Kind: vision.KindFilament, Cells: 40, Parts: 3}
	for _, c := range []struct {
		x    Taxon
		o    vision.Object
		want float64
	}{
		{colony, ragged, 116},
		{filament, ragged, 116}, // a coiled Dolichospermum: its beads
		{cell, ragged, 1},
		{filament, long, 40},
		{colony, vision.Object{Kind: vision.KindCell, Cells: 1}, 1},
	} {
		if got := c.x.Cells(ShapeCells(c.o.Cells, c.o.Parts), 0, 0); got != c.want {
			t.Errorf("%s (%s) of kind %s, %v guessed, %d cores: %v cells, want %v", c.x.Label, c.x.Unit, c.o.Kind, c.o.Cells, c.o.Parts, got, c.want)
		}
	}
}
