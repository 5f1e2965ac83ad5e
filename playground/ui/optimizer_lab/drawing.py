"""NumPy-only drawing helpers of the optimizer lab: log-scaled heat, contour lines, arrows, symlog and readouts."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["COLORS", "heat_offset", "log_heat", "contour_segments", "arrow", "symlog", "fmt"]

#: one colour per optimizer, readable on the light and the dark heat map
COLORS = {"sgd": "#e6194b", "momentum": "#1f9e3a", "nesterov": "#2f6fdf", "adagrad": "#f58231",
          "rmsprop": "#9b2fc9", "adam": "#0a9396"}


def heat_offset(values: np.ndarray) -> tuple[float, float]:
    """(lowest finite f, δ) for the log scale log10(f − lowest + δ); δ is 1e-4 of the range."""
    f = np.asarray(values, dtype=np.float64)
    finite = f[np.isfinite(f)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    return lo, max((hi - lo) * 1e-4, 1e-12)


def log_heat(values: np.ndarray, offset: tuple[float, float] | None = None) -> np.ndarray:
    """log10(f − lo + δ) with ``(lo, δ)`` from :func:`heat_offset` of the grid; non-finite f gives NaN."""
    f = np.asarray(values, dtype=np.float64)
    lo, delta = heat_offset(f) if offset is None else offset
    with np.errstate(all="ignore"):
        out = np.log10(np.maximum(f - lo, 0.0) + delta)
    out[~np.isfinite(f)] = np.nan
    return out


# marching squares: for each corner case, the pairs of cell edges a contour crosses
# (edges: 0 bottom, 1 right, 2 top, 3 left; corners: 1 bottom-left, 2 bottom-right, 4 top-right, 8 top-left)
_CASES = {1: ((3, 0),), 2: ((0, 1),), 3: ((3, 1),), 4: ((1, 2),), 5: ((3, 0), (1, 2)), 6: ((0, 2),),
          7: ((3, 2),), 8: ((2, 3),), 9: ((0, 2),), 10: ((0, 1), (2, 3)), 11: ((1, 2),), 12: ((3, 1),),
          13: ((0, 1),), 14: ((3, 0),)}


def contour_segments(z: np.ndarray, xs: np.ndarray, ys: np.ndarray, level: float) -> np.ndarray:
    """Line segments of the contour ``z = level`` by marching squares, vectorised.

    ``z`` is row-major, ``z[j, i]`` at ``(xs[i], ys[j])``. Returns a (2k, 2)
    array of segment end points, in pairs (for ``connect="pairs"``). Cells
    with a non-finite corner are skipped.
    """
    z = np.asarray(z, dtype=np.float64)
    a, b, c, d = z[:-1, :-1], z[:-1, 1:], z[1:, 1:], z[1:, :-1]
    ok = np.isfinite(a) & np.isfinite(b) & np.isfinite(c) & np.isfinite(d)
    case = ((a > level) * 1 + (b > level) * 2 + (c > level) * 4 + (d > level) * 8) * ok
    x0, x1 = xs[None, :-1], xs[None, 1:]
    y0, y1 = ys[:-1, None], ys[1:, None]

    def cross(p, q, lo, hi):
        with np.errstate(all="ignore"):
            t = (level - p) / (q - p)
        return lo + np.clip(np.nan_to_num(t, nan=0.5), 0.0, 1.0) * (hi - lo)

    shape = a.shape
    edges = (  # (x, y) of the crossing on each edge of every cell
        (cross(a, b, x0, x1), np.broadcast_to(y0, shape)),
        (np.broadcast_to(x1, shape), cross(b, c, y0, y1)),
        (cross(d, c, x0, x1), np.broadcast_to(y1, shape)),
        (np.broadcast_to(x0, shape), cross(a, d, y0, y1)),
    )
    parts = []
    for k, pairs in _CASES.items():
        mask = case == k
        if not mask.any():
            continue
        for e1, e2 in pairs:
            p = np.stack([edges[e1][0][mask], edges[e1][1][mask]], axis=1)
            q = np.stack([edges[e2][0][mask], edges[e2][1][mask]], axis=1)
            seg = np.empty((2 * len(p), 2))
            seg[0::2], seg[1::2] = p, q
            parts.append(seg)
    return np.concatenate(parts) if parts else np.empty((0, 2))


def arrow(tail: np.ndarray, vec: np.ndarray, pixel: tuple[float, float], head_px: float = 9.0) -> np.ndarray:
    """Segments (pairs) of an arrow from ``tail`` along ``vec`` (data units), its head sized in pixels."""
    pw, ph = pixel
    sx, sy = vec[0] / pw, vec[1] / ph  # the vector in pixels (y up)
    length = math.hypot(sx, sy)
    if not (math.isfinite(length) and length >= 1.0):
        return np.empty((0, 2))
    tip = tail + vec
    ux, uy = sx / length, sy / length
    head = min(head_px, 0.6 * length)
    pts = [tail, tip]
    for ang in (math.radians(155), math.radians(-155)):
        ca, sa = math.cos(ang), math.sin(ang)
        hx, hy = (ux * ca - uy * sa) * head, (ux * sa + uy * ca) * head
        pts += [tip, tip + np.array([hx * pw, hy * ph])]
    return np.array(pts)


def symlog(values: np.ndarray) -> np.ndarray:
    """sign(f)·log10(1 + |f|): readable when f runs from a few units to −10¹¹ (a saddle)."""
    v = np.asarray(values, dtype=np.float64)
    return np.sign(v) * np.log10(1.0 + np.abs(v))


def fmt(v: float) -> str:
    """A readout number: three significant digits, scientific when very small or large, — when not finite."""
    if not math.isfinite(v):
        return "—"
    return f"{v:.3g}" if v == 0 or 1e-3 <= abs(v) < 1e4 else f"{v:.2e}"
