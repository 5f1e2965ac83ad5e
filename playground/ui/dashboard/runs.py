"""Run history, Qt-free: each run's settings and curves, and the settings a clone may change.

A :class:`Run` keeps a deep copy of the project it trained, so it can be
cloned later even after the document has changed. Curves live in
:class:`Series`, growing arrays that double when full, so appending a batch
is cheap and plotting takes views without copying.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from playground.engine.data.datasets import DATASET_KINDS
from playground.engine.errors import SpecError
from playground.engine.nn.optimizers import OPTIMIZERS as _OPTIMIZER_CLASSES, get_optimizer

#: distinct colors for runs (Tableau 10), cycled
RUN_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
              "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"]

SMOOTHING = 0.9  # exponential moving average weight of the past (debiased)


class Series:
    """Columns of floats that grow by doubling; ``view(name)`` is the filled part."""

    def __init__(self, *names: str, capacity: int = 256):
        self.names = names
        self.n = 0
        self._cols = {k: np.full(capacity, np.nan) for k in names}

    def append(self, **values: float | None) -> None:
        if self.n == len(next(iter(self._cols.values()))):
            for k, col in self._cols.items():
                grown = np.full(2 * len(col), np.nan)
                grown[: self.n] = col
                self._cols[k] = grown
        for k in self.names:
            v = values.get(k)
            self._cols[k][self.n] = np.nan if v is None else v
        self.n += 1

    def view(self, name: str) -> np.ndarray:
        return self._cols[name][: self.n]

    def last(self, name: str) -> float | None:
        if not self.n:
            return None
        v = self._cols[name][self.n - 1]
        return None if math.isnan(v) else float(v)

    def __len__(self) -> int:
        return self.n


class Smoother:
    """Debiased exponential moving average, as TensorBoard draws it."""

    def __init__(self, weight: float = SMOOTHING):
        self.w = weight
        self.acc = 0.0
        self.norm = 0.0

    def __call__(self, value: float | None) -> float | None:
        if value is None or not math.isfinite(value):
            return None
        self.acc = self.w * self.acc + (1 - self.w) * value
        self.norm = self.w * self.norm + (1 - self.w)
        return self.acc / self.norm


@dataclass
class Run:
    """One training run: its settings, its curves and how it ended."""

    number: int
    project: dict
    color: str
    note: str = ""  # what a clone changed, e.g. "lr 0.01 → 0.1"
    status: str = "starting"  # starting, running, paused, finished, cancelled, diverged, error
    message: str = ""
    epochs: int = 0
    batches: int = 0
    batch: Series = field(default_factory=lambda: Series("x", "step", "loss", "loss_s", "acc", "acc_s", "lr"))
    #: per epoch: loss and acc measured in inference mode, running_* the means over its batches as they trained
    epoch: Series = field(default_factory=lambda: Series("x", "loss", "acc", "running_loss", "running_acc",
                                                         "val_loss", "val_acc", "val_r2"))
    grad_norms: dict[str, Series] = field(default_factory=dict)
    histograms: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    act_stats: dict[str, dict[str, float]] = field(default_factory=dict)
    shown: bool = False  # overlaid in the plots although not the current run
    stats_version: int = 0  # counts the statistics batches taken in (the health panel redraws on a change)
    #: optimizer settings changed during the run: (epoch position of the first batch using them, {setting: value})
    changes: list[tuple[float, dict[str, float]]] = field(default_factory=list)

    def __post_init__(self):
        self._loss_s = Smoother()
        self._acc_s = Smoother()

    @property
    def name(self) -> str:
        return f"Run {self.number}"

    def add_batches(self, snap: dict[str, Any]) -> None:
        """Append a worker ``progress`` snapshot's batches and statistics."""
        for i, step in enumerate(snap["steps"]):
            loss = snap["loss"][i]
            acc = snap["accuracy"][i]
            self.batch.append(x=snap["epoch_pos"][i], step=step, loss=loss, loss_s=self._loss_s(loss),
                              acc=acc, acc_s=self._acc_s(acc), lr=snap["lr"][i])
        self.changes.extend((float(x), dict(c)) for x, c in snap.get("changes") or ())
        stats = snap.get("stats") or ([snap["last"]] if "histograms" in snap.get("last", {}) else [])
        for logs in stats:
            x = logs["epoch"] - 1 + logs["batch"] / logs["batches"]
            for key, value in logs.items():
                if key.startswith("grad_norm/"):
                    layer = key.split("/", 1)[1]
                    self.grad_norms.setdefault(layer, Series("x", "norm")).append(x=x, norm=value)
                elif key.startswith(("act_mean/", "act_std/", "dead_fraction/")):
                    kind, layer = key.split("/", 1)
                    self.act_stats.setdefault(layer, {})[kind] = value
            if logs.get("histograms"):
                self.histograms = dict(logs["histograms"])
            self.stats_version += 1

    def add_epoch(self, logs: dict[str, Any]) -> None:
        self.epoch.append(x=float(logs["epoch"]), loss=logs.get("loss"), acc=logs.get("accuracy"),
                          running_loss=logs.get("running_loss"), running_acc=logs.get("running_accuracy"),
                          val_loss=logs.get("val_loss"), val_acc=logs.get("val_accuracy"), val_r2=logs.get("val_r2"))
        # without per-batch statistics the trainer reports gradient norms at epoch ends
        for key, value in logs.items():
            if key.startswith("grad_norm/"):
                layer = key.split("/", 1)[1]
                self.grad_norms.setdefault(layer, Series("x", "norm")).append(x=float(logs["epoch"]), norm=value)

    def summary(self) -> str:
        """The settings in one line: optimizer, lr, batch size, epochs, seed (and any changed during the run)."""
        text = settings_summary(self.project)
        if self.changes:
            text += " · changed during the run: " + "; ".join(
                ", ".join(f"{k} {v:g}" for k, v in c.items()) + f" at epoch {x:.2f}" for x, c in self.changes)
        return text

    def comparable_key(self) -> tuple[str, str]:
        """What a run can be compared with: see :func:`comparable_key`."""
        return comparable_key(self.project)

    def network_text(self) -> str:
        """The network trained, e.g. "spiral · 5 blocks"."""
        return network_text(self.project)

    def dataset_text(self) -> str:
        dataset = self.project.get("dataset") or {}
        return str(dataset.get("name", "?")) if isinstance(dataset, dict) else "?"

    def epoch_records(self) -> list[dict[str, Any]]:
        """One dict per finished epoch, under the names ``playground train`` prints (None: not measured);
        a measure no epoch has (``val_r2`` of a classifier) is left out."""
        names = [(ours, EPOCH_KEYS[ours]) for ours in self.epoch.names if ours != "x"]
        kept = [(ours, key) for ours, key in names if np.isfinite(self.epoch.view(ours)).any()]
        return [{"epoch": int(e), **{key: _value(self.epoch.view(ours)[i]) for ours, key in kept}}
                for i, e in enumerate(self.epoch.view("x"))]

    def result(self) -> str:
        """The latest validation numbers, e.g. "val loss 0.123 · val acc 97.5%"."""
        parts = []
        vl, va = self.epoch.last("val_loss"), self.epoch.last("val_acc")
        if vl is not None:
            parts.append(f"val loss {vl:.4g}")
        if va is not None:
            parts.append(f"val acc {100 * va:.1f}%")
        if not parts and self.batch.last("loss_s") is not None:
            parts.append(f"loss {self.batch.last('loss_s'):.4g}")
        return " · ".join(parts)


def describe_end(run: Run, counts: dict[str, int]) -> tuple[str, str, tuple[str, str] | None]:
    """How ``run`` ended: (the progress bar's text, the status line, a banner's (title, text) or None).

    A stopped run names the last batch reported (``counts``): every batch it
    trained was reported before it ended, so the bar and the status agree.
    """
    name, status = run.name, run.status
    if status == "finished":
        return f"{name} finished", f"{name} finished · {run.result()}", None
    if status == "cancelled":
        text = (f"{name} stopped after epoch {counts['epoch']}, batch {counts['batch']}" if counts.get("step")
                else f"{name} stopped before its first batch")
        return text, text, None
    if status == "diverged":
        return (f"{name} diverged", f"{name} diverged: {run.message}",
                (f"{name} diverged:", run.message + ". Change the setting, press Reset or Start to train again "
                 "(or Clone run to try one change)."))
    return f"{name} failed", f"{name} failed: {run.message}", (f"{name} failed:", run.message)


def plural(n: int, word: str) -> str:
    """"1 epoch", "2 epochs"."""
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def comparable_key(project: dict) -> tuple[str, str]:
    """Runs are comparable (overlaid in one plot) when they learn the same data set, hence the same task."""
    dataset = project.get("dataset") or {}
    name = str(dataset.get("name", "?")) if isinstance(dataset, dict) else "?"
    return name, DATASET_KINDS.get(name, "?")


def network_text(project: dict) -> str:
    """The project's name and the number of blocks of its network (each entry of the spec is one block)."""
    layers = (project.get("network") or {}).get("layers") or []
    return f"{project.get('name') or 'untitled'} · {plural(len(layers), 'block')}"


#: our per-epoch series and the names ``playground train`` gives them
EPOCH_KEYS = {"loss": "loss", "acc": "accuracy", "running_loss": "running_loss", "running_acc": "running_accuracy",
              "val_loss": "val_loss", "val_acc": "val_accuracy", "val_r2": "val_r2"}


def _value(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


def settings_summary(project: dict) -> str:
    t = project.get("training", {})
    opt = t.get("optimizer", {})
    opt = {"type": opt} if isinstance(opt, str) else opt
    parts = [f"{opt.get('type', '?')} lr {opt.get('lr', '?'):g}" if isinstance(opt.get("lr"), (int, float))
             else str(opt.get("type", "?"))]
    sched = t.get("schedule")
    if sched:
        parts.append(sched.get("type", "schedule") if isinstance(sched, dict) else str(sched))
    parts.append(f"batch {t.get('batch_size', '?')}")
    epochs = t.get("epochs", "?")
    parts.append(plural(epochs, "epoch") if isinstance(epochs, int) else f"{epochs} epochs")
    if t.get("weight_decay"):
        parts.append(f"wd {t['weight_decay']:g}")
    if t.get("clip_norm"):
        parts.append(f"clip {t['clip_norm']:g}")
    for i, layer in _dropout_layers(project):
        parts.append(f"dropout {layer.get('rate', 0.5):g}")
    parts.append(f"seed {t.get('seed', 0)}")
    return " · ".join(parts)


# ---------------------------------------------------------------- clone settings

@dataclass(frozen=True)
class Setting:
    """One setting a clone may change: how to read it and how to write it into a project."""

    key: str
    label: str
    kind: str  # "float", "int", "choice", "optional_float"
    get: Callable[[dict], Any]
    set: Callable[[dict, Any], None]
    help: str
    choices: tuple[str, ...] = ()
    minimum: float = 0.0
    maximum: float = 1e9


OPTIMIZERS = tuple(_OPTIMIZER_CLASSES)


def _opt(project: dict) -> dict:
    t = project.setdefault("training", {})
    opt = t.get("optimizer") or {"type": "adam", "lr": 0.001}
    if isinstance(opt, str):
        opt = {"type": opt}
    t["optimizer"] = opt
    return opt


def _set_lr(p: dict, v: float) -> None:
    _opt(p)["lr"] = float(v)


def _set_optimizer(p: dict, v: str) -> None:
    lr = _opt(p).get("lr", get_optimizer(v).lr)
    p["training"]["optimizer"] = {"type": v, "lr": lr}  # the new optimizer's own defaults for the rest


def _training_setter(key: str, cast: Callable[[Any], Any]) -> Callable[[dict, Any], None]:
    def set_(p: dict, v: Any) -> None:
        p.setdefault("training", {})[key] = None if v is None else cast(v)
    return set_


def _dropout_layers(project: dict) -> list[tuple[int, dict]]:
    return [(i, l) for i, l in enumerate(project.get("network", {}).get("layers", []))
            if isinstance(l, dict) and str(l.get("type", "")).lower() == "dropout"]


def clone_settings(project: dict) -> list[Setting]:
    """The settings of ``project`` that a clone may change (architecture excluded: it would change the weights)."""
    out = [
        Setting("lr", "Learning rate", "float", lambda p: _opt(p).get("lr", 0.001), _set_lr,
                "step size η of the optimizer: W ← W − η·∂L/∂W", minimum=1e-8, maximum=100.0),
        Setting("optimizer", "Optimizer", "choice", lambda p: _opt(p).get("type", "adam"), _set_optimizer,
                "the update rule; the learning rate is kept, other options take the new optimizer's defaults",
                choices=OPTIMIZERS),
        Setting("batch_size", "Batch size", "int", lambda p: p.get("training", {}).get("batch_size", 100),
                _training_setter("batch_size", int), "samples per gradient step (the batch order changes with it)",
                minimum=1, maximum=100000),
        Setting("epochs", "Epochs", "int", lambda p: p.get("training", {}).get("epochs", 5),
                _training_setter("epochs", int), "passes over the training set", minimum=1, maximum=100000),
        Setting("weight_decay", "Weight decay", "float", lambda p: p.get("training", {}).get("weight_decay", 0.0),
                _training_setter("weight_decay", float), "λ of the L2 penalty (λ/2)·Σ‖W‖² on every weight",
                minimum=0.0, maximum=10.0),
        Setting("clip_norm", "Gradient clipping", "optional_float",
                lambda p: p.get("training", {}).get("clip_norm"), _training_setter("clip_norm", float),
                "rescale the gradients when their global norm exceeds this (0: off)", minimum=0.0, maximum=1e6),
    ]
    for n, (i, layer) in enumerate(_dropout_layers(project)):
        def get(p: dict, i=i) -> float:
            return p["network"]["layers"][i].get("rate", 0.5)

        def set_(p: dict, v: float, i=i) -> None:
            p["network"]["layers"][i]["rate"] = float(v)

        name = layer.get("name") or f"dropout{n + 1}"
        out.append(Setting(f"dropout:{i}", f"Dropout rate ({name})", "float", get, set_,
                           "fraction of units zeroed at random while training", minimum=0.0, maximum=0.95))
    return out


def clone_project(project: dict, setting: Setting, value: Any) -> tuple[dict, str]:
    """A copy of ``project`` with one setting changed (seed kept); returns (project, note)."""
    if setting.kind == "optional_float" and value is not None and float(value) <= 0:
        value = None
    old = setting.get(copy.deepcopy(project))
    clone = copy.deepcopy(project)
    setting.set(clone, value)
    if old == setting.get(clone):
        raise SpecError(f"{setting.label.lower()} is already {_fmt(old)}; choose a different value to compare")
    return clone, f"{setting.label.lower()} {_fmt(old)} → {_fmt(setting.get(clone))}"


def _fmt(v: Any) -> str:
    if v is None:
        return "off"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)
