package main

import (
	"fmt"
	"strings"

	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/internal/app"
)

// cellImages is a folder given as frames whose images look like single-cell crops, by
// the guess the app's Open folder makes (app.SurveyFolder), so that the command line and
// the app agree on what such a folder looks like. The command line still reads a plain
// folder as frames (a script's folder of frames must not change meaning with its
// images' sizes); it only says so, with the command that reads them as cells
// (helper-84: 62 Noctiluca crops screened as frames gave 64 objects, the app 62 cells).
type cellImages struct {
	dir    string // as the command line named it
	images int
	median string // "typically 42 x 51 pixels", or ""
	// args are the command's own arguments, from which the command to run instead is
	// written with --source cells:DIR.
	args []string
	// sample is the sample ID the command to run instead gives after the run, when
	// args name one: the run's sample holds these images now, and takes no run of
	// another way of finding objects, even from the trash.
	sample string
}

// lookForCellImages surveys spec when it is a folder of frames; ok is false for any
// other source, a folder of frames, or one that cannot be surveyed (the run says why).
func lookForCellImages(spec capture.Spec) (cellImages, bool) {
	if spec.Kind != capture.KindFolder {
		return cellImages{}, false
	}
	sv, err := app.SurveyFolder(spec.Path)
	if err != nil || !sv.Cells {
		return cellImages{}, false
	}
	c := cellImages{dir: spec.Path, images: len(sv.Files)}
	if sv.Median.X > 0 {
		c.median = fmt.Sprintf("typically %d x %d pixels", sv.Median.X, sv.Median.Y)
	}
	return c, true
}

// what says what the folder looks like: "the images of DIR (62 image files, typically
// 42 x 51 pixels) look like single-cell crops".
func (c cellImages) what() string {
	size := ""
	if c.median != "" {
		size = ", " + c.median
	}
	return fmt.Sprintf("the images of %s (%s%s) look like single-cell crops", c.dir, count(c.images, "image file", "image files"), size)
}

// command is the screen command to run instead: args with --source cells:DIR, and
// --sample c.sample where both are set.
func (c cellImages) command() string {
	with := map[string]string{"source": "cells:" + c.dir}
	if c.sample != "" {
		with["sample"] = c.sample
	}
	return "phytoscreen screen " + withFlags(c.args, with)
}

// before is the note said before the run: what the folder looks like, what a folder
// means, and the command that reads each image as one cell.
func (c cellImages) before() string {
	return fmt.Sprintf("%s; a folder is screened as microscope frames, each image searched for cells, so a cell can be cut in parts or missed, and objects over a tenth of their image are noted. If each image is one cell, screen them as single-cell images instead, as the app's Open folder offers for such a folder: %s",
		c.what(), c.command())
}

// after is the note in the run's summary: the run is stored as sample id of db (runs
// in it, this one included). The command to run instead screens into a new sample
// (c.sample); a sample of this run alone goes to the trash, so that the same water is
// not counted twice in the site's trend.
func (c cellImages) after(db, id string, runs int) string {
	then := fmt.Sprintf("screen them as single-cell images into a new sample (sample %s keeps this run)", id)
	if runs <= 1 {
		then = fmt.Sprintf("move this run's sample to the trash (phytoscreen samples delete --db %s %s) and screen them as single-cell images into a new sample", shellQuote(db), shellQuote(id))
	}
	return fmt.Sprintf("%s, and were screened as microscope frames, each image searched for cells. If each image is one cell (as the app's Open folder takes such a folder), %s:\n  %s",
		c.what(), then, c.command())
}

// withFlags is args (a command's own arguments) with the values of the flags named in
// with replaced, each quoted for a shell. A flag of with that args lack is left out:
// its default stays.
func withFlags(args []string, with map[string]string) string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			for _, rest := range args[i:] {
				out = append(out, shellQuote(rest))
			}
			break
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		v, ok := with[name]
		if !strings.HasPrefix(a, "-") || !ok {
			out = append(out, shellQuote(a))
			continue
		}
		out = append(out, "--"+name, shellQuote(v))
		if !hasValue {
			i++ // the value, as the next argument
		}
	}
	return strings.Join(out, " ")
}

// segmentNote is segment's note for such a folder: segment finds objects in frames
// whatever they are; the commands that take each image whole as one cell are named.
func (c cellImages) segmentNote() string {
	return fmt.Sprintf("%s; segment searches each image for objects as in a microscope frame. If each image is one cell, classify them whole: phytoscreen classify %s, or count them as a sample: phytoscreen screen --source %s",
		c.what(), shellQuote(c.dir), shellQuote("cells:"+c.dir))
}
