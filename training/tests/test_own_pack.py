"""A scientist's own pack (docs/training.md, "Your own pack"): the mistakes a first recipe
makes are refused before training, naming the file and the fix, and what the recipe
writes fits a pack built outside the project. No training here:
/usr/bin/python3 -m unittest training/tests/test_own_pack.py"""
import copy
import json
import sys
import tempfile
import unittest
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import make_pack  # noqa: E402
from phytotrain import card, data, metrics  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent.parent


def image(path, seed, gray=False):
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (24, 20) if gray else (24, 20, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), img)


class OwnPack(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.d = Path(self.tmp.name)
        self.cfg = json.loads((ROOT / "training/configs/cyano.json").read_text())
        for k in ("card", "taxonomy", "external"):
            self.cfg.pop(k)
        self.cfg.update(name="my-pack", data=str(self.d / "data"), dataset="mine")
        (self.d / "data").mkdir()

    def tearDown(self):
        self.tmp.cleanup()

    def load(self, cfg):
        f = self.d / "my.json"
        f.write_text(json.dumps(cfg))
        return make_pack.load_config(f), f

    def refused(self, cfg, *parts):
        f = self.d / "my.json"
        f.write_text(json.dumps(cfg))
        with self.assertRaises(SystemExit) as e:
            make_pack.load_config(f)
        msg = str(e.exception)
        self.assertIn(str(f), msg)
        for p in parts:
            self.assertIn(p, msg)
        return msg


class TestConfig(OwnPack):
    def test_shipped_recipes_pass(self):
        for name in ("cyano.json", "ndsb.json"):
            make_pack.load_config(ROOT / "training/configs" / name)

    def test_misspelt_key_named_with_the_right_one(self):
        cfg = copy.deepcopy(self.cfg)
        cfg["base"]["epoch"] = cfg["base"].pop("epochs")
        self.refused(cfg, '"base.epoch"', 'did you mean "base.epochs"')
        cfg = copy.deepcopy(self.cfg)
        cfg["lables"] = ["a"]
        self.refused(cfg, '"lables"', '"labels"')
        cfg = copy.deepcopy(self.cfg)
        cfg["augment"]["rotate_pp"] = 1
        self.refused(cfg, '"augment.rotate_pp"', '"augment.rotate_p"')

    def test_missing_keys(self):
        for sec, k in (("", "input"), ("", "dataset"), ("base", "epochs"), ("input", "channels")):
            cfg = copy.deepcopy(self.cfg)
            (cfg[sec] if sec else cfg).pop(k)
            self.refused(cfg, f'"{sec + "." if sec else ""}{k}" is missing')

    def test_shape_against_channels(self):
        cfg = copy.deepcopy(self.cfg)
        cfg["input"]["channels"] = "gray"
        self.refused(cfg, "3 channels", "'gray'", "[-1, 1, 160, 160]")
        cfg["input"]["shape"] = [-1, 1, 64, 64]
        self.refused(cfg, "input.mean", "one value per channel (1)")
        cfg["input"]["mean"], cfg["input"]["std"] = [0.97], [0.1]
        self.assertEqual(self.load(cfg)[0]["input"]["shape"], [-1, 1, 64, 64])

    def test_data_and_init_must_exist(self):
        cfg = copy.deepcopy(self.cfg)
        cfg["data"] = str(self.d / "nowhere")
        self.refused(cfg, "nowhere", "does not exist")
        cfg = copy.deepcopy(self.cfg)
        cfg.pop("init_onnx")
        self.refused(cfg, "init_onnx", '"resnet18"')

    def test_another_packs_card_refused(self):
        cfg = copy.deepcopy(self.cfg)
        cfg["card"] = "training/configs/cyano-card.md"
        self.refused(cfg, "'cyano-tcb-10'", "'my-pack'", 'leave "card" out')
        cfg["name"] = "cyano-tcb-10"
        self.load(cfg)

    def test_taxonomy_must_name_the_data_labels(self):
        cfg = copy.deepcopy(self.cfg)
        cfg["taxonomy"] = "training/configs/cyano-taxonomy.toml"
        with self.assertRaises(SystemExit) as e:
            make_pack.check_taxonomy(cfg, ["Anabaena", "Nostoc"])
        self.assertIn("cyano-taxonomy.toml", str(e.exception))
        self.assertIn("Microcystis", str(e.exception))
        self.assertIn('leave "taxonomy" out', str(e.exception))
        labels = json.loads((ROOT / "assets/models/cyano-tcb-10/pack.json").read_text())["labels"]
        make_pack.check_taxonomy(cfg, labels)


class TestData(OwnPack):
    def test_empty_class_folder_refused(self):
        for i in range(3):
            image(self.d / "data" / "Nostoc" / f"{i}.png", i)
        (self.d / "data" / "Anabaena").mkdir()
        (self.d / "data" / "Anabaena" / "notes.txt").write_text("x")
        with self.assertRaises(SystemExit) as e:
            data.read_items(self.d / "data")
        self.assertIn("'Anabaena'", str(e.exception))
        self.assertIn(str(self.d / "data"), str(e.exception))

    def test_list_rows_named_at_once(self):
        image(self.d / "data" / "a.png", 1)
        lst = self.d / "data" / "list.csv"
        lst.write_text("path,label,group\na.png,Nostoc,g1\nnope.png,Nostoc,g2\na.png,,g3\n")
        with self.assertRaises(SystemExit) as e:
            data.read_items(lst)
        msg = str(e.exception)
        for p in (str(lst), "line 3: nope.png does not exist", "line 4: no label", "relative to the list's folder"):
            self.assertIn(p, msg)
        lst.write_text("path,label,split\na.png,Nostoc,train\na.png,Nostoc,\na.png,Nostoc,test\n")
        with self.assertRaises(SystemExit) as e:
            data.read_items(lst)
        self.assertIn("line 4: split 'test': use train or val", str(e.exception))
        lst.write_text("path,label,split\na.png,Nostoc,train\na.png,Nostoc,\n")
        with self.assertRaises(SystemExit) as e:
            data.read_items(lst)
        self.assertIn("line 3: no split", str(e.exception))
        lst.write_text("a.png,Nostoc,g1\n")
        with self.assertRaises(SystemExit) as e:
            data.read_items(lst)
        self.assertIn("add the line path,label", str(e.exception))

    def test_undecodable_files_named_at_once(self):
        image(self.d / "data" / "A" / "ok.png", 1)
        image(self.d / "data" / "A" / "gray.png", 2, gray=True)
        (self.d / "data" / "A" / "text.jpg").write_text("not a jpeg")
        good = (self.d / "data" / "A" / "ok.png").read_bytes()
        (self.d / "data" / "B").mkdir()
        (self.d / "data" / "B" / "cut.png").write_bytes(good[:40])
        items, _ = data.read_items(self.d / "data")
        with self.assertRaises(SystemExit) as e:
            data.load_crops(items, "rgb", 64, self.d / "cache")
        msg = str(e.exception)
        self.assertIn("2 file(s)", msg)
        self.assertIn("text.jpg", msg)
        self.assertIn("cut.png", msg)
        self.assertFalse(list((self.d / "cache").glob("*.npz")) if (self.d / "cache").exists() else [])
        ok = [it for it in items if it.path.endswith(("ok.png", "gray.png"))]
        crops = data.load_crops(ok, "rgb", 64, self.d / "cache")  # gray and colour mixed: both to RGB
        self.assertEqual([c.shape[2] for c in crops], [3, 3])

    def test_every_class_trained_and_validated(self):
        class P:
            pass
        P.cfg = dict(self.cfg, split={"k": 5})
        P.given_split = False
        P.labels = ["a", "lonely"]
        P.items = [data.Item(f"{i}", f"{i}", "a", f"g{i}") for i in range(10)] + [data.Item("x", "x", "lonely", "x")]
        P.y = np.array([0] * 10 + [1])
        with self.assertRaises(SystemExit) as e:
            make_pack.check_classes(P, np.arange(11), np.arange(2))
        self.assertIn("no val images: 'lonely' (1 image(s) in 1 group(s))", str(e.exception))
        with self.assertRaises(SystemExit) as e:
            make_pack.check_classes(P, np.arange(10), np.arange(8, 11))
        self.assertIn("no train images", str(e.exception))
        make_pack.check_classes(P, np.arange(1, 11), np.arange(0, 11, 10))


class TestOutputs(OwnPack):
    def test_out_protected(self):
        out = self.d / "out"
        make_pack.check_out(out, "my-pack", "my.json")  # new
        out.mkdir()
        make_pack.check_out(out, "my-pack", "my.json")  # empty
        (out / "notes.txt").write_text("x")
        with self.assertRaises(SystemExit) as e:
            make_pack.check_out(out, "my-pack", "my.json")
        self.assertIn("holds files but no pack", str(e.exception))
        (out / "pack.json").write_text(json.dumps({"name": "other", "metrics": {"training": {"recipe": "my.json"}}}))
        with self.assertRaises(SystemExit) as e:
            make_pack.check_out(out, "my-pack", "my.json")
        self.assertIn("holds the pack 'other'", str(e.exception))
        make_pack.check_out(out, "other", "my.json")  # the same pack, made again
        with self.assertRaises(SystemExit) as e:
            make_pack.check_out(ROOT / "assets/models/cyano-tcb-10", "cyano-tcb-10", "/tmp/my.json")
        self.assertIn("training/configs/cyano.json", str(e.exception))
        make_pack.check_out(ROOT / "assets/models/cyano-tcb-10", "cyano-tcb-10", "training/configs/cyano.json")

    def test_golden_copy_stays_in_an_own_pack(self):
        self.assertEqual(make_pack.golden_copy_dir(self.d / "mine", "cyano-tcb-10"), (self.d / "mine" / "golden").resolve())
        self.assertEqual(make_pack.golden_copy_dir(ROOT / "assets/models/cyano-tcb-10", "cyano-tcb-10"),
                         ROOT / "testdata/golden/cyano-tcb-10")

    def test_confusion_csv_quotes_labels(self):
        import csv
        f = self.d / "c.csv"
        metrics.write_confusion(f, [[1, 2], [3, 4]], ["Copepod, cyclopoid", "Diatomée"])
        with open(f, newline="") as fh:
            rows = list(csv.reader(fh))
        self.assertEqual(rows, [["true\\pred", "Copepod, cyclopoid", "Diatomée"], ["Copepod, cyclopoid", "1", "2"],
                                ["Diatomée", "3", "4"]])

    def test_generic_card_tells_a_small_pack(self):
        shipped = json.loads((ROOT / "assets/models/cyano-tcb-10/pack.json").read_text())
        m = copy.deepcopy(shipped)
        m["name"], m["dataset"] = "my-pack", "my crops"
        m["models"].pop("optimised")
        m["metrics"].pop("reject", None)
        per = m["metrics"]["val"]["base"]["per_class"]
        text = card.render(card.GENERIC.read_text(), m, m["labels"])
        self.assertNotIn("{{", text)
        self.assertTrue(text.startswith("# Classifier pack `my-pack`"))
        self.assertNotIn("TCB-DS", text.split("## Input")[0])
        small = min(per, key=lambda l: per[l]["support"])
        self.assertIn(f"the smallest class, {small}, has {per[small]['support']}", text)
        self.assertIn("read its figures as rough", text)
        self.assertIn("pack optimise", text)
        for l in per:
            per[l]["support"] = 40
        self.assertNotIn("rough", card.render(card.GENERIC.read_text(), m, m["labels"]))
        self.assertNotIn("no group column", card.render(card.GENERIC.read_text(), m, m["labels"]))
        m["metrics"]["split"] = "stratified 5-fold split, every file its own group (no group column in the data)"
        self.assertIn("can sit on both sides of the split", card.render(card.GENERIC.read_text(), m, m["labels"]))
        m["metrics"]["training"].update(minutes=0.2, base_minutes=0.2)
        self.assertIn("under a minute in all (base under 1,", card.training(m))


if __name__ == "__main__":
    unittest.main()
