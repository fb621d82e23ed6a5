// Package assets holds what phytoscreen ships inside its binary: the classifier packs, the real sample images it demonstrates and benchmarks on, icons and alert presets.
// Everything here is embedded, so the program needs no files beside it and never downloads.
package assets

import (
	"embed"
	"io/fs"
)

// DefaultPackName is the name of the classifier pack used unless another is chosen.
const DefaultPackName = "ndsb-plankton-121"

// CyanoPackName is the second built-in pack: ten toxigenic cyanobacteria genera in colour,
// trained by the project's recipe (make pack-cyano; see models/cyano-tcb-10/README.md for
// its data's provenance and licence).
const CyanoPackName = "cyano-tcb-10"

// NDSBv2PackName is the NDSB pack fine-tuned for bench-camera imaging (blur, noise,
// uneven light): a little less accurate on clean images, far more on a real camera's
// (models/ndsb-plankton-121-v2/README.md).
const NDSBv2PackName = "ndsb-plankton-121-v2"

//go:embed models/ndsb-plankton-121 models/cyano-tcb-10 models/ndsb-plankton-121-v2
var models embed.FS

//go:embed samples/ndsb-val
var samples embed.FS

// DefaultPack returns the built-in classifier pack (pack.json, base.onnx, optimised.onnx,
// README.md), copied from ../shared/models/ndsb-plankton-121.
func DefaultPack() fs.FS { return mustSub(models, "models/"+DefaultPackName) }

// BuiltinPacks lists the names of the packs built into the binary, the default first.
func BuiltinPacks() []string { return []string{DefaultPackName, CyanoPackName, NDSBv2PackName} }

// BuiltinPack returns the built-in pack with the given name.
func BuiltinPack(name string) (fs.FS, bool) {
	for _, n := range BuiltinPacks() {
		if n == name {
			return mustSub(models, "models/"+n), true
		}
	}
	return nil, false
}

// DetectorName is the built-in learned particle detector (detectors/, docs/detector.md):
// trained on hand-boxed 320x240 frames of one low-cost colour camera on a brightfield
// microscope, the camera of testdata/real-frames.
const DetectorName = "brightfield-esp32-320"

//go:embed detectors/brightfield-esp32-320
var detectors embed.FS

// BuiltinDetectors lists the names of the detectors built into the binary.
func BuiltinDetectors() []string { return []string{DetectorName} }

// BuiltinDetector returns the built-in detector with the given name (detector.json,
// detector.onnx, README.md).
func BuiltinDetector(name string) (fs.FS, bool) {
	for _, n := range BuiltinDetectors() {
		if n == name {
			return mustSub(detectors, "detectors/"+n), true
		}
	}
	return nil, false
}

// Samples returns the bundled sample of real NDSB val images: one folder per class and a
// labels.csv (path,label,split). See samples/README.md for provenance.
func Samples() fs.FS { return mustSub(samples, "samples/ndsb-val") }

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic("assets: " + err.Error()) // the path is a constant checked by the tests
	}
	return sub
}
