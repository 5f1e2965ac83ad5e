"""Chapter 7: SimpleConvNet's first-layer filters before and after training, and what they do to a digit.

The book's ch07/train_convnet.py and visualize_filter.py: conv 30@5×5 + ReLU,
max-pool 2, dense 100 + ReLU, dense 10, weights N(0, 0.01²) (the book's
SimpleConvNet; He is a setting away), Adam with lr 0.001, batches of 100, 20
epochs. Before training the filters are noise; after it, smooth strokes and
edges. ``smoothness`` measures that: the mean correlation of horizontally and
vertically neighbouring weights of a filter (near 0 for noise). ``responses``
are the 30 filters applied to one test digit (ch07/apply_filter.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from playground.engine.lab.common import (Cancel, Progress, Reporter, accuracy, mnist, positive, rounded,
                                          settings_from, train_arm)
from playground.engine.nn.network import Network


@dataclass
class Settings:
    filters: int = 30
    kernel: int = 5
    #: the book's SimpleConvNet draws every weight from N(0, 0.01²); try "he_normal"
    init: dict | str = field(default_factory=lambda: {"type": "normal", "std": 0.01})
    lr: float = 0.001
    batch_size: int = 100
    epochs: int = 20
    train_samples: int = 60000
    test_samples: int = 1000
    #: which test image the filters are applied to
    digit_index: int = 0

    @classmethod
    def quick(cls) -> "Settings":
        return cls(epochs=1, train_samples=3000, test_samples=500)


def spec(s: Settings) -> dict:
    return {"input_shape": [1, 28, 28], "loss": "softmax_cross_entropy", "layers": [
        {"type": "Conv2D", "filters": s.filters, "kernel": s.kernel, "activation": "relu", "init": s.init},
        {"type": "MaxPool2D", "pool": 2, "stride": 2}, {"type": "Flatten"},
        {"type": "Dense", "units": 100, "activation": "relu", "init": s.init},
        {"type": "Dense", "units": 10, "init": s.init}, {"type": "Softmax"}]}


def smoothness(w: np.ndarray) -> float:
    """Mean over filters (F, C, k, k) of the correlation between neighbouring weights, across and down."""
    out = []
    for f in w.reshape(-1, *w.shape[-2:]):
        for a, b in ((f[:, :-1], f[:, 1:]), (f[:-1, :], f[1:, :])):
            a, b = a.ravel() - a.mean(), b.ravel() - b.mean()
            den = np.sqrt((a @ a) * (b @ b))
            out.append(float(a @ b / den) if den > 0 else 0.0)
    return float(np.mean(out))


def run(settings: Settings | dict | None = None, seed: int = 0, progress: Progress | None = None,
        cancel: Cancel | None = None, data_dir: str | None = None) -> dict:
    s = settings_from(Settings, settings)
    for key in ("filters", "kernel", "batch_size", "epochs", "train_samples", "test_samples"):
        positive(getattr(s, key), key)
    positive(s.lr, "lr", whole=False)
    batches = -(-s.train_samples // s.batch_size)
    report = Reporter(progress, cancel, s.epochs * batches)
    report(0, "loading MNIST")
    data = mnist(data_dir, s.train_samples, s.test_samples)
    net = Network(spec(s), seed=seed)
    conv = net.layers[0]
    before = conv.params["W"].copy()
    accuracy_before = accuracy(net, data.x_val, data.y_val)
    trainer, _ = train_arm(net, data, {"optimizer": {"type": "adam", "lr": s.lr}, "batch_size": s.batch_size,
                                       "epochs": s.epochs, "seed": seed}, report, label="SimpleConvNet")
    after = conv.params["W"].copy()
    digit = data.x_val[int(s.digit_index) % len(data.x_val)][None]
    responses = conv.forward(digit, training=False)[0]          # (filters, 24, 24), before the ReLU
    test_acc = accuracy(net, data.x_val, data.y_val)
    sb, sa = smoothness(before), smoothness(after)
    verdict = (f"after {s.epochs} epoch{'s' if s.epochs != 1 else ''} (test accuracy {accuracy_before:.2f} → "
               f"{test_acc:.3f}) neighbouring filter weights correlate {sa:.2f} on average, against {sb:.2f} "
               f"at the start: the noise became {'strokes and edges' if sa > sb + 0.1 else 'hardly any pattern yet'}")
    return {"filters_before": rounded(before[:, 0], 4), "filters_after": rounded(after[:, 0], 4),
            "smoothness_before": sb, "smoothness_after": sa, "digit": rounded(digit[0, 0], 3),
            "digit_label": int(data.y_val[int(s.digit_index) % len(data.y_val)]),
            "responses": rounded(responses, 4), "test_accuracy": test_acc, "test_accuracy_before": accuracy_before,
            "epochs": [{"epoch": h["epoch"], "loss": h["loss"], "test_accuracy": h["val_accuracy"]}
                       for h in trainer.history], "verdict": verdict}
