"""Unit tests of the detector recipe (training/phytodetect): targets, decoding, scoring,
orientation. /usr/bin/python3 -m unittest discover -s training/tests"""
import math
import os
import sys
import unittest

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from phytodetect import data, train  # noqa: E402
from phytodetect.model import STRIDE  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


class TestTargetsAndDecode(unittest.TestCase):
    def test_perfect_outputs_decode_to_the_boxes(self):
        boxes = [(10, 12, 30, 40), (100, 50, 106, 57), (200, 20, 300, 200)]
        w, h = 320, 256
        heat, weight, idx, geo = train.targets(boxes, [], w, h)
        self.assertEqual(heat.shape, (1, h // STRIDE, w // STRIDE))
        self.assertEqual(int((heat > 0.999).sum()), 3)  # one peak per object
        # Outputs a perfect network would give: the heat's peaks, the geometry at them.
        peaks = np.zeros((1, 1) + heat.shape[1:], np.float32)
        geom = np.zeros((1, 4) + heat.shape[1:], np.float32)
        for i, g in zip(idx, geo):
            y, x = divmod(int(i), w // STRIDE)
            peaks[0, 0, y, x] = 1
            geom[0, :, y, x] = g
        got = sorted(b for _, b in train.decode(peaks, geom, 0.5, w, h))
        self.assertEqual(got, sorted(list(b) for b in boxes))

    def test_ignore_regions_carry_no_loss_but_objects_in_them_do(self):
        heat, weight, _, _ = train.targets([(40, 40, 60, 60)], [(0, 0, 100, 100)], 128, 128)
        self.assertEqual(weight[0, 5, 5], 0)  # haze, away from the object
        self.assertEqual(weight[0, 25, 25], 1)  # the object's centre

    def test_score_follows_the_go_rule(self):
        truth = [(0, 0, 10, 10), (50, 50, 60, 60)]
        ignore = [(100, 100, 140, 140)]
        found = [(1, 1, 11, 11), (102, 102, 110, 110), (200, 0, 210, 10)]
        # one hit, one detection excused by the ignore region, one false
        self.assertEqual(train.score(truth, ignore, found), (1, 2, 2))

    def test_suppression_keeps_the_better_of_two_peaks(self):
        kept = train.suppress([(0.9, [0, 0, 10, 10]), (0.8, [1, 0, 11, 10]), (0.7, [30, 30, 40, 40])])
        self.assertEqual([b for _, b in kept], [[0, 0, 10, 10], [30, 30, 40, 40]])


class TestOrientation(unittest.TestCase):
    def test_upright_turns_boxes_with_the_frame(self):
        frames = data.read_annotations(os.path.join(ROOT, "testdata/real-frames/annotations.csv"), {"tune"})
        turned = 0
        for f in frames:
            stored = data.load_rgb(f.path)
            img, boxes, _ = data.upright(f.path, f.boxes, f.ignore)
            if img.shape == stored.shape:
                continue
            turned += 1
            for (x0, y0, x1, y1), (u0, v0, u1, v1) in zip(f.boxes, boxes):
                a = stored[y0:y1, x0:x1]
                c = img[int(v0):int(v1), int(u0):int(u1)]
                self.assertTrue(any(np.array_equal(np.rot90(a, k), c) for k in (1, -1)), f"{f.path} box {(x0, y0, x1, y1)}")
        self.assertGreater(turned, 0, "no tune frame carries an EXIF turn: the test tests nothing")

    def test_transposed_swaps_axes(self):
        img = np.zeros((4, 6, 3), np.float32)
        img[1, 5] = 1
        t, b, _ = data.transposed(img, [(5, 1, 6, 2)], [])
        self.assertEqual(t.shape, (6, 4, 3))
        self.assertEqual(t[5, 1, 0], 1)
        self.assertEqual(b.tolist(), [[1, 5, 2, 6]])

    def test_augment_keeps_boxes_on_their_objects(self):
        rng = np.random.default_rng(3)
        img = np.ones((240, 320, 3), np.float32)
        img[100:120, 150:170] = 0  # one dark square
        for _ in range(20):
            out, boxes, _ = data.augment(img, [(150, 100, 170, 120)], [], rng, 256, 192)
            if len(boxes) == 0:
                continue
            x0, y0, x1, y1 = (int(round(v)) for v in boxes[0])
            inside = out[max(y0 + 2, 0):y1 - 2, max(x0 + 2, 0):x1 - 2].mean()
            self.assertLess(inside, 0.5, f"box {boxes[0]} is not on the dark square")


class TestRadius(unittest.TestCase):
    def test_radius_grows_with_the_box(self):
        self.assertLess(train.gaussian_radius(5, 5), train.gaussian_radius(50, 50))
        self.assertTrue(math.isfinite(train.gaussian_radius(1, 200)))


if __name__ == "__main__":
    unittest.main()
