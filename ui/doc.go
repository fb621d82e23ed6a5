// Package ui is phytoscreen's desktop app, the bench technician's screen: a live view
// of the microscope with every cell outlined in its taxon's colour, counts and
// concentrations per taxon, HAB alerts, what the model costs on this machine, the sample
// being screened, a gallery to review and relabel crops, the history of past samples with
// their exports, and the settings. It is the only package that imports Fyne. Widgets
// are touched on the UI goroutine only; the pipeline's results reach them through one
// bridge goroutine per run, which prepares each update and hands it over with fyne.Do
// at most once per displayed frame.
package ui
