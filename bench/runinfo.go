package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"time"

	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/inputfile"
	"github.com/phytoscreen/phytoscreen/power"
)

// RunInfoFile holds what report.md says beside the rows of results.csv, so that the report
// and the plots can be drawn again without measuring again (phytoscreen bench --redraw).
const RunInfoFile = "run.json"

// Settings are the benchmark's settings as the report states them.
type Settings struct {
	Models         []inference.Variant `json:"models"`
	Threads        []int               `json:"threads"`
	Batches        []int               `json:"batches"`
	Scenarios      []Scenario          `json:"scenarios"`
	Stress         []int               `json:"stress_pct"`
	Bare           bool                `json:"bare"`
	Warmup         Duration            `json:"warmup"`
	Idle           Duration            `json:"idle"`
	Duration       Duration            `json:"duration"`
	Repeat         int                 `json:"repeat"`
	SampleInterval Duration            `json:"sample_interval"`
	Images         int                 `json:"images"`
	ImagesSource   string              `json:"images_source"`
}

// SettingsOf describes a configuration.
func SettingsOf(c Config) Settings {
	s := Settings{Models: c.Models, Threads: c.Threads, Batches: c.Batches, Scenarios: c.Scenarios, Stress: c.Stress, Bare: c.Bare,
		Warmup: Duration(c.Warmup), Idle: Duration(c.Idle), Duration: Duration(c.Duration), Repeat: c.Repeat,
		SampleInterval: Duration(c.SampleInterval)}
	if s.SampleInterval <= 0 {
		s.SampleInterval = Duration(power.DefaultInterval)
	}
	if c.Crops != nil {
		s.Images, s.ImagesSource = len(c.Crops.Images), c.Crops.Source
	}
	return s
}

// Duration is a time.Duration written as "1.5s" in JSON.
type Duration time.Duration

// MarshalJSON writes the duration as Go writes it ("500ms").
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "500ms".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	*d = Duration(v)
	return err
}

// String is the duration as Go writes it.
func (d Duration) String() string { return time.Duration(d).String() }

// EnergySetup is what power.Detect found, as the report states it.
type EnergySetup struct {
	Sensors   []power.Info `json:"sensors"`
	Total     []string     `json:"total"` // IDs of the sensors summed
	Why       string       `json:"why"`
	Estimated bool         `json:"estimated"`
	Problems  []string     `json:"problems,omitempty"`
}

// EnergySetupOf describes a detection.
func EnergySetupOf(d power.Detection) EnergySetup {
	e := EnergySetup{Why: d.Total.Why, Estimated: d.Total.Estimated()}
	for _, s := range d.Sensors {
		e.Sensors = append(e.Sensors, s.Info())
	}
	for _, s := range d.Total.Sensors {
		e.Total = append(e.Total, s.Info().ID)
	}
	for _, p := range d.Problems {
		e.Problems = append(e.Problems, p.Error())
	}
	return e
}

// inTotal reports whether sensor id is summed into the total.
func (e EnergySetup) inTotal(id string) bool { return slices.Contains(e.Total, id) }

// WriteRunInfo writes run.json.
func (r *Report) WriteRunInfo(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(runInfo{Command: r.Command, Started: r.Started, Ended: r.Ended, Machine: r.Machine, Energy: r.Energy, Settings: r.Settings})
}

type runInfo struct {
	Command  string      `json:"command"`
	Started  time.Time   `json:"started"`
	Ended    time.Time   `json:"ended"`
	Machine  Machine     `json:"machine"`
	Energy   EnergySetup `json:"energy"`
	Settings Settings    `json:"settings"`
}

// LoadReport reads a benchmark's results.csv and run.json from dir, to draw its report and
// plots again.
func LoadReport(dir string) (*Report, error) {
	// inputfile refuses a FIFO or device (it would hold the read) and oversized files.
	b, err := inputfile.ReadFile(filepath.Join(dir, RunInfoFile), inputfile.MaxText)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s has no %s: --redraw needs a folder written by phytoscreen bench", dir, RunInfoFile)
		}
		return nil, err
	}
	var ri runInfo
	if err := json.Unmarshal(b, &ri); err != nil {
		return nil, fmt.Errorf("%s: %v: the file is damaged; rerun phytoscreen bench", filepath.Join(dir, RunInfoFile), err)
	}
	f, err := inputfile.Open(filepath.Join(dir, ResultsFile), inputfile.MaxList)
	if err != nil {
		return nil, fmt.Errorf("--redraw %s: %w", dir, err)
	}
	defer f.Close()
	rows, err := ReadCSV(f, filepath.Join(dir, ResultsFile))
	if err != nil {
		return nil, err
	}
	return &Report{Command: ri.Command, Started: ri.Started, Ended: ri.Ended, Machine: ri.Machine, Energy: ri.Energy, Settings: ri.Settings, Results: rows}, nil
}
