"""Chapter 6.3: training accuracy with and without batch normalization, at 16 initial weight scales.

The book's ch06/batch_norm_test.py: the first 1,000 MNIST training images,
five hidden layers of 100 ReLU units (Dense → BatchNorm → ReLU with batch norm, ε = 1e-6
as the book's),
every weight drawn from N(0, scale²) for scales ``logspace(0, -4, 16)``, SGD with
lr 0.01, batches of 100, 20 epochs; after each epoch the accuracy on the 1,000
training images, measured in inference mode (batch norm's running statistics).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from playground.engine.lab.common import (Cancel, Progress, Reporter, mlp_spec, mnist, positive, rounded,
                                          settings_from, train_accuracy, train_arm)
from playground.engine.nn.network import Network


@dataclass
class Settings:
    train_samples: int = 1000
    hidden_layers: int = 5
    units: int = 100
    lr: float = 0.01
    batch_size: int = 100
    epochs: int = 20
    #: the weight scales: logspace(0, scale_exponent_low, scales)
    scales: int = 16
    scale_exponent_low: float = -4.0
    #: the book's ε (common/layers.py: 10e-7); ours defaults to 1e-5
    bn_eps: float = 1e-6

    @classmethod
    def quick(cls) -> "Settings":
        return cls(epochs=8)


def run(settings: Settings | dict | None = None, seed: int = 0, progress: Progress | None = None,
        cancel: Cancel | None = None, data_dir: str | None = None) -> dict:
    s = settings_from(Settings, settings)
    for key in ("train_samples", "hidden_layers", "units", "batch_size", "epochs", "scales"):
        positive(getattr(s, key), key)
    positive(s.lr, "lr", whole=False)
    scales = np.logspace(0, float(s.scale_exponent_low), int(s.scales))
    batches = -(-s.train_samples // s.batch_size)
    report = Reporter(progress, cancel, 2 * len(scales) * s.epochs * batches)
    report(0, "loading MNIST")
    data = mnist(data_dir, s.train_samples, 1)
    training = {"optimizer": {"type": "sgd", "lr": s.lr}, "batch_size": s.batch_size, "epochs": s.epochs,
                "seed": seed}
    curves: dict[str, list[list[float]]] = {"with_bn": [], "without_bn": []}
    diverged: dict[str, list[float]] = {"with_bn": [], "without_bn": []}
    arm = 0
    for scale in scales:
        init = {"type": "normal", "std": float(scale)}
        for key, bn in (("with_bn", True), ("without_bn", False)):
            net = Network(mlp_spec(data.input_shape, [s.units] * s.hidden_layers, 10, "relu", init, batchnorm={"eps": s.bn_eps} if bn else None),
                          seed=seed)
            acc: list[float] = []
            trainer, _ = train_arm(net, data, training, report, offset=arm * s.epochs * batches,
                                   label=f"scale {scale:.2g}, {'with' if bn else 'without'} batch norm", threads=1,
                                   on_epoch=lambda epoch, logs, net=net, acc=acc: acc.append(train_accuracy(net, data)))
            if trainer.status["status"] == "diverged":  # the accuracy stays where the loss blew up
                acc.append(train_accuracy(net, data))
                diverged[key].append(float(scale))
                acc += [acc[-1]] * (s.epochs - len(acc))
            curves[key].append(acc)
            arm += 1
    with_bn = [c[-1] for c in curves["with_bn"]]
    without_bn = [c[-1] for c in curves["without_bn"]]
    higher = sum(a > b for a, b in zip(with_bn, without_bn))
    verdict = (f"with batch norm, higher training accuracy at {higher} of {len(scales)} weight scales "
               f"(mean {np.mean(with_bn):.2f} against {np.mean(without_bn):.2f} without)")
    return {"scales": scales.tolist(), "with_bn": with_bn, "without_bn": without_bn,
            "curves": {k: rounded(v, 4) for k, v in curves.items()}, "diverged": diverged,
            "higher_with_bn": higher, "verdict": verdict}
