"""Every hidden unit's output over the input plane, for the neuron view (TensorFlow Playground's picture).

:class:`UnitMaps` runs in the training worker beside :class:`~.snapshots.SnapshotMaker`:
one batched forward pass of a ``size`` × ``size`` grid of points through the
network, recording each layer's output, gives each unit its heatmap. The
network's layers are grouped into *columns* as the user built them: a layer
with weights (Dense) and the activations after it are one column, whose maps
are the last of their outputs (after the activation). At most
:data:`MAX_UNITS` units per column are sent, with the column's true width, so
a wide layer can say "first 16 of 64". The weights between the first units of
consecutive columns go along, so connections can be drawn by sign and size.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from playground.engine.data.features import PLAIN, feature_matrix
from playground.engine.nn.network import Network

#: grid points per side
UNIT_GRID = 48
#: units per column sent (and drawn)
MAX_UNITS = 16


def plane_bounds(points: np.ndarray, pad: float = 0.1) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1) around 2-D points, padded by ``pad`` of the range."""
    lo, hi = points[:, :2].min(axis=0).astype(float), points[:, :2].max(axis=0).astype(float)
    span = np.maximum(hi - lo, 1e-6)
    lo, hi = lo - pad * span, hi + pad * span
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])


def plane_points(data: Any) -> np.ndarray:
    """The training and validation points of a 2-D set, before any features."""
    if hasattr(data, "points"):
        train, val = data.points("train"), data.points("val")
    else:
        train, val = data.x_train, data.x_val
    return np.concatenate([train, val]) if len(val) else train


def grid_points(bounds: tuple[float, float, float, float], size: int) -> np.ndarray:
    """(size², 2) float32 points; row-major with x2 along rows (row i is the i-th x2 value)."""
    x0, x1, y0, y1 = bounds
    gx, gy = np.meshgrid(np.linspace(x0, x1, size), np.linspace(y0, y1, size))
    return np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)


def columns(net: Network) -> list[dict[str, Any]]:
    """The network's layers grouped as drawn: ``{"name", "layers": [names], "dense": layer or None}``.

    A layer with parameters starts a column; parameterless layers after it (its activation,
    dropout) join it. Layers before the first parametrized one make a column of their own.
    """
    out: list[dict[str, Any]] = []
    for layer in net.layers:
        if layer.params or not out:
            out.append({"name": layer.name, "layers": [layer.name],
                        "dense": layer if type(layer).__name__ == "Dense" else None})
        else:
            out[-1]["layers"].append(layer.name)
    return out


class UnitMaps:
    """``maps(net) -> dict`` of plain data for a network on 2-D points (plain or as features).

    The network runs on a ``size`` × ``size`` grid; the maps keep every ``step``-th row and
    column (the worker runs the decision boundary's 100 × 100 grid and sends 50 × 50 maps).

    The dict: ``{"bounds": (x0, x1, y0, y1), "size": n, "features": [names],
    "inputs": (n, n, F) float32, "columns": [{"name", "width", "maps": (n, n, k) float32,
    "weights": (k_in, k) float32 or None, "output": name of the layer shown}],
    "output": (n, n, K) float32}``, with ``k = min(width, MAX_UNITS)``; the last column is the
    network's last layer (before softmax when the loss fuses it), ``"output"`` what the user
    sees (class probabilities for a classifier).
    """

    def __init__(self, data: Any, size: int = UNIT_GRID, step: int = 1):
        self.full = size
        self.step = step
        self.features = tuple(getattr(data, "features", ()) or PLAIN)
        self.plane_bounds = plane_bounds(plane_points(data))
        grid = grid_points(self.plane_bounds, size)
        #: what the network is given: the ``size`` × ``size`` grid's points, or their features
        self.inputs = feature_matrix(grid, self.features) if getattr(data, "features", ()) else grid
        # the maps keep every step-th row and column of the grid: their corners are these points
        last = (size - 1) // step * step
        x0, x1, y0, y1 = self.plane_bounds
        self.bounds = (x0, x0 + (x1 - x0) * last / max(size - 1, 1), y0, y0 + (y1 - y0) * last / max(size - 1, 1))

    @property
    def size(self) -> int:
        """Points per side of the maps sent."""
        return len(range(0, self.full, self.step))

    def __call__(self, net: Network) -> dict[str, Any]:
        return self.run(net)[0]

    def run(self, net: Network) -> tuple[dict[str, Any], np.ndarray]:
        """The maps, and the output the user sees (probabilities) on the whole grid, (size², K): one
        forward pass gives both, so the decision boundary costs nothing more."""
        record: list = []
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            out = net.forward(self.inputs.astype(net.dtype, copy=False), training=False, record=record)
            probs = net.loss.output(out) if net.fused_tail else out
        outputs = dict(record)
        full, step = self.full, self.step

        def thin(value: np.ndarray, k: int) -> np.ndarray:
            grid = value.reshape(full, full, -1)[::step, ::step, :k]
            return np.nan_to_num(grid.astype(np.float32))

        cols = []
        prev_k = self.inputs.shape[1]
        for col in columns(net):
            last = next((name for name in reversed(col["layers"]) if name in outputs), None)
            if last is None:
                continue
            value = outputs[last]
            width = int(np.prod(value.shape[1:]))
            k = min(width, MAX_UNITS)
            dense = col["dense"]
            weights = None
            if dense is not None:
                weights = np.array(dense.params["W"][:min(prev_k, MAX_UNITS), :k], dtype=np.float32)
            cols.append({"name": col["name"], "width": width, "maps": thin(value, k), "weights": weights,
                         "output": last})
            prev_k = width
        maps = {"bounds": self.bounds, "size": self.size, "features": list(self.features),
                "inputs": thin(self.inputs, MAX_UNITS), "columns": cols, "output": thin(probs, probs.shape[1])}
        return maps, probs
