"""Changes to the project during a run: which apply live (the optimizer's settings) and which wait (the rest)."""

from __future__ import annotations

from typing import Any

from playground.engine.errors import PlaygroundError
from playground.engine.nn.optimizers import get_optimizer

#: how the parts of a project are named in "applies to the next run"
PART_NAMES = {"network": "the network", "dataset": "the data set", "batch_size": "the batch size",
              "epochs": "the number of epochs", "seed": "the seed", "weight_decay": "the weight decay",
              "clip_norm": "gradient clipping", "schedule": "the learning-rate schedule",
              "augment": "augmentation", "stats_every": "how often statistics are gathered",
              "optimizer": "the optimizer"}


def optimizer_config(project: dict) -> dict[str, Any] | None:
    """The project's optimizer with every setting filled in (its defaults), or None if it cannot be built."""
    spec = (project.get("training") or {}).get("optimizer", {"type": "adam", "lr": 0.001})
    try:
        return get_optimizer(spec).get_config()
    except (PlaygroundError, TypeError, ValueError):  # the editor shows the problem: here, nothing to apply
        return None


class MidRun:
    """What a running run trains with, and what a change of the project means for it.

    :meth:`changes` splits an edit into the optimizer settings to send to the
    worker now (same optimizer, new learning rate, momentum, β, ...) and the
    names of the other parts changed, which only the next run uses.
    """

    def __init__(self, project: dict):
        self.optimizer = optimizer_config(project)

    def changes(self, old: dict, new: dict) -> tuple[dict[str, float], list[str]]:
        live: dict[str, float] = {}
        later = []
        for part in ("network", "dataset"):
            if old.get(part) != new.get(part):
                later.append(PART_NAMES[part])
        t_old, t_new = old.get("training") or {}, new.get("training") or {}
        for key in sorted(set(t_old) | set(t_new)):
            if key != "optimizer" and t_old.get(key) != t_new.get(key):
                later.append(PART_NAMES.get(key, key))
        wanted = optimizer_config(new)
        if self.optimizer is not None and wanted is not None and wanted != self.optimizer:
            if wanted["type"] == self.optimizer["type"]:
                live = {k: float(v) for k, v in wanted.items() if k != "type" and v != self.optimizer.get(k)}
                self.optimizer = wanted
            elif optimizer_config(old) != wanted:
                later.append(PART_NAMES["optimizer"])
        return live, later


def changes_during_run(midrun: MidRun | None, old: dict, new: dict) -> tuple[dict[str, float], str]:
    """The optimizer settings to send now (none without a running worker, ``midrun`` None) and what to
    tell about the rest ("" when nothing else changed)."""
    live, later = midrun.changes(old, new) if midrun is not None else ({}, [])
    if not later and not live and old != new:
        later = ["the project"]
    if not later:
        return live, ""
    return live, (f"{', '.join(later)} changed; this run goes on as it started. Start a new run when it ends "
                  "(or Stop, then Start).")


def describe_live(changes: dict[str, float]) -> str:
    """"learning rate 0.5, momentum 0.8"."""
    names = {"lr": "learning rate"}
    return ", ".join(f"{names.get(k, k)} {v:g}" for k, v in changes.items())
