package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"time"

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
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
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
	if len(pos) > 0 || *out == "" {
		fmt.Fprintln(m.Stderr, "phytoscreen synth: --out is required and no positional arguments are taken")
		return showUsage(fs)
	}
	if opt.Mix, err = synth.ParseMix(mix); err != nil {
		return usageError("--mix %v", err)
	}
	setFrameDefaults(fs, frames, fields, *video)
	gen, err := synth.New(lib, opt)
	if err != nil {
		return usageError("%v", err)
	}
	start := time.Now()
	var cells, written int
	if *video {
		path := filepath.Join(*out, *name+".avi")
		vt, err := gen.WriteVideo(ctx, path, *frames, *fields, *fps)
		if err != nil {
			return err
		}
		cells, written = len(vt.Cells), len(vt.Frames)
		fmt.Fprintf(m.Stdout, "wrote %s: %d frames of %dx%d at %g fps, %d fields, %d distinct cells; ground truth in %s.json and %s.csv\n",
			path, written, opt.Width, opt.Height, *fps, *fields, cells, *name, *name)
	} else {
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
