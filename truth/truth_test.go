package truth

import (
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadRealAnnotations reads the hand-annotated real frames: 85 frames, 20 to tune
// on and 65 held back, every frame with a real object.
func TestReadRealAnnotations(t *testing.T) {
	frames, err := ReadCSV("../testdata/real-frames/annotations.csv")
	if err != nil {
		t.Fatal(err)
	}
	split := map[string]int{}
	objects := 0
	for _, f := range frames {
		split[f.Split]++
		if len(f.Real()) == 0 {
			t.Errorf("%s has no real object", f.File)
		}
		objects += len(f.Real())
	}
	if len(frames) != 85 || split["tune"] != 20 || split["test"] != 65 {
		t.Errorf("%d frames, splits %v: want 85, 20 tune and 65 test", len(frames), split)
	}
	t.Logf("%d frames, %d real objects", len(frames), objects)
}

// TestReadCSVErrors: a damaged file is an error naming the file, the line and the fix.
func TestReadCSVErrors(t *testing.T) {
	head := "file,split,object,x,y,w,h,kind,taxon,border,ignore,note\n"
	cases := []struct{ text, want string }{
		{"name,x\n", "header"},
		{head + "a.jpg,tune,1,3,4,five,6,cell,,0,0,\n", "line 2: w \"five\" is not a whole number of pixels"},
		{head + "a.jpg,tune,1,3,4,0,6,cell,,0,0,\n", "line 2: box 0x6: width and height must be positive"},
		{head + "a.jpg,tune,1,3\n", "line 2: 4 fields, want 12"},
	}
	for _, c := range cases {
		p := filepath.Join(t.TempDir(), "annotations.csv")
		if err := os.WriteFile(p, []byte(c.text), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := ReadCSV(p)
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want an error naming %s and saying %q", c.text, err, p, c.want)
		}
	}
}

// TestMatch: one to one, best overlap first; a detection over an ignore region is
// excused, one elsewhere is extra; an object left is a miss.
func TestMatch(t *testing.T) {
	f := Frame{Objects: []Object{
		{Box: image.Rect(0, 0, 10, 10), Kind: "cell"},
		{Box: image.Rect(20, 0, 30, 10), Kind: "cell"},
		{Box: image.Rect(50, 50, 60, 60), Ignore: true},
	}}
	found := []image.Rectangle{
		image.Rect(1, 1, 10, 10),   // the first cell
		image.Rect(0, 0, 13, 13),   // the first cell again, a worse overlap: extra
		image.Rect(51, 51, 59, 59), // over the ignore region: excused
	}
	s := f.Match(found, 0.5)
	if s.Truth != 2 || s.Hits != 1 || s.Excused != 1 || len(s.Extra) != 1 || s.Extra[0] != 1 || len(s.Missed) != 1 || s.Missed[0] != 1 {
		t.Errorf("score %+v", s)
	}
	if s.Recall() != 0.5 || s.Precision() != 0.5 || s.CountError() != 0 {
		t.Errorf("recall %v precision %v count error %d: want 0.5, 0.5, 0", s.Recall(), s.Precision(), s.CountError())
	}
}

// TestOriented: boxes follow the EXIF orientation of their frame (6: the 320x240 stored
// frame shown as 240x320, turned clockwise).
func TestOriented(t *testing.T) {
	f := Frame{Objects: []Object{{Box: image.Rect(10, 20, 40, 30)}}}
	cases := map[int]image.Rectangle{
		1: image.Rect(10, 20, 40, 30),
		3: image.Rect(280, 210, 310, 220),
		6: image.Rect(210, 10, 220, 40),
		8: image.Rect(20, 280, 30, 310),
	}
	for o, want := range cases {
		if got := f.Oriented(o, 320, 240).Objects[0].Box; got != want {
			t.Errorf("orientation %d: %v, want %v", o, got, want)
		}
	}
	if f.Objects[0].Box != image.Rect(10, 20, 40, 30) {
		t.Error("Oriented changed the frame it was called on")
	}
}

// The annotations saved again by a spreadsheet, with a UTF-8 byte order mark before the
// header, read as the same frames (the mark would otherwise make the header wrong).
func TestReadCSVWithBOM(t *testing.T) {
	data, err := os.ReadFile("../testdata/real-frames/annotations.csv")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "annotations.csv")
	if err := os.WriteFile(p, append([]byte("\xEF\xBB\xBF"), data...), 0o644); err != nil {
		t.Fatal(err)
	}
	want, err := ReadCSV("../testdata/real-frames/annotations.csv")
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadCSV(p)
	if err != nil {
		t.Fatalf("with a BOM: %v", err)
	}
	if len(got) != len(want) || len(got) == 0 || got[0].File != want[0].File || len(got[0].Objects) != len(want[0].Objects) {
		t.Errorf("with a BOM: %d frames, want %d as without", len(got), len(want))
	}
}

func TestCountErrors(t *testing.T) {
	var c CountErrors
	if c.MeanAbs() != 0 {
		t.Fatalf("no frames: mean %v", c.MeanAbs())
	}
	for _, s := range []Score{
		{Truth: 5, Found: 5},             // 0
		{Truth: 5, Found: 7, Excused: 1}, // +1
		{Truth: 5, Found: 2},             // -3
		{Truth: 1, Found: 3},             // +2
	} {
		c.Add(s)
	}
	if c.Frames != 4 || c.Within1 != 2 || c.MeanAbs() != 1.5 {
		t.Fatalf("frames %d, within one %d, mean %v; want 4, 2, 1.5", c.Frames, c.Within1, c.MeanAbs())
	}
	if got, want := c.String(), "mean absolute 1.50 objects; 2 of 4 frames within one"; got != want {
		t.Fatalf("%q, want %q", got, want)
	}
}
