"""Drawings that are not digits (dots, scribbles, crosses, blobs, lines), made from seeded random strokes.

They are what a person may put on the drawing pad instead of a digit, and
what :mod:`playground.engine.data.digit_judge` is calibrated to call "not a
digit". Each is drawn as the pad draws: round-capped strokes of one width,
dark ink on a white ``side`` x ``side`` canvas (uint8), at a random place,
size and brush width from a numpy Generator, so a seed gives the same set.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from PIL import Image, ImageDraw

#: the pad's canvas side, in pixels
SIDE = 320


def render_strokes(strokes: list[np.ndarray], width: float, side: int = SIDE) -> np.ndarray:
    """Strokes (each an (n, 2) array of x, y in canvas pixels) as dark ink on white, uint8 ``side`` x ``side``.

    Round caps and joins, as the pad's pen: a disc at every point and a line of
    ``width`` between successive points.
    """
    img = Image.new("L", (side, side), 255)
    draw = ImageDraw.Draw(img)
    r = width / 2
    w = max(1, round(width))
    for pts in strokes:
        pts = np.asarray(pts, np.float64).reshape(-1, 2)
        for x, y in pts:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=0)
        if len(pts) > 1:
            draw.line([tuple(p) for p in pts], fill=0, width=w)
    return np.asarray(img, np.uint8)


def _frame(rng: np.random.Generator, side: int, low: float = 0.3, high: float = 0.8) -> tuple[float, float, float]:
    """A random square region: centre x, centre y and half-size, inside the canvas."""
    half = rng.uniform(low, high) * side / 2
    cx = rng.uniform(half + 4, side - half - 4)
    cy = rng.uniform(half + 4, side - half - 4)
    return cx, cy, half


def _brush(rng: np.random.Generator) -> float:
    return float(rng.uniform(8, 30))


def dot(rng: np.random.Generator, side: int = SIDE) -> np.ndarray:
    """A single click: one round blot of a random brush width (up to a fat marker's)."""
    width = float(rng.uniform(6, 48))
    x, y = rng.uniform(width, side - width, size=2)
    return render_strokes([np.array([[x, y]])], width, side)


def scribble(rng: np.random.Generator, side: int = SIDE) -> np.ndarray:
    """A random scrawl: a smoothed random walk of 25 to 60 steps that turns often."""
    cx, cy, half = _frame(rng, side, 0.4, 0.9)
    n = int(rng.integers(25, 61))
    heading = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0, 0.9, n))
    step = half * rng.uniform(0.15, 0.35)
    pts = np.cumsum(np.stack([np.cos(heading), np.sin(heading)], axis=1) * step, axis=0)
    pts -= pts.mean(axis=0)
    pts *= half / max(np.abs(pts).max(), 1e-9)
    pts += (cx, cy)
    return render_strokes([pts], _brush(rng), side)


def _line(a: np.ndarray, b: np.ndarray, rng: np.random.Generator, n: int = 12) -> np.ndarray:
    """A hand-drawn line from a to b: points along it with a little sideways wobble."""
    t = np.linspace(0, 1, n)[:, None]
    pts = a + (b - a) * t
    normal = np.array([-(b - a)[1], (b - a)[0]]) / max(np.hypot(*(b - a)), 1e-9)
    wobble = rng.normal(0, 1.5, n).cumsum() * 0.4
    return pts + normal * wobble[:, None]


def cross(rng: np.random.Generator, side: int = SIDE) -> np.ndarray:
    """An X: two crossing diagonals, each corner jittered."""
    cx, cy, half = _frame(rng, side)
    c = np.array([cx, cy])

    def j():
        return rng.normal(0, half * 0.12, 2)

    s1 = _line(c + (-half, -half) + j(), c + (half, half) + j(), rng)
    s2 = _line(c + (half, -half) + j(), c + (-half, half) + j(), rng)
    return render_strokes([s1, s2], _brush(rng), side)


def filled_square(rng: np.random.Generator, side: int = SIDE) -> np.ndarray:
    """A square coloured in: back-and-forth strokes closer than the brush is wide."""
    cx, cy, half = _frame(rng, side, 0.25, 0.7)
    width = _brush(rng)
    rows = np.arange(cy - half, cy + half + 1e-9, width * 0.6)
    pts = []
    for i, y in enumerate(rows):
        xs = (cx - half, cx + half) if i % 2 == 0 else (cx + half, cx - half)
        pts += [(xs[0], y), (xs[1], y)]
    pts = np.array(pts) + rng.normal(0, 1.0, (len(pts), 2))
    return render_strokes([pts], width, side)


def circle_cross(rng: np.random.Generator, side: int = SIDE) -> np.ndarray:
    """A circle crossed out: a ring and an X (or a +) through it."""
    cx, cy, half = _frame(rng, side)
    t = np.linspace(0, 2 * np.pi, 40)
    ring = np.stack([cx + half * np.cos(t), cy + half * np.sin(t)], axis=1) + rng.normal(0, 1.0, (40, 2))
    c = np.array([cx, cy])
    turn = 0.0 if rng.random() < 0.5 else np.pi / 4
    strokes = [ring]
    for k in range(2):
        a = turn + k * np.pi / 2
        d = np.array([np.cos(a), np.sin(a)]) * half * 1.05
        strokes.append(_line(c - d, c + d, rng))
    return render_strokes(strokes, _brush(rng), side)


def line(rng: np.random.Generator, side: int = SIDE) -> np.ndarray:
    """One straight stroke lying within 35° of horizontal (a steep one would be a fair "1")."""
    cx, cy, half = _frame(rng, side, 0.3, 0.9)
    a = rng.uniform(-35, 35) * np.pi / 180
    d = np.array([np.cos(a), np.sin(a)]) * half
    c = np.array([cx, cy])
    return render_strokes([_line(c - d, c + d, rng)], _brush(rng), side)


#: every kind of non-digit, by name
KINDS: dict[str, Callable[[np.random.Generator, int], np.ndarray]] = {
    "dot": dot, "scribble": scribble, "cross": cross, "filled square": filled_square,
    "circle with cross": circle_cross, "line": line,
}


def make_doodles(kind: str, n: int, seed: int, side: int = SIDE) -> np.ndarray:
    """``n`` drawings of one kind from :data:`KINDS`, uint8 (n, side, side), the same for the same seed."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of non-digit {kind!r}; expected one of {', '.join(KINDS)}")
    rng = np.random.default_rng(seed)
    return np.stack([KINDS[kind](rng, side) for _ in range(n)])
