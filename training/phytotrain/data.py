"""Labelled data: a folder <class>/<file> or a CSV path,label[,group][,split]; the grouped,
stratified split; and the in-memory cache of decoded crops."""
import csv
import hashlib
import os
import random
from pathlib import Path

import cv2
import numpy as np

from . import contract

IMAGE_EXT = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp"}


class Item:
    __slots__ = ("path", "rel", "label", "group", "split")

    def __init__(self, path, rel, label, group, split=""):
        self.path, self.rel, self.label, self.group, self.split = path, rel, label, group, split


def read_items(source, group_col="group"):
    """Items of a folder (<class>/<file>, every file its own group) or a CSV with path,
    label and optionally a group column (group, source_group) and a split column. Returns
    (items, root): paths in items are absolute, rel is relative to root."""
    source = Path(source)
    items = []
    if source.is_dir():
        root = source
        empty = []
        for cls in sorted(p for p in source.iterdir() if p.is_dir()):
            n = len(items)
            for f in sorted(cls.rglob("*")):
                if f.suffix.lower() in IMAGE_EXT and f.is_file():
                    rel = f.relative_to(root).as_posix()
                    items.append(Item(str(f), rel, cls.name, rel))
            if len(items) == n:
                empty.append(cls.name)
        exts = " ".join(sorted(IMAGE_EXT))
        if not items:
            raise SystemExit(f"{source}: no images in <class>/<file> folders ({exts}): put each class's images "
                             "in a folder named after the class")
        if empty:
            # A class folder without images is a class the scientist meant to have: left
            # out silently, the pack would lack it and say nothing.
            raise SystemExit(f"{source}: class folder(s) {', '.join(repr(e) for e in empty)} hold no images ({exts}): "
                             "add its images, or move the folder out of the data folder")
        return items, root
    root = source.parent
    with open(source, newline="") as fh:
        r = csv.DictReader(fh)
        cols = {c.strip().lower(): c for c in (r.fieldnames or [])}
        if "path" not in cols or "label" not in cols:
            raise SystemExit(f"{source}: its first line {r.fieldnames} is not a header with path and label columns: "
                             "add the line path,label,group (group optional) at the top")
        gcol = next((cols[c] for c in (group_col, "group", "source_group") if c in cols), None)
        scol = cols.get("split")
        bad = []  # (line, what): every faulty row is named at once, not the first alone
        for line, row in enumerate(r, start=2):
            rel = (row[cols["path"]] or "").strip()
            label = (row[cols["label"]] or "").strip()
            if not rel or not label:
                bad.append((line, f"no {'path' if not rel else 'label'}"))
                continue
            p = rel if os.path.isabs(rel) else str(root / rel)
            if not os.path.isfile(p):
                bad.append((line, f"{rel} does not exist ({p})"))
                continue
            g = row[gcol] if gcol and row[gcol] else rel
            s = row[scol].strip() if scol and row[scol] else ""
            if s not in ("", "train", "val"):
                bad.append((line, f"split {s!r}: use train or val"))
                continue
            items.append(Item(p, rel, label, g, s))
        if not bad and any(it.split for it in items):
            # A list with a split keeps it: a row left without one was in neither set.
            # (With no bad row, item i is line i + 2.)
            bad = [(n, "no split (train or val), where other rows have one") for n, it in enumerate(items, start=2)
                   if not it.split]
        if bad:
            shown = "; ".join(f"line {n}: {w}" for n, w in bad[:10]) + (f"; and {len(bad) - 10} more" if len(bad) > 10 else "")
            raise SystemExit(f"{source}: {len(bad)} row(s) cannot be used ({shown}). Paths are relative to the list's "
                             f"folder {root}: correct or remove those rows")
    if not items:
        raise SystemExit(f"{source}: no rows under its header: add one line path,label[,group] per image")
    return items, root


def read_images(items, fn=None):
    """Yields fn(path) (default contract.read_bgr) for every item, one at a time (the
    decoded images are not all held); a file that cannot be decoded (not an image, cut
    short) stops the run at the end, naming every such file at once and the fix, instead
    of a traceback at the first."""
    fn = fn or contract.read_bgr
    bad = []
    for it in items:
        try:
            img = fn(it.path)
        except (ValueError, cv2.error):
            bad.append(it.path)
            continue
        yield img
    if bad:
        shown = ", ".join(bad[:10]) + (f" and {len(bad) - 10} more" if len(bad) > 10 else "")
        raise SystemExit(f"{len(bad)} file(s) cannot be decoded as images (not an image, or cut short): {shown}: "
                         "replace or remove them (from the class folder, or their rows from the list)")


def stratified_group_folds(items, k, seed):
    """Assign every group to one of k folds so each fold's class mix follows the whole's
    (the greedy algorithm of scikit-learn's StratifiedGroupKFold, shuffle=True): groups in
    random order (fixed seed), the most class-concentrated first, each into the fold that
    keeps the per-class spread across folds smallest, ties to the smaller fold. Returns
    {group: fold}."""
    labels = sorted({it.label for it in items})
    li = {l: i for i, l in enumerate(labels)}
    groups = {}
    for it in items:
        groups.setdefault(it.group, np.zeros(len(labels)))[li[it.label]] += 1
    names = sorted(groups)
    random.Random(seed).shuffle(names)
    counts = np.stack([groups[g] for g in names])
    order = np.argsort(-np.std(counts, axis=1), kind="stable")
    total = counts.sum(0)
    per_fold = np.zeros((k, len(labels)))
    assign = {}
    for gi in order:
        best, best_key = None, None
        for f in range(k):
            per_fold[f] += counts[gi]
            spread = np.mean(np.std(per_fold / total, axis=0))
            per_fold[f] -= counts[gi]
            key = (round(spread, 12), per_fold[f].sum())
            if best_key is None or key < best_key:
                best, best_key = f, key
        per_fold[best] += counts[gi]
        assign[names[gi]] = best
    return assign


def split_items(items, k=5, val_fold=0, seed=2024):
    """Use the list's split column when it has one; else the grouped stratified split,
    fold val_fold of k as validation."""
    if any(it.split for it in items):
        return items
    folds = stratified_group_folds(items, k, seed)
    for it in items:
        it.split = "val" if folds[it.group] == val_fold else "train"
    return items


def write_split(items, path):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "label", "group", "split"])
        for it in items:
            w.writerow([it.rel, it.label, it.group, it.split])


def _cache_key(items, tag):
    h = hashlib.sha256(tag.encode())
    for it in items:
        st = os.stat(it.path)
        h.update(f"{it.path}|{st.st_size}|{int(st.st_mtime)}\n".encode())
    return h.hexdigest()[:16]


def load_crops(items, channels, max_side, cache_dir, log=print):
    """Decode every item once (cv2.imread, IMREAD_COLOR) into the pack's channels, shrunk
    with INTER_AREA so its longer side is at most max_side (augmentation headroom: training
    works from these), kept in memory and cached in an npz under cache_dir. Returns a list
    of uint8 arrays."""
    key = _cache_key(items, f"crops|{channels}|{max_side}")
    f = Path(cache_dir) / f"crops-{key}.npz"
    if f.exists():
        z = np.load(f)
        flat, offs, shapes = z["flat"], z["offs"], z["shapes"]
        out = [flat[offs[i]:offs[i + 1]].reshape([s for s in shapes[i] if s > 0]) for i in range(len(items))]
        log(f"crops: {len(out)} from cache {f}")
        return out
    out = []
    for i, (it, img) in enumerate(zip(items, read_images(items))):
        img = contract.to_channels(img, channels)
        h, w = img.shape[:2]
        s = max_side / max(h, w)
        if s < 1:
            img = cv2.resize(img, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
        out.append(np.ascontiguousarray(img))
        if (i + 1) % 5000 == 0:
            log(f"crops: decoded {i + 1}/{len(items)}")
    _save(f, out)
    log(f"crops: {len(out)} decoded, cached in {f}")
    return out


def load_fitted(items, spec, cache_dir, log=print):
    """The exact contract's steps 1-3 (decode, channels, resize) for evaluation: uint8 crops
    that finish() turns into the tensor the app computes. Cached like load_crops."""
    key = _cache_key(items, f"fitted|{spec.channels}|{spec.resize}|{spec.w}x{spec.h}")
    f = Path(cache_dir) / f"fitted-{key}.npz"
    if f.exists():
        z = np.load(f)
        flat, offs, shapes = z["flat"], z["offs"], z["shapes"]
        log(f"fitted: {len(items)} from cache {f}")
        return [flat[offs[i]:offs[i + 1]].reshape([s for s in shapes[i] if s > 0]) for i in range(len(items))]
    out = [contract.fitted(img, spec) for img in read_images(items)]
    _save(f, out)
    log(f"fitted: {len(out)} preprocessed, cached in {f}")
    return out


def _save(f, arrays):
    f.parent.mkdir(parents=True, exist_ok=True)
    shapes = np.zeros((len(arrays), 3), np.int64)
    for i, a in enumerate(arrays):
        shapes[i, :a.ndim] = a.shape
    offs = np.zeros(len(arrays) + 1, np.int64)
    offs[1:] = np.cumsum([a.size for a in arrays])
    flat = np.concatenate([a.reshape(-1) for a in arrays]) if arrays else np.zeros(0, np.uint8)
    tmp = f.with_suffix(".tmp.npz")
    np.savez(tmp, flat=flat, offs=offs, shapes=shapes)
    os.replace(tmp, f)


def dhash(img, bits=16):
    """A difference hash of bits x bits comparisons of the gray thumbnail."""
    g = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    t = cv2.resize(g, (bits + 1, bits), interpolation=cv2.INTER_AREA).astype(np.int16)
    return (t[:, 1:] > t[:, :-1]).reshape(-1)


def merge_duplicate_groups(items, max_bits=6):
    """Join the groups of near-identical images (difference hashes within max_bits of 256),
    so a copy of a tile in another group cannot leak across the split. Returns the number
    of items whose group changed."""
    hs = np.stack([dhash(img) for img in read_images(items)]).astype(np.uint8)
    parent = {}

    def find(g):
        while parent.get(g, g) != g:
            g = parent[g]
        return g

    for i in range(len(items)):
        d = (hs[i + 1:] != hs[i]).sum(1)
        for j in np.nonzero(d <= max_bits)[0] + i + 1:
            a, b = find(items[i].group), find(items[j].group)
            if a != b:
                parent[max(a, b)] = min(a, b)
    changed = 0
    for it in items:
        g = find(it.group)
        if g != it.group:
            it.group = g
            changed += 1
    return changed
