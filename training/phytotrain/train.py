"""The training loop: class-balanced sampling, microscope augmentation, SGD with warm-up
and cosine decay, label smoothing, an exponential moving average (EMA) of the weights (the
EMA is what ships), optional distillation from a teacher, and a checkpoint after every
epoch so a stopped run resumes where it was."""
import collections
import copy
import math
import multiprocessing
import os
import platform
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
        fl, src = [], []
        for k, v in self.model.state_dict().items():
            if v.dtype.is_floating_point:
                fl.append(v)
                src.append(msd[k].detach())
            else:
                v.copy_(msd[k])
        # One fused update of every float tensor: on an accelerator a loop of small
        # kernels per tensor cost more than the training step itself.
        torch._foreach_mul_(fl, d)
        torch._foreach_add_(fl, src, alpha=1 - d)


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
    dev = next(net.parameters()).device
    out = []
    for i in range(0, len(tensors), batch):
        x = torch.from_numpy(np.stack(tensors[i:i + batch])).to(dev)
        out.append(torch.softmax(net(x), 1).cpu().numpy())
    return np.concatenate(out)


# Parallel augmentation (fit's workers > 0): the crops and the augmentation settings are
# handed to spawned workers once, each batch by its indices and its own seed.
_W = {}


def _worker_init(crops, aug):
    cv2_threads_one()
    _W["crops"], _W["aug"] = crops, aug


def cv2_threads_one():
    import cv2
    cv2.setNumThreads(1)


def _augment_batch(job):
    ib, seed, spec = job
    rng = np.random.default_rng(seed)
    return np.stack([augment.augmented_tensor(_W["crops"][i], spec, rng, _W["aug"]) for i in ib])


def _param_groups(net, wd):
    decay, no = [], []
    for n, p in net.named_parameters():
        (no if p.ndim <= 1 else decay).append(p)
    return [{"params": decay, "weight_decay": wd}, {"params": no, "weight_decay": 0.0}]


def finished(ckpt, epochs):
    """The checkpoint if it reached its last epoch, or None. A finished checkpoint needs
    only its EMA weights (what ships): one trained on an accelerator comes back as those
    alone (docs/training.md, "On an accelerator"); one of those short of the recipe's
    epochs cannot be resumed, and says so."""
    if not os.path.exists(ckpt):
        return None
    st = torch.load(ckpt, map_location="cpu", weights_only=False)  # ours; holds the generators' states
    if st["epoch"] < epochs:
        if "net" not in st:
            raise SystemExit(f"{ckpt}: the EMA alone of epoch {st['epoch']}, and the recipe trains {epochs} epochs: "
                             "it cannot be resumed (ema_chunks.py brings back finished runs only); train with the "
                             "recipe it was made by, or remove it to train anew")
        return None
    return st


def where(device):
    """The machine a run trains on, for its checkpoint and the pack's card."""
    if device.startswith("cuda"):
        name = torch.cuda.get_device_name(torch.device(device))
        return f"{name} (accelerator, --device {device}), {os.cpu_count()} CPUs, torch {torch.__version__}"
    return f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__} on {torch.get_num_threads()} threads"


def fit(net, crops, y, spec, cfg, aug, ckpt, log, teacher=None, val=None, seed=0, device="cpu", workers=0):
    """Train net on the cached crops (labels y); returns the EMA model. cfg: epochs, batch,
    lr, wd, ema, label_smoothing, sampling_power, warmup_epochs, eval_every; for
    distillation: distill {alpha, T}. val: (tensors, y, labels) for progress lines only (the
    shipped model is the last epoch's EMA: no checkpoint is chosen on validation).
    device: "cpu" (the recipe's default) or an accelerator ("cuda"); workers > 0 augments
    in that many spawned processes, each batch from its own seed (the same augmentation,
    drawn from other random numbers than workers=0 draws). The returned model is on the CPU."""
    epochs, bs = cfg["epochs"], cfg["batch"]
    done = finished(ckpt, epochs)
    if done is not None:
        ema_model = copy.deepcopy(net).eval()
        ema_model.load_state_dict(done["ema"])
        for p in ema_model.parameters():
            p.requires_grad_(False)  # as EMA.model
        ema_model.train_seconds = done.get("seconds", 0.0)
        ema_model.trained_on = done.get("trained_on")
        log(f"finished checkpoint {ckpt}: epoch {done['epoch']}/{epochs}" +
            (f", trained on {done['trained_on']}" if done.get("trained_on") else ""))
        return ema_model
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
    trained_on = where(device)
    if os.path.exists(ckpt):
        # On the CPU: a run cut on an accelerator resumes on any machine.
        st = torch.load(ckpt, map_location="cpu", weights_only=False)
        if st.get("parallel", False) != (workers > 0):
            raise SystemExit(f"{ckpt}: trained {'with' if st.get('parallel') else 'without'} --workers, which draw their "
                             f"augmentation from other random numbers: resume it {'with' if st.get('parallel') else 'without'} "
                             "--workers (any number), or remove it to train anew")
        if st.get("trained_on") and st["trained_on"] != trained_on:
            trained_on = st["trained_on"] + "; resumed on " + trained_on
        net.load_state_dict(st["net"])
        ema.model.load_state_dict(st["ema"])
        ema.steps = st["ema_steps"]
        opt.load_state_dict(st["opt"])
        start_epoch, step = st["epoch"], st["step"]
        seconds = st.get("seconds", 0.0)
        rng.bit_generator.state = st["rng"]
        torch.set_rng_state(st["torch_rng"])
        log(f"resumed {ckpt} at epoch {start_epoch}/{epochs}")
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
    # Workers are spawned, not forked: a forked worker inherits OpenCV's thread pool in
    # whatever state the parent left it, and on the accelerator machine the first epoch
    # never came back from them (2026-12-04). Each gets the crops once, pickled.
    # The CUDA generators' states are not kept (nothing in the recipe draws from them on
    # the device: dropout is 0 in every config), and cuDNN picks its fastest algorithms,
    # so an accelerator's run is not repeatable to the bit as the CPU's is.
    pool = None
    try:
        if workers > 0:
            pool = multiprocessing.get_context("spawn").Pool(workers, _worker_init, (crops, aug))
        if device != "cpu":
            torch.backends.cudnn.benchmark = True
            net.to(device)
            ema.model.to(device)
            if teacher is not None:
                teacher.to(device)
            # The optimizer's state (momentum) follows its parameters to the device.
            for stt in opt.state.values():
                for k, v in stt.items():
                    if torch.is_tensor(v):
                        stt[k] = v.to(device)
        for epoch in range(start_epoch, epochs):
            step, seconds = _epoch(net, ema, opt, teacher, crops, yt, probs_w, rng, spec_at(epoch), aug, bs,
                                   steps_per_epoch, lr_at, step, seconds, ls, dist, epoch, epochs, val, cfg, log,
                                   device, pool, workers)
            tmp = ckpt + ".tmp"
            torch.save({"net": net.state_dict(), "ema": ema.model.state_dict(), "ema_steps": ema.steps,
                        "opt": opt.state_dict(), "epoch": epoch + 1, "step": step, "seconds": seconds,
                        "rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state(),
                        "parallel": workers > 0, "trained_on": trained_on}, tmp)
            os.replace(tmp, ckpt)
    finally:
        if pool is not None:
            pool.terminate()
    net.to("cpu")
    ema.model.to("cpu")
    if teacher is not None:
        teacher.to("cpu")
    ema.model.train_seconds = seconds
    ema.model.trained_on = trained_on
    return ema.model


def _batches(crops, idx, bs, steps, sp, rng, aug, pool, workers):
    """The epoch's augmented batches as (indices, float32 tensors), in order; with a pool,
    augmented ahead by the workers."""
    if pool is None:
        for b in range(steps):
            ib = idx[b * bs:(b + 1) * bs]
            yield ib, np.stack([augment.augmented_tensor(crops[i], sp, rng, aug) for i in ib])
        return
    seeds = rng.integers(0, 2 ** 63 - 1, size=steps)
    jobs = [(idx[b * bs:(b + 1) * bs], int(seeds[b]), sp) for b in range(steps)]
    # A bounded window of batches in flight: imap would augment the whole epoch ahead
    # and hold it in memory when training is the slower side.
    ahead = collections.deque()
    nxt = 0
    for b in range(steps):
        while nxt < steps and len(ahead) < 2 * workers:
            ahead.append(pool.apply_async(_augment_batch, (jobs[nxt],)))
            nxt += 1
        yield jobs[b][0], ahead.popleft().get()


def _epoch(net, ema, opt, teacher, crops, yt, probs_w, rng, sp, aug, bs, steps_per_epoch, lr_at, step, seconds,
           ls, dist, epoch, epochs, val, cfg, log, device, pool, workers):
    """One epoch of training; returns (step, seconds) after it and logs its line."""
    net.train()
    t0 = time.time()
    idx = rng.choice(len(crops), size=steps_per_epoch * bs, replace=True, p=probs_w)
    # Sums kept on the device: reading them back every step would wait for each step.
    tot_loss = torch.zeros((), device=device)
    hits = torch.zeros((), dtype=torch.long, device=device)
    seen, t_aug = 0, 0.0
    batches = _batches(crops, idx, bs, steps_per_epoch, sp, rng, aug, pool, workers)
    while True:
        ta = time.time()
        nxt = next(batches, None)
        t_aug += time.time() - ta
        if nxt is None:
            break
        ib, xa = nxt
        x = torch.from_numpy(xa).to(device, non_blocking=True)
        tgt = torch.from_numpy(yt[ib]).long().to(device, non_blocking=True)
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
        tot_loss += loss.detach() * len(ib)
        hits += (logits.argmax(1) == tgt).sum()
        seen += len(ib)
    dt = time.time() - t0
    seconds += dt
    line = (f"epoch {epoch + 1}/{epochs} ({sp.w} px) loss {float(tot_loss) / seen:.4f} train-acc {int(hits) / seen:.3f} "
            f"lr {lr_at(step - 1):.5f} {seen / dt:.1f} img/s ({dt:.0f} s, augment {100 * t_aug / dt:.0f}%)")
    ev = cfg.get("eval_every", 0)
    if val is not None and ev and ((epoch + 1) % ev == 0 or epoch + 1 == epochs):
        m = metrics.evaluate(predict(ema.model, val[0]), val[1], val[2])
        line += " | EMA val " + metrics.summary(m)
    log(line)
    return step, seconds
