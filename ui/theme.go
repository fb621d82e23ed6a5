package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// labTheme is Fyne's default theme in its light variant with the app's teal as the
// primary colour: a bench is usually lit, and a light screen reads better beside a
// bright microscope field than a dark one.
type labTheme struct{ fyne.Theme }

func newLabTheme() fyne.Theme { return labTheme{theme.DefaultTheme()} }

// Color implements fyne.Theme, always in the light variant.
func (t labTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	switch n {
	case theme.ColorNamePrimary:
		return colorBrand
	case theme.ColorNameFocus:
		// Translucent, as Fyne's own: a focused list's value is drawn in the text colour
		// over it, and on the opaque teal it could not be read (helper-59). Amber, not
		// the brand's teal: a tabbed-to Start button (teal) showed no focus (helper-67);
		// the text on it still reads at 5:1.
		return color.NRGBA{0xff, 0xa0, 0x00, 0x60}
	case theme.ColorNameSelection:
		return withAlpha(colorBrand, 0x40)
	case theme.ColorNameHyperlink:
		return color.NRGBA{0x00, 0x69, 0x7a, 0xff}
	case theme.ColorNameHeaderBackground:
		return color.NRGBA{0xf3, 0xf6, 0xf7, 0xff}
	case theme.ColorNameBackground:
		return color.NRGBA{0xfb, 0xfc, 0xfc, 0xff}
	}
	return t.Theme.Color(n, theme.VariantLight)
}

// Size implements fyne.Theme: a little tighter than the default, for a dense lab screen.
func (t labTheme) Size(n fyne.ThemeSizeName) float32 {
	switch n {
	case theme.SizeNamePadding:
		return 4
	case theme.SizeNameInnerPadding:
		return 6
	}
	return t.Theme.Size(n)
}
