"""The layer registry: a spec's ``type`` name to its class, for building networks and loading models."""

from __future__ import annotations


from playground.engine.errors import SpecError
from playground.engine.nn.base import Layer
from playground.engine.nn.dense import Dense, Flatten
from playground.engine.nn.conv import Conv2D, MaxPool2D, AvgPool2D
from playground.engine.nn.normalization import BatchNorm, Dropout
from playground.engine.nn.recurrent import GRU, LSTM, SimpleRNN, TimeDistributed
from playground.engine.nn.activations import ReLU, LeakyReLU, ELU, Sigmoid, Tanh, Step, Identity, Softmax, ACTIVATIONS


LAYERS: dict[str, type[Layer]] = {
    cls.type_name: cls for cls in (
        Dense, Conv2D, MaxPool2D, AvgPool2D, Flatten, BatchNorm, Dropout, SimpleRNN, LSTM, GRU, TimeDistributed,
        ReLU, LeakyReLU, ELU, Sigmoid, Tanh, Step, Identity, Softmax)
}
_ALIASES = {"affine": "Dense", "linear": "Dense", "conv": "Conv2D", "conv2d": "Conv2D",
            "maxpool": "MaxPool2D", "pooling": "MaxPool2D", "avgpool": "AvgPool2D",
            "batchnormalization": "BatchNorm", "batchnorm": "BatchNorm", "rnn": "SimpleRNN",
            "simplernn": "SimpleRNN", "timedense": "TimeDistributed"}


def layer_class(type_name: str) -> type[Layer]:
    """The class for a spec's ``type`` (case-insensitive); unknown names list the known ones."""
    if not isinstance(type_name, str):
        raise SpecError(f"a layer's 'type' must be a name, got {type_name!r}")
    by_lower = {k.lower(): v for k, v in LAYERS.items()}
    cls = by_lower.get(type_name.lower()) or LAYERS.get(_ALIASES.get(type_name.lower(), ""))
    if cls is None:
        act = ACTIVATIONS.get(type_name.lower())
        if act is not None:
            return act
        raise SpecError(f"unknown layer type {type_name!r}; known: {', '.join(LAYERS)}")
    return cls
