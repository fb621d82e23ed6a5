package ui

import (
	"image"
	"image/color"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// Labels of cells side by side do not cover one another: the second goes below its
// outline, the third inside its top edge or, with no free place, as its outline alone (helper-54: "Not a
// cyanobacterium 62%" over "Microcystis 89%" on the real Microcystis folder).
func TestOverlayLabelsDoNotOverlap(t *testing.T) {
	test.NewTempApp(t)
	v := newLiveView("", "")
	v.Resize(fyne.NewSize(640, 480))
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	v.SetFrame(img, image.Pt(640, 480), []overlayBox{
		{Box: image.Rect(100, 100, 140, 140), Text: "Microcystis 89%", Color: color.NRGBA{0, 0x99, 0xcc, 0xff}},
		{Box: image.Rect(110, 95, 150, 135), Text: "Not a cyanobacterium 62%", Color: color.NRGBA{0xcc, 0, 0x66, 0xff}},
		{Box: image.Rect(105, 98, 145, 138), Text: "Microcystis 73%", Color: color.NRGBA{0, 0x99, 0xcc, 0xff}},
		{Box: image.Rect(400, 300, 440, 340), Text: "Anabaena 91%", Color: color.NRGBA{0x80, 0x40, 0, 0xff}},
	})
	var shown []labelRect
	for i := range v.shown {
		if !v.chips[i].Visible() {
			continue
		}
		r := labelRect{v.chips[i].Position(), v.chips[i].Size()}
		for _, o := range shown {
			if r.overlaps(o) {
				t.Errorf("label %q at %v covers another at %v", v.texts[i].Text, r, o)
			}
		}
		shown = append(shown, r)
	}
	if !v.chips[0].Visible() || !v.chips[1].Visible() || !v.chips[3].Visible() {
		t.Errorf("%d labels shown; want at least the first two (above and below) and the lone cell's", len(shown))
	}
	if v.chips[1].Position().Y <= float32(135) {
		t.Errorf("the second label at y %v, want below its outline (ends at 135)", v.chips[1].Position().Y)
	}
}
