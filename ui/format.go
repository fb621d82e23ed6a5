package ui

import (
	"errors"
	"fmt"
	"hash/fnv"
	"image/color"
	"math"
	"strconv"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/internal/sigfig"
	"github.com/phytoscreen/phytoscreen/internal/typednum"
	"github.com/phytoscreen/phytoscreen/screening"
)

// palette holds well-separated colours that stay visible on a bright brightfield image
// and on a dark phase-contrast one (Tableau 10, darkened a little for white text).
var palette = []color.NRGBA{
	{0x1f, 0x77, 0xb4, 0xff}, // blue
	{0xe6, 0x7e, 0x22, 0xff}, // orange
	{0x2c, 0xa0, 0x2c, 0xff}, // green
	{0x94, 0x67, 0xbd, 0xff}, // purple
	{0x8c, 0x56, 0x4b, 0xff}, // brown
	{0xd6, 0x27, 0x8c, 0xff}, // magenta
	{0x17, 0xa2, 0xb8, 0xff}, // cyan
	{0x7f, 0x7f, 0x00, 0xff}, // olive
	{0x3f, 0x51, 0xb5, 0xff}, // indigo
	{0x00, 0x96, 0x88, 0xff}, // teal
}

// Colours with a meaning of their own.
var (
	colorPending      = color.NRGBA{0x9e, 0x9e, 0x9e, 0xff} // found, not yet classified
	colorUnidentified = color.NRGBA{0x60, 0x7d, 0x8b, 0xff} // below the confidence threshold
	colorFailed       = color.NRGBA{0x42, 0x42, 0x42, 0xff}
	colorNone         = color.NRGBA{0x2e, 0x7d, 0x32, 0xff} // no alert: green
	colorWatch        = color.NRGBA{0xf5, 0x9e, 0x0b, 0xff} // watch: amber
	colorAlert        = color.NRGBA{0xc6, 0x28, 0x28, 0xff} // alert: red
	colorBrand        = color.NRGBA{0x0b, 0x4f, 0x5c, 0xff} // the icon's teal
)

// habColors gives the HAB groups of the default taxonomy fixed, distinct colours so a
// technician learns them; they are not the alert colours (red, amber), which mean a level.
var habColors = map[string]color.NRGBA{
	"noctiluca":     {0xff, 0x57, 0x22, 0xff}, // deep orange
	"trichodesmium": {0x8e, 0x24, 0xaa, 0xff}, // purple
	"diatom_chains": {0x00, 0x89, 0x7b, 0xff}, // teal
}

// taxonColor is the colour a taxon's outlines, labels and chart lines are drawn in:
// fixed for HAB groups, else picked from the palette by the label, so it is the same in
// every run and every view.
func taxonColor(label, group string) color.NRGBA {
	switch label {
	case screening.Unidentified:
		return colorUnidentified
	case "":
		return colorPending
	}
	if c, ok := habColors[group]; ok {
		return c
	}
	h := fnv.New32a()
	h.Write([]byte(label))
	return palette[h.Sum32()%uint32(len(palette))]
}

// levelColor is an alert level's colour: green, amber, red.
func levelColor(l alerts.Level) color.NRGBA {
	switch l {
	case alerts.Watch:
		return colorWatch
	case alerts.Alert:
		return colorAlert
	}
	return colorNone
}

// textOn returns black or white, whichever reads better on c.
func textOn(c color.NRGBA) color.NRGBA {
	// Relative luminance with the sRGB weights; amber takes black text, red white.
	l := 0.2126*float64(c.R) + 0.7152*float64(c.G) + 0.0722*float64(c.B)
	if l > 150 {
		return color.NRGBA{0x10, 0x10, 0x10, 0xff}
	}
	return color.NRGBA{0xff, 0xff, 0xff, 0xff}
}

// withAlpha returns c with alpha a.
func withAlpha(c color.NRGBA, a uint8) color.NRGBA { c.A = a; return c }

// levelName is how a level reads in the UI.
func levelName(l alerts.Level) string {
	switch l {
	case alerts.Watch:
		return "Watch"
	case alerts.Alert:
		return "Alert"
	}
	return "–"
}

// english formats numbers with thousands separators (12,345), the way the lab's
// reports write them.
var english = message.NewPrinter(language.English)

// groupThousands writes an integer with thousands separators: 12,345.
func groupThousands(n int64) string { return english.Sprintf("%d", n) }

// fmtCount formats a count.
func fmtCount(n int) string { return groupThousands(int64(n)) }

// fmtPerL formats a concentration in cells per litre: whole cells with separators, or
// with three significant figures once it passes ten million.
func fmtPerL(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "–"
	case v >= 1e7:
		return strconv.FormatFloat(v/1e6, 'f', 1, 64) + " M"
	case v >= 1e6: // three figures, so a bloom's millions fit the counts table's columns
		return strconv.FormatFloat(v/1e6, 'f', 2, 64) + " M"
	case v > 0 && v < sigfig.Below: // 0.014, not 0.0: a rounded zero reads as none found
		return sigfig.Plain(v, 3)
	}
	return groupThousands(int64(math.Round(v)))
}

// fmtCI formats a 95% interval.
func fmtCI(c screening.Concentration) string {
	lo, hi := fmtBounds(c.Low, c.High)
	return lo + "–" + hi
}

// fmtBounds formats an interval's bounds in cells per litre, the lower in millions too
// when the upper is and it is a tenth of a million or more, as the PDF report writes
// them: "706,980–2.08 M" made a technician compare a count with a rounded figure
// (helper-95). A lower bound under that keeps its digits: "0.00 M" would read as none.
func fmtBounds(low, high float64) (string, string) {
	hi := fmtPerL(high)
	if high < 1e6 || low < 1e5 || low >= 1e6 || math.IsInf(high, 0) || math.IsNaN(high) {
		return fmtPerL(low), hi
	}
	return strconv.FormatFloat(low/1e6, 'f', 2, 64) + " M", hi
}

// fmtThreshold formats a rule's threshold: "10,000 cells/L", "300 cells/mL", "> 1,000
// cells/L" (reached only above it), "presence".
func fmtThreshold(t alerts.Threshold) string {
	if t.Presence {
		return "presence"
	}
	v := groupThousands(int64(math.Round(t.Value)))
	if t.Value != math.Round(t.Value) {
		v = strconv.FormatFloat(t.Value, 'f', -1, 64)
	}
	return t.Marked(v + " " + t.Unit)
}

// fmtFloat formats v with prec decimals, "–" when it is not a number.
func fmtFloat(v float64, prec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

// fmtSig formats v with about three significant figures ("0.0123", "1.23", "123").
func fmtSig(v float64) string {
	switch a := math.Abs(v); {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "–"
	case a == 0:
		return "0"
	case a < 0.01:
		return strconv.FormatFloat(v, 'g', 3, 64)
	case a < 1:
		return strconv.FormatFloat(v, 'f', 3, 64)
	case a < 10:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case a < 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

// fmtMs formats a duration in milliseconds.
func fmtMs(d time.Duration) string {
	if d <= 0 {
		return "–"
	}
	return fmtSig(float64(d)/float64(time.Millisecond)) + " ms"
}

// fmtBytes formats a size in MB or GB.
func fmtBytes(b uint64) string {
	if b == 0 {
		return "–"
	}
	mb := float64(b) / (1 << 20)
	if mb >= 1024 {
		return fmt.Sprintf("%.2f GB", mb/1024)
	}
	return fmt.Sprintf("%.0f MB", mb)
}

// fmtDuration formats an elapsed time as 1:02:03 or 02:03.
func fmtDuration(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%02d:%02d", m, s)
}

// parsePositive reads a positive number typed by a person ("1", "0.5", "1,5"); a comma
// that could group thousands ("1,000") is refused with both readings, not read as 1.
func parsePositive(field, text, fix string) (float64, error) {
	v, err := typednum.Parse(text)
	if err != nil && !errors.Is(err, typednum.ErrNotNumber) {
		return 0, fmt.Errorf("%s %v", field, err) // it says what to type
	}
	if err != nil || !(v > 0) {
		return 0, fmt.Errorf("%s %q is not a positive number: %s", field, text, fix)
	}
	return v, nil
}

// probText writes a model's probability as a whole percent cut down, not rounded, in
// every view alike: a crop at 0.4996, under a threshold of 0.5, read "50%", and a
// tile read 48% beside the detail's 49% for one crop (helper-52, helper-54). The model
// gives float32: 0.49 is 0.48999998 as a float64, so a float32's rounding error (under
// 1e-5 percent points) is forgiven before cutting down.
func probText(p float64) string { return fmt.Sprintf("%d%%", int(math.Floor(100*p+1e-5))) }

// fmtVolume writes a volume or a factor to 4 significant digits with no trailing zeros
// (0.005, 0.0437, 2.5, 1000): two decimals showed 0.005 mL as 0.01, twice the volume
// the concentrations beside it were computed on.
func fmtVolume(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}
