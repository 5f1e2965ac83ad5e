"""Weight initializers. Each takes the weight shape, fan-in, fan-out and a Generator.

- normal:       W ~ N(0, std²), the book's std = 0.01 (0 < std <= 10)
- xavier / glorot: Var(W) = 2 / (fan_in + fan_out)   (normal or uniform)
- he / kaiming:  Var(W) = 2 / fan_in                  (normal or uniform), for ReLU
- lecun:         Var(W) = 1 / fan_in                  (normal or uniform), for SELU/tanh;
                 what "Deep Learning from Scratch" calls Xavier (std 1/√n) is lecun_normal

A uniform draw on [−a, a] has variance a²/3, so a = √(3·Var).
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from playground.engine.checks import MAX_PARAMS, brief, real_number
from playground.engine.errors import SpecError

_VARIANCE = {
    "xavier": lambda fi, fo: 2.0 / (fi + fo),
    "he": lambda fi, fo: 2.0 / fi,
    "lecun": lambda fi, fo: 1.0 / fi,
}

INITIALIZERS = ("normal", "xavier_normal", "xavier_uniform", "he_normal", "he_uniform",
                "lecun_normal", "lecun_uniform", "zeros")

ALIASES = {"glorot_normal": "xavier_normal", "glorot_uniform": "xavier_uniform",
           "kaiming_normal": "he_normal", "kaiming_uniform": "he_uniform",
           "xavier": "xavier_normal", "glorot": "xavier_normal", "he": "he_normal",
           "lecun": "lecun_normal"}

#: the largest std the normal initializer takes: ten times the book's largest (std 1, ch. 6.2), where the
#: activations of a few layers already pile up at their limits or explode
MAX_NORMAL_STD = 10.0
#: the normal initializer's std when a spec gives none (the book's 0.01)
DEFAULT_NORMAL_STD = 0.01

#: the default initializer for each activation when the spec says "auto"
AUTO_FOR_ACTIVATION = {"relu": "he_normal", "leaky_relu": "he_normal", "elu": "he_normal",
                       "sigmoid": "xavier_normal", "tanh": "xavier_normal"}


def normalize_init(spec: str | Mapping[str, Any] | None) -> dict[str, Any]:
    """Return ``{"type": name, ...}`` for a name or dict; raise SpecError if unknown."""
    if spec is None:
        spec = "auto"
    if isinstance(spec, str):
        spec = {"type": spec}
    if not isinstance(spec, Mapping):
        raise SpecError(f"an initializer must be a name or a dict, got {brief(spec)}")
    cfg = dict(spec)
    name = str(cfg.get("type", "auto")).lower()
    name = ALIASES.get(name, name)
    if name != "auto" and name not in INITIALIZERS:
        raise SpecError(f"unknown initializer {brief(name)}; known: auto, {', '.join(INITIALIZERS)}")
    cfg["type"] = name
    if name == "normal":
        std = real_number(cfg.get("std", DEFAULT_NORMAL_STD), "initializer 'normal': std", 0.0, MAX_NORMAL_STD,
                          low_open=True)
        cfg["std"] = std
    return cfg


def placeholder(shape: tuple[int, ...], dtype=np.float32) -> np.ndarray:
    """A read-only array of ``shape`` that takes no memory (one zero, broadcast): a weight's stand-in when a
    network is built for its shapes, parameter counts and multiply-adds only."""
    return np.broadcast_to(np.zeros((), dtype=dtype), shape)


def initialize(spec: str | Mapping[str, Any] | None, shape: tuple[int, ...], fan_in: int, fan_out: int,
               rng: np.random.Generator, dtype=np.float32, activation: str | None = None) -> np.ndarray:
    """Draw a weight array of ``shape`` with the chosen initializer (``rng`` None: a :func:`placeholder`)."""
    cfg = normalize_init(spec)
    count = math.prod(int(s) for s in shape)  # Python ints: never overflows, checked before allocating
    if count > MAX_PARAMS:
        raise SpecError(f"a weight of shape {' × '.join(map(str, shape))} would hold {count:,} numbers "
                        f"({4 * count / 1e9:,.1f} GB); a network may have at most {MAX_PARAMS:,}: "
                        f"use fewer units or filters")
    if rng is None:
        return placeholder(shape, dtype)
    name = cfg["type"]
    if name == "auto":
        name = AUTO_FOR_ACTIVATION.get(activation or "", "xavier_normal")
    if name == "zeros":
        return np.zeros(shape, dtype=dtype)
    if name == "normal":
        return (rng.standard_normal(shape) * cfg["std"]).astype(dtype)
    family, dist = name.split("_")
    var = _VARIANCE[family](fan_in, fan_out)
    if dist == "normal":
        w = rng.standard_normal(shape) * math.sqrt(var)
    else:
        a = math.sqrt(3.0 * var)
        w = rng.uniform(-a, a, size=shape)
    return w.astype(dtype)
