package inference

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"unicode/utf16"
)

// A label list saved by a spreadsheet starts with a byte order mark (Excel's "CSV UTF-8";
// its "Unicode" export is UTF-16 with one): it reads as the same list as without it,
// instead of failing with "needs the columns path and label".
func TestReadLabelListWithBOM(t *testing.T) {
	text := "path,label,split\ncells/a.jpg,Microcystis,val\ncells/b.jpg,Anabaena,train\ncells/c.jpg,Nostoc,val\n"
	u16 := []byte{0xFF, 0xFE} // UTF-16LE BOM
	for _, r := range utf16.Encode([]rune(text)) {
		u16 = append(u16, byte(r), byte(r>>8))
	}
	dir := t.TempDir()
	lists := map[string][]byte{
		"plain.csv":     []byte(text),
		"utf8-bom.csv":  append([]byte("\xEF\xBB\xBF"), text...),
		"utf16-bom.csv": u16,
	}
	var want []LabelledImage
	for _, name := range []string{"plain.csv", "utf8-bom.csv", "utf16-bom.csv"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, lists[name], 0o644); err != nil {
			t.Fatal(err)
		}
		items, err := ReadLabelList(p, "val")
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if name == "plain.csv" {
			want = items
			if len(want) != 2 || want[0].Label != "Microcystis" || want[0].Path != filepath.Join(dir, "cells/a.jpg") {
				t.Fatalf("plain list read as %+v", want)
			}
			continue
		}
		if !slices.Equal(items, want) {
			t.Errorf("%s: %+v, want %+v", name, items, want)
		}
	}
}
