package store

import "testing"

// Text cells of the CSV exports are UTF-8 and never read as formulas by a spreadsheet;
// numbers, negative ones included, stay numbers (helper-82).
func TestTextCell(t *testing.T) {
	for in, want := range map[string]string{
		"=cmd|calc.jpg":     "'=cmd|calc.jpg",
		"+1 pond":           "'+1 pond",
		"@SUM(A1)":          "'@SUM(A1)",
		"-5":                "-5",
		"-0.25":             "-0.25",
		"lat\xe9n.jpg":      "lat\uFFFDn.jpg",
		"Lac-é/frame 1.jpg": "Lac-é/frame 1.jpg",
		"":                  "",
	} {
		if got := textCell(in); got != want {
			t.Errorf("textCell(%q) = %q, want %q", in, got, want)
		}
	}
}
