#!/usr/bin/python3
"""Display aids for boxing real frames by hand (docs/annotation-protocol.md).

Nothing here proposes, snaps or checks boxes against a segmenter: it only enlarges a
frame with a labelled grid, flattens its background so faint particles stand out, and
draws boxes someone has already written back onto the frame so they can be checked by
eye. Frames are read in stored pixel order (EXIF orientation ignored), the order the
boxes are written in.

  annotate_view.py view  FRAME OUT.png             3x flattened view with a 10 px grid,
                                                   beside the frame and a stretched copy
  annotate_view.py crop  FRAME X Y W H OUT.png     an 8x crop with a 5 px grid
  annotate_view.py check FRAME CSV OUT.png         the CSV's boxes for FRAME on a 3x view
"""
import csv
import os
import sys

import cv2
import numpy as np

KIND_COLOURS = {  # BGR
    "cell": (0, 200, 0),
    "colony": (255, 0, 255),
    "filament": (255, 128, 0),
    "chain": (0, 200, 255),
    "debris": (0, 0, 255),
    "": (160, 160, 160),
}


def read(path):
    img = cv2.imread(path, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if img is None:
        sys.exit(f"annotate_view: cannot read {path}")
    return img


def flattened(img):
    """The frame divided by a heavy blur of itself, stretched: a display aid only."""
    g = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float32)
    bg = cv2.GaussianBlur(g, (0, 0), 12) + 1
    r = g / bg
    lo, hi = np.percentile(r, 0.5), np.percentile(r, 99.5)
    r = np.clip((r - lo) / max(hi - lo, 1e-3), 0, 1) * 255
    return cv2.cvtColor(r.astype(np.uint8), cv2.COLOR_GRAY2BGR)


def stretched(img):
    lo, hi = np.percentile(img, 1), np.percentile(img, 99)
    return np.clip((img.astype(np.float32) - lo) * 255 / max(hi - lo, 1), 0, 255).astype(np.uint8)


def grid(img, k, step, label_every, x0=0, y0=0):
    """Enlarges img k times (nearest) and draws a grid every `step` source pixels."""
    big = cv2.resize(img, None, fx=k, fy=k, interpolation=cv2.INTER_NEAREST)
    h, w = img.shape[:2]
    pad = 28
    out = np.full((h * k + pad, w * k + pad, 3), 255, np.uint8)
    out[pad:, pad:] = big
    for x in range(0, w + 1):
        gx = x0 + x
        if gx % step:
            continue
        c = (0, 160, 255) if gx % label_every == 0 else (0, 255, 255)
        cv2.line(out, (pad + x * k, pad), (pad + x * k, pad + h * k), c, 1)
        if gx % label_every == 0:
            cv2.putText(out, str(gx), (pad + x * k - 8, 18), cv2.FONT_HERSHEY_PLAIN, 0.9, (0, 0, 0), 1)
    for y in range(0, h + 1):
        gy = y0 + y
        if gy % step:
            continue
        c = (0, 160, 255) if gy % label_every == 0 else (0, 255, 255)
        cv2.line(out, (pad, pad + y * k), (pad + w * k, pad + y * k), c, 1)
        if gy % label_every == 0:
            cv2.putText(out, str(gy), (0, pad + y * k + 4), cv2.FONT_HERSHEY_PLAIN, 0.8, (0, 0, 0), 1)
    return out


def view(frame, out):
    img = read(frame)
    left = grid(flattened(img), 3, 10, 20)
    side = np.vstack([img, stretched(img)])
    canvas = np.full((max(left.shape[0], side.shape[0]), left.shape[1] + 10 + side.shape[1], 3), 255, np.uint8)
    canvas[: left.shape[0], : left.shape[1]] = left
    canvas[: side.shape[0], left.shape[1] + 10 :] = side
    cv2.imwrite(out, canvas)


def crop(frame, x, y, w, h, out):
    img = read(frame)
    x, y = max(0, x), max(0, y)
    sub = img[y : y + h, x : x + w]
    flat = flattened(img)[y : y + h, x : x + w]
    k = max(4, min(8, 480 // max(w, h)))
    a = grid(sub, k, 5, 10, x, y)
    b = grid(flat, k, 5, 10, x, y)
    cv2.imwrite(out, np.hstack([a, np.full((a.shape[0], 10, 3), 255, np.uint8), b]))


def check(frame, table, out):
    img = read(frame)
    k = 3
    big = cv2.resize(img, None, fx=k, fy=k, interpolation=cv2.INTER_NEAREST)
    name = os.path.basename(frame)
    with open(table, newline="") as f:
        for row in csv.DictReader(f):
            if row["file"] != name or not row["x"]:
                continue
            x, y, w, h = (int(row[c]) for c in ("x", "y", "w", "h"))
            ign = row.get("ignore") == "1"
            c = (128, 128, 128) if ign else KIND_COLOURS.get(row["kind"], (0, 0, 0))
            cv2.rectangle(big, (x * k, y * k), ((x + w) * k - 1, (y + h) * k - 1), c, 1)
            cv2.putText(big, ("i" if ign else "") + row["object"], (x * k + 2, y * k + 12), cv2.FONT_HERSHEY_PLAIN, 0.9, c, 1)
    cv2.imwrite(out, big)


def main(argv):
    if len(argv) >= 3 and argv[0] == "view":
        view(argv[1], argv[2])
    elif len(argv) == 7 and argv[0] == "crop":
        crop(argv[1], *map(int, argv[2:6]), argv[6])
    elif len(argv) == 4 and argv[0] == "check":
        check(argv[1], argv[2], argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
