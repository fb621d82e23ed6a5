package main

import (
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/phytoscreen/phytoscreen/imagefile"
)

// transparentVersions writes g twice with transparency, each beside the same pixels
// composited onto white by the test: as black ink whose opacity is its darkness
// (semi-transparent everywhere; on white it is g exactly), and as a cut-out, its
// background (levels of bg and above) fully transparent black around the opaque cell
// (on white, that background is 255). It returns the pairs' paths, each on-white first.
func transparentVersions(t *testing.T, dir, name string, g *image.Gray, bg uint8) [][2]string {
	t.Helper()
	ink, cut, cutWhite := image.NewNRGBA(g.Rect), image.NewNRGBA(g.Rect), image.NewGray(g.Rect)
	for y := g.Rect.Min.Y; y < g.Rect.Max.Y; y++ {
		for x := g.Rect.Min.X; x < g.Rect.Max.X; x++ {
			v := g.GrayAt(x, y).Y
			ink.SetNRGBA(x, y, color.NRGBA{0, 0, 0, 255 - v})
			cutWhite.SetGray(x, y, color.Gray{255})
			if v < bg {
				cut.SetNRGBA(x, y, color.NRGBA{v, v, v, 255})
				cutWhite.SetGray(x, y, color.Gray{v})
			}
		}
	}
	write := func(suffix string, img image.Image) string {
		p := filepath.Join(dir, name+"-"+suffix+".png")
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return [][2]string{
		{write("on-white", g), write("ink", ink)},
		{write("cutout-on-white", cutWhite), write("cutout", cut)},
	}
}

// A real cell crop saved with a semi-transparent or a fully transparent background gets
// the class of the same crop on white from `classify`, with the gray pack (format 1) and
// the colour pack (format 2): decoded onto black, the ink version is a black square and
// the cut-out a cell on black.
func TestClassifyTransparentCrop(t *testing.T) {
	g, err := imagefile.ReadGray("../../testdata/mixed-images/good acantharia.jpg")
	if err != nil {
		t.Fatal(err)
	}
	pairs := transparentVersions(t, t.TempDir(), "acantharia", g, 250)
	var paths []string
	for _, p := range pairs {
		paths = append(paths, p[0], p[1])
	}
	for _, pack := range []string{"ndsb-plankton-121", "ndsb-plankton-121-v2"} {
		code, stdout, stderr := run(t, append([]string{"classify", "--pack", pack, "--format", "json"}, paths...)...)
		if code != exitOK {
			t.Fatalf("%s: exit %d\n%s%s", pack, code, stdout, stderr)
		}
		var doc struct {
			Results []struct {
				Path  string  `json:"path"`
				Label string  `json:"label"`
				Prob  float64 `json:"probability"`
			} `json:"results"`
		}
		if err := json.Unmarshal([]byte(stdout), &doc); err != nil || len(doc.Results) != len(paths) {
			t.Fatalf("%s: %v\n%s", pack, err, stdout)
		}
		for i := 0; i < len(doc.Results); i += 2 {
			ref, r := doc.Results[i], doc.Results[i+1]
			t.Logf("%s: %s: %s %.3f; on white: %s %.3f", pack, filepath.Base(r.Path), r.Label, r.Prob, ref.Label, ref.Prob)
			// The pixels are the same to a level: the probability to a few thousandths.
			if r.Label != ref.Label || math.Abs(r.Prob-ref.Prob) > 0.01 {
				t.Errorf("%s: %s is %s (%.3f); on white it is %s (%.3f)", pack, filepath.Base(r.Path), r.Label, r.Prob, ref.Label, ref.Prob)
			}
		}
	}
}

// The app's path for a frame with transparency: `screen` on a real microscope frame saved
// as semi-transparent ink and as a cut-out finds and classifies the cells it finds in the
// same frame on white, taxon by taxon.
func TestScreenTransparentFrame(t *testing.T) {
	g, err := imagefile.ReadGray("../../testdata/microscope/nitzschia-20230609092640.jpg")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "sessions.db")
	screen := func(path string) (screenJSON, string) {
		code, stdout, stderr := run(t, "screen", "--source", path, "--db", db, "--format", "json", "--sample", filepath.Base(path))
		if code != exitOK {
			t.Fatalf("screen %s: exit %d\n%s%s", path, code, stdout, stderr)
		}
		var res screenJSON
		if err := json.Unmarshal([]byte(stdout), &res); err != nil {
			t.Fatalf("%v\n%s", err, stdout)
		}
		counts := ""
		for _, x := range res.Taxa {
			counts += fmt.Sprintf("%s %d, ", x.Label, x.Count)
		}
		return res, fmt.Sprintf("%d cells: %sunidentified %d", res.Cells.Found, counts, res.Unidentified.Count)
	}
	for _, pair := range transparentVersions(t, dir, "nitzschia", g, 200) {
		ref, want := screen(pair[0])
		_, got := screen(pair[1])
		t.Logf("%s: %s; on white: %s", filepath.Base(pair[1]), got, want)
		if ref.Cells.Found == 0 {
			t.Errorf("%s: no cell found on white: the frame tests nothing", filepath.Base(pair[0]))
		}
		if got != want {
			t.Errorf("%s: %s; on white: %s", filepath.Base(pair[1]), got, want)
		}
	}
}
