"""The pack card (README.md): a hand-written template (provenance, recipe, limits) with
the figures filled in from pack.json, so a rebuilt pack's card always tells its own
numbers. Placeholders: {{val_table}}, {{per_class}}, {{cv_table}}, {{speed}},
{{training}}, {{split}}, {{input}}, {{optimised}}, {{robustness}}, {{external}}."""
import json
from pathlib import Path


def _f(v, nd=3):
    return "-" if v is None else f"{v:.{nd}f}"


def val_table(m, out):
    rows = ["| model | file | top-1 | macro-F1 | weighted F1 | log-loss | ECE | agrees with base | size |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for v in ("base", "optimised"):
        e = m["models"].get(v)
        if not e:
            continue
        size = (Path(out) / e["file"]).stat().st_size / 1e6 if out and (Path(out) / e["file"]).exists() else None
        rows.append(f"| {v} | `{e['file']}` | {_f(e['val_top1'])} | {_f(e['val_macro_f1'])} | {_f(e['val_weighted_f1'])} | "
                    f"{_f(e['val_logloss'])} | {_f(e['val_ece'])} | {_f(e.get('top1_agreement_with_base'))} | "
                    f"{'-' if size is None else f'{size:.1f} MB'} |")
    return "\n".join(rows)


def per_class(m, labels):
    val = m["metrics"]["val"]
    cv = m["metrics"].get("cross_validation") or {}
    opt = val.get("optimised")
    head = "| class | val support | base recall | base precision | base F1 |" + (" optimised recall | optimised F1 |" if opt else "")
    sep = "| --- | ---: | ---: | ---: | ---: |" + (" ---: | ---: |" if opt else "")
    if cv.get("base"):
        head += " CV recall, base (support) |"
        sep += " ---: |"
    rows = [head, sep]
    for l in labels:
        b = val["base"]["per_class"][l]
        r = f"| {l} | {b['support']} | {_f(b['recall'])} | {_f(b['precision'])} | {_f(b['f1'])} |"
        if opt:
            o = opt["per_class"][l]
            r += f" {_f(o['recall'])} | {_f(o['f1'])} |"
        if cv.get("base"):
            pc = cv["base"]["pooled_recall"][l]
            r += f" {_f(pc['recall'])} ({pc['support']}) |"
        rows.append(r)
    return "\n".join(rows)


def cv_table(m):
    cv = m["metrics"].get("cross_validation")
    if not cv:
        return "(not run: `make pack-cyano-cv` runs it)"
    rows = [f"| metric | base, mean ± sd over {cv['k']} folds | optimised, mean ± sd | base per fold |",
            "| --- | ---: | ---: | --- |"]
    for k, name in (("top1", "top-1"), ("macro_f1", "macro-F1"), ("weighted_f1", "weighted F1"),
                    ("logloss", "log-loss"), ("ece", "ECE")):
        b = cv["base"][k]
        o = cv.get("optimised", {}).get(k)
        ot = "-" if not o else f"{o['mean']:.3f} ± {o['sd']:.3f}"
        folds = ", ".join(f"{v:.3f}" for v in b["folds"])
        rows.append(f"| {name} | {b['mean']:.3f} ± {b['sd']:.3f} | {ot} | {folds} |")
    return "\n".join(rows)


def speed(m, speed_rows):
    if not speed_rows:
        return "(not measured: `go test -run '^$' -bench PackVariants ./inference/` measures it)"
    r = next((x for x in speed_rows if x["pack"] == m["name"]), None)
    if not r:
        return "(not measured)"
    return (f"Single-stream (batch 1, one ONNX Runtime {r['onnxruntime']} thread, median of {r['runs']} "
            f"alternating runs of each model, measured by `BenchmarkPackVariants` on the build machine): "
            f"base {r['base_ms']:.2f} ms, optimised {r['optimised_ms']:.2f} ms per image: "
            f"**{r['speedup']:.2f}x faster**. The ratio depends on the CPU: `phytoscreen bench` measures it on yours.")


def robustness(m):
    d = m["metrics"].get("degraded")
    if not d:
        return ""
    b, o = m["models"]["base"], m["models"].get("optimised")
    rows = [f"On the val split degraded as a mediocre bench camera sees it ({d['about']}; "
            f"`{d['list']}`, {d['n']} images, also for `phytoscreen eval`), top-1:", "",
            "| model | clean val | degraded val | drop |", "| --- | ---: | ---: | ---: |",
            f"| base | {b['val_top1']:.3f} | {d['base']:.3f} | {100 * (b['val_top1'] - d['base']):.1f} points |"]
    if o and d.get("optimised") is not None:
        rows.append(f"| optimised | {o['val_top1']:.3f} | {d['optimised']:.3f} | {100 * (o['val_top1'] - d['optimised']):.1f} points |")
    if "reference_clean" in d:
        rows.append(f"| default pack `ndsb-plankton-121` (base, format 1) | {d['reference_clean']:.3f} | {d['reference_degraded']:.3f} | "
                    f"{100 * (d['reference_clean'] - d['reference_degraded']):.1f} points |")
    return "\n".join(rows)


def external(m):
    e = m["metrics"].get("external")
    if not e:
        return "(not measured: the folder was not present)"
    rows = [f"{e['about']}", "",
            "| frames | n | base: right genus | optimised: right genus | base's three most predicted |",
            "| --- | ---: | ---: | ---: | --- |"]
    for k, v in e.items():
        if isinstance(v, dict):
            rows.append(f"| {k} ({v['label']}) | {v['n']} | {v['base']:.3f} | {_f(v.get('optimised'))} | "
                        f"{', '.join(v['base_most_predicted'])} |")
    return "\n".join(rows)


def reject(m):
    """The reject class taught by make_reject.py: what it is and what it changed on held-out
    real objects, before and after, for both models."""
    r = m["metrics"].get("reject")
    if not r:
        return "(none: this pack names every object one of its taxa)"
    t = r["teaching_crops"]
    rows = [f"Label `{r['label']}` (\"{r['name']}\"): taught by `training/make_reject.py` "
            f"(`phytoscreen pack teach`, a head on the features) from {t.get('reject', 0):,} crops of things that are not "
            f"cyanobacteria and {t.get('pack', 0):,} of the pack's own taxa, with its score shifted by {r['bias']} log-odds "
            f"({r['bias_about']}). It belongs to no HAB group: what it takes counts in no alert, and the summary lists it.",
            "",
            f"Held-out objects, called at the app's confidence threshold ({r['threshold']}): the share counted as "
            "cyanobacteria (sure enough to count), left unsure (waits for review) and set aside, before the class and with it:",
            "",
            "| objects | truth | n | model | counted as cyanobacteria: before -> with it | unsure | set aside |",
            "| --- | --- | ---: | --- | ---: | ---: | ---: |"]
    for v in ("base", "optimised"):
        for b, a in zip(r["before"][v], r["after"][v]):
            truth = "cyanobacterium" if a["truth"] == "cyanobacterium" else "not one"
            rows.append(f"| {a['set']} | {truth} | {a['n']} | {v} | {b['cyano']:.3f} -> **{a['cyano']:.3f}** | "
                        f"{a['unsure']:.3f} | {a['set aside']:.3f} |")
    vb = r["val_before"]
    rows += ["", "On the val split the class costs the genera: " + "; ".join(
        f"{v} top-1 {vb[v]['top1']:.4f} -> {m['models'][v]['val_top1']:.4f}, macro-F1 {vb[v]['macro_f1']:.4f} -> "
        f"{m['models'][v]['val_macro_f1']:.4f}" for v in ("base", "optimised") if v in vb) + " (the val figures and matrices above are with it)."]
    return "\n".join(rows)


def training(m):
    t = m["metrics"]["training"]
    om = t.get("optimised_minutes")
    opt = "-" if om is None else f"{om:.0f}" if om >= 1 else "under 1"
    what = f": {t['optimised']}" if t.get("optimised") else ""
    note = f" ({t['note']})" if t.get("note") else ""
    def mins(v):  # a few dozen images train in seconds: "0 minutes" read as nothing done
        return f"{v:.0f}" if v >= 1 else "under 1"

    total = f"{t['minutes']:.0f} minutes" if t["minutes"] >= 1 else "under a minute"
    return (f"{total} in all (base {mins(t['base_minutes'])}, optimised {opt}{what}){note} "
            f"on {t['host']}, {t['date']}; recipe `{t['recipe']}`.")


def optimised(m):
    """What the pack's optimised model is: the int8 twin pack optimise made (its report in
    the manifest) or the recipe's student (its arch line)."""
    o = m["models"].get("optimised")
    if not o:
        return ("- Optimised: not made yet. `phytoscreen pack optimise` makes the int8 twin of the base, and "
                "`make_pack.py --twin` records it here (`make pack-cyano-twin` / `make pack-ndsb-twin` for the "
                "shipped packs; docs/training.md).")
    q = o.get("quantisation")
    if not q:
        return f"- Optimised: a student trained by the recipe (config `optimised.method` \"student\"): {o['arch']}."
    b = m["models"]["base"]
    layers = q.get("layers") or []
    kept = q.get("kept_fp32") or []
    ops = q.get("runtime_ops") or {}
    d1 = 100 * (o["val_top1"] - b["val_top1"])
    s = ("- Optimised: **the int8 twin of the same network**, made from the trained base by `phytoscreen pack optimise` "
         "(Go, [docs/training.md](../../../docs/training.md)): static quantisation in ONNX's QDQ form, per-channel "
         f"symmetric int8 weights in a 7-bit range (±64, exact on CPUs without VNNI), int32 biases, uint8 activations whose ranges come from {q['method']} calibration "
         f"on {q['calibration_images']} images of {q['calibration']} (training images only, never val; sampled "
         f"with a fixed seed). {len(kept)} of {len(layers)} quantisable layers kept fp32"
         f"{' (' + ', '.join(f'`{k}`' for k in kept) + ')' if kept else ''}: a layer stays fp32 when leaving it so "
         f"brings back more than {q['max_layer_loss_points']:.1f} points of top-1 agreement with the base on the "
         f"calibration images and a sign test tells that from chance. {q.get('fused_relu', 0)} Relu fused into the "
         f"quantised layers; ONNX Runtime runs {ops.get('QLinearConv', 0)} QLinearConv and "
         f"{ops.get('Conv', 0) + ops.get('FusedConv', 0)} fp32 Conv. Measured cost on the val split (Go, ONNX Runtime): "
         f"{d1:+.2f} points of top-1")
    if o.get("val_macro_f1") and b.get("val_macro_f1"):
        s += f", {100 * (o['val_macro_f1'] - b['val_macro_f1']):+.2f} of macro-F1"
    if o.get("top1_agreement_with_base") is not None:
        s += f", the same top-1 label as the base on {100 * o['top1_agreement_with_base']:.1f}% of images"
    s += (f". Each layer's measured effect and the calibration methods compared: [`quantisation.md`](quantisation.md). "
          "The figures of the optimised model below are Go's (`phytoscreen eval`), the base's the recipe's PyTorch "
          "figures (the two agree: `TestPackGolden`, the val tests of inference).")
    return s


def input_desc(m):
    i = m["input"]
    bg = i.get("background", {"method": "none"})
    s = (f"`{i['name']}` float32 {i['shape']}, channels {i['channels']}, resize `{i['resize']}`, background "
         f"{bg['method']}{' q=' + str(bg['q']) if bg['method'] == 'percentile' else ''}, pad {i.get('pad', 1.0)}")
    if i.get("mean"):
        s += f", normalised (x - {i['mean'][0]}) / {i['std'][0]} per channel"
    return s


# The card of a pack whose recipe names no "card" template (a scientist's own pack): the
# shipped packs' templates describe their own data and would be wrong on any other.
GENERIC = Path(__file__).resolve().parent.parent / "configs" / "pack-card.md"
# Under this many validation images in a class, the card says its figures are rough.
FEW_VAL = 30


def data_note(m):
    """How much the val figures can say: their count, the smallest class's, and what one
    image moves (a pack built from a few dozen images per class must not read as measured)."""
    per = m["metrics"]["val"]["base"]["per_class"]
    n = m.get("val_images") or sum(v["support"] for v in per.values())
    small = min(per, key=lambda l: per[l]["support"])
    k = per[small]["support"]
    s = (f"The figures below rest on {n:,} validation images; the smallest class, {small}, has {k}, so one of its "
         f"images moves its recall by {100 / max(k, 1):.0f} points.")
    if k < FEW_VAL:
        s += (f" With under {FEW_VAL} validation images in a class, read its figures as rough: a second split (or "
              "`make_pack.py --cv`, the recipe cross-validated) can differ by many points.")
    if "every file its own group" in m["metrics"]["split"]:
        s += (" The data had no group column (a class folder, or a list without one), so several crops of one "
              "photograph or sample can sit on both sides of the split, and the figures then read higher than on new "
              "samples.")
    return s + (" Validation images come from the same collection as the training images: measure the pack on your "
                "own labelled crops from the bench (`phytoscreen eval LIST.csv --pack PACK`) before trusting its counts.")


def render(template, manifest, labels, out=None, speed_rows=None):
    subs = {
        "{{val_table}}": val_table(manifest, out),
        "{{per_class}}": per_class(manifest, labels),
        "{{cv_table}}": cv_table(manifest),
        "{{speed}}": speed(manifest, speed_rows),
        "{{training}}": training(manifest),
        "{{split}}": manifest["metrics"]["split"],
        "{{input}}": input_desc(manifest),
        "{{optimised}}": optimised(manifest),
        "{{robustness}}": robustness(manifest),
        "{{external}}": external(manifest),
        "{{reject}}": reject(manifest),
        "{{train_images}}": str(manifest.get("train_images", "")),
        "{{val_images}}": str(manifest.get("val_images", "")),
        "{{name}}": manifest["name"],
        "{{dataset}}": manifest.get("dataset", ""),
        "{{labels}}": ", ".join(labels),
        "{{n_labels}}": str(len(labels)),
        "{{base_arch}}": manifest["models"]["base"]["arch"],
        "{{data_note}}": data_note(manifest),
        "{{limits}}": manifest.get("limits") or "None recorded (the recipe's \"limits\"): say where the pack does not hold.",
    }
    for k, v in subs.items():
        template = template.replace(k, v)
    return template


def rerender(pack_dir, template_path, speed_file=None):
    pack_dir = Path(pack_dir)
    m = json.loads((pack_dir / "pack.json").read_text())
    rows = json.loads(Path(speed_file).read_text()) if speed_file and Path(speed_file).exists() else None
    if rows:
        r = next((x for x in rows if x["pack"] == m["name"]), None)
        if r:
            m["metrics"]["speed"] = r
            from . import metrics
            (pack_dir / "pack.json").write_text(metrics.dumps(m) + "\n")
    rows = rows or ([m["metrics"]["speed"]] if m["metrics"].get("speed") else None)
    (pack_dir / "README.md").write_text(render(Path(template_path).read_text(), m, m["labels"], pack_dir, rows))
