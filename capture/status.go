package capture

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// StatusKind says what happened to a source or a stream.
type StatusKind int

// The events a source or the segmenter reports while it goes on working.
const (
	StatusSkipped      StatusKind = iota // a frame or file was unusable and was skipped
	StatusLost                           // the camera stopped delivering frames
	StatusRetrying                       // a reconnection attempt failed; another follows after Wait
	StatusReconnected                    // the camera delivers frames again
	StatusSizeChanged                    // a frame of another size arrived: background and tracks restarted
	StatusFieldChanged                   // the stage moved to a new field: cells from now on are new cells
)

var statusNames = [...]string{"skipped", "lost", "retrying", "reconnected", "size changed", "field changed"}

// String names the kind of event.
func (k StatusKind) String() string {
	if int(k) < len(statusNames) {
		return statusNames[k]
	}
	return fmt.Sprintf("status(%d)", int(k))
}

// Status is an event that does not stop a source: a skipped file, a camera lost and
// retried, a frame of another size. Sources and the segmenter report them through an
// OnStatus callback so the caller can show them; what was already counted stays counted.
type Status struct {
	Source  string
	Kind    StatusKind
	Frame   int           // index of the frame concerned, -1 when none
	Path    string        // the file concerned, if any
	Attempt int           // reconnection attempt, from 1 (StatusRetrying, StatusReconnected)
	Wait    time.Duration // delay before the next attempt (StatusRetrying)
	Err     error         // the reason, if any
}

// String describes the event on one line, for a log or a status bar.
func (s Status) String() string {
	msg := s.Source + ": " + s.Kind.String()
	if s.Path != "" {
		msg += " " + s.Path
	} else if s.Frame >= 0 {
		msg += fmt.Sprintf(" at frame %d", s.Frame)
	}
	if s.Attempt > 0 {
		msg += fmt.Sprintf(" (attempt %d)", s.Attempt)
	}
	if s.Err != nil {
		msg += ": " + s.Err.Error()
	}
	if s.Wait > 0 {
		msg += fmt.Sprintf("; next try in %s", s.Wait.Round(time.Millisecond))
	}
	return msg
}

// LogStatus is the default status callback: it logs the event with log/slog.
func LogStatus(s Status) {
	attrs := []any{"source", s.Source, "event", s.Kind.String()}
	if s.Frame >= 0 {
		attrs = append(attrs, "frame", s.Frame)
	}
	if s.Path != "" {
		attrs = append(attrs, "path", s.Path)
	}
	if s.Attempt > 0 {
		attrs = append(attrs, "attempt", s.Attempt)
	}
	if s.Wait > 0 {
		attrs = append(attrs, "retry_in", s.Wait)
	}
	if s.Err != nil {
		attrs = append(attrs, "err", s.Err)
	}
	level := slog.LevelWarn
	if s.Kind == StatusReconnected || s.Kind == StatusFieldChanged {
		level = slog.LevelInfo
	}
	slog.Log(context.Background(), level, "capture", attrs...)
}

// Report hands s to fn, or logs it (LogStatus) when fn is nil.
func Report(fn func(Status), s Status) {
	if fn == nil {
		fn = LogStatus
	}
	fn(s)
}
