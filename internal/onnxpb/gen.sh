#!/usr/bin/env bash
# Regenerates onnx.pb.go from onnx.proto (copied from Debian 12's python3-onnx 1.12.0,
# /usr/lib/python3/dist-packages/onnx/onnx.proto; Apache-2.0, (c) ONNX Project
# Contributors). Needs protoc (apt: protobuf-compiler) and protoc-gen-go v1.36.12
# (go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12). The generated file
# is committed, so building phytoscreen needs neither.
set -euo pipefail
cd "$(dirname "$0")"
protoc --go_out=. --go_opt=paths=source_relative \
  --go_opt=Monnx.proto=github.com/phytoscreen/phytoscreen/internal/onnxpb onnx.proto
