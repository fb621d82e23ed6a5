"""The training loop: class-balanced sampling, microscope augmentation, SGD with warm-up
and cosine decay, label smoothing, an exponential moving average (EMA) of the weights (the
EMA is what ships), optional distillation from a teacher, and a checkpoint after every
epoch so a stopped run resumes where it was."""
import copy
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from . import augment, contract, metrics


class EMA:
    def __init__(self, net, decay):
        self.model = copy.deepcopy(net).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.decay = decay
        self.steps = 0

    @torch.no_grad()
    def update(self, net):
        self.steps += 1
        d = min(self.decay, (1 + self.steps) / (10 + self.steps))
        msd = net.state_dict()
        for k, v in self.model.state_dict().items():
            if v.dtype.is_floating_point:
                v.mul_(d).add_(msd[k].detach(), alpha=1 - d)
            else:
                v.copy_(msd[k])


def class_sampling_weights(y, power):
    """Per-item sampling weights so class c is drawn in proportion to n_c ** power
    (1: as in the data, 0: balanced, 0.5: in between)."""
    y = np.asarray(y)
    counts = np.bincount(y)
    w = counts[y].astype(np.float64) ** (power - 1)
    return w / w.sum()


@torch.no_grad()
def predict(net, tensors, batch=64):
    net.eval()
    out = []
    for i in range(0, len(tensors), batch):
        x = torch.from_numpy(np.stack(tensors[i:i + batch]))
        out.append(torch.softmax(net(x), 1).numpy())
    return np.concatenate(out)


def _param_groups(net, wd):
    decay, no = [], []
    for n, p in net.named_parameters():
        (no if p.ndim <= 1 else decay).append(p)
    return [{"params": decay, "weight_decay": wd}, {"params": no, "weight_decay": 0.0}]


def fit(net, crops, y, spec, cfg, aug, ckpt, log, teacher=None, val=None, seed=0):
    """Train net on the cached crops (labels y); returns the EMA model. cfg: epochs, batch,
    lr, wd, ema, label_smoothing, sampling_power, warmup_epochs, eval_every; for
    distillation: distill {alpha, T}. val: (tensors, y, labels) for progress lines only (the
    shipped model is the last epoch's EMA: no checkpoint is chosen on validation)."""
    epochs, bs = cfg["epochs"], cfg["batch"]
    steps_per_epoch = max(1, len(crops) // bs)
    total = epochs * steps_per_epoch
    warm = int(cfg.get("warmup_epochs", 1) * steps_per_epoch)
    opt = torch.optim.SGD(_param_groups(net, cfg["wd"]), lr=cfg["lr"], momentum=0.9, nesterov=True)
    lr_min = cfg["lr"] * cfg.get("lr_min_factor", 0.01)

    def lr_at(step):
        if step < warm:
            return cfg["lr"] * (step + 1) / warm
        t = (step - warm) / max(1, total - warm)
        return lr_min + 0.5 * (cfg["lr"] - lr_min) * (1 + math.cos(math.pi * t))

    ema = EMA(net, cfg["ema"])
    probs_w = class_sampling_weights(y, cfg.get("sampling_power", 0.5))
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    start_epoch, step, seconds = 0, 0, 0.0
    if os.path.exists(ckpt):
        st = torch.load(ckpt)
        net.load_state_dict(st["net"])
        ema.model.load_state_dict(st["ema"])
        ema.steps = st["ema_steps"]
        opt.load_state_dict(st["opt"])
        start_epoch, step = st["epoch"], st["step"]
        seconds = st.get("seconds", 0.0)
        rng.bit_generator.state = st["rng"]
        torch.set_rng_state(st["torch_rng"])
        log(f"resumed {ckpt} at epoch {start_epoch}/{epochs}")
        if start_epoch >= epochs:
            ema.model.train_seconds = seconds
            return ema.model
    # Progressive resizing: the first epochs at a smaller input (cheaper), the last at the
    # pack's; convolutions and global pooling do not care, and the last epochs adapt the
    # network to the final size. cfg["progressive"]: [[epochs, size], ...], the rest at
    # the pack's size.
    sizes = []
    for n_ep, size in cfg.get("progressive", []):
        sizes += [size] * n_ep

    def spec_at(epoch):
        if epoch >= len(sizes) or sizes[epoch] == spec.w:
            return spec
        s2 = copy.copy(spec)
        s2.shape = [spec.shape[0], spec.shape[1], round(sizes[epoch] * spec.h / spec.w), sizes[epoch]]
        return s2

    ls = cfg.get("label_smoothing", 0.0)
    dist = cfg.get("distill")
    yt = np.asarray(y)
    for epoch in range(start_epoch, epochs):
        net.train()
        t0 = time.time()
        idx = rng.choice(len(crops), size=steps_per_epoch * bs, replace=True, p=probs_w)
        sp = spec_at(epoch)
        tot_loss, seen, t_aug, hits = 0.0, 0, 0.0, 0
        for b in range(steps_per_epoch):
            ib = idx[b * bs:(b + 1) * bs]
            ta = time.time()
            x = torch.from_numpy(np.stack([augment.augmented_tensor(crops[i], sp, rng, aug) for i in ib]))
            t_aug += time.time() - ta
            tgt = torch.from_numpy(yt[ib]).long()
            for g in opt.param_groups:
                g["lr"] = lr_at(step)
            logits = net(x)
            loss = F.cross_entropy(logits, tgt, label_smoothing=ls)
            if teacher is not None and dist:
                with torch.no_grad():
                    tl = teacher(x)
                T = dist["T"]
                kd = F.kl_div(F.log_softmax(logits / T, 1), F.softmax(tl / T, 1), reduction="batchmean") * T * T
                loss = dist["alpha"] * kd + (1 - dist["alpha"]) * loss
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            ema.update(net)
            step += 1
            tot_loss += float(loss) * len(ib)
            hits += int((logits.argmax(1) == tgt).sum())
            seen += len(ib)
        dt = time.time() - t0
        seconds += dt
        line = (f"epoch {epoch + 1}/{epochs} ({sp.w} px) loss {tot_loss / seen:.4f} train-acc {hits / seen:.3f} lr {lr_at(step - 1):.5f} "
                f"{seen / dt:.1f} img/s ({dt:.0f} s, augment {100 * t_aug / dt:.0f}%)")
        ev = cfg.get("eval_every", 0)
        if val is not None and ev and ((epoch + 1) % ev == 0 or epoch + 1 == epochs):
            m = metrics.evaluate(predict(ema.model, val[0]), val[1], val[2])
            line += " | EMA val " + metrics.summary(m)
        log(line)
        tmp = ckpt + ".tmp"
        torch.save({"net": net.state_dict(), "ema": ema.model.state_dict(), "ema_steps": ema.steps,
                    "opt": opt.state_dict(), "epoch": epoch + 1, "step": step, "seconds": seconds,
                    "rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state()}, tmp)
        os.replace(tmp, ckpt)
    ema.model.train_seconds = seconds
    return ema.model
