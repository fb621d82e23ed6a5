# phytoscreen: 'make run' opens the app on the bundled model and demo data; 'make test'
# runs every test. Both install what is missing first (scripts/deps.sh).
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec
export PATH := $(PATH):/usr/local/go/bin
# Fyne logs an error under LANG=C; every target runs with a UTF-8 locale.
export LANG := C.UTF-8
export LC_ALL := C.UTF-8

BIN := bin/phytoscreen
ORT_LIB = $(shell bash scripts/deps.sh ort-path)
XVFB := xvfb-run -a -s "-screen 0 1600x1000x24"
# Packages whose goroutines the race detector checks (capture and synth: see test).
RACE_PKGS := ./inference/... ./imagefile/... ./power/... ./bench/... ./screening/... \
	./alerts/... ./store/... ./ui/... ./internal/... ./cmd/...
FUZZ_TIME ?= 10s

.PHONY: all deps build run test vet fuzz bench bench-report screenshots soak clean

all: build

deps:
	@bash scripts/deps.sh

build: deps
	go build -o $(BIN) ./cmd/phytoscreen
	@cp -f $(ORT_LIB) bin/libonnxruntime.so.1

# The desktop app; with no camera it opens on the bundled demo video.
run: build
	$(BIN)

vet: deps
	go vet ./...

# Every test: unit, accuracy, CLI golden files, the real window on a virtual display,
# the race detector on every package that runs goroutines, Mat leak checks with gocv's
# matprofile tag, and bounded fuzzing of every fuzz target.
test: deps vet
	$(XVFB) go test ./...
	go test -race -short $(RACE_PKGS)
	go test -race -short ./capture/... ./synth/...
	go test -tags matprofile -run 'TestNoMatLeak' ./capture/
	go test -tags matprofile -run 'ClosesEveryMat|^TestSoak$$' ./screening/
	$(MAKE) --no-print-directory fuzz

fuzz:
	go test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZ_TIME) ./imagefile/
	go test -run '^$$' -fuzz '^FuzzLoadPack$$' -fuzztime $(FUZZ_TIME) ./inference/
	go test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZ_TIME) ./alerts/

# A long run through the whole pipeline: the demo video looped as one source, the real
# segmenter, classifier and session store, over SOAK_FRAMES frames (about 3.5 minutes on
# 2 cores). It reports and checks resident memory, Mats (matprofile), goroutines and
# throughput per 1,000-frame window; docs/RELIABILITY.md holds the figures.
SOAK_FRAMES ?= 20000
soak: deps
	PHYTOSCREEN_SOAK_FRAMES=$(SOAK_FRAMES) go test -tags matprofile -run '^TestSoak$$' -count=1 -timeout 60m -v ./screening/

# Speed goals are benchmarks, never timed tests: compare the ratios printed in one run.
bench: deps
	go test -run '^$$' -bench . -benchtime 3s ./inference/
	GOMAXPROCS=1 go test -run '^$$' -bench Segment -benchtime 60x ./capture/
	go test -run '^$$' -bench . -benchtime 200ms ./power/
	go test -run '^$$' -bench FrameBufferPut1080p ./ui/

# The committed report in docs/bench (about 8 minutes on 2 cores).
bench-report: build
	$(BIN) bench --repeat 3 --duration 2s --out docs/bench

# Redraw the README's screenshots in a real window on a virtual display, from a fresh
# session store and fresh preferences (nothing of the user's shows, and the model
# comparison is measured anew).
screenshots: build
	tmp=$$(mktemp -d) && XDG_CONFIG_HOME=$$tmp/config XDG_DATA_HOME=$$tmp/data \
		$(XVFB) $(BIN) gui --screenshots docs/screenshots; rc=$$?; rm -rf $$tmp; exit $$rc

clean:
	rm -rf bin
