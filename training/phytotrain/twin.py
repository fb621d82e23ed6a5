"""The pack's optimised model as the int8 twin of its base, made by `phytoscreen pack
optimise` (Go: static QDQ, per-channel int8 weights, calibrated on the training split)
and measured by `phytoscreen eval` (Go, ONNX Runtime): the figures in the card are the
ones the app reproduces. See docs/training.md."""
import csv
import hashlib
import json
import subprocess
from pathlib import Path

# The file pack optimise's per-layer report is kept in, in the pack (the card points to it).
REPORT_FILE = "quantisation.md"
# The heading that starts pack optimise's section of the README it writes.
REPORT_HEADING = "## Optimised model made by `phytoscreen pack optimise`"


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def run_eval(binary, pack, lst, root=None, split=None, confusion=None, model="optimised"):
    """`phytoscreen eval --format json` of one model of pack on a labelled list: its JSON
    (n, top1, top5, logloss, macro_f1, weighted_f1, ece, per_class_recall)."""
    cmd = [str(binary), "eval", "--pack", str(pack), "--model", model, "--format", "json"]
    if root:
        cmd += ["--root", str(root)]
    if split:
        cmd += ["--split", split]
    if confusion:
        cmd += ["--confusion", str(confusion)]
    cmd.append(str(lst))
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stderr.strip()}\nbuild the binary with 'make build' and check the list")
    return json.loads(r.stdout)


def read_confusion(path):
    """A confusion CSV (header true\\pred,labels...; one row per true label): labels, rows."""
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    labels = rows[0][1:]
    return labels, [[int(v) for v in r[1:]] for r in rows[1:]]


def val_metrics(ev, confusion, labels):
    """The card's metrics.val entry (as phytotrain.metrics.evaluate writes it, without the
    matrix) from Go's eval JSON and its confusion matrix: every label, support 0 included."""
    per_go = {r["label"]: r for r in ev.get("per_class_recall") or []}
    per = {}
    for j, l in enumerate(labels):
        predicted = sum(row[j] for row in confusion)
        r = per_go.get(l)
        if r is None:  # no val support: what metrics.evaluate writes
            per[l] = {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0, "predicted": predicted}
        else:
            per[l] = {"precision": round(r["precision"], 4), "recall": round(r["recall"], 4), "f1": round(r["f1"], 4),
                      "support": r["support"], "predicted": predicted}
    return {"n": ev["n"], "top1": ev["top1"], "top5": ev["top5"], "logloss": ev["logloss"], "macro_f1": ev["macro_f1"],
            "weighted_f1": ev["weighted_f1"], "ece": ev["ece"], "per_class": per}


def model_entry(go_entry, val, base_entry):
    """models.optimised: pack optimise's entry (file, arch, its quantisation report, what it
    was measured on) with the val figures of Go's eval, rounded as the base's are."""
    e = dict(go_entry)
    for k in ("top1", "top5", "logloss", "macro_f1", "weighted_f1", "ece"):
        e["val_" + k] = round(val[k], 4)
    if "top1_agreement_with_base" in e:
        e["top1_agreement_with_base"] = round(e["top1_agreement_with_base"], 4)
    if base_entry.get("features_dim"):
        e["features_dim"] = base_entry["features_dim"]  # the same network: the same embedding
    return e


def merge(manifest, twin_manifest, val, seconds=None):
    """The shipped pack's manifest with the twin as its optimised model. The speed figure
    (of the model replaced) is dropped: the make target measures the twin's."""
    m = json.loads(json.dumps(manifest))
    m["models"]["optimised"] = model_entry(twin_manifest["models"]["optimised"], val, m["models"]["base"])
    m["features"]["shape"] = [-1, m["models"]["base"].get("features_dim", -1)]
    m["metrics"]["val"]["optimised"] = val
    m["metrics"].pop("speed", None)
    t = m["metrics"].get("training")
    if t is not None:
        t["optimised_minutes"] = round(seconds / 60, 1) if seconds is not None else None
        t["optimised"] = "int8 twin by phytoscreen pack optimise"
        t["minutes"] = round(t["base_minutes"] + (t["optimised_minutes"] or 0), 1)
    return m


def report_section(readme_text):
    """pack optimise's section of the README it wrote (its heading to the end)."""
    i = readme_text.find(REPORT_HEADING)
    if i < 0:
        raise SystemExit(f"the twin's README has no section '{REPORT_HEADING}': make it with phytoscreen pack optimise")
    return readme_text[i:]


def external_list(folder, sub, label, image_ext, out_csv):
    """A labelled list (path,label) of every image of folder/sub, for phytoscreen eval."""
    files = sorted(p for p in (Path(folder) / sub).iterdir() if p.suffix.lower() in image_ext)
    Path(out_csv).parent.mkdir(parents=True, exist_ok=True)
    with open(out_csv, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "label"])
        for f in files:
            w.writerow([str(f.resolve()), label])
    return len(files)


def most_predicted(confusion, labels, label, k=3):
    row = confusion[labels.index(label)]
    order = sorted(range(len(labels)), key=lambda j: (-row[j], j))
    return [labels[j] for j in order[:k]]
