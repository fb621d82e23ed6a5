package app

import (
	"cmp"
	"context"
	"fmt"
	"image"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/imagefile"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
)

// Comparison sets two stored samples side by side: their counts and concentrations per
// taxon and HAB group, what each cost on this machine, and, when they hold the same
// frames (a sample and its companion screened with the other model: S-1 and S-1~base),
// how far the two classifications agree object by object. It is the bench's own
// measure of the base model against its optimised twin on real water: what the
// optimised model saves per cell, and what it changes in the counts.
type Comparison struct {
	A, B store.Counts
	// Rows are the taxa either sample counted, and the HAB groups, most counted first.
	Rows []CompareRow
	// Energy is each sample's power record, per run and model.
	Energy [2][]store.RunEnergy
	// Levels are the alert levels above none each sample stands at under the rules its
	// last run was screened with, and Rules those rules: whether the optimised model
	// would have raised the alert the base model raises is the question that matters.
	Levels [2][]ruleLevel
	Rules  [2]string
	// LevelsErr says why a sample's levels cannot be worked out (its rules file gone,
	// its pack not at hand): then nothing is said of them, not "none".
	LevelsErr [2]error
	// Unchecked are the rules that cannot say a sample is below their levels, each with
	// why ("RULE: 24 objects of unknown cells …"), and Applied the names of the rules
	// that apply to its pack: a sample its report calls "not checked" read "none" here,
	// and "the same alert levels" set WHO rules against the default's (helper-88).
	Unchecked, Applied [2][]string
	// Review names the rules the review of the unidentified objects could raise, as the
	// report says it ("Noctiluca could reach WATCH").
	Review [2][]string
	// NoRule says that none of the sample's rules applies to its pack ("" when one does).
	NoRule [2]string
	// SameFrames: a run of A and a run of B read the same frames (capture.Spec.SharesFrames).
	SameFrames bool
	// With SameFrames: Matched objects were found at the same place of the same frame
	// in both, Agree of them were counted as the same taxon (or both unidentified);
	// OnlyA and OnlyB found in one sample alone (a threshold or finder that differs).
	Matched, Agree, OnlyA, OnlyB int
	// Differ lists the pairs of categories the matched objects were counted as where
	// the samples disagree, most frequent first.
	Differ []CategoryPair
}

// CompareRow is a taxon or HAB group in both samples (a zero count where one has none).
type CompareRow struct {
	Label, Name, Unit string
	Group             bool // a HAB group's row
	A, B              store.TaxonCount
	// UnseenA and UnseenB say that a sample's packs cannot name the row (LooksFor): its
	// count of 0 says nothing (helper-88: Cyanobacteria 18,620,000 beside 0, "0.00",
	// from a pack with no cyanobacteria).
	UnseenA, UnseenB bool
}

// LooksFor reports whether the packs of a sample's runs can name key (a taxon's label,
// or "group:ID" for a HAB group): outside them the sample's count of 0 says nothing,
// the taxon was not looked for. History's trend leaves such samples out; the
// comparison writes "not looked for".
func LooksFor(c store.Counts, key string) bool {
	if g, ok := strings.CutPrefix(key, "group:"); ok {
		return slices.ContainsFunc(c.Groups, func(t store.TaxonCount) bool { return t.Label == g })
	}
	return c.Known[key] || slices.ContainsFunc(c.Taxa, func(t store.TaxonCount) bool { return t.Label == key })
}

// CategoryPair is how many matched objects A counted as one category and B as another.
type CategoryPair struct {
	A, B string // display names
	N    int
}

// SamplesSharingFrames lists the samples other than id, not in the trash, that hold a
// run of frames one of id's runs read (store.RunsSharing), in the order of their runs:
// those CompareSamples sets side by side object by object, the same water.
func SamplesSharingFrames(ctx context.Context, st *store.Store, id string) ([]string, error) {
	si, err := st.Sample(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("samples of the frames of %s: %w", id, err)
	}
	var out []string
	for _, r := range si.Runs {
		spec, err := capture.ParseSpec(r.Spec)
		if err != nil {
			continue // a run whose source no longer parses names no frames to share
		}
		refs, err := st.RunsSharing(ctx, spec, id)
		if err != nil {
			return nil, fmt.Errorf("samples of the frames of %s: %w", id, err)
		}
		for _, ref := range refs {
			if !slices.Contains(out, ref.Sample) {
				out = append(out, ref.Sample)
			}
		}
	}
	return out, nil
}

// CompareSamples reads samples a and b from the store and sets them side by side.
func CompareSamples(ctx context.Context, st *store.Store, a, b string) (Comparison, error) {
	var c Comparison
	if a == b {
		return c, fmt.Errorf("compare %s with %s: choose two different samples", a, b)
	}
	var err error
	if c.A, _, _, err = SampleCounts(ctx, st, a); err != nil {
		return c, err
	}
	if c.B, _, _, err = SampleCounts(ctx, st, b); err != nil {
		return c, err
	}
	for i, id := range []string{a, b} {
		if c.Energy[i], err = st.Energy(ctx, id); err != nil {
			return c, err
		}
	}
	for i, counts := range []store.Counts{c.A, c.B} {
		if runs := counts.Sample.Runs; len(runs) > 0 {
			c.Rules[i] = runs[len(runs)-1].Rules
			ss, name, tx, err := sampleStandings(ctx, st, counts.Sample.ID, c.Rules[i])
			if err != nil {
				c.LevelsErr[i] = err
				continue
			}
			c.Levels[i] = levelsAboveNone(ss)
			if len(ss) == 0 {
				c.NoRule[i] = noRuleApplies(name, tx.Pack)
			}
			for _, s := range ss {
				c.Applied[i] = append(c.Applied[i], s.Bound.Rule.Name())
				if to := s.state().ReviewTo; to != alerts.None {
					c.Review[i] = append(c.Review[i], fmt.Sprintf("%s could reach %s", s.Bound.Rule.Name(), strings.ToUpper(to.String())))
				}
				if s.unchecked() {
					c.Unchecked[i] = append(c.Unchecked[i], s.Bound.Rule.Name()+": "+s.state().UncheckedWhy(perLitre))
				}
			}
		}
	}
	c.Rows = compareRows(c.A, c.B)
	c.SameFrames = sharesFrames(c.A.Sample.Runs, c.B.Sample.Runs)
	if c.SameFrames {
		if err := c.matchObjects(ctx, st); err != nil {
			return c, err
		}
	}
	return c, nil
}

// compareRows joins the two samples' taxa, then their HAB groups, by label.
func compareRows(a, b store.Counts) []CompareRow {
	join := func(xa, xb []store.TaxonCount, group bool) []CompareRow {
		byLabel := map[string]*CompareRow{}
		var out []*CompareRow
		for side, xs := range [][]store.TaxonCount{xa, xb} {
			for _, x := range xs {
				r := byLabel[x.Label]
				if r == nil {
					r = &CompareRow{Label: x.Label, Name: x.Name, Unit: x.Unit, Group: group}
					byLabel[x.Label] = r
					out = append(out, r)
				}
				if side == 0 {
					r.A = x
				} else {
					r.B = x
				}
			}
		}
		for _, r := range out {
			key := r.Label
			if group {
				key = "group:" + r.Label
			}
			r.UnseenA, r.UnseenB = !LooksFor(a, key), !LooksFor(b, key)
		}
		slices.SortStableFunc(out, func(p, q *CompareRow) int {
			return cmp.Or(cmp.Compare(max(q.A.Count, q.B.Count), max(p.A.Count, p.B.Count)), strings.Compare(p.Name, q.Name))
		})
		rows := make([]CompareRow, len(out))
		for i, r := range out {
			rows[i] = *r
		}
		return rows
	}
	return append(join(a.Taxa, b.Taxa, false), join(a.Groups, b.Groups, true)...)
}

// sharesFrames reports whether a run of one list read frames a run of the other did.
func sharesFrames(a, b []store.RunRow) bool {
	for _, ra := range a {
		sa, err := capture.ParseSpec(ra.Spec)
		if err != nil {
			continue
		}
		for _, rb := range b {
			if sb, err := capture.ParseSpec(rb.Spec); err == nil && sa.SharesFrames(sb) {
				return true
			}
		}
	}
	return false
}

// objectPlace is where an object was found: its frame (an image file, by name, since
// a copy of the folder elsewhere holds the same frames; or a video's frame by index)
// and its box.
type objectPlace struct {
	file  string
	frame int
	box   image.Rectangle
}

func placeOf(o store.ObjectRow) objectPlace {
	p := objectPlace{file: filepath.Base(o.File), box: o.Box}
	if !imagefile.IsImageName(o.File) {
		p.frame = o.Frame // a video's (or a camera's) frames are told apart by index
		return p
	}
	// Within its folder: subfolders may hold files of one name (img_0001.png in each).
	if spec, err := capture.ParseSpec(o.Run.Spec); err == nil && (spec.Kind == capture.KindFolder || spec.Kind == capture.KindCells) {
		if rel, err := filepath.Rel(spec.Path, o.File); err == nil && !strings.HasPrefix(rel, "..") {
			p.file = rel
		}
	}
	return p
}

// matchObjects pairs the objects of A and B found at the same place and counts how
// many were counted alike.
func (c *Comparison) matchObjects(ctx context.Context, st *store.Store) error {
	inA := map[objectPlace][]string{} // the categories of A's objects at a place
	err := st.Objects(ctx, c.A.Sample, false, func(o store.ObjectRow) error {
		if o.Status != store.StatusFailed {
			inA[placeOf(o)] = append(inA[placeOf(o)], categoryName(o))
		}
		return nil
	})
	if err != nil {
		return err
	}
	pairs := map[[2]string]int{}
	err = st.Objects(ctx, c.B.Sample, false, func(o store.ObjectRow) error {
		if o.Status == store.StatusFailed {
			return nil
		}
		p := placeOf(o)
		cats := inA[p]
		if len(cats) == 0 {
			c.OnlyB++
			return nil
		}
		inA[p] = cats[1:]
		c.Matched++
		if b := categoryName(o); cats[0] == b {
			c.Agree++
		} else {
			pairs[[2]string{cats[0], b}]++
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, cats := range inA {
		c.OnlyA += len(cats)
	}
	for p, n := range pairs {
		c.Differ = append(c.Differ, CategoryPair{A: p[0], B: p[1], N: n})
	}
	slices.SortFunc(c.Differ, func(p, q CategoryPair) int {
		return cmp.Or(cmp.Compare(q.N, p.N), strings.Compare(p.A, q.A), strings.Compare(p.B, q.B))
	})
	return nil
}

// categoryName is what an object was counted as, for people.
func categoryName(o store.ObjectRow) string {
	if o.Name == "" { // a label its pack no longer names
		return o.Category
	}
	return o.Name
}

// Text writes the comparison as a plain table for a terminal or a monospaced view.
func (c Comparison) Text() string {
	var b strings.Builder
	sa, sb := c.A.Sample, c.B.Sample
	fmt.Fprintf(&b, "A: %s\nB: %s\n\n", describeForCompare(c.A), describeForCompare(c.B))
	w := tabwriter.NewWriter(&b, 2, 8, 2, ' ', 0)
	// Colonies, filaments and chains count once in "per L", while the alert levels
	// compare the cells estimated in them: then each side's cells per litre are shown
	// too, and B / A is theirs (helper-81: "0.17" in objects beside 0.04 in cells, and
	// Microcystis "1.00" beside 160,000 against 280,000 cells/L).
	inCells := slices.ContainsFunc(c.Rows, func(r CompareRow) bool { return r.A.Cells > float64(r.A.Count) || r.B.Cells > float64(r.B.Count) })
	cellsPerL := func(t store.TaxonCount) float64 { return screening.RuleMeasure(t.Concentration, t.Cells).PerL }
	cols := 7
	if inCells {
		cols = 9
		fmt.Fprintf(w, "%s\tunit\tA count\tA per L\tA cells/L\tB count\tB per L\tB cells/L\tB / A (cells)\t\n", "taxon")
	} else {
		fmt.Fprintf(w, "%s\tunit\tA count\tA per L\tB count\tB per L\tB / A\t\n", "taxon")
	}
	// A side whose pack cannot name the row: no count, no concentration, no ratio (a 0
	// from a pack without the taxon read as a sample that had none, helper-88).
	side := func(t store.TaxonCount, unseen bool) []string {
		seen := !unseen
		out := []string{notLookedFor, "–"}
		if seen {
			out = []string{fmt.Sprint(t.Count), perLitre(t.PerL)}
		}
		switch {
		case inCells && seen && t.CellsUnknown > 0:
			out = append(out, lowerBoundMark+perLitre(cellsPerL(t)))
		case inCells && seen:
			out = append(out, perLitre(cellsPerL(t)))
		case inCells:
			out = append(out, "–")
		}
		return out
	}
	group, lowerBounds := false, false
	for _, r := range c.Rows {
		if r.Group && !group {
			// As many cells as the header: a shorter line split the table's columns
			// under it (the groups' last columns drawn out of line).
			fmt.Fprintf(w, "HAB groups%s\n", strings.Repeat("\t", cols))
			group = true
		}
		a, bb := r.A.PerL, r.B.PerL
		if inCells {
			a, bb = cellsPerL(r.A), cellsPerL(r.B)
		}
		ratio := "–"
		if !r.UnseenA && !r.UnseenB {
			ratio = ratioText(a, bb)
		}
		// A side's cells known only as a lower bound bound the ratio one way: RI-2's
		// 240,000 cells/L (24 filaments of unknown cells) against RI-1's 18.6 M read as an
		// exact 0.013 (helper-93).
		lowA, lowB := inCells && !r.UnseenA && r.A.CellsUnknown > 0, inCells && !r.UnseenB && r.B.CellsUnknown > 0
		lowerBounds = lowerBounds || lowA || lowB
		switch {
		case ratio == "–":
		case lowA && lowB:
			ratio = "–"
		case lowA:
			ratio = "≤" + ratio
		case lowB:
			ratio = "≥" + ratio
		}
		unit := r.Unit
		if unit == "" {
			unit = "–"
		}
		cells := slices.Concat([]string{r.Name, unit}, side(r.A, r.UnseenA), side(r.B, r.UnseenB), []string{ratio})
		fmt.Fprintf(w, "%s\t\n", strings.Join(cells, "\t"))
	}
	if inCells {
		fmt.Fprintf(w, "Unidentified\tcell\t%d\t%s\t\t%d\t%s\t\t\t\n", c.A.Unidentified.Count, perLitre(c.A.Unidentified.PerL), c.B.Unidentified.Count, perLitre(c.B.Unidentified.PerL))
	} else {
		fmt.Fprintf(w, "Unidentified\tcell\t%d\t%s\t%d\t%s\t\t\n", c.A.Unidentified.Count, perLitre(c.A.Unidentified.PerL), c.B.Unidentified.Count, perLitre(c.B.Unidentified.PerL))
	}
	w.Flush()
	b.WriteString("\n")
	if lowerBounds {
		fmt.Fprintf(&b, "%s: a lower bound, colonies, filaments or chains of unknown cells (single-cell images: no size) counted one cell each; a ratio with it is a bound too, none when both are.\n\n", lowerBoundMark)
	}
	if pa, pb := packsOf(c.A), packsOf(c.B); !slices.Equal(pa, pb) {
		fmt.Fprintf(&b, "Counted by different packs: A by %s, B by %s. %q marks a taxon or group the side's pack cannot name: no count of none, and no ratio.\n\n",
			packList(pa), packList(pb), notLookedFor)
	}
	if c.SameFrames {
		fmt.Fprintf(&b, "Same frames: %d objects found at the same place in both", c.Matched)
		if c.Matched > 0 {
			fmt.Fprintf(&b, ", %d (%.1f%%) counted alike", c.Agree, 100*float64(c.Agree)/float64(c.Matched))
		}
		fmt.Fprintf(&b, "; %d in A alone, %d in B alone.\n", c.OnlyA, c.OnlyB)
		for i, p := range c.Differ {
			if i == 8 {
				fmt.Fprintf(&b, "  ... and %d more pairs\n", len(c.Differ)-i)
				break
			}
			fmt.Fprintf(&b, "  %d counted as %s in A, %s in B\n", p.N, p.A, p.B)
		}
	} else {
		fmt.Fprintf(&b, "Different frames: %s and %s are compared by their counts alone.\n", sa.ID, sb.ID)
	}
	b.WriteString("\nAlert levels, each under the rules it was screened with:\n")
	for i, side := range []string{"A", "B"} {
		rules := c.Rules[i]
		if rules == "" {
			rules = "rules not recorded"
		}
		fmt.Fprintf(&b, "  %s (%s): %s\n", side, rules, c.levelText(i))
	}
	sameRules := c.Rules[0] == c.Rules[1] && slices.Equal(sortedCopy(c.Applied[0]), sortedCopy(c.Applied[1]))
	switch {
	case c.LevelsErr[0] != nil || c.LevelsErr[1] != nil: // nothing to say of the two together
	case !sameRules || len(c.Applied[0]) == 0:
		// WHO rules against the default's, or one preset bound to two packs that give it
		// different rules: neither the same levels nor levels that differ (helper-88:
		// "The same alert levels" of a sample not checked beside one below them).
		fmt.Fprintf(&b, "  Screened with different rules (A: %s; B: %s): read each under its own rules.\n", c.rulesText(0), c.rulesText(1))
	case sameLevels(c.Levels[0], c.Levels[1]) && slices.Equal(sortedCopy(ruleNames(c.Unchecked[0])), sortedCopy(ruleNames(c.Unchecked[1]))):
		if len(c.Unchecked[0]) > 0 {
			b.WriteString("  The same alert levels, and the same rules not checked in both.\n")
		} else {
			b.WriteString("  The same alert levels.\n")
		}
	default:
		b.WriteString("  The alert levels differ: look at the sample before acting on either.\n")
	}
	ea, eb := energyText(c.Energy[0]), energyText(c.Energy[1])
	fmt.Fprintf(&b, "\nCost on this machine (the whole app's, reading, segmenting and classifying, as recorded during the runs):\n  A: %s\n  B: %s\n", ea.text, eb.text)
	switch {
	case ea.perCell <= 0 || eb.perCell <= 0:
	case ea.covered < minCompareRecord || eb.covered < minCompareRecord:
		// helper-84 read "B used 1.16× A's energy per cell" from runs of half a second,
		// the optimised model costlier than the base, where the models measured alone
		// gave it 55% less; the same folder screened twice read 0.168 and 0.125 J/cell.
		fmt.Fprintf(&b, "  Not set side by side: the records cover %s and %s, under %s each, and over so short a time\n"+
			"  a run's energy per cell swings by tens of percent with what else the machine does.\n"+
			"  The models' own cost, measured alone on crops in memory: phytoscreen bench --pack %s,\n"+
			"  or the app's Settings › Measure on this machine.\n",
			roundDuration(ea.covered), roundDuration(eb.covered), minCompareRecord, c.packOf(0))
	default:
		fmt.Fprintf(&b, "  B used %.2f× A's energy per cell, the whole app's;\n  the models' own cost, measured alone: phytoscreen bench --pack %s.\n", eb.perCell/ea.perCell, c.packOf(0))
	}
	return b.String()
}

// notLookedFor stands for the count of a taxon or group a side's pack cannot name.
const notLookedFor = "not looked for"

// levelText is where side i stands as its own report says it: the levels raised, and
// the rules not checked with why ("none" only when every rule is checked and below).
func (c Comparison) levelText(i int) string {
	if err := c.LevelsErr[i]; err != nil {
		return "cannot be worked out: " + firstLineOf(err.Error())
	}
	if c.NoRule[i] != "" {
		return "not checked: " + c.NoRule[i]
	}
	var ls []string
	for _, l := range c.Levels[i] {
		ls = append(ls, l.String())
	}
	if len(c.Unchecked[i]) > 0 {
		ls = append(ls, "not checked: "+strings.Join(c.Unchecked[i], "; "))
	}
	if len(ls) == 0 {
		ls = []string{"none"}
	}
	if len(c.Review[i]) > 0 {
		// Below a level only because the objects that would reach it wait for review.
		ls = append(ls, "review decides: "+strings.Join(c.Review[i], ", "))
	}
	return strings.Join(ls, "; ")
}

// rulesText names side i's rules and the pack they were bound to.
func (c Comparison) rulesText(i int) string {
	rules := c.Rules[i]
	if rules == "" {
		rules = "rules not recorded"
	}
	return rules + " on pack " + c.packOf(i)
}

// ruleNames is the rule of each "RULE: why" of Unchecked.
func ruleNames(unchecked []string) []string {
	out := make([]string, len(unchecked))
	for i, u := range unchecked {
		out[i], _, _ = strings.Cut(u, ": ")
	}
	return out
}

func sortedCopy(xs []string) []string {
	out := slices.Clone(xs)
	slices.Sort(out)
	return out
}

// packsOf is the packs of a sample's runs, sorted.
func packsOf(c store.Counts) []string {
	var out []string
	for _, r := range c.Sample.Runs {
		if !slices.Contains(out, r.Pack) {
			out = append(out, r.Pack)
		}
	}
	slices.Sort(out)
	return out
}

// packList names packs for a sentence: "pack P" or "packs P and Q".
func packList(packs []string) string {
	switch len(packs) {
	case 0:
		return "no pack recorded"
	case 1:
		return "pack " + packs[0]
	}
	return "packs " + strings.Join(packs[:len(packs)-1], ", ") + " and " + packs[len(packs)-1]
}

// lowerBoundMark marks cells per litre known only as a lower bound, as History's chart
// marks them.
const lowerBoundMark = "≥"

// ratioText is b / a to two significant figures ("0.0040", "1.5", "14"; a ratio of
// 100 or more whole); "–" when a is none. "%.2f" gave 0.00 for 6,000 against 1,510,000 cells/L (helper-88).
func ratioText(a, b float64) string {
	if a <= 0 {
		return "–"
	}
	r := b / a
	if r == 0 {
		return "0"
	}
	// Two significant figures, as a ratio of counts can bear (13.98 read as more than
	// its counts know; helper-93), more under 0.1 where two decimals say nothing; none
	// dropped from the whole number of a ratio of 100 or more.
	decimals := max(0, 1-int(math.Floor(math.Log10(r))))
	return fmt.Sprintf("%.*f", decimals, r)
}

// minCompareRecord is the least time each sample's power record must cover for the two
// energies per cell to be set side by side as a ratio.
const minCompareRecord = 30 * time.Second

// roundDuration writes d to a tenth of a second under a minute, else to the second.
func roundDuration(d time.Duration) time.Duration {
	if d < time.Minute {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}

// packOf is the pack of side i's last run ("PACK" when it has none).
func (c Comparison) packOf(i int) string {
	if runs := [2]store.Counts{c.A, c.B}[i].Sample.Runs; len(runs) > 0 && runs[len(runs)-1].Pack != "" {
		return runs[len(runs)-1].Pack
	}
	return "PACK"
}

// firstLineOf is s up to its first line break.
func firstLineOf(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// sameLevels reports whether two samples stand at the same level of the same rules.
func sameLevels(a, b []ruleLevel) bool {
	key := func(ls []ruleLevel) []string {
		var out []string
		for _, l := range ls {
			out = append(out, l.Level.String()+" "+l.Rule)
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(key(a), key(b))
}

// describeForCompare names a sample with what its counts depend on.
func describeForCompare(c store.Counts) string {
	si := c.Sample
	var runs []string
	for _, r := range si.Runs {
		runs = append(runs, fmt.Sprintf("pack %s, model %s, threshold %g", r.Pack, r.Model, r.Threshold))
	}
	slices.Sort(runs)
	runs = slices.Compact(runs)
	site := ""
	if si.Site != "" {
		site = ", " + si.Site
	}
	// The factor beside the volume: "10 mL examined" beside 270 cells/L read as a
	// reading error where the sample had been concentrated tenfold (helper-67).
	factor := ""
	if si.Factor != 1 {
		factor = fmt.Sprintf(" (factor %g)", si.Factor)
	}
	return fmt.Sprintf("sample %s%s, taken %s, %s mL examined%s; %s", si.ID, site, si.Taken.Local().Format("2006-01-02 15:04 MST"),
		strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.4f", si.VolumeML), "0"), "."), factor, strings.Join(runs, "; "))
}

// energyText sums a sample's power record: joules per cell and cells per second over
// the time the record covers.
type energySum struct {
	text    string
	perCell float64       // J per cell, 0 when not recorded
	covered time.Duration // the time the record covers
}

func energyText(runs []store.RunEnergy) energySum {
	var cells int
	var joules float64
	var ms float64
	estimated := false
	for _, r := range runs {
		cells += r.Cells
		joules += r.Joules
		ms += float64(r.Measured.Milliseconds())
		estimated = estimated || r.Estimated
	}
	if cells == 0 {
		return energySum{text: "no power record"}
	}
	s := energySum{perCell: joules / float64(cells), covered: time.Duration(ms) * time.Millisecond}
	s.text = fmt.Sprintf("%.3g J/cell over %d cells", s.perCell, cells)
	if ms > 0 {
		s.text += fmt.Sprintf(", %.3g cells/s over %s", float64(cells)/(ms/1000), roundDuration(s.covered))
	}
	if estimated {
		s.text += " (estimated from CPU time)"
	}
	return s
}

// perLitre writes a concentration for the table, in thousands as the other views do.
func perLitre(v float64) string {
	return message.NewPrinter(language.English).Sprintf("%.0f", v)
}
