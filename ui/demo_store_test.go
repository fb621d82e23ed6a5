package ui

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/screening"
)

// storeSample stores a finished sample id at site, taken at taken, of the app's pack.
func (h *harness) storeSample(t *testing.T, id, site string, taken time.Time) {
	t.Helper()
	sm := h.a.newSample()
	sm.ID, sm.Site, sm.Taken = id, site, taken
	r, err := h.st.StartRun(h.a.ctx, screening.RunInfo{Sample: sm, Spec: capture.MustParseSpec(id + ".avi"), Model: inference.Optimised, Threshold: 0.5,
		Taxonomy: h.a.svc.Taxonomy})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Finish(h.a.ctx, screening.Snapshot{Frames: screening.FrameStats{Seen: 1}, Threshold: 0.5, Variant: inference.Optimised}, nil); err != nil {
		t.Fatal(err)
	}
}

// Opened on a programme's store without a camera, the app does not play the demo into
// it: the demo's made-up sample, with its ALERT, was the newest in History, samples and
// the TSV (helper-91). A store of nothing but the demo's samples still plays it, as a
// fresh one does (TestDemoAtLaunchOnlyWithAPackThatKnowsIt).
func TestDemoAtLaunchNotIntoAProgrammesStore(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stored string
		plays  bool
	}{
		{"a store of the demo's samples", demoIDPrefix + "20261206-101500", true},
		{"a programme's store", "PA-1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.storeSample(t, tc.stored, "Pond A", time.Now().Add(-time.Hour))
			h.a.set.DemoWhenNoCamera = true
			h.a.sample.Source.SetSelected(choiceDemo)
			h.a.autoStart()
			if tc.plays {
				h.pump("the demo opened", 10*time.Second, func() bool {
					h.mu.Lock()
					defer h.mu.Unlock()
					return len(h.opened) == 1 && strings.Contains(h.opened[0], "demo")
				})
				return
			}
			time.Sleep(300 * time.Millisecond)
			h.mu.Lock()
			opened := slices.Clone(h.opened)
			h.mu.Unlock()
			if len(opened) > 0 || h.a.sess != nil || !strings.Contains(h.a.status.Text, "The bundled demo was not started: this session store holds samples") {
				t.Errorf("opened %q (run %t); status %q", opened, h.a.sess != nil, h.a.status.Text)
			}
			if ids, err := h.st.SampleIDs(h.a.ctx); err != nil || len(ids) != 1 {
				t.Errorf("the store holds %v (%v); want PA-1 alone", ids, err)
			}
		})
	}
}

// History lists a companion right after its main sample, and charts a site whatever
// its spelling's case and spaces, as its search finds it, titled with the spelling most
// of its samples use: "Lagoon North" plotted LN-4 alone, LN-2 at "Lagoon north" left
// out (helper-91).
func TestHistoryCompanionsAndSiteSpellings(t *testing.T) {
	h := newHarness(t, nil)
	taken := time.Date(2026, 12, 6, 23, 30, 0, 0, time.UTC)
	h.storeSample(t, "LN-2", "Lagoon north", taken)
	h.storeSample(t, "LN-2~cyano", "Lagoon north", taken) // entered after, listed first by time alone
	h.storeSample(t, "LN-1", "Lagoon north", taken.Add(-96*time.Hour))
	h.storeSample(t, "LN-4", "Lagoon North ", taken.Add(time.Hour))
	h.storeSample(t, "PA-1", "Pond A", taken)
	entries, err := listSamples(h.a.ctx, h.st)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range entries {
		ids = append(ids, e.ID)
	}
	if i := slices.Index(ids, "LN-2"); i < 0 || i+1 >= len(ids) || ids[i+1] != "LN-2~cyano" {
		t.Errorf("History lists %v; want LN-2~cyano right after LN-2", ids)
	}
	pts, unseen, err := chartPoints(h.a.ctx, h.st, entries, "Lagoon North ", "protist_noctiluca", "LN-4")
	if err != nil || unseen != 0 {
		t.Fatalf("%d left out (%v)", unseen, err)
	}
	var plotted []string
	for _, p := range pts {
		plotted = append(plotted, p.Sample)
	}
	slices.Sort(plotted)
	if !slices.Equal(plotted, []string{"LN-1", "LN-2", "LN-2~cyano", "LN-4"}) {
		t.Errorf("the chart of Lagoon North plots %v; want LN-1, LN-2, LN-2~cyano and LN-4", plotted)
	}
	if got := siteSpelling(entries, "Lagoon North "); got != "Lagoon north" {
		t.Errorf("the chart's site reads %q, want the spelling most samples use, Lagoon north", got)
	}
	if got := siteSpelling(entries, "Nowhere"); got != "Nowhere" {
		t.Errorf("a site no sample has reads %q", got)
	}
}
