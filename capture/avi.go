package capture

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/jpeg"
	"io"
	"os"
)

// mjpegSizesVary reports whether the video frames of an AVI file are JPEGs of more than
// one size: a recorder or a camera that changed resolution mid-stream. FFmpeg, through
// OpenCV 4.6, converts every frame with a scaler set up for the first frame's size; a
// frame of another size fails there ("Slice parameters ... are invalid") and OpenCV hands
// back the previous frame again, so its cells are never seen. OpenCV's own MJPEG reader
// decodes each frame at its own size. The walk reads each frame chunk's header and the
// start of its JPEG, not the pixels: milliseconds for thousands of frames. A file that is
// not an AVI, or whose frames are not JPEGs, gives false.
func mjpegSizesVary(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false
	}
	w := aviWalk{r: f, first: image.Pt(-1, -1)}
	// OpenDML files (over 1 GB) go on in further RIFF AVIX chunks, each with its movi list.
	for off := int64(0); off+12 <= st.Size() && !w.varies; {
		id, size, ok := w.header(off)
		if !ok || id != "RIFF" {
			break
		}
		w.list(off+12, min(off+8+size, st.Size()))
		off += 8 + size + size&1
	}
	return w.varies
}

// aviWalk walks the chunks of an AVI file and notes the size of each JPEG frame.
type aviWalk struct {
	r      io.ReaderAt
	first  image.Point // the first frame's size; (-1, -1) before it
	varies bool
}

// header reads the chunk header (four-character id, size) at off.
func (w *aviWalk) header(off int64) (string, int64, bool) {
	var h [8]byte
	if _, err := w.r.ReadAt(h[:], off); err != nil {
		return "", 0, false
	}
	return string(h[:4]), int64(binary.LittleEndian.Uint32(h[4:])), true
}

// list walks the chunks from off to end: LIST movi and rec lists are entered, video
// frame chunks (##dc, ##db) sized, anything else skipped.
func (w *aviWalk) list(off, end int64) {
	for off+8 <= end && !w.varies {
		id, size, ok := w.header(off)
		if !ok {
			return
		}
		switch {
		case id == "LIST":
			var kind [4]byte
			if _, err := w.r.ReadAt(kind[:], off+8); err != nil {
				return
			}
			if k := string(kind[:]); k == "movi" || k == "rec " {
				w.list(off+12, min(off+8+size, end))
			}
		case len(id) == 4 && (id[2:] == "dc" || id[2:] == "db") && size > 0:
			w.frame(off+8, size)
		}
		off += 8 + size + size&1
	}
}

// frame notes the size of the JPEG at off: its start-of-frame marker is within the first
// hundreds of bytes (after the quantisation and Huffman tables), else within 64 KB.
func (w *aviWalk) frame(off, size int64) {
	for _, n := range []int64{1 << 10, 64 << 10} {
		buf := make([]byte, min(n, size))
		k, _ := w.r.ReadAt(buf, off)
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(buf[:k]))
		if err != nil {
			if n >= size {
				return
			}
			continue
		}
		p := image.Pt(cfg.Width, cfg.Height)
		if w.first.X < 0 {
			w.first = p
		} else if p != w.first {
			w.varies = true
		}
		return
	}
}
