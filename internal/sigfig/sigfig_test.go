package sigfig

import "testing"

func TestPlain(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{
		{0.014, "0.014"},
		{0.0140001, "0.014"},
		{0.000123456, "0.000123"},
		{1.4e-8, "0.000000014"},
		{7.5, "7.5"},
		{9.876, "9.88"},
		{123.4, "123"},
		{0, "0"},
		{-0.02049, "-0.0205"},
	} {
		if got := Plain(c.v, 3); got != c.want {
			t.Errorf("Plain(%v, 3) = %q, want %q", c.v, got, c.want)
		}
	}
}

func TestRound(t *testing.T) {
	for _, c := range []struct{ v, want float64 }{{31684210, 31700000}, {25506760, 25500000}, {0.0141, 0.0141}, {999.6, 1000}, {0, 0}} {
		if got := Round(c.v, 3); got != c.want {
			t.Errorf("Round(%g, 3) = %g, want %g", c.v, got, c.want)
		}
	}
}
