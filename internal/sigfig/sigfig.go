// Package sigfig writes small measured values to a few significant figures in plain
// decimals, so that a concentration of 0.014 cells/L (a sample of a thousand litres,
// a typo in the volume) reads 0.014, not 0 or 0.0: a figure rounded to zero reads as
// "none found" and hides the mistake.
package sigfig

import (
	"math"
	"strconv"
)

// Plain writes v to digits significant figures in plain decimals: 0.014, 0.000123,
// 7.5, 123 (never 1.23e-04). NaN and infinities are written as strconv does.
func Plain(v float64, digits int) string {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', digits, 64), 64)
	return strconv.FormatFloat(r, 'f', -1, 64)
}

// Round is v rounded to digits significant figures (31,684,210 to 3: 31,700,000): an
// estimate written to more figures than it holds reads as a measurement.
func Round(v float64, digits int) float64 {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', digits, 64), 64)
	return r
}

// Below is the magnitude under which formatters that round to whole units (or to one
// decimal) should write Plain(v, 3) instead.
const Below = 10
