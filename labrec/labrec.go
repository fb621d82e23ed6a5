// Package labrec holds the records a bench exchanges with its programme's lab server:
// what a bench pushes (its samples, runs, objects with crops, validated labels, alerts,
// power records, taxonomies and its own tally of each sample), what it pulls back (labels
// set elsewhere), and what the programme views read (every bench's samples, the trend at
// a site, a week's report). It is plain data: the session store (SQLite) fills and reads
// it on the bench, labserver (PostgreSQL) on the server, so neither knows the other.
//
// Every row carries a global identity: the bench's ID (a UUID the bench makes once and
// keeps in its store) and the row's ID in that bench's store. Pushing the same row twice
// therefore changes nothing the second time.
package labrec

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Sample is a bench's sample. Optional numbers are nil when not recorded.
type Sample struct {
	Bench   string
	ID      string // the sample ID the technician gave, unique within the bench
	Site    string
	Taken   time.Time
	Notes   string
	Factor  float64
	Lat     *float64
	Lon     *float64
	DepthM  *float64
	Analyst string
	Created time.Time
	Marked  bool
	Deleted *time.Time // in the bench's trash since; nil when not deleted
	Gone    bool       // removed from the bench for good (its trash emptied)
}

// Run is one run (a source screened for a sample).
type Run struct {
	Bench            string
	ID               int64 // the run's ID in the bench's store
	SampleID         string
	Spec             string
	Pack             string
	Model            string
	Threshold        float64
	VolumeML         float64  // the volume given for the whole source
	VolumeExaminedML *float64 // the share a partial run examined; nil: all of VolumeML
	Rules            string
	Started          time.Time
	Ended            *time.Time // nil when the run never finished (the process died)
	FramesSeen       int
	FramesDropped    int
	FramesFailed     int
	FramesExpected   int
	FilesSkipped     int
	Interrupted      bool
	Status           string
	Error            string
}

// Object is one object a run found, with its crop (PNG) and classification.
type Object struct {
	ID                             int64 // the object's ID in the bench's store
	RunID                          int64
	Seq                            int
	Time                           time.Time
	Frame, Track                   int
	X, Y, W, H                     int
	Area, Perimeter, ESD           *float64
	Major, Minor, Aspect, Solidity *float64
	MeanGray, Focus, UmPerPx       *float64
	Contrast, CentroidX, CentroidY *float64
	AreaUm2, ESDUm, MajorUm        *float64
	MinorUm, PerimeterUm           *float64
	OnBorder                       bool
	Kind                           string
	Length, Width                  *float64
	Parts                          *int
	CellsEstimate                  *float64
	Oversize                       bool
	File                           string
	Crop                           []byte
	Label                          string
	Prob                           float64
	Top                            string
	Variant                        string
	Error                          string
	Validation                     *Validation // nil when no person has set its label
	// Unidentified, read from the server (never pushed), says the model's label is under
	// its run's confidence threshold and no person set one: the object counts as
	// unidentified and waits for review, whatever Label says.
	Unidentified bool
}

// Validation is a label a person set: who and when. Between bench and server the later
// one wins (At decides; ties keep what is there).
type Validation struct {
	Label string
	By    string
	At    time.Time
}

// ErrGone is wrapped by a bench's read of an outbox entry whose subject it removed after
// queueing it (a run discarded, a sample's trash emptied): there is nothing left to push,
// and the entry is done, not refused.
var ErrGone = errors.New("the bench no longer holds it")

// Label is a validation of one object, as pushed after a relabel on the bench or pulled
// back after one elsewhere.
type Label struct {
	Bench    string
	ObjectID int64
	SampleID string // the object's sample (filled on pull; the bench's own on push)
	Validation
	Rev int64 // the server's revision of the change (pull only): pulls resume after it
}

// Alert is a change of alert level a run raised.
type Alert struct {
	ID              int64
	RunID           int64
	Time            time.Time
	Rule            string
	Taxon           string
	FromLevel       string
	ToLevel         string
	Count           int
	CellsPerL       float64
	CILow, CIHigh   float64
	Threshold       string
	ThresholdPerL   float64
	ThresholdSource string
	Verified        bool
	Note            string
}

// Perf is a performance and power record of a run.
type Perf struct {
	ID           int64
	RunID        int64
	Time         time.Time
	Variant      string
	Cells        int
	DurationMS   float64
	Failed       bool
	Watts        *float64
	Joules       *float64
	EnergySource string
	Estimated    bool
}

// Taxon is a taxon of a pack a run used.
type Taxon struct {
	Pack, Label string
	Idx         int
	Name        string
	Group       string
	GroupName   string
	Unit        string
}

// Count is the bench's own tally of one taxon (or group, or the unidentified) in a
// sample, as its History shows it: the programme views show these figures rather than
// recount, so a bench and the server never disagree on a sample's concentration.
type Count struct {
	Label     string // a taxon label, a group ID (Kind "group") or "unidentified"
	Kind      string // "taxon", "group" or "unidentified"
	Name      string
	Group     string
	GroupName string
	Unit      string
	Count     int
	Validated int
	PerL      float64
	CILow     float64
	CIHigh    float64
	// Cells is the cells estimated in the objects counted: Count for a taxon counted
	// in cells, more for colonies, filaments and chains. 0 where the bench did not say
	// (a tally pushed before schema version 2).
	Cells float64
}

// InCells is the concentration in cells per litre with its interval, as the bench's
// alert rules and charts measure it (screening.RuleMeasure): when the objects counted
// hold more cells than one each, the objects' concentration and interval scaled by the
// cells per object; otherwise the objects' own.
func (c Count) InCells() (perL, low, high float64) {
	return inCells(c.Count, c.Cells, c.PerL, c.CILow, c.CIHigh)
}

func inCells(count int, cells, perL, low, high float64) (float64, float64, float64) {
	if count > 0 && cells > float64(count) {
		k := cells / float64(count)
		return k * perL, k * low, k * high
	}
	return perL, low, high
}

// SampleTally is a sample with its volume examined and its counts.
type SampleTally struct {
	Sample
	VolumeML float64 // examined over all its runs
	Objects  int
	Failed   int
	Counts   []Count
	// Standing is the sample's standing against the alert rules of its last run on
	// these figures, as its bench works it out (nil: the bench could not, its pack or
	// rules not at hand, or it is older than schema version 3).
	Standing *Standing
}

// NotChecked is a Standing's Level when no rule could say where the sample stands: none
// of the rules applies to the pack, or the cells of its colonies are unknown.
const NotChecked = "not checked"

// Standing is where a sample stands against its alert rules on its final figures, as
// its bench works it out each time it pushes the tally: History, the sample's report
// and its counts CSV say the same, and a reviewer's relabel moves it. The levels its
// runs raised while counting (Alerts) are what happened on the way: the weekly report
// gave those as the sample's level, missing a WATCH a relabel brought and keeping an
// ALERT of one run of two (helper-70).
type Standing struct {
	Rules string  // the rules of its last run, as the bench names them: "preset who-cyanobacteria"
	Level string  // "alert", "watch", "none" or NotChecked
	Rule  string  // the rule at that level, its taxa as it reads; at none the rule nearest its next level; "" when not checked
	PerL  float64 // what that rule compares, cells per litre; 0 when not checked
	Why   string  // why NotChecked; at a checked level, what a review of the unidentified objects could raise ("review decides: …"); "" otherwise
}

// RunBatch is one run with everything the server needs alongside its objects: its
// sample and the sample's tally (which the run changed), the taxonomy of its pack, its
// alerts and performance records. Objects come separately (a run can hold many crops).
type RunBatch struct {
	Tally  SampleTally
	Run    Run
	Taxa   []Taxon
	Alerts []Alert
	Perf   []Perf
}

// Outbox entry kinds: what changed on the bench and waits to be pushed.
const (
	KindRun    = "run"    // Ref: the run's ID; push the run, its objects and its sample
	KindSample = "sample" // Ref: the sample ID; push the sample and its tally
	KindLabel  = "label"  // Ref: the object's ID; push its validation
)

// ErrLoginRefused is wrapped in the error of a server that refused the bench's login
// (its user name or password): the server is up, and waiting will not help, unlike a
// server away.
var ErrLoginRefused = errors.New("the lab server refused the login")

// ErrNameTaken is wrapped in the error of a server that refused the bench's name: another
// bench has it. A name given with the push is then not kept (helper-70: it was, and every
// later sync failed until another was given).
var ErrNameTaken = errors.New("another bench has that name")

// DemoSpec is the source a run of the bundled demo records (capture.Demo's spec). The
// demo is the app showing itself: the bench never pushes it, and the programme's views
// leave out a sample whose runs are all demo runs (one a bench pushed before it knew).
const DemoSpec = "demo"

// Pending is one outbox entry. Seq orders them; an entry queued again after it was
// read gets a new Seq, so marking the old Seq done does not lose the newer change.
type Pending struct {
	Seq    int64
	Kind   string
	Ref    string
	Queued time.Time
}

// OutboxState is what waits on the bench, for Settings and the CLI.
type OutboxState struct {
	Pending int
	Oldest  time.Time // zero when nothing waits
}

// ProgrammeFilter chooses samples in the programme views; zero fields choose all.
type ProgrammeFilter struct {
	Site  string
	Bench string // a bench ID or its name
	From  time.Time
	To    time.Time // exclusive
	Limit int
}

// BenchInfo is a bench the server knows.
type BenchInfo struct {
	ID       string
	Name     string
	Role     string
	LastPush time.Time
}

// ProgrammeSample is one sample in the programme's History: which bench, where, when,
// how much was screened, and the highest alert level its runs reached.
type ProgrammeSample struct {
	SampleTally
	BenchName string
	Runs      int
	Alerts    int
	TopLevel  string // the highest level its runs raised while counting ("" when none)
	PushedAt  time.Time
	// Partial: a run of the sample did not read its source to the end (stopped,
	// interrupted, failed): its figures cover only part of the water meant.
	Partial bool
	// Setups are what counted it: each pack, model, threshold and rules its runs used,
	// in the order of its runs (the weekly report showed LN-1's diatoms beside LN-3's
	// cyanobacteria with nothing saying that neither pack could see the other's, helper-92).
	Setups []Setup
	// Companion is the main sample of a companion (S-1~pack, the same frames counted
	// again by another pack, screen --keep-apart): "" for a sample of the programme.
	Companion string
}

// Setup is how one or more runs of a sample counted it, as the lab server recorded them.
type Setup struct {
	Pack      string
	Model     string  // the pack's model variant ("optimised", "base")
	Threshold float64 // the confidence under which an object counts as unidentified
	Rules     string  // the alert rules, as the bench names them: "preset who-cyanobacteria"
	// UmPerPxMin and UmPerPxMax are the calibrations of the objects counted, micrometres
	// per pixel; 0 when none was given (sizes in pixels, colonies' cells not estimated).
	UmPerPxMin, UmPerPxMax float64
	// Taxa are the taxa of the pack as the bench pushed them: what it can name. Empty
	// when the server holds no taxonomy of it.
	Taxa []Taxon
}

// LooksFor reports whether one of the packs that counted the sample can name a taxon
// label or a HAB group ID (a taxon of the group), and whether that is known at all:
// known is false when the server holds no taxonomy of a pack the sample used. Outside
// its packs, a sample's blank for a taxon says nothing: it was not looked for.
func (p ProgrammeSample) LooksFor(label string) (looks, known bool) {
	known = len(p.Setups) > 0
	for _, s := range p.Setups {
		if len(s.Taxa) == 0 {
			known = false
		}
		for _, t := range s.Taxa {
			if t.Label == label || (t.Group != "" && t.Group == label) {
				return true, true
			}
		}
	}
	return false, known
}

// TrendPoint is one sample's concentration of a taxon or group at a site.
type TrendPoint struct {
	Bench     string
	BenchName string
	SampleID  string
	Taken     time.Time
	Count     int
	PerL      float64
	CILow     float64
	CIHigh    float64
	Cells     float64 // as Count.Cells
}

// InCells is the point's concentration in cells per litre, as Count.InCells.
func (p TrendPoint) InCells() (perL, low, high float64) {
	return inCells(p.Count, p.Cells, p.PerL, p.CILow, p.CIHigh)
}

// Week is an ISO week: Monday to Sunday of the calendar. Where its days begin is a
// programme's choice of time zone (StartIn, EndIn): a sample taken Monday 00:30 in
// Berlin is in the week that Monday begins, not the one before, as its bench shows it.
type Week struct {
	Year, Week int
}

// weekPattern is an ISO week as people write it: 2026-W48, 2026W48, 2026-W5.
var weekPattern = regexp.MustCompile(`^(\d{4})-?[Ww](\d{1,2})$`)

// ParseWeek reads "2026-W48" (or "2026W48"), and nothing more.
func ParseWeek(s string) (Week, error) {
	var w Week
	// Whole: "2026-W01-3" (a day of the week) read as its week, the day dropped unsaid
	// (helper-63).
	m := weekPattern.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return w, fmt.Errorf("week %q: write it as YEAR-Wnn, e.g. 2026-W48", s)
	}
	w.Year, _ = strconv.Atoi(m[1])
	w.Week, _ = strconv.Atoi(m[2])
	if w.Week < 1 || w.Week > 53 || w.Year < 1970 || w.Year > 9999 {
		return w, fmt.Errorf("week %q: the week must be 1 to 53 and the year four digits, e.g. 2026-W48", s)
	}
	if w.Week == 53 && WeekOf(w.Start().AddDate(0, 0, 3)).Week != 53 {
		return w, fmt.Errorf("week %q: %d has no week 53", s, w.Year)
	}
	return w, nil
}

// WeekOf is the ISO week holding t on the calendar of t's own location: give it
// t.In(zone) for a programme's zone (time.Now() is the machine's).
func WeekOf(t time.Time) Week {
	y, n := t.ISOWeek()
	return Week{y, n}
}

// Start is the week's Monday as a date: 00:00 UTC. StartIn is where it begins in a zone.
func (w Week) Start() time.Time {
	// 4 January is always in week 1.
	jan4 := time.Date(w.Year, 1, 4, 0, 0, 0, 0, time.UTC)
	monday := jan4.AddDate(0, 0, -((int(jan4.Weekday()) + 6) % 7))
	return monday.AddDate(0, 0, 7*(w.Week-1))
}

// End is the next week's Monday as a date: 00:00 UTC (exclusive).
func (w Week) End() time.Time { return w.Start().AddDate(0, 0, 7) }

// StartIn is the instant the week begins in loc: its Monday's local midnight.
func (w Week) StartIn(loc *time.Location) time.Time { return midnightIn(w.Start(), loc) }

// EndIn is the instant the next week begins in loc (exclusive): seven calendar days
// after StartIn, which is 167 or 169 hours across a change of summer time.
func (w Week) EndIn(loc *time.Location) time.Time { return midnightIn(w.End(), loc) }

// midnightIn is the start, in loc, of the calendar day date (a UTC midnight) names.
func midnightIn(date time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	return time.Date(date.Year(), date.Month(), date.Day(), 0, 0, 0, 0, loc)
}

func (w Week) String() string { return fmt.Sprintf("%04d-W%02d", w.Year, w.Week) }

// WeekReport is what the weekly programme report shows: every bench's samples in the
// week, site by site, with their counts and alerts.
type WeekReport struct {
	Week Week
	// Zone is the programme's time zone: the week runs from Monday 00:00 to the next
	// Monday 00:00 there, and the report shows its times there (nil: UTC).
	Zone    *time.Location
	Made    time.Time
	Server  string // where it was read from (host and database, no password)
	Benches []BenchInfo
	Samples []ProgrammeSample // taken in the week, by site then time
	Alerts  []ProgrammeAlert  // raised by runs of those samples
	// Deleted are the samples taken in the week that their bench moved to its trash:
	// left out of the figures, and said, with the level each stood at (an ALERT
	// vanished from the week's report without a word when its sample was deleted,
	// helper-76).
	Deleted []DeletedSample
	// Companions are the week's companion samples (ProgrammeSample.Companion): the same
	// frames as a sample of the week counted by another pack, left out of its figures
	// and named with the level each raised (an ALERT at Reservoir intake from one was
	// beside "No alert" without a word, helper-92).
	Companions []ProgrammeSample
}

// DeletedSample is a sample its bench deleted (in its trash), as the weekly report
// names it: Level is its final level as its bench last said ("" when not said), Raised
// the highest a run raised while counting.
type DeletedSample struct {
	Bench, BenchName, ID, Site string
	Level, Raised              string
}

// ProgrammeAlert is an alert with the bench and sample it came from.
type ProgrammeAlert struct {
	Alert
	Bench     string
	BenchName string
	SampleID  string
	Site      string
}

// MaxBenchNameLen bounds a bench name, in bytes: the name is a label in the programme's
// views and reports, not a description.
const MaxBenchNameLen = 80

// CheckBenchName says what is wrong with a bench name (already trimmed): too long, or a
// tab, line break or other control character. "" is allowed: it means the host name.
// The bench's store, its Settings and the server apply this one rule.
func CheckBenchName(name string) error {
	switch {
	case len(name) > MaxBenchNameLen:
		return fmt.Errorf("the bench name is %d bytes: keep it to %d at most", len(name), MaxBenchNameLen)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return fmt.Errorf("the bench name %q holds a tab, line break or control character: remove it", name)
	}
	return nil
}
