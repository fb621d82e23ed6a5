package ui

import (
	"testing"

	"github.com/phytoscreen/phytoscreen/screening"
)

// TestFocusStatus: the live line tells the frame's focus, when it is out of focus or
// waiting for a sharper frame, and the frames out of focus so far; nothing before a
// frame with objects.
func TestFocusStatus(t *testing.T) {
	var s screening.Snapshot
	if got := focusStatus(s); got != "" {
		t.Errorf("before any frame: %q", got)
	}
	s.LastFrame.Focus = 0.84
	if got := focusStatus(s); got != "focus 0.84" {
		t.Errorf("a sharp frame: %q", got)
	}
	s.LastFrame.Focus, s.LastFrame.OutOfFocus, s.LastFrame.Held = 0.31, true, true
	s.Frames.OutOfFocus, s.Frames.Oversize = 3, 2
	if got, want := focusStatus(s), "focus 0.31 (out of focus: waiting for a sharper frame), 3 frames out of focus · 2 objects over a tenth of the frame"; got != want {
		t.Errorf("a blurred frame: %q, want %q", got, want)
	}
	// An empty frame after blurred ones: no focus to judge, not a focus of 0.
	s.LastFrame = screening.FrameView{}
	if got, want := focusStatus(s), "focus: no object in view to judge it by, 3 frames out of focus · 2 objects over a tenth of the frame"; got != want {
		t.Errorf("an empty frame: %q, want %q", got, want)
	}
	// Still mode: a field that had cells, blurred past finding any.
	s.LastFrame.OutOfFocus, s.LastFrame.Held = true, true
	if got, want := focusStatus(s), "focus: nothing found in a field that had cells (out of focus: waiting for a sharper frame), 3 frames out of focus · 2 objects over a tenth of the frame"; got != want {
		t.Errorf("a frame blurred past finding anything: %q, want %q", got, want)
	}
}
