package typednum

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		want float64
	}{
		{"1", 1}, {" 0.5 ", 0.5}, {"0,5", 0.5}, {"1,5", 1.5}, {"0,005", 0.005},
		{"1000", 1000}, {"1e3", 1000}, {"-2,25", -2.25}, {"12,34", 12.34}, {"1,0000", 1},
	} {
		got, err := Parse(c.in)
		if err != nil || got != c.want {
			t.Errorf("Parse(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

// The reading a person may have meant is named in the error, so the fix is one retype.
func TestParseRefusesWhatCouldBeEitherOrNeither(t *testing.T) {
	for in, says := range map[string]string{
		"1,000":      `"1,000" could be 1000 or 1.000: type 1000, or 1.000 with a point`,
		"12,500,000": "could be 12500000",
		"1,000.5":    "both a comma and a point: type it without thousands separators, e.g. 1000.5",
		"1,2,3":      "more than one comma",
		"abc":        `"abc" is not a number`,
		"":           "nothing typed: not a number",
		"NaN":        "not a number",
		"1e400":      "not a number",
	} {
		v, err := Parse(in)
		if err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("Parse(%q) = %v, %v; want an error saying %q", in, v, err, says)
		}
		if mixed := strings.ContainsAny(in, ","); mixed == errors.Is(err, ErrNotNumber) {
			t.Errorf("Parse(%q): errors.Is(ErrNotNumber) = %v; only text with no comma to explain is no number", in, !mixed)
		}
	}
}

func TestParseGrouped(t *testing.T) {
	for in, want := range map[string]float64{"100,000": 1e5, "1,000,000": 1e6, "1,5": 1.5, "250": 250, "0.5": 0.5} {
		if got, err := ParseGrouped(in); err != nil || got != want {
			t.Errorf("ParseGrouped(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if v, err := ParseGrouped("1,000.5"); err == nil {
		t.Errorf("ParseGrouped(1,000.5) = %v, want an error", v)
	}
}
