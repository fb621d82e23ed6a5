package main

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"

	"github.com/phytoscreen/phytoscreen/internal/typednum"
	"github.com/phytoscreen/phytoscreen/screening"
)

// Ranges of the number flags, wide enough for every real sample and instrument; outside
// them a figure is a typing mistake (--volume-ml 1e-300 printed a 300-digit
// concentration, --factor 1e308 an infinite one).
const (
	maxBatch = 1024 // crops per inference run, as the app's settings allow
	// The volume examined and the factor: the sample's own bounds (screening), so the
	// app and every command refuse the same figures.
	minVolumeML, maxVolumeML = screening.MinVolumeML, screening.MaxVolumeML
	minFactor, maxFactor     = screening.MinFactor, screening.MaxFactor
	// Micrometres per pixel: 1000 is a millimetre per pixel, far below any microscope.
	maxUmPerPx = 1000
	// Frames per second a camera is asked for; cameras give at most a few hundred.
	maxFPS = 1000
)

// maxThreads is the most ONNX Runtime threads a command takes: one per core. More only
// contend for the cores, and a huge count (--threads 100000) made ONNX Runtime start
// that many threads and grow memory without bound.
func maxThreads() int { return runtime.NumCPU() }

// rangeChecker is a flag value that knows its range; checkFlags calls check once all
// flags are parsed, so the error is one line naming the flag, the value and the range.
type rangeChecker interface {
	check(name string) error
}

// floatFlag is a float64 flag accepting only finite values from lo to hi.
type floatFlag struct {
	p      *float64
	lo, hi float64
	what   string // what the number is, for the error: "the volume examined, in mL"
}

func (f *floatFlag) String() string {
	if f == nil || f.p == nil { // the flag package prints the zero value of the type
		return "0"
	}
	return strconv.FormatFloat(*f.p, 'g', -1, 64)
}

func (f *floatFlag) Set(s string) error {
	if v, err := strconv.ParseFloat(s, 64); err == nil { // NaN and Inf too: check names the range
		*f.p = v
		return nil
	}
	v, err := typednum.Parse(s)
	switch {
	case errors.Is(err, typednum.ErrNotNumber):
		return fmt.Errorf("not a number: give %s from %g to %g", f.what, f.lo, f.hi)
	case err != nil: // "1,000": a thousand or one? said with both readings
		return err
	case typednum.HasDecimalComma(s):
		// A decimal comma, as typed where it is the custom (0,5 mL): a command line is
		// read by scripts too, so it takes the point only.
		return fmt.Errorf("not a number: write the decimal with a point, %s", strings.Replace(s, ",", ".", 1))
	}
	*f.p = v
	return nil
}

func (f *floatFlag) Get() any { return *f.p }

func (f *floatFlag) check(name string) error {
	if v := *f.p; !(v >= f.lo && v <= f.hi) { // NaN fails both
		return usageError("--%s %v: give %s from %g to %g", name, v, f.what, f.lo, f.hi)
	}
	return nil
}

// intFlag is an int flag accepting only values from lo to hi.
type intFlag struct {
	p      *int
	lo, hi int
	what   string
}

func (f *intFlag) String() string {
	if f == nil || f.p == nil {
		return "0"
	}
	return strconv.Itoa(*f.p)
}

func (f *intFlag) Set(s string) error {
	v, err := strconv.ParseInt(s, 0, strconv.IntSize)
	if err != nil {
		return fmt.Errorf("not a whole number: give %s", f.what)
	}
	*f.p = int(v)
	return nil
}

func (f *intFlag) Get() any { return *f.p }

func (f *intFlag) check(name string) error {
	if v := *f.p; v < f.lo || v > f.hi {
		return usageError("--%s %d: give %s from %d to %d", name, v, f.what, f.lo, f.hi)
	}
	return nil
}

// listFlag is a comma-separated list of whole numbers, each from lo to hi (bench
// --threads 1,4). It keeps the text; the command reads the numbers with parseInts.
type listFlag struct {
	p      *string
	lo, hi int
	what   string
}

func (f *listFlag) String() string {
	if f == nil || f.p == nil {
		return ""
	}
	return *f.p
}

func (f *listFlag) Set(s string) error { *f.p = s; return nil }

func (f *listFlag) Get() any { return *f.p }

func (f *listFlag) check(name string) error {
	ns, err := parseInts("--"+name, *f.p)
	if err != nil {
		return usageError("%v", err)
	}
	for _, n := range ns {
		if n < f.lo || n > f.hi {
			return usageError("--%s %d: give %s from %d to %d", name, n, f.what, f.lo, f.hi)
		}
	}
	return nil
}

// listVar defines a list flag whose numbers are limited to [lo, hi].
func listVar(fs *flag.FlagSet, p *string, name, value string, lo, hi int, what, usage string) {
	*p = value
	fs.Var(&listFlag{p: p, lo: lo, hi: hi, what: what}, name, fmt.Sprintf("%s (each %d to %d)", usage, lo, hi))
}

// flagsChecked, when set (FuzzFlags), is called with a command's flags and positional
// arguments once they are parsed and checked; an error from it ends the command there,
// so the flags are checked without anything being opened or run.
var flagsChecked func(fs *flag.FlagSet, pos []string) error

// floatVar defines a float64 flag limited to [lo, hi]; the usage gets the range.
func floatVar(fs *flag.FlagSet, p *float64, name string, value, lo, hi float64, what, usage string) {
	*p = value
	fs.Var(&floatFlag{p: p, lo: lo, hi: hi, what: what}, name, fmt.Sprintf("%s (%g to %g)", usage, lo, hi))
}

// intVar defines an int flag limited to [lo, hi]; the usage gets the range.
func intVar(fs *flag.FlagSet, p *int, name string, value, lo, hi int, what, usage string) {
	*p = value
	fs.Var(&intFlag{p: p, lo: lo, hi: hi, what: what}, name, fmt.Sprintf("%s (%d to %d)", usage, lo, hi))
}

// checkFlags checks the flags given against their ranges, and refuses NaN and infinities
// in every float flag, ranged or not (strconv reads "NaN", "Inf" and "1e999" as
// numbers): a NaN threshold compares false with everything and passed checks written
// as "x < lo", an infinite factor gave +Inf concentrations. It returns the first mistake
// in flag name order as a usage error.
func checkFlags(fs *flag.FlagSet) error {
	var err error
	fs.Visit(func(f *flag.Flag) {
		if err != nil {
			return
		}
		if rc, ok := f.Value.(rangeChecker); ok {
			err = rc.check(f.Name)
			return
		}
		if g, ok := f.Value.(flag.Getter); ok {
			if v, ok := g.Get().(float64); ok && (math.IsNaN(v) || math.IsInf(v, 0)) {
				err = usageError("--%s %v: give a finite number", f.Name, v)
			}
		}
	})
	return err
}
