package quantise

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/internal/testpack"
)

// writeList writes a list (CRLF line ends, as a pack's split.csv has them) to a new file.
func writeList(t *testing.T, lines ...string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "split.csv")
	if err := os.WriteFile(f, []byte(strings.Join(lines, "\r\n")+"\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// A list's rows of one split, sampled with a fixed seed below the limit and kept in the
// list's order; the val rows are never taken.
func TestCalibrationListTakesTrainRows(t *testing.T) {
	lines := []string{"path,label,group,split"}
	for i := range 40 {
		split := "train"
		if i%4 == 0 {
			split = "val"
		}
		lines = append(lines, fmt.Sprintf("%s/%03d.jpg,%s,g%d,%s", []string{"dark", "light"}[i%2], i, []string{"dark", "light"}[i%2], i/3, split))
	}
	list := writeList(t, lines...)
	root := t.TempDir()
	c := &CalibrationList{List: list, Root: root, Split: "train"}
	all, err := listImages(c, 0, "tiny", []string{"dark", "light"})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 30 {
		t.Fatalf("%d images, want the 30 train rows", len(all))
	}
	for _, im := range all {
		var i int
		fmt.Sscanf(filepath.Base(im.name), "%d", &i)
		if i%4 == 0 {
			t.Errorf("%s is a val row", im.name)
		}
		if want := i % 2; im.label != want {
			t.Errorf("%s: label %d, want %d", im.name, im.label, want)
		}
		if !strings.Contains(im.where, list) || !strings.Contains(im.where, "line") {
			t.Errorf("%s: where %q does not name the list and line", im.name, im.where)
		}
	}
	a, err := listImages(c, 12, "tiny", []string{"dark", "light"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := listImages(c, 12, "tiny", []string{"dark", "light"})
	names := func(s []calibImage) []string {
		var n []string
		for _, im := range s {
			n = append(n, im.name)
		}
		return n
	}
	rows := func(s []calibImage) []int { // the row numbers, in the sample's order
		var r []int
		for _, im := range s {
			var i int
			fmt.Sscanf(filepath.Base(im.name), "%d", &i)
			r = append(r, i)
		}
		return r
	}
	if len(a) != 12 || !slices.Equal(names(a), names(b)) {
		t.Errorf("sample of 12: %v then %v, want 12 and the same twice", names(a), names(b))
	}
	if !slices.IsSorted(rows(a)) || slices.Equal(names(a), names(all)[:12]) {
		t.Errorf("sample %v: want a spread over the list, in its order", names(a))
	}
	if got := c.String(); got != list+" (split train)" {
		t.Errorf("String() = %q", got)
	}
}

// A list that cannot give calibration images is refused with the file and the fix.
func TestCalibrationListRefusals(t *testing.T) {
	root := t.TempDir()
	labels := []string{"dark", "light"}
	good := writeList(t, "path,label,split", "a.png,dark,train", "b.png,light,val")
	cases := []struct {
		name string
		c    CalibrationList
		want []string
	}{
		{"no such list", CalibrationList{List: filepath.Join(root, "missing.csv"), Root: root, Split: "train"}, []string{"missing.csv", "path,label"}},
		{"no path column", CalibrationList{List: writeList(t, "file,label,split", "a.png,dark,train"), Root: root, Split: "train"}, []string{"split.csv", "path and label", "give a CSV"}},
		{"no split column", CalibrationList{List: writeList(t, "path,label", "a.png,dark"), Root: root, Split: "train"}, []string{"split.csv", "no split column", "--calibration-split"}},
		{"no rows of the split", CalibrationList{List: good, Root: root, Split: "training"}, []string{good, `"training"`, "--calibration-split"}},
		{"another pack's labels", CalibrationList{List: writeList(t, "path,label,split", "a.png,dark,train", "c.png,Microcystis,train"), Root: root, Split: "train"}, []string{"split.csv line 3", `"Microcystis"`, "tiny"}},
		{"root not a folder", CalibrationList{List: good, Root: filepath.Join(root, "nowhere"), Split: "train"}, []string{good, "nowhere", "--calibration-root"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := listImages(&tc.c, 0, "tiny", labels)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	// Calibrating on the rows the twin is measured on is refused before any work.
	p, err := inference.LoadPackDir(tinyPack(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ calib, measure string }{{"val", "val"}, {"", "val"}, {"train", ""}} {
		_, err := Optimise(context.Background(), Options{Pack: p, CalibrationList: &CalibrationList{List: good, Root: root, Split: tc.calib},
			Labels: good, LabelsSplit: tc.measure, Out: filepath.Join(t.TempDir(), "out")}, nil)
		if err == nil || !strings.Contains(err.Error(), "measured on") || !strings.Contains(err.Error(), "--calibration-split train") {
			t.Errorf("calibration split %q, measured on %q: err = %v, want it refused", tc.calib, tc.measure, err)
		}
	}
	_, err = Optimise(context.Background(), Options{Pack: p, CalibrationList: &CalibrationList{List: good, Root: root, Split: "train"},
		Calibration: os.DirFS(root), Out: filepath.Join(t.TempDir(), "out")}, nil)
	if err == nil || !strings.Contains(err.Error(), "give one") {
		t.Errorf("a folder and a list: err = %v, want it refused", err)
	}
}

// The twin calibrated on a list's train rows and measured on its val rows: the report
// counts the train rows only, and pack.json's optimised entry carries the val figures
// (top-1, top-5, log-loss, macro- and weighted F1, ECE) that the measurement scored.
func TestOptimiseFromListMeasuresVal(t *testing.T) {
	testpack.RequireRuntime(t)
	p, err := inference.LoadPackDir(tinyPack(t))
	if err != nil {
		t.Fatal(err)
	}
	images := tinyImages(t, 24)
	lines := []string{"path,label,split"}
	for i := range 24 {
		name := "img" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + ".png"
		lines = append(lines, fmt.Sprintf("%s,%s,%s", name, []string{"dark", "light"}[i%2], []string{"train", "val"}[i/16]))
	}
	list := writeList(t, lines...)
	out := filepath.Join(t.TempDir(), "twin")
	rep, err := Optimise(context.Background(), Options{Pack: p, CalibrationList: &CalibrationList{List: list, Root: images, Split: "train"},
		Labels: list, LabelsRoot: images, LabelsSplit: "val", Out: out, SpeedDuration: -1, Threads: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.CalibrationImages != 16 || rep.CalibrationLabels != 16 || !strings.Contains(rep.Calibration, "split train") {
		t.Errorf("calibration %q: %d images (%d labelled), want the 16 train rows", rep.Calibration, rep.CalibrationImages, rep.CalibrationLabels)
	}
	tw := rep.Measured.Twin
	if tw == nil || tw.N != 8 {
		t.Fatalf("measured %+v, want the 8 val rows", rep.Measured)
	}
	np, err := inference.LoadPackDir(out)
	if err != nil {
		t.Fatal(err)
	}
	m := np.Models[inference.Optimised]
	got := []float64{m.ValTop1, m.ValTop5, m.ValLogLoss, m.ValMacroF1, m.ValWeightedF1, m.ValECE, m.Agreement}
	want := []float64{tw.Top1, tw.Top5, tw.LogLoss, tw.MacroF1, tw.WeightedF1, tw.ECE, tw.Agreement}
	if !slices.Equal(got, want) {
		t.Errorf("pack.json optimised %v, want the measured %v", got, want)
	}
	if tw.MacroF1 <= 0 || tw.ECE <= 0 {
		t.Errorf("macro-F1 %g, ECE %g: want them measured", tw.MacroF1, tw.ECE)
	}
	// A list whose paths start elsewhere than its folder, measured without its root:
	// no figures of no image, but an error that names the root to give (helper-94).
	out2 := filepath.Join(t.TempDir(), "twin")
	_, err = Optimise(context.Background(), Options{Pack: p, CalibrationList: &CalibrationList{List: list, Root: images, Split: "train"},
		Labels: list, LabelsSplit: "val", Out: out2, SpeedDuration: -1, Threads: 1}, nil)
	if err == nil || !strings.Contains(err.Error(), "none of its 8 images could be read") || !strings.Contains(err.Error(), "give --root") {
		t.Errorf("measured on a list without its root: err = %v", err)
	}
	if _, serr := os.Stat(out2); serr == nil {
		t.Errorf("%s written though the twin was not measured", out2)
	}
	// A broken list path fails before any work, naming the list.
	_, err = Optimise(context.Background(), Options{Pack: p, CalibrationList: &CalibrationList{List: list + ".missing", Root: images, Split: "train"},
		Out: filepath.Join(t.TempDir(), "twin")}, nil)
	if err == nil || !strings.Contains(err.Error(), "split.csv.missing") || errors.Is(err, ErrNoImages) {
		t.Errorf("missing list: err = %v", err)
	}
}
