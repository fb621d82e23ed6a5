package ui

import (
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // frame folders are often JPEG
	_ "image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"

	"github.com/phytoscreen/phytoscreen/imagefile"
	"github.com/phytoscreen/phytoscreen/store"
)

// OpenFolder asks for a folder of images (Ctrl+O), then whether it holds whole frames or
// single-cell images, and screens it with a progress bar and a Cancel button.
func (a *App) OpenFolder() {
	if a.sess != nil {
		a.showError("A run is going on", errors.New("stop it first (Stop, or Ctrl+.), then open the folder"))
		return
	}
	d := dialog.NewFolderOpen(func(u fyne.ListableURI, err error) {
		if err != nil {
			a.showError("Could not open the folder", err)
			return
		}
		if u == nil {
			return // cancelled
		}
		a.OpenFolderPath(u.Path())
	}, a.win)
	if a.set.LastFolder != "" {
		if l, err := storage.ListerForURI(storage.NewFileURI(a.set.LastFolder)); err == nil {
			d.SetLocation(l)
		}
	}
	d.Resize(fyne.NewSize(900, 640))
	d.Show()
}

// FolderSurvey is what a quick look at a folder finds: its images and their typical size.
type FolderSurvey struct {
	Files    []string
	Problems []imagefile.Problem
	Median   image.Point // median width and height of the first images
	Kind     SourceKind  // KindCells when the images look like single-cell crops
}

// SurveyFolder lists a folder's images and guesses whether they are whole frames or
// single-cell images from their sizes: cell crops are small (the NDSB images are 40 to
// 300 pixels), camera frames are 640 pixels or more.
func SurveyFolder(dir string) (FolderSurvey, error) {
	var s FolderSurvey
	s.Files, s.Problems = imagefile.Collect([]string{dir})
	if len(s.Files) == 0 {
		why := ""
		if len(s.Problems) > 0 {
			why = " (" + s.Problems[0].Error() + ")"
		}
		return s, fmt.Errorf("folder %s holds no images%s: phytoscreen reads %s files; choose a folder of frames or of cell images", dir, why, strings.Join(imagefile.Extensions, ", "))
	}
	var ws, hs []int
	for _, f := range s.Files[:min(len(s.Files), 25)] {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		cfg, _, err := image.DecodeConfig(fh)
		fh.Close()
		if err == nil {
			ws, hs = append(ws, cfg.Width), append(hs, cfg.Height)
		}
	}
	if len(ws) > 0 {
		slices.Sort(ws)
		slices.Sort(hs)
		s.Median = image.Pt(ws[len(ws)/2], hs[len(hs)/2])
	}
	s.Kind = KindFrames
	if s.Median.X > 0 && max(s.Median.X, s.Median.Y) < 480 {
		s.Kind = KindCells
	}
	return s, nil
}

// OpenFolderPath surveys dir, asks what it holds (with the guess chosen) and starts.
func (a *App) OpenFolderPath(dir string) {
	a.set.LastFolder = filepath.Dir(dir)
	a.saveSettings()
	sv, err := SurveyFolder(dir)
	if err != nil {
		a.showError("Nothing to screen in this folder", err)
		return
	}
	const frames, cells = "Whole microscope frames: find, crop and count the cells", "Single-cell images: one cell per image"
	choice := widget.NewRadioGroup([]string{frames, cells}, nil)
	choice.Selected = frames
	if sv.Kind == KindCells {
		choice.Selected = cells
	}
	info := fmt.Sprintf("%s: %d images", dir, len(sv.Files))
	if sv.Median.X > 0 {
		info += fmt.Sprintf(", typically %d x %d pixels", sv.Median.X, sv.Median.Y)
	}
	if len(sv.Problems) > 0 {
		info += fmt.Sprintf("; %d paths could not be read and are skipped", len(sv.Problems))
	}
	msg := widget.NewLabel(info + ".\nThe sample panel's fields (ID, volume, factor) describe this folder's sample.")
	msg.Wrapping = fyne.TextWrapWord
	body := container.NewVBox(msg, choice)
	d := dialog.NewCustomConfirm("Screen a folder", "Start", "Cancel", container.NewGridWrap(fyne.NewSize(560, body.MinSize().Height+40), body), func(ok bool) {
		if !ok {
			return
		}
		kind, spec := KindFrames, dir
		if choice.Selected == cells {
			kind, spec = KindCells, cellsPrefix+dir
		}
		label := a.addSourceChoice(spec, kind)
		a.sample.Source.OnChanged = nil
		a.sample.Source.SetOptions(a.sourceOptions())
		a.sample.Source.SetSelected(label)
		a.sample.Source.OnChanged = a.onSourceChosen
		a.startSource(spec, kind)
	}, a.win)
	d.Show()
}

// videoExtensions are the video files the file dialog offers.
var videoExtensions = []string{".avi", ".mp4", ".mkv", ".mov", ".m4v", ".webm"}

// OpenVideo asks for a video file and screens it.
func (a *App) OpenVideo() {
	if a.sess != nil {
		a.showError("A run is going on", errors.New("stop it first (Stop, or Ctrl+.), then open the video"))
		return
	}
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil {
			a.showError("Could not open the video", err)
			return
		}
		if r == nil {
			return
		}
		path := r.URI().Path()
		_ = r.Close()
		a.set.LastFolder = filepath.Dir(path)
		label := a.addSourceChoice(path, KindStream)
		a.sample.Source.OnChanged = nil
		a.sample.Source.SetOptions(a.sourceOptions())
		a.sample.Source.SetSelected(label)
		a.sample.Source.OnChanged = a.onSourceChosen
		a.startSource(path, KindStream)
	}, a.win)
	d.SetFilter(storage.NewExtensionFileFilter(videoExtensions))
	if a.set.LastFolder != "" {
		if l, err := storage.ListerForURI(storage.NewFileURI(a.set.LastFolder)); err == nil {
			d.SetLocation(l)
		}
	}
	d.Resize(fyne.NewSize(900, 640))
	d.Show()
}

// exportSample is the sample Export works on: the run's, else the last one screened,
// else the one chosen in history.
func (a *App) exportSample() string {
	switch {
	case a.sess != nil:
		return a.sess.sample.ID
	case a.lastSnap.Sample.ID != "":
		return a.lastSnap.Sample.ID
	case a.history.selected != "":
		return a.history.selected
	}
	return ""
}

// ExportDialog asks which export of the current sample to write (Ctrl+E).
func (a *App) ExportDialog() {
	if a.deps.Store == nil {
		a.showError("Nothing to export", errors.New("the session store could not be opened at launch, so no sample was kept"))
		return
	}
	id := a.exportSample()
	if id == "" {
		a.showError("Nothing to export yet", errors.New("screen a sample first, or choose a stored one on the History tab"))
		return
	}
	const counts, objects, ecotaxa = "Counts and concentrations (CSV)", "One row per cell (CSV)", "EcoTaxa archive (TSV and crops, zip)"
	choice := widget.NewRadioGroup([]string{counts, objects, ecotaxa}, nil)
	choice.Selected = counts
	body := container.NewVBox(widget.NewLabel("Export sample "+id+" as:"), choice)
	dialog.ShowCustomConfirm("Export", "Choose file…", "Cancel", body, func(ok bool) {
		if !ok {
			return
		}
		format := map[string]string{counts: store.FormatCounts, objects: store.FormatObjects, ecotaxa: store.FormatEcoTaxa}[choice.Selected]
		a.exportTo(id, format)
	}, a.win)
}

// exportName proposes a file name for an export.
func exportName(id, format string) string {
	safe := strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ':' || r < ' ' {
			return '_'
		}
		return r
	}, id)
	switch format {
	case store.FormatObjects:
		return safe + "_objects.csv"
	case store.FormatEcoTaxa:
		return safe + "_ecotaxa.zip"
	}
	return safe + "_counts.csv"
}

// exportTo asks where to save and writes the export there on a goroutine.
func (a *App) exportTo(id, format string) {
	if id == "" || a.deps.Store == nil {
		return
	}
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil {
			a.showError("Could not choose the file", err)
			return
		}
		if w == nil {
			return
		}
		path := w.URI().Path()
		_ = w.Close() // the export writes through a temporary file renamed over it
		a.set.LastFolder = filepath.Dir(path)
		a.saveSettings()
		a.ExportPath(id, format, path)
	}, a.win)
	d.SetFileName(exportName(id, format))
	if a.set.LastFolder != "" {
		if l, err := storage.ListerForURI(storage.NewFileURI(a.set.LastFolder)); err == nil {
			d.SetLocation(l)
		}
	}
	d.Resize(fyne.NewSize(900, 640))
	d.Show()
}

// ExportPath writes sample id's export in format to path, off the UI goroutine, and says
// where it went or why it failed.
func (a *App) ExportPath(id, format, path string) {
	a.setStatus(fmt.Sprintf("Exporting sample %s to %s…", id, path))
	st := a.deps.Store
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		err := st.Export(a.ctx, id, format, path)
		a.runOnUI(func() {
			if err != nil {
				a.showError("Export failed", fmt.Errorf("%s: %w", path, err))
				return
			}
			a.setStatus(fmt.Sprintf("Exported sample %s to %s.", id, path))
		})
	}()
}
