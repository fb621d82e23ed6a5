package assets

import _ "embed" // the report fonts

// The TrueType fonts the PDF reports are set in (fonts/README.md: DejaVu Sans
// Condensed, for the characters beyond Windows-1252 that PDF's built-in Helvetica
// cannot show). The PDF writer only reads them.
var (
	//go:embed fonts/DejaVuSansCondensed.ttf
	ReportFontRegular []byte
	//go:embed fonts/DejaVuSansCondensed-Bold.ttf
	ReportFontBold []byte
	//go:embed fonts/DejaVuSansCondensed-Oblique.ttf
	ReportFontOblique []byte
)
