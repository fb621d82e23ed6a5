"""The training loop's ways of running: in-process and parallel augmentation, and a
finished checkpoint that holds only its EMA (the form an accelerator's run comes back in).
/usr/bin/python3 -m unittest discover -s training/tests"""
import sys
import tempfile
import unittest
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from phytotrain import augment, contract, models, train  # noqa: E402

CFG = {"epochs": 2, "batch": 8, "lr": 0.01, "wd": 0.0005, "ema": 0.9, "label_smoothing": 0.0,
       "sampling_power": 0.5, "warmup_epochs": 0.5, "eval_every": 0}


def tiny():
    """A small net, 40 gray crops of two classes (dark or light blobs) and the spec."""
    torch.manual_seed(0)
    net = models.ResNet(1, 2, widths=(4, 8, 8, 8), bias=False)
    rng = np.random.default_rng(0)
    crops, y = [], []
    for i in range(40):
        c = np.full((24, 24), 230, np.uint8)
        c[6:18, 6:18] = 40 if i % 2 else 150
        crops.append(c + rng.integers(0, 5, c.shape, dtype=np.uint8))
        y.append(i % 2)
    spec = contract.InputSpec({"shape": [-1, 1, 16, 16], "channels": "gray", "resize": "letterbox",
                               "mean": [0.5], "std": [0.25]})
    return net, crops, np.array(y), spec


def weights(net):
    return torch.cat([v.reshape(-1).float() for v in net.state_dict().values()])


def quiet(_):
    pass


class TestFit(unittest.TestCase):
    def run_fit(self, workers, d):
        net, crops, y, spec = tiny()
        return train.fit(net, crops, y, spec, CFG, dict(augment.DEFAULTS), str(Path(d) / "base.pt"), quiet,
                         seed=3, workers=workers)

    def test_parallel_augmentation_is_seeded_and_trains(self):
        with tempfile.TemporaryDirectory() as d1, tempfile.TemporaryDirectory() as d2, \
                tempfile.TemporaryDirectory() as d3:
            a = weights(self.run_fit(2, d1))
            b = weights(self.run_fit(1, d2))
            c = weights(self.run_fit(0, d3))
            start = weights(tiny()[0])
        # Parallel runs draw the same batches whatever their number of workers; the
        # in-process run draws others.
        self.assertTrue(torch.equal(a, b))
        self.assertFalse(torch.equal(a, c))
        self.assertFalse(torch.equal(a, start))
        self.assertTrue(torch.isfinite(a).all())

    def test_resume_keeps_the_way_augmentation_is_drawn(self):
        with tempfile.TemporaryDirectory() as d:
            net, crops, y, spec = tiny()
            one = dict(CFG, epochs=1)
            train.fit(net, crops, y, spec, one, dict(augment.DEFAULTS), str(Path(d) / "base.pt"), quiet, seed=3)
            st = torch.load(str(Path(d) / "base.pt"))
            self.assertFalse(st["parallel"])
            self.assertIn("CPUs", st["trained_on"])
            # Two epochs now: the first is resumed, with workers the stream would change.
            with self.assertRaises(SystemExit) as cm:
                train.fit(tiny()[0], crops, y, spec, CFG, dict(augment.DEFAULTS), str(Path(d) / "base.pt"), quiet,
                          seed=3, workers=2)
            self.assertIn("without --workers", str(cm.exception))

    def test_finished_checkpoint_of_ema_alone(self):
        net, crops, y, spec = tiny()
        ema = models.ResNet(1, 2, widths=(4, 8, 8, 8), bias=False)
        with torch.no_grad():
            for p in ema.parameters():
                p.fill_(0.25)
        with tempfile.TemporaryDirectory() as d:
            ck = str(Path(d) / "base.pt")
            torch.save({"ema": ema.state_dict(), "epoch": 2, "seconds": 61.0, "trained_on": "an accelerator"}, ck)
            out = train.fit(net, crops, y, spec, CFG, dict(augment.DEFAULTS), ck, quiet)
            self.assertTrue(torch.equal(weights(out), weights(ema)))
            self.assertEqual(out.train_seconds, 61.0)
            self.assertEqual(out.trained_on, "an accelerator")
            self.assertFalse(any(p.requires_grad for p in out.parameters()))
            # One epoch short of the recipe's: the EMA alone cannot be resumed, and the
            # error says so.
            torch.save({"ema": ema.state_dict(), "epoch": 1}, ck)
            with self.assertRaises(SystemExit) as cm:
                train.fit(tiny()[0], crops, y, spec, CFG, dict(augment.DEFAULTS), ck, quiet)
            self.assertIn("cannot be resumed", str(cm.exception))


if __name__ == "__main__":
    unittest.main()
