"""Evaluation figures of a pack card."""
import csv
import math

import numpy as np


def evaluate(probs, y, labels, n_bins=15):
    """probs (n, k) float, y (n,) int. Returns a dict: top1, top5, logloss, macro_f1 and
    weighted_f1 (over the classes with validation support), ece (15 equal-width bins of the
    top probability), per_class (precision, recall, f1, support) and confusion (rows true,
    columns predicted)."""
    probs = np.asarray(probs, np.float64)
    y = np.asarray(y)
    n, k = probs.shape
    pred = probs.argmax(1)
    conf = np.zeros((k, k), np.int64)
    np.add.at(conf, (y, pred), 1)
    top5 = np.argsort(-probs, axis=1)[:, :min(5, k)]
    out = {
        "n": int(n),
        "top1": float((pred == y).mean()),
        "top5": float(np.mean([y[i] in top5[i] for i in range(n)])),
        "logloss": float(-np.mean(np.log(np.maximum(probs[np.arange(n), y], 1e-15)))),
    }
    per, f1s, sup = {}, [], []
    for c in range(k):
        tp = conf[c, c]
        s = conf[c].sum()
        p_den = conf[:, c].sum()
        prec = tp / p_den if p_den else 0.0
        rec = tp / s if s else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        per[labels[c]] = {"precision": round(float(prec), 4), "recall": round(float(rec), 4),
                          "f1": round(float(f1), 4), "support": int(s), "predicted": int(p_den)}
        if s:
            f1s.append(f1)
            sup.append(s)
    out["macro_f1"] = float(np.mean(f1s))
    out["weighted_f1"] = float(np.average(f1s, weights=sup))
    top = probs.max(1)
    ece = 0.0
    edges = np.linspace(0, 1, n_bins + 1)
    for b in range(n_bins):
        m = (top > edges[b]) & (top <= edges[b + 1])
        if m.any():
            ece += m.mean() * abs((pred[m] == y[m]).mean() - top[m].mean())
    out["ece"] = float(ece)
    out["per_class"] = per
    out["confusion"] = conf.tolist()
    return out


def summary(m, keys=("top1", "macro_f1", "weighted_f1", "logloss", "ece")):
    return " ".join(f"{k} {m[k]:.4f}" for k in keys if k in m)


def write_confusion(path, conf, labels):
    """The matrix as CSV (header true\\pred,labels...; one row per true label), quoted
    where a label needs it: a label with a comma ("Copepod, cyclopoid") split its row."""
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["true\\pred"] + list(labels))
        for l, row in zip(labels, conf):
            w.writerow([l] + [str(v) for v in row])


def mean_sd(values):
    v = np.asarray(values, np.float64)
    return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0


def dumps(obj):
    """JSON with an indent of 1, lists of scalars kept on one line when short (and lists of
    numbers always), so the pack manifest stays readable."""
    import json
    import re
    scalar = r'(?:-?[\d.eE+-]+|"[^"\n]*"|true|false|null)'
    pattern = re.compile(r"\[\n((?:[ ]*" + scalar + r",?\n)+)[ ]*\]")

    def join(m):
        items = [t.strip().rstrip(",") for t in m.group(1).strip("\n").split("\n")]
        one = "[" + ", ".join(items) + "]"
        numbers = all(re.fullmatch(r"-?[\d.eE+-]+", t) for t in items)
        return one if numbers or len(one) <= 100 else m.group(0)

    return pattern.sub(join, json.dumps(obj, indent=1, ensure_ascii=False))
