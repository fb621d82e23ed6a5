package labsync

import (
	"testing"
	"time"
)

// Inside a run's transaction the pauses keep the busy share while they can, but none is
// longer than maxTxPause and all of one run's stay within maxTxPaused; outside, the
// pause is the busy share's alone.
func TestTxPauseBounds(t *testing.T) {
	s := &Syncer{o: Options{BusyShare: 0.05}}
	if got := s.pause(10 * time.Millisecond); got != 190*time.Millisecond {
		t.Errorf("pause after 10 ms of work: %v; want 190ms (a 5%% share)", got)
	}
	p := txPacer{s: s}
	if got := p.pause(5 * time.Millisecond); got != 95*time.Millisecond {
		t.Errorf("in-transaction pause after 5 ms: %v; want 95ms, the share's", got)
	}
	if got := p.pause(time.Second); got != maxTxPause {
		t.Errorf("in-transaction pause after 1 s: %v; want the cap %v", got, maxTxPause)
	}
	var total time.Duration = 95*time.Millisecond + maxTxPause
	for range 100 {
		total += p.pause(100 * time.Millisecond)
	}
	if total != maxTxPaused || p.paused != maxTxPaused {
		t.Errorf("one run's pauses add up to %v (kept %v); want the budget %v", total, p.paused, maxTxPaused)
	}
	if got := p.pause(10 * time.Millisecond); got != 0 {
		t.Errorf("past the budget: pause %v; want none", got)
	}
}
