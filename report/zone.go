package report

import (
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The reports show every time in one zone, with its name: a sample's report in the
// zone of the machine that makes it (Data.Zone), the programme's weekly report in the
// programme's (labrec.WeekReport.Zone). Times are stored as instants; in UTC a sample
// taken Monday 00:30 in Berlin read as Sunday 23:30 and fell in the week before.

// zoneOr is loc, or time.Local when none is given.
func zoneOr(loc *time.Location) *time.Location {
	if loc == nil {
		return time.Local
	}
	return loc
}

// stamp is t in loc to the minute with the zone's abbreviation: "2026-11-30 00:30 CET".
func stamp(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

// ZoneName names loc as a person and --tz write it: "Europe/Berlin". Go calls the
// machine's own zone "Local"; its name is then read from TZ or /etc/localtime, and
// failing both it is the zone's abbreviation now ("CET").
func ZoneName(loc *time.Location) string {
	if loc == nil {
		return "UTC"
	}
	if loc != time.Local {
		return loc.String()
	}
	if tz, ok := os.LookupEnv("TZ"); ok {
		tz = strings.TrimPrefix(tz, ":")
		if tz == "" {
			return "UTC" // TZ set empty is UTC to Go
		}
		if _, err := time.LoadLocation(tz); err == nil && !filepath.IsAbs(tz) {
			return tz
		}
	}
	if target, err := os.Readlink("/etc/localtime"); err == nil {
		if _, name, ok := strings.Cut(target, "zoneinfo/"); ok && name != "" {
			return name
		}
	}
	abbr, _ := time.Now().In(loc).Zone()
	return abbr
}
