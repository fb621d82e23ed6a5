package store

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/power"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/screening"
)

// The alerts a run raised and its power record read back as they were written: levels,
// thresholds and sources of the time, energy summed per run with its source.
func TestAlertEventsAndEnergy(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	r := fillRun(t, s, testSample()) // one watch event (presence)
	raise := alerts.Event{Time: t0.Add(time.Minute), Rule: "noctiluca", Taxon: "Noctiluca", From: alerts.Watch, To: alerts.Alert,
		Value:     alerts.Measure{Count: 12, PerL: 12000, Low: 6200, High: 20962, Provisional: true}, // raised while the frames were read
		Threshold: alerts.Threshold{Value: 10, Unit: alerts.PerML, Above: true},                      // reached only above it
		Source:    "site level", Verified: true, Note: "farm manager's level"}
	if err := r.Event(raise); err != nil {
		t.Fatal(err)
	}
	for i, j := range []float64{1.5, 2.25} {
		if err := r.Power(inference.Optimised, power.Span{Start: t0.Add(time.Duration(i) * time.Second), Cells: uint64(4 + i), Duration: time.Second, Watts: j, Joules: j, Source: "estimate:cpu-time", Estimated: true}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Finish(ctx, screening.Snapshot{Threshold: 0.5}, nil); err != nil {
		t.Fatal(err)
	}
	evs, err := s.AlertEvents(ctx, "LIM-2025-06-03")
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 {
		t.Fatalf("%d events, want 2", len(evs))
	}
	w, a := evs[0], evs[1]
	if w.To != alerts.Watch || !w.Threshold.Presence || w.Source != "phytoscreen default" || !w.Time.Equal(t0) || w.Value.Provisional {
		t.Errorf("watch event %+v", w)
	}
	if a.From != alerts.Watch || a.To != alerts.Alert || a.Threshold.CellsPerL() != 10000 || !a.Threshold.Above || w.Threshold.Above || a.Value != raise.Value ||
		a.Source != "site level" || !a.Verified || a.Note != "farm manager's level" {
		t.Errorf("alert event %+v", a)
	}
	en, err := s.Energy(ctx, "LIM-2025-06-03")
	if err != nil {
		t.Fatal(err)
	}
	if len(en) != 1 {
		t.Fatalf("energy of %d runs, want 1 (the batch sample has no joules)", len(en))
	}
	e := en[0]
	if e.Cells != 9 || e.Measured != 2*time.Second || math.Abs(e.Joules-3.75) > 1e-9 || e.Source != "estimate:cpu-time" || !e.Estimated ||
		math.Abs(e.JoulesPerCell()-3.75/9) > 1e-12 || e.Model != "optimised" {
		t.Errorf("energy %+v", e)
	}
	// The 9 objects the model classified (one failed) are the 9 cells measured.
	if e.Classified != 9 || e.CellsText() != "9" {
		t.Errorf("classified %d, cells %q; want 9, \"9\"", e.Classified, e.CellsText())
	}
	// A run cut off loses the span it was measuring: its record covers fewer cells than
	// it kept, and says so (helper-75: 75 cells of the 154 kept, said nowhere).
	if _, err := s.db.ExecContext(ctx, "DELETE FROM perf WHERE id = (SELECT MAX(id) FROM perf WHERE joules IS NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	if en, err = s.Energy(ctx, "LIM-2025-06-03"); err != nil || len(en) != 1 || en[0].Cells != 4 || en[0].Classified != 9 || en[0].CellsText() != "4 of 9" {
		t.Errorf("the last span lost: %+v (%v); want 4 cells measured of 9, \"4 of 9\"", en, err)
	}
}
