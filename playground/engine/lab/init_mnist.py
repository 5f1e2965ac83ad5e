"""Chapter 6.2: std 0.01 against the book's "Xavier" (LeCun normal) and He, training on MNIST.

The book's ch06/weight_init_compare.py: four hidden layers of 100 ReLU units,
SGD with lr 0.01, batches of 128, 2,000 iterations, the same batches for each
initialization. With std 0.01 the signal dies out in the deep layers (see
init-histograms) and the loss hardly moves; He learns fastest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from playground.engine.errors import SpecError
from playground.engine.lab.common import (Cancel, Progress, Reporter, loss_curves, mlp_spec, mnist, positive,
                                          settings_from)

#: init name -> initializer spec ("lecun" is what the book calls Xavier: 1/sqrt(fan_in))
INITS = {"std=0.01": {"type": "normal", "std": 0.01}, "lecun": "lecun_normal", "he": "he_normal"}


@dataclass
class Settings:
    inits: list = field(default_factory=lambda: list(INITS))
    activation: str = "relu"
    hidden_layers: int = 4
    units: int = 100
    lr: float = 0.01
    iterations: int = 2000
    batch_size: int = 128
    train_samples: int = 60000
    test_samples: int = 1000

    @classmethod
    def quick(cls) -> "Settings":
        return cls(iterations=200, train_samples=6000, test_samples=500)


def run(settings: Settings | dict | None = None, seed: int = 0, progress: Progress | None = None,
        cancel: Cancel | None = None, data_dir: str | None = None) -> dict:
    s = settings_from(Settings, settings)
    for key in ("hidden_layers", "units", "iterations", "batch_size", "train_samples", "test_samples"):
        positive(getattr(s, key), key)
    positive(s.lr, "lr", whole=False)
    bad = [i for i in s.inits if i not in INITS]
    if bad:
        raise SpecError(f"init-mnist: unknown initialization {', '.join(map(repr, bad))}; known: {', '.join(INITS)}")
    report = Reporter(progress, cancel, len(s.inits) * s.iterations)
    report(0, "loading MNIST")
    data = mnist(data_dir, s.train_samples, s.test_samples)
    arms = {name: (mlp_spec(data.input_shape, [s.units] * s.hidden_layers, 10, s.activation, INITS[name]),
                   {"optimizer": {"type": "sgd", "lr": s.lr}, "batch_size": s.batch_size})
            for name in s.inits}
    runs = loss_curves(data, arms, s.iterations, seed, report)
    final = {name: r["final_loss"] for name, r in runs.items()}
    order = sorted(final, key=final.get)
    verdict = (f"after {s.iterations:,} iterations: " + ", ".join(f"{n} {final[n]:.3f}" for n in order)
               + f" (loss; {order[0]} learns fastest"
               + (", std 0.01 hardly moves from ln 10 = 2.303" if final.get("std=0.01", 0) > 2.2 else "") + ")")
    return {"final_loss": final, "runs": runs, "verdict": verdict}
