package ui

import (
	"math"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"

	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/screening"
)

// History shows what the technician typed in the sample's Details… (analyst, depth,
// position, notes), as the PDF report does; a sample with none of them shows no such
// line, and no "NaN" for what was not recorded (helper-95: notes typed before a run were
// never seen again in the app).
func TestHistoryShowsTheSampleDetails(t *testing.T) {
	h := newHarness(t, nil)
	store := func(id string, fill func(*screening.Sample)) {
		t.Helper()
		sm := h.a.newSample()
		sm.ID, sm.Site, sm.VolumeML, sm.Taken = id, "Loch Fyne pen 3", 0.1, time.Date(2026, 12, 8, 9, 30, 0, 0, time.Local)
		sm.Analyst, sm.Notes = "", ""
		sm.Lat, sm.Lon, sm.DepthM = math.NaN(), math.NaN(), math.NaN()
		fill(&sm)
		r, err := h.st.StartRun(h.a.ctx, screening.RunInfo{Sample: sm, Spec: capture.MustParseSpec(id + ".avi"), Model: inference.Optimised, Threshold: 0.5,
			Taxonomy: h.a.svc.Taxonomy})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Finish(h.a.ctx, screening.Snapshot{Threshold: 0.5, Variant: inference.Optimised}, nil); err != nil {
			t.Fatal(err)
		}
	}
	store("FYNE-B", func(s *screening.Sample) {
		s.Analyst, s.Notes = "Morag Campbell", "Pen 3 morning, greenish scum at surface"
		s.DepthM, s.Lat, s.Lon = 2.5, 56.0512, -5.2841
	})
	store("FYNE-A", func(*screening.Sample) {})

	hv := h.a.history
	h.a.tabs.SelectIndex(2)
	h.pump("two samples listed", 10*time.Second, func() bool { return len(hv.all) == 2 })
	hv.Select("FYNE-B")
	h.pump("its header", 10*time.Second, func() bool { return strings.HasPrefix(hv.header.Text, "Sample FYNE-B ") })
	want := "\nAnalyst Morag Campbell · depth 2.5 m · position 56.0512, -5.2841 · notes: Pen 3 morning, greenish scum at surface"
	if !strings.Contains(hv.header.Text, want) {
		t.Errorf("History's header of a sample with details:\n%s\nlacks %q", hv.header.Text, want)
	}
	hv.Select("FYNE-A")
	h.pump("its header", 10*time.Second, func() bool { return strings.HasPrefix(hv.header.Text, "Sample FYNE-A ") })
	for _, not := range []string{"Analyst", "notes:", "depth", "position", "NaN"} {
		if strings.Contains(hv.header.Text, not) {
			t.Errorf("History's header of a sample without details says %q:\n%s", not, hv.header.Text)
		}
	}
}

// History's counts table fits its pane on a laptop's screen: at 1280 x 720 the Alert
// column was cut to "Unchecke" and "Wat" at the pane's edge (helper-95), the chart
// beside it taking half the width it did not need.
func TestHistoryCountsFitTheirPane(t *testing.T) {
	h := newHarness(t, nil)
	h.a.tabs.SelectIndex(2)
	hv := h.a.history
	need := float32(16) // the vertical scroll bar over the last column
	for _, w := range colWidths[:colTrend] {
		need += w + theme.SeparatorThicknessSize()
	}
	for _, size := range []fyne.Size{{Width: 1280, Height: 720}, {Width: 1320, Height: 720}, {Width: 1366, Height: 768}, {Width: 1920, Height: 1080}} {
		h.a.win.Resize(size)
		h.a.win.Content().Refresh()
		if got := hv.counts.Size().Width; got < need {
			t.Errorf("window %gx%g: History's counts table is %g px wide, its columns need %g", size.Width, size.Height, got, need)
		}
	}
}

// An interval whose upper bound is in millions gives its lower bound in millions too,
// when it is a tenth of a million or more, as the PDF report does (helper-95: the
// counts table read "706,980–2.08 M", the banner "471,367 – 4.43 M cells/L"); smaller
// lower bounds keep their digits, never "0.00 M".
func TestIntervalBoundsShareTheirScale(t *testing.T) {
	for _, c := range []struct {
		low, high float64
		want      string
	}{
		{706979.9, 2083386.9, "0.71 M–2.08 M"},
		{471367, 4.43e6, "0.47 M–4.43 M"},
		{290849, 1.33e7, "0.29 M–13.3 M"},
		{55.3e6, 106.4e6, "55.3 M–106.4 M"},
		{2.34e6, 4.49e6, "2.34 M–4.49 M"},
		{2025, 445731, "2,025–445,731"},
		{253, 1.26e6, "253–1.26 M"},
		{99999, 1.2e6, "99,999–1.20 M"},
		{0, 36889, "0–36,889"},
	} {
		if got := fmtCI(screening.Concentration{Low: c.low, High: c.high}); got != c.want {
			t.Errorf("interval %v–%v reads %q, want %q", c.low, c.high, got, c.want)
		}
	}
}
