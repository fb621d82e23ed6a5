package assets

import "embed"

//go:embed fonts/DejaVuSansCondensed.ttf fonts/DejaVuSansCondensed-Bold.ttf fonts/DejaVuSansCondensed-Oblique.ttf
var fonts embed.FS

// ReportFont is the TrueType font the PDF reports are set in, for a style: "" regular,
// "B" bold, "I" oblique (fonts/README.md: DejaVu Sans Condensed, for the characters
// beyond Windows-1252 that PDF's built-in Helvetica cannot show).
func ReportFont(style string) []byte {
	name := map[string]string{"": "DejaVuSansCondensed.ttf", "B": "DejaVuSansCondensed-Bold.ttf", "I": "DejaVuSansCondensed-Oblique.ttf"}[style]
	if name == "" {
		panic("assets: no report font of style " + style)
	}
	data, err := fonts.ReadFile("fonts/" + name)
	if err != nil {
		panic("assets: embedded font: " + err.Error()) // embedded at build time: cannot fail
	}
	return data
}
