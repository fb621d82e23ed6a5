package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/widget"
)

// fitText is one line of coloured text that shortens itself with an ellipsis to the
// width it is given. canvas.Text asks for its whole width, so a long alert detail would
// widen the window past the screen; this asks only for a few characters.
type fitText struct {
	widget.BaseWidget
	full string
	text *canvas.Text
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
	return fyne.NewSize(fyne.MeasureText("MMMM…", r.t.text.TextSize, r.t.text.TextStyle).Width, h)
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
