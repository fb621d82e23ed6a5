// Package unaccent takes the accents off letters, so that what a person types without
// them finds what was written with them ("etang" finds "Étang") and names made for
// files keep the letter ("Etang", not "_tang").
package unaccent

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// String is s with its combining marks dropped: É is decomposed into E and an acute
// accent, which goes. Letters that are not decomposed (ø, ß, ł) stay as they are.
func String(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Mn, r) {
			return -1
		}
		return r
	}, norm.NFD.String(s))
}
