"""A trained network read into a list of plain steps that every export format translates.

Each :class:`Step` is one of our layers at inference: its kind, its name,
its arrays (in our layouts: Dense ``W`` is (in, units), Conv2D ``W`` is
(filters, C, kh, kw)) and its settings. Reading the whole network first means
a layer no format can translate is reported, by name, before any file is
written, and every format makes ``probabilities`` the same way:

- a network that ends in Softmax or Sigmoid outputs what that layer gives;
- otherwise the loss's output function is applied to the last layer
  (softmax for softmax cross-entropy, sigmoid for sigmoid binary
  cross-entropy), and a mean-squared-error network's outputs are given as
  they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from playground.engine.errors import ExportError
from playground.engine.nn.activations import ELU, Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Step as StepLayer, Tanh
from playground.engine.nn.base import Layer
from playground.engine.nn.conv import AvgPool2D, Conv2D, MaxPool2D
from playground.engine.nn.dense import Dense, Flatten
from playground.engine.nn.network import Network
from playground.engine.nn.normalization import BatchNorm, Dropout
from playground.engine.nn.recurrent import GRU, LSTM, SimpleRNN, TimeDistributed

#: Dropout variants: how each scales at inference ("inverted" scales while training instead)
DROPOUT_VARIANTS = ("inverted", "book")
#: our recurrent layers and their kinds; their gates side by side in the columns of Wx, Wh and b in our order:
#: SimpleRNN one block, LSTM i, f, g, o, GRU z, r, n (each format reorders them as it needs)
RECURRENT_KINDS = {SimpleRNN: "rnn", LSTM: "lstm", GRU: "gru"}
_ACTIVATIONS = {ReLU: "relu", Sigmoid: "sigmoid", Tanh: "tanh", StepLayer: "step", Identity: "identity",
                Softmax: "softmax"}


@dataclass
class Step:
    """One layer at inference: our layer's ``name`` and ``type_name``, its arrays under our keys, its
    per-sample input and output shapes, its ``kind`` and the settings that kind carries:

    dense (arrays W and maybe b), conv (W, b; stride, pad), maxpool and avgpool (pool, stride, pad),
    flatten, batchnorm (gamma, beta, running_mean, running_var; eps, momentum), dropout (rate, and
    scale: what it multiplies by at inference), relu, leaky_relu and elu (alpha), sigmoid, tanh, step,
    identity, softmax (over the last axis); rnn, lstm and gru (Wx (F, k·H), Wh (H, k·H), b (k·H,); units,
    return_sequences: every step's state (T, H) or the last one (H,)), time_dense (W, maybe b: dense on
    the last axis of (T, F), at every time step).
    """

    kind: str
    name: str
    type_name: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass
class Plan:
    """A network ready to export: its steps, how ``probabilities`` is made from the last one
    (``"softmax"``, ``"sigmoid"`` or None for as it is), and what the files say about it."""

    steps: list[Step]
    output: str | None
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    dtype: np.dtype
    loss: str
    title: str

    def parameter_count(self) -> int:
        return sum(a.size for s in self.steps for a in s.arrays.values())

    def describe_output(self) -> str:
        """One sentence saying how ``probabilities`` is made."""
        last = self.steps[-1]
        if self.output is None and last.kind in ("softmax", "sigmoid"):
            return f"probabilities: the output of the last layer, {last.name} ({last.type_name})."
        if self.output is None:
            return (f"probabilities: the output of the last layer, {last.name} ({last.type_name}), as it is "
                    f"(trained with the {self.loss} loss).")
        return (f"probabilities: {self.output} of the last layer's output ({last.name}, {last.type_name}), as "
                f"the {self.loss} loss it was trained with applies it.")


def plan_network(net: Network, title: str = "") -> Plan:
    """Read ``net`` into a :class:`Plan`; raise :class:`ExportError` naming the first layer that
    cannot be exported."""
    steps = [_step(layer) for layer in net.layers]
    last = net.layers[-1]
    if isinstance(last, (Softmax, Sigmoid)):
        output = None
    else:
        output = {"Softmax": "softmax", "Sigmoid": "sigmoid"}.get(net.loss.fused_output or "")
    dtype = np.dtype(net.dtype)
    return Plan(steps, output, tuple(net.input_shape), tuple(net.output_shape), dtype, net.loss.name,
                title or str(net.spec.get("name") or "network"))


def _step(layer: Layer) -> Step:
    shapes = (tuple(layer.input_shape), tuple(layer.output_shape))
    kind, arrays, settings = _translate(layer)
    return Step(kind, layer.name, layer.type_name, *shapes,
                arrays={k: np.array(v, copy=True) for k, v in arrays.items()}, settings=settings)


def _translate(layer: Layer) -> tuple[str, dict[str, np.ndarray], dict[str, Any]]:
    cls = type(layer)
    if cls is Dense:
        return "dense", dict(layer.params), {}
    if cls is TimeDistributed:
        return "time_dense", dict(layer.params), {}
    if cls in RECURRENT_KINDS:
        return RECURRENT_KINDS[cls], dict(layer.params), {"units": layer.units,
                                                          "return_sequences": layer.return_sequences}
    if cls is Conv2D:
        return "conv", dict(layer.params), {"stride": layer.stride, "pad": layer.pad}
    if cls in (MaxPool2D, AvgPool2D):
        kind = "maxpool" if cls is MaxPool2D else "avgpool"
        return kind, {}, {"pool": layer.pool, "stride": layer.stride, "pad": layer.pad}
    if cls is Flatten:
        return "flatten", {}, {}
    if cls is BatchNorm:
        arrays = {"gamma": layer.params["gamma"], "beta": layer.params["beta"],
                  "running_mean": layer.state["running_mean"], "running_var": layer.state["running_var"]}
        return "batchnorm", arrays, {"eps": layer.eps, "momentum": layer.momentum}
    if cls is Dropout:
        return "dropout", {}, {"rate": layer.rate, "scale": _dropout_scale(layer)}
    if cls in (LeakyReLU, ELU):
        return ("leaky_relu" if cls is LeakyReLU else "elu"), {}, {"alpha": layer.alpha}
    if cls in _ACTIVATIONS:
        return _ACTIVATIONS[cls], {}, {}
    raise ExportError(f"cannot export layer '{layer.name}' ({layer.type_name}): the exporters do not know "
                      f"this kind of layer; remove it or replace it with one of "
                      f"Dense, Conv2D, MaxPool2D, AvgPool2D, Flatten, BatchNorm, Dropout, SimpleRNN, LSTM, GRU, "
                      f"TimeDistributed or an activation")


def _dropout_scale(layer: Dropout) -> float:
    """What Dropout multiplies by at inference: 1 for inverted dropout, 1 − rate for the book's."""
    variant = getattr(layer, "variant", None) or layer.cfg.get("variant") or "inverted"
    if variant not in DROPOUT_VARIANTS:
        raise ExportError(f"cannot export layer '{layer.name}' (Dropout): its variant {variant!r} is not one the "
                          f"exporters know ({', '.join(DROPOUT_VARIANTS)})")
    return 1.0 if variant == "inverted" else 1.0 - layer.rate
