// Package vision finds what is in a frame: a robust estimate of the illumination
// (background), segmentation of each frame into objects (cells, colonies, filaments,
// chains, debris) with their measurements and crops, stage-move detection, and tracking
// so that each cell on a still field is counted once. Frames come from package capture.
package vision
