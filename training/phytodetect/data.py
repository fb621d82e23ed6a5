"""Hand-boxed frames (docs/annotation-protocol.md) read for training and evaluation, and
the augmentation that imitates other days, focus and lamp settings of the bench camera."""
import csv
import os
from dataclasses import dataclass, field

import cv2
import numpy as np

# Rows 0-1 of every frame are the sensor's dark band: not an object (protocol), so a
# detection lying there is excused, as the Go evaluation does.
SENSOR_ROWS = (0, 0, 320, 2)


@dataclass
class Frame:
    path: str
    split: str
    boxes: list = field(default_factory=list)  # real objects, [x0, y0, x1, y1) in stored pixel order
    ignore: list = field(default_factory=list)  # regions that excuse detections


def read_annotations(csv_path, splits=None):
    """Frames of an annotations.csv (header file,split,object,x,y,w,h,kind,...), in file
    order, the images beside the CSV. splits: keep only these splits (None: all)."""
    root = os.path.dirname(csv_path)
    frames = {}
    with open(csv_path, newline="") as f:
        for i, row in enumerate(csv.DictReader(f), start=2):
            if splits and row["split"] not in splits:
                continue
            fr = frames.get(row["file"])
            if fr is None:
                fr = frames[row["file"]] = Frame(os.path.join(root, row["file"]), row["split"], [], [SENSOR_ROWS])
            if not row["x"]:
                continue
            try:
                x, y, w, h = (int(row[c]) for c in ("x", "y", "w", "h"))
            except ValueError as e:
                raise ValueError(f"{csv_path}:{i}: box is not four integers ({e}); fix the row") from e
            if w <= 0 or h <= 0:
                raise ValueError(f"{csv_path}:{i}: empty box {w}x{h}; fix the row")
            (fr.ignore if row["ignore"] == "1" else fr.boxes).append((x, y, x + w, y + h))
    return list(frames.values())


def load_rgb(path):
    """The frame as float32 RGB in [0, 1], stored pixel order (EXIF orientation not applied:
    the boxes are written in stored order)."""
    img = cv2.imread(path, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if img is None:
        raise FileNotFoundError(f"{path}: cannot read the frame")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0


def transposed(img, boxes, ignore):
    """The frame turned on its diagonal (rows become columns): with the flips, every
    quarter turn, as the app sees frames upright whatever the camera's EXIF turn."""
    t = lambda b: np.array(b, np.float32).reshape(-1, 4)[:, [1, 0, 3, 2]]
    return np.ascontiguousarray(img.transpose(1, 0, 2)), t(boxes), t(ignore)


def upright(path, boxes, ignore):
    """The frame as the app reads it (OpenCV: EXIF orientation applied) and the boxes
    (stored pixel order) turned with it: the quarter turn is found by comparing the
    stored pixels, turned each way, with the upright ones."""
    stored = load_rgb(path)
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
    b = np.array(boxes, np.float32).reshape(-1, 4)
    g = np.array(ignore, np.float32).reshape(-1, 4)
    if img.shape == stored.shape:
        return img, b, g
    h, w = stored.shape[:2]  # stored size; upright is w x h turned
    cw = np.rot90(stored, -1)  # clockwise: stored (x, y) -> (h - 1 - y, x)
    if np.abs(cw - img).mean() < np.abs(np.rot90(stored, 1) - img).mean():
        turn = lambda a: np.stack([h - a[:, 3], a[:, 0], h - a[:, 1], a[:, 2]], 1)
    else:  # counter-clockwise: (x, y) -> (y, w - 1 - x)
        turn = lambda a: np.stack([a[:, 1], w - a[:, 2], a[:, 3], w - a[:, 0]], 1)
    return img, turn(b), turn(g)


def augment(img, boxes, ignore, rng, out_w, out_h):
    """A random view of a frame: scale jitter and a crop of out_w x out_h, flips, lamp and
    white-balance shifts, a brightness gradient, defocus, sensor noise and JPEG. Boxes that
    the crop cuts to under half their area become ignore regions (they are neither taught
    as objects nor as background)."""
    h, w = img.shape[:2]
    s = float(np.exp(rng.uniform(np.log(0.8), np.log(1.25))))
    img = cv2.resize(img, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    boxes = np.array(boxes, np.float32).reshape(-1, 4) * s
    ignore = np.array(ignore, np.float32).reshape(-1, 4) * s
    h, w = img.shape[:2]
    if w < out_w or h < out_h:
        img = cv2.copyMakeBorder(img, 0, max(0, out_h - h), 0, max(0, out_w - w), cv2.BORDER_REFLECT)
        h, w = img.shape[:2]
    x0 = int(rng.integers(0, w - out_w + 1))
    y0 = int(rng.integers(0, h - out_h + 1))
    img = img[y0 : y0 + out_h, x0 : x0 + out_w].copy()
    shift = np.array([x0, y0, x0, y0], np.float32)
    boxes, ignore = boxes - shift, ignore - shift
    keep, cut = [], list(ignore)
    for b in boxes:
        c = np.array([max(b[0], 0), max(b[1], 0), min(b[2], out_w), min(b[3], out_h)])
        if c[2] <= c[0] or c[3] <= c[1]:
            continue
        if (c[2] - c[0]) * (c[3] - c[1]) >= 0.5 * (b[2] - b[0]) * (b[3] - b[1]):
            keep.append(c)
        else:
            cut.append(c)
    boxes = np.array(keep, np.float32).reshape(-1, 4)
    ignore = np.array(cut, np.float32).reshape(-1, 4)
    if rng.random() < 0.5:
        img = img[:, ::-1]
        boxes[:, [0, 2]] = out_w - boxes[:, [2, 0]]
        ignore[:, [0, 2]] = out_w - ignore[:, [2, 0]]
    if rng.random() < 0.5:
        img = img[::-1]
        boxes[:, [1, 3]] = out_h - boxes[:, [3, 1]]
        ignore[:, [1, 3]] = out_h - ignore[:, [3, 1]]
    img = np.ascontiguousarray(img)
    # Lamp, white balance, gamma.
    img = img * rng.uniform(0.7, 1.3) * rng.uniform(0.88, 1.12, size=3).astype(np.float32)
    img = np.clip(img, 0, 1) ** rng.uniform(0.8, 1.25)
    if rng.random() < 0.5:  # a brightness gradient across the field
        gy, gx = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
        a = rng.uniform(0, 2 * np.pi)
        ramp = (np.cos(a) * gx / out_w + np.sin(a) * gy / out_h)
        img = img * (1 + rng.uniform(-0.2, 0.2) * (ramp - ramp.mean()))[..., None]
    if rng.random() < 0.4:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 1.2))
    if rng.random() < 0.6:
        img = img + rng.normal(0, rng.uniform(0, 6 / 255), img.shape).astype(np.float32)
    img = np.clip(img, 0, 1)
    if rng.random() < 0.5:
        q = int(rng.integers(40, 96))
        ok, enc = cv2.imencode(".jpg", (img * 255 + 0.5).astype(np.uint8)[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, q])
        img = cv2.imdecode(enc, cv2.IMREAD_COLOR)[..., ::-1].astype(np.float32) / 255
    return np.ascontiguousarray(img, dtype=np.float32), boxes, ignore
