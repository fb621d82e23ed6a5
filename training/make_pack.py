#!/usr/bin/python3
"""Turn a folder of labelled crops or tiles (<class>/<file>) or a CSV (path,label[,group]
[,split]) into a phytoscreen classifier pack in format 2 (docs/pack-format.md): a base
model, its ONNX file, pack.json with the evaluation, the card (README.md),
confusion-val.csv, split.csv and golden.json. The optimised model is the base's int8
twin, made afterwards by `phytoscreen pack optimise` (--twin records it in the pack), or
with "optimised": {"method": "student"} a pruned student distilled from the base (the
config's "student"). See docs/training.md.

    make_pack.py --config training/configs/cyano.json --out assets/models/cyano-tcb-10
    make_pack.py --config ... --out PACK --twin DIR   # DIR: the pack that pack optimise wrote
    make_pack.py --config ... --tune 1          # train on folds 2-4 (never 0), report fold 1
    make_pack.py --config ... --cv              # 5-fold grouped cross-validation of the recipe
"""
import argparse
import datetime
import hashlib
import json
import os
import shutil
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from phytotrain import augment, contract, data, metrics, models, train, twin  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# Config keys that do not change what is trained (left out of the checkpoints' key).
EVAL_ONLY_KEYS = ("card", "taxonomy", "dataset", "limits", "tuned_on", "degraded", "external", "test_views")
# Keys of the optimised model: left out of the base's checkpoints' key.
OPTIMISED_KEYS = ("optimised", "student")


class Log:
    def __init__(self, path):
        self.path = path
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.t0 = time.time()

    def __call__(self, msg):
        line = f"[{time.strftime('%H:%M:%S')} +{(time.time() - self.t0) / 60:5.1f} min] {msg}"
        print(line, flush=True)
        with open(self.path, "a") as fh:
            fh.write(line + "\n")


def host_line():
    """Where the recipe runs, for the card: this CPU machine."""
    return train.where("cpu")


def rpath(p):
    p = Path(p)
    return p if p.is_absolute() else ROOT / p


def load_config(path):
    try:
        cfg = json.loads(Path(path).read_text())
    except OSError as e:
        raise SystemExit(f"{path}: cannot read the config ({e.strerror}): give --config a recipe JSON "
                         "(copy training/configs/cyano.json, docs/training.md \"Your own pack\")")
    except ValueError as e:
        raise SystemExit(f"{path}: not valid JSON ({e}): fix the config there")
    if not isinstance(cfg, dict):
        raise SystemExit(f"{path}: a config is a JSON object {{\"name\": ..., \"data\": ..., ...}}: fix it there")
    check_config(cfg, path)
    aug = dict(augment.DEFAULTS)
    aug.update(cfg.get("augment", {}))
    cfg["augment"] = aug
    check_views(cfg, path)
    return cfg


# The keys a recipe may have (docs/training.md, "Your own pack"): anything else is a
# misspelling (a misspelt "epochs" failed with a KeyError after every image was decoded;
# a misspelt optional key, "label_smothing", was ignored without a word).
CONFIG_KEYS = {
    "": ("name", "data", "labels", "labels_from", "dataset", "limits", "init_onnx", "input", "test_views", "split",
         "augment", "base", "optimised", "student", "tuned_on", "taxonomy", "card", "external", "degraded",
         "cache_side", "smoke_limit", "recipe_file"),
    "input": ("name", "shape", "dtype", "channels", "resize", "background", "pad", "mean", "std"),
    "split": ("k", "val_fold", "seed", "merge_duplicates", "duplicate_bits"),
    "base": ("arch", "card_arch", "epochs", "batch", "lr", "wd", "ema", "label_smoothing", "sampling_power",
             "prior_correction", "warmup_epochs", "eval_every", "keep_fc", "standardise", "progressive", "lr_min_factor"),
    "student": ("arch", "card_arch", "epochs", "batch", "lr", "wd", "ema", "label_smoothing", "sampling_power",
                "warmup_epochs", "eval_every", "keep_fc", "standardise", "progressive", "lr_min_factor", "distill"),
    "optimised": ("method", "about"),
    "augment": tuple(augment.DEFAULTS),
}
REQUIRED_KEYS = {"": ("name", "data", "dataset", "input", "base"), "input": ("shape", "channels"),
                 "base": ("arch", "epochs", "batch", "lr", "wd", "ema")}
ARCHS = ("resnet18-ndsb", "resnet10-ndsb", "resnet18", "resnet18-wF", "resnet10-wF", "mnv3-small", "mnv3-large",
         "mnv3-large-wF")


def check_taxonomy(cfg, labels):
    """The recipe's taxonomy must name only the pack's labels: the app refuses to load a
    pack whose taxonomy.toml names another (the cyano recipe's, copied for four genera,
    made a pack no command could open), so it is refused before training."""
    if not cfg.get("taxonomy"):
        return
    import tomllib
    t = rpath(cfg["taxonomy"])
    try:
        doc = tomllib.loads(t.read_text())
    except (OSError, ValueError) as e:
        raise SystemExit(f"{t}: the recipe's taxonomy cannot be read ({e}): fix it, or leave \"taxonomy\" out")
    extra = [x.get("label") for x in doc.get("taxon", []) if x.get("label") not in labels]
    if extra:
        raise SystemExit(f"{t}: names label(s) {extra} that the data does not have (its labels: {', '.join(labels)}), "
                         f"and the app refuses such a pack: leave \"taxonomy\" out of {cfg.get('recipe_file') or 'the config'}, "
                         "or write a taxonomy.toml for these labels (docs/pack-format.md)")


def card_template(cfg):
    """The card template: the recipe's "card", or the generic card for a pack whose recipe
    names none."""
    from phytotrain import card
    return rpath(cfg["card"]) if cfg.get("card") else card.GENERIC


def check_card(cfg, where):
    """A card template written for one pack (its title "# Classifier pack `NAME`") on
    another: the copied cyano recipe gave a scientist's pack the cyano pack's card, its
    name, data, licence and limits. Refused before training, naming the fix."""
    if not cfg.get("card"):
        return
    t = rpath(cfg["card"])
    try:
        first = t.read_text().split("\n", 1)[0]
    except OSError as e:
        raise SystemExit(f"{where}: card {cfg['card']!r} cannot be read ({e.strerror}): give a card template, or leave "
                         "\"card\" out for the generic card")
    pre = "# Classifier pack `"
    if first.startswith(pre) and first[len(pre):].split("`")[0] not in (cfg["name"], "{{name}}"):
        raise SystemExit(f"{where}: card {cfg['card']!r} is the card of the pack {first[len(pre):].split('`')[0]!r} "
                         f"(its data, licence and limits), not of {cfg['name']!r}: leave \"card\" out for the generic "
                         "card (training/configs/pack-card.md), or write your own template")


def check_config(cfg, where):
    """Refuse a recipe with a misspelt or missing key, or an input contract that cannot be
    (shape against channels, mean and std per channel), before any image is decoded,
    naming the config and the fix."""
    import difflib

    def name(sec, k):
        return f"{sec}.{k}" if sec else k

    for sec, known in CONFIG_KEYS.items():
        d = cfg.get(sec) if sec else cfg
        if d is None:
            continue
        if not isinstance(d, dict):
            raise SystemExit(f"{where}: \"{sec}\" must be a JSON object of keys ({', '.join(known)}): fix it there")
        for k in d:
            if k not in known:
                near = difflib.get_close_matches(k, known, 1)
                hint = f" (did you mean \"{name(sec, near[0])}\"?)" if near else ""
                raise SystemExit(f"{where}: unknown key \"{name(sec, k)}\"{hint}: fix or remove it there "
                                 f"(the keys{' of ' + sec if sec else ''}: {', '.join(known)}; docs/training.md)")
        for k in REQUIRED_KEYS.get(sec, ()):
            if k not in d:
                raise SystemExit(f"{where}: \"{name(sec, k)}\" is missing: add it there (copy it from "
                                 "training/configs/cyano.json; docs/training.md, \"Your own pack\")")
    inp = cfg["input"]
    shape, ch = inp["shape"], inp["channels"]
    want = {"gray": 1, "rgb": 3}
    if ch not in want:
        raise SystemExit(f"{where}: input.channels {ch!r}: use \"gray\" or \"rgb\"")
    if (not isinstance(shape, list) or len(shape) != 4 or not all(isinstance(v, int) for v in shape)
            or shape[0] != -1 or min(shape[2:]) < 8):
        raise SystemExit(f"{where}: input.shape {shape!r}: give [-1, C, H, W] (H and W at least 8 pixels), "
                         f"e.g. [-1, {want[ch]}, 64, 64]")
    if shape[1] != want[ch]:
        raise SystemExit(f"{where}: input.shape {shape} has {shape[1]} channels but input.channels is {ch!r} "
                         f"({want[ch]}): make them agree (shape [-1, {want[ch]}, {shape[2]}, {shape[3]}], or the other channels)")
    for k in ("mean", "std"):
        v = inp.get(k)
        if v is not None and (not isinstance(v, list) or len(v) != shape[1]):
            raise SystemExit(f"{where}: input.{k} {v!r} needs one value per channel ({shape[1]}): fix it there")
    if ("mean" in inp) != ("std" in inp):
        raise SystemExit(f"{where}: input has {'mean' if 'mean' in inp else 'std'} without "
                         f"{'std' if 'mean' in inp else 'mean'}: give both or neither")
    if inp.get("resize", "letterbox") not in ("letterbox", "fit", "centre-crop"):
        raise SystemExit(f"{where}: input.resize {inp['resize']!r}: use \"letterbox\", \"fit\" or \"centre-crop\"")
    for sec in ("base", "student"):
        arch = (cfg.get(sec) or {}).get("arch")
        if arch is None or arch.startswith("pruned-"):
            continue
        generic = arch.split("-w")[0] + "-wF" if "-w" in arch else arch
        if generic not in ARCHS:
            raise SystemExit(f"{where}: {sec}.arch {arch!r} is not one the recipe builds: use one of {', '.join(ARCHS)} "
                             "(F a width factor, e.g. resnet18-w0.5)")
        if arch.endswith("-ndsb") and not cfg.get("init_onnx"):
            raise SystemExit(f"{where}: {sec}.arch {arch!r} starts from the NDSB pack's weights: give \"init_onnx\": "
                             "\"assets/models/ndsb-plankton-121/base.onnx\", or use \"resnet18\" (random start)")
    if cfg.get("init_onnx") and not rpath(cfg["init_onnx"]).is_file():
        raise SystemExit(f"{where}: init_onnx {cfg['init_onnx']!r} does not exist ({rpath(cfg['init_onnx'])}): "
                         "paths in a config are relative to the project root")
    check_card(cfg, where)
    if not rpath(cfg["data"]).exists():
        raise SystemExit(f"{where}: data {cfg['data']!r} does not exist ({rpath(cfg['data'])}): give a folder "
                         "<class>/<file> or a CSV path,label[,group] (relative paths start from the project root)")


def check_views(cfg, where):
    """Refuse a test_views the recipe cannot ship, naming the config (or --set) that set it."""
    views = cfg.get("test_views", 1)
    if views not in (1, 2):
        raise SystemExit(f"{where}: test_views {views!r}: use 1 (the image alone) or 2 (the image and its transpose, averaged)")
    shape = cfg.get("input", {}).get("shape", [])
    if views == 2 and len(shape) == 4 and shape[2] != shape[3]:
        raise SystemExit(f"{where}: test_views 2 transposes the input, so input.shape must be square, not {shape[2]}x{shape[3]}")


def make_model(spec_cfg, in_ch, n, cfg, train_tensors=None, log=print, seed=0):
    """The network spec_cfg names, its random initial weights drawn from seed. The seed is
    set here, not left to torch: Debian's torch seeds its default generator at random in
    every process, so the new classifier of a fine-tuned ResNet started differently in
    each run and no two rebuilds of a pack trained alike."""
    keep_fc = spec_cfg.get("keep_fc", False)
    torch.manual_seed(seed)
    net = models.build(spec_cfg["arch"], in_ch, n, init_onnx=rpath(cfg["init_onnx"]) if "init_onnx" in cfg else None,
                       keep_fc=keep_fc, standardise=spec_cfg.get("standardise", False))
    if spec_cfg["arch"].endswith("-ndsb") and train_tensors is not None:
        xs = torch.from_numpy(np.stack(train_tensors))
        models.bn_calibrate(net, [xs[i:i + 64] for i in range(0, len(xs), 64)])
        log(f"{spec_cfg['arch']}: BatchNorm calibrated on {len(xs)} training crops (starts as the NDSB network)")
    return net


class Prepared:
    """Items, labels, cached crops (for augmentation) and exact-contract fitted crops."""

    def __init__(self, cfg, log):
        self.cfg = cfg
        self.spec = contract.InputSpec(cfg["input"])
        self.weights_from = None  # an earlier pack's base.onnx to ship again (--weights-from), else trained
        self.items, self.root = data.read_items(rpath(cfg["data"]))
        if cfg.get("smoke_limit"):  # a smoke test of the whole pipeline on a few items
            self.items = self.items[::max(1, len(self.items) // cfg["smoke_limit"])]
        self.given_split = any(it.split for it in self.items)
        if cfg.get("labels_from"):
            cfg["labels"] = json.loads(rpath(cfg["labels_from"]).read_text())["labels"]
        sp = cfg.get("split", {})
        if sp.get("merge_duplicates", False):
            n = data.merge_duplicate_groups(self.items, sp.get("duplicate_bits", 6))
            log(f"groups: {n} near-duplicate images joined into their duplicate's group")
        self.labels = cfg.get("labels") or sorted({it.label for it in self.items})
        li = {l: i for i, l in enumerate(self.labels)}
        unknown = sorted({it.label for it in self.items} - set(li))
        if unknown:
            n = sum(it.label in unknown for it in self.items)
            where = f"{cfg['labels_from']}'s labels" if cfg.get("labels_from") else "the config's \"labels\""
            raise SystemExit(f"{rpath(cfg['data'])}: {n} image(s) labelled {unknown}, which {where} lack(s): add the "
                             "label(s) there (or leave \"labels\" out: every label of the data, sorted), or remove "
                             "those images")
        check_taxonomy(cfg, self.labels)
        self.y = np.array([li[it.label] for it in self.items])
        cache = ROOT / ".cache" / "training"
        self.crops = data.load_crops(self.items, self.spec.channels, cfg.get("cache_side", 2 * max(self.spec.w, self.spec.h)), cache, log)
        self.fitted = data.load_fitted(self.items, self.spec, cache, log)
        # Folds for tuning and cross-validation; with the list's own split, only its train
        # items are folded (its val items, fold -1, are never tuned on).
        pool = [it for it in self.items if it.split == "train"] if self.given_split else self.items
        self.folds = data.stratified_group_folds(pool, sp.get("k", 5), sp.get("seed", 2024))
        self.fold = np.array([self.folds.get(it.group, -1) if (not self.given_split or it.split == "train") else -1
                              for it in self.items])

    def tensors(self, idx):
        return [contract.finish(self.fitted[i], self.spec) for i in idx]


def ship(net):
    """The function the pack's ONNX file computes: BatchNorm folded, weights rounded to
    float16 (stored so, computed in float32). Every figure and golden.json use it."""
    if isinstance(net, models.ResNet):
        return models.round_fp16(models.fold_bn(net)).eval()
    return net.eval()


def shipped(net, cfg, model_cfg, ytr, n, name, log):
    """The trained model as the pack ships it: ship(net); with base.prior_correction its
    logits moved from its sampling's prior to the data's (models.prior_correct); with
    test_views 2 the image and its transpose averaged (models.ViewAveraged)."""
    out = ship(net)
    if cfg["base"].get("prior_correction"):
        power = model_cfg.get("sampling_power", 0.5)
        models.prior_correct(out, np.bincount(ytr, minlength=n), power)
        log(f"{name}: logits moved from the sampling prior (n_c^{power}) to the data's (n_c), + {1 - power:g} log n_c")
    if cfg.get("test_views", 1) == 2:
        out = models.ViewAveraged(out).eval()
        log(f"{name}: the image and its transpose averaged (test_views 2)")
    return out


def train_pair(P, tr, va, work, log, students=True, seed=0):
    """Train the base (and the student) on indices tr; evaluate on va. Returns dict."""
    cfg, spec = P.cfg, P.spec
    n = len(P.labels)
    val_t = P.tensors(va)
    val = (val_t, P.y[va], P.labels)
    crops = [P.crops[i] for i in tr]
    ytr = P.y[tr]
    calib = P.tensors(tr[np.random.default_rng(seed).permutation(len(tr))[:512]])
    out = {"n_train": int(len(tr)), "n_val": int(len(va))}
    t0 = time.time()
    base = make_model(cfg["base"], spec.c, n, cfg, calib, log, seed=seed)
    base_ema = train.fit(base, crops, ytr, spec, cfg["base"], cfg["augment"], str(work / "base.pt"), log, val=val, seed=seed,
                         device=P.device, workers=P.workers)
    out["base_minutes"] = getattr(base_ema, "train_seconds", time.time() - t0) / 60  # training epochs, also when resumed
    out["base_trained_on"] = getattr(base_ema, "trained_on", None) or host_line()  # None: a checkpoint older than the record
    if P.train_only:
        log(f"base trained ({work / 'base.pt'}); --train-only: nothing else made")
        raise SystemExit(0)
    base_ship = shipped(base_ema, cfg, cfg["base"], ytr, n, "base", log)
    pb = train.predict(base_ship, val_t)
    out["base"] = metrics.evaluate(pb, P.y[va], P.labels)
    log("base: " + metrics.summary(out["base"]))
    result = {"base": base_ship, "probs_base": pb, "val_t": val_t}
    scfg = student_cfg(cfg)
    if students and scfg:
        t0 = time.time()
        if scfg["arch"].startswith("pruned-"):
            # Structured pruning of the trained base (its most important channels), then
            # distillation from it.
            f = float(scfg["arch"][len("pruned-"):])
            st = models.prune_resnet(base_ema, f)
            xs = torch.from_numpy(np.stack(calib))
            models.bn_recalibrate(st, [xs[i:i + 64] for i in range(0, len(xs), 64)])
            log(f"optimised: base pruned to width x{f} ({sum(p.numel() for p in st.parameters()) / 1e6:.2f} M parameters), BatchNorm recalibrated")
        else:
            st = make_model(scfg, spec.c, n, cfg, calib, log, seed=seed + 1)
        teacher = base_ema if scfg.get("distill") else None
        st_ema = train.fit(st, crops, ytr, spec, scfg, cfg["augment"], str(work / f"optimised-{P.student_key}.pt"), log,
                           teacher=teacher, val=val, seed=seed + 1, device=P.device, workers=P.workers)
        out["optimised_minutes"] = getattr(st_ema, "train_seconds", time.time() - t0) / 60
        # The student learned its sampling's prior too (and its teacher's): the same
        # correction, so the two models' probabilities mean the same.
        st_ship = shipped(st_ema, cfg, scfg, ytr, n, "optimised", log)
        po = train.predict(st_ship, val_t)
        out["optimised"] = metrics.evaluate(po, P.y[va], P.labels)
        out["optimised"]["top1_agreement_with_base"] = float((po.argmax(1) == pb.argmax(1)).mean())
        log("optimised: " + metrics.summary(out["optimised"]) + f" agreement {out['optimised']['top1_agreement_with_base']:.4f}")
        result["optimised"] = st_ship
        result["probs_optimised"] = po
    result["metrics"] = out
    return result


def student_cfg(cfg):
    """The student's config when the recipe's optimised model is a trained student
    ("optimised": {"method": "student"}), else None (the int8 twin, made by pack optimise)."""
    o = cfg.get("optimised")
    if not o:
        return None
    if o.get("method", "int8") == "int8":
        return None
    if o["method"] != "student":
        raise SystemExit(f"optimised.method {o['method']!r}: use \"int8\" (pack optimise's twin) or \"student\"")
    return cfg["student"]


def strip(m):
    return {k: v for k, v in m.items() if k not in ("confusion",)}


def run_tune(P, fold, exclude, work, log, students):
    tr = np.where((P.fold != fold) & (P.fold != exclude) & (P.fold >= 0))[0]
    va = np.where(P.fold == fold)[0]
    log(f"tuning run: train on folds except {fold} and {exclude} ({len(tr)} items), validate on fold {fold} ({len(va)})")
    r = train_pair(P, tr, va, work, log, students)
    (work / f"metrics-{P.student_key}.json").write_text(json.dumps(r["metrics"], indent=1))
    return r["metrics"]


def run_cv(P, work, log, students):
    k = P.cfg.get("split", {}).get("k", 5)
    res = []
    for f in range(k):
        wf = work / f"fold{f}"
        wf.mkdir(parents=True, exist_ok=True)
        mf = wf / f"metrics-{P.student_key}.json"
        if mf.exists():
            res.append(json.loads(mf.read_text()))
            log(f"cv fold {f}: done before")
            continue
        tr, va = np.where(P.fold != f)[0], np.where(P.fold == f)[0]
        log(f"cv fold {f}: train {len(tr)}, validate {len(va)}")
        r = train_pair(P, tr, va, wf, log, students)
        mf.write_text(json.dumps(r["metrics"], indent=1))
        res.append(r["metrics"])
    summary = {"k": k, "folds": []}
    for variant in ("base", "optimised"):
        if variant not in res[0]:
            continue
        s = {}
        for key in ("top1", "macro_f1", "weighted_f1", "logloss", "ece"):
            mu, sd = metrics.mean_sd([r[variant][key] for r in res])
            s[key] = {"mean": round(mu, 4), "sd": round(sd, 4), "folds": [round(r[variant][key], 4) for r in res]}
        # Per-class recall pooled over the folds (every item validated once).
        pooled = {}
        for l in P.labels:
            sup = sum(r[variant]["per_class"][l]["support"] for r in res)
            hit = sum(round(r[variant]["per_class"][l]["recall"] * r[variant]["per_class"][l]["support"]) for r in res)
            pooled[l] = {"support": sup, "recall": round(hit / sup, 4) if sup else None}
        s["pooled_recall"] = pooled
        summary[variant] = s
    (work / f"cv-{P.student_key}.json").write_text(json.dumps(summary, indent=1))
    log("cv: " + json.dumps({v: {k: summary[v][k]["mean"] for k in ("top1", "macro_f1", "weighted_f1")} for v in ("base", "optimised") if v in summary}))
    return summary


def export_onnx(net, spec, path, opset):
    net = models.Exported(net).eval()
    x = torch.zeros(1, spec.c, spec.h, spec.w)
    torch.onnx.export(net, x, str(path), input_names=[spec.name], output_names=["probabilities", "features"],
                      dynamic_axes={spec.name: {0: "N"}, "probabilities": {0: "N"}, "features": {0: "N"}},
                      opset_version=opset, do_constant_folding=True)
    import onnx
    m = onnx.load(str(path))
    fp16_storage(m)
    onnx.checker.check_model(m)
    onnx.save(m, str(path))
    return m


def fp16_storage(m):
    """Store every float32 weight of the graph as float16 with a Cast to float32 in front:
    half the file, the same computation (the weights were rounded to float16 before
    export, so nothing changes; ONNX Runtime folds the casts when the session opens)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    g = m.graph
    casts, keep = [], []
    for init in g.initializer:
        arr = numpy_helper.to_array(init)
        if init.data_type == TensorProto.FLOAT and arr.size >= 64:
            h = arr.astype(np.float16)
            if not np.array_equal(h.astype(np.float32), arr):
                raise ValueError(f"weight {init.name} is not float16-exact: round the network first (ship())")
            keep.append(numpy_helper.from_array(h, init.name + "_fp16"))
            casts.append(helper.make_node("Cast", [init.name + "_fp16"], [init.name], to=TensorProto.FLOAT,
                                          name=init.name + "_to_fp32"))
        else:
            keep.append(init)
    del g.initializer[:]
    g.initializer.extend(keep)
    nodes = casts + list(g.node)
    del g.node[:]
    g.node.extend(nodes)


def golden(P, net, va, out_dir, pack_name, log, n=8):
    """golden.json: for a few validation images (smallest, largest, then one per class),
    the SHA-256 and sum of the preprocessed tensor and the base model's probabilities in
    PyTorch; the images are copied to testdata/golden/<pack>/."""
    order = sorted(va, key=lambda i: P.fitted[i].shape[0] * P.fitted[i].shape[1])
    pick = [order[0], order[-1]]
    seen = {P.y[order[0]], P.y[order[-1]]}
    for i in va:
        if len(pick) >= n:
            break
        if P.y[i] not in seen:
            pick.append(i)
            seen.add(P.y[i])
    items = []
    dst_root = golden_copy_dir(out_dir, pack_name)
    if dst_root.exists():
        shutil.rmtree(dst_root)
    net.eval()
    for i in pick:
        it = P.items[i]
        t = contract.tensor_from_file(it.path, P.spec)
        with torch.no_grad():
            p = torch.softmax(net(torch.from_numpy(t[None])), 1)[0].numpy()
        dst = dst_root / it.rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(it.path, dst)
        items.append({"path": it.rel, "label": it.label,
                      "sha256": hashlib.sha256(t.astype("<f4").tobytes()).hexdigest(),
                      "sum": float(np.sum(t, dtype=np.float64)),
                      "top": P.labels[int(p.argmax())],
                      "probabilities": [float(v) for v in p]})
    doc = {"pack": pack_name, "data_root": os.path.relpath(P.root, ROOT), "copy": os.path.relpath(dst_root, ROOT),
           "model": "base", "tensor": "float32 little-endian, NCHW of one image", "items": items}
    (out_dir / "golden.json").write_text(json.dumps(doc, indent=1) + "\n")
    log(f"golden.json: {len(items)} images, copied to {os.path.relpath(dst_root, ROOT)}")


def golden_copy_dir(out_dir, pack_name):
    """Where golden.json's images are copied: testdata/golden/<pack> for a pack the project
    ships (under assets/models), the pack's own golden/ folder for any other. A
    scientist's pack built elsewhere wrote into the project's testdata, and one that kept
    a shipped pack's name deleted that pack's golden images."""
    out_dir = Path(out_dir).resolve()
    if out_dir.parent == (ROOT / "assets" / "models").resolve():
        return ROOT / "testdata" / "golden" / pack_name
    return out_dir / "golden"


def degraded_eval(P, nets, log):
    """Top-1 on the degraded copy of the val split (training/degrade.py with its defaults:
    made here when missing), for the pack's models and, when the config names it, the pack
    it starts from (its base model, with that pack's own format-1 contract)."""
    dcfg = P.cfg.get("degraded")
    if not dcfg:
        return None
    import degrade
    out_dir = rpath(dcfg["folder"])
    lst = out_dir / "labels.csv"
    va = [i for i, it in enumerate(P.items) if it.split == "val"]
    if not lst.exists():
        log(f"degraded val: writing {len(va)} images to {out_dir}")
        out_dir.mkdir(parents=True, exist_ok=True)
        with open(lst, "w") as fh:
            fh.write("path,label,split\n")
            for i in va:
                it = P.items[i]
                img = cv2.imread(it.path, cv2.IMREAD_GRAYSCALE)
                d = degrade.degrade(img, degrade.item_rng(dcfg.get("seed", 2026), it.rel))
                rel = str(Path(it.rel).with_suffix(".png"))
                (out_dir / rel).parent.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(out_dir / rel), d)
                fh.write(f"{rel},{it.label},val\n")
    items, _ = data.read_items(lst)
    li = {l: i for i, l in enumerate(P.labels)}
    y = np.array([li[it.label] for it in items])
    res = {"list": os.path.relpath(lst, ROOT), "n": len(items),
           "about": "val degraded by training/degrade.py: 25% illumination gradient, Gaussian blur sigma 1 px, noise sigma 5/255, seed 2026"}
    imgs = [contract.read_bgr(it.path) for it in items]
    for name, net in nets.items():
        t = [contract.tensor(im, P.spec) for im in imgs]
        res[name] = metrics.evaluate(train.predict(net, t), y, P.labels)["top1"]
        log(f"degraded val: {name} top-1 {res[name]:.4f}")
    if dcfg.get("reference_onnx"):
        ref = models.ndsb_resnet18(rpath(dcfg["reference_onnx"]), 1, len(P.labels), keep_fc=True)
        spec1 = contract.InputSpec(dcfg["reference_input"])
        for kind, ims in (("clean", [contract.read_bgr(P.items[i].path) for i in va]), ("degraded", imgs)):
            t = [contract.tensor(im, spec1) for im in ims]
            if kind == "clean":  # put the reference's folded BatchNorm back as identity
                xs = torch.from_numpy(np.stack(t[:512]))
                models.bn_calibrate(ref, [xs[i:i + 64] for i in range(0, len(xs), 64)])
            yy = P.y[va] if kind == "clean" else y
            res[f"reference_{kind}"] = metrics.evaluate(train.predict(ref, t), yy, P.labels)["top1"]
            log(f"degraded val: reference {dcfg['reference_onnx']} on {kind} top-1 {res[f'reference_{kind}']:.4f}")
    return res


def external_eval(P, nets, log):
    """Recall on an outside labelled folder (config "external": folder, map from its
    folder names to the pack's labels): images of another source, never trained or tuned
    on, to show how the pack carries over."""
    ecfg = P.cfg.get("external")
    if not ecfg:
        return None
    root = rpath(ecfg["folder"])
    if not root.exists():
        log(f"external: {root} not present, skipped")
        return None
    res = {"folder": ecfg["folder"], "about": ecfg.get("about", "")}
    for sub, label in ecfg["map"].items():
        files = sorted(p for p in (root / sub).iterdir() if p.suffix.lower() in data.IMAGE_EXT)
        t = [contract.tensor_from_file(f, P.spec) for f in files]
        y = P.labels.index(label)
        row = {"label": label, "n": len(files)}
        for name, net in nets.items():
            pr = train.predict(net, t)
            row[name] = round(float((pr.argmax(1) == y).mean()), 4)
            pred = np.bincount(pr.argmax(1), minlength=len(P.labels))
            row[name + "_most_predicted"] = [P.labels[i] for i in np.argsort(-pred)[:3]]
        res[sub] = row
        log(f"external {sub}: {row}")
    return res


VIEWS_ARCH = "; two views: the image and its transpose, their features averaged (test_views 2)"


def model_entry(cfg_m, m, file, features_dim, views=1):
    arch = cfg_m.get("card_arch", cfg_m["arch"]) + (VIEWS_ARCH if views == 2 else "")
    e = {"file": file, "arch": arch, "val_top1": round(m["top1"], 4), "val_top5": round(m["top5"], 4),
         "val_logloss": round(m["logloss"], 4), "val_macro_f1": round(m["macro_f1"], 4),
         "val_weighted_f1": round(m["weighted_f1"], 4), "val_ece": round(m["ece"], 4), "features_dim": features_dim}
    if "top1_agreement_with_base" in m:
        e["top1_agreement_with_base"] = round(m["top1_agreement_with_base"], 4)
    return e


def train_val(P):
    """The pack's train and val items (indices): the list's own split, or every fold but
    val_fold against it."""
    if P.given_split:
        return (np.array([i for i, it in enumerate(P.items) if it.split == "train"]),
                np.array([i for i, it in enumerate(P.items) if it.split == "val"]))
    vf = P.cfg.get("split", {}).get("val_fold", 0)
    return np.where(P.fold != vf)[0], np.where(P.fold == vf)[0]


def check_classes(P, tr, va):
    """Every class must be trained on and validated: a class with no training image is
    one the model cannot name, and one with no validation image gets no figure while the
    card's averages read as if it had (a class of one image, or a split's k larger than
    a class's groups, did either silently)."""
    groups = {}
    for it in P.items:
        groups.setdefault(it.label, set()).add(it.group)
    for name, idx in (("train", tr), ("val", va)):
        have = set(P.y[idx].tolist())
        missing = [l for i, l in enumerate(P.labels) if i not in have]
        if not missing:
            continue
        detail = ", ".join(f"{l!r} ({sum(1 for it in P.items if it.label == l)} image(s) in {len(groups.get(l, ()))} "
                           "group(s))" for l in missing)
        if P.given_split:
            fix = f"give those classes rows with split {name} in {rpath(P.cfg['data'])}"
        else:
            k = P.cfg.get("split", {}).get("k", 5)
            recipe = rpath(P.cfg["recipe_file"]).resolve() if P.cfg.get("recipe_file") else "the config"
            fix = (f"the split deals whole groups into {k} folds, one of them val, so a class needs at least 2 groups "
                   f"and, with fewer than {k}, can miss a fold: add images of those classes from more sources (groups)"
                   f"{f', or lower split.k in {recipe}' if k > 2 else ''}, or leave the class out")
        raise SystemExit(f"{rpath(P.cfg['data'])}: {len(missing)} class(es) have no {name} images: {detail}: {fix}")


def check_out(out, name, recipe=None):
    """--out must be a new or empty folder, or a pack of the same name built before (made
    again): a data folder, another folder or another pack is refused before anything is
    trained, since building writes base.onnx, pack.json... there and removes an earlier
    optimised.onnx."""
    out = Path(out)
    if not out.exists():
        return
    if not out.is_dir():
        raise SystemExit(f"--out {out}: a file, not a folder: give a new folder for the pack")
    if not any(out.iterdir()):
        return
    try:
        m = json.loads((out / "pack.json").read_text())
        prev, prev_recipe = m.get("name"), m.get("metrics", {}).get("training", {}).get("recipe")
    except (OSError, ValueError, AttributeError):
        prev = None
    if prev is None:
        raise SystemExit(f"--out {out}: the folder exists and holds files but no pack: building would write into it; "
                         "give a new or empty folder")
    if prev != name:
        raise SystemExit(f"--out {out}: holds the pack {prev!r}, not {name!r} (the config's name): give a new folder, "
                         f"or delete that one first if {prev!r} may go")
    if recipe and prev_recipe and rpath(prev_recipe).resolve() != rpath(recipe).resolve():
        # Same name, another recipe: a copied config that kept the shipped name must not
        # overwrite the shipped pack.
        raise SystemExit(f"--out {out}: holds the pack {prev!r} built from the recipe {prev_recipe}, not from {recipe}: "
                         f"give your pack its own \"name\" and a new folder, or delete that one first if {prev!r} may go")


def build_pack(P, out, work, log, cv_file, opset):
    cfg, spec = P.cfg, P.spec
    tr, va = train_val(P)
    check_classes(P, tr, va)
    if P.given_split:
        split_desc = "the list's own split column (train/val)"
    else:
        for i in tr:
            P.items[i].split = "train"
        for i in va:
            P.items[i].split = "val"
        sp = cfg.get("split", {})
        split_desc = (f"grouped stratified {sp.get('k', 5)}-fold split by source group, seed {sp.get('seed', 2024)}, "
                      f"fold {sp.get('val_fold', 0)} is val (split.csv)")
        if all(it.group == it.rel for it in P.items):
            # No group column (or a folder): a photograph's several crops can fall on
            # both sides, and the card must not claim otherwise.
            split_desc = (f"stratified {sp.get('k', 5)}-fold split, every file its own group (no group column in the "
                          f"data), seed {sp.get('seed', 2024)}, fold {sp.get('val_fold', 0)} is val (split.csv)")
            log("split: every file is its own group (a class folder, or a list without a group column): crops of one "
                "photograph or sample can be both trained and validated on, and the figures then read high; give "
                "\"data\" a list path,label,group whose group names the photograph or sample")
    log(f"pack {cfg['name']}: train {len(tr)}, val {len(va)} ({split_desc})")
    if P.weights_from:
        r = reexport(P, P.weights_from, tr, va, log)
    else:
        r = train_pair(P, tr, va, work, log, students=True)
    out.mkdir(parents=True, exist_ok=True)
    student = "optimised" in r
    export_onnx(r["base"], spec, out / "base.onnx", opset)
    if student:
        export_onnx(r["optimised"], spec, out / "optimised.onnx", opset)
    else:
        # The int8 twin is made from this base by pack optimise (make_pack.py --twin): a
        # twin of an earlier base must not stay beside it.
        for f in ("optimised.onnx", "confusion-val-optimised.csv", twin.REPORT_FILE):
            (out / f).unlink(missing_ok=True)
    log(f"exported base.onnx ({(out / 'base.onnx').stat().st_size / 1e6:.1f} MB)" +
        (f", optimised.onnx ({(out / 'optimised.onnx').stat().st_size / 1e6:.1f} MB)" if student else "") + f", opset {opset}")
    data.write_split(P.items, out / "split.csv")
    mm = r["metrics"]
    metrics.write_confusion(out / "confusion-val.csv", mm["base"]["confusion"], P.labels)
    if student:
        metrics.write_confusion(out / "confusion-val-optimised.csv", mm["optimised"]["confusion"], P.labels)
    golden(P, r["base"], va, out, cfg["name"], log)
    cv = json.loads(Path(cv_file).read_text()) if cv_file and Path(cv_file).exists() else None
    nets = {"base": r["base"], "optimised": r["optimised"]} if student else {"base": r["base"]}
    degraded = degraded_eval(P, nets, log)
    external = external_eval(P, nets, log)
    fb = r["base"].feature_dim
    fo = r["optimised"].feature_dim if student else fb
    models_ = {"base": model_entry(cfg["base"], mm["base"], "base.onnx", fb, cfg.get("test_views", 1))}
    val = {"base": strip(mm["base"])}
    if student:
        models_["optimised"] = model_entry(cfg["student"], mm["optimised"], "optimised.onnx", fo, cfg.get("test_views", 1))
        val["optimised"] = strip(mm["optimised"])
    opt_minutes = mm.get("optimised_minutes")
    manifest = {
        "format": 2,
        "name": cfg["name"],
        "labels": P.labels,
        "input": spec.to_json(),
        "output": {"name": "probabilities", "shape": [-1, len(P.labels)], "activation": "softmax"},
        "features": {"name": "features", "shape": [-1, fb if fb == fo else -1]},
        "models": models_,
        "dataset": cfg["dataset"],
        **({"limits": cfg["limits"]} if cfg.get("limits") else {}),
        "train_images": int(len(tr)),
        "val_images": int(len(va)),
        "metrics": {
            "split": split_desc,
            "tuned_on": cfg.get("tuned_on", ""),
            "val": val,
            "cross_validation": cv,
            "degraded": degraded,
            "external": external,
            "training": {"minutes": round(mm["base_minutes"] + (opt_minutes or 0), 1), "base_minutes": round(mm["base_minutes"], 1),
                         "optimised_minutes": round(opt_minutes, 1) if student else None,
                         "optimised": "student trained by the recipe" if student else "int8 twin by phytoscreen pack optimise",
                         "host": mm.get("base_trained_on") or host_line(),
                         "date": datetime.date.today().isoformat(), "recipe": cfg.get("recipe_file", "")},
        },
    }
    if P.weights_from:
        # The weights are the earlier pack's: its training record stays, and says so.
        prev = r["previous_training"]
        t = manifest["metrics"]["training"]
        t.update({k: prev[k] for k in ("minutes", "base_minutes", "host", "date") if k in prev})
        t["optimised_minutes"] = None
        t["note"] = (f"re-exported {datetime.date.today().isoformat()} with test_views {cfg.get('test_views', 1)} from the "
                     f"weights trained on {prev.get('date', '?')}, not trained again (make_pack.py --weights-from)"
                     + (f"; that training: {prev['note']}" if prev.get("note") else ""))
    (out / "pack.json").write_text(metrics.dumps(manifest) + "\n")
    if cfg.get("taxonomy"):
        shutil.copyfile(rpath(cfg["taxonomy"]), out / "taxonomy.toml")
    from phytotrain import card
    (out / "README.md").write_text(card.render(card_template(cfg).read_text(), manifest, P.labels, out))
    log(f"pack written to {out}")
    return manifest


def previous_pack(onnx_path, P):
    """The pack.json beside a base.onnx given to --weights-from, checked against the
    recipe: the same labels in the same order and the same input contract, or the weights
    would be read against the wrong classes."""
    pj = Path(onnx_path).parent / "pack.json"
    try:
        prev = json.loads(pj.read_text())
    except (OSError, ValueError) as e:
        raise SystemExit(f"--weights-from {onnx_path}: its pack.json cannot be read ({e}); give a pack's base.onnx")
    if prev.get("labels") != P.labels:
        raise SystemExit(f"--weights-from {onnx_path}: {pj} has other labels than the recipe {P.cfg['name']}")
    if prev.get("input") != P.spec.to_json():
        raise SystemExit(f"--weights-from {onnx_path}: {pj} has another input contract than the recipe's; "
                         "the weights were trained for that one")
    if not isinstance(prev.get("metrics", {}).get("training", {}).get("base_minutes"), (int, float)):
        # The card states how long the weights took to train; a pack.json not written by
        # make_pack.py (or edited) lacks it, and the card would be wrong without it.
        raise SystemExit(f"--weights-from {onnx_path}: {pj} has no metrics.training.base_minutes (how long the base "
                         "trained), which make_pack.py writes; give a pack this recipe made, or train the pack")
    return prev


def loaded_base(P, onnx_path, log):
    """An earlier pack's trained base, shipped again as this recipe ships it: the weights
    as exported (folded, float16, prior correction already in them), with the recipe's
    test views."""
    if student_cfg(P.cfg):
        raise SystemExit("--weights-from: the recipe's optimised model is a trained student; use the int8 twin "
                         "(optimised.method \"int8\") or train the pack")
    net = models.load_exported_resnet(onnx_path, P.spec.c, len(P.labels))
    log(f"base: the trained weights of {onnx_path}, not trained again")
    if P.cfg.get("test_views", 1) == 2:
        net = models.ViewAveraged(net).eval()
        log("base: the image and its transpose averaged (test_views 2)")
    return net


def reexport(P, onnx_path, tr, va, log):
    """train_pair's result for an earlier pack's weights (--weights-from): evaluated, not trained."""
    prev = previous_pack(onnx_path, P)
    net = loaded_base(P, onnx_path, log)
    val_t = P.tensors(va)
    pb = train.predict(net, val_t)
    m = metrics.evaluate(pb, P.y[va], P.labels)
    log("base: " + metrics.summary(m))
    return {"base": net, "probs_base": pb, "val_t": val_t, "previous_training": prev["metrics"]["training"],
            "metrics": {"n_train": int(len(tr)), "n_val": int(len(va)), "base": m,
                        "base_minutes": prev["metrics"]["training"]["base_minutes"]}}


def check_views_on_halves(P, onnx_path, seed, log):
    """Whether the transposed view helps an earlier pack's weights, decided without
    looking at the whole val split: its images are shuffled (seed) into two halves; the
    first decides, the second is the untouched figure. Prints both, writes nothing."""
    previous_pack(onnx_path, P)
    va = train_val(P)[1]
    va = va[np.random.default_rng(seed).permutation(len(va))]
    halves = {"decide": va[:len(va) // 2], "report": va[len(va) // 2:]}
    one = models.load_exported_resnet(onnx_path, P.spec.c, len(P.labels))
    nets = {"1 view": one, "2 views": models.ViewAveraged(one).eval()}
    log("half   views    top-1   macro-F1  log-loss")
    for h, idx in halves.items():
        t = P.tensors(idx)
        for v, net in nets.items():
            m = metrics.evaluate(train.predict(net, t), P.y[idx], P.labels)
            log(f"{h:6} {v:8} {m['top1']:.4f}  {m['macro_f1']:.4f}    {m['logloss']:.4f}   ({len(idx)} images)")


def apply_twin(cfg, out, twin_dir, seconds, log):
    """Make the int8 twin that `phytoscreen pack optimise` wrote to twin_dir (a copy of the
    pack out with the twin as its optimised model) the optimised model of out: its ONNX
    file, its pack.json entry with the val figures of `phytoscreen eval` (Go, ONNX Runtime:
    top-1, top-5, log-loss, macro and weighted F1, ECE, per class, the confusion matrix),
    the degraded and external figures measured the same way, its per-layer report
    (quantisation.md), and the card re-rendered."""
    binary = ROOT / "bin" / "phytoscreen"
    if not binary.exists():
        raise SystemExit(f"{binary} is missing: run 'make build' first")
    m = json.loads((out / "pack.json").read_text())
    tm = json.loads((twin_dir / "pack.json").read_text())
    if "quantisation" not in tm["models"].get("optimised", {}):
        raise SystemExit(f"{twin_dir / 'pack.json'}: its optimised model was not made by phytoscreen pack optimise: "
                         f"give --twin the --out folder of pack optimise")
    if twin.sha256(out / m["models"]["base"]["file"]) != twin.sha256(twin_dir / tm["models"]["base"]["file"]):
        raise SystemExit(f"{twin_dir} was made from another base model than {out}'s: make the twin again "
                         f"(make pack-cyano-twin / make pack-ndsb-twin)")
    root = _data_root(cfg)
    conf = twin_dir / "confusion-val-optimised.csv"  # copied into the pack once all is measured
    ev = twin.run_eval(binary, twin_dir, out / "split.csv", root=root, split="val", confusion=conf)
    labels, cm = twin.read_confusion(conf)
    if labels != m["labels"]:
        raise SystemExit(f"{conf}: labels {labels[:3]}... are not the pack's")
    val = twin.val_metrics(ev, cm, m["labels"])
    log(f"optimised (int8 twin, Go eval on val): " + metrics.summary(val))
    m = twin.merge(m, tm, val, seconds)
    d = m["metrics"].get("degraded")
    if d:
        lst = rpath(d["list"])
        if lst.exists():
            d["optimised"] = twin.run_eval(binary, twin_dir, lst)["top1"]
            log(f"degraded val: optimised top-1 {d['optimised']:.4f}")
        else:
            d["optimised"] = None
            log(f"degraded val: {lst} missing ('make degrade-ndsb' writes it): the twin not measured on it")
    e = m["metrics"].get("external")
    if e:
        ecfg = cfg.get("external", {})
        for sub, row in e.items():
            if not isinstance(row, dict):
                continue
            lst = ROOT / ".cache" / "twin" / f"external-{cfg['name']}-{sub}.csv"
            twin.external_list(rpath(ecfg.get("folder", e["folder"])), sub, row["label"], data.IMAGE_EXT, lst)
            ext_conf = lst.with_suffix(".confusion.csv")
            ev = twin.run_eval(binary, twin_dir, lst, confusion=ext_conf)
            row["optimised"] = round(ev["top1"], 4)
            row["optimised_most_predicted"] = twin.most_predicted(twin.read_confusion(ext_conf)[1], m["labels"], row["label"])
            log(f"external {sub}: optimised {row['optimised']}")
    entry = m["models"]["optimised"]
    shutil.copyfile(twin_dir / entry["file"], out / entry["file"])
    shutil.copyfile(conf, out / conf.name)
    (out / twin.REPORT_FILE).write_text(twin.report_section((twin_dir / "README.md").read_text()))
    (out / "pack.json").write_text(metrics.dumps(m) + "\n")
    from phytotrain import card
    card.rerender(out, card_template(cfg))
    log(f"{out}: the optimised model is the int8 twin of {twin_dir} ({(out / entry['file']).stat().st_size / 1e6:.1f} MB)")


def _data_root(cfg):
    """The folder the pack's split.csv paths start from (the data list's, or the data folder)."""
    p = rpath(cfg["data"])
    return p if p.is_dir() else p.parent


def config_key(cfg, leave_out):
    """A short hash of the config without the keys in leave_out: checkpoints are kept per
    recipe, so a changed config never resumes another's."""
    return hashlib.sha256(json.dumps({k: v for k, v in cfg.items() if k not in leave_out},
                                     sort_keys=True).encode()).hexdigest()[:8]


def _given_split(cfg):
    """Whether the data list has its own split column (then there is no cross-validation)."""
    p = rpath(cfg["data"])
    if p.is_dir():
        return False
    with open(p) as fh:
        return "split" in [c.strip().lower() for c in fh.readline().split(",")]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True)
    ap.add_argument("--out", help="pack folder to write")
    ap.add_argument("--work", help="checkpoints and logs (default .cache/training/<name>/<mode>)")
    ap.add_argument("--tune", type=int, metavar="FOLD", help="tuning run: validate on FOLD, train without the final val fold")
    ap.add_argument("--cv", action="store_true", help="k-fold grouped cross-validation of the recipe")
    ap.add_argument("--base-only", action="store_true", help="tune/cv: skip the student")
    ap.add_argument("--cv-results", help="cv.json to record in the pack (default: the --cv run's)")
    ap.add_argument("--set", action="append", default=[], help="override a config value: key.sub=JSON")
    ap.add_argument("--card-only", action="store_true", help="re-render --out's README.md from its pack.json (and --speed)")
    ap.add_argument("--speed", help="BenchmarkPackVariants JSON (PHYTOSCREEN_BENCH_OUT) to record in the card")
    ap.add_argument("--twin", metavar="DIR", help="make the int8 twin in DIR (phytoscreen pack optimise's --out) --out's optimised model")
    ap.add_argument("--twin-seconds", type=float, help="how long pack optimise took, for the card")
    ap.add_argument("--weights-from", metavar="ONNX", help="ship an earlier pack's base.onnx again (with the recipe's "
                    "test_views) instead of training: evaluated, exported, its card written")
    ap.add_argument("--check-views", type=int, metavar="SEED", help="with --weights-from: the ONNX's weights with one and "
                    "two views on two seeded halves of val (the first decides, the second reports); writes nothing")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu", help="train on this torch device (cpu, the default; cuda when an "
                    "accelerator is lent: docs/training.md, On an accelerator)")
    ap.add_argument("--workers", type=int, default=0, help="augment in this many processes (0: in the training process)")
    ap.add_argument("--train-only", action="store_true", help="train the base's checkpoint (work/base.pt) and stop "
                    "(with --cv or --tune: the first fold's)")
    ap.add_argument("--opset", type=int, default=17)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    cfg = load_config(a.config)
    if a.card_only:
        from phytotrain import card
        card.rerender(rpath(a.out), card_template(cfg), a.speed)
        print(f"{a.out}/README.md rendered")
        return
    if a.twin:
        if not a.out:
            ap.error("--twin needs --out, the pack to give the twin")
        apply_twin(cfg, rpath(a.out), rpath(a.twin), a.twin_seconds, print)
        return
    # Inside the project the recipe is named from its root (the shipped packs' cards and
    # checkpoint keys say training/configs/...); a recipe elsewhere by its absolute path.
    rf = Path(a.config).resolve()
    cfg["recipe_file"] = os.path.relpath(rf, ROOT) if rf.is_relative_to(ROOT) else str(rf)
    for s in a.set:
        k, v = s.split("=", 1)
        d = cfg
        ks = k.split(".")
        for kk in ks[:-1]:
            d = d[kk]
        d[ks[-1]] = json.loads(v)
    if a.set:
        where = f"{a.config} with --set {' '.join(a.set)}"
        check_config(cfg, where)
        check_views(cfg, where)
    mode = "cv" if a.cv else (f"tune{a.tune}" if a.tune is not None else "pack")
    # Checkpoints are kept per recipe: a changed config never resumes another's. The pack
    # is trained exactly as cross-validation fold val_fold (same items, same seeds), so
    # the two share that fold's checkpoints: whichever runs first trains it.
    key = config_key(cfg, EVAL_ONLY_KEYS + OPTIMISED_KEYS)  # the base's checkpoints
    skey = config_key(cfg, EVAL_ONLY_KEYS)  # the student's (it depends on the base too)
    base_dir = ROOT / ".cache" / "training" / cfg["name"]
    if a.work:
        work = Path(a.work)
    elif mode == "pack" and not _given_split(cfg):
        work = base_dir / f"cv-{key}" / f"fold{cfg.get('split', {}).get('val_fold', 0)}"
    else:
        work = base_dir / f"{mode}-{key}"
    if a.check_views is not None and not a.weights_from:
        ap.error("--check-views needs --weights-from")
    if a.weights_from and a.check_views is None and mode != "pack":
        ap.error("--weights-from builds a pack (--out), not a tuning or cross-validation run")
    if mode == "pack" and a.out and a.check_views is None:
        check_out(rpath(a.out), cfg["name"], cfg["recipe_file"])
    work.mkdir(parents=True, exist_ok=True)
    log = Log(work / "train.log")
    log(f"config {a.config} {' '.join(a.set)} -> {mode}, work {work}, torch {torch.__version__}, {a.threads} threads")
    (work / "config.json").write_text(json.dumps(cfg, indent=1))
    P = Prepared(cfg, log)
    P.student_key = skey
    P.device, P.workers, P.train_only = a.device, a.workers, a.train_only
    if a.weights_from:
        P.weights_from = rpath(a.weights_from)
    if a.check_views is not None:
        check_views_on_halves(P, P.weights_from, a.check_views, log)
        return
    if a.cv:
        run_cv(P, work, log, not a.base_only)
    elif a.tune is not None:
        run_tune(P, a.tune, cfg.get("split", {}).get("val_fold", 0), work, log, not a.base_only)
    else:
        if not a.out and not a.train_only:
            ap.error("--out is required to build a pack")
        cv = a.cv_results or (base_dir / f"cv-{key}" / f"cv-{skey}.json")
        build_pack(P, rpath(a.out) if a.out else None, work, log, cv, a.opset)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        # Ctrl-C is how a long run is stopped: say what was kept, not a traceback.
        print("\nstopped (Ctrl-C): every finished epoch is kept in the run's checkpoint under .cache/training/ "
              "(the 'work' of the first log line); the same command resumes there", file=sys.stderr)
        raise SystemExit(130)
