// Package assets holds what phytoscreen ships inside its binary: the default classifier
// pack, the real sample images it demonstrates and benchmarks on, icons and alert presets.
// Everything here is embedded, so the program needs no files beside it and never downloads.
package assets

import (
	"embed"
	"io/fs"
)

// DefaultPackName is the name of the classifier pack built into the binary.
const DefaultPackName = "ndsb-plankton-121"

//go:embed models/ndsb-plankton-121
var models embed.FS

//go:embed samples/ndsb-val
var samples embed.FS

// DefaultPack returns the built-in classifier pack (pack.json, base.onnx, optimised.onnx,
// README.md), copied from ../shared/models/ndsb-plankton-121.
func DefaultPack() fs.FS { return mustSub(models, "models/"+DefaultPackName) }

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
