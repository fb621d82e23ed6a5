package bench

import (
	"bytes"
	"os"
	"reflect"
	"testing"
)

// A results.csv opened and saved by a spreadsheet (UTF-8 byte order mark first) still
// reads as phytoscreen bench's, not "header is not phytoscreen bench's".
func TestReadCSVWithBOM(t *testing.T) {
	data, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	want := readFixture(t)
	got, err := ReadCSV(bytes.NewReader(append([]byte("\xEF\xBB\xBF"), data...)), fixture)
	if err != nil {
		t.Fatalf("with a BOM: %v", err)
	}
	if !reflect.DeepEqual(got, want) || len(got) == 0 {
		t.Errorf("with a BOM: %d results, want the %d read without it", len(got), len(want))
	}
}
