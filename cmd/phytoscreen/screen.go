package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/internal/sigfig"
	"github.com/phytoscreen/phytoscreen/store"
	"github.com/phytoscreen/phytoscreen/vision"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/imagefile"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/power"
	"github.com/phytoscreen/phytoscreen/screening"
)

// screenFlags are the screen command's settings.
type screenFlags struct {
	model       modelFlags
	source      string
	sample      string
	site        string
	taken       string
	notes       string
	volumeML    float64
	factor      float64
	lat, lon    string
	threshold   float64
	rules       string
	db          string
	format      string
	calibration float64
	mode        string
	baseline    time.Duration
	keepApart   bool
	detector    string
	depth       string
	analyst     string
	cont        string // --continue: the sample whose stopped run is taken up
}

func (f *screenFlags) register(fs *flag.FlagSet) {
	f.model.register(fs)
	fs.StringVar(&f.source, "source", "", "what to screen: camera:0, camera:/dev/video2, a video file, a folder of microscope frames (each searched for cells), cells:DIR (a folder of single-cell images, each classified whole as one cell, as the app's Open folder offers) or an image (required)")
	fs.StringVar(&f.sample, "sample", "", "sample `ID` (default: SITE-YYYYMMDD-HHMMSS)")
	fs.StringVar(&f.site, "site", "", "sampling site `name`")
	fs.StringVar(&f.taken, "taken", "", "when the sample was taken: `TIME` as 2025-06-03T09:30, 2025-06-03 09:30 or RFC 3339 (default: now)")
	fs.StringVar(&f.notes, "notes", "", "free `text` stored with the sample")
	floatVar(fs, &f.volumeML, "volume-ml", 1, minVolumeML, maxVolumeML, "a volume in mL", "volume of liquid examined, `mL` (1 for a full Sedgewick-Rafter chamber)")
	floatVar(fs, &f.factor, "factor", 1, minFactor, maxFactor, "a dilution or concentration factor", "dilution factor (10 for 1+9), or 1/concentration factor (0.1 when 1 L was settled to 100 mL)")
	fs.StringVar(&f.lat, "lat", "", "site latitude, decimal `degrees`")
	fs.StringVar(&f.lon, "lon", "", "site longitude, decimal `degrees`")
	fs.StringVar(&f.depth, "depth", "", "sampling depth, `metres` below the surface")
	fs.StringVar(&f.analyst, "analyst", "", "who prepared and screened the sample (`name`)")
	floatVar(fs, &f.threshold, "threshold", 0.5, 0, 1, "a probability", "confidence threshold: cells whose top probability is below it count as unidentified and wait for review")
	fs.DurationVar(&f.baseline, "baseline", time.Second, "measure the machine's idle power for this long before the run, so the marginal energy per cell can be shown (0: skip)")
	fs.StringVar(&f.rules, "rules", assets.DefaultPreset, "alert rules: a TOML `FILE` or a preset ("+strings.Join(assets.PresetNames(), ", ")+")")
	fs.StringVar(&f.db, "db", "", "session store `FILE` (default: $XDG_DATA_HOME/phytoscreen/sessions.db)")
	fs.StringVar(&f.format, "format", "text", "final summary format: text or json")
	floatVar(fs, &f.calibration, "calibration", 0, 0, maxUmPerPx, "micrometres per pixel", "micrometres per pixel (0: uncalibrated)")
	fs.StringVar(&f.mode, "mode", "still", "still (a slide on the stage) or flow (a flow-through cell)")
	fs.StringVar(&f.detector, "detector", "", detectorHelp)
	fs.StringVar(&f.cont, "continue", "", "take up the stopped run of sample `ID` where it stopped (Stop, a signal, a crash): its folder from the frame after the last it read, into the sample, with its settings")
	fs.BoolVar(&f.keepApart, "keep-apart", false, "when the sample was screened before with another pack, model or threshold, store this run as its companion sample (ID~base, ID~t0.6) instead of refusing it")
}

// sampleOf builds the sample from the flags.
func (f *screenFlags) sampleOf(now time.Time) (screening.Sample, error) {
	// Trimmed as the app trims them: "Lake A " was another site than "Lake A" in every
	// trend, on the bench and on the lab server (helper-76), "B " another sample than
	// "B" (helper-77).
	f.site, f.sample = strings.TrimSpace(f.site), strings.TrimSpace(f.sample)
	s := screening.NewSample(f.sample)
	s.Site, s.Notes, s.VolumeML, s.Factor, s.Taken, s.Analyst = f.site, f.notes, f.volumeML, f.factor, now.In(localZone), strings.TrimSpace(f.analyst)
	if f.depth != "" {
		d, err := strconv.ParseFloat(f.depth, 64)
		if err != nil || math.IsNaN(d) || math.IsInf(d, 0) || d < 0 { // NaN was dropped without a word (helper-39)
			return s, fmt.Errorf("--depth %q: give metres below the surface, e.g. --depth 3", f.depth)
		}
		s.DepthM = d
	}
	if f.taken != "" {
		t, err := parseTaken(f.taken)
		if err != nil {
			return s, err
		}
		// Water is screened after it is taken: a time ahead of now (an hour's slack for
		// a clock set wrong) is a typing mistake that would misplace it in every trend.
		if t.After(now.Add(time.Hour)) {
			return s, fmt.Errorf("--taken %q is in the future (now is %s): give the time the water was taken", f.taken, now.Format("2006-01-02 15:04"))
		}
		// Nor one before digital bench cameras: a year typed wrong (1900 for 2019).
		if t.Year() < 1990 {
			return s, fmt.Errorf("--taken %q is before 1990: a typing mistake? give the time the water was taken", f.taken)
		}
		s.Taken = t
	}
	if s.ID == "" {
		prefix := strings.Map(func(r rune) rune {
			if r == ' ' || r == '/' || r == '\\' || r < ' ' { // a line break is the site's to be refused for, not the ID's
				return '-'
			}
			return r
		}, f.site)
		if prefix == "" {
			prefix = "sample"
		}
		s.ID = prefix + "-" + s.Taken.Format("20060102-150405")
	}
	if (f.lat == "") != (f.lon == "") {
		return s, errors.New("--lat and --lon go together: give both or neither")
	}
	if f.lat != "" {
		var err1, err2 error
		s.Lat, err1 = strconv.ParseFloat(f.lat, 64)
		s.Lon, err2 = strconv.ParseFloat(f.lon, 64)
		// One message for a value that is not a number and for NaN ("no position" to the
		// sample): strconv's own words named neither the flag nor the fix (helper-39).
		if err1 != nil || err2 != nil || math.IsNaN(s.Lat) || math.IsNaN(s.Lon) {
			return s, fmt.Errorf("--lat %s --lon %s: give decimal degrees, e.g. --lat 56.95 --lon 9.05", f.lat, f.lon)
		}
	}
	return s, s.Validate()
}

// parseTaken reads the sampling time; times without a zone are local.
func parseTaken(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, localZone); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--taken %q: write the time as 2025-06-03T09:30, 2025-06-03 09:30 or 2025-06-03T09:30:00+02:00", s)
}

// reportNotices writes what a person should know about the rules for this pack: rules
// that cannot fire, taxa missing from rules that can, unverified thresholds.
func reportNotices(w io.Writer, rs *alerts.Ruleset, bound []alerts.Bound, notices []alerts.Notice, pack string) {
	var dead, partial, unverified []alerts.Notice
	live := map[string]bool{}
	for _, b := range bound {
		live[b.Rule.ID] = true
	}
	for _, n := range notices {
		switch {
		case n.Kind == alerts.NoticeUnverified:
			unverified = append(unverified, n)
		case live[n.Rule]:
			partial = append(partial, n)
		default:
			dead = append(dead, n)
		}
	}
	name := "rules " + rs.File
	if len(dead) > 0 {
		fmt.Fprintf(w, "phytoscreen: warning: %s: %d of %d rules cannot fire with pack %s, which has none of their taxa (use a pack trained on them):\n", name, len(dead), len(rs.Rules), pack)
		for _, n := range dead {
			fmt.Fprintf(w, "  %s: %s\n", n.Where, n.Taxon)
		}
	}
	for _, n := range partial {
		fmt.Fprintf(w, "phytoscreen: warning: %s\n", n)
	}
	if len(unverified) > 0 {
		fmt.Fprintf(w, "phytoscreen: note: %s: %d thresholds are not verified regulatory values; check them against your authority:\n", name, len(unverified))
		for _, n := range unverified {
			note := n.Note
			if note == "" {
				note = "marked unverified"
			}
			fmt.Fprintf(w, "  %s: %s: %s\n", n.Where, n.Taxon, note)
		}
	}
	if len(bound) == 0 {
		fmt.Fprintf(w, "phytoscreen: warning: %s: no rule applies to pack %s: no alert can be raised in this run\n", name, pack)
	}
}

func (m *Main) screen(ctx context.Context, args []string) error {
	fs := newFlags("screen", "", m.Stderr)
	var f screenFlags
	f.register(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := flagsOnly(pos); err != nil {
		return err
	}
	if f.format != "text" && f.format != "json" {
		return usageError("--format %q: use text or json", f.format)
	}
	var cont *store.Continuation
	if f.cont != "" {
		if cont, err = f.takeUp(ctx, fs, m.Stderr); err != nil {
			return err
		}
	}
	if f.source == "" {
		if f.source == "" {
			fmt.Fprintln(m.Stderr, "phytoscreen screen: --source is required (camera:0, a video, a folder of frames, cells:DIR for a folder of single-cell images, or an image)")
		}
		return showUsage(fs)
	}
	plan, err := f.plan(time.Now())
	if err != nil {
		return err
	}
	if c, ok := lookForCellImages(plan.spec); ok && cont == nil {
		// A continuation keeps its run's source as it was: said on the first run.
		c.dir, c.args = f.source, args
		plan.cellImages = &c
	}
	clf, err := f.model.open(5)
	if err != nil {
		return err
	}
	defer clf.Close()
	closeDetector, err := f.addDetector(&plan)
	if err != nil {
		return err
	}
	defer closeDetector()
	plan.cont = cont
	return m.screenWith(ctx, f, plan, clf.Pack(), clf)
}

// noteCutRuns ends the runs an earlier phytoscreen left unended when it was killed and
// says what was kept, once: here or in the app, whichever opens the store first.
func noteCutRuns(ctx context.Context, db *store.Store, stderr io.Writer) {
	if cut, err := db.EndCutRuns(ctx); err != nil {
		fmt.Fprintf(stderr, "phytoscreen: %v\n", err)
	} else if len(cut) > 0 {
		fmt.Fprintf(stderr, "phytoscreen: %s\n", app.CutRunsText(ctx, db, cut, "phytoscreen screen --continue SAMPLE-ID"))
	}
}

// takeUp reads where the run --continue names stopped and fills the flags from it: its
// folder, its sample, and the settings of the sample's runs where the command line gives
// none (a continuation adds to the sample, so they must be the same; the store refuses
// others, saying which).
func (f *screenFlags) takeUp(ctx context.Context, fs *flag.FlagSet, stderr io.Writer) (*store.Continuation, error) {
	given := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	if given["sample"] && f.sample != f.cont {
		return nil, usageError("--continue %s adds to sample %s; --sample %s names another: give one", f.cont, f.cont, f.sample)
	}
	if given["keep-apart"] {
		return nil, usageError("--continue adds to the sample it names: --keep-apart does not go with it")
	}
	db, err := app.OpenStore(f.db)
	if err != nil {
		return nil, setupError(err)
	}
	defer db.Close()
	noteCutRuns(ctx, db, stderr) // a run cut off is ended before it is taken up
	c, err := db.Continuable(ctx, f.cont)
	if errors.Is(err, store.ErrNotContinuable) {
		return nil, usageError("--continue: %v", err)
	}
	if err != nil {
		return nil, setupError(err)
	}
	si, err := db.Sample(ctx, f.cont)
	if err != nil {
		return nil, setupError(err)
	}
	if given["source"] {
		spec, err := capture.ParseSpec(f.source)
		if err == nil {
			spec, err = spec.Absolute()
		}
		if err != nil || spec != c.Spec {
			return nil, usageError("--continue %s takes up its run of %s; --source %s names another: leave --source out", f.cont, c.Spec, f.source)
		}
	}
	// The run taken up, not always the sample's newest (a folder stopped, then another
	// screened into the sample): its settings and volume are the continuation's.
	i := slices.IndexFunc(si.Runs, func(r store.RunRow) bool { return r.ID == c.Run })
	if i < 0 {
		return nil, setupError(fmt.Errorf("run %d is no longer in sample %s", c.Run, si.ID))
	}
	taken := si.Runs[i]
	// The run taken up keeps its volume and factor: given other ones they were passed
	// over without a word (helper-72: --volume-ml 2 --factor 10 printed 0.37 mL, factor 1).
	if given["volume-ml"] && math.Abs(f.volumeML-c.WholeML) > 1e-9*c.WholeML {
		// The folder's whole volume, as the first run was given it: a continuation's
		// own was its share (helper-74: the second of a chain refused the volume given).
		return nil, usageError("--continue %s takes up a run of a folder given %s mL, and examines the rest of it; --volume-ml %s differs: leave --volume-ml out",
			f.cont, sigfig.Plain(c.WholeML, 6), strconv.FormatFloat(f.volumeML, 'f', -1, 64))
	}
	if given["factor"] && f.factor != si.Factor {
		return nil, usageError("--continue %s takes up a run of sample %s, whose factor is %s; --factor %s differs: leave --factor out",
			f.cont, si.ID, strconv.FormatFloat(si.Factor, 'f', -1, 64), strconv.FormatFloat(f.factor, 'f', -1, 64))
	}
	f.source, f.sample, f.site, f.factor = c.Spec.String(), si.ID, si.Site, si.Factor
	if !given["threshold"] {
		f.threshold = taken.Threshold
	}
	if !given["model"] {
		f.model.model = taken.Model
	}
	if !given["pack"] && taken.Pack != "" {
		// The sample's counts rest on one pack: without --pack the default was loaded,
		// and the store refused the continuation for other settings (helper-52).
		if !slices.Contains(assets.BuiltinPacks(), taken.Pack) {
			return nil, usageError("--continue %s: its runs were screened with pack %s, which is not built in: give its folder with --pack", f.cont, taken.Pack)
		}
		f.model.pack = taken.Pack
	}
	if !given["rules"] && taken.Rules != "" {
		f.rules = app.StoredRules(taken.Rules)
	}
	f.volumeML = taken.VolumeGiven // the store gives the continuation its share of it
	fmt.Fprintf(stderr, "phytoscreen: continuing run %d of sample %s: %s\n", c.Run, si.ID, c.Describe())
	return &c, nil
}

// addDetector opens the learned detector --detector names, if any, into the plan's
// segmenter options; the returned func closes it.
func (f screenFlags) addDetector(plan *screenPlan) (func(), error) {
	if f.detector == "" {
		return func() {}, nil
	}
	det, err := openDetector(f.detector, f.model.ortLib)
	if err != nil {
		return nil, err
	}
	plan.vision.Boxes = det
	return func() {
		if err := det.Close(); err != nil {
			slog.Warn("close the detector", "detector", f.detector, "err", err)
		}
	}, nil
}

// screenPlan is what the flags ask for, checked before anything is opened.
type screenPlan struct {
	sample    screening.Sample
	spec      capture.Spec
	vision    vision.Options
	rules     *alerts.Ruleset
	rulesName string
	cont      *store.Continuation // --continue: the run taken up
	// cellImages is set when the folder given as frames looks like single-cell images:
	// said before the run and in its summary, with the command for cells:DIR.
	cellImages *cellImages
}

// maxBaseline bounds the idle-power measurement before a run: a few seconds suffice.
const maxBaseline = 10 * time.Minute

// plan checks the flags that need no model, and that the source is there: a mistake is
// reported before the model loads.
func (f *screenFlags) plan(now time.Time) (screenPlan, error) {
	var p screenPlan
	if !(f.threshold >= 0 && f.threshold <= 1) {
		return p, usageError("--threshold %v: give a probability from 0 to 1 (0.5: a cell counts under its top label when the model gives it at least 50%%)", f.threshold)
	}
	if f.baseline < 0 || f.baseline > maxBaseline { // -1s was ignored, 100h accepted (helper-39)
		return p, usageError("--baseline %v: give how long to measure the idle power, from 0 (skip) to %v", f.baseline, maxBaseline)
	}
	var err error
	if p.sample, err = f.sampleOf(now); err != nil {
		return p, usageError("%v", err)
	}
	if p.vision.Mode, err = vision.ParseMode(f.mode); err != nil {
		return p, usageError("--mode: %v", err)
	}
	p.vision.UmPerPx = f.calibration
	if p.spec, err = capture.ParseSpec(f.source); err != nil {
		return p, usageError("--source: %v", err)
	}
	if p.spec, err = p.spec.Absolute(); err != nil {
		return p, usageError("--source: %v", err)
	}
	if p.rules, p.rulesName, err = alerts.Open(f.rules, assets.Presets()); err != nil {
		if _, serr := os.Stat(f.rules); serr != nil {
			return p, usageError("--%v", err) // neither a file nor a preset: a typing mistake
		}
		return p, setupError(err) // a rules file that does not read
	}
	// A source that is not there is said first, before the model loads and the notes on
	// the rules (which read as if the run had started); the session opens it once, later.
	if err := capture.Check(p.spec); err != nil {
		return p, setupError(err)
	}
	return p, nil
}

// unusedSampleID is id, or id-2, id-3, ... the first that the store does not hold (in
// the trash included), as the app numbers its own IDs.
func unusedSampleID(ctx context.Context, db *store.Store, id string) (string, error) {
	for n := 1; ; n++ {
		try := id
		if n > 1 {
			try = fmt.Sprintf("%s-%d", id, n)
		}
		held, err := db.HasSample(ctx, try)
		if err != nil || !held {
			return try, err
		}
	}
}

// screenWith screens the plan on an open classifier of pack (the tests give one that
// fails on purpose): it opens the store and the meter and runs the sample as a
// screening session.
func (m *Main) screenWith(ctx context.Context, f screenFlags, plan screenPlan, pack *inference.Pack, clf screening.Classifier) error {
	tax, err := screening.ForPack(pack)
	if err != nil {
		return setupError(err)
	}
	rs := plan.rules
	rules := rs.BindTo(tax, tax.Pack, plan.rulesName)
	reportNotices(m.Stderr, rs, rules.Bound, rules.Notices, tax.Pack)
	for _, d := range plan.sample.Doubts() {
		fmt.Fprintf(m.Stderr, "phytoscreen: note: %s\n", d)
	}
	if c := plan.cellImages; c != nil {
		fmt.Fprintf(m.Stderr, "phytoscreen: note: %s\n", c.before())
	}
	if colour, file, ok := app.FirstFrameColour(plan.spec); ok {
		if note := app.PackFitNote(pack, colour, file); note != "" {
			fmt.Fprintf(m.Stderr, "phytoscreen: note: %s\n", note)
		}
	}
	if len(rules.Bound) == 0 {
		rules.Apply = app.PresetsFor(tax)
		if apply := rules.Apply; len(apply) > 0 {
			fmt.Fprintf(m.Stderr, "phytoscreen: presets with rules for pack %s: %s (--rules %s)\n", tax.Pack, strings.Join(apply, ", "), apply[0])
		}
	}

	db, err := app.OpenStore(f.db)
	if err != nil {
		return setupError(err)
	}
	defer db.Close()
	noteCutRuns(ctx, db, m.Stderr)
	if err := screening.CheckGivenID(plan.sample.ID); err != nil && f.cont == "" {
		// A new ID typed with the companions' mark would be taken for one (helper-77); a
		// stored sample's (a companion's, to add to it) is what it names.
		held, herr := db.HasSample(ctx, plan.sample.ID)
		if herr != nil {
			return setupError(herr)
		}
		if !held {
			base, _, _ := strings.Cut(plan.sample.ID, screening.CompanionMark)
			return usageError("%v; to screen the same water as sample %s with other settings, give --sample %s with them and --keep-apart", err, base, shellQuote(base))
		}
	}
	if f.sample == "" && f.cont == "" {
		// A generated ID names new water: a script's second folder screened in the same
		// second, or a second depth taken at the same time, joined the first sample
		// (helper-68).
		if plan.sample.ID, err = unusedSampleID(ctx, db, plan.sample.ID); err != nil {
			return setupError(err)
		}
	}
	// Frames other samples hold, screened as a new sample, count the same water twice in
	// the site's trend: said, not refused (screening again with another pack is
	// legitimate), as the app asks (helper-41).
	// A copy of them elsewhere is found by the frames' fingerprints once the source has
	// opened (screenedBefore, helper-54); the same path is said at once.
	var screenedBefore func(context.Context, []capture.FileDigest) error
	if held, _ := db.HasSample(ctx, plan.sample.ID); !held && plan.spec.Kind != capture.KindCamera && plan.spec.Kind != capture.KindDemo {
		if refs, err := db.RunsSharing(ctx, plan.spec, plan.sample.ID); err == nil && len(refs) > 0 {
			noteScreenedBefore(m.Stderr, refs[0], 0)
		} else if plan.cont == nil {
			screenedBefore = func(ctx context.Context, digests []capture.FileDigest) error {
				refs, err := db.RunsHoldingFrames(ctx, digests, plan.sample.ID)
				switch {
				case err != nil: // a note not given stops no run
					slog.Warn("could not look for samples holding these frames", "err", err)
				case len(refs) > 0:
					noteScreenedBefore(m.Stderr, refs[0], capture.DistinctFrames(digests))
				}
				return nil
			}
		}
	}
	if f.taken == "" {
		// A run added to a stored sample is of the same water: taken when it was, not
		// now (the default for a new sample).
		if si, err := db.Sample(ctx, plan.sample.ID); err == nil {
			// In local time, as the first run's: the store gives it back in UTC, and
			// a continuation showed "taken 10:00" (its JSON 10:00:00Z) where the first
			// run showed 11:00+01:00 (helper-89).
			plan.sample.Taken = si.Taken.In(localZone)
		}
	}

	view := newLiveView(m.Stderr, isTerminal(m.Stderr))
	var sizeChanges atomic.Int64 // statuses come from the capture and the segmenter
	var duplicates atomic.Int64  // frames a folder holds twice, skipped (listed the first few)
	var notImages atomic.Int64   // a folder's files that are not images (notes, metadata)
	meter := newScreenMeter(ctx, f.baseline)
	defer meter.Stop()
	if err := ctx.Err(); err != nil { // interrupted while measuring the idle baseline
		fmt.Fprintln(m.Stderr, "phytoscreen screen: interrupted before the first frame: nothing was screened or stored")
		return fmt.Errorf("screen interrupted: %w", context.Cause(ctx))
	}
	sess, err := screening.OpenSession(ctx, screening.SessionConfig{
		Spec: plan.spec, Sample: plan.sample, Threshold: f.threshold, Rules: rules,
		Classifier: clf, Taxonomy: tax, Vision: plan.vision,
		Store: db.Runs(), Meter: meter, KeepApart: f.keepApart, Continue: plan.cont.Continue(), Screened: screenedBefore,
		OnStatus: func(st capture.Status) {
			if st.Kind == capture.StatusFieldChanged {
				slog.Debug("capture", "event", st.String())
				return
			}
			// Statuses that come in floods are named a few times, then only logged: a
			// folder can hold most of its frames twice (saved with and without an
			// orientation tag; the summary counts them), frames of mixed sizes change
			// size at nearly every frame, and a folder can hold a side file per frame
			// (the microscope's metadata beside each image).
			var dup *capture.DuplicateError
			var seen *atomic.Int64
			var first int64
			var more string
			switch {
			case st.Kind == capture.StatusSkipped && errors.As(st.Err, &dup):
				seen, first, more = &duplicates, 3, "further duplicates are not listed: the summary counts them"
			case st.Kind == capture.StatusSizeChanged:
				seen, first, more = &sizeChanges, 2, "further size changes are not listed: the frames differ in size"
			case st.Kind == capture.StatusSkipped && st.Path != "" && !imagefile.IsImageName(st.Path):
				seen, first, more = &notImages, 3, "further files that are not images are not listed: the summary counts them"
			}
			if seen != nil {
				switch n := seen.Add(1); {
				case n == first:
					view.note("phytoscreen: " + st.String() + " (" + more + ")")
					return
				case n > first:
					slog.Debug("capture", "event", st.String())
					return
				}
			}
			view.note("phytoscreen: " + st.String())
		},
	})
	if errors.Is(err, store.ErrOtherSettings) || errors.Is(err, store.ErrSameFrames) || errors.Is(err, store.ErrOtherWater) || errors.Is(err, store.ErrOtherRules) || errors.Is(err, store.ErrInTrash) {
		return usageError("%v", err) // the sample ID given, as for the refusals beside it (exit 2)
	}
	if err != nil {
		return setupError(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range sess.Updates() {
			view.update(sess.Snapshot(), meter.Snapshot().Line())
		}
	}()
	snap, runErr := sess.Run(ctx)
	<-done
	view.clear()
	_, _, cost := sess.Result()
	res := screenResult{Snapshot: snap, Rules: rs, Bound: rules.Bound, Apply: rules.Apply, UmPerPx: plan.vision.UmPerPx, DB: db.Path(), Run: sess.RunID(), Cost: cost,
		PackLimits: pack.Limits, CellImages: plan.cellImages}
	// Read whatever stopped the run: after Ctrl+C ctx is cancelled, and the JSON of an
	// interrupted run said sample_runs 0 and sample_volume_ml 0 beside its stored run.
	if si, err := db.Sample(context.WithoutCancel(ctx), snap.Sample.ID); err == nil {
		res.SampleRuns, res.SampleML = len(si.Runs), si.VolumeML
	} else if snap.Examined.Frames > 0 { // none examined: nothing was stored
		slog.Warn("could not read the stored sample for the summary", "sample", snap.Sample.ID, "err", err)
	}
	if c := plan.cellImages; c != nil && f.sample != "" {
		// The sample given holds this run now, and takes no run of single-cell images,
		// in the trash too: the command in the summary names a new one.
		// Asked though the run was interrupted: its summary says it too.
		if id, err := unusedSampleID(context.WithoutCancel(ctx), db, plan.sample.ID); err == nil {
			after := *c
			after.sample = id
			res.CellImages = &after
		}
	}
	// With no frame examined nothing was stored: a summary of zeros, intervals and
	// "Stored in ..." (or a JSON document with its db and run) would read as a result.
	// The files' errors and the line below say what happened; the exit status fails.
	switch {
	case snap.Examined.Frames == 0:
	case f.format == "json":
		if err := res.writeJSON(m.Stdout, rules.Notices); err != nil {
			return err
		}
	default:
		res.writeText(m.Stdout)
	}
	if snap.Examined.Frames == 0 {
		why := snap.Frames.NoneExaminedWhy()
		if why != "" {
			why = ": " + strings.Replace(why, "factor 10", "--factor 10", 1)
		}
		fmt.Fprintf(m.Stderr, "phytoscreen screen: %s: no frame was examined, so nothing was stored%s\n", plan.spec, why)
		if runErr != nil {
			return runErr
		}
		if ctx.Err() != nil {
			return fmt.Errorf("screen interrupted: %w", context.Cause(ctx))
		}
		return errSomeFailed
	}
	if runErr != nil {
		return runErr
	}
	if snap.Examined.Interrupted {
		return fmt.Errorf("screen interrupted after %d of %d frames: %w", snap.Examined.Frames, snap.Examined.Expected, context.Cause(ctx))
	}
	if snap.Cells.Failed > 0 || snap.Examined.Partial() {
		return errSomeFailed
	}
	return nil
}

// screenResult is what the final summary reports.
type screenResult struct {
	screening.Snapshot
	Rules *alerts.Ruleset
	Bound []alerts.Bound
	Apply []string // presets with rules for the pack, when none of Rules' apply
	// UmPerPx is the calibration the run had (0: uncalibrated).
	UmPerPx float64
	DB      string
	Run     int64
	Cost    power.Snapshot // what classifying cost: latency, throughput, CPU, memory, energy
	// CellImages is set when the folder screened as frames looks like single-cell
	// images: the summary says so, with the command that reads them as cells.
	CellImages *cellImages
	// SampleRuns and SampleML are the stored sample's runs and volume examined, this
	// run's included: a run added to a sample shows its own counts, and says so.
	SampleRuns int
	SampleML   float64
	// PackLimits is what the pack was not shown to do (inference.Manifest.Limits): said
	// beside any level raised.
	PackLimits string
}

// raised returns the rules that reached a level, with their notes.
func (r screenResult) raised() []alertOut {
	notes := map[string]string{}
	for _, b := range r.Bound {
		notes[b.Rule.ID] = b.Rule.Note
	}
	var out []alertOut
	for _, st := range r.Alerts {
		if st.Peak == alerts.None {
			continue
		}
		first := time.Time{}
		var th alerts.Threshold
		for _, e := range r.Events {
			if e.Rule == st.Rule && e.Raised() {
				if first.IsZero() {
					first = e.Time
				}
				if e.To == st.Peak {
					th = e.Threshold
				}
			}
		}
		a := alertOut{Rule: st.Rule, Taxon: st.Taxon, Level: st.Level, Peak: st.Peak, Raised: first, Value: st.Value,
			Threshold: th, Source: st.Source, Verified: st.Verified, Note: notes[st.Rule]}
		if st.Level != st.Peak && st.Threshold != nil {
			now := *st.Threshold
			a.Now = &now
		}
		out = append(out, a)
	}
	return out
}

// alertOut is one alert raised in a run.
type alertOut struct {
	Rule      string           `json:"rule"`
	Taxon     string           `json:"taxon"`
	Level     alerts.Level     `json:"level"` // at the end of the run
	Peak      alerts.Level     `json:"peak"`  // highest reached
	Raised    time.Time        `json:"raised"`
	Value     alerts.Measure   `json:"value"`
	Threshold alerts.Threshold `json:"threshold"` // of the peak level
	// Now is the threshold of Level, the sample's level on its final figures, when it
	// is below the peak and above none.
	Now      *alerts.Threshold `json:"threshold_now,omitempty"`
	Source   string            `json:"source"`
	Verified bool              `json:"verified"`
	Note     string            `json:"note,omitempty"`
}

func (r screenResult) writeJSON(w io.Writer, notices []alerts.Notice) error {
	type rulesOut struct {
		Name    string          `json:"name"`
		File    string          `json:"file"`
		Rules   int             `json:"rules"`
		Active  int             `json:"active"` // rules that apply to the pack
		Notices []alerts.Notice `json:"notices"`
	}
	raised := r.raised()
	if raised == nil {
		raised = []alertOut{}
	}
	for i := range raised {
		raised[i].Value = roundMeasure(raised[i].Value)
	}
	if notices == nil {
		notices = []alerts.Notice{}
	}
	doc := struct {
		Sample       screening.Sample        `json:"sample"`
		Pack         string                  `json:"pack"`
		PackLimits   string                  `json:"pack_limits,omitempty"`
		Model        inference.Variant       `json:"model"`
		Threshold    float64                 `json:"threshold"`
		Finder       string                  `json:"objects_found_by"`
		Taxa         []screening.TaxonCount  `json:"taxa"`
		Groups       []screening.GroupCount  `json:"groups"`
		Unidentified screening.Concentration `json:"unidentified"`
		Alerts       []alertOut              `json:"alerts"`
		Gaps         []screening.Gap         `json:"gaps"`
		Events       []alerts.Event          `json:"events"`
		Rules        rulesOut                `json:"rules"`
		// AlertsChecked is false when no rule applies to the pack: "alerts": [] is then
		// no all-clear. NotChecked lists the rules below their levels that the sample
		// cannot show below, with why (helper-74: "alerts": [] read as an all-clear).
		AlertsChecked bool            `json:"alerts_checked"`
		NotChecked    []notCheckedOut `json:"not_checked"`
		// ReviewDecides lists the rules the review of the unidentified objects would
		// raise were each what the model guessed (alerts.State.ReviewTo).
		ReviewDecides []reviewOut `json:"review_decides"`
		// Examined is how much of the source the run examined, Partial whether less than
		// the volume given: sample.volume_ml is the volume examined, and a partial run
		// read as a whole one (helper-72: only the exit status said so).
		Examined   screening.Examined   `json:"examined"`
		Partial    bool                 `json:"partial"`
		Frames     screening.FrameStats `json:"frames"`
		Cells      cellsOut             `json:"cells"`
		Elapsed    float64              `json:"elapsed_s"`
		Cost       costOut              `json:"cost"`
		DB         string               `json:"db"`
		Run        int64                `json:"run"`
		SampleRuns int                  `json:"sample_runs"`      // the stored sample's runs, this one included
		SampleML   float64              `json:"sample_volume_ml"` // and its volume examined over them all
		Error      string               `json:"error,omitempty"`
	}{roundSample(r.Sample), r.Pack, r.PackLimits, r.Variant, r.Threshold, r.Finder, roundTaxa(r.Taxa), roundGroups(r.Groups), roundConc(r.Unidentified), raised, nonNil(r.Gaps), roundEvents(r.Events),
		rulesOut{r.Rules.Name, r.Rules.File, len(r.Rules.Rules), len(r.Bound), notices}, len(r.Bound) > 0, notChecked(r.Alerts), reviewDecides(r.Alerts),
		roundExamined(r.Examined), r.Examined.Partial(), r.Frames, cellsOf(r.Cells), r.Elapsed.Seconds(), costOf(r.Cost), r.DB, r.Run, r.SampleRuns, roundFig(r.SampleML), r.Err}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// cellsOut is the JSON summary's "cells": the objects counted (found, each cell, colony
// or filament once, as the text summary, the store and the exports count them) and,
// named for what it counts, every object segmented frame by frame, a tracked cell once
// in each frame it was seen in. The second was "objects", which a script read as the
// count: 56 beside the 44 every other output said (helper-91).
type cellsOut struct {
	Found        int     `json:"found"`
	Identified   int     `json:"identified"`
	Unidentified int     `json:"unidentified"`
	Failed       int     `json:"failed"`
	Pending      int     `json:"pending"`
	PerSecond    float64 `json:"per_second"`
	Counted      int     `json:"objects_counted"`          // = found
	Sightings    int     `json:"objects_incl_resightings"` // every object segmented, re-sightings of tracked cells included
}

func cellsOf(c screening.CellStats) cellsOut {
	return cellsOut{Found: c.Found, Identified: c.Identified, Unidentified: c.Unidentified, Failed: c.Failed, Pending: c.Pending,
		PerSecond: c.PerSecond, Counted: c.Found, Sightings: c.Objects}
}

// jsonDigits is the significant figures the JSON summary gives concentrations (cells/L)
// and cells estimates: 864,906 cells/L, not 864905.6603773586, and 2,890,000, not the
// float noise 2890000.0000000005. Six figures is far past what a count's Poisson
// interval allows, so nothing a reader could use is lost.
const jsonDigits = 6

func roundFig(v float64) float64 { return sigfig.Round(v, jsonDigits) }

// roundSample and roundExamined give the volumes and the share examined the same six
// figures: a run stopped part way wrote "volume_ml": 0.2791666666666667 (helper-93).
// Partial is judged on the figures before rounding.
func roundSample(s screening.Sample) screening.Sample {
	s.VolumeML = roundFig(s.VolumeML)
	return s
}

func roundExamined(e screening.Examined) screening.Examined {
	e.Fraction, e.DeclaredML = roundFig(e.Fraction), roundFig(e.DeclaredML)
	return e
}

func roundConc(c screening.Concentration) screening.Concentration {
	c.PerL, c.Low, c.High, c.Limit = roundFig(c.PerL), roundFig(c.Low), roundFig(c.High), roundFig(c.Limit)
	return c
}

func roundTaxa(ts []screening.TaxonCount) []screening.TaxonCount {
	out := make([]screening.TaxonCount, len(ts))
	for i, t := range ts {
		t.Concentration = roundConc(t.Concentration)
		t.CellsEstimate, t.CellsPerL, t.OversizeCells = roundFig(t.CellsEstimate), roundFig(t.CellsPerL), roundFig(t.OversizeCells)
		out[i] = t
	}
	return out
}

func roundGroups(gs []screening.GroupCount) []screening.GroupCount {
	out := make([]screening.GroupCount, len(gs))
	for i, g := range gs {
		g.Concentration = roundConc(g.Concentration)
		g.CellsEstimate, g.CellsPerL = roundFig(g.CellsEstimate), roundFig(g.CellsPerL)
		out[i] = g
	}
	return out
}

// roundMeasure rounds an alert's measure as the counts (the rule's threshold is given,
// not measured, and left as it is).
func roundMeasure(m alerts.Measure) alerts.Measure {
	m.PerL, m.Low, m.High, m.Limit = roundFig(m.PerL), roundFig(m.Low), roundFig(m.High), roundFig(m.Limit)
	m.Cells, m.Oversize, m.GuessedCells = roundFig(m.Cells), roundFig(m.Oversize), roundFig(m.GuessedCells)
	if m.IfGuessed != nil {
		g := roundMeasure(*m.IfGuessed)
		m.IfGuessed = &g
	}
	return m
}

func roundEvents(es []alerts.Event) []alerts.Event {
	out := make([]alerts.Event, len(es))
	for i, e := range es {
		e.Value = roundMeasure(e.Value)
		out[i] = e
	}
	return out
}

// notCheckedOut is a rule the sample cannot show below its levels, in the JSON summary.
type notCheckedOut struct {
	Rule           string  `json:"rule"`
	Taxon          string  `json:"taxon"`
	Why            string  `json:"why"`
	DetectionLimit float64 `json:"detection_limit_per_l"`
}

// notChecked lists the states that are not checked (alerts.State.Unchecked).
func notChecked(states []alerts.State) []notCheckedOut {
	out := []notCheckedOut{}
	for _, st := range states {
		if why := st.UncheckedWhy(thousands); why != "" {
			out = append(out, notCheckedOut{Rule: st.Rule, Taxon: st.Taxon, Why: why, DetectionLimit: roundFig(st.Value.Limit)})
		}
	}
	return out
}

// reviewOut is a rule the review of the unidentified objects would raise, in the JSON
// summary.
type reviewOut struct {
	Rule    string       `json:"rule"`
	Taxon   string       `json:"taxon"`
	Level   alerts.Level `json:"level"`
	To      alerts.Level `json:"if_reviewed_as_guessed"`
	Objects int          `json:"unidentified_objects"`
	Cells   float64      `json:"unidentified_cells"`
	PerL    float64      `json:"cells_per_l_if_reviewed_as_guessed"`
	Text    string       `json:"text"`
}

// reviewDecides lists the states whose level the review could raise (ReviewTo).
func reviewDecides(states []alerts.State) []reviewOut {
	out := []reviewOut{}
	for _, st := range states {
		if st.ReviewTo != alerts.None && st.Value.IfGuessed != nil {
			out = append(out, reviewOut{Rule: st.Rule, Taxon: st.Taxon, Level: st.Level, To: st.ReviewTo, Objects: st.Value.Guessed,
				Cells: roundFig(st.Value.GuessedCells), PerL: roundFig(st.Value.IfGuessed.PerL), Text: st.ReviewText(thousands)})
		}
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// newScreenMeter starts the power and performance meter on the machine's energy sources
// (an estimate, labelled so, where it has none) and measures the idle baseline first
// when asked.
func newScreenMeter(ctx context.Context, baseline time.Duration) *power.Meter {
	det := power.Detect(power.Options{})
	for _, p := range det.Problems {
		slog.Info("energy source not used", "source", p.Source, "why", p.Err)
	}
	m := power.NewMeter(power.Config{Sensors: det.Sensors, Total: det.Total})
	m.Start(ctx)
	if baseline > 0 {
		if err := m.MeasureBaseline(ctx, baseline); err != nil {
			slog.Warn("idle baseline not measured", "err", err)
		}
	}
	return m
}

// costOut is the JSON form of what the run cost. Energy figures carry their source and
// whether they are an estimate; ratios that could not be measured are null.
type costOut struct {
	CellsPerSec  *float64 `json:"cells_per_s"`
	LatencyP50ms *float64 `json:"latency_p50_ms"`
	LatencyP90ms *float64 `json:"latency_p90_ms"`
	LatencyP99ms *float64 `json:"latency_p99_ms"`
	// LatencyPer says what the latencies above time: one inference run, a batch of
	// CropsPerRun crops on average, not one cell (helper-84: read as per cell beside
	// bench's figures). The keys above keep their names: scripts read them.
	LatencyPer            string   `json:"latency_per"`
	InferenceRuns         uint64   `json:"inference_runs"`
	CropsPerRun           *float64 `json:"crops_per_run"`
	InferenceMsPerCell    *float64 `json:"inference_ms_per_cell"` // mean run latency over crops per run
	CPUPercent            *float64 `json:"cpu_percent"`
	PeakRSSMB             float64  `json:"peak_rss_mb"`
	Watts                 *float64 `json:"watts"`
	JoulesPerCell         *float64 `json:"joules_per_cell"`
	MarginalJoulesPerCell *float64 `json:"marginal_joules_per_cell"`
	EnergySource          string   `json:"energy_source"`
	Estimated             bool     `json:"energy_estimated"`
}

func costOf(s power.Snapshot) costOut {
	num := func(v float64) *float64 {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return &v
	}
	ms := func(d time.Duration) *float64 {
		if s.Latency.N == 0 {
			return nil
		}
		return num(float64(d) / float64(time.Millisecond))
	}
	c := costOut{CellsPerSec: num(s.CellsPerSec), LatencyP50ms: ms(s.Latency.P50), LatencyP90ms: ms(s.Latency.P90), LatencyP99ms: ms(s.Latency.P99),
		LatencyPer: "inference run", InferenceRuns: s.Latency.N,
		CPUPercent: num(s.CPUPercent), PeakRSSMB: float64(s.PeakRSS) / (1 << 20), Watts: num(s.Energy.MeanWatts),
		JoulesPerCell: num(s.Energy.JoulesPerCell), MarginalJoulesPerCell: num(s.Energy.MarginalJoulesPerCell),
		EnergySource: s.Energy.Label, Estimated: s.Energy.Estimated}
	if crops, ok := s.CropsPerRun(); ok && s.Latency.N > 0 {
		c.CropsPerRun = num(crops)
		c.InferenceMsPerCell = num(float64(s.Latency.Mean) / float64(time.Millisecond) / crops)
	}
	return c
}

// noteScreenedBefore says that another sample holds the frames about to be screened as
// a new sample, by path or as a copy (r.Copy names it): said, not refused, since
// screening again with another pack is legitimate.
func noteScreenedBefore(w io.Writer, r store.RunRef, frames int) {
	copied := ""
	if r.Copy != "" {
		copied = "; " + r.Copy
	}
	what := "these frames were"
	if frames > 0 && r.Shared > 0 && r.Shared < frames {
		// One copied frame in hundreds is not the same water (helper-59).
		what = fmt.Sprintf("%d of these %d frames were", r.Shared, frames)
	}
	fmt.Fprintf(w, "phytoscreen: note: %s screened before as sample %s (on %s%s): a new sample of them counts that water again; move the earlier one to the trash if this one replaces it\n",
		what, r.Sample, r.Started.Local().Format("2006-01-02 15:04"), copied)
}
