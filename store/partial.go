package store

// partial reports whether a volume examined falls short of the volume given, beyond the
// rounding of a share: one test for a run, a sample and a run cut off, so History, the
// report, the counts CSV and the cut-short notice never disagree on it.
func partial(examined, given float64) bool { return examined < given*(1-1e-9) }

// Partial reports whether the run examined less than the volume it was given (stopped
// or cut off before its source's end, or short of readable frames).
func (r RunRow) Partial() bool { return partial(r.VolumeML, r.VolumeGiven) }

// VolumeGiven is the volume the sample's runs were given together (VolumeML is what
// they examined).
func (si SampleInfo) VolumeGiven() float64 {
	given := 0.0
	for _, r := range si.Runs {
		given += r.VolumeGiven
	}
	return given
}

// Partial reports whether a run of the sample examined less than it was given: its
// concentrations are on part of the water meant.
func (si SampleInfo) Partial() bool {
	for _, r := range si.Runs {
		if r.Partial() {
			return true
		}
	}
	return false
}

// Partial reports whether the cut run examined less than the volume it was given (a
// source of unknown length, a camera, keeps the whole volume given).
func (c CutRun) Partial() bool { return partial(c.VolumeML, c.VolumeGiven) }
