"""Augmentation for microscope conditions, applied to a cached uint8 crop before the
contract's background, pad and normalisation steps (so the background step sees what a
camera would give it): rotation and flips, scale jitter, defocus blur, sensor noise, uneven
illumination gradients and vignetting, exposure and gamma, white balance and stain/colour
shifts, JPEG re-compression."""
import math

import cv2
import numpy as np

from . import contract

DEFAULTS = {
    "rotate_p": 0.5,          # rotation besides the 8 right-angle/flip poses
    "rotate_max": 180,        # largest angle, degrees
    "rotate_border": "fill",  # "fill" (canvas enlarged, the crop's border colour) or "reflect"
    "crop_scale": [0.6, 1.0],  # fit/centre-crop: area kept by a random crop (scale jitter)
    "crop_ratio": [0.8, 1.25],  # aspect jitter of the crop, relative to the crop's own
    "zoom": [0.85, 1.15],     # letterbox: resize factor (native size is a cue: keep it mild)
    "blur_p": 0.4, "blur_sigma": [0.3, 1.6],
    "noise_p": 0.5, "noise_sigma": [1.0, 9.0],          # in 8-bit levels
    "gradient_p": 0.5, "gradient_depth": [0.05, 0.45],   # fraction of light lost across
    "vignette_p": 0.2, "vignette_depth": [0.1, 0.35],
    "exposure": [0.7, 1.15], "gamma": [0.8, 1.25], "contrast": [0.8, 1.2],
    "wb_sigma": 0.08,          # per-channel gain jitter (rgb)
    "stain_sigma": 0.05,       # colour-mixing matrix jitter (rgb)
    "saturation": [0.7, 1.3],  # rgb
    "jpeg_p": 0.2, "jpeg_quality": [40, 95],
}


def _u(rng, r):
    return rng.uniform(r[0], r[1])


def _border_colour(img):
    b = np.concatenate([img[0].reshape(-1, img.shape[2] if img.ndim == 3 else 1),
                        img[-1].reshape(-1, img.shape[2] if img.ndim == 3 else 1),
                        img[:, 0].reshape(-1, img.shape[2] if img.ndim == 3 else 1),
                        img[:, -1].reshape(-1, img.shape[2] if img.ndim == 3 else 1)])
    return tuple(float(v) for v in np.median(b, axis=0))


def geometric(img, spec, rng, a):
    k = rng.integers(4)
    if k:
        img = np.rot90(img, k)
    if rng.random() < 0.5:
        img = img[:, ::-1]
    img = np.ascontiguousarray(img)
    h, w = img.shape[:2]
    if rng.random() < a["rotate_p"]:
        ang = rng.uniform(-a["rotate_max"], a["rotate_max"])
        c, s = abs(math.cos(math.radians(ang))), abs(math.sin(math.radians(ang)))
        if a["rotate_border"] == "reflect":
            nw, nh = w, h
        else:
            nw, nh = int(math.ceil(w * c + h * s)), int(math.ceil(w * s + h * c))
        M = cv2.getRotationMatrix2D((w / 2, h / 2), ang, 1.0)
        M[0, 2] += (nw - w) / 2
        M[1, 2] += (nh - h) / 2
        if a["rotate_border"] == "reflect":
            img = cv2.warpAffine(img, M, (nw, nh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        else:
            col = _border_colour(img)
            img = cv2.warpAffine(img, M, (nw, nh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                 borderValue=col if len(col) > 1 else col[0])
        h, w = img.shape[:2]
    if spec.resize == "letterbox":
        z = _u(rng, a["zoom"])
        if abs(z - 1) > 1e-3:
            img = cv2.resize(img, (max(1, round(w * z)), max(1, round(h * z))),
                             interpolation=cv2.INTER_AREA if z < 1 else cv2.INTER_LINEAR)
    else:
        # Keep a fraction of the area with the crop's own aspect (jittered): a thin filament
        # stays a thin filament, a field stays a field.
        s = _u(rng, a["crop_scale"])
        r = math.exp(rng.uniform(math.log(a["crop_ratio"][0]), math.log(a["crop_ratio"][1])))
        cw = int(round(min(w, w * math.sqrt(s * r))))
        ch = int(round(min(h, h * math.sqrt(s / r))))
        cw, ch = max(4, cw), max(4, ch)
        cw, ch = min(cw, w), min(ch, h)
        x0 = rng.integers(0, w - cw + 1)
        y0 = rng.integers(0, h - ch + 1)
        img = img[y0:y0 + ch, x0:x0 + cw]
    return np.ascontiguousarray(img)


def photometric(img, rgb, rng, a):
    """On the fitted uint8 crop; returns uint8."""
    x = img.astype(np.float32)
    if x.ndim == 2:
        x = x[:, :, None]
    h, w = x.shape[:2]
    if rgb:
        m = np.eye(3, dtype=np.float32) + rng.normal(0, a["stain_sigma"], (3, 3)).astype(np.float32)
        m /= m.sum(1, keepdims=True)
        x = x @ m.T
        sat = _u(rng, a["saturation"])
        g = x.mean(2, keepdims=True)
        x = g + (x - g) * sat
        x *= np.clip(rng.normal(1, a["wb_sigma"], 3), 0.75, 1.25).astype(np.float32)
    x *= _u(rng, a["exposure"])
    ct = _u(rng, a["contrast"])
    mu = x.mean()
    x = mu + (x - mu) * ct
    if rng.random() < a["gradient_p"]:
        d = _u(rng, a["gradient_depth"])
        ang = rng.uniform(0, 2 * math.pi)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        t = (xx - w / 2) * math.cos(ang) + (yy - h / 2) * math.sin(ang)
        span = max(1e-6, float(t.max() - t.min()))
        ramp = 1 - d * (t - t.min()) / span
        x *= ramp[:, :, None]
    if rng.random() < a["vignette_p"]:
        d = _u(rng, a["vignette_depth"])
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        r2 = ((xx - w / 2) / (w / 2 + 1e-6)) ** 2 + ((yy - h / 2) / (h / 2 + 1e-6)) ** 2
        x *= (1 - d * np.clip(r2 / 2, 0, 1))[:, :, None]
    x = np.clip(x, 0, 255)
    gm = _u(rng, a["gamma"])
    x = 255 * (x / 255) ** gm
    if rng.random() < a["blur_p"]:
        s = _u(rng, a["blur_sigma"])
        x = cv2.GaussianBlur(x, (0, 0), s)
        if x.ndim == 2:
            x = x[:, :, None]
    if rng.random() < a["noise_p"]:
        s = _u(rng, a["noise_sigma"])
        x = x + rng.normal(0, s, x.shape).astype(np.float32)
    out = np.clip(x + 0.5, 0, 255).astype(np.uint8)
    if rng.random() < a["jpeg_p"]:
        q = int(_u(rng, a["jpeg_quality"]))
        enc = out[:, :, ::-1] if rgb else out[:, :, 0]
        ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(enc), [cv2.IMWRITE_JPEG_QUALITY, q])
        if ok:
            dec = cv2.imdecode(buf, cv2.IMREAD_COLOR if rgb else cv2.IMREAD_GRAYSCALE)
            out = dec[:, :, ::-1] if rgb else dec[:, :, None]
    if not rgb:
        out = out[:, :, 0]
    return np.ascontiguousarray(out)


def augmented_tensor(crop, spec, rng, a):
    """A training tensor: geometric augmentation of the cached crop, the contract's resize,
    photometric augmentation, then the contract's background, pad and normalisation."""
    img = geometric(crop, spec, rng, a)
    fit = contract.resize(img, spec.w, spec.h, spec.resize)
    fit = photometric(fit, spec.channels == "rgb", rng, a)
    return contract.finish(fit, spec)
