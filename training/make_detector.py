#!/usr/bin/python3
"""Trains the learned particle detector on hand-boxed real frames and writes it as a
detector folder the app loads (detector.json + detector.onnx + README.md). See
docs/detector.md.

  make_detector.py --out assets/detectors/brightfield-esp32-320
      trains on testdata/real-frames-train (split train), chooses the checkpoint and the
      threshold on testdata/real-frames split tune; the test split is not read unless
      --report-test is given, once, for the card.
"""
import argparse
import copy
import json
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from phytodetect import data, train  # noqa: E402
from phytodetect.model import MULTIPLE, STRIDE, Detector, Exported  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def padded(img):
    """The frame padded right and bottom to multiples of 32 by repeating its edge (the app
    does the same, inference/detector.go)."""
    h, w = img.shape[:2]
    ph, pw = -h % MULTIPLE, -w % MULTIPLE
    return np.pad(img, ((0, ph), (0, pw), (0, 0)), mode="edge")


def predict(model, frames_rgb):
    model.eval()
    out = []
    with torch.no_grad():
        for img in frames_rgb:
            x = torch.from_numpy(padded(img).transpose(2, 0, 1).copy())[None]
            peaks, geom = Exported(model)(x)
            out.append((peaks.numpy(), geom.numpy()))
    return out


THRESHOLDS = [round(0.05 * i, 2) for i in range(2, 17)]
# golden.json lists what the network finds from this score on: low, so that the Go test
# compares many boxes, whatever threshold the app uses.
GOLDEN_THRESHOLD = 0.2


def evaluate(outputs, frames, images, min_iou=0.3):
    """Recall and precision at each threshold, summed over frames."""
    res = {}
    for t in THRESHOLDS:
        hits = truth = found = 0
        for (peaks, geom), fr, img in zip(outputs, frames, images):
            boxes = [b for _, b in train.decode(peaks, geom, t, img.shape[1], img.shape[0])]
            h, n, f = train.score(fr.boxes, fr.ignore, boxes, min_iou)
            hits, truth, found = hits + h, truth + n, found + f
        res[t] = (hits / max(truth, 1), hits / max(found, 1), hits, truth, found)
    return res


def choose(res, min_precision):
    """The threshold with the best recall at a precision of at least min_precision (else
    the best F1): the goal asks for recall with precision held."""
    ok = [(r, p, t) for t, (r, p, *_) in res.items() if p >= min_precision]
    if ok:
        r, p, t = max(ok)
        return t, r, p
    t = max(res, key=lambda t: 2 * res[t][0] * res[t][1] / max(res[t][0] + res[t][1], 1e-9))
    return t, res[t][0], res[t][1]


def write_golden(model, frames, threshold, path):
    """What the exported network finds on a few frames, read as the app reads them (EXIF
    orientation applied, OpenCV's decoder), for the Go test that the app's decoding is the
    recipe's (inference: TestDetectorGolden)."""
    import cv2

    out = []
    for fr in frames:
        bgr = cv2.imread(fr.path, cv2.IMREAD_COLOR)
        img = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.float32) / 255
        (peaks, geom), = predict(model, [img])
        found = train.decode(peaks, geom, threshold, img.shape[1], img.shape[0])
        out.append({"frame": os.path.relpath(fr.path, ROOT), "detections": [{"score": round(s, 4), "box": b} for s, b in found]})
    with open(path, "w") as f:
        json.dump({"threshold": threshold, "frames": out}, f, indent=1)
        f.write("\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", default=os.path.join(ROOT, "testdata/real-frames-train/annotations.csv"))
    ap.add_argument("--val", default=os.path.join(ROOT, "testdata/real-frames/annotations.csv"))
    ap.add_argument("--out", required=True, help="detector folder to write")
    ap.add_argument("--work", help="folder for the chosen checkpoint (best.pt), for later study")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--crop", default="256x192", help="training crop, WxH, multiples of 32")
    ap.add_argument("--width", type=int, default=16)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=20261202)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--min-precision", type=float, default=0.78)
    ap.add_argument("--report-test", action="store_true", help="also score the held-out test split (once, for the card)")
    ap.add_argument("--threshold", type=float, help="the score from which the app takes a box (default: chosen on the tune split by --min-precision)")
    ap.add_argument("--from-checkpoint", metavar="PT", help="export a trained checkpoint (a --work folder's best.pt) without training")
    a = ap.parse_args(argv)
    cw, ch = (int(v) for v in a.crop.split("x"))
    if cw % MULTIPLE or ch % MULTIPLE:
        ap.error(f"--crop {a.crop}: both sides must be multiples of {MULTIPLE}")

    torch.manual_seed(a.seed)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    rng = np.random.default_rng(a.seed)
    tr = data.read_annotations(a.train, {"train"})
    va = data.read_annotations(a.val, {"tune"})
    if not tr:
        sys.exit(f"make_detector: {a.train} has no frames of split train")
    tr_img = [data.load_rgb(f.path) for f in tr]
    # Validation as the app sees the frames: upright (EXIF applied), boxes turned with them.
    va_img = []
    for f in va:
        img, f.boxes, f.ignore = data.upright(f.path, f.boxes, f.ignore)
        f.boxes, f.ignore = [tuple(b) for b in f.boxes.tolist()], [tuple(b) for b in f.ignore.tolist()]
        va_img.append(img)
    print(f"train: {len(tr)} frames, {sum(len(f.boxes) for f in tr)} objects; val (tune): {len(va)} frames, {sum(len(f.boxes) for f in va)} objects", flush=True)

    if a.from_checkpoint:
        ck = torch.load(a.from_checkpoint)
        a.width = ck["width"]
    model = Detector(a.width)
    ema = copy.deepcopy(model)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
    best = None
    t0 = time.time()
    if a.from_checkpoint:
        ema.load_state_dict(ck["state"])
        res = evaluate(predict(ema, va_img), va, va_img)
        t, r, p = choose(res, a.min_precision)
        best = {"key": None, "step": ck.get("step", 0), "threshold": t, "recall": r, "precision": p, "state": ck["state"], "table": res}
    for step in range(1, 0 if a.from_checkpoint else a.steps + 1):
        lr = a.lr * 0.5 * (1 + math.cos(math.pi * step / a.steps)) * min(1, step / 100)
        for g in opt.param_groups:
            g["lr"] = lr
        xs, hs, ws, idx, geo = [], [], [], [], []
        turn = rng.random() < 0.5  # one orientation per batch (the crops must stack)
        bw, bh = (ch, cw) if turn else (cw, ch)
        for _ in range(a.batch):
            i = int(rng.integers(len(tr)))
            img, boxes, ign = tr_img[i], tr[i].boxes, tr[i].ignore
            if turn:
                img, boxes, ign = data.transposed(img, boxes, ign)
            img, boxes, ign = data.augment(img, boxes, ign, rng, bw, bh)
            heat, weight, ix, gt = train.targets(boxes, ign, bw, bh)
            xs.append(img.transpose(2, 0, 1))
            hs.append(heat)
            ws.append(weight)
            idx.append(torch.from_numpy(ix))
            geo.append(torch.from_numpy(gt))
        model.train()
        logits, geom = model(torch.from_numpy(np.stack(xs)))
        focal, reg = train.loss(logits, geom, torch.from_numpy(np.stack(hs)), torch.from_numpy(np.stack(ws)), idx, geo)
        opt.zero_grad()
        (focal + reg).backward()
        opt.step()
        with torch.no_grad():
            d = min(0.998, (1 + step) / (10 + step))
            for pe, pm in zip(ema.state_dict().values(), model.state_dict().values()):
                if pe.dtype.is_floating_point:
                    pe.mul_(d).add_(pm, alpha=1 - d)
                else:
                    pe.copy_(pm)
        if step % 50 == 0:
            print(f"step {step}: focal {focal.item():.3f} geometry {reg.item():.3f} lr {lr:.5f} ({(time.time() - t0) / step:.2f} s/step)", flush=True)
        if step % a.eval_every == 0 or step == a.steps:
            res = evaluate(predict(ema, va_img), va, va_img)
            t, r, p = choose(res, a.min_precision)
            # Recall where precision holds; F1 until it does.
            key = (p >= a.min_precision, r if p >= a.min_precision else 2 * r * p / max(r + p, 1e-9))
            print(f"  val (tune) at step {step}: threshold {t}: recall {r:.3f} precision {p:.3f}; " +
                  " ".join(f"{th}:{v[0]:.2f}/{v[1]:.2f}" for th, v in res.items() if th <= 0.5), flush=True)
            if best is None or key > best["key"]:
                best = {"key": key, "step": step, "threshold": t, "recall": r, "precision": p, "state": copy.deepcopy(ema.state_dict()), "table": res}

    model.load_state_dict(best["state"])
    model.eval()
    if a.threshold is not None:
        if not 0 < a.threshold < 1:
            ap.error(f"--threshold {a.threshold}: want a score between 0 and 1")
        r, p = best["table"].get(a.threshold, (float("nan"), float("nan")))[:2]
        best.update(threshold=a.threshold, recall=r, precision=p)
    if a.work:
        os.makedirs(a.work, exist_ok=True)
        torch.save({"state": best["state"], "width": a.width, "step": best["step"], "steps": a.steps, "minutes": round((time.time() - t0) / 60, 1)},
                   os.path.join(a.work, "best.pt"))
    os.makedirs(a.out, exist_ok=True)
    onnx_path = os.path.join(a.out, "detector.onnx")
    torch.onnx.export(Exported(model), torch.zeros(1, 3, 256, 320), onnx_path, input_names=["frame"], output_names=["peaks", "geometry"],
                      dynamic_axes={"frame": {2: "height", 3: "width"}, "peaks": {2: "h2", 3: "w2"}, "geometry": {2: "h2", 3: "w2"}}, opset_version=13)
    import onnx

    onnx.checker.check_model(onnx.load(onnx_path))
    meta = {
        "format": 1,
        "name": os.path.basename(os.path.normpath(a.out)),
        "model": "detector.onnx",
        "input": {"name": "frame", "layout": "NCHW", "channels": "RGB", "range": [0, 1], "multiple": MULTIPLE, "pad": "edge"},
        "outputs": {"peaks": "peaks", "geometry": "geometry"},
        "stride": STRIDE,
        "threshold": best["threshold"],
        "min_side": 5,
        "nms_iou": 0.6,
        "trained": {"frames": len(tr), "objects": sum(len(f.boxes) for f in tr), "steps": ck["steps"] if a.from_checkpoint else a.steps,
                    "chosen_step": best["step"], "batch": a.batch, "crop": a.crop, "width": a.width, "seed": a.seed,
                    "minutes": ck["minutes"] if a.from_checkpoint else round((time.time() - t0) / 60, 1)},
        # The boxes alone at the threshold (the app adds them to the thresholds' objects:
        # docs/detector.md has what that gives).
        "boxes_alone_tune": {"frames": len(va), "recall_iou30": round(best["recall"], 3), "precision_iou30": round(best["precision"], 3)},
    }
    if a.report_test:
        te = data.read_annotations(a.val, {"test"})
        te_img = [data.load_rgb(f.path) for f in te]
        out = predict(model, te_img)
        for iou_min in (0.3, 0.5):
            r, p, h, n, f = evaluate(out, te, te_img, iou_min)[best["threshold"]]
            meta[f"test_iou{int(iou_min * 100)}"] = {"frames": len(te), "recall": round(r, 3), "precision": round(p, 3), "hits": h, "truth": n, "found": f}
            print(f"TEST (held out) IoU {iou_min}: recall {r:.3f} precision {p:.3f} ({h} of {n}, {f} counted)", flush=True)
    write_golden(model, va[:4], GOLDEN_THRESHOLD, os.path.join(a.out, "golden.json"))
    with open(os.path.join(a.out, "detector.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print("val table (threshold: recall precision):", {t: (round(v[0], 3), round(v[1], 3)) for t, v in best["table"].items()})
    print(f"wrote {a.out}: step {best['step']}, threshold {best['threshold']}, tune recall {best['recall']:.3f} precision {best['precision']:.3f}")


if __name__ == "__main__":
    main()
