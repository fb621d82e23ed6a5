package main

import "testing"

func TestVolumeText(t *testing.T) {
	for _, c := range []struct {
		ml   float64
		want string
	}{
		{1, "1"}, {0.1 + 0.1 + 0.1, "0.3"}, {5.0 / 9, "0.5556"}, {0.01, "0.01"}, {0.000123456, "0.0001235"},
		{25, "25"}, {1000, "1000"}, {12345.6, "12346"}, {0, "0"},
	} {
		if got := volumeText(c.ml); got != c.want {
			t.Errorf("volumeText(%v) = %q, want %q", c.ml, got, c.want)
		}
	}
}
