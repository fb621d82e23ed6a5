package labserver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/phytoscreen/phytoscreen/labrec"
)

// levelRank orders alert levels: the alerts package's none < watch < alert, and action
// above them should a programme's rules name one.
const levelRankSQL = `CASE %s WHEN 'watch' THEN 1 WHEN 'alert' THEN 2 WHEN 'action' THEN 3 ELSE 0 END`

var levelNames = []string{"", "watch", "alert", "action"}

// inProgrammeSQL keeps in the programme's views a sample s with a run that is not of the
// bundled demo (labrec.DemoSpec): one whose runs are all the demo's (benches no longer
// push them, but one pushed before stays on the server) is left out, and so is one the
// server holds no run of (bool_and over none is NULL): its tally showed on the weekly
// report when its run had been refused (a copied store's, helper-70), with no object
// to review. A sample pushed before its runs shows once they arrive. A companion
// sample (the same water screened again with another model, pack or threshold to
// compare them, `screen --keep-apart`: ID~base beside ID, of the same bench) is the
// bench's comparison, not another sample of the programme: it counted as a second
// sample at the site, its alerts twice (helper-76).
const inProgrammeSQL = notDemoSQL + ` AND NOT ` + companionSQL

// notDemoSQL keeps a sample s with a run that is not of the demo (inProgrammeSQL).
const notDemoSQL = `(SELECT bool_and(d.spec = '` + labrec.DemoSpec + `') FROM runs d
	WHERE d.bench_id = s.bench_id AND d.sample_id = s.sample_id) IS FALSE`

// companionSQL is true for a companion sample s: its bench holds the sample whose ID
// with "~" begins s's (inProgrammeSQL). The weekly report names them (WeekReport).
const companionSQL = `EXISTS (SELECT 1 FROM samples o WHERE o.bench_id = s.bench_id
		AND starts_with(s.sample_id, o.sample_id || '~'))`

// Benches lists the benches the server knows, by name.
func (s *Server) Benches(ctx context.Context) ([]labrec.BenchInfo, error) {
	rows, err := s.pool.Query(ctx, `SELECT bench_id, name, role_name, last_push FROM benches ORDER BY name, bench_id`)
	if err != nil {
		return nil, explain("lab server "+s.text+": listing benches", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (labrec.BenchInfo, error) {
		var b labrec.BenchInfo
		var last *time.Time
		err := row.Scan(&b.ID, &b.Name, &b.Role, &last)
		if last != nil {
			b.LastPush = *last
		}
		return b, err
	})
	return out, explain("lab server "+s.text+": listing benches", err)
}

// BenchLabels lists the taxon labels of the packs a bench has used (as its pushed runs
// named them), in order.
func (s *Server) BenchLabels(ctx context.Context, bench string) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT label FROM taxa WHERE bench_id = $1 ORDER BY label`, bench)
	if err != nil {
		return nil, explain("lab server "+s.text+": the taxa of bench "+bench, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return out, explain("lab server "+s.text+": the taxa of bench "+bench, err)
}

// BenchTaxonNames maps the display names of the taxa of the packs bench used to their
// labels ("Not a cyanobacterium" to "Other"); a name two packs give to different labels
// maps to them both.
func (s *Server) BenchTaxonNames(ctx context.Context, bench string) (map[string][]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT name, label FROM taxa WHERE bench_id = $1 AND name <> '' ORDER BY name, label`, bench)
	if err != nil {
		return nil, explain("lab server "+s.text+": the taxa of bench "+bench, err)
	}
	out := map[string][]string{}
	var name, label string
	_, err = pgx.ForEachRow(rows, []any{&name, &label}, func() error {
		out[name] = append(out[name], label)
		return nil
	})
	return out, explain("lab server "+s.text+": the taxa of bench "+bench, err)
}

// Sites lists the sites of the samples the benches hold.
func (s *Server) Sites(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT site FROM samples s WHERE NOT gone AND deleted_at IS NULL AND `+inProgrammeSQL+` ORDER BY site`)
	if err != nil {
		return nil, explain("lab server "+s.text+": listing sites", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return out, explain("lab server "+s.text+": listing sites", err)
}

// sampleFrom reads samples with their runs, alerts and top level, not deleted; the
// caller adds what else to choose and ORDER BY.
var sampleFrom = `SELECT s.bench_id, b.name, s.sample_id, s.site, s.taken, s.notes, s.factor, s.lat,
	s.lon, s.depth_m, s.analyst, s.created, s.marked, s.volume_ml, s.objects, s.failed,
	s.pushed_at, coalesce(rn.n, 0), coalesce(al.n, 0), coalesce(al.top, 0), coalesce(rn.partial, false),
	s.final_rules, s.final_level, s.final_rule, s.final_per_l, s.final_why
FROM samples s JOIN benches b ON b.bench_id = s.bench_id
LEFT JOIN LATERAL (SELECT count(*) AS n, bool_or(r.status NOT IN ('done', '')) AS partial FROM runs r
	WHERE r.bench_id = s.bench_id AND r.sample_id = s.sample_id) rn ON true
LEFT JOIN LATERAL (SELECT count(*) AS n, max(` + fmt.Sprintf(levelRankSQL, "a.to_level") + `) AS top
	FROM alerts a JOIN runs r ON r.bench_id = a.bench_id AND r.run_id = a.run_id
	WHERE r.bench_id = s.bench_id AND r.sample_id = s.sample_id) al ON true
WHERE NOT s.gone AND s.deleted_at IS NULL AND `

// sampleSelect reads programme samples (sampleFrom) of the programme: no demo, no companion.
var sampleSelect = sampleFrom + inProgrammeSQL

func scanSample(row pgx.CollectableRow) (labrec.ProgrammeSample, error) {
	var p labrec.ProgrammeSample
	var top int
	var rules, level, rule, why *string
	var perL *float64
	err := row.Scan(&p.Bench, &p.BenchName, &p.ID, &p.Site, &p.Taken, &p.Notes, &p.Factor, &p.Lat,
		&p.Lon, &p.DepthM, &p.Analyst, &p.Created, &p.Marked, &p.VolumeML, &p.Objects, &p.Failed,
		&p.PushedAt, &p.Runs, &p.Alerts, &top, &p.Partial, &rules, &level, &rule, &perL, &why)
	if top >= 0 && top < len(levelNames) {
		p.TopLevel = levelNames[top]
	}
	if level != nil { // NULL: the bench did not work it out
		p.Standing = &labrec.Standing{Level: *level, Rules: deref(rules), Rule: deref(rule), Why: deref(why)}
		if perL != nil {
			p.Standing.PerL = *perL
		}
	}
	return p, err
}

// deref is the text of a column that may be NULL ("" for NULL).
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// nullTimeFilter is NULL for a zero time (no bound).
func nullTimeFilter(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// Samples lists every bench's samples the filter chooses, newest first; samples in a
// bench's trash or removed from it are left out. Counts are not filled (SampleCounts).
func (s *Server) Samples(ctx context.Context, f labrec.ProgrammeFilter) ([]labrec.ProgrammeSample, error) {
	var lim any
	if f.Limit > 0 {
		lim = f.Limit
	}
	rows, err := s.pool.Query(ctx, sampleSelect+`
	AND ($1 = '' OR s.site = $1)
	AND ($2 = '' OR s.bench_id = $2 OR b.name = $2)
	AND ($3::timestamptz IS NULL OR s.taken >= $3)
	AND ($4::timestamptz IS NULL OR s.taken < $4)
ORDER BY s.taken DESC, b.name, s.bench_id, s.sample_id LIMIT $5`,
		f.Site, f.Bench, nullTimeFilter(f.From), nullTimeFilter(f.To), lim)
	if err != nil {
		return nil, explain("lab server "+s.text+": listing samples", err)
	}
	out, err := pgx.CollectRows(rows, scanSample)
	return out, explain("lab server "+s.text+": listing samples", err)
}

// counts reads the tallies of samples (bench and sample ID pairs), in each bench's order.
func (s *Server) counts(ctx context.Context, benches, samples []string) (map[[2]string][]labrec.Count, error) {
	rows, err := s.pool.Query(ctx, `SELECT c.bench_id, c.sample_id, c.label, c.kind, c.name, c.grp,
	c.grp_name, c.unit, c.count, c.validated, c.per_l, c.ci_low, c.ci_high, coalesce(c.cells, 0)
FROM sample_counts c JOIN unnest($1::text[], $2::text[]) AS k(bench_id, sample_id)
	ON k.bench_id = c.bench_id AND k.sample_id = c.sample_id
ORDER BY c.bench_id, c.sample_id, c.pos, c.kind, c.label`, benches, samples)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[[2]string][]labrec.Count{}
	for rows.Next() {
		var b, id string
		var c labrec.Count
		if err := rows.Scan(&b, &id, &c.Label, &c.Kind, &c.Name, &c.Group, &c.GroupName, &c.Unit,
			&c.Count, &c.Validated, &c.PerL, &c.CILow, &c.CIHigh, &c.Cells); err != nil {
			return nil, err
		}
		out[[2]string{b, id}] = append(out[[2]string{b, id}], c)
	}
	return out, rows.Err()
}

// SampleCounts reads a sample with its tally as its bench pushed it.
func (s *Server) SampleCounts(ctx context.Context, bench, sampleID string) (labrec.SampleTally, error) {
	what := fmt.Sprintf("lab server %s: sample %q of bench %s", s.text, sampleID, bench)
	var t labrec.SampleTally
	err := s.pool.QueryRow(ctx, `SELECT bench_id, sample_id, site, taken, notes, factor, lat, lon,
	depth_m, analyst, created, marked, deleted_at, gone, volume_ml, objects, failed
FROM samples WHERE bench_id = $1 AND sample_id = $2`, bench, sampleID).Scan(
		&t.Bench, &t.ID, &t.Site, &t.Taken, &t.Notes, &t.Factor, &t.Lat, &t.Lon, &t.DepthM,
		&t.Analyst, &t.Created, &t.Marked, &t.Deleted, &t.Gone, &t.VolumeML, &t.Objects, &t.Failed)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, fmt.Errorf("%s: not on the server (has the bench synced?)", what)
	}
	if err != nil {
		return t, explain(what, err)
	}
	c, err := s.counts(ctx, []string{bench}, []string{sampleID})
	if err != nil {
		return t, explain(what, err)
	}
	t.Counts = c[[2]string{bench, sampleID}]
	return t, nil
}

const alertSelect = `SELECT a.bench_id, b.name, r.sample_id, s.site, a.alert_id, a.run_id, a.time,
	a.rule, a.taxon, a.from_level, a.to_level, a.count, a.cells_per_l, a.ci_low, a.ci_high,
	a.threshold, a.threshold_per_l, a.threshold_source, a.verified, a.note
FROM alerts a
JOIN runs r ON r.bench_id = a.bench_id AND r.run_id = a.run_id
JOIN samples s ON s.bench_id = r.bench_id AND s.sample_id = r.sample_id
JOIN benches b ON b.bench_id = a.bench_id`

func scanAlert(row pgx.CollectableRow) (labrec.ProgrammeAlert, error) {
	var a labrec.ProgrammeAlert
	err := row.Scan(&a.Bench, &a.BenchName, &a.SampleID, &a.Site, &a.ID, &a.RunID, &a.Time,
		&a.Rule, &a.Taxon, &a.FromLevel, &a.ToLevel, &a.Count, &a.CellsPerL, &a.CILow, &a.CIHigh,
		&a.Threshold, &a.ThresholdPerL, &a.ThresholdSource, &a.Verified, &a.Note)
	return a, err
}

// SampleAlerts lists the alerts a sample's runs raised, in time order.
func (s *Server) SampleAlerts(ctx context.Context, bench, sampleID string) ([]labrec.ProgrammeAlert, error) {
	rows, err := s.pool.Query(ctx, alertSelect+`
WHERE a.bench_id = $1 AND r.sample_id = $2 ORDER BY a.time, a.alert_id`, bench, sampleID)
	if err != nil {
		return nil, explain("lab server "+s.text+": alerts of sample "+sampleID, err)
	}
	out, err := pgx.CollectRows(rows, scanAlert)
	return out, explain("lab server "+s.text+": alerts of sample "+sampleID, err)
}

// SiteTrend lists the concentration of label (a taxon label or a group ID) in every
// screened sample taken at site in [from, to) by any bench, oldest first. A screened
// sample whose tally lacks the label counts 0 (nothing of it was seen) when a pack its
// runs used knows the label; a sample screened only with packs that cannot see it is
// left out: not checked, not zero (helper-40: a marine pack's sample plotted as no
// cyanobacteria). Zero from or to leaves that side open.
func (s *Server) SiteTrend(ctx context.Context, site, label string, from, to time.Time) ([]labrec.TrendPoint, error) {
	rows, err := s.pool.Query(ctx, `SELECT s.bench_id, b.name, s.sample_id, s.taken,
	coalesce(c.count, 0), coalesce(c.per_l, 0), coalesce(c.ci_low, 0), coalesce(c.ci_high, 0), coalesce(c.cells, 0)
FROM samples s JOIN benches b ON b.bench_id = s.bench_id
LEFT JOIN LATERAL (SELECT x.count, x.per_l, x.ci_low, x.ci_high, x.cells FROM sample_counts x
	WHERE x.bench_id = s.bench_id AND x.sample_id = s.sample_id AND x.label = $2
	-- a label that is both a taxon and a group ID reads as the taxon
	ORDER BY CASE x.kind WHEN 'taxon' THEN 0 WHEN 'group' THEN 1 ELSE 2 END LIMIT 1) c ON true
WHERE s.site = $1 AND NOT s.gone AND s.deleted_at IS NULL AND `+inProgrammeSQL+`
	AND (c.count IS NOT NULL OR (s.volume_ml > 0 AND EXISTS (SELECT 1 FROM runs r
		JOIN taxa t ON t.bench_id = r.bench_id AND t.pack = r.pack AND (t.label = $2 OR t.grp = $2)
		WHERE r.bench_id = s.bench_id AND r.sample_id = s.sample_id)))
	AND ($3::timestamptz IS NULL OR s.taken >= $3) AND ($4::timestamptz IS NULL OR s.taken < $4)
ORDER BY s.taken, b.name, s.bench_id, s.sample_id`, site, label, nullTimeFilter(from), nullTimeFilter(to))
	if err != nil {
		return nil, explain("lab server "+s.text+": trend at "+site, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (labrec.TrendPoint, error) {
		var p labrec.TrendPoint
		err := row.Scan(&p.Bench, &p.BenchName, &p.SampleID, &p.Taken, &p.Count, &p.PerL, &p.CILow, &p.CIHigh, &p.Cells)
		return p, err
	})
	return out, explain("lab server "+s.text+": trend at "+site, err)
}

// TaxonChoices lists the taxa and groups seen at site ("" every site), with their latest
// names, for choosing a trend: Label, Kind, Name and Group are filled.
func (s *Server) TaxonChoices(ctx context.Context, site string) ([]labrec.Count, error) {
	rows, err := s.pool.Query(ctx, `SELECT label, kind, name, grp FROM (
	SELECT DISTINCT ON (c.label, c.kind) c.label, c.kind, c.name, c.grp
	FROM sample_counts c JOIN samples s ON s.bench_id = c.bench_id AND s.sample_id = c.sample_id
	WHERE ($1 = '' OR s.site = $1) AND NOT s.gone AND s.deleted_at IS NULL AND `+inProgrammeSQL+`
	ORDER BY c.label, c.kind, s.taken DESC) t
ORDER BY CASE kind WHEN 'taxon' THEN 0 WHEN 'group' THEN 1 ELSE 2 END, name, label`, site)
	if err != nil {
		return nil, explain("lab server "+s.text+": taxa at "+site, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (labrec.Count, error) {
		var c labrec.Count
		err := row.Scan(&c.Label, &c.Kind, &c.Name, &c.Group)
		return c, err
	})
	return out, explain("lab server "+s.text+": taxa at "+site, err)
}

// WeekReport reads what the weekly programme report shows: the samples every bench took
// in ISO week w (site by site, then by time) with their counts, and their alerts. The
// week runs from its Monday's midnight in zone to the next (nil: UTC): the programme's
// local days, as a bench and the History date filter show them. Cut in UTC, a sample
// taken Monday 00:30 in Berlin fell in the week before.
func (s *Server) WeekReport(ctx context.Context, w labrec.Week, zone *time.Location) (labrec.WeekReport, error) {
	if zone == nil {
		zone = time.UTC
	}
	from, to := w.StartIn(zone), w.EndIn(zone)
	rep := labrec.WeekReport{Week: w, Zone: zone, Made: time.Now().In(zone), Server: s.text}
	what := "lab server " + s.text + ": week " + w.String()
	var err error
	if rep.Benches, err = s.Benches(ctx); err != nil {
		return rep, err
	}
	if rep.Samples, err = s.Samples(ctx, labrec.ProgrammeFilter{From: from, To: to}); err != nil {
		return rep, err
	}
	sort.SliceStable(rep.Samples, func(i, j int) bool {
		a, b := rep.Samples[i], rep.Samples[j]
		if a.Site != b.Site {
			return a.Site < b.Site
		}
		return a.Taken.Before(b.Taken)
	})
	benches, ids := make([]string, len(rep.Samples)), make([]string, len(rep.Samples))
	for i, p := range rep.Samples {
		benches[i], ids[i] = p.Bench, p.ID
	}
	counts, err := s.counts(ctx, benches, ids)
	if err != nil {
		return rep, explain(what, err)
	}
	for i := range rep.Samples {
		rep.Samples[i].Counts = counts[[2]string{rep.Samples[i].Bench, rep.Samples[i].ID}]
	}
	// The companions of the week, said apart with what they counted and raised.
	rows, err := s.pool.Query(ctx, sampleFrom+notDemoSQL+` AND `+companionSQL+`
	AND s.taken >= $1 AND s.taken < $2
ORDER BY s.taken, b.name, s.bench_id, s.sample_id`, from, to)
	if err != nil {
		return rep, explain(what, err)
	}
	if rep.Companions, err = pgx.CollectRows(rows, scanSample); err != nil {
		return rep, explain(what, err)
	}
	if err := s.fillWeek(ctx, rep.Companions); err != nil {
		return rep, explain(what, err)
	}
	for i := range rep.Companions {
		rep.Companions[i].Companion, _, _ = strings.Cut(rep.Companions[i].ID, "~")
	}
	if err := s.fillSetups(ctx, rep.Samples); err != nil {
		return rep, explain(what, err)
	}
	rows, err = s.pool.Query(ctx, alertSelect+`
WHERE s.taken >= $1 AND s.taken < $2 AND NOT s.gone AND s.deleted_at IS NULL AND `+inProgrammeSQL+`
ORDER BY s.site, a.time, a.bench_id, a.alert_id`, from, to)
	if err != nil {
		return rep, explain(what, err)
	}
	if rep.Alerts, err = pgx.CollectRows(rows, scanAlert); err != nil {
		return rep, explain(what, err)
	}
	rows, err = s.pool.Query(ctx, `SELECT s.bench_id, b.name, s.sample_id, s.site, coalesce(s.final_level, ''),
	coalesce((SELECT max(`+fmt.Sprintf(levelRankSQL, "a.to_level")+`) FROM alerts a JOIN runs r ON r.bench_id = a.bench_id AND r.run_id = a.run_id
		WHERE r.bench_id = s.bench_id AND r.sample_id = s.sample_id), 0)
FROM samples s JOIN benches b ON b.bench_id = s.bench_id
WHERE s.taken >= $1 AND s.taken < $2 AND NOT s.gone AND s.deleted_at IS NOT NULL AND `+inProgrammeSQL+`
ORDER BY s.site, s.taken, b.name, s.sample_id`, from, to)
	if err != nil {
		return rep, explain(what, err)
	}
	rep.Deleted, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (labrec.DeletedSample, error) {
		var d labrec.DeletedSample
		var top int
		err := row.Scan(&d.Bench, &d.BenchName, &d.ID, &d.Site, &d.Level, &top)
		if top > 0 && top < len(levelNames) {
			d.Raised = levelNames[top]
		}
		return d, err
	})
	return rep, explain(what, err)
}

// fillWeek fills the counts and setups of samples.
func (s *Server) fillWeek(ctx context.Context, samples []labrec.ProgrammeSample) error {
	benches, ids := make([]string, len(samples)), make([]string, len(samples))
	for i, p := range samples {
		benches[i], ids[i] = p.Bench, p.ID
	}
	counts, err := s.counts(ctx, benches, ids)
	if err != nil {
		return err
	}
	for i := range samples {
		samples[i].Counts = counts[[2]string{samples[i].Bench, samples[i].ID}]
	}
	return s.fillSetups(ctx, samples)
}

// fillSetups fills what counted each sample (ProgrammeSample.Setups): the pack, model,
// threshold and rules of its runs that are not the demo's, one each, with the
// calibration of the objects they counted and their packs' taxa as the bench pushed them.
func (s *Server) fillSetups(ctx context.Context, samples []labrec.ProgrammeSample) error {
	if len(samples) == 0 {
		return nil
	}
	benches, ids := make([]string, len(samples)), make([]string, len(samples))
	for i, p := range samples {
		benches[i], ids[i] = p.Bench, p.ID
	}
	// um_per_px 0 is no calibration; the objects of a run are read by their
	// (bench_id, run_id, seq) index.
	rows, err := s.pool.Query(ctx, `SELECT r.bench_id, r.sample_id, r.pack, r.model, r.threshold, r.rules,
	coalesce(c.lo, 0), coalesce(c.hi, 0)
FROM runs r JOIN unnest($1::text[], $2::text[]) AS k(bench_id, sample_id)
	ON k.bench_id = r.bench_id AND k.sample_id = r.sample_id
LEFT JOIN LATERAL (SELECT min(o.um_per_px) FILTER (WHERE o.um_per_px > 0) AS lo,
	max(o.um_per_px) FILTER (WHERE o.um_per_px > 0) AS hi
	FROM objects o WHERE o.bench_id = r.bench_id AND o.run_id = r.run_id) c ON true
WHERE r.spec <> $3
ORDER BY r.bench_id, r.sample_id, r.started, r.run_id`, benches, ids, labrec.DemoSpec)
	if err != nil {
		return fmt.Errorf("lab server: what counted the samples (packs, models, calibration): %w", err)
	}
	setups := map[[2]string][]labrec.Setup{}
	packs := map[[2]string][]labrec.Taxon{} // bench, pack
	var bench, id string
	var u labrec.Setup
	_, err = pgx.ForEachRow(rows, []any{&bench, &id, &u.Pack, &u.Model, &u.Threshold, &u.Rules, &u.UmPerPxMin, &u.UmPerPxMax}, func() error {
		k := [2]string{bench, id}
		packs[[2]string{bench, u.Pack}] = nil
		i := slices.IndexFunc(setups[k], func(o labrec.Setup) bool {
			return o.Pack == u.Pack && o.Model == u.Model && o.Threshold == u.Threshold && o.Rules == u.Rules
		})
		if i < 0 {
			setups[k] = append(setups[k], u)
			return nil
		}
		o := &setups[k][i] // runs counted alike: one setup, its calibrations' range
		if u.UmPerPxMin > 0 && (o.UmPerPxMin == 0 || u.UmPerPxMin < o.UmPerPxMin) {
			o.UmPerPxMin = u.UmPerPxMin
		}
		o.UmPerPxMax = max(o.UmPerPxMax, u.UmPerPxMax)
		return nil
	})
	if err != nil {
		return fmt.Errorf("lab server: what counted the samples (packs, models, calibration): %w", err)
	}
	var tb, tp []string
	for k := range packs {
		tb, tp = append(tb, k[0]), append(tp, k[1])
	}
	rows, err = s.pool.Query(ctx, `SELECT t.bench_id, t.pack, t.label, t.idx, t.name, t.grp, t.grp_name, t.unit
FROM taxa t JOIN unnest($1::text[], $2::text[]) AS k(bench_id, pack) ON k.bench_id = t.bench_id AND k.pack = t.pack
ORDER BY t.bench_id, t.pack, t.idx, t.label`, tb, tp)
	if err != nil {
		return fmt.Errorf("lab server: what counted the samples (packs, models, calibration): %w", err)
	}
	var t labrec.Taxon
	_, err = pgx.ForEachRow(rows, []any{&bench, &t.Pack, &t.Label, &t.Idx, &t.Name, &t.Group, &t.GroupName, &t.Unit}, func() error {
		k := [2]string{bench, t.Pack}
		packs[k] = append(packs[k], t)
		return nil
	})
	if err != nil {
		return fmt.Errorf("lab server: what counted the samples (packs, models, calibration): %w", err)
	}
	for i := range samples {
		samples[i].Setups = setups[[2]string{samples[i].Bench, samples[i].ID}]
		for j := range samples[i].Setups {
			samples[i].Setups[j].Taxa = packs[[2]string{samples[i].Bench, samples[i].Setups[j].Pack}]
		}
	}
	return nil
}

// ValidatedCrop is an object a person labelled, with its crop: what teaches the model.
type ValidatedCrop struct {
	Bench     string
	BenchName string
	SampleID  string
	Site      string
	ObjectID  int64
	Pack      string // the pack of the object's run
	Predicted string // the model's label
	Crop      []byte
	labrec.Validation
}

// ValidatedCrops calls fn for every object of any bench with a person's label (not a
// cleared one) and a crop, of runs with pack ("" any pack), oldest validation first. Rows
// stream: a programme's crops need not fit in memory. An error from fn stops it.
func (s *Server) ValidatedCrops(ctx context.Context, pack string, fn func(ValidatedCrop) error) error {
	what := "lab server " + s.text + ": validated crops"
	rows, err := s.pool.Query(ctx, `SELECT o.bench_id, b.name, r.sample_id, s.site, o.object_id, r.pack,
	o.label, o.crop, o.validated_label, coalesce(o.validated_by, ''), o.validated_at
FROM objects o
JOIN runs r ON r.bench_id = o.bench_id AND r.run_id = o.run_id
JOIN samples s ON s.bench_id = r.bench_id AND s.sample_id = r.sample_id
JOIN benches b ON b.bench_id = o.bench_id
WHERE o.validated_label IS NOT NULL AND o.validated_at IS NOT NULL AND o.crop IS NOT NULL
	AND ($1 = '' OR r.pack = $1)
ORDER BY o.validated_at, o.bench_id, o.object_id`, pack)
	if err != nil {
		return explain(what, err)
	}
	defer rows.Close()
	for rows.Next() {
		var c ValidatedCrop
		if err := rows.Scan(&c.Bench, &c.BenchName, &c.SampleID, &c.Site, &c.ObjectID, &c.Pack,
			&c.Predicted, &c.Crop, &c.Label, &c.By, &c.At); err != nil {
			return explain(what, err)
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	return explain(what, rows.Err())
}

// SampleObjects calls fn with each object of a bench's sample, crops included, in the
// bench's order (run, then ID): what "Show crops" and the sync tests read back.
func (s *Server) SampleObjects(ctx context.Context, bench, sampleID string, fn func(labrec.Object) error) error {
	what := fmt.Sprintf("lab server %s: reading the objects of sample %q of bench %s", s.text, sampleID, bench)
	var gone bool
	err := s.pool.QueryRow(ctx, `SELECT gone FROM samples WHERE bench_id = $1 AND sample_id = $2`, bench, sampleID).Scan(&gone)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return explain(what, err)
	}
	if gone {
		return fmt.Errorf("%s: %w", what, ErrSampleGone)
	}
	rows, err := s.pool.Query(ctx, `SELECT o.object_id, o.run_id, o.seq, o.time, o.frame, o.track, o.x, o.y, o.w, o.h,
	o.area, o.perimeter, o.esd, o.major, o.minor, o.aspect, o.solidity, o.mean_gray, o.focus,
	o.um_per_px, o.contrast, o.centroid_x, o.centroid_y, o.area_um2, o.esd_um, o.major_um,
	o.minor_um, o.perimeter_um, o.on_border, o.kind, o.length, o.width, o.parts, o.cells_estimate,
	o.oversize, o.file, o.crop, o.label, o.prob, o.top, o.variant, o.error,
	o.validated_label, o.validated_by, o.validated_at, o.error = '' AND o.prob < r.threshold
FROM objects o JOIN runs r ON r.bench_id = o.bench_id AND r.run_id = o.run_id
WHERE o.bench_id = $1 AND r.sample_id = $2
ORDER BY o.run_id, o.object_id`, bench, sampleID)
	if err != nil {
		return explain(what, err)
	}
	defer rows.Close()
	for rows.Next() {
		var o labrec.Object
		var vl, vb *string
		var va *time.Time
		if err := rows.Scan(&o.ID, &o.RunID, &o.Seq, &o.Time, &o.Frame, &o.Track, &o.X, &o.Y, &o.W, &o.H,
			&o.Area, &o.Perimeter, &o.ESD, &o.Major, &o.Minor, &o.Aspect, &o.Solidity, &o.MeanGray, &o.Focus,
			&o.UmPerPx, &o.Contrast, &o.CentroidX, &o.CentroidY, &o.AreaUm2, &o.ESDUm, &o.MajorUm,
			&o.MinorUm, &o.PerimeterUm, &o.OnBorder, &o.Kind, &o.Length, &o.Width, &o.Parts, &o.CellsEstimate,
			&o.Oversize, &o.File, &o.Crop, &o.Label, &o.Prob, &o.Top, &o.Variant, &o.Error,
			&vl, &vb, &va, &o.Unidentified); err != nil {
			return explain(what, err)
		}
		if va != nil {
			o.Validation = &labrec.Validation{At: *va}
			if vl != nil {
				o.Validation.Label = *vl
			}
			if vb != nil {
				o.Validation.By = *vb
			}
		}
		o.Unidentified = o.Unidentified && (o.Validation == nil || o.Validation.Label == "")
		if err := fn(o); err != nil {
			return err
		}
	}
	return explain(what, rows.Err())
}

// Describe says what a connection reached, for Settings' "Test connection": the server,
// the role, the schema and how many benches push to it; it registers nothing.
func (s *Server) Describe(ctx context.Context) (string, error) {
	if err := s.CheckSchema(ctx); err != nil {
		return "", err
	}
	var role string
	var benches int
	var own *string
	err := s.pool.QueryRow(ctx, `SELECT current_user, (SELECT count(*) FROM benches),
	(SELECT name FROM benches WHERE role_name = current_user)`).Scan(&role, &benches, &own)
	if err != nil {
		return "", explain("lab server "+s.text, err)
	}
	text := fmt.Sprintf("connected to %s as %s; schema %d; %d bench", s.text, role, SchemaVersion, benches)
	if benches != 1 {
		text += "es"
	}
	if own != nil {
		text += "; this role pushes as " + *own
	}
	return text, nil
}
