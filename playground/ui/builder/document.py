"""The open project as a Qt document: the project dict, its undo stack, its validation.

Widgets read the document and edit it only by pushing the commands of
:mod:`playground.ui.commands`; every change emits :attr:`ProjectDocument.changed`.
The dirty flag is the undo stack's clean state, so undoing back to the saved
state makes the document clean again.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from playground.engine.data.datasets import DATASET_KINDS, DATASETS, FIXED_SHAPES, PLANE_SETS, make_dataset
from playground.engine.errors import PlaygroundError, ShapeError
from playground.engine.nn.losses import SigmoidBinaryCrossEntropy
from playground.engine.nn.network import check_spec
from playground.engine.project import validate_project

__all__ = ["BlockInfo", "ProjectDocument", "Validation", "dataset_input_shape", "dataset_outputs"]


@dataclass
class BlockInfo:
    """What one spec entry (a layer plus its fused activation) produces."""

    output_shape: tuple[int, ...]
    params: int
    mult_adds: int
    names: list[str] = field(default_factory=list)


@dataclass
class Validation:
    """The result of building the network once: per-block shapes or the first problem.

    ``error_index`` is the spec index of the failing layer; ``None`` with an
    error means a problem of the whole network (shown on the input block).
    ``fix`` is the engine's suggested one-click fix, e.g.
    ``{"insert": {"type": "Flatten"}, "at": 3}`` or ``{"set": {"units": 10}, "at": 4}``.
    A warning does not stop training from being tried but will make it fail or mislead.
    """

    blocks: dict[int, BlockInfo] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    error_index: int | None = None
    fix: dict[str, Any] | None = None
    warning: str | None = None
    warning_index: int | None = None
    warning_fix: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def total_params(self) -> int:
        return sum(b.params for b in self.blocks.values())

    def problem_at(self, index: int) -> tuple[str, str | None, dict | None]:
        """("error"|"warning"|"", message, fix) for the block at spec ``index``."""
        if self.error is not None and self.error_index == index:
            return "error", self.error, self.fix
        if self.warning is not None and self.warning_index == index:
            return "warning", self.warning, self.warning_fix
        return "", None, None


@functools.lru_cache(maxsize=None)
def _generated_info(name: str, steps: int | None) -> tuple[tuple[int, ...], int | None]:
    """(input shape, classes) of a generated set, from 8 samples (a sequence set's shape depends on its steps)."""
    spec = {"name": name, "n_samples": 8, "val_split": 0.0}
    if steps is not None:
        spec["steps"] = steps
    data = make_dataset(spec)
    return tuple(data.input_shape), data.n_classes


def _steps(dataset: dict[str, Any]) -> int | None:
    steps = dataset.get("steps", DATASETS.get(dataset.get("name"), {}).get("steps"))
    return steps if isinstance(steps, int) and not isinstance(steps, bool) else None


def dataset_input_shape(dataset: dict[str, Any]) -> list[int]:
    """The per-sample input shape of a data set spec (without loading MNIST)."""
    name = dataset.get("name")
    if name in FIXED_SHAPES:
        return list(FIXED_SHAPES[name][0])
    if isinstance(dataset.get("features"), list) and name in PLANE_SETS:  # one input per feature chosen
        return [len(dataset["features"])]
    return list(_generated_info(name, _steps(dataset))[0])


def dataset_outputs(dataset: dict[str, Any], loss: str | None = None) -> int:
    """How many outputs the network's last layer needs for this data set and loss.

    Two classes under binary cross-entropy need one sigmoid output (the
    probability of class 1; one output per class works too); every other
    classification needs one output per class.
    """
    name = dataset.get("name")
    if name in FIXED_SHAPES:
        classes = FIXED_SHAPES[name][1]
    elif DATASET_KINDS.get(name) == "regression":
        return 1
    elif "n_classes" in DATASETS.get(name, {}):
        classes = int(dataset.get("n_classes", DATASETS[name]["n_classes"]))
    else:
        classes = _generated_info(name, _steps(dataset))[1] or 2
    if classes == 2 and loss == SigmoidBinaryCrossEntropy.name:
        return 1
    return classes


def validate_spec(spec: dict[str, Any], dataset: dict[str, Any] | None = None) -> Validation:
    """Build ``spec`` and map any problem to the spec index of the block that causes it."""
    layers = spec.get("layers") or []
    try:
        rows = check_spec(spec)
    except ShapeError as e:
        out = Validation(error=str(e), error_index=e.layer_index, fix=e.fix)
        if e.layer_index is not None:
            out.blocks, out.rows = _partial(spec, e.layer_index + 1) or _partial(spec, e.layer_index) or ({}, [])
        return out
    except Exception as e:  # the engine's errors, and whatever a value it does not check makes it raise
        index = None
        message = _problem_text(e)
        for k in range(1, len(layers) + 1):
            try:
                check_spec(_prefix(spec, k))
            except Exception as pe:
                index, message = k - 1, _problem_text(pe)
                break
        out = Validation(error=message, error_index=index)
        if index:
            out.blocks, out.rows = _partial(spec, index) or ({}, [])
        return out
    out = Validation(blocks=_blocks(rows), rows=rows)
    if dataset is not None:
        _check_outputs(out, spec, dataset)
    return out


def _problem_text(error: Exception) -> str:
    """The engine's message, or for any other error one saying the block cannot be built and what to check."""
    if isinstance(error, PlaygroundError):
        return str(error)
    detail = " ".join(str(error).split()) or type(error).__name__
    return (f"cannot be built: a setting holds a value the engine cannot use ({detail}); "
            f"expected whole numbers of sensible size, check this block's settings")


def _prefix(spec: dict[str, Any], k: int) -> dict[str, Any]:
    """The first ``k`` layers, closed by a Flatten so that any prefix is a valid network."""
    s = copy.deepcopy(spec)
    s["layers"] = s["layers"][:k] + [{"type": "Flatten", "name": "__prefix_end__"}]
    return s


def _partial(spec: dict[str, Any], k: int) -> tuple[dict[int, BlockInfo], list[dict]] | None:
    if k <= 0:
        return None
    try:
        rows = [r for r in check_spec(_prefix(spec, k)) if r["name"] != "__prefix_end__"]
    except Exception:  # as in validate_spec: any error means this prefix does not build
        return None
    return _blocks(rows), rows


def _blocks(rows: list[dict[str, Any]]) -> dict[int, BlockInfo]:
    blocks: dict[int, BlockInfo] = {}
    for r in rows:
        i = r["spec_index"]
        b = blocks.get(i)
        if b is None:
            blocks[i] = BlockInfo(tuple(r["output_shape"]), r["params"], r["mult_adds"], [r["name"]])
        else:  # the fused activation: its output is the block's output
            b.output_shape = tuple(r["output_shape"])
            b.params += r["params"]
            b.mult_adds += r["mult_adds"]
            b.names.append(r["name"])
    return blocks


def _check_outputs(out: Validation, spec: dict[str, Any], dataset: dict[str, Any]) -> None:
    if not out.blocks:
        return
    loss = spec.get("loss")
    need = dataset_outputs(dataset, loss)
    last = max(out.blocks)
    have = out.blocks[last].output_shape
    # binary cross-entropy also takes one output per class (one sigmoid per class, one-hot targets)
    if have == (need,) or (need == 1 and loss == SigmoidBinaryCrossEntropy.name and have == (2,)):
        return
    # the layer that decides the width: the last one with units
    layers = spec["layers"]
    idx = next((i for i in range(len(layers) - 1, -1, -1) if layers[i].get("type") == "Dense"), None)
    what = "classes" if DATASET_KINDS.get(dataset.get("name")) == "classification" else "target value"
    out.warning = (f"the data set {dataset.get('name')!r} needs {need} output{'s' if need != 1 else ''} "
                   f"({need} {what}{'s' if need != 1 and what == 'target value' else ''}), "
                   f"but the network gives {have}; set the last Dense layer's units to {need}")
    out.warning_index = idx if idx is not None else last
    if idx is not None:
        out.warning_fix = {"set": {"units": need}, "at": idx}


def _plain(value: Any) -> Any:
    """A deep copy with tuples as lists: the project exactly as JSON gives it back."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _describe_fix(fix: dict[str, Any] | None) -> str:
    if not fix:
        return ""
    if "insert" in fix:
        return f"Insert {fix['insert'].get('type', 'layer')}"
    if "set" in fix:
        return "Set " + ", ".join(f"{k} = {v}" for k, v in fix["set"].items())
    return "Fix"


class ProjectDocument(QObject):
    """The project being edited (the engine's project dict) with undo/redo.

    Read with :meth:`project`, :meth:`network_spec`, :meth:`layers`,
    :meth:`dataset`, :meth:`training`, :meth:`summary_or_error`. Edit with
    :meth:`push` and a command from :mod:`playground.ui.commands`; open or
    create with :meth:`load` (which clears the undo history).
    """

    #: the project changed (any edit, undo, redo or load)
    changed = Signal()
    #: a whole other project was loaded (opened, new, a preset), after ``changed``
    loaded = Signal()
    #: the unsaved-changes flag flipped
    dirty_changed = Signal(bool)
    #: the file the document is saved to (a Path or None)
    path_changed = Signal(object)
    #: a command asks the views to select this spec index (-1: the input block)
    focus_requested = Signal(int)

    def __init__(self, project: dict[str, Any] | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._clean_changed)
        self._project: dict[str, Any] = {}
        self._path: Path | None = None
        self._validation: Validation | None = None
        self._unsaved_new = False
        if project is not None:
            self.load(project)

    # ------------------------------------------------------------ reading
    def project(self) -> dict[str, Any]:
        """A deep copy of the whole project dict."""
        return copy.deepcopy(self._project)

    def network_spec(self) -> dict[str, Any]:
        return copy.deepcopy(self._project.get("network", {}))

    def layers(self) -> list[dict[str, Any]]:
        return copy.deepcopy(self._project.get("network", {}).get("layers", []))

    def layer(self, index: int) -> dict[str, Any]:
        return copy.deepcopy(self._project["network"]["layers"][index])

    def layer_count(self) -> int:
        return len(self._project.get("network", {}).get("layers", []))

    def dataset(self) -> dict[str, Any]:
        return copy.deepcopy(self._project.get("dataset", {}))

    def training(self) -> dict[str, Any]:
        return copy.deepcopy(self._project.get("training", {}))

    @property
    def name(self) -> str:
        return str(self._project.get("name") or "untitled")

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def dirty(self) -> bool:
        return not self.undo_stack.isClean() or self._unsaved_new

    def summary_or_error(self) -> Validation:
        """The network built once: per-block shapes and parameters, or its first problem (cached)."""
        if self._validation is None:
            self._validation = validate_spec(self._project.get("network", {}), self._project.get("dataset"))
        return self._validation

    def describe_fix(self, fix: dict[str, Any] | None) -> str:
        """A button label for an engine fix ("Insert Flatten")."""
        return _describe_fix(fix)

    # ------------------------------------------------------------ whole-document operations
    def load(self, project: dict[str, Any], path: str | Path | None = None, dirty: bool = False) -> None:
        """Replace the whole project (validated first: on error nothing changes); clear undo history.

        ``dirty`` marks a document that was never saved but holds work (not used for presets).
        """
        self._project = _plain(validate_project(project))
        self._validation = None
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self._unsaved_new = dirty
        self._set_path(Path(path) if path is not None else None)
        self.changed.emit()
        self.loaded.emit()
        self.dirty_changed.emit(self.dirty)

    def mark_saved(self, path: str | Path) -> None:
        self._unsaved_new = False
        self._set_path(Path(path))
        self.undo_stack.setClean()
        self.dirty_changed.emit(False)

    def forget_path(self) -> None:
        """The project no longer belongs to its file (an import replaced its network): Save asks for a name."""
        self._unsaved_new = True
        self._set_path(None)
        self.dirty_changed.emit(True)

    def push(self, command: QUndoCommand) -> None:
        """Apply an edit so that it can be undone."""
        self.undo_stack.push(command)

    def _clean_changed(self, clean: bool) -> None:
        self.dirty_changed.emit(not clean or self._unsaved_new)

    def _set_path(self, path: Path | None) -> None:
        if path != self._path:
            self._path = path
            self.path_changed.emit(path)

    # ------------------------------------------------------------ used by commands only
    def replace_state(self, project: dict[str, Any], focus: int | None = None) -> None:
        """Set the project dict without touching the undo stack (commands call this)."""
        self._project = _plain(project)
        self._validation = None
        self.changed.emit()
        if focus is not None:
            self.focus_requested.emit(focus)
