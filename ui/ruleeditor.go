package ui

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/internal/typednum"
	"github.com/phytoscreen/phytoscreen/outfile"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
)

// ruleEditor edits a site's alert rules (taxa, watch and alert levels with their unit,
// and the source of each level) and saves them as the TOML rules file the CLI reads.
type ruleEditor struct {
	Name, Source, Path *widget.Entry
	rows               []*ruleRow
	box                *fyne.Container
	taxa               []string // offered in each row's taxon field
	message            *widget.Label
}

// ruleRow is one rule in the editor.
type ruleRow struct {
	Taxa, Watch, Alert, Source *widget.Entry
	Unit                       *widget.Select
	Verified                   *widget.Check
	note, id                   string
	line                       *fyne.Container
}

// units offered for a rule's levels.
var ruleUnits = []string{alerts.PerL, alerts.PerML}

// newRuleEditor fills an editor from rules; taxa are the names offered (the pack's
// taxa and groups, and those the presets name).
func newRuleEditor(rs *alerts.Ruleset, taxa []string, path string) *ruleEditor {
	ed := &ruleEditor{Name: widget.NewEntry(), Source: widget.NewEntry(), Path: widget.NewEntry(), taxa: taxa, message: widget.NewLabel("")}
	ed.message.Wrapping = fyne.TextWrapWord
	ed.Name.SetText(rs.Name)
	ed.Source.SetText(rs.Source)
	ed.Source.SetPlaceHolder("where the levels come from, unless a rule says")
	ed.Path.SetText(path)
	ed.box = container.NewVBox()
	for _, r := range rs.Rules {
		ed.AddRule(r)
	}
	return ed
}

// AddRule adds a row holding r (a blank one for a zero rule).
func (ed *ruleEditor) AddRule(r alerts.Rule) *ruleRow {
	row := &ruleRow{Taxa: widget.NewEntry(), Watch: widget.NewEntry(), Alert: widget.NewEntry(), Source: widget.NewEntry(),
		Unit: widget.NewSelect(ruleUnits, nil), Verified: widget.NewCheck("regulatory", nil), note: r.Note, id: r.ID}
	row.Taxa.SetPlaceHolder("taxon, or several joined with +")
	row.Taxa.SetText(strings.Join(r.Taxa, " + "))
	row.Watch.SetPlaceHolder("watch: number, > number, or presence")
	row.Alert.SetPlaceHolder("alert: number, > number, or presence")
	row.Source.SetPlaceHolder("source of the levels")
	row.Source.SetText(r.Source)
	row.Unit.SetSelected(alerts.PerL)
	if r.Watch != nil && r.Watch.Unit == alerts.PerML || r.Alert != nil && r.Alert.Unit == alerts.PerML {
		row.Unit.SetSelected(alerts.PerML)
	}
	perML := row.Unit.Selected == alerts.PerML
	row.Watch.SetText(alerts.LevelText(r.Watch, perML))
	row.Alert.SetText(alerts.LevelText(r.Alert, perML))
	row.Verified.SetChecked(r.Verified || r.Source == "")
	pick := widget.NewButtonWithIcon("", theme.ListIcon(), nil)
	pick.OnTapped = func() {
		m := fyne.NewMenu("")
		for _, t := range ed.taxa {
			name := t
			m.Items = append(m.Items, fyne.NewMenuItem(name, func() {
				if strings.TrimSpace(row.Taxa.Text) == "" {
					row.Taxa.SetText(name)
				} else {
					row.Taxa.SetText(row.Taxa.Text + " + " + name)
				}
			}))
		}
		c := fyne.CurrentApp().Driver().CanvasForObject(pick)
		if c != nil {
			widget.ShowPopUpMenuAtRelativePosition(m, c, fyne.NewPos(0, pick.Size().Height), pick)
		}
	}
	remove := widget.NewButtonWithIcon("", theme.DeleteIcon(), func() { ed.remove(row) })
	row.line = container.NewBorder(nil, nil, nil, container.NewHBox(pick, remove),
		container.NewGridWithColumns(6, row.Taxa, row.Watch, row.Alert, row.Unit, row.Source, row.Verified))
	ed.rows = append(ed.rows, row)
	ed.box.Add(row.line)
	return row
}

func (ed *ruleEditor) remove(row *ruleRow) {
	ed.rows = slices.DeleteFunc(ed.rows, func(r *ruleRow) bool { return r == row })
	ed.box.Remove(row.line)
}

// Ruleset reads the rows into a rules file's text and checks it the way the CLI will
// read it: errors name the rule and the fix.
func (ed *ruleEditor) Ruleset() ([]byte, *alerts.Ruleset, error) {
	name := strings.TrimSpace(ed.Name.Text)
	if name == "" {
		return nil, nil, fmt.Errorf("name the rules (e.g. the site): it is shown with every alert")
	}
	rs := &alerts.Ruleset{Name: name, Source: strings.TrimSpace(ed.Source.Text), Hysteresis: alerts.DefaultHysteresis}
	for i, row := range ed.rows {
		r := alerts.Rule{ID: row.id, Source: strings.TrimSpace(row.Source.Text), Verified: row.Verified.Checked, Note: row.note}
		if r.ID == "" {
			r.ID = fmt.Sprintf("%s:%d", name, i+1)
		}
		for _, t := range strings.Split(row.Taxa.Text, "+") {
			if t = strings.TrimSpace(t); t != "" {
				r.Taxa = append(r.Taxa, t)
			}
		}
		var err error
		if r.Watch, err = rowLevel(row.Watch.Text, row.Unit.Selected, i+1, "watch"); err != nil {
			return nil, nil, err
		}
		if r.Alert, err = rowLevel(row.Alert.Text, row.Unit.Selected, i+1, "alert"); err != nil {
			return nil, nil, err
		}
		rs.Rules = append(rs.Rules, r)
	}
	if len(rs.Rules) == 0 {
		return nil, nil, fmt.Errorf("no rules: add one with Add rule")
	}
	data, err := alerts.Encode(rs)
	if err != nil {
		return nil, nil, err
	}
	back, err := alerts.Parse(data, name+".toml") // the CLI's own checks: levels, sources, order
	if err != nil {
		return nil, nil, err
	}
	return data, back, nil
}

// rowLevel reads a level typed in a row: empty (none), "presence", a positive number,
// or "> NUMBER" for a level reached only above it (a regulation's "> 1,000 cells/L").
func rowLevel(s, unit string, rule int, level string) (*alerts.Threshold, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return nil, nil
	case strings.EqualFold(s, alerts.Presence):
		return &alerts.Threshold{Presence: true, Unit: alerts.Presence}, nil
	}
	num, above := strings.CutPrefix(s, ">")
	v, err := typednum.ParseGrouped(strings.TrimSpace(num))
	if err != nil {
		return nil, fmt.Errorf("rule %d: %s level %q: type a positive number of %s, > and a number for a level reached only above it, or presence", rule, level, s, unit)
	}
	if !(v > 0) || v > 1e12 {
		return nil, fmt.Errorf("rule %d: %s level %q: type a positive number of %s, or presence", rule, level, s, unit)
	}
	return &alerts.Threshold{Value: v, Unit: unit, Above: above}, nil
}

// Save writes the rules file; it returns its path.
func (ed *ruleEditor) Save() (string, error) {
	data, _, err := ed.Ruleset()
	if err != nil {
		return "", err
	}
	path := strings.TrimSpace(ed.Path.Text)
	if path == "" {
		return "", fmt.Errorf("give the file to save the rules in")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", fmt.Errorf("save rules: %w", err)
	}
	if err := outfile.Write(path, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
		return "", err
	}
	return path, nil
}

// defaultRulesPath is where a site's rules are saved unless the user says: beside the
// session store, rules/<name>.toml.
func defaultRulesPath(name string) string {
	base, err := store.DefaultPath()
	if err != nil {
		base = filepath.Join(os.TempDir(), "phytoscreen", store.FileName)
	}
	clean := strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ' ' || r < 32 {
			return '-'
		}
		return r
	}, name)
	return filepath.Join(filepath.Dir(base), "rules", clean+".toml")
}

// content lays the editor out: header fields, the rows, Add rule.
func (ed *ruleEditor) content() fyne.CanvasObject {
	head := widget.NewForm(widget.NewFormItem("Rules name", ed.Name), widget.NewFormItem("Default source", ed.Source), widget.NewFormItem("Save as", ed.Path))
	cols := container.NewGridWithColumns(6, bold("Taxa"), bold("Watch at"), bold("Alert at"), bold("Unit"), bold("Source"), bold("Verified"))
	add := widget.NewButtonWithIcon("Add rule", theme.ContentAddIcon(), func() { ed.AddRule(alerts.Rule{}) })
	return container.NewBorder(container.NewVBox(head, cols), container.NewVBox(add, ed.message), nil, nil, container.NewVScroll(ed.box))
}

func bold(s string) *widget.Label {
	return widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
}

// editorTaxa offers the names a rule can watch: the pack's taxa and groups, then the
// taxa the rules in use name that the pack cannot see.
func editorTaxa(tx *screening.Taxonomy, b alerts.Binding) []string {
	var out []string
	for _, g := range tx.Groups {
		out = append(out, g.Name)
	}
	for _, t := range tx.Taxa {
		out = append(out, t.Name)
	}
	return append(out, b.CannotSee()...)
}
