package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/outfile"
	"golang.org/x/term"
)

// newFlags makes a flag set whose errors and help go to w.
func newFlags(name, args string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(w)
	fs.Usage = func() {
		fmt.Fprintf(w, "usage: phytoscreen %s [flags] %s\n\nflags:\n", name, args)
		fs.PrintDefaults()
	}
	return fs
}

// parseArgs parses flags placed anywhere among the positional arguments ("classify DIR
// --top 3" works like "classify --top 3 DIR"); "--" ends flag parsing. Its error is
// flag.ErrHelp for -h, errUsageShown (the flag package printed the mistake and the
// usage), or a usage error naming a flag given out of its range (checkFlags).
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	pos, err := parseAll(fs, args)
	if err == nil {
		err = checkFlags(fs)
	}
	if err == nil && flagsChecked != nil {
		err = flagsChecked(fs, pos)
	}
	return pos, err
}

// parseAll parses the flags among args and returns the positional arguments.
func parseAll(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	// A mistake in one flag is said in one line with where to read the rest: the flag
	// package printed the usage of every flag under it (helper-52: sixty lines after
	// "--volume-ml 0,5"); -h still prints them all.
	usage := fs.Usage
	fs.Usage = func() {}
	defer func() { fs.Usage = usage }()
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				usage()
				return nil, err
			}
			fmt.Fprintf(fs.Output(), "run 'phytoscreen %s -h' for its flags\n", fs.Name())
			return nil, errUsageShown
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// flagsOnly refuses positional arguments to a command that takes flags only. A stray
// word is most often a value with a space left unquoted (--site Pond 3); the usage alone,
// or "--sample and --out are required" when both were given, did not say so (helper-60).
func flagsOnly(pos []string) error {
	if len(pos) == 0 {
		return nil
	}
	return usageError("unexpected argument %q: this command takes flags only; quote a value that has spaces (\"Pond 3\")", pos[0])
}

// count writes n with its noun, singular for one: "1 object", "3 objects".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// showUsage prints the flags' usage and returns errUsageShown.
func showUsage(fs *flag.FlagSet) error {
	fs.Usage()
	return errUsageShown
}

// outputError gives a failed output its exit status: a file that could not be created
// at all (its folder missing, or closed to this user) is a setup failure, exit 3, as
// README's "Command line" has it for an output folder; a write that fails part way (a
// full disk) is the work failing, exit 1; a path that names a folder is the
// arguments' mistake, exit 2.
func outputError(err error) error {
	if _, ok := errors.AsType[*outfile.CreateError](err); ok {
		return setupError(err)
	}
	if errors.Is(err, outfile.ErrIsFolder) { // --out names a folder: the arguments' mistake
		return usageError("%v", err)
	}
	return err
}

// modelFlags are the flags every command that classifies takes.
type modelFlags struct {
	pack    string
	model   string
	ortLib  string
	threads int
	batch   int
}

func (m *modelFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&m.pack, "pack", "", "classifier pack: a built-in `name` ("+strings.Join(assets.BuiltinPacks(), ", ")+"; default "+assets.DefaultPackName+") or a pack folder")
	fs.StringVar(&m.model, "model", "optimised", "model variant: base or optimised")
	fs.StringVar(&m.ortLib, "ort-lib", "", "`path` to libonnxruntime.so.1 (default: $"+inference.LibraryEnv+", beside the executable, the project cache, system paths)")
	intVar(fs, &m.threads, "threads", 0, 0, maxThreads(), "a thread count (0: one per core)", "ONNX Runtime intra-op threads (default: number of CPUs)")
	intVar(fs, &m.batch, "batch", 16, 1, maxBatch, "a batch size", "crops per inference run")
}

// open loads the runtime and the pack and opens a classifier with the flags' settings.
func (m *modelFlags) open(topK int) (*inference.Classifier, error) {
	v, err := inference.ParseVariant(m.model)
	if err != nil {
		return nil, usageError("--model: %v", err)
	}
	p, err := app.LoadPack(m.pack)
	if err != nil {
		return nil, setupError(err)
	}
	if _, err := inference.InitRuntime(m.ortLib); err != nil {
		return nil, setupError(err)
	}
	c, err := inference.NewClassifier(p, inference.Options{Variant: v, Threads: m.threads, Batch: m.batch, TopK: topK})
	if err != nil {
		return nil, setupError(err)
	}
	return c, nil
}

// detectorHelp is the help of the --detector flag of segment and screen.
var detectorHelp = "find objects with a learned detector: `NAME` of a built-in one (" + strings.Join(assets.BuiltinDetectors(), ", ") +
	", trained on 320x240 frames of a low-cost colour camera on a brightfield microscope) or a detector folder; default: the threshold segmenter"

// openDetector loads the runtime and a learned detector: a built-in one by name, else
// the detector folder at spec.
func openDetector(spec, ortLib string) (*inference.Detector, error) {
	if _, err := inference.InitRuntime(ortLib); err != nil {
		return nil, setupError(err)
	}
	if fsys, ok := assets.BuiltinDetector(spec); ok {
		d, err := inference.LoadDetectorFS(fsys, "builtin detector "+spec)
		if err != nil {
			return nil, setupError(err)
		}
		return d, nil
	}
	if st, err := os.Stat(spec); err != nil || !st.IsDir() {
		return nil, usageError("--detector %q: neither a built-in detector (%s) nor a detector folder", spec, strings.Join(assets.BuiltinDetectors(), ", "))
	}
	d, err := inference.LoadDetector(spec)
	if err != nil {
		return nil, setupError(err)
	}
	return d, nil
}

// isTerminal reports whether w is an interactive terminal (for progress bars).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// pct formats a fraction as a percentage.
func pct(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }
