"""Is the reading of a drawing a digit the network is sure of? Signals measured on the ink and the probabilities.

A network trained on MNIST gives ten probabilities for anything, a dot or
a scribble included, often with high confidence. :func:`judge` says
"sure" only when every signal looks like the MNIST digits the network
reads correctly:

* ``ink``: the mean of the 28 x 28 input. A digit is a stroke, about 13 %
  of the field; a dot or a coloured-in square, fitted to 20 x 20, is a
  filled blob (40 % and more).
* ``aspect``: width / height of the ink's bounding box. No digit is much
  wider than tall (MNIST's widest correctly read test digits: 1.7); a dash
  or a lying line is.
* ``holes``: closed loops of the paper in the input (a 0 has one, an 8 two);
  a circle crossed out, or a scribble crossing itself, has more. An 8
  without any loop is an X (93 % of the MNIST 8s read right have one).
* ``p``: the winner's probability, ``margin``: its lead over the second,
  ``entropy``: H = −Σ p_k log₂ p_k bits (0 when sure, log₂ 10 ≈ 3.3 when
  it has no idea).

The thresholds were calibrated with the bundled model on the first 1,000
MNIST test digits and on drawings from :mod:`playground.engine.data.doodles`
(``benchmarks/digit_sureness.py`` measures both).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from playground.engine.data.preprocess import DigitSteps, preprocess_digit_steps

#: a pixel of the 28 x 28 input with more than this is ink (for counting holes)
INK_LEVEL = 0.35
#: holes smaller than this many pixels are gaps between anti-aliased strokes, not loops
MIN_HOLE = 2
#: "sure" needs all of these
MIN_P = 0.97
MIN_MARGIN = 0.95
MAX_ENTROPY = 0.3
MAX_INK = 0.3
MAX_ASPECT = 2.0
MAX_HOLES = 2


@dataclass(frozen=True)
class Judgement:
    """A reading and why it is (not) sure. ``reason`` is "" when ``sure``, else one short sentence.

    ``shape_ok``: the ink passed the shape checks (ink, aspect, holes), so a
    reading that is not sure is the network hesitating, not a non-digit.
    """

    sure: bool
    shape_ok: bool
    digit: int
    second: int
    p: float
    p_second: float
    margin: float
    entropy: float
    ink: float
    aspect: float
    holes: int
    reason: str

    def as_dict(self) -> dict:
        return {"sure": self.sure, "shape_ok": self.shape_ok, "digit": self.digit, "second": self.second, "p": self.p,
                "p_second": self.p_second, "margin": self.margin, "entropy": self.entropy, "ink": self.ink,
                "aspect": self.aspect, "holes": self.holes, "reason": self.reason}


def count_holes(final: np.ndarray, level: float = INK_LEVEL, min_size: int = MIN_HOLE) -> int:
    """Regions of paper (4-connected) enclosed by ink (8-connected) in a 28 x 28 input, of at least ``min_size``."""
    paper = np.pad(np.asarray(final) <= level, 1, constant_values=True)
    h, w = paper.shape
    seen = np.zeros_like(paper)
    holes = 0
    for start in zip(*np.nonzero(paper)):
        if seen[start]:
            continue
        seen[start] = True
        stack, size, outside = [start], 0, False
        while stack:
            y, x = stack.pop()
            size += 1
            outside = outside or y == 0 or x == 0 or y == h - 1 or x == w - 1
            for ny, nx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
                if 0 <= ny < h and 0 <= nx < w and paper[ny, nx] and not seen[ny, nx]:
                    seen[ny, nx] = True
                    stack.append((ny, nx))
        if not outside and size >= min_size:
            holes += 1
    return holes


def entropy_bits(probs: np.ndarray) -> float:
    """H = −Σ p log₂ p in bits (0 log 0 = 0)."""
    p = np.asarray(probs, np.float64)
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum()) + 0.0


def judge(steps: DigitSteps, probs: np.ndarray) -> Judgement:
    """Sure or not, with the signals; ``steps`` must not be empty (no ink is not a reading)."""
    if steps.empty or steps.bbox is None:
        raise ValueError("judge needs a drawing with ink; an empty one has no reading to judge")
    p = np.asarray(probs, np.float64).reshape(-1)
    order = np.argsort(p)[::-1]
    k, j = int(order[0]), int(order[1])
    top, second = float(p[k]), float(p[j])
    margin = top - second
    h_bits = entropy_bits(p)
    ink = float(np.mean(steps.final))
    top_y, left, bottom, right = steps.bbox
    aspect = (right - left) / max(1, bottom - top_y)
    holes = count_holes(steps.final)
    if ink > MAX_INK:
        reason = (f"a filled blob, not a stroke: ink covers {ink:.0%} of the input "
                  f"(a digit's stroke: under {MAX_INK:.0%})")
    elif aspect > MAX_ASPECT:
        reason = f"{aspect:.1f} times wider than tall: no digit is (a dash or a line?)"
    elif holes > MAX_HOLES:
        reason = f"{holes} closed loops: a digit has at most {MAX_HOLES} (an 8)"
    elif k == 8 and holes == 0:
        reason = "read as 8, but no stroke closes a loop: an 8 has two (an X has none)"
    else:
        reason = ""
    shape_ok = not reason
    if shape_ok and (top < MIN_P or margin < MIN_MARGIN or h_bits > MAX_ENTROPY):
        reason = (f"the network hesitates: {k} at {top:.0%}, {j} at {second:.0%}, "
                  f"entropy {h_bits:.2f} bits")
    return Judgement(not reason, shape_ok, k, j, top, second, margin, h_bits, ink, aspect, holes, reason)


def read_digits(net, images, batch: int = 250) -> list[tuple[DigitSteps, np.ndarray | None, Judgement | None]]:
    """Preprocess, read and judge each image: ``(steps, probabilities, judgement)``, the last two None without ink.

    ``net`` is a :class:`~playground.engine.nn.network.Network` with 28 x 28
    inputs and 10 outputs; images go through it ``batch`` at a time.
    """
    steps = [preprocess_digit_steps(image) for image in images]
    inked = [i for i, s in enumerate(steps) if not s.empty]
    probs: dict[int, np.ndarray] = {}
    shape = tuple(net.input_shape)
    for start in range(0, len(inked), batch):
        chunk = inked[start:start + batch]
        x = np.stack([steps[i].final for i in chunk]).astype(net.dtype).reshape((len(chunk),) + shape)
        for i, p in zip(chunk, net.predict(x)):
            probs[i] = p
    return [(s, probs.get(i), judge(s, probs[i]) if i in probs else None) for i, s in enumerate(steps)]
