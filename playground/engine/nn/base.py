"""Layers. One contract for all of them.

A layer is declared with what a user chooses (units, kernel, stride, ...).
``build(input_shape, rng, dtype)`` receives the per-sample input shape from the
previous layer, checks that it fits, creates parameters and returns the
output shape. Then:

- ``forward(x, training)`` returns the output and caches only what
  ``backward`` needs;
- ``backward(grad)`` returns the gradient with respect to the input as a new
  array (the incoming one is never modified) and leaves parameter gradients in
  ``self.grads`` under the same keys as ``self.params``.

Shapes are ``(N, features)`` for flat data and ``(N, C, H, W)`` for images.
``self.decay[key]`` is 1 for weights and 0 for biases and batch-norm
parameters: L1/L2 regularization and weight decay apply only where it is 1.
"""

from __future__ import annotations

import copy
import math
from typing import Any, ClassVar

import numpy as np

from playground.engine.checks import MAX_FEATURES, real_number, whole_number
from playground.engine.errors import ShapeError, SpecError


Shape = tuple[int, ...]


def int_option(cfg: dict, key: str, owner: str, minimum: int = 1, default: Any = None,
               maximum: int = MAX_FEATURES) -> int:
    """A whole-number setting in [minimum, maximum], its type and range checked before converting."""
    return whole_number(cfg.get(key, default), f"{owner}: '{key}'", minimum, maximum)


def float_option(cfg: dict, key: str, owner: str, default: float, lo: float = 0.0, hi: float = math.inf,
                 hi_open: bool = False) -> float:
    """A finite number setting in [lo, hi] (or [lo, hi) with ``hi_open``); strings are not numbers."""
    return real_number(cfg.get(key, default), f"{owner}: '{key}'", lo, hi, high_open=hi_open)


class Layer:
    """Base class: bookkeeping shared by all layers."""

    type_name: ClassVar[str] = "Layer"
    #: config keys a spec may set (besides type and name)
    options: ClassVar[tuple[str, ...]] = ()
    has_params: ClassVar[bool] = False

    def __init__(self, name: str | None = None, **cfg: Any):
        unknown = set(cfg) - set(self.options) - {"activation", "spec_index"}
        if unknown:
            raise SpecError(f"{self.type_name} has no setting {', '.join(sorted(unknown))}; "
                            f"its settings are: {', '.join(self.options) or 'none'}")
        self.name = name or self.type_name.lower()
        self.cfg = cfg
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.decay: dict[str, float] = {}
        self.state: dict[str, np.ndarray] = {}   # non-trainable (BN running stats)
        self.input_shape: Shape = ()
        self.output_shape: Shape = ()
        self.need_input_grad = True  # the first layer skips computing d/dx
        self.l1 = 0.0
        self.l2 = 0.0
        self.spec_index = cfg.get("spec_index")

    # -- building -------------------------------------------------------
    def build(self, input_shape: Shape, rng: np.random.Generator, dtype=np.float32,
              source: str = "input") -> Shape:
        self.input_shape = tuple(int(s) for s in input_shape)
        self.dtype = np.dtype(dtype)
        #: built for its shapes alone (``rng`` None): weights are placeholders that take no memory
        self.shapes_only = rng is None
        self.output_shape = self._build(self.input_shape, rng, source)
        return self.output_shape

    def _build(self, input_shape: Shape, rng: np.random.Generator, source: str) -> Shape:
        return input_shape

    def _add_param(self, key: str, value: np.ndarray, decay: float) -> None:
        self.params[key] = value
        self.grads[key] = value if self.shapes_only else np.zeros_like(value)
        self.decay[key] = decay

    def _shape_error(self, expected: str, source: str, fix: dict | None = None, hint: str = "") -> ShapeError:
        msg = (f"{self.type_name} '{self.name}' needs {expected}, got {self.input_shape} from '{source}'"
               + (f"; {hint}" if hint else ""))
        return ShapeError(msg, layer_index=self.spec_index, layer_name=self.name, fix=fix)

    def replicate(self) -> "Layer":
        """A twin for another shard of the batch: the same parameters (shared, not copied),
        gradients and per-batch buffers of its own."""
        twin = copy.copy(self)
        twin.grads = {k: np.zeros_like(v) for k, v in self.grads.items()}
        twin._forget_buffers()
        return twin

    def _forget_buffers(self) -> None:
        """Drop references to buffers a layer reuses from batch to batch (see :meth:`replicate`)."""

    # -- running ----------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # -- description -------------------------------------------------------
    def param_count(self) -> int:
        return int(sum(p.size for p in self.params.values()))

    def mult_adds(self) -> int:
        """Multiply-adds of one forward pass for one sample."""
        return 0

    def get_config(self) -> dict[str, Any]:
        cfg = {"type": self.type_name, "name": self.name}
        cfg.update({k: v for k, v in self.cfg.items() if k in self.options})
        return cfg
