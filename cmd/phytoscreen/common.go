package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/inference"
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
// --top 3" works like "classify --top 3 DIR"); "--" ends flag parsing.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
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

// usageCode maps a flag parsing error to the exit code (help is not an error).
func usageCode(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
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
	fs.StringVar(&m.pack, "pack", "", "classifier pack `folder` (default: the built-in "+assets.DefaultPackName+")")
	fs.StringVar(&m.model, "model", "optimised", "model variant: base or optimised")
	fs.StringVar(&m.ortLib, "ort-lib", "", "`path` to libonnxruntime.so.1 (default: $"+inference.LibraryEnv+", beside the executable, the project cache, system paths)")
	fs.IntVar(&m.threads, "threads", 0, "ONNX Runtime intra-op threads (default: number of CPUs)")
	fs.IntVar(&m.batch, "batch", 16, "crops per inference run")
}

// loadPack loads --pack or the built-in pack.
func loadPack(dir string) (*inference.Pack, error) {
	if dir == "" {
		return inference.LoadPack(assets.DefaultPack(), "built-in:"+assets.DefaultPackName)
	}
	return inference.LoadPackDir(dir)
}

// open loads the runtime and the pack and opens a classifier with the flags' settings.
func (m *modelFlags) open(topK int) (*inference.Classifier, error) {
	v, err := inference.ParseVariant(m.model)
	if err != nil {
		return nil, fmt.Errorf("%w: --model: %v", errUsage, err)
	}
	if m.threads < 0 || m.batch < 1 {
		return nil, fmt.Errorf("%w: --threads must be >= 0 and --batch >= 1", errUsage)
	}
	p, err := loadPack(m.pack)
	if err != nil {
		return nil, err
	}
	if _, err := inference.InitRuntime(m.ortLib); err != nil {
		return nil, err
	}
	return inference.NewClassifier(p, inference.Options{Variant: v, Threads: m.threads, Batch: m.batch, TopK: topK})
}

// setupCode reports a setup error on one line and returns its exit code.
func setupCode(w io.Writer, err error) int {
	fmt.Fprintf(w, "phytoscreen: %v\n", err)
	if errors.Is(err, errUsage) {
		return exitUsage
	}
	return exitRuntime
}

// isTerminal reports whether w is an interactive terminal (for progress bars).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// pct formats a fraction as a percentage.
func pct(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }

// dirOf returns the folder of path ("." for a bare name).
func dirOf(path string) string { return filepath.Dir(path) }
