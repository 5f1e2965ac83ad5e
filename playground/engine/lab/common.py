"""What the book's labs share: settings with quick variants, progress and cancel, training arms with the Trainer.

A lab module holds a ``Settings`` dataclass (the book's numbers as defaults,
``Settings.quick()`` a small variant for tests and a first look) and
``run(settings, seed, progress=None, cancel=None)`` returning a JSON-able dict
with a one-line ``verdict``. ``progress(fraction, message)`` is called between
steps; ``cancel()`` is asked there too, and a True answer ends the run with
:class:`LabCancelled`. Arms train with the engine's
:class:`~playground.engine.train.trainer.Trainer`, never a loop of their own.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from playground.engine.data.datasets import Dataset, make_dataset
from playground.engine.errors import SpecError
from playground.engine.nn.network import Network
from playground.engine.train.trainer import TrainConfig, Trainer, evaluate

Progress = Callable[[float, str], None]
Cancel = Callable[[], bool]


class LabCancelled(Exception):
    """A lab stopped because its ``cancel`` flag said so."""


def settings_from(cls: type, given: Any = None, quick: bool = False) -> Any:
    """``cls`` (a lab's Settings) from None, an instance or a dict of changes to the defaults
    (the quick ones with ``quick``); an unknown key raises SpecError listing the known ones."""
    if isinstance(given, cls):
        return given
    base = cls.quick() if quick else cls()
    if given is None:
        return base
    if not isinstance(given, Mapping):
        raise SpecError(f"lab settings must be a dict of names to values, got {type(given).__name__}")
    known = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise SpecError(f"unknown lab setting {', '.join(map(repr, unknown))}; this lab's settings are: "
                        f"{', '.join(known)}")
    return dataclasses.replace(base, **dict(given))


class Reporter:
    """Progress over ``total`` units of work, and the cancel flag, for one run."""

    def __init__(self, progress: Progress | None, cancel: Cancel | None, total: float):
        self.progress = progress
        self.cancel = cancel
        self.total = max(float(total), 1.0)

    def __call__(self, done: float, message: str) -> None:
        """Report ``done`` units; raise LabCancelled when the flag is up."""
        if self.progress is not None:
            self.progress(min(done / self.total, 1.0), message)
        self.check()

    def check(self) -> None:
        if self.cancel is not None and self.cancel():
            raise LabCancelled("stopped by request")


class _ArmHook:
    """A Trainer callback: batch losses, progress, cancel, and a stop after ``max_steps`` batches."""

    def __init__(self, reporter: Reporter, offset: float, label: str, max_steps: int | None,
                 on_epoch: Callable[[int, dict], None] | None):
        self.reporter, self.offset, self.label = reporter, offset, label
        self.max_steps, self.on_epoch = max_steps, on_epoch
        self.losses: list[float] = []
        self.control = None
        self.cancelled = False

    def on_batch_end(self, step: int, logs: dict) -> None:
        self.losses.append(float(logs["loss"]))
        if self.max_steps is not None and step >= self.max_steps:
            self.control.cancel()
        if self.reporter.progress is not None and (step % 20 == 0 or step == self.max_steps):
            self.reporter.progress(min((self.offset + step) / self.reporter.total, 1.0),
                                   f"{self.label}: batch {step}")
        if self.reporter.cancel is not None and self.reporter.cancel():
            self.cancelled = True
            self.control.cancel()

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        if self.on_epoch is not None:
            self.on_epoch(epoch, logs)


def train_arm(net: Network, data: Dataset, training: Mapping[str, Any], reporter: Reporter, offset: float = 0,
              label: str = "", max_steps: int | None = None,
              on_epoch: Callable[[int, dict], None] | None = None,
              threads: int | None = None) -> tuple[Trainer, list[float]]:
    """Train ``net`` on ``data`` with the ``training`` settings (a project's training section).

    Returns the trainer (its ``history`` and ``status``) and the loss of every
    batch. With ``max_steps`` training stops after that many batches, within
    an epoch if need be; ``on_epoch(epoch, logs)`` runs after each whole epoch.
    With ``threads`` 1 the arm trains in this thread, OpenBLAS too: for small
    networks and short arms a helper process and BLAS threads cost more than
    they bring (a batch-norm arm of 50 batches: 5 s instead of 0.9 s).
    """
    hook = _ArmHook(reporter, offset, label, max_steps, on_epoch)
    trainer = Trainer(net, data, TrainConfig.from_dict(training), callbacks=[hook], threads=threads)
    hook.control = trainer.control
    with _blas_threads(threads):
        trainer.run()
    if hook.cancelled:
        raise LabCancelled("stopped by request")
    reporter(offset + trainer.step, f"{label}: done")
    return trainer, hook.losses


def _blas_threads(threads: int | None) -> contextlib.AbstractContextManager:
    """OpenBLAS held to one thread when ``threads`` is 1 (and threadpoolctl, a dependency, is there)."""
    if threads != 1:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def epochs_for(steps: int, batch_size: int, samples: int) -> int:
    """Epochs that hold at least ``steps`` batches of ``batch_size`` from ``samples`` samples."""
    return max(1, math.ceil(steps / math.ceil(samples / min(batch_size, samples))))


def accuracy(net: Network, x: np.ndarray, y: np.ndarray) -> float:
    """Accuracy on (x, y) in inference mode (dropout off, batch-norm running statistics). A network
    whose weights blew up gets its (chance) accuracy without warnings about it."""
    with np.errstate(all="ignore"):
        return float(evaluate(net, x, y)["accuracy"])


def train_accuracy(net: Network, data: Dataset) -> float:
    """:func:`accuracy` on the training samples."""
    return accuracy(net, data.x_train, data.y_train)


def mnist(data_dir: str | None, limit: int | None = None, val_limit: int | None = None) -> Dataset:
    """MNIST, the first ``limit`` training and ``val_limit`` test images (all when None)."""
    return make_dataset({"name": "mnist", "data_dir": data_dir, "limit": limit, "val_limit": val_limit})


def mlp_spec(input_shape: Sequence[int], hidden: Sequence[int], outputs: int, activation: str = "relu",
             init: Any = "he_normal", batchnorm: Mapping[str, Any] | None = None,
             dropout: Mapping[str, Any] | None = None, loss: str = "softmax_cross_entropy") -> dict[str, Any]:
    """The book's MultiLayerNet(Extend): (Flatten for images,) [Dense → (BatchNorm) → activation → (Dropout)] per
    hidden layer, then Dense (and Softmax for cross-entropy); every Dense drawn with ``init``. ``batchnorm`` and
    ``dropout``, when given (even empty), are the settings of those layers."""
    layers: list[dict[str, Any]] = [{"type": "Flatten"}] if len(input_shape) > 1 else []
    for units in hidden:
        if batchnorm is not None:
            layers += [{"type": "Dense", "units": int(units), "init": init}, {"type": "BatchNorm", **batchnorm},
                       {"type": activation}]
        else:
            layers.append({"type": "Dense", "units": int(units), "init": init, "activation": activation})
        if dropout is not None:
            layers.append({"type": "Dropout", **dropout})
    layers.append({"type": "Dense", "units": int(outputs), "init": init})
    if loss == "softmax_cross_entropy":
        layers.append({"type": "Softmax"})
    return {"input_shape": list(input_shape), "layers": layers, "loss": loss}


def rounded(values: Any, digits: int = 5) -> Any:
    """Floats (in nested lists) rounded to ``digits`` significant digits, for compact JSON."""
    if isinstance(values, np.ndarray):
        values = values.tolist()
    if isinstance(values, (list, tuple)):
        return [rounded(v, digits) for v in values]
    v = float(values)
    return float(f"{v:.{digits}g}") if math.isfinite(v) else None


def strict_json(value: Any) -> Any:
    """``value`` with NumPy numbers made Python ones and non-finite floats made None, so that
    ``json.dumps(..., allow_nan=False)`` takes it (a blown-up arm's loss is not a number)."""
    if isinstance(value, Mapping):
        return {str(k): strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return strict_json(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


def tail_mean(values: Sequence[float], share: float = 0.1) -> float:
    """The mean of the last ``share`` of ``values`` (at least one): a final loss that one noisy batch
    does not decide."""
    n = max(1, int(len(values) * share))
    return float(np.mean(values[-n:]))


def positive(value: Any, what: str, whole: bool = True) -> None:
    """Raise SpecError unless ``value`` is a whole number >= 1 (or, with ``whole`` False, a number > 0)."""
    ok = (not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))
          and math.isfinite(value) and value > 0 and (not whole or value == int(value)))
    if not ok:
        raise SpecError(f"lab setting {what!r} must be {'a whole number >= 1' if whole else 'a number > 0'}, "
                        f"got {value!r}")


def loss_curves(data: Dataset, arms: Mapping[str, tuple[dict, dict]], steps: int, seed: int,
                reporter: Reporter) -> dict[str, dict[str, Any]]:
    """Train each arm ``name: (network spec, training settings)`` for ``steps`` batches on ``data``,
    every arm from the same seed (the same batches; the same weights where the specs agree).

    Returns per arm: ``loss`` (every batch's), ``final_loss`` (the mean of the last tenth),
    ``test_accuracy`` (on ``data``'s validation images) and ``diverged``.
    """
    out = {}
    n = len(data.x_train)
    for i, (name, (spec, training)) in enumerate(arms.items()):
        net = Network(spec, seed=seed, input_shape=data.input_shape)
        epochs = epochs_for(steps, int(training["batch_size"]), n)
        trainer, losses = train_arm(net, data, {**training, "epochs": epochs, "seed": seed}, reporter,
                                    offset=i * steps, label=name, max_steps=steps, threads=1)
        diverged = trainer.status["status"] == "diverged"
        out[name] = {"loss": rounded(losses[:steps]), "final_loss": tail_mean(losses[:steps]),
                     "test_accuracy": accuracy(net, data.x_val, data.y_val),
                     "diverged": diverged}
    return out
