package app

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/report"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
)

// Version is phytoscreen's version, as FyneApp.toml gives it to the app bundle.
const Version = "0.1.0"

// cropsPerExample is how many crops of a taxon a report shows.
const cropsPerExample = 6

// ReportData gathers what the report of a stored sample shows. The trigger levels are
// those of the rules the sample's last run used (rules, when not empty, names others:
// a file or a preset), bound to that run's pack.
func ReportData(ctx context.Context, st *store.Store, sampleID, rules string, now time.Time) (report.Data, error) {
	c, tx, packErr, err := SampleCounts(ctx, st, sampleID)
	if err != nil {
		return report.Data{}, err
	}
	d := report.Data{Counts: c, Generated: now, Version: Version}
	if d.Events, err = st.AlertEvents(ctx, sampleID); err != nil {
		return d, err
	}
	if d.Energy, err = st.Energy(ctx, sampleID); err != nil {
		return d, err
	}
	last := c.Sample.Runs[len(c.Sample.Runs)-1]
	// A pack folder's limits are not known here (the store keeps the pack's name): a
	// built-in pack's are.
	d.Pack, d.PackLimits = last.Pack, BuiltinPackLimits(last.Pack)
	if rules == "" {
		rules = StoredRules(last.Rules)
	}
	// The surest objects of each category, their crops read after for those alone:
	// reading every crop of a sample of many thousands of objects took seconds and
	// hundreds of megabytes, for 6 a taxon. Twice as many are kept as shown, for
	// those stored without a crop.
	crops := map[string][]store.ObjectRow{}
	reviewers := map[string]bool{}
	models := map[int64]map[string]int{} // objects classified by each model, per run
	err = st.Objects(ctx, c.Sample, false, func(o store.ObjectRow) error {
		if o.Variant != "" {
			if models[o.Run.ID] == nil {
				models[o.Run.ID] = map[string]int{}
			}
			models[o.Run.ID][o.Variant]++
		}
		if o.ValidatedBy != "" {
			d.Validated++
			reviewers[o.ValidatedBy] = true
		}
		if o.Status == store.StatusFailed {
			return nil
		}
		crops[o.Category] = keepSurest(crops[o.Category], o, 2*cropsPerExample)
		return nil
	})
	if err != nil {
		return d, err
	}
	if err := readCrops(ctx, st, crops); err != nil {
		return d, err
	}
	d.RunModels = runModels(c.Sample.Runs, models)
	labelsOf, err := bindReportRules(&d, rules, last.Pack, tx, packErr)
	if err != nil {
		return d, err
	}
	for r := range reviewers {
		d.Reviewers = append(d.Reviewers, r)
	}
	slices.Sort(d.Reviewers)
	names := map[string]string{}
	for _, x := range c.Taxa {
		names[x.Label] = x.Name
	}
	for _, l := range report.ExampleLabels(d, labelsOf, 4) {
		if len(crops[l]) > 0 {
			ex := report.Example{Label: l, Name: names[l]}
			for _, o := range crops[l] {
				ex.Crops = append(ex.Crops, o.Crop)
			}
			d.Examples = append(d.Examples, ex)
		}
	}
	return d, nil
}

// runModels says, for each run whose objects more than one model classified (the
// model was switched during the run), how many each did: the run records the model in
// use at its end alone (helper-40: "model base" for a run whose 162 of 740 objects the
// optimised model classified).
func runModels(runs []store.RunRow, models map[int64]map[string]int) map[int64]string {
	out := map[int64]string{}
	for _, r := range runs {
		m := models[r.ID]
		if len(m) < 2 {
			continue
		}
		total := 0
		for _, n := range m {
			total += n
		}
		var parts []string
		for _, v := range slices.Sorted(maps.Keys(m)) {
			parts = append(parts, fmt.Sprintf("%s %d", v, m[v]))
		}
		out[r.ID] = fmt.Sprintf("models switched during the run: %s of %d objects", strings.Join(parts, ", "), total)
	}
	return out
}

// keepSurest keeps the n objects of highest probability.
func keepSurest(kept []store.ObjectRow, o store.ObjectRow, n int) []store.ObjectRow {
	kept = append(kept, o)
	slices.SortStableFunc(kept, func(a, b store.ObjectRow) int { return cmp.Compare(b.Prob, a.Prob) })
	return kept[:min(len(kept), n)]
}

// readCrops reads the crops of the objects kept for each category and keeps the
// cropsPerExample surest that have one.
func readCrops(ctx context.Context, st *store.Store, kept map[string][]store.ObjectRow) error {
	var ids []int64
	for _, rows := range kept {
		for _, o := range rows {
			ids = append(ids, o.ID)
		}
	}
	crops, err := st.Crops(ctx, ids)
	if err != nil {
		return err
	}
	for cat, rows := range kept {
		with := rows[:0]
		for _, o := range rows {
			if o.Crop = crops[o.ID]; len(o.Crop) > 0 && len(with) < cropsPerExample {
				with = append(with, o)
			}
		}
		kept[cat] = with
	}
	return nil
}

// bindReportRules reads the rules and binds them to the pack, filling the report's
// rules, what it cannot see, and each rule's standing; it returns how a rule maps to the
// pack's labels (tx, loaded by the caller; packErr when it is not at hand, which leaves
// the trigger levels out, said so).
func bindReportRules(d *report.Data, rules, pack string, tx *screening.Taxonomy, packErr error) (func(alerts.Rule) []string, error) {
	none := func(alerts.Rule) []string { return nil }
	rs, name, err := alerts.Open(rules, assets.Presets())
	if err != nil {
		return none, err // names the rules and the fix
	}
	d.RulesName = name
	if packErr != nil {
		d.RulesName += fmt.Sprintf(" (pack %s is not at hand, so the trigger levels are not shown: %v)", pack, packErr)
		return none, nil
	}
	// The runs' alerts were raised under the rules they were screened with: they are
	// the rules' peaks only when those are the rules compared with here.
	var runRules []string
	for _, r := range d.Counts.Sample.Runs {
		if !slices.Contains(runRules, r.Rules) {
			runRules = append(runRules, r.Rules)
		}
	}
	sameRules := len(runRules) == 1 && runRules[0] == name
	if !sameRules {
		d.RunRules = strings.Join(runRules, ", ")
	}
	b := rs.BindTo(tx, tx.Pack, name)
	if len(b.Bound) == 0 {
		d.Apply = PresetsFor(tx)
	}
	labels := map[string][]string{}
	for _, s := range ruleStandings(d.Counts, b.Bound) {
		bd, m := s.Bound, s.Measure
		labels[bd.Rule.ID] = bd.Labels
		st := report.RuleStatus{Rule: bd.Rule, Value: screening.Concentration{Count: m.Count, PerL: m.PerL, Low: m.Low, High: m.High, Limit: m.Limit}, Cells: m.Cells,
			CellsUnknown: m.CellsUnknown, Guessed: m.Guessed, GuessedCells: m.GuessedCells, IfGuessed: m.IfGuessed}
		if m.Cells > 0 {
			st.Oversize, st.Uncalibrated = s.Oversize, s.Uncalibrated
		}
		st.Level = s.Level // the whole sample's level: its final figures
		for _, e := range d.Events {
			if sameRules && e.Rule == bd.Rule.ID {
				st.Peak = max(st.Peak, e.To)
			}
		}
		d.Rules = append(d.Rules, st)
	}
	for _, n := range b.Notices {
		if n.Kind == alerts.NoticeMissingTaxon && !slices.Contains(d.CannotSee, n.Taxon) {
			d.CannotSee = append(d.CannotSee, n.Taxon)
		}
	}
	return func(r alerts.Rule) []string { return labels[r.ID] }, nil
}
