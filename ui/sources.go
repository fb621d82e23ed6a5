package ui

import (
	"path/filepath"
	"slices"

	"github.com/phytoscreen/phytoscreen/capture"
)

// Source choices.
const (
	choiceDemo   = "Demo video (bundled)"
	choiceVideo  = "Video file…"
	choiceFolder = "Folder of images…"
)

// refreshSources fills the source list: the demo, the cameras present, the videos and
// folders screened lately (app.Settings.Recent), and the two "open" choices. The last
// source is chosen; else a camera, when one is present, over the demo.
func (a *mainWindow) refreshSources() {
	a.sourceSpecs = map[string]capture.Spec{choiceDemo: capture.Demo}
	var cams []capture.Spec
	if a.svc.Cameras != nil {
		cams = a.svc.Cameras()
	}
	for _, c := range cams {
		a.addSourceChoice(c)
	}
	for _, r := range a.set.Recent {
		if src, err := capture.ParseSpec(r); err == nil {
			a.addSourceChoice(src)
		}
	}
	selected := choiceDemo
	if len(cams) > 0 {
		selected = a.addSourceChoice(cams[0])
	}
	if src, err := capture.ParseSpec(a.set.Source); err == nil && src.Kind != capture.KindDemo {
		if src.Kind != capture.KindCamera || slices.Contains(cams, src) {
			selected = a.addSourceChoice(src)
		}
	}
	a.sample.Source.SetOptions(a.sourceOptions())
	a.sample.Source.SetSelected(selected)
}

// sourceOptions lists the choices: demo, cameras, files, then the two "open" entries.
func (a *mainWindow) sourceOptions() []string {
	var cams, rest []string
	for l, s := range a.sourceSpecs {
		switch {
		case l == choiceDemo:
		case s.Kind == capture.KindCamera:
			cams = append(cams, l)
		default:
			rest = append(rest, l)
		}
	}
	slices.Sort(cams)
	slices.Sort(rest)
	opts := append([]string{choiceDemo}, cams...)
	return append(append(opts, rest...), choiceVideo, choiceFolder)
}

// addSourceChoice adds a camera, video or folder to the list and returns its label. Two
// folders of one name (day1/frames, day2/frames) are told apart by their parents, then
// by their whole paths, rather than one taking the other's place in the list.
func (a *mainWindow) addSourceChoice(spec capture.Spec) string {
	var kind string
	switch spec.Kind {
	case capture.KindDemo:
		return choiceDemo
	case capture.KindCamera:
		label := "Camera " + spec.Path
		a.sourceSpecs[label] = spec
		return label
	case capture.KindFolder:
		kind = "Frames: "
	case capture.KindCells:
		kind = "Cell images: "
	case capture.KindImage:
		kind = "Image: "
	default:
		kind = "Video: "
	}
	label := kind + spec.Path
	for _, name := range []string{filepath.Base(spec.Path), filepath.Join(filepath.Base(filepath.Dir(spec.Path)), filepath.Base(spec.Path))} {
		if had, taken := a.sourceSpecs[kind+name]; !taken || had == spec {
			label = kind + name
			break
		}
	}
	a.sourceSpecs[label] = spec
	return label
}

// chooseSource adds spec to the list and selects it without reacting to the choice.
func (a *mainWindow) chooseSource(spec capture.Spec) {
	label := a.addSourceChoice(spec)
	on := a.sample.Source.OnChanged
	a.sample.Source.OnChanged = nil
	a.sample.Source.SetOptions(a.sourceOptions())
	a.sample.Source.SetSelected(label)
	a.sample.Source.OnChanged = on
	a.prevSource = label
}

// onSourceChosen handles the source list: the "open" entries open a dialog.
func (a *mainWindow) onSourceChosen(choice string) {
	switch choice {
	case choiceVideo:
		a.OpenVideo()
	case choiceFolder:
		a.OpenFolder()
	default:
		a.prevSource = choice
	}
}

// unpickOpenEntry puts the source list back on the source chosen before, when it was
// left on an "open" entry whose dialog was cancelled: "Folder of images…" stayed
// selected, and Start then asked to pick a source (helper-52).
func (a *mainWindow) unpickOpenEntry() {
	if sel := a.sample.Source.Selected; sel != choiceFolder && sel != choiceVideo {
		return
	}
	on := a.sample.Source.OnChanged
	a.sample.Source.OnChanged = nil
	if _, ok := a.sourceSpecs[a.prevSource]; ok {
		a.sample.Source.SetSelected(a.prevSource)
	} else {
		a.sample.Source.ClearSelected()
	}
	a.sample.Source.OnChanged = on
}

// selectedSource returns the chosen source.
func (a *mainWindow) selectedSource() (capture.Spec, bool) {
	spec, ok := a.sourceSpecs[a.sample.Source.Selected]
	return spec, ok
}
