package ui

import (
	"image/color"
	"math"
	"testing"

	"fyne.io/fyne/v2/theme"
)

// A focused list's value is drawn in the text colour over the focus colour: the two must
// read apart (WCAG's 4.5:1 for text), the focus colour laid over the background as Fyne
// draws it (helper-59: the chosen preset was unreadable on opaque teal).
func TestFocusedValueReadable(t *testing.T) {
	th := newLabTheme()
	fg := th.Color(theme.ColorNameForeground, theme.VariantLight)
	over := blend(th.Color(theme.ColorNameFocus, theme.VariantLight), th.Color(theme.ColorNameInputBackground, theme.VariantLight))
	if r := contrast(fg, over); r < 4.5 {
		t.Errorf("text on a focused field: contrast %.2f:1, want at least 4.5:1", r)
	}
}

// A button tabbed to shows it: the focus colour laid over a plain button and over the
// primary (teal) one changes them enough to be seen (helper-67: no focus could be seen
// on Start or a dialog's buttons, the focus a faint teal on teal).
func TestFocusedButtonSeen(t *testing.T) {
	th := newLabTheme()
	focus := th.Color(theme.ColorNameFocus, theme.VariantLight)
	for name, bg := range map[string]color.Color{
		"plain":   th.Color(theme.ColorNameButton, theme.VariantLight),
		"primary": th.Color(theme.ColorNamePrimary, theme.VariantLight),
	} {
		if r := contrast(blend(focus, bg), bg); r < 1.25 {
			t.Errorf("a focused %s button: contrast %.2f:1 with itself unfocused, want at least 1.25:1", name, r)
		}
	}
}

// blend lays c over the opaque bg.
func blend(c, bg color.Color) color.Color {
	r, g, b, a := c.RGBA()
	br, bgg, bb, _ := bg.RGBA()
	mix := func(x, y uint32) uint8 { return uint8((x + y*(0xffff-a)/0xffff) >> 8) } // c is alpha-premultiplied
	return color.NRGBA{mix(r, br), mix(g, bgg), mix(b, bb), 0xff}
}

// contrast is WCAG 2's contrast ratio of two opaque colours.
func contrast(a, b color.Color) float64 {
	la, lb := luminance(a), luminance(b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

func luminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	lin := func(v uint32) float64 {
		s := float64(v) / 0xffff
		if s <= 0.03928 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}
