package app

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/quantise"
	"github.com/phytoscreen/phytoscreen/store"
)

// PacksDir is where packs made on this machine (optimised twins, taught packs) go by
// default: beside the session store, in packs/.
func PacksDir() (string, error) {
	db, err := store.DefaultPath()
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(db), "packs"), nil
}

// OptimiseRequest is what the app asks of pack optimise: the same as the command's flags,
// with the command's defaults.
type OptimiseRequest struct {
	Calibration string          // folder of calibration images; empty: the pack's bundled sample
	Method      quantise.Method // zero: percentile 99.999
	Out         string          // the new pack folder
	Threads     int             // ONNX Runtime threads (0: all cores)
}

// DefaultOptimiseOut names a new folder under PacksDir for the twin of pack p ("" when
// there is no data folder: the user then chooses one).
func DefaultOptimiseOut(p *inference.Pack, m quantise.Method, now time.Time) string {
	dir, err := PacksDir()
	if err != nil {
		return ""
	}
	if m.Name == "" {
		m = quantise.Method{Name: "percentile", Percentile: quantise.DefaultPercentile}
	}
	return filepath.Join(dir, fmt.Sprintf("%s-int8-%s-%s", p.Name, m.Name, now.Format("20060102-1504")))
}

// OptimisePack makes the int8 twin of pack p as `phytoscreen pack optimise` does, and
// measures it (agreement and speed; accuracy needs a labelled list, which the app does
// not ask for). Cancelling ctx stops it and leaves no half-written pack.
func OptimisePack(ctx context.Context, p *inference.Pack, r OptimiseRequest, progress func(stage string, done, total int)) (*quantise.Report, error) {
	cfs, cname, err := quantise.CalibrationSource(p, r.Calibration)
	if err != nil {
		return nil, err
	}
	if r.Method.Name == "" {
		r.Method = quantise.Method{Name: "percentile", Percentile: quantise.DefaultPercentile}
	}
	return quantise.Optimise(ctx, quantise.Options{Pack: p, Calibration: cfs, CalibrationName: cname,
		Method: r.Method, CompareMethods: true, Out: r.Out, Threads: r.Threads}, progress)
}
