"""The pack input contract of docs/pack-format.md, implemented with cv2 exactly as the Go
side (inference/, through GoCV) implements it, so both produce the same tensor bit for bit.

Every step works on 8-bit images with OpenCV 4.6 operations; the float steps are float32
with the same operation order as the Go code.
"""
import math

import cv2
import numpy as np


class InputSpec:
    """The format-2 "input" object of pack.json."""

    def __init__(self, d):
        self.name = d.get("name", "image")
        self.shape = list(d["shape"])
        self.channels = d.get("channels", "gray")
        self.resize = d.get("resize", "letterbox")
        bg = d.get("background") or {"method": "none"}
        self.background = bg.get("method", "none")
        self.q = float(bg.get("q", 0.95))
        pad = d.get("pad", 1.0)
        c = self.shape[1]
        self.pad = [float(pad)] * c if not isinstance(pad, list) else [float(p) for p in pad]
        self.mean = d.get("mean")
        self.std = d.get("std")

    @property
    def c(self):
        return self.shape[1]

    @property
    def h(self):
        return self.shape[2]

    @property
    def w(self):
        return self.shape[3]

    def to_json(self):
        d = {"name": self.name, "shape": self.shape, "dtype": "float32", "channels": self.channels,
             "resize": self.resize}
        if self.background == "percentile":
            d["background"] = {"method": "percentile", "q": self.q}
        else:
            d["background"] = {"method": "none"}
        d["pad"] = self.pad[0] if len(set(self.pad)) == 1 else self.pad
        if self.mean is not None:
            d["mean"] = self.mean
            d["std"] = self.std
        return d


def round_half_up(x):
    """Half away from zero for positive x (Go math.Round)."""
    return int(math.floor(x + 0.5))


# Formats whose files can carry an alpha channel (step 1 composites it onto white).
ALPHA_SUFFIXES = {".png", ".tif", ".tiff", ".webp"}


def read_bgr(path):
    """Step 1: decode to 8-bit BGR like OpenCV imread(IMREAD_COLOR), pixels with alpha
    composited onto white: (c*a + 255*(255-a) + 127) // 255 (imagefile.Flatten)."""
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(f"cannot decode {path}")
    if str(path).lower().endswith(tuple(ALPHA_SUFFIXES)):
        raw = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if raw is not None and raw.ndim == 3 and raw.shape[2] == 4 and raw.shape[:2] == img.shape[:2]:
            a = raw[..., 3]
            if a.dtype == np.uint16:
                a = a >> 8  # Go keeps a 16-bit sample's high byte
            a = a.astype(np.uint32)[..., None]
            img = ((img.astype(np.uint32) * a + 255 * (255 - a) + 127) // 255).astype(np.uint8)
    return img


def to_channels(img, channels):
    """Step 2: a BGR (H,W,3) or gray (H,W) uint8 crop to the pack's channels: gray -> (H,W),
    rgb -> (H,W,3) in R, G, B order."""
    if channels == "gray":
        if img.ndim == 3:
            return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        return img
    if img.ndim == 2:
        return np.ascontiguousarray(np.repeat(img[:, :, None], 3, axis=2))
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def resize_size(w, h, W, H, rule):
    """New size (and the scale) of a w x h crop under a resize rule."""
    if rule == "letterbox":
        if w <= W and h <= H:
            return w, h
        s = min(W / w, H / h)
        return max(1, min(W, round_half_up(w * s))), max(1, min(H, round_half_up(h * s)))
    if rule == "fit":
        s = min(W / w, H / h)
        return max(1, min(W, round_half_up(w * s))), max(1, min(H, round_half_up(h * s)))
    if rule == "centre-crop":
        s = max(W / w, H / h)
        return max(1, round_half_up(w * s)), max(1, round_half_up(h * s))
    raise ValueError(f"unknown resize rule {rule!r}")


def resize(img, W, H, rule):
    """Step 3: resize (and for centre-crop, cut) the crop; returns a uint8 image at most
    W x H."""
    h, w = img.shape[:2]
    nw, nh = resize_size(w, h, W, H, rule)
    if (nw, nh) != (w, h):
        # INTER_AREA when shrinking (s < 1), INTER_LINEAR when enlarging (s > 1);
        # letterbox only ever shrinks.
        s = max(W / w, H / h) if rule == "centre-crop" else min(W / w, H / h)
        interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
        img = cv2.resize(img, (nw, nh), interpolation=interp)
    if rule == "centre-crop":
        x0, y0 = max(0, (nw - W) // 2), max(0, (nh - H) // 2)
        img = img[y0:y0 + H, x0:x0 + W]
    return np.ascontiguousarray(img)


def background_levels(img, q):
    """Step 4: per channel, the smallest 8-bit value v with at least ceil(q*n) of the n
    pixels <= v."""
    ch = img.reshape(-1, 1) if img.ndim == 2 else img.reshape(-1, img.shape[2])
    n = ch.shape[0]
    k = max(1, math.ceil(q * n))
    out = []
    for c in range(ch.shape[1]):
        hist = np.bincount(ch[:, c], minlength=256)
        out.append(int(np.searchsorted(np.cumsum(hist), k)))
    return out


def scale(img, background="none", q=0.95):
    """Steps 4 and 5: uint8 (h,w[,c]) -> float32 (c,h,w) in the 0..1 scale."""
    x = img[:, :, None] if img.ndim == 2 else img
    x = np.transpose(x, (2, 0, 1)).astype(np.float32)
    levels = background_levels(img, q) if background == "percentile" else [0] * x.shape[0]
    out = np.empty_like(x)
    for c in range(x.shape[0]):
        v = levels[c]
        if background == "percentile" and v >= 16:
            out[c] = np.minimum(np.float32(1), x[c] / np.float32(v))
        else:
            out[c] = x[c] / np.float32(255)
    return out


def place(chw, W, H, pad):
    """Step 6: centre the scaled crop on a W x H canvas filled with pad (per channel)."""
    c, h, w = chw.shape
    out = np.empty((c, H, W), np.float32)
    for i in range(c):
        out[i].fill(np.float32(pad[i]))
    x0, y0 = (W - w) // 2, (H - h) // 2
    out[:, y0:y0 + h, x0:x0 + w] = chw
    return out


def normalise(t, mean, std):
    """Step 7: (x - mean[c]) / std[c] in float32."""
    if mean is None:
        return t
    for c in range(t.shape[0]):
        t[c] = (t[c] - np.float32(mean[c])) / np.float32(std[c])
    return t


def fitted(img_bgr_or_gray, spec):
    """Steps 2 and 3: the uint8 crop in the pack's channels, resized (what the recipe caches)."""
    return resize(to_channels(img_bgr_or_gray, spec.channels), spec.w, spec.h, spec.resize)


def finish(fit_u8, spec):
    """Steps 4 to 7 on a fitted uint8 crop: the float32 (C,H,W) tensor."""
    t = place(scale(fit_u8, spec.background, spec.q), spec.w, spec.h, spec.pad)
    return normalise(t, spec.mean, spec.std)


def tensor(img_bgr_or_gray, spec):
    """The whole contract: a decoded crop (BGR or gray uint8) to its float32 (C,H,W) tensor."""
    return finish(fitted(img_bgr_or_gray, spec), spec)


def tensor_from_file(path, spec):
    return tensor(read_bgr(path), spec)
