#!/usr/bin/python3
"""Writes testdata/tiny-rgb: a format-2 pack of two tiny random networks (a few KB each) with
probabilities and features outputs (4 and 6 features: the manifest's features shape is
[-1, -1]), for the classifier tests. Run from inference/: /usr/bin/python3 testdata/gen_tiny.py
"""
import json
from pathlib import Path

import torch
import torch.nn as nn

OUT = Path(__file__).resolve().parent / "tiny-rgb"


class Tiny(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.conv = nn.Conv2d(3, d, 5, 2)
        self.fc = nn.Linear(d, 3)

    def forward(self, x):
        f = torch.relu(self.conv(x)).mean(dim=(2, 3))
        return torch.softmax(self.fc(f), 1), f


def main():
    torch.manual_seed(1)
    OUT.mkdir(exist_ok=True)
    for name, d in (("base", 4), ("optimised", 6)):
        net = Tiny(d).eval()
        torch.onnx.export(net, torch.zeros(1, 3, 32, 32), str(OUT / f"{name}.onnx"), input_names=["image"],
                          output_names=["probabilities", "features"],
                          dynamic_axes={"image": {0: "N"}, "probabilities": {0: "N"}, "features": {0: "N"}}, opset_version=17)
    m = {"format": 2, "name": "tiny-rgb", "labels": ["a", "b", "c"],
         "input": {"name": "image", "shape": [-1, 3, 32, 32], "dtype": "float32", "channels": "rgb", "resize": "fit",
                   "background": {"method": "percentile", "q": 0.95}, "pad": 1.0,
                   "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]},
         "output": {"name": "probabilities", "shape": [-1, 3], "activation": "softmax"},
         "features": {"name": "features", "shape": [-1, -1]},
         "models": {"base": {"file": "base.onnx", "arch": "tiny conv, random", "features_dim": 4},
                    "optimised": {"file": "optimised.onnx", "arch": "tiny conv, random, 6 features", "features_dim": 6}}}
    (OUT / "pack.json").write_text(json.dumps(m, indent=1) + "\n")


if __name__ == "__main__":
    main()
