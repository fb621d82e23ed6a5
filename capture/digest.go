package capture

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/phytoscreen/phytoscreen/imagefile"
	"github.com/phytoscreen/phytoscreen/inputfile"
)

// A file other than an image up to wholeDigest bytes is hashed whole. A larger one (a
// video) is hashed by its size and its first and last digestEdge bytes, which hold its
// container's own headers and index, so that a run does not read gigabytes before it
// starts.
const (
	wholeDigest = 64 << 20
	digestEdge  = 1 << 20
)

// FileDigest is the fingerprint of one file a source's frames come from.
type FileDigest struct {
	Path   string // as the source names it
	Digest string // of an image's pixel data, of another file's size and content (a video's first and last MiB)
}

// UnreadableDigest begins the digest of a file that could not be read: its path follows.
const UnreadableDigest = "unreadable:"

// FrameDigests fingerprints the files a source's frames come from: a folder's images
// (with its subfolders', as the folder source reads them), one image, or a video file.
// A copy of the frames elsewhere has the same digests, so a sample can refuse them
// twice whatever their path. A camera and the demo have none (their frames are new each
// time). A file that cannot be read gets UnreadableDigest and its path: the run reports
// it when it reads it.
func FrameDigests(ctx context.Context, s Spec) ([]FileDigest, error) {
	var files []string
	switch s.Kind {
	case KindFolder, KindCells:
		files, _, _ = imagefile.CollectAll([]string{s.Path})
	case KindImage, KindVideo:
		files = []string{s.Path}
	default:
		return nil, nil
	}
	out := make([]FileDigest, 0, len(files))
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("fingerprint the frames of %s: %w", s, err)
		}
		d, err := fileDigest(f)
		if err != nil {
			// Kept, by its path alone (no copy elsewhere can match it): the listing of
			// the files is what a run taking this one up checks the folder against, and
			// a frame left out here read as one renamed since (helper-46).
			d = UnreadableDigest + f
		}
		out = append(out, FileDigest{Path: f, Digest: d})
	}
	return out, nil
}

// fileDigest fingerprints a file: an image by the parts of it that decide its pixels
// (imagefile.PixelBytes: the same frame with or without an orientation tag is the same
// frame), anything else by its size and content (a large one, a video, by its first and
// last digestEdge bytes).
func fileDigest(path string) (string, error) {
	if imagefile.IsImageName(path) {
		data, err := imagefile.ReadFile(path)
		if err != nil {
			return "", err
		}
		return imageDigest(data), nil
	}
	f, err := inputfile.Open(path, 0) // a FIFO put there is refused, not waited on
	if err != nil {
		return "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	var size [8]byte
	binary.LittleEndian.PutUint64(size[:], uint64(st.Size()))
	h.Write(size[:])
	parts := []*io.SectionReader{io.NewSectionReader(f, 0, st.Size())}
	if st.Size() > wholeDigest {
		parts = []*io.SectionReader{io.NewSectionReader(f, 0, digestEdge), io.NewSectionReader(f, st.Size()-digestEdge, digestEdge)}
	}
	for _, p := range parts {
		if _, err := io.Copy(h, p); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:16]), nil
}

// imageDigest fingerprints an encoded image by what decides its pixels.
func imageDigest(data []byte) string {
	h := sha256.New()
	h.Write([]byte("image\x00")) // never equal to a whole-file digest
	for _, p := range imagefile.PixelBytes(data) {
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// DistinctFrames counts the distinct frames among digests: the readable ones, each
// content once (a duplicate file is the same frame).
func DistinctFrames(digests []FileDigest) int {
	seen := make(map[string]bool, len(digests))
	for _, d := range digests {
		if !strings.HasPrefix(d.Digest, UnreadableDigest) {
			seen[d.Digest] = true
		}
	}
	return len(seen)
}
