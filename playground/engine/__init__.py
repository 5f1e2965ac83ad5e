"""The NumPy deep-learning engine, with a small public API for notebooks and scripts. It never imports Qt.

::

    from playground import engine

    project = engine.load_preset("mlp-mnist")              # or engine.load_project("my.json")
    net = engine.Network(project["network"], seed=0)
    data = engine.make_dataset(project["dataset"])          # MNIST, spiral, xor, sin, ...
    trainer = engine.Trainer(net, engine.TrainConfig.from_dict(project["training"]))
    for log in trainer.fit(data):                           # one dict per epoch
        print(log["epoch"], log["val_accuracy"])
    engine.save_model(net, "model.npz", project=project)
    net = engine.load_model("model.npz")

The rooms: :mod:`.nn` (layers, losses, initializers, optimizers, the network),
:mod:`.train` (the trainer and the worker process), :mod:`.data` (MNIST and
generated sets), :mod:`.lab` (the optimizer lab), :mod:`.export` (ONNX, NumPy
and PyTorch files of a trained network). Names are imported on first
use, so ``import playground.engine.errors`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

#: public name -> the module that defines it
_API = {
    "Network": "playground.engine.nn.network",
    "check_spec": "playground.engine.nn.network",
    "copy_network": "playground.engine.nn.network",
    "LAYERS": "playground.engine.nn.layers",
    "OPTIMIZERS": "playground.engine.nn.optimizers",
    "get_optimizer": "playground.engine.nn.optimizers",
    "SGD": "playground.engine.nn.optimizers",
    "Momentum": "playground.engine.nn.optimizers",
    "Nesterov": "playground.engine.nn.optimizers",
    "AdaGrad": "playground.engine.nn.optimizers",
    "RMSProp": "playground.engine.nn.optimizers",
    "Adam": "playground.engine.nn.optimizers",
    "AdamW": "playground.engine.nn.optimizers",
    "gradient_check": "playground.engine.nn.gradcheck",
    "Trainer": "playground.engine.train.trainer",
    "TrainConfig": "playground.engine.train.trainer",
    "evaluate": "playground.engine.train.trainer",
    "Dataset": "playground.engine.data.datasets",
    "DATASETS": "playground.engine.data.datasets",
    "make_dataset": "playground.engine.data.datasets",
    "load_mnist": "playground.engine.data.mnist",
    "download_mnist": "playground.engine.data.mnist",
    "load_preset": "playground.engine.project",
    "load_project": "playground.engine.project",
    "resolve_project": "playground.engine.project",
    "save_project": "playground.engine.project",
    "load_model": "playground.engine.project",
    "save_model": "playground.engine.project",
    "PlaygroundError": "playground.engine.errors",
    "export_network": "playground.engine.export.files",
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'playground.engine' has no attribute {name!r}; public names: {', '.join(__all__)}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
