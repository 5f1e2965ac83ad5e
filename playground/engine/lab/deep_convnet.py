"""Chapter 8: the book's deep convnet (the deep-convnet preset), and the test digits it gets wrong.

The book's ch08/train_deepnet.py and misclassified_mnist.py: six 3×3 conv
layers with ReLU, three max-pools, dense 50, dropout 0.5, dense 10, dropout
0.5, He initialization, Adam (lr 0.001), batches of 100, 20 epochs; then the
misclassified test digits as a gallery, each with its label and the
network's guess. Twenty epochs take hours in NumPy: ``model`` evaluates a
trained model file instead (``playground train deep-convnet --out FILE``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from playground.engine.lab.common import (Cancel, Progress, Reporter, mnist, positive, rounded, settings_from,
                                          train_arm)
from playground.engine.nn.network import Network
from playground.engine.project import load_model, load_preset

PRESET = "deep-convnet"


@dataclass
class Settings:
    epochs: int = 20
    train_samples: int = 60000
    test_samples: int = 10000
    #: a trained model file to evaluate instead of training
    model: str | None = None
    #: misclassified digits in the gallery (the book shows 20)
    gallery: int = 20

    @classmethod
    def quick(cls) -> "Settings":
        return cls(epochs=1, train_samples=500, test_samples=200)


def run(settings: Settings | dict | None = None, seed: int = 0, progress: Progress | None = None,
        cancel: Cancel | None = None, data_dir: str | None = None) -> dict:
    s = settings_from(Settings, settings)
    for key in ("epochs", "train_samples", "test_samples", "gallery"):
        positive(getattr(s, key), key)
    project = load_preset(PRESET)
    training = {**project["training"], "epochs": s.epochs, "seed": seed}
    batches = -(-s.train_samples // training["batch_size"])
    report = Reporter(progress, cancel, 1 if s.model else s.epochs * batches)
    report(0, "loading MNIST")
    data = mnist(data_dir, 1 if s.model else s.train_samples, s.test_samples)
    history = []
    if s.model:
        net, _ = load_model(s.model)
    else:
        net = Network(project["network"], seed=seed)
        trainer, _ = train_arm(net, data, training, report, label=PRESET)
        history = [{"epoch": h["epoch"], "loss": h["loss"], "test_accuracy": h["val_accuracy"]}
                   for h in trainer.history]
    probs = net.predict(data.x_val)
    pred = probs.argmax(axis=1)
    wrong = np.flatnonzero(pred != data.y_val)
    pairs = Counter(zip(data.y_val[wrong].tolist(), pred[wrong].tolist())).most_common(5)
    gallery = [{"index": int(i), "label": int(data.y_val[i]), "predicted": int(pred[i]),
                "confidence": float(probs[i, pred[i]]), "image": rounded(data.x_val[i, 0], 3)}
               for i in wrong[:s.gallery]]
    acc = 1.0 - len(wrong) / len(pred)
    common = ", ".join(f"{a} read as {b} ({n})" for (a, b), n in pairs[:3])
    verdict = (f"test accuracy {acc:.4f}: {len(wrong)} of {len(pred):,} test digits misclassified"
               + (f"; most often {common}" if common else ""))
    return {"test_accuracy": acc, "misclassified": len(wrong), "tested": len(pred), "gallery": gallery,
            "confusions": [{"label": a, "predicted": b, "count": n} for (a, b), n in pairs],
            "epochs": history, "trained": not s.model, "verdict": verdict}
