"""Chapter 6.2: what the initial weights do to the activations of five layers, before any training.

The book's ch06/weight_init_activation_histogram.py: 1,000 inputs of 100
standard normal features through five layers of 100 units without biases,
weights drawn with std 1, std 0.01, the book's "Xavier" and He, for sigmoid,
tanh and ReLU. Honest names: the book's "Xavier" is 1/√fan_in, which is LeCun
normal (``lecun_normal``); Glorot's (``xavier_normal``) is √(2/(fan_in + fan_out)),
the same number here where fan_in = fan_out = 100.

``saturated`` is the share of outputs at the flat ends of the activation,
where its gradient vanishes: for sigmoid and tanh, within ``margin`` (0.05)
of their limits (0 and 1, −1 and 1), the bars at the two ends of the book's
histograms, where sigmoid' is under a fifth of its peak and tanh' under a
tenth; for ReLU, the outputs at exactly 0 (its only flat part: a small
positive output still passes the gradient whole). For sigmoid with std 1 it
is about two thirds at layer 5 (60% to 74% over seeds 0 to 19); within 0.01
it would be about one half, 42% to 55%, too close to half to say "most".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from playground.engine.errors import SpecError
from playground.engine.lab.common import Cancel, Progress, Reporter, positive, settings_from
from playground.engine.nn.network import Network

#: init name -> (initializer spec, how the book names it)
INITS = {"std=1": ({"type": "normal", "std": 1.0}, "std 1"),
         "std=0.01": ({"type": "normal", "std": 0.01}, "std 0.01"),
         "lecun": ("lecun_normal", "the book's Xavier: 1/sqrt(fan_in)"),
         "he": ("he_normal", "He: sqrt(2/fan_in)")}
#: activation -> (its limits, the histogram's range as the book draws it)
LIMITS = {"sigmoid": ((0.0, 1.0), (0.0, 1.0)), "tanh": ((-1.0, 1.0), (-1.0, 1.0)), "relu": ((0.0,), (0.0, 1.0))}


@dataclass
class Settings:
    samples: int = 1000
    features: int = 100
    layers: int = 5
    activations: list = field(default_factory=lambda: ["sigmoid", "tanh", "relu"])
    inits: list = field(default_factory=lambda: list(INITS))
    bins: int = 30
    #: how close to a limit of sigmoid or tanh an output counts as saturated
    margin: float = 0.05

    @classmethod
    def quick(cls) -> "Settings":
        return cls()


def run(settings: Settings | dict | None = None, seed: int = 0, progress: Progress | None = None,
        cancel: Cancel | None = None) -> dict:
    s = settings_from(Settings, settings)
    for key in ("samples", "features", "layers", "bins"):
        positive(getattr(s, key), key)
    positive(s.margin, "margin", whole=False)
    bad = [a for a in s.activations if a not in LIMITS] + [i for i in s.inits if i not in INITS]
    if bad:
        raise SpecError(f"init-histograms: unknown {', '.join(map(repr, bad))}; activations: "
                        f"{', '.join(LIMITS)}; inits: {', '.join(INITS)}")
    report = Reporter(progress, cancel, len(s.activations) * len(s.inits))
    x = np.random.default_rng(seed).standard_normal((s.samples, s.features)).astype(np.float32)
    runs = {}
    for act in s.activations:
        span = LIMITS[act][1]
        for init in s.inits:
            spec = {"input_shape": [s.features], "loss": "mse",
                    "layers": [{"type": "Dense", "units": s.features, "init": INITS[init][0], "use_bias": False,
                                "activation": act} for _ in range(s.layers)]}
            record: list = []
            Network(spec, seed=seed).forward(x, training=False, record=record)
            outs = [v for name, v in record if name.endswith(f"_{act}")]
            runs[f"{act}/{init}"] = {
                "std": [float(a.std()) for a in outs],
                "saturated": [saturated(a, act, s.margin) for a in outs],
                "histograms": [np.histogram(a, bins=s.bins, range=span)[0].tolist() for a in outs],
                "range": list(span)}
            report(len(runs), f"{act}, {INITS[init][1]}")
    verdict = _verdict(runs, s)
    return {"runs": runs, "inits": {k: v[1] for k, v in INITS.items() if k in s.inits},
            "saturated_means": f"the share of outputs within {s.margin:g} of the limits of sigmoid (0, 1) and "
                               f"tanh (-1, 1), and for ReLU the share at exactly 0",
            "verdict": verdict}


def saturated(outputs: np.ndarray, activation: str, margin: float) -> float:
    """The share of ``outputs`` where ``activation`` is flat: within ``margin`` of a limit of sigmoid or tanh,
    exactly 0 for ReLU."""
    if activation == "relu":
        return float(np.mean(outputs <= 0))
    limits = LIMITS[activation][0]
    return float(np.mean(np.min([np.abs(outputs - lim) for lim in limits], axis=0) < margin))


def _verdict(runs: dict, s: Settings) -> str:
    layers = s.layers
    parts = []
    if "sigmoid/std=1" in runs:
        parts.append(f"sigmoid with std 1: {runs['sigmoid/std=1']['saturated'][-1]:.0%} of layer {layers}'s "
                     f"outputs saturated (within {s.margin:g} of 0 or 1)")
    if "sigmoid/std=0.01" in runs:
        parts.append(f"with std 0.01 their std shrinks to {runs['sigmoid/std=0.01']['std'][-1]:.3f} "
                     f"(all alike)")
    if "relu/he" in runs:
        std = runs["relu/he"]["std"]
        parts.append(f"ReLU with He keeps its std within {max(std) / min(std):.2f}x across the layers "
                     f"({min(std):.2f} to {max(std):.2f})")
    if "relu/std=0.01" in runs:
        std = runs["relu/std=0.01"]["std"]
        parts.append(f"with std 0.01 it falls from {std[0]:.2g} to {std[-1]:.2g}")
    return "; ".join(parts) or "see the histograms"
