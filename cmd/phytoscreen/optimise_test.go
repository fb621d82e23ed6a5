package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phytoscreen/phytoscreen/internal/testpack"
)

func TestPackOptimiseRefusesBadInput(t *testing.T) {
	testpack.RequireRuntime(t)
	notPack := t.TempDir()
	empty := t.TempDir()
	os.WriteFile(filepath.Join(empty, "readme.txt"), []byte("no images"), 0o644)
	pack := testpack.Folder(t, nil, "", nil)
	out := filepath.Join(t.TempDir(), "twin")
	list := filepath.Join(t.TempDir(), "split.csv")
	os.WriteFile(list, []byte("path,label,split\r\na.png,copepod_calanoid,train\r\nb.png,copepod_calanoid,val\r\n"), 0o644)
	noSplit := filepath.Join(t.TempDir(), "labels.csv")
	os.WriteFile(noSplit, []byte("path,label\na.png,copepod_calanoid\n"), 0o644)
	for _, c := range []struct {
		name string
		args []string
		want []string
	}{
		{"no --out", []string{"pack", "optimise"}, []string{"usage: phytoscreen pack optimise"}},
		{"not a pack", []string{"pack", "optimise", "--pack", notPack, "--out", out}, []string{notPack, "no pack.json"}},
		{"calibration without images", []string{"pack", "optimise", "--calibration", empty, "--out", out}, []string{empty, "holds no image files", "give a folder"}},
		{"calibration is a file", []string{"pack", "optimise", "--calibration", filepath.Join(empty, "readme.txt"), "--out", out}, []string{"is not a folder"}},
		{"out onto the source pack", []string{"pack", "optimise", "--pack", pack, "--out", pack}, []string{"is the source pack"}},
		{"bad method", []string{"pack", "optimise", "--method", "kl", "--out", out}, []string{"--method", "percentile[:P], entropy or minmax"}},
		{"no sample for another pack", []string{"pack", "optimise", "--pack", "cyano-tcb-10", "--out", out}, []string{"no bundled calibration sample", "--calibration"}},
		{"folder and list", []string{"pack", "optimise", "--calibration", empty, "--calibration-list", list, "--out", out}, []string{"--calibration", "--calibration-list", "not both"}},
		{"root without list", []string{"pack", "optimise", "--calibration-root", empty, "--out", out}, []string{"--calibration-root goes with --calibration-list"}},
		{"list without a split column", []string{"pack", "optimise", "--calibration-list", noSplit, "--out", out}, []string{noSplit, "no split column", "--calibration-split"}},
		{"calibrating on the val rows", []string{"pack", "optimise", "--calibration-list", list, "--calibration-split", "val", "--labels", list, "--split", "val", "--out", out},
			[]string{list, "measured on", "--calibration-split train"}},
	} {
		code, stdout, stderr := run(t, c.args...)
		if code == 0 {
			t.Errorf("%s: exit 0, want a refusal (stdout %q)", c.name, stdout)
		}
		for _, w := range c.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: stderr lacks %q:\n%s", c.name, w, stderr)
			}
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a refused run created %s", out)
	}
	if b, err := os.ReadFile(filepath.Join(pack, "pack.json")); err != nil || !strings.Contains(string(b), "ndsb-plankton-121") || strings.Contains(string(b), "quantisation") {
		t.Errorf("the source pack's pack.json changed (%v)", err)
	}
}
