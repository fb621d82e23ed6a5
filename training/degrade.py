#!/usr/bin/python3
"""Make a degraded copy of a labelled image list, as a mediocre bench camera would see it:
a linear illumination gradient (by default 25%: the light falls from 100% to 75% across
the image, in a random direction), Gaussian defocus blur (sigma 1 px) and sensor noise
(sigma 5/255), in that order (light, optics, sensor). Deterministic: every image's random
direction and noise come from the seed and its path, whatever the order or the machine.
Images are written as 8-bit PNG (lossless) in the same relative layout, with a labels.csv
(path,label,split) that `phytoscreen eval` reads.

    degrade.py --list ../shared/data/ndsb/split.csv --split val --out /tmp/ndsb-val-degraded
    bin/phytoscreen eval /tmp/ndsb-val-degraded/labels.csv
"""
import argparse
import csv
import hashlib
import math
import os
import sys
from pathlib import Path

import cv2
import numpy as np


def degrade(img, rng, gradient=0.25, blur=1.0, noise=5.0):
    """img: uint8 gray (H,W) or BGR (H,W,3). Returns uint8 of the same shape."""
    x = img.astype(np.float32)
    h, w = x.shape[:2]
    if gradient > 0:
        ang = rng.uniform(0, 2 * math.pi)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        t = (xx - (w - 1) / 2) * math.cos(ang) + (yy - (h - 1) / 2) * math.sin(ang)
        span = float(t.max() - t.min()) or 1.0
        ramp = 1 - gradient * (t - t.min()) / span
        x = x * (ramp if x.ndim == 2 else ramp[:, :, None])
    if blur > 0:
        x = cv2.GaussianBlur(x, (0, 0), blur, borderType=cv2.BORDER_REPLICATE)
    if noise > 0:
        x = x + rng.normal(0, noise, x.shape).astype(np.float32)
    return np.clip(np.floor(x + 0.5), 0, 255).astype(np.uint8)


def item_rng(seed, rel):
    h = hashlib.sha256(f"{seed}|{rel}".encode()).digest()
    return np.random.default_rng(int.from_bytes(h[:8], "little"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--list", required=True, help="CSV with path,label[,split] (paths relative to it)")
    ap.add_argument("--split", default="", help="keep only rows with this split (e.g. val)")
    ap.add_argument("--out", required=True, help="folder to write the degraded images and labels.csv to")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--gradient", type=float, default=0.25, help="fraction of light lost across the image")
    ap.add_argument("--blur", type=float, default=1.0, help="Gaussian blur sigma in pixels")
    ap.add_argument("--noise", type=float, default=5.0, help="sensor noise sigma in 8-bit levels")
    ap.add_argument("--colour", action="store_true", help="keep colour (default: gray, as NDSB is)")
    a = ap.parse_args()
    src = Path(a.list)
    out = Path(a.out)
    rows = []
    with open(src, newline="") as fh:
        for r in csv.DictReader(fh):
            if a.split and r.get("split", "") != a.split:
                continue
            rows.append(r)
    if not rows:
        sys.exit(f"{src}: no rows (check --split)")
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "labels.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "label", "split"])
        for i, r in enumerate(rows):
            rel = r["path"]
            img = cv2.imread(str(src.parent / rel), cv2.IMREAD_COLOR if a.colour else cv2.IMREAD_GRAYSCALE)
            if img is None:
                sys.exit(f"{src.parent / rel}: cannot read")
            d = degrade(img, item_rng(a.seed, rel), a.gradient, a.blur, a.noise)
            dst = Path(rel).with_suffix(".png")
            (out / dst).parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(out / dst), d)
            w.writerow([dst.as_posix(), r["label"], r.get("split", a.split)])
            if (i + 1) % 1000 == 0:
                print(f"{i + 1}/{len(rows)}", flush=True)
    print(f"wrote {len(rows)} degraded images (gradient {a.gradient}, blur sigma {a.blur}, noise sigma {a.noise}, seed {a.seed}) and labels.csv to {out}")


if __name__ == "__main__":
    main()
