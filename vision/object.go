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
	ESD       float64 // equivalent spherical diameter, px
	Major     float64 // major axis, px
	Minor     float64 // minor axis, px
	Aspect    float64 // minor/major, 0..1
	Solidity  float64 // area / convex hull area
	MeanGray  float64 // mean intensity inside the object, 0..255
	Focus     float64 // variance of the Laplacian over the crop: higher is sharper
	OnBorder  bool    // touches the frame edge: probably cut
	// Kind is what the object is made of, from its shape (cell, colony, filament,
	// chain); Length and Width its size along and across (a curved filament's length
	// along its curve), px; Parts the separate dark cores in it (a colony's cells);
	// Cells the estimated number of cells it holds, from its shape alone (an estimate:
	// screening refines it with the taxon's cell size).
	Kind   Kind
	Length float64
	Width  float64
	Parts  int
	Cells  float64
	// Oversize marks an object over MaxShare of the frame that could not be split into
	// parts (a debris cloud, a mat of touching cells): reported, not silently counted.
	Oversize bool
	UmPerPx  float64     // calibration used, 0 when uncalibrated
	Crop     *image.Gray // padded crop (Go memory, outlives the frame)
	// ColourCrop is the same crop in the frame's colours (Options.ColourCrops, colour
	// frames only; nil otherwise).
	ColourCrop *image.RGBA

	// peak is the object's largest difference from the illumination (gray levels of the
	// working frame): how faint it is beside its neighbours (track.go).
	peak uint8

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

// scaleUp turns the measurements of an object found on a frame shrunk k times (w x h)
// into those of the full frame (fw x fh). The box's edges at the working frame's right
// and bottom edges go to the full frame's (the shrink drops fewer than k pixels there).
func (o *Object) scaleUp(k, w, h, fw, fh int) {
	b := o.Box
	up := func(v, edge, full int) int {
		if v >= edge {
			return full
		}
		return v * k
	}
	o.Box = image.Rect(b.Min.X*k, b.Min.Y*k, up(b.Max.X, w, fw), up(b.Max.Y, h, fh))
	f := float64(k)
	o.AreaPx *= f * f
	o.Perimeter *= f
	o.ESD *= f
	o.Major *= f
	o.Minor *= f
	o.Length *= f
	o.Width *= f
	o.Centroid = [2]float64{o.Centroid[0] * f, o.Centroid[1] * f}
}
