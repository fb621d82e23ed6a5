package ui

import (
	"fmt"
	"image"
	"sync"

	"github.com/phytoscreen/phytoscreen/vision"

	"gocv.io/x/gocv"

	"github.com/phytoscreen/phytoscreen/capture"
)

// maxViewWidth is the widest image the live view keeps: larger frames are reduced by a
// whole factor while they are converted (a 1920-pixel frame by 2), which is as sharp as a
// half-screen view can show and halves the copying and the texture upload.
const maxViewWidth = 1280

// viewFrame is a converted frame for the live view: an RGBA image and what the segmenter
// found on it, in frame pixels.
type viewFrame struct {
	Img     *image.RGBA
	Index   int
	Source  string
	Size    image.Point // the frame's size before reduction
	Scale   int         // reduction factor: frame pixel = view pixel x Scale
	Objects []vision.Object
}

// frameBuffer hands frames from the segmentation goroutine to the UI without allocating
// per frame and without either side waiting. Four RGBA buffers rotate: the writer fills
// its own, publishes it as ready (swapping with a ready frame nobody took), the bridge
// takes the ready one for the UI (in flight), and the UI says when it is on screen. A
// buffer returns to the writer only after the UI has put another on screen, so the
// writer never touches pixels the UI may still draw.
type frameBuffer struct {
	maxW int
	back *viewFrame // the writer's; only the writer's goroutine touches it

	mu       sync.Mutex
	ready    *viewFrame // latest complete frame, not yet taken; nil when taken
	inflight *viewFrame // taken, on its way to the UI
	onscreen *viewFrame // shown by the UI now
	free     []*viewFrame
	written  int // frames converted, for the view's frame rate
}

// newFrameBuffer returns a buffer that reduces frames wider than maxW (0: maxViewWidth).
func newFrameBuffer(maxW int) *frameBuffer {
	if maxW <= 0 {
		maxW = maxViewWidth
	}
	return &frameBuffer{maxW: maxW, back: &viewFrame{}, free: []*viewFrame{{}, {}, {}}}
}

// Put converts a frame into the writer's buffer and publishes it. It is called from the
// pipeline's segmentation goroutine (screening.Config.OnFrame) before the Mat is closed;
// objs are copied without their crops.
func (b *frameBuffer) Put(f capture.Frame, objs []vision.Object) error {
	vf := b.back
	if err := convertMat(vf, f.Mat, b.maxW); err != nil {
		return fmt.Errorf("frame %d of %s: %w", f.Index, f.Source, err)
	}
	vf.Index, vf.Source = f.Index, f.Source
	vf.Objects = vf.Objects[:0]
	for _, o := range objs {
		o.Crop = nil // the view needs boxes only; do not keep crops alive
		vf.Objects = append(vf.Objects, o)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.written++
	if b.ready != nil { // the last frame was not taken: reuse it
		b.ready, b.back = vf, b.ready
		return nil
	}
	b.ready = vf
	if n := len(b.free); n > 0 {
		b.back, b.free = b.free[n-1], b.free[:n-1]
	} else {
		b.back = &viewFrame{} // cannot happen with four buffers; never block the pipeline
	}
	return nil
}

// Take returns the latest frame for the UI, or nil when there is none new or the last
// one taken is not on screen yet. The frame is the caller's until it passes it to Shown.
func (b *frameBuffer) Take() *viewFrame {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ready == nil || b.inflight != nil {
		return nil
	}
	b.inflight, b.ready = b.ready, nil
	return b.inflight
}

// Shown tells the buffer that the UI now shows f (taken with Take), so the frame shown
// before can be written again. Call it on the UI goroutine after the view took f; a frame
// the UI dropped is passed too.
func (b *frameBuffer) Shown(f *viewFrame) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if f == nil || f != b.inflight {
		return
	}
	if b.onscreen != nil {
		b.free = append(b.free, b.onscreen)
	}
	b.onscreen, b.inflight = f, nil
}

// OnScreen returns the frame the UI shows now (nil before the first). Once the writer
// has stopped (the run ended) nothing changes it but the UI's next Shown.
func (b *frameBuffer) OnScreen() *viewFrame {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.onscreen
}

// Written returns how many frames have been converted.
func (b *frameBuffer) Written() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.written
}

// convertMat writes an 8-bit gray, BGR or BGRA Mat into vf.Img (reused when its size
// fits), reduced by the smallest whole factor that brings it to maxW or less.
func convertMat(vf *viewFrame, m gocv.Mat, maxW int) error {
	if m.Empty() {
		return fmt.Errorf("empty frame")
	}
	w, h, ch := m.Cols(), m.Rows(), m.Channels()
	if m.Type()&7 != gocv.MatTypeCV8U&7 || (ch != 1 && ch != 3 && ch != 4) {
		return fmt.Errorf("frame type %v with %d channels: the live view shows 8-bit gray, BGR or BGRA", m.Type(), ch)
	}
	if !m.IsContinuous() {
		return fmt.Errorf("frame Mat is not continuous")
	}
	src, err := m.DataPtrUint8()
	if err != nil {
		return fmt.Errorf("frame pixels: %w", err)
	}
	return convertPixels(vf, src, w, h, ch, maxW)
}

// convertPixels is convertMat on a raw pixel buffer (rows of w*ch bytes).
func convertPixels(vf *viewFrame, src []uint8, w, h, ch, maxW int) error {
	if len(src) < w*h*ch {
		return fmt.Errorf("frame buffer holds %d bytes, want %d", len(src), w*h*ch)
	}
	step := 1
	for w/step > maxW {
		step++
	}
	ow, oh := w/step, h/step
	if vf.Img == nil || vf.Img.Rect.Dx() != ow || vf.Img.Rect.Dy() != oh {
		vf.Img = image.NewRGBA(image.Rect(0, 0, ow, oh))
	}
	vf.Size, vf.Scale = image.Pt(w, h), step
	dst := vf.Img.Pix
	stride := w * ch
	for y := 0; y < oh; y++ {
		row := src[y*step*stride : y*step*stride+stride]
		out := dst[y*vf.Img.Stride : y*vf.Img.Stride+ow*4]
		switch ch {
		case 1:
			for x := 0; x < ow; x++ {
				g := row[x*step]
				o := out[x*4 : x*4+4 : x*4+4]
				o[0], o[1], o[2], o[3] = g, g, g, 0xff
			}
		case 3:
			for x := 0; x < ow; x++ {
				i := x * step * 3
				p := row[i : i+3 : i+3]
				o := out[x*4 : x*4+4 : x*4+4]
				o[0], o[1], o[2], o[3] = p[2], p[1], p[0], 0xff
			}
		case 4:
			for x := 0; x < ow; x++ {
				i := x * step * 4
				p := row[i : i+4 : i+4]
				o := out[x*4 : x*4+4 : x*4+4]
				o[0], o[1], o[2], o[3] = p[2], p[1], p[0], 0xff
			}
		}
	}
	return nil
}
