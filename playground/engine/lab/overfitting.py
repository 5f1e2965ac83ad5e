"""Chapter 6.4: overfitting 300 MNIST images, and what weight decay and the book's dropout do to the gap.

The book's ch06/overfit_weight_decay.py and overfit_dropout.py: the first 300
training images, six hidden layers of 100 ReLU units (He), SGD with lr 0.01,
batches of 100; arms: nothing, weight decay λ = 0.1 (½λ‖W‖² on every weight),
dropout 0.2 after each hidden layer in the book's variant (scaled at test
time). The book trains 201 epochs with weight decay and 301 with dropout; here
every arm trains ``epochs``. Train accuracy is measured after each epoch in
inference mode (dropout off) on the 300 training images, beside test accuracy:
the running mean over batches with dropout on would understate it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from playground.engine.lab.common import (Cancel, Progress, Reporter, mlp_spec, mnist, positive, rounded,
                                          settings_from, train_accuracy, train_arm)
from playground.engine.nn.network import Network


@dataclass
class Settings:
    train_samples: int = 300
    #: test images measured after each epoch (the book: all 10,000)
    test_samples: int = 10000
    hidden_layers: int = 6
    units: int = 100
    lr: float = 0.01
    batch_size: int = 100
    epochs: int = 301
    #: arm -> {"weight_decay": λ} and/or {"dropout": rate}
    arms: dict = field(default_factory=lambda: {"none": {}, "weight_decay": {"weight_decay": 0.1},
                                                "dropout": {"dropout": 0.2}})
    dropout_variant: str = "book"

    @classmethod
    def quick(cls) -> "Settings":
        return cls(epochs=100, test_samples=500)


def run(settings: Settings | dict | None = None, seed: int = 0, progress: Progress | None = None,
        cancel: Cancel | None = None, data_dir: str | None = None) -> dict:
    s = settings_from(Settings, settings)
    for key in ("train_samples", "test_samples", "hidden_layers", "units", "batch_size", "epochs"):
        positive(getattr(s, key), key)
    positive(s.lr, "lr", whole=False)
    batches = -(-s.train_samples // s.batch_size)
    report = Reporter(progress, cancel, len(s.arms) * s.epochs * batches)
    report(0, "loading MNIST")
    data = mnist(data_dir, s.train_samples, s.test_samples)
    arms = {}
    for i, (name, arm) in enumerate(s.arms.items()):
        rate = arm.get("dropout")
        spec = mlp_spec(data.input_shape, [s.units] * s.hidden_layers, 10, "relu", "he_normal",
                        dropout={"rate": rate, "variant": s.dropout_variant} if rate else None)
        net = Network(spec, seed=seed)
        train: list[float] = []
        test: list[float] = []

        def measure(epoch: int, logs: dict, net=net, train=train, test=test) -> None:
            train.append(train_accuracy(net, data))
            test.append(float(logs["val_accuracy"]))

        training = {"optimizer": {"type": "sgd", "lr": s.lr}, "batch_size": s.batch_size, "epochs": s.epochs,
                    "seed": seed, "weight_decay": float(arm.get("weight_decay", 0.0))}
        trainer, _ = train_arm(net, data, training, report, offset=i * s.epochs * batches, label=name,
                               on_epoch=measure, threads=1)
        running = [h["running_accuracy"] for h in trainer.history]
        arms[name] = {"train": train[-1], "test": test[-1], "gap": train[-1] - test[-1],
                      "running_train": running[-1], "curves": {"train": rounded(train, 4), "test": rounded(test, 4),
                                                               "running_train": rounded(running, 4)},
                      "settings": dict(arm)}
    base = arms.get("none")
    parts = [f"{n}: train {a['train']:.2f}, test {a['test']:.2f}, gap {a['gap']:.2f}" for n, a in arms.items()]
    if base is not None:
        shrunk = [n for n, a in arms.items() if n != "none" and a["gap"] < base["gap"]]
        parts.append(f"the gap shrinks with {', '.join(shrunk) if shrunk else 'no arm'}")
    return {"arms": arms, "verdict": "; ".join(parts)}
