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

// refreshSources fills the source list: the demo, the cameras present, the last video
// or folder, and the two "open" choices. A camera, when one is present, is chosen over
// the demo; with none, the demo is.
func (a *mainWindow) refreshSources() {
	a.sourceSpecs = map[string]capture.Spec{choiceDemo: capture.Demo}
	var cams []capture.Spec
	if a.svc.Cameras != nil {
		cams = a.svc.Cameras()
	}
	for _, c := range cams {
		a.addSourceChoice(c)
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

// addSourceChoice adds a camera, video or folder to the list and returns its label.
func (a *mainWindow) addSourceChoice(spec capture.Spec) string {
	var label string
	switch spec.Kind {
	case capture.KindDemo:
		return choiceDemo
	case capture.KindCamera:
		label = "Camera " + spec.Path
	case capture.KindFolder:
		label = "Frames: " + filepath.Base(spec.Path)
	case capture.KindCells:
		label = "Cell images: " + filepath.Base(spec.Path)
	case capture.KindImage:
		label = "Image: " + filepath.Base(spec.Path)
	default:
		label = "Video: " + filepath.Base(spec.Path)
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
