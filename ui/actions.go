package ui

import (
	"context"
	"errors"
	"fmt"
	_ "image/jpeg" // frame folders are often JPEG
	_ "image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/outfile"
	"github.com/phytoscreen/phytoscreen/report"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"

	"github.com/phytoscreen/phytoscreen/store"
)

// OpenFolder asks for a folder of images (Ctrl+O), then whether it holds whole frames or
// single-cell images, and screens it with a progress bar and a Cancel button.
func (a *mainWindow) OpenFolder() {
	if a.sess != nil {
		a.showError("A run is going on", errors.New("stop it first (Stop, or Ctrl+.), then open the folder"))
		return
	}
	d := dialog.NewFolderOpen(func(u fyne.ListableURI, err error) {
		if err != nil {
			a.unpickOpenEntry()
			a.showError("Could not open the folder", err)
			return
		}
		if u == nil {
			a.unpickOpenEntry()
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

// OpenFolderPath surveys dir, asks what it holds (with the guess chosen) and starts.
func (a *mainWindow) OpenFolderPath(dir string) {
	a.set.LastFolder = filepath.Dir(dir)
	a.saveSettings()
	sv, err := app.SurveyFolder(dir)
	if err != nil {
		a.unpickOpenEntry()
		a.showError("Nothing to screen in this folder", err)
		return
	}
	const frames, cells = "Whole microscope frames: find, crop and count the cells", "Single-cell images: one cell per image"
	choice := widget.NewRadioGroup([]string{frames, cells}, nil)
	choice.Required = true // one of the two, as the export's formats
	choice.Selected = frames
	if sv.Cells {
		choice.Selected = cells
	}
	// Files, not frames: a file that repeats a frame read before is left out as the run
	// opens (capture.FolderSource.Prescan), which reads every file; the survey does not.
	info := fmt.Sprintf("%s: %d image file%s", dir, len(sv.Files), plural(len(sv.Files)))
	if sv.Median.X > 0 {
		info += fmt.Sprintf(", typically %d x %d pixels", sv.Median.X, sv.Median.Y)
	}
	if n := len(sv.Others); n > 0 {
		// Said before Start, not found afterwards among the skipped (helper-47).
		info += fmt.Sprintf("; %d other file%s, not images, skipped", n, plural(n))
	}
	if len(sv.Problems) > 0 {
		info += fmt.Sprintf("; %d paths could not be read and are skipped", len(sv.Problems))
	}
	// "Images", not "frames": the folder may hold single-cell tiles (helper-50).
	info += ".\nA file that repeats an image read before is counted once, so the run may screen fewer images."
	if p := a.svc.Pack; p != nil {
		// A colour camera's frames and the gray marine pack (or gray frames and the
		// colour pack): said before the run, where the pack can still be changed.
		if colour, file, ok := app.FirstFrameColour(capture.Spec{Kind: capture.KindFolder, Path: dir}); ok {
			if note := app.PackFitNote(p, colour, filepath.Base(file)); note != "" {
				info += "\n\nNote: " + note + "."
			}
		}
	}
	msg := widget.NewLabel(info)
	msg.Wrapping = fyne.TextWrapWord
	f := a.confirmSample("Screen a folder", container.NewVBox(msg, choice), func() {
		spec := capture.Spec{Kind: capture.KindFolder, Path: dir}
		if choice.Selected == cells {
			spec = capture.Cells(dir)
		}
		a.chooseSource(spec)
		a.startSource(spec)
	})
	f.info = msg
}

// confirmSample shows what is about to be screened (about) with the sample's ID, volume
// and factor, and calls start with them in the sample panel when Start is pressed. They
// are asked here, where they are read: the file dialogs cover the sample panel that
// holds them, and the technician had to cancel to set the volume, then open the folder
// again (helper-38); a video started at once on the panel's defaults, and its
// concentrations stayed on the wrong volume (helper-41).
func (a *mainWindow) confirmSample(title string, about fyne.CanvasObject, start func()) *folderSample {
	f := &folderSample{ID: widget.NewEntry(), Site: widget.NewSelectEntry(a.sites), Volume: widget.NewSelectEntry(volumeChoices), Factor: widget.NewEntry()}
	f.ID.SetText(a.sample.ID.Text)
	// The site too: a folder of another pond was stored under the site the panel
	// kept from the last sample (helper-52).
	f.Site.SetText(a.sample.Site.Text)
	f.Site.SetPlaceHolder("where the water was taken")
	f.Volume.SetText(a.sample.Volume.Text)
	f.Factor.SetText(a.sample.Factor.Text)
	a.folderSample = f
	form := widget.NewForm(widget.NewFormItem("Sample ID", f.ID), widget.NewFormItem("Site", f.Site), widget.NewFormItem("Volume (mL)", f.Volume), widget.NewFormItem("Factor", f.Factor))
	form.Items[2].HintText = "the liquid these images were taken of, in all"
	body := container.NewVBox(about, widget.NewLabelWithStyle("The sample (as in the sample panel)", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), form)
	// As tall as the body is at the dialog's width, scrolled where the window is lower.
	need := heightAt(body, sampleDialogWidth)
	height := need
	if win := a.win.Canvas().Size().Height; win > 0 {
		height = min(need, win-dialogChrome)
	}
	f.view = container.NewVScroll(body)
	d := dialog.NewCustomConfirm(title, "Start", "Cancel", container.NewGridWrap(fyne.NewSize(sampleDialogWidth, height), f.view), func(ok bool) {
		a.folderSample = nil
		if !ok {
			a.unpickOpenEntry()
			return
		}
		a.sample.ID.SetText(strings.TrimSpace(f.ID.Text))
		a.sample.Site.SetText(strings.TrimSpace(f.Site.Text))
		a.sample.Volume.SetText(strings.TrimSpace(f.Volume.Text))
		a.sample.Factor.SetText(strings.TrimSpace(f.Factor.Text))
		start()
	}, a.win)
	f.dialog = d
	d.Show()
	return f
}

// folderSample is the sample's fields of the folder or video dialog (tests fill them).
type folderSample struct {
	ID     *widget.Entry
	Site   *widget.SelectEntry
	Volume *widget.SelectEntry
	Factor *widget.Entry
	info   *widget.Label // what the folder or video holds
	dialog *dialog.ConfirmDialog
	view   *container.Scroll // the dialog's body
}

// sampleDialogWidth is the width of the folder and video dialogs' body; dialogChrome
// the height a dialog adds to its body (title, buttons, padding) and keeps from the
// window's edges.
const (
	sampleDialogWidth = 560
	dialogChrome      = 160
)

// heightAt is o's height laid out width wide. A word-wrapped label's MinSize counts its
// lines at the width it was last given; measured unsized, it counted the text's own
// lines alone, and the dialog sized by it drew its buttons over the form (helper-59).
func heightAt(o fyne.CanvasObject, width float32) float32 {
	h := o.MinSize().Height
	for range 4 { // a few passes: the lines settle once the width is the final one
		o.Resize(fyne.NewSize(width, h))
		n := o.MinSize().Height
		if n == h {
			break
		}
		h = n
	}
	return h
}

// OpenVideo asks for a video file and screens it.
func (a *mainWindow) OpenVideo() {
	if a.sess != nil {
		a.showError("A run is going on", errors.New("stop it first (Stop, or Ctrl+.), then open the video"))
		return
	}
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil {
			a.unpickOpenEntry()
			a.showError("Could not open the video", err)
			return
		}
		if r == nil {
			a.unpickOpenEntry()
			return
		}
		path := r.URI().Path()
		_ = r.Close()
		a.OpenVideoPath(path)
	}, a.win)
	d.SetFilter(storage.NewExtensionFileFilter(capture.VideoExtensions))
	if a.set.LastFolder != "" {
		if l, err := storage.ListerForURI(storage.NewFileURI(a.set.LastFolder)); err == nil {
			d.SetLocation(l)
		}
	}
	d.Resize(fyne.NewSize(900, 640))
	d.Show()
}

// OpenVideoPath asks for the sample's ID, volume and factor, then screens the video.
func (a *mainWindow) OpenVideoPath(path string) {
	a.set.LastFolder = filepath.Dir(path)
	a.saveSettings()
	msg := widget.NewLabel(path + "\nThe volume is the liquid the whole video shows; while it plays, the counts are per litre of the share seen so far.")
	msg.Wrapping = fyne.TextWrapWord
	f := a.confirmSample("Screen a video", msg, func() {
		spec := capture.Spec{Kind: capture.KindVideo, Path: path}
		a.chooseSource(spec)
		a.startSource(spec)
	})
	f.info = msg
}

// exportSample is the sample Export works on: the one chosen in History while History
// is in front, else the run's, else the last one screened, else History's.
func (a *mainWindow) exportSample() string {
	switch {
	case a.historyShown() && a.history.selected != "":
		// The sample looked at: Export… on the History tab wrote the Live tab's last
		// run, another sample than the one on screen (helper-95).
		return a.history.selected
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
func (a *mainWindow) ExportDialog() {
	if a.svc.Store == nil {
		a.showError("Nothing to export", errors.New("the session store could not be opened at launch, so no sample was kept"))
		return
	}
	id := a.exportSample()
	if id == "" {
		a.showError("Nothing to export yet", errors.New("screen a sample first, or choose a stored one on the History tab"))
		return
	}
	const counts, objects, ecotaxa, pdf = "Counts and concentrations (CSV)", "Objects: one row per object found (CSV)", "EcoTaxa archive (TSV and crops, zip)",
		"Report (PDF: HAB groups against trigger levels, alerts, examples)"
	choice := widget.NewRadioGroup([]string{counts, objects, ecotaxa, pdf}, nil)
	choice.Required = true // a second click on the choice cleared it: 'export format ""' (helper-67)
	choice.Selected = counts
	what := "Export sample " + id + " as:"
	live := a.lastSnap.Sample.ID
	if a.sess != nil {
		live = a.sess.sample.ID
	}
	if a.historyShown() && live != "" && live != id {
		what = "Export sample " + id + ", chosen in History (" + live + " is on the Live tab), as:"
	} else if a.sess == nil && a.lastSnap.Sample.ID == "" {
		// Nothing screened since launch: the sample is History's, while the Live tab
		// shows the next sample's ID (helper-52 read it as exporting the wrong one).
		what = "Export sample " + id + ", chosen in History (nothing screened since launch), as:"
		if next := strings.TrimSpace(a.sample.ID.Text); next != "" && next != id {
			what = "Export sample " + id + ", chosen in History (" + next + " on the Live tab is not screened yet), as:"
		}
	}
	body := container.NewVBox(widget.NewLabel(what), choice)
	dialog.ShowCustomConfirm("Export", "Choose file…", "Cancel", body, func(ok bool) {
		if !ok {
			return
		}
		format := map[string]string{counts: store.FormatCounts, objects: store.FormatObjects, ecotaxa: store.FormatEcoTaxa, pdf: formatReport}[choice.Selected]
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
	case formatReport:
		return safe + "_report.pdf"
	case formatComparison:
		return safe + "_comparison.txt"
	}
	return safe + "_counts.csv"
}

// formatReport is the PDF report among the export formats: what 'phytoscreen report'
// writes, with the trigger levels of the rules the sample's last run used.
const formatReport = "report-pdf"

// formatComparison is History's comparison of two samples as text (Compare).
const formatComparison = "comparison-txt"

// writeExport writes sample id in format to path: a store export, or the PDF report.
func writeExport(ctx context.Context, st *store.Store, id, format, path string) error {
	if format != formatReport {
		return app.ExportSample(ctx, st, id, format, path, nil)
	}
	if err := capture.CheckOutputName(path); err != nil {
		return err
	}
	// As the report command: never over the store (whatever its name), nor a file named
	// as another kind (helper-78).
	if err := outfile.CheckNotInput(path, outfile.Input{Path: st.Path(), What: outfile.StoreWhat}); err != nil {
		return err
	}
	if err := outfile.CheckKind(path, "a PDF report", ".pdf"); err != nil {
		return err
	}
	d, err := app.ReportData(ctx, st, id, "", time.Now())
	if err != nil {
		return err
	}
	return outfile.Write(path, func(w io.Writer) error { return report.WritePDF(w, d) })
}

// refuseFrameName refuses an export path named as an image or video (a frame picked by
// mistake). The file itself is untouched: the save dialog's writer opens nothing until
// written to (keepFilesUntilWritten), and phytoscreen never writes through it.
func refuseFrameName(path string) error {
	return capture.CheckOutputName(path)
}

// checkExportFolder refuses an export into a folder that does not exist, saying how the
// dialog reads a path typed into its name box: inside the folder shown (helper-38 typed
// /tmp/h38/exports/LAKE-02_counts.csv and got …/nitzschia/tmp/h38/exports/…: no such
// file or directory).
func checkExportFolder(path string) error {
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("folder %s does not exist, so %s cannot be written: type a file name alone in the dialog's name box (a path typed there is put inside the folder the dialog shows) and choose the folder in the dialog's list", dir, filepath.Base(path))
	}
	return nil
}

// documentsDir is the user's documents folder (XDG_DOCUMENTS_DIR's usual place), else
// the home folder; "" when there is neither.
func documentsDir() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	if st, err := os.Stat(filepath.Join(home, "Documents")); err == nil && st.IsDir() {
		return filepath.Join(home, "Documents")
	}
	return home
}

// exportTo asks where to save and writes the export there on a goroutine.
func (a *mainWindow) exportTo(id, format string) {
	if id == "" || a.svc.Store == nil {
		return
	}
	a.askSavePath("Export", exportName(id, format), func(path string) { a.ExportPath(id, format, path) })
}

// askSavePath asks where to save a file first named name, in the last export's folder,
// and hands the path chosen to save (UI goroutine) once it is one phytoscreen may
// write; what refuses it is said under title.
func (a *mainWindow) askSavePath(title, name string, save func(path string)) {
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
		if err := refuseFrameName(path); err != nil {
			a.showError(title+" refused", err)
			return
		}
		if err := checkExportFolder(path); err != nil {
			a.showError(title+" refused", err)
			return
		}
		a.set.ExportFolder = filepath.Dir(path)
		a.saveSettings()
		save(path)
	}, a.win)
	d.SetFileName(name)
	// Only files of the export's kind are listed: a frame is not picked by mistake.
	if ext := filepath.Ext(name); ext != "" {
		d.SetFilter(storage.NewExtensionFileFilter([]string{ext}))
	}
	// The last export's folder; before the first, the user's documents. Never a source's:
	// left alone, Fyne's dialog opens in the folder any dialog last showed, the frames'
	// (helper-38), often read-only and no place for a report.
	for _, dir := range []string{a.set.ExportFolder, documentsDir()} {
		if dir == "" {
			continue
		}
		if l, err := storage.ListerForURI(storage.NewFileURI(dir)); err == nil {
			d.SetLocation(l)
			break
		}
	}
	d.Resize(fyne.NewSize(900, 640))
	d.Show()
}

// ExportPath writes sample id's export in format to path, off the UI goroutine, and says
// where it went or why it failed.
func (a *mainWindow) ExportPath(id, format, path string) {
	a.setStatus(fmt.Sprintf("Exporting sample %s to %s…", id, path))
	st := a.svc.Store
	a.e.spawn(func(ctx context.Context) {
		err := writeExport(ctx, st, id, format, path)
		a.runOnUI(func() {
			if err != nil {
				a.showError("Export failed", fmt.Errorf("%s: %w", path, err))
				return
			}
			a.setStatus(fmt.Sprintf("Exported sample %s to %s.", id, path))
		})
	})
}
