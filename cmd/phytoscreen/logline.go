package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
)

// lineHandler writes each log record as one plain line for the person at the terminal,
// "phytoscreen screen: warning: segmentation failed; frame skipped (source=…, frame=4,
// err=…)", where slog's text format printed a time stamp and key=value pairs among the
// command's own lines (helper-60). PHYTOSCREEN_LOG sets the level as before.
type lineHandler struct {
	mu     *sync.Mutex
	w      io.Writer
	level  slog.Leveler
	prefix string      // "phytoscreen screen: "
	attrs  []slog.Attr // from WithAttrs, their keys under the groups of their time
	group  string      // from WithGroup, joined with dots
}

func newLineHandler(w io.Writer, level slog.Leveler, command string) *lineHandler {
	return &lineHandler{mu: &sync.Mutex{}, w: w, level: level, prefix: "phytoscreen " + command + ": "}
}

func (h *lineHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

func (h *lineHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(h.prefix)
	switch {
	case r.Level >= slog.LevelError:
		b.WriteString("error: ")
	case r.Level >= slog.LevelWarn:
		b.WriteString("warning: ")
	case r.Level < slog.LevelInfo:
		b.WriteString("debug: ")
	}
	b.WriteString(r.Message)
	var parts []string
	for _, a := range h.attrs {
		parts = append(parts, fmt.Sprintf("%s=%v", a.Key, a.Value.Resolve()))
	}
	r.Attrs(func(a slog.Attr) bool {
		if !a.Equal(slog.Attr{}) {
			parts = append(parts, fmt.Sprintf("%s=%v", h.key(a.Key), a.Value.Resolve()))
		}
		return true
	})
	if len(parts) > 0 {
		b.WriteString(" (" + strings.Join(parts, ", ") + ")")
	}
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

// key is an attribute's key under the handler's groups.
func (h *lineHandler) key(k string) string {
	if h.group == "" {
		return k
	}
	return h.group + "." + k
}

func (h *lineHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = slices.Clone(h.attrs)
	for _, a := range attrs {
		if !a.Equal(slog.Attr{}) {
			c.attrs = append(c.attrs, slog.Attr{Key: h.key(a.Key), Value: a.Value})
		}
	}
	return &c
}

func (h *lineHandler) WithGroup(name string) slog.Handler {
	c := *h
	if c.group != "" {
		name = c.group + "." + name
	}
	c.group = name
	return &c
}
