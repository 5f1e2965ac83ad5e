"""Chapter 3: activation functions and their derivatives, computed by the engine's activation layers.

Each curve is the layer's forward pass over a grid of x, each derivative its
backward pass with an incoming gradient of 1 (what backpropagation multiplies
by). Softmax is shown over the two scores [x, 0]: its first output, which is
exactly sigmoid(x). The lesson: sigmoid' peaks at 0.25, so each sigmoid layer
shrinks a gradient at least fourfold, while ReLU passes it whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from playground.engine.lab.common import Cancel, Progress, Reporter, positive, rounded, settings_from
from playground.engine.nn.activations import activation_class
from playground.engine.errors import SpecError

FUNCTIONS = ("step", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softmax")


@dataclass
class Settings:
    #: the book's range (ch03/sig_step_compare.py: np.arange(-5.0, 5.0, 0.1)), finer
    x_min: float = -5.0
    x_max: float = 5.0
    points: int = 1001
    functions: list = field(default_factory=lambda: list(FUNCTIONS))

    @classmethod
    def quick(cls) -> "Settings":
        return cls(points=201)


def curve(name: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(y, dy/dx) of the activation ``name`` at the points ``x``, from its layer's forward and backward."""
    layer = activation_class(name)(name=name)
    if name == "softmax":
        scores = np.stack([x, np.zeros_like(x)], axis=1)
        layer.build((2,), np.random.default_rng(0), np.float64)
        y = layer.forward(scores)
        dy = layer.backward(np.stack([np.ones_like(x), np.zeros_like(x)], axis=1))
        return y[:, 0], dy[:, 0]
    layer.build((1,), np.random.default_rng(0), np.float64)
    y = layer.forward(x[:, None], training=False)
    return y[:, 0].copy(), layer.backward(np.ones((len(x), 1)))[:, 0]


def run(settings: Settings | dict | None = None, seed: int = 0, progress: Progress | None = None,
        cancel: Cancel | None = None) -> dict:
    s = settings_from(Settings, settings)
    positive(s.points, "points")
    if not float(s.x_max) > float(s.x_min):
        raise SpecError(f"lab setting 'x_max' must be greater than 'x_min', got {s.x_min} and {s.x_max}")
    unknown = [f for f in s.functions if f not in FUNCTIONS]
    if unknown:
        raise SpecError(f"unknown activation {', '.join(map(repr, unknown))}; known: {', '.join(FUNCTIONS)}")
    report = Reporter(progress, cancel, len(s.functions))
    x = np.linspace(float(s.x_min), float(s.x_max), int(s.points))
    curves, max_derivative = {}, {}
    for i, name in enumerate(s.functions):
        y, dy = curve(name, x)
        curves[name] = {"y": rounded(y), "dy": rounded(dy)}
        k = int(np.argmax(dy))
        max_derivative[name] = float(dy[k])
        curves[name]["argmax_derivative"] = float(x[k])
        report(i + 1, name)
    parts = []
    if "sigmoid" in max_derivative:
        m = max_derivative["sigmoid"]
        parts.append(f"sigmoid' peaks at {m:.4g} (x = {curves['sigmoid']['argmax_derivative']:.2g}), so ten "
                     f"sigmoid layers shrink a gradient at least {1 / m ** 10:,.0f} times")
    if "relu" in max_derivative:
        parts.append(f"ReLU' is {max_derivative['relu']:g} wherever x > 0")
    if "step" in max_derivative:
        parts.append(f"step' is {max_derivative['step']:g} everywhere: nothing to learn from")
    return {"x": rounded(x), "curves": curves, "max_derivative": max_derivative,
            "verdict": "; ".join(parts) or f"max derivatives: {max_derivative}"}
