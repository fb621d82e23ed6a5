package testutil

import (
	"encoding/csv"
	"os"
	"testing"
)

// ReadCSV reads every row of the CSV file at path, header included, failing t when it
// cannot.
func ReadCSV(t testing.TB, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}
