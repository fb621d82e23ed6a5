package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// stopSignals end the program: Ctrl+C, kill's default, and the terminal closing.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// stopGrace is how long the program has after the first signal to stop in order (end
// the run, write its summary, close the store) before it quits anyway: a read that
// cannot be interrupted (a network file system, a device) must not hold it. It leaves
// room for the cells already found to be classified: one batch of the cyanobacteria
// pack takes 0.7 to 0.9 s on a 2-core machine, and 750 ms cut it off, quitting without
// a summary (helper-39). A second Ctrl+C still quits at once.
const stopGrace = 5 * time.Second

// interrupted is the cause of the context's cancellation after a signal, and the error
// of a command stopped by it.
type interrupted struct {
	sig os.Signal
	err error // what the command returned, if it said more than that it was cancelled
}

func (e *interrupted) Error() string {
	msg := "stopped by " + signalName(e.sig)
	if e.err != nil && !errors.Is(e.err, context.Canceled) {
		// A command's own error often ends with the stop's cause: said once
		// ("stopped by SIGINT: screen interrupted after 33 of 131 frames", helper-60).
		msg += ": " + strings.TrimSuffix(e.err.Error(), ": "+msg)
	}
	return msg
}

// code is the exit status a shell gives a program killed by the signal: 128 + its
// number (130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP).
func (e *interrupted) code() int {
	if s, ok := e.sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return exitFailed
}

// signalName writes a signal as people type it with kill.
func signalName(sig os.Signal) string {
	switch sig {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return sig.String()
}

// stopOnSignal returns a context cancelled by the first stop signal, with cause
// *interrupted. It then says on stderr that the program is stopping; a second signal,
// or stopGrace without the program having ended, quits at once through exit with the
// signal's status. stop releases the signals.
func stopOnSignal(stderr io.Writer, exit func(int)) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, stopSignals...)
	done := make(chan struct{})
	go func() {
		var first os.Signal
		select {
		case first = <-sigs:
		case <-done:
			return
		}
		cause := &interrupted{sig: first}
		cancel(cause)
		fmt.Fprintf(stderr, "\nphytoscreen: %s: stopping (Ctrl+C again quits at once)\n", signalName(first))
		select {
		case again := <-sigs:
			fmt.Fprintf(stderr, "phytoscreen: %s again: quitting now\n", signalName(again))
			exit(cause.code())
		case <-time.After(stopGrace):
			fmt.Fprintf(stderr, "phytoscreen: still busy %v after %s (a read that cannot be interrupted?): quitting now, without a summary\n", stopGrace, signalName(first))
			exit(cause.code())
		case <-done:
		}
	}()
	return ctx, func() {
		close(done)
		signal.Stop(sigs)
		cancel(nil)
	}
}

// asInterrupted turns what a command returned after a signal cancelled ctx into the
// error that reports it and gives the signal's exit status; other errors pass through.
func asInterrupted(ctx context.Context, err error) error {
	var cause *interrupted
	if !errors.As(context.Cause(ctx), &cause) {
		return err
	}
	var ee *exitError
	if errors.As(err, &ee) && ee.err == nil {
		err = nil // the command already reported what failed
	}
	return &interrupted{sig: cause.sig, err: err}
}
