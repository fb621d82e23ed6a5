"""Unit tests of the int8 twin's place in the recipe (training/phytotrain/twin.py, the card,
make_pack's choice of optimised model): no training, no Go binary.
/usr/bin/python3 -m unittest discover -s training/tests"""
import json
import sys
import unittest
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from phytotrain import card, metrics, twin  # noqa: E402
import make_pack  # noqa: E402

LABELS = ["a", "b", "c"]


def manifest():
    """A pack.json as make_pack writes it with the int8 method: the base only."""
    per = {l: {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2, "predicted": 2} for l in LABELS}
    return {
        "format": 2, "name": "t", "labels": LABELS,
        "input": {"name": "image", "shape": [-1, 3, 8, 8], "channels": "rgb", "resize": "fit", "pad": 1.0},
        "features": {"name": "features", "shape": [-1, 512]},
        "models": {"base": {"file": "base.onnx", "arch": "net", "val_top1": 0.8, "val_top5": 1.0, "val_logloss": 0.5,
                            "val_macro_f1": 0.7, "val_weighted_f1": 0.75, "val_ece": 0.05, "features_dim": 512}},
        "train_images": 10, "val_images": 6,
        "metrics": {"split": "s", "val": {"base": {"n": 6, "per_class": per}}, "cross_validation": None,
                    "degraded": None, "external": None, "speed": {"pack": "t", "base_ms": 9, "optimised_ms": 2},
                    "training": {"minutes": 30.0, "base_minutes": 30.0, "optimised_minutes": None,
                                 "host": "h", "date": "d", "recipe": "r"}},
    }


def twin_manifest():
    """pack optimise's pack.json: its optimised entry with the quantisation report."""
    m = manifest()
    m["models"]["optimised"] = {
        "file": "optimised.onnx", "arch": "same network, static int8 QDQ", "val_top1": 0.81234567,
        "top1_agreement_with_base": 0.987654, "measured_on": "split.csv split val (6 images)",
        "quantisation": {"method": "percentile:99.999", "calibration": "split.csv (split train)", "calibration_images": 400,
                         "max_layer_loss_points": 1.0, "fused_relu": 17, "kept_fp32": ["/conv1/Conv"],
                         "layers": [{"name": "/conv1/Conv"}, {"name": "/fc/Gemm"}], "runtime_ops": {"QLinearConv": 19, "Conv": 1}}}
    return m


def go_eval():
    """phytoscreen eval --format json: classes without support are left out."""
    return {"n": 6, "top1": 0.83333333, "top5": 1.0, "logloss": 0.41234, "macro_f1": 0.7654321, "weighted_f1": 0.8123,
            "ece": 0.061234, "per_class_recall": [
                {"label": "a", "support": 4, "recall": 0.75, "precision": 1.0, "f1": 0.857142857},
                {"label": "b", "support": 2, "recall": 1.0, "precision": 0.6666667, "f1": 0.8}]}


class TestTwin(unittest.TestCase):
    def test_val_metrics_from_go_eval(self):
        confusion = [[3, 1, 0], [0, 2, 0], [0, 0, 0]]
        v = twin.val_metrics(go_eval(), confusion, LABELS)
        self.assertEqual(v["top1"], 0.83333333)
        self.assertEqual(v["ece"], 0.061234)
        self.assertEqual(v["per_class"]["a"], {"precision": 1.0, "recall": 0.75, "f1": 0.8571, "support": 4, "predicted": 3})
        self.assertEqual(v["per_class"]["b"]["predicted"], 3)
        self.assertEqual(v["per_class"]["c"], {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0, "predicted": 0})

    def test_merge_puts_the_twin_and_its_val_figures_in_the_card(self):
        m0 = manifest()
        val = twin.val_metrics(go_eval(), [[3, 1, 0], [0, 2, 0], [0, 0, 0]], LABELS)
        m = twin.merge(m0, twin_manifest(), val, seconds=150)
        o = m["models"]["optimised"]
        # The val figures are Go's eval, not pack optimise's own (rounded as the base's).
        self.assertEqual((o["val_top1"], o["val_macro_f1"], o["val_weighted_f1"], o["val_ece"], o["val_logloss"]),
                         (0.8333, 0.7654, 0.8123, 0.0612, 0.4123))
        self.assertEqual(o["features_dim"], 512)
        self.assertEqual(o["quantisation"]["calibration_images"], 400)
        self.assertIs(m["metrics"]["val"]["optimised"], val)
        self.assertNotIn("speed", m["metrics"])  # the replaced model's speed is not the twin's
        self.assertEqual(m["metrics"]["training"]["optimised_minutes"], 2.5)
        self.assertEqual(m["metrics"]["training"]["minutes"], 32.5)
        self.assertNotIn("optimised", m0["models"])  # the input is left as it was

        text = card.render("{{optimised}}\n{{val_table}}\n{{per_class}}\n{{training}}\n{{speed}}", m, LABELS)
        for want in ("int8 twin of the same network", "per-channel", "percentile:99.999", "400 images of split.csv (split train)",
                     "1 of 2 quantisable layers kept fp32 (`/conv1/Conv`)", "+3.33 points of top-1", "+6.54 of macro-F1",
                     "quantisation.md", "| optimised | `optimised.onnx` | 0.833 | 0.765 |", "not measured", "optimised 2: int8 twin"):
            self.assertIn(want, text)

    def test_card_of_a_pack_without_its_optimised_model_yet(self):
        text = card.render("{{optimised}}\n{{val_table}}\n{{per_class}}\n{{training}}", manifest(), LABELS)
        self.assertIn("not made yet", text)
        self.assertNotIn("| optimised |", text)
        self.assertNotIn("optimised recall", text)

    def test_student_card_says_student(self):
        m = manifest()
        m["models"]["optimised"] = {"file": "optimised.onnx", "arch": "the base pruned to half width", "val_top1": 0.7}
        self.assertIn("a student trained by the recipe", card.optimised(m))

    def test_report_section(self):
        readme = "# pack\n\ncard\n\n" + twin.REPORT_HEADING + "\n\n| layer |\n"
        self.assertTrue(twin.report_section(readme).startswith(twin.REPORT_HEADING))
        with self.assertRaises(SystemExit):
            twin.report_section("# pack\n")

    def test_most_predicted(self):
        self.assertEqual(twin.most_predicted([[1, 5, 0], [0, 0, 0], [0, 0, 0]], LABELS, "a"), ["b", "a", "c"])

    def test_optimised_method(self):
        cfg = {"optimised": {"method": "int8"}, "student": {"arch": "pruned-0.5"}}
        self.assertIsNone(make_pack.student_cfg(cfg))
        cfg["optimised"]["method"] = "student"
        self.assertEqual(make_pack.student_cfg(cfg), {"arch": "pruned-0.5"})
        cfg["optimised"]["method"] = "fp16"
        with self.assertRaises(SystemExit):
            make_pack.student_cfg(cfg)

    def test_base_checkpoints_do_not_depend_on_the_optimised_model(self):
        cfg = json.loads((make_pack.ROOT / "training/configs/cyano.json").read_text())
        key = make_pack.config_key(cfg, make_pack.EVAL_ONLY_KEYS + make_pack.OPTIMISED_KEYS)
        cfg["optimised"]["method"] = "student"
        self.assertEqual(key, make_pack.config_key(cfg, make_pack.EVAL_ONLY_KEYS + make_pack.OPTIMISED_KEYS))
        self.assertNotEqual(make_pack.config_key(cfg, make_pack.EVAL_ONLY_KEYS),
                            make_pack.config_key(manifest(), make_pack.EVAL_ONLY_KEYS))

    def test_ece_as_go_computes_it(self):
        # The example of inference's TestScorerMetrics: the same 15-bin ECE in both.
        p = np.array([[0.9, 0.05, 0.05], [0.95, 0.025, 0.025], [0.2, 0.6, 0.2], [0.04, 0.92, 0.04]])
        m = metrics.evaluate(p, [0, 0, 0, 1], LABELS)
        self.assertAlmostEqual(m["ece"], 2 / 4 * 0.09 + 1 / 4 * 0.05 + 1 / 4 * 0.6)
        self.assertAlmostEqual(m["macro_f1"], (0.8 + 2 / 3) / 2)


if __name__ == "__main__":
    unittest.main()
