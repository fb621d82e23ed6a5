#!/usr/bin/env bash
# train-deps.sh installs what the training recipe (training/, docs/training.md) needs on
# Debian 12 or Ubuntu: Debian's PyTorch, torchvision, ONNX, NumPy and OpenCV (the same
# OpenCV 4.6 as GoCV, so the recipe's preprocessing matches the app's bit for bit). They
# are used through /usr/bin/python3. Idempotent: returns at once when all are installed.
set -euo pipefail

APT_PACKAGES=(python3-torch python3-torchvision python3-onnx python3-numpy python3-opencv)

log() { printf 'train-deps: %s\n' "$*" >&2; }

missing=()
for p in "${APT_PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	log "installing apt packages: ${missing[*]}"
	if [ "$(id -u)" -eq 0 ]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo); else
		log "need root to install ${missing[*]} (install sudo or run as root)"; exit 1
	fi
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
/usr/bin/python3 -c 'import torch, torchvision, onnx, numpy, cv2' 2>/dev/null || {
	log "/usr/bin/python3 cannot import torch, torchvision, onnx, numpy and cv2 after installing ${APT_PACKAGES[*]}"; exit 1
}
