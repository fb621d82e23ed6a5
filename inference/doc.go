// Package inference loads classifier packs (a pack.json manifest with labels, the input
// contract and one or more ONNX models), prepares cell crops exactly as the contract says,
// and classifies them with ONNX Runtime sessions that are created once and reused.
package inference
