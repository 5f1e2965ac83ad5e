"""Training-time augmentation of image batches (N, C, H, W), vectorised over the batch.

Each image gets its own random small affine warp (rotation, scale, shift;
bilinear resampling) and, optionally, a thicker or thinner stroke (a 3×3
grey-level dilation, or half an erosion). It teaches a digit reader that handwriting
varies in slant, size, position and pen width, which a drawn digit will.

Settings (the ``augment`` section of the training settings)::

    {"rotate": 10, "scale": 0.1, "shift": 2, "stroke": 0.3}

``rotate`` in degrees (±), ``scale`` as a fraction (±), ``shift`` in pixels
(±), ``stroke``: the fraction of images whose stroke is thickened or thinned
(half each).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from playground.engine.errors import SpecError

DEFAULTS = {"rotate": 0.0, "scale": 0.0, "shift": 0.0, "stroke": 0.0}


def check_augment(cfg: Mapping[str, Any] | None) -> dict[str, float] | None:
    """Validate augmentation settings; None or {} means no augmentation."""
    if not cfg:
        return None
    if not isinstance(cfg, Mapping):
        raise SpecError(f"augment must be an object like {{'rotate': 10, 'shift': 2}}, got {cfg!r}")
    unknown = set(cfg) - set(DEFAULTS)
    if unknown:
        raise SpecError(f"unknown augmentation settings {sorted(unknown)}; known: {sorted(DEFAULTS)}")
    out = dict(DEFAULTS)
    limits = {"rotate": 45.0, "scale": 0.5, "shift": 8.0, "stroke": 1.0}
    for k, v in cfg.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not (0 <= v <= limits[k]):
            raise SpecError(f"augment '{k}' must be a number from 0 to {limits[k]}, got {v!r}")
        out[k] = float(v)
    return out


def augment_images(x: np.ndarray, rng: np.random.Generator, cfg: Mapping[str, float]) -> np.ndarray:
    """Return a randomly warped copy of the image batch ``x`` (N, C, H, W)."""
    n, c, h, w = x.shape
    out = x
    if cfg.get("rotate") or cfg.get("scale") or cfg.get("shift"):
        out = _affine(x, rng, cfg)
    if cfg.get("stroke"):
        out = _stroke(out, rng, cfg["stroke"])
    return out


def _affine(x: np.ndarray, rng: np.random.Generator, cfg: Mapping[str, float]) -> np.ndarray:
    n, c, h, w = x.shape
    ang = np.deg2rad(rng.uniform(-cfg.get("rotate", 0), cfg.get("rotate", 0), n))
    s = 1.0 + rng.uniform(-cfg.get("scale", 0), cfg.get("scale", 0), n)
    t = rng.uniform(-cfg.get("shift", 0), cfg.get("shift", 0), (n, 2))
    # inverse map: for each output pixel, where to read in the input (about the centre)
    cos, sin = np.cos(ang) / s, np.sin(ang) / s
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    yy, xx = np.meshgrid(np.arange(h, dtype=np.float32) - cy, np.arange(w, dtype=np.float32) - cx, indexing="ij")
    sy = cos[:, None, None] * (yy - t[:, 0, None, None]) - sin[:, None, None] * (xx - t[:, 1, None, None]) + cy
    sx = sin[:, None, None] * (yy - t[:, 0, None, None]) + cos[:, None, None] * (xx - t[:, 1, None, None]) + cx
    y0 = np.floor(sy).astype(np.int64)
    x0 = np.floor(sx).astype(np.int64)
    fy = (sy - y0).astype(x.dtype)
    fx = (sx - x0).astype(x.dtype)
    # pad by one pixel of background so reads outside the image are zero
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    y0 = np.clip(y0 + 1, 0, h)
    x0 = np.clip(x0 + 1, 0, w)
    y1 = np.clip(y0 + 1, 0, h + 1)
    x1 = np.clip(x0 + 1, 0, w + 1)
    idx = np.arange(n)[:, None, None]
    out = np.empty_like(x)
    for ch in range(c):
        img = xp[:, ch]
        top = img[idx, y0, x0] * (1 - fx) + img[idx, y0, x1] * fx
        bottom = img[idx, y1, x0] * (1 - fx) + img[idx, y1, x1] * fx
        out[:, ch] = top * (1 - fy) + bottom * fy
    return out


def _stroke(x: np.ndarray, rng: np.random.Generator, fraction: float) -> np.ndarray:
    n = x.shape[0]
    u = rng.random(n)
    thick = u < fraction / 2
    thin = (u >= fraction / 2) & (u < fraction)
    if not (thick.any() or thin.any()):
        return x
    out = x.copy()
    if thick.any():
        out[thick] = _filter3(x[thick], np.maximum)
    if thin.any():
        # a full 3×3 erosion erases MNIST's thin strokes; half of it thins them
        out[thin] = 0.5 * (x[thin] + _filter3(x[thin], np.minimum))
    return out


def _filter3(x: np.ndarray, op) -> np.ndarray:
    """3×3 max (dilation) or min (erosion) filter, edges padded with the image's own border."""
    h, w = x.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="edge")
    out = xp[:, :, 1:h + 1, 1:w + 1].copy()
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            if dy == 1 and dx == 1:
                continue
            op(out, xp[:, :, dy:dy + h, dx:dx + w], out=out)
    return out


def describe(cfg: Mapping[str, float] | None) -> str:
    if not cfg:
        return "none"
    parts = []
    if cfg.get("rotate"):
        parts.append(f"rotate ±{cfg['rotate']:g}°")
    if cfg.get("scale"):
        parts.append(f"scale ±{cfg['scale'] * 100:g}%")
    if cfg.get("shift"):
        parts.append(f"shift ±{cfg['shift']:g} px")
    if cfg.get("stroke"):
        parts.append(f"stroke width varied in {cfg['stroke'] * 100:g}% of images")
    return ", ".join(parts) or "none"

