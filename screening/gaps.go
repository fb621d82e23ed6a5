package screening

import (
	"time"

	"github.com/phytoscreen/phytoscreen/capture"
)

// SourceEvent is something that happened to the source during a run without ending it:
// a camera lost, and its reconnection. The session store keeps them, so a run's record
// says when no frames came and why.
type SourceEvent struct {
	Time    time.Time `json:"time"`
	Source  string    `json:"source"`
	Kind    string    `json:"kind"`              // SourceLost or SourceReconnected
	Frame   int       `json:"frame"`             // index of the next frame at that moment: the frames before it were read
	Attempt int       `json:"attempt,omitempty"` // reconnection attempts it took (SourceReconnected)
	Detail  string    `json:"detail,omitempty"`  // the reason reported
}

// Kinds of SourceEvent: the capture.StatusKind names.
var (
	SourceLost        = capture.StatusLost.String()
	SourceReconnected = capture.StatusReconnected.String()
)

// Gap is a time the source delivered no frames: from a camera lost to its
// reconnection. The cells counted before it stay counted; counting goes on after it.
type Gap struct {
	Source string    `json:"source"`
	Start  time.Time `json:"start"`
	// End is when frames came again; zero while the gap lasts, or when the source never
	// came back (the run then ended with the source's error).
	End      time.Time `json:"end,omitzero"`
	Frame    int       `json:"frame"`    // index of the first frame after the gap
	Attempts int       `json:"attempts"` // reconnection attempts it took
	Reason   string    `json:"reason,omitempty"`
}

// Duration is how long the gap lasted (until now when it has not ended).
func (g Gap) Duration() time.Duration {
	if g.End.IsZero() {
		return time.Since(g.Start)
	}
	return g.End.Sub(g.Start)
}

// SourceStatus records an event of the source: a camera lost opens a gap in the run, its
// reconnection closes it; both are handed to the sink with the next batch (or at the
// end of the run). Other events (a skipped file, a field change) are the source's and
// the segmenter's to report and are ignored here. Give it to the source as its OnStatus
// (after reporting the event to the user), from any goroutine.
func (p *Pipeline) SourceStatus(st capture.Status) {
	now := time.Now()
	ev := SourceEvent{Time: now, Source: st.Source, Kind: st.Kind.String(), Frame: st.Frame, Attempt: st.Attempt}
	if st.Err != nil {
		ev.Detail = st.Err.Error()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch st.Kind {
	case capture.StatusLost:
		if n := len(p.gaps); n > 0 && p.gaps[n-1].End.IsZero() {
			return // already in a gap: a device that fails again before delivering
		}
		p.gaps = append(p.gaps, Gap{Source: st.Source, Start: now, Frame: st.Frame, Reason: ev.Detail})
	case capture.StatusReconnected:
		n := len(p.gaps)
		if n == 0 || !p.gaps[n-1].End.IsZero() {
			return // a reconnection without a loss reported to this run
		}
		g := &p.gaps[n-1]
		g.End, g.Attempts = now, st.Attempt
	default:
		return
	}
	p.pendingSource = append(p.pendingSource, ev)
	p.changed()
}
