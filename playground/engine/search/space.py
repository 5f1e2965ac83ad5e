"""The values a search tries: seeded draws per trial, and a project with one trial's values written in.

Trial ``i`` of a search with seed ``s`` draws from its own stream,
``SeedSequence(s, spawn_key=(i,))``, so its values depend on ``(s, i)``
alone: not on how many trials run, in what order, or where. The learning
rate and the weight decay are log-uniform, ``10 ** U(log10 low, log10 high)``
as in the book; batch size, dropout rate, initializer and optimizer are
optional choices, each picked with equal chance.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from playground.engine.errors import SpecError
from playground.engine.nn.initializers import normalize_init
from playground.engine.nn.layers import layer_class
from playground.engine.nn.optimizers import OPTIMIZERS

#: the book's ranges: learning rate 10^U(-6, -2), weight decay 10^U(-8, -4)
BOOK_LR = (1e-6, 1e-2)
BOOK_WEIGHT_DECAY = (1e-8, 1e-4)
#: the keys of a trial's values, in the order they are drawn
PARAM_KEYS = ("lr", "weight_decay", "optimizer", "batch_size", "dropout", "init")


@dataclass(frozen=True)
class SearchSpace:
    """Ranges (low, high) and optional choices; ``low == high`` holds a value fixed (weight decay may be 0 then)."""

    lr: tuple[float, float] = BOOK_LR
    weight_decay: tuple[float, float] = BOOK_WEIGHT_DECAY
    optimizer: tuple[str, ...] | None = None
    batch_size: tuple[int, ...] | None = None
    dropout: tuple[float, ...] | None = None
    init: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        _check_range("learning rate", self.lr, zero_ok=False)
        _check_range("weight decay", self.weight_decay, zero_ok=True)
        for name in ("optimizer", "batch_size", "dropout", "init"):
            values = getattr(self, name)
            if values is not None:
                object.__setattr__(self, name, _check_choices(name, values))

    def draw(self, seed: int, index: int) -> dict[str, Any]:
        """Trial ``index``'s values: ``lr`` and ``weight_decay`` always, the chosen ones when there are choices."""
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise SpecError(f"the search seed must be a whole number >= 0, got {seed!r}")
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or index < 0:
            raise SpecError(f"a trial number must be a whole number >= 0, got {index!r}")
        rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(int(index),)))
        out: dict[str, Any] = {"lr": _log_uniform(rng, self.lr),
                               "weight_decay": _log_uniform(rng, self.weight_decay)}
        for name in PARAM_KEYS[2:]:
            values = getattr(self, name)
            if values is not None:
                out[name] = values[int(rng.integers(len(values)))]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"lr": list(self.lr), "weight_decay": list(self.weight_decay),
                **{k: list(getattr(self, k)) for k in PARAM_KEYS[2:] if getattr(self, k) is not None}}


def _log_uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    low, high = bounds
    if low == high:
        return float(low)
    return float(10.0 ** rng.uniform(math.log10(low), math.log10(high)))


def _check_range(what: str, bounds: Any, zero_ok: bool) -> None:
    try:
        low, high = (float(v) for v in bounds)
    except (TypeError, ValueError):
        raise SpecError(f"the {what} range must be two numbers LOW HIGH, got {bounds!r}") from None
    fixed_zero = zero_ok and low == high == 0
    if not (math.isfinite(low) and math.isfinite(high) and low <= high and (low > 0 or fixed_zero)):
        zero = " (or 0 0 for none)" if zero_ok else ""
        raise SpecError(f"the {what} range must be 0 < LOW <= HIGH{zero}, got {low:g} {high:g}; "
                        f"it is drawn log-uniformly, e.g. {BOOK_LR[0]:g} {BOOK_LR[1]:g}")


def _check_choices(name: str, values: Sequence[Any]) -> tuple[Any, ...]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise SpecError(f"the {name} choices must be a non-empty list, got {values!r}")
    out = []
    for v in values:
        if name == "optimizer":
            if not isinstance(v, str) or v.lower() not in OPTIMIZERS:
                raise SpecError(f"unknown optimizer {v!r} among the choices; known: {', '.join(OPTIMIZERS)}")
            v = v.lower()
        elif name == "batch_size":
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise SpecError(f"a batch size choice must be a whole number >= 1, got {v!r}")
            v = int(v)
        elif name == "dropout":
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v < 1:
                raise SpecError(f"a dropout rate choice must be a number in [0, 1), got {v!r}")
            v = float(v)
        else:
            if not isinstance(v, str):
                raise SpecError(f"an initializer choice must be a name such as he_normal, got {v!r}")
            v = normalize_init(v)["type"]  # raises with the known names
        out.append(v)
    return tuple(out)


def check_fits(space: SearchSpace, project: Mapping[str, Any]) -> None:
    """Raise SpecError when a choice has nothing to act on in ``project`` (dropout without a Dropout layer...)."""
    layers = project["network"]["layers"]
    if space.dropout is not None and not any(layer_class(l["type"]).type_name == "Dropout" for l in layers):
        raise SpecError("dropout rates to choose from, but the network has no Dropout layer; add one or "
                        "leave the dropout choices out")
    if space.init is not None and not any("init" in layer_class(l["type"]).options for l in layers):
        raise SpecError("initializers to choose from, but the network has no Dense or Conv2D layer")


def apply_params(project: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``project`` with one trial's values written in: the optimizer and its learning rate, weight
    decay, batch size, every Dropout layer's rate, every Dense and Conv2D layer's initializer."""
    out = copy.deepcopy(dict(project))
    training = out.setdefault("training", {})
    optimizer = training.get("optimizer") or {"type": "sgd"}
    if isinstance(optimizer, str):
        optimizer = {"type": optimizer}
    if "optimizer" in params and params["optimizer"] != str(optimizer.get("type", "")).lower():
        optimizer = {"type": params["optimizer"]}  # another type's settings (momentum, betas) may not fit
    training["optimizer"] = {**optimizer, "lr": float(params["lr"])}
    training["weight_decay"] = float(params["weight_decay"])
    if "batch_size" in params:
        training["batch_size"] = int(params["batch_size"])
    for layer in out["network"]["layers"]:
        cls = layer_class(layer["type"])
        if "dropout" in params and cls.type_name == "Dropout":
            layer["rate"] = float(params["dropout"])
        if "init" in params and "init" in cls.options:
            layer["init"] = params["init"]
    return out
