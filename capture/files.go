package capture

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"slices"
	"sync/atomic"
	"time"

	"github.com/phytoscreen/phytoscreen/imagefile"
	"github.com/phytoscreen/phytoscreen/inputfile"
	"gocv.io/x/gocv"
)

// FolderSource yields the image files of a folder (and its subfolders) in natural order
// (frame2 before frame10), or a single image. An unreadable or corrupt file is reported
// as StatusSkipped and the next one is read: one bad frame does not end a run. Files in
// the folder that are not images are listed once, as skipped, when the source opens.
type FolderSource struct {
	name     string
	files    []string
	next     int
	index    int
	onStatus func(Status)
	gray     bool // decode to gray only (OpenOptions.Gray)
	// seen are the images read so far, by their pixel data's fingerprint: a folder can
	// hold a frame twice (copied, or saved again with another orientation tag), and its
	// cells must count once. dups counts those left out; it is atomic because Len is
	// asked from the app's goroutine while Next runs in the pipeline's.
	seen map[string]string
	dups atomic.Int64
}

// OpenFolder lists the images under dir. It fails when dir cannot be read or holds no
// image at all.
func OpenFolder(dir string, onStatus func(Status)) (*FolderSource, error) {
	files, others, problems := imagefile.CollectAll([]string{dir})
	s := &FolderSource{name: dir, files: files, onStatus: onStatus}
	for _, p := range problems {
		if p.Path == dir {
			return nil, fmt.Errorf("open folder %s: %w", dir, p.Err)
		}
		Report(onStatus, Status{Source: dir, Kind: StatusSkipped, Frame: -1, Path: p.Path, Err: p.Err})
	}
	for _, o := range others {
		why := imagefile.LeftOutError(o)
		if why == nil {
			why = errors.New("not an image file (frames must be .jpg, .jpeg, .png, .tif, .tiff or .bmp)")
		}
		Report(onStatus, Status{Source: dir, Kind: StatusSkipped, Frame: -1, Path: o, Err: why})
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("open folder %s: no image files in it (%d other files); frames must be .jpg, .jpeg, .png, .tif, .tiff or .bmp", dir, len(others))
	}
	return s, nil
}

// OpenImage makes a one-frame source of an image file.
func OpenImage(path string) (*FolderSource, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("open image %s: %w", path, err)
	}
	if err := inputfile.CheckInfo(path, st, inputfile.MaxImage); err != nil {
		return nil, fmt.Errorf("open image: %w", err)
	}
	return &FolderSource{name: path, files: []string{path}, onStatus: func(Status) {}}, nil
}

// Name returns the folder or file the source reads.
func (s *FolderSource) Name() string { return s.name }

// Len returns the number of image files the source will try, less the duplicates of
// earlier ones found so far (they are not more water examined).
func (s *FolderSource) Len() int { return len(s.files) - int(s.dups.Load()) }

// Next decodes the next readable image. For a single image, an unreadable file is an
// error rather than a skip: there is nothing else to read. Frame.Index counts the frames
// delivered; Frame.Source is the file's path.
func (s *FolderSource) Next(ctx context.Context) (Frame, error) {
	for s.next < len(s.files) {
		if err := ctx.Err(); err != nil {
			return Frame{}, err
		}
		path := s.files[s.next]
		s.next++
		m, mod, key, err := readFrame(path, s.gray)
		if err == nil && len(s.files) > 1 {
			if first, ok := s.seen[key]; ok && first != path {
				m.Close()
				s.dups.Add(1)
				err = &DuplicateError{First: first}
			} else {
				if s.seen == nil {
					s.seen = map[string]string{}
				}
				s.seen[key] = path
			}
		}
		if err != nil {
			if len(s.files) == 1 {
				return Frame{}, err
			}
			Report(s.onStatus, Status{Source: s.name, Kind: StatusSkipped, Frame: -1, Path: path, Err: err})
			continue
		}
		f := Frame{Index: s.index, Time: mod, Source: path, Mat: m}
		s.index++
		return f, nil
	}
	return Frame{}, io.EOF
}

// Prescan fingerprints every file before the first frame is read and leaves out at once
// those that hold the pixels of an earlier one, each reported skipped with its first
// (DuplicateError). Len is then the frames the folder really holds from the start (the
// progress, the share of the volume read so far, the frames a run expects), not a count
// that falls as duplicates are met. It returns the kept files' fingerprints, which a
// session store needs (FrameDigests), so the files are read once for both. A file that
// cannot be read is kept: Next reports why when it comes to it.
func (s *FolderSource) Prescan(ctx context.Context) ([]FileDigest, error) {
	if s.next > 0 {
		return nil, fmt.Errorf("prescan %s: reading has begun", s.name)
	}
	seen := map[string]string{}
	kept := make([]string, 0, len(s.files))
	var out []FileDigest
	for _, path := range s.files {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("fingerprint the frames of %s: %w", s.name, err)
		}
		d, err := fileDigest(path)
		if err != nil {
			kept = append(kept, path)
			out = append(out, FileDigest{Path: path, Digest: UnreadableDigest + path}) // see FrameDigests
			continue
		}
		if first, ok := seen[d]; ok {
			Report(s.onStatus, Status{Source: s.name, Kind: StatusSkipped, Frame: -1, Path: path, Err: &DuplicateError{First: first}})
			continue
		}
		seen[d] = path
		kept = append(kept, path)
		out = append(out, FileDigest{Path: path, Digest: d})
	}
	s.files, s.seen = kept, seen
	return out, nil
}

// Files lists the files the source will read, in reading order: after Prescan, the
// duplicates of earlier ones are left out.
func (s *FolderSource) Files() []string { return slices.Clone(s.files) }

// Pass leaves out the first n files before reading begins: a run taking up another
// where it stopped reads only the files that run did not (store.Continuation). Len then
// counts the rest. A file passed over is still known to Prescan's fingerprints, so a copy
// of it later in the folder stays a duplicate.
func (s *FolderSource) Pass(n int) error {
	if s.next > 0 {
		return fmt.Errorf("pass over the first %d frames of %s: reading has begun", n, s.name)
	}
	if n < 0 || n >= len(s.files) {
		return fmt.Errorf("pass over the first %d frames of %s: it holds %d", n, s.name, len(s.files))
	}
	s.files = s.files[n:]
	return nil
}

// Close does nothing: files are read whole, one at a time.
func (s *FolderSource) Close() error { return nil }

// readFrame decodes an image file with imagefile (header checked before any pixel is
// decoded; a JPEG through libjpeg-turbo straight into the Mat) into an 8-bit gray or BGR
// Mat, and returns its modification time and its pixel data's fingerprint.
func readFrame(path string, gray bool) (gocv.Mat, time.Time, string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return gocv.Mat{}, time.Time{}, "", imagefile.ReadError(path, err)
	}
	never := func(err error) error {
		if errors.Is(err, imagefile.ErrEmpty) {
			return fmt.Errorf("%w (a frame that was never written: check the capture that made it)", err)
		}
		return err
	}
	data, err := imagefile.ReadFile(path)
	if err != nil {
		return gocv.Mat{}, time.Time{}, "", never(err)
	}
	decode := imagefile.DecodeMat
	if gray {
		decode = imagefile.DecodeMatGray
	}
	m, err := decode(data)
	if err != nil {
		return gocv.Mat{}, time.Time{}, "", never(fmt.Errorf("decode %s: %w", path, err))
	}
	return m, st.ModTime(), imageDigest(data), nil
}

// ImageToMat converts a decoded image to a Mat: 8-bit gray for gray images, 8-bit BGR
// otherwise. The caller closes it.
func ImageToMat(img image.Image) (gocv.Mat, error) { return imagefile.ToMat(img) }

// DuplicateError says a folder's file holds the pixels of one read before: it is left
// out, not unreadable (nothing to fix).
type DuplicateError struct{ First string }

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("the same image as %s (a duplicate frame: its cells are counted once)", e.First)
}
