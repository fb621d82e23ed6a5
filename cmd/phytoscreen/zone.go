package main

import (
	"slices"
	"strings"
	"time"

	// The time zone database, embedded: --tz and the local times the commands show
	// need it on a machine without tzdata installed (a minimal image, Windows), where
	// time.LoadLocation("Europe/Berlin") fails. About 450 kB.
	_ "time/tzdata"
)

// localZone is where the commands read a time given without a zone (--taken) and show
// the times a person reads (screen's summary, the samples list, --tsv's offsets): this
// machine's zone, as History shows them. A test sets another, for it to differ from
// UTC. Stored times are instants; shown in UTC, a sample taken Monday 00:30 in Berlin
// read as Sunday's, and a run added to it showed another time than its first.
var localZone = time.Local

// zoneOf names the zone of local times as a heading gives it: its abbreviation ("CET"),
// or those the times fall in when they straddle a change of summer time ("CEST/CET", in
// the order first met).
func zoneOf(ts []time.Time) string {
	var names []string
	for _, t := range ts {
		if t.IsZero() {
			continue
		}
		if n, _ := t.In(localZone).Zone(); !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		n, _ := time.Now().In(localZone).Zone()
		return n
	}
	return strings.Join(names, "/")
}
