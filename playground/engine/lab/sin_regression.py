"""The classic first regression: y = sin(x) on [0, 20) in steps of 0.1, fitted by seven ReLU layers.

Seven Dense layers of 256 ReLU units and a linear output (Keras's default
Glorot-uniform initialization), Adam, mean squared error, batches of 10, on the
200 points x = 0, 0.1, …, 19.9 (the sin data set on a grid). The
fit is then drawn on a grid shifted by half a step, between the training
points, where it holds, and past the training range, where it fails: a ReLU
network is piecewise linear, so beyond its data it continues in straight lines.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from playground.engine.data.datasets import make_dataset
from playground.engine.errors import SpecError
from playground.engine.lab.common import Cancel, Progress, Reporter, positive, rounded, settings_from, train_arm
from playground.engine.nn.network import Network


@dataclass
class Settings:
    x_min: float = 0.0
    x_max: float = 20.0
    step: float = 0.1
    hidden_layers: int = 7
    units: int = 256
    lr: float = 0.001
    batch_size: int = 10
    epochs: int = 300
    #: the fit is drawn up to here, past x_max
    extrapolate_to: float = 30.0
    #: Keras's default, Glorot uniform
    init: str = "xavier_uniform"

    @classmethod
    def quick(cls) -> "Settings":
        return cls(epochs=200, units=32, lr=0.003)


def run(settings: Settings | dict | None = None, seed: int = 0, progress: Progress | None = None,
        cancel: Cancel | None = None) -> dict:
    s = settings_from(Settings, settings)
    for key in ("hidden_layers", "units", "batch_size", "epochs"):
        positive(getattr(s, key), key)
    positive(s.step, "step", whole=False)
    positive(s.lr, "lr", whole=False)
    if not float(s.extrapolate_to) >= float(s.x_max):
        raise SpecError(f"lab setting 'extrapolate_to' must be >= x_max ({s.x_max}), got {s.extrapolate_to!r}")
    n = round((float(s.x_max) - float(s.x_min)) / float(s.step))
    data = make_dataset({"name": "sin", "n_samples": max(n, 2), "noise": 0.0, "x_min": float(s.x_min),
                         "x_max": float(s.x_min) + max(n, 2) * float(s.step), "grid": True, "val_split": 0.0,
                         "seed": seed})
    layers = [{"type": "Dense", "units": s.units, "activation": "relu", "init": s.init}
              for _ in range(s.hidden_layers)] + [{"type": "Dense", "units": 1, "init": s.init}]
    net = Network({"input_shape": [1], "layers": layers, "loss": "mse"}, seed=seed)
    batches = -(-len(data.x_train) // s.batch_size)
    report = Reporter(progress, cancel, s.epochs * batches)
    trainer, _ = train_arm(net, data, {"optimizer": {"type": "adam", "lr": s.lr}, "batch_size": s.batch_size,
                                       "epochs": s.epochs, "seed": seed}, report, label="sin", threads=1)
    half = float(s.step) / 2
    grid = np.arange(float(s.x_min) + half, float(s.extrapolate_to), float(s.step), dtype=np.float32)[:, None]
    fit = net.predict(grid)[:, 0]
    truth = np.sin(grid[:, 0])
    inside = grid[:, 0] < float(s.x_max)
    mse_in = float(np.mean((fit[inside] - truth[inside]) ** 2))
    mse_out = float(np.mean((fit[~inside] - truth[~inside]) ** 2)) if (~inside).any() else None
    order = np.argsort(data.x_train[:, 0])
    verdict = (f"between the training points (x in [{s.x_min:g}, {s.x_max:g})) the fit's MSE is {mse_in:.4f}"
               + (f"; past them, on [{s.x_max:g}, {s.extrapolate_to:g}), {mse_out:.3f}: it does not know sin "
                  f"goes on" if mse_out is not None else ""))
    return {"x_train": rounded(data.x_train[order, 0]), "y_train": rounded(data.y_train[order, 0]),
            "x_grid": rounded(grid[:, 0]), "y_fit": rounded(fit), "y_true": rounded(truth),
            "mse_inside": mse_in, "mse_outside": mse_out, "loss": rounded([h["loss"] for h in trainer.history]),
            "verdict": verdict}
