package vision

import "image"

// Object is one segmented object (a cell, a chain, a piece of debris) in a frame, with its
// measurements. Lengths and areas are in pixels; the *Um fields hold micrometres when a
// calibration is set, and are 0 otherwise.
type Object struct {
	Source string
	Frame  int
	ID     int  // index within the frame
	Track  int  // cell identity across frames; the same on a still field
	New    bool // first sighting of this track: the object that is counted

	Box       image.Rectangle // bounding box in frame pixels
	AreaPx    float64
	Perimeter float64
	ESD       float64     // equivalent spherical diameter, px
	Major     float64     // major axis, px
	Minor     float64     // minor axis, px
	Aspect    float64     // minor/major, 0..1
	Solidity  float64     // area / convex hull area
	MeanGray  float64     // mean intensity inside the object, 0..255
	Focus     float64     // variance of the Laplacian over the crop: higher is sharper
	OnBorder  bool        // touches the frame edge: probably cut
	UmPerPx   float64     // calibration used, 0 when uncalibrated
	Crop      *image.Gray // padded crop (Go memory, outlives the frame)

	Centroid [2]float64      // centre of mass (x, y), frame pixels
	Contrast float64         // mean (gray - background) / background inside: < 0 darker, > 0 brighter
	CropBox  image.Rectangle // the crop's box in frame pixels: Box padded by the margin, clipped

	// Calibrated sizes, 0 when uncalibrated.
	AreaUm2     float64 // area, µm²
	ESDUm       float64 // equivalent spherical diameter, µm
	MajorUm     float64 // major axis, µm
	MinorUm     float64 // minor axis, µm
	PerimeterUm float64 // perimeter, µm
}
