package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/outfile"
	"github.com/phytoscreen/phytoscreen/vision"

	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/imagefile"
)

// objectsHeader is the header of objects.csv: one row per counted object.
var objectsHeader = []string{
	"source", "frame", "object", "x", "y", "w", "h", "area_px",
	"track", "esd_px", "major_px", "minor_px", "aspect", "solidity", "perimeter_px",
	"mean_gray", "contrast", "focus", "on_border",
	"um_per_px", "area_um2", "esd_um", "major_um", "minor_um", "perimeter_um", "crop",
	"kind", "length_px", "width_px", "parts", "cells_estimate", "oversize", "frame_focus", "frame_out_of_focus",
}

// segFlags are the segment command's settings.
type segFlags struct {
	calibration       float64
	minSize, maxSize  string
	mode, crops, out  string
	margin            int
	sigmas            float64
	maxFrames         int
	width, height     int
	fps               float64
	allObjects, quiet bool
	cameraAttempts    int
	minContrast       float64
	closeRadius       int
	lowShare          float64
	colour            bool
	colourCrops       bool
	ridges            bool
	detector          string
	ortLib            string
	ignore            []image.Rectangle
}

func (m *Main) segment(ctx context.Context, args []string) error {
	fs := newFlags("segment", "SOURCE...", m.Stderr)
	var f segFlags
	floatVar(fs, &f.calibration, "calibration", 0, 0, maxUmPerPx, "micrometres per pixel", "micrometres per pixel (`UM_PER_PX`); sizes are then also reported in µm")
	fs.StringVar(&f.minSize, "min-size", "6px", "smallest object kept, as an equivalent diameter: `SIZE` like 6px or 4um (a bare number is µm when calibrated)")
	fs.StringVar(&f.maxSize, "max-size", "", "largest object kept (`SIZE`, default no limit)")
	fs.StringVar(&f.mode, "mode", "still", "still (a slide on the stage: each cell counted once while the field is still) or flow (a flow-through cell)")
	fs.StringVar(&f.out, "out", "", "write objects.csv and crops/ into `DIR` (default: objects.csv to standard output, no crops)")
	fs.StringVar(&f.crops, "crops", "flat", "crop style: flat (divided by the background: white field, as the classifier expects), raw, or none")
	fs.IntVar(&f.margin, "margin", 8, "pixels of context around each crop")
	fs.Float64Var(&f.sigmas, "sigmas", 8, "high threshold, which every object must reach somewhere: noise standard deviations")
	fs.Float64Var(&f.minContrast, "min-contrast", 0.10, "and at least this fraction of the illumination")
	fs.Float64Var(&f.lowShare, "low-share", 0.35, "low threshold, the object's extent, as a share of the high one")
	fs.IntVar(&f.closeRadius, "close", 1, "radius (px) of the closing of the high-threshold cores (-1 for none)")
	fs.BoolVar(&f.colour, "colour", false, "also use each colour channel's contrast (colour cameras)")
	fs.BoolVar(&f.colourCrops, "colour-crops", false, "write the crops in the frame's colours (for a colour pack such as cyano-tcb-10; gray frames give gray crops)")
	fs.BoolVar(&f.ridges, "ridges", false, "also follow thin faint lines (needles such as Pseudo-nitzschia in phase contrast); adds false objects on brightfield frames")
	fs.StringVar(&f.detector, "detector", "", detectorHelp)
	fs.StringVar(&f.ortLib, "ort-lib", "", "`path` to libonnxruntime.so.1, for --detector (default: $"+inference.LibraryEnv+", beside the executable, the project cache, system paths)")
	fs.IntVar(&f.maxFrames, "max-frames", 0, "stop each source after `N` frames (0: to its end; a camera runs until interrupted)")
	fs.IntVar(&f.width, "width", 0, "camera frame width to ask for")
	fs.IntVar(&f.height, "height", 0, "camera frame height to ask for")
	floatVar(fs, &f.fps, "fps", 0, 0, maxFPS, "frames per second", "camera frame rate to ask for (0: the camera's own)")
	fs.IntVar(&f.cameraAttempts, "camera-retries", 12, "reconnection attempts for a lost camera (-1: until interrupted)")
	fs.Func("ignore", "region `X,Y,W,H` where nothing is detected, e.g. a camera's fixed marks (repeatable)", func(v string) error {
		r, err := parseRect(v)
		if err == nil {
			f.ignore = append(f.ignore, r)
		}
		return err
	})
	fs.BoolVar(&f.allObjects, "all", false, "write every sighting, not only the first sighting of each cell")
	fs.BoolVar(&f.quiet, "q", false, "no per-source summary")
	sources, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(sources) == 0 {
		return showUsage(fs)
	}
	if err := distinctSources(sources); err != nil {
		return usageError("%v", err)
	}
	opt, err := f.options()
	if err != nil {
		return err
	}
	if f.detector != "" {
		det, err := openDetector(f.detector, f.ortLib)
		if err != nil {
			return err
		}
		defer det.Close()
		opt.Boxes = det
	}

	w, summary := io.Writer(m.Stdout), m.Stderr
	var cropDir string
	var csvOut *outfile.File // objects.csv, replaced only by a whole run's table
	if f.out != "" {
		if err := outsideSources(f.out, sources); err != nil {
			return usageError("--out %v", err)
		}
		if opt.Crops != vision.CropNone {
			// crops/ and crops.partial are replaced whole: nothing read may lie in them.
			if err := sourcesOutside(sources, filepath.Join(f.out, "crops"), filepath.Join(f.out, cropsPartial)); err != nil {
				return usageError("--out %v", err)
			}
		}
		if err := outfile.CheckFolder(f.out); err != nil {
			return usageError("--out %v: --out names the folder that objects.csv and crops/ are written into (made if missing); to keep no table, leave --out out and send standard output away (> /dev/null)", err)
		}
		if err := os.MkdirAll(f.out, 0o755); err != nil {
			return setupError(fmt.Errorf("create output folder: %w", err))
		}
		csvPath := filepath.Join(f.out, "objects.csv")
		inputs := make([]outfile.Input, len(sources))
		for i, spec := range sources {
			inputs[i] = outfile.Input{Path: spec, What: "an input"}
		}
		if opt.Crops != vision.CropNone { // crops/ must not be a folder being read
			if err := outfile.CheckNotInput(filepath.Join(f.out, "crops"), inputs...); err != nil {
				return usageError("--out %v", err)
			}
		}
		if err := outfile.CheckNotInput(csvPath, inputs...); err != nil {
			return usageError("--out %v", err)
		}
		csvFile, err := outfile.Create(csvPath)
		if err != nil {
			return setupError(err)
		}
		defer csvFile.Abort()
		csvOut = csvFile
		w, summary = csvFile, m.Stdout
		if opt.Crops != vision.CropNone {
			// The crops go to crops.partial and replace crops/ with objects.csv, once
			// the run is whole: written into crops/ directly, a run again into the
			// same folder mixed its crops with the earlier run's, and an interrupted
			// one overwrote crops the kept objects.csv names (helper-39).
			cropDir = filepath.Join(f.out, cropsPartial)
			if err := os.RemoveAll(cropDir); err != nil { // an earlier interrupted run's
				return setupError(fmt.Errorf("remove the earlier %s: %w", cropDir, err))
			}
			if err := os.MkdirAll(cropDir, 0o755); err != nil { // a whole run without objects has an empty crops/
				return setupError(fmt.Errorf("create %s: %w", cropDir, err))
			}
		}
	}
	out := csv.NewWriter(w)
	_ = out.Write(objectsHeader)

	for _, spec := range sources {
		// Said, not switched: segment reads a folder as frames (as screen does).
		if sp, err := capture.ParseSpec(spec); err == nil {
			if c, ok := lookForCellImages(sp); ok {
				c.dir = spec
				fmt.Fprintf(m.Stderr, "phytoscreen segment: note: %s\n", c.segmentNote())
			}
		}
	}
	start := time.Now()
	var runs []segRun
	failed := false
	for i, spec := range sources {
		r := segRun{spec: spec}
		r.err = m.segmentSource(ctx, spec, i, opt, f, out, cropDir, &r)
		runs = append(runs, r)
		out.Flush()
		if err := out.Error(); err != nil {
			fmt.Fprintf(m.Stderr, "phytoscreen segment: write objects.csv: %v\n", err)
			return errSomeFailed
		}
		if r.err != nil || r.skipped > 0 {
			failed = true
		}
		if ctx.Err() != nil {
			break
		}
	}
	if csvOut != nil && ctx.Err() == nil && readNothing(runs) {
		// Every source failed before giving a frame (a wrong path, a folder of bad
		// files): an earlier run's objects.csv and crops/ are worth more than an empty
		// table (helper-60: they were replaced by a header and nothing).
		if cropDir != "" {
			_ = os.RemoveAll(cropDir)
		}
		fmt.Fprintf(m.Stderr, "phytoscreen segment: no frame was read, so nothing was written; an earlier objects.csv and crops/ in %s were left as they were\n", f.out)
		return errSomeFailed
	}
	csvPath := ""
	if csvOut != nil {
		csvPath = csvOut.Path() // before the commit: an interrupted one moves it to .partial
		if err := commitOutput(csvOut, csvPath, ctx.Err() != nil); err != nil {
			fmt.Fprintf(m.Stderr, "phytoscreen segment: %v\n", err)
			return errSomeFailed
		}
		if cropDir != "" && ctx.Err() == nil {
			if err := replaceCrops(cropDir, filepath.Join(f.out, "crops")); err != nil {
				fmt.Fprintf(m.Stderr, "phytoscreen segment: %v\n", err)
				return errSomeFailed
			}
		}
	}
	if !f.quiet {
		printSegSummary(summary, runs, opt, time.Since(start), f.out)
	}
	if ctx.Err() != nil && csvOut != nil {
		fmt.Fprintf(m.Stderr, "phytoscreen segment: interrupted: the objects so far are in %s.partial; an earlier objects.csv there was left as it was\n", csvPath)
		if cropDir != "" {
			fmt.Fprintf(m.Stderr, "phytoscreen segment: their crops are in %s (the rows name them under crops/); an earlier crops/ there was left as it was\n", cropDir)
		}
	}
	if failed || ctx.Err() != nil {
		return errSomeFailed
	}
	return nil
}

// readNothing says whether no source gave a single frame and at least one failed or
// skipped its files: a run with nothing to show.
func readNothing(runs []segRun) bool {
	failed := false
	for _, r := range runs {
		if r.frames > 0 {
			return false
		}
		failed = failed || r.err != nil || r.skipped > 0
	}
	return failed
}

// cropsPartial is the folder under --out that a run writes its crops to; it becomes
// crops/ when the run is whole.
const cropsPartial = "crops.partial"

// replaceCrops puts a whole run's crops (partial) in place of an earlier run's (final).
func replaceCrops(partial, final string) error {
	if err := os.RemoveAll(final); err != nil {
		return fmt.Errorf("replace the earlier crops in %s: %w", final, err)
	}
	if err := os.Rename(partial, final); err != nil {
		return fmt.Errorf("move the crops from %s to %s: %w", partial, final, err)
	}
	return nil
}

// options turns the flags into segmenter options.
func (f segFlags) options() (vision.Options, error) {
	var opt vision.Options
	var err error
	if opt.Mode, err = vision.ParseMode(f.mode); err != nil {
		return opt, usageError("--mode: %v", err)
	}
	if f.calibration < 0 {
		return opt, usageError("--calibration must be a positive number of micrometres per pixel")
	}
	opt.UmPerPx = f.calibration
	if opt.MinSize, err = vision.ParseSize(f.minSize); err != nil {
		return opt, usageError("--min-size: %v", err)
	}
	if f.maxSize != "" {
		if opt.MaxSize, err = vision.ParseSize(f.maxSize); err != nil {
			return opt, usageError("--max-size: %v", err)
		}
	}
	switch f.crops {
	case "flat":
		opt.Crops = vision.CropFlat
	case "raw":
		opt.Crops = vision.CropRaw
	case "none":
		opt.Crops = vision.CropNone
	default:
		return opt, usageError("--crops %q: want flat, raw or none", f.crops)
	}
	if f.margin < 0 || f.maxFrames < 0 {
		return opt, usageError("--margin and --max-frames must be >= 0")
	}
	if f.width < 0 || f.height < 0 || f.width > 16384 || f.height > 16384 {
		return opt, usageError("--width %d, --height %d: give the camera frame size to ask for in pixels (up to 16384), or 0 for the camera's own", f.width, f.height)
	}
	opt.Margin = f.margin
	if opt.Margin == 0 {
		opt.Margin = -1 // the segmenter's zero means its default
	}
	// The segmenter reads 0 as its default: typed, 0 ran with the default unsaid, where
	// -1 was refused with the range (helper-68).
	if !(f.sigmas >= 1 && f.sigmas <= 1000) {
		return opt, usageError("--sigmas %v: give 1 to 1000 noise standard deviations (8 by default)", f.sigmas)
	}
	if !(f.lowShare > 0 && f.lowShare <= 1) {
		return opt, usageError("--low-share %v: give a share of the high threshold above 0 and at most 1 (0.35 by default)", f.lowShare)
	}
	opt.Sigmas, opt.MinContrast, opt.LowShare, opt.Close, opt.Ignore, opt.Colour = f.sigmas, f.minContrast, f.lowShare, f.closeRadius, f.ignore, f.colour
	opt.Ridges = f.ridges
	opt.ColourCrops = f.colourCrops
	if f.closeRadius == 0 {
		opt.Close = -1
	}
	// Check the whole set now, so that a bad flag is a usage error before any source opens.
	seg, err := vision.NewSegmenter(opt)
	if err != nil {
		return opt, usageError("%v", err)
	}
	seg.Close()
	return opt, nil
}

// segRun is what one source gave.
type segRun struct {
	spec     string
	frames   int
	objects  int
	counted  int
	fields   int
	skipped  int
	events   []capture.Status
	esd      []float64
	noise    float64
	oversize int // counted objects over vision.MaxShare of the frame
	blurred  int // frames out of focus
	crowded  int // frames too dense to segment (vision.ErrCrowdedFrame), no object kept
	err      error
	finished string // why it stopped early, if it did
}

// segmentSource runs one source through a fresh segmenter and writes its rows and crops.
func (m *Main) segmentSource(ctx context.Context, spec string, n int, opt vision.Options, f segFlags,
	out *csv.Writer, cropDir string, r *segRun) error {
	onStatus := func(s capture.Status) {
		r.events = append(r.events, s)
		// A frame that could not be used is a failure; a README beside the frames is not.
		// A duplicate frame is no failure: its pixels were read once and its cells
		// counted then (screen counts it so too).
		var dup *capture.DuplicateError
		switch {
		case s.Kind == capture.StatusSkipped && errors.Is(s.Err, vision.ErrCrowdedFrame):
			// Read, but too dense to cut into objects: said apart, with the fix.
			r.crowded++
		case s.Kind == capture.StatusSkipped && (s.Path == "" || imagefile.IsImageName(s.Path)) && !errors.As(s.Err, &dup):
			r.skipped++
		}
		if s.Kind == capture.StatusFieldChanged {
			// Routine on a moving stage or a folder of separate fields: the summary
			// counts the fields; the log has each change.
			slog.Debug("capture", "event", s.String())
			return
		}
		fmt.Fprintf(m.Stderr, "phytoscreen segment: %s\n", s)
	}
	opt.OnStatus = onStatus
	sp, err := capture.ParseSpec(spec)
	var src capture.Source
	if err == nil {
		src, err = capture.Open(sp, capture.OpenOptions{OnStatus: onStatus, Gray: !opt.Colour && !opt.ColourCrops && opt.Boxes == nil, Camera: capture.CameraOptions{
			Width: f.width, Height: f.height, FPS: f.fps, Attempts: f.cameraAttempts, OnStatus: onStatus,
		}})
	}
	if err != nil {
		fmt.Fprintf(m.Stderr, "phytoscreen segment: %v\n", err)
		return err
	}
	defer src.Close()
	seg, err := vision.NewSegmenter(opt)
	if err != nil {
		return err
	}
	defer seg.Close()
	srcDir := ""
	if cropDir != "" {
		srcDir = filepath.Join(cropDir, fmt.Sprintf("%02d-%s", n+1, safeName(spec)))
		if err := os.MkdirAll(srcDir, 0o755); err != nil {
			return fmt.Errorf("create crop folder: %w", err)
		}
	}
	errStop := errors.New("frame limit reached")
	err = vision.Run(ctx, src, seg, func(fr capture.Frame, objs []vision.Object) error {
		r.frames++
		fi := seg.Frame()
		if fi.OutOfFocus {
			r.blurred++
		}
		r.objects += len(objs)
		for _, o := range objs {
			if !o.New && !f.allObjects {
				continue
			}
			if o.New {
				r.counted++
				r.esd = append(r.esd, o.ESD)
				if o.Oversize {
					r.oversize++
				}
			}
			crop := ""
			if srcDir != "" && o.Crop != nil {
				crop = filepath.Join(srcDir, fmt.Sprintf("f%06d-o%03d-t%d.png", fr.Index, o.ID, o.Track))
				if err := writePNG(crop, o); err != nil {
					return err
				}
				if rel, err := filepath.Rel(filepath.Join(f.out, cropsPartial), crop); err == nil {
					crop = filepath.Join("crops", rel) // where it lies once the run is whole
				}
			}
			if err := out.Write(objectRow(o, crop, seg.Frame())); err != nil {
				return fmt.Errorf("write objects.csv: %w", err)
			}
		}
		if f.maxFrames > 0 && r.frames >= f.maxFrames {
			return errStop
		}
		return nil
	})
	st := seg.Stats()
	r.fields, r.noise = st.Fields, seg.Noise()
	switch {
	case errors.Is(err, errStop):
		r.finished = fmt.Sprintf("stopped after --max-frames %d", f.maxFrames)
		return nil
	case errors.Is(err, context.Canceled):
		r.finished = "interrupted"
		return err
	case errors.Is(err, vision.ErrAllIgnored):
		// Run on, it counted 0 cells in every frame, exit 0: clean water (helper-83).
		regions := make([]string, len(f.ignore))
		for i, g := range f.ignore {
			regions[i] = fmt.Sprintf("%d,%d,%d,%d", g.Min.X, g.Min.Y, g.Dx(), g.Dy())
		}
		fmt.Fprintf(m.Stderr, "phytoscreen segment: --ignore %s: %v: give --ignore only the regions of the camera's own marks (X,Y,W,H inside the frame)\n", strings.Join(regions, " "), err)
		return err
	case err != nil:
		fmt.Fprintf(m.Stderr, "phytoscreen segment: %s: %v (what was counted before is kept)\n", spec, err)
		return err
	}
	return nil
}

func writePNG(path string, o vision.Object) error {
	fh, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write crop: %w", err)
	}
	var img image.Image = o.Crop
	if o.ColourCrop != nil {
		img = o.ColourCrop // asked for with --colour-crops: what a colour pack classifies
	}
	err = png.Encode(fh, img)
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write crop %s: %w", path, err)
	}
	return nil
}

// objectRow formats one objects.csv row.
func objectRow(o vision.Object, crop string, fi vision.FrameInfo) []string {
	ff := func(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }
	um := func(v float64) string {
		if o.UmPerPx == 0 {
			return ""
		}
		return ff(v, 2)
	}
	return []string{
		o.Source, strconv.Itoa(o.Frame), strconv.Itoa(o.ID),
		strconv.Itoa(o.Box.Min.X), strconv.Itoa(o.Box.Min.Y), strconv.Itoa(o.Box.Dx()), strconv.Itoa(o.Box.Dy()),
		ff(o.AreaPx, 0), strconv.Itoa(o.Track), ff(o.ESD, 2), ff(o.Major, 2), ff(o.Minor, 2), ff(o.Aspect, 3),
		ff(o.Solidity, 3), ff(o.Perimeter, 1), ff(o.MeanGray, 1), ff(o.Contrast, 4), ff(o.Focus, 1),
		strconv.FormatBool(o.OnBorder), um(o.UmPerPx), um(o.AreaUm2), um(o.ESDUm), um(o.MajorUm), um(o.MinorUm),
		um(o.PerimeterUm), crop,
		string(o.Kind), ff(o.Length, 1), ff(o.Width, 1), strconv.Itoa(o.Parts), ff(o.Cells, 0), strconv.FormatBool(o.Oversize),
		ff(fi.Focus, 3), strconv.FormatBool(fi.OutOfFocus),
	}
}

// parseRect reads X,Y,W,H.
func parseRect(v string) (image.Rectangle, error) {
	parts := strings.Split(v, ",")
	if len(parts) != 4 {
		return image.Rectangle{}, fmt.Errorf("want X,Y,W,H, e.g. 266,0,14,8")
	}
	var n [4]int
	for i, p := range parts {
		k, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || k < 0 {
			return image.Rectangle{}, fmt.Errorf("want X,Y,W,H as whole numbers >= 0, got %q", v)
		}
		n[i] = k
	}
	if n[2] == 0 || n[3] == 0 {
		return image.Rectangle{}, fmt.Errorf("region %q is empty", v)
	}
	return image.Rect(n[0], n[1], n[0]+n[2], n[1]+n[3]), nil
}

// safeName turns a source spec into a folder name.
func safeName(spec string) string {
	base := filepath.Base(strings.TrimSuffix(spec, string(filepath.Separator)))
	if sp, err := capture.ParseSpec(spec); err == nil && sp.Kind == capture.KindCamera {
		base = "camera-" + filepath.Base(sp.Path)
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, base)
}

// printSegSummary prints what each source gave.
func printSegSummary(w io.Writer, runs []segRun, opt vision.Options, took time.Duration, out string) {
	frames, counted := 0, 0
	for _, r := range runs {
		frames += r.frames
		counted += r.counted
	}
	fmt.Fprintf(w, "segmented %s from %s in %.1f s (%.1f frames/s), mode %s, objects found by %s: %s counted\n",
		count(frames, "frame", "frames"), count(len(runs), "source", "sources"), took.Seconds(), float64(frames)/max(took.Seconds(), 1e-9), opt.Mode, opt.Finder(), count(counted, "cell", "cells"))
	fmt.Fprintf(w, "%-40s %7s %8s %8s %7s %8s %10s\n", "source", "frames", "objects", "counted", "fields", "skipped", "median ESD")
	for _, r := range runs {
		med := "-"
		if len(r.esd) > 0 {
			s := slices.Clone(r.esd)
			slices.Sort(s)
			med = fmt.Sprintf("%.1f px", s[len(s)/2])
			if opt.UmPerPx > 0 {
				med = fmt.Sprintf("%.1f µm", s[len(s)/2]*opt.UmPerPx)
			}
		}
		fmt.Fprintf(w, "%-40s %7d %8d %8d %7d %8d %10s\n", clip(r.spec, 40), r.frames, r.objects, r.counted, r.fields, r.skipped, med)
		if moves := fieldChanges(r.events); moves != "" {
			fmt.Fprintf(w, "  new field (stage moved) at frames %s\n", moves)
		}
		if r.oversize > 0 {
			fmt.Fprintf(w, "  %d objects cover more than %.0f%% of their frame each (oversize in objects.csv): debris clouds or cells joined by haze that could not be split; check them before trusting the count\n",
				r.oversize, 100*vision.MaxShare)
		}
		if r.crowded > 0 {
			fmt.Fprintf(w, "  %s too crowded to segment (more than half of each differs from the background): none of %s objects written; dilute the sample\n",
				countNoun(r.crowded, "frame", "frames"), map[bool]string{true: "its", false: "their"}[r.crowded == 1])
		}
		if r.blurred > 0 {
			fmt.Fprintf(w, "  %s out of focus (frame_out_of_focus in objects.csv): their new cells waited for a sharper frame of the field\n", countNoun(r.blurred, "frame", "frames"))
		}
		if r.err != nil {
			fmt.Fprintf(w, "  ended: %v\n", r.err)
		} else if r.finished != "" {
			fmt.Fprintf(w, "  %s\n", r.finished)
		}
	}
	if out != "" {
		fmt.Fprintf(w, "objects.csv and crops in %s\n", out)
	}
}

// fieldChanges lists the frames where a source's field changed: "4, 8", or the first
// dozen and how many more.
func fieldChanges(events []capture.Status) string {
	const shown = 12
	var frames []string
	n := 0
	for _, e := range events {
		if e.Kind != capture.StatusFieldChanged {
			continue
		}
		if n < shown {
			frames = append(frames, strconv.Itoa(e.Frame))
		}
		n++
	}
	if n > shown {
		frames = append(frames, fmt.Sprintf("and %d more", n-shown))
	}
	return strings.Join(frames, ", ")
}

// outsideSources refuses an output folder inside (or equal to) a source folder: its
// crops would be read as frames by the next run of that folder, each counted again.
// distinctSources refuses sources that share frames (the same file twice, a file of a
// folder given too): their cells would be counted twice (helper-39: a frame given twice
// counted 6 cells for 3). A duplicate frame inside one folder is told apart by the
// folder's own reading.
func distinctSources(sources []string) error {
	specs := make([]capture.Spec, len(sources))
	for i, src := range sources {
		sp, err := capture.ParseSpec(src)
		if err != nil {
			continue // the source's own reading says what is wrong with it
		}
		if abs, err := sp.Absolute(); err == nil {
			sp = abs
		}
		specs[i] = sp
		for j := range i {
			if !specs[j].IsZero() && specs[j].SharesFrames(sp) {
				return fmt.Errorf("%s and %s share frames: their cells would be counted twice; give each frame once", sources[j], src)
			}
		}
	}
	return nil
}

// sourcesOutside refuses a source (file or folder) that lies in one of dirs, which the
// run replaces.
func sourcesOutside(sources []string, dirs ...string) error {
	for _, d := range dirs {
		dir, err := capture.Spec{Kind: capture.KindFolder, Path: d}.Absolute()
		if err != nil {
			return err
		}
		for _, src := range sources {
			s, err := capture.Spec{Kind: capture.KindFolder, Path: src}.Absolute()
			if err != nil {
				continue
			}
			if pathWithin(s.Path, dir.Path) {
				return fmt.Errorf("%s is read from %s, which this run replaces with its own crops: copy those frames elsewhere first, or choose another output folder", src, d)
			}
		}
	}
	return nil
}

// pathWithin reports whether the absolute path p is dir or lies under it.
func pathWithin(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, string(filepath.Separator))+string(filepath.Separator))
}

func outsideSources(out string, sources []string) error {
	o, err := capture.Spec{Kind: capture.KindFolder, Path: out}.Absolute()
	if err != nil {
		return err
	}
	for _, src := range sources {
		if fi, err := os.Stat(src); err != nil || !fi.IsDir() {
			continue
		}
		dir, err := capture.Spec{Kind: capture.KindFolder, Path: src}.Absolute()
		if err != nil {
			continue
		}
		if pathWithin(o.Path, dir.Path) {
			return fmt.Errorf("%s lies inside the source folder %s: its crops would be read as frames by the next run of that folder, each cell counted again; choose an output folder outside it", out, src)
		}
	}
	return nil
}
