package onnxpb

import (
	"fmt"

	"google.golang.org/protobuf/proto"
)

// ReadModel parses an ONNX model file's bytes; name is used in the error.
func ReadModel(data []byte, name string) (*ModelProto, error) {
	m := &ModelProto{}
	if err := proto.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("%s is not an ONNX model (%v): give the .onnx file a pack lists", name, err)
	}
	if m.GetGraph() == nil {
		return nil, fmt.Errorf("%s has no graph: it is not an ONNX model, or it is truncated", name)
	}
	return m, nil
}

// WriteModel serialises a model deterministically (the same model gives the same bytes).
func WriteModel(m *ModelProto) ([]byte, error) {
	return proto.MarshalOptions{Deterministic: true}.Marshal(m)
}
