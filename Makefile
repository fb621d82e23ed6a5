# phytoscreen: 'make run' opens the app on the bundled model and demo data; 'make test'
# runs every test. Both install what is missing first (scripts/deps.sh).
SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin
# Fyne logs an error under LANG=C; every target runs with a UTF-8 locale.
export LANG := C.UTF-8
export LC_ALL := C.UTF-8

BIN := bin/phytoscreen
ORT_LIB = $(shell bash scripts/deps.sh ort-path)
# Packages whose goroutines the race detector checks.
RACE_PKGS := ./inference/... ./imagefile/...

.PHONY: all deps build run test vet bench clean

all: build

deps:
	@bash scripts/deps.sh

build: deps
	go build -o $(BIN) ./cmd/phytoscreen
	@cp -f $(ORT_LIB) bin/libonnxruntime.so.1

run: build
	$(BIN) classify --out bin/classify-samples.csv assets/samples/ndsb-val

vet: deps
	go vet ./...

test: deps vet
	go test ./...
	go test -race $(RACE_PKGS)

bench: deps
	go test -run '^$$' -bench . -benchtime 3s ./inference/

clean:
	rm -rf bin
