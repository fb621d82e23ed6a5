package ui

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/teach"
)

// Gallery › Teach from reviewed crops: the pack choice reaches the service, the stages
// show, Cancel stops it, a refusal is shown as said, and a finished teaching is set
// beside the pack in use before Save writes it and makes it the next launch's pack.
func TestTeachDialog(t *testing.T) {
	var mu sync.Mutex
	var asked []app.TeachRequest
	release := make(chan struct{})
	refuse := fmt.Errorf("class Karenia has 1 crop; teaching needs at least 5 (4 more): %w", teach.ErrTooFewCrops)
	var saved string
	h := newHarness(t, nil, func(s *app.Services) {
		s.TeachPacks = func() []string { return []string{"ndsb-plankton-121-v2", "cyano-tcb-10"} }
		s.Teach = func(ctx context.Context, req app.TeachRequest, progress func(teach.Progress)) (*app.TeachResult, error) {
			mu.Lock()
			asked = append(asked, req)
			n := len(asked)
			mu.Unlock()
			if n == 2 {
				return nil, refuse
			}
			progress(teach.Progress{Stage: "embed (base)", Done: 3, Total: 10})
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-release:
			}
			return &app.TeachResult{Pack: "cyano-tcb-10", New: []string{"Karenia"}, Crops: 40, AsScreened: 22,
				Report: teach.Report{Pack: "cyano-tcb-10", Taught: 38, New: []string{"Karenia"}, LeftOut: map[string]int{"Dinophysis": 2}, Models: []teach.ModelReport{{
					Variant: inference.Base, Folds: 5, Top1New: 0.9, MacroF1: 0.88, OldCrops: 30, OldTop1Before: 0.8, OldTop1After: 0.79,
					Classes:   []teach.ClassFigures{{Label: "Karenia", New: true, Support: 10, Recall: 0.9, Precision: 0.85}},
					Confusion: [][]int{{9, 1}}, OldLabels: [][]teach.LabelCount{{{Label: "Nostoc", N: 10}}}}}},
				Save: func(dir string) (*inference.Pack, error) {
					saved = dir
					return &inference.Pack{Manifest: inference.Manifest{Name: "cyano-tcb-10-taught", Labels: make([]string, 11)}}, nil
				}}, nil
		}
	})
	asks := func() []app.TeachRequest {
		mu.Lock()
		defer mu.Unlock()
		return append([]app.TeachRequest(nil), asked...)
	}
	g := h.a.gallery
	if g.teachBtn.Disabled() {
		t.Fatal("the Teach button is off although the service is there")
	}
	g.ShowTeach()
	d := g.teach
	if got := d.Pack.Options; len(got) != 3 || got[0] != bestPackChoice {
		t.Fatalf("pack choices %q", got)
	}

	test.Tap(d.Start) // first: cancelled
	h.pump("the embed stage shown", 5*time.Second, func() bool { return strings.Contains(d.stage.Text, "embed (base)") })
	test.Tap(d.Cancel)
	h.pump("the cancel reported", 5*time.Second, func() bool { return strings.Contains(d.stage.Text, "Cancelled") })
	if !d.Save.Disabled() {
		t.Fatal("Save is on after a cancel")
	}

	d.Pack.SetSelected("cyano-tcb-10")
	test.Tap(d.Start) // second: refused
	h.pump("the refusal shown", 5*time.Second, func() bool { return strings.Contains(d.stage.Text, "4 more") })
	// The refusal says how to leave the taxa out: with this dialog's box.
	if !strings.Contains(d.stage.Text, `To teach the new taxa that have enough crops, tick "Leave out the taxa with fewer than 5 crops (teach the others)" and press Teach again`) {
		t.Errorf("the refusal does not name the box that leaves the taxa out: %q", d.stage.Text)
	}

	d.LeaveOut.SetChecked(true)
	test.Tap(d.Start) // third: taught
	h.pump("the third teaching started", 5*time.Second, func() bool { return len(asks()) == 3 && !d.Cancel.Disabled() })
	close(release)
	h.pump("the comparison shown", 5*time.Second, func() bool { return !d.Save.Disabled() })
	if a := asks(); a[0] != (app.TeachRequest{Pack: app.BestPack}) || a[1] != (app.TeachRequest{Pack: "cyano-tcb-10"}) || a[2] != (app.TeachRequest{Pack: "cyano-tcb-10", LeaveOutFew: true}) {
		t.Fatalf("asked %+v, want best, then cyano-tcb-10, then it leaving out the taxa with too few crops", a)
	}
	if !strings.Contains(d.stage.Text, "from 38 reviewed crops") || !strings.Contains(d.stage.Text, "Left out (too few crops): Dinophysis (2 crops).") {
		t.Errorf("the taught stage does not say what was left out: %q", d.stage.Text)
	}
	// The pack taught is said when it is not the one in use (helper-69: saving put it in
	// use, said only in the status line); the per-taxon figures say what they are.
	for _, want := range []string{"Taught pack cyano-tcb-10, not " + h.a.svc.Pack.Name + ", the pack in use", "the packs that screened them named 22 as you did (55%)",
		"new taxa named right 90%", "80% right before teaching, 79% after (-1.0 points", "Recall: its crops named right; precision: the crops named it that are it.",
		"Karenia (new): recall 90%, precision 85% (10 crops)"} {
		if !strings.Contains(d.Compare.Text, want) {
			t.Fatalf("comparison lacks %q:\n%s", want, d.Compare.Text)
		}
	}
	if !strings.Contains(d.Details.Text, "Karenia") {
		t.Fatalf("details lack the tables:\n%s", d.Details.Text)
	}
	out := t.TempDir() + "/taught"
	d.Out.SetText(out)
	test.Tap(d.Save)
	h.pump("the pack saved", 5*time.Second, func() bool { return strings.Contains(d.stage.Text, "Saved pack") })
	if saved != out {
		t.Fatalf("saved to %q, want %s", saved, out)
	}
	if h.a.set.PackDir != out {
		t.Fatalf("the next launch's pack is %q, want %s", h.a.set.PackDir, out)
	}
	if got := h.fy.Preferences().String(app.PrefPackDir); got != out {
		t.Fatalf("the pack kept in the preferences is %q, want %s", got, out)
	}
}

// A taught pack that names its new taxa poorly (under half right, cross-validated) is
// saved and put in use only once the technician says so: it was saved and switched to
// at once with 0% of its new taxon right (helper-65).
func TestTeachWeakAsksBeforeSaving(t *testing.T) {
	var saved []string
	h := newHarness(t, nil, func(s *app.Services) {
		s.TeachPacks = func() []string { return []string{"ndsb-plankton-121-v2"} }
		s.Teach = func(ctx context.Context, req app.TeachRequest, progress func(teach.Progress)) (*app.TeachResult, error) {
			return &app.TeachResult{Pack: "ndsb-plankton-121-v2", New: []string{"Ceratium sp"}, Crops: 6,
				Report: teach.Report{Pack: "ndsb-plankton-121-v2", Taught: 6, New: []string{"Ceratium sp"}, Models: []teach.ModelReport{
					{Variant: inference.Base, Folds: 5, Top1New: 0.8, MacroF1: 0.8, Confusion: [][]int{{5, 1}}, OldLabels: [][]teach.LabelCount{{{Label: "detritus_other", N: 6}}}},
					{Variant: inference.Optimised, Folds: 5, Top1New: 0, MacroF1: 0, Confusion: [][]int{{0, 6}}, OldLabels: [][]teach.LabelCount{{{Label: "detritus_other", N: 6}}}}}},
				Save: func(dir string) (*inference.Pack, error) {
					saved = append(saved, dir)
					return &inference.Pack{Manifest: inference.Manifest{Name: "taught", Labels: make([]string, 122)}}, nil
				}}, nil
		}
	})
	var asked []string
	answer := false
	h.a.confirm = func(title, msg, yes, no string, reply func(bool)) {
		asked = append(asked, title+": "+msg)
		reply(answer)
	}
	h.a.gallery.ShowTeach()
	d := h.a.gallery.teach
	test.Tap(d.Start)
	h.pump("the teaching done", 5*time.Second, func() bool { return !d.Save.Disabled() })
	d.Out.SetText(t.TempDir() + "/taught")
	test.Tap(d.Save)
	if len(asked) != 1 || !strings.Contains(asked[0], "the optimised model of the taught pack names the new taxa (Ceratium sp) right 0% of the time") {
		t.Fatalf("asked %q", asked)
	}
	h.q.runAll()
	if len(saved) != 0 || h.a.set.PackDir != "" {
		t.Fatalf("saved %v and the pack setting %q after Cancel", saved, h.a.set.PackDir)
	}
	answer = true
	test.Tap(d.Save)
	// The stage is set on the UI goroutine after Save returned: saved is read after it.
	h.pump("the pack saved", 5*time.Second, func() bool { return strings.Contains(d.stage.Text, "Saved pack") })
	if len(saved) != 1 || len(asked) != 2 {
		t.Errorf("saved %v, asked %d times; want saved once, asked once more", saved, len(asked))
	}
}
