package ui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/store"
)

// ContinueRun takes up sample id's last run of a folder where it stopped (Stop, a kill,
// a crash): the frames after the last it recorded are read into the same sample, with
// that run's threshold, rules and way of finding objects, and its model (switched to
// when another is in use), as `phytoscreen screen --continue` does. The sample then
// ends whole instead of partial. What cannot be taken up says why.
func (a *mainWindow) ContinueRun(id string) {
	if a.sess != nil || a.closing {
		a.showError("Cannot continue sample "+id, errors.New("a run is going: stop it first, then continue"))
		return
	}
	st := a.svc.Store
	if st == nil {
		return
	}
	a.setStatus("Looking up where sample " + id + "'s run stopped…")
	a.e.spawn(func(ctx context.Context) {
		c, err := st.Continuable(ctx, id)
		var si store.SampleInfo
		if err == nil {
			si, err = st.Sample(ctx, id)
		}
		a.runOnUI(func() {
			if err != nil {
				a.showError("Cannot continue sample "+id, err)
				return
			}
			a.startContinuation(&c, si)
		})
	})
}

// startContinuation starts the run taking up c, once the loaded pack and model are the
// stopped run's (UI goroutine).
func (a *mainWindow) startContinuation(c *store.Continuation, si store.SampleInfo) {
	fail := func(err error) { a.showError("Cannot continue sample "+si.ID, err) }
	switch {
	case a.closing:
		return
	case a.sess != nil: // started while the model switched
		fail(errors.New("a run is going: stop it first, then continue"))
		return
	case a.switching:
		// Another switch under way would change the model in the run's middle.
		fail(errors.New("the model is being switched: continue once it has switched"))
		return
	}
	i := slices.IndexFunc(si.Runs, func(r store.RunRow) bool { return r.ID == c.Run })
	switch {
	case i < 0:
		fail(fmt.Errorf("run %d is no longer in sample %s", c.Run, si.ID))
		return
	case a.svc.Model == nil || a.svc.Taxonomy == nil:
		err := a.svc.SetupError
		if err == nil {
			err = errors.New("no classifier")
		}
		fail(err)
		return
	}
	run := si.Runs[i]
	if pack := a.svc.Taxonomy.Pack; run.Pack != pack {
		how := "and Save"
		if !a.packLoadsLive() {
			how = "and restart phytoscreen"
		}
		fail(fmt.Errorf("run %d was screened with pack %s, and pack %s is loaded: choose %s in Settings › Model pack %s, then continue", run.ID, run.Pack, pack, run.Pack, how))
		return
	}
	if v := inference.Variant(run.Model); v != a.svc.Model.Variant() {
		if !slices.Contains(a.svc.Pack.Variants(), v) {
			fail(fmt.Errorf("run %d was screened with the %s model, which pack %s no longer has", run.ID, v, run.Pack))
			return
		}
		// The sample's counts rest on one model: switch to the run's, then take it up.
		a.switchModel(v, func() { a.startContinuation(c, si) })
		return
	}
	set := app.RunSettings(a.set, run)
	if _, ok := assets.BuiltinDetector(set.Detector); set.Detector != "" && !ok {
		fail(fmt.Errorf("run %d found objects with the learned detector %s, which is not built into the app: continue it with phytoscreen screen --continue %s --detector %s", run.ID, set.Detector, si.ID, set.Detector))
		return
	}
	rules, err := app.LoadRules(set, a.svc.Taxonomy)
	if err != nil && set.RulesFile != "" {
		// Settings cannot help: the sample is checked against this file alone.
		fail(fmt.Errorf("run %d was screened with the rules file %s, which cannot be read now (%v): put it back there, then continue", run.ID, set.RulesFile, firstLine(err.Error())))
		return
	}
	if err != nil {
		fail(fmt.Errorf("the rules run %d was screened with: %w", run.ID, err))
		return
	}
	sample := si.Sample
	sample.VolumeML = run.VolumeGiven // the store gives the continuation its share of it
	shown := sample
	shown.VolumeML = si.VolumeGiven()
	// The panel shows the sample continued while it runs, then what it showed before.
	panel := a.sample.Save()
	source, chosen := a.selectedSource()
	restore := func() {
		panel()
		if chosen {
			a.chooseSource(source) // by its spec: another folder of the same name stays itself
		}
	}
	a.sample.Fill(shown, a.set.UmPerPx)
	a.chooseSource(c.Spec)
	// The sample's own run, by its place and start: the store's run number is
	// store-wide ("run 4" of a sample of two runs, helper-61).
	which := fmt.Sprintf("its run %d of %d, begun %s", i+1, len(si.Runs), run.Started.Local().Format("15:04"))
	note := fmt.Sprintf("Continuing sample %s, %s (threshold %s, model %s, rules %s): %s. The live counts are this run's, on its share of the volume; the banner measures the whole sample so far, and History has its whole counts.", si.ID, which,
		strconv.FormatFloat(run.Threshold, 'f', -1, 64), run.Model, rules.Name, c.Describe())
	a.launch(app.RunRequest{Spec: c.Spec, Sample: sample, Settings: set, Rules: rules, Continue: c.Continue()},
		func() string { return note }, restore, which)
}
