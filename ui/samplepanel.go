package ui

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/phytoscreen/phytoscreen/screening"
)

// samplePanel is where the technician describes the sample and starts, pauses and stops
// screening: sample ID, site, volume examined, concentration or dilution factor and the
// calibration, then the three buttons.
type samplePanel struct {
	widget.BaseWidget

	Source *widget.Select
	ID     *widget.Entry
	Site   *widget.Entry
	Volume *widget.Entry
	Factor *widget.Entry
	Calib  *widget.Entry

	Start, Pause, Stop *widget.Button

	form    *widget.Form
	summary *widget.Form
	values  []*widget.Label // the summary's values, in the form's order
	box     *fyne.Container
}

// newSamplePanel returns the panel; the buttons call the given functions.
func newSamplePanel(start, pause, stop func()) *samplePanel {
	p := &samplePanel{}
	p.Source = widget.NewSelect(nil, nil)
	p.ID = widget.NewEntry()
	p.ID.SetPlaceHolder("bottle label, e.g. S-0142")
	p.Site = widget.NewEntry()
	p.Site.SetPlaceHolder("where the water was taken")
	p.Volume = widget.NewEntry()
	p.Volume.SetPlaceHolder("mL under the microscope")
	p.Factor = widget.NewEntry()
	p.Factor.SetPlaceHolder("1 as taken; 10 diluted 1+9; 0.1 settled tenfold")
	p.Calib = widget.NewEntry()
	p.Calib.SetPlaceHolder("µm per pixel; empty: uncalibrated")
	p.Start = widget.NewButtonWithIcon("Start", theme.MediaPlayIcon(), start)
	p.Start.Importance = widget.HighImportance
	p.Pause = widget.NewButtonWithIcon("Pause", theme.MediaPauseIcon(), pause)
	p.Stop = widget.NewButtonWithIcon("Stop", theme.MediaStopIcon(), stop)
	form := widget.NewForm(
		widget.NewFormItem("Source", p.Source),
		widget.NewFormItem("Sample ID", p.ID),
		widget.NewFormItem("Site", p.Site),
		widget.NewFormItem("Volume (mL)", p.Volume),
		widget.NewFormItem("Factor", p.Factor),
		widget.NewFormItem("µm / pixel", p.Calib),
	)
	// While a run goes on the sample is fixed: the form gives way to the same fields as
	// plain, readable text (disabled entries would be greyed out).
	p.summary = widget.NewForm()
	for _, it := range form.Items {
		l := widget.NewLabel("")
		l.TextStyle.Bold = true
		l.Truncation = fyne.TextTruncateEllipsis
		p.values = append(p.values, l)
		p.summary.Append(it.Text, l)
	}
	p.summary.Hide()
	p.form = form
	p.box = container.NewVBox(container.NewStack(form, p.summary), container.NewGridWithColumns(3, p.Start, p.Pause, p.Stop))
	p.ExtendBaseWidget(p)
	p.SetRunning(false, false)
	return p
}

// CreateRenderer implements fyne.Widget.
func (p *samplePanel) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(p.box) }

// Fill puts a sample's fields and the calibration in the entries.
func (p *samplePanel) Fill(s screening.Sample, umPerPx float64) {
	p.ID.SetText(s.ID)
	p.Site.SetText(s.Site)
	p.Volume.SetText(strconv.FormatFloat(s.VolumeML, 'f', -1, 64))
	p.Factor.SetText(strconv.FormatFloat(s.Factor, 'f', -1, 64))
	if umPerPx > 0 {
		p.Calib.SetText(strconv.FormatFloat(umPerPx, 'f', -1, 64))
	} else {
		p.Calib.SetText("")
	}
}

// SetRunning enables the buttons that make sense: Start when idle, Pause (or Resume) and
// Stop while running; the sample fields are locked during a run, since the counts and
// the store depend on them.
func (p *samplePanel) SetRunning(running, paused bool) {
	if running {
		p.Start.Disable()
		p.Pause.Enable()
		p.Stop.Enable()
		calib := p.Calib.Text
		if calib == "" {
			calib = "uncalibrated"
		}
		for i, t := range []string{p.Source.Selected, p.ID.Text, p.Site.Text, p.Volume.Text, p.Factor.Text, calib} {
			p.values[i].SetText(t)
		}
		p.form.Hide()
		p.summary.Show()
	} else {
		p.Start.Enable()
		p.Pause.Disable()
		p.Stop.Disable()
		p.summary.Hide()
		p.form.Show()
	}
	if paused {
		p.Pause.SetText("Resume")
		p.Pause.SetIcon(theme.MediaPlayIcon())
	} else {
		p.Pause.SetText("Pause")
		p.Pause.SetIcon(theme.MediaPauseIcon())
	}
}

// Sample reads the entries into a sample and the calibration. Every problem is named
// with its fix, all at once.
func (p *samplePanel) Sample() (screening.Sample, float64, error) {
	s := screening.NewSample(strings.TrimSpace(p.ID.Text))
	s.Site = strings.TrimSpace(p.Site.Text)
	var errs []error
	if v, err := parsePositive("Volume", p.Volume.Text, "type the millilitres examined, e.g. 1 for a full Sedgewick-Rafter chamber"); err != nil {
		errs = append(errs, err)
	} else {
		s.VolumeML = v
	}
	if v, err := parsePositive("Factor", p.Factor.Text, "type 1 when the sample was examined as taken, 10 when diluted 1+9, 0.1 when concentrated tenfold"); err != nil {
		errs = append(errs, err)
	} else {
		s.Factor = v
	}
	um := 0.0
	if t := strings.TrimSpace(p.Calib.Text); t != "" {
		v, err := parsePositive("µm / pixel", t, "type the calibration from your stage micrometer, or leave it empty")
		if err != nil {
			errs = append(errs, err)
		} else {
			um = v
		}
	}
	if len(errs) == 0 {
		if err := s.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return s, um, errors.Join(errs...)
}

// newSampleID proposes an ID from the date and time to the second, S-20250314-093215,
// with -2, -3 ... when taken already (taken reports an ID the store holds): a second
// Start within the same second never adds to the earlier sample by accident.
func newSampleID(now time.Time, prefix string, taken func(string) bool) string {
	base := prefix + now.Format("20060102-150405")
	id := base
	for n := 2; taken != nil && taken(id); n++ {
		id = fmt.Sprintf("%s-%d", base, n)
	}
	return id
}
