package capture

import (
	"context"
	"sync"
	"time"
)

// Paced delivers a file's frames at the rate they were recorded, so a demo plays like a
// camera instead of as fast as the machine can read it. A ticker paces it.
type Paced struct {
	Source
	tick *time.Ticker
}

// NewPaced paces src at fps frames per second (10 when fps is unknown or absurd).
func NewPaced(src Source, fps float64) *Paced {
	if fps <= 0 || fps > 240 {
		fps = 10
	}
	return &Paced{Source: src, tick: time.NewTicker(time.Duration(float64(time.Second) / fps))}
}

// Next waits for the next tick, then reads a frame.
func (p *Paced) Next(ctx context.Context) (Frame, error) {
	select {
	case <-p.tick.C:
	case <-ctx.Done():
		return Frame{}, ctx.Err()
	}
	return p.Source.Next(ctx)
}

// Close stops the ticker and closes the source.
func (p *Paced) Close() error {
	p.tick.Stop()
	return p.Source.Close()
}

// Len is the wrapped source's frame count, when it has one.
func (p *Paced) Len() int { return lenOf(p.Source) }

// Pausable lets the technician pause a run: while paused, Next waits (a file) or reads
// and discards frames (a live camera, whose driver would otherwise queue stale frames).
// The run sees a source that is slow for a while; nothing counted is lost.
type Pausable struct {
	Source
	live bool

	mu     sync.Mutex
	paused bool
	resume chan struct{} // closed when the pause ends
}

// NewPausable wraps src, keeping what it says of itself (a camera is live).
func NewPausable(src Source) *Pausable {
	p := &Pausable{Source: src}
	if l, ok := src.(interface{ Live() bool }); ok {
		p.live = l.Live()
	}
	return p
}

// Live reports whether the wrapped source is a live camera (a run drops frames only
// from those).
func (p *Pausable) Live() bool { return p.live }

// Len is the wrapped source's frame count, when it has one.
func (p *Pausable) Len() int { return lenOf(p.Source) }

// SetPaused pauses or resumes the source.
func (p *Pausable) SetPaused(paused bool) {
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
func (p *Pausable) Paused() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.paused
}

// Next returns the next frame, waiting while paused.
func (p *Pausable) Next(ctx context.Context) (Frame, error) {
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
			return Frame{}, ctx.Err()
		}
	}
}

// lenOf is a source's frame count, or 0 when it has none (a stream).
func lenOf(src Source) int {
	switch n := src.(type) {
	case interface{ Len() int }: // a folder: its files
		return n.Len()
	case interface{ Frames() int }: // a video: the frames its header declares
		return n.Frames()
	}
	return 0
}
