"""The book's labs by name: module, chapter, title and a one-line summary, and how to run one.

``run_lab(name, settings, quick, seed, progress, cancel, data_dir)`` runs a lab
and returns its result with ``lab``, ``chapter``, ``title``, ``seed``,
``quick``, ``settings`` (every setting used) and ``seconds`` added, as strict
JSON (a number that is not finite becomes null). An unknown name raises
:class:`SpecError` listing the known ones.
"""

from __future__ import annotations

import dataclasses
import importlib
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from playground.engine.errors import SpecError
from playground.engine.lab.common import Cancel, Progress, settings_from, strict_json


@dataclass(frozen=True)
class LabInfo:
    name: str
    module: str
    chapter: str
    title: str
    summary: str
    #: whether the lab may read MNIST (and so takes ``data_dir``)
    data_dir: bool = False


LABS: dict[str, LabInfo] = {info.name: info for info in (
    LabInfo("perceptron", "perceptron", "2", "Perceptrons: AND, OR, NAND and XOR",
            "The book's gate weights, their truth tables and lines; XOR needs two layers."),
    LabInfo("activations", "activations_lab", "3", "Activation functions and their derivatives",
            "Step, sigmoid, tanh, ReLU, LeakyReLU, ELU, softmax; sigmoid' peaks at 0.25."),
    LabInfo("gradcheck", "gradcheck_lab", "4-5", "Gradient check: backprop against central differences",
            "Relative error per parameter tensor, and how much slower the numerical gradient is.", True),
    LabInfo("optimizers-mnist", "optimizers_mnist", "6.1", "Optimizers on MNIST",
            "SGD, Momentum, Nesterov, AdaGrad, RMSProp and Adam on the same batches: loss curves.", True),
    LabInfo("init-histograms", "init_histograms", "6.2", "Initial weights and activation histograms",
            "Std 1, std 0.01, the book's Xavier (LeCun) and He through five layers of sigmoid, tanh, ReLU."),
    LabInfo("init-mnist", "init_mnist", "6.2", "Initial weights on MNIST",
            "Std 0.01 against the book's Xavier (LeCun) and He: 2,000 iterations of SGD.", True),
    LabInfo("batchnorm", "batchnorm_lab", "6.3", "Batch normalization at 16 weight scales",
            "Training accuracy with and without batch norm, 1,000 images, 20 epochs per scale.", True),
    LabInfo("overfitting", "overfitting", "6.4", "Overfitting, weight decay and dropout",
            "300 images, six layers: the train-test gap without help, with weight decay, with dropout.", True),
    LabInfo("filters", "filters", "7", "Convolution filters before and after training",
            "SimpleConvNet's 30 first-layer filters, and what each does to a digit.", True),
    LabInfo("deep-convnet", "deep_convnet", "8", "The deep convnet and its mistakes",
            "The book's chapter-8 network, then the test digits it misclassifies.", True),
    LabInfo("sin-regression", "sin_regression", "extra", "Fitting sin(x), and failing past the data",
            "Seven ReLU layers fit sin on [0, 20) and miss it beyond: extrapolation is not learning."),
)}


def lab_info(name: str) -> LabInfo:
    info = LABS.get(name)
    if info is None:
        raise SpecError(f"unknown lab {name!r}; labs: {', '.join(LABS)}")
    return info


def lab_module(name: str) -> ModuleType:
    """The module of lab ``name``: its ``Settings`` and ``run``."""
    return importlib.import_module(f"playground.engine.lab.{lab_info(name).module}")


def default_settings(name: str, quick: bool = False) -> dict[str, Any]:
    """The lab's settings (the book's numbers, or the quick variant) as a plain dict."""
    return dataclasses.asdict(settings_from(lab_module(name).Settings, None, quick))


def run_lab(name: str, settings: dict[str, Any] | None = None, quick: bool = False, seed: int = 0,
            progress: Progress | None = None, cancel: Cancel | None = None,
            data_dir: str | None = None) -> dict[str, Any]:
    """Run lab ``name`` with ``settings`` (changes to its defaults, or to its quick defaults with ``quick``)."""
    info = lab_info(name)
    module = lab_module(name)
    s = settings_from(module.Settings, settings, quick)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SpecError(f"the seed must be a whole number >= 0, got {seed!r}")
    extra = {"data_dir": data_dir} if info.data_dir else {}
    t0 = time.perf_counter()
    result = module.run(s, seed=seed, progress=progress, cancel=cancel, **extra)
    return strict_json({"lab": name, "chapter": info.chapter, "title": info.title, "seed": seed, "quick": quick,
                        "settings": dataclasses.asdict(s), **result, "seconds": time.perf_counter() - t0})
