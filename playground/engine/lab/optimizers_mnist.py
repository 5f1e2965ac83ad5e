"""Chapter 6.1: SGD, Momentum, AdaGrad, Adam (and RMSProp, Nesterov) training one network on MNIST.

The book's ch06/optimizer_compare_mnist.py: a five-layer network (four hidden
layers of 100 ReLU units, He initialization), batches of 128, 2,000
iterations, each optimizer with the book's learning rate, every one on the
same batches from the same initial weights. The loss of every batch is kept;
``final_loss`` is the mean over the last tenth of the iterations.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from playground.engine.lab.common import (Cancel, Progress, Reporter, loss_curves, mlp_spec, mnist, positive,
                                          settings_from)
from playground.engine.nn.optimizers import get_optimizer


@dataclass
class Settings:
    #: optimizer -> its settings; the book's (common/optimizer.py defaults), RMSProp and Nesterov too
    optimizers: dict = field(default_factory=lambda: {
        "sgd": {"lr": 0.01}, "momentum": {"lr": 0.01, "momentum": 0.9}, "nesterov": {"lr": 0.01, "momentum": 0.9},
        "adagrad": {"lr": 0.01}, "rmsprop": {"lr": 0.01, "rho": 0.99}, "adam": {"lr": 0.001}})
    hidden_layers: int = 4
    units: int = 100
    iterations: int = 2000
    batch_size: int = 128
    #: training images used (the book: all 60,000)
    train_samples: int = 60000
    #: test images the final accuracy is measured on
    test_samples: int = 1000

    @classmethod
    def quick(cls) -> "Settings":
        return cls(iterations=100, train_samples=3000, test_samples=500)


def run(settings: Settings | dict | None = None, seed: int = 0, progress: Progress | None = None,
        cancel: Cancel | None = None, data_dir: str | None = None) -> dict:
    s = settings_from(Settings, settings)
    for key in ("hidden_layers", "units", "iterations", "batch_size", "train_samples", "test_samples"):
        positive(getattr(s, key), key)
    for name, cfg in s.optimizers.items():
        get_optimizer({"type": name, **cfg})  # a bad name or setting is reported before any training
    report = Reporter(progress, cancel, len(s.optimizers) * s.iterations)
    report(0, "loading MNIST")
    data = mnist(data_dir, s.train_samples, s.test_samples)
    spec = mlp_spec(data.input_shape, [s.units] * s.hidden_layers, 10)
    arms = {name: (spec, {"optimizer": {"type": name, **cfg}, "batch_size": s.batch_size})
            for name, cfg in s.optimizers.items()}
    runs = loss_curves(data, arms, s.iterations, seed, report)
    final = {name: r["final_loss"] for name, r in runs.items()}
    order = sorted(final, key=final.get)
    verdict = (f"after {s.iterations:,} iterations {order[0]} has the lowest loss ({final[order[0]]:.3f}) and "
               f"{order[-1]} the highest ({final[order[-1]]:.3f}); in order: "
               + ", ".join(f"{n} {final[n]:.3f}" for n in order))
    return {"final_loss": final, "runs": runs, "verdict": verdict}
