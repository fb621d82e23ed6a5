package screening

import "strings"

// SameSite reports whether two sites are one, as a search finds them: letter case and
// surrounding spaces aside ("Lagoon North" and "Lagoon north ").
func SameSite(a, b string) bool { return SiteKey(a) == SiteKey(b) }

// SiteKey is what SameSite compares of a site: "lagoon north" for "Lagoon North ". Lists
// that group samples by site (a chart, the weekly report's tables) group by it.
func SiteKey(site string) string { return strings.ToLower(strings.TrimSpace(site)) }

// MostUsedSpelling is the spelling, trimmed, that most of spellings (those of one site)
// use, the first to reach that count on a tie: the title of a site written two ways.
// "" for none.
func MostUsedSpelling(spellings []string) string {
	n := map[string]int{}
	best := ""
	for _, s := range spellings {
		s = strings.TrimSpace(s)
		n[s]++
		if n[s] > n[best] {
			best = s
		}
	}
	return best
}

// MainThenCompanions orders xs, a list of samples (id gives each one's ID), so that each
// companion (S-1~ndsb, CompanionMark) follows its main sample, the others keeping their
// order: listed by the time taken, which they share, a companion sat above its main
// sample (PA-1~ndsb-plankton-121-v2 above PA-1, helper-91). A companion whose main
// sample is not in xs stays where it was.
func MainThenCompanions[T any](xs []T, id func(T) string) []T {
	present := make(map[string]bool, len(xs))
	for _, x := range xs {
		present[id(x)] = true
	}
	companions := map[string][]T{}
	for _, x := range xs {
		if base, _, ok := strings.Cut(id(x), CompanionMark); ok && present[base] {
			companions[base] = append(companions[base], x)
		}
	}
	out := make([]T, 0, len(xs))
	for _, x := range xs {
		if base, _, ok := strings.Cut(id(x), CompanionMark); ok && present[base] {
			continue // after its main sample
		}
		out = append(out, x)
		out = append(out, companions[id(x)]...)
	}
	return out
}
