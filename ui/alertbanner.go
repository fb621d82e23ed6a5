package ui

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/internal/sigfig"
	"github.com/phytoscreen/phytoscreen/screening"
)

// alertBanner is the strip under the toolbar that says, in the level's colour, the
// highest alert standing now: which taxon, its concentration and interval, the rule and
// the threshold's source. With no alert it says what is being watched, in green.
type alertBanner struct {
	widget.BaseWidget
	bg     *canvas.Rectangle
	chipBg *canvas.Rectangle
	chip   *canvas.Text
	line1  *fitText
	line2  *fitText
	// line3 carries a raised level's rule and source on their own line: behind the
	// interval and an oversize warning they were cut off at 1440 px (helper-50). Empty
	// below the levels, never hidden: the banner keeps its height as levels come and go.
	line3 *fitText
	more  *fitText
	// partial is a tag under the chip while the figures are of part of the sample (a
	// run stopped before its source's end): said in the headline's row it was cut off
	// at 1440 px, and a stopped run's "NO ALERT" read as the sample's (helper-56).
	partial  *fyne.Container
	content  *fyne.Container
	level    alerts.Level
	headline string
	// limitsOf gives a pack's limits (inference.Manifest.Limits) by the pack's name, ""
	// when it has none or is not known; nil: none is said (SetPackLimits).
	limitsOf func(pack string) string
}

// SetPackLimits takes how to read what a pack was not shown to do (its limits: the
// check to make, then why), said beside a level raised on a sample that pack counted: a
// sample of water without algae read near the WHO watch level on the cyanobacteria pack
// with no word that its genus calls do not hold on such a camera (helper-81). It is the
// pack of the figures shown, not the pack in use: after a switch to another pack the
// banner still shows the last run, counted by the pack before. UI goroutine only.
func (b *alertBanner) SetPackLimits(limitsOf func(pack string) string) {
	b.limitsOf = limitsOf
}

// check is the check pack's limits ask for, said beside a level. The banner says the
// check alone: the line is cut at the window's width, and the reason cut it off at 1366
// px; screen's summary and pack inspect say the whole.
func (b *alertBanner) check(pack string) string {
	if b.limitsOf == nil || pack == "" {
		return ""
	}
	check, _, _ := strings.Cut(b.limitsOf(pack), ": ")
	return check
}

// newAlertBanner returns a banner saying nothing is watched yet.
func newAlertBanner() *alertBanner {
	b := &alertBanner{}
	b.bg = canvas.NewRectangle(colorNone)
	b.chipBg = canvas.NewRectangle(color.Transparent)
	b.chipBg.CornerRadius = 4
	b.chip = canvas.NewText("", color.White)
	b.chip.TextStyle.Bold = true
	b.chip.TextSize = 15
	b.line1 = newFitText(16, true, fyne.TextAlignLeading)
	b.line2 = newFitText(12.5, false, fyne.TextAlignLeading)
	b.line3 = newFitText(12.5, false, fyne.TextAlignLeading)
	b.more = newFitText(12.5, false, fyne.TextAlignTrailing)
	chip := container.NewStack(b.chipBg, container.NewPadded(container.NewCenter(b.chip)))
	tagBg := canvas.NewRectangle(color.NRGBA{0x4e, 0x34, 0x2e, 0xff})
	tagBg.CornerRadius = 4
	tag := canvas.NewText("PARTIAL", color.White)
	tag.TextStyle.Bold = true
	tag.TextSize = 11
	b.partial = container.NewStack(tagBg, container.NewCenter(tag))
	b.partial.Hide()
	// The headline shares its row with the context (which sample, other alerts) on the
	// right; the detail line below takes the whole width. Both shorten with an ellipsis
	// rather than widen the window: the headline takes its width first (a long one, a
	// taxon list of a regulatory rule, widened the window as a run raised it).
	top := container.New(headlineRow{}, b.line1, b.more)
	text := container.NewVBox(top, b.line2, b.line3)
	// The text block is left-aligned next to the chip; the spacers only centre it vertically.
	b.content = container.NewStack(b.bg, container.NewPadded(
		container.NewBorder(nil, nil, container.NewCenter(container.NewVBox(chip, b.partial)), nil,
			container.NewVBox(layout.NewSpacer(), text, layout.NewSpacer())),
	))
	b.ExtendBaseWidget(b)
	b.Set(nil, "", "", "", nil)
	return b
}

// CreateRenderer implements fyne.Widget.
func (b *alertBanner) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(b.content)
}

// Level returns the level shown.
func (b *alertBanner) Level() alerts.Level { return b.level }

// Headline returns the banner's first line, for tests and the window title.
func (b *alertBanner) Headline() string { return b.headline }

// Detail returns the banner's detail: its second line, and the third when shown.
func (b *alertBanner) Detail() string {
	if b.line3.Text() != "" {
		return b.line2.Text() + " · " + b.line3.Text()
	}
	return b.line2.Text()
}

// SetPartial shows the PARTIAL tag under the chip, or hides it: the figures shown are of
// part of the sample. Set leaves it as it is. UI goroutine only.
func (b *alertBanner) SetPartial(on bool) {
	if on == b.partial.Visible() {
		return
	}
	if on {
		b.partial.Show()
	} else {
		b.partial.Hide()
	}
	b.content.Refresh()
}

// Partial reports whether the PARTIAL tag is shown.
func (b *alertBanner) Partial() bool { return b.partial.Visible() }

// Set shows the highest of states; pack names the pack that counted them (its check is
// said beside a level raised); watching names the rules in use when none is raised;
// context (e.g. "sample S-0142, ended") says which sample the states are of; cannotSee
// the watched taxa the pack cannot recognise, which a green "no alert" must never hide.
// UI goroutine only.
func (b *alertBanner) Set(states []alerts.State, pack, watching, context string, cannotSee []string) {
	top, others := highest(states)
	var bg color.NRGBA
	blind := ""
	if len(cannotSee) > 0 {
		blind = "cannot see " + joinSome(cannotSee, 4) + " with this pack"
	}
	pendingHead, pendingWhy := pendingText(states)
	switch {
	case top == nil && len(states) == 0 && blind != "":
		// Nothing watched can be seen: not an all-clear.
		bg = color.NRGBA{0xec, 0xef, 0xf1, 0xff}
		b.quiet("NOT CHECKED", colorUnchecked, color.NRGBA{0x37, 0x47, 0x4f, 0xff},
			fmt.Sprintf("Not checked: the pack cannot see %s", joinSome(cannotSee, 4)), watching, context)
	case top == nil && uncheckedCells(states) > 0:
		// Below every level on colonies counted one cell each is not below the levels:
		// their cells are unknown (single-cell images carry no size).
		bg = color.NRGBA{0xec, 0xef, 0xf1, 0xff}
		n := uncheckedCells(states)
		headline := fmt.Sprintf("Not checked in cells: %d colonies, filaments or chains without a size to estimate their cells", n)
		if n == 1 {
			headline = "Not checked in cells: 1 colony, filament or chain without a size to estimate its cells"
		}
		if blind != "" {
			headline += "; " + blind
		}
		b.quiet("NOT CHECKED", colorUnchecked, color.NRGBA{0x37, 0x47, 0x4f, 0xff}, headline,
			"The levels are in cells; these count one cell each, a lower bound: screen whole frames, with the µm per pixel, to estimate their cells · "+watching, context)
	case top == nil && tooLittleAny(states):
		// None counted where one would reach a level shows nothing (helper-72: a sample
		// of 0.1 mL read "No alert" where one Noctiluca is the alert level).
		bg = color.NRGBA{0xec, 0xef, 0xf1, 0xff}
		few, limit := tooLittle(states)
		headline := fmt.Sprintf("Not checked: too little examined for %s", joinSome(few, 3))
		if blind != "" {
			headline += "; " + blind
		}
		// The fix first: the banner's line is cut at the window's width.
		b.quiet("NOT CHECKED", colorUnchecked, color.NRGBA{0x37, 0x47, 0x4f, 0xff}, headline,
			fmt.Sprintf("Examine more volume (a larger chamber, more fields, or the sample concentrated): none counted, and one cell in this volume is %s cells/L, at or over their first level · %s",
				fmtPerL(limit), watching), context)
	case top == nil && pendingHead != "":
		// Past a level on what is read so far, held back until enough is read: neither
		// an alert nor "below its thresholds".
		bg = color.NRGBA{0xff, 0xf8, 0xe1, 0xff}
		headline := pendingHead
		if blind != "" {
			headline += "; " + blind
		}
		b.quiet("NOT YET", colorHeldBack, color.NRGBA{0x5d, 0x40, 0x37, 0xff}, headline, pendingWhy, context)
		b.line3.SetText(watching)
	case top == nil && reviewDecides(states) != nil:
		// Below a level only because the objects that would reach it wait for review:
		// no all-clear, the review decides.
		bg = color.NRGBA{0xff, 0xf8, 0xe1, 0xff}
		st := reviewDecides(states)
		// The level first: the headline is cut at the window's width, and a rule's
		// taxa can be long (the WHO preset's).
		headline := fmt.Sprintf("No alert until reviewed: %s could reach %s", st.Taxon, strings.ToUpper(st.ReviewTo.String()))
		if blind != "" {
			headline += "; " + blind
		}
		objects := st.Value.GuessedText(fmtPerL)
		b.quiet("REVIEW", colorHeldBack, color.NRGBA{0x5d, 0x40, 0x37, 0xff}, headline,
			fmt.Sprintf("About %s cells/L were its %s what the model guessed: review them (Gallery and review › Review queue) before reading the sample as below the level",
				fmtPerL(sigfig.Round(st.Value.IfGuessed.PerL, 3)), objects), context)
		b.line3.SetText(watching)
	case top == nil:
		bg = color.NRGBA{0xe8, 0xf5, 0xe9, 0xff}
		headline := "No alert"
		if len(states) > 0 {
			headline = fmt.Sprintf("No alert: %d rules below their thresholds", len(states))
			if len(states) == 1 {
				headline = "No alert: the rule is below its thresholds"
			}
		}
		if blind != "" {
			headline += "; " + blind
		}
		// How near the nearest level is gets a line of its own, the rules watched the
		// line under it: after the headline, with a regulatory rule's taxon list, it was
		// cut off at the default window's width ("(79% of…", helper-59).
		if c := closest(states); c != "" {
			b.quiet("NO ALERT", colorNone, color.NRGBA{0x1b, 0x5e, 0x20, 0xff}, headline, "Nearest: "+c, context)
			b.line3.SetText(watching)
			break
		}
		b.quiet("NO ALERT", colorNone, color.NRGBA{0x1b, 0x5e, 0x20, 0xff}, headline, watching, context)
	default:
		b.level = top.Level
		bg = levelColor(top.Level)
		fg := textOn(bg)
		b.chip.Text = strings.ToUpper(top.Level.String())
		b.chipBg.FillColor = withAlpha(color.NRGBA{0, 0, 0, 0xff}, 0x30)
		b.chip.Color = fg
		b.headline = fmt.Sprintf("%s: %s cells/L", top.Taxon, fmtPerL(top.Value.PerL))
		b.line1.SetColor(fg)
		b.line1.SetText(b.headline)
		measure, basis := stateDetail(*top)
		b.line2.SetText(measure)
		b.line2.SetColor(fg)
		b.line3.SetText(basis)
		b.line3.SetColor(fg)
		b.more.SetColor(fg)
		// The line's parts, joined once; first what must not be cut at the window's
		// width: a higher level past on the frames read so far and held back (WATCH at
		// 257% of the alert level said nothing of it, helper-81), then the sample.
		var more []string
		if pendingHead != "" {
			more = append(more, pendingHead, pendingWhy)
		}
		more = append(more, context, b.check(pack))
		if len(others) > 0 {
			names := make([]string, 0, len(others))
			for _, o := range others {
				names = append(names, o.Taxon+" ("+o.Level.String()+")")
			}
			more = append(more, "also: "+strings.Join(names, ", "))
		}
		more = append(more, blind)
		for _, st := range states {
			if st.ReviewTo != alerts.None {
				// A higher level the review could give a rule is said beside the one
				// raised, for every rule, as the report and the summary say it.
				more = append(more, fmt.Sprintf("review decides: %s could reach %s", st.Taxon, strings.ToUpper(st.ReviewTo.String())))
			}
		}
		b.more.SetText(strings.Join(slices.DeleteFunc(more, func(s string) bool { return s == "" }), " · "))
	}
	b.bg.FillColor = bg
	b.content.Refresh()
}

// reviewDecides is the state whose level the review of the unidentified objects could
// raise highest (alerts.State.ReviewTo); nil when none could.
func reviewDecides(states []alerts.State) *alerts.State {
	var out *alerts.State
	for i := range states {
		if states[i].ReviewTo != alerts.None && (out == nil || states[i].ReviewTo > out.ReviewTo) {
			out = &states[i]
		}
	}
	return out
}

// colorUnchecked is the chip of a rule not checked: the banner's and the table's.
var colorUnchecked = color.NRGBA{0x78, 0x90, 0x9c, 0xff}

// closest says how near the rule nearest its next level is, in that level's own unit:
// "Cyanobacteria at 18,500 of 20,000 cells/mL (93% of its watch level)"; "" when no rule
// has a level in numbers. A green banner must not hide a sample just under a level
// (helper-47).
func closest(states []alerts.State) string { return alerts.ClosestText(states, fmtPerL) }

// colorHeldBack is the chip of a level held back while the sample is still read.
var colorHeldBack = color.NRGBA{0x8d, 0x6e, 0x63, 0xff}

// pendingText says which rule is past a level on the frames read so far while the level
// is held back (alerts.Pending), and, apart, what decides it: the banner's headline and
// the line under it. In one line, with a regulatory rule's taxon list, the reason was cut
// off at 1440 px ("… its lower bound (17.4 M) is still un…", helper-58). "" when none is.
func pendingText(states []alerts.State) (headline, why string) {
	s, share, ok := alerts.Pending(states)
	if !ok {
		return "", ""
	}
	at := fmt.Sprintf("%s at %s cells/L, %s of its %s level", s.Taxon, fmtPerL(s.Value.PerL), alerts.ShareText(share), s.NextLevel)
	if s.Value.Early {
		return fmt.Sprintf("Not yet: %s on under %.0f%% of the frames", at, 100*screening.MinProvisionalShare),
			"A level is entered once that much of the sample is read."
	}
	return fmt.Sprintf("Not yet: %s so far", at),
		fmt.Sprintf("Its lower bound (%s) is still under the level: more frames decide.", fmtPerL(s.Value.Low))
}

// tooLittle names the rules none of whose taxa were counted in a volume where one would
// reach their first level (alerts.State.TooLittleExamined), and what one cell stands for
// in that volume (the same for every rule of a sample).
func tooLittle(states []alerts.State) (names []string, limit float64) {
	for _, s := range states {
		if s.TooLittleExamined() && s.Value.CellsUnknown == 0 {
			names = append(names, s.Taxon)
			limit = max(limit, s.Value.Limit)
		}
	}
	return names, limit
}

// tooLittleAny reports whether any rule is tooLittle's.
func tooLittleAny(states []alerts.State) bool {
	names, _ := tooLittle(states)
	return len(names) > 0
}

// uncheckedCells is the most objects of unknown cells in any rule not checked
// (alerts.State.Unchecked); 0 when every rule could be checked.
func uncheckedCells(states []alerts.State) int {
	n := 0
	for _, s := range states {
		if s.Unchecked() {
			n = max(n, s.Value.CellsUnknown)
		}
	}
	return n
}

// NothingScreened shows that no sample has been screened since launch: neither an
// all-clear nor a level. After a restart the banner was a green NO ALERT over nothing
// counted, the last sample having raised ALERT (helper-67). With a watched taxon the
// pack cannot see, Set says so first. UI goroutine only.
func (b *alertBanner) NothingScreened(watching string, cannotSee []string) {
	if len(cannotSee) > 0 {
		b.Set(nil, "", watching, "", cannotSee)
		return
	}
	b.quiet("READY", colorReady, color.NRGBA{0x0d, 0x47, 0xa1, 0xff},
		"Nothing screened yet: choose a source and press Start (earlier samples are in History)", watching, "")
	b.bg.FillColor = color.NRGBA{0xe3, 0xf2, 0xfd, 0xff}
	b.content.Refresh()
}

// Opening shows that sample id's run is opening what: no level of it yet. The last
// sample's level stayed on the banner while the next folder opened, over the new
// sample's emptied counts, labelled only with the last sample's ID beside the new one's
// (helper-98, shot-20): a WATCH read as the new sample's. The last sample's is in
// History. UI goroutine only.
func (b *alertBanner) Opening(id, what, watching string) {
	b.quiet("STARTING", colorReady, color.NRGBA{0x0d, 0x47, 0xa1, 0xff},
		"Sample "+id+": nothing counted yet", watching, "opening "+what+"…")
	b.bg.FillColor = color.NRGBA{0xe3, 0xf2, 0xfd, 0xff}
	b.SetPartial(false)
	b.content.Refresh()
}

// colorReady is the chip of a banner before any sample: no level, no all-clear.
var colorReady = color.NRGBA{0x42, 0x7a, 0xb8, 0xff}

// NothingExamined shows that a run read no frame: no alert was checked, which a green
// "no alert" must never suggest. UI goroutine only.
func (b *alertBanner) NothingExamined(context string) {
	b.quiet("NOT CHECKED", colorUnchecked, color.NRGBA{0x37, 0x47, 0x4f, 0xff},
		"Not checked: no frame of the source could be read", "Nothing was counted or stored; the message says why each file was skipped.", context)
	b.bg.FillColor = color.NRGBA{0xec, 0xef, 0xf1, 0xff}
	b.content.Refresh()
}

// quiet shows a banner with no level raised: its chip, the headline and the rules
// watched, in the text colour fg.
func (b *alertBanner) quiet(chip string, chipBg, fg color.NRGBA, headline, watching, context string) {
	b.level = alerts.None
	b.chip.Text = chip
	b.chipBg.FillColor = chipBg
	b.chip.Color = color.White
	b.headline = headline
	b.line1.SetColor(fg)
	b.line1.SetText(headline)
	b.line2.SetText(watching)
	b.line2.SetColor(fg)
	b.line3.SetText("")
	// The line of the rules watched under "Nearest" kept a raised level's white on the
	// pale green: barely readable (helper-65).
	b.line3.SetColor(fg)
	b.more.SetColor(fg)
	b.more.SetText(context)
}

// joinSome joins up to n names, then says how many more.
func joinSome(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:n], ", "), len(names)-n)
}

// stateDetail is a raised level's detail: its measure (threshold, interval, what was
// counted) and its basis (rule, source, since when), the banner's second and third lines.
func stateDetail(s alerts.State) (measure, basis string) {
	var parts []string
	if s.Threshold != nil {
		if s.Threshold.Presence {
			parts = append(parts, fmt.Sprintf("%s level: present (%d counted)", s.Level, s.Value.Count))
		} else {
			th := fmtThreshold(*s.Threshold)
			if s.Threshold.Unit == alerts.PerML {
				// The headline is in cells/L: the level in the same unit beside the rule's
				// own (helper-47 read 92.5 M cells/L against "20,000 cells/mL").
				th += " = " + fmtPerL(s.Threshold.CellsPerL()) + " cells/L"
			}
			rel := "≥ "
			if s.Threshold.Above {
				rel = "" // th reads "> 1,000 cells/L"
			}
			parts = append(parts, fmt.Sprintf("%s level %s%s", s.Level, rel, th))
		}
	}
	counted := fmt.Sprintf("%d counted", s.Value.Count)
	if s.Value.Cells > 0 {
		counted = fmt.Sprintf("%s colonies or filaments, about %s cells", fmtCount(s.Value.Count), fmtCount(int(math.Round(s.Value.Cells))))
		if s.Value.Oversize > 0 {
			// An unsplit mat can carry the level on its own: say so where the alert is,
			// short enough to be read whole at 1440 px (its end was cut off: helper-54).
			counted += fmt.Sprintf(" (%s in unsplit objects over a tenth of a frame: check those frames)", fmtCount(int(math.Round(s.Value.Oversize))))
		}
	}
	lo, hi := fmtBounds(s.Value.Low, s.Value.High)
	parts = append(parts, fmt.Sprintf("95%% CI %s – %s cells/L, %s", lo, hi, counted))
	basis = "source: " + sourceText(s.Source, s.Verified) + " · rule " + s.Rule
	if !s.Since.IsZero() {
		basis += " · since " + s.Since.Format("15:04:05")
	}
	return strings.Join(parts, " · "), basis
}

// highest returns the state with the highest level (ties: the furthest above its
// threshold) and the other raised states, highest first; nil when none is raised.
func highest(states []alerts.State) (*alerts.State, []alerts.State) {
	var raised []alerts.State
	for _, s := range states {
		if s.Level > alerts.None {
			raised = append(raised, s)
		}
	}
	if len(raised) == 0 {
		return nil, nil
	}
	slices.SortStableFunc(raised, func(a, b alerts.State) int {
		if a.Level != b.Level {
			return int(b.Level) - int(a.Level)
		}
		ra, rb := overThreshold(a), overThreshold(b)
		switch {
		case ra > rb:
			return -1
		case ra < rb:
			return 1
		}
		return 0
	})
	return &raised[0], raised[1:]
}

// sourceText is a threshold's source, marked when it is not a verified regulatory value
// (unless the source already says so).
func sourceText(src string, verified bool) string {
	if !verified && !strings.Contains(strings.ToLower(src), "not a regulatory") {
		src += " (unverified threshold)"
	}
	return src
}

func overThreshold(s alerts.State) float64 {
	if s.Threshold == nil || s.Threshold.Presence || s.Threshold.CellsPerL() == 0 {
		return float64(s.Value.Count)
	}
	return s.Value.PerL / s.Threshold.CellsPerL()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// alertNotifier sends one desktop notification per escalation (a rule going up a level), not
// per frame: it remembers how many of a run's events it has seen.
type alertNotifier struct {
	send func(*fyne.Notification)
	seen int
}

// newAlertNotifier sends through send (the app's SendNotification).
func newAlertNotifier(send func(*fyne.Notification)) *alertNotifier {
	return &alertNotifier{send: send}
}

// Reset forgets the events seen: a new run starts its events from zero.
func (n *alertNotifier) Reset() { n.seen = 0 }

// Events handles a run's events so far (Snapshot.Events, which only grows) and returns
// how many notifications it sent.
func (n *alertNotifier) Events(events []alerts.Event) int {
	if n.seen > len(events) { // a new run
		n.seen = 0
	}
	sent := 0
	for _, e := range events[n.seen:] {
		if !e.Raised() {
			continue
		}
		title := fmt.Sprintf("%s: %s", strings.ToUpper(e.To.String()), e.Taxon)
		body := fmt.Sprintf("%s cells/L (%d counted) reached the %s threshold (%s). Rule %s; source: %s.",
			fmtPerL(e.Value.PerL), e.Value.Count, e.To, fmtThreshold(e.Threshold), e.Rule, sourceText(e.Source, e.Verified))
		n.send(fyne.NewNotification(title, body))
		sent++
	}
	n.seen = len(events)
	return sent
}

// headlineRow lays out the banner's headline and its context on one row: the headline
// at its natural width (shortened only when the row cannot hold it), the context in what
// is left, but never less than its own width up to a third of the row: which sample the
// figures are of, and that its run has ended or stopped, read "sample …" behind a long
// headline (helper-56). Its minimum width is a few letters, so no headline widens the window.
type headlineRow struct{}

func (headlineRow) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	head, more := objs[0].(*fitText), objs[1].(*fitText)
	gap := theme.Padding() * 2
	keep := min(more.natural(), size.Width/3)
	if keep > 0 {
		keep += gap
	}
	hw := max(0, min(head.natural(), size.Width-keep))
	head.Move(fyne.NewPos(0, 0))
	head.Resize(fyne.NewSize(hw, size.Height))
	more.Move(fyne.NewPos(hw+gap, 0))
	more.Resize(fyne.NewSize(max(0, size.Width-hw-gap), size.Height))
}

func (headlineRow) MinSize(objs []fyne.CanvasObject) fyne.Size {
	a, b := objs[0].MinSize(), objs[1].MinSize()
	return fyne.NewSize(a.Width, max(a.Height, b.Height))
}
