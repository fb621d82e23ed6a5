// Package typednum reads numbers as people type them into a field or a flag: a decimal
// point, or a decimal comma where it cannot be anything else. A comma that could be a
// thousands separator ("1,000": one thousand, or one to three decimals?) is refused with
// both readings named, never guessed: the app read "1,000" mL as 1 mL, a thousandth of
// what the technician meant, and every concentration with it.
package typednum

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// ErrNotNumber is wrapped by the errors for text that is no number at all; the others
// already say what to type, and the caller adds its own hint to this one only.
var ErrNotNumber = errors.New("not a number")

// grouped matches a whole number written with comma thousands separators (1,000 or
// 12,500,000), the one shape where a comma may not be read as a decimal comma.
var grouped = regexp.MustCompile(`^[+-]?[1-9][0-9]{0,2}(,[0-9]{3})+$`)

// Parse reads text as a finite number. It accepts "0.5", "1e3" and "0,5" (one comma and
// no point); the error says what to type instead, starting with the text as given.
func Parse(text string) (float64, error) {
	t := strings.TrimSpace(text)
	switch {
	case t == "":
		return 0, fmt.Errorf("nothing typed: %w", ErrNotNumber)
	case grouped.MatchString(t):
		whole := strings.ReplaceAll(t, ",", "")
		return 0, fmt.Errorf("%q could be %s or %s: type %s, or %s with a point",
			t, whole, strings.Replace(t, ",", ".", 1), whole, strings.Replace(t, ",", ".", 1))
	case strings.Contains(t, ",") && strings.Contains(t, "."):
		return 0, fmt.Errorf("%q has both a comma and a point: type it without thousands separators, e.g. %s",
			t, strings.ReplaceAll(t, ",", ""))
	case strings.Count(t, ",") > 1:
		return 0, fmt.Errorf("%q has more than one comma: type one number, e.g. %s",
			t, strings.ReplaceAll(t, ",", ""))
	}
	v, err := strconv.ParseFloat(strings.Replace(t, ",", ".", 1), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is %w", t, ErrNotNumber)
	}
	return v, nil
}

// ParseGrouped reads a level copied from a regulation or a report, where a comma groups
// thousands (100,000 cells/L, as the regulations write it): such a number is read whole;
// anything else as Parse reads it, so "1,5" is one and a half, not fifteen.
func ParseGrouped(text string) (float64, error) {
	if t := strings.TrimSpace(text); grouped.MatchString(t) {
		return strconv.ParseFloat(strings.ReplaceAll(t, ",", ""), 64)
	}
	return Parse(text)
}

// HasDecimalComma says whether text, which Parse read, was written with a decimal comma;
// a command line, read by scripts as well as people, asks for the point instead.
func HasDecimalComma(text string) bool { return strings.Contains(text, ",") }
