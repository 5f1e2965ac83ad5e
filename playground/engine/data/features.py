"""Input features of a 2-D data set (x1, x2, x1^2, x2^2, x1*x2, sin(x1), sin(x2)), as TensorFlow Playground offers.

A 2-D set's spec may hold ``"features": ["x1", "x2", "x1^2", ...]``: the
network then sees those columns, computed here from the points ``(x1, x2)``,
in the order given. The app and ``playground train`` both build their data
through :func:`~playground.engine.data.datasets.make_dataset`, so they train
on the same numbers; the unit heatmaps and the decision boundary compute the
same columns for their grid of points with :func:`feature_matrix`.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from playground.engine.checks import brief
from playground.engine.errors import SpecError

#: name -> (formula for tooltips, function of the points' two columns)
FEATURES: dict[str, tuple[str, Callable[[np.ndarray, np.ndarray], np.ndarray]]] = {
    "x1": ("x₁, the first coordinate", lambda a, b: a),
    "x2": ("x₂, the second coordinate", lambda a, b: b),
    "x1^2": ("x₁², large far from the x₂ axis on either side", lambda a, b: a * a),
    "x2^2": ("x₂², large far from the x₁ axis on either side", lambda a, b: b * b),
    "x1*x2": ("x₁·x₂, positive in the 1st and 3rd quadrants, negative in the others", lambda a, b: a * b),
    "sin(x1)": ("sin(x₁), a wave along x₁", lambda a, b: np.sin(a)),
    "sin(x2)": ("sin(x₂), a wave along x₂", lambda a, b: np.sin(b)),
}

#: the features of a set without a "features" key: the plain coordinates
PLAIN = ("x1", "x2")


def check_features(value: Any, where: str) -> tuple[str, ...]:
    """``value`` as a tuple of feature names; raises :class:`SpecError` saying what is wrong and what to do."""
    if not isinstance(value, (list, tuple)) or not value:
        raise SpecError(f"{where}: features must be a non-empty list of names from {', '.join(FEATURES)}, "
                        f"got {brief(value)}")
    names = []
    for v in value:
        if not isinstance(v, str) or v not in FEATURES:
            raise SpecError(f"{where}: unknown feature {brief(v)}; choose from {', '.join(FEATURES)}")
        if v in names:
            raise SpecError(f"{where}: feature {v!r} is listed twice; list each feature once")
        names.append(v)
    return tuple(names)


def feature_matrix(points: np.ndarray, names: tuple[str, ...] | list[str]) -> np.ndarray:
    """(N, len(names)) float32: the named features of (N, 2) points, in float64 then rounded once."""
    p = np.asarray(points, dtype=np.float64)
    a, b = p[:, 0], p[:, 1]
    columns = [np.broadcast_to(FEATURES[n][1](a, b), a.shape) for n in names]
    return np.stack(columns, axis=1).astype(np.float32)
