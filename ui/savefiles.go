package ui

import (
	"fmt"
	"os"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage/repository"
)

// Fyne's save dialog hands its callback a writer it has already opened with os.Create:
// the chosen file is emptied before phytoscreen sees its name. A report whose name was
// confirmed at "Overwrite?" (a frame typed by mistake, last week's report when the new one
// then fails) was lost. phytoscreen never writes through that writer: every export goes
// to a temporary file renamed over the target once complete (outfile.Write). So the
// "file" scheme is wrapped: its Writer opens nothing until the first byte is written,
// and a writer closed unwritten leaves the file exactly as it was.

// keepFilesUntilWritten registers the wrapper over the file repository the driver
// registered. Called once per app, on the goroutine that builds it, before any dialog.
func keepFilesUntilWritten() error {
	inner, err := repository.ForScheme("file")
	if err != nil {
		return fmt.Errorf("wrap the file repository: %w", err)
	}
	if _, done := inner.(*lazyFileRepository); done {
		return nil
	}
	repository.Register("file", &lazyFileRepository{inner: inner})
	return nil
}

// lazyFileRepository is the driver's file repository with a Writer that waits for data.
// The other operations the dialogs use go to the driver's repository unchanged.
type lazyFileRepository struct{ inner repository.Repository }

func (r *lazyFileRepository) Exists(u fyne.URI) (bool, error)               { return r.inner.Exists(u) }
func (r *lazyFileRepository) Reader(u fyne.URI) (fyne.URIReadCloser, error) { return r.inner.Reader(u) }
func (r *lazyFileRepository) CanRead(u fyne.URI) (bool, error)              { return r.inner.CanRead(u) }
func (r *lazyFileRepository) Destroy(scheme string)                         { r.inner.Destroy(scheme) }

// Writer returns a writer that creates (and truncates) u only when written to.
func (r *lazyFileRepository) Writer(u fyne.URI) (fyne.URIWriteCloser, error) {
	return &lazyWriter{uri: u}, nil
}

func (r *lazyFileRepository) CanWrite(u fyne.URI) (bool, error) {
	if w, ok := r.inner.(repository.WritableRepository); ok {
		return w.CanWrite(u)
	}
	return false, repository.ErrOperationNotSupported
}

func (r *lazyFileRepository) Delete(u fyne.URI) error {
	if w, ok := r.inner.(repository.WritableRepository); ok {
		return w.Delete(u)
	}
	return repository.ErrOperationNotSupported
}

func (r *lazyFileRepository) Appender(u fyne.URI) (fyne.URIWriteCloser, error) {
	if a, ok := r.inner.(repository.AppendableRepository); ok {
		return a.Appender(u)
	}
	return nil, repository.ErrOperationNotSupported
}

func (r *lazyFileRepository) CanList(u fyne.URI) (bool, error) {
	if l, ok := r.inner.(repository.ListableRepository); ok {
		return l.CanList(u)
	}
	return false, repository.ErrOperationNotSupported
}

func (r *lazyFileRepository) List(u fyne.URI) ([]fyne.URI, error) {
	if l, ok := r.inner.(repository.ListableRepository); ok {
		return l.List(u)
	}
	return nil, repository.ErrOperationNotSupported
}

func (r *lazyFileRepository) CreateListable(u fyne.URI) error {
	if l, ok := r.inner.(repository.ListableRepository); ok {
		return l.CreateListable(u)
	}
	return repository.ErrOperationNotSupported
}

func (r *lazyFileRepository) Parent(u fyne.URI) (fyne.URI, error) {
	if h, ok := r.inner.(repository.HierarchicalRepository); ok {
		return h.Parent(u)
	}
	return repository.GenericParent(u)
}

func (r *lazyFileRepository) Child(u fyne.URI, component string) (fyne.URI, error) {
	if h, ok := r.inner.(repository.HierarchicalRepository); ok {
		return h.Child(u, component)
	}
	return repository.GenericChild(u, component)
}

func (r *lazyFileRepository) DeleteAll(u fyne.URI) error {
	if d, ok := r.inner.(repository.DeleteAllRepository); ok {
		return d.DeleteAll(u)
	}
	return repository.ErrOperationNotSupported
}

func (r *lazyFileRepository) Copy(src, dst fyne.URI) error {
	if c, ok := r.inner.(repository.CopyableRepository); ok {
		return c.Copy(src, dst)
	}
	return repository.GenericCopy(src, dst)
}

func (r *lazyFileRepository) Move(src, dst fyne.URI) error {
	if m, ok := r.inner.(repository.MovableRepository); ok {
		return m.Move(src, dst)
	}
	return repository.GenericMove(src, dst)
}

// lazyWriter creates its file at the first Write. Closed before any, it touches nothing.
type lazyWriter struct {
	uri fyne.URI
	mu  sync.Mutex
	f   *os.File
}

func (w *lazyWriter) URI() fyne.URI { return w.uri }

func (w *lazyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		f, err := os.Create(w.uri.Path())
		if err != nil {
			return 0, err
		}
		w.f = f
	}
	return w.f.Write(p)
}

func (w *lazyWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	return w.f.Close()
}
