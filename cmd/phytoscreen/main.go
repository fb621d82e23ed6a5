// Command phytoscreen screens water samples for harmful algal blooms: it captures
// microscope frames, finds and classifies every cell, and counts, alerts and measures
// what the model costs. With no arguments it opens the desktop app; subcommands run the
// same work headless. This package only parses arguments and wires the packages together.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/phytoscreen/phytoscreen/screening"
)

// Exit codes shared by every subcommand.
const (
	exitOK      = 0
	exitFailed  = 1 // the work ran but some of it failed (a file could not be read, ...)
	exitUsage   = 2 // bad flags or arguments
	exitRuntime = 3 // setup failed: no runtime library, unreadable pack, ...
)

// command is one subcommand. run returns an exit code; it writes results to stdout and
// messages to stderr.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *Env, args []string) int
}

// Env is what a subcommand gets from main: its streams. Tests build their own.
type Env struct {
	Stdout, Stderr io.Writer
	Stdin          io.Reader
	// WrapClassifier, when set, wraps the classifier the screen command's pipeline uses:
	// the tests' way to make one batch fail as a runtime error would. nil in main.
	WrapClassifier func(screening.Classifier) screening.Classifier
}

var commands = map[string]command{}

// register adds a subcommand; each subcommand's file calls it from init.
func register(c command) { commands[c.name] = c }

// defaultCommand runs when phytoscreen is started without a subcommand (the desktop app
// once it exists).
var defaultCommand = "help"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := &Env{Stdout: os.Stdout, Stderr: os.Stderr, Stdin: os.Stdin}
	os.Exit(Run(ctx, env, os.Args[1:]))
}

// Run dispatches args to a subcommand and returns the exit code.
func Run(ctx context.Context, env *Env, args []string) int {
	slog.SetDefault(slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: logLevel()})))
	name := defaultCommand
	switch {
	case len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help"):
		name = "help"
	case len(args) > 0 && !strings.HasPrefix(args[0], "-"):
		name, args = args[0], args[1:]
		// else: flags without a command are the default command's ("phytoscreen --db F")
	}
	if name == "help" {
		usage(env.Stdout)
		return exitOK
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(env.Stderr, "phytoscreen: unknown command %q\n\n", name)
		usage(env.Stderr)
		return exitUsage
	}
	return c.run(ctx, env, args)
}

func logLevel() slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(os.Getenv("PHYTOSCREEN_LOG"))); err != nil {
		return slog.LevelInfo
	}
	return l
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "phytoscreen: harmful algal bloom screening at the bench microscope")
	fmt.Fprintln(w, "\nusage: phytoscreen [command] [flags] [args]")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'phytoscreen COMMAND -h' for a command's flags.")
}

// errUsage marks an error as the user's (exit status 2).
var errUsage = errors.New("usage")
