package store

import (
	"bytes"
	"context"
	"encoding/csv"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/screening"
)

// The CSVs write their times in RFC 3339 with the offset of the zone they are made in,
// this machine's unless told: the instant, on the date a person reads beside it. A
// sample taken Monday 30 November 00:30 in Berlin was 2026-11-29T23:30:00Z, Sunday's
// (helper-89).
func TestExportInLocalTime(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	s := openTemp(t)
	sm := testSample()
	sm.Taken = time.Date(2026, 11, 30, 0, 30, 0, 0, berlin)
	r := fillRun(t, s, sm)
	if err := r.Finish(context.Background(), screening.Snapshot{Frames: screening.FrameStats{Seen: 30}, Threshold: 0.5, Variant: inference.Optimised}, nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		format, column, want string
	}{
		{FormatCounts, "taken", "2026-11-30T00:30:00+01:00"},
		{FormatObjects, "sample_taken", "2026-11-30T00:30:00+01:00"},
		{FormatObjects, "time", "+02:00"}, // fillRun's objects are of June: CEST
	} {
		var b bytes.Buffer
		if err := s.ExportTo(context.Background(), sm.ID, c.format, &b, ExportOptions{Zone: berlin}); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(&b).ReadAll()
		if err != nil || len(rows) < 2 {
			t.Fatalf("%s: %d rows, %v", c.format, len(rows), err)
		}
		col := -1
		for i, h := range rows[0] {
			if h == c.column {
				col = i
			}
		}
		if col < 0 {
			t.Fatalf("%s has no column %s: %q", c.format, c.column, rows[0])
		}
		if got := rows[1][col]; got != c.want && !(c.want == "+02:00" && len(got) > 6 && got[len(got)-6:] == c.want) {
			t.Errorf("%s %s = %q, want %q", c.format, c.column, got, c.want)
		}
	}
}
