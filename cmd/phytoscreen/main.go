// Command phytoscreen screens water samples for harmful algal blooms: it captures
// microscope frames, finds and classifies every cell, and counts, alerts and measures
// what the model costs. With no arguments it opens the desktop app; subcommands run the
// same work headless. This package parses arguments and assembles the packages; every
// command returns an error, and main turns it into the exit status once.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/phytoscreen/phytoscreen/store"
	"io"
	"log/slog"
	"os"
	"strings"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailed  = 1 // the work ran but some of it failed (a file could not be read, ...)
	exitUsage   = 2 // bad flags or arguments
	exitRuntime = 3 // setup failed: no runtime library, unreadable pack, ...
)

func main() {
	ctx, stop := stopOnSignal(os.Stderr, os.Exit)
	code := exitCode(NewMain().Run(ctx, os.Args[1:]))
	stop()
	os.Exit(code)
}

// Main is the program: its streams. Tests make their own with other streams.
type Main struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// NewMain returns the program on the process's streams.
func NewMain() *Main { return &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr} }

// command is one subcommand. run writes results to stdout and messages to stderr, and
// returns what went wrong (see exitCode).
type command struct {
	name    string
	summary string
	run     func(m *Main, ctx context.Context, args []string) error // a method of Main
}

// commands is the table of subcommands, in the order help lists them. The first is the
// default: it runs when phytoscreen is started without a command.
var commands = []command{
	{"gui", "open the desktop app (the default with no command)", (*Main).gui},
	{"screen", "screen a sample live: count cells per taxon, concentrations, HAB alerts", (*Main).screen},
	{"classify", "classify single-cell images (files or folders)", (*Main).classify},
	{"eval", "measure accuracy on a labelled list (path,label CSV)", (*Main).eval},
	{"segment", "find, measure and crop the objects in frames, a video or a camera", (*Main).segment},
	{"export", "export a screened sample: counts CSV, per-object CSV or EcoTaxa zip", (*Main).export},
	{"samples", "list the stored samples (their IDs, sites, runs), move them to the trash and back, or mark them", (*Main).samples},
	{"compare", "set two screened samples side by side: counts, the objects counted alike (same frames), energy per cell", (*Main).compare},
	{"report", "write a screened sample's PDF report (HAB groups against trigger levels, alerts, examples), or a programme's weekly report from its lab server", (*Main).pdfReport},
	{"sync", "push this bench's samples to the programme's lab server and take back labels set there", (*Main).syncCmd},
	{"server", "set up the programme's lab server (server migrate) or list its benches (server benches)", (*Main).server},
	{"bench", "measure the models' speed, power and energy per cell under stress", (*Main).bench},
	{"pack", "inspect a classifier pack (pack inspect [DIR]), make its int8 twin (pack optimise) or teach it new taxa (pack teach)", (*Main).pack},
	{"synth", "generate microscope frames or a video of known content", (*Main).synth},
}

// Run dispatches args to a subcommand. Its error, printed here once, gives the exit
// status through exitCode.
func (m *Main) Run(ctx context.Context, args []string) error {
	name := commands[0].name
	switch {
	case len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help"):
		m.usage(m.Stdout)
		return nil
	case len(args) > 0 && !strings.HasPrefix(args[0], "-"):
		name, args = args[0], args[1:]
		// else: flags without a command are the default command's ("phytoscreen --db F")
	}
	for _, c := range commands {
		if c.name == name {
			slog.SetDefault(slog.New(newLineHandler(m.Stderr, logLevel(), name)))
			err := asInterrupted(ctx, c.run(m, ctx, args))
			if store.IsDamaged(err) {
				// A store damaged past its header opens and fails on a later page: said as
				// the damage it is, exit 3, like one damaged at its start (helper-60: SQLite's
				// bare "malformed", exit 1 or 3 by command).
				err = &exitError{code: exitRuntime, err: fmt.Errorf("%w: the file is damaged; phytoscreen left it as it was: restore it from a backup or pass another --db FILE", err)}
			}
			m.report(name, err)
			return err
		}
	}
	fmt.Fprintf(m.Stderr, "phytoscreen: unknown command %q\n\n", name)
	m.usage(m.Stderr)
	return errUsageShown
}

// report prints what went wrong, unless the command already said it.
func (m *Main) report(name string, err error) {
	var ee *exitError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.As(err, &ee) && ee.err == nil:
	default:
		fmt.Fprintf(m.Stderr, "phytoscreen %s: %v\n", name, err)
	}
}

func logLevel() slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(os.Getenv("PHYTOSCREEN_LOG"))); err != nil {
		return slog.LevelInfo
	}
	return l
}

func (m *Main) usage(w io.Writer) {
	fmt.Fprintln(w, "phytoscreen: harmful algal bloom screening at the bench microscope")
	fmt.Fprintln(w, "\nusage: phytoscreen [command] [flags] [args]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'phytoscreen COMMAND -h' for a command's flags.")
}

// exitError is an error with the exit status it gives. Without err, the command has
// already reported what went wrong (each failed file, the flags' usage).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageError is the user's mistake in flags or arguments (exit 2).
func usageError(format string, a ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, a...)}
}

// setupError is a failure to start the work: no runtime library, a pack or store that
// cannot be opened (exit 3).
func setupError(err error) error {
	var ee *exitError
	if errors.As(err, &ee) {
		return err // already classified (a usage mistake found while setting up)
	}
	return &exitError{code: exitRuntime, err: err}
}

// Errors whose message was already written.
var (
	errUsageShown = &exitError{code: exitUsage}  // the usage was printed
	errSomeFailed = &exitError{code: exitFailed} // the work ran; the failures were reported
)

// exitCode is the exit status err gives: 0 for none (and for -h), 128 + the signal's
// number after a stop signal, the status an exitError carries, and 1 (the work failed)
// for any other error.
func exitCode(err error) int {
	var ee *exitError
	var sig *interrupted
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &sig):
		return sig.code()
	case errors.As(err, &ee):
		return ee.code
	}
	return exitFailed
}
