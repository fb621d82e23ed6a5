#!/usr/bin/python3
"""make_reject.py teaches a trained pack a reject class, "not one of my taxa", and measures
what it changes on real frames it never saw. The cyanobacteria pack is closed-set: every
object is named one of its ten genera, so debris, a green alga or a diatom on a bench
camera's frame counted as cyanobacteria and raised the WHO alert on water that held none.

    make_reject.py --config training/configs/cyano-reject.json --pack assets/models/cyano-tcb-10

Run after the pack's base and optimised models are made (make pack-cyano runs it between
the twin and the speed figures). It

1. gathers the crops that teach the class, all from sources kept apart from the
   measurement: objects the app's segmenter cuts from the first half (by time) of the
   bench-camera folders of things that are not cyanobacteria; the hand-boxed objects of
   testdata/real-frames-train (cyanobacteria boxes keep their genus, in the eight
   right-angle turns and flips, everything else is the reject class); four NDSB images
   per class (train split); and the pack's own training tiles (its classes). No frame
   that teaches was saved within 2 minutes of one measured (a streaming camera saves
   near copies seconds apart);
2. teaches the class with `phytoscreen pack teach --bias LABEL=BIAS` (a head on the
   pack's features, both models; the bias is fixed in the config, never tuned here);
3. measures the pack before and after on what it never saw: the hand-boxed objects of
   testdata/real-frames' test split, the segmenter's objects of the last 40% (by time) of
   every bench-camera folder, NDSB val images and the pack's val split; at the app's
   confidence threshold, the share of objects counted as cyanobacteria, left unsure, or
   set aside;
4. installs the taught models, the label, its taxonomy entry and the figures into the pack
   (pack.json metrics.reject, the val figures and confusion matrices measured again), and
   re-renders the card.
"""
import argparse
import csv
import json
import random
import re
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from phytotrain import card, metrics, twin  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BINARY = ROOT / "bin" / "phytoscreen"
# phytoscreen screen's default --threshold: below it a cell is unidentified and waits for
# review (counted in no taxon).
APP_THRESHOLD = 0.5
# Frames saved closer than this to one on the other side of the split are near copies.
NEAR_SECONDS = 120
IMAGE_EXT = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"}


def rpath(p):
    p = Path(p)
    return p if p.is_absolute() else (ROOT / p).resolve()


def run(cmd, duplicates_ok=False):
    """cmd's standard output; its failure stops the script. duplicates_ok: exit status 1
    for frames skipped as byte-identical copies of others (a streaming camera's saved
    frames), with notes of frames of another size (saved crops among the frames), is not
    a failure."""
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    dup = lambda line: ("skipped" in line and "the same image as" in line) or "background and tracking restarted" in line  # noqa: E731
    if duplicates_ok and r.returncode == 1 and all(dup(line) for line in r.stderr.splitlines() if line.strip()):
        return r.stdout
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd[:6]))} ... failed ({r.returncode}):\n{r.stderr.strip()[-2000:]}")
    return r.stdout


def frame_halves(folder, sub, teach_share, test_from, leave_out):
    """The folder's frames in time order (their names are time stamps): the first
    teach_share teach, those from test_from on test; frames in leave_out are in neither."""
    files = sorted(p for p in (folder / sub).iterdir() if p.suffix.lower() in IMAGE_EXT)
    n = len(files)
    teach = [f for f in files[: int(n * teach_share)] if f.resolve() not in leave_out]
    test = [f for f in files[int(n * test_from):] if f.resolve() not in leave_out]
    return teach, test


def stamp(path):
    """When a bench-camera frame was saved, from its name (20230609101330.jpg, also with a
    "(1)" copy mark); None for a name without one ("Copy of ...")."""
    m = re.match(r"(\d{14})", Path(path).name)
    return datetime.strptime(m.group(1), "%Y%m%d%H%M%S") if m else None


def apart(frames, others, seconds=NEAR_SECONDS):
    """The frames saved more than seconds away from every one of others: a streaming
    camera saves near copies of a field seconds apart, so a frame measured must not be a
    near copy of one taught (nor the reverse). A frame without a time stamp cannot be
    shown apart and is left out."""
    times = [t for t in (stamp(o) for o in others) if t]
    out = []
    for f in frames:
        t = stamp(f)
        if t is not None and all(abs((t - o).total_seconds()) > seconds for o in times):
            out.append(f)
    return out


def segment_crops(frames, out):
    """The objects the app's segmenter cuts from frames (colour crops, one per object, its
    first sighting), as a list of crop paths. The frames are linked into one folder, read
    in order as the app reads a folder."""
    if not frames:
        return []
    src = out / "frames"
    src.mkdir(parents=True)
    for i, f in enumerate(frames):
        (src / f"{i:05d}{f.suffix.lower()}").symlink_to(f.resolve())
    run([BINARY, "segment", "--colour-crops", "-q", "--out", out / "seg", src], duplicates_ok=True)
    with open(out / "seg" / "objects.csv", newline="") as fh:
        return [str((out / "seg" / r["crop"]).resolve()) for r in csv.DictReader(fh) if r["crop"]]


def annotated(folder):
    """Hand-boxed objects of an annotated folder: (file, split, box, taxon) of every box
    not marked ignore."""
    with open(folder / "annotations.csv", newline="") as fh:
        for r in csv.DictReader(fh):
            if r["w"] and r["ignore"] != "1":
                yield r["file"], r["split"], tuple(int(r[k]) for k in "xywh"), r["taxon"]


def box_crops(folder, rows, labels, margin, out, turns):
    """Crops of hand-drawn boxes (margin px of context, the frame's colours): (path, label),
    the label the taxon when it is one of labels, else None (the reject class). turns: the
    pack's taxa also in their eight right-angle turns and flips."""
    out.mkdir(parents=True, exist_ok=True)
    res, frames = [], {}
    for i, (file, _, (x, y, w, h), taxon) in enumerate(rows):
        img = frames.get(file)
        if img is None:
            # As stored, as the app and the annotator saw them: some frames carry an EXIF
            # rotation that OpenCV would otherwise apply.
            img = frames[file] = cv2.imread(str(folder / file), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
            if img is None:
                raise SystemExit(f"{folder / file}: not a readable image")
        H, W = img.shape[:2]
        c = img[max(0, y - margin): min(H, y + h + margin), max(0, x - margin): min(W, x + w + margin)]
        if c.size == 0:  # a box outside the frame: nothing to learn from
            print(f"[reject] {folder / file}: box {x},{y},{w},{h} lies outside the {W}x{H} frame, skipped", flush=True)
            continue
        label = taxon if taxon in labels else None
        views = [c]
        if turns and label:
            views = [np.rot90(v, k) for v in (c, c[:, ::-1]) for k in range(4)]
        for j, v in enumerate(views):
            p = out / f"{Path(file).stem}-{i:04d}-{j}.png"
            cv2.imwrite(str(p), np.ascontiguousarray(v))
            res.append((str(p.resolve()), label))
    return res


def ndsb_sample(cfg, split):
    """per_class images of every NDSB class of the split (seeded)."""
    lst = rpath(cfg["list"])
    by = defaultdict(list)
    with open(lst, newline="") as fh:
        for r in csv.DictReader(fh):
            if r["split"] == split:
                by[r["label"]].append(r["path"])
    rng = random.Random(cfg["seed"])
    out = []
    for k in sorted(by):
        v = sorted(by[k])
        rng.shuffle(v)
        out += [str((lst.parent / p).resolve()) for p in v[: cfg["per_class"]]]
    return out


def calls(pack, model, paths, reject, work):
    """Each path's call by one model of pack at the app's threshold: 'cyano' (one of the
    pack's taxa, sure enough to count), 'unsure' (waits for review) or 'set aside' (the
    reject class)."""
    out = work / f"calls-{model}.csv"
    res = {}
    for i in range(0, len(paths), 2000):
        run([BINARY, "classify", "--pack", pack, "--model", model, "--format", "csv", "--top", "1", "--out", out] + paths[i:i + 2000])
        with open(out, newline="") as fh:
            for r in csv.DictReader(fh):
                if r["error"]:
                    raise SystemExit(f"{r['path']}: {r['error']}")
                p = float(r["probability"])
                res[r["path"]] = "set aside" if r["label"] == reject else "cyano" if p >= APP_THRESHOLD else "unsure"
    return res


def shares(sets, got):
    """Per held-out set and truth: n and the share of each call."""
    rows = []
    for name, items in sets.items():
        for truth in ("cyanobacterium", "not"):
            ps = [p for p, lab in items if (lab is not None) == (truth == "cyanobacterium")]
            if not ps:
                continue
            c = Counter(got[p] for p in ps)
            rows.append({"set": name, "truth": truth, "n": len(ps),
                         **{k: round(c[k] / len(ps), 4) for k in ("cyano", "unsure", "set aside")}})
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True)
    ap.add_argument("--pack", required=True, help="the pack folder to teach (its base and optimised models made)")
    ap.add_argument("--card", help="card template to re-render the pack's README.md with")
    a = ap.parse_args()
    cfg = json.loads(Path(a.config).read_text())
    pack = rpath(a.pack)
    if not BINARY.exists():
        raise SystemExit(f"{BINARY} is missing: run 'make build' first")
    m = json.loads((pack / "pack.json").read_text())
    label = cfg["label"]
    if label in m["labels"]:
        raise SystemExit(f"{pack}: the pack has its reject class {label} already; make the pack again (make pack-cyano) "
                         f"to teach it anew")
    work = ROOT / ".cache" / "reject" / m["name"]
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    log = lambda s: print(f"[reject] {s}", flush=True)  # noqa: E731

    # 1. The crops that teach, kept apart from every measured one.
    fcfg, acfg = cfg["frames"], cfg["annotated"]
    folder = rpath(fcfg["folder"])
    teach_dir, test_dir = rpath(acfg["teach"]), rpath(acfg["test"])

    def sources(d):
        with open(d / "sources.csv", newline="") as fh:
            return {(ROOT.parent / r["original_path"]).resolve() for r in csv.DictReader(fh)}
    # No frame boxed for the measurement teaches, no frame boxed for teaching is measured.
    measured_boxed, teaching_boxed = sources(test_dir), sources(teach_dir)
    teach, test_sets = [], {}
    halves = {sub: frame_halves(folder, sub, fcfg["teach_share"], fcfg["test_from"], measured_boxed | teaching_boxed)
              for sub in fcfg["reject"] + list(fcfg["keep"])}
    # No teaching frame is a near copy of a frame boxed for the measurement, and no frame
    # measured is a near copy of one that taught (the segmenter's or the boxed ones).
    taught_frames = list(teaching_boxed)
    for sub in fcfg["reject"]:
        tr = apart(halves[sub][0], measured_boxed)
        taught_frames += tr
        teach += [(p, None) for p in segment_crops(tr, work / "teach" / sub)]
    for sub, (_, te) in halves.items():
        te = apart(te, taught_frames)
        # Truth is the folder's label for every object: a cyanobacteria folder's frames hold
        # debris too, so its "set aside" share is an upper bound of what was lost.
        test_sets[f"bench-camera frames, {sub} folder (its last 40%, none within {NEAR_SECONDS // 60} min of a frame taught): "
                  f"every object the segmenter cut, taken as its folder says"] = \
            [(p, fcfg["keep"].get(sub)) for p in segment_crops(te, work / "test" / sub)]
    log("teaching frames: " + ", ".join(f"{sub} {len(apart(halves[sub][0], measured_boxed))}" for sub in fcfg["reject"]))
    boxes = [r for r in annotated(teach_dir)]
    teach += box_crops(teach_dir, boxes, m["labels"], acfg["margin"], work / "boxes-teach", turns=True)
    nd = ndsb_sample(cfg["ndsb"], "train")
    teach += [(p, None) for p in nd]
    data = rpath(cfg["pack_data"])
    with open(pack / "split.csv", newline="") as fh:
        split = list(csv.DictReader(fh))
    teach += [(str((data / r["path"]).resolve()), r["label"]) for r in split if r["split"] == "train"]
    lst = work / "teach.csv"
    with open(lst, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "label"])
        for p, lab in teach:
            w.writerow([p, lab or label])
    n_teach = Counter("reject" if lab is None else "pack" for _, lab in teach)
    log(f"teaching crops: {n_teach['reject']} {label}, {n_teach['pack']} of the pack's taxa ({lst})")

    # The measurement sets (held out).
    test_rows = [r for r in annotated(test_dir) if r[1] == acfg["test_split"]]
    test_sets = {f"{test_dir.relative_to(ROOT)} ({acfg['test_split']} split): objects boxed and named by hand":
                 box_crops(test_dir, test_rows, m["labels"], acfg["margin"], work / "boxes-test", turns=False),
                 **test_sets,
                 "NDSB val: 4 images per class (marine plankton)": [(p, None) for p in ndsb_sample(cfg["ndsb"], "val")],
                 "the pack's val split (TCB-DS tiles)": [(str((data / r["path"]).resolve()), r["label"]) for r in split if r["split"] == "val"]}
    paths = [p for items in test_sets.values() for p, _ in items]

    # 2. Before: the pack as trained.
    before = {v: shares(test_sets, calls(pack, v, paths, label, work)) for v in ("base", "optimised")}

    # 3. Teach.
    taught = work / "taught"
    out = run([BINARY, "pack", "teach", "--pack", pack, "--labels", lst, "--out", taught, "--name", m["name"],
               "--bias", f"{label}={cfg['bias']}", "--cache", work.parent / f"{m['name']}-embeddings.db"])
    (work / "teach-report.txt").write_text(out)
    log(out.split("\n")[0])
    after = {v: shares(test_sets, calls(taught, v, paths, label, work)) for v in ("base", "optimised")}

    # 4. Install: models, label, taxonomy, figures.
    tm = json.loads((taught / "pack.json").read_text())
    if tm["labels"] != m["labels"] + [label]:
        raise SystemExit(f"{taught}: labels {tm['labels']} are not the pack's and {label}")
    for v in ("base", "optimised"):
        f = m["models"][v]["file"]
        shutil.copyfile(taught / f, pack / f)
    val_before = {v: {k: m["models"][v][f"val_{k}"] for k in ("top1", "macro_f1", "weighted_f1")} for v in ("base", "optimised")}
    m["labels"].append(label)
    m["output"]["shape"][-1] = len(m["labels"])
    (pack / "pack.json").write_text(metrics.dumps(m) + "\n")  # the models' output: the eval below loads the pack
    with open(pack / "taxonomy.toml", "a") as fh:
        fh.write(f'\n# The reject class taught by training/make_reject.py: no HAB group, counted in no alert.\n'
                 f'[[taxon]]\nlabel = "{label}"\nname = "{cfg["name"]}"\nunit = "cell"\n')
    g = json.loads((pack / "golden.json").read_text())
    g["head_labels"] = [label]  # golden probabilities are PyTorch's, of the pack's own classes
    (pack / "golden.json").write_text(json.dumps(g, indent=1) + "\n")
    vals = {}
    for v, conf in (("base", "confusion-val.csv"), ("optimised", "confusion-val-optimised.csv")):
        ev = twin.run_eval(BINARY, pack, pack / "split.csv", root=data, split="val", confusion=pack / conf, model=v)
        labels, cm = twin.read_confusion(pack / conf)
        vals[v] = twin.val_metrics(ev, cm, labels)
        log(f"val ({v}, with {label}): " + metrics.summary(vals[v]))
    m["metrics"]["reject"] = {
        "label": label, "name": cfg["name"], "bias": cfg["bias"], "bias_about": cfg["bias_about"],
        "threshold": APP_THRESHOLD, "teaching_crops": dict(n_teach),
        "val_before": val_before,
        "before": before, "after": after,
    }
    for v, val in vals.items():
        for k in ("top1", "top5", "logloss", "macro_f1", "weighted_f1", "ece"):
            m["models"][v]["val_" + k] = round(val[k], 4)
        m["metrics"]["val"][v] = val
    # The card's whole-frame test on the bench camera, measured again with the class.
    e = m["metrics"].get("external")
    if e:
        for sub, row in e.items():
            if not isinstance(row, dict):
                continue
            lst_e = work / f"external-{sub}.csv"
            twin.external_list(rpath(e["folder"]), sub, row["label"], IMAGE_EXT, lst_e)
            for v in ("base", "optimised"):
                conf = lst_e.with_suffix(f".{v}.confusion.csv")
                row[v] = round(twin.run_eval(BINARY, pack, lst_e, confusion=conf, model=v)["top1"], 4)
                row[v + "_most_predicted"] = twin.most_predicted(twin.read_confusion(conf)[1], m["labels"], row["label"])
            log(f"external {sub}: base {row['base']}, optimised {row['optimised']}")
        e["about"] = e["about"].rstrip() + f" Measured with the reject class: a frame called {label} counts as wrong."
    (pack / "pack.json").write_text(metrics.dumps(m) + "\n")
    if a.card:
        card.rerender(pack, rpath(a.card))
    for v in ("base", "optimised"):
        for b, r in zip(before[v], after[v]):
            log(f"{v:9} {r['set'][:60]:60} {r['truth']:14} n={r['n']:4}  counted as cyanobacteria {b['cyano']:.3f} -> {r['cyano']:.3f}, "
                f"set aside {r['set aside']:.3f}")
    log(f"{pack}: taught {label} ({cfg['name']}), bias {cfg['bias']}")


if __name__ == "__main__":
    main()
