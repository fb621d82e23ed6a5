"""Targets, loss, decoding and scoring of the detector (CenterNet's recipe, cut to one
class: every particle is an object; telling cells from debris is the classifier's job)."""
import math

import numpy as np
import torch
import torch.nn.functional as F

from .model import STRIDE


def gaussian_radius(h, w, min_overlap=0.7):
    """CenterNet's radius: how far a centre may be off and still give a box of min_overlap
    IoU with the true one (from its reference implementation's three cases)."""
    a1, b1, c1 = 1, h + w, w * h * (1 - min_overlap) / (1 + min_overlap)
    r1 = (b1 + math.sqrt(b1**2 - 4 * a1 * c1)) / 2
    a2, b2, c2 = 4, 2 * (h + w), (1 - min_overlap) * w * h
    r2 = (b2 + math.sqrt(b2**2 - 4 * a2 * c2)) / 2
    a3, b3, c3 = 4 * min_overlap, -2 * min_overlap * (h + w), (min_overlap - 1) * w * h
    r3 = (b3 + math.sqrt(b3**2 - 4 * a3 * c3)) / 2
    return min(r1, r2, r3)


def targets(boxes, ignore, out_w, out_h):
    """Heatmap (1 x oh x ow), loss weight (0 inside ignore regions away from any object),
    and the geometry targets at each object's centre cell (index, offset x, y, log w, h)."""
    ow, oh = out_w // STRIDE, out_h // STRIDE
    heat = np.zeros((oh, ow), np.float32)
    weight = np.ones((oh, ow), np.float32)
    for b in ignore:
        x0, y0 = int(max(0, b[0] // STRIDE)), int(max(0, b[1] // STRIDE))
        x1, y1 = int(min(ow, math.ceil(b[2] / STRIDE))), int(min(oh, math.ceil(b[3] / STRIDE)))
        weight[y0:y1, x0:x1] = 0
    idx, geo = [], []
    ys, xs = np.mgrid[0:oh, 0:ow].astype(np.float32)
    for b in boxes:
        w, h = b[2] - b[0], b[3] - b[1]
        cx, cy = (b[0] + b[2]) / 2 / STRIDE, (b[1] + b[3]) / 2 / STRIDE
        ix, iy = min(ow - 1, int(cx)), min(oh - 1, int(cy))
        r = max(0.0, gaussian_radius(h / STRIDE, w / STRIDE))
        sigma = max((2 * int(r) + 1) / 6, 0.5)
        g = np.exp(-((xs - ix) ** 2 + (ys - iy) ** 2) / (2 * sigma**2))
        np.maximum(heat, g, out=heat)
        idx.append(iy * ow + ix)
        geo.append([cx - ix, cy - iy, math.log(max(w, 1)), math.log(max(h, 1))])
    weight[heat > 0.05] = 1  # an object in a haze is still taught
    return heat[None], weight[None], np.array(idx, np.int64), np.array(geo, np.float32).reshape(-1, 4)


def loss(logits, geom, heat, weight, idx, geo):
    """Focal loss on the heatmap (alpha 2, beta 4) over the number of objects, plus L1 on
    the centre offsets and log sizes at the true centres."""
    p = torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4)
    pos = (heat > 0.999).float()
    pos_l = -torch.log(p) * (1 - p) ** 2 * pos
    neg_l = -torch.log(1 - p) * p**2 * (1 - heat) ** 4 * (1 - pos)
    n = pos.sum().clamp(min=1)
    focal = ((pos_l + neg_l) * weight).sum() / n
    g = geom.flatten(2)  # N x 4 x cells
    reg = torch.zeros((), device=logits.device)
    k = 0
    for i in range(len(idx)):
        if len(idx[i]):
            pred = g[i][:, idx[i]].t()
            reg = reg + F.l1_loss(pred, geo[i], reduction="sum")
            k += len(idx[i])
    return focal, reg / max(k, 1)


def decode(peaks, geom, threshold, frame_w, frame_h, min_side=5):
    """Boxes [x0, y0, x1, y1) and scores from the exported outputs of one frame (numpy,
    1 x 1 x oh x ow and 1 x 4 x oh x ow); the same rule as the app's (inference/detector.go)."""
    ys, xs = np.nonzero(peaks[0, 0] > threshold)
    out = []
    for y, x in zip(ys, xs):
        ox, oy, lw, lh = geom[0, :, y, x]
        cx, cy = (x + ox) * STRIDE, (y + oy) * STRIDE
        w, h = math.exp(lw), math.exp(lh)
        b = [max(0, round(cx - w / 2)), max(0, round(cy - h / 2)), min(frame_w, round(cx + w / 2)), min(frame_h, round(cy + h / 2))]
        if max(b[2] - b[0], b[3] - b[1]) < min_side or b[2] <= b[0] or b[3] <= b[1]:
            continue
        out.append((float(peaks[0, 0, y, x]), b))
    out.sort(key=lambda t: -t[0])
    return suppress(out)


def iou(a, b):
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    i = ix * iy
    u = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - i
    return i / u if u > 0 else 0.0


def suppress(scored, limit=0.6):
    """Greedy non-maximum suppression: a box overlapping a higher-scored kept one by IoU
    limit or more is the same object seen from a second peak."""
    kept = []
    for s, b in scored:
        if all(iou(b, k) < limit for _, k in kept):
            kept.append((s, b))
    return kept


def covered_share(b, regions):
    w, h = b[2] - b[0], b[3] - b[1]
    if w <= 0 or h <= 0:
        return 0.0
    m = np.zeros((h, w), bool)
    for r in regions:
        x0, y0 = max(r[0], b[0]) - b[0], max(r[1], b[1]) - b[1]
        x1, y1 = min(r[2], b[2]) - b[0], min(r[3], b[3]) - b[1]
        if x1 > x0 and y1 > y0:
            m[int(y0) : int(y1), int(x0) : int(x1)] = True
    return m.mean()


def score(truth, ignore, found, min_iou=0.3):
    """Hits, truth, counted detections (excused left out): truth.Frame.Match's rule."""
    cand = sorted(((iou(t, f), ti, fi) for ti, t in enumerate(truth) for fi, f in enumerate(found) if iou(t, f) >= min_iou), reverse=True)
    tu, fu = set(), set()
    for _, ti, fi in cand:
        if ti in tu or fi in fu:
            continue
        tu.add(ti)
        fu.add(fi)
    excused = sum(1 for fi, f in enumerate(found) if fi not in fu and covered_share(f, ignore) >= 0.5)
    return len(tu), len(truth), len(found) - excused
