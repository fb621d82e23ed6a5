package app

import (
	"fmt"
	"runtime"

	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/screening"
)

// Classifier is what the app needs of a classifier: what a screening run uses, and the
// settings the technician changes while a run goes on. inference.Classifier implements
// it.
type Classifier interface {
	screening.Classifier
	SetVariant(inference.Variant) error
	SetThreads(int) error
	Threads() int
	SetBatch(int)
}

// Model is the app's classifier and the one owner of its settings: which variant
// classifies (the toolbar, the settings window and the saved preferences all read it
// here), its thread count and batch size. A change applies to a running session too:
// the session's pipeline reads the classifier for every batch, and every cell records
// the variant that classified it. Opening a variant's session can take a moment: call
// the setters off the UI goroutine. Safe for concurrent use.
type Model struct {
	clf Classifier
}

// NewModel wraps a classifier.
func NewModel(c Classifier) *Model { return &Model{clf: c} }

// Classifier is the classifier a session runs with.
func (m *Model) Classifier() Classifier { return m.clf }

// Variant is the variant that classifies now.
func (m *Model) Variant() inference.Variant { return m.clf.Variant() }

// SetVariant switches the model; batches under way finish on the old one.
func (m *Model) SetVariant(v inference.Variant) error {
	if err := m.clf.SetVariant(v); err != nil {
		return fmt.Errorf("switch to the %s model: %w", v, err)
	}
	return nil
}

// SetThreads sets the ONNX Runtime thread count (0: one per CPU).
func (m *Model) SetThreads(n int) error {
	if n < 0 {
		return fmt.Errorf("threads %d: give 0 (automatic) or more", n)
	}
	return m.clf.SetThreads(ThreadsFor(n))
}

// Threads is the thread count in use.
func (m *Model) Threads() int { return m.clf.Threads() }

// SetBatch sets how many cells go through the model at once (at least 1).
func (m *Model) SetBatch(n int) { m.clf.SetBatch(max(1, n)) }

// ThreadsFor is the thread count a setting means: n, or one per CPU for 0.
func ThreadsFor(n int) int {
	if n <= 0 {
		return runtime.NumCPU()
	}
	return n
}
