"""Data sets by name: generated 2-D classification and 1-D regression sets, and MNIST.

Every generator takes ``n_samples``, ``noise`` and ``seed`` (an int or a
``numpy.random.Generator``) and returns ``(x, y)``: ``x`` float32; ``y`` int64
class indices of shape ``(N,)`` for classification, float32 targets of shape
``(N, 1)`` for regression. The same seed gives the same arrays, bit for bit.
Classification sets have (nearly) equal class counts and come shuffled.

:func:`make_dataset` builds a :class:`Dataset` with a train/validation split
from a spec such as ``{"name": "spiral", "n_samples": 600, "noise": 0.1,
"val_split": 0.2, "seed": 0}``; :data:`DATASETS` gives each name's default
parameters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from playground.engine.checks import brief, real_number, text, whole_number
from playground.engine.errors import DataError, SpecError
from playground.engine.data.features import check_features, feature_matrix
from playground.engine.data.mnist import IMAGE_SIZE, N_CLASSES, load_mnist
from playground.engine.data.sequences import ALPHABET, adding, counting_text, sine_wave

Seed = int | np.random.Generator | None

#: the longest sequence a sequence set may have (backpropagation through time keeps every step)
MAX_STEPS = 1000

#: per-sample input shape and class count of the data sets that are not generated
FIXED_SHAPES: dict[str, tuple[tuple[int, ...], int]] = {"mnist": ((1, 28, 28), 10), "imagenet": ((3, 227, 227), 1000)}

CLASSIFICATION = "classification"
REGRESSION = "regression"
#: the most samples a generated set may have (a million 2-D points are 8 MB)
MAX_SAMPLES = 1_000_000
#: the most classes (spiral arms) a generated set may have
MAX_CLASSES = 100
#: the sets of 2-D points, which may take a "features" key (see :mod:`~playground.engine.data.features`)
PLANE_SETS = ("circle", "xor", "gaussians", "spiral", "moons")


# ---------------------------------------------------------------- generators

def _rng(seed: Seed) -> np.random.Generator:
    return np.random.default_rng(seed)


def _class_sizes(n_samples: int, n_classes: int) -> list[int]:
    base, extra = divmod(n_samples, n_classes)
    return [base + (k < extra) for k in range(n_classes)]


def _finish(rng: np.random.Generator, points: list[np.ndarray], noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Stack per-class clean points, add Gaussian noise of std ``noise``, shuffle."""
    x = np.concatenate(points)
    y = np.concatenate([np.full(len(p), k, dtype=np.int64) for k, p in enumerate(points)])
    x = x + noise * rng.standard_normal(x.shape)
    order = rng.permutation(len(x))
    return x[order].astype(np.float32), y[order]


def circle(n_samples: int = 400, noise: float = 0.05, seed: Seed = 0) -> tuple[np.ndarray, np.ndarray]:
    """Class 0: a ring of radius 0.7..1; class 1: a disc of radius 0..0.5 inside it."""
    rng = _rng(seed)
    n_ring, n_disc = _class_sizes(n_samples, 2)

    def annulus(n: int, r0: float, r1: float) -> np.ndarray:
        r = np.sqrt(rng.uniform(r0 * r0, r1 * r1, n))  # uniform over the area
        t = rng.uniform(0, 2 * np.pi, n)
        return np.stack([r * np.cos(t), r * np.sin(t)], axis=1)

    return _finish(rng, [annulus(n_ring, 0.7, 1.0), annulus(n_disc, 0.0, 0.5)], noise)


def xor(n_samples: int = 400, noise: float = 0.05, seed: Seed = 0) -> tuple[np.ndarray, np.ndarray]:
    """Points in [-1, 1]^2 (kept 0.05 off the axes); class 1 where x1 * x2 < 0."""
    rng = _rng(seed)
    n0, n1 = _class_sizes(n_samples, 2)

    def quadrants(n: int, same_sign: bool) -> np.ndarray:
        mag = rng.uniform(0.05, 1.0, (n, 2))
        s1 = rng.choice([-1.0, 1.0], n)
        s2 = s1 if same_sign else -s1
        return mag * np.stack([s1, s2], axis=1)

    return _finish(rng, [quadrants(n0, True), quadrants(n1, False)], noise)


def gaussians(n_samples: int = 400, noise: float = 0.1, seed: Seed = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two round Gaussian blobs of std 0.25 centred at (-0.5, -0.5) and (0.5, 0.5)."""
    rng = _rng(seed)
    n0, n1 = _class_sizes(n_samples, 2)
    blobs = [centre + 0.25 * rng.standard_normal((n, 2))
             for centre, n in ((np.array([-0.5, -0.5]), n0), (np.array([0.5, 0.5]), n1))]
    return _finish(rng, blobs, noise)


def spiral(n_samples: int = 600, noise: float = 0.1, seed: Seed = 0,
           n_classes: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """``n_classes`` interleaved arms of 1 3/4 turns each, from the centre out to radius 1.

    The noise shrinks towards the centre (std ``noise * r``) where the arms
    crowd together, so the classes stay separable: with the default noise
    0.1, a small MLP (2-16-16-2, tanh, Adam) fits the 2-arm training set to
    over 98% in a few hundred full-batch steps, while a linear model cannot.
    """
    rng = _rng(seed)
    turns = 1.75
    arms = []
    for k, n in enumerate(_class_sizes(n_samples, n_classes)):
        r = np.sqrt(rng.uniform(0.0025, 1.0, n))  # even density along the arm's length
        t = 2 * np.pi * (turns * r + k / n_classes)
        clean = np.stack([r * np.cos(t), r * np.sin(t)], axis=1)
        arms.append(clean + (noise * r)[:, None] * rng.standard_normal((n, 2)))
    return _finish(rng, arms, 0.0)


def moons(n_samples: int = 400, noise: float = 0.1, seed: Seed = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles of radius 1, centred on the origin."""
    rng = _rng(seed)
    n0, n1 = _class_sizes(n_samples, 2)
    t0 = rng.uniform(0, np.pi, n0)
    t1 = rng.uniform(0, np.pi, n1)
    upper = np.stack([np.cos(t0) - 0.5, np.sin(t0) - 0.25], axis=1)
    lower = np.stack([0.5 - np.cos(t1), 0.25 - np.sin(t1)], axis=1)
    return _finish(rng, [upper, lower], noise)


def _regression(fn: Callable[[np.ndarray], np.ndarray], low: float, high: float):
    def make(n_samples: int = 200, noise: float = 0.1, seed: Seed = 0) -> tuple[np.ndarray, np.ndarray]:
        rng = _rng(seed)
        x = rng.uniform(low, high, (n_samples, 1))
        y = fn(x) + noise * rng.standard_normal((n_samples, 1))
        return x.astype(np.float32), y.astype(np.float32)

    return make


def sin(n_samples: int = 200, noise: float = 0.1, seed: Seed = 0, x_min: float = -math.pi,
        x_max: float = math.pi, grid: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """y = sin(x) + noise, x uniform in [x_min, x_max) (default [-pi, pi)); with ``grid``, the
    evenly spaced x_min + k (x_max - x_min) / n_samples instead, in random order."""
    rng = _rng(seed)
    if grid:
        x = (x_min + (x_max - x_min) / n_samples * rng.permutation(n_samples))[:, None]
    else:
        x = rng.uniform(x_min, x_max, (n_samples, 1))
    y = np.sin(x) + noise * rng.standard_normal((n_samples, 1))
    return x.astype(np.float32), y.astype(np.float32)

xsin = _regression(lambda x: x * np.sin(x), -2 * np.pi, 2 * np.pi)
xsin.__name__ = "xsin"
xsin.__doc__ = "y = x sin(x) + noise, x uniform in [-2 pi, 2 pi]."

step = _regression(lambda x: np.where(x < 0, -1.0, 1.0), -2.0, 2.0)
step.__name__ = "step"
step.__doc__ = "y = -1 for x < 0, else 1, plus noise; x uniform in [-2, 2]."


# ---------------------------------------------------------------- registry

@dataclass(frozen=True)
class _Entry:
    kind: str
    make: Callable[..., tuple[np.ndarray, np.ndarray]] | None
    defaults: dict[str, Any]
    description: str
    class_names: tuple[str, ...] = ()


def _generated(n_samples: int, noise: float, **extra: Any) -> dict[str, Any]:
    return {"n_samples": n_samples, "noise": noise, "val_split": 0.2, "seed": 0, **extra}


_REGISTRY: dict[str, _Entry] = {
    "circle": _Entry(CLASSIFICATION, circle, _generated(400, 0.05),
                     "a disc inside a ring", ("ring", "disc")),
    "xor": _Entry(CLASSIFICATION, xor, _generated(400, 0.05),
                  "the four quadrants, opposite ones alike", ("same sign", "opposite sign")),
    "gaussians": _Entry(CLASSIFICATION, gaussians, _generated(400, 0.1),
                        "two Gaussian blobs", ("blob A", "blob B")),
    "spiral": _Entry(CLASSIFICATION, spiral, _generated(600, 0.1, n_classes=2),
                     "interleaved spiral arms"),
    "moons": _Entry(CLASSIFICATION, moons, _generated(400, 0.1),
                    "two interleaved half moons", ("upper moon", "lower moon")),
    "sin": _Entry(REGRESSION, sin, _generated(200, 0.1, x_min=-math.pi, x_max=math.pi, grid=False), "y = sin x"),
    "xsin": _Entry(REGRESSION, xsin, _generated(200, 0.1), "y = x sin x"),
    "step": _Entry(REGRESSION, step, _generated(200, 0.1), "a step from -1 to 1 at x = 0"),
    "sine-wave": _Entry(REGRESSION, sine_wave, _generated(1000, 0.05, steps=20),
                        "windows of a noisy sine wave; predict its next value (a sequence set)"),
    "adding": _Entry(REGRESSION, adding, _generated(4000, 0.0, steps=50),
                     "the adding problem: sum the two marked numbers of a long sequence (a sequence set)"),
    "counting-text": _Entry(CLASSIFICATION, counting_text, _generated(2000, 0.0, steps=12),
                            "counting in words, one character at a time; predict the next character "
                            "(a sequence set)", tuple("␣" if c == " " else c for c in ALPHABET)),
    "imagenet": _Entry(CLASSIFICATION, None, {},
                       "ImageNet's shape only (3 x 227 x 227 colour images, 1,000 classes): the images are not "
                       "included, so a network on it can be looked at but not trained here"),
    "mnist": _Entry(CLASSIFICATION, None, {"data_dir": None, "limit": None, "val_limit": None},
                    "handwritten digits 0-9, 28 x 28 (validation: the t10k files)",
                    tuple(str(d) for d in range(N_CLASSES))),
}

#: name -> default parameters (everything a spec may hold besides "name").
#: Copy before editing, or use :func:`default_spec`.
DATASETS: dict[str, dict[str, Any]] = {name: entry.defaults for name, entry in _REGISTRY.items()}

#: name -> "classification" or "regression"
DATASET_KINDS: dict[str, str] = {name: entry.kind for name, entry in _REGISTRY.items()}

#: name -> a short description, for menus and tooltips
DATASET_DESCRIPTIONS: dict[str, str] = {name: entry.description for name, entry in _REGISTRY.items()}


def default_spec(name: str) -> dict[str, Any]:
    """A fresh spec ``{"name": name, **defaults}`` for :func:`make_dataset`."""
    return {"name": name, **dict(_entry(name).defaults)}


def _entry(name: Any) -> _Entry:
    if not isinstance(name, str) or name not in _REGISTRY:
        raise SpecError(f"unknown data set {brief(name)}; known: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


# ---------------------------------------------------------------- Dataset

@dataclass(frozen=True, eq=False)
class Dataset:
    """Training and validation arrays plus what a network needs to know about them.

    ``x_*`` float32 of shape ``(N, *input_shape)``; ``y_*`` int64 ``(N,)``
    class indices (classification) or float32 ``(N, 1)`` targets
    (regression). ``n_classes`` is None for regression.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    kind: str
    n_classes: int | None
    input_shape: tuple[int, ...]
    name: str
    class_names: tuple[str, ...] = ()
    #: the full spec this was made from, defaults filled in
    spec: dict[str, Any] = field(default_factory=dict)
    #: a 2-D set's input features when its spec names them (then ``x_*`` hold those columns)
    features: tuple[str, ...] = ()
    #: the (N, 2) points the features were computed from, when ``features`` is not empty
    points_train: np.ndarray | None = None
    points_val: np.ndarray | None = None

    @property
    def plane(self) -> bool:
        """True for 2-D points, plain or as features: a decision boundary can be drawn over them."""
        return tuple(self.input_shape) == (2,) and not self.features or bool(self.features)

    def points(self, split: str = "train") -> np.ndarray:
        """The 2-D points of ``split`` ("train" or "val") before any features: what a plot shows."""
        own = self.points_train if split == "train" else self.points_val
        if own is not None:
            return own
        return self.x_train if split == "train" else self.x_val

    @property
    def n_outputs(self) -> int:
        """Width of the network's last layer: classes, or target columns."""
        return self.n_classes if self.n_classes is not None else int(self.y_train.shape[1])

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}, {self.kind}, train={len(self.x_train)}, val={len(self.x_val)}, "
                f"input_shape={self.input_shape}, n_classes={self.n_classes})")


def _int_param(spec: dict, key: str, name: str, minimum: int, maximum: int) -> int:
    return whole_number(spec[key], f"data set {name!r}: {key}", minimum, maximum)


def _optional_int(spec: dict, key: str, name: str, minimum: int, maximum: int) -> int | None:
    return None if spec[key] is None else _int_param(spec, key, name, minimum, maximum)


def _float_param(spec: dict, key: str, name: str, low: float, high: float | None) -> float:
    return real_number(spec[key], f"data set {name!r}: {key}", low, math.inf if high is None else high,
                       high_open=high is not None)


def check_dataset_spec(spec: Any) -> dict[str, Any]:
    """The full spec (defaults filled in) with every parameter's type and range checked, nothing generated
    or read; raises :class:`SpecError` for an unknown name, an unknown key or a bad value."""
    if not isinstance(spec, dict):
        raise SpecError(f"a data set spec must be a JSON object with a 'name', got {brief(spec)}")
    if "name" not in spec:
        raise SpecError(f"a data set spec needs a 'name' (one of {', '.join(sorted(_REGISTRY))}), "
                        f"got keys {brief(sorted(map(str, spec)))}")
    name = spec["name"]
    entry = _entry(name)
    unknown = sorted(set(spec) - set(entry.defaults) - {"name"} - ({"features"} if name in PLANE_SETS else set()))
    if unknown:
        raise SpecError(f"data set {name!r} does not take {', '.join(brief(k) for k in unknown[:5])}; "
                        f"its parameters are {', '.join(sorted(entry.defaults))}")
    full = {"name": name, **entry.defaults, **spec}
    if name == "imagenet":
        return full
    if name == "mnist":
        _optional_int(full, "limit", name, 1, MAX_SAMPLES)
        _optional_int(full, "val_limit", name, 1, MAX_SAMPLES)
        if full["data_dir"] is not None:
            text(full["data_dir"], "data set 'mnist': data_dir (a folder, or null for the default)", 4096)
        return full
    if "features" in full:
        full["features"] = list(check_features(full["features"], f"data set {name!r}"))
    n = _int_param(full, "n_samples", name, 2, MAX_SAMPLES)
    _float_param(full, "noise", name, 0.0, None)
    _float_param(full, "val_split", name, 0.0, 1.0)
    if full["seed"] is not None:
        whole_number(full["seed"], f"data set {name!r}: seed", 0, 2 ** 63 - 1, or_none=True)
    if "n_classes" in entry.defaults:
        _int_param(full, "n_classes", name, 2, min(MAX_CLASSES, n))
    if "x_min" in entry.defaults:
        _x_range(full, name)
    if "steps" in entry.defaults:
        steps = _int_param(full, "steps", name, 2, MAX_STEPS)
        if n * steps > MAX_SAMPLES * 10:
            raise SpecError(f"data set {name!r}: {n:,} sequences of {steps:,} steps are {n * steps:,} time steps; "
                            f"at most {MAX_SAMPLES * 10:,} fit: use fewer samples or shorter sequences")
    return full


def make_dataset(spec: dict[str, Any]) -> Dataset:
    """Build the data set a spec names, e.g. ``{"name": "moons", "noise": 0.2}``.

    Missing parameters take their :data:`DATASETS` defaults. Generated sets
    are split at random (from ``seed``) into ``1 - val_split`` training and
    ``val_split`` validation samples. For ``"mnist"`` the training set is the
    train files and validation the t10k files; ``data_dir`` (default: see
    :func:`~playground.engine.data.mnist.find_mnist_dir`), ``limit`` and
    ``val_limit`` (keep the first N of each) are its parameters.
    Raises :class:`SpecError` for an unknown name, an unknown key or a bad value
    (see :func:`check_dataset_spec`).
    """
    full = check_dataset_spec(spec)
    name = full["name"]
    entry = _entry(name)
    if name == "mnist":
        return _make_mnist(full)
    if name == "imagenet":
        raise DataError("ImageNet is not included: its 1.2 million training images take about 150 GB, and "
                        "training AlexNet on them took days on two GPUs. Networks on 'imagenet' are here to look "
                        "at (shapes, parameters, multiply-adds); to train, choose MNIST or a generated data set")

    n = int(full["n_samples"])
    noise = float(full["noise"])
    val_split = float(full["val_split"])
    seed = None if full["seed"] is None else int(full["seed"])
    extra = {"n_classes": int(full["n_classes"])} if "n_classes" in entry.defaults else {}
    if "steps" in entry.defaults:
        extra["steps"] = int(full["steps"])
    if "x_min" in entry.defaults:
        extra.update(_x_range(full, name))

    rng = np.random.default_rng(seed)
    x, y = entry.make(n_samples=n, noise=noise, seed=rng, **extra)
    # The generators return i.i.d. samples in random order: the tail is a random validation set.
    n_val = min(n - 1, max(1, round(n * val_split))) if val_split > 0 else 0
    train, val = slice(0, n - n_val), slice(n - n_val, n)
    n_classes = (len(entry.class_names) if entry.class_names and "n_classes" not in extra
                 else extra.get("n_classes", 2)) if entry.kind == CLASSIFICATION else None
    class_names = entry.class_names or (tuple(f"arm {k + 1}" for k in range(n_classes)) if n_classes else ())
    if "features" in full:
        names = tuple(full["features"])
        fx = feature_matrix(x, names)
        return Dataset(fx[train], y[train], fx[val], y[val], kind=entry.kind, n_classes=n_classes,
                       input_shape=fx.shape[1:], name=name, class_names=class_names, spec=full,
                       features=names, points_train=x[train], points_val=x[val])
    return Dataset(x[train], y[train], x[val], y[val], kind=entry.kind, n_classes=n_classes,
                   input_shape=x.shape[1:], name=name, class_names=class_names, spec=full)


def _x_range(spec: dict, name: str) -> dict[str, Any]:
    lo = real_number(spec["x_min"], f"data set {name!r}: x_min", -1e6, 1e6)
    hi = real_number(spec["x_max"], f"data set {name!r}: x_max", -1e6, 1e6)
    if not hi > lo:
        raise SpecError(f"data set {name!r}: x_max must be greater than x_min, got x_min {lo:g} and x_max {hi:g}; "
                        f"swap them or widen the range")
    if not isinstance(spec["grid"], bool):
        raise SpecError(f"data set {name!r}: grid must be true or false, got {spec['grid']!r}")
    return {"x_min": lo, "x_max": hi, "grid": spec["grid"]}


def _make_mnist(spec: dict[str, Any]) -> Dataset:
    limit = _optional_int(spec, "limit", "mnist", 1, MAX_SAMPLES)
    val_limit = _optional_int(spec, "val_limit", "mnist", 1, MAX_SAMPLES)
    folder = spec["data_dir"] or None
    x_train, y_train = load_mnist(folder, "train", limit=limit)
    x_val, y_val = load_mnist(folder, "test", limit=val_limit)
    return Dataset(x_train, y_train, x_val, y_val, kind=CLASSIFICATION, n_classes=N_CLASSES,
                   input_shape=(1, IMAGE_SIZE, IMAGE_SIZE), name="mnist",
                   class_names=_REGISTRY["mnist"].class_names, spec=spec)


def input_shape_of(spec: dict[str, Any]) -> tuple[int, ...]:
    """The per-sample input shape of the data set ``spec`` names, without loading MNIST (a generated set is
    made with 8 samples: a sequence set's shape depends on its ``steps``)."""
    full = check_dataset_spec(spec)
    name = full["name"]
    if name in FIXED_SHAPES:
        return FIXED_SHAPES[name][0]
    return tuple(make_dataset({**full, "n_samples": 8, "val_split": 0.0}).input_shape)
