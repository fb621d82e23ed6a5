#!/usr/bin/python3
"""A base trained elsewhere (an accelerator lent for a while, docs/training.md), brought
back as the weights that ship: the EMA of a finished checkpoint, in npz pieces small
enough for the way back, and here turned into a finished checkpoint that make_pack.py
resumes at its end (train.finished) and builds the pack from.

    ema_chunks.py pack WORK/base.pt OUTDIR    # there: OUTDIR/ema.npz.00 ... and meta.json
    ema_chunks.py unpack INDIR WORK/base.pt   # here: the finished checkpoint
"""
import glob
import io
import json
import os
import sys

import numpy as np
import torch

CHUNK = 15 * 1000 * 1000


def pack(ckpt, out):
    # The checkpoint holds the random generators' states too: newer torch refuses those
    # unless told the file is trusted (it is ours).
    st = torch.load(ckpt, map_location="cpu", weights_only=False)
    buf = io.BytesIO()
    np.savez(buf, **{k: v.numpy() for k, v in st["ema"].items()})
    b = buf.getvalue()
    os.makedirs(out, exist_ok=True)
    for i in range(0, len(b), CHUNK):
        with open(os.path.join(out, f"ema.npz.{i // CHUNK:02d}"), "wb") as fh:
            fh.write(b[i:i + CHUNK])
    meta = {k: st[k] for k in ("epoch", "step", "ema_steps", "seconds", "trained_on", "parallel") if k in st}
    if "trained_on" not in meta:  # a checkpoint older than the record: this machine
        where = f"{torch.cuda.get_device_name(0)} (accelerator)" if torch.cuda.is_available() else "CPU"
        meta["trained_on"] = f"{where}, {os.cpu_count()} CPUs, torch {torch.__version__}"
    with open(os.path.join(out, "meta.json"), "w") as fh:
        json.dump(meta, fh)
    print(f"{ckpt}: EMA in {(len(b) + CHUNK - 1) // CHUNK} pieces under {out}; {meta}")


def unpack(src, ckpt):
    parts = sorted(glob.glob(os.path.join(src, "ema.npz.*")))
    if not parts or not os.path.exists(os.path.join(src, "meta.json")):
        raise SystemExit(f"{src}: no ema.npz.* pieces and meta.json (made by 'ema_chunks.py pack')")
    z = np.load(io.BytesIO(b"".join(open(f, "rb").read() for f in parts)))
    with open(os.path.join(src, "meta.json")) as fh:
        st = json.load(fh)
    st["ema"] = {k: torch.from_numpy(z[k].copy()) for k in z.files}
    os.makedirs(os.path.dirname(os.path.abspath(ckpt)), exist_ok=True)
    torch.save(st, ckpt)
    print(f"{ckpt}: finished checkpoint, epoch {st.get('epoch')}, trained on {st.get('trained_on')}")


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("pack", "unpack"):
        raise SystemExit(__doc__)
    (pack if sys.argv[1] == "pack" else unpack)(sys.argv[2], sys.argv[3])
