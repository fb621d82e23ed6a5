package onnxpb

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
)

// Every shipped model reads, and writes back to a model equal to the one read.
func TestShippedModelsRoundTrip(t *testing.T) {
	files, err := filepath.Glob("../../assets/models/*/*.onnx")
	if err != nil || len(files) == 0 {
		t.Fatalf("no shipped models found (%v)", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, err := ReadModel(data, f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(m.GetGraph().GetNode()) == 0 || len(m.GetOpsetImport()) == 0 {
			t.Fatalf("%s: read %d nodes, %d opsets", f, len(m.GetGraph().GetNode()), len(m.GetOpsetImport()))
		}
		out, err := WriteModel(m)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ReadModel(out, f)
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(m, back) {
			t.Fatalf("%s: model changed in a write and read", f)
		}
	}
}

func TestReadModelRejectsOtherFiles(t *testing.T) {
	_, err := ReadModel([]byte("this is not protobuf \xff\xff"), "x.onnx")
	if err == nil || !strings.Contains(err.Error(), "x.onnx") {
		t.Fatalf("want an error naming x.onnx, got %v", err)
	}
}
