package screening

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// A pause reaches the meter once the frames read are classified, not before; a resume
// or the run's end first calls it off.
func TestMeterPausesWhenDrained(t *testing.T) {
	var left atomic.Int32
	left.Store(3) // cells still waiting for the model
	drained := func() bool { return left.Load() == 0 }
	paused := make(chan struct{})
	go whenDrained(context.Background(), make(chan struct{}), drained, func() { close(paused) })
	for left.Load() > 0 {
		select {
		case <-paused:
			t.Fatalf("the meter paused with %d cells still to classify", left.Load())
		case <-time.After(30 * time.Millisecond):
		}
		left.Add(-1)
	}
	select {
	case <-paused:
	case <-time.After(2 * time.Second):
		t.Fatal("the meter never paused once the cells were classified")
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	called := false
	go func() {
		whenDrained(ctx, make(chan struct{}), func() bool { return false }, func() { called = true })
		close(done)
	}()
	cancel() // resumed
	<-done
	ended := make(chan struct{})
	close(ended)
	whenDrained(context.Background(), ended, func() bool { return false }, func() { called = true })
	if called {
		t.Error("the meter paused after a resume or the run's end")
	}
}
