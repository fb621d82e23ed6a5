package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/screening"
)

// RaisedLevels is the highest level each sample's runs raised while it was screened
// (its alert events), for the samples that raised one: History's list marks them, so
// that the week's alerts are found without opening every sample (helper-67).
func (s *Store) RaisedLevels(ctx context.Context) (map[string]alerts.Level, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT r.sample_id, a.to_level FROM alerts a JOIN sources r ON r.id = a.source_id`)
	if err != nil {
		return nil, fmt.Errorf("session store %s: the levels raised: %w", s.path, err)
	}
	defer rows.Close()
	out := map[string]alerts.Level{}
	for rows.Next() {
		var id, to string
		if err := rows.Scan(&id, &to); err != nil {
			return nil, fmt.Errorf("session store %s: the levels raised: %w", s.path, err)
		}
		out[id] = max(out[id], alerts.LevelNamed(to))
	}
	return out, rows.Err()
}

// AlertEvents returns the alert level changes recorded for a sample, oldest first: what
// was raised at the time, with the rules and thresholds then in force, whatever the
// rules are now.
func (s *Store) AlertEvents(ctx context.Context, sampleID string) ([]alerts.Event, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT a.time, a.rule, a.taxon, a.from_level, a.to_level, a.count, a.cells_per_l,
		a.ci_low, a.ci_high, a.threshold, a.threshold_per_l, a.threshold_source, a.verified, a.note, a.while_reading
		FROM alerts a JOIN sources r ON r.id = a.source_id WHERE r.sample_id = ? ORDER BY a.time, a.id`, sampleID)
	if err != nil {
		return nil, fmt.Errorf("session store %s: alerts of sample %s: %w", s.path, sampleID, err)
	}
	defer rows.Close()
	var out []alerts.Event
	for rows.Next() {
		var e alerts.Event
		var t, from, to, th string
		var thPerL float64
		if err := rows.Scan(&t, &e.Rule, &e.Taxon, &from, &to, &e.Value.Count, &e.Value.PerL, &e.Value.Low, &e.Value.High,
			&th, &thPerL, &e.Source, &e.Verified, &e.Note, &e.Value.Provisional); err != nil {
			return nil, fmt.Errorf("session store %s: alerts of sample %s: %w", s.path, sampleID, err)
		}
		e.Time, e.From, e.To = parseTime(t), alerts.LevelNamed(from), alerts.LevelNamed(to)
		e.Threshold = alerts.Threshold{Value: thPerL, Unit: alerts.PerL, Above: alerts.IsAboveText(th)}
		if th == alerts.Presence {
			e.Threshold = alerts.Threshold{Presence: true, Unit: alerts.Presence}
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// RunEnergy is what a run's power record adds up to, per model (the model can be
// switched during a run).
type RunEnergy struct {
	Run   int64
	Model string // the model variant in use
	Cells int
	// Classified is the run's objects this model classified, as stored: more than
	// Cells when the power record stops short of them (a run cut off loses the span it
	// was measuring: its cost covered 75 cells of the 154 it kept, said nowhere,
	// helper-75).
	Classified int
	Measured   time.Duration // the time the power record covers
	Joules     float64
	Source     string // energy source, e.g. "rapl:package-0" or "estimate:cpu-time"
	Estimated  bool   // the joules are an estimate, not a reading
}

// CellsText says the cells the power record covers, "75 of 154" when it covers fewer
// than the run's objects classified by the model.
func (e RunEnergy) CellsText() string {
	if e.Classified > e.Cells {
		return fmt.Sprintf("%d of %d", e.Cells, e.Classified)
	}
	return strconv.Itoa(e.Cells)
}

// JoulesPerCell is the run's energy per classified cell (NaN-free: 0 without cells).
func (e RunEnergy) JoulesPerCell() float64 {
	if e.Cells == 0 {
		return 0
	}
	return e.Joules / float64(e.Cells)
}

// Energy sums the power record of each of a sample's runs that has one, per model.
func (s *Store) Energy(ctx context.Context, sampleID string) ([]RunEnergy, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT r.id, p.variant, SUM(p.cells), SUM(p.duration_ms), SUM(p.joules),
		MIN(p.energy_source), MAX(p.estimated),
		(SELECT COUNT(*) FROM objects o WHERE o.source_id = r.id AND o.variant = p.variant AND o.error = '')
		FROM perf p JOIN sources r ON r.id = p.source_id
		WHERE r.sample_id = ? AND p.joules IS NOT NULL GROUP BY r.id, p.variant ORDER BY r.id, p.variant`, sampleID)
	if err != nil {
		return nil, fmt.Errorf("session store %s: energy of sample %s: %w", s.path, sampleID, err)
	}
	defer rows.Close()
	var out []RunEnergy
	for rows.Next() {
		var e RunEnergy
		var ms float64
		var src sql.NullString
		if err := rows.Scan(&e.Run, &e.Model, &e.Cells, &ms, &e.Joules, &src, &e.Estimated, &e.Classified); err != nil {
			return nil, fmt.Errorf("session store %s: energy of sample %s: %w", s.path, sampleID, err)
		}
		e.Measured, e.Source = time.Duration(ms*float64(time.Millisecond)), src.String
		out = append(out, e)
	}
	return out, rows.Err()
}

// RunSourceEvent is a source event of one of a sample's runs.
type RunSourceEvent struct {
	Run  int64
	Spec string // the run's source as the user gave it
	screening.SourceEvent
}

// SourceEvents returns what happened to the sources of a sample's runs (a camera lost
// and reconnected), oldest first.
func (s *Store) SourceEvents(ctx context.Context, sampleID string) ([]RunSourceEvent, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT r.id, r.spec, e.time, e.kind, e.frame, e.attempt, e.detail
		FROM source_events e JOIN sources r ON r.id = e.source_id WHERE r.sample_id = ? ORDER BY e.time, e.id`, sampleID)
	if err != nil {
		return nil, fmt.Errorf("session store %s: source events of sample %s: %w", s.path, sampleID, err)
	}
	defer rows.Close()
	var out []RunSourceEvent
	for rows.Next() {
		var e RunSourceEvent
		var t string
		if err := rows.Scan(&e.Run, &e.Spec, &t, &e.Kind, &e.Frame, &e.Attempt, &e.Detail); err != nil {
			return nil, fmt.Errorf("session store %s: source events of sample %s: %w", s.path, sampleID, err)
		}
		e.Time, e.Source = parseTime(t), e.Spec
		out = append(out, e)
	}
	return out, rows.Err()
}
