package screening

import (
	"slices"
	"testing"
)

func TestMainThenCompanions(t *testing.T) {
	id := func(s string) string { return s }
	for _, c := range []struct{ in, want []string }{
		{[]string{"PA-1~ndsb", "PA-1", "LN-1"}, []string{"PA-1", "PA-1~ndsb", "LN-1"}},
		{[]string{"LN-2~cyano", "LN-2~ndsb", "RI-1", "LN-2"}, []string{"RI-1", "LN-2", "LN-2~cyano", "LN-2~ndsb"}},
		{[]string{"X~a", "Y"}, []string{"X~a", "Y"}}, // its main sample not listed: where it was
		{[]string{"A", "B"}, []string{"A", "B"}},
		{nil, []string{}},
	} {
		if got := MainThenCompanions(c.in, id); !slices.Equal(got, c.want) {
			t.Errorf("MainThenCompanions(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestSameSite(t *testing.T) {
	for _, c := range []struct {
		a, b string
		same bool
	}{
		{"Lagoon North", "Lagoon north", true},
		{" Lagoon north ", "LAGOON NORTH", true},
		{"Lagoon north", "Lagoon south", false},
		{"", "", true},
	} {
		if got := SameSite(c.a, c.b); got != c.same {
			t.Errorf("SameSite(%q, %q) = %t", c.a, c.b, got)
		}
	}
}

func TestMostUsedSpelling(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want string
	}{
		{[]string{"Lagoon North", "Lagoon north", " Lagoon north "}, "Lagoon north"},
		{[]string{"Pond A", "pond a"}, "Pond A"}, // a tie: the first
		{[]string{"b", "a", "a", "b"}, "a"},      // a tie: the first to reach the count
		{nil, ""},
	} {
		if got := MostUsedSpelling(c.in); got != c.want {
			t.Errorf("MostUsedSpelling(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if SiteKey(" Lagoon North") != SiteKey("lagoon north ") {
		t.Error("SiteKey differs by case or spaces")
	}
}
