"""make_reject.py's pieces that decide what teaches and what is measured: the time split of
a camera's frames, the crops of hand-drawn boxes, the shares of calls, the card's table.
/usr/bin/python3 -m unittest discover -s training/tests"""
import sys
import tempfile
import unittest
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import make_reject  # noqa: E402
from phytotrain import card  # noqa: E402


class TimeSplit(unittest.TestCase):
    def test_halves_apart_and_boxed_frames_left_out(self):
        with tempfile.TemporaryDirectory() as d:
            sub = Path(d) / "non-algae"
            sub.mkdir()
            names = [f"202306091{i:05d}.jpg" for i in range(10)]
            for n in names:
                (sub / n).write_bytes(b"x")
            (sub / "notes.txt").write_text("not a frame")
            boxed = {(sub / names[1]).resolve(), (sub / names[8]).resolve()}
            teach, test = make_reject.frame_halves(Path(d), "non-algae", 0.5, 0.6, boxed)
            self.assertEqual([p.name for p in teach], [names[0], names[2], names[3], names[4]])
            self.assertEqual([p.name for p in test], [names[6], names[7], names[9]])
            # The gap: frame 5 (between half and 60%) is in neither, so no near-copy of a
            # teaching frame's last shot is measured.
            self.assertFalse({p.name for p in teach} & {p.name for p in test})


class Apart(unittest.TestCase):
    def test_near_copies_in_time_left_out(self):
        frames = [Path("20230609101000.jpg"), Path("20230609101400(1).jpg"), Path("20230609102000.jpg"),
                  Path("Copy of 20230609103000.jpg")]
        others = [Path("/x/20230609100800.jpg"), Path("/y/Copy of z.jpg")]
        # 2 min, 6 min and 12 min after the other; a name without a time cannot be shown apart.
        self.assertEqual(make_reject.apart(frames, others, seconds=300), frames[1:3])
        self.assertEqual(make_reject.apart(frames, others, seconds=400), frames[2:3])
        self.assertEqual(make_reject.apart(frames, others), frames[1:3])  # the default, 2 min
        self.assertEqual(make_reject.stamp(frames[1]).minute, 14)


class BoxCrops(unittest.TestCase):
    def test_labels_turns_margin_and_boxes_outside(self):
        with tempfile.TemporaryDirectory() as d:
            d = Path(d)
            img = np.full((40, 60, 3), 200, np.uint8)
            img[10:20, 5:25] = (0, 100, 0)  # a 20 x 10 object
            img[10:13, 5:9] = (0, 0, 255)  # marked in one corner: its eight views all differ
            cv2.imwrite(str(d / "f.png"), img)
            rows = [("f.png", "train", (5, 10, 20, 10), "Microcystis"),
                    ("f.png", "train", (30, 5, 4, 4), ""),            # debris
                    ("f.png", "train", (30, 5, 4, 4), "Closterium"),  # not the pack's
                    ("f.png", "train", (70, 50, 5, 5), "")]           # outside the frame
            got = make_reject.box_crops(d, rows, ["Microcystis", "Oscillatoria"], 2, d / "out", turns=True)
            labels = [lab for _, lab in got]
            self.assertEqual(labels, ["Microcystis"] * 8 + [None, None])
            shapes = {cv2.imread(p).shape[:2] for p, _ in got[:8]}
            self.assertEqual(shapes, {(14, 24), (24, 14)})  # margin 2 each side, turned
            self.assertEqual(len({Path(p).read_bytes() for p, _ in got[:8]}), 8)  # eight distinct views
            plain = make_reject.box_crops(d, rows[:1], ["Microcystis"], 2, d / "plain", turns=False)
            self.assertEqual(len(plain), 1)


class Shares(unittest.TestCase):
    def test_shares_per_truth(self):
        sets = {"s": [("a", "Microcystis"), ("b", "Microcystis"), ("c", None), ("d", None), ("e", None), ("f", None)]}
        got = {"a": "cyano", "b": "set aside", "c": "set aside", "d": "set aside", "e": "unsure", "f": "cyano"}
        rows = make_reject.shares(sets, got)
        self.assertEqual(rows, [
            {"set": "s", "truth": "cyanobacterium", "n": 2, "cyano": 0.5, "unsure": 0.0, "set aside": 0.5},
            {"set": "s", "truth": "not", "n": 4, "cyano": 0.25, "unsure": 0.25, "set aside": 0.5}])

    def test_card_table(self):
        row = {"set": "s", "truth": "not", "n": 4, "cyano": 0.25, "unsure": 0.25, "set aside": 0.5}
        before = dict(row, cyano=0.75, unsure=0.25, **{"set aside": 0.0})
        m = {"models": {"base": {"val_top1": 0.86, "val_macro_f1": 0.8}},
             "metrics": {"reject": {"label": "Other", "name": "Not a cyanobacterium", "bias": -2.197, "bias_about": "9 to 1",
                                    "threshold": 0.5, "teaching_crops": {"reject": 10, "pack": 20},
                                    "val_before": {"base": {"top1": 0.87, "macro_f1": 0.82}},
                                    "before": {"base": [before], "optimised": []}, "after": {"base": [row], "optimised": []}}}}
        text = card.reject(m)
        self.assertIn("| s | not one | 4 | base | 0.750 -> **0.250** | 0.250 | 0.500 |", text)
        self.assertIn("base top-1 0.8700 -> 0.8600, macro-F1 0.8200 -> 0.8000", text)
        self.assertIn("(none", card.reject({"metrics": {}}))


if __name__ == "__main__":
    unittest.main()
