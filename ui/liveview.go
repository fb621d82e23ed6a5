package ui

import (
	"image"
	"image/color"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/widget"

	"github.com/phytoscreen/phytoscreen/screening"
)

// overlayBox is one outlined object as the live view draws it.
type overlayBox struct {
	Box   image.Rectangle // frame pixels
	Color color.NRGBA
	Text  string // "" draws no label
	New   bool   // first sighting: drawn thicker
}

// liveView shows the current frame with every found cell outlined and labelled in its
// taxon's colour. Its objects are a pool reused from frame to frame: SetFrame changes
// positions, colours and texts and refreshes once, never per object.
type liveView struct {
	widget.BaseWidget

	img        *canvas.Image
	bg         *canvas.Rectangle
	hint       *canvas.Text
	hint2      *canvas.Text
	boxes      []*canvas.Rectangle
	chips      []*canvas.Rectangle
	texts      []*canvas.Text
	frameSize  image.Point
	overlays   []overlayBox
	shown      int // overlays in use
	hasFrame   bool
	objectsMax int
}

// maxOverlays caps the outlines drawn per frame: past that a frame is debris, and the
// counts are what matter; the status line says how many were found.
const maxOverlays = 400

// newLiveView returns an empty view showing hint until the first frame.
func newLiveView(hint, hint2 string) *liveView {
	v := &liveView{objectsMax: maxOverlays}
	v.bg = canvas.NewRectangle(color.NRGBA{0x1b, 0x1f, 0x23, 0xff})
	v.img = canvas.NewImageFromImage(image.NewRGBA(image.Rect(0, 0, 1, 1)))
	v.img.FillMode = canvas.ImageFillContain
	v.img.ScaleMode = canvas.ImageScaleSmooth
	v.img.Hide()
	v.hint = canvas.NewText(hint, color.NRGBA{0xe0, 0xe0, 0xe0, 0xff})
	v.hint.TextSize = 20
	v.hint.Alignment = fyne.TextAlignCenter
	v.hint.TextStyle.Bold = true
	v.hint2 = canvas.NewText(hint2, color.NRGBA{0xb0, 0xb0, 0xb0, 0xff})
	v.hint2.TextSize = 14
	v.hint2.Alignment = fyne.TextAlignCenter
	v.ExtendBaseWidget(v)
	return v
}

// SetHint changes the text shown while there is no frame.
func (v *liveView) SetHint(hint, hint2 string) {
	v.hint.Text, v.hint2.Text = hint, hint2
	if !v.hasFrame {
		v.hint.Refresh()
		v.hint2.Refresh()
	}
}

// Clear removes the frame and shows the hint again.
func (v *liveView) Clear() {
	v.hasFrame = false
	v.overlays = v.overlays[:0]
	v.Refresh()
}

// SetFrame shows img (a frame reduced by scale) with the overlays, in frame pixels.
// Call it on the UI goroutine, once per displayed frame. img must stay unchanged until
// the next SetFrame (frameBuffer guarantees it).
func (v *liveView) SetFrame(img *image.RGBA, frameSize image.Point, overlays []overlayBox) {
	v.img.Image = img
	v.frameSize = frameSize
	v.overlays = append(v.overlays[:0], overlays...)
	v.hasFrame = true
	v.Refresh()
}

// SetOverlays relabels the frame shown (its cells classified since it was shown).
// UI goroutine only.
func (v *liveView) SetOverlays(overlays []overlayBox) {
	v.overlays = append(v.overlays[:0], overlays...)
	v.Refresh()
}

// Overlays returns the overlays of the frame shown (for tests and the status line).
func (v *liveView) Overlays() []overlayBox { return v.overlays }

// CreateRenderer implements fyne.Widget.
func (v *liveView) CreateRenderer() fyne.WidgetRenderer {
	return &liveRenderer{v: v}
}

type liveRenderer struct {
	v    *liveView
	objs []fyne.CanvasObject
}

func (r *liveRenderer) Destroy() {}

// MinSize lets the frame shrink to a strip: the window's least height was 752 px, more
// than a 1366x768 laptop leaves under its panel and title bar, so its status line and
// the counts' last rows fell off the screen (helper-67). The frame grows with the window.
func (r *liveRenderer) MinSize() fyne.Size { return fyne.NewSize(320, 84) }

// imageRect is where the contained image lies in the widget: scale and offset.
func (r *liveRenderer) imageRect(size fyne.Size) (scale float32, off fyne.Position) {
	fs := r.v.frameSize
	if fs.X <= 0 || fs.Y <= 0 {
		return 0, fyne.Position{}
	}
	sx, sy := size.Width/float32(fs.X), size.Height/float32(fs.Y)
	scale = min(sx, sy)
	off = fyne.NewPos((size.Width-float32(fs.X)*scale)/2, (size.Height-float32(fs.Y)*scale)/2)
	return scale, off
}

func (r *liveRenderer) Layout(size fyne.Size) {
	v := r.v
	v.bg.Resize(size)
	v.img.Move(fyne.Position{})
	v.img.Resize(size)
	th := v.hint.MinSize()
	v.hint.Move(fyne.NewPos(0, size.Height/2-th.Height))
	v.hint.Resize(fyne.NewSize(size.Width, th.Height))
	v.hint2.Move(fyne.NewPos(0, size.Height/2+4))
	v.hint2.Resize(fyne.NewSize(size.Width, v.hint2.MinSize().Height))

	scale, off := r.imageRect(size)
	n := min(len(v.overlays), v.objectsMax)
	r.ensure(n)
	var placed []labelRect // the labels laid out so far, which a label must not cover
	for i := range n {
		o := v.overlays[i]
		x0 := off.X + float32(o.Box.Min.X)*scale
		y0 := off.Y + float32(o.Box.Min.Y)*scale
		w := float32(o.Box.Dx()) * scale
		h := float32(o.Box.Dy()) * scale
		// Outline a little outside the cell so the line does not hide its edge.
		const pad = 3
		b := v.boxes[i]
		b.StrokeColor = o.Color
		b.StrokeWidth = 1.5
		if o.New {
			b.StrokeWidth = 2.5
		}
		b.Move(fyne.NewPos(x0-pad, y0-pad))
		b.Resize(fyne.NewSize(w+2*pad, h+2*pad))
		b.Show()
		t, chip := v.texts[i], v.chips[i]
		if o.Text == "" {
			t.Hide()
			chip.Hide()
			continue
		}
		t.Text = o.Text
		t.Color = textOn(o.Color)
		ts := t.MinSize()
		at, ok := placeLabel(fyne.NewPos(x0-pad, y0-pad), fyne.NewSize(w+2*pad, h+2*pad), fyne.NewSize(ts.Width+6, ts.Height), placed, size)
		if !ok { // every place would cover another label: the outline alone
			t.Hide()
			chip.Hide()
			continue
		}
		placed = append(placed, labelRect{at, fyne.NewSize(ts.Width+6, ts.Height)})
		cx, cy := at.X, at.Y
		chip.FillColor = withAlpha(o.Color, 0xe0)
		chip.Move(fyne.NewPos(cx, cy))
		chip.Resize(fyne.NewSize(ts.Width+6, ts.Height))
		t.Move(fyne.NewPos(cx+3, cy))
		t.Resize(ts)
		chip.Show()
		t.Show()
	}
	for i := n; i < len(v.boxes); i++ {
		v.boxes[i].Hide()
		v.chips[i].Hide()
		v.texts[i].Hide()
	}
	v.shown = n
}

// labelRect is where a label's chip lies in the view.
type labelRect struct {
	pos  fyne.Position
	size fyne.Size
}

func (a labelRect) overlaps(b labelRect) bool {
	return a.pos.X < b.pos.X+b.size.Width && b.pos.X < a.pos.X+a.size.Width &&
		a.pos.Y < b.pos.Y+b.size.Height && b.pos.Y < a.pos.Y+a.size.Height
}

// placeLabel finds where the label of an outline at box (its top-left and size) goes in
// a view of size bounds: above the outline, else below it, else inside its top edge,
// the first place that covers no label already placed; ok is false when each would.
// Two cells side by side put one label over the other, unreadable (helper-54).
func placeLabel(box fyne.Position, boxSize, label fyne.Size, placed []labelRect, bounds fyne.Size) (fyne.Position, bool) {
	x := min(box.X, bounds.Width-label.Width)
	candidates := []float32{box.Y - label.Height - 2, box.Y + boxSize.Height + 2, max(box.Y, 0)}
	for _, y := range candidates {
		if y < 0 || y+label.Height > bounds.Height {
			continue
		}
		r := labelRect{fyne.NewPos(x, y), label}
		if !slices.ContainsFunc(placed, r.overlaps) {
			return r.pos, true
		}
	}
	return fyne.Position{}, false
}

// ensure grows the pools to n objects; pooled objects are reused, never freed.
func (r *liveRenderer) ensure(n int) {
	v := r.v
	for len(v.boxes) < n {
		b := canvas.NewRectangle(color.Transparent)
		b.StrokeWidth = 2
		chip := canvas.NewRectangle(color.Transparent)
		chip.CornerRadius = 3
		t := canvas.NewText("", color.White)
		t.TextSize = 11
		t.TextStyle.Bold = true
		v.boxes = append(v.boxes, b)
		v.chips = append(v.chips, chip)
		v.texts = append(v.texts, t)
	}
}

func (r *liveRenderer) Objects() []fyne.CanvasObject {
	v := r.v
	r.objs = append(r.objs[:0], v.bg, v.img, v.hint, v.hint2)
	for _, b := range v.boxes {
		r.objs = append(r.objs, b)
	}
	for i := range v.chips {
		r.objs = append(r.objs, v.chips[i], v.texts[i])
	}
	return r.objs
}

func (r *liveRenderer) Refresh() {
	v := r.v
	if v.hasFrame {
		v.img.Show()
		v.hint.Hide()
		v.hint2.Hide()
	} else {
		v.img.Hide()
		v.hint.Show()
		v.hint2.Show()
		v.overlays = v.overlays[:0]
	}
	r.Layout(v.Size())
	// One refresh for the whole view: the image's texture is uploaded again and the
	// canvas redraws the outlines and labels where Layout put them.
	v.img.Refresh()
	canvas.Refresh(v)
}

// overlaysFor turns the frame's objects and the run's classifications into outlines:
// the pipeline's view of the same frame when it has one (labels that arrived after the
// frame was segmented included), else the frame's own boxes, labelled by track.
func overlaysFor(vf *viewFrame, fv screening.FrameView, tx *screening.Taxonomy, dst []overlayBox) []overlayBox {
	dst = dst[:0]
	if fv.Index == vf.Index && fv.Source == vf.Source && len(fv.Objects) > 0 {
		for _, o := range fv.Objects {
			dst = append(dst, overlayOf(o, tx))
		}
		return dst
	}
	byTrack := make(map[int]screening.Overlay, len(fv.Objects))
	for _, o := range fv.Objects {
		byTrack[o.Track] = o
	}
	for _, obj := range vf.Objects {
		o, ok := byTrack[obj.Track]
		if !ok || obj.Track < 0 {
			o = screening.Overlay{State: screening.StatePending}
		}
		o.Box, o.Track, o.New = obj.Box, obj.Track, obj.New
		dst = append(dst, overlayOf(o, tx))
	}
	return dst
}

// overlayOf is an object's outline: its taxon's colour and a short label.
func overlayOf(o screening.Overlay, tx *screening.Taxonomy) overlayBox {
	ob := overlayBox{Box: o.Box, New: o.New}
	switch o.State {
	case screening.StateIdentified:
		group := ""
		if tx != nil {
			if x, ok := tx.Lookup(o.Label); ok {
				group = x.Group
			}
		}
		ob.Color = taxonColor(o.Label, group)
		name := o.Name
		if name == "" {
			name = o.Label
		}
		ob.Text = shortName(name, 22) + " " + probText(float64(o.Prob))
	case screening.StateUnidentified:
		ob.Color = colorUnidentified
		ob.Text = "? " + probText(float64(o.Prob))
	case screening.StateFailed:
		ob.Color = colorFailed
		ob.Text = "failed"
	default:
		ob.Color = colorPending
	}
	return ob
}

// shortName trims a display name to n runes.
func shortName(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
