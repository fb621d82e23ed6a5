package ui

import (
	"log/slog"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// safeSelect is a widget.Select whose list opens even when Fyne has lost track of the
// canvas the select is drawn on. Fyne 2.7.1 looks that canvas up in a cache when the
// select is tapped, and the cache can miss for a widget on screen (its entries expire;
// fyne-io/fyne#5965, guarded upstream after 2.7.1): the tap then panicked in
// NewPopUpMenu with a nil canvas and took the app down (helper-37, on Settings › Model
// as the speed test finished). Here the list then opens on the window's own canvas,
// where the tap was.
type safeSelect struct {
	widget.Select
	win fyne.Window
	// canvasFor is the driver's lookup (tests replace it to reproduce the miss).
	canvasFor func(fyne.CanvasObject) fyne.Canvas
	fallback  *widget.PopUpMenu // the list last opened on the window's canvas
}

// newSafeSelect is widget.NewSelect for a select shown in win.
func newSafeSelect(win fyne.Window, options []string, changed func(string)) *safeSelect {
	s := &safeSelect{win: win, canvasFor: func(o fyne.CanvasObject) fyne.Canvas {
		return fyne.CurrentApp().Driver().CanvasForObject(o)
	}}
	s.Options, s.OnChanged = options, changed
	s.PlaceHolder = "(Select one)" // widget.NewSelect's default
	s.ExtendBaseWidget(s)
	return s
}

// Tapped opens the list, on the window's canvas when Fyne cannot name the select's.
func (s *safeSelect) Tapped(ev *fyne.PointEvent) {
	if s.Disabled() {
		return
	}
	if s.canvasFor(s) != nil {
		s.Select.Tapped(ev)
		return
	}
	slog.Warn("the select's canvas is unknown to Fyne; its list opens on the window's canvas", "window", s.win.Title())
	items := make([]*fyne.MenuItem, len(s.Options))
	for i, o := range s.Options {
		items[i] = fyne.NewMenuItem(o, func() { s.SetSelected(o) })
	}
	s.fallback = widget.NewPopUpMenu(fyne.NewMenu("", items...), s.win.Canvas())
	s.fallback.ShowAtPosition(ev.AbsolutePosition)
}

// TypedKey opens the list from the keyboard (space, up, down) only where Fyne knows the
// canvas: a key gives no position to open it at otherwise. Left and right still step
// through the options.
func (s *safeSelect) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeySpace, fyne.KeyUp, fyne.KeyDown:
		if s.canvasFor(s) == nil {
			return
		}
	}
	s.Select.TypedKey(ev)
}

// wideSelect lays sel out wide enough for its longest option: Fyne sizes a Select to its
// placeholder, and in Settings' row of buttons the built-in pack chosen read "cyano-…"
// (helper-95).
func wideSelect(sel *safeSelect) fyne.CanvasObject {
	longest := sel.PlaceHolder
	for _, o := range sel.Options {
		if len(o) > len(longest) {
			longest = o
		}
	}
	pad := theme.InnerPadding()
	w := fyne.MeasureText(longest, theme.TextSize(), fyne.TextStyle{}).Width + 4*pad + theme.IconInlineSize()
	return container.NewGridWrap(fyne.NewSize(w, sel.MinSize().Height), sel)
}
