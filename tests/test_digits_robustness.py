"""Drawn digits of any placement, size, stroke width and polarity read as well as MNIST's own.

Each t10k digit is rendered into a big canvas — large, off-centre, thick
(grey dilation), inverted (dark ink on white), and all at once — then put
through :func:`preprocess_digit`, the function the drawing pad and
``playground predict`` use. The model's accuracy on each rendering must stay
within 2 points of its accuracy on the plain t10k digits.

The model is the bundled one (``resources/models/digits.npz``), or the file
named by ``PLAYGROUND_DIGIT_MODEL``; the test is skipped without one.
``PLAYGROUND_ROBUSTNESS_N`` sets how many t10k digits are used (default 1000).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image

from playground.engine.data.mnist import load_mnist
from playground.engine.data.preprocess import preprocess_digit
from playground.engine.project import load_model

ROOT = Path(__file__).resolve().parents[1]
N = int(os.environ.get("PLAYGROUND_ROBUSTNESS_N", "1000"))
TOLERANCE = 0.02


def _mnist_dir() -> Path:
    env = os.environ.get("PLAYGROUND_MNIST_DIR")
    folder = Path(env) if env else ROOT.parent / "shared" / "data" / "mnist"
    if not folder.is_dir():
        pytest.skip(f"MNIST not found: set PLAYGROUND_MNIST_DIR or put it in {folder}")
    return folder


def _model_path() -> Path:
    env = os.environ.get("PLAYGROUND_DIGIT_MODEL")
    path = Path(env) if env else ROOT / "resources" / "models" / "digits.npz"
    if not path.is_file():
        pytest.skip(f"no digit model: {path} does not exist (build it with the command in "
                    f"resources/models/README.md, or set PLAYGROUND_DIGIT_MODEL)")
    return path


@pytest.fixture(scope="module")
def model():
    net, meta = load_model(_model_path())
    return net, meta


@pytest.fixture(scope="module")
def t10k():
    return load_mnist(_mnist_dir(), "test")


def dilate(image: np.ndarray, size: int) -> np.ndarray:
    """Grey dilation by a ``size`` x ``size`` square (a separable running maximum), same shape."""
    r = size // 2
    padded = np.pad(image, r)
    rows = sliding_window_view(padded, size, axis=1).max(axis=-1)
    return sliding_window_view(rows, size, axis=0).max(axis=-1)


def render(digit: np.ndarray, scale: float, canvas: tuple[int, int], at: tuple[float, float],
           thicken: int = 0, invert: bool = False) -> np.ndarray:
    """A 28 x 28 digit (white on black, [0, 1]) drawn ``scale`` times larger into a ``canvas`` (h, w).

    ``at``: where its top-left corner goes, as fractions of the free room
    (0 = top/left edge, 1 = bottom/right edge). ``thicken``: the size of a
    square grey dilation applied at the large scale (odd, in canvas pixels).
    ``invert``: dark ink on white paper. Returns uint8, as a pad canvas.
    """
    side = round(28 * scale)
    big = Image.fromarray(np.asarray(digit, np.float32)).resize((side, side), Image.Resampling.BICUBIC)
    big = np.clip(np.asarray(big), 0, 1)
    if thicken:
        big = dilate(big, thicken)
    h, w = canvas
    out = np.zeros((h, w), np.float32)
    y, x = round((h - side) * at[0]), round((w - side) * at[1])
    out[y:y + side, x:x + side] = big
    if invert:
        out = 1.0 - out
    return np.rint(out * 255).astype(np.uint8)


RENDERINGS = {
    "large": dict(scale=14.0, canvas=(420, 420), at=(0.5, 0.5)),
    "small off-centre": dict(scale=4.0, canvas=(360, 480), at=(0.05, 0.9)),
    "thick": dict(scale=8.0, canvas=(320, 320), at=(0.4, 0.6), thicken=9),
    "inverted": dict(scale=6.0, canvas=(300, 300), at=(0.5, 0.5), invert=True),
    "all at once": dict(scale=11.0, canvas=(400, 560), at=(0.9, 0.1), thicken=11, invert=True),
}


def _accuracy(net, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(net.predict(x.reshape((len(x),) + tuple(net.input_shape))).argmax(axis=1) == y))


@pytest.fixture(scope="module")
def plain_accuracy(model, t10k):
    net, _ = model
    x, y = t10k
    return _accuracy(net, x[:N], y[:N])


def test_bundled_model_reaches_993_on_t10k(model, t10k):
    if os.environ.get("PLAYGROUND_DIGIT_MODEL"):
        pytest.skip("a model other than the bundled one was given")
    net, _ = model
    x, y = t10k
    acc = _accuracy(net, x, y)
    assert acc >= 0.993, f"the bundled model reads {acc:.2%} of t10k, at least 99.30% is required"


@pytest.mark.parametrize("name", list(RENDERINGS))
def test_rendered_digits_read_as_well_as_plain_ones(name, model, t10k, plain_accuracy):
    net, _ = model
    x, y = t10k
    spec = RENDERINGS[name]
    finals = np.stack([preprocess_digit(render(x[i, 0], **spec)) for i in range(N)])
    acc = _accuracy(net, finals, y[:N])
    assert acc >= plain_accuracy - TOLERANCE, (
        f"{name}: {acc:.2%} of {N} t10k digits read correctly after rendering and preprocessing, "
        f"against {plain_accuracy:.2%} for the plain digits (at most {TOLERANCE:.0%} lower allowed)")
