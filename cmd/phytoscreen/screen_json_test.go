package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
)

// The JSON summary's concentrations are written to jsonDigits significant figures, not
// with the float noise of their sums (2890000.0000000005, 1631999.9999999998), and its
// cells say what each count counts: objects_counted (the 44 every other output says)
// beside objects_incl_resightings (56, every object segmented frame by frame), where
// "objects" gave the 56 alone (helper-91).
func TestScreenJSONRoundsAndNamesCounts(t *testing.T) {
	// A run stopped part way: 67 of 120 frames of 0.5 mL (helper-93: its volumes were
	// written with the same noise, 0.2791666666666667).
	sample := screening.Sample{ID: "PA-1", VolumeML: 0.2791666666666667, Factor: 1}
	conc := screening.Concentration{Count: 17, PerL: 1631999.9999999998, Low: 864905.6603773586, High: 2890000.0000000005, Limit: 4528.301886792453}
	res := screenResult{
		Snapshot: screening.Snapshot{
			Sample:       sample,
			Taxa:         []screening.TaxonCount{{Concentration: conc, CellsEstimate: 370.99999999999994, CellsPerL: 2890000.0000000005}},
			Groups:       []screening.GroupCount{{Concentration: conc, CellsEstimate: 371, CellsPerL: 1631999.9999999998}},
			Unidentified: conc,
			Examined:     screening.Examined{Expected: 120, Frames: 67, Interrupted: true, Fraction: 0.5583333333333333, DeclaredML: 0.5},
			Cells:        screening.CellStats{Found: 44, Identified: 34, Unidentified: 10, Objects: 56},
			Alerts: []alerts.State{{Rule: "r1", Taxon: "Microcystis", Level: alerts.Watch, Peak: alerts.Watch,
				Value: alerts.Measure{Count: 17, PerL: 2890000.0000000005, Low: 1631999.9999999998, High: 4.0000000000000001e6, Limit: 4528.301886792453}}},
		},
		Rules:      &alerts.Ruleset{Name: "test"},
		SampleRuns: 1,
		SampleML:   0.2791666666666667,
	}
	var buf bytes.Buffer
	if err := res.writeJSON(&buf, nil); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, noise := range []string{"2890000.0000000005", "1631999.9999999998", "864905.66", "4528.3018", "370.9999", "0.27916666", "0.55833333"} {
		if strings.Contains(out, noise) {
			t.Errorf("the JSON holds %s:\n%s", noise, out)
		}
	}
	var doc struct {
		Taxa []struct {
			PerL      float64 `json:"cells_per_l"`
			Low       float64 `json:"ci_low"`
			High      float64 `json:"ci_high"`
			Limit     float64 `json:"detection_limit_per_l"`
			Cells     float64 `json:"cells_estimate"`
			CellsPerL float64 `json:"cells_estimate_per_l"`
		} `json:"taxa"`
		Unidentified struct {
			PerL float64 `json:"cells_per_l"`
		} `json:"unidentified"`
		Alerts []struct {
			Value struct {
				PerL float64 `json:"cells_per_l"`
				Low  float64 `json:"ci_low"`
			} `json:"value"`
		} `json:"alerts"`
		Cells      map[string]float64 `json:"cells"`
		SampleRuns int                `json:"sample_runs"`
		SampleML   float64            `json:"sample_volume_ml"`
		Sample     struct {
			VolumeML float64 `json:"volume_ml"`
		} `json:"sample"`
		Examined struct {
			Fraction float64 `json:"fraction"`
		} `json:"examined"`
		Partial bool `json:"partial"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	tx := doc.Taxa[0]
	if tx.PerL != 1632000 || tx.Low != 864906 || tx.High != 2890000 || tx.Limit != 4528.3 || tx.Cells != 371 || tx.CellsPerL != 2890000 {
		t.Errorf("taxon figures %+v; want 1632000, 864906, 2890000, 4528.3, 371, 2890000", tx)
	}
	if doc.Unidentified.PerL != 1632000 {
		t.Errorf("unidentified %v cells/L, want 1632000", doc.Unidentified.PerL)
	}
	if len(doc.Alerts) != 1 || doc.Alerts[0].Value.PerL != 2890000 || doc.Alerts[0].Value.Low != 1632000 {
		t.Errorf("alerts %+v", doc.Alerts)
	}
	if c := doc.Cells; c["found"] != 44 || c["objects_counted"] != 44 || c["objects_incl_resightings"] != 56 {
		t.Errorf("cells %v; want found and objects_counted 44, objects_incl_resightings 56", c)
	}
	if _, ok := doc.Cells["objects"]; ok {
		t.Errorf("cells still has \"objects\" (the re-sightings, read as the count): %v", doc.Cells)
	}
	if doc.SampleRuns != 1 || doc.SampleML != 0.279167 || doc.Sample.VolumeML != 0.279167 || doc.Examined.Fraction != 0.558333 || !doc.Partial {
		t.Errorf("sample_runs %d, sample_volume_ml %v, volume_ml %v, fraction %v, partial %t; want 1, 0.279167 twice, 0.558333, partial",
			doc.SampleRuns, doc.SampleML, doc.Sample.VolumeML, doc.Examined.Fraction, doc.Partial)
	}
	// The text summary keeps its own figures: rounding is the JSON's.
	if res.Taxa[0].CellsPerL != 2890000.0000000005 || res.Alerts[0].Value.PerL != 2890000.0000000005 {
		t.Error("writeJSON rounded the result it was given, not its copy")
	}
}

// A run stopped by Ctrl+C writes its JSON summary with the stored sample's figures:
// sample_runs and sample_volume_ml were read on the cancelled context and said 0 beside
// sample.volume_ml 0.2208 and a stored run (helper-91).
func TestScreenJSONInterruptedSaysTheStoredSample(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: loads the model in a child process")
	}
	frames := fieldFrames(t, 2000, 50, "closterium-20230609124213.jpg", "microcystis-20230608145509_1.jpg")
	db := filepath.Join(t.TempDir(), "s.db")
	st, err := store.Open(db) // made here, so the test can read it while the run writes
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	p := startProgram(t, "screen", "--source", frames, "--sample", "C2", "--db", db, "--baseline", "0", "--threads", "1", "--volume-ml", "1", "--format", "json")
	waitFramesRecorded(t, db, "C2", 90*time.Second, p)
	if p.exited(0) {
		t.Fatalf("ended before it was stopped (exit %d): the run is not long enough for the test:\n%s", p.code, p.stderr.String())
	}
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if !p.exited(10 * time.Second) {
		t.Fatalf("still running 10 s after SIGINT:\n%s", p.stderr.String())
	}
	var doc struct {
		Sample struct {
			VolumeML float64 `json:"volume_ml"`
		} `json:"sample"`
		Partial    bool    `json:"partial"`
		SampleRuns int     `json:"sample_runs"`
		SampleML   float64 `json:"sample_volume_ml"`
	}
	if err := json.Unmarshal([]byte(p.stdout.String()), &doc); err != nil {
		t.Fatalf("exit %d, stdout not JSON: %v\n%s\n%s", p.code, err, p.stdout.String(), p.stderr.String())
	}
	t.Logf("exit %d: sample.volume_ml %g, sample_runs %d, sample_volume_ml %g", p.code, doc.Sample.VolumeML, doc.SampleRuns, doc.SampleML)
	if !doc.Partial || doc.Sample.VolumeML <= 0 || doc.Sample.VolumeML >= 1 {
		t.Errorf("partial %t, volume examined %g: want a partial run's share of 1 mL", doc.Partial, doc.Sample.VolumeML)
	}
	if doc.SampleRuns != 1 || math.Abs(doc.SampleML-doc.Sample.VolumeML) > 1e-9 {
		t.Errorf("sample_runs %d, sample_volume_ml %g; want 1 run of %g mL, as stored", doc.SampleRuns, doc.SampleML, doc.Sample.VolumeML)
	}
}
