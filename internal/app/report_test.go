package app

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
	"github.com/phytoscreen/phytoscreen/vision"
)

// A run whose objects two models classified (the model switched while it ran) is said
// so with each model's share; a run of one model, or of no object, is not (helper-40:
// "model base" for a run 162 of whose 740 objects the optimised model classified).
func TestRunModelsSaysASwitch(t *testing.T) {
	runs := []store.RunRow{{ID: 1, Model: "base"}, {ID: 2, Model: "optimised"}, {ID: 3, Model: "base"}}
	got := runModels(runs, map[int64]map[string]int{
		1: {"base": 578, "optimised": 162},
		2: {"optimised": 40},
	})
	if len(got) != 1 || got[1] != "models switched during the run: base 578, optimised 162 of 740 objects" {
		t.Errorf("runModels: %v", got)
	}
}

// The report's examples of a taxon are the crops of its surest objects, read for those
// alone; an object stored without a crop, however sure, is passed over for the next.
func TestReportExamplesAreTheSurestCrops(t *testing.T) {
	st, _, r := cyanoRun(t, "EX-1", 1, "preset who-cyanobacteria")
	ctx := context.Background()
	// 30 Microcystis, sequence i at probability 0.5 + i/100; the crop of each is filled
	// with its sequence number, so the report's crops say whose they are. The two
	// surest, 30 and 29, have no crop.
	var recs []screening.ObjectRecord
	for i := 1; i <= 30; i++ {
		o := vision.Object{Source: "pond.avi", Frame: i, Track: i, New: true, Box: image.Rect(0, 0, 8, 8), AreaPx: 40}
		if i < 29 {
			o.Crop = image.NewGray(image.Rect(0, 0, 8, 8))
			for p := range o.Crop.Pix {
				o.Crop.Pix[p] = uint8(i)
			}
		}
		recs = append(recs, screening.ObjectRecord{Seq: i, Time: time.Now(), Object: o, Label: "Microcystis", Prob: 0.5 + float32(i)/100, Variant: inference.Base, Category: "Microcystis"})
	}
	if err := r.Objects(recs); err != nil {
		t.Fatal(err)
	}
	if err := r.Finish(ctx, screening.Snapshot{}, nil); err != nil {
		t.Fatal(err)
	}
	d, err := ReportData(ctx, st, "EX-1", "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, ex := range d.Examples {
		if ex.Label != "Microcystis" {
			continue
		}
		for _, c := range ex.Crops {
			img, err := png.Decode(bytes.NewReader(c))
			if err != nil {
				t.Fatalf("a crop of the report is not a PNG: %v", err)
			}
			got = append(got, int(img.(*image.Gray).Pix[0]))
		}
	}
	if want := []int{28, 27, 26, 25, 24, 23}; !slices.Equal(got, want) {
		t.Errorf("the report's Microcystis crops are of objects %v, want the surest with a crop %v", got, want)
	}
}

// A sample screened under rules with none for its pack's taxa gets a report that says
// which preset has them; compared with that preset, the report says which rules it was
// screened with (helper-52: a report under the marine defaults said "no rule" over a
// pond's cyanobacteria, and one with --rules never named the rules screened with).
func TestReportNamesTheRulesForThePackAndThoseScreenedWith(t *testing.T) {
	st, _, r := cyanoRun(t, "OS-1", 1, "preset default")
	ctx := context.Background()
	if err := r.Finish(ctx, screening.Snapshot{}, nil); err != nil {
		t.Fatal(err)
	}
	d, err := ReportData(ctx, st, "OS-1", "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Rules) != 0 || !slices.Contains(d.Apply, "who-cyanobacteria") || d.RunRules != "" {
		t.Errorf("under its own default rules: %d rules bound, presets offered %v, screened with %q; want none bound, who-cyanobacteria offered", len(d.Rules), d.Apply, d.RunRules)
	}
	d, err = ReportData(ctx, st, "OS-1", "who-cyanobacteria", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Rules) == 0 || len(d.Apply) != 0 || d.RunRules != "preset default" {
		t.Errorf("with --rules who-cyanobacteria: %d rules bound, presets offered %v, screened with %q; want its rules, none offered, preset default", len(d.Rules), d.Apply, d.RunRules)
	}
	// The pack that counted it, with what it was not shown to do, for the report to say
	// beside a level (helper-84: the filed PDF left the pack's check out).
	if d.Pack != "cyano-tcb-10" || !strings.HasPrefix(d.PackLimits, "confirm genera") {
		t.Errorf("the report's pack %q, limits %q; want cyano-tcb-10 and its check", d.Pack, d.PackLimits)
	}
}
