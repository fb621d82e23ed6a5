package main

import (
	"bytes"
	"log/slog"
	"testing"
)

// A log record reads as one plain line under the command's name, its level said in
// words where it is not plain information, its attributes under their groups.
func TestLineHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(newLineHandler(&buf, slog.LevelInfo, "screen"))
	log.Warn("segmentation failed; frame skipped", "source", "a.png", "frame", 5)
	log.With("run", 2).WithGroup("store").Info("saved", "objects", 3)
	log.Debug("not shown")
	want := "phytoscreen screen: warning: segmentation failed; frame skipped (source=a.png, frame=5)\n" +
		"phytoscreen screen: saved (run=2, store.objects=3)\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}
