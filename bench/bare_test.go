package bench

import (
	"image"
	"slices"
	"testing"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/inference"
)

// TestFillBareFollowsTheContract: the bare scenario's tensors are the crops as the pack's
// contract has them, for a colour pack too. It wrote each crop at i*H*W, a third of a
// colour crop's stride, so crops overwrote each other's planes and two thirds of the
// batch stayed empty.
func TestFillBareFollowsTheContract(t *testing.T) {
	for _, name := range []string{assets.DefaultPackName, assets.CyanoPackName} {
		fsys, ok := assets.BuiltinPack(name)
		if !ok {
			t.Fatalf("no built-in pack %s", name)
		}
		p, err := inference.LoadPack(fsys, name)
		if err != nil {
			t.Fatal(err)
		}
		crops := make([]*image.Gray, 3)
		for i := range crops {
			g := image.NewGray(image.Rect(0, 0, 30+10*i, 40))
			for j := range g.Pix {
				g.Pix[j] = uint8(255 - (j*(i+3))%120)
			}
			crops[i] = g
		}
		n, size := 4, p.InputSize()
		got := make([]float32, n*size)
		if err := fillBare(p, got, n, crops); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := make([]float32, size)
		for i := range n {
			if err := p.Preprocess(want, crops[i%len(crops)]); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got[i*size:(i+1)*size], want) {
				t.Errorf("%s: crop %d of the bare batch is not the crop as the contract has it", name, i)
			}
		}
	}
}
