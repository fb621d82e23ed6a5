package ui

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/internal/typednum"
	"github.com/phytoscreen/phytoscreen/screening"
)

// samplePanel is where the technician describes the sample and starts, pauses and stops
// screening: sample ID, site, volume examined, concentration or dilution factor and the
// calibration, then the three buttons.
type samplePanel struct {
	widget.BaseWidget

	Source *widget.Select
	ID     *widget.Entry
	Site   *widget.SelectEntry // typed, or one of the sites screened before
	Volume *widget.SelectEntry // typed, or a counting chamber's volume
	Factor *widget.Entry
	Calib  *widget.Entry
	// More about the sample, as a monitoring programme records it.
	Taken   *detailEntry // "2025-06-03 09:30"; empty: when screening starts
	LatLon  *detailEntry // "56.51, -5.39"
	Depth   *detailEntry // metres
	Analyst *detailEntry
	Notes   *detailEntry

	Start, Pause, Stop *widget.Button

	form    *widget.Form
	idItem  *widget.FormItem // "Sample ID", or "Next sample ID" after a run (AfterRun)
	summary *widget.Form
	// More opens the sample's details (time, position, depth, analyst, notes) in
	// showMore's dialog.
	More     *widget.Button
	moreForm *widget.Form
	showMore func(form fyne.CanvasObject)
	values   []*widget.Label // the summary's values, in the form's order
	box      *fyne.Container
	// posSite is the site the position was typed or filled for: another site typed or
	// chosen clears it, so that one place's position is not stored with another's.
	posSite string
}

// volumeChoices are the counting chambers' volumes offered for the volume examined (mL).
var volumeChoices = []string{"1", "0.1", "10", "25", "50"}

// newSamplePanel returns the panel; the buttons call the given functions.
func newSamplePanel(start, pause, stop func()) *samplePanel {
	p := &samplePanel{}
	p.Source = widget.NewSelect(nil, nil)
	p.ID = widget.NewEntry()
	p.ID.SetPlaceHolder("bottle label, e.g. S-0142")
	p.Site = widget.NewSelectEntry(nil)
	p.Site.SetPlaceHolder("sampling site")
	p.Volume = widget.NewSelectEntry(volumeChoices)
	p.Volume.SetPlaceHolder("mL under the microscope")
	p.Factor = widget.NewEntry()
	p.Factor.SetPlaceHolder("1 as taken; 10 diluted 1+9; 0.1 settled tenfold")
	p.Calib = widget.NewEntry()
	p.Calib.SetPlaceHolder("empty: uncalibrated") // its label says µm per pixel
	p.Taken = newDetailEntry()
	p.Taken.SetPlaceHolder("2025-06-03 09:30; empty: now")
	// Checked as typed, as Start checks it: a time in the future was said only at Start,
	// the details dialog closed by then (helper-67).
	p.Taken.Validator = func(s string) error {
		if s = strings.TrimSpace(s); s == "" {
			return nil
		}
		_, err := parseWhen(s)
		return err
	}
	p.LatLon = newDetailEntry()
	p.LatLon.SetPlaceHolder("latitude, longitude, e.g. 56.51, -5.39")
	p.Depth = newDetailEntry()
	p.Depth.SetPlaceHolder("metres below the surface")
	p.Analyst = newDetailEntry()
	p.Analyst.SetPlaceHolder("who prepared the sample")
	p.Notes = newDetailEntry()
	p.Notes.SetPlaceHolder("anything worth keeping")
	p.Start = widget.NewButtonWithIcon("Start", theme.MediaPlayIcon(), start)
	p.Start.Importance = widget.HighImportance
	p.Pause = widget.NewButtonWithIcon("Pause", theme.MediaPauseIcon(), pause)
	p.Stop = widget.NewButtonWithIcon("Stop", theme.MediaStopIcon(), stop)
	p.LatLon.OnChanged = func(string) { p.posSite = strings.TrimSpace(p.Site.Text) }
	p.Site.OnChanged = func(site string) {
		if p.LatLon.Text != "" && strings.TrimSpace(site) != p.posSite {
			p.LatLon.SetText("")
		}
	}
	factor := widget.NewFormItem("Factor", p.Factor)
	factor.HintText = factorMeaning("1")
	p.Factor.OnChanged = func(v string) {
		factor.HintText = factorMeaning(v)
		if p.form != nil {
			p.form.Refresh()
		}
	}
	// Two fields a row where they pair (the sample and its site; the factor and the
	// calibration): at 768 px of screen the counts under the panel showed two or three
	// rows (helper-75), and every row the panel gives up is a row of counts.
	factor.Widget = pairRow(p.Factor, "µm / pixel", p.Calib)
	p.idItem = widget.NewFormItem(sampleIDLabel, pairRow(p.ID, "Site", p.Site))
	form := widget.NewForm(
		widget.NewFormItem("Source", p.Source),
		p.idItem,
		volumeItem(p.Volume),
		factor,
	)
	// More about the sample, in a dialog so the panel keeps its height on a small
	// screen: the fields live on with the panel and are read at Start.
	p.moreForm = widget.NewForm(
		widget.NewFormItem("Taken", p.Taken),
		widget.NewFormItem("Position", p.LatLon),
		widget.NewFormItem("Depth (m)", p.Depth),
		widget.NewFormItem("Analyst", p.Analyst),
		widget.NewFormItem("Notes", p.Notes),
	)
	p.More = widget.NewButtonWithIcon("Details…", theme.DocumentIcon(), func() {
		if p.showMore != nil {
			p.showMore(p.moreForm)
		}
	})
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
	p.box = container.NewVBox(container.New(stackAll{}, form, p.summary), container.NewGridWithColumns(4, p.Start, p.Pause, p.Stop, p.More))
	p.ExtendBaseWidget(p)
	p.SetRunning(false, false)
	return p
}

// pairRow lays out two fields on one form row: the first, then the second's label and
// the second, each field half of what is left.
func pairRow(first fyne.CanvasObject, label string, second fyne.CanvasObject) fyne.CanvasObject {
	return container.NewGridWithColumns(2, first, container.NewBorder(nil, nil, widget.NewLabel(label), nil, second))
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
	p.Taken.SetText("") // a new sample: taken when screening starts, unless typed
	p.LatLon.SetText("")
	if s.HasPosition() {
		p.LatLon.SetText(fmt.Sprintf("%g, %g", s.Lat, s.Lon))
	}
	p.Depth.SetText("")
	if s.HasDepth() {
		p.Depth.SetText(strconv.FormatFloat(s.DepthM, 'f', -1, 64))
	}
	p.Analyst.SetText(s.Analyst)
	p.Notes.SetText(s.Notes)
}

// detailEntry is a field of the sample's details: Escape in it closes the details, as
// Escape closes any dialog. Fyne's entry takes the key with the focus and did nothing
// with it (helper-67).
type detailEntry struct {
	widget.Entry
	onEscape func()
}

func newDetailEntry() *detailEntry {
	e := &detailEntry{}
	e.ExtendBaseWidget(e)
	return e
}

// TypedKey closes the details on Escape; the entry has every other key.
func (e *detailEntry) TypedKey(ev *fyne.KeyEvent) {
	if ev.Name == fyne.KeyEscape && e.onEscape != nil {
		e.onEscape()
		return
	}
	e.Entry.TypedKey(ev)
}

// detailEntries are the fields of the sample's details dialog.
func (p *samplePanel) detailEntries() []*detailEntry {
	return []*detailEntry{p.Taken, p.LatLon, p.Depth, p.Analyst, p.Notes}
}

// NextSample readies the panel for the sample after a run: the new ID, and what
// describes one sample alone (when it was taken, its depth, the notes) cleared, so that
// it is not stored with the next. Monday's time and position went into the next
// sample's record, report and trend (helper-67). Site, volume, factor, calibration,
// analyst and the site's position stay: a day's samples share them.
func (p *samplePanel) NextSample(id string) {
	p.ID.SetText(id)
	p.Taken.SetText("")
	p.Depth.SetText("")
	p.Notes.SetText("")
}

// applyDefaults puts into the panel the defaults that changed from was to now (site,
// volume, factor, calibration), leaving what the technician typed otherwise. The analyst
// is the one typed for the last sample (rememberedAnalyst), not a setting.
func (p *samplePanel) applyDefaults(was, now app.Settings) {
	if now.Site != was.Site {
		p.Site.SetText(now.Site)
	}
	if now.VolumeML != was.VolumeML {
		p.Volume.SetText(strconv.FormatFloat(now.VolumeML, 'f', -1, 64))
	}
	if now.Factor != was.Factor {
		p.Factor.SetText(strconv.FormatFloat(now.Factor, 'f', -1, 64))
	}
	if now.UmPerPx != was.UmPerPx {
		p.Calib.SetText("")
		if now.UmPerPx > 0 {
			p.Calib.SetText(strconv.FormatFloat(now.UmPerPx, 'f', -1, 64))
		}
	}
}

// volumeItem is the volume field with the chambers its list offers named beside it, on
// its own line rather than under it: the window must fit a 1366x768 laptop, and the
// counts table below shares the height (helper-69).
func volumeItem(e *widget.SelectEntry) *widget.FormItem {
	chambers := canvas.NewText("1: Sedgewick-Rafter · 0.1: Palmer-Maloney · 10-50: Utermöhl", theme.Color(theme.ColorNamePlaceHolder))
	chambers.TextSize = theme.CaptionTextSize()
	sized := container.NewGridWrap(fyne.NewSize(110, e.MinSize().Height), e)
	return widget.NewFormItem("Volume (mL)", container.NewBorder(nil, nil, sized, nil, container.NewPadded(container.NewVBox(layout.NewSpacer(), chambers, layout.NewSpacer()))))
}

// factorMeaning says what a factor does, beside the field ("" for 1, as taken).
func factorMeaning(v string) string {
	f, err := typednum.Parse(v)
	switch {
	case err != nil || !(f > 0):
		return "1 as taken; 10 when diluted 1+9; 0.1 when 1 L was settled to 100 mL"
	case f == 1:
		// As taken, the usual case, needs no line: the window must fit a 1366x768
		// laptop (helper-69); a factor that scales the counts is said.
		return ""
	case f > 1:
		return fmt.Sprintf("diluted %g-fold before counting: counts are multiplied by %g", f, f)
	}
	return fmt.Sprintf("concentrated %g-fold before counting: counts are divided by %g", 1/f, 1/f)
}

// sampleIDLabel names the sample ID field while it is the sample's to be screened.
const sampleIDLabel = "Sample ID"

// AfterRun names the ID field "Next sample ID" until the next run starts: the banner and
// the counts show the ended sample, and after a run its new ID stood above them under
// "Sample ID", as if they were its own (helper-81).
func (p *samplePanel) AfterRun() { p.nameID("Next sample ID") }

// nameID names the sample ID field.
func (p *samplePanel) nameID(label string) {
	if p.idItem.Text == label {
		return
	}
	p.idItem.Text = label
	p.form.Refresh()
}

// SetRunning enables the buttons that make sense: Start when idle, Pause (or Resume) and
// Stop while running; the sample fields are locked during a run, since the counts and
// the store depend on them.
func (p *samplePanel) SetRunning(running, paused bool) {
	if running {
		p.nameID(sampleIDLabel) // the sample being screened
		p.Start.Disable()
		p.Pause.Enable()
		p.Stop.Enable()
		calib := "uncalibrated"
		if c := strings.TrimSpace(p.Calib.Text); c != "" {
			calib = c + " µm / pixel"
		}
		id := p.ID.Text
		if site := strings.TrimSpace(p.Site.Text); site != "" {
			id += " · " + site
		}
		for i, t := range []string{p.Source.Selected, id, p.Volume.Text, p.Factor.Text + " · " + calib} {
			p.values[i].SetText(t)
		}
		p.form.Hide()
		p.More.Disable()
		p.summary.Show()
	} else {
		p.Start.Enable()
		p.Pause.Disable()
		p.Stop.Disable()
		p.summary.Hide()
		p.form.Show()
		p.More.Enable()
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
	s.Analyst, s.Notes = strings.TrimSpace(p.Analyst.Text), strings.TrimSpace(p.Notes.Text)
	if t := strings.TrimSpace(p.Taken.Text); t != "" {
		when, err := parseWhen(t)
		if err != nil {
			errs = append(errs, fmt.Errorf("Taken %q: %v", t, err))
		} else {
			s.Taken = when
		}
	}
	if t := strings.TrimSpace(p.LatLon.Text); t != "" {
		lat, lon, err := parsePosition(t)
		if err != nil {
			errs = append(errs, fmt.Errorf("Position %q: %v", t, err))
		} else {
			s.Lat, s.Lon = lat, lon
		}
	}
	if t := strings.TrimSpace(p.Depth.Text); t != "" {
		d, err := typednum.Parse(t)
		if err != nil {
			errs = append(errs, fmt.Errorf("Depth %v: type metres below the surface, e.g. 3 (0 for the surface)", err))
		} else {
			s.DepthM = d
		}
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
	// The sample's own checks too, beside the fields that did not read: "POND/3" was
	// said only once the volume typed as 1e309 was fixed (helper-86). A field that did
	// not read keeps NewSample's valid default here, so it is said once, above.
	if err := s.Validate(); err != nil {
		errs = append(errs, err)
	}
	return s, um, errors.Join(errs...)
}

// parseWhen reads a sampling time typed as 2025-06-03 09:30 (local time), with T or
// seconds, or a date alone.
func parseWhen(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02", time.RFC3339} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			if t.After(time.Now().Add(time.Hour)) {
				return t, errors.New("it is in the future: type when the water was taken")
			}
			if t.Year() < 1990 { // a year typed wrong (1900 for 2019), as screen refuses it
				return t, errors.New("it is before 1990: type when the water was taken")
			}
			return t, nil
		}
	}
	return time.Time{}, errors.New("type the date and time as 2025-06-03 09:30")
}

// parsePosition reads "latitude, longitude" in decimal degrees.
func parsePosition(s string) (float64, float64, error) {
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' })
	if len(parts) != 2 {
		return 0, 0, errors.New("type latitude and longitude in decimal degrees, e.g. 56.51, -5.39")
	}
	lat, err1 := strconv.ParseFloat(parts[0], 64)
	lon, err2 := strconv.ParseFloat(parts[1], 64)
	if err1 != nil || err2 != nil || math.Abs(lat) > 90 || math.Abs(lon) > 180 || math.IsNaN(lat) || math.IsNaN(lon) {
		return 0, 0, errors.New("type latitude (-90 to 90) and longitude (-180 to 180) in decimal degrees, e.g. 56.51, -5.39")
	}
	return lat, lon, nil
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

// stackAll stacks its objects like container.NewStack, but its minimum size counts the
// hidden ones too: the panel keeps the form's height while the shorter summary stands in
// for it during a run, so the buttons under it stay where they were (Stop moved up as
// the run started, and the click meant for it missed).
type stackAll struct{}

func (stackAll) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Resize(size)
		o.Move(fyne.NewPos(0, 0))
	}
}

func (stackAll) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for _, o := range objs {
		s = s.Max(o.MinSize())
	}
	return s
}

// Save keeps what the panel's fields hold and returns what puts them back: a run that
// shows another sample in the panel (a continuation) gives the technician's typing back
// when it ends. The source is the window's to keep (its labels name folders by their
// base name alone).
func (p *samplePanel) Save() (restore func()) {
	entries := []*widget.Entry{p.ID, &p.Site.Entry, &p.Volume.Entry, p.Factor, p.Calib, &p.Taken.Entry, &p.LatLon.Entry, &p.Depth.Entry, &p.Analyst.Entry, &p.Notes.Entry}
	texts := make([]string, len(entries))
	for i, e := range entries {
		texts[i] = e.Text
	}
	return func() {
		for i, e := range entries {
			e.SetText(texts[i])
		}
	}
}
