"""Unit tests of the recipe's pieces that need no training:
/usr/bin/python3 -m unittest discover -s training/tests"""
import json
import sys
import tempfile
import unittest
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from phytotrain import augment, contract, data, metrics, models  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent.parent


class TestSplit(unittest.TestCase):
    def items(self):
        rng = np.random.default_rng(0)
        out = []
        for g in range(60):
            label = ["a", "b", "c"][g % 3] if g < 57 else "rare"
            for k in range(int(rng.integers(1, 6))):
                out.append(data.Item(f"{g}-{k}", f"{g}-{k}", label, f"g{g}"))
        return out

    def test_groups_never_split_and_classes_spread(self):
        items = self.items()
        folds = data.stratified_group_folds(items, 5, 7)
        self.assertEqual(set(folds.values()), set(range(5)))
        for lab in "abc":
            per = [sum(1 for it in items if it.label == lab and folds[it.group] == f) for f in range(5)]
            self.assertGreater(min(per), 0, f"class {lab} missing from a fold: {per}")
        self.assertEqual(data.stratified_group_folds(items, 5, 7), folds, "not deterministic")
        split = data.split_items(items, 5, 0, 7)
        groups = {}
        for it in split:
            groups.setdefault(it.group, set()).add(it.split)
        self.assertTrue(all(len(s) == 1 for s in groups.values()), "a group is in train and val")


class TestContract(unittest.TestCase):
    def test_golden_contract_file_matches(self):
        """The committed contract.json still describes this code (it is what Go checks)."""
        import hashlib
        doc = json.loads((ROOT / "testdata" / "golden" / "contract.json").read_text())
        for c in doc["cases"][::5]:
            spec = contract.InputSpec(c["input"])
            t = contract.tensor_from_file(ROOT / "testdata" / "golden" / "contract" / c["image"], spec)
            self.assertEqual(hashlib.sha256(t.astype("<f4").tobytes()).hexdigest(), c["sha256"], c)

    def test_resize_rules(self):
        self.assertEqual(contract.resize_size(50, 40, 96, 96, "letterbox"), (50, 40))
        self.assertEqual(contract.resize_size(50, 40, 96, 96, "fit"), (96, 77))
        self.assertEqual(contract.resize_size(200, 100, 96, 96, "letterbox"), (96, 48))
        self.assertEqual(contract.resize_size(200, 100, 96, 96, "centre-crop"), (192, 96))

    def test_background_level(self):
        img = np.full((10, 10), 200, np.uint8)
        img[0, :5] = 10
        self.assertEqual(contract.background_levels(img, 0.95), [200])
        self.assertEqual(contract.background_levels(img, 0.05), [10])

    def test_augmented_tensor_shape(self):
        spec = contract.InputSpec({"shape": [-1, 3, 64, 48], "channels": "rgb", "resize": "fit",
                                   "background": {"method": "percentile", "q": 0.95}})
        rng = np.random.default_rng(1)
        crop = rng.integers(0, 256, (30, 90, 3), dtype=np.uint8)
        for _ in range(20):
            t = augment.augmented_tensor(crop, spec, rng, augment.DEFAULTS)
            self.assertEqual(t.shape, (3, 64, 48))
            self.assertTrue(np.isfinite(t).all())


class TestModels(unittest.TestCase):
    def test_fold_and_round_keep_the_function(self):
        torch.manual_seed(0)
        net = models.ResNet(3, 5, widths=(8, 16, 16, 32), bias=False)
        x = torch.randn(4, 3, 32, 32)
        net.train()
        net(x)  # BatchNorm statistics that are not the identity
        net.eval()
        with torch.no_grad():
            a = torch.softmax(net(x), 1)
            b = torch.softmax(models.fold_bn(net)(x), 1)
            c = torch.softmax(models.round_fp16(models.fold_bn(net))(x), 1)
        self.assertLess(float((a - b).abs().max()), 1e-5)
        self.assertLess(float((a - c).abs().max()), 1e-2)

    def test_prune_full_width_is_identity(self):
        torch.manual_seed(0)
        net = models.ResNet(3, 5, widths=(8, 16, 16, 32), bias=True)
        net.train()
        net(torch.randn(4, 3, 32, 32))
        net.eval()
        x = torch.randn(2, 3, 32, 32)
        with torch.no_grad():
            self.assertLess(float((models.prune_resnet(net, 1.0).eval()(x) - net(x)).abs().max()), 1e-6)
            self.assertEqual(models.prune_resnet(net, 0.5).eval()(x).shape, (2, 5))



    def test_prior_correction_reweights_by_counts(self):
        # Trained under sampling prior n_c ** 0.5, the corrected network's probabilities
        # are the old ones times n_c ** 0.5, renormalised (Bayes' rule with the data's
        # prior); counts of 0 are treated as 1, not as -inf.
        torch.manual_seed(0)
        net = models.round_fp16(models.fold_bn(models.ResNet(3, 4, widths=(8, 8, 8, 8), bias=False).eval()))
        x = torch.randn(3, 3, 32, 32)
        counts = np.array([400, 100, 1, 0])
        with torch.no_grad():
            before = torch.softmax(net(x), 1).numpy().astype(np.float64)
            after = torch.softmax(models.prior_correct(net, counts, 0.5)(x), 1).numpy()
        want = before * np.sqrt(np.maximum(counts, 1))
        want /= want.sum(1, keepdims=True)
        self.assertLess(float(np.abs(after - want).max()), 5e-3)  # the bias is rounded to float16
        self.assertFalse(np.allclose(after, before, atol=1e-2), "the correction changed nothing")
        self.assertTrue(torch.equal(net.fc.bias, net.fc.bias.half().float()), "bias not rounded to float16")

    def test_view_averaging(self):
        # test_views 2: the logits are the mean of the image's and its transpose's, so an
        # image and its transpose get the same answer; features keep their size.
        torch.manual_seed(0)
        net = models.round_fp16(models.fold_bn(models.ResNet(3, 4, widths=(8, 8, 8, 8), bias=False).eval()))
        views = models.ViewAveraged(net).eval()
        x = torch.randn(3, 3, 32, 32)
        with torch.no_grad():
            want = (net(x) + net(x.transpose(2, 3))) / 2
            got = views(x)
            self.assertLess(float((got - want).abs().max()), 1e-5)
            self.assertLess(float((views(x.transpose(2, 3)) - got).abs().max()), 1e-5)
            self.assertFalse(torch.allclose(net(x), got, atol=1e-3), "averaging changed nothing")
            self.assertEqual(views.features(x).shape, (3, net.feature_dim))
        self.assertIs(views.fc, net.fc)  # prior_correct and the export reach the same layer

    def test_exported_resnet_loads_back(self):
        # --weights-from: a shipped base.onnx read back into PyTorch computes what was
        # exported; a view-averaged graph and a wrong layout are refused with the path.
        import make_pack
        torch.manual_seed(0)
        net = models.ResNet(1, 5, bias=False)
        net.train()
        net(torch.randn(4, 1, 32, 32))  # BatchNorm statistics that are not the identity
        shipped = make_pack.ship(net.eval())
        spec = contract.InputSpec({"name": "image", "shape": [-1, 1, 32, 32], "channels": "gray",
                                   "resize": "letterbox", "mean": [0.5], "std": [0.25]})
        x = torch.randn(3, 1, 32, 32)
        with tempfile.TemporaryDirectory() as d, torch.no_grad():
            one, two = Path(d) / "one.onnx", Path(d) / "two.onnx"
            make_pack.export_onnx(shipped, spec, one, 17)
            back = models.load_exported_resnet(one, 1, 5)
            self.assertEqual(float((back(x) - shipped(x)).abs().max()), 0.0)
            make_pack.export_onnx(models.ViewAveraged(back).eval(), spec, two, 17)
            with self.assertRaises(ValueError) as e:
                models.load_exported_resnet(two, 1, 5)
            self.assertIn(str(two), str(e.exception))
            with self.assertRaises(ValueError) as e:
                models.load_exported_resnet(one, 1, 7)
            self.assertIn("7 classes", str(e.exception))

    def test_weights_from_checks_the_pack(self):
        # --weights-from reads the pack.json beside the ONNX: other labels or another
        # input contract stop with the file named; the same ones give its record.
        import types
        import make_pack
        spec = contract.InputSpec({"name": "image", "shape": [-1, 1, 32, 32], "channels": "gray",
                                   "resize": "letterbox", "mean": [0.5], "std": [0.25]})
        P = types.SimpleNamespace(labels=["a", "b"], spec=spec, cfg={"name": "recipe"})
        with tempfile.TemporaryDirectory() as d:
            onnx_path, pj = Path(d) / "base.onnx", Path(d) / "pack.json"
            with self.assertRaises(SystemExit) as e:
                make_pack.previous_pack(onnx_path, P)
            self.assertIn("cannot be read", str(e.exception))
            for labels, inp, msg in ((["b", "a"], spec.to_json(), "other labels"),
                                     (["a", "b"], dict(spec.to_json(), mean=[0.4]), "input contract")):
                pj.write_text(json.dumps({"labels": labels, "input": inp}))
                with self.assertRaises(SystemExit) as e:
                    make_pack.previous_pack(onnx_path, P)
                self.assertIn(msg, str(e.exception))
                self.assertIn(str(onnx_path), str(e.exception))
            pj.write_text(json.dumps({"labels": ["a", "b"], "input": spec.to_json(), "metrics": {"training": {"minutes": 3}}}))
            with self.assertRaises(SystemExit) as e:
                make_pack.previous_pack(onnx_path, P)
            self.assertIn("no metrics.training.base_minutes", str(e.exception))
            pj.write_text(json.dumps({"labels": ["a", "b"], "input": spec.to_json(),
                                      "metrics": {"training": {"minutes": 3, "base_minutes": 2.5}}}))
            self.assertEqual(make_pack.previous_pack(onnx_path, P)["metrics"]["training"]["minutes"], 3)

    def test_initial_weights_follow_the_seed(self):
        # A pack's rebuild starts from the same weights: the same seed gives the same
        # network whatever torch's generator did before; another seed another one.
        import make_pack
        cfg = {"arch": "resnet18-w0.25"}

        def weights(seed):
            torch.rand(7)  # whatever ran before in the process
            net = make_pack.make_model(cfg, 3, 4, {}, seed=seed)
            return torch.cat([p.detach().flatten() for p in net.parameters()])
        self.assertTrue(torch.equal(weights(3), weights(3)))
        self.assertFalse(torch.equal(weights(3), weights(4)))

    def test_test_views_config_checked(self):
        import make_pack
        cfg = json.loads((ROOT / "training/configs/cyano.json").read_text())
        with tempfile.TemporaryDirectory() as d:
            tmp = Path(d) / "recipe.json"
            for views, shape, msg in ((3, [-1, 3, 32, 32], "use 1"), (2, [-1, 3, 32, 48], "square")):
                cfg["test_views"], cfg["input"]["shape"] = views, shape
                tmp.write_text(json.dumps(cfg))
                with self.assertRaises(SystemExit) as e:
                    make_pack.load_config(tmp)
                self.assertIn(msg, str(e.exception))
                self.assertIn(str(tmp), str(e.exception))
            cfg["test_views"], cfg["input"]["shape"] = 2, [-1, 3, 32, 32]
            tmp.write_text(json.dumps(cfg))
            self.assertEqual(make_pack.load_config(tmp)["test_views"], 2)


class TestMetrics(unittest.TestCase):
    def test_perfect_and_ece(self):
        p = np.eye(3)[[0, 1, 2, 2]]
        m = metrics.evaluate(p, [0, 1, 2, 2], ["a", "b", "c"])
        self.assertEqual((m["top1"], m["macro_f1"], m["weighted_f1"]), (1.0, 1.0, 1.0))
        self.assertAlmostEqual(m["ece"], 0.0)
        p = np.array([[0.6, 0.4], [0.6, 0.4]])
        m = metrics.evaluate(p, [0, 1], ["a", "b"])
        self.assertAlmostEqual(m["ece"], 0.1)
        self.assertEqual(m["per_class"]["b"]["recall"], 0.0)


if __name__ == "__main__":
    unittest.main()
