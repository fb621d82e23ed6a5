package vision

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Unit is the unit of a Size.
type Unit int

// Units of a size limit. UnitAuto is a bare number: micrometres when a calibration is
// set, pixels otherwise.
const (
	UnitAuto Unit = iota
	UnitPx
	UnitUm
)

// Size is an object size limit: an equivalent spherical diameter in pixels or
// micrometres. The zero Size means no limit.
type Size struct {
	Value float64
	Unit  Unit
}

// ParseSize reads "12", "12px", "8um" or "8µm".
func ParseSize(s string) (Size, error) {
	t := strings.TrimSpace(strings.ToLower(s))
	unit := UnitAuto
	for suffix, u := range map[string]Unit{"px": UnitPx, "um": UnitUm, "µm": UnitUm, "μm": UnitUm} {
		if strings.HasSuffix(t, suffix) {
			t, unit = strings.TrimSpace(strings.TrimSuffix(t, suffix)), u
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) { // NaN dropped the limit, Inf found nothing (helper-39)
		return Size{}, fmt.Errorf("size %q: want a diameter such as 12, 12px or 8um", s)
	}
	return Size{Value: v, Unit: unit}, nil
}

// Pixels converts the size to pixels with the calibration umPerPx (0 when uncalibrated).
func (s Size) Pixels(umPerPx float64) (float64, error) {
	switch {
	case s.Value == 0:
		return 0, nil
	case s.Unit == UnitPx, s.Unit == UnitAuto && umPerPx == 0:
		return s.Value, nil
	case umPerPx == 0:
		return 0, fmt.Errorf("size %s is in micrometres but no calibration is set: give the micrometres per pixel (--calibration) or the size in px", s)
	}
	return s.Value / umPerPx, nil
}

// String returns the size as ParseSize reads it.
func (s Size) String() string {
	v := strconv.FormatFloat(s.Value, 'g', -1, 64)
	switch s.Unit {
	case UnitPx:
		return v + "px"
	case UnitUm:
		return v + "um"
	}
	return v
}
