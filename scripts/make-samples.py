#!/usr/bin/env python3
"""Copies the bundled sample of NDSB val images from ../shared into assets/samples/ndsb-val.

Run once by a developer (CI never runs it): the product and its tests read the copy, never
../shared. The sample is stratified: 12% of every class's val images, at least one, picked
with a fixed seed, so its class mix follows the val split and its top-1 can be compared with
the pack card's val figures.
"""
import csv, os, random, shutil, collections

SRC = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "ndsb")
DST = os.path.join(os.path.dirname(__file__), "..", "assets", "samples", "ndsb-val")
FRACTION, SEED = 0.12, 20261126

rows = [r for r in csv.DictReader(open(os.path.join(SRC, "split.csv"))) if r["split"] == "val"]
by_class = collections.defaultdict(list)
for r in rows:
    by_class[r["label"]].append(r)
rng = random.Random(SEED)
picked = []
for label in sorted(by_class):
    items = sorted(by_class[label], key=lambda r: r["path"])
    n = max(1, round(FRACTION * len(items)))
    picked += sorted(rng.sample(items, n), key=lambda r: r["path"])
if os.path.exists(DST):
    shutil.rmtree(DST)
for r in picked:
    rel = os.path.relpath(r["path"], "images")
    os.makedirs(os.path.join(DST, os.path.dirname(rel)), exist_ok=True)
    shutil.copyfile(os.path.join(SRC, r["path"]), os.path.join(DST, rel))
with open(os.path.join(DST, "labels.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["path", "label", "split"])
    for r in picked:
        w.writerow([os.path.relpath(r["path"], "images"), r["label"], "val"])
print(f"{len(picked)} images in {len(by_class)} classes -> {DST}")
