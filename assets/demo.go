package assets

import (
	_ "embed"
	"encoding/json"
	"slices"
	"sync"
)

// The demo video: a generated bench-microscope recording of known content, made by
//
//	phytoscreen synth --video --out assets/demo --name demo --width 960 --height 720 \
//	    --frames 36 --fields 3 --cells 8 --mix protist_noctiluca=2 --seed 2027 --fps 6
//
// (from the bundled NDSB samples, see demo/README.md): three fields of the slide, twelve
// frames each, every field with two Noctiluca cells among eight others.
var (
	//go:embed demo/demo.avi
	demoVideo []byte
	//go:embed demo/demo.json
	demoTruth []byte
)

// DemoVideo returns the demo video, an MJPG AVI (960x720, 36 frames at 6 fps). Write it
// to a file to open it as a video source.
func DemoVideo() []byte { return demoVideo }

// DemoTruth returns the demo video's ground truth as written by the generator
// (synth.VideoTruth in JSON): every frame's cells with their boxes and labels, and the
// list of its 30 distinct cells.
func DemoTruth() []byte { return demoTruth }

// DemoLabels returns the distinct labels of the demo's cells, sorted: the taxa a pack
// must know for the demo to show it working (the NDSB packs do; the cyanobacteria pack
// named its marine plankton Microcystis and Anabaena: helper-50).
func DemoLabels() []string { return slices.Clone(demoLabels()) }

var demoLabels = sync.OnceValue(func() []string {
	var truth struct {
		Cells []struct { // the distinct cells
			Label string `json:"label"`
		} `json:"cells"`
	}
	if err := json.Unmarshal(demoTruth, &truth); err != nil {
		panic("assets: the embedded demo.json does not parse: " + err.Error()) // a build defect
	}
	seen := map[string]bool{}
	var out []string
	for _, c := range truth.Cells {
		if !seen[c.Label] {
			seen[c.Label] = true
			out = append(out, c.Label)
		}
	}
	slices.Sort(out)
	return out
})
