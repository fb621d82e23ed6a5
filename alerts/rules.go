// Package alerts reads HAB alert rules (plain TOML files: per rule a taxon or group, the
// watch and alert levels with thresholds in cells/L or cells/mL or "presence", and where
// each threshold comes from), checks them against the taxa a classifier pack knows, and
// evaluates them on live concentrations with hysteresis, so an alert escalates at once
// and clears only when the value has fallen clearly below its threshold.
package alerts

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/phytoscreen/phytoscreen/inputfile"
)

// Level is an alert level, ordered: None < Watch < Alert.
type Level int

// The levels. Traffic-light practice: none (green), watch (amber), alert (red).
const (
	None Level = iota
	Watch
	Alert
)

// levels lists the levels a rule can set, lowest first.
var levels = []Level{Watch, Alert}

// String returns "none", "watch" or "alert".
func (l Level) String() string {
	switch l {
	case Watch:
		return "watch"
	case Alert:
		return "alert"
	}
	return "none"
}

// LevelNamed is the level whose String is name; None for any other text (a level a
// newer phytoscreen named, or none recorded).
func LevelNamed(name string) Level {
	for _, l := range levels {
		if l.String() == name {
			return l
		}
	}
	return None
}

// MarshalText writes the level's name (for JSON).
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// Unit of a threshold.
const (
	PerL     = "cells/L"
	PerML    = "cells/mL"
	Presence = "presence"
)

// Threshold is one level's trigger: a concentration, or presence (one cell counted).
type Threshold struct {
	Presence bool    `json:"presence,omitempty"`
	Value    float64 `json:"value,omitempty"` // in Unit
	Unit     string  `json:"unit"`            // PerL, PerML or Presence
	// Above says the level is reached only by a concentration over Value, not at it:
	// a regulation's "> 1,000 cells/L" (Florida's "very low" starts above 1,000; 1,000
	// or less is background), written "> 1000" in a rules file. One cell in a 1 mL
	// chamber is 1,000 cells/L exactly, and raised that watch level.
	Above bool `json:"above,omitempty"`
}

// ReachedBy reports whether a concentration in cells per litre reaches the threshold
// (presence aside): at or over it, or over it for an Above threshold.
func (t Threshold) ReachedBy(perL float64) bool {
	if t.Above {
		return perL > t.CellsPerL()
	}
	return perL >= t.CellsPerL()
}

// Marked writes a level's number, formatted as the caller shows numbers, as the level
// reads: "> 1,000" for an Above threshold, "1,000" otherwise. Every text of a level goes
// through it (String, the rules file, the CLI, the app, the reports), and IsAboveText reads
// it back from a stored or synced text.
func (t Threshold) Marked(number string) string {
	if t.Above {
		return aboveMark + " " + number
	}
	return number
}

// aboveMark starts the text of a level reached only above its number.
const aboveMark = ">"

// IsAboveText says whether a level's text, as Marked (or String) wrote it and the
// session store or the lab server keeps it, is one reached only above its number.
func IsAboveText(s string) bool { return strings.HasPrefix(strings.TrimSpace(s), aboveMark) }

// Relation is how a concentration stands to the threshold when it reaches it: "≥",
// or ">" for an Above threshold.
func (t Threshold) Relation() string {
	if t.Above {
		return aboveMark
	}
	return "≥"
}

// CellsPerL is the threshold in cells per litre (0 for presence).
func (t Threshold) CellsPerL() float64 {
	if t.Unit == PerML {
		return t.Value * 1000
	}
	return t.Value
}

// String reads "500 cells/L", "300 cells/mL", "> 1000 cells/L" (Above) or "presence".
func (t Threshold) String() string {
	if t.Presence {
		return Presence
	}
	return t.Marked(strconv.FormatFloat(t.Value, 'f', -1, 64) + " " + t.Unit)
}

// Rule is one alert rule.
type Rule struct {
	ID     string     `json:"id"`   // unique in its ruleset: given, or "<ruleset>:<n>"
	Taxa   []string   `json:"taxa"` // taxon or group names as written; the rule sums them
	Watch  *Threshold `json:"watch,omitempty"`
	Alert  *Threshold `json:"alert,omitempty"`
	Source string     `json:"source"` // where the threshold comes from
	// Verified is false for values the reference marks as unverified or that are
	// phytoscreen's editable defaults rather than a regulation.
	Verified bool   `json:"verified"`
	Note     string `json:"note,omitempty"`
	File     string `json:"-"`
	Line     int    `json:"-"` // line of the rule's [[rule]] header
}

// Name is how the rule reads in a table: its taxa joined with " + ".
func (r *Rule) Name() string { return strings.Join(r.Taxa, " + ") }

// Threshold returns the rule's threshold for a level (nil when the rule has no such level).
func (r *Rule) Threshold(l Level) *Threshold {
	switch l {
	case Watch:
		return r.Watch
	case Alert:
		return r.Alert
	}
	return nil
}

// NextLevel is r's lowest level above l that has a threshold, with it; None and nil
// when none has.
func (r *Rule) NextLevel(l Level) (Level, *Threshold) {
	for _, above := range levels {
		if above > l {
			if th := r.Threshold(above); th != nil {
				return above, th
			}
		}
	}
	return None, nil
}

// FirstCounted is r's lowest level whose threshold is a number (not presence), with
// it; None and nil when none is. A count of none says presence is not reached; whether
// it says the water is under a number depends on the volume (State.TooLittleExamined).
func (r *Rule) FirstCounted() (Level, *Threshold) {
	for _, l := range levels {
		if th := r.Threshold(l); th != nil && !th.Presence {
			return l, th
		}
	}
	return None, nil
}

// StateAt is the rule's standing at level on m, as the evaluator keeps it (its next
// level and its first level in numbers set): what a stored sample's final figures are
// judged by (History, the report, the lab server's standing).
func (r *Rule) StateAt(level Level, m Measure) State {
	st := State{Rule: r.ID, Taxon: r.Name(), Level: level, Value: m, Source: r.Source, Verified: r.Verified}
	st.NextLevel, st.Next = r.NextLevel(level)
	st.CountedLevel, st.Counted = r.FirstCounted()
	st.ReviewTo = reviewTo(r, level, m)
	return st
}

// LevelOf is the level a measure reaches on its own: the highest whose threshold it
// reaches, with no hysteresis (a sample's final figures, or what they would be without
// some objects).
func (r *Rule) LevelOf(m Measure) Level {
	out := None
	for _, l := range levels {
		if th := r.Threshold(l); th != nil && reaches(th, m, 0) {
			out = l
		}
	}
	return out
}

// Where names the rule's place in its file for messages: "rules.toml line 12".
func (r *Rule) Where() string { return fmt.Sprintf("%s line %d", r.File, r.Line) }

// DefaultHysteresis is the fraction by which a value must fall below a level's threshold
// before that level clears (20%): counts near a threshold then do not make the alert flap.
const DefaultHysteresis = 0.2

// Ruleset is a rules file.
type Ruleset struct {
	Name        string  `json:"name"`
	Description string  `json:"description,omitempty"`
	Source      string  `json:"source,omitempty"` // default source of its rules
	Hysteresis  float64 `json:"hysteresis"`
	File        string  `json:"file"`
	Rules       []Rule  `json:"rules"`
}

// fileRule is a [[rule]] as written.
type fileRule struct {
	ID       string `toml:"id,omitempty"`
	Taxon    any    `toml:"taxon"`           // a name or a list of names
	Group    string `toml:"group,omitempty"` // read as taxon's names; with both, the rule sums both, each class once
	Watch    any    `toml:"watch,omitempty"` // a number in unit, or "presence"
	Alert    any    `toml:"alert,omitempty"`
	Unit     string `toml:"unit,omitempty"`
	Source   string `toml:"source,omitempty"`
	Verified *bool  `toml:"verified,omitempty"`
	Note     string `toml:"note,omitempty"`
}

type fileRuleset struct {
	Name        string     `toml:"name"`
	Description string     `toml:"description,omitempty"`
	Source      string     `toml:"source,omitempty"`
	Hysteresis  *float64   `toml:"hysteresis,omitempty"`
	Rule        []fileRule `toml:"rule"`
}

// Format is a short description of the rules file format, quoted in error messages.
const Format = `a rules file has name, description, source, hysteresis and [[rule]] tables with taxon (a name or list) and/or group (with both, the rule sums them, each class once), watch and/or alert (a number, "> NUMBER" for a level reached only above it, or "presence"), unit ("cells/L" or "cells/mL"), source, verified, note, id`

// decodeErrLine reads the line and key of a TOML decoder error that is not a syntax
// error (a value of the wrong type): "toml: line 3 (last key "rule"): incompatible ...".
var decodeErrLine = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)

// Parse reads a rules file. file names it in errors, which give the line and the fix.
func Parse(data []byte, file string) (*Ruleset, error) {
	if err := checkDepth(data, file); err != nil {
		return nil, err
	}
	var f fileRuleset
	md, err := toml.Decode(string(data), &f)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			line := pe.Position.Line
			if strings.Contains(pe.Message, `'\n'`) && line > 1 {
				line-- // the decoder reports an unexpected end of line on the next line
			}
			return nil, fmt.Errorf("%s line %d: %s: fix the TOML syntax", file, line, pe.Message)
		}
		if m := decodeErrLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			if m[2] == "rule" {
				return nil, fmt.Errorf("%s line %d: [rule] is a single table: write each rule as [[rule]] (double brackets)", file, line)
			}
			return nil, fmt.Errorf("%s line %d: %q has the wrong type (%s): %s", file, line, m[2], m[3], Format)
		}
		return nil, fmt.Errorf("%s: %v: %s", file, err, Format)
	}
	lines := newLineIndex(data)
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0]
		line := lines.keyLine(k)
		return nil, fmt.Errorf("%s line %d: unknown key %q: %s", file, line, k.String(), Format)
	}
	rs := &Ruleset{Name: f.Name, Description: f.Description, Source: f.Source, File: file, Hysteresis: DefaultHysteresis}
	if rs.Name == "" {
		rs.Name = strings.TrimSuffix(path.Base(file), path.Ext(file))
	}
	if f.Hysteresis != nil {
		h := *f.Hysteresis
		if !(h > 0 && h < 1) {
			return nil, fmt.Errorf("%s line %d: hysteresis %v: give a fraction above 0 and below 1 (0.2 clears a level once the value is 20%% below its threshold; 0 would let an alert flap at its threshold)", file, lines.topLine("hysteresis"), h)
		}
		rs.Hysteresis = h
	}
	if len(f.Rule) == 0 {
		return nil, fmt.Errorf("%s: no [[rule]] tables: %s", file, Format)
	}
	ids := map[string]int{}
	for i, fr := range f.Rule {
		r, err := fr.rule(rs, i, lines)
		if err != nil {
			return nil, err
		}
		if prev, dup := ids[r.ID]; dup {
			return nil, fmt.Errorf("%s line %d: rule id %q is already used at line %d: ids must be unique", file, r.Line, r.ID, prev)
		}
		ids[r.ID] = r.Line
		rs.Rules = append(rs.Rules, r)
	}
	return rs, nil
}

func (fr fileRule) rule(rs *Ruleset, i int, lines *lineIndex) (Rule, error) {
	r := Rule{ID: fr.ID, Source: fr.Source, Verified: true, Note: fr.Note, File: rs.File, Line: lines.tableLine("rule", i)}
	at := func(key string) string { return fmt.Sprintf("%s line %d", rs.File, lines.ruleKeyLine(i, key)) }
	if r.ID == "" {
		r.ID = fmt.Sprintf("%s:%d", rs.Name, i+1)
	}
	switch v := fr.Taxon.(type) {
	case nil:
	case string:
		r.Taxa = append(r.Taxa, v)
	case []any:
		for _, x := range v {
			s, ok := x.(string)
			if !ok {
				return r, fmt.Errorf("%s: taxon list holds %v: give names in quotes", at("taxon"), x)
			}
			r.Taxa = append(r.Taxa, s)
		}
	default:
		return r, fmt.Errorf("%s: taxon = %v: give a name in quotes or a list of names", at("taxon"), v)
	}
	if fr.Group != "" {
		r.Taxa = append(r.Taxa, fr.Group)
	}
	r.Taxa = slices.DeleteFunc(r.Taxa, func(s string) bool { return strings.TrimSpace(s) == "" })
	if len(r.Taxa) == 0 {
		return r, fmt.Errorf("%s line %d: rule %d names no taxon: add taxon = \"Genus species\" (or group = \"...\")", rs.File, r.Line, i+1)
	}
	unit := PerL
	switch strings.ToLower(strings.ReplaceAll(fr.Unit, " ", "")) {
	case "", "cells/l", "cells/litre", "cells/liter", "cellsperlitre", "cellsperliter":
	case "cells/ml", "cellspermillilitre", "cellspermilliliter":
		unit = PerML
	default:
		return r, fmt.Errorf("%s: unit %q: use \"cells/L\" or \"cells/mL\" (presence is written as watch = \"presence\")", at("unit"), fr.Unit)
	}
	var err error
	if r.Watch, err = parseThreshold(fr.Watch, unit, at("watch"), "watch"); err != nil {
		return r, err
	}
	if r.Alert, err = parseThreshold(fr.Alert, unit, at("alert"), "alert"); err != nil {
		return r, err
	}
	if r.Watch == nil && r.Alert == nil {
		return r, fmt.Errorf("%s line %d: rule for %s has no level: add watch = NUMBER and/or alert = NUMBER (in %s) or \"presence\"", rs.File, r.Line, r.Name(), unit)
	}
	if r.Watch != nil && r.Alert != nil {
		switch {
		case r.Alert.Presence:
			return r, fmt.Errorf("%s: an alert on presence leaves no room for a watch level below it (%s): remove watch", at("watch"), r.Name())
		case !r.Watch.Presence && r.Watch.CellsPerL() >= r.Alert.CellsPerL():
			return r, fmt.Errorf("%s: watch %s is not below alert %s for %s: the watch level must be the lower one", at("watch"), r.Watch, r.Alert, r.Name())
		}
	}
	if r.Source == "" {
		r.Source = rs.Source
	}
	if r.Source == "" {
		return r, fmt.Errorf("%s line %d: rule for %s has no source: say where the threshold comes from (source = \"...\"), or set source at the top of the file", rs.File, r.Line, r.Name())
	}
	if fr.Verified != nil {
		r.Verified = *fr.Verified
	}
	return r, nil
}

func parseThreshold(v any, unit, at, level string) (*Threshold, error) {
	var x float64
	above := false
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		if strings.EqualFold(strings.TrimSpace(v), Presence) {
			return &Threshold{Presence: true, Unit: Presence}, nil
		}
		n, ok := aboveNumber(v)
		if !ok {
			return nil, fmt.Errorf("%s: %s = %q: give a number (in %s, no thousands separators), \"> NUMBER\" for a level reached only above it, or \"presence\"", at, level, v, unit)
		}
		x, above = n, true
	case int64:
		x = float64(v)
	case float64:
		x = v
	default:
		return nil, fmt.Errorf("%s: %s = %v: give a number (in %s) or \"presence\"", at, level, v, unit)
	}
	if !(x > 0) || math.IsInf(x, 0) {
		return nil, fmt.Errorf("%s: %s = %v: a threshold must be a positive number of %s (for \"any cell\" write \"presence\")", at, level, x, unit)
	}
	th := &Threshold{Value: x, Unit: unit, Above: above}
	if th.CellsPerL() > MaxThresholdPerL {
		// 1e300 cells/mL was taken, and every summary wrote its 300 digits (helper-77).
		return nil, fmt.Errorf("%s: %s = %v %s is over %g cells/L, more than any water holds: a typing mistake? (thresholds are in %s)", at, level, x, unit, MaxThresholdPerL, unit)
	}
	return th, nil
}

// aboveNumber reads a threshold written "> 1000" (a level reached only above the
// number, as a regulation's "> 1,000 cells/L"); ok is false for any other text.
func aboveNumber(s string) (float64, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), ">")
	if !ok || strings.HasPrefix(rest, "=") {
		return 0, false
	}
	x, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
	return x, err == nil
}

// MaxThresholdPerL bounds a threshold: a trillion cells per litre is a hundred times a
// cyanobacterial surface scum (about 10^10 cells/L); anything above it is a typing
// mistake.
const MaxThresholdPerL = 1e12

// LoadFile reads a rules file from disk: a regular file of at most inputfile.MaxText
// bytes (a FIFO or device would hold the read; a real rules file is a few KiB).
func LoadFile(name string) (*Ruleset, error) {
	data, err := inputfile.ReadFile(name, inputfile.MaxText)
	if err != nil {
		return nil, fmt.Errorf("rules file: %w", err)
	}
	return Parse(data, name)
}

// LoadFS reads a rules file from a file system (the embedded presets).
func LoadFS(fsys fs.FS, name, display string) (*Ruleset, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("rules %s: %w", display, err)
	}
	return Parse(data, display)
}

// LoadPreset reads the preset called name (name.toml in fsys, e.g. the embedded
// presets); an unknown name is refused with the list of presets there are.
func LoadPreset(fsys fs.FS, name string) (*Ruleset, error) {
	rs, err := LoadFS(fsys, name+".toml", "preset "+name)
	if errors.Is(err, fs.ErrNotExist) {
		files, _ := fs.Glob(fsys, "*.toml")
		names := make([]string, len(files))
		for i, f := range files {
			names[i] = strings.TrimSuffix(f, ".toml")
		}
		return nil, fmt.Errorf("no alert preset %q (presets: %s)", name, strings.Join(names, ", "))
	}
	return rs, err
}

// lineIndex finds the lines of tables and keys in a TOML text, for error messages
// (the TOML decoder reports positions only for syntax errors).
type lineIndex struct {
	lines []string
}

func newLineIndex(data []byte) *lineIndex {
	var li lineIndex
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		li.lines = append(li.lines, sc.Text())
	}
	return &li
}

var tableHeader = regexp.MustCompile(`^\s*\[\[?\s*([A-Za-z0-9_.-]+)\s*\]?\]`)

// tableLine is the 1-based line of the i-th [[name]] header (0 when absent).
func (li *lineIndex) tableLine(name string, i int) int {
	n := 0
	for j, l := range li.lines {
		if m := tableHeader.FindStringSubmatch(l); m != nil && m[1] == name && strings.HasPrefix(strings.TrimSpace(l), "[[") {
			if n == i {
				return j + 1
			}
			n++
		}
	}
	return 0
}

// ruleKeyLine is the line of key in the i-th [[rule]] table (its header line when the
// key is not written there).
func (li *lineIndex) ruleKeyLine(i int, key string) int {
	start := max(li.tableLine("rule", i), 1)
	for j := start; j < len(li.lines); j++ {
		if tableHeader.MatchString(li.lines[j]) {
			break
		}
		if keyAt(li.lines[j], key) {
			return j + 1
		}
	}
	return start
}

// keyLine is the first line that sets the last part of key k (for undecoded keys, which
// the decoder reports without the table's index).
func (li *lineIndex) keyLine(k toml.Key) int {
	for j, l := range li.lines {
		if keyAt(l, k[len(k)-1]) {
			return j + 1
		}
	}
	return 1
}

// topLine is the line of a top-level key (before the first table).
func (li *lineIndex) topLine(key string) int {
	for j, l := range li.lines {
		if tableHeader.MatchString(l) {
			break
		}
		if keyAt(l, key) {
			return j + 1
		}
	}
	return 1
}

func keyAt(line, key string) bool {
	s := strings.TrimSpace(line)
	if !strings.HasPrefix(s, key) {
		return false
	}
	s = strings.TrimSpace(s[len(key):])
	return strings.HasPrefix(s, "=")
}
