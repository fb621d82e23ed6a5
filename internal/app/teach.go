package app

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/store"
	"github.com/phytoscreen/phytoscreen/teach"
)

// BestPack asks TeachReviewed to choose the installed pack whose embedding transfers
// best to the reviewed crops.
const BestPack = ""

// TeachRequest is what the technician asks of a teaching.
type TeachRequest struct {
	// Pack is the pack to teach: a built-in name or a folder, or BestPack.
	Pack string
	// LeaveOutFew leaves out the taxa with fewer crops than teaching needs, rather than
	// refuse (teach.Options.LeaveOutFew).
	LeaveOutFew bool
}

// TeachResult is a teaching of the reviewed crops, done and not yet saved: what the app
// shows before the technician decides to keep it.
type TeachResult struct {
	Pack      string           // the pack taught
	Transfers []teach.Transfer // the packs compared when the pack was chosen (best first)
	Skipped   []string         // why the packs left out of the choice could not be taught
	New       []string         // the new taxa
	Crops     int              // reviewed crops taught
	// AsScreened is how many of the reviewed crops the pack they were screened with named
	// as the reviewer did (the old label equals the validated one).
	AsScreened int
	Report     teach.Report
	// Save writes the taught pack to a new folder.
	Save func(dir string) (*inference.Pack, error)
}

// TeachReviewed teaches a pack the validated crops of the session store: the pack named
// (a built-in name or folder), or with BestPack the installed pack with a features
// output whose embedding separates the crops best (cross-validated). Embeddings are
// cached in the same store, so teaching again is faster.
func TeachReviewed(ctx context.Context, st *store.Store, req TeachRequest, threads int, progress func(teach.Progress)) (*TeachResult, error) {
	pack := req.Pack
	examples, err := teach.FromStore(ctx, st)
	if err != nil {
		return nil, err
	}
	var packs []*inference.Pack
	if pack != BestPack {
		p, err := LoadPack(pack)
		if err != nil {
			return nil, err
		}
		if err := teach.CheckPack(p); err != nil {
			return nil, err
		}
		packs = []*inference.Pack{p}
	} else if packs, err = teach.Installed(); err != nil {
		return nil, err
	}
	opt := teach.Options{Threads: threads, Cache: st, LeaveOutFew: req.LeaveOutFew}
	res := &TeachResult{Crops: len(examples)}
	if pack == BestPack {
		if packs, res.Skipped, err = teachableOf(packs, examples, opt); err != nil {
			return nil, err
		}
	}
	for _, ex := range examples {
		if ex.OldLabel != "" && ex.OldLabel == ex.Label {
			res.AsScreened++
		}
	}
	p := packs[0]
	if len(packs) > 1 {
		if res.Transfers, err = teach.ChoosePack(ctx, packs, examples, opt, progress); err != nil {
			return nil, err
		}
		p = res.Transfers[0].Pack
	}
	t, err := teach.Teach(ctx, p, examples, opt, progress)
	if err != nil {
		return nil, err
	}
	res.Pack, res.New, res.Report, res.Save = p.Name, t.New, t.Report, t.Save
	return res, nil
}

// teachableOf keeps the packs that can be taught the examples, with why each other
// cannot. Only those are compared for BestPack: the best embedding of a pack that then
// refuses the crops (no reference sample of its own taxa) chose a pack the dialog could
// not teach (helper-40).
func teachableOf(packs []*inference.Pack, examples []teach.Example, opt teach.Options) ([]*inference.Pack, []string, error) {
	var can []*inference.Pack
	var skipped []string
	var why error
	for _, p := range packs {
		if _, _, err := teach.Teachable(p, examples, opt); err != nil {
			// Named: a label one pack knows is new to another, so the packs' reasons
			// differ, and unnamed they read as one contradictory list (helper-62).
			err = fmt.Errorf("pack %s: %w", p.Name, err)
			skipped = append(skipped, err.Error())
			why = errors.Join(why, err)
			continue
		}
		can = append(can, p)
	}
	if len(can) == 0 {
		return nil, skipped, fmt.Errorf("no built-in pack can be taught these crops: %w", why)
	}
	return can, skipped, nil
}

// DefaultTaughtOut names a new folder under PacksDir for a pack taught now ("" when
// there is no data folder).
func DefaultTaughtOut(pack string, now time.Time) string {
	dir, err := PacksDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, fmt.Sprintf("%s-taught-%s", pack, now.Format("20060102-1504")))
}

// teachablePacks names the installed packs that can be taught (a features output).
func teachablePacks() []string {
	packs, err := teach.Installed()
	if err != nil {
		return nil
	}
	names := make([]string, len(packs))
	for i, p := range packs {
		names[i] = p.Name
	}
	return names
}
