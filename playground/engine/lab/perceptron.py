"""Chapter 2: AND, OR and NAND as perceptrons with the book's weights, and XOR as two layers of them.

A perceptron is a Dense layer of one unit followed by Step: y = 1 if w·x + b > 0
else 0, built here as a :class:`~playground.engine.nn.network.Network` with the
weights set by hand. No single line separates XOR's four points (a search over
a grid of lines finds at best 3 of 4); XOR = AND(NAND(x), OR(x)) does it in two.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from playground.engine.errors import SpecError
from playground.engine.lab.common import Cancel, Progress, Reporter, settings_from
from playground.engine.nn.network import Network

INPUTS = np.array([[0, 0], [1, 0], [0, 1], [1, 1]], dtype=np.float64)
EXPECTED = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "NAND": [1, 1, 1, 0], "XOR": [0, 1, 1, 0]}


@dataclass
class Settings:
    #: gate -> [w1, w2, b], the book's (ch02/and_gate.py, or_gate.py, nand_gate.py)
    gates: dict = field(default_factory=lambda: {"AND": [0.5, 0.5, -0.7], "OR": [0.5, 0.5, -0.2],
                                                 "NAND": [-0.5, -0.5, 0.7]})
    #: lines tried for XOR: every (w1, w2, b) with each in this many steps over [-1, 1]
    search_steps: int = 41

    @classmethod
    def quick(cls) -> "Settings":
        return cls(search_steps=21)


def _gate_params(settings: Settings, name: str) -> tuple[np.ndarray, float]:
    value = settings.gates.get(name)
    try:
        w1, w2, b = (float(v) for v in value)
    except (TypeError, ValueError):
        raise SpecError(f"perceptron gate {name!r} needs [w1, w2, b], three numbers, got {value!r}") from None
    return np.array([w1, w2]), b


def perceptron_layer(weights: np.ndarray, biases: np.ndarray) -> Network:
    """A Dense layer of ``len(biases)`` units on 2 inputs, then Step, with the given weights (2, units)."""
    spec = {"input_shape": [weights.shape[0]], "loss": "mse",
            "layers": [{"type": "Dense", "units": len(biases)}, {"type": "Step"}]}
    net = Network(spec, dtype=np.float64)
    net.layers[0].params["W"][...] = weights
    net.layers[0].params["b"][...] = biases
    return net


def _line(w: np.ndarray, b: float) -> dict:
    """The boundary w1·x1 + w2·x2 + b = 0 as two points across [-0.5, 1.5]²."""
    if abs(w[1]) >= abs(w[0]) and w[1] != 0:
        xs = np.array([-0.5, 1.5])
        return {"x": xs.tolist(), "y": ((-b - w[0] * xs) / w[1]).tolist()}
    if w[0] != 0:
        ys = np.array([-0.5, 1.5])
        return {"x": ((-b - w[1] * ys) / w[0]).tolist(), "y": ys.tolist()}
    return {"x": [], "y": []}


def best_single_line(steps: int) -> tuple[int, list[float]]:
    """The most XOR points any one perceptron with (w1, w2, b) on a grid over [-1, 1]³ gets right."""
    grid = np.linspace(-1, 1, steps)
    w = np.array(list(itertools.product(grid, grid)))          # (steps², 2)
    scores = INPUTS @ w.T                                       # (4, steps²)
    out = (scores[None, :, :] + grid[:, None, None]) > 0        # (steps, 4, steps²)
    hits = (out == np.array(EXPECTED["XOR"], bool)[None, :, None]).sum(axis=1)
    bi, wi = np.unravel_index(np.argmax(hits), hits.shape)
    return int(hits[bi, wi]), [float(w[wi, 0]), float(w[wi, 1]), float(grid[bi])]


def run(settings: Settings | dict | None = None, seed: int = 0, progress: Progress | None = None,
        cancel: Cancel | None = None) -> dict:
    s = settings_from(Settings, settings)
    report = Reporter(progress, cancel, 3)
    gates = {}
    for name in ("AND", "OR", "NAND"):
        w, b = _gate_params(s, name)
        out = perceptron_layer(w[:, None], np.array([b])).forward(INPUTS)[:, 0]
        table = [[int(x1), int(x2), int(y)] for (x1, x2), y in zip(INPUTS, out)]
        gates[name] = {"weights": w.tolist(), "bias": b, "truth_table": table, "line": _line(w, b),
                       "correct": [int(y) for y in out] == EXPECTED[name]}
    report(1, "gates")
    # XOR in two layers: NAND and OR side by side, then AND of their outputs
    (wn, bn), (wo, bo), (wa, ba) = (_gate_params(s, g) for g in ("NAND", "OR", "AND"))
    first = perceptron_layer(np.stack([wn, wo], axis=1), np.array([bn, bo]))
    hidden = first.forward(INPUTS)
    out = perceptron_layer(wa[:, None], np.array([ba])).forward(hidden)[:, 0]
    xor = {"truth_table": [[int(x1), int(x2), int(y)] for (x1, x2), y in zip(INPUTS, out)],
           "hidden": hidden.astype(int).tolist(), "correct": [int(y) for y in out] == EXPECTED["XOR"]}
    report(2, "XOR")
    best, line = best_single_line(int(s.search_steps))
    xor["best_single_line"] = {"correct_points": best, "weights": line[:2], "bias": line[2],
                               "lines_tried": int(s.search_steps) ** 3}
    report(3, "single lines")
    wrong = [g for g in ("AND", "OR", "NAND") if not gates[g]["correct"]]
    if not wrong:
        first = "AND, OR and NAND match their truth tables"
    elif len(wrong) == 1:
        first = f"{wrong[0]} does not match its truth table"
    else:
        first = f"{' and '.join(wrong)} do not match their truth tables"
    verdict = (f"{first}; XOR = AND(NAND, OR) is {'right' if xor['correct'] else 'wrong'} on all four points, "
               f"while the best of {xor['best_single_line']['lines_tried']:,} single lines gets {best} of 4")
    return {"gates": gates, "xor": xor, "verdict": verdict}
