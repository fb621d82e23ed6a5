package main

import (
	"strings"
	"testing"

	"github.com/phytoscreen/phytoscreen/screening"
)

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

// While a folder is read, the live table says its cells/L are of the volume read so far.
func TestLiveTableSaysVolumeSoFar(t *testing.T) {
	s := screening.Snapshot{Sample: screening.Sample{ID: "S", VolumeML: 0.25}, Examined: screening.Examined{DeclaredML: 2}, SoFar: true}
	if got := liveTable(s)[0]; !strings.Contains(got, "per litre of the 0.25 of 2 mL read so far") {
		t.Errorf("while reading: %q", got)
	}
	s.SoFar, s.Sample.VolumeML = false, 2
	if got := liveTable(s)[0]; strings.Contains(got, "so far") {
		t.Errorf("ended: %q", got)
	}
}
