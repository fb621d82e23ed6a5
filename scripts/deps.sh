#!/usr/bin/env bash
# deps.sh installs what phytoscreen needs to build, run and test on Debian 12 or Ubuntu:
# the apt packages (OpenCV 4.6 for GoCV, the GL and X headers for Fyne, Xvfb for the
# window tests, poppler-utils to read back the PDF reports, PostgreSQL for the lab server
# sync tests, which start throw-away clusters of their own) and the ONNX Runtime 1.24.1
# shared library, taken from the npm package
# onnxruntime-node@1.24.1 and checked against a pinned sha256. It is idempotent: when
# everything is in place it returns in well under a second.
set -euo pipefail

ORT_VERSION=1.24.1
ORT_SHA256=57181cf6e6e711b155c5b942d591fd63ded0b5de5c4922d51fd994e7f6ac2772
APT_PACKAGES=(libopencv-dev libjpeg-dev pkg-config gcc libgl1-mesa-dev xorg-dev xvfb xauth imagemagick poppler-utils postgresql)

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache="$root/.cache/onnxruntime/$ORT_VERSION"

log() { printf 'deps: %s\n' "$*" >&2; }

sudo_cmd() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
		log "need root to run: $* (install sudo or run as root)"; exit 1
	fi
}

ensure_apt() {
	local missing=()
	for p in "${APT_PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing apt packages: ${missing[*]}"
	sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_go() {
	command -v go >/dev/null || export PATH="$PATH:/usr/local/go/bin"
	if ! command -v go >/dev/null; then
		log "Go 1.26 is missing: install it from https://go.dev/dl/ into /usr/local/go"; exit 1
	fi
}

ort_arch() {
	case "$(uname -m)" in
	x86_64 | amd64) echo x64 ;;
	aarch64 | arm64) echo arm64 ;;
	*) log "ONNX Runtime from onnxruntime-node has no build for $(uname -m)"; exit 1 ;;
	esac
}

ensure_ort() {
	local arch lib tgz
	arch=$(ort_arch)
	lib="$cache/linux-$arch/libonnxruntime.so.1"
	[ -s "$lib" ] && return 0
	command -v npm >/dev/null || { log "installing npm (to fetch onnxruntime-node)"; sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; }
	mkdir -p "$cache"
	tgz="$cache/onnxruntime-node-$ORT_VERSION.tgz"
	if [ ! -s "$tgz" ]; then
		log "fetching onnxruntime-node@$ORT_VERSION with npm pack"
		(cd "$cache" && npm pack --silent "onnxruntime-node@$ORT_VERSION" >/dev/null)
	fi
	if ! echo "$ORT_SHA256  $tgz" | sha256sum -c --status; then
		log "checksum mismatch for $tgz: removed it; run 'make deps' again"
		rm -f "$tgz"; exit 1
	fi
	mkdir -p "$cache/linux-$arch"
	tar -xzf "$tgz" -O "package/bin/napi-v6/linux/$arch/libonnxruntime.so.1" >"$lib.tmp"
	mv "$lib.tmp" "$lib"
	log "ONNX Runtime $ORT_VERSION ready: $lib"
}

case "${1:-all}" in
ort-path) echo "$cache/linux-$(ort_arch)/libonnxruntime.so.1" ;;
all) ensure_apt; ensure_go; ensure_ort ;;
*) log "usage: deps.sh [all|ort-path]"; exit 2 ;;
esac
