package ui

import (
	"context"
	"sync"

	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
)

// session is one screening run started from the app: the pipeline, its source (which
// can pause), the store's record of it and the frames for the live view.
type session struct {
	spec   string
	kind   SourceKind
	sample screening.Sample
	rules  Rules
	total  int // files of a folder source, for the progress bar (0: unknown)

	// Set on the UI goroutine once the run has opened (nil while it opens); the run's
	// goroutines are started after, so they read them without a lock.
	p      *screening.Pipeline
	src    *pausableSource
	rec    *store.Run
	cancel context.CancelFunc
	// stopRequested is set (UI goroutine) by Stop, also while the run still opens.
	stopRequested bool

	frames *FrameBuffer
	done   chan struct{} // closed once Run has returned and the store run is finished

	mu    sync.Mutex
	final screening.Snapshot
	err   error
	ended bool
}

// result returns the final snapshot and error once the run has ended.
func (s *session) result() (screening.Snapshot, error, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.final, s.err, s.ended
}

// pausableSource lets the technician pause a run: while paused, Next waits (a file) or
// reads and discards frames (a live camera, whose driver would otherwise queue stale
// frames). The pipeline sees a source that is slow for a while; nothing counted is lost.
type pausableSource struct {
	capture.Source
	live bool

	mu     sync.Mutex
	paused bool
	resume chan struct{} // closed when the pause ends
}

// newPausable wraps src, keeping what it says of itself (a camera is live).
func newPausable(src capture.Source) *pausableSource {
	p := &pausableSource{Source: src}
	if l, ok := src.(interface{ Live() bool }); ok {
		p.live = l.Live()
	}
	return p
}

// Live reports whether the wrapped source is a live camera (the pipeline drops frames
// only from those).
func (p *pausableSource) Live() bool { return p.live }

// SetPaused pauses or resumes the source.
func (p *pausableSource) SetPaused(paused bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if paused == p.paused {
		return
	}
	p.paused = paused
	if paused {
		p.resume = make(chan struct{})
	} else {
		close(p.resume)
	}
}

// Paused reports whether the source is paused.
func (p *pausableSource) Paused() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.paused
}

// Next returns the next frame, waiting while paused.
func (p *pausableSource) Next(ctx context.Context) (capture.Frame, error) {
	for {
		p.mu.Lock()
		paused, resume := p.paused, p.resume
		p.mu.Unlock()
		if !paused {
			return p.Source.Next(ctx)
		}
		if p.live {
			f, err := p.Source.Next(ctx)
			if err != nil {
				return f, err
			}
			f.Mat.Close()
			continue
		}
		select {
		case <-resume:
		case <-ctx.Done():
			return capture.Frame{}, ctx.Err()
		}
	}
}
