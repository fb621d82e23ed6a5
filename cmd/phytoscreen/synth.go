package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	iofs "io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/phytoscreen/phytoscreen/outfile"
	"github.com/phytoscreen/phytoscreen/synth"
)

func (m *Main) synth(ctx context.Context, args []string) error {
	fs := newFlags("synth", "", m.Stderr)
	out := fs.String("out", "", "output `folder` (required)")
	frames := fs.Int("frames", 0, "frames to write (default 10 stills, 48 for --video)")
	fields := fs.Int("fields", 0, "distinct fields (stage positions) among the frames (default: one per still frame, 4 for --video)")
	video := fs.Bool("video", false, "write one MJPG video (NAME.avi) instead of still frames")
	name := fs.String("name", "synth", "video file `name`, without extension")
	fps := fs.Float64("fps", 10, "video frame rate")
	format := fs.String("format", "png", "still frame format: png or jpg")
	listLabels := fs.Bool("labels", false, "list the classes that --mix accepts and exit")
	var opt synth.Options
	var mix string
	fs.Uint64Var(&opt.Seed, "seed", 1, "random seed: the same seed and flags give the same output")
	fs.IntVar(&opt.Width, "width", 1280, "frame width, px")
	fs.IntVar(&opt.Height, "height", 960, "frame height, px")
	fs.IntVar(&opt.Cells, "cells", 12, "random cells per field, drawn from the classes not in --mix (-1 for none)")
	fs.StringVar(&mix, "mix", "", "cells of chosen classes in every field, e.g. `protist_noctiluca=3,diatom_chain_tube=2`")
	fs.Float64Var(&opt.Scale, "scale", 1, "size factor for every crop")
	fs.Float64Var(&opt.Noise, "noise", 2.5, "sensor noise at full light, gray levels (-1 for none)")
	fs.Float64Var(&opt.Blur, "blur", 0.8, "optical blur sigma, px (-1 for none)")
	fs.Float64Var(&opt.Vignette, "vignette", 0.40, "fraction of light lost in the corners (-1 for none)")
	fs.Float64Var(&opt.Light, "light", 215, "background gray level at the centre")
	look := fs.String("look", "bright", "what the frames look like: bright (NDSB crops on brightfield), phase (dense phase-contrast net sample, 2584x1936 unless --width/--height) or colour (colour brightfield with green cells); --light, --noise, --blur and --vignette not given take the look's own defaults")
	colour := fs.Bool("colour", false, "the same as --look colour")
	fs.Float64Var(&opt.Density, "density", 1, "--look phase: factor on the number of objects (1: about 170, at most 200, on 2584x1936)")
	fs.IntVar(&opt.Green, "green", 8, "--look colour: green and olive cells, colonies, chains and filaments per field (-1 for none)")
	fs.IntVar(&opt.Gap, "gap", 16, "least distance between two crops, px")
	slide := fs.String("slide", "", "a still slide of `FIELDSxFRAMES` (e.g. 10x3; 8 cells per field unless --cells or --dense): stage moves between fields, slide.json says which frame shows which field and which cells are the same")
	drift := fs.String("drift", "", "--slide: the stage creeps: the cells move `DX[,DY]` px per frame within a field")
	focus := fs.String("focus", "", "--slide: the focus wanders: each frame's blur sigma drawn from `LO-HI` px (e.g. 0.3-1.5)")
	overlap := fs.Float64("overlap", 0, "--slide: share of the frame consecutive fields have in common (0.5: the stage moved by half a field)")
	dense := fs.Bool("dense", false, "--slide: dense fields: 64 cells at scale 0.5 with gaps of 4 px (unless --cells, --scale, --gap say otherwise)")
	bad := fs.Bool("bad", false, "write the bad-input frames instead (black, saturated, noise, debris, line, defocus with focus beside it)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := flagsOnly(pos); err != nil {
		return err
	}
	if opt.Look, err = synth.ParseLook(*look); err != nil {
		return usageError("--look: %v", err)
	}
	if *colour {
		opt.Look = synth.LookColour
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	// Flags not given take the look's defaults (the brightfield look's are the flags'
	// defaults, so its output is unchanged).
	for name, v := range map[string]*float64{"light": &opt.Light, "noise": &opt.Noise, "blur": &opt.Blur, "vignette": &opt.Vignette} {
		if !set[name] {
			*v = 0
		}
	}
	// Said before anything is written (helper-60: --width 0 became 1280 unsaid; --frames
	// 0 and --format gif failed after the earlier output was cleared, exit 1).
	for _, name := range []string{"width", "height", "frames"} {
		if v := fs.Lookup(name).Value.(flag.Getter).Get().(int); set[name] && v < 1 {
			return usageError("--%s %d: give a number of at least 1", name, v)
		}
	}
	if *format != "png" && *format != "jpg" {
		return usageError("--format %q: use png or jpg", *format)
	}
	if set["scale"] && !(opt.Scale >= 0.1 && opt.Scale <= 10) { // 0 was the default unsaid (helper-68)
		return usageError("--scale %v: want 0.1 to 10", opt.Scale)
	}
	if !set["width"] && !set["height"] && opt.Look == synth.LookPhase {
		opt.Width, opt.Height = 0, 0
	}
	if *slide != "" && !*dense && !set["cells"] {
		opt.Cells = 8 // a sparse still slide
	}
	if *dense {
		if !set["cells"] {
			opt.Cells = 64
		}
		if !set["scale"] {
			opt.Scale = 0.5
		}
		if !set["gap"] {
			opt.Gap = 4
		}
	}
	lib, err := synth.DefaultLibrary()
	if err != nil {
		return setupError(err)
	}
	if *listLabels {
		for _, l := range lib.Labels() {
			fmt.Fprintf(m.Stdout, "%-42s %d\n", l, lib.Count(l))
		}
		return nil
	}
	if *out == "" {
		fmt.Fprintln(m.Stderr, "phytoscreen synth: --out is required")
		return showUsage(fs)
	}
	if err := outfile.CheckFolder(*out); err != nil {
		return usageError("--out %v: give the folder the frames are written into (made if missing)", err)
	}
	if opt.Mix, err = synth.ParseMix(mix); err != nil {
		return usageError("--mix %v", err)
	}
	earlier, err := synthOutFiles(*out, *name)
	if err != nil {
		return err
	}
	setFrameDefaults(fs, frames, fields, *video)
	var so synth.SlideOptions
	if *slide != "" {
		if so, err = parseSlide(*slide, *drift, *focus, *overlap); err != nil {
			return usageError("%v", err)
		}
	} else if *drift != "" || *focus != "" || *overlap != 0 || *dense {
		return usageError("--drift, --focus, --overlap and --dense describe a slide: add --slide FIELDSxFRAMES")
	}
	gen, err := synth.New(lib, opt)
	if err != nil {
		return usageError("%v", err)
	}
	opt = gen.Options()
	for _, p := range earlier { // the flags are good: the earlier output gives way
		if err := os.Remove(p); err != nil {
			return setupError(fmt.Errorf("--out %s: clear the earlier output: %w", *out, err))
		}
	}
	start := time.Now()
	var cells, written int
	switch {
	case *bad:
		files, err := gen.WriteBadFrames(*out, *format)
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "wrote %d bad-input frames of %dx%d to %s: %s; the truth of the focused field in focus.json\n",
			len(files), opt.Width, opt.Height, *out, strings.Join(files, ", "))
	case *slide != "":
		var st *synth.SlideTruth
		where := filepath.Join(*out, "slide.json")
		if *video {
			path := filepath.Join(*out, *name+".avi")
			st, err = gen.WriteSlideVideo(ctx, path, so, *fps)
			where = path + ", " + *name + ".json and " + *name + ".csv"
		} else {
			st, err = gen.WriteSlide(ctx, *out, so, *format)
			where += " and truth.csv beside the frames"
		}
		if err != nil {
			return err
		}
		same := 0
		for _, mv := range st.Moves {
			same += len(mv.Same)
		}
		fmt.Fprintf(m.Stdout, "wrote a slide of %d fields x %d frames (%dx%d), %d distinct cells, %d stage moves (%d cells seen again after a move); ground truth in %s\n",
			so.Fields, so.Frames, opt.Width, opt.Height, len(st.Cells), len(st.Moves), same, where)
	case *video:
		path := filepath.Join(*out, *name+".avi")
		vt, err := gen.WriteVideo(ctx, path, *frames, *fields, *fps)
		if err != nil {
			return err
		}
		cells, written = len(vt.Cells), len(vt.Frames)
		fmt.Fprintf(m.Stdout, "wrote %s: %d frames of %dx%d at %g fps, %d fields, %d distinct cells; ground truth in %s.json and %s.csv\n",
			path, written, opt.Width, opt.Height, *fps, *fields, cells, *name, *name)
	default:
		truths, err := gen.WriteStills(ctx, *out, *frames, *fields, *format)
		if err != nil {
			return err
		}
		seen := map[int]bool{}
		for _, t := range truths {
			for _, c := range t.Cells {
				seen[c.ID] = true
			}
		}
		cells, written = len(seen), len(truths)
		fmt.Fprintf(m.Stdout, "wrote %d frames of %dx%d (%d fields, %d distinct cells) to %s, ground truth beside each frame and in truth.csv\n",
			written, opt.Width, opt.Height, *fields, cells, *out)
	}
	fmt.Fprintf(m.Stdout, "seed %d, %.1f s; the same seed and flags give the same output\n", opt.Seed, time.Since(start).Seconds())
	return nil
}

// synthOutFiles checks --out and --name before anything is generated and returns the
// files of an earlier synth output there, which the run removes once its flags are
// known good: none of its frames may stay beside a truth.csv that no longer lists it.
// The name is a file name in --out, not a path (--name ../../escape wrote outside it).
// A folder that holds files synth did not write (real frames) is refused (helper-39).
func synthOutFiles(out, name string) ([]string, error) {
	if name == "" || name != filepath.Base(name) || name == "." || name == ".." {
		return nil, usageError("--name %q: give a file name without a folder (the video goes into --out)", name)
	}
	entries, err := os.ReadDir(out)
	if errors.Is(err, iofs.ErrNotExist) {
		return nil, nil
	}
	if err != nil { // a folder the machine will not let us read: exit 3, as the other commands' --out
		return nil, setupError(fmt.Errorf("--out %s: %w", out, err))
	}
	var ours []string
	for _, e := range entries {
		n := e.Name()
		video := n == name+".avi" || n == name+".json" || n == name+".csv" // this --name's video and its truth
		if !video && !e.IsDir() && otherSynthVideo(out, n) {
			continue // another --name's video: kept beside (it was refused: helper-41)
		}
		if e.IsDir() || !(synthOutput.MatchString(n) || video) {
			return nil, usageError("--out %s holds %s, which synth did not write: give a new or empty folder (generated frames beside real ones would be read as real)", out, n)
		}
		ours = append(ours, filepath.Join(out, n))
	}
	return ours, nil
}

// otherSynthVideo reports whether file n of folder out is a video synth wrote (X.avi, or
// its truth X.json or X.csv): its X.json names X.avi as its video.
func otherSynthVideo(out, n string) bool {
	ext := filepath.Ext(n)
	if ext != ".avi" && ext != ".json" && ext != ".csv" {
		return false
	}
	base := strings.TrimSuffix(n, ext)
	b, err := os.ReadFile(filepath.Join(out, base+".json"))
	if err != nil || len(b) > 64<<20 {
		return false
	}
	var truth struct {
		Video string `json:"video"`
	}
	return json.Unmarshal(b, &truth) == nil && truth.Video == base+".avi"
}

// synthOutput matches the files synth writes as stills: frames and their truth, slides
// and bad-input frames (a video's are its --name's).
var synthOutput = regexp.MustCompile(`^(frame-\d{4,}\.(png|jpg|json)|truth\.csv|slide\.json|focus\.json|(black|saturated|noise|debris|line|defocus|focus)\.(png|jpg))$`)

// parseSlide reads --slide FIELDSxFRAMES, --drift DX[,DY], --focus LO-HI and --overlap.
func parseSlide(slide, drift, focus string, overlap float64) (synth.SlideOptions, error) {
	so := synth.SlideOptions{Overlap: overlap}
	a, b, ok := strings.Cut(strings.ToLower(slide), "x")
	var err1, err2 error
	so.Fields, err1 = strconv.Atoi(a)
	so.Frames, err2 = strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || so.Fields < 1 || so.Frames < 1 {
		return so, fmt.Errorf("--slide %q: want FIELDSxFRAMES, e.g. 10x3", slide)
	}
	if drift != "" {
		dx, dy, _ := strings.Cut(drift, ",")
		x, err := strconv.Atoi(strings.TrimSpace(dx))
		y := 0
		if err == nil && dy != "" {
			y, err = strconv.Atoi(strings.TrimSpace(dy))
		}
		if err != nil {
			return so, fmt.Errorf("--drift %q: want DX or DX,DY in whole pixels per frame, e.g. 1 or 1,-1", drift)
		}
		so.Drift = image.Pt(x, y)
	}
	if focus != "" {
		lo, hi, ok := strings.Cut(focus, "-")
		var err1, err2 error
		so.Focus[0], err1 = strconv.ParseFloat(strings.TrimSpace(lo), 64)
		so.Focus[1], err2 = strconv.ParseFloat(strings.TrimSpace(hi), 64)
		if !ok || err1 != nil || err2 != nil || so.Focus[1] <= 0 {
			return so, fmt.Errorf("--focus %q: want a blur sigma range LO-HI in px, e.g. 0.3-1.5", focus)
		}
	}
	return so, so.Validate()
}

// setFrameDefaults fills --frames and --fields when they were not given: ten still
// frames, each its own field, or a 48-frame video over four fields.
func setFrameDefaults(fs *flag.FlagSet, frames, fields *int, video bool) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["frames"] {
		*frames = 10
		if video {
			*frames = 48
		}
	}
	if !set["fields"] {
		*fields = *frames
		if video {
			*fields = min(4, *frames)
		}
	}
}
