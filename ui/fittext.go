package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// fitText is one line of coloured text that shortens itself with an ellipsis to the
// width it is given. canvas.Text asks for its whole width, so a long alert detail would
// widen the window past the screen; this asks only for a few characters.
type fitText struct {
	widget.BaseWidget
	full string
	text *canvas.Text
	// wholeUpTo, when set, has the text ask for its whole width up to that many
	// pixels: a note under a short heading takes the room the toolbar has beside it.
	wholeUpTo float32
	// relayout lays out again what holds the text, when wholeUpTo has its width
	// follow the text.
	relayout func()
	whole    wholeText // the text whole, over it while the pointer is on it
}

func newFitText(size float32, bold bool, align fyne.TextAlign) *fitText {
	t := &fitText{text: canvas.NewText("", color.White)}
	t.text.TextSize = size
	t.text.TextStyle.Bold = bold
	t.text.Alignment = align
	t.ExtendBaseWidget(t)
	return t
}

// SetText sets the full text (UI goroutine).
func (t *fitText) SetText(s string) {
	t.full = s
	t.Refresh()
	if t.whole.shown() != "" {
		t.showWhole()
	}
	if t.wholeUpTo > 0 && t.relayout != nil {
		t.relayout()
	}
}

// Show shows the text, and lays out again what holds it when its width follows the
// text: a note shown after the layout was clipped by the toolbar's height (helper-98).
func (t *fitText) Show() {
	t.BaseWidget.Show()
	if t.wholeUpTo > 0 && t.relayout != nil {
		t.relayout()
	}
}

// Hide hides the text, and lays out again what holds it as Show does.
func (t *fitText) Hide() {
	t.BaseWidget.Hide()
	if t.wholeUpTo > 0 && t.relayout != nil {
		t.relayout()
	}
}

// natural is the width the full text takes.
func (t *fitText) natural() float32 {
	return fyne.MeasureText(t.full, t.text.TextSize, t.text.TextStyle).Width
}

// Text returns the full text, whatever is shown.
func (t *fitText) Text() string { return t.full }

// SetColor sets the text colour (UI goroutine).
func (t *fitText) SetColor(c color.Color) { t.text.Color = c }

// CreateRenderer implements fyne.Widget.
func (t *fitText) CreateRenderer() fyne.WidgetRenderer { return &fitTextRenderer{t: t} }

type fitTextRenderer struct{ t *fitText }

func (r *fitTextRenderer) Layout(size fyne.Size) {
	r.t.text.Text = fitString(r.t.full, size.Width, r.t.text.TextSize, r.t.text.TextStyle)
	r.t.text.Resize(size)
	r.t.text.Refresh()
}

func (r *fitTextRenderer) MinSize() fyne.Size {
	h := fyne.MeasureText("Mg", r.t.text.TextSize, r.t.text.TextStyle).Height
	w := fyne.MeasureText("MMMM…", r.t.text.TextSize, r.t.text.TextStyle).Width
	if r.t.wholeUpTo > 0 {
		w = max(w, min(r.t.natural(), r.t.wholeUpTo))
	}
	return fyne.NewSize(w, h)
}

func (r *fitTextRenderer) Refresh()                     { r.Layout(r.t.Size()) }
func (r *fitTextRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.t.text} }
func (r *fitTextRenderer) Destroy()                     {}

// fitString returns s, or its longest prefix (on a rune boundary) followed by "…", that
// measures at most width.
func fitString(s string, width, size float32, style fyne.TextStyle) string {
	if s == "" || fyne.MeasureText(s, size, style).Width <= width {
		return s
	}
	runes := []rune(s)
	lo, hi := 0, len(runes) // the longest fitting prefix length is in [lo, hi)
	for lo+1 < hi {
		mid := (lo + hi) / 2
		if fyne.MeasureText(string(runes[:mid])+"…", size, style).Width <= width {
			lo = mid
		} else {
			hi = mid
		}
	}
	if lo == 0 {
		return "…"
	}
	return string(runes[:lo]) + "…"
}

// wholeText shows a cut line's whole text in a box beside it, wrapped at its width:
// Fyne 2.7 has no tooltips. The status bar's "…are guessed fr…", the live view's line
// and the cost gauges' details were cut at 1366 px with no way to read the rest
// (helper-98). The box is drawn in the window's tip layer (tipLayer), not a pop-up: a
// pop-up takes the pointer, and the line under it lost it at the next move, the box
// flickering.
type wholeText struct {
	tips *tipLayer // where it shows, once shown
}

// tipLayer is a layer over the window's content holding the box of a cut line's whole
// text. It holds no widget that takes the pointer: the widgets under it keep it.
type tipLayer struct {
	layer *fyne.Container
	box   *fyne.Container
	text  *widget.Label
	owner *wholeText // whose text the box shows
}

// tipLayers are the windows' tip layers, by canvas (UI goroutine only).
var tipLayers = map[fyne.Canvas]*tipLayer{}

func newTipLayer() *tipLayer {
	t := &tipLayer{text: widget.NewLabel("")}
	t.text.Wrapping = fyne.TextWrapWord
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameOverlayBackground))
	bg.StrokeColor = theme.Color(theme.ColorNameShadow)
	bg.StrokeWidth = 1
	bg.CornerRadius = 4
	t.box = container.NewStack(bg, t.text)
	t.box.Hide()
	t.layer = container.New(tipLayout{}, t.box)
	return t
}

// tipLayout leaves the box where show put it, and asks for no room: the window's least
// size is its content's.
type tipLayout struct{}

func (tipLayout) Layout([]fyne.CanvasObject, fyne.Size) {}
func (tipLayout) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.Size{} }

// over puts content under the tip layer of the window whose canvas is c.
func (t *tipLayer) over(c fyne.Canvas, content fyne.CanvasObject) fyne.CanvasObject {
	tipLayers[c] = t
	return container.NewStack(content, t.layer)
}

// show shows text in a box under the line o, or above it when o is in the window's lower
// half (the status bar is at its foot): never over the line, which keeps the pointer.
func (p *wholeText) show(o fyne.CanvasObject, text string) {
	d := fyne.CurrentApp().Driver()
	c := d.CanvasForObject(o)
	t := tipLayers[c]
	if c == nil || t == nil {
		return
	}
	t.owner, p.tips = p, t
	t.text.SetText(text)
	w := max(o.Size().Width, 240)
	t.box.Show()
	// A wrapped label knows its height once it has its width.
	t.box.Resize(fyne.NewSize(w, c.Size().Height))
	h := t.text.MinSize().Height
	origin := d.AbsolutePositionForObject(t.layer)
	pos := d.AbsolutePositionForObject(o).Subtract(origin)
	room := t.layer.Size()
	if pos.Y+o.Size().Height/2 > room.Height/2 {
		pos.Y = max(pos.Y-h, 0)
	} else {
		pos.Y = min(pos.Y+o.Size().Height, room.Height-h)
	}
	pos.X = max(0, min(pos.X, room.Width-w))
	t.box.Resize(fyne.NewSize(w, h))
	t.box.Move(pos)
	t.layer.Refresh()
}

// reveal shows text, the whole of line o, when o is cut, and hides what it showed when
// o is not (any more).
func (p *wholeText) reveal(o fyne.CanvasObject, cut bool, text string) {
	if !cut {
		p.hide()
		return
	}
	p.show(o, text)
}

// toggle hides the whole text when it is shown, else reveals it (a tap on the line).
func (p *wholeText) toggle(o fyne.CanvasObject, cut bool, text string) {
	if p.shown() != "" {
		p.hide()
		return
	}
	p.reveal(o, cut, text)
}

func (p *wholeText) hide() {
	if t := p.tips; t != nil && t.owner == p {
		t.owner = nil
		t.box.Hide()
	}
}

// shown is the text shown whole, "" when none is.
func (p *wholeText) shown() string {
	if t := p.tips; t != nil && t.owner == p && t.box.Visible() {
		return t.text.Text
	}
	return ""
}

// statusLine is a one-line label cut with an ellipsis at its width, whose whole text
// shows (wholeText) while the pointer rests on it, or when it is tapped.
type statusLine struct {
	widget.Label
	whole wholeText
}

var (
	_ desktop.Hoverable = (*statusLine)(nil)
	_ fyne.Tappable     = (*statusLine)(nil)
	_ desktop.Hoverable = (*fitText)(nil)
	_ fyne.Tappable     = (*fitText)(nil)
)

func newStatusLine(text string) *statusLine {
	l := &statusLine{}
	l.Text = text
	l.Truncation = fyne.TextTruncateEllipsis
	l.ExtendBaseWidget(l)
	return l
}

// SetText sets the line; the whole text, when shown, follows it (UI goroutine).
func (l *statusLine) SetText(s string) {
	l.Label.SetText(s)
	if l.whole.shown() != "" {
		l.showWhole()
	}
}

// Cut reports whether the line's text is wider than the line shows.
func (l *statusLine) Cut() bool {
	w := fyne.MeasureText(l.Text, theme.TextSize(), l.TextStyle).Width + 2*theme.InnerPadding()
	return w > l.Size().Width
}

// Whole is the whole text while it is shown, "" when it is not.
func (l *statusLine) Whole() string { return l.whole.shown() }

// MouseIn shows the whole text when the line is cut.
func (l *statusLine) MouseIn(*desktop.MouseEvent) { l.showWhole() }

// MouseMoved implements desktop.Hoverable.
func (l *statusLine) MouseMoved(*desktop.MouseEvent) {}

// MouseOut hides the whole text.
func (l *statusLine) MouseOut() { l.whole.hide() }

// Tapped shows the whole text, or hides it when shown.
func (l *statusLine) Tapped(*fyne.PointEvent) { l.whole.toggle(l, l.Cut(), l.Text) }

func (l *statusLine) showWhole() { l.whole.reveal(l, l.Cut(), l.Text) }

// Cut reports whether the text is shortened to its width.
func (t *fitText) Cut() bool { return t.full != "" && t.text.Text != t.full }

// Whole is the whole text while it is shown over the cut one, "" when it is not.
func (t *fitText) Whole() string { return t.whole.shown() }

// MouseIn shows the whole text when it is cut (wholeText).
func (t *fitText) MouseIn(*desktop.MouseEvent) { t.showWhole() }

// MouseMoved implements desktop.Hoverable.
func (t *fitText) MouseMoved(*desktop.MouseEvent) {}

// MouseOut hides the whole text.
func (t *fitText) MouseOut() { t.whole.hide() }

// Tapped shows the whole text, or hides it when shown.
func (t *fitText) Tapped(*fyne.PointEvent) { t.whole.toggle(t, t.Cut(), t.full) }

func (t *fitText) showWhole() { t.whole.reveal(t, t.Cut(), t.full) }
