package unaccent

import "testing"

func TestString(t *testing.T) {
	for in, want := range map[string]string{
		"Étang de Thau":     "Etang de Thau",
		"Vassivière":        "Vassiviere",
		"São João":          "Sao Joao",
		"Loch Ness":         "Loch Ness",
		"Øresund":           "Øresund", // not decomposed: kept
		"":                  "",
		"Lagune d'Oualidia": "Lagune d'Oualidia",
	} {
		if got := String(in); got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
	}
}
