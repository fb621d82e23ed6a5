package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
)

// ObjectCells gives the cells in a stored object under the taxonomy tx: the estimate it
// was stored with, taken again through the rule of the taxon it counts as now, since a
// reviewer may have moved it (one cell for a taxon counted in cells, the colony rule for
// a colony). Without tx (the pack is not at hand), the stored estimate.
func ObjectCells(tx *screening.Taxonomy) func(store.ObjectRow) float64 {
	return func(o store.ObjectRow) float64 {
		n := store.StoredCells(o)
		if tx != nil {
			if x, ok := tx.Lookup(o.Category); ok {
				// Its cores count as the shape's guess, as screening.ShapeCells counts
				// them live: an object moved from a taxon counted in cells was stored
				// at one cell.
				n = x.Cells(screening.ShapeCells(n, o.Parts), o.Length*o.UmPerPx, o.AreaUm2)
			}
		}
		return n
	}
}

// SampleCounts is a stored sample's counts with the cells in its objects as the pack of
// its last run estimates them (ObjectCells), so that History, the PDF report and the
// live run measure alert rules alike. It also returns that pack's taxonomy, and packErr
// when the pack is not at hand (the stored estimates are used then).
func SampleCounts(ctx context.Context, st *store.Store, sampleID string) (c store.Counts, tx *screening.Taxonomy, packErr, err error) {
	si, err := st.Sample(ctx, sampleID)
	if err != nil {
		return c, nil, nil, err
	}
	if len(si.Runs) > 0 {
		tx, packErr = packTaxonomy(si.Runs[len(si.Runs)-1].Pack)
	}
	c, err = st.CountsCells(ctx, sampleID, ObjectCells(tx))
	return c, tx, packErr, err
}

// packTaxonomy loads the taxonomy of a pack (a built-in name or a folder).
func packTaxonomy(pack string) (*screening.Taxonomy, error) {
	p, err := LoadPack(pack)
	if err != nil {
		return nil, err
	}
	tx, err := screening.ForPack(p)
	if err != nil {
		return nil, fmt.Errorf("pack %s: %w", pack, err)
	}
	return tx, nil
}

// ExportSample writes a stored sample's export in format to path (or to w when w is not
// nil), the cells in its objects as SampleCounts estimates them: the counts CSV and the
// objects CSV agree with History and the PDF report on an object a reviewer moved to
// another taxon (helper-62: 1 cell in the export, 41 in History). The counts CSV ends
// with the standing of each alert rule of the sample's last run (its rules bound to its
// pack, as the report's trigger levels). Without the sample's pack at hand, the stored
// estimates are written and the rules left out, as they are when the rules cannot be
// read again (a rules file since moved): both logged. A run that recorded no rules
// (stores before they were kept) has none to write.
func ExportSample(ctx context.Context, st *store.Store, sampleID, format, path string, w io.Writer) error {
	si, err := st.Sample(ctx, sampleID)
	if err != nil {
		return err
	}
	var opt store.ExportOptions
	if len(si.Runs) > 0 {
		last := si.Runs[len(si.Runs)-1]
		if tx, err := packTaxonomy(last.Pack); err != nil {
			slog.Warn("export without the pack: stored cell estimates, no alert rules", "sample", sampleID, "pack", last.Pack, "err", err)
		} else {
			opt.Cells = ObjectCells(tx)
			if format == store.FormatCounts && last.Rules != "" { // the one export that writes the rules, when they were recorded
				if opt.Rules, err = exportRules(last.Rules, tx); err != nil {
					slog.Warn("export without the alert rules' levels", "sample", sampleID, "rules", last.Rules, "err", err)
				}
			}
		}
	}
	if w != nil {
		return st.ExportTo(ctx, sampleID, format, w, opt)
	}
	return st.ExportWith(ctx, sampleID, format, path, opt)
}

// exportRules is the standing of each rule of rules (as the store keeps them), bound to
// the taxonomy of the sample's last run's pack, on the counts the export writes.
func exportRules(rules string, tx *screening.Taxonomy) (func(store.Counts) []store.RuleRow, error) {
	bound, name, err := storedRulesBound(rules, tx)
	if err != nil {
		return nil, err
	}
	return func(c store.Counts) []store.RuleRow { return ruleRows(ruleStandings(c, bound), name, tx) }, nil
}

// PackCells counts the cells in an object of any stored run as that run's pack
// estimates them (ObjectCells), each pack's taxonomy loaded once; an object of a pack not
// at hand keeps its stored estimate. Store.SetCellsOf takes it, so the tallies pushed to
// the lab server agree with History.
func PackCells() func(store.ObjectRow) float64 {
	var mu sync.Mutex
	byPack := map[string]func(store.ObjectRow) float64{}
	return func(o store.ObjectRow) float64 {
		mu.Lock()
		f, ok := byPack[o.Run.Pack]
		if !ok {
			tx, err := packTaxonomy(o.Run.Pack)
			if err != nil {
				tx = nil // ObjectCells(nil): the stored estimate
			}
			f = ObjectCells(tx)
			byPack[o.Run.Pack] = f
		}
		mu.Unlock()
		return f(o)
	}
}

// SampleTaxonomy is the taxonomy of the pack of a stored sample's last run: the names and
// labels its objects were classified with, whichever pack the app runs now. nil, with no
// error, for a sample without runs; packErr when the pack is not at hand.
func SampleTaxonomy(ctx context.Context, st *store.Store, sampleID string) (tx *screening.Taxonomy, packErr, err error) {
	si, err := st.Sample(ctx, sampleID)
	if err != nil || len(si.Runs) == 0 {
		return nil, nil, err
	}
	tx, packErr = packTaxonomy(si.Runs[len(si.Runs)-1].Pack)
	return tx, packErr, nil
}
