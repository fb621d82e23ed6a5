#!/usr/bin/python3
"""Write testdata/golden/contract.json: the tensors the Python contract (phytotrain.contract,
the recipe's preprocessing) gives for a few images under input specs that cover every
rule of docs/pack-format.md (gray and rgb, letterbox, fit and centre-crop, shrinking and
enlarging, background none and percentile, one and per-channel pad, mean/std, a non-square
input). inference's TestContractGolden checks Go's tensors against them bit for bit.
The images are copied into testdata/golden/contract/.

    /usr/bin/python3 training/golden_contract.py
"""
import hashlib
import json
import shutil
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from phytotrain import contract  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "testdata" / "golden" / "contract"
SHARED = ROOT.parent / "shared" / "data"

SOURCES = [
    (SHARED / "ctcb" / "train" / "Microcystis" / "Acoi_img1_1_ef595.jpg", "microcystis.jpg"),
    (SHARED / "ctcb" / "train" / "Raphidiopsis" / "Atlas_img2_1.png_daf2b.jpg", "raphidiopsis.jpg"),
    (SHARED / "ctcb" / "train" / "Anabaena" / "00a77.jpg", "anabaena.jpg"),
    (SHARED / "ndsb" / "images" / "protist_noctiluca", None),
]

SPECS = [
    {"shape": [-1, 1, 96, 96], "channels": "gray", "resize": "letterbox", "pad": 1.0},
    {"shape": [-1, 1, 64, 48], "channels": "gray", "resize": "fit", "background": {"method": "percentile", "q": 0.9},
     "pad": 0.5, "mean": [0.9], "std": [0.2]},
    {"shape": [-1, 3, 128, 128], "channels": "rgb", "resize": "fit", "background": {"method": "percentile", "q": 0.95},
     "pad": 1.0, "mean": [0.976628, 0.976628, 0.976628], "std": [0.107842, 0.107842, 0.107842]},
    {"shape": [-1, 3, 40, 56], "channels": "rgb", "resize": "centre-crop", "pad": [1.0, 0.5, 0.0]},
    {"shape": [-1, 3, 72, 72], "channels": "rgb", "resize": "letterbox", "background": {"method": "percentile", "q": 1.0},
     "pad": [0.2, 0.4, 0.6], "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]},
    {"shape": [-1, 1, 32, 32], "channels": "gray", "resize": "centre-crop", "background": {"method": "percentile", "q": 0.5}},
]


def synthetic():
    """A small colour PNG with an alpha channel (composited onto white), a 5x3
    one (enlarged), and a black one (background level under 16)."""
    rng = np.random.default_rng(7)
    a = rng.integers(0, 256, (37, 23, 4), dtype=np.uint8)
    cv2.imwrite(str(OUT / "alpha.png"), a)
    b = rng.integers(0, 256, (3, 5, 3), dtype=np.uint8)
    cv2.imwrite(str(OUT / "tiny.png"), b)
    c = rng.integers(0, 12, (30, 41, 3), dtype=np.uint8)
    cv2.imwrite(str(OUT / "dark.png"), c)
    return ["alpha.png", "tiny.png", "dark.png"]


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    names = []
    for src, name in SOURCES:
        if name is None:
            src = sorted(src.iterdir())[0]
            name = "noctiluca.jpg"
        shutil.copyfile(src, OUT / name)
        names.append(name)
    names += synthetic()
    cases = []
    for s in SPECS:
        spec = contract.InputSpec(dict(s, name="image", dtype="float32"))
        for n in names:
            t = contract.tensor_from_file(OUT / n, spec)
            cases.append({"image": n, "input": dict(s, name="image", dtype="float32"),
                          "sha256": hashlib.sha256(t.astype("<f4").tobytes()).hexdigest(),
                          "sum": float(np.sum(t, dtype=np.float64)),
                          "first": [float(v) for v in t.reshape(-1)[:4]]})
    doc = {"about": "tensors of phytotrain.contract (training/golden_contract.py); images in testdata/golden/contract/",
           "opencv": cv2.__version__, "cases": cases}
    (ROOT / "testdata" / "golden" / "contract.json").write_text(json.dumps(doc, indent=1) + "\n")
    print(f"{len(cases)} cases, {len(names)} images")


if __name__ == "__main__":
    main()
