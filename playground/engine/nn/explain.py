"""One input through a network, layer by layer, and the arithmetic of one convolution or pooling output.

For the CNN explainer: :func:`trace` gives every layer's output for a single
sample; :func:`conv_step` the window a convolution's kernel meets at one
output position, with the kernel, the dot product, the bias and the result
before and after a ReLU; :func:`pool_step` a pooling window and the value it
keeps. Both read the layer's own stride and padding, so the numbers are those
the layer computes (the tests check them against its forward pass).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from playground.engine.nn.conv import Conv2D, MaxPool2D, _Pool
from playground.engine.nn.network import Network


def trace(net: Network, x: np.ndarray) -> list[dict[str, Any]]:
    """Every layer's output for one sample ``x`` (its input shape, no batch axis), in inference mode:
    ``[{"name", "type", "input": array, "output": array, "layer": Layer}]``, arrays without the batch axis.

    The last entry is what the user sees: class probabilities when the loss fuses the softmax.
    """
    batch = np.asarray(x, dtype=net.dtype)[None]
    record: list = []
    out = net.forward(batch, training=False, record=record)
    outputs = dict(record)
    rows, previous = [], batch[0]
    for layer in net.layers:
        if layer.name not in outputs:
            continue
        value = outputs[layer.name][0]
        rows.append({"name": layer.name, "type": type(layer).__name__, "input": previous, "output": value,
                     "layer": layer})
        previous = value
    if net.fused_tail:
        probs = net.loss.output(out)[0]
        rows.append({"name": "probabilities", "type": "Softmax" if probs.shape[-1] > 1 else "Sigmoid",
                     "input": previous, "output": probs, "layer": None})
    return rows


def _padded(x: np.ndarray, pad: int, fill: float) -> np.ndarray:
    if not pad:
        return x
    return np.pad(x, ((0, 0), (pad, pad), (pad, pad)), constant_values=fill)


def conv_step(layer: Conv2D, x: np.ndarray, f: int, i: int, j: int) -> dict[str, Any]:
    """Output ``(f, i, j)`` of ``layer`` for one input ``x`` (C, H, W), written out:
    ``{"window": (C, kh, kw), "kernel": (C, kh, kw), "bias", "dot", "z": dot + bias, "relu": max(z, 0),
    "top", "left"}`` where (top, left) is the window's corner in the padded input."""
    xp = _padded(np.asarray(x, dtype=np.float64), layer.pad, 0.0)
    top, left = i * layer.stride, j * layer.stride
    window = xp[:, top:top + layer.kh, left:left + layer.kw]
    kernel = layer.params["W"][f].astype(np.float64)
    dot = float(np.sum(window * kernel))
    bias = float(layer.params["b"][f])
    z = dot + bias
    return {"window": window, "kernel": kernel, "bias": bias, "dot": dot, "z": z, "relu": max(z, 0.0),
            "top": top, "left": left}


def pool_step(layer: _Pool, x: np.ndarray, c: int, i: int, j: int) -> dict[str, Any]:
    """Output ``(c, i, j)`` of a pooling layer for one input ``x`` (C, H, W): ``{"window": (p, p),
    "value", "at": (row, col) of the maximum inside the window (max pooling; the first, row by row),
    "top", "left"}``; padding is -inf for max pooling (never chosen) and 0 for average pooling."""
    is_max = isinstance(layer, MaxPool2D)
    xp = _padded(np.asarray(x, dtype=np.float64), layer.pad, -np.inf if is_max else 0.0)
    top, left = i * layer.stride, j * layer.stride
    window = xp[c, top:top + layer.pool, left:left + layer.pool]
    if is_max:
        at = divmod(int(np.argmax(window)), layer.pool)
        value = float(window[at])
    else:
        at, value = None, float(window.mean())
    return {"window": window, "value": value, "at": at, "top": top, "left": left}
