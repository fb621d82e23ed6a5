package ui

import (
	"cmp"
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
	"github.com/phytoscreen/phytoscreen/screening"
)

// countRow is one line of the counts table: a taxon, or the unidentified cells.
type countRow struct {
	Label string // pack label, or screening.Unidentified
	Name  string
	Group string
	Unit  string // "cell", "chain", "colony"
	screening.Concentration
	Level alerts.Level
	// Unchecked marks a row below its levels whose rule could not be checked in cells
	// (alerts.State.Unchecked): "–" read as below them (helper-50).
	Unchecked bool
	// Cells is the cells estimated in the objects counted (0: not said): more than
	// Count for colonies, chains and filaments, which the alert levels count in cells.
	Cells float64
	Trend []float64 // count over the last minutes, oldest first
	// IsGroup marks a HAB group's row (the sum of its taxa, what alert rules watch):
	// the groups come first, whatever the sort.
	IsGroup bool
}

// Columns of the counts table.
const (
	colTaxon = iota
	colCount
	colPerL
	colCI
	colLevel
	colTrend
	numCols
)

// "Per L", not "Cells/L": a taxon counted in colonies, chains or filaments (its unit in
// its name) has that many units a litre, and reading them as cells would put a colony of
// hundreds of cells at one (the alert rules use the cells estimated in them).
var colTitles = [numCols]string{"Taxon", "Count", "Per L", "95% CI (per L)", "Alert", "Trend"}

// The Alert column fits "Unchecked" (66 px at 12 pt bold, in its chip's padding).
var colWidths = [numCols]float32{176, 60, 74, 124, 76, 56}

// countsTable lists the counts per taxon, sortable by any column by tapping its header;
// the unidentified cells are their own row, always last, waiting for review.
// ScrollToTop shows the table's first rows (a new sample starts at the top).
func (c *countsTable) ScrollToTop() { c.table.ScrollToTop() }

type countsTable struct {
	widget.BaseWidget
	table   *widget.Table
	rows    []countRow // sorted, unidentified last
	sortCol int
	desc    bool
	// chosen: the user clicked a column; until then taxa in a HAB group come before
	// those in none (see sort).
	chosen bool
	trend  bool
	empty  *widget.Label
	stack  *fyne.Container
	// note says under the table what the rows in objects come to in cells: the alert
	// banner reads cells/mL above a table of colonies per litre (helper-49).
	note   *widget.Label
	taxonW float32 // the Taxon column's width now (Resize)
	// scope says above the table when its rows are not the whole sample's: a
	// continuation counts its own frames, under a banner that gives the whole sample
	// once it ends (helper-54).
	scope *widget.Label
}

// newCountsTable returns an empty table sorted by count, largest first; trend adds the
// trend column (a live run has one, a stored sample has not).
func newCountsTable(trend bool) *countsTable {
	c := &countsTable{sortCol: colCount, desc: true, trend: trend}
	cols := numCols
	if !trend {
		cols = colTrend
	}
	c.table = widget.NewTableWithHeaders(
		func() (int, int) { return len(c.rows), cols },
		newCountCell,
		func(id widget.TableCellID, o fyne.CanvasObject) {
			if id.Row < len(c.rows) {
				updateCountCell(o.(*fyne.Container), id.Col, c.rows[id.Row])
			}
		})
	c.table.ShowHeaderColumn = false
	c.table.CreateHeader = func() fyne.CanvasObject {
		b := widget.NewButton("", nil)
		b.Importance = widget.LowImportance
		b.Alignment = widget.ButtonAlignLeading
		return b
	}
	c.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		b := o.(*widget.Button)
		t := colTitles[id.Col]
		if id.Col == c.sortCol {
			if c.desc {
				t += " ▼"
			} else {
				t += " ▲"
			}
		}
		b.SetText(t)
		col := id.Col
		b.OnTapped = func() { c.SortBy(col) }
	}
	for i, w := range colWidths {
		c.table.SetColumnWidth(i, w)
	}
	c.empty = widget.NewLabel(emptyCounts)
	c.empty.Alignment = fyne.TextAlignCenter
	c.note = widget.NewLabel("")
	c.note.Wrapping = fyne.TextWrapWord
	c.note.SizeName = theme.SizeNameCaptionText
	c.note.Hide()
	c.scope = widget.NewLabel("")
	c.scope.Wrapping = fyne.TextWrapWord
	c.scope.SizeName = theme.SizeNameCaptionText
	c.scope.TextStyle.Italic = true
	c.scope.Hide()
	c.stack = container.NewBorder(c.scope, c.note, nil, nil,
		container.NewStack(c.table, container.NewVBox(layout.NewSpacer(), c.empty, layout.NewSpacer())))
	c.ExtendBaseWidget(c)
	return c
}

// CreateRenderer implements fyne.Widget.
func (c *countsTable) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(c.stack) }

// Resize gives the Taxon column the width the other columns leave: at a fixed 176 px,
// "HAB group: Cyanobacteria" and "Dolichospermum (filaments)" were cut short however
// wide the pane (helper-54).
func (c *countsTable) Resize(s fyne.Size) {
	c.BaseWidget.Resize(s)
	if w := c.taxonWidth(s.Width); w != c.taxonW {
		c.taxonW = w
		c.table.SetColumnWidth(colTaxon, w)
	}
}

// taxonWidth is the Taxon column's width in a table width wide: what the other columns,
// their separators and the scroll bar leave, never under colWidths[colTaxon].
func (c *countsTable) taxonWidth(width float32) float32 {
	cols := numCols
	if !c.trend {
		cols = colTrend
	}
	rest := float32(0)
	for _, w := range colWidths[1:cols] {
		rest += w + theme.SeparatorThicknessSize()
	}
	const scrollBar = 16 // the vertical bar over the last column when rows overflow
	return float32(math.Floor(float64(max(colWidths[colTaxon], width-rest-scrollBar))))
}

// emptyCounts is what a table of no rows says.
const emptyCounts = "No cells counted yet."

// Clear empties the table, saying why in place of its rows: a sample the search hid left
// "No cells counted yet." under History's heading (helper-67).
func (c *countsTable) Clear(why string) {
	c.SetRows(nil)
	c.empty.SetText(why)
}

// SetRows replaces the rows (UI goroutine). The unidentified row, if any, goes last.
func (c *countsTable) SetRows(rows []countRow) {
	c.empty.SetText(emptyCounts)
	c.rows = append(c.rows[:0], rows...)
	c.sort()
	if t := cellsNote(c.rows); t != "" {
		c.note.SetText(t)
		c.note.Show()
	} else {
		c.note.Hide()
	}
	if len(c.rows) == 0 || (len(c.rows) == 1 && c.rows[0].Label == screening.Unidentified && c.rows[0].Count == 0) {
		c.empty.Show()
	} else {
		c.empty.Hide()
	}
	c.table.Refresh()
}

// cellsNote says what the rows counted in colonies, chains or filaments come to in
// cells per litre, as the alert rules measure them (screening.RuleMeasure): the HAB
// groups, then the three taxa of most cells, whatever the table's order, and how many
// more there are; "" when every row counts cells.
func cellsNote(rows []countRow) string {
	var groups, taxa []countRow
	for _, r := range rows {
		switch {
		case r.Cells <= float64(r.Count) || r.Count == 0:
		case r.IsGroup:
			groups = append(groups, r)
		default:
			taxa = append(taxa, r)
		}
	}
	slices.SortStableFunc(taxa, func(a, b countRow) int { return cmp.Compare(b.Cells, a.Cells) })
	var parts []string
	for _, r := range append(groups, taxa[:min(len(taxa), 3)]...) {
		name, _ := strings.CutPrefix(r.Name, "HAB group: ")
		parts = append(parts, fmt.Sprintf("%s ≈ %s cells/L", name, fmtPerL(screening.RuleMeasure(r.Concentration, r.Cells).PerL)))
	}
	if len(parts) == 0 {
		return ""
	}
	if n := len(taxa) - 3; n > 0 {
		// The parts did not add up to the group's figure with no word of the rest
		// (helper-81: Microcystis left out beside three others).
		parts = append(parts, fmt.Sprintf("%d more taxa (%s)", n, moreCellsWhere))
		if n == 1 {
			parts[len(parts)-1] = fmt.Sprintf("1 more taxon (%s)", moreCellsWhere)
		}
	}
	return "Per L counts objects: a colony, chain or filament is one. The alert levels are in cells, estimated in them: " +
		strings.Join(parts, " · ") + "."
}

// moreCellsWhere says where the cells of every taxon are, past the three the note names.
const moreCellsWhere = "each taxon's cells in the counts CSV"

// SetScope says above the rows what they count when it is not the whole sample; ""
// hides it (UI goroutine).
func (c *countsTable) SetScope(text string) {
	c.scope.SetText(text)
	c.scope.Hidden = text == ""
	c.stack.Refresh()
}

// Scope is what SetScope last said.
func (c *countsTable) Scope() string { return c.scope.Text }

// Rows returns the rows in display order.
func (c *countsTable) Rows() []countRow { return c.rows }

// SortBy sorts by column col; the same column again reverses the order.
func (c *countsTable) SortBy(col int) {
	c.chosen = true
	if col == c.sortCol {
		c.desc = !c.desc
	} else {
		c.sortCol, c.desc = col, col != colTaxon
	}
	c.sort()
	c.table.Refresh()
}

func (c *countsTable) sort() {
	slices.SortStableFunc(c.rows, func(a, b countRow) int {
		// HAB groups first, then their members, unidentified always last.
		if a.IsGroup != b.IsGroup {
			if a.IsGroup {
				return -1
			}
			return 1
		}
		ua, ub := a.Label == screening.Unidentified, b.Label == screening.Unidentified
		if ua != ub {
			if ua {
				return 1
			}
			return -1
		}
		// In the first order, taxa in a HAB group before those in none: a reject class
		// such as "Not a cyanobacterium" topped the table above the genera the alerts
		// are about (helper-49). A column clicked sorts by it alone.
		if ga, gb := a.Group != "", b.Group != ""; ga != gb && !c.chosen {
			if ga {
				return -1
			}
			return 1
		}
		var r int
		switch c.sortCol {
		case colTaxon:
			r = strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
		case colLevel:
			r = cmp.Compare(levelRank(a), levelRank(b))
		case colCount, colPerL, colCI, colTrend:
			r = cmp.Compare(a.Count, b.Count)
		}
		if c.desc {
			r = -r
		}
		if r == 0 {
			r = strings.Compare(a.Label, b.Label)
		}
		return r
	})
}

// A count cell holds every kind of content; updateCountCell shows the one its column needs.
// Children: 0 swatch+name row, 1 plain text, 2 level chip, 3 sparkline.
func newCountCell() fyne.CanvasObject {
	sw := canvas.NewRectangle(color.Transparent)
	sw.SetMinSize(fyne.NewSize(10, 10))
	sw.CornerRadius = 2
	name := widget.NewLabel("")
	name.Truncation = fyne.TextTruncateEllipsis
	nameRow := container.NewBorder(nil, nil, container.NewCenter(sw), nil, name)
	txt := widget.NewLabel("")
	txt.Alignment = fyne.TextAlignTrailing
	chipBg := canvas.NewRectangle(color.Transparent)
	chipBg.CornerRadius = 4
	chipTxt := canvas.NewText("", color.White)
	chipTxt.TextStyle.Bold = true
	chipTxt.TextSize = 12
	chipTxt.Alignment = fyne.TextAlignCenter
	chip := container.NewPadded(container.NewStack(chipBg, container.NewCenter(chipTxt)))
	spark := newSparkline(colorBrand)
	return container.NewStack(nameRow, txt, chip, container.NewPadded(spark))
}

func updateCountCell(c *fyne.Container, col int, r countRow) {
	for _, o := range c.Objects {
		o.Hide()
	}
	switch col {
	case colTaxon:
		row := c.Objects[0].(*fyne.Container)
		name := row.Objects[0].(*widget.Label)
		sw := row.Objects[1].(*fyne.Container).Objects[0].(*canvas.Rectangle)
		text := r.Name
		switch {
		case strings.Contains(r.Unit, "/"):
			// A group of colonies and filaments: its members' rows name their units. It
			// read "(mixed units)" here, "filament/colony" in the exports and cut the
			// group's name short (helper-54).
		case r.Unit != "" && r.Unit != "cell":
			text += " (" + screening.UnitPlural(r.Unit) + ")"
		}
		// The style before the text: SetText renders, and a recycled cell must not keep
		// the italics of the row it showed before.
		name.TextStyle.Italic = r.Label == screening.Unidentified
		name.SetText(text)
		name.Refresh()
		sw.FillColor = taxonColor(r.Label, r.Group)
		sw.Refresh()
		row.Show()
	case colCount, colPerL, colCI:
		t := c.Objects[1].(*widget.Label)
		switch col {
		case colCount:
			t.SetText(fmtCount(r.Count))
		case colPerL:
			t.SetText(fmtPerL(r.PerL))
		default:
			t.SetText(fmtCI(r.Concentration))
		}
		t.Show()
	case colLevel:
		chip := c.Objects[2].(*fyne.Container)
		st := chip.Objects[0].(*fyne.Container)
		bg := st.Objects[0].(*canvas.Rectangle)
		txt := st.Objects[1].(*fyne.Container).Objects[0].(*canvas.Text)
		switch {
		case r.Unchecked:
			bg.FillColor = colorUnchecked
			txt.Color = color.White
		case r.Level == alerts.None:
			bg.FillColor = color.Transparent
			txt.Color = theme.Color(theme.ColorNameDisabled)
		default:
			bg.FillColor = levelColor(r.Level)
			txt.Color = textOn(levelColor(r.Level))
		}
		txt.Text = levelName(r.Level)
		if r.Unchecked {
			txt.Text = "Unchecked"
		}
		bg.Refresh()
		txt.Refresh()
		chip.Show()
	case colTrend:
		p := c.Objects[3].(*fyne.Container)
		s := p.Objects[0].(*sparkline)
		s.SetColor(taxonColor(r.Label, r.Group))
		s.SetValues(r.Trend)
		p.Show()
	}
}

// groupKey prefixes a HAB group's row key (taxa keys are pack labels).
const groupKey = "group:"

// levelRank orders the Alert column: none, unchecked (perhaps above a level), watch,
// alert.
func levelRank(r countRow) int {
	if r.Unchecked {
		return 1
	}
	return 2 * int(r.Level)
}

// levelRows sets the rows' Alert column from the rules' states (screening.RowLevels):
// a taxon's row the level of the rules on it alone, a HAB group's the highest of the
// rules counting its taxa shown, then the rows not checked (markUnchecked).
func levelRows(rows []countRow, states []alerts.State, tx *screening.Taxonomy) {
	own, counted := screening.RowLevels(states)
	for i := range rows {
		r := &rows[i]
		if !r.IsGroup {
			r.Level = own[r.Label]
			continue
		}
		r.Level = alerts.None
		for _, t := range rows {
			if !t.IsGroup && t.Group == r.Group {
				r.Level = max(r.Level, counted[t.Label])
			}
		}
	}
	markUnchecked(rows, states, tx)
}

// markUnchecked marks a stored sample's rows (History's) below their levels whose rules
// could not be checked in cells (screening.UncheckedRows: colonies in single-cell
// images), as the live snapshot marks its own. The banner says NOT CHECKED; the table
// said "–".
func markUnchecked(rows []countRow, states []alerts.State, tx *screening.Taxonomy) {
	own, counted := screening.UncheckedRows(states)
	for i := range rows {
		r := &rows[i]
		r.Unchecked = false
		if r.Level != alerts.None {
			continue
		}
		if !r.IsGroup {
			r.Unchecked = own[r.Label]
			continue
		}
		r.Unchecked = slices.ContainsFunc(rows, func(x countRow) bool { return !x.IsGroup && x.Group == r.Group && counted[x.Label] })
		if !r.Unchecked && tx != nil {
			// A group of which nothing was counted has no taxon rows: its members are
			// the taxonomy's (helper-75: History read "–" where the summary, the CSV and
			// the report said unchecked, for none counted in too little volume).
			r.Unchecked = slices.ContainsFunc(tx.Members(r.Group), func(l string) bool { return counted[l] })
		}
	}
}

// countRows builds the table's rows from a snapshot and the trends kept so far.
func countRows(s screening.Snapshot, trends map[string]*series) []countRow {
	rows := make([]countRow, 0, len(s.Groups)+len(s.Taxa)+1)
	for _, g := range s.Groups {
		rows = append(rows, countRow{Label: groupKey + g.Group.ID, Name: "HAB group: " + g.Group.Name, Group: g.Group.ID, Unit: g.Unit,
			Concentration: g.Concentration, Level: g.Level, IsGroup: true, Cells: g.CellsEstimate, Unchecked: g.Unchecked})
	}
	for _, t := range s.Taxa {
		r := countRow{Label: t.Label, Name: t.Name, Group: t.Group, Unit: t.Unit, Concentration: t.Concentration, Level: t.Level, Cells: t.CellsEstimate, Unchecked: t.Unchecked}
		if tr := trends[t.Label]; tr != nil {
			r.Trend = tr.Values()
		}
		rows = append(rows, r)
	}
	u := countRow{Label: screening.Unidentified, Name: "Unidentified (to review)", Concentration: s.Unidentified}
	if tr := trends[screening.Unidentified]; tr != nil {
		u.Trend = tr.Values()
	}
	rows = append(rows, u) // Unchecked as the snapshot marks it (screening.UncheckedRows)
	return rows
}
