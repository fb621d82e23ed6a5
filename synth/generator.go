// Package synth composes synthetic microscope frames of known content. The brightfield
// look (the default) places real single-cell images at random non-overlapping positions
// on a brightfield background with vignetting, an illumination tilt, slight optical blur
// and sensor noise, each blended by multiplication (the crop is a transmission map, so its
// white surround vanishes into the field). Two more looks draw most objects procedurally
// (see phase.go and colour.go): LookPhase, a dense phase-contrast field of a net sample
// (dark cores with bright halos, debris and debris clouds, faint pennate needles,
// filaments, chains and colonies) and LookColour, a colour brightfield frame with the
// chromatic vignette of the bench camera and green cells and colonies. Slides (slide.go)
// are still fields seen over several frames, with stage moves, drift and focus changes;
// bad.go makes frames no segmenter should choke on.
//
// Every frame comes with its ground truth: the box, label, kind and identity of every
// object. It writes still frames (PNG or JPEG) and MJPG videos whose field stays still for
// several frames and then moves to new cells, and it is seeded, so the same options give
// the same output.
package synth

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/disintegration/imaging"
	"github.com/phytoscreen/phytoscreen/imagefile"
)

// Count asks for N cells of one class in every field.
type Count struct {
	Label string
	N     int
}

// ParseMix parses a class mix such as "protist_noctiluca=3,diatom_chain_tube=2".
func ParseMix(s string) ([]Count, error) {
	var mix []Count
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		label, n, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("mix %q: want LABEL=COUNT, e.g. protist_noctiluca=3", part)
		}
		k, err := strconv.Atoi(strings.TrimSpace(n))
		if err != nil || k < 0 {
			return nil, fmt.Errorf("mix %q: count must be a whole number >= 0", part)
		}
		mix = append(mix, Count{Label: strings.TrimSpace(label), N: k})
	}
	return mix, nil
}

// Options set what the generator draws. The zero value of a field means its default.
type Options struct {
	Width, Height int     // frame size in pixels (default 1280x960)
	Cells         int     // cells per field drawn at random from the classes not in Mix (default 12; -1 for none)
	Mix           []Count // cells of chosen classes in every field, on top of Cells
	Scale         float64 // size factor applied to every crop (default 1)
	Gap           int     // least distance between two crops' frames, px (default 16)
	Margin        int     // least distance between a crop and the frame edge, px (default 8)
	Light         float64 // background gray level at the centre of the field, 0..255 (default 215)
	Vignette      float64 // fraction of light lost in the corners (default 0.40; -1 for none)
	Tilt          float64 // left-to-right illumination gradient, fraction (default 0.06; -1 for none)
	Noise         float64 // sensor noise standard deviation at full light, gray levels (default 2.5; -1 for none)
	Blur          float64 // optical blur, Gaussian sigma in px (default 0.8; -1 for none)
	Flicker       float64 // frame-to-frame lamp/exposure variation, fraction (default 0.01; -1 for none)
	NoOrient      bool    // keep crops as they are instead of random flips and quarter turns
	Seed          uint64  // random seed: the same seed and options give the same frames

	// Look is what the frames look like: LookBright (the default: NDSB crops on a
	// brightfield background), LookPhase (dense phase-contrast fields, mostly procedural
	// objects, monochrome) or LookColour (colour brightfield with a chromatic vignette and
	// green cells, colonies and filaments among the grey NDSB crops). The defaults of
	// Width, Height, Light, Vignette, Tilt, Noise and Blur depend on the look (look.go);
	// the brightfield look's are unchanged. Mix adds its classes to every field in every
	// look.
	Look    Look
	Density float64 // LookPhase: factor on the number of objects per area (default 1: about 170 objects, at most 200, on 2584x1936; Cells is not used)
	Halo    float64 // LookPhase: width of the bright halo, Gaussian sigma in px (default 2.5)
	Green   int     // LookColour: green/olive procedural objects per field on top of Cells (default 8; -1 for none)
}

func (o *Options) setDefaults() {
	def := func(v *float64, d float64) {
		switch {
		case *v == 0:
			*v = d
		case *v < 0:
			*v = 0
		}
	}
	switch o.Look {
	case LookPhase:
		o.setPhaseDefaults()
	case LookColour:
		o.setColourDefaults()
	}
	if o.Width == 0 {
		o.Width = 1280
	}
	if o.Height == 0 {
		o.Height = 960
	}
	switch {
	case o.Cells == 0:
		o.Cells = 12
	case o.Cells < 0:
		o.Cells = 0
	}
	if o.Scale == 0 {
		o.Scale = 1
	}
	if o.Gap == 0 {
		o.Gap = 16
	}
	if o.Margin == 0 {
		o.Margin = 8
	}
	def(&o.Light, 215)
	def(&o.Vignette, 0.40)
	def(&o.Tilt, 0.06)
	def(&o.Noise, 2.5)
	def(&o.Blur, 0.8)
	def(&o.Flicker, 0.01)
}

// ErrFieldFull is returned when the cells asked for do not fit on a frame without
// overlapping.
var ErrFieldFull = errors.New("cells do not fit on the frame without overlapping")

// Box is a cell's bounding box in frame pixels.
type Box struct {
	X int `json:"x"`
	Y int `json:"y"`
	W int `json:"w"`
	H int `json:"h"`
}

// Rect returns the box as an image.Rectangle.
func (b Box) Rect() image.Rectangle { return image.Rect(b.X, b.Y, b.X+b.W, b.Y+b.H) }

func boxOf(r image.Rectangle) Box { return Box{r.Min.X, r.Min.Y, r.Dx(), r.Dy()} }

// Cell is one placed object (a cell, or in the newer looks also a colony, filament,
// chain or debris particle): its identity (the same on every frame of its field, and on
// every field of a slide that sees it), class, source image and tight box. The fields
// after Box are empty for the brightfield look, whose every object is one NDSB crop
// (kind cell), so its files read as they always did.
type Cell struct {
	ID     int    `json:"id"`
	Label  string `json:"label"`
	Sample string `json:"sample"` // path in the sample library ("" for a procedural object)
	Field  int    `json:"field"`
	Box    Box    `json:"box"`

	Kind   Kind   `json:"kind,omitempty"`   // cell, colony, filament, chain or debris ("" = cell)
	NCells int    `json:"ncells,omitempty"` // true number of cells of a colony, filament or chain (of a filament: those whose centre is in the frame)
	Group  int    `json:"group,omitempty"`  // debris cloud (1, 2, ... per field) the particle belongs to; each particle is its own object
	Border bool   `json:"border,omitempty"` // the object is cut by (or touches) the frame edge; its box is the visible part
	Colour string `json:"colour,omitempty"` // LookColour: grey, green or olive
}

// Kind is what sort of object a truth entry is, in the words of the real frames'
// annotation protocol (docs/annotation-protocol.md).
type Kind string

// The kinds of object.
const (
	KindCell     Kind = "cell"     // one cell (an NDSB organism, a round cell, a pennate needle)
	KindColony   Kind = "colony"   // many small cells in one cluster, with gaps: one object
	KindFilament Kind = "filament" // one trichome, end to end
	KindChain    Kind = "chain"    // cells joined end to end, still recognisable one by one
	KindDebris   Kind = "debris"   // a non-living particle
)

// KindOf returns a truth entry's kind, reading "" (the brightfield look's NDSB crops) as
// a cell.
func (c Cell) KindOf() Kind {
	if c.Kind == "" {
		return KindCell
	}
	return c.Kind
}

// Field is one view of the slide: cells at fixed positions. Frames rendered from it differ
// only by sensor noise and lamp flicker. A field may be larger than a frame
// (NewFieldSize): frames are then windows on it, for a stage that pans or a flow cell.
type Field struct {
	Index int
	Cells []Cell // boxes in field pixels
	W, H  int
	trans []float32    // light transmitted at each pixel, 0..1, already blurred (LookPhase: the phase image's modulation, above 1 in halos)
	rgb   [3][]float32 // LookColour: transmission of R, G and B, already blurred (trans is nil)
	raw   []float32    // the transmission before the blur, kept for slides whose focus changes
}

// CellsIn returns the cells visible through a window of the field, their boxes moved to
// window pixels and clipped to it (a clipped one is marked Border).
func (f *Field) CellsIn(win image.Rectangle) []Cell {
	var out []Cell
	for _, c := range f.Cells {
		full := c.Box.Rect()
		r := full.Intersect(win)
		if r.Empty() {
			continue
		}
		if r != full {
			c.Border = true // cut by the window's edge
		}
		c.Box = boxOf(r.Sub(win.Min))
		out = append(out, c)
	}
	return out
}

// Generator draws fields and frames. It is not safe for concurrent use.
type Generator struct {
	lib      *Library
	opt      Options
	rng      *rand.Rand
	illum    []float32 // background light at each pixel
	mixSet   map[string]bool
	fill     []int // samples the random cells are drawn from
	nextID   int
	nextFld  int
	kernel   []float32
	scratch  []float32
	tint     [3]float64 // B, G, R gains of the camera's colour cast
	noiseVar [2]float64 // read-noise variance, and variance per unit of light

	illumRGB [3][]float32    // LookColour: background light of R, G and B at each pixel (illum is nil)
	region   image.Rectangle // where NewFieldSize places crops, in field pixels (empty: the whole field)
	keepRaw  bool            // keep each field's unblurred transmission (slides with focus changes)
	canvas   *canvas         // procedural drawing (LookPhase, LookColour)
	phaseK   []float32       // LookPhase: halo kernel
	cellPool []int           // LookPhase, LookColour: the NDSB samples drawn as single organisms
	bufs     [][]float32     // scratch maps
	sdTab    []float32       // noise standard deviation by light level (newer looks)
}

// New checks the options against the library and prepares the background.
func New(lib *Library, opt Options) (*Generator, error) {
	opt.setDefaults()
	if opt.Width < 64 || opt.Height < 64 || opt.Width*opt.Height > 40_000_000 {
		return nil, fmt.Errorf("frame size %dx%d: want at least 64x64 and at most 40 Mpx", opt.Width, opt.Height)
	}
	if opt.Scale < 0.1 || opt.Scale > 10 {
		return nil, fmt.Errorf("scale %g: want 0.1 to 10", opt.Scale)
	}
	if opt.Light < 20 || opt.Light > 250 {
		return nil, fmt.Errorf("light %g: want a gray level from 20 to 250", opt.Light)
	}
	if opt.Gap < 0 {
		return nil, fmt.Errorf("gap %d: want the least distance between two crops, 0 px or more", opt.Gap)
	}
	if opt.Vignette >= 0.95 || opt.Tilt >= 0.5 {
		return nil, fmt.Errorf("vignette %g / tilt %g: want vignette below 0.95 and tilt below 0.5", opt.Vignette, opt.Tilt)
	}
	g := &Generator{lib: lib, opt: opt, rng: rand.New(rand.NewPCG(opt.Seed, 0x9e3779b97f4a7c15)), mixSet: map[string]bool{}}
	for _, c := range opt.Mix {
		if lib.Count(c.Label) == 0 {
			return nil, fmt.Errorf("mix: no sample of class %q in the library (%s)", c.Label, suggest(c.Label, lib.Labels()))
		}
		g.mixSet[c.Label] = true
	}
	for i, s := range lib.samples {
		if !g.mixSet[s.Label] {
			g.fill = append(g.fill, i)
		}
	}
	if opt.Cells > 0 && len(g.fill) == 0 {
		return nil, fmt.Errorf("no class is left for the %d random cells: the mix names every class; set cells to -1", opt.Cells)
	}
	g.tint = [3]float64{1.0, 0.95, 0.97}
	read := 0.6 * opt.Noise
	g.noiseVar = [2]float64{read * read, (opt.Noise*opt.Noise - read*read) / opt.Light}
	g.kernel = gaussKernel(opt.Blur)
	var err error
	switch opt.Look {
	case LookBright:
	case LookPhase:
		err = g.initPhase()
	case LookColour:
		err = g.initColour()
	default:
		err = fmt.Errorf("look %q: want %s, %s or %s", opt.Look, LookBright, LookPhase, LookColour)
	}
	if err != nil {
		return nil, err
	}
	if opt.Look != LookBright {
		return g, nil
	}
	g.illum = make([]float32, opt.Width*opt.Height)
	w, h := float64(opt.Width), float64(opt.Height)
	cx, cy, r2max := w/2, h/2, (w*w+h*h)/4
	for y := 0; y < opt.Height; y++ {
		for x := 0; x < opt.Width; x++ {
			dx, dy := float64(x)+0.5-cx, float64(y)+0.5-cy
			v := opt.Light * (1 - opt.Vignette*(dx*dx+dy*dy)/r2max) * (1 + opt.Tilt*((float64(x)+0.5)/w-0.5))
			g.illum[y*opt.Width+x] = float32(v)
		}
	}
	return g, nil
}

// Options returns the options in effect, defaults filled in.
func (g *Generator) Options() Options { return g.opt }

// suggest names labels close to an unknown one, to help fix a typo.
func suggest(label string, labels []string) string {
	var near []string
	key := strings.SplitN(label, "_", 2)[0]
	for _, l := range labels {
		if strings.Contains(l, label) || strings.HasPrefix(l, key) {
			near = append(near, l)
		}
	}
	if len(near) == 0 {
		return "run 'phytoscreen synth --labels' for the class names"
	}
	if len(near) > 6 {
		near = near[:6]
	}
	return "did you mean " + strings.Join(near, ", ") + "?"
}

// placed is a crop ready to be drawn: oriented and scaled.
type placed struct {
	sample int
	img    *image.Gray
	at     image.Point
}

// NewField draws the next field, the size of a frame: in the brightfield look the Mix
// cells and Cells random cells at random non-overlapping positions; in the phase and
// colour looks the objects those looks draw (phase.go, colour.go).
func (g *Generator) NewField() (*Field, error) {
	switch g.opt.Look {
	case LookPhase:
		return g.newPhaseField()
	case LookColour:
		return g.newColourField()
	}
	return g.NewFieldSize(g.opt.Width, g.opt.Height)
}

// NewFieldSize draws a field of w x h pixels (at least a frame's size), with the Mix and
// Cells counts for the whole field. It draws brightfield fields only (the slides' and
// tracking tests' panning windows); the other looks' fields are a frame's size
// (NewField).
func (g *Generator) NewFieldSize(W, H int) (*Field, error) {
	if g.opt.Look != LookBright {
		return nil, fmt.Errorf("fields larger than a frame are drawn in the brightfield look only, not %s", g.opt.Look)
	}
	f, err := g.placeCrops(W, H)
	if err != nil {
		return nil, err
	}
	if g.keepRaw {
		f.raw = slices.Clone(f.trans)
	}
	g.blur(f.trans, W, H)
	return f, nil
}

// placeCrops draws a W x H field with the Mix and Cells crops multiplied into its
// transmission, not yet blurred. The crops go inside g.region when it is set (slides),
// else anywhere on the field, Margin from its edges.
func (g *Generator) placeCrops(W, H int) (*Field, error) {
	if W < g.opt.Width || H < g.opt.Height {
		return nil, fmt.Errorf("field %dx%d is smaller than the %dx%d frame", W, H, g.opt.Width, g.opt.Height)
	}
	area := image.Rect(0, 0, W, H)
	if !g.region.Empty() {
		area = g.region.Intersect(area)
	}
	var picks []int
	for _, c := range g.opt.Mix {
		picks = append(picks, g.draw(g.lib.byLabel[c.Label], c.N)...)
	}
	picks = append(picks, g.draw(g.fill, g.opt.Cells)...)
	crops := make([]placed, len(picks))
	for i, s := range picks {
		crops[i] = placed{sample: s, img: g.orient(g.lib.samples[s].Img)}
	}
	// Big crops first: they are the hard ones to fit.
	slices.SortStableFunc(crops, func(a, b placed) int {
		return b.img.Rect.Dx()*b.img.Rect.Dy() - a.img.Rect.Dx()*a.img.Rect.Dy()
	})
	m := g.opt.Margin
	AW, AH := area.Dx(), area.Dy()
	var taken []image.Rectangle
	for i := range crops {
		c := &crops[i]
		cw, ch := c.img.Rect.Dx(), c.img.Rect.Dy()
		if cw > AW-2*m || ch > AH-2*m {
			return nil, fmt.Errorf("%w: a %dx%d crop (%s) is larger than the %dx%d frame; use a smaller scale",
				ErrFieldFull, cw, ch, g.lib.samples[c.sample].Path, AW, AH)
		}
		ok := false
		for try := 0; try < 500 && !ok; try++ {
			r := image.Rect(0, 0, cw, ch).Add(image.Pt(area.Min.X+m+g.rng.IntN(AW-2*m-cw+1), area.Min.Y+m+g.rng.IntN(AH-2*m-ch+1)))
			ok = true
			for _, t := range taken {
				if r.Overlaps(t.Inset(-g.opt.Gap)) {
					ok = false
					break
				}
			}
			if ok {
				c.at = r.Min
				taken = append(taken, r)
			}
		}
		if !ok {
			return nil, fmt.Errorf("%w: placed %d of %d cells on %dx%d; ask for fewer cells, a smaller scale or a larger frame",
				ErrFieldFull, i, len(crops), AW, AH)
		}
	}
	f := &Field{Index: g.nextFld, W: W, H: H, trans: make([]float32, W*H)}
	g.nextFld++
	for i := range f.trans {
		f.trans[i] = 1
	}
	for _, c := range crops {
		b := c.img.Rect
		for y := 0; y < b.Dy(); y++ {
			src := c.img.Pix[y*c.img.Stride : y*c.img.Stride+b.Dx()]
			dst := f.trans[(c.at.Y+y)*W+c.at.X:]
			for x, v := range src {
				dst[x] *= float32(v) / 255
			}
		}
		obj, _ := visibleBox(c.img)
		s := g.lib.samples[c.sample]
		f.Cells = append(f.Cells, Cell{ID: g.nextID, Label: s.Label, Sample: s.Path, Field: f.Index, Box: boxOf(obj.Add(c.at))})
		g.nextID++
	}
	slices.SortFunc(f.Cells, func(a, b Cell) int { return a.ID - b.ID })
	return f, nil
}

// draw picks n sample indexes from pool: without repeats while the pool lasts, then again.
func (g *Generator) draw(pool []int, n int) []int {
	out := make([]int, 0, n)
	for len(out) < n {
		perm := g.rng.Perm(len(pool))
		for _, p := range perm {
			if len(out) == n {
				break
			}
			out = append(out, pool[p])
		}
	}
	return out
}

// orient scales a crop and gives it a random flip and quarter turn (the classifier was
// trained with both, and a cell on a slide lies any way round).
func (g *Generator) orient(src *image.Gray) *image.Gray {
	var img image.Image = src
	if g.opt.Scale != 1 {
		w := max(1, int(math.Round(float64(src.Rect.Dx())*g.opt.Scale)))
		h := max(1, int(math.Round(float64(src.Rect.Dy())*g.opt.Scale)))
		img = imaging.Resize(src, w, h, imaging.CatmullRom)
	}
	if !g.opt.NoOrient {
		turn, flip := g.rng.IntN(4), g.rng.IntN(2) == 1
		if flip {
			img = imaging.FlipH(img)
		}
		switch turn {
		case 1:
			img = imaging.Rotate90(img)
		case 2:
			img = imaging.Rotate180(img)
		case 3:
			img = imaging.Rotate270(img)
		}
	}
	if img == image.Image(src) {
		return src
	}
	return imagefile.ToGray(img)
}

// Render draws one frame of a field (its top-left window): the background light times
// the field's transmission, lamp flicker, then sensor noise (read noise plus shot noise)
// per colour channel, with the camera's slight colour cast.
func (g *Generator) Render(f *Field) *image.RGBA { return g.RenderAt(f, image.Point{}) }

// RenderAt draws the frame that sees the field from at (its top-left corner in field
// pixels). The illumination stays with the camera: the cells move under it.
func (g *Generator) RenderAt(f *Field, at image.Point) *image.RGBA {
	W, H := g.opt.Width, g.opt.Height
	if at.X < 0 || at.Y < 0 || at.X+W > f.W || at.Y+H > f.H {
		panic(fmt.Sprintf("synth: window at %v outside the %dx%d field", at, f.W, f.H))
	}
	flicker := 1 + g.opt.Flicker*g.rng.NormFloat64()
	switch {
	case f.rgb[0] != nil:
		return g.renderRGB(f, at, flicker)
	case g.opt.Look == LookPhase:
		return g.renderMono(f.trans, f.W, at, flicker)
	}
	return g.renderTrans(f.trans, f.W, at, flicker)
}

// renderTrans renders the window at `at` of a transmission map of the given stride: the
// brightfield look's noise per colour channel and colour cast.
func (g *Generator) renderTrans(transMap []float32, stride int, at image.Point, flicker float64) *image.RGBA {
	W, H := g.opt.Width, g.opt.Height
	img := image.NewRGBA(image.Rect(0, 0, W, H))
	noisy := g.opt.Noise > 0
	for y := 0; y < H; y++ {
		trans := transMap[(at.Y+y)*stride+at.X : (at.Y+y)*stride+at.X+W]
		illum := g.illum[y*W : (y+1)*W]
		pix := img.Pix[y*img.Stride : y*img.Stride+4*W]
		for x, t := range trans {
			light := float64(illum[x]*t) * flicker
			sd := 0.0
			if noisy {
				sd = math.Sqrt(g.noiseVar[0] + g.noiseVar[1]*light)
			}
			p := pix[4*x : 4*x+4 : 4*x+4]
			for c := 0; c < 3; c++ {
				v := light * g.tint[c]
				if noisy {
					v += sd * g.rng.NormFloat64()
				}
				p[2-c] = quantize(v) // tint is B,G,R; RGBA stores R first
			}
			p[3] = 255
		}
	}
	return img
}

func quantize(v float64) uint8 {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v + 0.5)
}

// gaussKernel returns a normalised 1-D Gaussian of the given sigma (nil for none).
func gaussKernel(sigma float64) []float32 {
	if sigma <= 0 {
		return nil
	}
	r := int(math.Ceil(3 * sigma))
	k := make([]float32, 2*r+1)
	var sum float64
	for i := -r; i <= r; i++ {
		v := math.Exp(-float64(i*i) / (2 * sigma * sigma))
		k[i+r] = float32(v)
		sum += v
	}
	for i := range k {
		k[i] /= float32(sum)
	}
	return k
}

// blur applies the separable Gaussian in place to a W x H image, replicating the edge
// pixels.
func (g *Generator) blur(p []float32, W, H int) { g.blurWith(p, W, H, g.kernel) }

// blurWith applies the separable kernel k in place to a W x H image, replicating the edge
// pixels.
func (g *Generator) blurWith(p []float32, W, H int, k []float32) {
	if k == nil {
		return
	}
	r := len(k) / 2
	if len(g.scratch) != len(p) {
		g.scratch = make([]float32, len(p))
	}
	tmp := g.scratch
	for y := 0; y < H; y++ {
		row, out := p[y*W:(y+1)*W], tmp[y*W:(y+1)*W]
		for x := range W {
			var s float32
			for i, kv := range k {
				s += kv * row[min(W-1, max(0, x+i-r))]
			}
			out[x] = s
		}
	}
	for y := 0; y < H; y++ {
		out := p[y*W : (y+1)*W]
		for x := range W {
			var s float32
			for i, kv := range k {
				s += kv * tmp[min(H-1, max(0, y+i-r))*W+x]
			}
			out[x] = s
		}
	}
}

// Gray returns the luma of a rendered frame (what a monochrome camera would give).
func Gray(img *image.RGBA) *image.Gray {
	g := image.NewGray(img.Rect)
	for i := range g.Pix {
		p := img.Pix[4*i : 4*i+3]
		g.Pix[i] = color.GrayModel.Convert(color.RGBA{p[0], p[1], p[2], 255}).(color.Gray).Y
	}
	return g
}
